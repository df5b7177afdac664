//! `capm lint`: find the bundles and projects behind the given paths, read them, and check
//! them all, collecting every diagnostic.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Sources};
use crate::manifest::project::BundleRequest;
use crate::manifest::span::Spanned;
use crate::manifest::tree::{BundleTree, MANIFEST};
use crate::validate::{self, BundleCheck, BundleFacts, Collisions};

use super::project::PROJECT_MANIFEST;

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
    pub sources: Sources,
}

/// Why lint could not run at all (as opposed to finding problems).
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("`{0}` does not exist")]
    NotFound(PathBuf),
    #[error("`{0}` is neither a bundle directory, a bundle.toml nor a capm.toml")]
    NotLintable(PathBuf),
    #[error("no bundle.toml or capm.toml found under `{0}`")]
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

/// How a path is shown in diagnostics: as given, without a leading `./`.
fn display(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s);
    if s == "." {
        String::new()
    } else {
        s.trim_end_matches('/').to_string()
    }
}

fn join_display(base: &str, rel: &str) -> String {
    if base.is_empty() {
        rel.to_string()
    } else {
        format!("{base}/{rel}")
    }
}

/// Directories never searched for bundles.
fn skipped_dir(name: &str) -> bool {
    name.starts_with('.') || name == "target" || name == "node_modules"
}

#[derive(Default)]
struct Found {
    bundles: Vec<(PathBuf, String)>,
    projects: Vec<(PathBuf, String)>,
}

fn discover(path: &Path, found: &mut Found) -> Result<(), LintError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LintError::NotFound(path.to_path_buf()),
        _ => io_err(path)(e),
    })?;
    let shown = display(path);
    if meta.is_file() {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let shown_parent = display(parent);
        return match path.file_name().and_then(|n| n.to_str()) {
            Some(MANIFEST) => {
                found.bundles.push((parent.to_path_buf(), shown_parent));
                Ok(())
            }
            Some(PROJECT_MANIFEST) => {
                found.projects.push((path.to_path_buf(), shown));
                Ok(())
            }
            _ => Err(LintError::NotLintable(path.to_path_buf())),
        };
    }
    if path.join(MANIFEST).is_file() {
        found.bundles.push((path.to_path_buf(), shown));
        return Ok(());
    }
    let bundles_before = found.bundles.len();
    let before = bundles_before + found.projects.len();
    if path.join(PROJECT_MANIFEST).is_file() {
        found.projects.push((
            path.join(PROJECT_MANIFEST),
            join_display(&shown, PROJECT_MANIFEST),
        ));
    }
    let mut stack = vec![(path.to_path_buf(), shown)];
    while let Some((dir, shown)) = stack.pop() {
        let mut children: Vec<_> = std::fs::read_dir(&dir)
            .map_err(io_err(&dir))?
            .filter_map(Result::ok)
            .collect();
        children.sort_by_key(|e| e.file_name());
        for child in children {
            let name = child.file_name().to_string_lossy().to_string();
            let Ok(ft) = child.file_type() else { continue };
            if !ft.is_dir() || skipped_dir(&name) {
                continue;
            }
            let child_path = child.path();
            let child_shown = join_display(&shown, &name);
            if child_path.join(MANIFEST).is_file() {
                found.bundles.push((child_path, child_shown));
            } else {
                stack.push((child_path, child_shown));
            }
        }
    }
    if found.bundles.len() + found.projects.len() == before {
        return Err(LintError::NothingFound(path.to_path_buf()));
    }
    found.bundles[bundles_before..].sort_by(|a, b| a.1.cmp(&b.1));
    Ok(())
}

/// Lints the bundles and projects behind `opts.paths` (the current directory when empty).
pub fn lint(opts: &LintOptions) -> Result<LintReport, LintError> {
    let mut found = Found::default();
    if !opts.paths.is_empty() || opts.catalog {
        for p in &opts.paths {
            discover(p, &mut found)?;
        }
    } else if let Some(project) = &opts.project {
        discover(project, &mut found)?;
    } else {
        // What is here, or else the project this directory belongs to.
        match discover(Path::new("."), &mut found) {
            Err(LintError::NothingFound(dir)) => match super::project::find_root(None) {
                Ok(root) => discover(&root.join(PROJECT_MANIFEST), &mut found)?,
                Err(_) => return Err(LintError::NothingFound(dir)),
            },
            other => other?,
        }
    }
    let mut report = LintReport::default();
    let mut seen = BTreeSet::new();
    let mut trees: Vec<Result<BundleTree, LintError>> = Vec::new();
    // A project's path bundles are linted with it, under its [policy].
    let mut project_checks = Vec::new();
    // Path bundles by directory: the project that asks for them, and the name it uses.
    let mut owner: std::collections::BTreeMap<PathBuf, (usize, Spanned<String>)> =
        std::collections::BTreeMap::new();
    for (path, shown) in &found.projects {
        if !seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())) {
            continue;
        }
        let bytes = std::fs::read(path).map_err(io_err(path))?;
        let check = validate::check_project(shown, &bytes);
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let shown_dir = display(dir);
        let mut diags = check.diagnostics;
        if let Some(m) = &check.manifest {
            for (name, req) in &m.bundles {
                if let BundleRequest::Detailed { path: Some(p), .. } = req {
                    match local_dir(dir, p) {
                        Ok(bundle_dir) => {
                            let key =
                                std::fs::canonicalize(&bundle_dir).unwrap_or(bundle_dir.clone());
                            owner
                                .entry(key)
                                .or_insert((project_checks.len(), name.clone()));
                            found
                                .bundles
                                .push((bundle_dir, join_display(&shown_dir, &p.value)))
                        }
                        Err(d) => diags.push(d.at(&check.source, p.span)),
                    }
                }
            }
            for reg in m.registries.values() {
                if let Some(p) = &reg.path
                    && !dir.join(&p.value).is_dir()
                {
                    diags.push(
                        Diagnostic::new(
                            "path-not-found",
                            format!("registry directory `{}` does not exist", p.value),
                        )
                        .at(&check.source, p.span),
                    );
                }
            }
        }
        report.projects.push(shown.clone());
        report.sources.insert(check.source.clone());
        let policy = check.manifest.and_then(|m| m.policy);
        project_checks.push((diags, policy, check.source));
    }
    let mut all_trees = if opts.catalog {
        crate::catalog::bundles()
    } else {
        Vec::new()
    };
    let mut bundle_dirs = Vec::new();
    let mut tree_owner: Vec<Option<(usize, Spanned<String>)>> =
        all_trees.iter().map(|_| None).collect();
    for (dir, shown) in found.bundles {
        let key = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        if seen.insert(key.clone()) {
            tree_owner.push(owner.get(&key).cloned());
            bundle_dirs.push((dir, shown));
        }
    }
    trees.extend(read_all(&bundle_dirs));
    for t in trees {
        all_trees.push(t?);
    }
    let mut checks = check_all(&all_trees);
    settle_across(&mut checks, &all_trees);
    for (i, check) in checks.iter_mut().enumerate() {
        let Some((p, asked_as)) = &tree_owner[i] else {
            continue;
        };
        if let Some(actual) = check.name()
            && actual != asked_as.value
        {
            let d = Diagnostic::new(
                "invalid-bundle-source",
                format!(
                    "capm.toml asks for `{asked_as}`, but the bundle at this path is `{actual}`"
                ),
            )
            .at(&project_checks[*p].2, asked_as.span)
            .help(format!(
                "use the bundle's own name: `{actual} = {{ path = … }}`"
            ));
            project_checks[*p].0.push(d);
        }
        if let (_, Some(policy), source) = &project_checks[*p] {
            let stale = crate::security::apply_policy(&mut check.diagnostics, policy, source);
            project_checks[*p].0.extend(stale);
        }
    }
    for (tree, check) in all_trees.iter().zip(checks) {
        let meta = check.manifest.as_ref().and_then(|m| m.bundle.as_ref());
        let text = |v: &Option<Spanned<String>>| v.as_ref().map(|s| s.value.clone());
        report.bundles.push(CheckedBundle {
            name: meta.and_then(|m| text(&m.name)),
            version: meta.and_then(|m| text(&m.version)),
            path: tree.display_root.clone(),
        });
        for s in check.sources {
            report.sources.insert(s);
        }
        report.diagnostics.extend(check.diagnostics);
    }
    for (diags, _, _) in project_checks {
        report.diagnostics.extend(diags);
    }
    Ok(report)
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

/// Runs `f` over `items` on every available core, keeping the input order.
fn parallel_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    if threads <= 1 || items.len() < 8 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("lint worker panicked"))
            .collect()
    })
}

fn read_all(dirs: &[(PathBuf, String)]) -> Vec<Result<BundleTree, LintError>> {
    parallel_map(dirs, |(dir, shown)| {
        BundleTree::read(dir, shown.clone()).map_err(io_err(dir))
    })
}

fn check_all(trees: &[BundleTree]) -> Vec<BundleCheck> {
    parallel_map(trees, validate::check_bundle)
}

/// Adds each bundle's findings across the bundles linted together: `requires`, then NAME-001.
fn settle_across(checks: &mut [BundleCheck], trees: &[BundleTree]) {
    let facts: Vec<Option<BundleFacts>> = checks
        .iter()
        .zip(trees)
        .map(|(c, t)| BundleFacts::of(c, t))
        .collect();
    let mut collisions = Collisions::default();
    let collided: Vec<Vec<Diagnostic>> = facts
        .iter()
        .map(|f| f.as_ref().map(|f| collisions.check(f)).unwrap_or_default())
        .collect();
    let facts: Vec<Option<&BundleFacts>> = facts.iter().map(Option::as_ref).collect();
    for (i, d) in validate::check_requires(&facts) {
        checks[i].diagnostics.push(d);
    }
    for (c, found) in checks.iter_mut().zip(collided) {
        c.diagnostics.extend(found);
    }
}
