//! OpenCode agents and commands (markdown with front matter) rewritten for Claude Code:
//! the front matter translated key by key, the body kept as written (a command's `$1`,
//! `$2`, … becoming Claude's `$ARGUMENTS[0]`, `$ARGUMENTS[1]`, …, which no version of
//! Claude Code reads differently). Used by `capm export --to claude-plugin` and by the Claude
//! Code and Qwen Code targets.

use yaml_rust2::Yaml;

use crate::formats::front::{self, FrontMatter};

/// OpenCode's built-in tools and the Claude Code tool each one is.
const TOOLS: &[(&str, &str)] = &[
    ("read", "Read"),
    ("write", "Write"),
    ("edit", "Edit"),
    ("bash", "Bash"),
    ("glob", "Glob"),
    ("grep", "Grep"),
    ("list", "LS"),
    ("webfetch", "WebFetch"),
    ("websearch", "WebSearch"),
    ("task", "Task"),
    ("todowrite", "TodoWrite"),
    ("todoread", "TodoRead"),
    ("skill", "Skill"),
    ("question", "AskUserQuestion"),
    ("lsp", "LSP"),
];

/// A markdown file translated: its text, and what it could not carry.
pub(crate) struct Translated {
    pub text: String,
    pub notes: Vec<String>,
}

/// The front matter keys written so far and the notes, for one file.
struct Writer {
    id: String,
    lines: Vec<String>,
    notes: Vec<String>,
}

impl Writer {
    fn new(id: String) -> Writer {
        Writer {
            id,
            lines: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn key(&mut self, key: &str, value: &str) {
        self.lines.push(format!("{key}: {}", yaml_string(value)));
    }

    fn drop(&mut self, key: &str, why: &str) {
        self.notes
            .push(format!("{}: `{key}` is left out: {why}", self.id));
    }

    fn finish(self, body: &str) -> Translated {
        let mut text = String::from("---\n");
        for l in &self.lines {
            text.push_str(l);
            text.push('\n');
        }
        text.push_str("---\n");
        text.push_str(body);
        Translated {
            text,
            notes: self.notes,
        }
    }
}

/// The front matter and body of `text`; a file without front matter is all body.
pub(crate) fn split(text: &str) -> (Option<FrontMatter>, &str) {
    match front::parse(text) {
        Ok(Some(fm)) => {
            let body = fm.body;
            (Some(fm), &text[body..])
        }
        _ => (None, text),
    }
}

/// An OpenCode agent as a Claude Code subagent named `name`; `servers` are the bundle's
/// MCP servers, whose tools the agent may name.
pub(crate) fn agent(name: &str, text: &str, servers: &[String]) -> Translated {
    let (fm, body) = split(text);
    let mut w = Writer::new(format!("agent:{name}"));
    w.key("name", name);
    for (key, value, _) in fm.iter().flat_map(|f| &f.keys) {
        match key.as_str() {
            "description" => scalar_key(&mut w, key, value),
            "model" => model(&mut w, value),
            "tools" => tools(&mut w, value, servers),
            "steps" | "maxSteps" => match value {
                Yaml::Integer(n) => w.lines.push(format!("maxTurns: {n}")),
                _ => w.drop(key, "it is not a whole number"),
            },
            // Claude Code tells a subagent by where it is, not by a mode.
            "mode" => {}
            _ => w.drop(key, "Claude Code agents have no such field"),
        }
    }
    w.finish(body)
}

/// An OpenCode command as a Claude Code command.
pub(crate) fn command(name: &str, text: &str, _servers: &[String]) -> Translated {
    let (fm, body) = split(text);
    let mut w = Writer::new(format!("command:{name}"));
    let keys: Vec<_> = fm.iter().flat_map(|f| &f.keys).collect();
    let subtask = keys
        .iter()
        .find(|(k, _, _)| k == "subtask")
        .and_then(|(_, v, _)| v.as_bool());
    let has_agent = keys.iter().any(|(k, _, _)| k == "agent");
    for (key, value, _) in keys {
        match key.as_str() {
            "description" => scalar_key(&mut w, key, value),
            "model" => model(&mut w, value),
            "agent" => agent_of_command(&mut w, value, subtask),
            "subtask" if subtask == Some(true) && !has_agent => {
                w.lines.push("context: fork".into())
            }
            "subtask" => {}
            _ => w.drop(key, "Claude Code commands have no such field"),
        }
    }
    let body = positional_arguments(body);
    w.finish(&body)
}

/// OpenCode's `agent` of a command, which runs it as that agent's task unless `subtask`
/// is false: Claude Code's `context: fork` with `agent` (OpenCode's `general` and
/// `explore` being Claude's `general-purpose` and `Explore`). OpenCode's primary agents
/// (`build`, `plan`) take over the session instead, which Claude Code has no field for.
fn agent_of_command(w: &mut Writer, value: &Yaml, subtask: Option<bool>) {
    let name = front::scalar(value).unwrap_or_default();
    if subtask == Some(false) {
        return w.drop("agent", "Claude Code runs a command as another agent only in a subagent, and `subtask` is false");
    }
    let claude = match name.as_str() {
        "build" | "plan" if subtask != Some(true) => {
            return w.drop(
                "agent",
                &format!("`{name}` is an OpenCode primary agent, and Claude Code commands cannot switch the session's agent"),
            );
        }
        "build" | "plan" => None,
        "general" => Some("general-purpose".to_string()),
        "explore" => Some("Explore".to_string()),
        _ => Some(name),
    };
    w.lines.push("context: fork".into());
    if let Some(a) = claude {
        w.key("agent", &a);
    }
}

fn scalar_key(w: &mut Writer, key: &str, value: &Yaml) {
    match front::scalar(value) {
        Some(s) => w.key(key, &s),
        None => w.drop(key, "it is not a string"),
    }
}

/// OpenCode names a model `provider/model`; Claude Code takes Anthropic's model ids alone.
fn model(w: &mut Writer, value: &Yaml) {
    let text = front::scalar(value).unwrap_or_default();
    match text.strip_prefix("anthropic/") {
        Some(id) => w.key("model", id),
        None => w.drop(
            "model",
            &format!("Claude Code runs Anthropic's models only, not `{text}`"),
        ),
    }
}

/// OpenCode's `tools` map: every tool is on unless switched off, so the tools switched
/// off become Claude's `disallowedTools`; after `"*": false`, the tools switched back on
/// become Claude's `tools` allowlist. MCP tools (`SERVER_TOOL`, of the bundle's servers)
/// are Claude's `mcp__SERVER__TOOL`.
fn tools(w: &mut Writer, value: &Yaml, servers: &[String]) {
    let Yaml::Hash(map) = value else {
        return w.drop("tools", "it is not a map of tool names to true or false");
    };
    let entries: Vec<(String, bool)> = map
        .iter()
        .filter_map(|(k, v)| Some((front::scalar(k)?, v.as_bool()?)))
        .collect();
    let all_off = entries.iter().any(|(k, on)| k == "*" && !on);
    let mut listed = Vec::new();
    for (tool, on) in entries.iter().filter(|(k, _)| k != "*") {
        match claude_tool(tool, servers) {
            Some(name) if *on == all_off => listed.push(name),
            Some(_) => {}
            None => w.drop(
                &format!("tools.{tool}"),
                "Claude Code has no tool of that name",
            ),
        }
    }
    match (all_off, listed.is_empty()) {
        (true, _) => w.lines.push(format!("tools: {}", listed.join(", "))),
        (false, false) => w
            .lines
            .push(format!("disallowedTools: {}", listed.join(", "))),
        (false, true) => {}
    }
}

/// The Claude Code name of an OpenCode tool.
fn claude_tool(tool: &str, servers: &[String]) -> Option<String> {
    if let Some((_, claude)) = TOOLS.iter().find(|(t, _)| *t == tool) {
        return Some(claude.to_string());
    }
    let server = servers
        .iter()
        .find(|s| tool.starts_with(&format!("{s}_")))?;
    Some(match &tool[server.len() + 1..] {
        "*" => format!("mcp__{server}"),
        rest => format!("mcp__{server}__{rest}"),
    })
}

/// OpenCode's `$1`, `$2`, … (counted from 1) as Claude's `$ARGUMENTS[0]`, `$ARGUMENTS[1]`, ….
fn positional_arguments(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits: String = rest[at + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        match digits.parse::<u32>() {
            Ok(n) if n >= 1 => out.push_str(&format!("$ARGUMENTS[{}]", n - 1)),
            _ => out.push_str(&rest[at..at + 1 + digits.len()]),
        }
        rest = &rest[at + 1 + digits.len()..];
    }
    out.push_str(rest);
    out
}

/// Words YAML 1.1 readers take for booleans or null.
const YAML_WORDS: &[&str] = &["yes", "no", "on", "off", "y", "n", "true", "false", "null"];

/// A YAML scalar for `s`: plain when every YAML reader reads it back as that same string,
/// else double-quoted (a JSON string is a valid YAML double-quoted scalar).
fn yaml_string(s: &str) -> String {
    let plain = !s.is_empty()
        && !YAML_WORDS.contains(&s.to_ascii_lowercase().as_str())
        && s.chars().next().is_some_and(|c| c.is_alphabetic())
        && !s.ends_with(' ')
        && !s.contains(": ")
        && !s.contains(" #")
        && s.chars().all(|c| !c.is_control() && c != '"' && c != '\'')
        && matches!(yaml_rust2::YamlLoader::load_from_str(s).as_deref(), Ok([Yaml::String(v)]) if v == s);
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("strings serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_arguments_count_from_zero_in_claude() {
        assert_eq!(
            positional_arguments("Fix $1 then $2; all: $ARGUMENTS, cost $ and $0"),
            "Fix $ARGUMENTS[0] then $ARGUMENTS[1]; all: $ARGUMENTS, cost $ and $0"
        );
    }

    #[test]
    fn a_command_with_an_agent_runs_forked_in_that_agent() {
        let cases = [
            (
                "agent: reviewer\nsubtask: true\n",
                "context: fork\nagent: reviewer\n",
            ),
            ("agent: reviewer\n", "context: fork\nagent: reviewer\n"),
            (
                "agent: general\n",
                "context: fork\nagent: general-purpose\n",
            ),
            ("subtask: true\n", "context: fork\n"),
            ("agent: build\nsubtask: true\n", "context: fork\n"),
            ("agent: build\n", ""),
            ("agent: reviewer\nsubtask: false\n", ""),
        ];
        for (front, want) in cases {
            let t = command("c", &format!("---\n{front}---\nDo $1\n"), &[]);
            assert_eq!(
                t.text,
                format!("---\n{want}---\nDo $ARGUMENTS[0]\n"),
                "{front}"
            );
        }
        let t = command("c", "---\nagent: plan\n---\n", &[]);
        assert_eq!(
            t.notes,
            [
                "command:c: `agent` is left out: `plan` is an OpenCode primary agent, and Claude Code commands cannot switch the session's agent"
            ]
        );
    }

    #[test]
    fn strings_are_quoted_only_when_yaml_would_misread_them() {
        assert_eq!(yaml_string("Reviews code"), "Reviews code");
        assert_eq!(yaml_string("yes"), "\"yes\"");
        assert_eq!(
            yaml_string("Use when: reviewing"),
            "\"Use when: reviewing\""
        );
        assert_eq!(yaml_string("[x]"), "\"[x]\"");
    }

    #[test]
    fn switched_off_tools_are_disallowed_and_switched_on_ones_allowed_after_a_wildcard() {
        let text = "---\ndescription: Reviews\nmode: subagent\ntools:\n  write: false\n  bash: false\n  github_merge: false\n  read: true\ntemperature: 0.1\n---\nBody $1\n";
        let servers = ["github".to_string()];
        let t = agent("reviewer", text, &servers);
        assert_eq!(
            t.text,
            "---\nname: reviewer\ndescription: Reviews\ndisallowedTools: Write, Bash, mcp__github__merge\n---\nBody $1\n"
        );
        let only =
            "---\ntools:\n  \"*\": false\n  read: true\n  github_*: true\n  nope: true\n---\n";
        let t = agent("reader", only, &servers);
        assert_eq!(t.text, "---\nname: reader\ntools: Read, mcp__github\n---\n");
        assert_eq!(
            t.notes,
            ["agent:reader: `tools.nope` is left out: Claude Code has no tool of that name"]
        );
        let t = agent("reviewer", text, &servers);
        assert_eq!(
            t.notes,
            ["agent:reviewer: `temperature` is left out: Claude Code agents have no such field"]
        );
    }
}
