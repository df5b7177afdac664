//! capm: a package manager for capability bundles (MCP servers, skills, plugins, agents and
//! commands) for the OpenCode agent runtime.
//!
//! The pipeline is the layout: [`manifest`] reads files into typed values, [`validate`]
//! checks them and collects [`diagnostic`]s, [`ops`] are the library operations each command
//! calls, and [`cli`] is the only code that knows the terminal and the wire formats.

pub mod apply;
pub mod catalog;
pub mod cli;
pub mod diagnostic;
pub mod formats;
pub mod graph;
pub mod manifest;
#[cfg(test)]
mod mutation;
pub mod operation;
pub mod ops;
pub mod plan;
pub mod probe;
pub mod remote;
pub mod security;
pub mod synthetic;
pub mod target;
pub mod validate;
