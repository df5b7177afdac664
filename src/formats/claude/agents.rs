//! A plugin's agents (`agents/*.md` and the paths `agents` adds): Claude Code's subagent
//! front matter rewritten as OpenCode's (`mode: subagent`, a `tools` map, a colour in hex,
//! `steps`), the body kept byte for byte. What has no OpenCode equivalent is one
//! `format-not-carried` warning at its key.

use yaml_rust2::Yaml;

use super::manifest::Doc;
use super::{
    Plugin, Rewritten, markdown_files, markdown_plugin_var, not_carried, stem, yaml_string,
};
use crate::formats::front::{self, FrontMatter};
use crate::formats::{Translation, bundle_name};
use crate::manifest::span::Span;

/// Claude Code's tools and the OpenCode tool each is.
const TOOLS: &[(&str, &str)] = &[
    ("Read", "read"),
    ("NotebookRead", "read"),
    ("Write", "write"),
    ("Edit", "edit"),
    ("MultiEdit", "edit"),
    ("NotebookEdit", "edit"),
    ("Bash", "bash"),
    ("BashOutput", "bash"),
    ("KillShell", "bash"),
    ("KillBash", "bash"),
    ("Grep", "grep"),
    ("Glob", "glob"),
    ("LS", "list"),
    ("WebFetch", "webfetch"),
    ("WebSearch", "websearch"),
    ("Task", "task"),
    ("Agent", "task"),
    ("TodoWrite", "todowrite"),
    ("TodoRead", "todoread"),
    ("Skill", "skill"),
    ("AskUserQuestion", "question"),
    ("LSP", "lsp"),
];

/// Claude Code's colour names and the hex colours OpenCode takes for them.
const COLORS: &[(&str, &str)] = &[
    ("red", "#ef4444"),
    ("orange", "#f97316"),
    ("yellow", "#eab308"),
    ("green", "#22c55e"),
    ("cyan", "#06b6d4"),
    ("blue", "#3b82f6"),
    ("purple", "#a855f7"),
    ("pink", "#ec4899"),
    ("magenta", "#d946ef"),
    ("white", "#ffffff"),
    ("black", "#000000"),
    ("gray", "#6b7280"),
    ("grey", "#6b7280"),
];

/// OpenCode's own names for colours of its theme.
const THEME_COLORS: &[&str] = &[
    "primary",
    "secondary",
    "accent",
    "success",
    "warning",
    "error",
    "info",
];

/// Claude Code's model aliases, which name no model OpenCode knows.
const MODEL_ALIASES: &[&str] = &["sonnet", "opus", "haiku", "opusplan", "default"];

/// Translates every agent of the plugin and writes its `[agents.NAME]` table.
pub fn translate(t: &mut Translation, doc: &Doc, p: &Plugin) {
    let mut names: Vec<String> = Vec::new();
    for root in doc.paths(t, "agents", "agents") {
        for rel in markdown_files(&t.raw, &root) {
            let Some((name, to, file)) = agent(t, p, &rel) else {
                continue;
            };
            if names.contains(&name) {
                continue;
            }
            t.manifest.table(&["agents", &name]);
            t.manifest.string("path", &to, Some((file, None)));
            names.push(name);
        }
    }
}

/// One agent file: its name, where it is written, and its file in the origin.
fn agent(t: &mut Translation, p: &Plugin, rel: &str) -> Option<(String, String, usize)> {
    let (file, source) = t.source(rel)?;
    markdown_plugin_var(t, p, file);
    let fm = match super::read_front(&source.text) {
        Ok(Some(fm)) => fm,
        // No front matter, or front matter the agent check reports where it is.
        _ => {
            let name = bundle_name(stem(rel)).unwrap_or_else(|| stem(rel).to_string());
            let to = format!("agents/{name}.md");
            t.copy(rel, &to);
            return Some((name, to, file));
        }
    };
    let named = fm.string("name").map(|(n, _)| n);
    let name = named.as_deref().unwrap_or(stem(rel));
    let name = bundle_name(name).unwrap_or_else(|| name.to_string());
    let to = format!("agents/{name}.md");
    let mut out = Rewritten::new(fm.head);
    front_matter(t, file, &fm, &mut out);
    let body = &source.text[fm.body..];
    out.write(t, &to, file, body, Span::new(fm.body, source.text.len()));
    Some((name, to, file))
}

/// The OpenCode front matter of a Claude Code agent.
fn front_matter(t: &mut Translation, file: usize, fm: &FrontMatter, out: &mut Rewritten) {
    out.line("mode: subagent".into(), None);
    let mut tools: Option<(Vec<String>, Span)> = None;
    let mut denied: Vec<String> = Vec::new();
    for (key, value, span) in &fm.keys {
        let span = *span;
        match key.as_str() {
            "name" => {}
            "description" => match front::scalar(value) {
                Some(d) => out.line(format!("description: {}", yaml_string(&d)), Some(span)),
                None => out.line(format!("description: {}", yaml_string("")), Some(span)),
            },
            "tools" => {
                let (allowed, lost) = tool_names(value);
                dropped_tools(t, file, span, "tools", &lost);
                tools = Some((allowed, span));
            }
            "disallowedTools" => {
                let (names, lost) = tool_names(value);
                dropped_tools(t, file, span, "disallowedTools", &lost);
                denied.extend(names);
            }
            "model" => model(t, file, span, value, out),
            "color" => color(t, file, span, value, out),
            "maxTurns" => match value {
                Yaml::Integer(n) if *n > 0 => out.line(format!("steps: {n}"), Some(span)),
                _ => not_carried(
                    t,
                    file,
                    span,
                    "`maxTurns` is not a positive integer, so the agent has no step limit".into(),
                ),
            },
            other => {
                let why = match other {
                    "permissionMode" => {
                        "Claude Code ignores it for a plugin's agents, and OpenCode has no such mode"
                    }
                    "skills" => "OpenCode cannot preload skills into an agent",
                    "memory" => "OpenCode agents have no persistent memory",
                    "hooks" => "OpenCode has no hooks",
                    "mcpServers" => "OpenCode agents cannot declare servers of their own",
                    _ => "OpenCode's agents have no such field",
                };
                not_carried(t, file, span, format!("`{other}` is not carried: {why}"));
            }
        }
    }
    tools_map(tools, &denied, out);
}

/// The `tools:` map: the tools allowed true and every other built-in false (none without
/// an allow-list), the tools denied false.
fn tools_map(allowed: Option<(Vec<String>, Span)>, denied: &[String], out: &mut Rewritten) {
    let mut map: Vec<(String, bool)> = Vec::new();
    let mut set = |name: &str, on: bool| match map.iter_mut().find(|(n, _)| n == name) {
        Some(entry) => entry.1 = on && entry.1,
        None => map.push((name.to_string(), on)),
    };
    let at = allowed.as_ref().map(|(_, span)| *span);
    if let Some((names, _)) = &allowed {
        let mut builtins: Vec<&str> = TOOLS.iter().map(|(_, o)| *o).collect();
        builtins.dedup();
        for b in builtins {
            set(b, names.iter().any(|n| n == b));
        }
        for n in names {
            set(n, true);
        }
    }
    for n in denied {
        set(n, false);
    }
    if map.is_empty() {
        return;
    }
    out.line("tools:".into(), at);
    for (name, on) in map {
        out.line(format!("  {}: {on}", yaml_string(&name)), at);
    }
}

/// The OpenCode tools a Claude Code list names, and the entries with no equivalent.
fn tool_names(value: &Yaml) -> (Vec<String>, Vec<String>) {
    let (mut names, mut lost) = (Vec::new(), Vec::new());
    for entry in tool_list(value) {
        let base = entry.split('(').next().unwrap_or(&entry).trim();
        if let Some(rest) = base.strip_prefix("mcp__") {
            let (server, tool) = rest.split_once("__").unwrap_or((rest, "*"));
            let server = bundle_name(server).unwrap_or_else(|| server.to_string());
            names.push(format!("{server}_{tool}"));
        } else if let Some((_, o)) = TOOLS.iter().find(|(c, _)| *c == base) {
            if !names.iter().any(|n| n == o) {
                names.push(o.to_string());
            }
        } else {
            lost.push(entry.clone());
        }
    }
    (names, lost)
}

/// A list of tools as Claude Code reads it: a YAML list, or one string separated by commas
/// (or by spaces when it has no commas), parentheses kept together (`Bash(git add:*)`).
fn tool_list(value: &Yaml) -> Vec<String> {
    if let Yaml::Array(_) = value {
        return front::list(value);
    }
    let text = front::scalar(value).unwrap_or_default();
    let commas = text.contains(',');
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0usize);
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        let split = depth == 0 && (c == ',' || (!commas && c.is_whitespace()));
        if split {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn dropped_tools(t: &mut Translation, file: usize, span: Span, key: &str, lost: &[String]) {
    if lost.is_empty() {
        return;
    }
    let list = lost
        .iter()
        .map(|l| format!("`{l}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!("`{key}` names tools OpenCode does not have, left out: {list}");
    not_carried(t, file, span, message);
}

/// `model`: `inherit` is OpenCode's default; an alias names no model OpenCode knows; a
/// full Claude model id is Anthropic's.
fn model(t: &mut Translation, file: usize, span: Span, value: &Yaml, out: &mut Rewritten) {
    let m = front::scalar(value).unwrap_or_default();
    if m == "inherit" {
        return;
    }
    if let Some(id) = carried_model(&m) {
        out.line(format!("model: {}", yaml_string(&id)), Some(span));
        return;
    }
    let why = if MODEL_ALIASES.contains(&m.as_str()) {
        "a Claude Code alias; OpenCode names models `provider/model`, so the agent uses the \
         model it inherits"
    } else {
        "not a model OpenCode can name; the agent uses the model it inherits"
    };
    not_carried(t, file, span, format!("`model: {m}` is {why}"));
}

/// A model OpenCode names: a full Claude model id as Anthropic's (`anthropic/ID`), a
/// `provider/model` as it is.
pub fn carried_model(m: &str) -> Option<String> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/'))
    };
    if m.starts_with("claude-") && plain(m) && !m.contains('/') {
        Some(format!("anthropic/{m}"))
    } else if m.contains('/') && plain(m) {
        Some(m.to_string())
    } else {
        None
    }
}

/// `color`: a name converted to hex, a hex colour or theme colour kept.
fn color(t: &mut Translation, file: usize, span: Span, value: &Yaml, out: &mut Rewritten) {
    let c = front::scalar(value).unwrap_or_default();
    let lower = c.to_ascii_lowercase();
    let hex = c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
    let carried = if hex || THEME_COLORS.contains(&lower.as_str()) {
        Some(if hex { c.clone() } else { lower })
    } else {
        COLORS
            .iter()
            .find(|(n, _)| *n == lower)
            .map(|(_, h)| h.to_string())
    };
    match carried {
        Some(h) => out.line(format!("color: {}", yaml_string(&h)), Some(span)),
        None => not_carried(
            t,
            file,
            span,
            format!(
                "`color: {c}` is not a colour OpenCode knows (it takes `#rrggbb` or a theme colour)"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_lists_keep_parentheses_together() {
        let s = |t: &str| Yaml::String(t.into());
        assert_eq!(
            tool_list(&s("Bash(git add:*), Read")),
            ["Bash(git add:*)", "Read"]
        );
        assert_eq!(tool_list(&s("Read Grep")), ["Read", "Grep"]);
        let (names, lost) = tool_names(&s("Agent(explore), mcp__my_srv__run, ExitPlanMode"));
        assert_eq!(names, ["task", "my-srv_run"]);
        assert_eq!(lost, ["ExitPlanMode"]);
    }
}
