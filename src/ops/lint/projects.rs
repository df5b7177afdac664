//! The projects `capm lint` checks: each capm.toml, the path bundles it brings along, and
//! what the project says about them once they are checked (the name it asks for them by,
//! and its `[policy]`).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::discover::{FoundBundle, display, join_display};
use super::{LintError, LintReport, io_err};
use crate::diagnostic::Diagnostic;
use crate::manifest::project::{BundleRequest, Policy, ProjectManifest};
use crate::manifest::span::{SourceFile, Spanned};
use crate::manifest::tree::MANIFEST;
use crate::validate;

/// One checked project.
struct Project {
    diagnostics: Vec<Diagnostic>,
    policy: Option<Policy>,
    source: Arc<SourceFile>,
}

/// The projects linted, and which of them asks for which path bundle.
#[derive(Default)]
pub(super) struct Projects {
    projects: Vec<Project>,
    /// Path bundles by canonical directory: the project asking for them, and the name it uses.
    owner: BTreeMap<PathBuf, (usize, Spanned<String>)>,
}

/// A project's claim on one linted bundle: which project, and the name it asks for.
pub(super) type Owner = (usize, Spanned<String>);

impl Projects {
    /// Checks each project once (a capm.toml already in `seen` is skipped), records it in
    /// `report`, and adds the bundles it asks for by path to `bundles`.
    pub fn check(
        found: &[(PathBuf, String)],
        seen: &mut HashSet<PathBuf>,
        bundles: &mut Vec<FoundBundle>,
        report: &mut LintReport,
    ) -> Result<Projects, LintError> {
        let mut projects = Projects::default();
        for (path, shown) in found {
            if !seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())) {
                continue;
            }
            let bytes = std::fs::read(path).map_err(io_err(path))?;
            let check = validate::check_project(shown, &bytes);
            let mut diagnostics = check.diagnostics;
            if let Some(m) = &check.manifest {
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                diagnostics.extend(projects.path_bundles(m, dir, &check.source, bundles));
                diagnostics.extend(missing_registries(m, dir, &check.source));
            }
            report.projects.push(shown.clone());
            report.sources.insert(check.source.clone());
            projects.projects.push(Project {
                diagnostics,
                policy: check.manifest.and_then(|m| m.policy),
                source: check.source,
            });
        }
        Ok(projects)
    }

    /// Adds the bundles `m` asks for by path to `bundles`; returns the paths that are not
    /// bundles.
    fn path_bundles(
        &mut self,
        m: &ProjectManifest,
        dir: &Path,
        source: &SourceFile,
        bundles: &mut Vec<FoundBundle>,
    ) -> Vec<Diagnostic> {
        let mut diagnostics = Vec::new();
        for (name, req) in &m.bundles {
            // With `git`, `path` is a directory inside the repository.
            let BundleRequest::Detailed {
                path: Some(p),
                git: None,
                ..
            } = req
            else {
                continue;
            };
            match local_dir(dir, p) {
                Ok(bundle_dir) => {
                    let key = std::fs::canonicalize(&bundle_dir).unwrap_or(bundle_dir.clone());
                    self.owner
                        .entry(key.clone())
                        .or_insert((self.projects.len(), name.clone()));
                    bundles.push(FoundBundle {
                        dir: bundle_dir,
                        shown: join_display(&display(dir), &p.value),
                        key: Some(key),
                    });
                }
                Err(d) => diagnostics.push(d.at(source, p.span)),
            }
        }
        diagnostics
    }

    /// The project asking for the bundle at canonical path `key`, if any.
    pub fn owner(&self, key: &Path) -> Option<Owner> {
        self.owner.get(key).cloned()
    }

    /// What the owning project says about one of its path bundles once checked: the name
    /// it asks for must be the bundle's own, and its `[policy]` applies to the findings.
    pub fn settle(&mut self, owner: &Owner, name: Option<&str>, diags: &mut [Diagnostic]) {
        let (p, asked_as) = owner;
        let project = &mut self.projects[*p];
        if let Some(actual) = name
            && actual != asked_as.value
        {
            let d = Diagnostic::new(
                "invalid-bundle-source",
                format!(
                    "capm.toml asks for `{asked_as}`, but the bundle at this path is `{actual}`"
                ),
            )
            .at(&project.source, asked_as.span)
            .help(format!(
                "use the bundle's own name: `{actual} = {{ path = … }}`"
            ));
            project.diagnostics.push(d);
        }
        if let Some(policy) = &project.policy {
            let stale = crate::security::apply_policy(diags, policy, &project.source);
            project.diagnostics.extend(stale);
        }
    }

    /// Every project's diagnostics, in order.
    pub fn into_diagnostics(self) -> impl Iterator<Item = Diagnostic> {
        self.projects.into_iter().flat_map(|p| p.diagnostics)
    }
}

/// The registry directories `m` names that do not exist.
fn missing_registries(m: &ProjectManifest, dir: &Path, source: &SourceFile) -> Vec<Diagnostic> {
    m.registries
        .values()
        .filter_map(|reg| reg.path.as_ref())
        .filter(|p| !dir.join(&p.value).is_dir())
        .map(|p| {
            Diagnostic::new(
                "path-not-found",
                format!("registry directory `{}` does not exist", p.value),
            )
            .at(source, p.span)
        })
        .collect()
}

/// A path source's directory, or why it cannot be one.
fn local_dir(project_dir: &Path, p: &Spanned<String>) -> Result<PathBuf, Box<Diagnostic>> {
    let dir = project_dir.join(&p.value);
    if dir.join(MANIFEST).is_file() {
        Ok(dir)
    } else if dir.is_dir() {
        Err(Box::new(Diagnostic::new(
            "missing-manifest",
            format!("`{}` has no bundle.toml", p.value),
        )))
    } else {
        Err(Box::new(
            Diagnostic::new(
                "path-not-found",
                format!("bundle directory `{}` does not exist", p.value),
            )
            .help("paths in capm.toml are relative to the directory holding it"),
        ))
    }
}
