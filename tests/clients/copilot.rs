//! Conformance with the real copilot CLI (see main.rs).
