//! OpenCode agents and commands (markdown with front matter) rewritten for Claude Code:
//! the front matter translated key by key, the body kept as written (a command's `$1`,
//! `$2`, … becoming Claude's `$ARGUMENTS[0]`, `$ARGUMENTS[1]`, …, which no version of
//! Claude Code reads differently).

use std::collections::BTreeMap;

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
pub(super) struct Translated {
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
fn split(text: &str) -> (Option<FrontMatter>, &str) {
    match front::parse(text) {
        Ok(Some(fm)) => {
            let body = fm.body;
            (Some(fm), &text[body..])
        }
        _ => (None, text),
    }
}

/// An OpenCode agent as a Claude Code subagent named `name`.
pub(super) fn agent(name: &str, text: &str) -> Translated {
    let (fm, body) = split(text);
    let mut w = Writer::new(format!("agent:{name}"));
    w.key("name", name);
    for (key, value, _) in fm.iter().flat_map(|f| &f.keys) {
        match key.as_str() {
            "description" => scalar_key(&mut w, key, value),
            "model" => model(&mut w, value),
            "tools" => tools(&mut w, value),
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
pub(super) fn command(name: &str, text: &str) -> Translated {
    let (fm, body) = split(text);
    let mut w = Writer::new(format!("command:{name}"));
    for (key, value, _) in fm.iter().flat_map(|f| &f.keys) {
        match key.as_str() {
            "description" => scalar_key(&mut w, key, value),
            "model" => model(&mut w, value),
            _ => w.drop(key, "Claude Code commands have no such field"),
        }
    }
    let body = positional_arguments(body);
    w.finish(&body)
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

/// OpenCode's `tools` map (every tool on unless switched off) as Claude's allowlist; no
/// list when nothing is switched off, as Claude then grants every tool too.
fn tools(w: &mut Writer, value: &Yaml) {
    let Yaml::Hash(map) = value else {
        return w.drop("tools", "it is not a map of tool names to true or false");
    };
    let mut on: BTreeMap<&str, bool> = TOOLS.iter().map(|(t, _)| (*t, true)).collect();
    let mut restricted = false;
    let mut entries: Vec<(String, bool)> = map
        .iter()
        .filter_map(|(k, v)| Some((front::scalar(k)?, v.as_bool()?)))
        .collect();
    // The wildcard first, so that the names it covers can be switched back on.
    entries.sort_by_key(|(k, _)| k != "*");
    for (tool, enabled) in entries {
        restricted |= !enabled;
        if tool == "*" {
            on.values_mut().for_each(|v| *v = enabled);
        } else if let Some(v) = on.get_mut(tool.as_str()) {
            *v = enabled;
        } else {
            w.drop(
                &format!("tools.{tool}"),
                "Claude Code has no tool of that name",
            );
        }
    }
    if restricted {
        let list: Vec<&str> = TOOLS
            .iter()
            .filter(|(t, _)| on[t])
            .map(|(_, c)| *c)
            .collect();
        w.lines.push(format!("tools: {}", list.join(", ")));
    }
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
    fn switched_off_tools_become_an_allowlist() {
        let text = "---\ndescription: Reviews\nmode: subagent\ntools:\n  write: false\n  edit: false\n  bash: false\ntemperature: 0.1\n---\nBody $1\n";
        let t = agent("reviewer", text);
        assert_eq!(
            t.text,
            "---\nname: reviewer\ndescription: Reviews\ntools: Read, Glob, Grep, LS, WebFetch, WebSearch, Task, TodoWrite, TodoRead, Skill, AskUserQuestion, LSP\n---\nBody $1\n"
        );
        assert_eq!(
            t.notes,
            ["agent:reviewer: `temperature` is left out: Claude Code agents have no such field"]
        );
    }
}
