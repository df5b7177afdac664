//! `capm info BUNDLE[@VERSION]`: one bundle as its source publishes it: description,
//! versions, product modes, resources, permissions and dependencies. Reads the catalog and
//! the project's sources (a version's files, checked against its digest); writes nothing.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use semver::{Version, VersionReq};
use serde::Serialize;

use crate::graph::{Candidate, GraphError, Sources};
use crate::manifest::bundle::{BundleManifest, ResourceItem};
use crate::manifest::common::{PermissionKind, ProductMode, Tier};
use crate::manifest::lock::Lockfile;

/// One version of one bundle.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct BundleInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    pub keywords: Vec<String>,
    /// `catalog`, `path+DIR` or `registry+NAME`.
    pub source: String,
    /// `sha256:` and the content digest of this version.
    pub sha256: String,
    /// Every version the source has, newest first.
    pub versions: Vec<String>,
    /// The version the project's capm.lock records, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    /// The product modes this version declares, with their tier; a mode not listed is
    /// unsupported.
    pub modes: BTreeMap<ProductMode, Tier>,
    pub resources: Vec<ResourceInfo>,
    pub permissions: Vec<PermissionInfo>,
    pub dependencies: Vec<DependencyInfo>,
}

/// A resource the bundle provides, with where it runs or what it ships.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ResourceInfo {
    /// `KIND:NAME`.
    pub id: String,
    /// A local MCP server's command and arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// A remote MCP server's URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// An npm plugin's `package@version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub npm: Option<String>,
    /// A file or directory of the bundle (skills, agents, commands, path plugins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A plugin's tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
}

/// A permission the bundle asks the user to accept.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct PermissionInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<PermissionKind>,
    pub id: String,
    pub reason: String,
    pub required: bool,
}

/// A dependency on another bundle.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct DependencyInfo {
    pub name: String,
    /// The requirement as written.
    pub req: String,
    pub optional: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum InfoError {
    #[error("no bundle named `{name}` in the catalog or the project's registries")]
    UnknownBundle {
        name: String,
        suggestion: Option<String>,
    },
    #[error("`{name}` has no version matching `{requested}`")]
    UnknownVersion {
        name: String,
        requested: String,
        available: Vec<String>,
    },
    #[error("`{spec}`: `{version}` is neither a version nor a version requirement")]
    BadSpec { spec: String, version: String },
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// The bundle `spec` names (`NAME`, `NAME@VERSION` or `NAME@REQ`): the newest matching
/// version, or without a version the newest release (a prerelease only when there is
/// nothing else).
pub fn info(
    sources: &Sources,
    spec: &str,
    lock: Option<&Lockfile>,
) -> Result<BundleInfo, InfoError> {
    let name = spec.split_once('@').map_or(spec, |(n, _)| n);
    let all = candidates(sources, name)?;
    let chosen = find(sources, spec)?;
    let tree = sources.tree(chosen)?;
    let manifest = crate::validate::check_bundle(&tree)
        .manifest
        .unwrap_or_default();
    let meta = manifest.bundle.clone().unwrap_or_default();
    Ok(BundleInfo {
        name: chosen.name.clone(),
        version: chosen.version.to_string(),
        description: chosen.description.clone(),
        license: meta.license.map(|l| l.value),
        repository: meta.repository.map(|r| r.value),
        keywords: chosen.keywords.clone(),
        source: chosen.source.to_string(),
        sha256: chosen.digest.clone(),
        versions: all.iter().map(|c| c.version.to_string()).collect(),
        installed: lock
            .and_then(|l| l.bundles.iter().find(|b| b.name == chosen.name))
            .map(|b| b.version.clone()),
        modes: super::search::modes(&manifest),
        resources: resources(&manifest),
        permissions: permissions(&manifest),
        dependencies: dependencies(&manifest),
    })
}

/// The bundle `spec` names, as [`info`] chooses it.
pub fn find<'a>(sources: &'a Sources, spec: &str) -> Result<&'a Candidate, InfoError> {
    let (name, wanted) = match spec.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (spec, None),
    };
    let all = candidates(sources, name)?;
    if all.is_empty() {
        return Err(InfoError::UnknownBundle {
            name: name.to_string(),
            suggestion: sources.suggest(name),
        });
    }
    choose(&all, spec, wanted)
}

/// The candidates of bundle `name`, newest first, or for an MCP Registry server's name, of
/// the bundle it makes (`io.github.acme/weather`, as `capm search`
/// lists it: `io-github-acme-weather`).
fn candidates<'a>(sources: &'a Sources, name: &str) -> Result<Vec<&'a Candidate>, InfoError> {
    Ok(sources.candidates(&looked_up(name))?)
}

/// The bundle name `name` stands for: itself, or the one an MCP Registry server's name
/// (`NAMESPACE/SERVER`, a name no bundle can have) makes (see [`candidates`]).
pub fn looked_up(name: &str) -> String {
    let server = name
        .contains('/')
        .then(|| crate::formats::bundle_name(name));
    server.flatten().unwrap_or_else(|| name.to_string())
}

/// The candidate `wanted` names among `all` (newest first).
fn choose<'a>(
    all: &[&'a Candidate],
    spec: &str,
    wanted: Option<&str>,
) -> Result<&'a Candidate, InfoError> {
    let found = match wanted {
        None => all
            .iter()
            .find(|c| c.version.pre.is_empty())
            .or(all.first())
            .copied(),
        Some(text) => {
            let req = match Version::parse(text) {
                Ok(v) => VersionReq::parse(&format!("={v}")),
                Err(_) => VersionReq::parse(text),
            }
            .map_err(|_| InfoError::BadSpec {
                spec: spec.to_string(),
                version: text.to_string(),
            })?;
            all.iter().find(|c| req.matches(&c.version)).copied()
        }
    };
    found.ok_or_else(|| InfoError::UnknownVersion {
        name: all[0].name.clone(),
        requested: wanted.unwrap_or("*").to_string(),
        available: all.iter().map(|c| c.version.to_string()).collect(),
    })
}

fn resources(m: &BundleManifest) -> Vec<ResourceInfo> {
    m.resources()
        .into_iter()
        .map(|r| {
            let mut info = ResourceInfo {
                id: r.id(),
                command: None,
                url: None,
                npm: None,
                path: None,
                tier: None,
            };
            match r.item {
                ResourceItem::Mcp(s) => {
                    info.url = s.url.as_ref().map(|u| u.value.clone());
                    info.command = s.command.as_ref().map(|c| {
                        std::iter::once(c.value.clone())
                            .chain(s.args.iter().map(|a| a.value.clone()))
                            .collect()
                    });
                }
                ResourceItem::Plugin(p) => {
                    info.npm = p.npm.as_ref().map(|n| n.value.clone());
                    info.path = p.path.as_ref().map(|n| n.value.clone());
                    info.tier = p.tier.as_ref().map(|t| t.value);
                }
                ResourceItem::Skill(p) | ResourceItem::Agent(p) | ResourceItem::Command(p) => {
                    info.path = p.path.as_ref().map(|n| n.value.clone());
                }
            }
            info
        })
        .collect()
}

fn permissions(m: &BundleManifest) -> Vec<PermissionInfo> {
    let text = |s: &Option<crate::manifest::span::Spanned<String>>| {
        s.as_ref().map(|s| s.value.clone()).unwrap_or_default()
    };
    m.permissions
        .iter()
        .map(|p| PermissionInfo {
            kind: p.kind.as_ref().map(|k| k.value),
            id: text(&p.id),
            reason: text(&p.reason),
            required: p.required.as_ref().is_none_or(|r| r.value),
        })
        .collect()
}

fn dependencies(m: &BundleManifest) -> Vec<DependencyInfo> {
    m.dependencies
        .iter()
        .map(|(name, d)| DependencyInfo {
            name: name.value.clone(),
            req: d.requirement().map(|r| r.value.clone()).unwrap_or_default(),
            optional: d.is_optional(),
        })
        .collect()
}
