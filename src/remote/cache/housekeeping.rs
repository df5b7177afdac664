//! Keeping the cache in shape: `CACHEDIR.TAG`, the cache-wide lock (`.capm-lock`, shared
//! while a capm uses the cache, exclusive while `clean` or `prune` removes entries), its
//! size, `clean` (everything goes) and `prune` (entries unused for longer than an age, and
//! staging leftovers).
//!
//! An entry is what is removed as a unit: a blob; an index or OCI file with its `.meta`;
//! a bare repository or lock under `git/db/`; a checkout `git/checkouts/KEY/COMMIT/`; a
//! staging file under `tmp/`. Its last use is its mtime ([`super::touch`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{Cache, RemoteError, io};

/// `.capm-lock` in the root, held until dropped.
pub struct CacheLock {
    _lock: crate::apply::FileLock,
}

impl std::fmt::Debug for CacheLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheLock")
    }
}

/// What `clean` removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct CleanReport {
    /// Entries removed.
    pub entries: u64,
    /// Bytes freed.
    pub bytes: u64,
}

/// What `prune` removed and kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct PruneReport {
    pub removed: CleanReport,
    pub kept: CleanReport,
}

/// Entries and bytes per area (`blobs`, `index`, `git`, `oci`, `tmp`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct SizeReport {
    pub total: CleanReport,
    pub areas: std::collections::BTreeMap<String, CleanReport>,
}

/// Staging files older than this are leftovers of a capm that died.
const TMP_MAX_AGE: Duration = Duration::from_secs(3600);

const TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by capm.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

/// One removable unit of the cache.
struct Entry {
    area: &'static str,
    /// The paths removed together (a file and its `.meta`, or one directory).
    paths: Vec<PathBuf>,
    bytes: u64,
    used: SystemTime,
}

impl Cache {
    /// Writes `CACHEDIR.TAG` in the root unless it is there.
    pub(in crate::remote) fn tag(&self) -> Result<(), RemoteError> {
        let path = self.root().join("CACHEDIR.TAG");
        if path.exists() {
            return Ok(());
        }
        let tmp_dir = self.root().join("tmp");
        let tmp = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(io(&tmp_dir))?;
        std::fs::write(tmp.path(), TAG).map_err(io(tmp.path()))?;
        tmp.persist(&path).map_err(|e| io(&path)(e.error))?;
        Ok(())
    }

    /// Holds the cache shared (any number of capm processes using it), waiting up to
    /// `timeout` while `clean` or `prune` runs; `waiting` is called once if it must wait.
    pub fn lock_shared(
        &self,
        timeout: Duration,
        waiting: &dyn Fn(&Path),
    ) -> Result<CacheLock, RemoteError> {
        self.lock(false, timeout, waiting)
    }

    /// Holds the cache alone, waiting up to `timeout` for every other user.
    pub fn lock_exclusive(
        &self,
        timeout: Duration,
        waiting: &dyn Fn(&Path),
    ) -> Result<CacheLock, RemoteError> {
        self.lock(true, timeout, waiting)
    }

    fn lock(
        &self,
        exclusive: bool,
        timeout: Duration,
        waiting: &dyn Fn(&Path),
    ) -> Result<CacheLock, RemoteError> {
        use crate::apply::WriteError;
        let path = self.root().join(".capm-lock");
        match crate::apply::FileLock::acquire(&path, exclusive, timeout, waiting) {
            Ok(lock) => Ok(CacheLock { _lock: lock }),
            Err(WriteError::Locked { path, seconds }) => {
                Err(RemoteError::CacheLocked { path, seconds })
            }
            Err(WriteError::Io { path, source }) => Err(RemoteError::Io { path, source }),
            Err(WriteError::Exists(path)) => {
                Err(io(&path)(std::io::ErrorKind::AlreadyExists.into()))
            }
        }
    }

    /// Entries and bytes per area.
    pub fn size(&self) -> Result<SizeReport, RemoteError> {
        let mut report = SizeReport::default();
        for e in self.entries()? {
            add(&mut report.total, &e);
            add(report.areas.entry(e.area.to_string()).or_default(), &e);
        }
        Ok(report)
    }

    /// Removes every entry (the lock and `CACHEDIR.TAG` stay), holding the cache alone.
    pub fn clean(
        &self,
        timeout: Duration,
        waiting: &dyn Fn(&Path),
    ) -> Result<CleanReport, RemoteError> {
        let report = self.remove_where(timeout, waiting, &|_| true)?;
        for area in ["blobs", "index", "git", "oci", "tmp"] {
            remove_path(&self.root().join(area))?;
        }
        Ok(report.removed)
    }

    /// Removes the entries not used for longer than `max_age` and staging files older than
    /// an hour, holding the cache alone.
    pub fn prune(
        &self,
        max_age: Duration,
        timeout: Duration,
        waiting: &dyn Fn(&Path),
    ) -> Result<PruneReport, RemoteError> {
        let now = SystemTime::now();
        self.remove_where(timeout, waiting, &|e| {
            let limit = if e.area == "tmp" {
                TMP_MAX_AGE
            } else {
                max_age
            };
            now.duration_since(e.used).unwrap_or_default() > limit
        })
    }

    /// Removes the entries `doomed` picks, holding the cache alone.
    fn remove_where(
        &self,
        timeout: Duration,
        waiting: &dyn Fn(&Path),
        doomed: &dyn Fn(&Entry) -> bool,
    ) -> Result<PruneReport, RemoteError> {
        if !self.root().exists() {
            return Ok(PruneReport::default());
        }
        let _lock = self.lock_exclusive(timeout, waiting)?;
        let mut report = PruneReport::default();
        for e in self.entries()? {
            if doomed(&e) {
                remove(&e)?;
                add(&mut report.removed, &e);
            } else {
                add(&mut report.kept, &e);
            }
        }
        Ok(report)
    }

    /// Every entry of every area.
    fn entries(&self) -> Result<Vec<Entry>, RemoteError> {
        let root = self.root();
        let mut out = Vec::new();
        for file in files(&root.join("blobs"))? {
            out.push(unit("blobs", vec![file])?);
        }
        for area in ["index", "oci"] {
            for file in files(&root.join(area))? {
                if file.extension().is_some_and(|x| x == "meta") {
                    continue;
                }
                let meta = super::meta_path(&file);
                let paths = if meta.exists() {
                    vec![file, meta]
                } else {
                    vec![file]
                };
                out.push(unit(area, paths)?);
            }
        }
        for dir in children(&root.join("git/db"))? {
            out.push(unit("git", vec![dir])?);
        }
        for key in children(&root.join("git/checkouts"))? {
            for commit in children(&key)? {
                out.push(unit("git", vec![commit])?);
            }
        }
        for tmp in children(&root.join("tmp"))? {
            out.push(unit("tmp", vec![tmp])?);
        }
        Ok(out)
    }
}

fn add(report: &mut CleanReport, e: &Entry) {
    report.entries += 1;
    report.bytes += e.bytes;
}

fn unit(area: &'static str, paths: Vec<PathBuf>) -> Result<Entry, RemoteError> {
    let first = &paths[0];
    let used = std::fs::symlink_metadata(first)
        .and_then(|m| m.modified())
        .map_err(io(first))?;
    let mut bytes = 0;
    for p in &paths {
        bytes += tree_bytes(p)?;
    }
    Ok(Entry {
        area,
        paths,
        bytes,
        used,
    })
}

fn remove(e: &Entry) -> Result<(), RemoteError> {
    e.paths.iter().try_for_each(|p| remove_path(p))
}

/// Removes a file or a directory tree; one already gone is fine.
fn remove_path(path: &Path) -> Result<(), RemoteError> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path)(e)),
        _ => Ok(()),
    }
}

/// The entries of a directory (none when it does not exist).
fn children(dir: &Path) -> Result<Vec<PathBuf>, RemoteError> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut out = Vec::new();
    for entry in read {
        out.push(entry.map_err(io(dir))?.path());
    }
    out.sort();
    Ok(out)
}

/// Every file under `dir`, recursively (links are not followed).
fn files(dir: &Path) -> Result<Vec<PathBuf>, RemoteError> {
    let mut out = Vec::new();
    for path in children(dir)? {
        let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
        if meta.is_dir() {
            out.extend(files(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

/// The bytes of a file, or of every file under a directory.
fn tree_bytes(path: &Path) -> Result<u64, RemoteError> {
    let meta = std::fs::symlink_metadata(path).map_err(io(path))?;
    if !meta.is_dir() {
        return Ok(meta.len());
    }
    let mut total = 0;
    for child in children(path)? {
        total += tree_bytes(&child)?;
    }
    Ok(total)
}

#[cfg(test)]
#[path = "housekeeping_tests.rs"]
mod tests;
