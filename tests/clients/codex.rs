//! Conformance with the real codex CLI (see main.rs): what capm installs for `codex`, as
//! Codex itself reads it once the user trusts the project. `codex mcp list --json` shows
//! the entries without connecting; `codex debug prompt-input` renders what the model would
//! see without reaching one: it connects the servers (a server that did not answer has no
//! `mcp__` namespace), lists the skills and the agent roles. Codex has no place for
//! commands, and nothing lists them.

use std::path::Path;

use serde_json::{Value, json};

use crate::conformance::{probe_bundle, run};
use crate::harness::{Sandbox, binary, text};
use crate::http_probe::HttpProbe;

fn codex_home(sb: &Sandbox) -> std::path::PathBuf {
    sb.home().join(".codex")
}

/// Trusts the project the way Codex's trust prompt records it.
fn trust(sb: &Sandbox) {
    std::fs::create_dir_all(codex_home(sb)).unwrap();
    let line = format!(
        "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        sb.project().display()
    );
    std::fs::write(codex_home(sb).join("config.toml"), line).unwrap();
}

/// `codex ARGS` in the project; stdout. Codex warns on stderr that it creates no helper
/// binaries under /tmp, where the sandbox is: tolerated.
fn codex(sb: &Sandbox, bin: &Path, args: &[&str]) -> String {
    let mut cmd = sb.client(bin, args);
    cmd.env("CODEX_HOME", codex_home(sb))
        .env_remove("GITHUB_PERSONAL_ACCESS_TOKEN")
        .env_remove("OPENAI_API_KEY");
    let out = run(cmd);
    assert!(out.status.success(), "codex {args:?}:\n{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The plan's findings with code `code`.
fn findings(sb: &Sandbox, bundle: &str, code: &str) -> usize {
    let out = crate::support::command(
        &sb.project(),
        &["plan", "install", "--format", "json", bundle],
    )
    .env("HOME", sb.home())
    .env("CODEX_HOME", codex_home(sb))
    .output()
    .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .count()
}

#[test]
fn codex_reads_the_probe_bundle_once_trusted() {
    let Some(bin) = binary("CODEX_BIN", "codex_reads_the_probe_bundle_once_trusted") else {
        return;
    };
    let sb = Sandbox::new(&["codex"]);
    let server = HttpProbe::start();
    let bundle = probe_bundle(&sb, &server.url());
    let bundle = bundle.to_str().unwrap();
    std::fs::create_dir_all(codex_home(&sb)).unwrap();
    assert_eq!(findings(&sb, bundle, "client-gate"), 1);
    let untrusted = codex(&sb, &bin, &["mcp", "list", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&untrusted).unwrap(),
        json!([])
    );
    trust(&sb);
    assert_eq!(findings(&sb, bundle, "client-gate"), 0);
    sb.capm(&["add", bundle, "--yes"]);

    let list: Value = serde_json::from_str(&codex(&sb, &bin, &["mcp", "list", "--json"])).unwrap();
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

    let prompt = codex(&sb, &bin, &["debug", "prompt-input", "x"]);
    assert!(prompt.contains("mcp__probe_local"), "{prompt}");
    assert!(prompt.contains("mcp__probe_remote"), "{prompt}");
    assert!(server.called("tools/list"), "{:?}", server.requests());
    assert!(
        prompt.contains("probe-skill: Answers probe questions in conformance tests"),
        "{prompt}"
    );
    assert!(
        prompt.contains(r"probe-agent: {\nReviews probes without editing anything\n}"),
        "{prompt}"
    );
}

#[test]
fn codex_lists_code_review() {
    let Some(bin) = binary("CODEX_BIN", "codex_lists_code_review") else {
        return;
    };
    let sb = Sandbox::new(&["codex"]);
    trust(&sb);
    sb.capm(&["add", "code-review", "--yes"]);
    let list: Value = serde_json::from_str(&codex(&sb, &bin, &["mcp", "list", "--json"])).unwrap();
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
    let prompt = codex(&sb, &bin, &["debug", "prompt-input", "x"]);
    assert!(prompt.contains("- code-review: "), "{prompt}");
    assert!(prompt.contains("- github-operations: "), "{prompt}");
    assert!(
        prompt.contains(r"reviewer: {\nReviews pull requests"),
        "{prompt}"
    );
}
