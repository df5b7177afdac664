//! `capm.toml`: what the user wants in a project (docs/spec.md §3.2), as types with spans, and its
//! decoding from a parsed TOML tree.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Serialize;

use super::common::{ProductMode, Scope, Target};
use super::decode::{Decoder, Node};
use super::span::{Span, Spanned};

/// A project manifest.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(title = "capm project manifest (capm.toml)")]
pub struct ProjectManifest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectSection>,
    /// The bundles the user asked for.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub bundles: IndexMap<Spanned<String>, BundleRequest>,
    /// Directory registries, besides the built-in catalog.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub registries: IndexMap<Spanned<String>, RegistryDecl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    /// Values for the non-secret environment variables bundles' servers read
    /// (`from-env`), rendered into the config instead of an `{env:VAR}` reference. Secrets
    /// never go here: they stay references, set in the environment.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub inputs: IndexMap<Spanned<String>, Spanned<String>>,
}

/// `[project]`: where and how resources are installed.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ProjectSection {
    /// The one client resources are installed into; `targets` names several. Defaults to
    /// `opencode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Spanned<Target>>,
    /// The clients resources are installed into, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Spanned<Target>>,
    /// Defaults to `project`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Spanned<Scope>>,
    /// Defaults to `desktop-local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_mode: Option<Spanned<ProductMode>>,
}

/// A requested bundle: a version requirement, or a table naming its source.
// A capm.toml holds tens of entries: the size of the larger variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum BundleRequest {
    Requirement(Spanned<String>),
    Detailed {
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<Spanned<String>>,
        /// A bundle directory, relative to the project.
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<Spanned<String>>,
        /// A registry declared under `[registries]`.
        #[serde(skip_serializing_if = "Option::is_none")]
        registry: Option<Spanned<String>>,
        /// A git repository: a URL (`https://`, `ssh://`, `git@host:path`) or a local
        /// path. With it, `path` is the bundle's directory inside the repository.
        #[serde(skip_serializing_if = "Option::is_none")]
        git: Option<Spanned<String>>,
        /// With `git`: a tag.
        #[serde(skip_serializing_if = "Option::is_none")]
        tag: Option<Spanned<String>>,
        /// With `git`: a branch.
        #[serde(skip_serializing_if = "Option::is_none")]
        branch: Option<Spanned<String>>,
        /// With `git`: a commit.
        #[serde(skip_serializing_if = "Option::is_none")]
        rev: Option<Spanned<String>>,
        /// An OCI repository (`ghcr.io/org/kit`), whose tags are the versions.
        #[serde(skip_serializing_if = "Option::is_none")]
        oci: Option<Spanned<String>>,
        /// Resources (`KIND:NAME`) of this bundle or its dependencies whose conflicts are
        /// settled by keeping the user's own version: capm writes nothing there.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skip: Vec<Spanned<String>>,
        /// With `git` or `path` naming a repository of Agent Skills: the skills to take
        /// (every one when absent).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skills: Vec<Spanned<String>>,
        #[serde(skip)]
        span: Span,
    },
}

/// A registry declaration: exactly one of `path`, `url`, `marketplace` and `mcp-registry`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RegistryDecl {
    /// A directory holding a registry, relative to the project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Spanned<String>>,
    /// The `https://` URL of a registry's root (`http://` only for this machine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Spanned<String>>,
    /// A Claude Code marketplace: a git URL or a local path of the repository holding
    /// `.claude-plugin/marketplace.json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace: Option<Spanned<String>>,
    /// The `https://` URL of an MCP Registry (its REST API's root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_registry: Option<Spanned<String>>,
    #[serde(skip)]
    pub span: Span,
}

/// `[policy]`: reviewed exceptions to security rules.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Policy {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<Allowance>,
}

/// One allowance: a rule, a resource, and the sha256 of the exact launch spec allowed.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Allowance {
    #[schemars(required, regex(pattern = r"^[A-Z]+-[0-9]{3}$"))]
    pub rule: Option<Spanned<String>>,
    #[schemars(required)]
    pub resource: Option<Spanned<String>>,
    #[schemars(required, regex(pattern = r"^sha256:[0-9a-f]{64}$"))]
    pub spec: Option<Spanned<String>>,
    #[serde(skip)]
    pub span: Span,
}

impl ProjectManifest {
    /// Decodes a parsed `capm.toml`, reporting shape problems to `dec`.
    pub fn decode(dec: &mut Decoder<'_>, root: &Node<'_>) -> ProjectManifest {
        let mut m = ProjectManifest::default();
        let Some(mut top) = dec.table(root, "", Span::default()) else {
            return m;
        };
        // An empty capm.toml is one cut short or emptied by mistake: read as "no bundles",
        // it would uninstall everything.
        if top.is_empty() {
            dec.diag(
                "missing-field",
                Span::default(),
                "capm.toml is empty: it has no `[project]` and no `[bundles]`; `capm init` writes one to start from",
            );
        }
        if let Some(node) = top.get("project") {
            let anchor = top.key_span("project");
            if let Some(mut f) = dec.table(node, "project", anchor) {
                let target = f.get("target");
                let targets = f.get("targets");
                let scope = f.get("scope");
                let mode = f.get("product-mode");
                let targets = targets
                    .map(|n| decode_targets(dec, n, target.is_some()))
                    .unwrap_or_default();
                let section = ProjectSection {
                    target: target.and_then(|n| dec.keyword(n, "project.target")),
                    targets,
                    scope: scope.and_then(|n| dec.keyword(n, "project.scope")),
                    product_mode: mode.and_then(|n| dec.keyword(n, "project.product-mode")),
                };
                global_with_other_clients(dec, &section);
                m.project = Some(section);
                f.finish(dec);
            }
        }
        let bundles = top.get("bundles");
        m.bundles = dec.named_map(bundles, "bundles", |dec, name, node| {
            let path = format!("bundles.{name}");
            if let toml::de::DeValue::String(_) = node.get_ref() {
                return dec.string(node, &path).map(BundleRequest::Requirement);
            }
            let mut f = dec.table(node, &path, name.span)?;
            let version = f.get("version");
            let dir = f.get("path");
            let registry = f.get("registry");
            let skip = f.get("skip");
            let skills = f.get("skills");
            let mut field = |key: &'static str| {
                f.get(key)
                    .and_then(|n| dec.string(n, &format!("{path}.{key}")))
            };
            let (git, tag, branch, rev, oci) = (
                field("git"),
                field("tag"),
                field("branch"),
                field("rev"),
                field("oci"),
            );
            let req = BundleRequest::Detailed {
                version: version.and_then(|n| dec.string(n, &format!("{path}.version"))),
                path: dir.and_then(|n| dec.string(n, &format!("{path}.path"))),
                registry: registry.and_then(|n| dec.string(n, &format!("{path}.registry"))),
                git,
                tag,
                branch,
                rev,
                oci,
                skip: skip
                    .and_then(|n| dec.strings(n, &format!("{path}.skip")))
                    .unwrap_or_default(),
                skills: skills
                    .and_then(|n| dec.strings(n, &format!("{path}.skills")))
                    .unwrap_or_default(),
                span: name.span,
            };
            f.finish(dec);
            Some(req)
        });
        let registries = top.get("registries");
        m.registries = dec.named_map(registries, "registries", |dec, name, node| {
            let path = format!("registries.{name}");
            let mut f = dec.table(node, &path, name.span)?;
            let dir = f.get("path");
            let url = f.get("url");
            let marketplace = f.get("marketplace");
            let mcp = f.get("mcp-registry");
            let decl = RegistryDecl {
                path: dir.and_then(|n| dec.string(n, &format!("{path}.path"))),
                url: url.and_then(|n| dec.string(n, &format!("{path}.url"))),
                marketplace: marketplace
                    .and_then(|n| dec.string(n, &format!("{path}.marketplace"))),
                mcp_registry: mcp.and_then(|n| dec.string(n, &format!("{path}.mcp-registry"))),
                span: name.span,
            };
            f.finish(dec);
            Some(decl)
        });
        let inputs = top.get("inputs");
        m.inputs = dec.named_map(inputs, "inputs", |dec, name, node| {
            if !crate::manifest::common::is_env_name(&name.value) {
                dec.diag(
                    "invalid-env-name",
                    name.span,
                    format!(
                        "`{}` is not an environment variable name (letters, digits and `_`, not starting with a digit)",
                        name.value
                    ),
                );
                return None;
            }
            dec.string(node, &format!("inputs.{}", name.value))
        });
        if let Some(node) = top.get("policy") {
            let anchor = top.key_span("policy");
            if let Some(mut f) = dec.table(node, "policy", anchor) {
                let allow = f.get("allow");
                let mut policy = Policy::default();
                if let Some(allow) = allow {
                    match allow.get_ref() {
                        toml::de::DeValue::Array(items) => {
                            for (i, item) in items.iter().enumerate() {
                                let path = format!("policy.allow[{i}]");
                                let span = Span::from(item.span());
                                let Some(mut e) = dec.table(item, &path, span) else {
                                    continue;
                                };
                                let rule = e.require(dec, "rule");
                                let resource = e.require(dec, "resource");
                                let spec = e.get("spec");
                                policy.allow.push(Allowance {
                                    rule: rule.and_then(|n| dec.string(n, &format!("{path}.rule"))),
                                    resource: resource
                                        .and_then(|n| dec.string(n, &format!("{path}.resource"))),
                                    spec: spec.and_then(|n| dec.string(n, &format!("{path}.spec"))),
                                    span,
                                });
                                e.finish(dec);
                            }
                        }
                        _ => dec.diag(
                            "invalid-type",
                            Span::from(allow.span()),
                            "`policy.allow` must be an array of tables",
                        ),
                    }
                }
                f.finish(dec);
                m.policy = Some(policy);
            }
        }
        top.finish(dec);
        m
    }

    /// `[inputs]` as a plain map.
    pub fn input_values(&self) -> std::collections::BTreeMap<String, String> {
        self.inputs
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect()
    }

    /// Every resource whose conflict capm.toml settles by keeping the user's version, with
    /// the bundles whose `skip` lists it.
    pub fn skips(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (name, req) in &self.bundles {
            if let BundleRequest::Detailed { skip, .. } = req {
                for id in skip {
                    out.entry(id.value.clone())
                        .or_default()
                        .push(name.value.clone());
                }
            }
        }
        out
    }

    /// The clients resources are installed into, in the order capm.toml names them.
    pub fn targets(&self) -> Vec<Target> {
        let Some(p) = &self.project else {
            return vec![Target::Opencode];
        };
        if !p.targets.is_empty() {
            return p.targets.iter().map(|t| t.value).collect();
        }
        vec![p.target.as_ref().map_or(Target::Opencode, |t| t.value)]
    }

    pub fn product_mode(&self) -> ProductMode {
        self.project
            .as_ref()
            .and_then(|p| p.product_mode.as_ref())
            .map(|m| m.value)
            .unwrap_or(ProductMode::DesktopLocal)
    }
}

/// `scope = "global"` is OpenCode's user config: another client named in `target` or
/// `targets` is refused, at that client.
fn global_with_other_clients(dec: &mut Decoder<'_>, p: &ProjectSection) {
    if p.scope.as_ref().is_none_or(|s| s.value != Scope::Global) {
        return;
    }
    let named = p.targets.iter().chain(&p.target);
    if let Some(other) = named.into_iter().find(|t| t.value != Target::Opencode) {
        dec.diag(
            "invalid-project",
            other.span,
            format!(
                "`scope = \"global\"` installs into OpenCode's user config only, and `{}` is another client: name only `opencode`, or install into the project (`scope = \"project\"`)",
                other.value
            ),
        );
    }
}

/// `[project] targets`: a non-empty list of clients, each named once, and not beside
/// `target` (which is its one-client form).
fn decode_targets(
    dec: &mut Decoder<'_>,
    node: &Node<'_>,
    with_target: bool,
) -> Vec<Spanned<Target>> {
    let Some(items) = dec.strings(node, "project.targets") else {
        return Vec::new();
    };
    let span = Span::new(node.span().start, node.span().end);
    if with_target {
        dec.diag(
            "invalid-targets",
            span,
            "`project.target` and `project.targets` are both set: `target` is the one-client form of `targets`; keep one",
        );
        return Vec::new();
    }
    // A list of only wrong types was reported as such: it is not empty.
    let written = matches!(node.get_ref(), toml::de::DeValue::Array(a) if !a.is_empty());
    if items.is_empty() && !written {
        dec.diag(
            "invalid-targets",
            span,
            "`project.targets` is empty: name at least one client, e.g. `targets = [\"opencode\"]`",
        );
        return Vec::new();
    }
    let mut out: Vec<Spanned<Target>> = Vec::new();
    for s in items {
        let Some(t) = dec.keyword_of::<Target>(&s, "project.targets") else {
            continue;
        };
        if out.iter().any(|o| o.value == t.value) {
            dec.diag(
                "invalid-targets",
                t.span,
                format!("`{}` is named twice in `project.targets`", t.value),
            );
            continue;
        }
        out.push(t);
    }
    out
}
