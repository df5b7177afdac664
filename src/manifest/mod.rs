//! The files capm reads, as typed values with spans: `bundle.toml`, `capm.toml`,
//! `capm.lock`, and bundle directories as in-memory trees. Nothing here writes or prints.

pub mod bundle;
pub mod common;
pub mod decode;
pub mod dirs;
pub mod lock;
pub mod origin;
pub mod project;
pub use crate::diagnostic::span;
pub mod tree;
