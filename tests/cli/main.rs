//! Integration tests: every test runs the real `capm` binary in a temporary directory and
//! checks what a user would see — stdout, stderr, the exit code and the files left behind.

mod apply;
mod bad_input;
mod cache;
mod catalog;
mod client_markdown;
mod client_trust;
mod collisions;
mod corpus;
mod docs;
mod exit_codes;
mod explain;
mod export;
#[path = "../common/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;
mod formats_claude;
mod formats_review;
mod formats_server_json;
mod front_matter;
#[path = "../common/git_server.rs"]
mod git_server;
mod git_sources;
mod graph;
mod hosts_and_agents;
#[path = "../common/http_server.rs"]
mod http_server;
mod info_outdated;
mod interactive;
mod io_errors;
mod json_outputs;
mod json_results;
mod launches;
mod launches_review;
mod layers;
mod lint;
mod lint_cases;
mod lint_search;
mod manifest_edits;
mod marketplace;
mod mcp_fields;
#[path = "../common/mcp_fields.rs"]
mod mcp_fields_fixture;
mod mcp_registry;
mod messages;
mod new;
mod oci;
#[path = "../common/oci_registry.rs"]
mod oci_registry;
mod plan;
mod plan_cases;
mod plugin_dirs;
mod plugin_imports;
#[path = "../common/plugins.rs"]
mod plugins_fixture;
mod policy;
mod probe;
mod project_file;
mod read_only;
mod recovery_debris;
mod remote_add;
mod remote_git;
mod remote_oci;
mod remote_registry;
mod rules;
mod sarif;
mod secrets;
mod secrets_review;
mod serve;
mod serve_methods;
mod serve_protocol;
mod serve_review;
mod shipped_files;
mod skill_repos;
mod sparse_registry;
mod substitution;
mod support;
mod targets;
mod targets_codex;
mod targets_gemini;
mod targets_review;
mod targets_show;
mod user_edits;
mod verbosity;
