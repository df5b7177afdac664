//! Every MCP field capm renders, as OpenCode 1.18.33 reads it: `cwd`, `timeout`, `enabled`
//! and `oauth` reach `opencode debug config` as capm wrote them, and the file capm writes
//! validates against the `Config` schema of OpenCode's own OpenAPI document (`/doc`).

use serde_json::{Value, json};

use crate::client::OpenCode;
use crate::mcp_fields_fixture::{BUNDLE, with_bundle};
use crate::support::capm_with;

const ENV: [(&str, &str); 2] = [
    ("EXAMPLE_CLIENT_ID", "client-123"),
    ("EXAMPLE_CLIENT_SECRET", "secret-456"),
];

/// The project with the `fields` bundle installed by capm.
fn installed() -> tempfile::TempDir {
    let dir = with_bundle(BUNDLE);
    let d = dir.path();
    let run = capm_with(d, &["install", "--yes"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    dir
}

#[test]
fn opencode_reads_every_rendered_mcp_field_as_capm_wrote_it() {
    let Some(oc) = OpenCode::found("opencode_reads_every_rendered_mcp_field_as_capm_wrote_it")
    else {
        return;
    };
    let dir = installed();
    let d = dir.path();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("opencode.json")).unwrap()).unwrap();
    let secret = &written["mcp"]["remote-tool"]["oauth"]["clientSecret"];
    assert_eq!(secret, "{env:EXAMPLE_CLIENT_SECRET}", "{written:#}");

    let config = oc.config(d, &ENV);
    let mcp = &config["mcp"];
    assert_eq!(
        mcp["local-tool"], written["mcp"]["local-tool"],
        "{config:#}"
    );
    assert_eq!(mcp["local-tool"]["cwd"], "tools");
    assert_eq!(mcp["local-tool"]["timeout"], 120000);
    assert_eq!(mcp["local-tool"]["enabled"], false);
    // OpenCode expands the references capm wrote in place of the client's credentials; it
    // shows the secret masked.
    assert_eq!(
        mcp["remote-tool"],
        json!({
            "type": "remote", "url": "https://mcp.example.com/mcp", "enabled": true,
            "timeout": 45000,
            "oauth": {"clientId": "client-123", "clientSecret": "***", "scope": "read write"}
        }),
        "{config:#}"
    );
    assert_eq!(mcp["no-oauth"]["oauth"], false, "{config:#}");
}

#[test]
fn the_rendered_config_validates_against_opencodes_schema() {
    let Some(oc) = OpenCode::found("the_rendered_config_validates_against_opencodes_schema") else {
        return;
    };
    let dir = installed();
    let d = dir.path();
    let doc = oc.openapi(d);
    assert!(doc["info"]["version"].is_string(), "{}", doc["info"]);
    // The whole document, entered at its `Config` type, so its `$ref`s resolve.
    let mut schema = doc.clone();
    schema["$ref"] = json!("#/components/schemas/Config");
    let validator = jsonschema::validator_for(&schema).expect("OpenCode's schema compiles");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("opencode.json")).unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&written)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{written:#}");
    // The schema is strict enough to notice a field OpenCode does not take.
    let mut wrong = written.clone();
    wrong["mcp"]["local-tool"]["transport"] = json!("stdio");
    assert!(!validator.is_valid(&wrong));
}
