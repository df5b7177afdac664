//! OpenCode's config substitutions (SUBST-001, SUBST-002, SUBST-003). OpenCode reads its
//! config file as text and, before parsing it, replaces every `{env:NAME}` with that
//! variable (empty when unset), then every `{file:PATH}` with the contents of that file:
//! `~/` is the home directory, a relative path is taken from the config file's directory,
//! the path is not trimmed (the contents are), and a missing file makes the whole config
//! invalid. Both are
//! case-sensitive, and because `{env:}` goes first, `{file:{env:X}/y}` reads a file the
//! environment names. They apply anywhere in the text, so every string capm renders into
//! the config (a server's command, args, environment, headers, url and cwd, a plugin's npm
//! spec) is checked here.
//!
//! `tests/opencode/substitution.rs` proves each of these against the real binary; agent and
//! command markdown files are not substituted.

use super::launch::{sensitive_path, whole_tree};
use super::{Level, Sink};
use crate::manifest::bundle::{EnvValue, McpServer, Permission, Plugin};
use crate::manifest::common::PermissionKind;
use crate::manifest::span::Spanned;

/// One substitution OpenCode makes in a string.
#[derive(Debug, PartialEq, Eq)]
pub enum Subst<'a> {
    /// `{env:NAME}`.
    Env(&'a str),
    /// `{file:PATH}`; `dynamic` when an `{env:}` inside the path decides it.
    File { path: &'a str, dynamic: bool },
    /// `{env:` or `{file:` without its `}`: in the config it runs on into the text that
    /// follows the string, so what it reads cannot be known.
    Unclosed(&'static str),
}

/// The substitutions OpenCode makes in `s`, in order of kind: every `{env:}`, then every
/// `{file:}`. An empty reference (`{env:}`) is left alone by OpenCode and here.
pub fn refs(s: &str) -> Vec<Subst<'_>> {
    let mut out = Vec::new();
    for (at, _) in s.match_indices("{env:") {
        let after = &s[at + 5..];
        match after.find('}') {
            None => out.push(Subst::Unclosed("env")),
            Some(0) => {}
            Some(end) => out.push(Subst::Env(&after[..end])),
        }
    }
    for (at, _) in s.match_indices("{file:") {
        let after = &s[at + 6..];
        match file_path_end(after) {
            None => out.push(Subst::Unclosed("file")),
            Some(0) => {}
            Some(end) => out.push(Subst::File {
                path: &after[..end],
                dynamic: after[..end].contains("{env:"),
            }),
        }
    }
    out
}

/// Where the path after `{file:` ends: at the first `}` that does not close an `{env:}`
/// inside it (OpenCode has replaced those by then).
fn file_path_end(after: &str) -> Option<usize> {
    let mut from = 0;
    loop {
        let close = from + after[from..].find('}')?;
        match after[from..close].find("{env:") {
            Some(_) => from = close + 1,
            None => return Some(close),
        }
    }
}

/// A string capm renders into the config, with what it is and whether it is a literal
/// value that should have been a `from-env` or `template` reference to read the
/// environment, or a template (whose `{env:}` references validation checks).
struct Rendered<'a> {
    text: &'a Spanned<String>,
    field: String,
    literal_value: bool,
    template: bool,
}

fn rendered_strings(s: &McpServer) -> Vec<Rendered<'_>> {
    let plain = |text, field: String| Rendered {
        text,
        field,
        literal_value: false,
        template: false,
    };
    let mut out = Vec::new();
    out.extend(s.command.iter().map(|c| plain(c, "command".into())));
    out.extend(
        s.args
            .iter()
            .map(|a| plain(a, format!("argument `{}`", a.value))),
    );
    out.extend(s.cwd.iter().map(|c| plain(c, "cwd".into())));
    out.extend(s.url.iter().map(|u| plain(u, "url".into())));
    let oauth = s.oauth.iter().flat_map(|o| o.written_strings());
    out.extend(oauth.map(|o| plain(o, "oauth".into())));
    for (what, map) in [("env", &s.env), ("headers", &s.headers)] {
        for (key, v) in map {
            let (text, literal_value) = match v {
                EnvValue::Literal(x) => (x, true),
                EnvValue::Template { template, .. } => (template, false),
                EnvValue::FromEnv { .. } => continue,
            };
            out.push(Rendered {
                text,
                field: format!("{what}.{key}"),
                literal_value,
                template: !literal_value,
            });
        }
    }
    out
}

/// The variables the server declares through `from-env` and `template` values, which the
/// plan shows as settings.
fn declared_vars(s: &McpServer) -> Vec<&str> {
    s.env
        .values()
        .chain(s.headers.values())
        .flat_map(|v| match v {
            EnvValue::FromEnv { from_env, .. } => vec![from_env.value.as_str()],
            EnvValue::Template { template, .. } => {
                crate::manifest::common::template_vars(&template.value).unwrap_or_default()
            }
            EnvValue::Literal(_) => Vec::new(),
        })
        .collect()
}

/// The `{file:}` reads of `s` that a `filesystem` permission covers (SUBST-002): each
/// field they are in and the path, for the plan to show.
pub fn file_reads(s: &McpServer) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in rendered_strings(s) {
        for sub in refs(&r.text.value) {
            if let Subst::File {
                path,
                dynamic: false,
            } = sub
                && !whole_tree(path)
                && sensitive_path(path).is_none()
            {
                out.push((r.field.clone(), path.to_string()));
            }
        }
    }
    out
}

/// Checks every string of `s` that OpenCode substitutes. `permissions` are the bundle's:
/// a `filesystem` one lets the server's config read a file that is not sensitive.
pub(crate) fn check(s: &McpServer, permissions: &[Permission], sink: &mut Sink<'_>) {
    let fs_permission = permissions
        .iter()
        .find(|p| {
            p.kind
                .as_ref()
                .is_some_and(|k| k.value == PermissionKind::Filesystem)
        })
        .and_then(|p| p.id.as_ref())
        .map(|id| id.value.as_str());
    check_strings(rendered_strings(s), &declared_vars(s), fs_permission, sink);
}

/// The field name of a plugin's npm spec in findings.
const NPM_SPEC: &str = "the npm spec";

/// Checks a plugin's npm spec, rendered into the `plugin` array: nothing can declare a
/// read there, so any substitution is refused.
pub(crate) fn check_plugin(p: &Plugin, sink: &mut Sink<'_>) {
    let strings = p.npm.iter().map(|npm| Rendered {
        text: npm,
        field: NPM_SPEC.into(),
        literal_value: true,
        template: false,
    });
    check_strings(strings.collect(), &[], None, sink);
}

fn check_strings(
    strings: Vec<Rendered<'_>>,
    declared: &[&str],
    fs_permission: Option<&str>,
    sink: &mut Sink<'_>,
) {
    for r in strings {
        for sub in refs(&r.text.value) {
            if r.template && matches!(sub, Subst::Env(_) | Subst::Unclosed("env")) {
                continue;
            }
            match sub {
                Subst::Env(name) => env_ref(&r, name, declared, sink),
                Subst::File { path, dynamic } => file_ref(&r, path, dynamic, fs_permission, sink),
                Subst::Unclosed(kind) => unclosed(&r, kind, sink),
            }
        }
    }
}

fn env_ref(r: &Rendered<'_>, name: &str, declared: &[&str], sink: &mut Sink<'_>) {
    if !r.literal_value && declared.contains(&name) {
        return;
    }
    let how = if r.literal_value {
        "a literal value"
    } else {
        "a variable the server does not declare"
    };
    sink.add(
        "SUBST-003",
        Level::Block,
        r.text.span,
        format!("`{{env:{name}}}` in {} makes OpenCode read the environment variable `{name}`, {how}", r.field),
    )
    .help(if r.field == NPM_SPEC {
        "write the package's exact `name@version`".to_string()
    } else {
        format!(
            "declare the read: `{{ from-env = \"{name}\" }}` (with `secret = true` for a secret) or `{{ template = \"…{{env:{name}}}…\" }}` in `env` or `headers`"
        )
    });
}

fn file_ref(
    r: &Rendered<'_>,
    path: &str,
    dynamic: bool,
    permission: Option<&str>,
    sink: &mut Sink<'_>,
) {
    let what = if dynamic {
        Some("a file the environment names, which capm cannot review")
    } else if whole_tree(path) {
        Some("a directory (the whole filesystem or home directory)")
    } else {
        sensitive_path(path)
    };
    let reads = format!("`{{file:{path}}}` in {} makes OpenCode read", r.field);
    if let Some(what) = what {
        sink.add(
            "SUBST-001",
            Level::Block,
            r.text.span,
            format!("{reads} {what}"),
        )
        .help("ship the content in the bundle, and pass credentials through `from-env` references");
        return;
    }
    let place = if path.starts_with("~/") || path.starts_with('/') {
        ""
    } else {
        " (relative to the config file's directory)"
    };
    match permission {
        Some(id) => {
            sink.add(
                "SUBST-002",
                Level::Low,
                r.text.span,
                format!("{reads} `{path}`{place}, under the filesystem permission `{id}`"),
            );
        }
        None => {
            sink.add(
                "SUBST-002",
                Level::Block,
                r.text.span,
                format!("{reads} `{path}`{place}, but the bundle declares no filesystem permission"),
            )
            .help("declare it: [[permissions]] kind = \"filesystem\", id = \"…\", reason = \"…\"; the plan then shows the read for review");
        }
    }
}

fn unclosed(r: &Rendered<'_>, kind: &str, sink: &mut Sink<'_>) {
    let (rule, reads) = match kind {
        "file" => ("SUBST-001", "a file named by whatever text follows it"),
        _ => ("SUBST-003", "a variable named by whatever text follows it"),
    };
    sink.add(
        rule,
        Level::Block,
        r.text.span,
        format!(
            "`{{{kind}:` without a closing `}}` in {} makes OpenCode read {reads} in the config",
            r.field
        ),
    )
    .help("close the reference, or remove it");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_read_as_opencode_reads_them() {
        assert_eq!(
            refs("a{env:A}b{file:~/x}{file:{env:H}/y}{env:}{file:}{ENV:C}"),
            vec![
                Subst::Env("A"),
                Subst::Env("H"),
                Subst::File {
                    path: "~/x",
                    dynamic: false
                },
                Subst::File {
                    path: "{env:H}/y",
                    dynamic: true
                },
            ]
        );
        assert_eq!(
            refs("{file: x}"),
            vec![Subst::File {
                path: " x",
                dynamic: false
            }]
        );
        assert_eq!(refs("{file:x"), vec![Subst::Unclosed("file")]);
        assert_eq!(refs("{env:X"), vec![Subst::Unclosed("env")]);
        assert!(refs("${X} {X} {{env}} file:x").is_empty());
    }
}
