//! `capm export`: a native bundle written in the formats the field publishes in, the reverse
//! of the readers beside this module. Each writer takes a bundle that passed lint and
//! returns the files of the other format, in memory, with a note for everything the format
//! has no place for; `ops::export` writes them to disk.
//!
//! Layout: `skills.rs` a repository of Agent Skills; `claude.rs` a Claude Code plugin
//! (plugin.json, `.mcp.json`, agents and commands with Claude's front matter);
//! `server_json.rs` MCP Registry `server.json` documents, one per MCP server.

mod claude;
mod server_json;
mod skills;

use std::collections::BTreeMap;

use indexmap::IndexMap;

use crate::manifest::bundle::{BundleManifest, EnvValue, McpServer};
use crate::manifest::common::Transport;
use crate::manifest::span::Spanned;
use crate::manifest::tree::{BundleTree, Entry, normalise};

/// A format capm exports to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum To {
    /// A repository of Agent Skills: `skills/NAME/SKILL.md`.
    Skills,
    /// A Claude Code plugin: `.claude-plugin/plugin.json` and its parts.
    ClaudePlugin,
    /// MCP Registry `server.json` documents.
    ServerJson,
}

impl To {
    /// The format's name as `--to` takes it.
    pub fn name(self) -> &'static str {
        match self {
            To::Skills => "skills",
            To::ClaudePlugin => "claude-plugin",
            To::ServerJson => "server.json",
        }
    }
}

/// What an export needs that the bundle does not say.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The namespace of server.json names (`io.github.acme`).
    pub namespace: Option<String>,
}

/// The files of an exported bundle, by `/`-separated path, and what was left out.
#[derive(Debug, Default)]
pub struct Exported {
    pub files: BTreeMap<String, Vec<u8>>,
    /// One sentence per thing the format could not carry.
    pub notes: Vec<String>,
}

/// Why a bundle cannot be exported to a format.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("`{bundle}` has no {what}, so there is nothing to export as {to}")]
    Nothing {
        bundle: String,
        what: &'static str,
        to: &'static str,
    },
    #[error(
        "server.json names need a namespace, and {}",
        match repository {
            Some(r) => format!("the repository `{r}` is not on GitHub"),
            None => "the bundle has no repository".to_string(),
        }
    )]
    NoNamespace { repository: Option<String> },
    #[error(
        "`{0}` is not a namespace: write reverse-DNS letters, digits, `.` and `-` (`io.github.acme`)"
    )]
    BadNamespace(String),
    #[error("mcp:{server} runs `{command}`, which server.json cannot describe: {why}")]
    Inexpressible {
        server: String,
        command: String,
        why: String,
    },
}

/// The bundle as `to` lays it out. `tree` and `manifest` are a bundle that passed lint.
pub fn export(
    tree: &BundleTree,
    manifest: &BundleManifest,
    to: To,
    opts: &Options,
) -> Result<Exported, ExportError> {
    match to {
        To::Skills => skills::export(tree, manifest),
        To::ClaudePlugin => Ok(claude::export(tree, manifest)),
        To::ServerJson => server_json::export(manifest, opts),
    }
}

/// The bundle's name, or nothing.
fn bundle_name(m: &BundleManifest) -> String {
    let meta = m.bundle.as_ref();
    meta.and_then(|b| b.name.as_ref())
        .map(|n| n.value.clone())
        .unwrap_or_default()
}

impl Exported {
    /// Copies the bundle's directory `from` (every file below it) to `to`.
    fn copy_dir(&mut self, tree: &BundleTree, from: &str, to: &str) {
        let from = normalise(from);
        for (key, entry) in tree.below(&from) {
            if let Entry::File(bytes) = entry {
                let rest = &key[from.len()..];
                self.files.insert(format!("{to}{rest}"), bytes.to_vec());
            }
        }
    }

    /// A note for each resource `ids` names, saying why `to` leaves it out.
    fn left_out(&mut self, ids: impl IntoIterator<Item = String>, why: &str) {
        for id in ids {
            self.notes.push(format!("{id} is left out: {why}"));
        }
    }

    /// A JSON document as a file, pretty-printed with a final newline.
    fn json(&mut self, path: String, value: &serde_json::Value) {
        let mut text = serde_json::to_string_pretty(value).expect("JSON values serialise");
        text.push('\n');
        self.files.insert(path, text.into_bytes());
    }
}

/// A remote server's `type`, `url` and `headers`: `streamable` is the format's name for
/// streamable HTTP, and `headers` writes the headers.
fn remote(
    s: &McpServer,
    streamable: &str,
    headers: impl Fn(&IndexMap<Spanned<String>, EnvValue>) -> serde_json::Value,
) -> serde_json::Value {
    let kind = match s.transport.as_ref().map(|t| t.value) {
        Some(Transport::Sse) => "sse",
        _ => streamable,
    };
    let url = s.url.as_ref().map(|u| u.value.clone()).unwrap_or_default();
    let mut doc = serde_json::json!({ "type": kind, "url": url });
    if !s.headers.is_empty() {
        doc["headers"] = headers(&s.headers);
    }
    doc
}

/// Every resource of `m` of a kind `keep` does not accept, as `KIND:NAME`.
fn other_resources(m: &BundleManifest, keep: &[&str]) -> Vec<String> {
    m.resources()
        .into_iter()
        .filter(|r| !keep.contains(&r.kind()))
        .map(|r| r.id())
        .collect()
}

/// A value of `env` or `headers` with each variable it reads from the environment written
/// by `var` (`${VAR}` for Claude, `{VAR}` for server.json); a literal as it is.
fn env_text(v: &EnvValue, mut var: impl FnMut(&str) -> String) -> String {
    match v {
        EnvValue::Literal(s) => s.value.clone(),
        EnvValue::FromEnv { from_env, .. } => var(&from_env.value),
        EnvValue::Template { template, .. } => replace_env_refs(&template.value, var),
    }
}

/// `template` with every `{env:VAR}` written by `var`.
fn replace_env_refs(template: &str, mut var: impl FnMut(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find("{env:") {
        let Some(end) = rest[at..].find('}') else {
            break;
        };
        out.push_str(&rest[..at]);
        out.push_str(&var(&rest[at + 5..at + end]));
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The variables `{env:VAR}` references in `template`, in order.
fn env_refs(template: &str) -> Vec<String> {
    let mut found = Vec::new();
    replace_env_refs(template, |v| {
        found.push(v.to_string());
        String::new()
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_references_are_rewritten_in_place() {
        let t = "Bearer {env:TOKEN} for {env:USER}!";
        assert_eq!(
            replace_env_refs(t, |v| format!("${{{v}}}")),
            "Bearer ${TOKEN} for ${USER}!"
        );
        assert_eq!(env_refs(t), ["TOKEN", "USER"]);
        assert_eq!(
            replace_env_refs("open {env:X", |_| "?".into()),
            "open {env:X"
        );
    }
}
