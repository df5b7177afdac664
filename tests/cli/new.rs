//! `capm new`: the scaffold lints clean; existing directories and bad names are refused.

use crate::support::{capm, tempdir, tree};

#[test]
fn a_new_bundle_passes_lint_with_warnings_denied() {
    let dir = tempdir();
    let run = capm(dir.path(), &["new", "demo"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("Created bundle `demo` in demo"));
    let files: Vec<String> = tree(&dir.path().join("demo")).into_keys().collect();
    assert_eq!(
        files,
        [
            "README.md",
            "bundle.toml",
            "skills/",
            "skills/demo/",
            "skills/demo/SKILL.md"
        ]
    );
    let lint = capm(dir.path(), &["lint", "demo", "--deny-warnings"]);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    assert!(lint.stderr.contains("Checked 1 bundle: no problems"));
    // No temporary directories are left beside it.
    assert_eq!(
        tree(dir.path())
            .keys()
            .filter(|k| !k.starts_with("demo"))
            .count(),
        0
    );
}

#[test]
fn a_name_can_differ_from_the_directory() {
    let dir = tempdir();
    let run = capm(dir.path(), &["new", "nested/My Dir", "--name", "my-kit"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let manifest = std::fs::read_to_string(dir.path().join("nested/My Dir/bundle.toml")).unwrap();
    assert!(manifest.contains("name = \"my-kit\""));
    assert_eq!(capm(dir.path(), &["lint", "nested/My Dir", "-D"]).code, 0);
}

#[test]
fn refuses_to_overwrite_or_to_use_a_bad_name() {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    std::fs::write(dir.path().join("taken/keep.txt"), "mine").unwrap();
    let before = tree(dir.path());
    let run = capm(dir.path(), &["new", "taken"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("error: `taken` already exists and is not empty"),
        "{}",
        run.stderr
    );
    let bad = capm(dir.path(), &["new", "Bad_Name"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("`Bad_Name` is not a valid bundle name"),
        "{}",
        bad.stderr
    );
    assert_eq!(before, tree(dir.path()));
}

#[test]
fn a_bundle_can_be_created_in_the_current_empty_directory() {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("kit")).unwrap();
    let here = dir.path().join("kit");
    let run = capm(&here, &["new", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(here.join("bundle.toml").is_file() && here.join("skills/kit/SKILL.md").is_file());
    assert_eq!(capm(&here, &["lint", "-D"]).code, 0);
}
