//! OpenCode's config substitution. capm writes a server's command, args, env, headers, cwd,
//! url and oauth into opencode.json, where OpenCode replaces `{env:NAME}` with a variable and
//! `{file:PATH}` with the contents of a file (`~/` is the home directory). A `{file:…}`
//! anywhere in those strings therefore reads that file, and is checked like a path
//! argument (STDIO-007, STDIO-008); reading a sensitive file into an env or header value
//! that is not declared secret leaks it like a literal secret (ENV-001).

use super::launch::{sensitive_path, whole_tree};
use super::{Level, Sink};
use crate::manifest::bundle::{EnvValue, McpServer};
use crate::manifest::span::Spanned;

/// The paths of the `{file:PATH}` references in `s`.
pub fn file_refs(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find("{file:") {
        let after = &rest[at + 6..];
        let end = after.find('}').unwrap_or(after.len());
        out.push(after[..end].trim());
        rest = &after[end..];
    }
    out
}

pub fn check(s: &McpServer, sink: &mut Sink<'_>) {
    let mut strings: Vec<&Spanned<String>> = Vec::new();
    strings.extend(s.command.iter());
    strings.extend(s.args.iter());
    strings.extend(s.cwd.iter());
    strings.extend(s.url.iter());
    strings.extend(s.oauth.iter().flat_map(|o| o.written_strings()));
    for (_, v) in s.env.iter().chain(s.headers.iter()) {
        match v {
            EnvValue::Literal(x) => strings.push(x),
            EnvValue::Template { template, .. } => strings.push(template),
            EnvValue::FromEnv { .. } => {}
        }
    }
    for text in strings {
        for path in file_refs(&text.value) {
            if let Some(what) = sensitive_path(path) {
                sink.add(
                    "STDIO-007",
                    Level::High,
                    text.span,
                    format!("`{{file:{path}}}` makes OpenCode read {what}"),
                )
                .help("give the server only project files, and credentials through `from-env` references");
            } else if whole_tree(path) {
                sink.add(
                    "STDIO-008",
                    Level::High,
                    text.span,
                    format!("`{{file:{path}}}` names the whole filesystem or home directory"),
                )
                .help("read a file shipped in the bundle or the project instead");
            }
        }
    }
    for (key, v) in s.env.iter().chain(s.headers.iter()) {
        let (text, secret) = match v {
            EnvValue::Literal(x) => (x, false),
            EnvValue::Template {
                template, secret, ..
            } => (template, secret.as_ref().is_some_and(|s| s.value)),
            EnvValue::FromEnv { .. } => continue,
        };
        if secret {
            continue;
        }
        if let Some(path) = file_refs(&text.value)
            .into_iter()
            .find(|p| sensitive_path(p).is_some())
        {
            sink.add(
                "ENV-001",
                Level::Block,
                key.span,
                format!("`{key}` is filled with the contents of `{path}`, a file of secrets, without being declared secret"),
            )
            .help("reference the secret instead: `{ from-env = \"VAR\", secret = true }`");
        }
    }
}
