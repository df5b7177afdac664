//! Rules over a local server's environment and working directory: literal secrets,
//! loader hijacks, TLS and proxy overrides, index overrides, secret sharing, and cwd.

use std::collections::BTreeMap;

use super::launch::sensitive_path;
use super::reach::{remote_context, remote_engine_address};
use super::runtime_opts::{self, runtime_of};
use super::secrets::random_key;
use super::text::{
    identifier_name, keyed_url, literal_secret, secret_name, template_literal, token_shape,
};
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
    // Programs other programs start: git's ssh, helpers, hooks; askpass helpers; the shell.
    "GIT_SSH",
    "GIT_EXEC_PATH",
    "GIT_TEMPLATE_DIR",
    "GIT_EXTERNAL_DIFF",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_COUNT",
    "SHELL",
    "BROWSER",
    "LESSOPEN",
    "LESSCLOSE",
    // Startup code of shells and interpreters.
    "ZDOTDIR",
    "PROMPT_COMMAND",
    "PS4",
    "IFS",
    "SHELLOPTS",
    "BASHOPTS",
    "PYTHONINSPECT",
    "PYTHONEXECUTABLE",
    "PYTHONUSERBASE",
    "PERL5DB",
    "PHPRC",
    "PHP_INI_SCAN_DIR",
    "NODE_REPL_EXTERNAL_MODULE",
    "ELECTRON_RUN_AS_NODE",
    "DOTNET_STARTUP_HOOKS",
    "DOTNET_ADDITIONAL_DEPS",
    "OPENSSL_CONF",
    "OPENSSL_ENGINES",
    "RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
];
/// Prefixes of families of loader and profiler variables (`LD_AUDIT`, `DYLD_INSERT_LIBRARIES`,
/// `CORECLR_PROFILER_PATH`, `GIT_CONFIG_KEY_0`, `npm_config_script_shell`…).
const HIJACK_PREFIXES: &[&str] = &[
    "LD_",
    "DYLD_",
    "CORECLR_",
    "COR_",
    "GIT_CONFIG_KEY_",
    "GIT_CONFIG_VALUE_",
];
/// Suffixes of variables that name a program to run (`GIT_SSH_COMMAND`, `SSH_ASKPASS`,
/// `RSYNC_RSH`, `GIT_EDITOR`, `NPM_CONFIG_SCRIPT_SHELL`) or options of a runtime.
const HIJACK_SUFFIXES: &[&str] = &[
    "_SSH_COMMAND",
    "_PROXY_COMMAND",
    "_ASKPASS",
    "_RSH",
    "_SCRIPT_SHELL",
    "_SHELL",
    "_NODE_OPTIONS",
    "_ONLOAD_SCRIPT",
];
/// Variables naming a program run to show or edit text: `PAGER = "cat"` is a common way to
/// keep a tool from waiting on a terminal, so only another program counts.
const VIEWERS: &[&str] = &[
    "EDITOR",
    "VISUAL",
    "PAGER",
    "MANPAGER",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "SYSTEMD_PAGER",
];
/// Runtimes whose `*_OPTS`/`*_OPTIONS` variable can load an agent or preload code.
const RUNTIME_OPTIONS: &[&str] = &[
    "JAVA", "JDK", "MAVEN", "GRADLE", "SBT", "ANT", "BUN", "DENO", "NODE",
];

/// Options that make a tool run or load a program the value names (`GOFLAGS=-toolexec=…`,
/// `MAVEN_OPTS=-javaagent:…`), whatever tool the variable is for.
const RUNNING_OPTIONS: &[&str] = &[
    "toolexec",
    "exec",
    "require",
    "import",
    "loader",
    "experimental-loader",
    "preload",
    "javaagent",
    "agentpath",
    "agentlib",
];

/// A variable that holds command-line options for a tool: `GOFLAGS`, `*_OPTS`, `*_OPTIONS`.
fn option_variable(upper: &str) -> bool {
    ["FLAGS", "_OPTS", "_OPTIONS", "OPT"]
        .iter()
        .any(|s| upper.ends_with(s))
}

/// Whether `ENV`/`BASH_ENV`'s value could name a startup file for sh: a path, a `~`, a
/// `$` expansion or a file name with an extension. A plain word (`production`) is an app
/// setting.
fn could_be_file(v: &str) -> bool {
    v.contains(['/', '\\', '~', '$', '.'])
}

/// Whether a variable can make the launched program (or one it starts) run or load code
/// the bundle chose (ENV-002).
fn hijacks(upper: &str, value: Var<'_>) -> bool {
    if VIEWERS.contains(&upper) {
        let harmless =
            matches!(value, Var::Literal(v) if matches!(v.trim(), "" | "cat" | "less" | "more"));
        return !harmless && !matches!(value, Var::FromEnv { passthrough: true });
    }
    if let Some(runtime) = runtime_of(upper) {
        return !matches!(value, Var::Literal(v) if runtime_opts::harmless(runtime, v));
    }
    if matches!(upper, "ENV" | "BASH_ENV") {
        return !matches!(value, Var::Literal(v) if !could_be_file(v));
    }
    if upper == "BROWSER" && matches!(value, Var::Literal(v) if v.trim() == "none") {
        return false;
    }
    let runtime_options = upper
        .rsplit_once('_')
        .is_some_and(|(r, s)| matches!(s, "OPTS" | "OPTIONS") && RUNTIME_OPTIONS.contains(&r));
    let runs_a_program = option_variable(upper)
        && matches!(value, Var::Literal(v) | Var::Template(v) if v.split_whitespace().any(|w| {
            let flag = w.split_once(['=', ':']).map_or(w, |(f, _)| f);
            w.starts_with('-') && RUNNING_OPTIONS.contains(&flag.trim_start_matches('-'))
        }));
    HIJACK.contains(&upper)
        || runtime_options
        || runs_a_program
        || HIJACK_PREFIXES.iter().any(|p| upper.starts_with(p))
        || HIJACK_SUFFIXES.iter().any(|s| upper.ends_with(s))
}
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
    if hijacks(&upper, value) {
        sink.add(
            "ENV-002",
            Level::Block,
            span,
            format!("`{key}` can make the launched program load other code"),
        )
        .help("remove it; configure the server through its own options");
    }
    traffic(key, &upper, value, span, sink);
    agent_permissions(key, &upper, value, span, sink);
    remote_engine(key, &upper, value, span, sink);
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
                let rest = template_literal(t)?;
                (secret_name(key) || (!identifier_name(key) && random_key(&rest))).then(|| {
                    format!("the template of `{key}` looks like a secret but holds literal text besides its references")
                })
            }),
        Var::FromEnv { .. } => None,
    };
    if let Some(why) = why {
        sink.add("ENV-001", Level::Block, span, why).help(format!(
            "reference it instead: `env.{key} = {{ from-env = \"{key}\", secret = true }}`"
        ));
    } else if let Var::Literal(v) = value
        && let Some(why) = keyed_url(v)
    {
        sink.add("URL-010", Level::High, span, format!("`{key}` holds {why}"))
            .help(format!(
                "let the user supply it: `env.{key} = {{ from-env = \"{key}\", secret = true }}`"
            ));
    }
}

/// TRUST-002 in the environment: OpenCode's permission setting (`OPENCODE_PERMISSION`)
/// granting `allow`, or any value capm cannot read (a reference counts: fail closed).
fn agent_permissions(key: &str, upper: &str, value: Var<'_>, span: Span, sink: &mut Sink<'_>) {
    if upper != "OPENCODE_PERMISSION" {
        return;
    }
    if matches_or_unreadable(value, |v| {
        v.to_ascii_lowercase().contains("allow") || v.contains('{')
    }) {
        sink.add(
            "TRUST-002",
            Level::Block,
            span,
            format!("`{key}` grants the agent permissions without asking the user"),
        )
        .help("trust is the user's decision; remove the variable");
    }
}

/// Whether a written value passes `test`, or the value is a reference to another variable,
/// which capm cannot read (fail closed); the user's own variable passed through is theirs.
fn matches_or_unreadable(value: Var<'_>, test: impl Fn(&str) -> bool) -> bool {
    match value {
        Var::Literal(v) | Var::Template(v) => test(v),
        Var::FromEnv { passthrough } => !passthrough,
    }
}

/// STDIO-012 in the environment: the container engine the server drives may be on another
/// machine (`DOCKER_HOST=tcp://…`, `10.0.0.5:2375`, a `DOCKER_CONTEXT` other than a local
/// engine's, a podman connection), or a reference capm cannot read.
fn remote_engine(key: &str, upper: &str, value: Var<'_>, span: Span, sink: &mut Sink<'_>) {
    let remote: fn(&str) -> bool = match upper {
        "DOCKER_HOST" | "CONTAINER_HOST" => remote_engine_address,
        "DOCKER_CONTEXT" => remote_context,
        "CONTAINER_CONNECTION" => |v| !v.trim().is_empty(),
        _ => return,
    };
    if matches_or_unreadable(value, remote) {
        sink.add(
            "STDIO-012",
            Level::Block,
            span,
            format!("`{key}` may send the server's container commands to another machine"),
        )
        .help("use the local engine; remove the variable or pass the user's own setting through");
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
                        file: None,
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

    #[test]
    fn option_variables_that_run_a_program() {
        let lit = |v| Var::Literal(v);
        assert!(hijacks("GOFLAGS", lit("-toolexec=/tmp/x")));
        assert!(hijacks("MYTOOL_OPTS", lit("-javaagent:/tmp/a.jar")));
        assert!(!hijacks("GOFLAGS", lit("-mod=mod")));
        assert!(!hijacks("SERVER_ARGS", lit("--port 8080")));
    }

    #[test]
    fn hijack_variables_by_kind() {
        let lit = Var::Literal;
        for name in [
            "GIT_SSH_COMMAND",
            "SSH_ASKPASS",
            "GIT_CONFIG_KEY_3",
            "CORECLR_PROFILER",
            "LD_AUDIT",
            "NPM_CONFIG_SCRIPT_SHELL",
            "MAVEN_OPTS",
            "RSYNC_RSH",
        ] {
            assert!(hijacks(name, lit("x")), "{name}");
        }
        for name in [
            "NODE_ENV",
            "LOG_LEVEL",
            "PYTHONUNBUFFERED",
            "JAVA_HOME",
            "CHROME_OPTIONS",
        ] {
            assert!(!hijacks(name, lit("x")), "{name}");
        }
        assert!(!hijacks("PAGER", lit("cat")));
        assert!(hijacks("PAGER", lit("sh -c id")));
        assert!(hijacks("EDITOR", Var::FromEnv { passthrough: false }));
        assert!(!hijacks("EDITOR", Var::FromEnv { passthrough: true }));
    }

    #[test]
    fn startup_files_and_option_values_are_judged_by_value() {
        let lit = Var::Literal;
        assert!(!hijacks("ENV", lit("production")));
        assert!(!hijacks("BASH_ENV", lit("")));
        for v in ["./rc", "~/.shrc", "$HOME/x", "rc.sh", "C:\\rc"] {
            assert!(hijacks("ENV", lit(v)), "{v}");
        }
        assert!(hijacks("ENV", Var::Template("{env:X}")));
        assert!(!hijacks("NODE_OPTIONS", lit("--max-old-space-size=4096")));
        assert!(hijacks("NODE_OPTIONS", lit("--require ./x.js")));
        assert!(hijacks("NODE_OPTIONS", Var::FromEnv { passthrough: true }));
        assert!(!hijacks("JAVA_TOOL_OPTIONS", lit("-Xmx512m")));
        assert!(hijacks("JAVA_TOOL_OPTIONS", lit("-XX:OnError=id")));
        assert!(!hijacks("BROWSER", lit("none")));
        assert!(hijacks("BROWSER", lit("firefox")));
    }

    /// The STDIO-012 findings of one variable.
    fn engine_findings(key: &str, value: Var<'_>) -> usize {
        let mut out = Vec::new();
        let mut sink = Sink {
            resource: "mcp:x".into(),
            spec: None,
            out: &mut out,
        };
        remote_engine(
            key,
            &key.to_ascii_uppercase(),
            value,
            Span::default(),
            &mut sink,
        );
        out.len()
    }

    #[test]
    fn engine_variables_share_the_launch_rules_judgement() {
        let lit = Var::Literal;
        assert_eq!(engine_findings("DOCKER_HOST", lit("10.0.0.5:2375")), 1);
        assert_eq!(
            engine_findings("DOCKER_HOST", lit("unix:///var/run/docker.sock")),
            0
        );
        assert_eq!(engine_findings("DOCKER_CONTEXT", lit("prod")), 1);
        assert_eq!(engine_findings("DOCKER_CONTEXT", lit("rootless")), 0);
        assert_eq!(
            engine_findings("DOCKER_CONTEXT", Var::FromEnv { passthrough: true }),
            0
        );
        assert_eq!(
            engine_findings("DOCKER_CONTEXT", Var::FromEnv { passthrough: false }),
            1
        );
    }
}
