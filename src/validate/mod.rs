//! Validation: bundle trees and project manifests in, diagnostics and checked values out.
//!
//! Layer 1 (syntax and shape) is the decoder in `manifest::decode`; layer 2 (meaning) is
//! here. Every check runs and reports; nothing stops at the first problem. Nothing here
//! reads the disk: bundles arrive as in-memory trees.

mod across;
mod agent_grants;
mod bundle;
mod front_matter;
mod opencode_schema;
pub mod plugin;
mod project;
mod skill;
mod yaml_node;

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::manifest::bundle::BundleManifest;
use crate::manifest::common::{Keyword, ResourceKind, is_valid_name};
use crate::manifest::span::{SourceFile, Spanned};
use crate::manifest::tree::BundleTree;

pub use across::{BundleFacts, Collisions, check_requires};
pub(crate) use bundle::npm_package_name;
pub use opencode_schema::{OPENCODE_VERSION, SCHEMA_TEXT as OPENCODE_SCHEMA};
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
    /// The diagnostics that are errors.
    pub fn errors(&self) -> Vec<Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect()
    }

    pub fn name(&self) -> Option<&str> {
        let meta = self.manifest.as_ref()?.bundle.as_ref()?;
        meta.name.as_ref().map(|n| n.as_str())
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks one bundle on its own (layers 1 and 2). `requires` that point outside the bundle
/// are settled by [`check_requires`] once every bundle linted together is known, and
/// NAME-001 between bundles by [`Collisions`].
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

/// Every resource's `requires`, with the resource's `KIND:NAME`.
fn requires_of(m: &BundleManifest) -> Vec<(String, &Vec<Spanned<String>>)> {
    m.resources()
        .into_iter()
        .filter_map(|r| Some((r.id(), r.requires()?)))
        .collect()
}
