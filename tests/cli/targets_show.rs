//! Where each installed resource is, and for which clients: `capm list`, `capm why` and
//! `capm doctor` (human and JSON) and the protocol's `status` in a project whose capm.toml
//! names several clients. capm.lock records places only; the clients come from `targets`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::json_outputs::Schemas;
use crate::support::{self, capm, repo, tempdir, tree, write_files};

const TARGETS: &str =
    "[project]\ntargets = [\"opencode\", \"claude-code\", \"codex\", \"copilot\"]\n\n[bundles]\n";

use crate::support::capm_ok as ok;

/// A project for OpenCode, Claude Code, Codex and Copilot CLI with the catalog's
/// `code-review` (and its dependency `github`) installed.
fn installed() -> tempfile::TempDir {
    let dir = tempdir();
    write_files(dir.path(), &[("capm.toml", TARGETS)]);
    ok(dir.path(), &["add", "code-review", "-y"]);
    dir
}

/// The places of `id` in a document's `locations`: place text to clients.
fn places_of(locations: &Value, id: &str) -> BTreeMap<String, Vec<String>> {
    locations
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["resource"] == id)
        .map(|l| {
            let mut place = l["path"].as_str().unwrap().to_string();
            if let Some(p) = l["pointer"].as_str() {
                place = format!("{place}#{p}");
            }
            let clients = l["clients"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            (place, clients)
        })
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `mcp:github`'s three places: one per config file, `.mcp.json` shared.
fn github_places() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([
        (
            ".codex/config.toml#/mcp_servers/github".to_string(),
            strings(&["codex"]),
        ),
        (
            ".mcp.json#/mcpServers/github".to_string(),
            strings(&["claude-code", "copilot"]),
        ),
        (
            "opencode.json#/mcp/github".to_string(),
            strings(&["opencode"]),
        ),
    ])
}

#[test]
fn list_shows_every_place_of_each_resource_and_the_clients_that_read_it() {
    let dir = installed();
    let d = dir.path();
    let list = ok(d, &["list"]);
    insta::assert_snapshot!(list.stdout, @r"
    code-review  1.0.0      catalog
                   agent:reviewer           .claude/agents/reviewer.md              (claude-code)
                                            .codex/agents/reviewer.toml             (codex)
                                            .github/agents/reviewer.agent.md        (copilot)
                                            .opencode/agents/reviewer.md            (opencode)
                   command:review           .claude/commands/review.md              (claude-code)
                                            .opencode/commands/review.md            (opencode)
                   skill:code-review        .agents/skills/code-review              (codex, copilot)
                                            .claude/skills/code-review              (opencode, claude-code)
    github       1.0.0      catalog (dependency)
                   mcp:github               .codex/config.toml#/mcp_servers/github  (codex)
                                            .mcp.json#/mcpServers/github            (claude-code, copilot)
                                            opencode.json#/mcp/github               (opencode)
                   skill:github-operations  .agents/skills/github-operations        (codex, copilot)
                                            .claude/skills/github-operations        (opencode, claude-code)
    ");
    assert_eq!(list.stderr, "");
    let doc = Schemas::default().check(d, &["list", "--format", "json"], 0, "list.schema.json");
    assert_eq!(
        doc["targets"],
        json!(["opencode", "claude-code", "codex", "copilot"])
    );
    let github = &doc["bundles"][1];
    assert_eq!(github["name"], "github");
    // Each resource once, however many places it has.
    assert_eq!(
        github["resources"],
        json!(["mcp:github", "skill:github-operations"])
    );
    assert_eq!(
        places_of(&github["locations"], "mcp:github"),
        github_places()
    );
    let review = places_of(&doc["bundles"][0]["locations"], "agent:reviewer");
    assert_eq!(review.len(), 4, "{review:?}");
    assert!(review.values().all(|c| c.len() == 1), "{review:?}");
}

#[test]
fn why_a_resource_shows_where_it_is_installed_and_for_which_clients() {
    let dir = installed();
    let d = dir.path();
    let why = ok(d, &["why", "mcp:github"]);
    insta::assert_snapshot!(why.stdout, @r"
    mcp:github is provided by github 1.0.0
    mcp:github is installed in:
      .codex/config.toml#/mcp_servers/github  (codex)
      .mcp.json#/mcpServers/github            (claude-code, copilot)
      opencode.json#/mcp/github               (opencode)
    project → code-review ^1.0.0 (1.0.0) → github ^1.0 (1.0.0) → mcp:github
    ");
    let mut schemas = Schemas::default();
    let doc = schemas.check(
        d,
        &["why", "mcp:github", "--format", "json"],
        0,
        "why.schema.json",
    );
    assert_eq!(places_of(&doc["locations"], "mcp:github"), github_places());
    // A bundle's chains carry no places of their own.
    let doc = schemas.check(
        d,
        &["why", "github", "--format", "json"],
        0,
        "why.schema.json",
    );
    assert_eq!(doc["locations"], json!([]));
}

#[test]
fn why_a_resource_not_installed_yet_says_so() {
    let dir = installed();
    let d = dir.path();
    let toml = format!("{TARGETS}code-review = \"^1.0.0\"\ntime = \"^1\"\n");
    write_files(d, &[("capm.toml", &toml)]);
    let before = tree(d);
    let why = ok(d, &["why", "mcp:time"]);
    assert!(
        why.stdout.contains(
            "mcp:time is not installed: capm.lock records no place for it (`capm install` installs it)"
        ),
        "{}",
        why.stdout
    );
    let doc = Schemas::default().check(
        d,
        &["why", "mcp:time", "--format", "json"],
        0,
        "why.schema.json",
    );
    assert_eq!(doc["locations"], json!([]));
    assert_eq!(tree(d), before, "why writes nothing");
}

/// Removes `mcp:github` from `.mcp.json` and from Codex's config.toml, as a user would.
fn delete_github_entries(d: &Path) {
    write_files(
        d,
        &[
            (".mcp.json", "{\n  \"mcpServers\": {}\n}\n"),
            (".codex/config.toml", "# mine\n"),
        ],
    );
}

/// The tree without capm's own `.capm/` (the lock file a read takes).
fn user_files(d: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(d)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".capm"))
        .collect()
}

#[test]
fn doctor_finds_entries_deleted_from_mcp_json_and_codex_config() {
    let dir = installed();
    let d = dir.path();
    let healthy = ok(d, &["doctor"]);
    assert!(
        healthy.stdout.lines().any(|l| l.starts_with(
            "ok        mcp:github               .mcp.json#/mcpServers/github            (claude-code, copilot)  "
        ) && l.ends_with("  from github")),
        "{}",
        healthy.stdout
    );
    assert!(
        healthy
            .stderr
            .contains("Healthy 5 resources in 13 places as capm.lock records them"),
        "{}",
        healthy.stderr
    );
    delete_github_entries(d);
    let before = user_files(d);
    let run = capm(d, &["doctor", "-q"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    insta::assert_snapshot!(run.stdout, @r"
    missing   mcp:github  .codex/config.toml#/mcp_servers/github  (codex)                 from github
    missing   mcp:github  .mcp.json#/mcpServers/github            (claude-code, copilot)  from github
    ");
    let doc = Schemas::default().check(d, &["doctor", "--format", "json"], 1, "doctor.schema.json");
    assert_eq!(doc["healthy"], false);
    assert_eq!(
        doc["targets"],
        json!(["opencode", "claude-code", "codex", "copilot"])
    );
    let missing: Vec<(&str, &str, &Value)> = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "missing")
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["path"].as_str().unwrap(),
                &r["clients"],
            )
        })
        .collect();
    assert_eq!(
        missing,
        [
            ("mcp:github", ".codex/config.toml", &json!(["codex"])),
            (
                "mcp:github",
                ".mcp.json",
                &json!(["claude-code", "copilot"])
            ),
        ]
    );
    assert_eq!(
        user_files(d),
        before,
        "doctor repairs nothing of the user's"
    );
    // Install puts them back, and the user's comment stays.
    ok(d, &["install", "-y"]);
    ok(d, &["doctor"]);
    let codex = std::fs::read_to_string(d.join(".codex/config.toml")).unwrap();
    assert!(codex.contains("# mine\n"), "{codex}");
}

#[test]
fn doctor_reports_an_edited_mcp_json_entry_as_modified() {
    let dir = installed();
    let d = dir.path();
    let edited = "{\n  \"mcpServers\": {\n    \"github\": { \"type\": \"http\", \"url\": \"https://example.com/mcp\" }\n  }\n}\n";
    write_files(d, &[(".mcp.json", edited)]);
    let run = ok(d, &["doctor", "-q"]);
    assert_eq!(
        run.stdout,
        "modified  mcp:github  .mcp.json#/mcpServers/github  (claude-code, copilot)  from github\n"
    );
    let run = ok(d, &["doctor"]);
    assert!(
        run.stderr.contains("`capm keep mcp:github`"),
        "{}",
        run.stderr
    );
}

#[test]
fn doctor_reports_a_config_file_that_no_longer_parses_and_writes_nothing() {
    let dir = installed();
    let d = dir.path();
    write_files(d, &[(".codex/config.toml", "[mcp_servers.github\n")]);
    let before = user_files(d);
    let run = capm(d, &["doctor", "-q"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("problem   `.codex/config.toml` does not parse: ")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("missing   mcp:github  .codex/config.toml#/mcp_servers/github"),
        "{}",
        run.stdout
    );
    assert_eq!(user_files(d), before);
}

#[test]
fn places_of_a_client_taken_out_of_targets_name_no_client_until_the_next_install() {
    let dir = installed();
    let d = dir.path();
    let fewer = TARGETS
        .replace(", \"copilot\"", "")
        .replace(", \"codex\"", "");
    write_files(
        d,
        &[("capm.toml", &format!("{fewer}code-review = \"^1.0.0\"\n"))],
    );
    let list = ok(d, &["list"]);
    assert!(
        list.stdout.lines().any(
            |l| l.ends_with(".codex/config.toml#/mcp_servers/github  (no client in `targets`)")
        ),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout
            .lines()
            .any(|l| l.ends_with(".mcp.json#/mcpServers/github            (claude-code)")),
        "{}",
        list.stdout
    );
    // Codex's file is still read: its entry is there, not missing.
    let doc = ok(d, &["doctor", "--format", "json"]).json();
    assert_eq!(doc["healthy"], true, "{doc:#}");
    let codex = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == ".codex/config.toml")
        .unwrap();
    assert_eq!(
        (&codex["status"], &codex["clients"]),
        (&json!("ok"), &json!([]))
    );
    // The next install takes them out: the file capm created for Codex goes; `.mcp.json`,
    // still Claude Code's, stays.
    ok(d, &["install", "-y"]);
    assert!(!d.join(".codex").exists());
    assert!(!d.join(".github").exists());
    let list = ok(d, &["list"]);
    assert!(
        list.stdout
            .lines()
            .any(|l| l.contains(".mcp.json#/mcpServers/github ") && l.ends_with("  (claude-code)")),
        "{}",
        list.stdout
    );
    assert!(!list.stdout.contains("no client"), "{}", list.stdout);
}

/// Every line `capm serve --stdio` answers `requests` with, stdin closed after them.
fn serve(dir: &Path, requests: &[Value]) -> Vec<Value> {
    let out = support::serve_once(dir, requests);
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn validate(doc: &Value, file: &str) {
    let text = std::fs::read_to_string(repo().join("schemas").join(file)).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{file}: {errors:?}\n{doc:#}");
}

#[test]
fn the_protocol_status_carries_targets_and_each_places_clients() {
    let dir = installed();
    let d = dir.path();
    delete_github_entries(d);
    let project = d.to_str().unwrap();
    let answers = serve(
        d,
        &[
            json!({"jsonrpc": "2.0", "id": 1, "method": "status", "params": {"project": project}}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "plan", "params": {"project": project, "operation": "install"}}),
        ],
    );
    let [status, plan] = &answers[..] else {
        panic!("{answers:?}")
    };
    validate(status, "rpc-response.schema.json");
    let report = &status["result"];
    validate(report, "doctor.schema.json");
    assert_eq!(
        report["targets"],
        json!(["opencode", "claude-code", "codex", "copilot"])
    );
    let github: Vec<(&Value, &Value, &Value)> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"] == "mcp:github")
        .map(|r| (&r["path"], &r["clients"], &r["status"]))
        .collect();
    assert_eq!(
        github,
        [
            (
                &json!(".codex/config.toml"),
                &json!(["codex"]),
                &json!("missing")
            ),
            (
                &json!(".mcp.json"),
                &json!(["claude-code", "copilot"]),
                &json!("missing")
            ),
            (&json!("opencode.json"), &json!(["opencode"]), &json!("ok")),
        ]
    );
    // The plan that repairs them names the same clients for each place.
    let creates: Vec<(&Value, &Value)> = plan["result"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "create")
        .map(|a| (&a["target"]["file"], &a["clients"]))
        .collect();
    assert_eq!(
        creates,
        [
            (&json!(".mcp.json"), &json!(["claude-code", "copilot"])),
            (&json!(".codex/config.toml"), &json!(["codex"])),
        ]
    );
}

#[test]
fn taking_a_client_out_of_targets_removes_its_entries_and_moves_its_skills() {
    let dir = tempdir();
    let d = dir.path();
    let mine = "{\n  // mine\n  \"mcpServers\": {\n    \"mine\": { \"command\": \"x\" }\n  }\n}\n";
    write_files(
        d,
        &[
            (
                "capm.toml",
                "[project]\ntargets = [\"opencode\", \"claude-code\"]\n\n[bundles]\n",
            ),
            (".mcp.json", mine),
        ],
    );
    ok(d, &["add", "memory", "-y"]);
    assert!(d.join(".claude/skills/knowledge-graph-memory").is_dir());
    write_files(
        d,
        &[(
            "capm.toml",
            "[project]\ntargets = [\"opencode\"]\n\n[bundles]\nmemory = \"^1.0.0\"\n",
        )],
    );
    // The skill leaves the directory OpenCode shared with Claude Code for its own; the
    // place it leaves is not a second definition of it.
    let plan = ok(d, &["plan", "install", "--format", "json"]).json();
    assert_eq!(plan["status"], "ready", "{plan:#}");
    ok(d, &["install", "-y"]);
    assert_eq!(std::fs::read_to_string(d.join(".mcp.json")).unwrap(), mine);
    assert!(!d.join(".claude").exists());
    assert!(
        d.join(".opencode/skills/knowledge-graph-memory/SKILL.md")
            .is_file()
    );
    let doc = ok(d, &["doctor", "--format", "json"]).json();
    assert_eq!(doc["healthy"], true, "{doc:#}");
    let places: Vec<(&Value, &Value)> = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (&r["path"], &r["clients"]))
        .collect();
    assert_eq!(
        places,
        [
            (&json!("opencode.json"), &json!(["opencode"])),
            (
                &json!(".opencode/skills/knowledge-graph-memory"),
                &json!(["opencode"])
            ),
        ]
    );
}
