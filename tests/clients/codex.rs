//! Conformance with the real codex CLI (see main.rs).
