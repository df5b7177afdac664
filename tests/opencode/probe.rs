//! `capm probe` launches a server as OpenCode does: for the stdio test server of the CLI
//! tests, installed by capm, OpenCode (`opencode mcp list`, which connects to each server)
//! and `capm probe` see the same argv, environment and working directory, and agree on
//! which servers work.

use std::path::Path;

use serde_json::Value;

use crate::client::OpenCode;
use crate::support::{capm_with, probe_project, stdio, tempdir};

/// A git project whose path bundle `t` runs the stdio test server in `mode`, installed.
fn installed(dir: &Path, mode: &str) {
    probe_project(dir, &stdio(mode));
    let git = std::process::Command::new("git")
        .args(["init", "-q", "."])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(git.success());
    let run = capm_with(dir, &["install", "--yes"], &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

/// What the test server recorded of its launch, removed for the next one.
fn take_seen(dir: &Path) -> Value {
    let path = dir.join("seen.json");
    let seen = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    std::fs::remove_file(path).unwrap();
    seen
}

/// Whether `opencode mcp list` shows server `srv` connected.
fn opencode_connects(oc: &OpenCode, dir: &Path, env: &[(&str, &str)]) -> bool {
    let out = oc.run(dir, &["mcp", "list"], env);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains(" srv "))
        .unwrap_or_else(|| panic!("`opencode mcp list` does not list srv:\n{text}"));
    line.contains("connected")
}

#[test]
fn probe_launches_the_server_exactly_as_opencode_does() {
    let Some(oc) = OpenCode::found("probe_launches_the_server_exactly_as_opencode_does") else {
        return;
    };
    let dir = tempdir();
    let d = dir.path();
    installed(d, "ok");
    for env in [&[("PROBE_TOKEN", "tok-1")][..], &[]] {
        assert!(opencode_connects(&oc, d, env));
        let by_opencode = take_seen(d);
        let run = capm_with(d, &["probe"], env);
        assert_eq!(run.code, 0, "{}", run.transcript());
        let by_capm = take_seen(d);
        assert_eq!(by_capm, by_opencode, "with {env:?}");
    }
}

#[test]
fn probe_fails_the_servers_opencode_cannot_use() {
    let Some(oc) = OpenCode::found("probe_fails_the_servers_opencode_cannot_use") else {
        return;
    };
    for (mode, works) in [("ok", true), ("bad-tool", false), ("crash", false)] {
        let dir = tempdir();
        let d = dir.path();
        installed(d, mode);
        assert_eq!(opencode_connects(&oc, d, &[]), works, "OpenCode, {mode}");
        let run = capm_with(d, &["probe"], &[]);
        assert_eq!(
            run.code == 0,
            works,
            "capm probe, {mode}: {}",
            run.transcript()
        );
    }
}
