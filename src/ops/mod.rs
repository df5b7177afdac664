//! Library operations, one per command: each takes an options struct and returns a value
//! for the CLI to print. They never print and never decide exit codes.

pub mod lint;
pub mod new;
