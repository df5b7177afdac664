//! Foreign bundles as a new user meets them: refusals keep the code the format's reader
//! gave them whatever the source, and what a document leaves unsaid is never filled in
//! with nothing.

use crate::skill_repos::{World, refused};
use crate::support::{capm, tempdir, tree, write_files};

/// A project into which `capm export BUNDLE --to server.json DIR` wrote.
fn exported(bundle: &str, to: &str) -> tempfile::TempDir {
    let dir = crate::support::project();
    let run = capm(dir.path(), &["export", bundle, "--to", "server.json", to]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    dir
}

/// A JSON file capm wrote.
fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// `text` (a run's stdout or stderr) holds `part`.
fn says(text: &str, part: &str) {
    assert!(text.contains(part), "{part}:\n{text}");
}

#[test]
fn an_unknown_skill_of_a_git_repository_is_refused_as_skill_not_found() {
    let w = World::new();
    w.repository("skills-repo", "skills-repo", Some("v1.0.0"));
    let p = w.project("p", "");
    let args = ["add", "git+../skills-repo", "--skill", "pfd", "-y"];
    let says = [
        "error[skill-not-found]: ",
        "the repository holds no skill named `pfd` (the skills there are: docx, pdf, xlsx)",
    ];
    refused(&w, &p, &args, 1, &says);
}

const REMOTE_WITH_A_VARIABLE: &str = r#"{
  "name": "com.example/tenant",
  "description": "A hosted server per tenant",
  "version": "1.0.0",
  "remotes": [
    {
      "type": "streamable-http",
      "url": "https://mcp.example.com/{tenant}/mcp",
      "variables": { "tenant": { "description": "Your tenant", "isRequired": true } }
    }
  ]
}
"#;

#[test]
fn a_remote_url_whose_variable_has_no_value_is_fmt_002_not_an_empty_path_segment() {
    let dir = tempdir();
    let d = dir.path();
    write_files(d, &[("tenant/server.json", REMOTE_WITH_A_VARIABLE)]);
    let before = tree(d);
    let run = capm(d, &["lint", "tenant/server.json", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let found = only_fmt_002(&run.json());
    let message = found["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "the remote URL `https://mcp.example.com/{tenant}/mcp` needs `tenant`, which has no value or default"
        ),
        "{message}"
    );
    assert_eq!(found["location"]["file"], "tenant/server.json");
    assert_eq!(found["location"]["line"], 6);
    assert_eq!(tree(d), before);
}

const MCP_WITH_DEFAULTS: &str = r#"{
  "mcpServers": {
    "acme": {
      "command": "npx",
      "args": ["-y", "@acme/mcp-server@2.0.1", "--port", "${PORT:-8080}"],
      "env": { "PORT": "${PORT:-8080}" }
    }
  }
}
"#;

/// `capm lint DIR --format json` of a plugin whose only server is `.mcp.json`'s `mcp`: the
/// one FMT-002 finding.
fn left_out_server(mcp_json: &str) -> serde_json::Value {
    let dir = tempdir();
    let d = dir.path();
    write_files(
        d,
        &[
            ("plug/.claude-plugin/plugin.json", r#"{ "name": "acme" }"#),
            ("plug/.mcp.json", mcp_json),
        ],
    );
    let run = capm(d, &["lint", "plug", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    only_fmt_002(&run.json())
}

/// The one FMT-002 finding of a `capm.diagnostics/v1` document.
fn only_fmt_002(doc: &serde_json::Value) -> serde_json::Value {
    let found: Vec<_> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "FMT-002")
        .collect();
    assert_eq!(found.len(), 1, "{doc:#}");
    found[0].clone()
}

#[test]
fn a_default_in_a_server_argument_is_named_as_written_at_that_argument() {
    let finding = left_out_server(MCP_WITH_DEFAULTS);
    assert_eq!(
        finding["message"],
        "the server `acme` reads `${PORT:-8080}` in `args`, and OpenCode has no defaults for \
         variables; it is left out"
    );
    let at = &finding["location"];
    assert_eq!(at["file"], "plug/.mcp.json");
    assert_eq!((&at["line"], &at["column"]), (&5.into(), &58.into()));
    assert_eq!(
        (&at["end_line"], &at["end_column"]),
        (&5.into(), &73.into())
    );
}

#[test]
fn a_variable_the_server_does_not_read_is_pointed_at_in_its_argument() {
    let mcp = MCP_WITH_DEFAULTS.replace("\"${PORT:-8080}\"]", "\"${PORT}\", \"${HOME}\"]");
    let finding = left_out_server(&mcp.replace(":-8080}\" }", "}\" }"));
    assert_eq!(
        finding["message"],
        "the server `acme` reads `${HOME}` in `args`, which OpenCode cannot fill in there: the \
         server's `env` and `headers` do not read it; it is left out"
    );
    let at = &finding["location"];
    assert_eq!((&at["line"], &at["column"]), (&5.into(), &69.into()));
}

#[test]
fn a_repository_url_into_a_directory_exports_as_the_repository_and_its_subfolder() {
    let dir = exported("fetch", "out");
    let d = dir.path();
    let doc = read_json(&d.join("out/server.json"));
    assert_eq!(doc["name"], "io.github.modelcontextprotocol/fetch");
    assert_eq!(
        doc["repository"],
        serde_json::json!({
            "url": "https://github.com/modelcontextprotocol/servers",
            "source": "github",
            "subfolder": "src/fetch"
        })
    );
}

#[test]
fn info_takes_an_mcp_registry_server_by_the_name_the_registry_gives_it() {
    let dir = crate::support::project();
    let d = dir.path();
    let servers = [crate::mcp_registry::server("1.2.0", "1.2.0", "active")];
    let srv = crate::mcp_registry::registry(d, &servers);
    let toml = format!(
        "[registries]\nmcp = {{ mcp-registry = \"{}\" }}\n",
        srv.url()
    );
    write_files(d, &[("capm.toml", &toml)]);
    let run = capm(d, &["info", "io.github.acme/weather", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let doc = run.json();
    assert_eq!(doc["name"], "io-github-acme-weather");
    assert_eq!(doc["version"], "1.2.0");
    assert_eq!(doc["source"], "registry+mcp");
    let run = capm(d, &["info", "io.github.acme/weather@1.2.0", "--offline"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout
            .starts_with("io-github-acme-weather 1.2.0 (registry+mcp)\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn add_of_a_server_name_without_its_registry_says_to_name_the_registry() {
    let dir = crate::support::project();
    let d = dir.path();
    let before = tree(d);
    let run = capm(d, &["add", "io.github.acme/weather", "-y"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(
        run.stderr,
        "error: `io.github.acme/weather` does not exist\n\
         help: a bundle's path is read from the current directory; for the MCP Registry server \
         `io.github.acme/weather`, name the registry: `capm add io.github.acme/weather \
         --registry NAME`\n"
    );
    let run = capm(d, &["add", "../kit/tools", "-y"]);
    assert!(
        run.stderr.ends_with("it must hold bundle.toml\n"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(d), before);
}

#[test]
fn a_header_whose_variable_is_required_is_required_after_a_round_trip_through_server_json() {
    let dir = exported("github", "gh");
    let d = dir.path();
    let run = capm(d, &["plan", "install", "./gh"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    says(
        &run.stdout,
        "\n  GITHUB_PERSONAL_ACCESS_TOKEN (secret, required): mcp:github\n",
    );
}

#[test]
fn a_git_plugin_under_another_name_in_capm_toml_is_refused_with_its_own_name() {
    let w = World::new();
    let plugin = w.path("plugin");
    crate::git_server::init_repo(&plugin);
    write_files(
        &plugin,
        &[
            (
                ".claude-plugin/plugin.json",
                r#"{ "name": "docs-kit", "version": "1.0.0" }"#,
            ),
            (
                "skills/docs/SKILL.md",
                "---\nname: docs\ndescription: Write docs. Use when asked for documentation.\n---\n\nWrite docs.\n",
            ),
        ],
    );
    crate::skill_repos::commit(&plugin, Some("v1.0.0"));
    let entry = "docs = { git = \"../plugin\", tag = \"v1.0.0\" }\n";
    let p = w.project("p", entry);
    let says = [
        "error[invalid-bundle-source]: capm.toml asks for `docs` at `git+../plugin?tag=v1.0.0`, \
         but the bundle there is `docs-kit`\n",
    ];
    refused(&w, &p, &["install", "-y"], 1, &says);
}

const PACKAGE_SERVING_HTTP: &str = r#"{
  "name": "io.github.acme/clock",
  "description": "The time, over HTTP",
  "version": "1.0.0",
  "packages": [
    {
      "registryType": "npm",
      "identifier": "@acme/clock-mcp",
      "version": "1.0.0",
      "transport": { "type": "streamable-http", "url": "http://localhost:{port}/mcp" },
      "packageArguments": [
        { "type": "named", "name": "--port", "valueHint": "port", "default": "3000" }
      ]
    }
  ]
}
"#;

#[test]
fn a_package_transport_url_takes_its_port_from_the_argument_it_names() {
    let dir = crate::support::project();
    let d = dir.path();
    write_files(d, &[("clock/server.json", PACKAGE_SERVING_HTTP)]);
    let run = capm(d, &["lint", "clock"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    says(
        &run.stderr,
        "the package serves MCP over streamable-http at `http://localhost:3000/mcp`",
    );
    says(
        &run.stderr,
        "start it yourself: `npx -y @acme/clock-mcp@1.0.0 --port=3000`",
    );
    let run = capm(d, &["add", "./clock", "-y"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let config = read_json(&d.join("opencode.json"));
    assert_eq!(config["mcp"]["clock"]["url"], "http://localhost:3000/mcp");
}

#[test]
fn uvx_options_export_as_runtime_arguments_and_install_back_as_they_were() {
    let dir = exported("postgres", "pg");
    let d = dir.path();
    let doc = read_json(&d.join("pg/server.json"));
    let package = &doc["packages"][0];
    assert_eq!(package["identifier"], "postgres-mcp");
    assert_eq!(package["version"], "0.3.0");
    assert_eq!(
        package["runtimeArguments"],
        serde_json::json!([
            {"type": "positional", "value": "--python"},
            {"type": "positional", "value": "3.12"}
        ])
    );
    let run = capm(d, &["add", "./pg", "-y"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let config = read_json(&d.join("opencode.json"));
    assert_eq!(
        config["mcp"]["postgres"]["command"],
        serde_json::json!([
            "uvx",
            "--python",
            "3.12",
            "postgres-mcp@0.3.0",
            "--access-mode=restricted"
        ])
    );
}

#[test]
fn lint_given_nothing_it_reads_names_the_formats_it_does_read() {
    let dir = tempdir();
    let d = dir.path();
    write_files(d, &[("plug/.mcp.json", "{}"), ("empty/notes.txt", "hi")]);
    let help = "help: pass a bundle directory (native, an Agent Skill or a repository of skills, \
                a Claude Code plugin, an MCP Registry server) or its bundle.toml, SKILL.md, \
                plugin.json or server.json, a capm.toml, or a directory holding bundles\n";
    let run = capm(d, &["lint", "plug/.mcp.json"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(
        run.stderr,
        format!(
            "error: `plug/.mcp.json` is neither a bundle directory nor a file capm lints \
             (bundle.toml, capm.toml, SKILL.md, .claude-plugin/plugin.json, server.json)\n{help}"
        )
    );
    let run = capm(d, &["lint", "empty"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(
        run.stderr,
        format!(
            "error: no bundle (bundle.toml, SKILL.md, .claude-plugin/plugin.json, server.json) \
             or capm.toml found under `empty`\n{help}"
        )
    );
}

#[test]
fn an_unquoted_colon_in_a_skill_description_is_pointed_at_with_how_to_fix_it() {
    let dir = tempdir();
    let d = dir.path();
    let skill = "---\nname: logs\ndescription: Analyze logs. Use when: the user asks about errors\n---\n\nRead the logs.\n";
    write_files(d, &[("logs/SKILL.md", skill)]);
    let before = tree(d);
    let run = capm(d, &["lint", "logs/SKILL.md", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let doc = run.json();
    let finding = &doc["diagnostics"][0];
    assert_eq!(finding["code"], "invalid-front-matter");
    assert_eq!(
        finding["message"],
        "the front matter is not valid YAML: mapping values are not allowed in this context \
         (a value holding `: ` must be quoted: `description: \"…\"`)"
    );
    let at = &finding["location"];
    assert_eq!((&at["line"], &at["column"]), (&3.into(), &36.into()));
    assert_eq!(doc["diagnostics"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(tree(d), before);
}

#[test]
fn a_server_defined_twice_in_a_plugin_is_left_out_with_a_warning_at_the_second() {
    let dir = tempdir();
    let d = dir.path();
    let plugin = r#"{ "name": "tools", "mcpServers": { "api": { "command": "npx", "args": ["-y", "b@2.0.0"] } } }"#;
    let mcp = r#"{ "mcpServers": {
  "api": { "command": "npx", "args": ["-y", "a@1.0.0"] },
  "My Tool": { "command": "npx", "args": ["-y", "c@1.0.0"] },
  "my-tool": { "command": "npx", "args": ["-y", "d@1.0.0"] }
} }
"#;
    write_files(
        d,
        &[
            ("tools/.claude-plugin/plugin.json", plugin),
            ("tools/.mcp.json", mcp),
        ],
    );
    let run = capm(d, &["lint", "tools", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let found: Vec<(String, u64, u64)> = run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let at = &f["location"];
            let line = at["line"].as_u64().unwrap();
            (
                f["message"].as_str().unwrap().to_string(),
                line,
                at["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "the server `api` is left out: `api` in tools/.claude-plugin/plugin.json already \
                 defines the server `api`"
                    .to_string(),
                2,
                3
            ),
            (
                "the server `my-tool` is left out: `My Tool` in tools/.mcp.json already defines \
                 the server `my-tool`"
                    .to_string(),
                4,
                3
            ),
        ]
    );
}

#[test]
fn lint_finds_every_server_json_below_a_directory() {
    let dir = tempdir();
    let d = dir.path();
    let weather = REMOTE_WITH_A_VARIABLE.replace("{tenant}/", "");
    write_files(
        d,
        &[
            ("servers/clock/server.json", PACKAGE_SERVING_HTTP),
            ("servers/tenant/server.json", &weather),
        ],
    );
    let run = capm(d, &["lint", "servers", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let doc = run.json();
    let names: Vec<&str> = doc["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["io-github-acme-clock", "com-example-tenant"]);
    assert_eq!(doc["summary"]["errors"], 0, "{doc:#}");
}

/// `capm lint DIR --format json`: each finding's code, file, line and column.
fn lint_findings(d: &std::path::Path, dir: &str) -> Vec<(String, String, u64, u64)> {
    let run = capm(d, &["lint", dir, "--format", "json"]);
    let doc = run.json();
    let at = |f: &serde_json::Value, k: &str| f["location"][k].as_u64().unwrap_or(0);
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["location"]["file"].as_str().unwrap_or("").to_string();
            let code = f["code"].as_str().unwrap().to_string();
            (code, file, at(f, "line"), at(f, "column"))
        })
        .collect()
}

#[test]
fn an_invalid_skill_name_is_one_finding_at_its_line_in_skill_md() {
    let dir = tempdir();
    let d = dir.path();
    let skill = |name: &str| format!("---\nname: {name}\ndescription: Tools.\n---\n\nUse them.\n");
    write_files(
        d,
        &[
            ("single/PDF-Tools/SKILL.md", &skill("PDF-Tools")),
            (
                "plugin/.claude-plugin/plugin.json",
                r#"{ "name": "plugin" }"#,
            ),
            ("plugin/skills/Bad_Skill/SKILL.md", &skill("Bad_Skill")),
        ],
    );
    let found = |file: &str| vec![("invalid-name".to_string(), file.to_string(), 2, 1)];
    assert_eq!(
        lint_findings(d, "single/PDF-Tools"),
        found("single/PDF-Tools/SKILL.md")
    );
    assert_eq!(
        lint_findings(d, "plugin"),
        found("plugin/skills/Bad_Skill/SKILL.md")
    );
}
