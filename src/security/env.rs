//! Rules over a local server's environment and working directory: literal secrets,
//! loader hijacks, TLS and proxy overrides, index overrides, secret sharing, and cwd.

use std::collections::BTreeMap;

use super::launch::sensitive_path;
use super::text::{harmless_value, secret_name, token_shape};
use super::{Finding, Level, Sink};
use crate::manifest::bundle::{EnvValue, McpServer};
use crate::manifest::tree::{BundleTree, Entry};

const HIJACK: &[&str] = &[
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
];

fn literal(v: &EnvValue) -> Option<&str> {
    match v {
        EnvValue::Literal(s) => Some(&s.value),
        _ => None,
    }
}

pub fn check(s: &McpServer, tree: &BundleTree, sink: &mut Sink<'_>) {
    for (key, value) in &s.env {
        let upper = key.value.to_ascii_uppercase();
        let passthrough = matches!(value, EnvValue::FromEnv { from_env, .. } if from_env.value.eq_ignore_ascii_case(&key.value));
        if let Some(v) = literal(value) {
            if let Some(kind) = token_shape(v) {
                sink.add(
                    "ENV-001",
                    Level::Block,
                    key.span,
                    format!("`{key}` holds {kind} as a literal value"),
                )
                .help(format!(
                    "reference it instead: `env.{key} = {{ from-env = \"{key}\", secret = true }}`"
                ));
            } else if secret_name(&key.value) && !harmless_value(v) {
                sink.add(
                    "ENV-001",
                    Level::Block,
                    key.span,
                    format!("`{key}` looks like a secret but is given a literal value"),
                )
                .help(format!(
                    "reference it instead: `env.{key} = {{ from-env = \"{key}\", secret = true }}`"
                ));
            }
        }
        if HIJACK.contains(&upper.as_str()) || upper.starts_with("DYLD_") {
            sink.add(
                "ENV-002",
                Level::Block,
                key.span,
                format!("`{key}` can make the launched program load other code"),
            )
            .help("remove it; configure the server through its own options");
        }
        let tls_off = matches!(
            (upper.as_str(), literal(value)),
            (
                "NODE_TLS_REJECT_UNAUTHORIZED" | "PYTHONHTTPSVERIFY",
                Some("0")
            )
        ) || (upper == "NODE_TLS_REJECT_UNAUTHORIZED"
            || upper == "PYTHONHTTPSVERIFY")
            && !passthrough
            && literal(value).is_none();
        let redirect = (upper.ends_with("_CA_BUNDLE")
            || upper == "NODE_EXTRA_CA_CERTS"
            || upper == "SSL_CERT_FILE"
            || upper == "SSL_CERT_DIR"
            || matches!(upper.as_str(), "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY")
            || upper.ends_with("_BASE_URL")
            || upper.ends_with("_API_BASE"))
            && !passthrough;
        if tls_off {
            sink.add(
                "ENV-003",
                Level::High,
                key.span,
                format!("`{key}` turns TLS certificate checks off"),
            )
            .help("remove it");
        } else if redirect {
            sink.add("ENV-003", Level::High, key.span, format!("`{key}` redirects the server's traffic or trust to a place the bundle chose"))
                .help(format!("remove it, or pass the user's own setting through unchanged: `{{ from-env = \"{key}\" }}`"));
        }
        if INDEX_VARS.contains(&upper.as_str()) {
            sink.add(
                "SC-004",
                Level::High,
                key.span,
                format!("`{key}` installs packages from another index"),
            )
            .help("install from the public registry; a mirror belongs in the user's own settings");
        }
        if let Some(v) = literal(value) {
            let host = v
                .rsplit_once(':')
                .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
                .map_or(v, |(h, _)| h);
            if matches!(host, "0.0.0.0" | "::" | "[::]") {
                sink.add(
                    "BIND-001",
                    Level::Medium,
                    key.span,
                    format!("`{key} = \"{v}\"` makes the server listen on every network interface"),
                )
                .help("bind to 127.0.0.1, or use stdio");
            }
        }
    }
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
            crate::validate::template_vars(&template.value)
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
