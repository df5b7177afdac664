//! Integration tests: every test runs the real `capm` binary in a temporary directory and
//! checks what a user would see — stdout, stderr, the exit code and the files left behind.

mod apply;
mod bad_input;
mod catalog;
mod docs;
mod exit_codes;
mod explain;
#[path = "../common/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;
mod front_matter;
mod graph;
mod info_outdated;
mod interactive;
mod io_errors;
mod json_outputs;
mod json_results;
mod lint;
mod lint_cases;
mod messages;
mod new;
mod plan;
mod plan_cases;
mod policy;
mod project_file;
mod read_only;
mod rules;
mod sarif;
mod serve;
mod support;
mod user_edits;
mod verbosity;
