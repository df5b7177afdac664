//! The TypeScript client in `clients/typescript` as part of `cargo test`: its dependencies
//! installed from its lock file, built with `tsc`, its generated types checked against
//! `schemas/`, and its test suite (`npm test`) run against this build's `capm`. Without node
//! and npm the test says SKIP loudly and passes, except under `CI=true`, where it fails.
//! The README's TypeScript example is checked to be the example file the build compiles.

use std::path::{Path, PathBuf};
use std::process::Command;

fn package() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/typescript")
}

/// Whether `tool --version` runs.
fn found(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `program args` in the package; fails with its whole output unless it succeeds.
fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .current_dir(package())
        .env("CAPM_BIN", env!("CARGO_BIN_EXE_capm"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "`{program} {}` failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The package's test files, `test/*.test.mjs`.
fn test_files() -> Vec<String> {
    std::fs::read_dir(package().join("test"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".test.mjs"))
        .collect()
}

#[test]
fn the_typescript_test_directory_holds_only_tests_and_helpers() {
    let others: Vec<String> = std::fs::read_dir(package().join("test"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".test.mjs") && name != "helpers")
        .collect();
    assert!(
        others.is_empty(),
        "clients/typescript/test/ holds {others:?}: helpers go in test/helpers/, where no test runner runs them"
    );
}

#[test]
fn the_typescript_client_builds_and_passes_its_tests() {
    if !found("node") || !found("npm") {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "node and npm are needed to test clients/typescript under CI=true"
        );
        eprintln!("\n*** SKIP: node or npm not found: clients/typescript was NOT tested ***\n");
        return;
    }
    run(
        "npm",
        &["ci", "--no-audit", "--no-fund", "--prefer-offline"],
    );
    run("npm", &["run", "build"]);
    run("npm", &["run", "check-generated"]);
    assert!(
        !test_files().is_empty(),
        "no test/*.test.mjs in clients/typescript"
    );
    // What a developer runs; it must end (a helper run as a test would wait on stdin).
    run("npm", &["test"]);
    the_readme_example_installs_and_then_has_nothing_to_do();
}

/// The compiled README example, run as a user would in a fresh project (after the build):
/// it installs `time`; run again, it finds nothing to do.
fn the_readme_example_installs_and_then_has_nothing_to_do() {
    let home = tempfile::tempdir().unwrap();
    let project = home.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let example = package().join("dist/examples/plan-and-apply.js");
    let isolated = |cmd: &mut Command| {
        cmd.current_dir(&project)
            .env("CAPM_BIN", env!("CARGO_BIN_EXE_capm"))
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .output()
            .unwrap()
    };
    let init = isolated(Command::new(env!("CARGO_BIN_EXE_capm")).args(["init", "-q"]));
    assert!(init.status.success(), "capm init: {init:?}");
    let lines = |out: std::process::Output| {
        assert!(out.status.success(), "the example failed: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let first = lines(isolated(Command::new("node").arg(&example)));
    assert_eq!(
        first,
        "plan 0 1\nplan 1 1\ncreate mcp:time opencode.json opencode\n\
         create skill:time-zones .opencode/skills/time-zones opencode\napplied\n"
    );
    assert!(project.join("capm.lock").is_file() && project.join("opencode.json").is_file());
    let again = lines(isolated(Command::new("node").arg(&example)));
    assert!(again.ends_with("noop\n"), "{again}");
}

/// The README's TypeScript block: the one importing `capm-client`.
fn readme_example() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```ts\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block))
        .filter(|block| block.contains("from \"capm-client\""))
        .collect();
    assert_eq!(blocks.len(), 1, "one TypeScript example in README.md");
    blocks[0].to_string()
}

#[test]
fn the_readme_example_is_the_one_the_build_compiles() {
    let file = std::fs::read_to_string(package().join("examples/plan-and-apply.ts")).unwrap();
    assert_eq!(
        readme_example(),
        file,
        "README.md's TypeScript example differs from clients/typescript/examples/plan-and-apply.ts"
    );
}
