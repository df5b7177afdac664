//! Claude Code plugins (`.claude-plugin/plugin.json`, or an entry of a marketplace), read as
//! native bundles.
//!
//! `manifest.rs` reads plugin.json and the marketplace entry into the `[bundle]` table;
//! `skills.rs`, `agents.rs`, `commands.rs` and `mcp.rs` carry the components OpenCode has a
//! place for; `hooks.rs` reports the hooks (FMT-001) and `parts.rs` the parts OpenCode has
//! no place for (FMT-002). Every value of the generated bundle.toml, and every line of a
//! rewritten agent or command, points back at the author's file.

mod agents;
mod commands;
mod hooks;
mod manifest;
mod mcp;
mod parts;
mod skills;

use super::front::{self, FrontError, FrontMatter};
use super::{Options, Translation};
use crate::diagnostic::Diagnostic;
use crate::manifest::span::Span;
use crate::manifest::tree::{BundleTree, Entry};

/// The manifest of a plugin.
pub const PLUGIN_JSON: &str = ".claude-plugin/plugin.json";

/// A Claude Code plugin as a native bundle's tree.
pub fn plugin(raw: BundleTree, opts: &Options) -> BundleTree {
    let mut t = Translation::new(raw, "claude-plugin");
    let Some(doc) = manifest::read(&mut t, opts) else {
        return t.fail();
    };
    manifest::write(&mut t, &doc, opts);
    let p = Plugin {
        resource: format!("bundle:{}", doc.name),
    };
    skills::translate(&mut t, &doc, &p);
    agents::translate(&mut t, &doc, &p);
    commands::translate(&mut t, &doc, &p);
    mcp::translate(&mut t, &doc, &p);
    hooks::report(&mut t, &doc, &p);
    parts::report(&mut t, &doc, &p);
    t.finish(doc.main)
}

/// What the parts of a translation share.
struct Plugin {
    /// `bundle:NAME`, the resource FMT-001 and FMT-002 findings name.
    resource: String,
}

/// A `format-not-carried` warning at `span` of original file `file`.
fn not_carried(t: &mut Translation, file: usize, span: Span, message: String) {
    let source = t.origin.files[file].clone();
    t.finding(Diagnostic::new("format-not-carried", message).at(&source, span));
}

/// An error at `span` of original file `file`.
fn error(t: &mut Translation, code: &'static str, (file, span): (usize, Span), message: String) {
    let source = t.origin.files[file].clone();
    t.finding(Diagnostic::new(code, message).at(&source, span));
}

/// The markdown files at `path`: the file itself, or every `.md` below the directory.
fn markdown_files(raw: &BundleTree, path: &str) -> Vec<String> {
    if matches!(raw.get(path), Some(Entry::File(_))) {
        return vec![path.to_string()];
    }
    raw.below(path)
        .filter(|(k, e)| matches!(e, Entry::File(_)) && k.ends_with(".md"))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Claude Code's variables for the plugin's own directories, which capm cannot provide.
const PLUGIN_VARS: &[&str] = &["${CLAUDE_PLUGIN_ROOT}", "${CLAUDE_PLUGIN_DATA}"];

/// Where `text` first names `${CLAUDE_PLUGIN_ROOT}` or `${CLAUDE_PLUGIN_DATA}`.
fn plugin_var(text: &str) -> Option<Span> {
    PLUGIN_VARS
        .iter()
        .filter_map(|v| text.find(v).map(|i| Span::new(i, i + v.len())))
        .min_by_key(|s| s.start)
}

/// FMT-002 for a markdown file whose text (as its author wrote it, file `file`) needs the
/// plugin's directory, which the installed file cannot reach.
fn markdown_plugin_var(t: &mut Translation, p: &Plugin, file: usize) {
    let source = t.origin.files[file].clone();
    if let Some(span) = plugin_var(&source.text) {
        let var = &source.text[span.start..span.end];
        let message = format!(
            "this file refers to `{var}`, the plugin's own directory in Claude Code; installed \
             into OpenCode it has no such directory"
        );
        t.rule("FMT-002", (file, span), &p.resource, message, &source.text);
    }
}

/// A string as a YAML scalar OpenCode reads back exactly (JSON's double-quoted form).
fn yaml_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The last part of a relative path without its extension (`commands/a/b.md` → `b`).
fn stem(rel: &str) -> &str {
    let last = rel.rsplit('/').next().unwrap_or(rel);
    last.strip_suffix(".md").unwrap_or(last)
}

/// A markdown file whose front matter was rewritten: the new front matter's lines, each
/// from the original line it was made from, then the original body as written.
struct Rewritten {
    lines: Vec<(String, Option<Span>)>,
    head: Span,
}

impl Rewritten {
    fn new(head: Span) -> Rewritten {
        Rewritten {
            lines: Vec::new(),
            head,
        }
    }

    fn line(&mut self, text: String, from: Option<Span>) {
        self.lines.push((text, from));
    }

    /// Writes the file at `to` in the native bundle: front matter (when there are lines)
    /// then `body`, which came unchanged from `body_at` of original file `file` when its
    /// length is the same.
    fn write(self, t: &mut Translation, to: &str, file: usize, body: &str, body_at: Span) {
        let mut text = String::new();
        let mut maps = Vec::new();
        if !self.lines.is_empty() {
            text.push_str("---\n");
            for (line, from) in self.lines {
                let start = text.len();
                text.push_str(&line);
                maps.push((Span::new(start, text.len()), from.unwrap_or(self.head)));
                text.push('\n');
            }
            text.push_str("---\n");
        }
        let body_start = text.len();
        text.push_str(body);
        maps.push((Span::new(body_start, text.len()), body_at));
        t.write(to, text.into_bytes(), Some((file, Some(self.head))));
        for (span, from) in maps {
            t.origin.map(to, span, file, Some(from));
        }
    }
}

/// Front matter as Claude Code reads it: like YAML, but a top-level value YAML refuses
/// (`argument-hint: [pr-number] [focus]`) is read as the text it is. Spans are those of
/// `text`.
fn read_front(text: &str) -> Result<Option<FrontMatter>, FrontError> {
    let error = match front::parse(text) {
        Ok(fm) => return Ok(fm),
        Err(e) => e,
    };
    let Some(fixed) = quote_values(text) else {
        return Err(error);
    };
    let Ok(Some(mut fm)) = front::parse(&fixed) else {
        return Err(error);
    };
    fm.body -= fixed.len() - text.len();
    for (key, _, span) in &mut fm.keys {
        *span = front::key_line(&text[..fm.body], key).unwrap_or(fm.head);
    }
    Ok(Some(fm))
}

/// `text` with each top-level value YAML cannot read quoted; `None` when none is.
fn quote_values(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut changed = false;
    let mut closed = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end();
        if i > 0 && bare == "---" {
            closed = true;
        }
        let value = (i > 0 && !closed)
            .then(|| bare.split_once(": "))
            .flatten()
            .filter(|(k, v)| {
                !k.starts_with([' ', '\t', '-', '#'])
                    && !v.trim().is_empty()
                    && yaml_rust2::YamlLoader::load_from_str(v).is_err()
            });
        match value {
            Some((k, v)) => {
                out.push_str(&format!("{k}: {}\n", yaml_string(v.trim())));
                changed = true;
            }
            None => out.push_str(line),
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> BundleTree {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/claude/review-kit"
        );
        BundleTree::read(std::path::Path::new(dir), "review-kit").unwrap()
    }

    fn text(tree: &BundleTree, rel: &str) -> String {
        String::from_utf8(tree.file(rel).unwrap().to_vec()).unwrap()
    }

    #[test]
    fn a_plugin_becomes_a_bundle_with_its_agent_rewritten() {
        let tree = plugin(fixture(), &Options::default());
        let agent = text(&tree, "agents/code-reviewer.md");
        let check = crate::validate::check_bundle(&tree);
        assert_eq!(check.name(), Some("review-kit"));
        assert!(agent.starts_with("---\nmode: subagent\ndescription: \"Reviews code"));
        assert!(
            agent.contains("  \"read\": true\n  \"write\": false\n"),
            "{agent}"
        );
        assert!(
            agent.contains("  \"github_get_pull_request\": true\n"),
            "{agent}"
        );
        assert!(agent.contains("color: \"#ef4444\"\n"), "{agent}");
        assert!(agent.ends_with(
            "For each issue give the file, the line, what is wrong and a concrete fix.\n"
        ));
        let codes: Vec<&str> = check.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            ["format-not-carried"; 6]
                .iter()
                .copied()
                .chain(["FMT-001"])
                .collect::<Vec<_>>(),
            "{codes:?}"
        );
    }

    #[test]
    fn values_yaml_refuses_are_read_as_text() {
        let text =
            "---\ndescription: Review\nargument-hint: [pr] [focus]\nmodel: x\n---\nBody $0\n";
        let fm = read_front(text).unwrap().unwrap();
        assert_eq!(&text[fm.body..], "Body $0\n");
        let (hint, span) = fm.string("argument-hint").unwrap();
        assert_eq!(hint, "[pr] [focus]");
        assert_eq!(&text[span.start..span.end], "argument-hint: [pr] [focus]");
        assert_eq!(&text[fm.get("model").unwrap().1.start..][..8], "model: x");
    }

    #[test]
    fn a_marketplace_entry_that_is_not_strict_stands_for_plugin_json() {
        let md = "---\nname: pdf\ndescription: Read PDFs.\n---\n# PDF\n";
        let raw = BundleTree::from_files("repo", [("skills/pdf/SKILL.md", md.as_bytes())]);
        let entry = r#"{ "name": "document-skills", "source": "./", "strict": false,
            "description": "Documents", "skills": ["./skills/pdf"] }"#;
        let opts = Options {
            plugin: Some(entry.into()),
            version: Some(semver::Version::new(2, 0, 0)),
            ..Options::default()
        };
        let tree = plugin(raw, &opts);
        let check = crate::validate::check_bundle(&tree);
        assert!(check.diagnostics.is_empty(), "{:#?}", check.diagnostics);
        assert_eq!(check.name(), Some("document-skills"));
        let manifest = text(&tree, "bundle.toml");
        assert!(manifest.contains("version = \"2.0.0\""), "{manifest}");
        assert!(
            manifest.contains("[skills.pdf]\npath = \"skills/pdf\""),
            "{manifest}"
        );
    }

    #[test]
    fn plugin_json_wins_over_a_strict_entry_and_the_entry_completes_it() {
        let raw = BundleTree::from_files(
            "repo",
            [(
                PLUGIN_JSON,
                &br#"{ "name": "kit", "version": "1.0.0" }"#[..],
            )],
        );
        let entry = r#"{ "name": "other", "description": "From the marketplace", "source": "./" }"#;
        let opts = Options {
            plugin: Some(entry.into()),
            ..Options::default()
        };
        let tree = plugin(raw, &opts);
        let manifest = text(&tree, "bundle.toml");
        assert!(manifest.contains("name = \"kit\""), "{manifest}");
        assert!(
            manifest.contains("description = \"From the marketplace\""),
            "{manifest}"
        );
    }

    #[test]
    fn a_plugin_with_only_a_root_skill_is_that_skill() {
        let md = "---\nname: notes\ndescription: Takes notes.\n---\nWrite notes.\n";
        let raw = BundleTree::from_files(
            "notes",
            [
                (PLUGIN_JSON, &br#"{ "name": "notes" }"#[..]),
                ("SKILL.md", md.as_bytes()),
                ("scripts/x.py", b"print(1)\n"),
            ],
        );
        let tree = plugin(raw, &Options::default());
        let check = crate::validate::check_bundle(&tree);
        assert!(check.diagnostics.is_empty(), "{:#?}", check.diagnostics);
        assert_eq!(text(&tree, "skills/notes/SKILL.md"), md);
        assert!(tree.file("skills/notes/scripts/x.py").is_some());
        assert!(text(&tree, "bundle.toml").contains("version = \"0.0.0\""));
    }
}
