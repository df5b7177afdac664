//! An OpenCode agent as a Gemini CLI subagent (`.gemini/agents/NAME.md`). Gemini CLI
//! 0.61.0 checks the front matter against a strict schema (`localAgentSchema` in its
//! bundle): `name` and a non-empty `description` are required, `tools` is a list of its own
//! tool names, `temperature` a number, `max_turns` a positive integer, and any other key
//! (Claude Code's `disallowedTools`, `maxTurns`) makes it refuse the whole file. So only
//! those keys are written. OpenCode switches tools off one by one; Gemini CLI takes only a
//! list of the tools allowed, so a switched-off tool becomes a list of every other
//! built-in tool, and MCP tools (`mcp_*`) stay allowed only when none was switched off:
//! the agent is never given more than the bundle allowed.

use yaml_rust2::Yaml;

use crate::formats::claude_markdown as markdown;
use crate::formats::front;

/// OpenCode's built-in tools and the Gemini CLI 0.61.0 tool each one is.
const TOOLS: &[(&str, &str)] = &[
    ("read", "read_file"),
    ("write", "write_file"),
    ("edit", "replace"),
    ("bash", "run_shell_command"),
    ("glob", "glob"),
    ("grep", "grep_search"),
    ("list", "list_directory"),
    ("webfetch", "web_fetch"),
    ("websearch", "google_web_search"),
    ("todowrite", "write_todos"),
    ("skill", "activate_skill"),
    ("question", "ask_user"),
    ("task", "invoke_agent"),
];

/// The agent file for Gemini CLI.
pub fn agent(name: &str, text: &str) -> Vec<u8> {
    let (fm, body) = markdown::split(text);
    let mut out = format!(
        "---\nname: {name}\ndescription: {}\n",
        serde_json::json!(super::markdown::required_description(
            fm.as_ref(),
            body,
            name
        ))
    );
    for (key, value, _) in fm.iter().flat_map(|f| &f.keys) {
        let line = match (key.as_str(), value) {
            ("temperature", Yaml::Real(_) | Yaml::Integer(_)) => {
                front::scalar(value).map(|t| format!("temperature: {t}"))
            }
            ("steps" | "maxSteps", Yaml::Integer(n)) if *n > 0 => Some(format!("max_turns: {n}")),
            ("model", _) => front::scalar(value)
                .and_then(|m| m.strip_prefix("google/").map(str::to_string))
                .map(|m| format!("model: {}", serde_json::json!(m))),
            ("tools", Yaml::Hash(map)) => tools(map),
            _ => None,
        };
        if let Some(line) = line {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out.push_str("---\n");
    out.push_str(body.trim_start_matches('\n'));
    out.into_bytes()
}

/// OpenCode's `tools` map as Gemini CLI's list of allowed tools; `None` when every tool
/// stays allowed.
fn tools(map: &yaml_rust2::yaml::Hash) -> Option<String> {
    let entries: Vec<(String, bool)> = map
        .iter()
        .filter_map(|(k, v)| Some((front::scalar(k)?, v.as_bool()?)))
        .collect();
    let gemini = |t: &str| TOOLS.iter().find(|(o, _)| *o == t).map(|(_, g)| *g);
    let all_off = entries.iter().any(|(k, on)| k == "*" && !on);
    let allowed: Vec<&str> = if all_off {
        entries
            .iter()
            .filter(|(_, on)| *on)
            .filter_map(|(t, _)| gemini(t))
            .collect()
    } else {
        let off: Vec<&str> = entries
            .iter()
            .filter(|(_, on)| !on)
            .map(|(t, _)| t.as_str())
            .collect();
        if off.is_empty() {
            return None;
        }
        let mut allowed: Vec<&str> = TOOLS
            .iter()
            .filter(|(o, _)| !off.contains(o))
            .map(|(_, g)| *g)
            .collect();
        if off.iter().all(|t| gemini(t).is_some()) {
            allowed.push("mcp_*");
        }
        allowed
    };
    let list: Vec<String> = allowed
        .iter()
        .map(|t| serde_json::json!(t).to_string())
        .collect();
    Some(format!("tools: [{}]", list.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(front: &str) -> String {
        String::from_utf8(agent("rev", &format!("---\n{front}---\n\nReview.\n"))).unwrap()
    }

    #[test]
    fn only_the_keys_gemini_accepts_are_written() {
        let out = text(
            "description: Reviews code\nmode: subagent\ntemperature: 0.1\nsteps: 5\nmodel: anthropic/claude-x\ncolor: accent\n",
        );
        assert_eq!(
            out,
            "---\nname: rev\ndescription: \"Reviews code\"\ntemperature: 0.1\nmax_turns: 5\n---\nReview.\n"
        );
    }

    #[test]
    fn a_gemini_model_keeps_its_id() {
        let out = text("description: d\nmodel: google/gemini-3-flash-preview\n");
        assert!(out.contains("model: \"gemini-3-flash-preview\"\n"), "{out}");
    }

    #[test]
    fn switched_off_tools_become_an_allowlist_without_them() {
        let out = text("description: d\ntools:\n  write: false\n  edit: false\n");
        let line = out.lines().find(|l| l.starts_with("tools:")).unwrap();
        assert!(
            !line.contains("write_file") && !line.contains("\"replace\""),
            "{line}"
        );
        assert!(
            line.contains("\"read_file\"") && line.contains("\"mcp_*\""),
            "{line}"
        );
    }

    #[test]
    fn a_switched_off_mcp_tool_leaves_every_mcp_tool_out() {
        let out = text("description: d\ntools:\n  write: false\n  github_merge: false\n");
        let line = out.lines().find(|l| l.starts_with("tools:")).unwrap();
        assert!(!line.contains("mcp_"), "{line}");
    }

    #[test]
    fn an_allowlist_keeps_the_tools_switched_back_on() {
        let out = text("description: d\ntools:\n  \"*\": false\n  read: true\n  grep: true\n");
        assert!(
            out.contains("tools: [\"read_file\", \"grep_search\"]\n"),
            "{out}"
        );
    }

    #[test]
    fn a_missing_description_comes_from_the_body() {
        let out = text("mode: subagent\n");
        assert!(out.contains("description: \"Review.\"\n"), "{out}");
    }
}
