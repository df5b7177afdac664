//! `capm export --to claude-plugin`: the bundle as a Claude Code plugin:
//! `.claude-plugin/plugin.json` from `[bundle]`, skills copied to `skills/`, agents and
//! commands with Claude's front matter in `agents/` and `commands/`, and `.mcp.json` from
//! the MCP servers. OpenCode plugins have no Claude Code equivalent and are left out.

use serde_json::{Map, Value, json};

use super::{Exported, env_text, skills::copy_skills};
use crate::formats::claude_markdown as markdown;
use crate::manifest::bundle::{BundleManifest, EnvValue, McpServer, PathResource};
use crate::manifest::span::Spanned;
use crate::manifest::tree::{BundleTree, normalise};

pub(super) fn export(tree: &BundleTree, m: &BundleManifest) -> Exported {
    let mut out = Exported::default();
    out.json(".claude-plugin/plugin.json".into(), &manifest(m));
    copy_skills(&mut out, tree, m);
    let servers: Vec<String> = m.mcp.keys().map(|n| n.value.clone()).collect();
    markdown_files(
        &mut out,
        tree,
        &m.agents,
        "agents",
        markdown::agent,
        &servers,
    );
    markdown_files(
        &mut out,
        tree,
        &m.commands,
        "commands",
        markdown::command,
        &servers,
    );
    if !m.mcp.is_empty() {
        let servers = mcp_servers(&mut out, m);
        out.json(".mcp.json".into(), &json!({ "mcpServers": servers }));
    }
    out.left_out(
        m.plugins.keys().map(|n| format!("plugin:{}", n.value)),
        "Claude Code plugins cannot run OpenCode plugins",
    );
    if !m.dependencies.is_empty() {
        out.notes.push(
            "[dependencies] are left out: Claude Code plugins depend on plugins of a marketplace, not on capm bundles".into(),
        );
    }
    out
}

/// plugin.json: the fields of `[bundle]` Claude Code knows.
fn manifest(m: &BundleManifest) -> Value {
    let meta = m.bundle.clone().unwrap_or_default();
    let text = |s: &Option<Spanned<String>>| s.as_ref().map(|s| Value::from(s.value.clone()));
    let mut doc = Map::new();
    let mut put = |key: &str, v: Option<Value>| {
        if let Some(v) = v {
            doc.insert(key.into(), v);
        }
    };
    put("name", text(&meta.name));
    put("version", text(&meta.version));
    put("description", text(&meta.description));
    put("license", text(&meta.license));
    let first_author = meta.authors.iter().flatten().next();
    put("author", first_author.map(|a| author(&a.value)));
    put("repository", text(&meta.repository));
    let keywords = meta.keyword_list();
    put("keywords", (!keywords.is_empty()).then(|| json!(keywords)));
    Value::Object(doc)
}

/// `Name <mail> (url)`, as npm writes a person, as Claude's author object.
fn author(text: &str) -> Value {
    let mut rest = text;
    let mut part = |open: char, close: char| {
        let start = rest.find(open)?;
        let end = start + rest[start..].find(close)?;
        let inner = rest[start + 1..end].trim().to_string();
        rest = &rest[..start];
        Some(inner)
    };
    let url = part('(', ')');
    let email = part('<', '>');
    let mut doc = json!({ "name": rest.trim() });
    if let Some(e) = email {
        doc["email"] = e.into();
    }
    if let Some(u) = url {
        doc["url"] = u.into();
    }
    doc
}

/// Each agent or command file, translated by `translate`, to `DIR/NAME.md`.
fn markdown_files(
    out: &mut Exported,
    tree: &BundleTree,
    resources: &indexmap::IndexMap<Spanned<String>, PathResource>,
    dir: &str,
    translate: fn(&str, &str, &[String]) -> markdown::Translated,
    servers: &[String],
) {
    for (name, r) in resources {
        let Some(path) = &r.path else { continue };
        let Some(bytes) = tree.file(&normalise(&path.value)) else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        let t = translate(&name.value, &text, servers);
        out.files
            .insert(format!("{dir}/{}.md", name.value), t.text.into_bytes());
        out.notes.extend(t.notes);
    }
}

/// `.mcp.json`'s `mcpServers`: each server as Claude Code starts or reaches it.
fn mcp_servers(out: &mut Exported, m: &BundleManifest) -> Map<String, Value> {
    let mut servers = Map::new();
    for (name, s) in &m.mcp {
        let id = format!("mcp:{}", name.value);
        let mut doc = match &s.command {
            Some(command) => local(s, &command.value),
            None => super::remote(s, "http", values),
        };
        if let Some(cwd) = &s.cwd {
            doc["cwd"] = cwd.value.clone().into();
        }
        for (field, set) in [
            ("timeout", s.timeout.is_some()),
            ("enabled", s.enabled.is_some()),
            ("oauth", s.oauth.is_some()),
        ] {
            if set {
                out.notes.push(format!(
                    "{id}: `{field}` is left out: .mcp.json has no such field capm can write"
                ));
            }
        }
        servers.insert(name.value.clone(), doc);
    }
    servers
}

fn local(s: &McpServer, command: &str) -> Value {
    let args: Vec<&str> = s.args.iter().map(|a| a.value.as_str()).collect();
    let mut doc = json!({ "type": "stdio", "command": command, "args": args });
    if !s.env.is_empty() {
        doc["env"] = values(&s.env);
    }
    doc
}

/// `env` or `headers` with Claude's `${VAR}` for what is read from the environment.
fn values(map: &indexmap::IndexMap<Spanned<String>, EnvValue>) -> Value {
    let pairs = map.iter().map(|(k, v)| {
        let text = env_text(v, |var| format!("${{{var}}}"));
        (k.value.clone(), Value::from(text))
    });
    Value::Object(pairs.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_style_authors_become_objects() {
        assert_eq!(
            author("Ada Lovelace <ada@example.com> (https://ada.dev)"),
            json!({"name": "Ada Lovelace", "email": "ada@example.com", "url": "https://ada.dev"})
        );
        assert_eq!(author("Acme"), json!({"name": "Acme"}));
    }
}
