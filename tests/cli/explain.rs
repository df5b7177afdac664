//! `capm explain`: every code has an explanation; unknown codes are refused (exit 1).

use crate::support::{capm, tempdir};

#[test]
fn explains_a_code() {
    let dir = tempdir();
    let run = capm(dir.path(), &["explain", "plugin-001"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn every_listed_code_has_a_full_explanation() {
    let dir = tempdir();
    let list = capm(dir.path(), &["explain", "--list", "--format", "json"]);
    assert_eq!(list.code, 0);
    let codes = list.json()["codes"].as_array().unwrap().clone();
    assert!(codes.len() >= 40, "{}", codes.len());
    for c in codes {
        let code = c["code"].as_str().unwrap();
        let run = capm(dir.path(), &["explain", code]);
        assert_eq!(run.code, 0, "{code}");
        assert!(run.stdout.starts_with(code), "{code}: {}", run.stdout);
        assert!(
            run.stdout.contains("Why it matters:\n  ") && run.stdout.contains("How to fix it:\n  ")
        );
    }
}

#[test]
fn the_list_is_a_table() {
    let dir = tempdir();
    let run = capm(dir.path(), &["explain", "--list"]);
    assert_eq!(run.code, 0);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("invalid-semver "))
        .unwrap();
    assert!(
        line.contains("error") && line.contains("A version is not a semantic version."),
        "{line}"
    );
}

#[test]
fn unknown_codes_are_refused_with_a_suggestion() {
    let dir = tempdir();
    let run = capm(dir.path(), &["explain", "invalid-semvr"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!(run.stderr, @r"
    error[unknown-code]: unknown code `invalid-semvr`
    help: did you mean `invalid-semver`? `capm explain --list` lists every code
    ");
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line_definitions() {
    let dir = crate::support::tempdir();
    for (shell, marker) in [
        ("bash", "_capm()"),
        ("zsh", "#compdef capm"),
        ("fish", "complete -c capm"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let run = crate::support::capm(dir.path(), &["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains(marker), "{shell}: {}", run.stdout);
        // Every subcommand is completed, `serve` and `doctor` included.
        assert!(run.stdout.contains("doctor") && run.stdout.contains("serve"));
    }
    let man = crate::support::capm(dir.path(), &["man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.contains(".TH capm 1"), "{}", man.stdout);
    assert!(man.stdout.contains("Exit codes"), "{}", man.stdout);
    let bad = crate::support::capm(dir.path(), &["completions", "tcsh"]);
    assert_eq!(bad.code, 2);
}
