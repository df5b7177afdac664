//! Agents and commands, written by bundles as OpenCode markdown, in each client's own
//! format: Claude Code's markdown (shared by Qwen Code and Gemini CLI agents, which read
//! the same front matter), Copilot's `.agent.md`, Gemini CLI's TOML commands, Codex's TOML
//! agents (`developer_instructions`), and Cursor's plain markdown commands. The body is
//! kept as written; front matter the client has no field for is left out.

use crate::formats::export::markdown;
use crate::formats::front;

/// How a client reads an agent or a command file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Markdown with Claude Code's front matter (`name`, `description`, `tools`, `model`).
    ClaudeMarkdown,
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
    /// Plain markdown, the body alone (Cursor commands).
    Plain,
}

impl Format {
    /// The file name for `name`.
    pub fn file(self, name: &str) -> String {
        match self {
            Format::ClaudeMarkdown | Format::GeminiAgent | Format::Plain => format!("{name}.md"),
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

/// `description` from the front matter; else the body's first line, for clients that
/// require one (Gemini CLI, Codex, which skips an agent without it); else the name.
pub fn required_description(fm: Option<&front::FrontMatter>, body: &str, name: &str) -> String {
    front_description(fm)
        .filter(|d| !d.trim().is_empty())
        .or_else(|| {
            body.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| name.to_string())
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

/// An OpenCode agent as the client's agent file.
pub fn agent(format: Format, name: &str, text: &str, servers: &[String]) -> Vec<u8> {
    match format {
        Format::ClaudeMarkdown => markdown::agent(name, text, servers).text.into_bytes(),
        Format::CopilotAgent => {
            let (description, body) = description_and_body(text);
            let mut out = format!("---\nname: {}\n", serde_json::json!(name));
            if let Some(d) = description {
                out.push_str(&format!("description: {}\n", serde_json::json!(d)));
            }
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
        Format::GeminiCommand | Format::Plain => text.as_bytes().to_vec(),
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
        Format::Plain => description_and_body(text).1.as_bytes().to_vec(),
        Format::CopilotAgent | Format::CodexAgent | Format::GeminiAgent => text.as_bytes().to_vec(),
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
}
