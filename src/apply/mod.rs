//! The only code that writes to the user's files. Every write is atomic: content is staged
//! under a temporary name beside its target, flushed to disk, and renamed into place.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("`{0}` already exists and is not empty")]
    Exists(PathBuf),
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates directory `dir` holding `files` (relative path, content), all at once: the tree
/// is built in a temporary directory beside `dir`, synced, then renamed into place, so a
/// failure leaves nothing behind. An existing empty `dir` is replaced; a non-empty one is
/// refused.
pub fn create_dir_tree(dir: &Path, files: &[(String, String)]) -> Result<(), WriteError> {
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(WriteError::Exists(dir.to_path_buf()));
        }
    } else if dir.exists() {
        return Err(WriteError::Exists(dir.to_path_buf()));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".capm-new-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    for (rel, content) in files {
        let path = staging.path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io(p))?;
        }
        let mut f = std::fs::File::create(&path).map_err(io(&path))?;
        f.write_all(content.as_bytes()).map_err(io(&path))?;
        f.sync_all().map_err(io(&path))?;
    }
    if dir.exists() {
        std::fs::remove_dir(dir).map_err(io(dir))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        io(dir)(e)
    })?;
    if let Ok(d) = std::fs::File::open(&parent) {
        let _ = d.sync_all();
    }
    Ok(())
}
