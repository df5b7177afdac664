//! Conformance with the real claude CLI (see main.rs).
