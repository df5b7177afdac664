//! Where and how OpenCode expands `{env:NAME}` and `{file:PATH}`, which SUBST-001..003 and
//! docs/security-rules.md §12 rely on: anywhere in the config text (keys too) before it is
//! parsed, `{env:}` first so that it can name a file, case-sensitive, `~/` the home
//! directory, a relative path from the config file's directory, contents trimmed, nothing
//! else trimmed; and not in markdown agents or commands.

use std::path::Path;

use crate::client::OpenCode;
use crate::support::{capm, project_with_bundle, tempdir, write_files};

const ENV: &[(&str, &str)] = &[("CAPM_SUBST_NAME", "named"), ("CAPM_SUBST_FILE", "data")];

fn write_config(dir: &Path, text: &str) {
    write_files(dir, &[("opencode.json", text)]);
}

#[test]
fn opencode_expands_env_and_file_anywhere_in_its_config_text() {
    let Some(oc) = OpenCode::found("opencode_expands_env_and_file_anywhere_in_its_config_text")
    else {
        return;
    };
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        oc.home().join(".netrc"),
        "machine example.com password hunter2\n",
    )
    .unwrap();
    write_files(
        d,
        &[("data.txt", "from a file\n"), ("q.txt", "a\"b\\c\n\n")],
    );
    write_config(
        d,
        r#"{
  "mcp": {
    "{env:CAPM_SUBST_NAME}": {
      "type": "local",
      "enabled": false,
      "command": ["srv", "{file:~/.netrc}", "{file:./data.txt}", "{file:{env:CAPM_SUBST_FILE}.txt}", "{file:q.txt}"],
      "environment": {"A": "{env:CAPM_SUBST_FILE}", "B": "{env:CAPM_SUBST_UNSET}", "C": "{ENV:CAPM_SUBST_FILE} {FILE:data.txt} {env:} {file:}"}
    }
  }
}
"#,
    );
    let config = oc.config(d, ENV);
    let server = &config["mcp"]["named"];
    assert_eq!(
        server["command"],
        serde_json::json!([
            "srv",
            "machine example.com password hunter2",
            "from a file",
            "from a file",
            "a\"b\\c"
        ]),
        "{config:#}"
    );
    assert_eq!(server["environment"]["A"], "data");
    assert_eq!(server["environment"]["B"], "");
    assert_eq!(
        server["environment"]["C"],
        "{ENV:CAPM_SUBST_FILE} {FILE:data.txt} {env:} {file:}"
    );
}

#[test]
fn a_spaced_or_missing_file_reference_makes_the_whole_config_invalid() {
    let Some(oc) =
        OpenCode::found("a_spaced_or_missing_file_reference_makes_the_whole_config_invalid")
    else {
        return;
    };
    let dir = tempdir();
    let d = dir.path();
    write_files(d, &[("data.txt", "x")]);
    write_config(
        d,
        r#"{"mcp": {"s": {"type": "remote", "url": "https://example.com/{file: data.txt}", "enabled": false}}}"#,
    );
    let out = oc.run(d, &["debug", "config"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("bad file reference"), "{stderr}");
    assert!(stderr.contains("{file: data.txt}"), "{stderr}");
}

#[test]
fn markdown_agents_and_commands_are_not_substituted() {
    let Some(oc) = OpenCode::found("markdown_agents_and_commands_are_not_substituted") else {
        return;
    };
    let dir = tempdir();
    let d = dir.path();
    let text = "---\ndescription: \"d {env:CAPM_SUBST_FILE} {file:data.txt}\"\n---\nbody {env:CAPM_SUBST_FILE} {file:data.txt}\n";
    write_files(
        d,
        &[
            ("data.txt", "from a file"),
            (".opencode/agent/a.md", text),
            (".opencode/command/c.md", text),
        ],
    );
    let config = oc.config(d, ENV);
    let raw = "d {env:CAPM_SUBST_FILE} {file:data.txt}";
    assert_eq!(config["agent"]["a"]["description"], raw, "{config:#}");
    assert_eq!(
        config["agent"]["a"]["prompt"],
        "body {env:CAPM_SUBST_FILE} {file:data.txt}"
    );
    assert_eq!(config["command"]["c"]["description"], raw);
    assert_eq!(
        config["command"]["c"]["template"],
        "body {env:CAPM_SUBST_FILE} {file:data.txt}"
    );
}

#[test]
fn a_declared_file_read_capm_installs_is_read_from_the_project() {
    let Some(oc) = OpenCode::found("a_declared_file_read_capm_installs_is_read_from_the_project")
    else {
        return;
    };
    let dir = project_with_bundle(
        "[mcp.tool]\ncommand = \"npx\"\nargs = [\"-y\", \"server@1.0.0\", \"--prompt\", \"{file:prompts/system.md}\"]\n\
         env.REGION = { from-env = \"CAPM_SUBST_FILE\" }\n\n\
         [[permissions]]\nkind = \"filesystem\"\nid = \"read-prompt\"\nreason = \"Sends the project's prompt\"\n",
    );
    let d = dir.path();
    write_files(
        d,
        &[
            ("b/prompts/system.md", "the bundle's copy"),
            ("prompts/system.md", "the project's prompt\n"),
        ],
    );
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = oc.config(d, ENV);
    let server = &config["mcp"]["tool"];
    assert_eq!(
        server["command"],
        serde_json::json!([
            "npx",
            "-y",
            "server@1.0.0",
            "--prompt",
            "the project's prompt"
        ]),
        "{config:#}"
    );
    assert_eq!(server["environment"]["REGION"], "data");
}
