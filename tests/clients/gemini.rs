//! Conformance with the real gemini CLI (see main.rs).
