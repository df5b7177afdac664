//! Conformance with the real OpenCode: what capm installs, OpenCode sees as capm rendered
//! it, with no configuration error; what capm refuses, OpenCode would reject or misuse.
//! Each test installs with the real `capm` binary into a temporary project, then asks the
//! real `opencode` binary (see `client.rs`).

mod catalog;
mod claude_plugin;
mod client;
mod collisions;
mod front_matter;
#[path = "../common/mcp_fields.rs"]
mod mcp_fields_fixture;
mod plugins;
#[path = "../common/plugins.rs"]
mod plugins_fixture;
mod probe;
mod rendering;
mod skill_repos;
mod substitution;
#[path = "../cli/support.rs"]
#[allow(dead_code)]
mod support;
