//! Conformance with the real claude CLI (see main.rs): capm's `.mcp.json` servers connect
//! once the project is approved the way Claude's trust dialog records it, and the skills,
//! agents and commands capm writes are what Claude offers its model (read from the
//! request it would send, captured by a stand-in model endpoint on 127.0.0.1).

use std::path::Path;
use std::process::Command;

use crate::harness::{Sandbox, binary, run, text};
use crate::probe_bundle::probed;
use crate::stand_in_model::{Model, assert_connected, assert_sent, init_event, names};

fn claude(sb: &Sandbox, bin: &Path, args: &[&str]) -> Command {
    let mut cmd = sb.client(bin, args);
    cmd.env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("ANTHROPIC_AUTH_TOKEN");
    cmd
}

/// What Claude's approval dialog records for the project: trusted, these servers enabled.
pub fn approve(sb: &Sandbox, servers: &[&str]) {
    let project = sb.project().canonicalize().unwrap();
    let state = serde_json::json!({ "projects": { project.to_str().unwrap(): {
        "hasTrustDialogAccepted": true, "enabledMcpjsonServers": servers } } });
    std::fs::write(sb.home().join(".claude.json"), state.to_string()).unwrap();
}

/// `claude -p PROMPT` against a model endpoint that refuses: the init event, and the text
/// of what Claude sent the model.
fn session(sb: &Sandbox, bin: &Path, prompt: &str) -> (serde_json::Value, String) {
    let model = Model::refusing();
    let mut cmd = claude(sb, bin, &["-p", prompt, "--output-format", "stream-json"]);
    cmd.arg("--verbose")
        .env("ANTHROPIC_BASE_URL", model.url())
        .env("ANTHROPIC_API_KEY", "dummy-key");
    let out = run(cmd);
    let sent = model.received().replace("\\n", "\n");
    (init_event(&out), sent)
}

pub fn mcp_list(sb: &Sandbox, bin: &Path) -> String {
    text(&run(claude(sb, bin, &["mcp", "list"])))
}

#[test]
fn claude_connects_the_probe_servers_and_reads_the_skill_agent_and_command() {
    let Some(bin) = binary("CLAUDE_BIN", "claude") else {
        return;
    };
    let (sb, http) = probed(&["claude-code"]);
    let before = mcp_list(&sb, &bin);
    assert!(before.contains("Pending approval"), "{before}");
    approve(&sb, &["probe-local", "probe-remote"]);
    let listed = mcp_list(&sb, &bin);
    let js = sb.probe_js();
    for line in [
        format!("probe-local: node {} - ✔ Connected", js.display()),
        format!("probe-remote: {} (HTTP) - ✔ Connected", http.url()),
    ] {
        assert!(listed.contains(&line), "no `{line}` in:\n{listed}");
    }
    let got = text(&run(claude(&sb, &bin, &["mcp", "get", "probe-local"])));
    assert!(got.contains("PROBE_TOKEN=${PROBE_TOKEN}"), "{got}");
    assert!(!got.contains(crate::harness::SECRET), "{got}");

    let (init, sent) = session(&sb, &bin, "/probe-cmd first-arg");
    assert_connected(&init, &["probe-local", "probe-remote"]);
    assert!(
        names(&init, "skills").contains(&"probe-skill".into()),
        "{init}"
    );
    assert!(
        names(&init, "agents").contains(&"probe-agent".into()),
        "{init}"
    );
    assert!(names(&init, "slash_commands").contains(&"probe-cmd".into()));
    // The front matter as Claude read it: descriptions, and the tool switched off.
    assert_sent(
        "Claude",
        &sent,
        &[
            "- probe-agent: Probe agent that answers probe (Tools: All tools except Write, Bash, mcp__probe-local__ping)",
            "- plain-agent: Checks the probe.",
            "- probe-skill: Probe skill seen by the client",
            "- probe-cmd: Probe command run with an argument",
            // The command ran with its argument in place of OpenCode's `$ARGUMENTS`.
            "Probe-run of first-arg now.",
        ],
    );
}

#[test]
fn claude_reads_the_code_review_kit_with_its_tool_limits() {
    let Some(bin) = binary("CLAUDE_BIN", "claude") else {
        return;
    };
    let sb = Sandbox::new(&["claude-code"]);
    sb.capm(&["add", "code-review", "--yes"]);
    reads_code_review(&sb, &bin);
}

/// What Claude Code shows of the code-review kit once the project is approved.
pub fn reads_code_review(sb: &Sandbox, bin: &Path) {
    approve(sb, &["github"]);
    // api.githubcopilot.com is not reachable here: listed, never connected.
    let listed = mcp_list(sb, bin);
    assert!(
        listed.contains("github: https://api.githubcopilot.com/mcp/ (HTTP)"),
        "{listed}"
    );
    let got = text(&run(claude(sb, bin, &["mcp", "get", "github"])));
    let reference = "Authorization: Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}";
    assert!(got.contains(reference), "{got}");
    let (init, sent) = session(sb, bin, "x");
    assert!(names(&init, "mcp_servers").contains(&"github".into()));
    assert!(
        names(&init, "agents").contains(&"reviewer".into()),
        "{init}"
    );
    assert!(names(&init, "slash_commands").contains(&"review".into()));
    assert_sent(
        "Claude",
        &sent,
        &[
            "- reviewer: Reviews pull requests and local changes",
            "(Tools: All tools except Write, Edit, mcp__github__merge_pull_request, mcp__github__push_files, mcp__github__create_or_update_file, mcp__github__delete_file)",
            "- code-review: Review a pull request or local change for correctness",
            "- github-operations: ",
            "- review: Review a GitHub pull request (number or URL)",
        ],
    );
    // `/review` runs as the reviewer (`agent: reviewer`, `subtask: true`): the request
    // carries the reviewer's prompt, and the argument in place of `$ARGUMENTS`.
    let (_, sent) = session(sb, bin, "/review 42");
    let shown = [
        "You are a careful senior code reviewer.",
        "Review this change: 42",
    ];
    assert_sent("Claude", &sent, &shown);
}
