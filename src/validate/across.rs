//! Checks across the bundles linted together: `requires` settled through dependencies, and
//! NAME-001 between bundles that provide the same resource with different content.
//!
//! Both work on [`BundleFacts`], the little that one bundle's own check leaves for them
//! (name, version, resource ids, dependencies, unsettled `requires`, resource digests),
//! taken while its tree is at hand. A caller can drop every tree and manifest as soon as
//! the bundle is checked, and still run these checks over thousands of bundles.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use semver::{Version, VersionReq};

use super::{BundleCheck, parse_resource_ref, requires_of, resource_ids};
use crate::diagnostic::Diagnostic;
use crate::manifest::bundle::BundleManifest;
use crate::manifest::span::{SourceFile, Span, Spanned};
use crate::manifest::tree::BundleTree;

/// What the checks across bundles need of one bundle whose `bundle.toml` was decoded.
#[derive(Debug)]
pub struct BundleFacts {
    /// `bundle.toml`, which the diagnostics of these checks point into; kept only while one
    /// may still be reported (see [`BundleFacts::collisions_done`]).
    source: Option<Arc<SourceFile>>,
    name: Option<String>,
    version: Option<Version>,
    /// The `KIND:NAME` ids the bundle defines.
    ids: Vec<String>,
    deps: Vec<Dep>,
    /// The `requires` entries the bundle does not satisfy itself, each with the id of the
    /// resource that has it, in manifest order.
    open: Vec<(String, Spanned<String>)>,
    /// Each resource's id, the digest of what it would install, and the span of its name;
    /// for named bundles only, and only until NAME-001 has seen the bundle.
    digests: Vec<(String, String, Span)>,
}

/// A dependency with its parsed requirement (`None` when unparseable, which is reported
/// elsewhere).
#[derive(Debug)]
struct Dep {
    name: String,
    req: Option<VersionReq>,
    optional: bool,
}

impl BundleFacts {
    /// The facts of a checked bundle; `None` when its manifest could not be decoded.
    pub fn of(check: &BundleCheck, tree: &BundleTree) -> Option<BundleFacts> {
        let m = check.manifest.as_ref()?;
        let source = check.sources.first()?.clone();
        let name = check.name().map(str::to_owned);
        let version = m.bundle.as_ref().and_then(|b| b.version.as_ref());
        let ids = resource_ids(m);
        let digests = match name {
            Some(_) => crate::target::resource_digests(m, tree)
                .into_iter()
                .map(|(id, (digest, span))| (id, digest, span))
                .collect(),
            None => Vec::new(),
        };
        Some(BundleFacts {
            source: Some(source),
            name,
            version: version.and_then(|v| Version::parse(&v.value).ok()),
            open: open_requires(m, &ids),
            ids: ids.into_iter().collect(),
            deps: dependencies(m),
            digests,
        })
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether a `requires` entry is left for [`check_requires`] to settle.
    pub fn has_open_requires(&self) -> bool {
        !self.open.is_empty()
    }

    /// Drops what only NAME-001 needed, once [`Collisions::check`] has seen the bundle;
    /// `bundle.toml` stays while a `requires` entry is left to settle.
    pub fn collisions_done(&mut self) {
        self.digests = Vec::new();
        if self.open.is_empty() {
            self.source = None;
        }
    }
}

/// The manifest's dependencies with their parsed requirements.
fn dependencies(m: &BundleManifest) -> Vec<Dep> {
    m.dependencies
        .iter()
        .map(|(name, dep)| Dep {
            name: name.value.clone(),
            req: dep
                .requirement()
                .and_then(|r| VersionReq::parse(&r.value).ok()),
            optional: dep.is_optional(),
        })
        .collect()
}

/// Every well-formed `requires` entry that names none of the bundle's own resources.
fn open_requires(m: &BundleManifest, own: &BTreeSet<String>) -> Vec<(String, Spanned<String>)> {
    let mut open = Vec::new();
    for (owner, requires) in requires_of(m) {
        for entry in requires {
            if parse_resource_ref(&entry.value).is_some() && !own.contains(&entry.value) {
                open.push((owner.clone(), entry.clone()));
            }
        }
    }
    open
}

/// Settles `requires` entries across bundles linted together: an entry is satisfied by the
/// bundle itself or by any bundle reachable through its dependencies. When a dependency on
/// the way was not linted along, lint cannot tell and warns; when every one was, a missing
/// resource is an error. Returns each finding with the index of its bundle, in order.
pub fn check_requires(bundles: &[Option<&BundleFacts>]) -> Vec<(usize, Diagnostic)> {
    if !bundles.iter().flatten().any(|f| f.has_open_requires()) {
        return Vec::new();
    }
    // Every linted bundle by name, in linting order.
    let mut by_name: BTreeMap<&str, Vec<&BundleFacts>> = BTreeMap::new();
    for f in bundles.iter().flatten() {
        if let Some(name) = f.name() {
            by_name.entry(name).or_default().push(f);
        }
    }
    let mut found = Vec::new();
    for (i, f) in bundles.iter().enumerate() {
        let Some(f) = f.filter(|f| f.has_open_requires()) else {
            continue;
        };
        let Some(source) = &f.source else {
            continue;
        };
        let (missing, unseen) = walk_dependencies(f, &by_name);
        for (owner, r) in &f.open {
            if missing.contains(r.value.as_str()) {
                found.push((i, unresolved(r, &unseen).at(source, r.span).resource(owner)));
            }
        }
    }
    found
}

/// Walks the dependency closure of `f` within the lint set. A dependency counts only when a
/// linted bundle of that name has a version its requirement accepts; optional dependencies
/// bring nothing in, so they cannot be counted on. Returns the open entries nothing on the
/// way provides and the dependencies of which no accepted version was linted. The walk
/// stops early once every entry is provided, as nothing is then reported.
fn walk_dependencies<'a>(
    f: &'a BundleFacts,
    by_name: &BTreeMap<&str, Vec<&'a BundleFacts>>,
) -> (BTreeSet<&'a str>, Vec<String>) {
    let mut missing: BTreeSet<&str> = f.open.iter().map(|(_, r)| r.value.as_str()).collect();
    let mut unseen = Vec::new();
    let mut stack: Vec<&Dep> = f.deps.iter().filter(|d| !d.optional).collect();
    let mut visited = BTreeSet::new();
    while let Some(dep) = stack.pop() {
        if missing.is_empty() {
            break;
        }
        if !visited.insert(dep.name.as_str()) {
            continue;
        }
        let accepted = by_name
            .get(dep.name.as_str())
            .into_iter()
            .flatten()
            .filter(|b| matches!((&b.version, &dep.req), (Some(v), Some(r)) if r.matches(v)));
        let mut any = false;
        for b in accepted {
            any = true;
            for id in &b.ids {
                missing.remove(id.as_str());
            }
            stack.extend(b.deps.iter().filter(|d| !d.optional));
        }
        if !any {
            unseen.push(dep.name.clone());
        }
    }
    (missing, unseen)
}

/// The finding for an entry nothing linted provides; `unseen` are the dependencies lint
/// could not look into.
fn unresolved(r: &Spanned<String>, unseen: &[String]) -> Diagnostic {
    // Any bundle in the project's graph may provide it, so lint can only warn.
    if unseen.is_empty() {
        Diagnostic::new(
            "unresolved-requires",
            format!(
                "`{}` is provided neither by this bundle nor by its dependencies; it must come from another bundle of the project",
                r.value
            ),
        )
        .help("provide it in this bundle, or add the bundle that provides it to [dependencies]")
    } else {
        Diagnostic::new(
            "unresolved-requires",
            format!(
                "`{}` is not provided by this bundle; lint cannot check whether {} provides it, as no version it accepts was linted along",
                r.value,
                unseen.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(" or ")
            ),
        )
        .help("lint the dependency together with this bundle, e.g. `capm lint DIR` over both")
    }
}

/// NAME-001 across bundles linted together, fed one bundle at a time in linting order: two
/// different bundles providing the same `KIND:NAME` collide, unless what they would
/// install is identical. A bundle's findings depend only on the bundles before it.
#[derive(Debug, Default)]
pub struct Collisions {
    /// The first bundle to provide each resource, and the digest of its content.
    first: HashMap<String, (String, String)>,
}

impl Collisions {
    /// The findings of the next bundle.
    pub fn check(&mut self, f: &BundleFacts) -> Vec<Diagnostic> {
        let (Some(name), Some(source)) = (&f.name, &f.source) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for (id, digest, span) in &f.digests {
            match self.first.get(id) {
                Some((other, d)) if other != name && d != digest => {
                    found.push(collision(id, other).at(source, *span))
                }
                Some(_) => {}
                None => {
                    self.first
                        .insert(id.clone(), (name.clone(), digest.clone()));
                }
            }
        }
        found
    }
}

fn collision(id: &str, other: &str) -> Diagnostic {
    let mut d = Diagnostic::new(
        "NAME-001",
        format!("`{id}` is also provided by the bundle `{other}`, with different content"),
    )
    .resource(id)
    .help("rename the resource, or keep only one of the two bundles");
    d.rule_severity = Some(crate::security::Level::Block);
    d
}
