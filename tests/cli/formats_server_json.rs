//! MCP Registry `server.json` documents as bundles: each package kind and remotes become the
//! OpenCode server a user of the registry would expect, secrets come from the environment,
//! and every finding points into server.json.

use std::path::Path;

use crate::support::{capm, project, repo, tree, write_files};

/// Copies fixture `name` of `tests/fixtures/server-json/` to `to` below the project.
fn fixture(d: &Path, name: &str, to: &str) {
    let from = repo().join("tests/fixtures/server-json").join(name);
    crate::support::copy_dir(&from, &d.join(to));
}

/// `capm add ./DIR -y`, which must succeed; then opencode.json's `mcp.SERVER`.
fn installed(d: &Path, dir: &str, server: &str) -> serde_json::Value {
    let run = capm(d, &["add", &format!("./{dir}"), "-y"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let text = std::fs::read_to_string(d.join("opencode.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    config["mcp"][server].clone()
}

fn lock(d: &Path) -> toml::Table {
    std::fs::read_to_string(d.join("capm.lock"))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn an_npm_package_runs_pinned_with_secrets_from_the_environment() {
    let dir = project();
    let d = dir.path();
    fixture(d, "npm", "weather");
    let mcp = installed(d, "weather", "weather");
    assert_eq!(mcp["type"], "local");
    assert_eq!(
        mcp["command"],
        serde_json::json!(["npx", "-y", "@acme/weather-mcp@1.2.0", "--units=metric"])
    );
    let env = &mcp["environment"];
    assert_eq!(env["OWM_API_KEY"], "{env:OWM_API_KEY}");
    assert_eq!(env["OWM_REGION"], "eu");
    assert_eq!(env["OWM_DEBUG"], "{env:OWM_DEBUG}");
    let capm_toml = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert!(
        capm_toml.contains("io-github-acme-weather = { path = \"weather\" }"),
        "{capm_toml}"
    );
    let lock = lock(d);
    let bundle = &lock["bundle"].as_array().unwrap()[0];
    assert_eq!(bundle["name"].as_str(), Some("io-github-acme-weather"));
    assert_eq!(bundle["version"].as_str(), Some("1.2.0"));
}

#[test]
fn a_pypi_package_runs_with_uvx_and_its_arguments_in_place() {
    let dir = project();
    let d = dir.path();
    fixture(d, "pypi", "notes");
    let mcp = installed(d, "notes", "notes");
    assert_eq!(
        mcp["command"],
        serde_json::json!([
            "uvx",
            "--python=3.12",
            "acme-notes-mcp@0.4.1",
            "--db=./notes.db"
        ])
    );
    assert_eq!(mcp["environment"]["NOTES_TOKEN"], "{env:NOTES_TOKEN}");
}

#[test]
fn an_oci_image_runs_in_docker_when_no_earlier_package_can_run() {
    let dir = project();
    let d = dir.path();
    fixture(d, "oci", "search");
    let mcp = installed(d, "search", "search");
    assert_eq!(
        mcp["command"],
        serde_json::json!([
            "docker",
            "run",
            "-i",
            "--rm",
            "-e",
            "SEARCH_KEY",
            "ghcr.io/acme/search:2.0.0@sha256:4f1d0c3f0e9a7f4c0f2d5b8a6e3c1d9b7a5f3e1c9d7b5a3f1e9c7d5b3a1f9e7d"
        ])
    );
    assert_eq!(mcp["environment"]["SEARCH_KEY"], "{env:SEARCH_KEY}");
}

#[test]
fn a_remote_gets_its_url_variables_and_headers_from_the_environment() {
    let dir = project();
    let d = dir.path();
    fixture(d, "remote", "forecast");
    let mcp = installed(d, "forecast", "forecast");
    assert_eq!(mcp["type"], "remote");
    assert_eq!(mcp["url"], "https://eu.forecast.acme.example/mcp");
    let headers = &mcp["headers"];
    assert_eq!(headers["Authorization"], "Bearer {env:TOKEN}");
    assert_eq!(headers["X-Client"], "capm");
    assert_eq!(headers["X-Api-Key"], "{env:X_API_KEY}");
}

/// `capm lint DIR` of a fixture: exit 1, and the transcript.
fn refused_lint(name: &str) -> String {
    let dir = crate::support::tempdir();
    let d = dir.path();
    fixture(d, name, name);
    let run = capm(d, &["lint", name]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    run.transcript()
}

#[test]
fn a_package_without_a_version_is_refused_by_sc_001_in_server_json() {
    insta::assert_snapshot!(refused_lint("unpinned"));
    let dir = project();
    let d = dir.path();
    fixture(d, "unpinned", "loose");
    let before = tree(d);
    let run = capm(d, &["add", "./loose", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("SC-001"), "{}", run.stderr);
    assert_eq!(tree(d), before, "nothing is written");
}

#[test]
fn the_first_schema_is_refused_clearly() {
    insta::assert_snapshot!(refused_lint("legacy"));
}

#[test]
fn nothing_installable_is_fmt_002_for_each_package_and_remote() {
    insta::assert_snapshot!(refused_lint("nuget"));
}

#[test]
fn a_required_argument_without_a_value_is_an_error_at_the_argument() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let doc = r#"{
  "name": "io.github.acme/files",
  "description": "Files",
  "version": "1.0.0",
  "packages": [{
    "registryType": "npm", "identifier": "files-mcp", "version": "1.0.0",
    "transport": { "type": "stdio" },
    "packageArguments": [{ "type": "positional", "valueHint": "root_dir", "isRequired": true }]
  }]
}
"#;
    write_files(d, &[("files/server.json", doc)]);
    let run = capm(d, &["lint", "files/server.json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    insta::assert_snapshot!(run.transcript());
}
