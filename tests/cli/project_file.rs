//! capm.toml as the user's own file: strict (an unknown table or key is an error every
//! command reports, and a mutating command writes nothing), kept in agreement with
//! capm.lock by every command that changes it, remembering settled conflicts, with
//! `[inputs]` placed and checked like `--input`, and `add` recording each source.

use std::path::Path;

use crate::support::{capm, project, tree};

/// Every command that reads capm.toml, and whether it changes the project.
const COMMANDS: &[(&[&str], bool)] = &[
    (&["install", "--yes"], true),
    (&["add", "memory", "--yes"], true),
    (&["remove", "code-review", "--yes"], true),
    (&["update", "--yes"], true),
    (&["update", "--latest", "--yes"], true),
    (&["lock"], true),
    (&["doctor"], true),
    (&["plan", "install"], false),
    (&["plan", "update"], false),
    (&["plan", "uninstall", "code-review"], false),
    (&["list"], false),
    (&["tree"], false),
    (&["why", "code-review"], false),
    (&["graph"], false),
    (&["lint"], false),
    (&["search", "memory"], false),
];

/// A project with code-review (and github) installed.
fn installed() -> tempfile::TempDir {
    let dir = project();
    let run = capm(dir.path(), &["add", "code-review", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    dir
}

fn replace_in(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{text}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Runs every command on the project and checks each refuses with `expected` (the error
/// and its did-you-mean) and writes nothing.
fn every_command_refuses(dir: &Path, expected: &[&str]) {
    for (args, _mutating) in COMMANDS {
        let before = tree(dir);
        let run = capm(dir, args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.transcript());
        for e in expected {
            assert!(run.stderr.contains(e), "{args:?}: {}", run.stderr);
        }
        assert_eq!(tree(dir), before, "{args:?} wrote something");
    }
}

#[test]
fn a_misspelt_table_is_an_error_for_every_command_and_nothing_is_written() {
    let dir = installed();
    replace_in(dir.path(), "capm.toml", "[bundles]", "[bundle]");
    every_command_refuses(
        dir.path(),
        &[
            "error[unknown-key]: unknown key `bundle`",
            "help: did you mean `bundles`?",
        ],
    );
}

#[test]
fn a_misspelt_key_inside_a_bundle_table_is_an_error_for_every_command() {
    let dir = installed();
    replace_in(
        dir.path(),
        "capm.toml",
        "code-review = \"^1.0.0\"",
        "code-review = { versoin = \"^1.0.0\" }",
    );
    every_command_refuses(
        dir.path(),
        &[
            "error[unknown-key]: unknown key `bundles.code-review.versoin`",
            "help: did you mean `version`?",
        ],
    );
}

#[test]
fn lint_reports_an_unknown_key_in_capm_toml_as_an_error_in_json() {
    let dir = project();
    replace_in(dir.path(), "capm.toml", "[project]", "[projet]");
    let run = capm(dir.path(), &["lint", "capm.toml", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "unknown-key");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["help"], "did you mean `project`?");
}

#[test]
fn an_install_that_removes_every_bundle_says_so_in_the_plan() {
    let dir = installed();
    std::fs::write(dir.path().join("capm.toml"), "").unwrap();
    let run = capm(dir.path(), &["install", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "warning[removes-everything] capm.toml asks for no bundles: this plan removes all 2 installed (code-review, github)"
        ),
        "{}",
        run.stdout
    );
    let json = capm(dir.path(), &["plan", "install", "--format", "json"]).json();
    let codes: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["removes-everything"]);
}

#[test]
fn an_install_that_keeps_some_bundles_has_no_such_warning() {
    let dir = installed();
    let run = capm(dir.path(), &["add", "memory", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    replace_in(dir.path(), "capm.toml", "memory = \"^1.0.0\"\n", "");
    let run = capm(dir.path(), &["install", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("remove   mcp:memory"), "{}", run.stdout);
    assert!(!run.stdout.contains("removes-everything"), "{}", run.stdout);
}
