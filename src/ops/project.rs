//! Finding and reading a project: `capm.toml` (checked like lint does) and `capm.lock`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Sources as DiagSources};
use crate::graph::{self, GraphError, Resolution, Sources};
use crate::manifest::lock::{LockError, Lockfile};
use crate::manifest::project::ProjectManifest;
use crate::manifest::span::SourceFile;

pub const PROJECT_MANIFEST: &str = "capm.toml";
pub const LOCK_FILE: &str = "capm.lock";

/// A project read from disk.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub manifest: ProjectManifest,
    pub source: Arc<SourceFile>,
    pub lock: Option<Lockfile>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("no capm.toml found for `{0}`")]
    NotFound(PathBuf),
    #[error("capm.toml has errors")]
    Invalid {
        diagnostics: Vec<Diagnostic>,
        sources: DiagSources,
    },
    /// capm.lock cannot be read; `text` is its content, when it has some, for showing where.
    #[error("`{path}`: {error}")]
    Lock {
        path: PathBuf,
        error: LockError,
        text: Option<Arc<SourceFile>>,
    },
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The directory holding capm.toml: the nearest one from `dir` (when given) or from the
/// current directory upwards, so a directory inside a project finds it.
pub fn find_root(dir: Option<&Path>) -> Result<PathBuf, ProjectError> {
    if let Some(d) = dir {
        // `--project path/to/capm.toml` names the file; its directory is the project.
        if d.file_name().is_some_and(|n| n == PROJECT_MANIFEST) && d.is_file() {
            let parent = d
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            return Ok(parent.to_path_buf());
        }
        if !d.is_dir() {
            return Err(ProjectError::NotFound(d.to_path_buf()));
        }
        // As the user wrote it first (`sub/dir`, `sub`), then absolute above that.
        let mut written = d.ancestors().map(|a| match a.as_os_str().is_empty() {
            true => Path::new("."),
            false => a,
        });
        if let Some(found) = written.find(|a| a.join(PROJECT_MANIFEST).is_file()) {
            return Ok(found.to_path_buf());
        }
        let absolute = std::path::absolute(d).map_err(|e| ProjectError::Io {
            path: d.to_path_buf(),
            source: e,
        })?;
        return nearest(&absolute)
            .map(Path::to_path_buf)
            .ok_or_else(|| ProjectError::NotFound(d.to_path_buf()));
    }
    let cwd = std::env::current_dir().map_err(|e| ProjectError::Io {
        path: PathBuf::from("."),
        source: e,
    })?;
    match nearest(&cwd) {
        // Shown relative to where the user stands.
        Some(at) => Ok(pathdiff(at, &cwd)),
        None => Err(ProjectError::NotFound(cwd)),
    }
}

/// The nearest directory holding capm.toml from `dir` upwards.
fn nearest(dir: &Path) -> Option<&Path> {
    dir.ancestors().find(|a| a.join(PROJECT_MANIFEST).is_file())
}

/// `target` relative to `base` when it is an ancestor (`.`, `..`, `../..`).
fn pathdiff(target: &Path, base: &Path) -> PathBuf {
    let mut up = PathBuf::from(".");
    let mut at = base;
    while at != target {
        match at.parent() {
            Some(p) => {
                up = if up == Path::new(".") {
                    PathBuf::from("..")
                } else {
                    up.join("..")
                };
                at = p;
            }
            None => return target.to_path_buf(),
        }
    }
    up
}

/// Reads capm.lock beside capm.toml in `root`, if there is one, strictly.
fn read_lock(root: &Path) -> Result<Option<Lockfile>, ProjectError> {
    let lock_path = root.join(LOCK_FILE);
    let bytes = match std::fs::read(&lock_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ProjectError::Io {
                path: lock_path,
                source,
            });
        }
    };
    tracing::info!("reading `{}`", lock_path.display());
    let lock = std::str::from_utf8(&bytes)
        .map_err(|e| LockError::Malformed {
            message: crate::manifest::span::not_utf8(&e),
            span: Some(e.valid_up_to()..e.valid_up_to() + 1),
        })
        .and_then(Lockfile::parse);
    lock.map(Some).map_err(|error| {
        let shown = match root == Path::new(".") {
            true => LOCK_FILE.to_string(),
            false => lock_path.display().to_string(),
        };
        let text = String::from_utf8_lossy(&bytes);
        ProjectError::Lock {
            text: Some(Arc::new(SourceFile::new(shown, text))),
            path: lock_path,
            error,
        }
    })
}

/// Reads and checks the project at `root`.
pub fn load(root: &Path) -> Result<Project, ProjectError> {
    let path = root.join(PROJECT_MANIFEST);
    tracing::info!("reading `{}`", path.display());
    let bytes = std::fs::read(&path).map_err(|e| ProjectError::Io {
        path: path.clone(),
        source: e,
    })?;
    let shown = if root == Path::new(".") {
        PROJECT_MANIFEST.to_string()
    } else {
        path.display().to_string()
    };
    let check = crate::validate::check_project(&shown, &bytes);
    let errors: Vec<Diagnostic> = check
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    let Some(manifest) = check.manifest.filter(|_| errors.is_empty()) else {
        let mut sources = DiagSources::default();
        sources.insert(check.source.clone());
        return Err(ProjectError::Invalid {
            diagnostics: errors,
            sources,
        });
    };
    let lock = read_lock(root)?;
    Ok(Project {
        root: root.to_path_buf(),
        manifest,
        source: check.source,
        lock,
    })
}

/// How resolution should treat the lock.
#[derive(Clone, Copy, Debug, Default)]
pub struct ResolveOptions {
    /// Fail when the resolution differs from capm.lock.
    pub locked: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveProjectError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("capm.lock needs to be updated, but --locked was given")]
    Stale { changes: Vec<String> },
}

/// Resolves a project's bundles, preferring the versions its lock records; verifies the
/// lock's digests (SC-002) and, with `locked`, refuses any change to it.
pub fn resolve(
    project: &Project,
    opts: ResolveOptions,
) -> Result<(Sources, Resolution), ResolveProjectError> {
    let sources = Sources::load_locked(&project.manifest, &project.root, project.lock.as_ref())?;
    let requests = graph::requests(&project.manifest)?;
    let resolution = graph::build(&sources, &requests, project.lock.as_ref())?;
    if let Some(lock) = &project.lock {
        graph::verify_lock(lock, &resolution)?;
    }
    if opts.locked {
        let changes = match &project.lock {
            Some(lock) => graph::lock_changes(lock, &resolution),
            None => vec!["create capm.lock".to_string()],
        };
        if !changes.is_empty() {
            return Err(ResolveProjectError::Stale { changes });
        }
    }
    Ok((sources, resolution))
}
