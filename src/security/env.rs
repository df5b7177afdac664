//! Rules over a local server's environment and working directory: literal secrets,
//! loader hijacks, TLS and proxy overrides, index overrides, secret sharing, and cwd.

use std::collections::BTreeMap;

use super::launch::sensitive_path;
use super::secrets::random_key;
use super::text::{identifier_name, literal_secret, secret_name, template_literal, token_shape};
use super::{Finding, Level, Sink};
use crate::manifest::bundle::{EnvValue, McpServer};
use crate::manifest::span::Span;
use crate::manifest::tree::{BundleTree, Entry};

const HIJACK: &[&str] = &[
    "PYTHONHOME",
    "NODE_PATH",
    "RUBYLIB",
    "PERLLIB",
    "JDK_JAVA_OPTIONS",
    "USERPROFILE",
    "GCONV_PATH",
    "NPM_CONFIG_NODE_OPTIONS",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "NODE_OPTIONS",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PATH",
    "HOME",
    "BASH_ENV",
    "ENV",
    "PERL5OPT",
    "PERL5LIB",
    "RUBYOPT",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
];
const INDEX_VARS: &[&str] = &[
    "NPM_CONFIG_REGISTRY",
    "YARN_NPM_REGISTRY_SERVER",
    "BUN_CONFIG_REGISTRY",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "YARN_REGISTRY",
    "PIP_FIND_LINKS",
    "UV_FIND_LINKS",
    // Another configuration file can name any index.
    "NPM_CONFIG_USERCONFIG",
    "NPM_CONFIG_GLOBALCONFIG",
    "PIP_CONFIG_FILE",
    "UV_CONFIG_FILE",
];

/// A variable's value as the env rules see it.
#[derive(Clone, Copy)]
enum Var<'a> {
    Literal(&'a str),
    /// `{ from-env = … }`; `passthrough` when it reads the variable of the same name.
    FromEnv {
        passthrough: bool,
    },
    /// `{ template = … }`: literal text around `{env:…}` references.
    Template(&'a str),
}

pub fn check(s: &McpServer, tree: &BundleTree, sink: &mut Sink<'_>) {
    for (key, value) in &s.env {
        let var = match value {
            EnvValue::Literal(v) => Var::Literal(&v.value),
            EnvValue::FromEnv { from_env, .. } => Var::FromEnv {
                passthrough: from_env.value.eq_ignore_ascii_case(&key.value),
            },
            EnvValue::Template { template, .. } => Var::Template(&template.value),
        };
        check_var(&key.value, var, key.span, sink);
    }
    check_cwd(s, tree, sink);
}

/// The env rules over `NAME=VALUE` given on the command line (`env NAME=VALUE cmd`), which
/// sets the variable exactly like an `env.NAME` key.
pub fn check_literal(name: &str, value: &str, span: Span, sink: &mut Sink<'_>) {
    check_var(name, Var::Literal(value), span, sink);
}

fn check_var(key: &str, value: Var<'_>, span: Span, sink: &mut Sink<'_>) {
    secret_value(key, value, span, sink);
    let upper = key.to_ascii_uppercase();
    if HIJACK.contains(&upper.as_str()) || upper.starts_with("DYLD_") {
        sink.add(
            "ENV-002",
            Level::Block,
            span,
            format!("`{key}` can make the launched program load other code"),
        )
        .help("remove it; configure the server through its own options");
    }
    traffic(key, &upper, value, span, sink);
    if INDEX_VARS.contains(&upper.as_str()) {
        sink.add(
            "SC-004",
            Level::High,
            span,
            format!("`{key}` installs packages from another index or configuration"),
        )
        .help("install from the public registry; a mirror belongs in the user's own settings");
    }
    if let Var::Literal(v) = value
        && super::launch::all_interfaces(v)
    {
        sink.add(
            "BIND-001",
            Level::Medium,
            span,
            format!("`{key} = \"{v}\"` makes the server listen on every network interface"),
        )
        .help("bind to 127.0.0.1, or use stdio");
    }
}

/// ENV-001: a literal secret in the value, or around the references of a template: a
/// credential shape under any name, a value not plainly harmless under a secret name, or a
/// random-looking key under a name that is not an identifier's. Messages name the kind of
/// secret, never its value.
fn secret_value(key: &str, value: Var<'_>, span: Span, sink: &mut Sink<'_>) {
    let why = match value {
        Var::Literal(v) => token_shape(v)
            .map(|kind| format!("`{key}` holds {kind} as a literal value"))
            .or_else(|| {
                literal_secret(key, v)
                    .then(|| format!("`{key}` looks like a secret but is given a literal value"))
            })
            .or_else(|| {
                (!identifier_name(key) && random_key(v.trim())).then(|| {
                    format!("`{key}` holds a random-looking literal value, like a key")
                })
            }),
        Var::Template(t) => token_shape(t)
            .map(|kind| format!("the template of `{key}` holds {kind} as literal text"))
            .or_else(|| {
                template_literal(t)?;
                secret_name(key).then(|| {
                    format!("the template of `{key}` looks like a secret but holds literal text besides its references")
                })
            }),
        Var::FromEnv { .. } => None,
    };
    if let Some(why) = why {
        sink.add("ENV-001", Level::Block, span, why).help(format!(
            "reference it instead: `env.{key} = {{ from-env = \"{key}\", secret = true }}`"
        ));
    }
}

/// ENV-003: TLS checks turned off, or traffic and trust sent somewhere the bundle chose.
fn traffic(key: &str, upper: &str, value: Var<'_>, span: Span, sink: &mut Sink<'_>) {
    let literal = match value {
        Var::Literal(v) => Some(v.trim().to_ascii_lowercase()),
        _ => None,
    };
    let passthrough = matches!(value, Var::FromEnv { passthrough: true });
    // Variables whose mere presence turns verification off, whatever their value.
    let presence_off = matches!(
        upper,
        "GIT_SSL_NO_VERIFY" | "PIP_TRUSTED_HOST" | "UV_INSECURE_HOST"
    );
    let switch_off = |off: &str| match &literal {
        Some(v) => v == off,
        // A reference other than the user's own setting could carry anything.
        None => !passthrough,
    };
    let tls_off = presence_off && !passthrough
        || matches!(upper, "NODE_TLS_REJECT_UNAUTHORIZED" | "PYTHONHTTPSVERIFY") && switch_off("0")
        || upper == "NPM_CONFIG_STRICT_SSL" && switch_off("false");
    let redirect = (upper.ends_with("_CA_BUNDLE")
        || matches!(
            upper,
            "NODE_EXTRA_CA_CERTS"
                | "SSL_CERT_FILE"
                | "SSL_CERT_DIR"
                | "HTTP_PROXY"
                | "HTTPS_PROXY"
                | "ALL_PROXY"
                | "NPM_CONFIG_PROXY"
                | "NPM_CONFIG_HTTPS_PROXY"
                | "NPM_CONFIG_CAFILE"
        )
        || upper.ends_with("_BASE_URL")
        || upper.ends_with("_API_BASE"))
        && !passthrough;
    if tls_off {
        sink.add(
            "ENV-003",
            Level::High,
            span,
            format!("`{key}` turns TLS certificate checks off"),
        )
        .help("remove it");
    } else if redirect {
        sink.add("ENV-003", Level::High, span, format!("`{key}` redirects the server's traffic or trust to a place the bundle chose"))
            .help(format!("remove it, or pass the user's own setting through unchanged: `{{ from-env = \"{key}\" }}`"));
    }
}

/// CWD-001 and STDIO-007 over the working directory.
fn check_cwd(s: &McpServer, tree: &BundleTree, sink: &mut Sink<'_>) {
    if let Some(cwd) = &s.cwd {
        let c = cwd.value.replace('\\', "/");
        let drive = c.len() > 1 && c.as_bytes()[1] == b':';
        let why = if c.contains('\0') {
            Some("contains a NUL byte".to_string())
        } else if c.starts_with('/')
            || c.starts_with('~')
            || c.starts_with('$')
            || c.starts_with('%')
            || drive
            // OpenCode substitutes these, so the directory is whatever the variable or
            // file holds (`{env:HOME}` is home).
            || c.contains("{env:")
            || c.contains("{file:")
        {
            Some("is outside the bundle and the project".to_string())
        } else if c.split('/').any(|p| p == "..") {
            Some("climbs out with `..`".to_string())
        } else {
            let rel: Vec<&str> = c
                .split('/')
                .filter(|p| !p.is_empty() && *p != ".")
                .collect();
            let mut prefix = String::new();
            let mut link = None;
            for part in rel {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                if matches!(tree.get(&prefix), Some(Entry::Symlink { .. })) {
                    link = Some(prefix.clone());
                    break;
                }
            }
            link.map(|l| format!("goes through the symbolic link `{l}`"))
        };
        if let Some(why) = why {
            sink.add(
                "CWD-001",
                Level::High,
                cwd.span,
                format!("cwd `{}` {why}", cwd.value),
            )
            .help("use a relative directory inside the project, or leave `cwd` out");
        } else if let Some(what) = sensitive_path(&c) {
            sink.add(
                "STDIO-007",
                Level::High,
                cwd.span,
                format!("cwd `{}` points at {what}", cwd.value),
            );
        }
    }
}

/// The variables a value reads from the environment, and whether it marks them secret.
fn references(v: &EnvValue) -> Vec<(String, bool)> {
    match v {
        EnvValue::Literal(_) => Vec::new(),
        EnvValue::FromEnv {
            from_env, secret, ..
        } => vec![(
            from_env.value.clone(),
            secret.as_ref().is_some_and(|s| s.value),
        )],
        EnvValue::Template {
            template, secret, ..
        } => {
            let secret = secret.as_ref().is_some_and(|s| s.value);
            crate::manifest::common::template_vars(&template.value)
                .unwrap_or_default()
                .into_iter()
                .map(|v| (v.to_string(), secret))
                .collect()
        }
    }
}

/// ENV-004: a server reading a variable that another server declares secret.
pub fn check_sharing(servers: &[(String, &McpServer)], out: &mut Vec<Finding>) {
    let mut secret_owners: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, s) in servers {
        for v in s.env.values().chain(s.headers.values()) {
            for (var, secret) in references(v) {
                if secret {
                    secret_owners.entry(var).or_default().push(name);
                }
            }
        }
    }
    for (name, s) in servers {
        for (key, v) in s.env.iter().chain(s.headers.iter()) {
            for (var, _) in references(v) {
                let others: Vec<&&str> = secret_owners
                    .get(&var)
                    .into_iter()
                    .flatten()
                    .filter(|o| **o != name.as_str())
                    .collect();
                if let Some(other) = others.first() {
                    out.push(Finding {
                        rule: "ENV-004",
                        level: Level::Medium,
                        message: format!("`{key}` reads `{var}`, which the server `{other}` declares as its secret"),
                        span: key.span,
                        resource: format!("mcp:{name}"),
                        help: Some("give each server its own variable unless sharing the secret is intended".into()),
                        spec: Some(super::mcp_spec_digest(s)),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ENV-001 messages for `key = value`.
    fn secret_messages(key: &str, value: Var<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let mut sink = Sink {
            resource: "mcp:x".into(),
            spec: None,
            out: &mut out,
        };
        secret_value(key, value, Span::default(), &mut sink);
        out.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn secrets_by_kind_name_and_entropy_never_echo_the_value() {
        let key = "Zk3Qp9LmX2vB7nR4tY8wE1aS6dF0gH5jK";
        let dsn = format!("postgres://app:{key}@db/app");
        let template = format!("Bearer {key}{{env:X}}");
        for (name, value) in [
            ("MYSQL_PWD", Var::Literal("correct-horse")),
            ("UPSTREAM", Var::Literal(key)),
            ("ANY", Var::Literal(&dsn)),
            ("AUTH_HEADER", Var::Template(&template)),
        ] {
            let found = secret_messages(name, value);
            assert_eq!(found.len(), 1, "{name}");
            assert!(!found[0].contains(key) && !found[0].contains("correct-horse"));
        }
        for (name, value) in [
            (
                "COMMIT_SHA",
                Var::Literal("a8f5f167f44f4964e6c998dee827110ca8f5f167"),
            ),
            (
                "PROJECT",
                Var::Literal("123e4567-e89b-12d3-a456-426614174000"),
            ),
            (
                "DB_URL",
                Var::Literal("postgres://app:${DB_PASSWORD}@db/app"),
            ),
            ("API_KEY", Var::Literal("<your-api-key>")),
        ] {
            assert!(secret_messages(name, value).is_empty(), "{name}");
        }
    }
}
