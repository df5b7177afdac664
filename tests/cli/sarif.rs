//! `capm lint --format sarif` as its consumers read it: every location relative to
//! `%SRCROOT%` (the directory lint ran from) or an absolute `file://` URI, and the whole log
//! accepted by Microsoft's SARIF validator (`@microsoft/sarif-multitool`, which `.ci/run`
//! installs and names in `SARIF_MULTITOOL`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{capm, repo, tempdir, write_valid_bundle};

/// The planted-mistakes case copied into a fresh directory: (its directory, result count).
fn planted() -> (tempfile::TempDir, usize) {
    let case = repo().join("tests/cases/lint/planted-mistakes");
    let work = tempdir();
    crate::support::copy_dir(&case, work.path());
    let expected = std::fs::read_to_string(case.join("expected.txt")).unwrap();
    (work, expected.lines().count())
}

/// `capm lint ARGS --format sarif` run in `dir`: the log, after checking the exit code.
fn sarif(dir: &Path, args: &[&str], code: i32) -> serde_json::Value {
    let mut all = vec!["lint"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "sarif"]);
    let run = capm(dir, &all);
    assert_eq!(run.code, code, "{}", run.transcript());
    run.json()
}

/// Every `uri` of the results' locations, with its `uriBaseId` (or "" without one).
fn uris(log: &serde_json::Value) -> Vec<(String, String)> {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            let base = a["uriBaseId"].as_str().unwrap_or_default();
            (a["uri"].as_str().unwrap().to_string(), base.to_string())
        })
        .collect()
}

/// The `file://` URI of a directory, with its trailing slash.
fn dir_uri(dir: &Path) -> String {
    url::Url::from_directory_path(dir).unwrap().to_string()
}

#[test]
fn relative_input_is_relative_to_srcroot() {
    let (work, count) = planted();
    let log = sarif(work.path(), &["bundle"], 1);
    let run = &log["runs"][0];
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        dir_uri(work.path()).as_str()
    );
    let found = uris(&log);
    assert_eq!(found.len(), count);
    for (uri, base) in found {
        assert!(uri.starts_with("bundle/"), "{uri}");
        assert_eq!(base, "%SRCROOT%");
    }
}

#[test]
fn absolute_input_below_the_directory_is_relative_to_srcroot() {
    let (work, count) = planted();
    let abs = work.path().join("bundle");
    let log = sarif(work.path(), &[abs.to_str().unwrap()], 1);
    let relative = uris(&sarif(work.path(), &["bundle"], 1));
    assert_eq!(uris(&log), relative);
    assert_eq!(relative.len(), count);
}

#[test]
fn input_outside_the_directory_is_an_absolute_file_uri() {
    let (work, count) = planted();
    let elsewhere = tempdir();
    let abs = work.path().join("bundle");
    let found = uris(&sarif(elsewhere.path(), &[abs.to_str().unwrap()], 1));
    assert_eq!(found.len(), count);
    let inside = dir_uri(&abs);
    for (uri, base) in found {
        assert!(uri.starts_with(&inside), "{uri} not below {inside}");
        assert_eq!(base, "");
    }
}

#[test]
fn a_path_through_the_parent_is_resolved_before_it_is_made_relative() {
    let (work, _) = planted();
    let name = work.path().file_name().unwrap().to_str().unwrap();
    let up = format!("../{name}/bundle");
    let found = uris(&sarif(work.path(), &[&up], 1));
    assert_eq!(found, uris(&sarif(work.path(), &["bundle"], 1)));
    let sibling = uris(&sarif(&work.path().join("bundle"), &["../bundle"], 1));
    assert!(
        sibling
            .iter()
            .all(|(u, b)| !u.contains("..") && b == "%SRCROOT%")
    );
}

#[test]
fn the_driver_names_capm_and_its_rules() {
    let (work, _) = planted();
    let log = sarif(work.path(), &["bundle"], 1);
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "capm");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    match env!("CARGO_PKG_HOMEPAGE") {
        "" => assert!(driver.get("informationUri").is_none()),
        home => assert_eq!(driver["informationUri"], home),
    }
}

/// The validator, or None (said loudly) when it is not installed and this is not CI.
fn multitool() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SARIF_MULTITOOL") {
        return Some(PathBuf::from(path));
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "CI=true but SARIF_MULTITOOL is not set: .ci/run installs the SARIF validator and sets it"
    );
    eprintln!(
        "SKIPPED: the SARIF validator is not installed; run .ci/run, or set SARIF_MULTITOOL \
         to @microsoft/sarif-multitool's `sarif-multitool` to check capm's SARIF with it"
    );
    None
}

/// What the validator reports about `log`: one line per error or warning.
fn validate(tool: &Path, log: &serde_json::Value) -> Vec<String> {
    let dir = tempdir();
    let input = dir.path().join("capm.sarif");
    let output = dir.path().join("validation.sarif");
    std::fs::write(&input, serde_json::to_string_pretty(log).unwrap()).unwrap();
    let out = Command::new(tool)
        .arg("validate")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args(["--log", "ForceOverwrite"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run the SARIF validator {}: {e}", tool.display()));
    let report = std::fs::read_to_string(&output).unwrap_or_else(|e| {
        panic!(
            "the SARIF validator wrote no report ({e}); it said:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    report["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| matches!(r["level"].as_str(), Some("error" | "warning") | None))
        .filter(|r| !(r["ruleId"] == "SARIF2005" && env!("CARGO_PKG_HOMEPAGE").is_empty()))
        .map(|r| format!("{}: {}", r["ruleId"], r["message"]))
        .collect()
}

fn assert_valid(tool: &Path, log: &serde_json::Value, what: &str) {
    let problems = validate(tool, log);
    assert!(
        problems.is_empty(),
        "the SARIF validator rejects capm's SARIF for {what}:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_sarif_validator_accepts_every_kind_of_input() {
    let Some(tool) = multitool() else { return };
    let (work, _) = planted();
    let abs = work.path().join("bundle");
    let elsewhere = tempdir();
    let clean = tempdir();
    write_valid_bundle(clean.path(), "clean");
    let cases = [
        ("a relative input", sarif(work.path(), &["bundle"], 1)),
        (
            "an absolute input",
            sarif(work.path(), &[abs.to_str().unwrap()], 1),
        ),
        (
            "an input outside the directory",
            sarif(elsewhere.path(), &[abs.to_str().unwrap()], 1),
        ),
        ("a clean run", sarif(clean.path(), &["."], 0)),
    ];
    for (what, log) in &cases {
        assert_valid(&tool, log, what);
    }
}

#[test]
fn the_sarif_validator_rejects_an_absolute_relative_reference() {
    // The check above can fail: the validator reports the mistake capm used to make.
    let Some(tool) = multitool() else { return };
    let (work, _) = planted();
    let mut log = sarif(work.path(), &["bundle"], 1);
    let a =
        &mut log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    a["uri"] = serde_json::json!("/abs/bundle.toml");
    let problems = validate(&tool, &log);
    assert!(
        problems.iter().any(|p| p.contains("SARIF1004")),
        "{problems:?}"
    );
}
