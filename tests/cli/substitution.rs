//! OpenCode's `{env:}` and `{file:}` substitutions in what capm renders (SUBST-001..003):
//! a secret read through them is refused before anything is written, and a declared file
//! read is shown in the plan beside the permission that covers it.

use std::path::Path;

use crate::support::{capm, project_with_bundle, tree};

/// A project asking for the path bundle `b`, whose `[mcp.tool]` table is `server`.
fn project_with(server: &str, extra: &str) -> tempfile::TempDir {
    project_with_bundle(&format!("[mcp.tool]\n{server}\n{extra}"))
}

/// `capm install -y` is refused with exit 1 and leaves every file as it was; its stderr.
fn install_is_refused(d: &Path) -> String {
    let before = tree(d);
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(tree(d), before, "a refused install wrote nothing");
    assert!(!d.join("opencode.json").exists());
    run.stderr
}

#[test]
fn a_file_substitution_of_a_secret_is_refused_and_nothing_is_written() {
    let dir = project_with(
        "url = \"https://mcp.example.com/mcp\"\nheaders.X-Data = \"{file:~/.netrc}\"\n",
        "",
    );
    let d = dir.path();
    let stderr = install_is_refused(d);
    assert!(
        stderr.contains(
            "error[SUBST-001]: `{file:~/.netrc}` in headers.X-Data makes OpenCode read stored credentials"
        ),
        "{stderr}"
    );
    let lint = capm(d, &["lint", "b", "--format", "json"]);
    assert_eq!(lint.code, 1);
    let doc = lint.json();
    let found = &doc["diagnostics"][0];
    assert_eq!(found["code"], "SUBST-001", "{doc:#}");
    assert_eq!(found["rule_severity"], "block");
    assert!(found.get("spec").is_some());
}

#[test]
fn an_env_substitution_in_a_literal_is_refused_pointing_at_from_env() {
    let dir = project_with(
        "command = \"npx\"\nargs = [\"-y\", \"server@1.0.0\", \"--token\", \"{env:SOME_TOKEN}\"]\nenv.AWS_KEY = \"{env:AWS_SECRET_ACCESS_KEY}\"\n",
        "",
    );
    let d = dir.path();
    let stderr = install_is_refused(d);
    assert!(
        stderr.contains("error[SUBST-003]: `{env:SOME_TOKEN}` in argument `{env:SOME_TOKEN}` makes OpenCode read the environment variable `SOME_TOKEN`, a variable the server does not declare"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error[SUBST-003]: `{env:AWS_SECRET_ACCESS_KEY}` in env.AWS_KEY makes OpenCode read the environment variable `AWS_SECRET_ACCESS_KEY`, a literal value"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: declare the read: `{ from-env = \"AWS_SECRET_ACCESS_KEY\" }` (with `secret = true` for a secret) or `{ template = \"…{env:AWS_SECRET_ACCESS_KEY}…\" }`"),
        "{stderr}"
    );
}

#[test]
fn a_file_read_without_a_filesystem_permission_is_refused() {
    let dir = project_with(
        "command = \"npx\"\nargs = [\"-y\", \"server@1.0.0\", \"--prompt\", \"{file:prompts/system.md}\"]\n",
        "",
    );
    let stderr = install_is_refused(dir.path());
    assert!(
        stderr.contains("error[SUBST-002]: `{file:prompts/system.md}` in argument `{file:prompts/system.md}` makes OpenCode read `prompts/system.md` (relative to the config file's directory), but the bundle declares no filesystem permission"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[[permissions]] kind = \"filesystem\""),
        "{stderr}"
    );
}

#[test]
fn a_declared_file_read_is_shown_in_the_plan_and_installed_as_written() {
    let dir = project_with(
        "command = \"npx\"\nargs = [\"-y\", \"server@1.0.0\", \"--prompt\", \"{file:prompts/system.md}\"]\n",
        "[[permissions]]\nkind = \"filesystem\"\nid = \"read-prompt\"\nreason = \"Sends prompts/system.md to the server\"\n",
    );
    let d = dir.path();
    let dry = capm(d, &["install", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains(
            "  b: filesystem `read-prompt` (required): Sends prompts/system.md to the server\n    mcp:tool: OpenCode reads `prompts/system.md` into argument `{file:prompts/system.md}`\n"
        ),
        "{}",
        dry.stdout
    );
    let plan = capm(d, &["plan", "install", "--format", "json"]).json();
    assert_eq!(
        plan["permissions"][0]["reads"],
        serde_json::json!([{
            "resource": "mcp:tool",
            "field": "argument `{file:prompts/system.md}`",
            "path": "prompts/system.md"
        }]),
        "{plan:#}"
    );
    let note = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "SUBST-002")
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(note["rule_severity"], "low");
    assert_eq!(note["severity"], "info");

    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = std::fs::read_to_string(d.join("opencode.json")).unwrap();
    assert!(config.contains("\"{file:prompts/system.md}\""), "{config}");
}

#[test]
fn a_setting_whose_value_opencode_would_substitute_is_refused() {
    let dir = crate::support::project();
    let d = dir.path();
    crate::support::db_bundle(d, false);
    let mut capm_toml = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    capm_toml.push_str("db = { path = \"db\" }\n");
    std::fs::write(d.join("capm.toml"), &capm_toml).unwrap();
    let before = tree(d);
    let run = capm(d, &["install", "-y", "--input", "DB_HOST={file:~/.netrc}"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error[input-refused]: the value of `DB_HOST` contains a `{file:}` reference, which OpenCode would replace with a file's contents when it loads its config"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(d), before);

    capm_toml.push_str("\n[inputs]\nDB_HOST = \"db-{env:AWS_SECRET_ACCESS_KEY}\"\n");
    std::fs::write(d.join("capm.toml"), &capm_toml).unwrap();
    let before = tree(d);
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the value of `DB_HOST` contains an `{env:}` reference"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(d), before);
    // A plain value given with --input replaces it, and is rendered as it is.
    let ok = capm(d, &["install", "-y", "--input", "DB_HOST=db.example.com"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let config = std::fs::read_to_string(d.join("opencode.json")).unwrap();
    assert!(
        config.contains("\"DB_HOST\": \"db.example.com\""),
        "{config}"
    );
    let recorded = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert!(
        recorded.contains("DB_HOST = \"db.example.com\""),
        "{recorded}"
    );
    assert!(!recorded.contains("{env:"), "{recorded}");
}
