//! Conformance with the real agent clients besides OpenCode (tests/opencode/ asks OpenCode):
//! capm installs into a project whose capm.toml targets the client, then the client's own
//! CLI, installed from npm by `.ci/run` at the version pinned there, says what it sees. Each
//! module is one client, and `all.rs` all of them in one project; `harness.rs` finds the
//! binaries, isolates HOME and runs them with a time limit, `probe_bundle.rs` writes the
//! bundle they read, `http_probe.rs` serves its remote MCP server and `stand_in_model.rs`
//! the model endpoint of the clients whose sessions show what they loaded.

mod all;
mod claude;
mod codex;
mod copilot;
mod gemini;
mod harness;
mod http_probe;
mod local_http;
#[path = "../opencode/client.rs"]
#[allow(dead_code)]
mod opencode;
mod probe_bundle;
mod qwen;
mod stand_in_model;
#[path = "../cli/support.rs"]
#[allow(dead_code)]
mod support;
