//! The two held-out corpora that measure the security rules from outside:
//! `tests/cases/dangerous/CLASS.toml` (bundles a reviewer must see flagged, each at the
//! least level a fair reviewer expects) and `tests/cases/real-world/` (configurations as
//! their publishers document them, which must lint clean). Prints the detection per class,
//! the overall rate and the false positives, and asserts 100% and 0.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::rules::{is_rule_id, read_toml_dir, write_bundle};
use crate::support::{capm, repo, tempdir};

#[derive(Deserialize)]
struct ClassFile {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    bundle: String,
    #[serde(default)]
    files: BTreeMap<String, String>,
    level: Level,
}

/// The rule levels a case can ask for, least first.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[serde(rename_all = "lowercase")]
enum Level {
    Medium,
    High,
    Block,
}

/// A diagnostic of lint, not allowed by policy: its code, its rule level (none for what
/// is not a security finding) and whether it is an error.
struct Finding {
    code: String,
    level: Option<Level>,
    error: bool,
}

/// What lint reported for one case: its security findings, and any error that is not one
/// (which means the case itself is malformed).
fn lint_case(case: &Case) -> Vec<Finding> {
    let dir = tempdir();
    write_bundle(&dir.path().join("b"), "case", &case.bundle, &case.files);
    let doc = capm(dir.path(), &["lint", ".", "--format", "json"]).json();
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !d["allowed"].as_bool().unwrap_or(false))
        .map(|d| Finding {
            code: d["code"].as_str().unwrap().to_string(),
            level: serde_json::from_value(d["rule_severity"].clone()).ok(),
            error: d["severity"] == "error",
        })
        .collect()
}

fn dangerous_corpus() -> Vec<(String, Case)> {
    let files: Vec<(String, ClassFile)> = read_toml_dir(&repo().join("tests/cases/dangerous"));
    let mut out: Vec<(String, Case)> = files
        .into_iter()
        .flat_map(|(class, f)| f.case.into_iter().map(move |c| (class.clone(), c)))
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1.name).cmp(&(&b.0, &b.1.name)));
    out
}

/// Lints every case, spread over the machine's cores.
fn lint_all(jobs: &[(String, Case)]) -> Vec<Vec<Finding>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(threads).max(1))
            .map(|chunk| {
                s.spawn(move || chunk.iter().map(|(_, c)| lint_case(c)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect::<Vec<Vec<Finding>>>()
    })
}

/// One line per finding, for the list of misses.
fn describe(found: &[Finding]) -> String {
    let parts: Vec<String> = found
        .iter()
        .map(|f| match f.level {
            Some(l) => format!("{} ({l:?})", f.code),
            None if is_rule_id(&f.code) => format!("{} (no rule_severity)", f.code),
            None => format!("{} (not a rule)", f.code),
        })
        .collect();
    if parts.is_empty() {
        "nothing".to_string()
    } else {
        parts.join(", ")
    }
}

/// Runs the dangerous corpus; returns the per-class lines, detected, total and the misses.
fn measure_dangerous() -> (Vec<String>, usize, usize, Vec<String>) {
    let jobs = dangerous_corpus();
    let results = lint_all(&jobs);
    let mut per_class: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for ((class, case), found) in jobs.iter().zip(&results) {
        let malformed = found
            .iter()
            .any(|f| f.error && f.level.is_none() && !is_rule_id(&f.code));
        let detected = !malformed && found.iter().any(|f| f.level >= Some(case.level));
        let entry = per_class.entry(class).or_default();
        entry.1 += 1;
        if detected {
            entry.0 += 1;
        } else {
            let what = if malformed { "malformed case" } else { "miss" };
            misses.push(format!(
                "{what}: {class}/{} (expected {:?}) -> {}",
                case.name,
                case.level,
                describe(found)
            ));
        }
    }
    let lines = per_class
        .iter()
        .map(|(class, (d, n))| format!("{class} {d}/{n}"))
        .collect();
    (lines, jobs.len() - misses.len(), jobs.len(), misses)
}

/// What linting the real-world corpus found.
struct RealWorld {
    configs: usize,
    /// Findings shown as a warning or an error that no `# Allow:` line accounts for.
    false_positives: Vec<String>,
    /// `high` findings a configuration's `# Allow: RULE` line documents: the documented
    /// setup a project accepts with a `[policy] allow` entry after review.
    allowable: Vec<String>,
}

/// The rules a configuration's header says a project allows after review
/// (`# Allow: CTR-003 …`).
fn documented_allowances(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("# Allow: "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Lints the real-world corpus in one run. A documented allowance that no `high` finding
/// needs is reported as a false positive too: the header would be stale.
fn measure_real_world() -> RealWorld {
    let run = capm(
        &repo(),
        &["lint", "tests/cases/real-world", "--format", "json"],
    );
    let doc = run.json();
    let mut out = RealWorld {
        configs: doc["bundles"].as_array().unwrap().len(),
        false_positives: Vec::new(),
        allowable: Vec::new(),
    };
    let mut used = std::collections::BTreeSet::new();
    for d in doc["diagnostics"].as_array().unwrap() {
        if d["severity"] == "info" {
            continue;
        }
        let file = d["location"]["file"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let code = d["code"].as_str().unwrap_or_default().to_string();
        let line = format!("{file} {code}: {}", d["message"]);
        if d["rule_severity"] == "high" && documented_allowances(&file).contains(&code) {
            used.insert((file, code));
            out.allowable.push(line);
        } else {
            out.false_positives.push(line);
        }
    }
    for b in doc["bundles"].as_array().unwrap() {
        let file = format!("{}/bundle.toml", b["path"].as_str().unwrap());
        for rule in documented_allowances(&file) {
            if !used.contains(&(file.clone(), rule.clone())) {
                out.false_positives.push(format!(
                    "{file}: `# Allow: {rule}` but no high {rule} finding"
                ));
            }
        }
    }
    out
}

#[test]
fn dangerous_corpus_is_detected_and_real_world_corpus_is_clean() {
    let (lines, detected, total, misses) = measure_dangerous();
    let RealWorld {
        configs,
        false_positives,
        allowable,
    } = measure_real_world();
    for line in &lines {
        println!("{line}");
    }
    println!(
        "dangerous corpus: {detected}/{total} detected ({:.1}%)",
        detected as f64 * 100.0 / total as f64
    );
    let flagged: std::collections::BTreeSet<&str> = false_positives
        .iter()
        .filter_map(|f| f.split_once(' ').map(|(file, _)| file))
        .collect();
    println!(
        "real-world corpus: {configs} configurations, {} false positives (in {} configurations)",
        false_positives.len(),
        flagged.len()
    );
    println!(
        "documented setups a project allows after review: {}",
        allowable.len()
    );
    for a in &allowable {
        println!("  allowable: {a}");
    }
    let mut report = misses;
    if total < 220 || configs < 65 {
        report.push(format!(
            "corpus too small: {total} cases, {configs} configurations"
        ));
    }
    report.extend(
        false_positives
            .iter()
            .map(|f| format!("false positive: {f}")),
    );
    assert!(
        report.is_empty(),
        "{} problems:\n{}",
        report.len(),
        report.join("\n")
    );
}
