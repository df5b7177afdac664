//! Conformance with the real qwen CLI (see main.rs).
