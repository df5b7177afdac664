//! Codex as a target: what Codex cannot read the way a bundle declares it is refused with
//! the reason (it expands no reference inside a string, and connects only to streamable
//! HTTP servers), a user's own `.codex/config.toml` is edited without touching anything of
//! theirs, and one that does not parse blocks the plan at its line.

use std::path::Path;

use crate::support::{capm, tree, write_files};

/// A project targeting Codex, with a bundle `b` whose one server is `server` (TOML lines).
fn project(dir: &Path, server: &str) {
    let manifest = format!(
        "[bundle]\nname = \"b\"\nversion = \"1.0.0\"\ndescription = \"One server\"\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n[mcp.tool]\n{server}"
    );
    write_files(
        dir,
        &[
            (
                "capm.toml",
                "[project]\ntargets = [\"codex\"]\n\n[bundles]\n",
            ),
            ("b/bundle.toml", &manifest),
        ],
    );
}

/// Installing `b` is refused with `why`, and nothing is written.
fn refused(server: &str, why: &str) {
    let dir = crate::support::tempdir();
    project(dir.path(), server);
    let before = tree(dir.path());
    let run = capm(dir.path(), &["add", "./b", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stdout.contains("BLOCKED  mcp:tool    (unrenderable)"),
        "{}",
        run.stdout
    );
    let help = format!("help: Codex cannot take `mcp:tool`: {why}");
    assert!(run.stdout.contains(&help), "{}", run.stdout);
    assert!(run.stderr.contains("error[plan-blocked]"), "{}", run.stderr);
    let after = tree(dir.path());
    let new: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    assert!(
        new.iter().all(|k| k.starts_with(".no-user-")),
        "written: {new:?}"
    );
    assert_eq!(after.get("capm.toml"), before.get("capm.toml"));

    let plan = capm(dir.path(), &["plan", "install", "./b", "--format", "json"]).json();
    assert_eq!(plan["status"], "blocked");
    assert_eq!(plan["actions"][0]["reason"], "unrenderable");
    assert_eq!(plan["actions"][0]["clients"], serde_json::json!(["codex"]));
}

#[test]
fn a_variable_read_from_another_name_is_refused_for_codex() {
    refused(
        "command = \"tool-server\"\nenv.API_TOKEN = { from-env = \"MY_TOKEN\", secret = true }\n",
        "its variable `API_TOKEN` is read from `MY_TOKEN`, and Codex passes a variable on only under its own name (`env_vars`)",
    );
}

#[test]
fn a_header_template_other_than_a_bearer_token_is_refused_for_codex() {
    refused(
        "url = \"https://tool.example.com/mcp\"\nheaders.Authorization = { template = \"Token {env:TOOL_KEY}\", secret = true }\n",
        "its header `Authorization` is built from a template (`Token {env:TOOL_KEY}`), and Codex reads a header only whole from one variable, or a bearer token",
    );
}

#[test]
fn an_sse_server_is_refused_for_codex() {
    refused(
        "url = \"https://tool.example.com/sse\"\ntransport = \"sse\"\n",
        "it speaks the SSE transport, and Codex connects only to streamable HTTP servers",
    );
}

const USERS_CONFIG: &str = r#"# My Codex settings for this project.
model = "o4-mini"   # the fast one

[mcp_servers.mine]
command = "my-server"
args = ["--verbose"]   # keep the logs
env = { MODE = "dev" }

# Profiles I switch between.
[profiles.deep]
model = "o3"
model_reasoning_effort = "high"
"#;

#[test]
fn a_users_codex_config_comes_back_byte_for_byte_after_install_and_remove() {
    let dir = crate::support::tempdir();
    project(
        dir.path(),
        "command = \"tool-server\"\nenv.TOOL_TOKEN = { from-env = \"TOOL_TOKEN\", secret = true }\n",
    );
    write_files(dir.path(), &[(".codex/config.toml", USERS_CONFIG)]);
    let config = dir.path().join(".codex/config.toml");

    let run = capm(dir.path(), &["add", "./b", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let installed = std::fs::read_to_string(&config).unwrap();
    // The server is added beside the user's own, everything of theirs kept as it was.
    let added = "[mcp_servers.tool]\ncommand = \"tool-server\"\nenv_vars = [\"TOOL_TOKEN\"]\n\n";
    assert_eq!(
        installed.replacen(added, "", 1),
        USERS_CONFIG,
        "{installed}"
    );
    let table: toml::Table = installed.parse().unwrap();
    assert_eq!(
        table["mcp_servers"]["tool"],
        toml::toml! { command = "tool-server" env_vars = ["TOOL_TOKEN"] }.into()
    );
    assert_eq!(
        table["mcp_servers"]["mine"]["command"].as_str(),
        Some("my-server")
    );

    let run = capm(dir.path(), &["remove", "b", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(std::fs::read_to_string(&config).unwrap(), USERS_CONFIG);
}

#[test]
fn a_codex_config_that_does_not_parse_blocks_at_its_line() {
    let dir = crate::support::tempdir();
    project(dir.path(), "command = \"tool-server\"\n");
    let broken = "# mine\n[mcp_servers.mine]\ncommand = \"my-server\"\nargs = [\"a\"\n";
    write_files(dir.path(), &[(".codex/config.toml", broken)]);
    let before = tree(dir.path());
    let run = capm(dir.path(), &["add", "./b", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stdout
            .contains("BLOCKED  mcp:tool  .codex/config.toml /mcp_servers/tool  (invalid-config)")
            && run
                .stdout
                .contains("does not parse: unclosed array, expected `]` (.codex/config.toml:4:12)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("error[invalid-config]: `.codex/config.toml` does not parse")
            && run.stderr.contains(" --> .codex/config.toml:4:12"),
        "{}",
        run.stderr
    );
    let after = tree(dir.path());
    for (path, bytes) in &before {
        assert_eq!(after.get(path), Some(bytes), "{path} changed");
    }
    assert!(!after.keys().any(|k| k.starts_with(".codex/agents")));
}

/// Whether the plan of a project at `repo/proj` (in a git worktree at `repo`) warns that
/// Codex does not trust it, with Codex's user config holding `projects`.
fn gated(projects: &[(&str, &str)]) -> bool {
    let dir = crate::support::tempdir();
    let proj = dir.path().join("repo/proj");
    project(&proj, "command = \"tool-server\"\n");
    std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
    let mut config = String::new();
    for (rel, level) in projects {
        let abs = dir.path().join(rel);
        config.push_str(&format!(
            "[projects.\"{}\"]\ntrust_level = \"{level}\"\n",
            abs.display()
        ));
    }
    write_files(dir.path(), &[("codex/config.toml", &config)]);
    let codex_home = dir.path().join("codex");
    let run = crate::support::capm_with(
        &proj,
        &["plan", "install", "./b", "--format", "json"],
        &[("CODEX_HOME", codex_home.to_str().unwrap())],
    );
    let gate = gate_messages(&run);
    assert!(
        gate.iter().all(|m| m.contains(&proj.display().to_string())),
        "{gate:?}"
    );
    !gate.is_empty()
}

/// The messages of the `client-gate` findings of a plan run with `--format json`, which
/// must have succeeded.
pub fn gate_messages(run: &crate::support::Run) -> Vec<String> {
    assert_eq!(run.code, 0, "{}", run.transcript());
    let plan = run.json();
    plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "client-gate")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn codex_trust_is_the_projects_own_entry_else_its_git_roots() {
    assert!(gated(&[]), "nothing trusted");
    assert!(!gated(&[("repo/proj", "trusted")]), "the project itself");
    assert!(!gated(&[("repo", "trusted")]), "its git root");
    assert!(
        gated(&[("repo", "trusted"), ("repo/proj", "untrusted")]),
        "its own entry wins"
    );
    assert!(
        !gated(&[("repo", "untrusted"), ("repo/proj", "trusted")]),
        "its own entry wins"
    );
    assert!(gated(&[(".", "trusted")]), "a directory above the git root");
}
