//! A Claude Code plugin installed by capm (its hook allowed, so left out): the real
//! OpenCode lists the translated agent as a subagent with its tools and colour, loads the
//! commands with OpenCode's argument numbering, and finds the skill, with no configuration
//! error.

use crate::client::OpenCode;
use crate::support::{capm, copy_dir, project, repo, spec_of};

const TEST: &str = "opencode_sees_the_agent_commands_and_skill_of_a_plugin";

#[test]
fn opencode_sees_the_agent_commands_and_skill_of_a_plugin() {
    let Some(oc) = OpenCode::found(TEST) else {
        return;
    };
    let dir = project();
    let p = dir.path();
    copy_dir(
        &repo().join("tests/fixtures/claude/review-kit"),
        &p.join("plugin"),
    );
    let lint = capm(p, &["lint", "plugin", "--format", "json"]).json();
    let spec = spec_of(&lint, "FMT-001");
    let toml = format!(
        "[bundles]\nreview-kit = {{ path = \"plugin\" }}\n\n[policy]\nallow = [{{ rule = \
         \"FMT-001\", resource = \"bundle:review-kit\", spec = \"{spec}\" }}]\n"
    );
    std::fs::write(p.join("capm.toml"), toml).unwrap();
    let run = capm(p, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let agents = oc.agents(p);
    assert!(
        agents.contains(&("code-reviewer".into(), "subagent".into())),
        "{agents:?}"
    );
    let config = oc.config(p, &[]);
    let agent = &config["agent"]["code-reviewer"];
    assert_eq!(agent["tools"]["read"], true, "{agent:#}");
    assert_eq!(agent["tools"]["bash"], false, "{agent:#}");
    assert_eq!(agent["color"], "#ef4444", "{agent:#}");
    let prompt = agent["prompt"].as_str().unwrap_or_default();
    assert!(
        prompt.contains("You are an expert code reviewer."),
        "{agent:#}"
    );
    let commands = &config["command"];
    let review = commands["review"]["template"].as_str().unwrap_or_default();
    assert!(
        review.contains("pull request #$1") && review.contains("on $2."),
        "{commands:#}"
    );
    assert_eq!(commands["git-commit"]["description"], "Create a git commit");
    let skills = oc.skills(p);
    assert!(
        skills.iter().any(|(n, _)| n == "review-style"),
        "{skills:?}"
    );
}
