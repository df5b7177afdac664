//! Agents and commands as Claude Code and Qwen Code read them: an agent's switched-off
//! MCP tools keep their limit under the client's names for them (the server coming from a
//! dependency), and a Qwen Code command gets its arguments where `$ARGUMENTS` was.

use crate::support::{capm, tempdir, write_files};

#[test]
fn agents_keep_their_mcp_tool_limits_and_qwen_commands_their_arguments() {
    let dir = tempdir();
    let toml = "[project]\ntargets = [\"claude-code\", \"qwen\"]\n\n[bundles]\n";
    write_files(dir.path(), &[("capm.toml", toml)]);
    let run = capm(dir.path(), &["add", "code-review", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let github = "mcp__github__merge_pull_request, mcp__github__push_files, mcp__github__create_or_update_file, mcp__github__delete_file";
    for (agent, own) in [
        (".claude/agents/reviewer.md", "Write, Edit"),
        // Qwen Code matches its own tool names, not Claude Code's.
        (".qwen/agents/reviewer.md", "write_file, edit"),
    ] {
        let text = read(agent);
        let limit = format!("disallowedTools: {own}, {github}\n");
        assert!(text.contains(&limit), "{agent}:\n{text}");
        assert!(
            text.starts_with("---\nname: reviewer\n"),
            "{agent}:\n{text}"
        );
    }
    let qwen = read(".qwen/commands/review.md");
    assert!(qwen.contains("Review this change: {{args}}\n"), "{qwen}");
    assert!(!qwen.contains("$ARGUMENTS"), "{qwen}");
    let claude = read(".claude/commands/review.md");
    assert!(
        claude.contains("Review this change: $ARGUMENTS\n"),
        "{claude}"
    );
    // OpenCode runs it as the reviewer's task; Claude Code forks it into that agent.
    assert!(
        claude.contains("\ncontext: fork\nagent: reviewer\n"),
        "{claude}"
    );
}
