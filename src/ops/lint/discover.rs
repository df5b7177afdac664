//! Finding what `capm lint` checks: the bundle directories and capm.toml files behind the
//! paths it is given, and how each is shown in diagnostics.
//!
//! Directories are searched in parallel; the result, and the error when a directory
//! cannot be read, are the same as a walk one directory at a time would give. Each
//! directory is listed once, and what is below it is looked at relative to it (on Unix,
//! through its descriptor), with the entry types the listing gives.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{LintError, LintOptions, io_err};
use crate::manifest::dirs::{Kind, OpenDir};
use crate::manifest::tree::MANIFEST;
use crate::ops::project::{self, PROJECT_MANIFEST};

/// A bundle directory to lint.
#[derive(Debug)]
pub(super) struct FoundBundle {
    pub dir: PathBuf,
    /// How the directory is shown to the user.
    pub shown: String,
    /// Its canonical path, when the search already knows it.
    pub key: Option<PathBuf>,
}

impl FoundBundle {
    /// The directory's canonical path, which tells two spellings of one bundle apart.
    pub fn take_key(&mut self) -> PathBuf {
        match self.key.take() {
            Some(key) => key,
            None => std::fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone()),
        }
    }
}

/// Bundle directories and capm.toml files (with how each is shown), in the order found.
#[derive(Default)]
pub(super) struct Found {
    pub bundles: Vec<FoundBundle>,
    pub projects: Vec<(PathBuf, String)>,
}

/// Everything behind `opts`: its paths, else its project, else what is in the current
/// directory or the project it belongs to.
pub(super) fn find(opts: &LintOptions) -> Result<Found, LintError> {
    let mut found = Found::default();
    if !opts.paths.is_empty() || opts.catalog {
        for p in &opts.paths {
            discover(p, &mut found)?;
        }
    } else if let Some(project) = &opts.project {
        discover(project, &mut found)?;
    } else {
        match discover(Path::new("."), &mut found) {
            Err(LintError::NothingFound(dir)) => match project::find_root(None) {
                Ok(root) => discover(&root.join(PROJECT_MANIFEST), &mut found)?,
                Err(_) => return Err(LintError::NothingFound(dir)),
            },
            other => other?,
        }
    }
    Ok(found)
}

/// How a path is shown in diagnostics: as given, without a leading `./`.
pub(super) fn display(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s);
    if s == "." {
        String::new()
    } else {
        s.trim_end_matches('/').to_string()
    }
}

pub(super) fn join_display(base: &str, rel: &str) -> String {
    if base.is_empty() {
        rel.to_string()
    } else {
        [base, "/", rel].concat()
    }
}

/// Directories never searched for bundles.
fn skipped_dir(name: &str) -> bool {
    name.starts_with('.') || name == "target" || name == "node_modules"
}

/// Adds what `path` names: a bundle.toml or capm.toml, a bundle directory, or a directory
/// searched for every bundle below it (and its own capm.toml).
fn discover(path: &Path, found: &mut Found) -> Result<(), LintError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LintError::NotFound(path.to_path_buf()),
        _ => io_err(path)(e),
    })?;
    if meta.is_file() {
        return discover_file(path, found);
    }
    let shown = display(path);
    if crate::formats::has_marker(path) {
        found.bundles.push(FoundBundle {
            dir: path.to_path_buf(),
            shown,
            key: None,
        });
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
    // No link is followed below `path`, so a bundle's canonical path is the root's and
    // the names on the way.
    let root = Place {
        path: path.to_path_buf(),
        shown,
        key: std::fs::canonicalize(path).ok(),
    };
    let dir = OpenDir::open(path).map_err(io_err(path))?;
    found.bundles.extend(scan(&dir, &root)?);
    if found.bundles.len() + found.projects.len() == before {
        // No bundle below: a repository of Agent Skills is one bundle of them all.
        if !crate::formats::is_bundle_dir(path) {
            return Err(LintError::NothingFound(path.to_path_buf()));
        }
        found.bundles.push(FoundBundle {
            dir: path.to_path_buf(),
            shown: root.shown,
            key: None,
        });
    }
    found.bundles[bundles_before..].sort_by(|a, b| a.shown.cmp(&b.shown));
    Ok(())
}

fn discover_file(path: &Path, found: &mut Found) -> Result<(), LintError> {
    match path.file_name().and_then(|n| n.to_str()) {
        Some(PROJECT_MANIFEST) => found.projects.push((path.to_path_buf(), display(path))),
        _ => {
            let dir = crate::formats::marked_dir(path)
                .ok_or_else(|| LintError::NotLintable(path.to_path_buf()))?;
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            found.bundles.push(FoundBundle {
                dir: dir.to_path_buf(),
                shown: display(dir),
                key: None,
            });
        }
    }
    Ok(())
}

/// A directory a search meets: its path as given, how it is shown, and its canonical
/// path when known.
struct Place {
    path: PathBuf,
    shown: String,
    key: Option<PathBuf>,
}

impl Place {
    fn child(&self, name: &OsString) -> Place {
        Place {
            path: joined(&self.path, name),
            shown: join_display(&self.shown, &name.to_string_lossy()),
            key: self.key.as_ref().map(|k| joined(k, name)),
        }
    }
}

/// `base` joined with `name` in one allocation (one for every directory searched).
fn joined(base: &Path, name: &OsString) -> PathBuf {
    let mut path = PathBuf::with_capacity(base.as_os_str().len() + 1 + name.len());
    path.push(base);
    path.push(name);
    path
}

/// The bundle directories below `dir` (at `place`), in no particular order. Its
/// subdirectories are searched in parallel; when several cannot be read, the error
/// returned is the one a walk of one directory at a time (depth first, last subdirectory
/// first) meets first.
fn scan(dir: &OpenDir, place: &Place) -> Result<Vec<FoundBundle>, LintError> {
    let below: Vec<Result<Vec<FoundBundle>, LintError>> = dir
        .entries
        .par_iter()
        .filter(|(name, kind)| *kind == Kind::Dir && !skipped_dir(&name.to_string_lossy()))
        .map(|(name, _)| visit(dir, name, place.child(name)))
        .collect();
    let mut found = Vec::new();
    for r in below.into_iter().rev() {
        found.extend(r?);
    }
    Ok(found)
}

/// The subdirectory `name` of a searched directory: a bundle directory (`bundle.toml`, a
/// Claude Code plugin or an MCP Registry server), or one to search in turn. Both are looked
/// at relative to the open `parent`.
fn visit(parent: &OpenDir, name: &OsString, place: Place) -> Result<Vec<FoundBundle>, LintError> {
    let found = |place: Place| {
        Ok(vec![FoundBundle {
            dir: place.path,
            shown: place.shown,
            key: place.key,
        }])
    };
    if parent.is_file(&Path::new(name).join(MANIFEST)) {
        return found(place);
    }
    let dir = parent
        .open_child(Path::new(name))
        .map_err(io_err(&place.path))?;
    // A Claude Code plugin is a bundle too (a marketplace's repository holds many), and so
    // is a server.json (a repository may publish several servers): told by the listing the
    // search makes anyway, so a tree of native bundles costs nothing more.
    if marks_foreign_bundle(&dir) {
        return found(place);
    }
    scan(&dir, &place)
}

/// Whether a directory's listing holds `server.json`, or `.claude-plugin/` with
/// `plugin.json` in it.
fn marks_foreign_bundle(dir: &OpenDir) -> bool {
    dir.entries
        .iter()
        .any(|(name, kind)| match (name.to_str(), kind) {
            (Some("server.json"), Kind::File) => true,
            (Some(".claude-plugin"), Kind::Dir) => {
                dir.is_file(Path::new(crate::formats::claude::PLUGIN_JSON))
            }
            _ => false,
        })
}
