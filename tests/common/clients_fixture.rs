//! The crash tests' project installed into four clients at once: the `tool` path bundle of
//! `fixtures.rs` with `[project] targets = ["opencode", "claude-code", "codex", "gemini"]`,
//! and the user's own files in each of those clients' places — commented configs with their
//! own MCP servers, and an agent and a skill of their own beside the ones capm writes.

use std::path::Path;

use super::fixtures::{TOOL_V1, USER_CONFIG};
use super::support::write_files;

/// The manifest: a comment of the user's and the four clients.
pub const MANIFEST: &str = "# my project, in four clients\n[project]\ntargets = [\"opencode\", \"claude-code\", \"codex\", \"gemini\"]\n\n[bundles]\ntool = { path = \"vendor/tool\" }\n";

/// Claude Code's project MCP file, strict JSON as Claude reads it.
pub const CLAUDE_MCP: &str = r#"{
  "mcpServers": {
    "mine": { "type": "stdio", "command": "my-server", "args": ["--fast"] }
  }
}
"#;

/// Codex's project config: comments, a setting and a server of the user's.
pub const CODEX_CONFIG: &str = r#"# My Codex settings.
model = "gpt-5"  # the one I like

[mcp_servers.mine]
command = "my-server"
args = ["--fast"]  # keep this flag
"#;

/// Gemini CLI's project settings, with comments (Gemini reads them).
pub const GEMINI_SETTINGS: &str = r#"// My Gemini settings.
{
  "ui": { "theme": "GitHub" }, // mine
  "mcpServers": {
    // my own server
    "mine": { "command": "my-server", "args": ["--fast"] }
  }
}
"#;

/// The user's own files beside capm's in the clients' directories.
pub const USER_FILES: &[(&str, &str)] = &[
    (
        ".claude/agents/mine.md",
        "---\nname: mine\ndescription: My agent\n---\nMine.\n",
    ),
    (
        ".agents/skills/mine/SKILL.md",
        "---\nname: mine\ndescription: My skill\n---\nMine.\n",
    ),
    (
        ".gemini/commands/mine.toml",
        "description = \"Mine\"\nprompt = \"Mine.\"\n",
    ),
];

/// The `tool` project with four clients and the user's files in each.
pub fn multi(dir: &Path) {
    write_files(
        dir,
        &[
            ("capm.toml", MANIFEST),
            ("opencode.jsonc", USER_CONFIG),
            (".mcp.json", CLAUDE_MCP),
            (".codex/config.toml", CODEX_CONFIG),
            (".gemini/settings.json", GEMINI_SETTINGS),
        ],
    );
    write_files(dir, USER_FILES);
    write_files(dir, TOOL_V1);
}

/// The user edits what capm installed in each client: Claude's agent, the skill in the
/// shared `.agents/skills`, a setting in Codex's and one in Gemini's config.
pub fn multi_user_edits(dir: &Path) {
    write_files(
        dir,
        &[
            (
                ".claude/agents/helper.md",
                "---\nname: helper\ndescription: Helps\n---\nMy own helper, edited.\n",
            ),
            (
                ".agents/skills/notes/SKILL.md",
                "---\nname: notes\ndescription: Takes notes\n---\nMy notes skill.\n",
            ),
        ],
    );
    for (file, from, to) in [
        (".codex/config.toml", "gpt-5", "gpt-5-codex"),
        (".gemini/settings.json", "GitHub", "Dracula"),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(text.contains(from), "{file}: {text}");
        std::fs::write(dir.join(file), text.replace(from, to)).unwrap();
    }
}
