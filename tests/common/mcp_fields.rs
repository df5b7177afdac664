//! A path bundle `fields` whose servers set every MCP field OpenCode takes beyond the launch
//! (`cwd`, `timeout`, `enabled`, `oauth`), and a project that asks for it.

use super::support::{project, write_files};

pub const BUNDLE: &str = r#"[bundle]
name = "fields"
version = "1.0.0"
description = "Servers with every field OpenCode takes"
license = "MIT"

[compatibility.product-modes]
desktop-local = "supported"

[mcp.local-tool]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-memory@2025.4.25"]
cwd = "tools"
timeout = 120000
enabled = false

[mcp.remote-tool]
url = "https://mcp.example.com/mcp"
timeout = 45000
oauth = { client-id = { from-env = "EXAMPLE_CLIENT_ID" }, client-secret = { from-env = "EXAMPLE_CLIENT_SECRET" }, scope = "read write" }

[mcp.no-oauth]
url = "https://mcp.example.org/mcp"
oauth = false
"#;

/// A project asking for the bundle `fields` at `fields/`, written from `manifest`.
pub fn with_bundle(manifest: &str) -> tempfile::TempDir {
    let dir = project();
    let d = dir.path();
    write_files(d, &[("fields/bundle.toml", manifest)]);
    let path = d.join("capm.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("fields = { path = \"fields\" }\n");
    std::fs::write(path, text).unwrap();
    dir
}
