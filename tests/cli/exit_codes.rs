//! One exit-code rule for every command (README "Exit codes"): each subcommand is run with
//! an unknown bundle where it takes one (exit 1), without a project where it needs one
//! (exit 2), and with a flag it does not have (exit 2), for people and with `--format
//! json`. A JSON run prints exactly one `capm.error/v1` document whose `code` is set and
//! whose `exit` is the process's exit code; no run writes anything.

use std::path::Path;

use serde_json::Value;

use crate::support::{capm, tempdir, tree};

/// A subcommand, the arguments it needs to get past the command line, and whether it
/// takes `--format json`.
struct Cmd {
    args: &'static [&'static str],
    json: bool,
    /// Needs a project (capm.toml).
    project: bool,
}

const fn cmd(args: &'static [&'static str], json: bool, project: bool) -> Cmd {
    Cmd {
        args,
        json,
        project,
    }
}

/// Every subcommand.
const COMMANDS: &[Cmd] = &[
    cmd(&["lint"], true, false),
    cmd(&["explain", "usage"], true, false),
    cmd(&["new", "kit"], true, false),
    cmd(&["init"], true, false),
    cmd(&["lock"], true, true),
    cmd(&["list"], true, true),
    cmd(&["tree"], true, true),
    cmd(&["why", "github"], true, true),
    cmd(&["graph"], true, true),
    cmd(&["search", "git"], true, false),
    cmd(&["outdated"], true, true),
    cmd(&["info", "github"], true, false),
    cmd(&["publish", "kit", "--registry", "reg"], true, false),
    cmd(&["export", "github", "--to", "skills", "out"], true, false),
    cmd(&["cache", "clean"], true, false),
    cmd(&["yank", "kit@1.0.0", "--registry", "reg"], true, false),
    cmd(&["plan", "install"], true, true),
    cmd(&["plan", "update"], true, true),
    cmd(&["plan", "uninstall", "github"], true, true),
    cmd(&["install"], true, true),
    cmd(&["add", "github"], true, true),
    cmd(&["update"], true, true),
    cmd(&["remove", "github"], true, true),
    cmd(&["keep", "agent:reviewer"], true, true),
    cmd(&["restore", "agent:reviewer"], true, true),
    cmd(&["apply", "--plan", "p.json"], true, true),
    cmd(&["doctor"], true, true),
    cmd(&["probe"], true, true),
    cmd(&["serve", "--stdio"], false, false),
    cmd(&["completions", "bash"], false, false),
    cmd(&["man"], false, false),
];

/// The commands that take a bundle, given an unknown one, and the code of the refusal.
const UNKNOWN_BUNDLE: &[(&[&str], &str)] = &[
    (&["add", "nope"], "bundle-not-found"),
    (&["plan", "install", "nope"], "bundle-not-found"),
    (&["remove", "nope"], "not-in-project"),
    (&["plan", "uninstall", "nope"], "not-in-project"),
    (&["update", "nope"], "not-in-project"),
    (&["plan", "update", "nope"], "not-in-project"),
    (&["why", "nope"], "not-in-graph"),
    (&["info", "nope"], "bundle-not-found"),
    (&["probe", "nope"], "bundle-not-found"),
    (
        &["export", "nope", "--to", "skills", "out"],
        "bundle-not-found",
    ),
];

#[test]
fn the_walk_covers_every_subcommand() {
    use clap::CommandFactory;
    let walked: std::collections::BTreeSet<&str> = COMMANDS.iter().map(|c| c.args[0]).collect();
    let all: std::collections::BTreeSet<String> = capm::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|n| n != "help")
        .collect();
    let missing: Vec<&String> = all
        .iter()
        .filter(|n| !walked.contains(n.as_str()))
        .collect();
    assert!(missing.is_empty(), "not walked: {missing:?}");
}

/// Runs `capm ARGS` in `dir` (human output, then with `--format json` when `json`),
/// checks the exit code, that nothing was written, and the error document; returns the
/// document's code.
fn refused(dir: &Path, args: &[&str], exit: i32, json: bool) -> Option<String> {
    let cmd = format!("capm {}", args.join(" "));
    let before = tree(dir);
    let human = capm(dir, args);
    assert_eq!(human.code, exit, "`{cmd}`:\n{}", human.transcript());
    assert!(
        human.stderr.starts_with("error"),
        "`{cmd}`:\n{}",
        human.transcript()
    );
    assert_eq!(human.stdout, "", "`{cmd}` printed data");
    assert_eq!(tree(dir), before, "`{cmd}` wrote something");
    if !json {
        return None;
    }
    let mut with_json = args.to_vec();
    with_json.extend(["--format", "json"]);
    let run = capm(dir, &with_json);
    let doc = error_document(&format!("{cmd} --format json"), &run.stdout);
    assert_eq!(
        run.code,
        exit,
        "`{cmd} --format json`:\n{}",
        run.transcript()
    );
    assert_eq!(doc["exit"], run.code, "`{cmd} --format json`: {doc:#}");
    assert_eq!(tree(dir), before, "`{cmd} --format json` wrote something");
    let code = doc["code"].as_str().unwrap().to_string();
    let explained = capm(dir, &["explain", &code]);
    assert_eq!(
        explained.code, 0,
        "`capm explain {code}`: {}",
        explained.stderr
    );
    if exit == 1 {
        let tag = format!("error[{code}]");
        assert!(human.stderr.contains(&tag), "`{cmd}`: {}", human.stderr);
    }
    Some(code)
}

/// The one document on stdout, valid against `schemas/error.schema.json`, with a code.
fn error_document(cmd: &str, stdout: &str) -> Value {
    let mut docs: Vec<Value> = serde_json::Deserializer::from_str(stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("`{cmd}`: stdout is not only JSON ({e}):\n{stdout}"));
    assert_eq!(docs.len(), 1, "`{cmd}`: {stdout}");
    let doc = docs.remove(0);
    let path = crate::support::repo().join("schemas/error.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "`{cmd}`: {errors:?}\n{doc:#}");
    assert_eq!(doc["schema"], "capm.error/v1");
    assert!(
        doc["code"].as_str().is_some_and(|c| !c.is_empty()),
        "`{cmd}`: no code: {doc:#}"
    );
    doc
}

/// A project with code-review (and github) installed.
fn installed() -> tempfile::TempDir {
    let dir = crate::support::project();
    let run = capm(dir.path(), &["add", "code-review", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    dir
}

#[test]
fn an_unknown_bundle_is_refused_with_exit_1_by_every_command_that_takes_one() {
    let dir = installed();
    for (args, code) in UNKNOWN_BUNDLE {
        let got = refused(dir.path(), args, 1, true);
        assert_eq!(got.as_deref(), Some(*code), "capm {}", args.join(" "));
    }
}

#[test]
fn a_missing_project_fails_with_exit_2_for_every_command_that_needs_one() {
    // `apply --plan` reads its plan first: give it a real one.
    let project = installed();
    let run = capm(project.path(), &["plan", "install", "--out", "p.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dir = tempdir();
    std::fs::copy(project.path().join("p.json"), dir.path().join("p.json")).unwrap();
    for c in COMMANDS.iter().filter(|c| c.project) {
        let code = refused(dir.path(), c.args, 2, c.json);
        assert!(
            code.as_deref().is_none_or(|c| c == "no-project"),
            "capm {}: {code:?}",
            c.args.join(" ")
        );
    }
    let nowhere = dir.path().join("nowhere");
    let nowhere = nowhere.to_str().unwrap();
    let code = refused(dir.path(), &["--project", nowhere, "tree"], 2, true);
    assert_eq!(code.as_deref(), Some("path-not-found"));
}

#[test]
fn a_bad_flag_is_a_usage_error_that_names_the_flag_for_every_command() {
    let dir = installed();
    let d = dir.path();
    let mut all: Vec<Vec<&str>> = COMMANDS.iter().map(|c| c.args.to_vec()).collect();
    all.push(Vec::new());
    for mut args in all {
        args.push("--bogus");
        let cmd = format!("capm {}", args.join(" "));
        let human = capm(d, &args);
        assert_eq!(human.code, 2, "`{cmd}`:\n{}", human.transcript());
        assert!(
            human.stderr.contains("'--bogus'"),
            "`{cmd}`: {}",
            human.stderr
        );
        args.extend(["--format", "json"]);
        let run = capm(d, &args);
        assert_eq!(run.code, 2, "`{cmd} --format json`:\n{}", run.transcript());
        let doc = error_document(&cmd, &run.stdout);
        assert_eq!(doc["code"], "usage", "{doc:#}");
        assert_eq!(doc["exit"], 2, "{doc:#}");
        let message = doc["message"].as_str().unwrap();
        assert!(message.contains("'--bogus'"), "`{cmd}`: {message}");
    }
}

#[test]
fn a_bad_value_and_a_missing_argument_are_named_in_json() {
    let dir = tempdir();
    let run = capm(dir.path(), &["add", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    let doc = error_document("capm add --format json", &run.stdout);
    let message = doc["message"].as_str().unwrap();
    assert!(message.contains("<BUNDLES>"), "{message}");
    let run = capm(dir.path(), &["lint", "--format", "yaml", "--catalog"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("'yaml'"), "{}", run.stderr);
    let run = capm(dir.path(), &["explain", "nope", "--format", "json"]);
    let doc = error_document("capm explain nope --format json", &run.stdout);
    assert_eq!((run.code, doc["code"].as_str()), (1, Some("unknown-code")));
}

#[test]
fn remove_names_a_bundle_once_however_often_it_is_given() {
    let dir = installed();
    let d = dir.path();
    let run = capm(d, &["remove", "code-review", "code-review", "-y"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let manifest = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert!(!manifest.contains("code-review"), "{manifest}");
    let lock = std::fs::read_to_string(d.join("capm.lock")).unwrap();
    assert!(!lock.contains("name = \"code-review\""), "{lock}");
}

#[test]
fn a_path_that_does_not_exist_fails_with_exit_2() {
    let dir = tempdir();
    let d = dir.path();
    for args in [
        &["lint", "nowhere"][..],
        &["publish", "nowhere", "--registry", "reg"],
    ] {
        let human = capm(d, args);
        assert_eq!(human.code, 2, "{}", human.transcript());
        assert!(
            human.stderr.starts_with("error: `nowhere` does not exist"),
            "{}",
            human.stderr
        );
    }
    let code = refused(d, &["lint", "nowhere"], 2, true);
    assert_eq!(code.as_deref(), Some("path-not-found"));
    assert!(tree(d).is_empty());
}

#[test]
fn a_file_that_is_not_a_plan_is_refused_with_exit_1() {
    let dir = installed();
    let d = dir.path();
    std::fs::write(d.join("p.json"), "{\"schema\": \"capm.tree/v1\"}").unwrap();
    let code = refused(d, &["apply", "--plan", "p.json", "-y"], 1, true);
    assert_eq!(code.as_deref(), Some("invalid-plan"));
    let code = refused(d, &["apply", "--plan", "none.json", "-y"], 2, true);
    assert_eq!(code.as_deref(), Some("path-not-found"));
}
