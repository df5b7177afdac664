//! A plugin's commands (`commands/**/*.md` and the paths `commands` adds): a command in a
//! subdirectory is named by its path (`git/commit.md` → `git-commit`); its `description`
//! (and a model OpenCode can name) is kept; Claude Code's positional arguments, numbered
//! from 0, are renumbered from 1 as OpenCode numbers them.

use super::agents::carried_model;
use super::manifest::Doc;
use super::{Plugin, Rewritten, markdown_files, markdown_plugin_var, not_carried, yaml_string};
use crate::formats::front::{self, FrontMatter};
use crate::formats::{Translation, bundle_name};
use crate::manifest::span::Span;

/// Translates every command of the plugin and writes its `[commands.NAME]` table.
pub fn translate(t: &mut Translation, doc: &Doc, p: &Plugin) {
    let mut names: Vec<String> = Vec::new();
    for root in doc.paths(t, "commands", "commands") {
        for rel in markdown_files(&t.raw, &root) {
            let inside = rel.strip_prefix(&format!("{root}/")).unwrap_or(&rel);
            let inside = if rel == root {
                super::stem(&rel)
            } else {
                inside
            };
            let raw_name = inside.trim_end_matches(".md").replace('/', "-");
            let name = bundle_name(&raw_name).unwrap_or(raw_name);
            if names.contains(&name) {
                continue;
            }
            let to = format!("commands/{name}.md");
            let Some(file) = command(t, p, &rel, &to) else {
                continue;
            };
            t.manifest.table(&["commands", &name]);
            t.manifest.string("path", &to, Some((file, None)));
            names.push(name);
        }
    }
}

/// Writes one command at `to`; its file in the origin.
fn command(t: &mut Translation, p: &Plugin, rel: &str, to: &str) -> Option<usize> {
    let (file, source) = t.source(rel)?;
    markdown_plugin_var(t, p, file);
    let text = &source.text;
    let (fm, body_at) = match super::read_front(text) {
        Ok(Some(fm)) => {
            let at = fm.body;
            (Some(fm), at)
        }
        Ok(None) => (None, 0),
        // Front matter the command check reports where it is.
        Err(_) => {
            t.copy(rel, to);
            return Some(file);
        }
    };
    let body = renumber(&text[body_at..]);
    let head = fm.as_ref().map_or(Span::new(0, 0), |f| f.head);
    let mut out = Rewritten::new(head);
    if let Some(fm) = &fm {
        front_matter(t, file, fm, &mut out);
    }
    let unchanged = fm.is_none() && body == *text;
    if unchanged {
        t.copy(rel, to);
    } else {
        out.write(t, to, file, &body, Span::new(body_at, text.len()));
    }
    Some(file)
}

/// The OpenCode front matter of a Claude Code command.
fn front_matter(t: &mut Translation, file: usize, fm: &FrontMatter, out: &mut Rewritten) {
    for (key, value, span) in &fm.keys {
        let span = *span;
        let shown = front::scalar(value).unwrap_or_default();
        let why = match key.as_str() {
            "description" => {
                out.line(format!("description: {}", yaml_string(&shown)), Some(span));
                continue;
            }
            "model" => match carried_model(&shown) {
                Some(m) => {
                    out.line(format!("model: {}", yaml_string(&m)), Some(span));
                    continue;
                }
                None => format!(
                    "`model: {shown}` names no model OpenCode knows; the command uses the \
                     agent's model"
                ),
            },
            "allowed-tools" => "`allowed-tools` is not carried: it only spares the user \
                                Claude Code's permission prompts, and OpenCode asks by its own \
                                permissions"
                .to_string(),
            "argument-hint" => "`argument-hint` is not carried: OpenCode shows no hint for a \
                                command's arguments"
                .to_string(),
            "disable-model-invocation" => "`disable-model-invocation` is not carried: \
                                           OpenCode's model never runs commands by itself"
                .to_string(),
            other => format!("`{other}` is not carried: OpenCode's commands have no such field"),
        };
        not_carried(t, file, span, why);
    }
}

/// Claude Code's positional arguments (`$0`, `$ARGUMENTS[0]`, numbered from 0) as
/// OpenCode's (`$1`, numbered from 1); `$ARGUMENTS` stays.
pub fn renumber(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some((n, tail)) = indexed(after) {
            out.push_str(&format!("${}", n + 1));
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `ARGUMENTS[N]` or `N` at the start of `text`: N and what follows.
fn indexed(text: &str) -> Option<(u64, &str)> {
    if let Some(r) = text.strip_prefix("ARGUMENTS[") {
        let end = r.find(']')?;
        let n = r[..end].parse().ok()?;
        return Some((n, &r[end + 1..]));
    }
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let n = text[..digits].parse().ok()?;
    Some((n, &text[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_renumbered_from_one() {
        assert_eq!(
            renumber("Fix $0 with $1; all: $ARGUMENTS; $ARGUMENTS[2] costs $ 5 or $x"),
            "Fix $1 with $2; all: $ARGUMENTS; $3 costs $ 5 or $x"
        );
    }
}
