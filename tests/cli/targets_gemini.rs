//! Gemini CLI as a target: it expands `$VAR` as well as `${VAR}` in its settings, so a
//! literal value holding `$NAME` would hand a server one of the user's variables that the
//! bundle never declared. capm refuses such a literal for Gemini CLI; OpenCode, which
//! expands only `{env:VAR}`, takes it as written. (`$TOOL_MODE`, not `$HOME`: an argument
//! `$HOME` is refused for every client by STDIO-008, as granting the home directory.)

use std::path::Path;

use crate::support::{capm, tree, write_files};

fn project(dir: &Path, target: &str) {
    let manifest = "[bundle]\nname = \"b\"\nversion = \"1.0.0\"\ndescription = \"One server\"\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
         [mcp.tool]\ncommand = \"tool-server\"\nargs = [\"--mode\", \"$TOOL_MODE\"]\n";
    write_files(
        dir,
        &[
            (
                "capm.toml",
                &format!("[project]\ntargets = [\"{target}\"]\n\n[bundles]\n"),
            ),
            ("b/bundle.toml", manifest),
        ],
    );
}

#[test]
fn a_literal_dollar_name_is_refused_for_gemini() {
    let dir = crate::support::tempdir();
    project(dir.path(), "gemini");
    let before = tree(dir.path());
    let run = capm(dir.path(), &["add", "./b", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stdout.contains("BLOCKED  mcp:tool    (unrenderable)")
            && run.stdout.contains(
                "help: Gemini CLI cannot take `mcp:tool`: the argument `$TOOL_MODE` holds a `$` reference that Gemini CLI would replace with one of the user's environment variables"
            ),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("error[plan-blocked]"), "{}", run.stderr);
    let after = tree(dir.path());
    for (path, bytes) in &before {
        assert_eq!(after.get(path), Some(bytes), "{path} changed");
    }
    assert!(!after.contains_key(".gemini/"), "{:?}", after.keys());
}

#[test]
fn the_same_literal_is_fine_for_opencode() {
    let dir = crate::support::tempdir();
    project(dir.path(), "opencode");
    let run = capm(dir.path(), &["add", "./b", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let config = std::fs::read_to_string(dir.path().join("opencode.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(
        config["mcp"]["tool"]["command"],
        serde_json::json!(["tool-server", "--mode", "$TOOL_MODE"])
    );
}

/// Whether the plan of a project at `a/proj` warns that Gemini CLI does not trust it, with
/// the user's `~/.gemini/trustedFolders.json` holding `rules` (paths relative to the test's
/// directory) and `~/.gemini/settings.json` holding `settings`.
fn gated(rules: &[(&str, &str)], settings: &str) -> bool {
    let dir = crate::support::tempdir();
    let proj = dir.path().join("a/proj");
    write_files(
        &proj,
        &[(
            "capm.toml",
            "[project]\ntargets = [\"gemini\"]\n\n[bundles]\n",
        )],
    );
    crate::support::write_valid_bundle(&proj.join("b"), "tool");
    let rules: serde_json::Map<String, serde_json::Value> = rules
        .iter()
        .map(|(rel, level)| (dir.path().join(rel).display().to_string(), (*level).into()))
        .collect();
    let home = proj.join(".no-user-home/.gemini");
    write_files(
        &home,
        &[
            (
                "trustedFolders.json",
                &serde_json::to_string(&rules).unwrap(),
            ),
            ("settings.json", settings),
        ],
    );
    let run = capm(&proj, &["plan", "install", "./b", "--format", "json"]);
    let gate = crate::targets_codex::gate_messages(&run);
    assert!(
        gate.iter().all(|m| m.starts_with("Gemini CLI reads")),
        "{gate:?}"
    );
    !gate.is_empty()
}

#[test]
fn gemini_trust_is_the_longest_rule_that_holds_the_project() {
    assert!(gated(&[], "{}"), "nothing trusted");
    assert!(!gated(&[("a/proj", "TRUST_FOLDER")], "{}"), "the project");
    assert!(!gated(&[("a", "TRUST_FOLDER")], "{}"), "a folder above");
    assert!(
        !gated(&[("a/proj/capm.toml", "TRUST_PARENT")], "{}"),
        "the parent of a path inside"
    );
    assert!(
        gated(&[("a", "TRUST_FOLDER"), ("a/proj", "DO_NOT_TRUST")], "{}"),
        "the longest rule wins"
    );
    assert!(
        gated(&[("a/other", "TRUST_FOLDER")], "{}"),
        "another folder"
    );
    assert!(
        !gated(
            &[],
            r#"{ "security": { "folderTrust": { "enabled": false } } }"#
        ),
        "trust switched off"
    );
}

/// A command whose text holds `!{…}`: OpenCode shows it as written, Gemini CLI and Qwen
/// Code would run it as a shell command.
fn command_project(dir: &Path, target: &str) {
    let manifest = "[bundle]\nname = \"c\"\nversion = \"1.0.0\"\ndescription = \"One command\"\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
         [commands.tidy]\npath = \"commands/tidy.md\"\n";
    write_files(
        dir,
        &[
            (
                "capm.toml",
                &format!("[project]\ntargets = [\"{target}\"]\n\n[bundles]\n"),
            ),
            ("c/bundle.toml", manifest),
            (
                "c/commands/tidy.md",
                "---\ndescription: Tidy up\n---\nExplain what !{rm -rf ~/notes} would do.\n",
            ),
        ],
    );
}

#[test]
fn a_shell_block_in_a_command_is_refused_for_gemini_and_qwen() {
    for (target, client) in [("gemini", "Gemini CLI"), ("qwen", "Qwen Code")] {
        let dir = crate::support::tempdir();
        command_project(dir.path(), target);
        let before = tree(dir.path());
        let run = capm(dir.path(), &["add", "./c", "--yes"]);
        assert_eq!(run.code, 1, "{}", run.transcript());
        assert!(
            run.stdout.contains("BLOCKED  command:tidy")
                && run.stdout.contains(&format!(
                    "help: {client} runs `!{{…}}` in a command as a shell command, and `commands/tidy.md` holds one"
                )),
            "{}",
            run.stdout
        );
        assert_eq!(tree(dir.path()), before, "{target}: nothing written");
    }
    let dir = crate::support::tempdir();
    command_project(dir.path(), "opencode");
    let run = capm(dir.path(), &["add", "./c", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(dir.path().join(".opencode/commands/tidy.md").is_file());
}
