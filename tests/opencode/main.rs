//! Conformance with the real OpenCode: what capm installs, OpenCode sees as capm rendered
//! it, with no configuration error; what capm refuses, OpenCode would reject or misuse.
//! Each test installs with the real `capm` binary into a temporary project, then asks the
//! real `opencode` binary (see `client.rs`).

mod catalog;
mod client;
mod front_matter;
#[path = "../cli/support.rs"]
#[allow(dead_code)]
mod support;
