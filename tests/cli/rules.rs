//! The security rule corpus (`tests/cases/rules/RULE.toml`): every trigger must produce a
//! finding of its rule, every near-miss none of it and no error; and every rule of the
//! catalogue has its cases, its `capm explain` text and its README row.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::support::{capm, findings, repo, tempdir};

#[derive(Deserialize)]
struct RuleFile {
    #[serde(default)]
    trigger: Vec<Case>,
    #[serde(default, rename = "near-miss")]
    near_miss: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    #[serde(default)]
    bundle: String,
    /// A git source URL, checked by the SRC rules instead of a bundle.
    git_url: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    other: Option<String>,
    #[serde(default)]
    other_files: BTreeMap<String, String>,
    project: Option<String>,
    /// The bundle is of another format: `files` alone, no bundle.toml.
    #[serde(default)]
    foreign: bool,
}

/// A diagnostic as the case needs it: code, severity, allowed.
type Found = Vec<(String, String, bool)>;

/// Writes `dir/bundle.toml` from a case's fragment (the `[bundle]` table added) and its files.
pub(crate) fn write_bundle(
    dir: &Path,
    name: &str,
    fragment: &str,
    files: &BTreeMap<String, String>,
) {
    std::fs::create_dir_all(dir).unwrap();
    // The fragment goes first so that any top-level keys it has stay top-level.
    let mut text = format!(
        "{fragment}\n[bundle]\nname = \"{name}\"\nversion = \"1.0.0\"\ndescription = \"A rule case\"\n"
    );
    if !fragment.contains("[compatibility") {
        text.push_str("\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n");
    }
    std::fs::write(dir.join("bundle.toml"), text).unwrap();
    write_files(dir, files);
}

pub(crate) fn write_files(dir: &Path, files: &BTreeMap<String, String>) {
    for (rel, content) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

/// The SRC rules' verdict on a git source URL, as a finding.
fn url_case(url: &str) -> Found {
    match capm::remote::git::check_url(url) {
        Ok(()) => Vec::new(),
        Err(e) => vec![(e.code().to_string(), "error".to_string(), false)],
    }
}

fn run_case(case: &Case) -> Found {
    if let Some(url) = &case.git_url {
        return url_case(url);
    }
    let dir = tempdir();
    if case.foreign {
        write_files(&dir.path().join("b"), &case.files);
    } else {
        write_bundle(&dir.path().join("b"), "case", &case.bundle, &case.files);
    }
    if let Some(other) = &case.other {
        write_bundle(&dir.path().join("other"), "other", other, &case.other_files);
    }
    let Some(project) = &case.project else {
        return findings(&capm(dir.path(), &["lint", ".", "--format", "json"]).json());
    };
    let mut text = project.clone();
    if text.contains("{{SPEC}}") {
        let alone = capm(dir.path(), &["lint", "b", "--format", "json"]).json();
        let spec = alone["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|d| d["spec"].as_str())
            .expect("the bundle has a finding with a spec")
            .to_string();
        text = text.replace("{{SPEC}}", &spec);
    }
    std::fs::write(dir.path().join("capm.toml"), text).unwrap();
    findings(&capm(dir.path(), &["lint", "capm.toml", "--format", "json"]).json())
}

fn corpus() -> BTreeMap<String, RuleFile> {
    read_toml_dir(&repo().join("tests/cases/rules"))
        .into_iter()
        .collect()
}

/// Every `NAME.toml` of `dir`, parsed, by NAME.
pub(crate) fn read_toml_dir<T: serde::de::DeserializeOwned>(dir: &Path) -> Vec<(String, T)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("toml") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let file: T = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push((name, file));
    }
    out
}

/// Whether `code` has the shape of a catalogue rule's id (`URL-004`).
pub(crate) fn is_rule_id(code: &str) -> bool {
    code.split_once('-').is_some_and(|(p, n)| {
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_uppercase())
            && n.len() == 3
            && n.bytes().all(|b| b.is_ascii_digit())
    })
}

#[test]
fn every_trigger_fires_and_no_near_miss_does() {
    let corpus = corpus();
    let jobs: Vec<(&str, &Case, bool)> = corpus
        .iter()
        .flat_map(|(rule, f)| {
            f.trigger
                .iter()
                .map(move |c| (rule.as_str(), c, true))
                .chain(f.near_miss.iter().map(move |c| (rule.as_str(), c, false)))
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let results: Vec<(String, &Case, bool, Found)> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(threads))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(rule, case, trigger)| {
                            (rule.to_string(), *case, *trigger, run_case(case))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut failures = Vec::new();
    for (rule, case, trigger, found) in &results {
        let fired = found
            .iter()
            .any(|(code, _, allowed)| code == rule && !allowed);
        let errors: Vec<&(String, String, bool)> =
            found.iter().filter(|(_, sev, _)| sev == "error").collect();
        if *trigger && !fired {
            failures.push(format!(
                "{rule} trigger `{}` did not fire; found {found:?}",
                case.name
            ));
        }
        if !*trigger && (fired || !errors.is_empty()) {
            failures.push(format!("{rule} near-miss `{}` found {found:?}", case.name));
        }
    }
    let triggers = results.iter().filter(|r| r.2).count();
    println!(
        "rule corpus: {} rules, {triggers} triggering cases, {} near-misses",
        corpus.len(),
        results.len() - triggers
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The rule ids of the catalogue, from the tables of docs/security-rules.md.
fn catalogue_ids() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("docs/security-rules.md"))
        .expect("docs/security-rules.md is readable");
    let mut ids: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .map(|id| id.trim_matches('`').to_string())
        .filter(|id| is_rule_id(id))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn every_catalogue_rule_has_explain_text_cases_and_a_readme_row() {
    let ids = catalogue_ids();
    assert!(ids.len() >= 40, "{ids:?}");
    let corpus = corpus();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let dir = tempdir();
    let list = capm(dir.path(), &["explain", "--list", "--format", "json"]).json();
    let mut listed: Vec<&str> = list["codes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c.get("example_bad").is_some())
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        ids.iter().map(String::as_str).collect::<Vec<_>>(),
        "explain --list and the catalogue differ"
    );
    for id in &ids {
        let file = corpus
            .get(id)
            .unwrap_or_else(|| panic!("no tests/cases/rules/{id}.toml"));
        assert!(file.trigger.len() >= 2, "{id} needs two triggering cases");
        assert!(!file.near_miss.is_empty(), "{id} needs a near-miss");
        let explain = capm(dir.path(), &["explain", id]);
        assert_eq!(explain.code, 0, "{id}");
        for part in [
            "Why it matters:",
            "How to fix it:",
            "Example that triggers it:",
            "Example that passes:",
        ] {
            assert!(explain.stdout.contains(part), "{id}: no `{part}`");
        }
        assert!(
            readme.contains(&format!("| {id} |")),
            "the README's rule table has no row for {id}"
        );
    }
    assert_eq!(
        corpus.len(),
        ids.len(),
        "corpus files for rules not in the catalogue"
    );
}
