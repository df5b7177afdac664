//! Names OpenCode settles silently (docs/spec.md §7.5), asked of the real OpenCode: which
//! of two agents, commands or skills of one name it keeps, how config files above the
//! project merge, and which commands, agents and skills it provides itself (the lists
//! `src/target/builtins.rs` keeps as data).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::client::{OpenCode, binary};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A markdown agent or command with a description.
fn markdown(path: &Path, description: &str) {
    write(
        path,
        &format!("---\ndescription: {description}\n---\nbody\n"),
    );
}

fn skill(dir: &Path, name: &str, description: &str) {
    write(
        &dir.join(name).join("SKILL.md"),
        &format!("---\nname: {name}\ndescription: {description}\n---\nbody\n"),
    );
}

fn git_init(dir: &Path) {
    let out = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git init failed");
}

/// Where OpenCode found the skill `name`.
fn skill_location(oc: &OpenCode, project: &Path, name: &str) -> String {
    let skills = oc.skills(project);
    let found: Vec<&(String, String)> = skills.iter().filter(|(n, _)| n == name).collect();
    assert_eq!(found.len(), 1, "one skill {name}: {skills:?}");
    found[0].1.clone()
}

#[test]
fn one_of_two_agents_or_commands_of_a_name_is_kept() {
    let Some(oc) = OpenCode::found("one_of_two_agents_or_commands_of_a_name_is_kept") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    markdown(&d.join(".opencode/agent/x.md"), "singular");
    markdown(&d.join(".opencode/agents/x.md"), "plural");
    markdown(&d.join(".opencode/command/c.md"), "singular");
    markdown(&d.join(".opencode/commands/c.md"), "plural");
    let config = oc.config(d, &[]);
    // One of each survives, the other is gone without a word.
    for key in ["agent", "command"] {
        let entries = config[key].as_object().unwrap();
        let name = if key == "agent" { "x" } else { "c" };
        assert_eq!(entries.len(), 1, "{config:#}");
        let kept = entries[name]["description"].as_str().unwrap();
        assert!(["singular", "plural"].contains(&kept), "{config:#}");
    }
}

#[test]
fn the_global_singular_directories_are_read_too() {
    let Some(oc) = OpenCode::found("the_global_singular_directories_are_read_too") else {
        return;
    };
    let global = oc.config_dir();
    markdown(&global.join("agent/x.md"), "singular");
    markdown(&global.join("command/c.md"), "singular");
    skill(&global.join("skill"), "s", "singular");
    let elsewhere = tempfile::tempdir().unwrap();
    let config = oc.config(elsewhere.path(), &[]);
    assert_eq!(
        config["agent"]["x"]["description"], "singular",
        "{config:#}"
    );
    assert_eq!(
        config["command"]["c"]["description"], "singular",
        "{config:#}"
    );
    let at = skill_location(&oc, elsewhere.path(), "s");
    assert!(at.ends_with("opencode/skill/s/SKILL.md"), "{at}");
}

#[test]
fn a_markdown_file_replaces_the_inline_entry_of_its_name() {
    let Some(oc) = OpenCode::found("a_markdown_file_replaces_the_inline_entry_of_its_name") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        &d.join("opencode.json"),
        r#"{"agent":{"x":{"description":"inline","prompt":"p"}},"command":{"c":{"description":"inline","template":"t"}}}"#,
    );
    markdown(&d.join(".opencode/agents/x.md"), "file");
    markdown(&d.join(".opencode/commands/c.md"), "file");
    let config = oc.config(d, &[]);
    assert_eq!(config["agent"]["x"]["description"], "file", "{config:#}");
    assert_eq!(config["agent"]["x"]["prompt"], "body", "{config:#}");
    assert_eq!(config["command"]["c"]["description"], "file", "{config:#}");
    assert_eq!(config["command"]["c"]["template"], "body", "{config:#}");
}

#[test]
fn one_skill_of_a_name_is_kept_across_the_skill_directories() {
    let Some(oc) = OpenCode::found("one_skill_of_a_name_is_kept_across_the_skill_directories")
    else {
        return;
    };
    // capm's directory beside each other one OpenCode reads skills from: one is kept (which
    // one varies from run to run), the other is hidden.
    for other in [".claude/skills", ".agents/skills", ".opencode/skill"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        skill(&d.join(other), "s", "user");
        skill(&d.join(".opencode/skills"), "s", "capm");
        let at = skill_location(&oc, d, "s");
        let kept = [other, ".opencode/skills"]
            .iter()
            .any(|dir| at.ends_with(&format!("{dir}/s/SKILL.md")));
        assert!(kept, "{at}");
    }
}

#[test]
fn config_above_the_project_merges_up_to_the_git_root() {
    let Some(oc) = OpenCode::found("config_above_the_project_merges_up_to_the_git_root") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path();
    let root = outside.join("repo");
    let project = root.join("app");
    std::fs::create_dir_all(&project).unwrap();
    git_init(&root);
    write(
        &outside.join("opencode.json"),
        r#"{"mcp":{"beyond":{"type":"local","command":["x"]}}}"#,
    );
    write(
        &root.join("opencode.json"),
        r#"{"mcp":{"s":{"type":"local","command":["parent"],"environment":{"LEAK":"1"}}}}"#,
    );
    markdown(&root.join(".opencode/agents/up.md"), "from above");
    write(
        &project.join("opencode.json"),
        r#"{"mcp":{"s":{"type":"local","command":["mine"]}}}"#,
    );
    let config = oc.config(&project, &[]);
    let s = &config["mcp"]["s"];
    assert_eq!(s["command"], serde_json::json!(["mine"]), "{config:#}");
    // The parent's environment reaches the project's server.
    assert_eq!(s["environment"]["LEAK"], "1", "{config:#}");
    assert_eq!(config["agent"]["up"]["description"], "from above");
    // Nothing beyond the worktree root.
    assert!(config["mcp"].get("beyond").is_none(), "{config:#}");
}

/// Names of `items` whose `key` is `value` (all when `key` is empty), sorted.
fn names(items: &Value, key: &str, value: &str) -> Vec<String> {
    let mut out: Vec<String> = items
        .as_array()
        .expect("a list")
        .iter()
        .filter(|i| key.is_empty() || i[key] == value)
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn built_ins_are_the_listed_ones_and_a_project_file_replaces_them() {
    use capm::target::builtins;
    let Some(bin) = binary("built_ins_are_the_listed_ones_and_a_project_file_replaces_them") else {
        return;
    };
    let oc = OpenCode::new(bin.clone());
    let empty = tempfile::tempdir().unwrap();
    let version = oc.ok(empty.path(), &["--version"], &[]);
    assert_eq!(version.trim(), builtins::OPENCODE_VERSION);
    let server = oc.serve(empty.path());
    let commands = server.get("/command");
    assert_eq!(
        names(&commands, "source", "command"),
        sorted(builtins::COMMANDS)
    );
    assert_eq!(
        names(&server.get("/agent"), "", ""),
        sorted(builtins::AGENTS)
    );
    drop(server);
    let skills = oc.skills(empty.path());
    let built_in: Vec<&str> = skills
        .iter()
        .filter(|(_, at)| at == "<built-in>")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(built_in, builtins::SKILLS);

    // A fresh home: the stopped server's state is left behind in the first one.
    let oc = OpenCode::new(bin.clone());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    markdown(&d.join(".opencode/commands/review.md"), "mine");
    markdown(&d.join(".opencode/agents/plan.md"), "mine");
    skill(&d.join(".opencode/skills"), "customize-opencode", "mine");
    let server = oc.serve(d);
    let described = |list: &Value, name: &str| -> Vec<Value> {
        let items = list.as_array().unwrap().iter();
        items
            .filter(|i| i["name"] == name)
            .map(|i| i["description"].clone())
            .collect()
    };
    let mine = vec![Value::from("mine")];
    assert_eq!(described(&server.get("/command"), "review"), mine);
    assert_eq!(described(&server.get("/agent"), "plan"), mine);
    let at = skill_location(&oc, d, "customize-opencode");
    assert!(at.ends_with(".opencode/skills/customize-opencode/SKILL.md"));
}
