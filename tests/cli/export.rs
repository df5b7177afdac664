//! `capm export`: native bundles written as a repository of Agent Skills, a Claude Code
//! plugin and MCP Registry server.json documents, checked against the formats' schemas and
//! read back by capm's own readers (the round trip).

use std::path::Path;

use serde_json::{Value, json};

use crate::json_outputs::Schemas;
use crate::support::{Run, capm, repo, tempdir, tree, write_files};

const AGENT: &str = "---\ndescription: Reviews code for bugs and style\nmode: subagent\nmodel: anthropic/claude-sonnet-4-5\ntemperature: 0.1\ntools:\n  write: false\n  edit: false\n---\nYou review code. Point at the line of each finding.\n";
const COMMAND: &str = "---\ndescription: Fix an issue by number\nagent: build\n---\nFix issue $1, then explain the change: $ARGUMENTS\n";
const SKILL: &str = "---\nname: review-notes\ndescription: Write review notes in the team's format. Use when reviewing a pull request.\n---\n# Review notes\n\nWrite one note per finding; run scripts/count.sh to count them.\n";
const SCRIPT: &str = "#!/bin/sh\ngrep -c '^- ' \"$1\"\n";

/// A bundle with a skill, an agent, a command, a local and a remote MCP server and an
/// OpenCode plugin, in `dir/kit`.
fn kit(dir: &Path, extra: &str) {
    let manifest = format!(
        r#"[bundle]
name = "kit"
version = "1.2.0"
description = "Review helpers: notes, a reviewer and an issue fixer"
license = "MIT"
authors = ["Ada Lovelace <ada@example.com>"]
repository = "https://github.com/acme/kit"
keywords = ["review"]

[compatibility.product-modes]
desktop-local = "supported"

[mcp.weather]
command = "npx"
args = ["-y", "@acme/weather-mcp@1.2.0", "--units", "metric"]
env.OWM_API_KEY = {{ from-env = "OWM_API_KEY", secret = true }}
env.OWM_REGION = "eu"

[skills.review-notes]
path = "skills/review-notes"

[agents.reviewer]
path = "agents/reviewer.md"

[commands.fix-issue]
path = "commands/fix-issue.md"
{extra}"#
    );
    write_files(
        &dir.join("kit"),
        &[
            ("bundle.toml", &manifest),
            ("skills/review-notes/SKILL.md", SKILL),
            ("skills/review-notes/scripts/count.sh", SCRIPT),
            ("agents/reviewer.md", AGENT),
            ("commands/fix-issue.md", COMMAND),
        ],
    );
}

const REMOTE: &str = r#"
[mcp.tracker]
url = "https://mcp.tracker.example.com/mcp"
headers.Authorization = { template = "Bearer {env:TRACKER_TOKEN}", secret = true }
"#;

/// stderr of `run` holds `text`.
fn says(run: &Run, text: impl AsRef<str>) {
    let text = text.as_ref();
    assert!(run.stderr.contains(text), "no `{text}` in:\n{}", run.stderr);
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The errors of `doc` against the JSON Schema in tests/fixtures/`schema`.
fn schema_errors(schema: &str, doc: &Value) -> Vec<String> {
    let schema = read_json(&repo().join("tests/fixtures").join(schema));
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn assert_schema(schema: &str, doc: &Value) {
    let errors = schema_errors(schema, doc);
    assert!(errors.is_empty(), "{doc:#}\n{errors:#?}");
}

#[test]
fn the_server_json_schema_catches_what_it_should() {
    // The validator is not vacuous: a long description and a name without a namespace fail.
    let bad = json!({"name": "weather", "description": "x".repeat(101), "version": "1.0.0"});
    assert_eq!(schema_errors("server-json.schema.json", &bad).len(), 2);
}

#[test]
fn the_server_json_fixtures_the_reader_is_tested_on_are_valid_documents() {
    let dir = repo().join("tests/fixtures/server-json");
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let case = e.unwrap().path();
        // The first schema's snake_case document is there to be refused.
        if case.ends_with("legacy") {
            continue;
        }
        assert_schema(
            "server-json.schema.json",
            &read_json(&case.join("server.json")),
        );
        checked += 1;
    }
    assert!(checked >= 5, "{checked}");
}

#[test]
fn a_catalog_bundle_exports_to_server_json() {
    let dir = tempdir();
    let run = capm(
        dir.path(),
        &["export", "github", "--to", "server.json", "out"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "out/server.json\n");
    says(&run, "Exported github 1.0.0 to `out` (server.json)");
    says(&run, "note: the description is cut to 100 characters");
    says(
        &run,
        "note: skill:github-operations is left out: server.json describes MCP servers only",
    );
    let doc = read_json(&dir.path().join("out/server.json"));
    assert_schema("server-json.schema.json", &doc);
    assert_eq!(doc["name"], "io.github.github/github");
    assert_eq!(doc["version"], "1.0.0");
    assert_eq!(doc["description"].as_str().unwrap().chars().count(), 100);
    assert_eq!(
        doc["repository"],
        json!({"url": "https://github.com/github/github-mcp-server", "source": "github"})
    );
    assert_eq!(
        doc["remotes"],
        json!([{
            "type": "streamable-http",
            "url": "https://api.githubcopilot.com/mcp/",
            "headers": [{
                "name": "Authorization",
                "value": "Bearer {GITHUB_PERSONAL_ACCESS_TOKEN}",
                "variables": {"GITHUB_PERSONAL_ACCESS_TOKEN": {"isRequired": true, "isSecret": true}},
                "isSecret": true
            }]
        }])
    );
    // Nothing but the destination: the staging directory is gone.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".no-user"))
        .collect();
    assert_eq!(names, ["out"]);
    // Made like any directory (the umask decides), not private like a temporary one.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        std::fs::create_dir(dir.path().join("plain")).unwrap();
        assert_eq!(
            mode(&dir.path().join("out")),
            mode(&dir.path().join("plain"))
        );
    }
}

#[test]
fn local_servers_become_packages_of_their_launchers() {
    let dir = tempdir();
    let extra = r#"
[mcp.git]
command = "uvx"
args = ["--from", "mcp-server-git==0.6.2", "mcp-server-git", "--repository", "."]

[mcp.fetcher]
command = "docker"
args = ["run", "-i", "--rm", "-e", "FETCH_TOKEN", "ghcr.io/acme/fetch@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]
env.FETCH_TOKEN = { from-env = "ACME_FETCH_TOKEN", secret = true, required = false }
"#;
    kit(dir.path(), extra);
    let run = capm(
        dir.path(),
        &["export", "./kit", "--to", "server.json", "out"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "out/fetcher/server.json\nout/git/server.json\nout/weather/server.json\n"
    );
    for server in ["weather", "git", "fetcher"] {
        let doc = read_json(&dir.path().join(format!("out/{server}/server.json")));
        assert_schema("server-json.schema.json", &doc);
        assert_eq!(doc["name"], format!("io.github.acme/{server}"));
    }
    let weather = read_json(&dir.path().join("out/weather/server.json"));
    assert_eq!(
        weather["packages"],
        json!([{
            "registryType": "npm",
            "identifier": "@acme/weather-mcp",
            "version": "1.2.0",
            "runtimeHint": "npx",
            "transport": {"type": "stdio"},
            "packageArguments": [{"type": "positional", "value": "--units"}, {"type": "positional", "value": "metric"}],
            "environmentVariables": [
                {"name": "OWM_API_KEY", "isRequired": true, "isSecret": true},
                {"name": "OWM_REGION", "value": "eu"}
            ]
        }])
    );
    let git = read_json(&dir.path().join("out/git/server.json"));
    assert_eq!(git["packages"][0]["registryType"], "pypi");
    assert_eq!(git["packages"][0]["identifier"], "mcp-server-git");
    assert_eq!(git["packages"][0]["version"], "0.6.2");
    assert_eq!(git["packages"][0]["runtimeHint"], "uvx");
    let fetcher = read_json(&dir.path().join("out/fetcher/server.json"));
    let package = &fetcher["packages"][0];
    assert_eq!(package["registryType"], "oci");
    assert_eq!(package["runtimeHint"], "docker");
    assert_eq!(package["runtimeArguments"].as_array().unwrap().len(), 5);
    assert_eq!(
        package["environmentVariables"],
        json!([{"name": "FETCH_TOKEN", "value": "{ACME_FETCH_TOKEN}", "variables": {"ACME_FETCH_TOKEN": {"isRequired": false, "isSecret": true}}, "isSecret": true}])
    );
    for left in ["skill:review-notes", "agent:reviewer", "command:fix-issue"] {
        says(&run, format!("note: {left} is left out"));
    }
}

#[test]
fn a_server_json_cannot_describe_is_refused_and_nothing_is_written() {
    let dir = tempdir();
    write_files(
        &dir.path().join("kit"),
        &[
            (
                "bundle.toml",
                "[bundle]\nname = \"kit\"\nversion = \"1.0.0\"\ndescription = \"A local script\"\nrepository = \"https://github.com/acme/kit\"\n\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n\n[mcp.local]\ncommand = \"node\"\nargs = [\"server.js\"]\n",
            ),
            ("server.js", "console.log('hi')\n"),
        ],
    );
    let run = capm(dir.path(), &["export", "kit", "--to", "server.json", "out"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    says(
        &run,
        "error[export-refused]: mcp:local runs `node server.js`, which server.json cannot describe",
    );
    assert!(!dir.path().join("out").exists());
    let run = capm(dir.path(), &["export", "kit", "--to", "skills", "out"]);
    assert_eq!(run.code, 1);
    says(
        &run,
        "error[export-refused]: `kit` has no skills, so there is nothing to export as a repository of Agent Skills",
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn a_namespace_is_needed_off_github() {
    let dir = tempdir();
    kit(dir.path(), "");
    let manifest = dir.path().join("kit/bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("https://github.com/acme/kit", "https://gitlab.com/acme/kit"),
    )
    .unwrap();
    let run = capm(dir.path(), &["export", "kit", "--to", "server.json", "out"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    says(
        &run,
        "error: server.json names need a namespace, and the repository `https://gitlab.com/acme/kit` is not on GitHub",
    );
    says(&run, "help: pass `--namespace io.github.OWNER`");
    assert!(!dir.path().join("out").exists());
    let run = capm(
        dir.path(),
        &[
            "export",
            "kit",
            "--to",
            "server.json",
            "out",
            "--namespace",
            "bad/ns",
        ],
    );
    assert_eq!(run.code, 2);
    says(&run, "`bad/ns` is not a namespace");
    let run = capm(
        dir.path(),
        &[
            "export",
            "kit",
            "--to",
            "server.json",
            "out",
            "--namespace",
            "com.gitlab.acme",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = read_json(&dir.path().join("out/server.json"));
    assert_eq!(doc["name"], "com.gitlab.acme/weather");
    assert!(doc.get("repository").is_none());
    says(
        &run,
        "note: the repository `https://gitlab.com/acme/kit` is left out",
    );
}

#[test]
fn a_bundle_exports_as_a_claude_code_plugin() {
    let dir = tempdir();
    kit(
        dir.path(),
        &format!(
            "{REMOTE}\n[plugins.notify]\nnpm = \"opencode-notify@1.0.0\"\ntier = \"supported\"\n"
        ),
    );
    let run = capm(
        dir.path(),
        &["export", "kit", "--to", "claude-plugin", "out"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "out/.claude-plugin/plugin.json\nout/.mcp.json\nout/agents/reviewer.md\nout/commands/fix-issue.md\nout/skills/review-notes/SKILL.md\nout/skills/review-notes/scripts/count.sh\n"
    );
    let out = dir.path().join("out");
    let manifest = read_json(&out.join(".claude-plugin/plugin.json"));
    assert_schema("claude-plugin.schema.json", &manifest);
    assert_eq!(
        manifest,
        json!({
            "name": "kit",
            "version": "1.2.0",
            "description": "Review helpers: notes, a reviewer and an issue fixer",
            "license": "MIT",
            "author": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "repository": "https://github.com/acme/kit",
            "keywords": ["review"]
        })
    );
    assert_eq!(
        read_json(&out.join(".mcp.json")),
        json!({"mcpServers": {
            "weather": {
                "type": "stdio",
                "command": "npx",
                "args": ["-y", "@acme/weather-mcp@1.2.0", "--units", "metric"],
                "env": {"OWM_API_KEY": "${OWM_API_KEY}", "OWM_REGION": "eu"}
            },
            "tracker": {
                "type": "http",
                "url": "https://mcp.tracker.example.com/mcp",
                "headers": {"Authorization": "Bearer ${TRACKER_TOKEN}"}
            }
        }})
    );
    assert_eq!(
        std::fs::read_to_string(out.join("agents/reviewer.md")).unwrap(),
        "---\nname: reviewer\ndescription: Reviews code for bugs and style\nmodel: claude-sonnet-4-5\ndisallowedTools: Write, Edit\n---\nYou review code. Point at the line of each finding.\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("commands/fix-issue.md")).unwrap(),
        "---\ndescription: Fix an issue by number\n---\nFix issue $ARGUMENTS[0], then explain the change: $ARGUMENTS\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("skills/review-notes/scripts/count.sh")).unwrap(),
        SCRIPT
    );
    for note in [
        "note: agent:reviewer: `temperature` is left out: Claude Code agents have no such field",
        "note: command:fix-issue: `agent` is left out: `build` is an OpenCode primary agent, and Claude Code commands cannot switch the session's agent",
        "note: plugin:notify is left out: Claude Code plugins cannot run OpenCode plugins",
    ] {
        says(&run, note);
    }
}

#[test]
fn claude_code_validates_the_exported_plugin_when_it_is_installed() {
    // `.ci/run` installs the pinned Claude Code from npm and names it in CLAUDE_BIN.
    let claude = std::env::var_os("CLAUDE_BIN")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .map(|d| d.join("claude"))
                .find(|c| c.is_file())
        })
        .filter(|c| c.is_file());
    let Some(claude) = claude else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs `claude plugin validate`: set CLAUDE_BIN (.ci/run installs it)"
        );
        eprintln!(
            "SKIPPED: no Claude Code (CLAUDE_BIN or `claude` on PATH), so `claude plugin validate` did not run on the exported plugin"
        );
        return;
    };
    let dir = tempdir();
    kit(dir.path(), REMOTE);
    assert_eq!(
        capm(
            dir.path(),
            &["export", "kit", "--to", "claude-plugin", "out"]
        )
        .code,
        0
    );
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let status = std::process::Command::new(&claude)
        .args(["plugin", "validate", "out"])
        .current_dir(dir.path())
        .env("HOME", &home)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .expect("claude runs");
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success() && stdout.contains("Validation passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn skills_export_as_a_repository_of_agent_skills() {
    let dir = tempdir();
    kit(dir.path(), "");
    let run = capm(dir.path(), &["export", "kit", "--to", "skills", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "out/skills/review-notes/SKILL.md\nout/skills/review-notes/scripts/count.sh\n"
    );
    let copied = tree(&dir.path().join("out/skills/review-notes"));
    assert_eq!(copied, tree(&dir.path().join("kit/skills/review-notes")));
    for left in ["mcp:weather", "agent:reviewer", "command:fix-issue"] {
        says(
            &run,
            format!("note: {left} is left out: a repository of Agent Skills holds only skills"),
        );
    }
}

#[test]
fn a_bundle_with_lint_errors_is_refused_and_nothing_is_written() {
    let dir = tempdir();
    write_files(
        &dir.path().join("kit"),
        &[(
            "bundle.toml",
            "[bundle]\nname = \"kit\"\nversion = \"1.0\"\ndescription = \"Broken\"\n\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n",
        )],
    );
    let run = capm(
        dir.path(),
        &["export", "kit", "--to", "claude-plugin", "out"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    says(&run, "error[invalid-semver]");
    says(&run, "--> kit/bundle.toml:3:11");
    says(
        &run,
        "error[invalid-bundle]: `kit` has 1 error; nothing was exported",
    );
    assert_eq!(run.stdout, "");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn a_destination_with_files_is_refused_and_an_empty_one_is_used() {
    let dir = tempdir();
    kit(dir.path(), "");
    write_files(dir.path(), &[("out/mine.txt", "keep me\n")]);
    let before = tree(dir.path());
    let run = capm(dir.path(), &["export", "kit", "--to", "skills", "out"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    says(
        &run,
        "error[destination-not-empty]: `out` already exists and is not an empty directory",
    );
    assert_eq!(tree(dir.path()), before);
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let run = capm(dir.path(), &["export", "kit", "--to", "skills", "file"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let run = capm(dir.path(), &["export", "kit", "--to", "skills", "empty"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        dir.path()
            .join("empty/skills/review-notes/SKILL.md")
            .is_file()
    );
}

#[test]
fn unknown_bundles_and_missing_paths_are_named() {
    let dir = tempdir();
    let run = capm(dir.path(), &["export", "githb", "--to", "skills", "out"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    says(&run, "error[bundle-not-found]");
    says(&run, "did you mean `github`?");
    let run = capm(
        dir.path(),
        &["export", "./nowhere", "--to", "skills", "out"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    says(&run, "`./nowhere` does not exist");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn json_output_lists_the_files_and_notes() {
    let dir = tempdir();
    kit(dir.path(), "");
    let doc = Schemas::default().check(
        dir.path(),
        &["export", "kit", "--to", "skills", "out", "--format", "json"],
        0,
        "export.schema.json",
    );
    assert_eq!(doc["name"], "kit");
    assert_eq!(doc["to"], "skills");
    assert_eq!(doc["dir"], "out");
    assert_eq!(
        doc["files"],
        json!([
            "skills/review-notes/SKILL.md",
            "skills/review-notes/scripts/count.sh"
        ])
    );
    assert_eq!(doc["notes"].as_array().unwrap().len(), 3);
}

/// A bundle as capm reads it back: its name, each resource by id (with its command, URL or
/// path as `capm info` shows them), and the environment variables each resource reads (as
/// `capm plan install` lists them). `entry` is its line under capm.toml's `[bundles]`, with
/// `{NAME}` for the name lint reports for `dir` (when given).
fn read_back(root: &Path, dir: Option<&str>, entry: &str) -> (String, Value, Vec<(String, Value)>) {
    let name = match dir {
        Some(dir) => {
            let lint = capm(root, &["lint", dir, "--format", "json"]);
            let doc = lint.json();
            assert_eq!(
                lint.code, 0,
                "`capm lint {dir}` is not clean:\n{}",
                lint.stdout
            );
            let errors = doc["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["severity"] == "error")
                .count();
            assert_eq!(errors, 0, "{}", lint.stdout);
            doc["bundles"][0]["name"]
                .as_str()
                .expect("lint names the bundle")
                .to_string()
        }
        None => entry.split(' ').next().unwrap().to_string(),
    };
    let project = root.join(format!("project-{name}"));
    write_files(
        &project,
        &[(
            "capm.toml",
            &format!("[bundles]\n{}\n", entry.replace("{NAME}", &name)),
        )],
    );
    let info = capm(&project, &["info", &name, "--format", "json"]);
    assert_eq!(info.code, 0, "{}", info.stderr);
    let mut resources = serde_json::Map::new();
    for r in info.json()["resources"].as_array().unwrap() {
        let mut r = r.clone();
        let id = r.as_object_mut().unwrap().remove("id").unwrap();
        resources.insert(id.as_str().unwrap().to_string(), r);
    }
    let plan = capm(&project, &["plan", "install", "--format", "json"]);
    let env = plan.json()["environment"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", plan.stdout))
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["resources"].clone(),
            )
        })
        .collect();
    (name, Value::Object(resources), env)
}

/// Exports `bundle` to `to`, reads the result back, and compares its resources of the
/// kinds `kinds` (names; MCP servers' commands, URLs and environment variables) with the
/// original's; for skills, the files too.
fn round_trip(root: &Path, bundle: &str, entry: &str, to: &str, kinds: &[&str]) {
    let out = format!("out-{bundle}-{}", to.replace('.', "-"));
    let run = capm(root, &["export", bundle, "--to", to, &out]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (_, original, env) = read_back(root, None, entry);
    let (_, exported, env_back) = read_back(
        root,
        Some(&out),
        "{NAME} = { path = \"../OUT\" }"
            .replace("OUT", &out)
            .as_str(),
    );
    let of_kinds = |v: &Value| -> Vec<(String, Value)> {
        let mut all: Vec<(String, Value)> = v
            .as_object()
            .unwrap()
            .iter()
            .filter(|(id, _)| kinds.iter().any(|k| id.starts_with(&format!("{k}:"))))
            .map(|(id, r)| {
                (
                    id.clone(),
                    json!({"command": r["command"], "url": r["url"]}),
                )
            })
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    };
    assert_eq!(
        of_kinds(&exported),
        of_kinds(&original),
        "resources after {to}"
    );
    let env_of = |e: &[(String, Value)]| -> Vec<(String, Value)> {
        let mut e: Vec<(String, Value)> = e
            .iter()
            .filter(|(_, r)| {
                r.as_array().unwrap().iter().any(|id| {
                    kinds
                        .iter()
                        .any(|k| id.as_str().unwrap().starts_with(&format!("{k}:")))
                })
            })
            .cloned()
            .collect();
        e.sort_by(|a, b| a.0.cmp(&b.0));
        e
    };
    assert_eq!(env_of(&env_back), env_of(&env), "environment after {to}");
    for (id, r) in exported.as_object().unwrap() {
        if let (Some(skill), Some(path)) = (id.strip_prefix("skill:"), r["path"].as_str()) {
            let back = tree(&root.join(&out).join(path));
            assert!(
                back.keys().any(|k| k.ends_with("SKILL.md")),
                "{id} at {path}"
            );
            let source = original[id]["path"].as_str().unwrap();
            if entry.contains("path") {
                assert_eq!(
                    back,
                    tree(&root.join("kit").join(source)),
                    "{skill}'s files"
                );
            }
        }
    }
}

const KIT_ENTRY: &str = "kit = { path = \"../kit\" }";

#[test]
fn skills_round_trip_through_the_agent_skills_reader() {
    let dir = tempdir();
    kit(dir.path(), "");
    round_trip(dir.path(), "kit", KIT_ENTRY, "skills", &["skill"]);
    round_trip(
        dir.path(),
        "github",
        "github = \"^1.0.0\"",
        "skills",
        &["skill"],
    );
}

#[test]
fn a_claude_code_plugin_round_trips_through_its_reader() {
    let dir = tempdir();
    kit(dir.path(), REMOTE);
    round_trip(
        dir.path(),
        "kit",
        KIT_ENTRY,
        "claude-plugin",
        &["mcp", "skill", "agent", "command"],
    );
    round_trip(
        dir.path(),
        "github",
        "github = \"^1.0.0\"",
        "claude-plugin",
        &["mcp", "skill"],
    );
}

#[test]
fn server_json_round_trips_through_its_reader() {
    let dir = tempdir();
    kit(dir.path(), "");
    round_trip(dir.path(), "kit", KIT_ENTRY, "server.json", &["mcp"]);
    round_trip(
        dir.path(),
        "github",
        "github = \"^1.0.0\"",
        "server.json",
        &["mcp"],
    );
}
