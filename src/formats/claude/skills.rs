//! A plugin's skills: each `NAME/SKILL.md` below `skills/` (and below the directories the
//! manifest's `skills` adds, or such a directory itself) stays where the author put it; a
//! plugin with no skills directory and a `SKILL.md` at its root is one skill.

use super::manifest::Doc;
use super::{Plugin, markdown_plugin_var};
use crate::formats::Translation;
use crate::formats::front;
use crate::formats::generated::From;
use crate::manifest::tree::Entry;

/// Copies every skill of the plugin and writes its `[skills.NAME]` table.
pub fn translate(t: &mut Translation, doc: &Doc, p: &Plugin) {
    let roots = doc.paths(t, "skills", "skills");
    let mut dirs: Vec<String> = Vec::new();
    for root in &roots {
        for dir in skill_dirs(t, root) {
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    if roots.is_empty() && t.raw.file("SKILL.md").is_some() {
        root_skill(t, doc, p);
        return;
    }
    for dir in dirs {
        t.copy(&dir, &dir);
        let fallback = dir.rsplit('/').next().unwrap_or(&dir).to_string();
        let Some((name, file, from)) = skill_name(t, &dir, &fallback) else {
            continue;
        };
        markdown_plugin_var(t, p, file);
        t.manifest.table_from(&["skills", &name], from);
        t.manifest.string("path", &dir, Some((file, None)));
    }
}

/// The skill directories at `root`: `root` itself when it holds SKILL.md, else each
/// directory directly below it that does.
fn skill_dirs(t: &Translation, root: &str) -> Vec<String> {
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            format!("{a}/{b}")
        }
    };
    if t.raw.file(&join(root, "SKILL.md")).is_some() {
        return vec![root.to_string()];
    }
    t.raw
        .below(root)
        .filter(|(k, e)| {
            matches!(e, Entry::Dir)
                && !k[root.len()..].trim_start_matches('/').contains('/')
                && t.raw.file(&format!("{k}/SKILL.md")).is_some()
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// The skill's name (its front matter's, else `fallback`), its SKILL.md in the origin,
/// and where the name came from.
fn skill_name(t: &mut Translation, dir: &str, fallback: &str) -> Option<(String, usize, From)> {
    let rel = if dir.is_empty() {
        "SKILL.md".to_string()
    } else {
        format!("{dir}/SKILL.md")
    };
    let (file, source) = t.source(&rel)?;
    // Malformed front matter is reported by the skill check of the generated bundle.
    let named = front::parse(&source.text)
        .ok()
        .flatten()
        .and_then(|fm| fm.string("name"));
    Some(match named {
        Some((n, span)) => (n, file, Some((file, Some(span)))),
        None => (fallback.to_string(), file, Some((file, None))),
    })
}

/// A plugin that is one skill: the root's files (but the plugin's own) in `skills/NAME/`.
fn root_skill(t: &mut Translation, doc: &Doc, p: &Plugin) {
    let Some((name, file, from)) = skill_name(t, "", &doc.name) else {
        return;
    };
    markdown_plugin_var(t, p, file);
    let to = format!("skills/{name}");
    let top: Vec<String> = t
        .raw
        .entries
        .keys()
        .filter(|k| !k.contains('/') && !k.starts_with('.'))
        .filter(|k| !matches!(k.as_str(), "commands" | "agents" | "hooks"))
        .cloned()
        .collect();
    for k in top {
        t.copy(&k, &format!("{to}/{k}"));
    }
    t.manifest.table_from(&["skills", &name], from);
    t.manifest.string("path", &to, Some((file, None)));
}
