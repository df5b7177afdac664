//! `capm probe`: which MCP servers to start. Named bundles are looked up like `capm info`
//! does (the version capm.lock records, when the project has one); without names, the
//! servers of every bundle the project resolves to. Servers run in the project directory
//! (or the current one outside a project) with the project's `[inputs]`.

use std::path::Path;

use crate::graph::Sources;
use crate::ops::info::InfoError;
use crate::ops::project::{self, Project, ResolveOptions, ResolveProjectError};
use crate::probe::Server;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    Bundle(#[from] InfoError),
    #[error(transparent)]
    Resolve(#[from] ResolveProjectError),
    #[error("bundle `{bundle}` cannot be rendered: {message}")]
    Render { bundle: String, message: String },
}

/// The servers of the bundles `specs` names (`NAME`, `NAME@VERSION`, `NAME@REQ`).
pub fn named(
    sources: &Sources,
    specs: &[String],
    project: Option<&Project>,
    cwd: &Path,
) -> Result<Vec<Server>, ProbeError> {
    let inputs = project
        .map(|p| p.manifest.input_values())
        .unwrap_or_default();
    let mut out = Vec::new();
    for spec in specs {
        let spec = locked_spec(spec, project);
        let chosen = crate::ops::info::find(sources, &spec)?;
        let tree = sources.tree(chosen).map_err(InfoError::from)?;
        let manifest = crate::validate::check_bundle(&tree)
            .manifest
            .unwrap_or_default();
        out.extend(render(&chosen.name, &manifest, &tree, &inputs, cwd)?);
    }
    Ok(out)
}

/// A bare name of a bundle capm.lock records stands for the recorded version.
fn locked_spec(spec: &str, project: Option<&Project>) -> String {
    let locked = project
        .and_then(|p| p.lock.as_ref())
        .and_then(|l| l.bundles.iter().find(|b| b.name == spec));
    match locked {
        Some(b) if !spec.contains('@') => format!("{spec}@={}", b.version),
        _ => spec.to_string(),
    }
}

/// The servers of every bundle the project resolves to, in install order.
pub fn installed(project: &Project) -> Result<Vec<Server>, ProbeError> {
    let (_, resolution) = project::resolve(project, ResolveOptions::default())?;
    let inputs = project.manifest.input_values();
    let mut out = Vec::new();
    for b in &resolution.bundles {
        out.extend(render(
            &b.name,
            &b.manifest,
            &b.tree,
            &inputs,
            &project.root,
        )?);
    }
    Ok(out)
}

fn render(
    bundle: &str,
    manifest: &crate::manifest::bundle::BundleManifest,
    tree: &crate::manifest::tree::BundleTree,
    inputs: &std::collections::BTreeMap<String, String>,
    cwd: &Path,
) -> Result<Vec<Server>, ProbeError> {
    crate::probe::servers(bundle, manifest, tree, inputs, cwd).map_err(|message| {
        ProbeError::Render {
            bundle: bundle.to_string(),
            message,
        }
    })
}
