//! Agent and command markdown: their YAML front matter checked the way OpenCode 1.18.33
//! loads it (docs/spec.md §3.1, "Agents and commands").
//!
//! OpenCode reads `agents/NAME.md` as `agent.NAME` and `commands/NAME.md` as `command.NAME`:
//! the front matter's keys become the entry's fields and the body its `prompt` (agents) or
//! `template` (commands). A value its schema refuses makes every OpenCode command fail
//! ("Configuration is invalid"); front matter js-yaml cannot parse, even after OpenCode's
//! fallback that quotes `key: text: with colons`, or that is never closed, is silently
//! ignored and read as part of the prompt. Both are errors. A key the schema does not
//! know is a warning (an agent passes it to the model as an option; a command drops it).

use super::agent_grants;
use super::opencode_schema::{self as schema, Problem};
use super::yaml_node::{self, Node, Value};
use crate::diagnostic::{Diagnostic, Severity};
use crate::manifest::decode::suggest;
use crate::manifest::span::{SourceFile, Span};

/// Which kind of markdown file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Agent,
    Command,
}

impl Kind {
    fn schema(self) -> &'static serde_json::Value {
        schema::schema(match self {
            Kind::Agent => "AgentConfig",
            Kind::Command => "CommandConfig",
        })
    }

    /// The field OpenCode fills from the body, replacing one set in the front matter.
    fn body_key(self) -> &'static str {
        match self {
            Kind::Agent => "prompt",
            Kind::Command => "template",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Command => "command",
        }
    }
}

/// Checks the front matter of the agent or command `name` in `file`.
pub fn check(file: &SourceFile, kind: Kind, name: &str) -> Vec<Diagnostic> {
    let text = &file.text;
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let Some(first_end) = opening(&text[bom..]) else {
        return Vec::new();
    };
    let head = Span::new(bom, bom + first_end);
    let yaml_start = bom + first_end + 1;
    let Some(close) = closing(text, yaml_start) else {
        return vec![ignored(
            file,
            head,
            "the front matter is never closed with `---`".into(),
        )];
    };
    let yaml = &text[yaml_start..close];
    let (root, map) = match yaml_node::parse(yaml) {
        Ok(root) => (root, OffsetMap::identity(yaml_start)),
        Err(e) => match sanitized(yaml) {
            Some((fixed, map)) if yaml_node::parse(&fixed).is_ok() => {
                let root = yaml_node::parse(&fixed).ok().flatten();
                (root, map.shifted(yaml_start))
            }
            _ => {
                let at = file.floor_boundary(yaml_start + e.offset);
                let msg = format!(
                    "the front matter is not YAML OpenCode can read: {}",
                    e.message
                );
                return vec![ignored(file, Span::new(at, at), msg)];
            }
        },
    };
    let Some(root) = root else {
        return Vec::new();
    };
    let Value::Map(entries) = &root.value else {
        return vec![
            Diagnostic::new(
                "invalid-front-matter",
                format!(
                    "the front matter is {}, not a mapping of keys to values",
                    schema::show(&root)
                ),
            )
            .at(file, map.span(root.span))
            .with_severity(Severity::Warning)
            .help(format!(
                "OpenCode reads its elements as stray {} settings; write `key: value` lines",
                kind.noun()
            )),
        ];
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        for (d, span) in check_entry(kind, name, k, v) {
            out.push(d.at(file, map.span(span)));
        }
    }
    if kind == Kind::Agent {
        out.extend(grant_findings(file, name, entries, &map));
    }
    out
}

/// PERM-002 for an agent, as security findings: `high`, allowable by the agent file's digest.
fn grant_findings(
    file: &SourceFile,
    name: &str,
    entries: &[(Node, Node)],
    map: &OffsetMap,
) -> Vec<Diagnostic> {
    let grants = agent_grants::grants(entries);
    if grants.is_empty() {
        return Vec::new();
    }
    let spec = agent_grants::spec_digest(&file.text);
    grants
        .into_iter()
        .map(|(message, span)| {
            let finding = crate::security::Finding {
                rule: "PERM-002",
                level: crate::security::Level::High,
                message,
                span: map.span(span),
                resource: format!("agent:{name}"),
                help: Some("limit the grant to the commands or paths the agent needs (`bash: { \"git status\": allow, \"*\": ask }`), or leave it to the user".into()),
                spec: Some(spec.clone()),
                file: None,
            };
            finding.to_diagnostic(file)
        })
        .collect()
}

/// The diagnostics of one top-level key, each with its span in the YAML text.
fn check_entry(kind: Kind, name: &str, key: &Node, value: &Node) -> Vec<(Diagnostic, Span)> {
    let k = schema::key_text(key);
    let props = kind.schema()["properties"].as_object().expect("properties");
    let noun = kind.noun();
    if k == "name" {
        if matches!(&value.value, Value::String(s) if s == name) {
            return Vec::new();
        }
        let msg = format!(
            "`name` is {}, so OpenCode would load this {noun} under that name instead of `{name}`",
            schema::show(value)
        );
        let help = format!("remove `name`: the file name already names the {noun}");
        return vec![(
            Diagnostic::new("front-matter-value", msg).help(help),
            key.span,
        )];
    }
    if k == kind.body_key() {
        let msg = format!("`{k}` in the front matter is replaced by the file's body");
        let help = "move the text into the body, below the closing `---`";
        return vec![(
            Diagnostic::new("front-matter-key", msg)
                .help(help)
                .with_severity(Severity::Warning),
            key.span,
        )];
    }
    let Some(sub) = props.get(&k) else {
        return vec![(unknown_key(kind, &k, props), key.span)];
    };
    let mut problems: Vec<Problem> = Vec::new();
    schema::check(sub, value, &k, &mut problems);
    problems
        .into_iter()
        .map(|p| {
            let help = match (&value.value, k.as_str()) {
                (Value::Null, "color") => {
                    "quote the colour: `#` starts a YAML comment (`color: \"#FF5733\"`)".to_string()
                }
                _ => format!(
                    "OpenCode {} refuses the file, and then every OpenCode command fails",
                    schema::OPENCODE_VERSION
                ),
            };
            (
                Diagnostic::new("front-matter-value", p.message).help(help),
                p.span,
            )
        })
        .collect()
}

fn unknown_key(
    kind: Kind,
    k: &str,
    props: &serde_json::Map<String, serde_json::Value>,
) -> Diagnostic {
    let known: Vec<&str> = props
        .keys()
        .map(String::as_str)
        .filter(|p| *p != kind.body_key())
        .collect();
    let what = match kind {
        Kind::Agent => "OpenCode passes it to the model as a provider option",
        Kind::Command => "OpenCode ignores it",
    };
    let help = match suggest(k, &known) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("the keys OpenCode knows: {}", known.join(", ")),
    };
    let msg = format!("unknown {} front-matter key `{k}`: {what}", kind.noun());
    Diagnostic::new("front-matter-key", msg)
        .help(help)
        .with_severity(Severity::Warning)
}

/// A problem that makes OpenCode ignore the whole front matter.
fn ignored(file: &SourceFile, span: Span, msg: String) -> Diagnostic {
    Diagnostic::new("invalid-front-matter", msg)
        .at(file, span)
        .help("OpenCode then ignores the front matter and reads it as part of the prompt; fix the YAML between the `---` lines")
}

/// The length of the opening `---` line (gray-matter: the file starts with `---`), or
/// `None` when the file has no front matter.
fn opening(text: &str) -> Option<usize> {
    let end = text.find('\n').unwrap_or(text.len());
    (text[..end].trim_end() == "---").then_some(end)
}

/// The offset of the closing `---` line at or after `from`.
fn closing(text: &str, from: usize) -> Option<usize> {
    let mut offset = from;
    for line in text.get(from..)?.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// OpenCode's fallback for front matter js-yaml refuses: a top-level `key: value` whose
/// unquoted value holds a colon becomes a block scalar (`key: |-` and the value indented on
/// the next line). Returns the rewritten text and where its lines came from, or `None`
/// when nothing was rewritten.
fn sanitized(yaml: &str) -> Option<(String, OffsetMap)> {
    let mut out = String::new();
    let mut map = OffsetMap(Vec::new());
    let mut changed = false;
    let mut offset = 0;
    for line in yaml.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        match block_scalar(body) {
            Some((key, value_at)) => {
                map.0.push((out.len(), offset));
                out.push_str(&format!("{key}: |-\n"));
                map.0
                    .push((out.len(), (offset + value_at).saturating_sub(2)));
                out.push_str(&format!("  {}\n", body[value_at..].trim()));
                changed = true;
            }
            None => {
                map.0.push((out.len(), offset));
                out.push_str(line);
            }
        }
        offset += line.len();
    }
    changed.then_some((out, map))
}

/// For a line OpenCode's fallback rewrites, its key and the offset of its value.
fn block_scalar(line: &str) -> Option<(&str, usize)> {
    if line.trim().starts_with('#')
        || line.trim().is_empty()
        || line.starts_with(char::is_whitespace)
    {
        return None;
    }
    let colon = line.find(':')?;
    let key = line[..colon].trim_end();
    let mut chars = key.chars();
    let first = chars.next()?;
    if !(first.is_ascii_alphabetic() || first == '_')
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    let rest = &line[colon + 1..];
    let value = rest.trim();
    let quoted = value.starts_with('"') || value.starts_with('\'');
    if value.is_empty() || value == ">" || value == "|" || quoted || !value.contains(':') {
        return None;
    }
    Some((key, colon + 1 + (rest.len() - rest.trim_start().len())))
}

/// Offsets in parsed text back to offsets in the file: `(parsed line start, file offset)`.
struct OffsetMap(Vec<(usize, usize)>);

impl OffsetMap {
    fn identity(base: usize) -> Self {
        OffsetMap(vec![(0, base)])
    }

    fn shifted(mut self, base: usize) -> Self {
        for e in &mut self.0 {
            e.1 += base;
        }
        self
    }

    fn offset(&self, at: usize) -> usize {
        let i = self.0.partition_point(|(start, _)| *start <= at).max(1) - 1;
        let (start, file) = self.0[i];
        file + (at - start)
    }

    fn span(&self, s: Span) -> Span {
        Span::new(self.offset(s.start), self.offset(s.end))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn found(kind: Kind, text: &str) -> Vec<(&'static str, String)> {
        let f = SourceFile::new("a.md", text);
        check(&f, kind, "a")
            .into_iter()
            .map(|d| {
                let at = d
                    .location
                    .as_ref()
                    .and_then(|l| l.span)
                    .map(|s| f.line_col(s.start));
                (d.code, format!("{at:?}"))
            })
            .collect()
    }

    #[test]
    fn no_front_matter_and_empty_front_matter_are_fine() {
        assert!(found(Kind::Agent, "Just a prompt\n").is_empty());
        assert!(found(Kind::Agent, "---\n---\nPrompt\n").is_empty());
        assert!(found(Kind::Command, "---\nname: a\n---\n").is_empty());
    }

    /// After OpenCode's colon fallback rewrites a line, later lines keep their place.
    #[test]
    fn the_colon_fallback_keeps_locations() {
        let text = "---\ndescription: Use: this\nmode: weird\n---\nP\n";
        let got = found(Kind::Agent, text);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "front-matter-value");
        assert!(got[0].1.contains("line: 3, column: 7"), "{got:?}");
    }

    proptest! {
        #[test]
        fn any_front_matter_is_checked_without_panicking(body in crate::mutation::text(300)) {
            found(Kind::Agent, &format!("---\n{body}\n---\n"));
            found(Kind::Command, &format!("---\r\ndescription: a: b\r\n{body}\n---\n"));
        }
    }
}
