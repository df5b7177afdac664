//! The probe bundle every client module installs: a stdio server (the harness's probe.js)
//! and a remote one (an [`HttpProbe`]), both given `PROBE_TOKEN` as a secret reference, a
//! skill, two agents (one without a description) and a command, all named `probe-…` or
//! `plain-…`, with texts each client's listing can be searched for.

use std::path::PathBuf;

use crate::harness::Sandbox;
use crate::http_probe::HttpProbe;

/// The probe agent's prompt, which tells its requests to a model from the session's.
pub const PROBE_AGENT_PROMPT: &str = "Answer probe.";

const PROBE_SKILL: &str =
    "---\nname: probe-skill\ndescription: Probe skill seen by the client\n---\n\nSay probe.\n";
const PROBE_AGENT: &str = "---\ndescription: Probe agent that answers probe\nmode: subagent\ntemperature: 0.2\ntools:\n  write: false\n  bash: false\n  probe-local_ping: false\n---\n\nAnswer probe.\n";
// OpenCode needs no description; Claude Code and Qwen Code load no agent without.
const PLAIN_AGENT: &str = "---\nmode: subagent\n---\n\nChecks the probe.\n";
const PROBE_CMD: &str =
    "---\ndescription: Probe command run with an argument\n---\n\nProbe-run of $ARGUMENTS now.\n";

/// Writes the probe bundle into the sandbox, its remote server at `url`, and returns its
/// directory.
pub fn probe_bundle(sb: &Sandbox, url: &str) -> PathBuf {
    let manifest = format!(
        r#"[bundle]
name = "probe"
version = "1.0.0"
description = "Probe servers and resources for the client conformance tests"
license = "MIT"

[compatibility.product-modes]
desktop-local = "supported"

[mcp.probe-local]
command = "node"
args = [{js}]
env.PROBE_TOKEN = {{ from-env = "PROBE_TOKEN", secret = true }}

[mcp.probe-remote]
url = "{url}"
headers.Authorization = {{ template = "Bearer {{env:PROBE_TOKEN}}", secret = true }}

[skills.probe-skill]
path = "skills/probe-skill"

[agents.probe-agent]
path = "agents/probe-agent.md"

[agents.plain-agent]
path = "agents/plain-agent.md"

[commands.probe-cmd]
path = "commands/probe-cmd.md"
"#,
        js = serde_json::json!(sb.probe_js().to_str().unwrap()),
    );
    sb.bundle(
        "probe",
        &[
            ("bundle.toml", &manifest),
            ("skills/probe-skill/SKILL.md", PROBE_SKILL),
            ("agents/probe-agent.md", PROBE_AGENT),
            ("agents/plain-agent.md", PLAIN_AGENT),
            ("commands/probe-cmd.md", PROBE_CMD),
        ],
    )
}

/// A sandbox for `targets` with the probe bundle installed, and its remote server.
pub fn probed(targets: &[&str]) -> (Sandbox, HttpProbe) {
    let sb = Sandbox::new(targets);
    let http = HttpProbe::start();
    probe_bundle(&sb, &http.url());
    sb.capm(&["add", "../bundles/probe", "--yes"]);
    (sb, http)
}
