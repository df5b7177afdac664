//! `bundle.toml`: the manifest a bundle author writes (docs/spec.md §3.1), as types with spans, and
//! its decoding from a parsed TOML tree.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Serialize;

use super::common::{PermissionKind, ProductMode, Tier, Transport};
use super::decode::{Decoder, Fields, Node};
use super::span::{Span, Spanned};

type Map<T> = IndexMap<Spanned<String>, T>;

/// A bundle manifest: what a bundle is and what it provides.
// Required parts are `Option` so that one missing field does not stop the rest of the
// manifest from being checked.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(title = "capm bundle manifest (bundle.toml)")]
pub struct BundleManifest {
    #[schemars(required)]
    pub bundle: Option<BundleMeta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<Compatibility>,
    /// Other bundles this one needs, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub dependencies: Map<Dependency>,
    /// MCP servers, local (stdio) or remote.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub mcp: Map<McpServer>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub skills: Map<PathResource>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub plugins: Map<Plugin>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub agents: Map<PathResource>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub commands: Map<PathResource>,
    /// What the bundle asks the user to accept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<Permission>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uninstall: Option<Uninstall>,
    /// The span of the whole file, for diagnostics about the manifest as a whole.
    #[serde(skip)]
    pub span: Span,
    /// Keys capm does not know, by dotted path (reported as warnings; some are rules).
    #[serde(skip)]
    #[schemars(skip)]
    pub unknown_keys: Vec<Spanned<String>>,
}

/// `[bundle]`: who the bundle is.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct BundleMeta {
    #[schemars(
        required,
        regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"),
        length(min = 1, max = 64)
    )]
    pub name: Option<Spanned<String>>,
    /// A semantic version.
    #[schemars(required)]
    pub version: Option<Spanned<String>>,
    #[schemars(required, length(min = 1, max = 1024))]
    pub description: Option<Spanned<String>>,
    /// An SPDX license expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<Spanned<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authors: Option<Vec<Spanned<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<Spanned<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Vec<Spanned<String>>>,
    /// Where `[bundle]` is declared.
    #[serde(skip)]
    pub span: Span,
}

impl BundleMeta {
    /// The description, or nothing.
    pub fn description_text(&self) -> String {
        self.description
            .as_ref()
            .map(|d| d.value.clone())
            .unwrap_or_default()
    }

    /// The keywords, as plain strings.
    pub fn keyword_list(&self) -> Vec<String> {
        self.keywords
            .iter()
            .flatten()
            .map(|k| k.value.clone())
            .collect()
    }
}

/// `[compatibility]`: which clients and product modes the bundle supports.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Compatibility {
    /// A semver requirement on the OpenCode version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opencode: Option<Spanned<String>>,
    /// Mode to tier; a mode not listed is unsupported.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub product_modes: IndexMap<Spanned<ProductMode>, Spanned<Tier>>,
}

/// A dependency on another bundle: a requirement string, or a table.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Dependency {
    Requirement(Spanned<String>),
    Detailed {
        #[schemars(required)]
        version: Option<Spanned<String>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        optional: Option<Spanned<bool>>,
    },
}

impl Dependency {
    pub fn requirement(&self) -> Option<&Spanned<String>> {
        match self {
            Dependency::Requirement(r) => Some(r),
            Dependency::Detailed { version, .. } => version.as_ref(),
        }
    }

    pub fn is_optional(&self) -> bool {
        matches!(self, Dependency::Detailed { optional: Some(o), .. } if o.value)
    }
}

/// An MCP server. Local servers have `command` (and `args`, `env`, `cwd`); remote ones
/// have `url` (and `transport`, `headers`, `oauth`). Both may set `timeout` and `enabled`.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct McpServer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Spanned<String>>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env: Map<EnvValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<Spanned<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Spanned<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<Spanned<Transport>>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: Map<EnvValue>,
    /// OAuth for a remote server: a client to use, or `false` to turn OAuth detection off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuth>,
    /// Milliseconds OpenCode waits for the server to start and answer (its default: 30000).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub timeout: Option<Spanned<i64>>,
    /// Whether OpenCode starts the server; defaults to true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Spanned<bool>>,
    /// Modes this server may run in; defaults to the bundle's supported modes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_modes: Option<Vec<Spanned<ProductMode>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires: Option<Vec<Spanned<String>>>,
    /// Where the server's table is declared.
    #[serde(skip)]
    pub span: Span,
}

/// The value of an environment variable or header.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvValue {
    /// A plain, non-secret value.
    Literal(Spanned<String>),
    /// A value read from the user's environment when the server starts.
    FromEnv {
        #[serde(rename = "from-env")]
        from_env: Spanned<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        secret: Option<Spanned<bool>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        required: Option<Spanned<bool>>,
    },
    /// A value built from a template with `{env:VAR}` references.
    Template {
        template: Spanned<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        secret: Option<Spanned<bool>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        required: Option<Spanned<bool>>,
    },
}

/// The longest `timeout` OpenCode can wait: JavaScript timers hold 2^31 - 1 milliseconds.
pub const MAX_TIMEOUT_MS: i64 = 2_147_483_647;

/// `oauth` of a remote server: `false`, or the client OpenCode registers as.
// One per remote server at most: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum OAuth {
    /// `oauth = false`: OpenCode does not try OAuth (only `false` is accepted).
    #[schemars(extend("const" = false))]
    Off(Spanned<bool>),
    /// A pre-registered client.
    #[serde(rename_all = "kebab-case")]
    Client {
        /// The client id: a literal or `{ from-env = "VAR" }`.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<EnvValue>,
        /// The client secret: only `{ from-env = "VAR" }`, never a literal.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_secret: Option<EnvValue>,
        /// The scopes to ask for, space-separated.
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<Spanned<String>>,
        #[serde(skip)]
        span: Span,
    },
}

impl OAuth {
    /// The strings capm writes for it as given (scope, and a client id that is not a
    /// `from-env`), which OpenCode's substitutions apply to.
    pub fn written_strings(&self) -> Vec<&Spanned<String>> {
        let OAuth::Client {
            client_id, scope, ..
        } = self
        else {
            return Vec::new();
        };
        let id = client_id.iter().filter_map(|v| match v {
            EnvValue::Literal(s) | EnvValue::Template { template: s, .. } => Some(s),
            EnvValue::FromEnv { .. } => None,
        });
        id.chain(scope).collect()
    }

    /// The values read from the environment: the client id, and the client secret, which
    /// is secret whatever it says (`true` with it).
    pub fn values(&self) -> Vec<(&EnvValue, bool)> {
        match self {
            OAuth::Off(_) => Vec::new(),
            OAuth::Client {
                client_id,
                client_secret,
                ..
            } => client_id
                .iter()
                .map(|v| (v, false))
                .chain(client_secret.iter().map(|v| (v, true)))
                .collect(),
        }
    }

    /// Where `oauth` is declared.
    pub fn span(&self) -> Span {
        match self {
            OAuth::Off(b) => b.span,
            OAuth::Client { span, .. } => *span,
        }
    }
}

/// An OpenCode plugin: an npm package or a file in the bundle. Its `tier` is required.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Plugin {
    /// `package@exact-version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub npm: Option<Spanned<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Spanned<String>>,
    #[schemars(required)]
    pub tier: Option<Spanned<Tier>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_modes: Option<Vec<Spanned<ProductMode>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires: Option<Vec<Spanned<String>>>,
    #[serde(skip)]
    pub span: Span,
}

/// A resource shipped as files of the bundle: a skill (a directory holding SKILL.md), an
/// agent or a command (one markdown file).
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct PathResource {
    #[schemars(required)]
    pub path: Option<Spanned<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires: Option<Vec<Spanned<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_modes: Option<Vec<Spanned<ProductMode>>>,
    #[serde(skip)]
    pub span: Span,
}

/// `[[permissions]]`: something the user must accept to use the bundle.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Permission {
    #[schemars(required)]
    pub kind: Option<Spanned<PermissionKind>>,
    #[schemars(required, regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"))]
    pub id: Option<Spanned<String>>,
    #[schemars(required, length(min = 1, max = 1000))]
    pub reason: Option<Spanned<String>>,
    /// Defaults to true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<Spanned<bool>>,
    #[serde(skip)]
    pub span: Span,
}

/// `[uninstall]`: what happens when the bundle is removed.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Uninstall {
    /// Resources handed to the user, as `KIND:NAME`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preserves: Vec<Spanned<String>>,
}

/// What a resource is, with its own declaration.
#[derive(Clone, Copy, Debug)]
pub enum ResourceItem<'a> {
    Mcp(&'a McpServer),
    Plugin(&'a Plugin),
    Skill(&'a PathResource),
    Agent(&'a PathResource),
    Command(&'a PathResource),
}

/// One resource of a manifest, as the rest of capm walks them.
#[derive(Clone, Copy, Debug)]
pub struct ResourceRef<'a> {
    /// The name, with the span of its key.
    pub name: &'a Spanned<String>,
    pub item: ResourceItem<'a>,
}

impl<'a> ResourceRef<'a> {
    pub fn kind(&self) -> &'static str {
        match self.item {
            ResourceItem::Mcp(_) => "mcp",
            ResourceItem::Plugin(_) => "plugin",
            ResourceItem::Skill(_) => "skill",
            ResourceItem::Agent(_) => "agent",
            ResourceItem::Command(_) => "command",
        }
    }

    /// `KIND:NAME`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.kind(), self.name.value)
    }

    pub fn requires(&self) -> Option<&'a Vec<Spanned<String>>> {
        match self.item {
            ResourceItem::Mcp(s) => s.requires.as_ref(),
            ResourceItem::Plugin(p) => p.requires.as_ref(),
            ResourceItem::Skill(r) | ResourceItem::Agent(r) | ResourceItem::Command(r) => {
                r.requires.as_ref()
            }
        }
    }

    pub fn product_modes(&self) -> Option<&'a Vec<Spanned<ProductMode>>> {
        match self.item {
            ResourceItem::Mcp(s) => s.product_modes.as_ref(),
            ResourceItem::Plugin(p) => p.product_modes.as_ref(),
            ResourceItem::Skill(r) | ResourceItem::Agent(r) | ResourceItem::Command(r) => {
                r.product_modes.as_ref()
            }
        }
    }
}

impl BundleManifest {
    /// Each dependency that has a version requirement: its name, the requirement, and
    /// whether it is optional.
    pub fn requirements(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        self.dependencies.iter().filter_map(|(n, d)| {
            Some((
                n.value.as_str(),
                d.requirement()?.value.as_str(),
                d.is_optional(),
            ))
        })
    }

    /// Every resource, in a fixed order: MCP servers, plugins, skills, agents, commands,
    /// each in manifest order.
    pub fn resources(&self) -> Vec<ResourceRef<'_>> {
        let mut out = Vec::new();
        out.extend(self.mcp.iter().map(|(name, s)| ResourceRef {
            name,
            item: ResourceItem::Mcp(s),
        }));
        out.extend(self.plugins.iter().map(|(name, p)| ResourceRef {
            name,
            item: ResourceItem::Plugin(p),
        }));
        out.extend(self.skills.iter().map(|(name, r)| ResourceRef {
            name,
            item: ResourceItem::Skill(r),
        }));
        out.extend(self.agents.iter().map(|(name, r)| ResourceRef {
            name,
            item: ResourceItem::Agent(r),
        }));
        out.extend(self.commands.iter().map(|(name, r)| ResourceRef {
            name,
            item: ResourceItem::Command(r),
        }));
        out
    }

    /// Decodes a parsed `bundle.toml`, reporting shape problems to `dec`.
    pub fn decode(dec: &mut Decoder<'_>, root: &Node<'_>) -> BundleManifest {
        let whole = Span::new(0, 0);
        let mut m = BundleManifest {
            span: whole,
            ..Default::default()
        };
        let Some(mut top) = dec.table(root, "", whole) else {
            return m;
        };
        match top.get("bundle") {
            Some(node) => {
                let anchor = top.key_span("bundle");
                m.bundle = decode_meta(dec, node, anchor);
            }
            None => dec.missing(&top, "bundle"),
        }
        if let Some(node) = top.get("compatibility") {
            let anchor = top.key_span("compatibility");
            m.compatibility = decode_compat(dec, node, anchor);
        }
        let deps = top.get("dependencies");
        m.dependencies = dec.named_map(deps, "dependencies", |dec, name, node| {
            decode_dependency(dec, &name, node)
        });
        let mcp = top.get("mcp");
        m.mcp = dec.named_map(mcp, "mcp", |dec, name, node| {
            dec.in_resource(format!("mcp:{name}"), |dec| {
                decode_mcp(dec, node, &format!("mcp.{name}"), name.span)
            })
        });
        let skills = top.get("skills");
        m.skills = dec.named_map(skills, "skills", |dec, name, node| {
            decode_path_resource(dec, "skill", "skills", name, node)
        });
        let plugins = top.get("plugins");
        m.plugins = dec.named_map(plugins, "plugins", |dec, name, node| {
            dec.in_resource(format!("plugin:{name}"), |dec| {
                let mut f = dec.table(node, &format!("plugins.{name}"), name.span)?;
                let npm = f.get("npm");
                let path = f.get("path");
                let tier = f.get("tier");
                let plugin = Plugin {
                    npm: npm.and_then(|n| dec.string(n, &f.child("npm"))),
                    path: path.and_then(|n| dec.string(n, &f.child("path"))),
                    tier: tier.and_then(|n| dec.keyword(n, &f.child("tier"))),
                    product_modes: optional_modes(dec, &mut f),
                    requires: optional_strings(dec, &mut f, "requires"),
                    span: name.span,
                };
                f.finish(dec);
                Some(plugin)
            })
        });
        let agents = top.get("agents");
        m.agents = dec.named_map(agents, "agents", |dec, name, node| {
            decode_path_resource(dec, "agent", "agents", name, node)
        });
        let commands = top.get("commands");
        m.commands = dec.named_map(commands, "commands", |dec, name, node| {
            decode_path_resource(dec, "command", "commands", name, node)
        });
        if let Some(node) = top.get("permissions") {
            m.permissions = decode_permissions(dec, node);
        }
        if let Some(node) = top.get("uninstall") {
            let anchor = top.key_span("uninstall");
            if let Some(mut f) = dec.table(node, "uninstall", anchor) {
                let preserves = optional_strings(dec, &mut f, "preserves");
                f.finish(dec);
                m.uninstall = Some(Uninstall {
                    preserves: preserves.unwrap_or_default(),
                });
            }
        }
        top.finish(dec);
        m.unknown_keys = dec.unknown_keys.clone();
        m
    }
}

fn optional_strings(
    dec: &mut Decoder<'_>,
    f: &mut Fields<'_, '_>,
    key: &'static str,
) -> Option<Vec<Spanned<String>>> {
    let node = f.get(key)?;
    dec.strings(node, &f.child(key))
}

fn optional_string(
    dec: &mut Decoder<'_>,
    f: &mut Fields<'_, '_>,
    key: &'static str,
) -> Option<Spanned<String>> {
    let node = f.get(key)?;
    dec.string(node, &f.child(key))
}

fn required_string(
    dec: &mut Decoder<'_>,
    f: &mut Fields<'_, '_>,
    key: &'static str,
) -> Option<Spanned<String>> {
    let node = f.require(dec, key)?;
    dec.string(node, &f.child(key))
}

fn optional_bool(
    dec: &mut Decoder<'_>,
    f: &mut Fields<'_, '_>,
    key: &'static str,
) -> Option<Spanned<bool>> {
    let node = f.get(key)?;
    dec.bool(node, &f.child(key))
}

fn optional_modes(
    dec: &mut Decoder<'_>,
    f: &mut Fields<'_, '_>,
) -> Option<Vec<Spanned<ProductMode>>> {
    let node = f.get("product-modes")?;
    let path = f.child("product-modes");
    let strings = dec.strings(node, &path)?;
    Some(
        strings
            .into_iter()
            .filter_map(|s| match super::decode::Keyword::parse(&s.value) {
                Some(m) => Some(Spanned::new(m, s.span)),
                None => {
                    let d = super::decode::unknown_keyword::<ProductMode>(&s.value, &path)
                        .at(dec.source, s.span);
                    dec.report(d);
                    None
                }
            })
            .collect(),
    )
}

fn decode_meta(dec: &mut Decoder<'_>, node: &Node<'_>, anchor: Span) -> Option<BundleMeta> {
    let mut f = dec.table(node, "bundle", anchor)?;
    let meta = BundleMeta {
        name: required_string(dec, &mut f, "name"),
        version: required_string(dec, &mut f, "version"),
        description: required_string(dec, &mut f, "description"),
        license: optional_string(dec, &mut f, "license"),
        authors: optional_strings(dec, &mut f, "authors"),
        repository: optional_string(dec, &mut f, "repository"),
        keywords: optional_strings(dec, &mut f, "keywords"),
        span: anchor,
    };
    f.finish(dec);
    Some(meta)
}

fn decode_compat(dec: &mut Decoder<'_>, node: &Node<'_>, anchor: Span) -> Option<Compatibility> {
    let mut f = dec.table(node, "compatibility", anchor)?;
    let opencode = optional_string(dec, &mut f, "opencode");
    let modes_node = f.get("product-modes");
    let modes = dec.named_map(
        modes_node,
        "compatibility.product-modes",
        |dec, mode, value| {
            let path = format!("compatibility.product-modes.{mode}");
            let tier = dec.keyword::<Tier>(value, &path);
            let Some(m) = <ProductMode as super::decode::Keyword>::parse(&mode.value) else {
                let d = super::decode::unknown_keyword::<ProductMode>(
                    &mode.value,
                    "compatibility.product-modes",
                )
                .at(dec.source, mode.span);
                dec.report(d);
                return None;
            };
            Some((Spanned::new(m, mode.span), tier?))
        },
    );
    f.finish(dec);
    Some(Compatibility {
        opencode,
        product_modes: modes.into_values().collect(),
    })
}

fn decode_dependency(
    dec: &mut Decoder<'_>,
    name: &Spanned<String>,
    node: &Node<'_>,
) -> Option<Dependency> {
    let path = format!("dependencies.{name}");
    if let toml::de::DeValue::String(_) = node.get_ref() {
        return dec.string(node, &path).map(Dependency::Requirement);
    }
    let mut f = dec.table(node, &path, name.span)?;
    let dep = Dependency::Detailed {
        version: required_string(dec, &mut f, "version"),
        optional: optional_bool(dec, &mut f, "optional"),
    };
    f.finish(dec);
    Some(dep)
}

fn decode_mcp(
    dec: &mut Decoder<'_>,
    node: &Node<'_>,
    path: &str,
    anchor: Span,
) -> Option<McpServer> {
    let mut f = dec.table(node, path, anchor)?;
    let env = f.get("env");
    let env = dec.named_map(env, &f.child("env"), |dec, key, value| {
        decode_env_value(dec, value, &format!("{path}.env.{key}"))
    });
    let headers = f.get("headers");
    let headers = dec.named_map(headers, &f.child("headers"), |dec, key, value| {
        decode_env_value(dec, value, &format!("{path}.headers.{key}"))
    });
    let transport = f.get("transport");
    let oauth = f.get("oauth");
    let timeout = f.get("timeout");
    let timeout_range = (1, MAX_TIMEOUT_MS);
    let server = McpServer {
        command: optional_string(dec, &mut f, "command"),
        args: optional_strings(dec, &mut f, "args").unwrap_or_default(),
        env,
        cwd: optional_string(dec, &mut f, "cwd"),
        url: optional_string(dec, &mut f, "url"),
        transport: transport.and_then(|n| dec.keyword(n, &format!("{path}.transport"))),
        headers,
        oauth: oauth.and_then(|n| decode_oauth(dec, n, &format!("{path}.oauth"))),
        timeout: timeout.and_then(|n| {
            dec.integer_in(n, &format!("{path}.timeout"), timeout_range, "milliseconds")
        }),
        enabled: optional_bool(dec, &mut f, "enabled"),
        product_modes: optional_modes(dec, &mut f),
        requires: optional_strings(dec, &mut f, "requires"),
        span: anchor,
    };
    f.finish(dec);
    Some(server)
}

fn decode_oauth(dec: &mut Decoder<'_>, node: &Node<'_>, path: &str) -> Option<OAuth> {
    let span = Span::from(node.span());
    if let toml::de::DeValue::Boolean(b) = node.get_ref() {
        if *b {
            dec.diag(
                "invalid-type",
                span,
                format!("`{path}` is `false` or a table; OpenCode tries OAuth by default"),
            );
            return None;
        }
        return Some(OAuth::Off(Spanned::new(false, span)));
    }
    let toml::de::DeValue::Table(_) = node.get_ref() else {
        dec.diag(
            "invalid-type",
            span,
            format!("`{path}` must be `false` or a table"),
        );
        return None;
    };
    let mut f = dec.table(node, path, span)?;
    let id = f.get("client-id");
    let secret = f.get("client-secret");
    let client_id = id.and_then(|n| decode_env_value(dec, n, &format!("{path}.client-id")));
    let secret_path = format!("{path}.client-secret");
    let client_secret = secret.and_then(|n| decode_env_value(dec, n, &secret_path));
    let client_secret = client_secret.filter(|v| from_env_only(dec, v, &secret_path));
    let scope = optional_string(dec, &mut f, "scope");
    f.finish(dec);
    Some(OAuth::Client {
        client_id,
        client_secret,
        scope,
        span,
    })
}

/// Whether `v` comes from the environment; a literal or template secret is reported.
fn from_env_only(dec: &mut Decoder<'_>, v: &EnvValue, path: &str) -> bool {
    let span = match v {
        EnvValue::FromEnv { .. } => return true,
        EnvValue::Literal(s) => s.span,
        EnvValue::Template { template, .. } => template.span,
    };
    dec.diag(
        "invalid-env-value",
        span,
        format!("`{path}` must be `{{ from-env = \"VAR\" }}`: a client secret is never written in the manifest"),
    );
    false
}

fn decode_env_value(dec: &mut Decoder<'_>, node: &Node<'_>, path: &str) -> Option<EnvValue> {
    if let toml::de::DeValue::String(_) = node.get_ref() {
        return dec.string(node, path).map(EnvValue::Literal);
    }
    let toml::de::DeValue::Table(_) = node.get_ref() else {
        dec.diag(
            "invalid-env-value",
            Span::from(node.span()),
            format!("`{path}` must be a string or a table with `from-env` or `template`"),
        );
        return None;
    };
    let mut f = dec.table(node, path, Span::from(node.span()))?;
    let from_env = optional_string(dec, &mut f, "from-env");
    let template = optional_string(dec, &mut f, "template");
    let secret = optional_bool(dec, &mut f, "secret");
    let required = optional_bool(dec, &mut f, "required");
    f.finish(dec);
    match (from_env, template) {
        (Some(from_env), None) => Some(EnvValue::FromEnv {
            from_env,
            secret,
            required,
        }),
        (None, Some(template)) => Some(EnvValue::Template {
            template,
            secret,
            required,
        }),
        (Some(_), Some(_)) => {
            dec.diag(
                "invalid-env-value",
                Span::from(node.span()),
                format!("`{path}` has both `from-env` and `template`; keep one"),
            );
            None
        }
        (None, None) => {
            dec.diag(
                "invalid-env-value",
                Span::from(node.span()),
                format!(
                    "`{path}` must have `from-env = \"VAR\"` or `template = \"…{{env:VAR}}…\"`"
                ),
            );
            None
        }
    }
}

fn decode_path_resource(
    dec: &mut Decoder<'_>,
    kind: &str,
    section: &str,
    name: Spanned<String>,
    node: &Node<'_>,
) -> Option<PathResource> {
    dec.in_resource(format!("{kind}:{name}"), |dec| {
        let mut f = dec.table(node, &format!("{section}.{name}"), name.span)?;
        let r = PathResource {
            path: required_string(dec, &mut f, "path"),
            requires: optional_strings(dec, &mut f, "requires"),
            product_modes: optional_modes(dec, &mut f),
            span: name.span,
        };
        f.finish(dec);
        Some(r)
    })
}

fn decode_permissions(dec: &mut Decoder<'_>, node: &Node<'_>) -> Vec<Permission> {
    let toml::de::DeValue::Array(items) = node.get_ref() else {
        dec.diag(
            "invalid-type",
            Span::from(node.span()),
            "`permissions` must be an array of tables (`[[permissions]]`)",
        );
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let path = format!("permissions[{i}]");
            let span = Span::from(item.span());
            let mut f = dec.table(item, &path, span)?;
            let kind = f.require(dec, "kind");
            let p = Permission {
                kind: kind.and_then(|n| dec.keyword(n, &format!("{path}.kind"))),
                id: required_string(dec, &mut f, "id"),
                reason: required_string(dec, &mut f, "reason"),
                required: optional_bool(dec, &mut f, "required"),
                span,
            };
            f.finish(dec);
            Some(p)
        })
        .collect()
}
