//! Foreign bundles as a new user meets them: refusals keep the code the format's reader
//! gave them whatever the source, and what a document leaves unsaid is never filled in
//! with nothing.

use crate::skill_repos::{World, refused};
use crate::support::{capm, tempdir, tree, write_files};

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
    let doc = run.json();
    let found: Vec<_> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "FMT-002")
        .collect();
    assert_eq!(found.len(), 1, "{doc:#}");
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "the remote URL `https://mcp.example.com/{tenant}/mcp` needs `tenant`, which has no value or default"
        ),
        "{message}"
    );
    assert_eq!(found[0]["location"]["file"], "tenant/server.json");
    assert_eq!(found[0]["location"]["line"], 6);
    assert_eq!(tree(d), before);
}
