//! The project the crash tests break: a path bundle with an MCP server, a skill with a
//! nested file, an agent and a command, and the user's own commented OpenCode config.

use std::path::Path;

use super::support::write_files;

pub const TOOL_V1: &[(&str, &str)] = &[
    (
        "vendor/tool/bundle.toml",
        r#"[bundle]
name = "tool"
version = "1.0.0"
description = "A tool bundle"
license = "MIT"

[compatibility.product-modes]
desktop-local = "supported"

[mcp.tool]
url = "https://tool.example.com/v1/mcp"

[skills.notes]
path = "skills/notes"

[agents.helper]
path = "agents/helper.md"

[commands.go]
path = "commands/go.md"
"#,
    ),
    (
        "vendor/tool/skills/notes/SKILL.md",
        "---\nname: notes\ndescription: Takes notes\n---\nTake notes, version one.\n",
    ),
    (
        "vendor/tool/skills/notes/reference/format.md",
        "The format, version one.\n",
    ),
    (
        "vendor/tool/agents/helper.md",
        "---\ndescription: Helps\n---\nHelper, version one.\n",
    ),
    (
        "vendor/tool/commands/go.md",
        "---\ndescription: Go\n---\nGo, version one.\n",
    ),
];

pub const TOOL_V2: &[(&str, &str)] = &[
    (
        "vendor/tool/bundle.toml",
        r#"[bundle]
name = "tool"
version = "2.0.0"
description = "A tool bundle"
license = "MIT"

[compatibility.product-modes]
desktop-local = "supported"

[mcp.tool]
url = "https://tool.example.com/v2/mcp"

[skills.notes]
path = "skills/notes"

[agents.helper]
path = "agents/helper.md"
"#,
    ),
    (
        "vendor/tool/skills/notes/SKILL.md",
        "---\nname: notes\ndescription: Takes notes\n---\nTake notes, version two.\n",
    ),
    (
        "vendor/tool/agents/helper.md",
        "---\ndescription: Helps\n---\nHelper, version two.\n",
    ),
];

pub const USER_CONFIG: &str = r#"// My OpenCode settings.
{
  "$schema": "https://opencode.ai/config.json",
  /* the theme I like */
  "theme": "tokyonight",
  "mcp": {
    // my own server
    "mine": { "type": "local", "command": ["my-server", "--fast"], },
  },
  "plugin": [
    "opencode-wakatime@1.0.0",
  ],
}
"#;

/// A project using the `tool` path bundle, with the user's own commented config.
pub fn base(dir: &Path) {
    write_files(
        dir,
        &[
            (
                "capm.toml",
                "# my project\n[bundles]\ntool = { path = \"vendor/tool\" }\n",
            ),
            ("opencode.jsonc", USER_CONFIG),
        ],
    );
    write_files(dir, TOOL_V1);
}

pub fn to_v2(dir: &Path) {
    std::fs::remove_dir_all(dir.join("vendor/tool")).unwrap();
    write_files(dir, TOOL_V2);
}
