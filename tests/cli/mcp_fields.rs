//! The MCP fields OpenCode takes beyond the launch (`cwd`, `timeout`, `enabled`, `oauth`):
//! refused when malformed, rendered as written, and a change to one is an update.

use std::path::Path;

use crate::mcp_fields_fixture::{BUNDLE, with_bundle};
use crate::support::{capm, tree};

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

const BAD: &str = r#"
[mcp.local]
command = "npx"
args = ["-y", "x@1.0.0"]
timeout = 0
oauth = false

[mcp.remote]
url = "https://mcp.example.com/mcp"
timeout = "30s"
oauth = { client-id = "abc", client-secret = "hunter2", scope = "read" }

[mcp.other]
url = "https://mcp.example.com/other"
timeout = 2147483648
oauth = true
"#;

#[test]
fn malformed_fields_and_a_literal_client_secret_are_refused() {
    let head = BUNDLE.split("[mcp.local-tool]").next().unwrap();
    let dir = with_bundle(&format!("{head}{BAD}"));
    let d = dir.path();
    let before = tree(d);
    let lint = capm(d, &["lint", "fields"]);
    assert_eq!(lint.code, 1, "{}", lint.stderr);
    for message in [
        "error[invalid-type]: `mcp.local.timeout` must be from 1 to 2147483647 (milliseconds)",
        "error[invalid-mcp-launch]: `oauth` applies to remote servers only",
        "error[invalid-type]: `mcp.remote.timeout` must be an integer (milliseconds), found a string",
        "error[invalid-env-value]: `mcp.remote.oauth.client-secret` must be `{ from-env = \"VAR\" }`",
        "error[invalid-type]: `mcp.other.timeout` must be from 1 to 2147483647 (milliseconds)",
        "error[invalid-type]: `mcp.other.oauth` is `false` or a table",
    ] {
        assert!(lint.stderr.contains(message), "{message}\n{}", lint.stderr);
    }
    let install = capm(d, &["install", "--yes"]);
    assert_eq!(install.code, 1, "{}", install.stderr);
    assert_eq!(tree(d), before, "nothing is written");
}

#[test]
fn every_field_is_rendered_and_the_secret_stays_a_reference() {
    let dir = with_bundle(BUNDLE);
    let d = dir.path();
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("EXAMPLE_CLIENT_SECRET (secret): mcp:remote-tool"),
        "{}",
        run.stdout
    );
    let config: serde_json::Value = serde_json::from_str(&read(d, "opencode.json")).unwrap();
    assert_eq!(
        config["mcp"]["local-tool"],
        serde_json::json!({
            "type": "local",
            "command": ["npx", "-y", "@modelcontextprotocol/server-memory@2025.4.25"],
            "cwd": "tools", "enabled": false, "timeout": 120000
        })
    );
    assert_eq!(
        config["mcp"]["remote-tool"],
        serde_json::json!({
            "type": "remote", "url": "https://mcp.example.com/mcp", "enabled": true,
            "timeout": 45000,
            "oauth": {
                "clientId": "{env:EXAMPLE_CLIENT_ID}",
                "clientSecret": "{env:EXAMPLE_CLIENT_SECRET}",
                "scope": "read write"
            }
        })
    );
}

#[test]
fn a_changed_timeout_or_scope_is_an_update() {
    let dir = with_bundle(BUNDLE);
    let d = dir.path();
    assert_eq!(capm(d, &["install", "--yes"]).code, 0);
    let changed = BUNDLE
        .replace("timeout = 120000", "timeout = 90000")
        .replace("scope = \"read write\"", "scope = \"read\"");
    std::fs::write(d.join("fields/bundle.toml"), changed).unwrap();
    let plan = capm(d, &["install", "--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    for line in [
        "update   mcp:local-tool   opencode.json /mcp/local-tool",
        "update   mcp:remote-tool  opencode.json /mcp/remote-tool",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config: serde_json::Value = serde_json::from_str(&read(d, "opencode.json")).unwrap();
    assert_eq!(config["mcp"]["local-tool"]["timeout"], 90000);
    assert_eq!(config["mcp"]["remote-tool"]["oauth"]["scope"], "read");
}
