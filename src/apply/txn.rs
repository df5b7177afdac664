//! Transactions (docs/transactions.md): a list of changes applied all or nothing, crash-safe.
//!
//! The steps, in order: write the journal (`.capm/txn/ID.jsonl`, synced); create missing
//! directories and stage every new file and directory under a temporary name beside its
//! target, synced, and copy the pre-image of every file to be replaced or removed into
//! `.capm/backup/ID/`; swap each change in after checking that its target still holds the
//! digest the plan saw (compare-and-swap); sync the directories; replace `capm.lock` (the
//! commit point) and append `commit`; remove the backups and the journal.
//!
//! Recovery reads each journal left behind. Without a commit it undoes every change in
//! reverse, by digest: a target holding what capm wrote gets its pre-image back; one
//! holding something else was changed by someone else and stays, with capm's copy of the
//! pre-image kept under `.capm/conflicts/ID/`. With a commit it finishes the clean-up.
//! Both are idempotent, and a journal naming anything outside its roots is refused whole.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use fs_err as fs;
use sha2::{Digest, Sha256};

use super::failpoint::hit;
use super::journal::{self, JournalError, OpKind, Record, Root};
use crate::manifest::tree::hex;
use crate::operation::{Progress, Stage};

/// The directory of capm's own state in a scope.
pub const META_DIR: &str = ".capm";

/// The directories a transaction's paths are relative to.
#[derive(Clone, Debug)]
pub struct Roots {
    /// Where resources land: the project, or the client's global config directory.
    pub scope: PathBuf,
    /// Where capm.toml and capm.lock are, and the journal.
    pub project: PathBuf,
}

impl Roots {
    pub fn dir(&self, root: Root) -> &Path {
        match root {
            Root::Scope => &self.scope,
            Root::Project => &self.project,
        }
    }

    fn meta(&self, root: Root) -> PathBuf {
        self.dir(root).join(META_DIR)
    }

    fn txn_dir(&self) -> PathBuf {
        self.meta(Root::Project).join("txn")
    }

    fn backup(&self, root: Root, id: &str) -> PathBuf {
        self.meta(root).join("backup").join(id)
    }

    fn trash(&self, root: Root) -> PathBuf {
        self.meta(root).join("trash")
    }

    /// Whether the scope is a directory other than the project's (the same directory
    /// named two ways, `.` and its absolute path say, is one).
    pub fn separate(&self) -> bool {
        self.scope != self.project
            && match (self.scope.canonicalize(), self.project.canonicalize()) {
                (Ok(a), Ok(b)) => a != b,
                _ => true,
            }
    }

    /// The scope as a journal records it: its absolute path when it is not the project.
    fn recorded_scope(&self) -> Option<String> {
        self.separate().then(|| {
            let dir = self
                .scope
                .canonicalize()
                .unwrap_or_else(|_| self.scope.clone());
            dir.display().to_string()
        })
    }

    fn all(&self) -> Vec<Root> {
        if self.separate() {
            vec![Root::Scope, Root::Project]
        } else {
            vec![Root::Scope]
        }
    }
}

/// What a change writes.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    /// Nothing: removals, and bare directories (`CreateDir` without a post digest).
    None,
    File(Vec<u8>),
    /// A directory's files, paths relative to it.
    Dir(Vec<(String, Vec<u8>)>),
}

/// One change to one target.
#[derive(Clone, Debug)]
pub struct Change {
    pub kind: OpKind,
    pub root: Root,
    /// Relative to the root, `/`-separated.
    pub path: String,
    /// The digest the target must hold when it is swapped (`None`: it must not exist).
    pub pre: Option<String>,
    /// The digest it holds afterwards (`None`: it is gone, or a bare directory).
    pub post: Option<String>,
    pub content: Content,
    /// The commit point: capm.lock, swapped last.
    pub commit: bool,
}

/// Something another program changed under capm, kept as it is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    /// The target, relative to its root.
    pub path: String,
    /// Where capm kept the target's earlier content, if it had any, relative to the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved: Option<String>,
}

/// What recovery did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Recovery {
    /// Transactions undone (they had not committed).
    pub rolled_back: Vec<String>,
    /// Transactions whose clean-up was finished (they had committed).
    pub finished: Vec<String>,
    /// Targets changed by someone else, kept.
    pub conflicts: Vec<Conflict>,
    /// Journals refused, with why; nothing of theirs was touched.
    pub refused: Vec<(String, String)>,
    /// What capm no longer needed but could not delete; the next run tries again.
    pub leftovers: Vec<Leftover>,
}

/// A file or directory of capm's own that could not be deleted after its transaction
/// ended. It never stands in the way of the next command, which tries again.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Leftover {
    pub path: String,
    pub error: String,
}

impl Leftover {
    fn new(path: &Path, error: &dyn std::fmt::Display) -> Leftover {
        Leftover {
            path: path.display().to_string(),
            error: error.to_string(),
        }
    }
}

impl std::fmt::Display for Leftover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not delete `{}`: {}", self.path, self.error)
    }
}

impl Recovery {
    pub fn is_empty(&self) -> bool {
        self.rolled_back.is_empty()
            && self.finished.is_empty()
            && self.conflicts.is_empty()
            && self.refused.is_empty()
            && self.leftovers.is_empty()
    }

    fn absorb(&mut self, other: Recovery) {
        self.rolled_back.extend(other.rolled_back);
        self.finished.extend(other.finished);
        self.conflicts.extend(other.conflicts);
        self.refused.extend(other.refused);
        self.leftovers.extend(other.leftovers);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TxnError {
    #[error("`{path}` was changed by another program while capm was applying; nothing was changed")]
    Changed { path: String },
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A failure of capm's own bookkeeping; the error names the file.
    #[error(transparent)]
    Fs(std::io::Error),
    #[error(
        "{error}; rolling back failed too ({rollback}); the journal is kept, run `capm doctor`"
    )]
    RollbackFailed { error: String, rollback: String },
    #[error("an interrupted transaction cannot be recovered: {0}")]
    Refused(String),
    #[error("{error}; everything else was rolled back, but {} changed by another program meanwhile and kept: {}", if conflicts.len() == 1 { "one file was" } else { "files were" }, describe(conflicts))]
    RolledBackWithConflicts {
        error: String,
        conflicts: Vec<Conflict>,
    },
}

fn describe(conflicts: &[Conflict]) -> String {
    conflicts
        .iter()
        .map(|c| match &c.saved {
            Some(s) => format!("`{}` (its earlier content is saved at `{s}`)", c.path),
            None => format!("`{}`", c.path),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> TxnError + '_ {
    move |source| TxnError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// `sha256:HEX` of some bytes.
pub fn bytes_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// What is at `path` now, by the rule plans use: a file's bytes (through a link), a
/// directory's content digest, or `None`.
pub fn path_digest(path: &Path) -> std::io::Result<Option<String>> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        return Ok(Some(crate::manifest::tree::disk_digest(path)?));
    }
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes_digest(&bytes))),
        // A dangling link: something is there, but nothing capm wrote.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some("dangling-link".into())),
        Err(e) => Err(e),
    }
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Where recovery keeps capm's copy of a target's earlier content when another program
/// changed the target, relative to the target's root.
fn conflict_copy(id: &str, path: &str) -> String {
    format!("{META_DIR}/conflicts/{id}/{path}")
}

/// The temporary name a change's new content is staged under, beside its target.
fn staged(target: &Path, id: &str, seq: u32) -> PathBuf {
    parent(target).join(format!(".capm-stage-{id}-{seq}"))
}

fn is_bare_dir(kind: OpKind, post: &Option<String>) -> bool {
    kind == OpKind::CreateDir && post.is_none()
}

fn is_dir_kind(kind: OpKind) -> bool {
    matches!(
        kind,
        OpKind::CreateDir | OpKind::ReplaceDir | OpKind::RemoveDir
    )
}

fn new_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!("{nanos}-{}", std::process::id());
    hex(&Sha256::digest(seed.as_bytes()))[..16].to_string()
}

/// capm's own directories under `root` (and, with `id`, a transaction's backup and
/// conflict directories) must not be links: recovery renames and deletes below them, and a
/// link would carry that outside the root.
fn check_meta(root: &Path, id: Option<&str>) -> Result<(), String> {
    let mut dirs = vec![
        META_DIR.to_string(),
        format!("{META_DIR}/txn"),
        format!("{META_DIR}/backup"),
        format!("{META_DIR}/conflicts"),
        format!("{META_DIR}/proposals"),
        format!("{META_DIR}/trash"),
    ];
    if let Some(id) = id {
        dirs.push(format!("{META_DIR}/backup/{id}"));
        dirs.push(format!("{META_DIR}/conflicts/{id}"));
        dirs.push(format!("{META_DIR}/trash/{id}"));
    }
    for rel in dirs {
        if fs::symlink_metadata(root.join(&rel)).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(format!(
                "`{}` is a symbolic link; capm's state directory must be a real directory",
                root.join(rel).display()
            ));
        }
    }
    Ok(())
}

/// What `.capm/.gitignore` holds.
const META_IGNORE: &str = "# capm's state for this scope; never committed\n*\n";

/// Creates `.capm/` with a `.gitignore`, so that capm's state is never committed; the
/// ignore file is written again whenever it is missing or damaged.
pub fn ensure_meta(root: &Path) -> std::io::Result<PathBuf> {
    no_links(root, META_DIR).map_err(std::io::Error::other)?;
    let meta = root.join(META_DIR);
    fs::create_dir_all(&meta)?;
    let ignore = meta.join(".gitignore");
    if !meta_ignore_intact(&ignore) {
        // Never written through a link: whatever is there goes, and the file is created
        // anew. A process racing here writes the same bytes (and finds the file created);
        // one torn by a crash is written again by the next run, doctor included.
        match fs::remove_file(&ignore) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&ignore)
        {
            Ok(mut f) => {
                f.write_all(META_IGNORE.as_bytes())?;
                f.sync_all()?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(meta)
}

/// Whether `.capm/.gitignore` is a regular file holding what capm writes there.
fn meta_ignore_intact(ignore: &Path) -> bool {
    fs::symlink_metadata(ignore).is_ok_and(|m| m.is_file())
        && fs::read(ignore).ok().as_deref() == Some(META_IGNORE.as_bytes())
}

/// Whether capm's state in `root` needs repair that only a writer may make.
pub fn meta_damaged(root: &Path) -> bool {
    let meta = root.join(META_DIR);
    meta.is_dir() && !meta_ignore_intact(&meta.join(".gitignore"))
}

/// Refuses a link anywhere below `root` along `rel`: capm's own directories hold none, and
/// one there would carry a rename outside the root.
fn no_links(root: &Path, rel: &str) -> Result<(), String> {
    let mut at = root.to_path_buf();
    for part in rel.split('/') {
        at.push(part);
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "`{}` is a symbolic link where capm keeps its own state",
                    at.display()
                ));
            }
            Ok(_) => {}
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// Creates `path` with `bytes`, unsynced: the caller syncs it (see [`Syncs`]).
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<fs::File> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    super::set_mode(path, mode)?;
    f.write_all(bytes)?;
    Ok(f)
}

/// What staging wrote and must sync before anything is swapped: each file and directory,
/// with the target it was staged for (to name in an error).
#[derive(Default)]
struct Syncs {
    files: Vec<(PathBuf, PathBuf)>,
    dirs: Vec<(PathBuf, PathBuf)>,
}

impl Syncs {
    /// Syncs every file, then every directory, several at a time: each sync waits on the
    /// disk, and the file system commits concurrent ones together.
    fn run(self) -> Result<(), TxnError> {
        sync_parallel(&self.files)?;
        sync_parallel(&self.dirs)
    }
}

/// `fsync` of each path on a few threads; the first error, at its target.
fn sync_parallel(paths: &[(PathBuf, PathBuf)]) -> Result<(), TxnError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const THREADS: usize = 8;
    let next = AtomicUsize::new(0);
    let failed: std::sync::Mutex<Option<TxnError>> = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..THREADS.min(paths.len()) {
            s.spawn(|| {
                while let Some((path, target)) = paths.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(e) = fs::File::open(path).and_then(|f| f.sync_all()) {
                        failed
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(io_at(target)(e));
                        return;
                    }
                }
            });
        }
    });
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Stages a directory's files below `dir`, leaving their syncs to `syncs`.
fn stage_dir(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    target: &Path,
    syncs: &mut Syncs,
) -> std::io::Result<()> {
    fs::create_dir(dir)?;
    super::set_mode(dir, super::NEW_DIR_MODE)?;
    let mut dirs = BTreeSet::new();
    dirs.insert(dir.to_path_buf());
    for (rel, bytes) in files {
        let path = dir.join(rel);
        let p = parent(&path);
        if !p.is_dir() {
            fs::create_dir_all(&p)?;
        }
        let mut at = p.clone();
        while at.starts_with(dir) && dirs.insert(at.clone()) {
            at = parent(&at);
        }
        write_new(&path, bytes, super::NEW_FILE_MODE)?;
        syncs.files.push((path, target.to_path_buf()));
    }
    for d in dirs.into_iter().rev() {
        syncs.dirs.push((d, target.to_path_buf()));
    }
    Ok(())
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => remove_tree(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes a directory tree without following links; an error names the entry that could
/// not be deleted, not only the top of the tree.
fn remove_tree(dir: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if fs::symlink_metadata(&path)?.is_dir() {
            remove_tree(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
    }
    fs::remove_dir(dir)
}

/// Moves `path` (under `root`) into the scope's trash in one rename, so that no reader,
/// and no later recovery, ever sees half of it; the trash is emptied afterwards, and
/// whatever cannot be deleted there is retried by the next run.
fn discard(roots: &Roots, root: Root, path: &Path) -> Result<(), TxnError> {
    let trash = roots.trash(root);
    fs::create_dir_all(&trash).map_err(TxnError::Fs)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut n = 0u32;
    let to = loop {
        let to = trash.join(format!("{}-{name}.{n}", new_id()));
        if !exists(&to) {
            break to;
        }
        n += 1;
    };
    match fs::rename(path, &to) {
        // A directory mounted on its own: it cannot move to the trash, so it is deleted
        // where it is (a crash midway is then seen as another program's change).
        Err(e) if e.raw_os_error() == Some(EXDEV) => remove_any(path).map_err(TxnError::Fs)?,
        other => other.map_err(TxnError::Fs)?,
    }
    sync_dir(&parent(path)).map_err(TxnError::Fs)
}

/// "Invalid cross-device link", the same number on every Unix capm runs on.
const EXDEV: i32 = 18;

/// Empties the trash of every root, reporting what could not be deleted.
fn empty_trash(roots: &Roots) -> Vec<Leftover> {
    let mut left = Vec::new();
    for r in roots.all() {
        let trash = roots.trash(r);
        let Ok(entries) = fs::read_dir(&trash) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            if let Err(e) = remove_any(&entry.path()) {
                left.push(Leftover::new(&entry.path(), &e));
            }
        }
        let _ = fs::remove_dir(&trash);
    }
    left
}

/// Applies `changes` as one transaction, telling `progress` of the stages `stage`, `commit`
/// and `clean-up`. On any failure before the commit point everything is rolled back before
/// returning the error; after it, the clean-up is finished. A cancelled operation
/// ([`crate::operation`]) stops before each swap up to the commit point's, as a failure.
pub fn run(
    roots: &Roots,
    changes: &[Change],
    progress: &mut dyn FnMut(Progress),
) -> Result<Recovery, TxnError> {
    let id = new_id();
    let _span = tracing::info_span!("transaction", id = %id, changes = changes.len()).entered();
    for r in roots.all() {
        check_meta(roots.dir(r), None).map_err(TxnError::Refused)?;
    }
    for r in roots.all() {
        ensure_meta(roots.dir(r)).map_err(TxnError::Fs)?;
    }
    let txn_dir = roots.txn_dir();
    fs::create_dir_all(&txn_dir).map_err(TxnError::Fs)?;
    let journal_path = txn_dir.join(format!("{id}.jsonl"));
    let mut journal = fs::OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&journal_path)
        .map_err(TxnError::Fs)?;
    let mut swapped = BTreeSet::new();
    let result = (|| {
        let mut text = journal::encode(&Record::Begin {
            id: id.clone(),
            scope: roots.recorded_scope(),
        });
        for (seq, c) in changes.iter().enumerate() {
            text.push_str(&journal::encode(&Record::Op {
                seq: seq as u32,
                kind: c.kind,
                root: c.root,
                path: c.path.clone(),
                pre: c.pre.clone(),
                post: c.post.clone(),
            }));
        }
        journal
            .write_all(text.as_bytes())
            .and_then(|()| journal.sync_all())
            .and_then(|()| sync_dir(&txn_dir))
            .map_err(TxnError::Fs)?;
        hit("journal-written").map_err(io_at(&journal_path))?;
        tracing::info!("journal written: `{}`", journal_path.display());
        execute(roots, &id, changes, &mut journal, &mut swapped, progress)
    })();
    drop(journal);
    match result {
        Ok(()) => {
            // Committed: what remains is clean-up, which the next run finishes if it fails.
            tracing::info!("committed; removing the backups and the journal");
            progress(Progress::new(Stage::CleanUp, 0, Some(1)));
            let leftovers = close(roots, &id, &journal_path);
            progress(Progress::new(Stage::CleanUp, 1, Some(1)));
            Ok(Recovery {
                leftovers,
                ..Recovery::default()
            })
        }
        Err(error) => match rollback(roots, &journal_path, &swapped, &error) {
            Ok(rec) if !rec.finished.is_empty() => Ok(rec),
            Ok(rec) if !rec.conflicts.is_empty() => Err(TxnError::RolledBackWithConflicts {
                error: error.to_string(),
                conflicts: rec.conflicts,
            }),
            Ok(_) => Err(error),
            Err(rollback) => Err(TxnError::RollbackFailed {
                error: error.to_string(),
                rollback: rollback.to_string(),
            }),
        },
    }
}

/// Undoes a transaction that failed before its commit point.
fn rollback(
    roots: &Roots,
    journal_path: &Path,
    swapped: &BTreeSet<u32>,
    error: &TxnError,
) -> Result<Recovery, TxnError> {
    tracing::info!("failed before the commit point ({error}); rolling back");
    recover_journal(roots, journal_path, Some(swapped))
}

fn execute(
    roots: &Roots,
    id: &str,
    changes: &[Change],
    journal: &mut fs::File,
    swapped: &mut BTreeSet<u32>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), TxnError> {
    // Stage.
    let mut syncs = Syncs::default();
    let total = Some(changes.len());
    for (seq, c) in changes.iter().enumerate() {
        progress(Progress::new(Stage::Stage, seq, total).with_message(&c.path));
        let seq = seq as u32;
        let target = roots.dir(c.root).join(&c.path);
        cancel_point(&target)?;
        if is_bare_dir(c.kind, &c.post) {
            if !target.is_dir() {
                fs::create_dir(&target).map_err(io_at(&target))?;
                super::set_mode(&target, super::NEW_DIR_MODE).map_err(io_at(&target))?;
                sync_dir(&parent(&target)).map_err(io_at(&target))?;
            }
            hit("dir-created").map_err(io_at(&target))?;
            continue;
        }
        let tmp = staged(&target, id, seq);
        match &c.content {
            Content::File(bytes) => {
                let mode = super::mode_of(&target).unwrap_or(super::NEW_FILE_MODE);
                write_new(&tmp, bytes, mode).map_err(io_at(&target))?;
                syncs.files.push((tmp.clone(), target.clone()));
                hit("staged").map_err(io_at(&target))?;
            }
            Content::Dir(files) => {
                stage_dir(&tmp, files, &target, &mut syncs).map_err(io_at(&target))?;
                hit("staged").map_err(io_at(&target))?;
            }
            Content::None => {}
        }
        let file_pre_image = c.pre.is_some() && !is_dir_kind(c.kind);
        if file_pre_image {
            let backup_dir = roots.backup(c.root, id);
            fs::create_dir_all(&backup_dir).map_err(io_at(&backup_dir))?;
            let backup = backup_dir.join(seq.to_string());
            fs::copy(&target, &backup)
                .and_then(|_| fs::File::open(&backup)?.sync_all())
                .map_err(io_at(&target))?;
            hit("backed-up").map_err(io_at(&target))?;
        }
    }
    progress(Progress::new(Stage::Stage, changes.len(), total));
    syncs.run()?;
    tracing::info!("staged beside their targets: {} changes", changes.len());
    for r in roots.all() {
        let b = roots.backup(r, id);
        if b.is_dir() {
            sync_dir(&b).map_err(io_at(&b))?;
            sync_dir(&parent(&b)).map_err(io_at(&b))?;
        }
    }
    // Swap, the commit point last.
    let mut touched: BTreeSet<PathBuf> = BTreeSet::new();
    let order = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.commit)
        .chain(changes.iter().enumerate().filter(|(_, c)| c.commit))
        .filter(|(_, c)| !is_bare_dir(c.kind, &c.post));
    let swaps = Some(order.clone().count());
    progress(Progress::new(Stage::Commit, 0, swaps));
    for (done, (seq, c)) in order.enumerate() {
        let seq = seq as u32;
        let target = roots.dir(c.root).join(&c.path);
        if c.commit {
            // Everything else is durable before the commit point moves, the journal's
            // progress records included: recovery trusts a replaced capm.lock only when
            // every other change is recorded as done.
            sync_touched(&touched)?;
            journal.sync_all().map_err(TxnError::Fs)?;
            hit("synced").map_err(io_at(&target))?;
        }
        cancel_point(&target)?;
        hit("swap").map_err(io_at(&target))?;
        let now = path_digest(&target).map_err(io_at(&target))?;
        if now != c.pre {
            return Err(TxnError::Changed {
                path: c.path.clone(),
            });
        }
        let tmp = staged(&target, id, seq);
        let backup = roots.backup(c.root, id).join(seq.to_string());
        match c.kind {
            OpKind::WriteFile => match fs::hard_link(&tmp, &target) {
                Ok(()) => fs::remove_file(&tmp).map_err(io_at(&target))?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(TxnError::Changed {
                        path: c.path.clone(),
                    });
                }
                Err(_) => fs::rename(&tmp, &target).map_err(io_at(&target))?,
            },
            OpKind::ReplaceFile | OpKind::JsonSet | OpKind::JsonRemove | OpKind::CreateDir => {
                fs::rename(&tmp, &target).map_err(io_at(&target))?
            }
            OpKind::RemoveFile => fs::remove_file(&target).map_err(io_at(&target))?,
            OpKind::ReplaceDir | OpKind::RemoveDir => {
                fs::create_dir_all(parent(&backup)).map_err(io_at(&backup))?;
                fs::rename(&target, &backup).map_err(io_at(&target))?;
                if c.kind == OpKind::ReplaceDir {
                    hit("moved-aside").map_err(io_at(&target))?;
                    fs::rename(&tmp, &target).map_err(io_at(&target))?;
                }
            }
        }
        touched.insert(parent(&target));
        swapped.insert(seq);
        if c.commit {
            sync_dir(&parent(&target)).map_err(io_at(&target))?;
            hit("lock-replaced").map_err(io_at(&target))?;
        } else {
            hit("swapped").map_err(io_at(&target))?;
        }
        tracing::debug!("swapped `{}`", c.path);
        progress(Progress::new(Stage::Commit, done + 1, swaps).with_message(&c.path));
        // Recovery goes by digests, so progress records need not be synced one by one.
        journal
            .write_all(journal::encode(&Record::Done { seq }).as_bytes())
            .map_err(io_at(&target))?;
    }
    if !changes.iter().any(|c| c.commit) {
        sync_touched(&touched)?;
        hit("synced").map_err(io_at(&roots.project))?;
    }
    journal
        .write_all(journal::encode(&Record::Commit).as_bytes())
        .and_then(|()| journal.sync_all())
        .map_err(io_at(&roots.txn_dir()))?;
    hit("committed").map_err(io_at(&roots.txn_dir()))?;
    Ok(())
}

/// A safe point before the commit point: a cancelled operation stops here, and what was
/// written so far is rolled back as after a failure.
fn cancel_point(target: &Path) -> Result<(), TxnError> {
    crate::operation::checkpoint().map_err(|c| io_at(target)(c.into()))
}

/// Syncs the directories whose entries changed; one that was itself moved away since is
/// covered by its parent's sync.
fn sync_touched(touched: &BTreeSet<PathBuf>) -> Result<(), TxnError> {
    for d in touched {
        match sync_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_at(d)(e)),
        }
    }
    Ok(())
}

/// Ends a transaction that needs its backups no more (committed, or fully undone): the
/// backups go to the trash, then the journal goes, then the trash is emptied. A failure
/// here loses nothing and blocks nothing: it is reported, and the next run tries again.
fn close(roots: &Roots, id: &str, journal_path: &Path) -> Vec<Leftover> {
    let left = |path: &Path, e: &dyn std::fmt::Display| vec![Leftover::new(path, e)];
    for r in roots.all() {
        let b = roots.backup(r, id);
        if exists(&b)
            && let Err(e) = discard(roots, r, &b)
        {
            return left(&b, &e);
        }
        // The `backup` directory itself goes when no other transaction uses it.
        let _ = fs::remove_dir(parent(&b));
    }
    if let Err(e) = hit("backups-removed") {
        return left(journal_path, &e);
    }
    let removed = match fs::remove_file(journal_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => sync_dir(&parent(journal_path)),
    };
    if let Err(e) = removed {
        return left(journal_path, &e);
    }
    empty_trash(roots)
}

/// Finishes or undoes every transaction left in the project's `.capm/txn/`, then empties
/// the trash.
pub fn recover(roots: &Roots) -> Result<Recovery, TxnError> {
    let _span = tracing::info_span!("recover").entered();
    let mut all = Recovery::default();
    let mut journals = pending(roots);
    journals.sort();
    for path in journals {
        tracing::info!(
            "recovering the interrupted transaction `{}`",
            path.display()
        );
        match recover_journal(roots, &path, None) {
            Ok(rec) => all.absorb(rec),
            Err(TxnError::Refused(why)) => all.refused.push((path.display().to_string(), why)),
            Err(e) => return Err(e),
        }
    }
    // Everything in the trash is capm's own and needed by no journal.
    if roots
        .all()
        .iter()
        .all(|r| check_meta(roots.dir(*r), None).is_ok())
    {
        for left in empty_trash(roots) {
            if !all.leftovers.contains(&left) {
                all.leftovers.push(left);
            }
        }
    }
    Ok(all)
}

/// Journals still waiting for recovery, without touching them.
pub fn pending(roots: &Roots) -> Vec<PathBuf> {
    fs::read_dir(roots.txn_dir())
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect()
}

/// Whether a run must recover before it reads: a journal is waiting, or the trash of an
/// earlier run still holds something.
pub fn needs_recovery(roots: &Roots) -> bool {
    !pending(roots).is_empty() || trash_left(roots)
}

/// Whether the trash of an earlier run is still there: emptying it ends by removing the
/// directory, so even an empty one means a run was stopped while emptying it.
pub fn trash_left(roots: &Roots) -> bool {
    roots
        .all()
        .into_iter()
        .any(|r| fs::symlink_metadata(roots.trash(r)).is_ok())
}

struct Op {
    seq: u32,
    kind: OpKind,
    root: Root,
    path: String,
    pre: Option<String>,
    post: Option<String>,
}

/// Checks that `rel` under `root` stays inside it on disk: no link along the way leads
/// elsewhere, and the target itself is not a link (capm never journals one).
pub fn inside(root: &Path, rel: &str) -> Result<(), String> {
    if !exists(root) {
        // Nothing below a root that does not exist yet can be a link.
        return Ok(());
    }
    let canonical_root = root
        .canonicalize()
        .map_err(|e| format!("cannot resolve `{}`: {e}", root.display()))?;
    let mut at = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let Ok(meta) = fs::symlink_metadata(&at) else {
            return Ok(());
        };
        if meta.file_type().is_symlink() {
            if i + 1 == parts.len() {
                return Err(format!("`{rel}` is a symbolic link"));
            }
            let real = at
                .canonicalize()
                .map_err(|_| format!("`{rel}` passes through a broken link"))?;
            if !real.starts_with(&canonical_root) {
                return Err(format!("`{rel}` leads outside `{}`", root.display()));
            }
        }
    }
    Ok(())
}

/// A journal read and checked, with what recovery decides from it.
struct Journal {
    id: String,
    ops: Vec<Op>,
    done: BTreeSet<u32>,
    /// Past the commit point: only clean-up remains.
    committed: bool,
}

/// Reads a journal and checks it against the disk without changing anything: `None` when
/// it recorded nothing; refused when damaged, misnamed, or naming anything outside its
/// roots.
fn read_journal(roots: &Roots, journal_path: &Path) -> Result<Option<Journal>, TxnError> {
    let bytes = fs::read(journal_path).map_err(TxnError::Fs)?;
    let records =
        journal::parse(&bytes).map_err(|e: JournalError| TxnError::Refused(e.to_string()))?;
    let Some(Record::Begin { id, scope }) = records.first() else {
        return Ok(None);
    };
    let stem = journal_path.file_stem().and_then(|s| s.to_str());
    if stem != Some(id.as_str()) {
        return Err(TxnError::Refused(format!(
            "the journal `{}` names transaction `{id}`",
            journal_path.display()
        )));
    }
    let ops: Vec<Op> = records
        .iter()
        .filter_map(|r| match r {
            Record::Op {
                seq,
                kind,
                root,
                path,
                pre,
                post,
            } => Some(Op {
                seq: *seq,
                kind: *kind,
                root: *root,
                path: path.clone(),
                pre: pre.clone(),
                post: post.clone(),
            }),
            _ => None,
        })
        .collect();
    if *scope != roots.recorded_scope() {
        return Err(TxnError::Refused(format!(
            "it changed the OpenCode config directory `{}`, but this run's is `{}`; run capm with the environment it had then (XDG_CONFIG_HOME)",
            scope.as_deref().unwrap_or("(the project)"),
            roots.recorded_scope().as_deref().unwrap_or("(the project)"),
        )));
    }
    for r in roots.all() {
        check_meta(roots.dir(r), Some(id)).map_err(TxnError::Refused)?;
    }
    for op in &ops {
        let root = roots.dir(op.root);
        inside(root, &op.path).map_err(TxnError::Refused)?;
        no_links(root, &conflict_copy(id, &op.path))
            .and_then(|()| no_links(root, &format!("{META_DIR}/backup/{id}/{}", op.seq)))
            .map_err(TxnError::Refused)?;
    }
    let done: BTreeSet<u32> = records
        .iter()
        .filter_map(|r| match r {
            Record::Done { seq } => Some(*seq),
            _ => None,
        })
        .collect();
    // Killed between replacing capm.lock and recording the commit. capm.lock alone is not
    // proof (the same bytes can arrive from elsewhere, a `git pull` say): every other
    // change must be recorded as done too, which was synced before the lock moved.
    let lock_committed = ops.split_last().is_some_and(|(lock, rest)| {
        lock.root == Root::Project
            && lock.path == crate::ops::project::LOCK_FILE
            && lock.post.is_some()
            && lock.post != lock.pre
            && rest
                .iter()
                .all(|op| is_bare_dir(op.kind, &op.post) || done.contains(&op.seq))
            && path_digest(&roots.project.join(&lock.path)).ok().flatten() == lock.post
    });
    let committed = lock_committed || records.contains(&Record::Commit);
    Ok(Some(Journal {
        id: id.clone(),
        ops,
        done,
        committed,
    }))
}

/// What recovery would do with one waiting journal.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum PendingAction {
    /// Undo an uncommitted transaction: its targets get their earlier content back.
    RollBack { id: String, targets: Vec<String> },
    /// Finish a committed one: every target already holds its new content; only capm's
    /// own clean-up remains.
    Finish { id: String },
    /// Delete a journal that recorded nothing.
    Discard,
    /// Refuse it, touching nothing.
    Refuse { reason: String },
}

/// A journal waiting for recovery, and what recovery would do with it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Pending {
    pub journal: String,
    #[serde(flatten)]
    pub action: PendingAction,
}

impl Pending {
    /// Whether the scope, as it is now, differs from what it is after recovery.
    pub fn changes_scope(&self) -> bool {
        matches!(
            self.action,
            PendingAction::RollBack { .. } | PendingAction::Refuse { .. }
        )
    }
}

impl std::fmt::Display for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.action {
            PendingAction::RollBack { id, targets } => write!(
                f,
                "roll back transaction {id}, giving {} their earlier content",
                targets
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            PendingAction::Finish { id } => write!(
                f,
                "finish committed transaction {id} (its changes are in place; only clean-up remains)"
            ),
            PendingAction::Discard => {
                write!(f, "delete `{}`, which recorded nothing", self.journal)
            }
            PendingAction::Refuse { reason } => {
                write!(f, "refuse `{}` and touch nothing: {reason}", self.journal)
            }
        }
    }
}

/// What [`recover`] would do with each waiting journal, found by reading only: nothing is
/// written, locked or created. Read-only commands report it instead of recovering.
pub fn preview(roots: &Roots) -> Vec<Pending> {
    let mut journals = pending(roots);
    journals.sort();
    journals
        .into_iter()
        .map(|path| {
            let action = match read_journal(roots, &path) {
                Ok(None) => PendingAction::Discard,
                Ok(Some(j)) if j.committed => PendingAction::Finish { id: j.id },
                Ok(Some(j)) => PendingAction::RollBack {
                    targets: j
                        .ops
                        .iter()
                        .rev()
                        .filter(|op| !is_bare_dir(op.kind, &op.post))
                        .map(|op| op.path.clone())
                        .collect(),
                    id: j.id,
                },
                Err(e) => PendingAction::Refuse {
                    reason: match e {
                        TxnError::Refused(why) => why,
                        other => other.to_string(),
                    },
                },
            };
            Pending {
                journal: path.display().to_string(),
                action,
            }
        })
        .collect()
}

/// Recovers one journal. `swapped`, when the caller knows it (a rollback in the process
/// that failed), says which changes were swapped in; otherwise `done` records and digests
/// decide, erring on the side of keeping copies.
fn recover_journal(
    roots: &Roots,
    journal_path: &Path,
    swapped: Option<&BTreeSet<u32>>,
) -> Result<Recovery, TxnError> {
    let mut rec = Recovery::default();
    let Some(Journal {
        id,
        ops,
        done,
        committed,
    }) = read_journal(roots, journal_path)?
    else {
        // Nothing was recorded, so nothing was done.
        remove_any(journal_path).map_err(TxnError::Fs)?;
        return Ok(rec);
    };
    let id = &id;
    if committed {
        // Past the commit point only clean-up remains, and none of it may block.
        for op in &ops {
            let tmp = staged(&roots.dir(op.root).join(&op.path), id, op.seq);
            if let Err(e) = remove_any(&tmp) {
                rec.leftovers.push(Leftover::new(&tmp, &e));
            }
        }
        rec.leftovers.extend(close(roots, id, journal_path));
        rec.finished.push(id.clone());
        return Ok(rec);
    }
    for op in ops.iter().rev() {
        hit("recover-op").map_err(TxnError::Fs)?;
        let swapped_in = maybe_swapped(roots, id, op, swapped, &done);
        undo(roots, id, op, swapped_in, &mut rec)?;
    }
    hit("recover-undone").map_err(TxnError::Fs)?;
    // Every target is back; the backups are needed no more.
    rec.leftovers.extend(close(roots, id, journal_path));
    rec.rolled_back.push(id.clone());
    Ok(rec)
}

/// Whether capm may have put its content at `op`'s target: then a target holding
/// something else was changed after capm wrote it, and the earlier content must be kept.
/// `swapped` is what the failing process itself knows; `done` what the journal recorded.
fn maybe_swapped(
    roots: &Roots,
    id: &str,
    op: &Op,
    swapped: Option<&BTreeSet<u32>>,
    done: &BTreeSet<u32>,
) -> bool {
    let root = roots.dir(op.root);
    if exists(&staged(&root.join(&op.path), id, op.seq)) {
        // Its new content still waits under the staged name: never swapped in.
        return false;
    }
    if is_dir_kind(op.kind) && op.pre.is_some() {
        // A directory is moved into its backup by the swap itself (and from there to the
        // conflicts by an earlier, interrupted recovery), so that says exactly.
        let backup = roots.backup(op.root, id).join(op.seq.to_string());
        return exists(&backup) || exists(&root.join(conflict_copy(id, &op.path)));
    }
    swapped.is_none_or(|s| s.contains(&op.seq)) || done.contains(&op.seq)
}

/// Undoes one change of an uncommitted transaction, by what its target holds now.
fn undo(
    roots: &Roots,
    id: &str,
    op: &Op,
    maybe_swapped: bool,
    rec: &mut Recovery,
) -> Result<(), TxnError> {
    let root = roots.dir(op.root);
    let target = root.join(&op.path);
    let err = io_at(&target);
    let tmp = staged(&target, id, op.seq);
    remove_any(&tmp).map_err(io_at(&tmp))?;
    if is_bare_dir(op.kind, &op.post) {
        // Created for the transaction: goes if nothing else moved in.
        if let Ok(mut entries) = fs::read_dir(&target)
            && entries.next().is_none()
        {
            fs::remove_dir(&target).map_err(err)?;
            sync_dir(&parent(&target)).map_err(io_at(&target))?;
        }
        return Ok(());
    }
    let backup = roots.backup(op.root, id).join(op.seq.to_string());
    let now = path_digest(&target).map_err(io_at(&target))?;
    // Every step is one rename or one unlink, so a recovery killed anywhere leaves each
    // target holding capm's content, nothing, or its pre-image, and the next recovery
    // goes on from there. A directory is never deleted in place: it goes to the trash.
    let restore = |rec: &mut Recovery| -> Result<(), TxnError> {
        let target_is_dir = fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir());
        if op.pre.is_some() && !exists(&backup) {
            rec.conflicts.push(Conflict {
                path: op.path.clone(),
                saved: None,
            });
            return Ok(());
        }
        if target_is_dir {
            discard(roots, op.root, &target)?;
        } else if op.pre.is_none() && exists(&target) {
            fs::remove_file(&target).map_err(io_at(&target))?;
        }
        if op.pre.is_some() {
            // A file is renamed over the one capm wrote, in one step.
            fs::rename(&backup, &target).map_err(io_at(&target))?;
        }
        sync_dir(&parent(&target)).map_err(io_at(&target))
    };
    if now == op.pre {
        return Ok(());
    }
    if now == op.post {
        return restore(rec);
    }
    if now.is_none() && exists(&backup) {
        // A directory moved aside before its replacement went in.
        return restore(rec);
    }
    if !maybe_swapped {
        // Changed by someone else before capm got to it: theirs stays, nothing of capm's
        // is there, and the copy of the earlier content is not needed.
        return Ok(());
    }
    // Someone else wrote here after capm: theirs stays; the earlier content capm saved is
    // kept where the user can find it.
    let rel = conflict_copy(id, &op.path);
    let to = root.join(&rel);
    let saved = if exists(&backup) {
        fs::create_dir_all(parent(&to)).map_err(io_at(&to))?;
        fs::rename(&backup, &to).map_err(io_at(&to))?;
        Some(rel)
    } else if exists(&to) {
        // Kept there by an earlier, interrupted recovery.
        Some(rel)
    } else {
        None
    };
    rec.conflicts.push(Conflict {
        path: op.path.clone(),
        saved,
    });
    Ok(())
}
