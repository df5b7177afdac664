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

pub use project::{ProjectCheck, check_project};

/// The largest manifest capm reads.
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;

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
    bundle::check(tree)
}

/// A `requires` entry split into kind and name.
pub fn parse_resource_ref(s: &str) -> Option<(ResourceKind, &str)> {
    let (kind, name) = s.split_once(':')?;
    let kind = ResourceKind::parse(kind)?;
    is_valid_name(name).then_some((kind, name))
}

/// The `KIND:NAME` ids a manifest defines.
pub fn resource_ids(m: &BundleManifest) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let sections: [(&str, Vec<&Spanned<String>>); 5] = [
        ("mcp", m.mcp.keys().collect()),
        ("skill", m.skills.keys().collect()),
        ("plugin", m.plugins.keys().collect()),
        ("agent", m.agents.keys().collect()),
        ("command", m.commands.keys().collect()),
    ];
    for (kind, names) in sections {
        for n in names {
            ids.insert(format!("{kind}:{n}"));
        }
    }
    ids
}

/// Settles `requires` entries across bundles linted together: an entry is satisfied by the
/// bundle itself or by any bundle reachable through its dependencies. When a dependency on
/// the way was not linted along, lint cannot tell and warns; when every one was, a missing
/// resource is an error.
pub fn check_requires(checks: &mut [BundleCheck]) {
    let mut by_name: BTreeMap<String, (BTreeSet<String>, Vec<String>)> = BTreeMap::new();
    for c in checks.iter() {
        if let (Some(name), Some(m)) = (c.name(), c.manifest.as_ref()) {
            let entry = by_name.entry(name.to_string()).or_default();
            entry.0.extend(resource_ids(m));
            entry
                .1
                .extend(m.dependencies.keys().map(|k| k.value.clone()));
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
        // Walk the dependency closure within the lint set.
        let mut provided = BTreeSet::new();
        let mut unseen = Vec::new();
        let mut stack: Vec<String> = m.dependencies.keys().map(|k| k.value.clone()).collect();
        let mut visited = BTreeSet::new();
        while let Some(dep) = stack.pop() {
            if !visited.insert(dep.clone()) {
                continue;
            }
            match by_name.get(&dep) {
                Some((ids, deps)) => {
                    provided.extend(ids.iter().cloned());
                    stack.extend(deps.iter().cloned());
                }
                None => unseen.push(dep),
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
                let d = if unseen.is_empty() {
                    Diagnostic::new(
                        "missing-required-resource",
                        format!("`{}` is not provided by this bundle or its dependencies", r.value),
                    )
                    .help("provide it in this bundle, or add the bundle that provides it to [dependencies]")
                } else {
                    Diagnostic::new(
                        "unresolved-requires",
                        format!(
                            "`{}` is not provided by this bundle; lint cannot check whether {} provides it",
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

/// Every resource's `requires`, with the resource's `KIND:NAME`.
fn requires_of(m: &BundleManifest) -> Vec<(String, &Vec<Spanned<String>>)> {
    let mut out = Vec::new();
    for (n, r) in &m.mcp {
        out.extend(r.requires.as_ref().map(|q| (format!("mcp:{n}"), q)));
    }
    for (n, r) in &m.skills {
        out.extend(r.requires.as_ref().map(|q| (format!("skill:{n}"), q)));
    }
    for (n, r) in &m.plugins {
        out.extend(r.requires.as_ref().map(|q| (format!("plugin:{n}"), q)));
    }
    for (n, r) in &m.agents {
        out.extend(r.requires.as_ref().map(|q| (format!("agent:{n}"), q)));
    }
    for (n, r) in &m.commands {
        out.extend(r.requires.as_ref().map(|q| (format!("command:{n}"), q)));
    }
    out
}
