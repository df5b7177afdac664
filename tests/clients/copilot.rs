//! Conformance with the real copilot CLI (see main.rs): capm's `.mcp.json` servers are
//! listed once the folder is trusted in `~/.copilot/config.json`, as references to the
//! environment, never values; the skills are listed. Copilot CLI connects no server and
//! starts no session offline (`-p` needs GitHub), so whether it expands `${PROBE_TOKEN}`
//! cannot be observed here, and it has no offline listing of agents
//! (`.github/agents/*.agent.md`) or commands.

use std::path::Path;
use std::process::Command;

use crate::harness::{SECRET, Sandbox, binary, run, text};
use crate::probe_bundle::probed;

fn copilot(sb: &Sandbox, bin: &Path, args: &[&str]) -> Command {
    let mut cmd = sb.client(bin, args);
    for var in [
        "COPILOT_ALLOW_ALL",
        "COPILOT_GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The JSON `copilot ARGS` prints.
fn json(sb: &Sandbox, bin: &Path, args: &[&str]) -> serde_json::Value {
    let out = run(copilot(sb, bin, args));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("copilot {args:?}: {e}\n{}", text(&out)))
}

/// Trusts the project the way Copilot's trust prompt records it.
pub fn trust(sb: &Sandbox) {
    let project = sb.project().canonicalize().unwrap();
    std::fs::create_dir_all(sb.home().join(".copilot")).unwrap();
    let config = serde_json::json!({ "trustedFolders": [project] });
    std::fs::write(sb.home().join(".copilot/config.json"), config.to_string()).unwrap();
}

/// Lists the workspace servers once the folder is trusted (none before), and returns them.
pub fn trusted_servers(sb: &Sandbox, bin: &Path) -> serde_json::Value {
    let before = text(&run(copilot(sb, bin, &["mcp", "list"])));
    assert!(before.contains("No MCP servers configured"), "{before}");
    trust(sb);
    json(sb, bin, &["mcp", "list", "--json"])["mcpServers"].clone()
}

/// The skills Copilot lists from the project, by name, with their descriptions.
fn project_skills(sb: &Sandbox, bin: &Path) -> Vec<(String, String)> {
    let skills = json(sb, bin, &["skill", "list", "--json"]);
    skills
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] == "project")
        .map(|s| {
            let field = |k: &str| s[k].as_str().unwrap_or_default().to_string();
            (field("name"), field("description"))
        })
        .collect()
}

#[test]
fn copilot_lists_the_probe_servers_as_references_and_the_skill() {
    let Some(bin) = binary("COPILOT_BIN", "copilot") else {
        return;
    };
    let (sb, http) = probed(&["copilot"]);
    let servers = trusted_servers(&sb, &bin);
    for name in ["probe-local", "probe-remote"] {
        assert_eq!(servers[name]["source"], "workspace", "{servers}");
    }
    let get = |name: &str| json(&sb, &bin, &["mcp", "get", name, "--json", "--show-secrets"]);
    let local = &get("probe-local")["probe-local"];
    assert_eq!(local["env"]["PROBE_TOKEN"], "${PROBE_TOKEN}", "{local}");
    let remote = &get("probe-remote")["probe-remote"];
    assert_eq!(remote["url"], http.url());
    assert_eq!(remote["headers"]["Authorization"], "Bearer ${PROBE_TOKEN}");
    assert!(!format!("{local}{remote}").contains(SECRET));
    let skills = project_skills(&sb, &bin);
    assert!(
        skills.contains(&(
            "probe-skill".into(),
            "Probe skill seen by the client".into()
        )),
        "{skills:?}"
    );
}

#[test]
fn copilot_lists_the_code_review_kit() {
    let Some(bin) = binary("COPILOT_BIN", "copilot") else {
        return;
    };
    let sb = Sandbox::new(&["copilot"]);
    sb.capm(&["add", "code-review", "--yes"]);
    lists_code_review(&sb, &bin);
}

/// What Copilot CLI lists of the code-review kit once the folder is trusted.
pub fn lists_code_review(sb: &Sandbox, bin: &Path) {
    let servers = trusted_servers(sb, bin);
    let github = &servers["github"];
    assert_eq!(
        github["url"], "https://api.githubcopilot.com/mcp/",
        "{servers}"
    );
    assert_eq!(
        github["headers"]["Authorization"],
        "Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}"
    );
    let names: Vec<String> = project_skills(sb, bin).into_iter().map(|s| s.0).collect();
    for skill in ["code-review", "github-operations"] {
        assert!(names.contains(&skill.into()), "{names:?}");
    }
}
