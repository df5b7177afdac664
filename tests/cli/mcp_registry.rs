//! An MCP Registry (its REST API v0.1, served by a std HTTP server on 127.0.0.1) as a
//! registry of capm.toml: servers install by their bundle names, capm.lock pins the
//! document, `--offline` installs from the cache, and a document changed behind the lock
//! is refused.

use std::path::Path;

use crate::http_server::{Fault, TestServer};
use crate::support::{capm, project, tree, write_files};

const SEARCH: &str = "/v0.1/servers?search=weather&version=latest&limit=100";
const VERSIONS: &str = "v0.1/servers/io.github.acme%2Fweather/versions";

/// A server.json of `io.github.acme/weather` at `version` running `identifier@pin`.
pub fn server(version: &str, pin: &str, status: &str) -> serde_json::Value {
    serde_json::json!({
        "server": {
            "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            "name": "io.github.acme/weather",
            "description": "Weather data",
            "version": version,
            "packages": [{
                "registryType": "npm", "identifier": "@acme/weather-mcp", "version": pin,
                "transport": {"type": "stdio"},
                "environmentVariables": [{"name": "OWM_API_KEY", "isSecret": true, "isRequired": true}]
            }]
        },
        "_meta": {"io.modelcontextprotocol.registry/official": {"status": status, "isLatest": false}}
    })
}

/// Serves the registry whose versions endpoint lists `servers`.
pub fn registry(d: &Path, servers: &[serde_json::Value]) -> TestServer {
    let list = serde_json::json!({"servers": servers, "metadata": {"count": servers.len()}});
    write_files(d, &[(&format!("reg/{VERSIONS}"), &list.to_string())]);
    let srv = TestServer::serve_dir(&d.join("reg"));
    let search = serde_json::json!({"servers": [servers[0].clone()], "metadata": {"count": 1}});
    srv.fault(SEARCH, Fault::Replace(search.to_string().into_bytes()));
    srv
}

/// A project asking for `io-github-acme-weather` at `req` from the registry at `url`.
fn ask(d: &Path, url: &str, req: &str) {
    let toml = format!(
        "[registries]\nmcp = {{ mcp-registry = \"{url}\" }}\n\n\
         [bundles]\nio-github-acme-weather = {{ version = \"{req}\", registry = \"mcp\" }}\n"
    );
    write_files(d, &[("capm.toml", &toml)]);
}

fn command(d: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(d.join("opencode.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    config["mcp"]["weather"].clone()
}

/// The project's files, capm's cache left out.
fn project_files(d: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = tree(d);
    files.retain(|k, _| !k.starts_with(".no-user-cache"));
    files
}

/// `capm ARGS` exits 1 saying `expected`, and writes nothing in the project.
fn refused(d: &Path, args: &[&str], expected: &str) {
    let before = project_files(d);
    let run = capm(d, args);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(expected), "{}", run.stderr);
    assert_eq!(project_files(d), before, "nothing is written");
}

#[test]
fn a_server_installs_by_its_bundle_name_and_the_lock_pins_its_document() {
    let dir = project();
    let d = dir.path();
    let srv = registry(
        d,
        &[
            server("1.3.0", "1.3.0", "deleted"),
            server("1.2.0", "1.2.0", "active"),
            server("1.1.0", "1.1.0", "active"),
        ],
    );
    ask(d, &srv.url(), "^1");
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let mcp = command(d);
    assert_eq!(
        mcp["command"],
        serde_json::json!(["npx", "-y", "@acme/weather-mcp@1.2.0"])
    );
    assert_eq!(mcp["environment"]["OWM_API_KEY"], "{env:OWM_API_KEY}");
    let lock: toml::Table = std::fs::read_to_string(d.join("capm.lock"))
        .unwrap()
        .parse()
        .unwrap();
    let b = &lock["bundle"].as_array().unwrap()[0];
    assert_eq!(b["name"].as_str(), Some("io-github-acme-weather"));
    assert_eq!(b["version"].as_str(), Some("1.2.0"));
    assert!(b["archive"].as_str().unwrap().starts_with("sha256:"), "{b}");

    // Offline, with the server gone: the cache answers.
    drop(srv);
    std::fs::remove_file(d.join("opencode.json")).unwrap();
    std::fs::remove_file(d.join("capm.lock")).unwrap();
    let run = capm(d, &["install", "-y", "--offline"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(command(d)["command"][2], "@acme/weather-mcp@1.2.0");
}

#[test]
fn an_unpinned_package_in_the_registry_is_blocked_by_sc_001() {
    let dir = project();
    let d = dir.path();
    let mut unpinned = server("1.0.0", "x", "active");
    unpinned["server"]["packages"][0]
        .as_object_mut()
        .unwrap()
        .remove("version");
    let srv = registry(d, &[unpinned]);
    ask(d, &srv.url(), "^1");
    refused(d, &["install", "-y"], "error[SC-001]");
}

#[test]
fn a_document_changed_behind_the_lock_is_refused() {
    let dir = project();
    let d = dir.path();
    let srv = registry(d, &[server("1.2.0", "1.2.0", "active")]);
    ask(d, &srv.url(), "^1");
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list = serde_json::json!({"servers": [server("1.2.0", "6.6.6", "active")]});
    srv.fault(
        &format!("/{VERSIONS}"),
        Fault::Replace(list.to_string().into_bytes()),
    );
    let expected = "error[SC-002]: io-github-acme-weather 1.2.0";
    refused(d, &["install", "-y", "--locked"], expected);
}

#[test]
fn add_takes_a_server_name_from_the_registry_and_records_its_bundle_name() {
    let dir = project();
    let d = dir.path();
    let srv = registry(d, &[server("1.2.0", "1.2.0", "active")]);
    let toml = format!(
        "[registries]\nmcp = {{ mcp-registry = \"{}\" }}\n\n[bundles]\n",
        srv.url()
    );
    write_files(d, &[("capm.toml", &toml)]);
    let run = capm(
        d,
        &["add", "io.github.acme/weather", "--registry", "mcp", "-y"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let capm_toml = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert!(
        capm_toml.contains("io-github-acme-weather = { version = \"^1.2.0\", registry = \"mcp\" }"),
        "{capm_toml}"
    );
    assert_eq!(command(d)["command"][2], "@acme/weather-mcp@1.2.0");
    let unknown = capm(
        d,
        &["add", "io.github.acme/nothing", "--registry", "mcp", "-y"],
    );
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("io-github-acme-nothing"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn search_lists_the_newest_version_of_each_server_and_a_bare_name_resolves() {
    let dir = project();
    let d = dir.path();
    let srv = registry(d, &[server("1.2.0", "1.2.0", "active")]);
    let page = serde_json::json!({"servers": [server("1.2.0", "1.2.0", "active")]});
    let list = "/v0.1/servers?version=latest&limit=100";
    srv.fault(list, Fault::Replace(page.to_string().into_bytes()));
    let toml = format!(
        "[registries]\nmcp = {{ mcp-registry = \"{}\" }}\n\n[bundles]\n",
        srv.url()
    );
    write_files(d, &[("capm.toml", &toml)]);
    let run = capm(d, &["search", "weather"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("io-github-acme-weather"),
        "{}",
        run.stdout
    );
    let run = capm(d, &["add", "io-github-acme-weather", "-y"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(command(d)["command"][2], "@acme/weather-mcp@1.2.0");
}
