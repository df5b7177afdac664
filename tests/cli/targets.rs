//! A project with several agent clients (`[project] targets`): capm.toml's mistakes about
//! them, the files written for Cursor and VS Code checked against those clients' own
//! schemas, one plan across clients (shared places, warnings, conflicts), and a round trip
//! through every client's config that gives the user's files back byte for byte.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::{ALL_CLIENTS, Run, capm, project, project_with_bundle, tree, write_files};

/// Replaces capm.toml's `target = "opencode"` with `targets = [TARGETS]` (each quoted).
fn set_targets(d: &Path, targets: &[&str]) {
    let list: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
    replace_in(d, "capm.toml", |text| {
        let line = text
            .lines()
            .find(|l| l.starts_with("target = ") || l.starts_with("targets = "))
            .expect("capm.toml names its client")
            .to_string();
        text.replace(&line, &format!("targets = [{}]", list.join(", ")))
    });
}

fn replace_in(d: &Path, file: &str, edit: impl FnOnce(&str) -> String) {
    let text = std::fs::read_to_string(d.join(file)).unwrap();
    std::fs::write(d.join(file), edit(&text)).unwrap();
}

fn read_json(d: &Path, file: &str) -> Value {
    let text = std::fs::read_to_string(d.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}\n{text}"))
}

/// The project's files, without the scratch homes the tests point the clients at.
fn files(d: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(d)
        .into_iter()
        .filter(|(k, _)| !k.starts_with(".no-user-"))
        .collect()
}

fn codes(doc: &Value) -> Vec<String> {
    doc["plan"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// The plan's actions as (resource, file, clients).
fn actions(doc: &Value) -> Vec<(String, String, Vec<String>)> {
    doc["plan"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let clients = a["clients"]
                .as_array()
                .map(|c| c.iter().map(|s| s.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            (
                a["resource"].as_str().unwrap().to_string(),
                a["target"]["file"].as_str().unwrap().to_string(),
                clients,
            )
        })
        .collect()
}

/// The plan's first blocked action.
fn blocked(doc: &Value) -> &Value {
    doc["plan"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "block")
        .unwrap_or_else(|| panic!("nothing blocked: {doc:#}"))
}

fn dry_run(d: &Path, bundle: &str) -> (Run, Value) {
    let run = capm(d, &["add", bundle, "--dry-run", "--format", "json"]);
    let doc = run.json();
    (run, doc)
}

// --- capm.toml's `targets` ---------------------------------------------------------------

/// `capm install` in a project whose `[project]` table is `project`: refused with exit 1,
/// nothing written; the transcript for the snapshot.
fn refused_project(project_table: &str) -> String {
    let dir = project();
    let d = dir.path();
    replace_in(d, "capm.toml", |text| {
        let start = text.find("[project]").unwrap();
        let end = text.find("[bundles]").unwrap();
        format!("{}{project_table}\n{}", &text[..start], &text[end..])
    });
    let before = files(d);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(files(d), before, "a refused capm.toml wrote something");
    run.transcript()
}

#[test]
fn mistakes_in_targets_are_refused_and_write_nothing() {
    let cases = [
        ("an_empty_targets_list_is_refused", "targets = []"),
        (
            "a_client_named_twice_is_refused",
            "targets = [\"opencode\", \"cursor\", \"opencode\"]",
        ),
        (
            "target_and_targets_together_are_refused",
            "target = \"opencode\"\ntargets = [\"opencode\", \"vscode\"]",
        ),
        (
            "an_unknown_client_is_refused",
            "targets = [\"opencode\", \"crush\"]",
        ),
        (
            "global_scope_with_another_client_than_opencode_is_refused",
            "targets = [\"opencode\", \"claude-code\"]\nscope = \"global\"",
        ),
    ];
    for (name, table) in cases {
        insta::assert_snapshot!(name, refused_project(&format!("[project]\n{table}\n")));
    }
}

// --- Cursor's and VS Code's files against their schemas --------------------------------

/// A stdio server with a secret and a plain variable, a Streamable HTTP server with a
/// bearer token and an SSE server with a header.
const THREE_SERVERS: &str = r#"[mcp.local]
command = "npx"
args = ["-y", "local-mcp@1.0.0", "--stdio"]
env.LOCAL_TOKEN = { from-env = "LOCAL_TOKEN", secret = true, required = true }
env.LOCAL_LEVEL = "info"

[mcp.remote]
url = "https://mcp.example.com/mcp"
transport = "streamable-http"
headers.Authorization = { template = "Bearer {env:REMOTE_TOKEN}", secret = true, required = true }

[mcp.events]
url = "https://events.example.com/sse"
transport = "sse"
headers.X-Api-Key = { from-env = "EVENTS_KEY", secret = true, required = true }
"#;

fn validator(schema: &str) -> jsonschema::Validator {
    let path = crate::support::repo()
        .join("tests/fixtures/clients")
        .join(schema);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is valid")
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{what}: {errors:?}\n{doc:#}");
}

/// The three servers installed for Cursor and VS Code.
fn cursor_and_vscode_files() -> (Value, Value) {
    let dir = project_with_bundle(THREE_SERVERS);
    let d = dir.path();
    set_targets(d, &["cursor", "vscode"]);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    (
        read_json(d, ".cursor/mcp.json"),
        read_json(d, ".vscode/mcp.json"),
    )
}

#[test]
fn cursor_and_vscode_files_match_their_schemas_with_secrets_as_env_references() {
    let (cursor, vscode) = cursor_and_vscode_files();
    assert_valid(&validator("cursor-mcp.schema.json"), &cursor, "Cursor");
    assert_valid(&validator("vscode-mcp.schema.json"), &vscode, "VS Code");
    for (doc, key) in [(&cursor, "mcpServers"), (&vscode, "servers")] {
        let servers = &doc[key];
        assert_eq!(servers["local"]["type"], "stdio");
        assert_eq!(servers["local"]["command"], "npx");
        assert_eq!(servers["local"]["env"]["LOCAL_TOKEN"], "${env:LOCAL_TOKEN}");
        assert_eq!(servers["local"]["env"]["LOCAL_LEVEL"], "info");
        assert_eq!(servers["remote"]["type"], "http");
        assert_eq!(
            servers["remote"]["headers"]["Authorization"],
            "Bearer ${env:REMOTE_TOKEN}"
        );
        assert_eq!(servers["events"]["type"], "sse");
        assert_eq!(
            servers["events"]["headers"]["X-Api-Key"],
            "${env:EVENTS_KEY}"
        );
    }
    // Secrets are read from the environment, never prompted for: no `inputs` are written.
    assert!(vscode.get("inputs").is_none(), "{vscode:#}");
}

#[test]
fn the_schemas_refuse_shapes_the_clients_do_not_read() {
    let (cursor, vscode) = cursor_and_vscode_files();
    let cursor_schema = validator("cursor-mcp.schema.json");
    let vscode_schema = validator("vscode-mcp.schema.json");
    // VS Code keeps servers under `servers`; Claude Code's `mcpServers` is not its key.
    let mut wrong = vscode.clone();
    let servers = wrong.as_object_mut().unwrap().remove("servers").unwrap();
    wrong["mcpServers"] = servers;
    assert!(!vscode_schema.is_valid(&wrong), "{wrong:#}");
    // OpenCode's shape: a command array and `type: local`.
    let mut wrong = vscode.clone();
    wrong["servers"]["local"]["type"] = "local".into();
    wrong["servers"]["local"]["command"] = serde_json::json!(["npx", "-y"]);
    assert!(!vscode_schema.is_valid(&wrong), "{wrong:#}");
    // Gemini CLI's `httpUrl` is neither client's.
    for (schema, doc, key) in [
        (&cursor_schema, &cursor, "mcpServers"),
        (&vscode_schema, &vscode, "servers"),
    ] {
        let mut wrong = doc.clone();
        let remote = wrong[key]["remote"].as_object_mut().unwrap();
        let url = remote.remove("url").unwrap();
        remote.insert("httpUrl".into(), url);
        assert!(!schema.is_valid(&wrong), "{wrong:#}");
    }
    // A secret's value as a number, not text.
    let mut wrong = cursor.clone();
    wrong["mcpServers"]["local"]["env"]["LOCAL_TOKEN"] = 123.into();
    assert!(!cursor_schema.is_valid(&wrong), "{wrong:#}");
}

// --- every client, there and back --------------------------------------------------------

/// Each client's config as a user keeps it: comments, odd spacing, their own servers.
const USER_CONFIGS: [(&str, &str); 7] = [
    (
        "opencode.jsonc",
        "// my OpenCode settings\n{\n  \"$schema\": \"https://opencode.ai/config.json\",\n  \"theme\": \"dark\", // keep\n  \"mcp\": {\n    \"mine\": { \"type\": \"local\", \"command\": [\"my-server\"] }\n  }\n}\n",
    ),
    (
        ".mcp.json",
        "{\n    \"mcpServers\": {\n        \"mine\": {\"command\": \"my-server\", \"args\": [\"--fast\"]}\n    }\n}\n",
    ),
    (
        ".gemini/settings.json",
        "{\n  // Gemini reads JSON with comments\n  \"theme\": \"GitHub\",\n  \"mcpServers\": {\n    /* my own */ \"mine\": { \"command\": \"my-server\" }\n  }\n}\n",
    ),
    (
        ".codex/config.toml",
        "# Codex, as I like it\nmodel = \"o3\"  # fast enough\n\n[mcp_servers.mine]\ncommand = \"my-server\"\nargs = [\"--fast\"]\n\n[profiles.x]\nmodel = \"o4-mini\"\n",
    ),
    (
        ".qwen/settings.json",
        "{\n  \"mcpServers\": {\n    \"mine\": { \"command\": \"my-server\" }\n  },\n  \"ui\": { \"theme\": \"Default\" }\n}\n",
    ),
    (
        ".cursor/mcp.json",
        "{\n  \"mcpServers\": {\n    \"mine\": { \"command\": \"my-server\", \"env\": { \"TOKEN\": \"${env:MY_TOKEN}\" } }\n  }\n}\n",
    ),
    (
        ".vscode/mcp.json",
        "{\n  // my VS Code servers\n  \"inputs\": [\n    { \"type\": \"promptString\", \"id\": \"my-key\", \"description\": \"My key\", \"password\": true }\n  ],\n  \"servers\": {\n    \"mine\": { \"type\": \"stdio\", \"command\": \"my-server\", \"env\": { \"KEY\": \"${input:my-key}\" } }\n  }\n}\n",
    ),
];

#[test]
fn add_then_remove_across_every_client_gives_every_file_back_byte_for_byte() {
    let dir = project();
    let d = dir.path();
    set_targets(d, &ALL_CLIENTS);
    write_files(d, &USER_CONFIGS);
    let before = files(d);

    let add = capm(d, &["add", "code-review", "--yes"]);
    assert_eq!(add.code, 0, "{}", add.transcript());
    // Every client got the server, next to the user's own.
    let json_configs = [
        ("opencode.jsonc", "/mcp"),
        (".mcp.json", "/mcpServers"),
        (".gemini/settings.json", "/mcpServers"),
        (".qwen/settings.json", "/mcpServers"),
        (".cursor/mcp.json", "/mcpServers"),
        (".vscode/mcp.json", "/servers"),
    ];
    for (file, key) in json_configs {
        let doc = read_json_c(d, file);
        let servers = doc
            .pointer(key)
            .unwrap_or_else(|| panic!("{file}: {doc:#}"));
        assert!(servers.get("github").is_some(), "{file}: {doc:#}");
        assert!(servers.get("mine").is_some(), "{file}: {doc:#}");
    }
    let codex = std::fs::read_to_string(d.join(".codex/config.toml")).unwrap();
    assert!(codex.contains("[mcp_servers.github]"), "{codex}");
    assert!(codex.contains("# Codex, as I like it"), "{codex}");
    for created in [
        ".claude/skills/code-review/SKILL.md",
        ".agents/skills/code-review/SKILL.md",
        ".claude/agents/reviewer.md",
        ".codex/agents/reviewer.toml",
        ".github/agents/reviewer.agent.md",
        ".cursor/commands/review.md",
    ] {
        assert!(d.join(created).is_file(), "{created} is missing");
    }

    let remove = capm(d, &["remove", "code-review", "--yes"]);
    assert_eq!(remove.code, 0, "{}", remove.transcript());
    let mut after = files(d);
    // What capm keeps for itself: its lock and its record of the project.
    after.retain(|k, _| k != "capm.lock" && !k.starts_with(".capm"));
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "files capm created are left behind, or the user's are gone"
    );
    for (file, bytes) in &before {
        assert_eq!(
            String::from_utf8_lossy(&after[file]),
            String::from_utf8_lossy(bytes),
            "{file} changed"
        );
    }
}

// --- one plan across clients --------------------------------------------------------------

#[test]
fn a_file_two_clients_read_is_one_action_naming_both() {
    let dir = project();
    let d = dir.path();
    set_targets(d, &["claude-code", "copilot"]);
    let (run, doc) = dry_run(d, "github");
    assert_eq!(run.code, 0, "{}", run.transcript());
    let both = vec!["claude-code".to_string(), "copilot".to_string()];
    assert_eq!(
        actions(&doc),
        [
            ("mcp:github".into(), ".mcp.json".into(), both.clone()),
            (
                "skill:github-operations".into(),
                ".claude/skills/github-operations".into(),
                both
            ),
        ]
    );
    assert_eq!(files(d).len(), 1, "a dry run wrote something");
}

#[test]
fn skills_for_opencode_and_claude_code_land_once_in_claude_skills() {
    let dir = project();
    let d = dir.path();
    set_targets(d, &["opencode", "claude-code"]);
    let (run, doc) = dry_run(d, "github");
    assert_eq!(run.code, 0, "{}", run.transcript());
    let skills: Vec<_> = actions(&doc)
        .into_iter()
        .filter(|(r, _, _)| r.starts_with("skill:"))
        .collect();
    assert_eq!(
        skills,
        [(
            "skill:github-operations".into(),
            ".claude/skills/github-operations".into(),
            vec!["opencode".into(), "claude-code".into()]
        )]
    );
    assert!(!codes(&doc).contains(&"skill-read-twice".to_string()));
}

#[test]
fn claude_code_codex_and_opencode_together_read_a_skill_twice() {
    let dir = project();
    let d = dir.path();
    set_targets(d, &["claude-code", "codex", "opencode"]);
    let (run, doc) = dry_run(d, "github");
    assert_eq!(run.code, 0, "{}", run.transcript());
    let twice: Vec<&Value> = doc["plan"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "skill-read-twice")
        .collect();
    assert_eq!(twice.len(), 1, "{doc:#}");
    assert_eq!(twice[0]["severity"], "warning");
    let message = twice[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("OpenCode reads skills from both"),
        "{message}"
    );
    // Each of Claude Code's and Codex's only directories gets the skill.
    let places: Vec<String> = actions(&doc)
        .into_iter()
        .filter(|(r, _, _)| r.starts_with("skill:"))
        .map(|(_, f, _)| f)
        .collect();
    assert_eq!(
        places,
        [
            ".claude/skills/github-operations",
            ".agents/skills/github-operations"
        ]
    );
}

#[test]
fn an_opencode_plugin_is_installed_for_opencode_only() {
    let dir = project_with_bundle(
        "[plugins.notify]\nnpm = \"opencode-notify@1.0.0\"\ntier = \"supported\"\n",
    );
    let d = dir.path();
    set_targets(d, &["opencode", "claude-code"]);
    let run = capm(d, &["install", "--yes", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let doc = run.json();
    let finding = doc["plan"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "not-for-client")
        .unwrap_or_else(|| panic!("no not-for-client: {doc:#}"));
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("not installed for Claude Code"),
        "{message}"
    );
    assert_eq!(
        actions(&doc),
        [(
            "plugin:notify".into(),
            "opencode.json".into(),
            vec!["opencode".into()]
        )]
    );
    let config = read_json(d, "opencode.json");
    assert_eq!(
        config["plugin"],
        serde_json::json!(["opencode-notify@1.0.0"])
    );
    assert!(!d.join(".mcp.json").exists());
    assert!(!d.join(".claude").exists());
}

#[test]
fn a_client_added_later_is_told_what_it_will_not_get() {
    let dir = project_with_bundle(
        "[plugins.notify]\nnpm = \"opencode-notify@1.0.0\"\ntier = \"supported\"\n",
    );
    let d = dir.path();
    set_targets(d, &["opencode"]);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        !run.transcript().contains("not-for-client"),
        "{}",
        run.transcript()
    );
    set_targets(d, &["opencode", "claude-code"]);
    let run = capm(d, &["install", "--dry-run", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let doc = run.json();
    let found = doc["plan"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "not-for-client");
    assert!(found, "{doc:#}");
}

// --- the user's own servers, as each client reads them -----------------------------------

/// A project for `targets` whose `.mcp.json` holds the user's own `github` server.
fn users_github(targets: &[&str]) -> tempfile::TempDir {
    let dir = project();
    set_targets(dir.path(), targets);
    write_files(
        dir.path(),
        &[(
            ".mcp.json",
            "{\"mcpServers\": {\"github\": {\"command\": \"my-github\"}}}\n",
        )],
    );
    dir
}

/// `capm add github` in `d`, which must be blocked by `reason` on `file`, writing nothing;
/// then `--skip mcp:github` settles it, the user's `.mcp.json` untouched.
fn blocked_then_skipped(d: &Path, reason: &str, file: &str, clients: &[&str]) {
    let before = files(d);
    let run = capm(d, &["add", "github", "--yes", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let doc = run.json();
    assert_eq!(doc["plan"]["status"], "blocked");
    let block = blocked(&doc);
    assert_eq!(block["resource"], "mcp:github");
    assert_eq!(block["reason"], reason);
    assert_eq!(block["target"]["file"], file);
    assert_eq!(block["clients"], serde_json::json!(clients));
    assert!(
        block["help"]
            .as_str()
            .unwrap()
            .contains("--skip mcp:github"),
        "{block:#}"
    );
    assert_eq!(files(d), before, "a blocked plan wrote something");

    let run = capm(d, &["add", "github", "--yes", "--skip", "mcp:github"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        std::fs::read_to_string(d.join(".mcp.json")).unwrap(),
        "{\"mcpServers\": {\"github\": {\"command\": \"my-github\"}}}\n"
    );
    let manifest = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert!(
        manifest.contains("github = { version = \"^1.0.0\", skip = [\"mcp:github\"] }"),
        "{manifest}"
    );
}

#[test]
fn the_users_own_server_in_mcp_json_conflicts_for_claude_code() {
    let dir = users_github(&["claude-code"]);
    blocked_then_skipped(
        dir.path(),
        "conflict-user-owned",
        ".mcp.json",
        &["claude-code"],
    );
}

#[test]
fn the_users_own_server_in_mcp_json_is_shadowed_for_qwen() {
    // Qwen Code reads `.mcp.json` beneath its own settings: an entry capm writes there would
    // silently replace the user's server for Qwen only.
    let dir = users_github(&["qwen"]);
    blocked_then_skipped(dir.path(), "shadowed", ".qwen/settings.json", &["qwen"]);
    assert!(!dir.path().join(".qwen/settings.json").exists());
}

// --- changing the clients -------------------------------------------------------------------

#[test]
fn dropping_a_client_from_targets_removes_its_files_and_keeps_the_others() {
    let dir = project();
    let d = dir.path();
    set_targets(d, &["opencode", "claude-code"]);
    let run = capm(d, &["add", "github", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(d.join(".mcp.json").is_file());
    assert!(
        d.join(".claude/skills/github-operations/SKILL.md")
            .is_file()
    );
    let opencode = std::fs::read(d.join("opencode.json")).unwrap();

    set_targets(d, &["opencode"]);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    // Claude Code's server is gone, and with it `.mcp.json`, which capm had created;
    // OpenCode's config is as it was.
    assert!(!d.join(".mcp.json").exists());
    assert_eq!(std::fs::read(d.join("opencode.json")).unwrap(), opencode);
    // The skill OpenCode shared with Claude Code moves to OpenCode's own directory.
    assert!(!d.join(".claude/skills/github-operations").exists());
    assert!(
        d.join(".opencode/skills/github-operations/SKILL.md")
            .is_file()
    );
    let run = capm(d, &["doctor"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

// --- what one client cannot express -------------------------------------------------------

const HOME_ARG: &str =
    "[mcp.files]\ncommand = \"files-mcp\"\nargs = [\"--root\", \"${HOME}/notes\"]\n";

#[test]
fn a_literal_dollar_reference_is_refused_for_claude_code_and_written_nothing() {
    let dir = project_with_bundle(HOME_ARG);
    let d = dir.path();
    set_targets(d, &["opencode", "claude-code"]);
    let before = files(d);
    let run = capm(d, &["install", "--yes", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let doc = run.json();
    let block = blocked(&doc);
    assert_eq!(block["reason"], "unrenderable");
    assert_eq!(block["resource"], "mcp:files");
    let help = format!("{block}");
    assert!(help.contains("${HOME}/notes"), "{block:#}");
    assert!(help.contains("Claude Code"), "{block:#}");
    assert_eq!(files(d), before, "a blocked plan wrote something");
}

#[test]
fn a_literal_dollar_reference_is_fine_for_opencode_alone() {
    let dir = project_with_bundle(HOME_ARG);
    let d = dir.path();
    set_targets(d, &["opencode"]);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let config = read_json(d, "opencode.json");
    assert_eq!(
        config["mcp"]["files"]["command"],
        serde_json::json!(["files-mcp", "--root", "${HOME}/notes"])
    );
}

#[test]
fn dropping_a_client_gives_back_the_users_own_config_file_byte_for_byte() {
    let dir = project();
    let d = dir.path();
    set_targets(d, &["opencode", "claude-code"]);
    let mine =
        "{\n  // mine\n  \"mcpServers\": {\n    \"mine\": { \"command\": \"my-server\" }\n  }\n}\n";
    write_files(d, &[(".mcp.json", mine)]);
    let run = capm(d, &["add", "github", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        read_json_c(d, ".mcp.json")
            .pointer("/mcpServers/github")
            .is_some()
    );

    set_targets(d, &["opencode"]);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(std::fs::read_to_string(d.join(".mcp.json")).unwrap(), mine);
}

/// A JSON-with-comments file as a value.
fn read_json_c(d: &Path, file: &str) -> Value {
    let text = std::fs::read_to_string(d.join(file)).unwrap();
    jsonc_parser::parse_to_serde_value::<Value>(&text, &Default::default())
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn a_working_directory_is_written_for_vscode_and_refused_for_cursor() {
    let body = "[mcp.local]\ncommand = \"local-mcp\"\ncwd = \"tools\"\n";
    let dir = project_with_bundle(body);
    let d = dir.path();
    set_targets(d, &["vscode"]);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let vscode = read_json(d, ".vscode/mcp.json");
    assert_eq!(vscode["servers"]["local"]["cwd"], "tools");
    assert_valid(&validator("vscode-mcp.schema.json"), &vscode, "VS Code");

    let dir = project_with_bundle(body);
    let d = dir.path();
    set_targets(d, &["cursor"]);
    let before = files(d);
    let run = capm(d, &["install", "--yes", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let block = &run.json()["plan"]["actions"][0];
    assert_eq!(block["reason"], "unrenderable", "{block:#}");
    assert!(format!("{block}").contains("Cursor"), "{block:#}");
    assert_eq!(files(d), before, "a blocked plan wrote something");
}

#[test]
fn a_users_skill_in_codex_skills_shadows_for_cursor() {
    let dir = project();
    let d = dir.path();
    set_targets(d, &["cursor"]);
    write_files(
        d,
        &[(
            ".codex/skills/github-operations/SKILL.md",
            "---\nname: github-operations\ndescription: mine\n---\n",
        )],
    );
    let run = capm(d, &["add", "github", "--yes", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let doc = run.json();
    let block = blocked(&doc);
    assert_eq!(block["resource"], "skill:github-operations");
    assert_eq!(block["reason"], "shadowed");
    assert!(
        block["help"].as_str().unwrap().contains(".codex/skills"),
        "{block:#}"
    );
}

#[test]
fn init_writes_the_clients_it_is_given() {
    let dir = crate::support::tempdir();
    let run = capm(
        dir.path(),
        &[
            "init",
            "p",
            "--target",
            "opencode,claude-code",
            "--target",
            "codex",
            "--target",
            "opencode",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    let text = std::fs::read_to_string(dir.path().join("p/capm.toml")).unwrap();
    assert!(
        text.contains("[project]\ntargets = [\"opencode\", \"claude-code\", \"codex\"]\n"),
        "{text}"
    );
    // What init writes, lint accepts, and a plan installs into those clients.
    let lint = capm(&dir.path().join("p"), &["lint", "capm.toml"]);
    assert_eq!(lint.code, 0, "{}", lint.transcript());
    let one = capm(dir.path(), &["init", "q", "--target", "claude-code"]);
    assert_eq!(one.code, 0, "{}", one.transcript());
    let text = std::fs::read_to_string(dir.path().join("q/capm.toml")).unwrap();
    assert!(text.contains("\ntarget = \"claude-code\"\n"), "{text}");
    let bad = capm(dir.path(), &["init", "r", "--target", "crush"]);
    assert_eq!(bad.code, 2, "{}", bad.transcript());
    assert!(
        bad.stderr
            .contains("invalid value 'crush' for '--target <CLIENT>'")
            && bad.stderr.contains("a similar value exists: 'cursor'"),
        "{}",
        bad.stderr
    );
    assert!(!dir.path().join("r").exists(), "nothing written");
}
