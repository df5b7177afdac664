//! Conformance with the real qwen CLI (see main.rs): capm's `.qwen/settings.json` servers
//! connect once approved with `qwen mcp approve` (into a scratch approvals file), and the
//! skills, agents and commands capm writes are what Qwen offers its model (read from the
//! request it would send, captured by a stand-in model endpoint on 127.0.0.1). Qwen also
//! reads `.mcp.json`, without expanding references: its own entry of the same name wins.

use std::path::Path;
use std::process::{Command, Output};

use crate::harness::{Sandbox, binary, run, text};
use crate::http_probe::HttpProbe;
use crate::probe_bundle::{PROBE_AGENT_PROMPT, probed};
use crate::stand_in_model::{Model, assert_connected, assert_sent, init_event, names};

fn qwen(sb: &Sandbox, bin: &Path, args: &[&str]) -> Command {
    let mut cmd = sb.client(bin, args);
    cmd.env(
        "QWEN_CODE_MCP_APPROVALS_PATH",
        sb.dir.path().join("approvals.json"),
    );
    cmd
}

/// `qwen mcp list` after approving every server of the project, as a user would.
pub fn approved_list(sb: &Sandbox, bin: &Path) -> String {
    let before = text(&run(qwen(sb, bin, &["mcp", "list"])));
    assert!(before.contains("Pending approval"), "{before}");
    let approve = run(qwen(sb, bin, &["mcp", "approve", "--all"]));
    assert!(approve.status.success(), "{}", text(&approve));
    text(&run(qwen(sb, bin, &["mcp", "list"])))
}

/// Both probes listed connected by `qwen mcp list`'s text.
pub fn assert_probes_connected(listed: &str, sb: &Sandbox, http: &HttpProbe) {
    let js = sb.probe_js();
    for line in [
        format!("probe-local: node {} (stdio) - Connected", js.display()),
        format!("probe-remote: {} (http) - Connected", http.url()),
    ] {
        assert!(listed.contains(&line), "no `{line}` in:\n{listed}");
    }
}

/// `qwen ARGS` in print mode with `model` as its OpenAI-style provider.
fn prompted(sb: &Sandbox, bin: &Path, model: &Model, args: &[&str]) -> Output {
    let mut cmd = qwen(sb, bin, args);
    cmd.args(["--auth-type", "openai", "--output-format", "stream-json"])
        .env("OPENAI_BASE_URL", format!("{}/v1", model.url()))
        .env("OPENAI_API_KEY", "dummy-key")
        .env("OPENAI_MODEL", "dummy-model");
    run(cmd)
}

/// `qwen -p PROMPT` against a model endpoint that refuses: the init event, and the text
/// of what Qwen sent the model.
fn session(sb: &Sandbox, bin: &Path, prompt: &str) -> (serde_json::Value, String) {
    let model = Model::refusing();
    let out = prompted(sb, bin, &model, &["-p", prompt, "--max-session-turns", "1"]);
    let sent = model.received().replace("\\n", "\n");
    (init_event(&out), sent)
}

#[test]
fn qwen_connects_the_probe_servers_and_reads_the_skill_agent_and_command() {
    let Some(bin) = binary("QWEN_BIN", "qwen") else {
        return;
    };
    let (sb, http) = probed(&["qwen"]);
    assert_probes_connected(&approved_list(&sb, &bin), &sb, &http);

    let (init, sent) = session(&sb, &bin, "/probe-cmd first-arg");
    assert_connected(&init, &["probe-local", "probe-remote"]);
    assert!(
        names(&init, "agents").contains(&"probe-agent".into()),
        "{init}"
    );
    let slash = names(&init, "slash_commands");
    assert!(slash.contains(&"probe-cmd".into()) && slash.contains(&"probe-skill".into()));
    assert_sent(
        "Qwen",
        &sent,
        &[
            "- **probe-agent**: Probe agent that answers probe",
            "- **plain-agent**: Checks the probe.",
            "Probe skill seen by the client (project)",
            // The command ran with its argument where the bundle's `$ARGUMENTS` was.
            "Probe-run of first-arg now.",
        ],
    );
}

#[test]
fn qwen_reads_the_code_review_kit() {
    let Some(bin) = binary("QWEN_BIN", "qwen") else {
        return;
    };
    let sb = Sandbox::new(&["qwen"]);
    sb.capm(&["add", "code-review", "--yes"]);
    reads_code_review(&sb, &bin);
}

/// What Qwen Code shows of the code-review kit once its servers are approved.
pub fn reads_code_review(sb: &Sandbox, bin: &Path) {
    // api.githubcopilot.com is not reachable here: listed, never connected.
    let listed = approved_list(sb, bin);
    assert!(
        listed.contains("github: https://api.githubcopilot.com/mcp/ (http)"),
        "{listed}"
    );
    let settings = std::fs::read_to_string(sb.project().join(".qwen/settings.json")).unwrap();
    let settings: serde_json::Value = serde_json::from_str(&settings).unwrap();
    let header = &settings["mcpServers"]["github"]["headers"]["Authorization"];
    assert_eq!(header, "Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}");
    let (init, sent) = session(sb, bin, "/review 42");
    assert!(
        names(&init, "agents").contains(&"reviewer".into()),
        "{init}"
    );
    let slash = names(&init, "slash_commands");
    for name in ["review", "code-review", "github-operations"] {
        assert!(slash.contains(&name.into()), "no {name} in {slash:?}");
    }
    assert_sent(
        "Qwen",
        &sent,
        &[
            "- **reviewer**: Reviews pull requests and local changes",
            "Review a pull request or local change for correctness",
            "Review this change: 42",
        ],
    );
}

/// One project for Claude Code, Copilot CLI and Qwen Code: `.mcp.json` is written once
/// and read by Claude and Copilot; Qwen reads it too but expands nothing there, so it gets
/// entries of the same names in `.qwen/settings.json`, which win.
#[test]
fn one_mcp_json_for_claude_and_copilot_and_qwen_settings_that_win() {
    let bins = ["CLAUDE_BIN", "COPILOT_BIN", "QWEN_BIN"].map(|v| binary(v, "claude+copilot+qwen"));
    let [Some(claude), Some(copilot), Some(bin)] = bins else {
        return;
    };
    let (sb, http) = probed(&["claude-code", "copilot", "qwen"]);
    let read = |f: &str| std::fs::read_to_string(sb.project().join(f)).unwrap();
    let mcp_json: serde_json::Value = serde_json::from_str(&read(".mcp.json")).unwrap();
    let settings: serde_json::Value = serde_json::from_str(&read(".qwen/settings.json")).unwrap();
    for name in ["probe-local", "probe-remote"] {
        assert!(mcp_json["mcpServers"][name].is_object(), "{mcp_json}");
        assert!(settings["mcpServers"][name].is_object(), "{settings}");
    }

    crate::claude::approve(&sb, &["probe-local", "probe-remote"]);
    let listed = crate::claude::mcp_list(&sb, &claude);
    assert_eq!(listed.matches("✔ Connected").count(), 2, "{listed}");
    let servers = crate::copilot::trusted_servers(&sb, &copilot);
    let source = sb.project().canonicalize().unwrap().join(".mcp.json");
    for name in ["probe-local", "probe-remote"] {
        assert_eq!(servers[name]["sourcePath"], source.to_str().unwrap());
    }
    assert_probes_connected(&approved_list(&sb, &bin), &sb, &http);

    // Without its own entries Qwen falls back to `.mcp.json`, where the references stay
    // unexpanded and neither probe lets it in.
    std::fs::write(sb.project().join(".qwen/settings.json"), "{}\n").unwrap();
    let fallback = approved_list(&sb, &bin);
    assert_eq!(fallback.matches("- Disconnected").count(), 2, "{fallback}");
}

/// The probe agent's switched-off tools (`write`, `bash`, the stdio server's `ping`) are
/// missing from what Qwen offers the agent when a session hands it a task; the rest is
/// there.
#[test]
fn qwen_applies_the_agent_tool_limits() {
    let Some(bin) = binary("QWEN_BIN", "qwen") else {
        return;
    };
    let (sb, _http) = probed(&["qwen"]);
    approved_list(&sb, &bin);
    let model = Model::delegating();
    // `--yolo` lets the session call its agent tool without asking.
    let out = prompted(&sb, &bin, &model, &["-p", "to the probe agent", "--yolo"]);
    assert!(out.status.success(), "{}", text(&out));
    let tools = model.tools_offered_to(PROBE_AGENT_PROMPT);
    for off in ["write_file", "run_shell_command", "mcp__probe-local__ping"] {
        assert!(!tools.contains(&off.into()), "{off} offered: {tools:?}");
    }
    for on in ["read_file", "edit", "mcp__probe-remote__ping"] {
        assert!(tools.contains(&on.into()), "{on} not offered: {tools:?}");
    }
}
