//! Agent and command front matter OpenCode would refuse blocks an install, and nothing is
//! written; one with only an unknown key installs, with a warning.

use crate::support::{capm, project, tree, write_files};

const MANIFEST: &str = "[bundle]\nname = \"fm\"\nversion = \"0.1.0\"\ndescription = \"x\"\n\n\
    [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
    [agents.odd]\npath = \"agents/odd.md\"\n";

/// A project with a path bundle `b` whose agent `odd` has `front_matter`.
fn project_with_agent(front_matter: &str) -> tempfile::TempDir {
    let dir = project();
    let agent = format!("---\n{front_matter}\n---\nPrompt.\n");
    let files = [
        ("b/bundle.toml", MANIFEST),
        ("b/agents/odd.md", agent.as_str()),
    ];
    write_files(dir.path(), &files);
    dir
}

#[test]
fn an_agent_opencode_refuses_is_not_installed() {
    let dir = project_with_agent("mode: weird");
    let d = dir.path();
    let before = tree(d);
    let run = capm(d, &["add", "./b", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error[front-matter-value]: `mode` is the string \"weird\", but OpenCode expects one of `subagent`, `primary`, `all`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--> b/agents/odd.md:2:7"),
        "{}",
        run.stderr
    );
    assert_eq!(before, tree(d), "nothing is written");
}

#[test]
fn an_agent_with_an_unknown_key_installs_with_a_warning() {
    let dir = project_with_agent("descriptoin: Odd");
    let d = dir.path();
    let lint = capm(d, &["lint", "b"]);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    assert!(
        lint.stderr.contains("warning[front-matter-key]"),
        "{}",
        lint.stderr
    );
    assert!(
        lint.stderr.contains("did you mean `description`?"),
        "{}",
        lint.stderr
    );
    let strict = capm(d, &["lint", "b", "--deny-warnings"]);
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    let run = capm(d, &["add", "./b", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(d.join(".opencode/agents/odd.md").is_file());
}
