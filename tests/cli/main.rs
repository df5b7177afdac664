//! Integration tests: every test runs the real `capm` binary in a temporary directory and
//! checks what a user would see — stdout, stderr, the exit code and the files left behind.

mod apply;
mod bad_input;
mod catalog;
mod exit_codes;
mod explain;
mod graph;
mod interactive;
mod io_errors;
mod json_outputs;
mod lint;
mod lint_cases;
mod messages;
mod new;
mod plan;
mod plan_cases;
mod policy;
mod rules;
mod serve;
mod support;
mod verbosity;
