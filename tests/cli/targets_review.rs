//! A project with several clients, used as a new user would: the warnings name the clients
//! truly, a config file whose shape capm cannot write into blocks the plan instead of being
//! replaced, and capm.toml's mistakes about `targets` are each reported once.

use std::path::Path;

use serde_json::Value;

use crate::support::{capm, project, tree};

/// Replaces capm.toml's `target = "opencode"` line with `line`.
fn set_target_line(d: &Path, line: &str) {
    let path = d.join("capm.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let old = text
        .lines()
        .find(|l| l.starts_with("target = "))
        .expect("capm init writes `target`")
        .to_string();
    std::fs::write(&path, text.replace(&old, line)).unwrap();
}

/// The plan's one BLOCKED action line; fails unless there is exactly one.
fn only_blocked_line(run: &crate::support::Run) -> &str {
    let blocked: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("BLOCKED"))
        .collect();
    assert_eq!(blocked.len(), 1, "{}", run.stdout);
    blocked[0]
}

fn messages(doc: &Value, code: &str) -> Vec<String> {
    doc["plan"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn not_for_client_names_only_the_clients_that_get_the_resource() {
    let dir = project();
    let d = dir.path();
    set_target_line(
        d,
        r#"targets = ["opencode", "claude-code", "codex", "copilot", "vscode"]"#,
    );
    let run = capm(d, &["add", "code-review", "--dry-run", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let left_out = messages(&run.json(), "not-for-client");
    assert_eq!(
        left_out,
        [
            "`command:review` of code-review is not installed for Codex, which has no place for it: it is installed for OpenCode, Claude Code only",
            "`command:review` of code-review is not installed for Copilot CLI, which has no place for it: it is installed for OpenCode, Claude Code only",
            "`command:review` of code-review is not installed for VS Code, which has no place for it: it is installed for OpenCode, Claude Code only",
        ]
    );
}

#[test]
fn an_unset_secret_is_asked_of_every_client_that_reads_it() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"targets = ["opencode", "codex"]"#);
    let run = capm(d, &["add", "github", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stderr.contains(
            "`GITHUB_PERSONAL_ACCESS_TOKEN` is not set: it is a secret that mcp:github needs; set it in the environment OpenCode or Codex starts in"
        ),
        "{}",
        run.stderr
    );
}

/// `capm add time` with `.mcp.json` holding `content`: blocked (exit 1) with `help`, and
/// not a byte written anywhere.
fn refused_over(content: &str, help: &str) {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"targets = ["opencode", "claude-code"]"#);
    std::fs::write(d.join(".mcp.json"), content).unwrap();
    let before = tree(d);
    let run = capm(d, &["add", "time", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stdout.contains("(invalid-config)"), "{}", run.stdout);
    assert!(run.stdout.contains(help), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("the plan is blocked; nothing was written"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(d), before, "a refused plan wrote something");
}

#[test]
fn a_config_file_that_is_not_an_object_blocks_and_is_kept() {
    refused_over(
        "[1]\n",
        "help: the top level of `.mcp.json` is an array, not an object; capm would replace it: fix the file first",
    );
    refused_over(
        "null\n",
        "help: the top level of `.mcp.json` is null, not an object; capm would replace it: fix the file first",
    );
}

#[test]
fn a_servers_key_that_is_not_an_object_blocks_at_plan_time() {
    refused_over(
        "{\"mcpServers\": []}\n",
        "help: `/mcpServers` in `.mcp.json` is an array, not an object; capm would replace it: fix the file first",
    );
    refused_over(
        "{\"mcpServers\": \"none\"}\n",
        "help: `/mcpServers` in `.mcp.json` is a string, not an object; capm would replace it: fix the file first",
    );
}

#[test]
fn a_config_file_of_comments_alone_is_written_into() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"targets = ["claude-code"]"#);
    std::fs::write(d.join(".mcp.json"), "// mine\n").unwrap();
    let run = capm(d, &["add", "time", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let text = std::fs::read_to_string(d.join(".mcp.json")).unwrap();
    assert!(text.starts_with("// mine\n"), "{text}");
    assert!(text.contains("\"time\""), "{text}");
}

#[test]
fn targets_of_the_wrong_type_are_one_error_not_also_empty() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, "targets = [1]");
    let before = tree(d);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains(
            "error[invalid-type]: `project.targets[0]` must be a string, found an integer"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("is empty"), "{}", run.stderr);
    assert_eq!(tree(d), before);
}

#[test]
fn opencode_and_qwen_share_one_skills_directory() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"targets = ["opencode", "qwen"]"#);
    let run = capm(d, &["add", "time", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout
            .contains("create   skill:time-zones  .agents/skills/time-zones  for opencode, qwen"),
        "{}",
        run.stdout
    );
    assert!(d.join(".agents/skills/time-zones/SKILL.md").is_file());
    for own in [".opencode/skills", ".qwen/skills"] {
        assert!(!d.join(own).exists(), "{own} was written");
    }
}

#[test]
fn an_edit_in_one_clients_file_can_be_restored_and_kept() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"targets = ["opencode", "codex"]"#);
    let run = capm(d, &["add", "code-review", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let codex = d.join(".codex/agents/reviewer.toml");
    let installed = std::fs::read_to_string(&codex).unwrap();
    std::fs::write(&codex, format!("{installed}# mine\n")).unwrap();
    // The edit is in Codex's file only: OpenCode's, planned first, is as installed.
    let run = capm(d, &["restore", "agent:reviewer", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let restored: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("(restored)"))
        .collect();
    assert_eq!(restored.len(), 1, "{}", run.stdout);
    assert!(
        restored[0].contains(".codex/agents/reviewer.toml  for codex"),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read_to_string(&codex).unwrap(), installed);
    std::fs::write(&codex, format!("{installed}# mine again\n")).unwrap();
    let run = capm(d, &["keep", "agent:reviewer", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.contains("(recorded-as-yours)"), "{}", run.stdout);
    assert!(
        std::fs::read_to_string(&codex)
            .unwrap()
            .ends_with("# mine again\n")
    );
    // Nothing edited any more that capm does not record as yours: still refused.
    let run = capm(d, &["restore", "skill:code-review", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("error[not-edited]"), "{}", run.stderr);
}

#[test]
fn a_codex_servers_table_written_inline_is_edited_inline_and_given_back() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"target = "codex""#);
    let mine = "# mine\nmcp_servers = { mine = { command = \"x\" } }\n";
    std::fs::create_dir_all(d.join(".codex")).unwrap();
    std::fs::write(d.join(".codex/config.toml"), mine).unwrap();
    let run = capm(d, &["add", "time", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let text = std::fs::read_to_string(d.join(".codex/config.toml")).unwrap();
    let doc: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
    let servers = doc["mcp_servers"].as_table().unwrap();
    assert_eq!(servers["mine"]["command"].as_str(), Some("x"), "{text}");
    assert_eq!(servers["time"]["command"].as_str(), Some("uvx"), "{text}");
    let run = capm(d, &["remove", "time", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        std::fs::read_to_string(d.join(".codex/config.toml")).unwrap(),
        mine
    );
}

#[test]
fn a_codex_config_saved_with_crlf_keeps_its_line_endings() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"target = "codex""#);
    let mine = "# mine\r\nmodel = \"o3\"\r\n";
    std::fs::create_dir_all(d.join(".codex")).unwrap();
    std::fs::write(d.join(".codex/config.toml"), mine).unwrap();
    let run = capm(d, &["add", "time", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let text = std::fs::read_to_string(d.join(".codex/config.toml")).unwrap();
    assert!(text.starts_with(mine), "{text:?}");
    assert!(!text.replace("\r\n", "").contains('\n'), "{text:?}");
    let run = capm(d, &["remove", "time", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        std::fs::read_to_string(d.join(".codex/config.toml")).unwrap(),
        mine
    );
}

#[test]
fn removing_from_a_config_that_no_longer_parses_says_which_action_is_blocked() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"targets = ["opencode", "gemini"]"#);
    let run = capm(d, &["add", "time", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    std::fs::write(d.join(".gemini/settings.json"), "{ \"mcpServers\": {").unwrap();
    let before = tree(d);
    let run = capm(d, &["remove", "time", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        only_blocked_line(&run)
            .contains(".gemini/settings.json /mcpServers/time  for gemini  (invalid-config)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("help: `.gemini/settings.json` does not parse; fix it first"),
        "{}",
        run.stdout
    );
    assert_eq!(tree(d), before, "a blocked removal wrote something");
}

#[test]
fn a_name_only_copilot_sees_elsewhere_blocks_the_place_it_shares_with_claude_code() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"targets = ["claude-code", "copilot"]"#);
    std::fs::create_dir_all(d.join(".github")).unwrap();
    std::fs::write(
        d.join(".github/mcp.json"),
        "{\"mcpServers\": {\"time\": {\"command\": \"mine\"}}}\n",
    )
    .unwrap();
    let before = tree(d);
    let run = capm(d, &["add", "time", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        only_blocked_line(&run)
            .contains(".mcp.json /mcpServers/time  for claude-code, copilot  (shadowed)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("help: `.github/mcp.json` defines `mcp:time` too"),
        "{}",
        run.stdout
    );
    assert_eq!(tree(d), before, "a blocked plan wrote something");
}

#[test]
fn a_modified_skill_left_behind_by_a_move_is_reported_as_read_twice() {
    let dir = project();
    let d = dir.path();
    let run = capm(d, &["add", "time", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let old = d.join(".opencode/skills/time-zones/SKILL.md");
    let edited = format!("{}my edit\n", std::fs::read_to_string(&old).unwrap());
    std::fs::write(&old, &edited).unwrap();
    set_target_line(d, r#"targets = ["opencode", "claude-code"]"#);
    let run = capm(d, &["install", "--yes", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        messages(&run.json(), "skill-read-twice"),
        [
            "OpenCode reads `skill:time-zones` twice: from `.claude/skills/time-zones`, where it moved, and from `.opencode/skills/time-zones`, which stays because you modified it"
        ]
    );
    assert_eq!(std::fs::read_to_string(&old).unwrap(), edited);
    assert!(d.join(".claude/skills/time-zones/SKILL.md").is_file());
}

#[test]
fn global_scope_with_another_client_is_a_lint_error_and_refused_by_list() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"target = "claude-code""#);
    let path = d.join("capm.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("scope = \"project\"", "scope = \"global\""),
    )
    .unwrap();
    let error = "error[invalid-project]: `scope = \"global\"` installs into OpenCode's user config only, and `claude-code` is another client";
    let before = tree(d);
    for args in [&["lint", "capm.toml"][..], &["list"], &["install", "--yes"]] {
        let run = capm(d, args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.transcript());
        assert!(run.stderr.contains(error), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("capm.toml:3:10"), "{}", run.stderr);
    }
    assert_eq!(tree(d), before);
}

#[test]
fn a_config_starting_with_a_byte_order_mark_is_named_as_such() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"targets = ["claude-code"]"#);
    std::fs::write(d.join(".mcp.json"), "\u{feff}{\"mcpServers\": {}}\n").unwrap();
    let before = tree(d);
    let run = capm(d, &["add", "time", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains(
            "error[invalid-config]: `.mcp.json` does not parse: the file starts with a byte-order mark (U+FEFF)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(tree(d), before);
}

#[test]
fn keeping_your_own_version_for_one_client_of_a_shared_place_holds_in_any_order() {
    for order in [
        r#"targets = ["claude-code", "copilot"]"#,
        r#"targets = ["copilot", "claude-code"]"#,
    ] {
        let dir = project();
        let d = dir.path();
        set_target_line(d, order);
        std::fs::create_dir_all(d.join(".github")).unwrap();
        std::fs::write(
            d.join(".github/mcp.json"),
            "{\"mcpServers\": {\"time\": {\"command\": \"mine\"}}}\n",
        )
        .unwrap();
        let run = capm(d, &["add", "time", "--skip", "mcp:time", "--yes"]);
        assert_eq!(run.code, 0, "{order}: {}", run.transcript());
        assert!(
            run.stdout
                .contains(".mcp.json /mcpServers/time  for claude-code, copilot  (kept-yours)")
                || run
                    .stdout
                    .contains(".mcp.json /mcpServers/time  for copilot, claude-code  (kept-yours)"),
            "{order}: {}",
            run.stdout
        );
        let mcp = std::fs::read_to_string(d.join(".mcp.json")).unwrap_or_default();
        assert!(!mcp.contains("\"time\""), "{order}: {mcp}");
    }
}

#[test]
fn a_broken_user_file_of_a_client_is_a_warning_not_a_block() {
    let dir = project();
    let d = dir.path();
    set_target_line(d, r#"targets = ["claude-code"]"#);
    std::fs::create_dir_all(d.join(".no-user-home")).unwrap();
    std::fs::write(d.join(".no-user-home/.claude.json"), "{ \"mcpServers\": {").unwrap();
    let run = capm(d, &["add", "time", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.transcript().contains("warning[invalid-config]")
            && run
                .transcript()
                .contains(".no-user-home/.claude.json` does not parse"),
        "{}",
        run.transcript()
    );
    assert!(d.join(".mcp.json").is_file());
    assert_eq!(
        std::fs::read_to_string(d.join(".no-user-home/.claude.json")).unwrap(),
        "{ \"mcpServers\": {",
        "never written"
    );
}

#[test]
fn an_oauth_client_is_refused_for_claude_code_and_kept_for_opencode() {
    let manifest = "[bundle]\nname = \"o\"\nversion = \"1.0.0\"\ndescription = \"One server\"\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
         [mcp.remote]\nurl = \"https://mcp.example.com/mcp\"\n\
         oauth = { client-id = { from-env = \"OAUTH_ID\" }, client-secret = { from-env = \"OAUTH_SECRET\", secret = true } }\n";
    for (line, code) in [
        (r#"targets = ["opencode", "claude-code"]"#, 1),
        (r#"target = "opencode""#, 0),
    ] {
        let dir = project();
        let d = dir.path();
        set_target_line(d, line);
        std::fs::create_dir_all(d.join("o")).unwrap();
        std::fs::write(d.join("o/bundle.toml"), manifest).unwrap();
        let before = tree(d);
        let run = capm(d, &["add", "./o", "--yes"]);
        assert_eq!(run.code, code, "{line}: {}", run.transcript());
        if code == 1 {
            assert!(
                run.stdout.contains(
                    "help: Claude Code cannot take `mcp:remote`: it names an OAuth client (`oauth`), and Claude Code has no place for one in its config"
                ),
                "{}",
                run.stdout
            );
            assert_eq!(tree(d), before, "nothing written");
        }
    }
}
