//! The parts of a plugin OpenCode has no place for, each an FMT-002 finding: output styles,
//! LSP servers, monitors, `bin/`, `userConfig` and a plugin's `settings.json`, whether
//! the manifest declares them or the plugin holds them at their default place.

use std::sync::Arc;

use sha2::Digest;

use super::manifest::Doc;
use super::{Plugin, not_carried};
use crate::formats::Translation;
use crate::manifest::span::{SourceFile, Span};
use crate::manifest::tree::{Entry, hex};

/// The manifest keys of such parts, and what each is.
const KEYS: &[(&str, &str)] = &[
    (
        "outputStyles",
        "output styles, which OpenCode does not have",
    ),
    ("lspServers", "LSP servers, which capm does not install"),
    (
        "monitors",
        "background monitors, which OpenCode does not have",
    ),
    (
        "userConfig",
        "settings Claude Code asks the user for when the plugin is enabled, which capm cannot ask for",
    ),
];

/// The places such parts are found without being declared.
const PLACES: &[(&str, &str)] = &[
    (
        "output-styles",
        "output styles, which OpenCode does not have",
    ),
    (".lsp.json", "LSP servers, which capm does not install"),
    (
        "monitors",
        "background monitors, which OpenCode does not have",
    ),
    (
        "bin",
        "executables Claude Code puts on the PATH of its Bash tool, which capm does not install",
    ),
    (
        "settings.json",
        "default settings for Claude Code, which OpenCode does not read",
    ),
];

/// Reports every such part.
pub fn report(t: &mut Translation, doc: &Doc, p: &Plugin) {
    for (key, what) in KEYS {
        for (file, span, node) in doc.keyed(key) {
            let message = format!("`{key}` declares {what}; the plugin is installed without them");
            t.rule(
                "FMT-002",
                (file, span),
                &p.resource,
                message,
                &node.to_json().to_string(),
            );
        }
    }
    experimental(t, doc, p);
    for (place, what) in PLACES {
        if t.raw.get(place).is_none() {
            continue;
        }
        let (file, reviewed) = anchor(t, place);
        let message = format!("`{place}` holds {what}; the plugin is installed without it");
        t.rule(
            "FMT-002",
            (file, Span::new(0, 0)),
            &p.resource,
            message,
            &reviewed,
        );
    }
}

/// `experimental.monitors` is a part capm cannot install; `experimental.themes` is not
/// carried.
fn experimental(t: &mut Translation, doc: &Doc, p: &Plugin) {
    for (file, node) in doc.all("experimental") {
        for (key, value) in node.members() {
            if key.value == "monitors" {
                let message = "`experimental.monitors` declares background monitors, which \
                               OpenCode does not have; the plugin is installed without them"
                    .to_string();
                t.rule(
                    "FMT-002",
                    (file, key.span),
                    &p.resource,
                    message,
                    &value.to_json().to_string(),
                );
            } else {
                let message = format!(
                    "`experimental.{}` is not carried: OpenCode has nothing it maps to",
                    key.value
                );
                not_carried(t, file, key.span, message);
            }
        }
    }
}

/// A file findings about the part at `place` point into (the part itself, or its first
/// file), and the text of the part reviewed: each file's path and digest.
fn anchor(t: &mut Translation, place: &str) -> (usize, String) {
    let mut files: Vec<(String, &[u8])> = Vec::new();
    if let Some(Entry::File(b)) = t.raw.get(place) {
        files.push((place.to_string(), b));
    }
    for (k, e) in t.raw.below(place) {
        if let Entry::File(b) = e {
            files.push((k.clone(), b));
        }
    }
    let reviewed: String = files
        .iter()
        .map(|(k, b)| format!("{k} sha256:{}\n", hex(&sha2::Sha256::digest(b))))
        .collect();
    let (rel, text) = match files.first() {
        Some((k, b)) => (k.clone(), String::from_utf8_lossy(b).into_owned()),
        None => (place.to_string(), String::new()),
    };
    let source = Arc::new(SourceFile::new(t.raw.display_path(&rel), text));
    (t.origin.add_file(source), reviewed)
}
