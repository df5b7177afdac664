//! Conformance with the real codex CLI (see main.rs): what capm installs for `codex`, as
//! Codex itself reads it once the user trusts the project. `codex mcp list --json` shows
//! the entries without connecting; `codex debug prompt-input` renders what the model would
//! see without reaching one: it connects the servers (a server that did not answer has no
//! `mcp__` namespace), lists the skills and the agent roles. Codex has no place for
//! commands, and nothing lists them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{Sandbox, binary, findings, run, text};
use crate::http_probe::HttpProbe;
use crate::probe_bundle::probe_bundle;

/// Codex in a sandbox, with a CODEX_HOME of its own in cargo's target directory, outside
/// /tmp where the checkout allows (under /tmp Codex refuses to create its helper binaries
/// and prints a warning at every call, which the tests ignore).
pub struct Codex<'a> {
    sb: &'a Sandbox,
    home: tempfile::TempDir,
    bin: PathBuf,
}

impl Codex<'_> {
    pub fn new(sb: &Sandbox, bin: PathBuf) -> Codex<'_> {
        let home = tempfile::Builder::new()
            .prefix("codex-home-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        Codex { sb, home, bin }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Trusts the project the way Codex's trust prompt records it.
    pub fn trust(&self) {
        let line = format!(
            "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            self.sb.project().display()
        );
        std::fs::write(self.home().join("config.toml"), line).unwrap();
    }

    /// `codex ARGS` in the project; its stdout.
    pub fn codex(&self, args: &[&str]) -> String {
        let mut cmd = self.sb.client(&self.bin, args);
        cmd.env("CODEX_HOME", self.home())
            .env_remove("GITHUB_PERSONAL_ACCESS_TOKEN")
            .env_remove("OPENAI_API_KEY");
        let out = run(cmd);
        assert!(out.status.success(), "codex {args:?}:\n{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// `capm ARGS` in the project, seeing this CODEX_HOME.
    fn capm(&self, args: &[&str]) -> Command {
        let mut cmd = crate::support::command(&self.sb.project(), args);
        cmd.env("HOME", self.sb.home())
            .env("CODEX_HOME", self.home());
        cmd
    }

    fn add(&self, bundle: &str) {
        let out = run(self.capm(&["add", bundle, "--yes"]));
        assert!(out.status.success(), "capm add {bundle}:\n{}", text(&out));
    }

    /// How many of the plan's findings have code `code`.
    fn findings(&self, bundle: &str, code: &str) -> usize {
        findings(
            self.capm(&["plan", "install", "--format", "json", bundle]),
            code,
        )
    }
}

#[test]
fn codex_reads_the_probe_bundle_once_trusted() {
    let Some(bin) = binary("CODEX_BIN", "codex_reads_the_probe_bundle_once_trusted") else {
        return;
    };
    let sb = &Sandbox::new(&["codex"]);
    let cx = Codex::new(sb, bin);
    let server = HttpProbe::start();
    let bundle = probe_bundle(sb, &server.url());
    let bundle = bundle.to_str().unwrap();
    assert_eq!(cx.findings(bundle, "client-gate"), 1);
    cx.add(bundle);
    // Installed, but Codex reads none of it until the project is trusted.
    let untrusted = cx.codex(&["mcp", "list", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&untrusted).unwrap(),
        json!([])
    );
    cx.trust();
    assert_eq!(cx.findings(bundle, "client-gate"), 0);

    let list: Value = serde_json::from_str(&cx.codex(&["mcp", "list", "--json"])).unwrap();
    let by_name = |n: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == n)
            .unwrap_or_else(|| panic!("{n} not in {list}"))["transport"]
            .clone()
    };
    let local = by_name("probe-local");
    assert_eq!(local["type"], "stdio");
    assert_eq!(local["command"], "node");
    assert_eq!(local["args"], json!([sb.probe_js().to_str().unwrap()]));
    assert_eq!(local["env_vars"], json!(["PROBE_TOKEN"]));
    assert_eq!(local["env"], Value::Null);
    let remote = by_name("probe-remote");
    assert_eq!(remote["type"], "streamable_http");
    assert_eq!(remote["url"], server.url());
    assert_eq!(remote["bearer_token_env_var"], "PROBE_TOKEN");
    assert_eq!(remote["http_headers"], Value::Null);

    let prompt = cx.codex(&["debug", "prompt-input", "x"]);
    assert!(prompt.contains("mcp__probe_local"), "{prompt}");
    assert!(prompt.contains("mcp__probe_remote"), "{prompt}");
    assert!(server.called("tools/list"), "{:?}", server.requests());
    assert!(
        prompt.contains("probe-skill: Probe skill seen by the client"),
        "{prompt}"
    );
    assert!(
        prompt.contains(r"probe-agent: {\nProbe agent that answers probe\n}"),
        "{prompt}"
    );
}

#[test]
fn codex_lists_code_review() {
    let Some(bin) = binary("CODEX_BIN", "codex_lists_code_review") else {
        return;
    };
    let sb = Sandbox::new(&["codex"]);
    let cx = Codex::new(&sb, bin);
    cx.trust();
    cx.add("code-review");
    reads_code_review(&cx);
}

/// What Codex reads of the code-review kit in a trusted project.
pub fn reads_code_review(cx: &Codex) {
    let list: Value = serde_json::from_str(&cx.codex(&["mcp", "list", "--json"])).unwrap();
    let github = &list[0];
    assert_eq!(github["name"], "github", "{list}");
    assert_eq!(
        github["transport"]["url"],
        "https://api.githubcopilot.com/mcp/"
    );
    assert_eq!(
        github["transport"]["bearer_token_env_var"],
        "GITHUB_PERSONAL_ACCESS_TOKEN"
    );
    // The token is unset, so Codex does not start the server: nothing reaches GitHub.
    let prompt = cx.codex(&["debug", "prompt-input", "x"]);
    assert!(prompt.contains("- code-review: "), "{prompt}");
    assert!(prompt.contains("- github-operations: "), "{prompt}");
    assert!(
        prompt.contains(r"reviewer: {\nReviews pull requests"),
        "{prompt}"
    );
}
