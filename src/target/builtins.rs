//! What OpenCode provides itself, by name, as listed by OpenCode 1.18.33 (its server's
//! `/command` and `/agent`, and `opencode debug skill`). A bundle's resource of the same
//! kind and name replaces the built-in: OpenCode reads the project's files after its own.
//! Kept as data, with the version it was read from; tests/opencode/collisions.rs checks it
//! against the installed OpenCode.

/// The OpenCode release these lists were read from.
pub const OPENCODE_VERSION: &str = "1.18.33";

/// Built-in slash commands.
pub const COMMANDS: &[&str] = &["init", "review"];

/// Built-in agents, the hidden internal ones included.
pub const AGENTS: &[&str] = &[
    "build",
    "compaction",
    "explore",
    "general",
    "plan",
    "summary",
    "title",
];

/// Built-in skills.
pub const SKILLS: &[&str] = &["customize-opencode"];
