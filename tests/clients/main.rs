//! Conformance with the real agent clients besides OpenCode (tests/opencode/ asks OpenCode):
//! capm installs into a project whose capm.toml targets the client, then the client's own
//! CLI, installed from npm by `.ci/run` at the version pinned there, says what it sees. Each
//! module is one client; `harness.rs` finds the binaries, isolates HOME and serves the test
//! MCP servers.

mod claude;
mod codex;
mod conformance;
mod copilot;
mod gemini;
mod harness;
mod http_probe;
mod mcp_http;
mod qwen;
#[path = "../cli/support.rs"]
#[allow(dead_code)]
mod support;
