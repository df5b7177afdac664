//! `capm lint`: find the bundles and projects behind the given paths, read them, and check
//! them all, collecting every diagnostic.
//!
//! The pipeline: `discover` finds the bundle directories and capm.toml files; `projects`
//! checks each project and adds the bundles it asks for by path; `bundles` reads and
//! checks every bundle in parallel, keeping only its diagnostics and the facts the checks
//! across bundles need; then each project settles its path bundles (names, `[policy]`).
//! The report lists bundles and diagnostics in the same order whatever the parallelism.

mod bundles;
mod discover;
mod projects;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Sources};

use bundles::{Input, Linted};
use discover::FoundBundle;
use projects::{Owner, Projects};

/// What to lint.
#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    /// Bundle directories, `bundle.toml` or `capm.toml` files, or directories to search.
    pub paths: Vec<PathBuf>,
    /// Lint the catalog built into capm as well.
    pub catalog: bool,
    /// The project given with `--project`, linted when no path is given.
    pub project: Option<PathBuf>,
}

/// A bundle that was linted.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CheckedBundle {
    /// The bundle's name, when its manifest gave a readable one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The bundle directory.
    pub path: String,
}

/// Everything lint found.
#[derive(Debug, Default)]
pub struct LintReport {
    pub bundles: Vec<CheckedBundle>,
    pub projects: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// The files the diagnostics point into.
    pub sources: Sources,
}

/// Why lint could not run at all (as opposed to finding problems).
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("`{0}` does not exist")]
    NotFound(PathBuf),
    #[error(
        "`{0}` is neither a bundle directory nor a file capm lints (bundle.toml, capm.toml, \
         SKILL.md, .claude-plugin/plugin.json, server.json)"
    )]
    NotLintable(PathBuf),
    #[error(
        "no bundle (bundle.toml, SKILL.md, .claude-plugin/plugin.json, server.json) or capm.toml \
         found under `{0}`"
    )]
    NothingFound(PathBuf),
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LintError + '_ {
    move |source| LintError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Lints the bundles and projects behind `opts.paths` (the current directory when empty).
pub fn lint(opts: &LintOptions) -> Result<LintReport, LintError> {
    let _span = tracing::info_span!("lint").entered();
    let mut found = discover::find(opts)?;
    tracing::info!(
        "to check: bundles {}, projects {}",
        found.bundles.len(),
        found.projects.len()
    );
    let mut report = LintReport::default();
    let mut seen = HashSet::new();
    let mut projects =
        Projects::check(&found.projects, &mut seen, &mut found.bundles, &mut report)?;
    let (inputs, owners) = inputs(opts.catalog, found.bundles, seen, &projects);
    let mut linted = bundles::lint_all(inputs)?;
    for (l, owner) in linted.iter_mut().zip(&owners) {
        if let Some(owner) = owner {
            projects.settle(owner, l.bundle.name.as_deref(), &mut l.diagnostics);
        }
    }
    report.bundles.reserve(linted.len());
    for l in linted {
        add_bundle(&mut report, l);
    }
    report.diagnostics.extend(projects.into_diagnostics());
    Ok(report)
}

/// The bundles to lint, in order: the catalog's when asked for, then each directory once
/// (`seen` holds the capm.toml files already read); with the project asking for each.
fn inputs(
    catalog: bool,
    found: Vec<FoundBundle>,
    mut seen: HashSet<PathBuf>,
    projects: &Projects,
) -> (Vec<Input>, Vec<Option<Owner>>) {
    let mut inputs: Vec<Input> = if catalog {
        crate::catalog::bundles()
            .into_iter()
            .map(Input::Embedded)
            .collect()
    } else {
        Vec::new()
    };
    let mut owners = vec![None; inputs.len()];
    inputs.reserve(found.len());
    owners.reserve(found.len());
    seen.reserve(found.len());
    let keyed: Vec<(PathBuf, FoundBundle)> = found
        .into_par_iter()
        .map(|mut b| (b.take_key(), b))
        .collect();
    for (key, b) in keyed {
        let owner = projects.owner(&key);
        if seen.insert(key) {
            owners.push(owner);
            inputs.push(Input::Dir {
                dir: b.dir,
                shown: b.shown,
            });
        }
    }
    (inputs, owners)
}

fn add_bundle(report: &mut LintReport, l: Linted) {
    report.bundles.push(l.bundle);
    if !l.diagnostics.is_empty() {
        for s in l.sources {
            report.sources.insert(s);
        }
    }
    report.diagnostics.extend(l.diagnostics);
}
