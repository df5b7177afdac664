//! Agents and commands, written by bundles as OpenCode markdown, in each client's own
//! format: Claude Code's markdown (and Qwen Code's, the same with Qwen's tool names),
//! Gemini CLI's strict agents (`gemini_agent.rs`), Copilot's `.agent.md`, Gemini CLI's TOML commands, Codex's TOML
//! agents (`developer_instructions`), and Cursor's plain markdown commands. The body is
//! kept as written; front matter the client has no field for is left out.

use crate::formats::claude_markdown as markdown;
use crate::formats::front;

/// How a client reads an agent or a command file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Markdown with Claude Code's front matter (`name`, `description`, `tools`, `model`).
    ClaudeMarkdown,
    /// Claude Code's markdown with Qwen Code's tool names (`write_file`, not `Write`).
    QwenAgent,
    /// `NAME.agent.md`: markdown with `name` and `description` (GitHub Copilot).
    CopilotAgent,
    /// Markdown with Gemini CLI's front matter (`name`, `description`, `tools` as a list,
    /// `temperature`, `max_turns`), which it checks strictly (`gemini_agent.rs`).
    GeminiAgent,
    /// `NAME.toml` with `name`, `description` and `developer_instructions` (Codex agents),
    /// and `sandbox_mode = "read-only"` for an agent that may not edit files.
    CodexAgent,
    /// `NAME.toml` with `description` and `prompt` (Gemini CLI commands).
    GeminiCommand,
    /// Markdown with a `description`, the arguments as `{{args}}` (Qwen Code commands).
    QwenCommand,
    /// Plain markdown, the body alone (Cursor commands).
    Plain,
}

impl Format {
    /// The file name for `name`.
    pub fn file(self, name: &str) -> String {
        match self {
            Format::ClaudeMarkdown
            | Format::GeminiAgent
            | Format::QwenAgent
            | Format::QwenCommand
            | Format::Plain => format!("{name}.md"),
            Format::CopilotAgent => format!("{name}.agent.md"),
            Format::CodexAgent | Format::GeminiCommand => format!("{name}.toml"),
        }
    }
}

/// The front matter's `description`.
fn front_description(fm: Option<&front::FrontMatter>) -> Option<String> {
    fm?.keys
        .iter()
        .find(|(k, _, _)| k == "description")
        .and_then(|(_, v, _)| front::scalar(v))
}

/// The front matter's `description`, and the body.
fn description_and_body(text: &str) -> (Option<String>, &str) {
    let (fm, body) = markdown::split(text);
    (front_description(fm.as_ref()), body)
}

/// `description` from the front matter; else one made from the body (see
/// [`fallback_description`]), for clients that load no agent without one.
pub fn required_description(fm: Option<&front::FrontMatter>, body: &str, name: &str) -> String {
    front_description(fm)
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| fallback_description(name, body))
}

/// Whether an OpenCode agent's `tools` switch off both `write` and `edit` (one by one, or
/// by `"*": false` without switching them back on).
fn edits_nothing(fm: Option<&front::FrontMatter>) -> bool {
    let Some((_, yaml_rust2::Yaml::Hash(map), _)) =
        fm.and_then(|f| f.keys.iter().find(|(k, _, _)| k == "tools"))
    else {
        return false;
    };
    let switch = |tool: &str| {
        map.iter()
            .find(|(k, _)| front::scalar(k).as_deref() == Some(tool))
            .and_then(|(_, v)| v.as_bool())
    };
    let all_off = switch("*") == Some(false);
    let off = |tool: &str| switch(tool).map_or(all_off, |on| !on);
    off("write") && off("edit")
}

fn toml_document(pairs: &[(&str, String)]) -> String {
    let mut doc = toml_edit::DocumentMut::new();
    for (k, v) in pairs {
        doc[k] = toml_edit::value(v.as_str());
    }
    doc.to_string()
}

/// A description for an agent whose front matter has none, since Claude Code, Qwen Code,
/// Copilot CLI, Gemini CLI and Codex load no agent without one: the body's first line,
/// else the name.
fn fallback_description(name: &str, body: &str) -> String {
    body.lines()
        .map(|l| l.trim_start_matches('#').trim())
        .find(|l| !l.is_empty())
        .map_or_else(
            || format!("The {name} agent"),
            |l| l.chars().take(200).collect(),
        )
}

/// The Claude Code translation, with a description always.
fn claude_agent(name: &str, text: &str, servers: &[String]) -> String {
    let mut out = markdown::agent(name, text, servers).text;
    let (description, body) = description_and_body(text);
    match description {
        Some(d) if !d.trim().is_empty() => return out,
        // An empty one is as good as none to the clients: it is replaced.
        Some(_) => {
            out = out
                .split_inclusive('\n')
                .filter(|l| !l.starts_with("description: "))
                .collect();
        }
        None => {}
    }
    // The translation starts `---\nname: NAME\n`: the description goes after the name.
    let Some(rest) = out.strip_prefix("---\n") else {
        return out;
    };
    let at = 4 + rest.find('\n').map_or(0, |i| i + 1);
    let line = format!(
        "description: {}\n",
        serde_json::json!(fallback_description(name, body))
    );
    format!("{}{line}{}", &out[..at], &out[at..])
}

/// Claude Code's tools and what Qwen Code calls each; Qwen matches a tool in an agent's
/// `tools` or `disallowedTools` by its name or its display name only.
const QWEN_TOOLS: &[(&str, &str)] = &[
    ("Read", "read_file"),
    ("Write", "write_file"),
    ("Edit", "edit"),
    ("Bash", "run_shell_command"),
    ("Glob", "glob"),
    ("Grep", "grep_search"),
    ("LS", "list_directory"),
    ("WebFetch", "web_fetch"),
    ("WebSearch", "web_search"),
    ("Task", "agent"),
    ("TodoWrite", "todo_write"),
    ("Skill", "skill"),
    ("AskUserQuestion", "ask_user_question"),
    ("LSP", "lsp"),
];

/// A Claude Code agent's tool lists in Qwen Code's names (MCP tools, `mcp__SERVER__TOOL`,
/// are the same in both); a tool Qwen does not have (`TodoRead`) is left out.
fn qwen_tools(claude: &str) -> String {
    let end = claude
        .get(3..)
        .and_then(|r| r.find("\n---\n"))
        .map_or(0, |i| i + 4);
    let (front, body) = claude.split_at(end);
    let mut out = String::new();
    for line in front.split_inclusive('\n') {
        let list = ["tools: ", "disallowedTools: "]
            .into_iter()
            .find_map(|k| Some((k, line.strip_prefix(k)?)));
        let Some((key, tools)) = list else {
            out.push_str(line);
            continue;
        };
        let names: Vec<&str> = tools
            .trim_end()
            .split(", ")
            .filter(|t| !t.is_empty())
            .filter_map(|t| match QWEN_TOOLS.iter().find(|(c, _)| *c == t) {
                Some((_, q)) => Some(*q),
                None => t.starts_with("mcp__").then_some(t),
            })
            .collect();
        out.push_str(&format!("{key}{}\n", names.join(", ")));
    }
    out + body
}

/// An OpenCode agent as the client's agent file.
pub fn agent(format: Format, name: &str, text: &str, servers: &[String]) -> Vec<u8> {
    match format {
        Format::ClaudeMarkdown => claude_agent(name, text, servers).into_bytes(),
        Format::QwenAgent => qwen_tools(&claude_agent(name, text, servers)).into_bytes(),
        Format::CopilotAgent => {
            let (fm, body) = markdown::split(text);
            let description = required_description(fm.as_ref(), body, name);
            let mut out = format!("---\nname: {}\n", serde_json::json!(name));
            out.push_str(&format!(
                "description: {}\n",
                serde_json::json!(description)
            ));
            out.push_str("---\n");
            out.push_str(body);
            out.into_bytes()
        }
        Format::GeminiAgent => super::gemini_agent::agent(name, text),
        Format::CodexAgent => {
            let (fm, body) = markdown::split(text);
            let mut pairs = vec![
                ("name", name.to_string()),
                ("description", required_description(fm.as_ref(), body, name)),
            ];
            if edits_nothing(fm.as_ref()) {
                // Codex has no per-tool switch; its read-only sandbox keeps the role from
                // writing files.
                pairs.push(("sandbox_mode", "read-only".to_string()));
            }
            pairs.push((
                "developer_instructions",
                body.trim_start_matches('\n').to_string(),
            ));
            toml_document(&pairs).into_bytes()
        }
        Format::GeminiCommand | Format::QwenCommand | Format::Plain => text.as_bytes().to_vec(),
    }
}

/// An OpenCode command as the client's command file.
pub fn command(format: Format, name: &str, text: &str, servers: &[String]) -> Vec<u8> {
    match format {
        Format::ClaudeMarkdown => markdown::command(name, text, servers).text.into_bytes(),
        Format::GeminiCommand => {
            let (description, body) = description_and_body(text);
            // OpenCode's `$ARGUMENTS` is Gemini CLI's `{{args}}`.
            let mut pairs: Vec<(&str, String)> = description
                .map(|d| ("description", d))
                .into_iter()
                .collect();
            let body = body.trim_start_matches('\n');
            pairs.push(("prompt", body.replace("$ARGUMENTS", "{{args}}")));
            toml_document(&pairs).into_bytes()
        }
        Format::QwenCommand => {
            // Qwen Code puts the arguments where `{{args}}` is (else after the prompt);
            // it leaves `$ARGUMENTS` as written.
            let (description, body) = description_and_body(text);
            let mut out = String::new();
            if let Some(d) = description {
                out.push_str(&format!(
                    "---\ndescription: {}\n---\n",
                    serde_json::json!(d)
                ));
            }
            out.push_str(&body.replace("$ARGUMENTS", "{{args}}"));
            out.into_bytes()
        }
        Format::Plain => description_and_body(text).1.as_bytes().to_vec(),
        Format::CopilotAgent | Format::QwenAgent | Format::CodexAgent | Format::GeminiAgent => {
            text.as_bytes().to_vec()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml(bytes: Vec<u8>) -> toml::Table {
        String::from_utf8(bytes).unwrap().parse().unwrap()
    }

    #[test]
    fn a_gemini_command_has_description_and_prompt_with_args() {
        let text = "---\ndescription: Review\nagent: reviewer\n---\n\nReview $ARGUMENTS now\n";
        let t = toml(command(Format::GeminiCommand, "review", text, &[]));
        assert_eq!(t.len(), 2, "{t:?}");
        assert_eq!(t["description"].as_str(), Some("Review"));
        assert_eq!(t["prompt"].as_str(), Some("Review {{args}} now\n"));
    }

    #[test]
    fn a_codex_agent_has_name_description_and_instructions() {
        let text = "---\ndescription: Reviews\nmode: subagent\n---\n\nYou review.\n";
        let t = toml(agent(Format::CodexAgent, "rev", text, &[]));
        assert_eq!(t.len(), 3, "{t:?}");
        assert_eq!(t["name"].as_str(), Some("rev"));
        assert_eq!(t["description"].as_str(), Some("Reviews"));
        assert_eq!(t["developer_instructions"].as_str(), Some("You review.\n"));
    }

    #[test]
    fn a_codex_agent_that_may_not_edit_runs_read_only() {
        let one_by_one = "---\ntools:\n  write: false\n  edit: false\n---\nReview.\n";
        let t = toml(agent(Format::CodexAgent, "rev", one_by_one, &[]));
        assert_eq!(t["sandbox_mode"].as_str(), Some("read-only"));
        let all_off = "---\ntools:\n  \"*\": false\n  read: true\n---\nReview.\n";
        let t = toml(agent(Format::CodexAgent, "rev", all_off, &[]));
        assert_eq!(t["sandbox_mode"].as_str(), Some("read-only"));
        for may_edit in [
            "---\ntools:\n  write: false\n---\nReview.\n",
            "---\ntools:\n  \"*\": false\n  edit: true\n---\nReview.\n",
            "Review.\n",
        ] {
            let t = toml(agent(Format::CodexAgent, "rev", may_edit, &[]));
            assert!(!t.contains_key("sandbox_mode"), "{may_edit}");
        }
    }

    #[test]
    fn a_codex_agent_without_description_still_gets_one() {
        // Codex skips a role without a description.
        let t = toml(agent(Format::CodexAgent, "rev", "\nCheck the diff.\n", &[]));
        assert_eq!(t["description"].as_str(), Some("Check the diff."));
    }

    #[test]
    fn qwen_commands_take_their_arguments_as_args_placeholders() {
        let text =
            "---\ndescription: Review a change\nagent: reviewer\n---\nReview $ARGUMENTS now.\n";
        let out = String::from_utf8(command(Format::QwenCommand, "review", text, &[])).unwrap();
        assert_eq!(
            out,
            "---\ndescription: \"Review a change\"\n---\nReview {{args}} now.\n"
        );
        assert_eq!(Format::QwenCommand.file("review"), "review.md");
    }

    #[test]
    fn claude_agents_name_the_tools_of_servers_by_mcp_names() {
        let text = "---\ndescription: Reviews\ntools:\n  write: false\n  github_merge_pull_request: false\n---\nBody\n";
        let servers = ["github".to_string()];
        let out = String::from_utf8(agent(Format::ClaudeMarkdown, "r", text, &servers)).unwrap();
        assert!(
            out.contains("disallowedTools: Write, mcp__github__merge_pull_request\n"),
            "{out}"
        );
    }

    #[test]
    fn qwen_agents_name_tools_as_qwen_matches_them() {
        let text = "---\ndescription: Reviews\ntools:\n  write: false\n  bash: false\n  todoread: false\n  github_merge: false\n---\nBody: write: it\n";
        let servers = ["github".to_string()];
        let out = String::from_utf8(agent(Format::QwenAgent, "r", text, &servers)).unwrap();
        assert_eq!(
            out,
            "---\nname: r\ndescription: Reviews\ndisallowedTools: write_file, run_shell_command, mcp__github__merge\n---\nBody: write: it\n"
        );
        let only =
            "---\ndescription: Reads\ntools:\n  \"*\": false\n  read: true\n  grep: true\n---\n";
        let out = String::from_utf8(agent(Format::QwenAgent, "r", only, &servers)).unwrap();
        assert!(out.contains("\ntools: read_file, grep_search\n"), "{out}");
        assert_eq!(Format::QwenAgent.file("r"), "r.md");
    }

    #[test]
    fn an_agent_without_a_description_gets_one_it_can_be_loaded_with() {
        let text = "---\nmode: subagent\n---\n\n# Checks links\n\nMore.\n";
        for format in [
            Format::ClaudeMarkdown,
            Format::QwenAgent,
            Format::CopilotAgent,
        ] {
            let out = String::from_utf8(agent(format, "linker", text, &[])).unwrap();
            let name = if format == Format::CopilotAgent {
                "\"linker\""
            } else {
                "linker"
            };
            assert!(
                out.starts_with(&format!(
                    "---\nname: {name}\ndescription: \"Checks links\"\n---\n"
                )),
                "{format:?}: {out}"
            );
        }
        let empty = String::from_utf8(agent(Format::ClaudeMarkdown, "x", "", &[])).unwrap();
        assert_eq!(empty, "---\nname: x\ndescription: \"The x agent\"\n---\n");
        // An empty description is as good as none: replaced, never written twice.
        let blank = "---\ndescription: \"\"\n---\nChecks links.\n";
        for format in [Format::ClaudeMarkdown, Format::CopilotAgent] {
            let out = String::from_utf8(agent(format, "linker", blank, &[])).unwrap();
            assert_eq!(out.matches("description: ").count(), 1, "{format:?}: {out}");
            assert!(
                out.contains("description: \"Checks links.\""),
                "{format:?}: {out}"
            );
        }
    }
}
