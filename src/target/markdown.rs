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
    /// `NAME.toml` with `name`, `description` and `developer_instructions` (Codex agents).
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
            Format::ClaudeMarkdown | Format::QwenCommand | Format::Plain => format!("{name}.md"),
            Format::CopilotAgent => format!("{name}.agent.md"),
            Format::CodexAgent | Format::GeminiCommand => format!("{name}.toml"),
        }
    }
}

/// The front matter's `description`, and the body.
fn description_and_body(text: &str) -> (Option<String>, &str) {
    let (fm, body) = markdown::split(text);
    let description = fm.and_then(|f| {
        f.keys
            .iter()
            .find(|(k, _, _)| k == "description")
            .and_then(|(_, v, _)| front::scalar(v))
    });
    (description, body)
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
        Format::CodexAgent => {
            let (description, body) = description_and_body(text);
            let mut pairs = vec![("name", name.to_string())];
            pairs.extend(description.map(|d| ("description", d)));
            pairs.push(("developer_instructions", body.to_string()));
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
        Format::CopilotAgent | Format::CodexAgent => text.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
