//! PERM-002: an agent whose front matter lets it act without asking. OpenCode applies an
//! agent's `permission` over the user's own settings for as long as the agent runs, so an
//! agent that allows the shell, edits or directories outside the project for every
//! pattern switches the user's prompts off.
//!
//! Claude Code's `permissionMode` grants nothing through capm: a Claude plugin's agents are
//! translated without it (Claude Code ignores it for plugin agents), and the agent files
//! capm writes for Claude Code carry only `name`, `description`, `tools` and `model`. Only
//! the unknown-key warning reports it.
//!
//! The finding is `high`: a documented setup may need it, and `[policy] allow` can accept it
//! by the digest of the agent's file (what capm installs, byte for byte).

use sha2::{Digest, Sha256};

use super::opencode_schema::key_text;
use super::yaml_node::{Node, Value};
use crate::manifest::span::Span;

/// The `permission` keys whose blanket `allow` gives the agent power over the machine, and
/// what it then may do.
const POWERFUL: &[(&str, &str)] = &[
    ("bash", "run any shell command"),
    ("edit", "change any file"),
    ("external_directory", "reach files outside the project"),
    ("*", "use every tool"),
];

/// The grants in an agent's top-level front matter: each a message and the span (in the
/// parsed YAML) of the value that grants.
pub fn grants(entries: &[(Node, Node)]) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    for (k, v) in entries {
        match key_text(k).as_str() {
            "permission" => permission(v, &mut out),
            // A merge key can bring a `permission` in from an anchor capm does not follow.
            "<<" => out.push(unfollowed(v.span)),
            _ => {}
        }
    }
    out
}

/// A YAML alias or merge where a grant could be: js-yaml resolves it, capm does not, so it
/// counts as a grant (fail closed).
fn unfollowed(span: Span) -> (String, Span) {
    (
        "the agent's permissions go through a YAML alias or merge, which capm does not follow: it could allow anything".into(),
        span,
    )
}

fn permission(v: &Node, out: &mut Vec<(String, Span)>) {
    match &v.value {
        Value::String(s) if s == "allow" => out.push((
            "`permission: allow` lets the agent use every tool, the shell and edits included, without asking".into(),
            v.span,
        )),
        Value::Alias => out.push(unfollowed(v.span)),
        Value::Map(entries) => {
            for (k, rule) in entries {
                let key = key_text(k);
                if key == "<<" {
                    out.push(unfollowed(k.span));
                    continue;
                }
                let Some((_, what)) = POWERFUL.iter().find(|(p, _)| *p == key) else {
                    continue;
                };
                if let Some(at) = catch_all_allow(rule) {
                    let msg = format!("`permission.{key}` lets the agent {what} without asking");
                    out.push((msg, at));
                }
            }
        }
        _ => {}
    }
}

/// Where a permission rule allows every pattern: `allow` itself, or a pattern map whose
/// catch-all (`*`, `**`) is `allow`, whatever the other patterns say.
fn catch_all_allow(rule: &Node) -> Option<Span> {
    match &rule.value {
        Value::String(s) if s == "allow" => Some(rule.span),
        Value::Alias => Some(rule.span),
        Value::Map(patterns) => patterns
            .iter()
            .find(|(p, action)| {
                let key = key_text(p);
                key == "<<" || (catch_all(&key) && is_allow(action))
            })
            .map(|(p, _)| p.span),
        _ => None,
    }
}

/// A pattern that matches every command or path: only wildcards (`*`, `**`, `?*`, `*?`),
/// with at least one `*`.
fn catch_all(pattern: &str) -> bool {
    let p = pattern.trim();
    p.contains('*')
        && p.chars()
            .all(|c| matches!(c, '*' | '?') || c.is_whitespace())
}

/// `allow`, or an alias that could stand for it.
fn is_allow(n: &Node) -> bool {
    matches!(&n.value, Value::String(s) if s == "allow") || matches!(n.value, Value::Alias)
}

/// The spec digest a `[policy] allow` entry names for an agent: the SHA-256 of its file.
pub fn spec_digest(text: &str) -> String {
    format!(
        "sha256:{}",
        crate::manifest::tree::hex(&Sha256::digest(text.as_bytes()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(yaml: &str) -> Vec<String> {
        let root = super::super::yaml_node::parse(yaml).unwrap().unwrap();
        let Value::Map(entries) = root.value else {
            panic!("not a map")
        };
        grants(&entries).into_iter().map(|(m, _)| m).collect()
    }

    #[test]
    fn blanket_grants_are_found() {
        for yaml in [
            "permission: allow",
            "permission:\n  bash: allow",
            "permission:\n  edit: allow",
            "permission:\n  external_directory: allow",
            "permission:\n  \"*\": allow",
            "permission:\n  bash:\n    \"*\": allow\n    \"rm *\": deny",
            "permission:\n  bash:\n    \"**\": allow",
            "tools:\n  bash: true\npermission:\n  bash: allow",
            "permission:\n  bash:\n    \"?*\": allow",
            "description: &a allow\npermission: *a",
            "description: &a allow\npermission:\n  bash: *a",
            "x: &b\n  bash: allow\npermission:\n  <<: *b",
            "x: &b\n  permission: allow\n<<: *b",
        ] {
            assert_eq!(found(yaml).len(), 1, "{yaml}");
        }
    }

    #[test]
    fn limited_grants_pass() {
        for yaml in [
            "permission: ask",
            "permission:\n  bash:\n    \"git status\": allow\n    \"*\": ask",
            "permission:\n  bash:\n    \"git *\": allow",
            "permission:\n  webfetch: allow\n  read: allow",
            "permission:\n  edit: deny\n  bash: ask",
            "tools:\n  bash: true",
            "permissionMode: bypassPermissions",
            "description: allow",
        ] {
            assert!(found(yaml).is_empty(), "{yaml}");
        }
    }
}
