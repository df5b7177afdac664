//! plugin.json and a marketplace entry: the plugin's name, metadata and component paths,
//! and the `[bundle]` table of the generated manifest.
//!
//! A marketplace entry completes plugin.json (plugin.json's own fields win), or, with
//! `"strict": false`, stands for it: its fields win and plugin.json may be absent.

use std::sync::Arc;

use super::{PLUGIN_JSON, error, not_carried};
use crate::formats::json::{self, Node};
use crate::formats::{Options, Translation, bundle_name};
use crate::manifest::span::{SourceFile, Span};

/// The plugin's manifest: plugin.json and the marketplace entry, in the order their
/// fields count.
pub struct Doc {
    /// Each document: its file in the origin and its root object.
    docs: Vec<(usize, Node)>,
    /// The file messages about the plugin as a whole go to.
    pub main: usize,
    /// The bundle's name.
    pub name: String,
    /// The marketplace entry's file, when there is one.
    entry: Option<usize>,
}

impl Doc {
    /// The first value of `key` among the documents, with its file.
    pub fn get(&self, key: &str) -> Option<(usize, &Node)> {
        self.docs
            .iter()
            .find_map(|(file, root)| root.get(key).map(|n| (*file, n)))
    }

    /// Every document's value of `key`, with its file.
    pub fn all(&self, key: &str) -> Vec<(usize, &Node)> {
        self.keyed(key)
            .into_iter()
            .map(|(f, _, n)| (f, n))
            .collect()
    }

    /// Every document's member `key`: its file, the key's span and the value.
    pub fn keyed(&self, key: &str) -> Vec<(usize, Span, &Node)> {
        self.docs
            .iter()
            .filter_map(|(file, root)| {
                let (k, v) = root.members().iter().find(|(k, _)| k.value == key)?;
                Some((*file, k.span, v))
            })
            .collect()
    }

    /// The paths a component key gives (a string or an array of strings), each made
    /// relative to the plugin root, after `default` when that exists. A path that is not
    /// a string, or leaves the plugin, is an error.
    pub fn paths(&self, t: &mut Translation, key: &str, default: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if t.raw.get(default).is_some() {
            out.push(default.to_string());
        }
        let Some((file, node)) = self.get(key) else {
            return out;
        };
        let items: Vec<&Node> = match &node.value {
            json::Value::String(_) => vec![node],
            json::Value::Array(items) => items.iter().collect(),
            _ => {
                let message = format!(
                    "`{key}` must be a path or a list of paths, not {}",
                    node.kind()
                );
                error(t, "invalid-type", (file, node.span), message);
                return out;
            }
        };
        for item in items {
            if let Some(rel) = relative(t, file, item)
                && !out.contains(&rel)
            {
                out.push(rel);
            }
        }
        out
    }

    /// The JSON documents of a component: the file at `default` when there is one, and
    /// what `key` gives in each manifest (a path, a list of paths, or the object itself).
    pub fn documents(&self, t: &mut Translation, key: &str, default: &str) -> Vec<(usize, Node)> {
        let mut files: Vec<String> = Vec::new();
        if t.raw.file(default).is_some() {
            files.push(default.to_string());
        }
        let mut out: Vec<(usize, Node)> = Vec::new();
        for (file, node) in self.all(key) {
            match &node.value {
                json::Value::Object(_) => out.push((file, node.clone())),
                json::Value::String(_) => files.extend(relative(t, file, node)),
                json::Value::Array(items) => {
                    files.extend(items.iter().filter_map(|i| relative(t, file, i)))
                }
                _ => {
                    let message = format!(
                        "`{key}` must be a path, a list of paths or an object, not {}",
                        node.kind()
                    );
                    error(t, "invalid-type", (file, node.span), message);
                }
            }
        }
        files.sort();
        files.dedup();
        for rel in files {
            let Some((file, source)) = t.source(&rel) else {
                continue;
            };
            match json::parse(&source) {
                Ok(root) => out.push((file, root)),
                Err(d) => t.finding(*d),
            }
        }
        out
    }
}

/// A component path of the manifest relative to the plugin root (`./extra/` → `extra`),
/// or an error located at it.
pub fn relative(t: &mut Translation, file: usize, node: &Node) -> Option<String> {
    let Some(path) = node.as_str() else {
        let message = format!("a component path must be a string, not {}", node.kind());
        error(t, "invalid-type", (file, node.span), message);
        return None;
    };
    if path.starts_with('/') || path.contains('\\') && path.contains(':') {
        let message = format!("`{path}` is absolute; a component path is relative to the plugin");
        error(t, "absolute-path", (file, node.span), message);
        return None;
    }
    let rel = crate::manifest::tree::normalise(path);
    if rel.split('/').any(|p| p == "..") {
        let message = format!("`{path}` leaves the plugin's directory");
        error(t, "path-escapes-bundle", (file, node.span), message);
        return None;
    }
    if t.raw.get(&rel).is_none() && !rel.is_empty() {
        let message = format!("`{path}` does not exist in the plugin");
        error(t, "path-not-found", (file, node.span), message);
        return None;
    }
    Some(rel)
}

/// Reads plugin.json and the marketplace entry; `None` (with findings) when neither gives
/// a manifest with a name.
pub fn read(t: &mut Translation, opts: &Options) -> Option<Doc> {
    let plugin = match t.raw.file(PLUGIN_JSON) {
        Some(_) => Some(parse(t, None)?),
        None => None,
    };
    let entry = match &opts.plugin {
        Some(text) => Some(parse(t, Some(text))?),
        None => None,
    };
    let entry_file = entry.as_ref().map(|(f, _)| *f);
    let strict = entry
        .as_ref()
        .and_then(|(_, e)| e.get("strict"))
        .and_then(Node::as_bool)
        != Some(false);
    let mut docs: Vec<(usize, Node)> = Vec::new();
    match (plugin, entry) {
        (Some(p), Some(e)) if !strict => docs.extend([e, p]),
        (p, e) => docs.extend(p.into_iter().chain(e)),
    }
    let (main, root) = (docs.first()?.0, &docs.first()?.1);
    let root_span = Span::new(root.span.start, root.span.start + 1);
    let mut doc = Doc {
        main,
        docs,
        name: String::new(),
        entry: entry_file,
    };
    let Some((file, name)) = doc.get("name") else {
        let message = "the plugin has no `name`: Claude Code needs one, and capm names the \
                       bundle after it"
            .to_string();
        error(t, "missing-field", (main, root_span), message);
        return None;
    };
    let Some(raw) = name.as_str() else {
        let message = format!("`name` must be a string, not {}", name.kind());
        error(t, "invalid-type", (file, name.span), message);
        return None;
    };
    doc.name = bundle_name(raw).unwrap_or_else(|| raw.to_string());
    Some(doc)
}

/// Parses plugin.json (`entry` None) or a marketplace entry's text into (file, object).
fn parse(t: &mut Translation, entry: Option<&str>) -> Option<(usize, Node)> {
    let (file, source) = match entry {
        None => t.source(PLUGIN_JSON)?,
        Some(text) => {
            let shown = format!("{} (marketplace entry)", t.raw.display_root);
            let source = Arc::new(SourceFile::new(shown, text));
            (t.origin.add_file(source.clone()), source)
        }
    };
    let root = match json::parse(&source) {
        Ok(root) => root,
        Err(d) => {
            t.finding(*d);
            return None;
        }
    };
    if !matches!(root.value, json::Value::Object(_)) {
        let what = if entry.is_some() {
            "a marketplace entry"
        } else {
            "plugin.json"
        };
        let message = format!("{what} must be a JSON object, not {}", root.kind());
        error(t, "invalid-type", (file, root.span), message);
        return None;
    }
    Some((file, root))
}

/// The keys of plugin.json capm reads (or reports as findings of their own).
const KNOWN: &[&str] = &[
    "$schema",
    "name",
    "version",
    "description",
    "author",
    "homepage",
    "repository",
    "license",
    "keywords",
    "commands",
    "agents",
    "skills",
    "hooks",
    "mcpServers",
    "outputStyles",
    "lspServers",
    "userConfig",
    "monitors",
    "experimental",
];

/// The keys of a marketplace entry that are about the marketplace, not the plugin.
const MARKETPLACE: &[&str] = &["source", "strict", "category", "tags", "id", "displayName"];

/// Writes `[bundle]` and `[compatibility]`, and warns about every key not carried.
pub fn write(t: &mut Translation, doc: &Doc, opts: &Options) {
    let m = &mut t.manifest;
    m.table(&["bundle"]);
    let (name_file, name) = doc.get("name").expect("read checked the name");
    m.string("name", &doc.name, Some((name_file, Some(name.span))));
    let version = doc
        .get("version")
        .and_then(|(f, n)| Some((f, n.spanned_str()?)));
    match (version, &opts.version) {
        (Some((f, v)), _) => m.string("version", &v.value, Some((f, Some(v.span)))),
        (None, Some(v)) => m.string("version", &v.to_string(), None),
        (None, None) => m.string("version", "0.0.0", None),
    }
    match doc
        .get("description")
        .and_then(|(f, n)| Some((f, n.spanned_str()?)))
    {
        Some((f, d)) if !d.value.trim().is_empty() => {
            m.string("description", &d.value, Some((f, Some(d.span))))
        }
        _ => m.string(
            "description",
            &format!("The {} Claude Code plugin", doc.name),
            None,
        ),
    }
    license(t, doc);
    authors(t, doc);
    repository(t, doc);
    keywords(t, doc);
    t.compatibility();
    unknown_keys(t, doc);
}

fn license(t: &mut Translation, doc: &Doc) {
    let Some((file, node)) = doc.get("license") else {
        return;
    };
    let text = node.as_str().unwrap_or_default();
    if spdx::Expression::parse_mode(text, spdx::ParseMode::LAX).is_ok() {
        t.manifest
            .string("license", text, Some((file, Some(node.span))));
    } else {
        let message = format!(
            "`license` is not an SPDX expression, so the bundle carries no license; \
             it was {}",
            node.to_json()
        );
        not_carried(t, file, node.span, message);
    }
}

/// `author`: `{ name, email?, url? }` or a string.
fn authors(t: &mut Translation, doc: &Doc) {
    let Some((file, node)) = doc.get("author") else {
        return;
    };
    let text = match node.as_str() {
        Some(s) => Some(s.to_string()),
        None => node.get("name").and_then(Node::as_str).map(|name| {
            match node.get("email").and_then(Node::as_str) {
                Some(email) => format!("{name} <{email}>"),
                None => name.to_string(),
            }
        }),
    };
    match text.filter(|s| !s.trim().is_empty()) {
        Some(author) => t
            .manifest
            .strings("authors", &[(author, Some((file, Some(node.span))))]),
        None => {
            let message = "`author` names nobody (a string or `{ \"name\": … }` is expected), \
                           so the bundle has no authors"
                .to_string();
            not_carried(t, file, node.span, message);
        }
    }
}

/// `repository`: a URL, or an object with `url`.
fn repository(t: &mut Translation, doc: &Doc) {
    if let Some((file, node)) = doc.get("repository") {
        let url = node
            .as_str()
            .or_else(|| node.get("url").and_then(Node::as_str));
        match url {
            Some(url) => t
                .manifest
                .string("repository", url, Some((file, Some(node.span)))),
            None => {
                let message = "`repository` is neither a URL nor an object with `url`".into();
                not_carried(t, file, node.span, message);
            }
        }
    }
    if let Some((file, node)) = doc.get("homepage") {
        let message = "`homepage` is not carried: a bundle has no homepage (its \
                       `repository` is kept)"
            .to_string();
        not_carried(t, file, node.span, message);
    }
}

fn keywords(t: &mut Translation, doc: &Doc) {
    let Some((file, node)) = doc.get("keywords") else {
        return;
    };
    let words: Vec<(String, crate::formats::generated::From)> = node
        .elements()
        .iter()
        .filter_map(|k| Some((k.as_str()?.to_string(), Some((file, Some(k.span))))))
        .collect();
    if words.len() == node.elements().len() && matches!(node.value, json::Value::Array(_)) {
        if !words.is_empty() {
            t.manifest.strings("keywords", &words);
        }
    } else {
        let message = "`keywords` is not a list of strings, so the bundle has none".into();
        not_carried(t, file, node.span, message);
    }
}

/// A warning for each key neither capm nor Claude Code's marketplace reads.
fn unknown_keys(t: &mut Translation, doc: &Doc) {
    let mut found: Vec<(usize, String, Span)> = Vec::new();
    for (file, root) in &doc.docs {
        for (key, _) in root.members() {
            let entry = doc.entry == Some(*file);
            let known = KNOWN.contains(&key.value.as_str())
                || entry && MARKETPLACE.contains(&key.value.as_str());
            if !known {
                found.push((*file, key.value.clone(), key.span));
            }
        }
    }
    for (file, key, span) in found {
        let message = format!("`{key}` is not carried: OpenCode has nothing it maps to");
        not_carried(t, file, span, message);
    }
}
