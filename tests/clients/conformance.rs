//! What the Gemini CLI and Codex conformance tests share: the purpose-made path bundle (a
//! stdio probe, a remote probe, a skill, an agent and a command) and running a client with
//! a time limit, so that a client that hangs fails its test instead of the run.

#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Sandbox;

/// How long a client may take for one listing before it is killed.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Runs `cmd` with stdin closed, killing it after [`LIMIT`]; panics when it had to.
pub fn run(mut cmd: Command) -> Output {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{shown} did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// How many findings of a plan (`capm plan … --format json`, run by `cmd`) have `code`.
pub fn findings(cmd: Command, code: &str) -> usize {
    let out = run(cmd);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", crate::harness::text(&out)));
    plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .count()
}

/// Writes the probe bundle into the sandbox: `probe-local` runs the sandbox's probe.js with
/// `PROBE_TOKEN` from the environment, `probe-remote` is `url` with the token as a bearer,
/// and a skill, an agent and a command, all named `probe-…`.
pub fn probe_bundle(sb: &Sandbox, url: &str) -> PathBuf {
    let manifest = format!(
        r#"[bundle]
name = "probe"
version = "1.0.0"
description = "Probe servers, a skill, an agent and a command that show what a client reads"

[compatibility.product-modes]
desktop-local = "supported"

[mcp.probe-local]
command = "node"
args = ["{probe}"]
env.PROBE_TOKEN = {{ from-env = "PROBE_TOKEN", secret = true }}

[mcp.probe-remote]
url = "{url}"
headers.Authorization = {{ template = "Bearer {{env:PROBE_TOKEN}}", secret = true }}

[skills.probe-skill]
path = "skills/probe-skill"

[agents.probe-agent]
path = "agents/probe-agent.md"

[commands.probe-cmd]
path = "commands/probe-cmd.md"
"#,
        probe = sb.probe_js().display()
    );
    sb.bundle(
        "probe",
        &[
            ("bundle.toml", &manifest),
            (
                "skills/probe-skill/SKILL.md",
                "---\nname: probe-skill\ndescription: Answers probe questions in conformance tests\n---\n\nSay probe.\n",
            ),
            (
                "agents/probe-agent.md",
                "---\ndescription: Reviews probes without editing anything\nmode: subagent\ntemperature: 0.2\ntools:\n  write: false\n  edit: false\n---\n\nYou review probes.\n",
            ),
            (
                "commands/probe-cmd.md",
                "---\ndescription: Runs the probe on the given text\n---\n\nProbe this: $ARGUMENTS\n",
            ),
        ],
    )
}
