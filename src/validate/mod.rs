//! Validation: bundle trees and project manifests in, diagnostics and checked values out.
//!
//! Layer 1 (syntax and shape) is the decoder in `manifest::decode`; layer 2 (meaning) is
//! here. Every check runs and reports; nothing stops at the first problem. Nothing here
//! reads the disk: bundles arrive as in-memory trees.

mod bundle;
mod project;
mod skill;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::manifest::bundle::BundleManifest;
use crate::manifest::common::{Keyword, ResourceKind, is_valid_name};
use crate::manifest::span::{SourceFile, Spanned};
use crate::manifest::tree::BundleTree;

pub(crate) use bundle::{is_env_name, npm_package_name, template_vars};
pub use project::{ProjectCheck, check_project};

/// The largest manifest capm reads.
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;

/// A manifest's text as a source file, or why it cannot be read as one: over
/// [`MAX_MANIFEST_BYTES`], or not UTF-8.
pub(crate) fn manifest_source(
    display_path: String,
    bytes: &[u8],
) -> Result<Arc<SourceFile>, Box<Diagnostic>> {
    let name = display_path
        .rsplit('/')
        .next()
        .unwrap_or(&display_path)
        .to_string();
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(Box::new(
            Diagnostic::new(
                "manifest-too-large",
                format!(
                    "{name} is {} bytes; the limit is {MAX_MANIFEST_BYTES} (1 MiB)",
                    bytes.len()
                ),
            )
            .in_file(display_path),
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Arc::new(SourceFile::new(display_path, text))),
        Err(_) => Err(Box::new(
            Diagnostic::new("invalid-utf8", format!("{name} is not valid UTF-8"))
                .in_file(display_path),
        )),
    }
}

/// The result of checking one bundle.
#[derive(Debug)]
pub struct BundleCheck {
    /// The decoded manifest, present whenever `bundle.toml` parsed, even with errors in it.
    pub manifest: Option<BundleManifest>,
    /// `bundle.toml` and any other file a diagnostic points into (SKILL.md, …).
    pub sources: Vec<Arc<SourceFile>>,
    pub diagnostics: Vec<Diagnostic>,
}

impl BundleCheck {
    pub fn name(&self) -> Option<&str> {
        let meta = self.manifest.as_ref()?.bundle.as_ref()?;
        meta.name.as_ref().map(|n| n.as_str())
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks one bundle on its own (layers 1 and 2). `requires` that point outside the bundle
/// are settled by [`check_requires`] once every bundle linted together is known.
pub fn check_bundle(tree: &BundleTree) -> BundleCheck {
    bundle::check(tree, None)
}

/// Checks one bundle as it would be installed into a project of `mode`: the mode rules
/// are evaluated for that mode only (lint evaluates every mode the bundle declares).
pub fn check_bundle_for_mode(
    tree: &BundleTree,
    mode: crate::manifest::common::ProductMode,
) -> BundleCheck {
    bundle::check(tree, Some(&[mode]))
}

/// A `requires` entry split into kind and name.
pub fn parse_resource_ref(s: &str) -> Option<(ResourceKind, &str)> {
    let (kind, name) = s.split_once(':')?;
    let kind = ResourceKind::parse(kind)?;
    is_valid_name(name).then_some((kind, name))
}

/// The `KIND:NAME` ids a manifest defines.
pub fn resource_ids(m: &BundleManifest) -> BTreeSet<String> {
    m.resources().iter().map(|r| r.id()).collect()
}

/// Settles `requires` entries across bundles linted together: an entry is satisfied by the
/// bundle itself or by any bundle reachable through its dependencies. When a dependency on
/// the way was not linted along, lint cannot tell and warns; when every one was, a missing
/// resource is an error.
pub fn check_requires(checks: &mut [BundleCheck]) {
    // Every linted bundle by name: its version, its resources, its dependencies.
    let mut by_name: BTreeMap<String, Vec<Linted>> = BTreeMap::new();
    for c in checks.iter() {
        if let (Some(name), Some(m)) = (c.name(), c.manifest.as_ref()) {
            let version = m.bundle.as_ref().and_then(|b| b.version.as_ref());
            by_name.entry(name.to_string()).or_default().push(Linted {
                version: version.and_then(|v| semver::Version::parse(&v.value).ok()),
                ids: resource_ids(m),
                deps: dependency_reqs(m),
            });
        }
    }
    for c in checks.iter_mut() {
        let Some(m) = c.manifest.as_ref() else {
            continue;
        };
        let Some(source) = c.sources.first().cloned() else {
            continue;
        };
        let own = resource_ids(m);
        // Walk the dependency closure within the lint set. A dependency counts only when a
        // linted bundle of that name has a version its requirement accepts.
        let mut provided = BTreeSet::new();
        let mut unseen = Vec::new();
        // Optional dependencies bring nothing in, so they cannot be counted on.
        let mut stack: Vec<(String, Option<semver::VersionReq>)> = m
            .dependencies
            .iter()
            .filter(|(_, d)| !d.is_optional())
            .map(|(n, d)| {
                (
                    n.value.clone(),
                    d.requirement()
                        .and_then(|r| semver::VersionReq::parse(&r.value).ok()),
                )
            })
            .collect();
        let mut visited = BTreeSet::new();
        while let Some((dep, req)) = stack.pop() {
            if !visited.insert(dep.clone()) {
                continue;
            }
            let matching = by_name
                .get(&dep)
                .into_iter()
                .flatten()
                .filter(|b| matches!((&b.version, &req), (Some(v), Some(r)) if r.matches(v)));
            let mut any = false;
            for b in matching {
                any = true;
                provided.extend(b.ids.iter().cloned());
                stack.extend(
                    b.deps
                        .iter()
                        .filter(|d| !d.2)
                        .map(|d| (d.0.clone(), d.1.clone())),
                );
            }
            if !any {
                unseen.push(dep);
            }
        }
        let mut found = Vec::new();
        for (owner, requires) in requires_of(m) {
            for r in requires {
                if parse_resource_ref(&r.value).is_none()
                    || own.contains(&r.value)
                    || provided.contains(&r.value)
                {
                    continue;
                }
                // Any bundle in the project's graph may provide it, so lint can only warn.
                let d = if unseen.is_empty() {
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
                };
                found.push(d.at(&source, r.span).resource(owner.clone()));
            }
        }
        c.diagnostics.extend(found);
    }
}

/// NAME-001 across bundles linted together: two different bundles providing the same
/// `KIND:NAME` collide, unless what they would install is identical.
pub fn check_collisions(checks: &mut [BundleCheck], trees: &[BundleTree]) {
    let mut first: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (c, tree) in checks.iter_mut().zip(trees) {
        let (Some(m), Some(source)) = (c.manifest.as_ref(), c.sources.first().cloned()) else {
            continue;
        };
        let Some(name) = m
            .bundle
            .as_ref()
            .and_then(|b| b.name.as_ref())
            .map(|n| n.value.clone())
        else {
            continue;
        };
        let mut found = Vec::new();
        for (id, (digest, span)) in crate::security::resource_digests(m, tree) {
            match first.get(&id) {
                Some((other, d)) if *other != name && *d != digest => found.push(
                    Diagnostic::new(
                        "NAME-001",
                        format!("`{id}` is also provided by the bundle `{other}`, with different content"),
                    )
                    .at(&source, span)
                    .resource(id.clone())
                    .help("rename the resource, or keep only one of the two bundles"),
                ),
                Some(_) => {}
                None => {
                    first.insert(id, (name.clone(), digest));
                }
            }
        }
        for mut d in found {
            d.rule_severity = Some(crate::security::Level::Block);
            c.diagnostics.push(d);
        }
    }
}

/// What `check_requires` knows of one linted bundle.
struct Linted {
    version: Option<semver::Version>,
    ids: BTreeSet<String>,
    /// (name, requirement, optional)
    deps: Vec<(String, Option<semver::VersionReq>, bool)>,
}

/// A manifest's dependencies with their parsed requirements (`None` when unparseable,
/// which is reported elsewhere).
fn dependency_reqs(m: &BundleManifest) -> Vec<(String, Option<semver::VersionReq>, bool)> {
    m.dependencies
        .iter()
        .map(|(name, dep)| {
            let req = dep
                .requirement()
                .and_then(|r| semver::VersionReq::parse(&r.value).ok());
            (name.value.clone(), req, dep.is_optional())
        })
        .collect()
}

/// Every resource's `requires`, with the resource's `KIND:NAME`.
fn requires_of(m: &BundleManifest) -> Vec<(String, &Vec<Spanned<String>>)> {
    m.resources()
        .into_iter()
        .filter_map(|r| Some((r.id(), r.requires()?)))
        .collect()
}
