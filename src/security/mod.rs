//! The security rules of docs/security-rules.md, as pure functions of a bundle's manifest and
//! files. Nothing here reads the disk or prints; findings become diagnostics in lint and
//! block plans.
//!
//! A check that cannot be evaluated (an unparseable URL, a value that cannot be classified)
//! counts as a match: capm fails closed.

pub(crate) mod container;
mod env;
mod fetch;
mod files;
mod host;
mod inline;
pub(crate) mod launch;
mod mode;
mod preload;
mod reach;
pub mod rules;
mod runners;
mod runtime_opts;
pub mod secrets;
pub mod subst;
mod text;
mod url;
mod wrap;

pub use self::files::mask_secrets;
pub use self::host::is_loopback;
pub use self::text::{redact_url_text, secret_name};

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub use crate::diagnostic::Level;

use crate::diagnostic::{Diagnostic, Severity};
use crate::manifest::bundle::{BundleManifest, EnvValue, McpServer, Plugin};
use crate::manifest::common::{Keyword, ProductMode};
use crate::manifest::span::{SourceFile, Span};
use crate::manifest::tree::{BundleTree, hex};

/// One rule matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub level: Level,
    pub message: String,
    pub span: Span,
    /// `KIND:NAME`, or `bundle:NAME` for the bundle as a whole.
    pub resource: String,
    pub help: Option<String>,
    /// The digest of the resource's launch spec, which an allowance must name.
    pub spec: Option<String>,
    /// The shipped file the span points into (relative to the bundle root); `None` for
    /// bundle.toml.
    pub file: Option<String>,
}

impl Finding {
    /// The finding as a lint diagnostic pointing into `source`.
    pub fn to_diagnostic(&self, source: &SourceFile) -> Diagnostic {
        let mut severity = self.level.lint_severity();
        // Declaring a permission is correct; lint notes it, plans ask for review.
        if self.rule == "PERM-001" {
            severity = Severity::Info;
        }
        let mut help = self.help.clone();
        if self.level == Level::High
            && let Some(spec) = &self.spec
        {
            let allow = format!(
                "to accept this after review, add to capm.toml: [policy] allow = [{{ rule = \"{}\", resource = \"{}\", spec = \"{spec}\" }}]",
                self.rule, self.resource
            );
            help = Some(match help {
                Some(h) => format!("{h}\n{allow}"),
                None => allow,
            });
        }
        let mut d = Diagnostic::new(self.rule, self.message.clone())
            .with_severity(severity)
            .at(source, self.span)
            .resource(self.resource.clone())
            .maybe_help(help);
        d.rule_severity = Some(self.level);
        d.spec = self.spec.clone();
        d
    }
}

/// Collects the findings of one resource.
pub(crate) struct Sink<'a> {
    pub resource: String,
    pub spec: Option<String>,
    pub out: &'a mut Vec<Finding>,
}

impl Sink<'_> {
    pub fn add(
        &mut self,
        rule: &'static str,
        level: Level,
        span: Span,
        message: impl Into<String>,
    ) -> &mut Finding {
        self.out.push(Finding {
            rule,
            level,
            message: message.into(),
            span,
            resource: self.resource.clone(),
            help: None,
            spec: self.spec.clone(),
            file: None,
        });
        self.out.last_mut().expect("just pushed")
    }
}

impl Finding {
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }
}

/// Whether a literal value (under `key`, when it has one) reads as a secret: a known token
/// shape anywhere, a non-trivial value under a secret-looking name, or a value that carries
/// one (a header or auth scheme with a literal, a URL with a key, a random-looking key; for
/// an option's value the option is its key). Plans and messages
/// use it to keep such values out of what they show.
pub fn looks_secret(key: Option<&str>, value: &str) -> bool {
    text::token_shape(value).is_some()
        || key.is_some_and(|k| text::literal_secret(k, value))
        || text::carries_secret(value)
}

/// The modes whose rules lint evaluates: every mode the bundle declares supported or
/// experimental.
pub fn declared_modes(m: &BundleManifest) -> Vec<ProductMode> {
    use crate::manifest::common::Tier;
    m.compatibility
        .iter()
        .flat_map(|c| c.product_modes.iter())
        .filter(|(_, t)| matches!(t.value, Tier::Supported | Tier::Experimental))
        .map(|(mode, _)| mode.value)
        .collect()
}

/// Runs every rule over a bundle, evaluating the mode rules for each of `modes`.
pub fn check_bundle(m: &BundleManifest, tree: &BundleTree, modes: &[ProductMode]) -> Vec<Finding> {
    let mut out = Vec::new();
    let servers: Vec<(String, &McpServer)> =
        m.mcp.iter().map(|(n, s)| (n.value.clone(), s)).collect();
    for (name, server) in &servers {
        let mut sink = Sink {
            resource: format!("mcp:{name}"),
            spec: Some(mcp_spec_digest(server)),
            out: &mut out,
        };
        if server.command.is_some() {
            launch::check(server, tree, &mut sink);
            env::check(server, tree, &mut sink);
        }
        if server.url.is_some() {
            url::check(server, modes, &mut sink);
        }
        text::check_server(server, &mut sink);
        subst::check(server, &m.permissions, &mut sink);
    }
    env::check_sharing(&servers, &mut out);
    for (name, plugin) in &m.plugins {
        let mut sink = Sink {
            resource: format!("plugin:{name}"),
            spec: Some(plugin_spec_digest(plugin)),
            out: &mut out,
        };
        mode::check_plugin_source(plugin, &mut sink);
        subst::check_plugin(plugin, &mut sink);
    }
    mode::check(m, modes, &mut out);
    mode::check_trust(m, &mut out);
    files::check(m, tree, &mut out);
    out
}

fn env_value_json(v: &EnvValue) -> Value {
    match v {
        EnvValue::Literal(s) => json!({ "value": s.value }),
        EnvValue::FromEnv {
            from_env,
            secret,
            required,
        } => json!({
            "from-env": from_env.value,
            "secret": secret.as_ref().is_some_and(|s| s.value),
            "required": required.as_ref().is_none_or(|r| r.value),
        }),
        EnvValue::Template {
            template,
            secret,
            required,
        } => json!({
            "template": template.value,
            "secret": secret.as_ref().is_some_and(|s| s.value),
            "required": required.as_ref().is_none_or(|r| r.value),
        }),
    }
}

fn digest_json(v: &Value) -> String {
    let text = serde_json::to_string(v).expect("json serialises");
    format!("sha256:{}", hex(&Sha256::digest(text.as_bytes())))
}

/// The canonical launch spec of an MCP server, as JSON with sorted keys: command, args,
/// env names with their value or reference, cwd, url, transport, headers and oauth (when
/// set, so that digests of servers without it are unchanged).
pub fn mcp_spec(s: &McpServer) -> Value {
    let map = |m: &indexmap::IndexMap<crate::manifest::span::Spanned<String>, EnvValue>| {
        m.iter()
            .map(|(k, v)| (k.value.clone(), env_value_json(v)))
            .collect::<BTreeMap<_, _>>()
    };
    let mut spec = BTreeMap::new();
    if let Some(c) = &s.command {
        spec.insert("command", json!(c.value));
        spec.insert(
            "args",
            json!(s.args.iter().map(|a| &a.value).collect::<Vec<_>>()),
        );
        spec.insert("env", json!(map(&s.env)));
    }
    if let Some(c) = &s.cwd {
        spec.insert("cwd", json!(c.value));
    }
    if let Some(u) = &s.url {
        spec.insert("url", json!(u.value));
        spec.insert(
            "transport",
            json!(
                s.transport
                    .as_ref()
                    .map_or("streamable-http", |t| t.value.as_str())
            ),
        );
        spec.insert("headers", json!(map(&s.headers)));
    }
    if let Some(o) = &s.oauth {
        spec.insert("oauth", serde_json::to_value(o).expect("json serialises"));
    }
    json!(spec)
}

/// `sha256:` and the digest of [`mcp_spec`]: what a `[policy] allow` entry names.
pub fn mcp_spec_digest(s: &McpServer) -> String {
    digest_json(&mcp_spec(s))
}

/// The digest of a plugin's spec: its source and tier.
pub fn plugin_spec_digest(p: &Plugin) -> String {
    let spec = json!({
        "npm": p.npm.as_ref().map(|n| &n.value),
        "path": p.path.as_ref().map(|n| &n.value),
        "tier": p.tier.as_ref().map(|t| t.value.as_str()),
    });
    digest_json(&spec)
}

/// Applies a project's `[policy] allow` to the findings of its bundles: a high finding
/// whose rule, resource and spec digest an allowance names is accepted (reported as a
/// note). Returns TRUST-001 warnings for allowances whose digest no longer matches.
pub fn apply_policy(
    diags: &mut [Diagnostic],
    policy: &crate::manifest::project::Policy,
    source: &SourceFile,
) -> Vec<Diagnostic> {
    let mut stale = Vec::new();
    for a in &policy.allow {
        let (Some(rule), Some(resource), Some(spec)) = (&a.rule, &a.resource, &a.spec) else {
            continue;
        };
        let mut matched = false;
        let mut current = None;
        for d in diags.iter_mut() {
            if d.code != rule.value
                || d.resource.as_deref() != Some(resource.value.as_str())
                || d.rule_severity != Some(Level::High)
            {
                continue;
            }
            if d.spec.as_deref() == Some(spec.value.as_str()) {
                matched = true;
                d.allowed = true;
                d.severity = Severity::Info;
                d.message.push_str(" (allowed by [policy] in capm.toml)");
                d.help = None;
            } else {
                current = d.spec.clone();
            }
        }
        if let (false, Some(now)) = (matched, current) {
            stale.push(
                Diagnostic::new(
                    "TRUST-001",
                    format!("this allowance no longer matches `{resource}`: its spec changed, so the {rule} finding is not allowed"),
                )
                .with_severity(Severity::Warning)
                .at(source, spec.span)
                .resource(resource.value.clone())
                .help(format!("review the new spec; if you accept it, replace the digest with `{now}`")),
            );
        }
    }
    stale
}
