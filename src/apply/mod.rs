//! The only code that writes to the user's files. Every write is atomic: content is staged
//! under a temporary name beside its target, flushed to disk, and renamed into place.

pub mod failpoint;
pub mod journal;
pub mod jsonc_edit;
pub mod toml_edit;
pub mod txn;

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("`{0}` already exists and is not empty")]
    Exists(PathBuf),
    #[error("`{path}` is locked by another capm process; gave up after {seconds} s")]
    Locked { path: PathBuf, seconds: u64 },
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
/// refused. The directory is made as any directory is (the umask decides its mode), not
/// private as a temporary one.
pub fn create_dir_tree<C: AsRef<[u8]>>(
    dir: &Path,
    files: &[(String, C)],
) -> Result<(), WriteError> {
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
    let mut builder = tempfile::Builder::new();
    builder.prefix(".capm-new-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777));
    let staging = builder.tempdir_in(&parent).map_err(io(&parent))?;
    for (rel, content) in files {
        let path = staging.path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io(p))?;
        }
        let mut f = std::fs::File::create(&path).map_err(io(&path))?;
        f.write_all(content.as_ref()).map_err(io(&path))?;
        f.sync_all().map_err(io(&path))?;
    }
    if dir.exists() {
        // An existing empty directory (perhaps the current one) stays; its content moves in.
        let mut moved = Vec::new();
        for entry in std::fs::read_dir(staging.path()).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let to = dir.join(entry.file_name());
            if let Err(e) = std::fs::rename(entry.path(), &to) {
                for m in moved {
                    let _ = std::fs::remove_dir_all(&m).or_else(|_| std::fs::remove_file(&m));
                }
                return Err(io(&to)(e));
            }
            moved.push(to);
        }
        sync_dir(dir);
        return Ok(());
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

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The mode a new file gets: readable by everyone, as a file an editor creates.
const NEW_FILE_MODE: u32 = 0o644;
/// The mode a new directory gets.
const NEW_DIR_MODE: u32 = 0o755;

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// The mode of an existing file, to keep it when the file is replaced.
fn mode_of(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Stages `bytes` in a temporary file beside `path`, with the mode of the file it replaces
/// (or an ordinary one for a new file), and syncs it.
fn stage(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, WriteError> {
    let dir = parent_of(path);
    if !dir.is_dir() {
        return Err(io(&dir)(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the directory does not exist",
        )));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".capm-tmp-")
        .tempfile_in(&dir)
        .map_err(io(&dir))?;
    set_mode(tmp.path(), mode_of(path).unwrap_or(NEW_FILE_MODE)).map_err(io(path))?;
    tmp.write_all(bytes).map_err(io(path))?;
    tmp.as_file().sync_all().map_err(io(path))?;
    Ok(tmp)
}

/// Replaces (or creates) `path` with `bytes` atomically: readers see the old content or
/// the new, never a mix, and a crash leaves no partial file.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let tmp = stage(path, bytes)?;
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    sync_dir(&parent_of(path));
    Ok(())
}

/// Creates `path` with `bytes`, refusing to replace an existing file, atomically.
pub fn create_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let tmp = stage(path, bytes)?;
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            WriteError::Exists(path.to_path_buf())
        } else {
            io(path)(e.error)
        }
    })?;
    sync_dir(&parent_of(path));
    Ok(())
}

/// Copies a bundle tree to `dest`, which must not exist: staged in a temporary directory
/// beside it, synced, then renamed into place.
pub fn install_tree(
    tree: &crate::manifest::tree::BundleTree,
    dest: &Path,
) -> Result<(), WriteError> {
    use crate::manifest::tree::Entry;
    if dest.exists() {
        return Err(WriteError::Exists(dest.to_path_buf()));
    }
    let parent = parent_of(dest);
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".capm-stage-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    set_mode(staging.path(), NEW_DIR_MODE).map_err(io(dest))?;
    for (rel, entry) in &tree.entries {
        let path = staging.path().join(rel);
        match entry {
            Entry::Dir => std::fs::create_dir_all(&path).map_err(io(&path))?,
            Entry::File(bytes) => {
                if let Some(p) = path.parent() {
                    std::fs::create_dir_all(p).map_err(io(p))?;
                }
                let mut f = std::fs::File::create(&path).map_err(io(&path))?;
                f.write_all(bytes).map_err(io(&path))?;
                f.sync_all().map_err(io(&path))?;
            }
            // Bundles with links never pass validation; never copy one.
            Entry::Symlink { .. } => {
                return Err(io(&path)(std::io::Error::other(
                    "refusing to copy a symbolic link",
                )));
            }
        }
    }
    let staged = staging.keep();
    std::fs::rename(&staged, dest).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        io(dest)(e)
    })?;
    sync_dir(&parent);
    Ok(())
}

/// A lock on a file, held until dropped: exclusive for commands that write, shared for
/// those that only read. Within one process a path is locked at most once at a time.
pub struct FileLock {
    file: std::fs::File,
    path: PathBuf,
}

static HELD: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        held.retain(|p| p != &self.path);
    }
}

impl FileLock {
    /// Takes the lock on `path`, creating the file (never truncating or removing it, so
    /// racing processes always lock the same file), waiting up to `timeout` for another
    /// holder; `waiting` is called once if the lock is busy.
    pub fn acquire(
        path: &Path,
        exclusive: bool,
        timeout: std::time::Duration,
        waiting: &dyn Fn(&Path),
    ) -> Result<FileLock, WriteError> {
        let dir = parent_of(path);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io(path))?;
        let start = std::time::Instant::now();
        let mut told = false;
        loop {
            let in_process = {
                let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
                if held.iter().any(|p| p == path) {
                    true
                } else {
                    held.push(path.to_path_buf());
                    false
                }
            };
            let attempt = if in_process {
                Err(std::fs::TryLockError::WouldBlock)
            } else if exclusive {
                file.try_lock()
            } else {
                file.try_lock_shared()
            };
            match attempt {
                Ok(()) => {
                    return Ok(FileLock {
                        file,
                        path: path.to_path_buf(),
                    });
                }
                Err(e) => {
                    if !in_process {
                        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
                        held.retain(|p| p != path);
                    }
                    match e {
                        std::fs::TryLockError::WouldBlock => {}
                        std::fs::TryLockError::Error(e) => return Err(io(path)(e)),
                    }
                }
            }
            if !told {
                waiting(path);
                told = true;
            }
            // `capm serve`: a cancelled request stops waiting (nothing was written).
            crate::operation::checkpoint().map_err(|c| io(path)(c.into()))?;
            if start.elapsed() >= timeout {
                return Err(WriteError::Locked {
                    path: path.to_path_buf(),
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
    }
}

/// An exclusive lock on a directory (`DIR/.capm-lock`), held until dropped.
pub struct DirLock {
    _lock: FileLock,
}

impl DirLock {
    /// Takes the lock, waiting up to `timeout` for another process to release it;
    /// `waiting` is called once if the lock is busy.
    pub fn acquire(
        dir: &Path,
        timeout: std::time::Duration,
        waiting: &dyn Fn(&Path),
    ) -> Result<DirLock, WriteError> {
        Ok(DirLock {
            _lock: FileLock::acquire(&dir.join(".capm-lock"), true, timeout, waiting)?,
        })
    }
}
