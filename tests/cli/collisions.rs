//! Names OpenCode reads from the directories above a project, up to its git worktree root
//! (docs/spec.md §6.2, §7.5): a config entry or a file of the same name there is a
//! `shadowed` conflict, settled with `--skip`; nothing beyond the root counts.

use std::path::Path;

use crate::support::{capm, tree};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A project in `dir` with a path bundle providing `mcp:srv`, `agent:x` and `command:c`.
fn project_with_kit(dir: &Path) {
    write(
        &dir.join("kit/bundle.toml"),
        "[bundle]\nname = \"kit\"\nversion = \"1.0.0\"\ndescription = \"d\"\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
         [mcp.srv]\nurl = \"https://srv.example.com/mcp\"\n\n\
         [agents.x]\npath = \"agents/x.md\"\n\n[commands.c]\npath = \"commands/c.md\"\n",
    );
    write(
        &dir.join("kit/agents/x.md"),
        "---\ndescription: The kit agent\n---\nAgent.\n",
    );
    write(
        &dir.join("kit/commands/c.md"),
        "---\ndescription: The kit command\n---\nCommand.\n",
    );
    write(
        &dir.join("capm.toml"),
        "[bundles]\nkit = { path = \"kit\" }\n",
    );
}

fn git_init(dir: &Path) {
    let out = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success());
}

fn reasons(plan: &serde_json::Value) -> Vec<(String, String, String)> {
    let field = |a: &serde_json::Value, k: &str| a[k].as_str().unwrap_or_default().to_string();
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (field(a, "resource"), field(a, "action"), field(a, "reason")))
        .collect()
}

#[test]
fn names_above_the_project_up_to_the_git_root_are_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path();
    let root = outside.join("repo");
    let app = root.join("app");
    std::fs::create_dir_all(&app).unwrap();
    git_init(&root);
    project_with_kit(&app);
    let parent_config = root.join("opencode.json");
    write(
        &parent_config,
        r#"{"mcp":{"srv":{"type":"remote","url":"https://other","headers":{"X":"1"}}}}"#,
    );
    let parent_agent = root.join(".opencode/agents/x.md");
    write(&parent_agent, "---\ndescription: mine\n---\nMine.\n");
    // Beyond the worktree root OpenCode reads nothing.
    write(
        &outside.join(".opencode/commands/c.md"),
        "---\ndescription: far\n---\nFar.\n",
    );
    let before = tree(outside);
    let run = capm(&app, &["plan", "install", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let plan = run.json();
    let shadowed = |id: &str| (id.to_string(), "block".into(), "shadowed".into());
    assert_eq!(
        reasons(&plan),
        [
            shadowed("mcp:srv"),
            shadowed("agent:x"),
            ("command:c".into(), "create".into(), String::new()),
        ]
    );
    let helps: Vec<&str> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["help"].as_str())
        .collect();
    assert!(helps[0].starts_with(&format!(
        "`{}` defines `mcp:srv` too",
        parent_config.display()
    )));
    assert!(helps[1].starts_with(&format!(
        "`{}` defines `agent:x` too",
        parent_agent.display()
    )));
    assert_eq!(before, tree(outside), "planning wrote nothing");

    // Keeping those from above settles the plan; the rest is installed.
    let run = capm(
        &app,
        &["install", "--yes", "--skip", "mcp:srv", "--skip", "agent:x"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(app.join(".opencode/commands/c.md").is_file());
    assert!(!app.join(".opencode/agents/x.md").exists());
    let config = std::fs::read_to_string(app.join("opencode.json")).unwrap_or_default();
    assert!(!config.contains("srv"), "{config}");
}

#[test]
fn outside_a_git_worktree_the_directories_above_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    if dir.path().ancestors().any(|a| a.join(".git").exists()) {
        eprintln!("SKIPPED: the temporary directory is inside a git worktree");
        return;
    }
    let app = dir.path().join("app");
    project_with_kit(&app);
    write(
        &dir.path().join("opencode.json"),
        r#"{"mcp":{"srv":{"type":"remote","url":"https://other"}}}"#,
    );
    write(
        &dir.path().join(".opencode/agents/x.md"),
        "---\ndescription: mine\n---\nMine.\n",
    );
    let run = capm(&app, &["plan", "install", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let actions = reasons(&run.json());
    assert!(
        actions.iter().all(|(_, action, _)| action == "create"),
        "{actions:?}"
    );
}
