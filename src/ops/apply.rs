//! `capm install`, `add`, `update`, `remove` and `apply --plan`: compute the plan, have it
//! confirmed, then, under the scope's lock and after recovering anything interrupted,
//! compute it again, refuse it if anything it read changed (`plan-stale`), turn it into
//! file changes and apply them as one transaction (docs/transactions.md).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::plan::{PlanError, PlanRequest, Prepared, prepare, prepare_read_only, scope_of};
use super::project::{self, LOCK_FILE, PROJECT_MANIFEST, Project, ProjectError};
use crate::apply::journal::{OpKind, Root};
use crate::apply::jsonc_edit::{self, EditError};
use crate::apply::txn::{self, Change, Content, Recovery, Roots, TxnError};
use crate::apply::{FileLock, WriteError};
use crate::manifest::lock::{LockedResource, Lockfile};
use crate::operation::{Progress, Stage, checkpoint};
use crate::plan::model::{Plan, PlanStatus};
use crate::plan::ownership::ActionKind;
use crate::target::{Rendered, ScopeRoot};

/// What to apply, and how.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub request: PlanRequest,
    /// Show the plan only.
    pub dry_run: bool,
    /// Refuse if capm.lock's bundles would change.
    pub locked: bool,
    /// Apply only if the plan computed now has this fingerprint (`apply --plan`).
    pub expect: Option<String>,
    /// `--yes`: no person approves a particular plan, so one recomputed under the lock is
    /// applied even if it differs from the one shown first.
    pub assume_yes: bool,
    /// How long to wait for another capm's lock.
    pub timeout: Duration,
}

/// How the user settles the conflicts of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settle {
    /// Leave them: a blocked plan stays blocked; user-modified files get proposals.
    AsIs,
    /// Keep the user's version of these resources and leave the bundles' out.
    Skip(std::collections::BTreeSet<String>),
    /// Stop; nothing is written.
    Abort,
}

/// An action the user can settle by keeping their own version.
pub fn is_conflict(a: &crate::plan::model::Action) -> bool {
    crate::plan::ownership::settleable(a.reason.as_deref())
}

/// What the caller is asked or told along the way.
pub trait Hooks {
    /// The plan has conflicts (see [`is_conflict`]): how are they settled?
    fn settle(&mut self, plan: &Plan) -> Settle;
    /// The plan is ready to apply: go ahead?
    fn confirm(&mut self, plan: &Plan) -> bool;
    /// Another capm holds the lock; capm waits.
    fn waiting(&self, lock: &Path);
    /// Interrupted transactions were finished or undone.
    fn recovered(&mut self, recovery: &Recovery);
    /// The project changed while capm waited for the lock; this plan is applied instead.
    fn replanned(&mut self, plan: &Plan);
    /// Values for required, non-secret settings the plan's servers read that have none yet
    /// (recorded in capm.toml's `[inputs]`); empty to give none.
    fn inputs(&mut self, _plan: &Plan) -> std::collections::BTreeMap<String, String> {
        std::collections::BTreeMap::new()
    }
    /// Progress under the lock: the lock taken, the plan computed again, and the
    /// transaction's stages (`stage`, `commit`, `clean-up`).
    fn progress(&mut self, _progress: &Progress) {}
}

/// How an apply ended, short of an error.
#[derive(Debug)]
pub enum Outcome {
    /// Something blocks the plan; nothing was written.
    Blocked(Plan),
    /// Everything already matches; nothing was written.
    Noop(Plan),
    /// `--dry-run`: nothing was written.
    DryRun(Plan),
    /// The confirmation was declined; nothing was written.
    Declined(Plan),
    Applied {
        plan: Plan,
        /// Proposals written beside files the user modified (relative to the scope).
        proposals: Vec<String>,
        /// Clean-up that failed after the commit (tried again by the next capm).
        leftovers: Vec<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Stale(String),
    #[error("capm.lock needs to be updated, but --locked was given")]
    LockStale { changes: Vec<String> },
    /// Another capm holds the lock past the timeout (and only that: a lock file that
    /// cannot be created is an I/O failure).
    #[error(transparent)]
    Locked(WriteError),
    #[error(transparent)]
    Write(WriteError),
    #[error("`{0}` is read-only; capm does not replace it")]
    ReadOnly(String),
    #[error("{0}")]
    Unsafe(String),
    #[error(transparent)]
    Txn(#[from] TxnError),
    #[error("an interrupted transaction cannot be recovered: {journal}: {why}")]
    Unrecoverable { journal: String, why: String },
    #[error("cannot edit `{file}`: {error}")]
    Edit { file: String, error: EditError },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The directories a project's transactions touch.
pub fn roots(project: &Project, scope: &ScopeRoot) -> Roots {
    Roots {
        scope: scope.dir().to_path_buf(),
        project: project.root.clone(),
    }
}

fn lock_error(e: WriteError) -> ApplyError {
    match e {
        WriteError::Locked { .. } => ApplyError::Locked(e),
        other => ApplyError::Write(other),
    }
}

/// Exclusive locks on the scope (and the project, when the scope is elsewhere), taken in
/// one order.
pub fn lock_exclusive(
    roots: &Roots,
    timeout: Duration,
    waiting: &dyn Fn(&Path),
) -> Result<Vec<FileLock>, ApplyError> {
    let mut dirs = vec![roots.project.clone()];
    if roots.separate() {
        dirs.push(roots.scope.clone());
    }
    let mut locks = Vec::new();
    for d in dirs {
        let meta = txn::ensure_meta(&d)?;
        locks.push(
            FileLock::acquire(&meta.join("lock"), true, timeout, waiting).map_err(lock_error)?,
        );
    }
    Ok(locks)
}

/// A shared lock on the project while it is only read, if capm ever locked it (a project
/// capm never wrote to has no lock file, and reading creates none).
pub fn lock_shared(
    root: &Path,
    timeout: Duration,
    waiting: &dyn Fn(&Path),
) -> Result<Option<FileLock>, ApplyError> {
    let path = root.join(txn::META_DIR).join("lock");
    if !path.is_file() {
        return Ok(None);
    }
    Ok(Some(
        FileLock::acquire(&path, false, timeout, waiting).map_err(lock_error)?,
    ))
}

/// Takes locks with `take`, which calls `waiting` when one is busy: then `lock` progress
/// is reported, 0 of 1 as the wait starts and 1 of 1 once the locks are held.
fn told_waiting<T>(
    waiting: &dyn Fn(&Path),
    take: impl FnOnce(&dyn Fn(&Path)) -> Result<T, ApplyError>,
) -> Result<T, ApplyError> {
    let busy = std::cell::Cell::new(false);
    let tell = |p: &Path| {
        if !busy.replace(true) {
            crate::operation::report(Progress::new(Stage::Lock, 0, Some(1)));
        }
        waiting(p);
    };
    let locks = take(&tell)?;
    if busy.get() {
        crate::operation::report(Progress::new(Stage::Lock, 1, Some(1)));
    }
    Ok(locks)
}

/// Recovers interrupted transactions under the held lock; a journal that cannot be
/// recovered stops everything.
pub fn recover(roots: &Roots, hooks: &mut dyn Hooks) -> Result<Recovery, ApplyError> {
    let rec = txn::recover(roots)?;
    if !rec.is_empty() {
        hooks.recovered(&rec);
    }
    if let Some((journal, why)) = rec.refused.first() {
        return Err(ApplyError::Unrecoverable {
            journal: journal.clone(),
            why: why.clone(),
        });
    }
    Ok(rec)
}

/// Plans and applies one operation on the project at `root`.
pub fn apply(
    root: &Path,
    opts: &ApplyOptions,
    hooks: &mut dyn Hooks,
) -> Result<Outcome, ApplyError> {
    let project = project::load(root)?;
    let scope = scope_of(&project, &opts.request.global_config);
    let roots = roots(&project, &scope);
    // A dry run is read-only: it recovers nothing (see below).
    if !opts.dry_run && txn::needs_recovery(&roots) {
        tracing::info!("an interrupted transaction is waiting for recovery");
        let waiting = |p: &Path| hooks.waiting(p);
        let _locks = told_waiting(&waiting, |w| lock_exclusive(&roots, opts.timeout, w))?;
        recover(&roots, hooks)?;
    }
    let mut request = opts.request.clone();
    let mut settled = false;
    let mut asked_inputs = false;
    let (project, first) = loop {
        let (project, first) = {
            let waiting = |p: &Path| hooks.waiting(p);
            let _shared = told_waiting(&waiting, |w| lock_shared(root, opts.timeout, w))?;
            let project = project::load(root)?;
            // A dry run recovers nothing, so its plan says what waits for recovery. A real
            // run recovered above; a journal seen now is another capm's, and the plan is
            // computed again under the exclusive lock, after recovery.
            let first = if opts.dry_run {
                prepare_read_only(&project, &request)?
            } else {
                prepare(&project, &request)?
            };
            (project, first)
        };
        // Settings the servers need that nobody gave a value for yet.
        // A saved plan is applied as it was computed: nothing is asked that would change it.
        let saved = opts.expect.is_some();
        if !asked_inputs && !saved && !opts.dry_run && first.plan.status != PlanStatus::Noop {
            asked_inputs = true;
            let values = hooks.inputs(&first.plan);
            if !values.is_empty() {
                request.inputs.extend(values);
                continue;
            }
        }
        // Conflicts the user can settle by keeping their own version.
        let open: Vec<&crate::plan::model::Action> = first
            .plan
            .actions
            .iter()
            .filter(|a| is_conflict(a) && !request.skip.contains(&a.resource))
            .collect();
        if open.is_empty() || opts.dry_run || saved {
            break (project, first);
        }
        if settled {
            break (project, first);
        }
        settled = true;
        match hooks.settle(&first.plan) {
            Settle::AsIs => break (project, first),
            Settle::Abort => return Ok(Outcome::Declined(first.plan)),
            Settle::Skip(keep) if keep.is_empty() => break (project, first),
            Settle::Skip(keep) => request.skip.extend(keep),
        }
    };
    let first = match settle(&project, first, opts)? {
        Ok(ready) => ready,
        Err(outcome) => return Ok(outcome),
    };
    // Refusals that need no lock come before anything is written, `.capm/` included.
    preflight(&roots, &changes(&project, &first)?.changes)?;
    if !hooks.confirm(&first.plan) {
        return Ok(Outcome::Declined(first.plan));
    }
    checkpoint().map_err(std::io::Error::from)?;
    hooks.progress(&Progress::new(Stage::Lock, 0, Some(1)));
    let _locks = lock_exclusive(&roots, opts.timeout, &|p| hooks.waiting(p))?;
    hooks.progress(&Progress::new(Stage::Lock, 1, Some(1)));
    tracing::info!("holding the scope's lock; planning again under it");
    recover(&roots, hooks)?;
    // Everything again, under the lock.
    hooks.progress(&Progress::new(Stage::Plan, 0, Some(1)));
    let project = project::load(root)?;
    let mut now = prepare(&project, &request)?;
    hooks.progress(&Progress::new(Stage::Plan, 1, Some(1)));
    checkpoint().map_err(std::io::Error::from)?;
    if now.plan.fingerprint != first.plan.fingerprint {
        // A plan a person confirmed, or one saved for `apply --plan`, is applied exactly or
        // not at all. With --yes nobody approved a particular plan: the one computed now,
        // under the lock (after another capm finished, say), is the one to apply.
        if !opts.assume_yes || opts.expect.is_some() {
            return Err(ApplyError::Stale(
                "the plan is stale: the project or its files changed while it was shown; nothing was written".into(),
            ));
        }
        now = match settle(&project, now, opts)? {
            Ok(ready) => ready,
            Err(outcome) => return Ok(outcome),
        };
        hooks.replanned(&now.plan);
    }
    if now.scope != scope {
        // The lock held is the old scope's.
        return Err(ApplyError::Stale(
            "capm.toml's scope changed while capm waited; nothing was written".into(),
        ));
    }
    let built = changes(&project, &now)?;
    preflight(&roots, &built.changes)?;
    let rec = txn::run(&roots, &built.changes, &mut |p| hooks.progress(&p))?;
    Ok(Outcome::Applied {
        plan: now.plan,
        proposals: built.proposals,
        leftovers: rec.leftovers.iter().map(ToString::to_string).collect(),
    })
}

/// The checks that end an apply before anything is written: `--locked`, a saved plan's
/// fingerprint, a blocked or empty plan, `--dry-run`. `Ok(Ok(_))` means go on.
fn settle(
    project: &Project,
    prep: Prepared,
    opts: &ApplyOptions,
) -> Result<Result<Prepared, Outcome>, ApplyError> {
    if opts.locked {
        let changes = match &project.lock {
            Some(lock) => crate::graph::lock_changes(lock, &prep.resolution),
            None => vec!["create capm.lock".to_string()],
        };
        if !changes.is_empty() {
            return Err(ApplyError::LockStale { changes });
        }
    }
    if let Some(expected) = &opts.expect
        && *expected != prep.plan.fingerprint
    {
        return Err(ApplyError::Stale(
            "the plan is stale: the project or its files changed since it was computed".into(),
        ));
    }
    Ok(match prep.plan.status {
        PlanStatus::Blocked => Err(Outcome::Blocked(prep.plan)),
        PlanStatus::Noop => Err(Outcome::Noop(prep.plan)),
        PlanStatus::Ready if opts.dry_run => Err(Outcome::DryRun(prep.plan)),
        PlanStatus::Ready => Ok(prep),
    })
}

/// File changes, and where proposals beside user-modified files go.
pub struct Built {
    pub changes: Vec<Change>,
    pub proposals: Vec<String>,
}

fn edit_error(file: &str) -> impl FnOnce(EditError) -> ApplyError + '_ {
    move |error| ApplyError::Edit {
        file: file.to_string(),
        error,
    }
}

/// A config file's path as it is written: a link inside the scope is followed to the
/// file it names; one leading outside the scope is refused.
fn real_config_path(scope_dir: &Path, rel: &str) -> Result<String, ApplyError> {
    let path = scope_dir.join(rel);
    let is_link = fs_err::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(rel.to_string());
    }
    let root = scope_dir.canonicalize()?;
    let real = path.canonicalize().map_err(|_| {
        ApplyError::Unsafe(format!("`{rel}` is a link to a file that does not exist"))
    })?;
    match real.strip_prefix(&root) {
        Ok(inside) => Ok(inside
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")),
        Err(_) => Err(ApplyError::Unsafe(format!(
            "`{rel}` links to `{}`, outside the scope `{}`",
            real.display(),
            root.display()
        ))),
    }
}

fn file_digest(path: &Path) -> std::io::Result<Option<String>> {
    match fs_err::read(path) {
        Ok(b) => Ok(Some(txn::bytes_digest(&b))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn dir_files(files: &[(String, Vec<u8>)]) -> Content {
    Content::Dir(files.to_vec())
}

/// The edits of one config file's syntax.
struct Editor {
    set: fn(&str, &str, &serde_json::Value) -> Result<String, EditError>,
    remove: fn(&str, &str, bool) -> Result<String, EditError>,
}

impl Editor {
    fn of(file: &str) -> Editor {
        match crate::target::Syntax::of(file) {
            crate::target::Syntax::Jsonc => Editor {
                set: jsonc_edit::set_entry,
                remove: jsonc_edit::remove_entry,
            },
            crate::target::Syntax::Toml => Editor {
                set: crate::apply::toml_edit::set_entry,
                remove: crate::apply::toml_edit::remove_entry,
            },
        }
    }
}

/// Turns a prepared plan into file changes: config files edited in place, files and
/// directories written or removed, proposals beside user-modified resources, capm.toml,
/// and capm.lock last.
pub fn changes(project: &Project, prep: &Prepared) -> Result<Built, ApplyError> {
    let plan = &prep.plan;
    let scope_dir = prep.scope.dir().to_path_buf();
    let mut out: Vec<Change> = Vec::new();
    let mut proposals = Vec::new();
    // Config files capm created, that still exist.
    let created: Vec<String> = project
        .lock
        .iter()
        .flat_map(|l| &l.created)
        .filter(|f| prep.state.configs.iter().any(|c| &c.rel == *f))
        .cloned()
        .collect();
    // Config files, each edited once with all its actions.
    let mut files: Vec<String> = Vec::new();
    for a in &plan.actions {
        if a.target.pointer.is_some() && !files.contains(&a.target.file) {
            files.push(a.target.file.clone());
        }
    }
    for file in files {
        let original = prep
            .state
            .configs
            .iter()
            .find(|c| c.rel == file)
            .map(|c| c.text.clone());
        let new_config = prep.targets.new_config(&prep.scope, &file);
        let mut text = original.clone().unwrap_or_else(|| new_config.clone());
        let edit = Editor::of(&file);
        let mut sets = false;
        for (a, rendered) in plan.actions.iter().zip(&plan.rendered) {
            if a.target.file != file {
                continue;
            }
            let Some(pointer) = &a.target.pointer else {
                continue;
            };
            let element = a.target.element.as_deref();
            match (a.action, rendered) {
                (
                    ActionKind::Create | ActionKind::Update,
                    Some(Rendered::ConfigEntry { value, .. }),
                ) => {
                    text = (edit.set)(&text, pointer, value).map_err(edit_error(&file))?;
                    sets = true;
                }
                (
                    ActionKind::Create | ActionKind::Update,
                    Some(Rendered::ArrayElement { key, value, .. }),
                ) => {
                    text = jsonc_edit::remove_elements(
                        &text,
                        pointer,
                        |s: &str| crate::validate::npm_package_name(s) == key.as_str(),
                        false,
                    )
                    .map_err(edit_error(&file))?;
                    let element = value.as_str().unwrap_or_default();
                    text = jsonc_edit::add_element(&text, pointer, element)
                        .map_err(edit_error(&file))?;
                    sets = true;
                }
                (ActionKind::Remove, _) => {
                    text = match element {
                        Some(key) => jsonc_edit::remove_elements(
                            &text,
                            pointer,
                            |s: &str| crate::validate::npm_package_name(s) == key,
                            true,
                        ),
                        None => (edit.remove)(&text, pointer, true),
                    }
                    .map_err(edit_error(&file))?;
                }
                _ => {}
            }
        }
        if original.as_deref() == Some(text.as_str()) || (original.is_none() && !sets) {
            continue;
        }
        let rel = real_config_path(&scope_dir, &file)?;
        if let Some(before) = &original
            && text == new_config
            && created.contains(&rel)
        {
            // capm created it, and its edits leave it as created: nothing of the user's.
            let pre = Some(txn::bytes_digest(before.as_bytes()));
            out.push(super::proposals::removal(&scope_dir, &rel, pre));
            continue;
        }
        out.push(Change {
            kind: match (&original, sets) {
                (None, _) => OpKind::WriteFile,
                (Some(_), true) => OpKind::JsonSet,
                (Some(_), false) => OpKind::JsonRemove,
            },
            root: Root::Scope,
            path: rel,
            pre: original.as_deref().map(|t| txn::bytes_digest(t.as_bytes())),
            post: Some(txn::bytes_digest(text.as_bytes())),
            content: Content::File(text.into_bytes()),
            commit: false,
        });
    }
    let created = super::proposals::created_configs(&created, &out);
    // Files and directories, and proposals.
    for (a, rendered) in plan.actions.iter().zip(&plan.rendered) {
        let propose =
            a.action == ActionKind::Keep && a.reason.as_deref() == Some("conflict-user-modified");
        match (a.action, rendered) {
            (_, Some(r)) if propose => {
                let path = super::proposals::proposal_at(a);
                let (content, is_dir) = match r {
                    Rendered::File { bytes, .. } => (Content::File(bytes.clone()), false),
                    Rendered::Dir { files, .. } => (dir_files(files), true),
                    Rendered::ConfigEntry { pointer, value }
                    | Rendered::ArrayElement { pointer, value, .. } => {
                        let record = serde_json::json!({
                            "resource": a.resource,
                            "bundle": a.bundle,
                            "file": a.target.file,
                            "pointer": pointer,
                            "proposed": value,
                        });
                        let text =
                            serde_json::to_string_pretty(&record).expect("JSON serialises") + "\n";
                        (Content::File(text.into_bytes()), false)
                    }
                };
                let pre = txn::path_digest(&scope_dir.join(&path))?;
                let post = r.digest();
                let post = if is_dir {
                    post
                } else {
                    match &content {
                        Content::File(b) => txn::bytes_digest(b),
                        _ => post,
                    }
                };
                if pre.as_deref() == Some(post.as_str()) {
                    continue;
                }
                let kind = match (is_dir, pre.is_some()) {
                    (false, false) => OpKind::WriteFile,
                    (false, true) => OpKind::ReplaceFile,
                    (true, false) => OpKind::CreateDir,
                    (true, true) => OpKind::ReplaceDir,
                };
                proposals.push(path.clone());
                out.push(Change {
                    kind,
                    root: Root::Scope,
                    path,
                    pre,
                    post: Some(post),
                    content,
                    commit: false,
                });
            }
            (ActionKind::Create | ActionKind::Update, Some(r @ Rendered::File { path, bytes })) => {
                out.push(Change {
                    kind: if a.action == ActionKind::Create {
                        OpKind::WriteFile
                    } else {
                        OpKind::ReplaceFile
                    },
                    root: Root::Scope,
                    path: path.clone(),
                    pre: a.before.clone(),
                    post: Some(r.digest()),
                    content: Content::File(bytes.clone()),
                    commit: false,
                });
            }
            (ActionKind::Create | ActionKind::Update, Some(r @ Rendered::Dir { path, files })) => {
                out.push(Change {
                    kind: if a.action == ActionKind::Create {
                        OpKind::CreateDir
                    } else {
                        OpKind::ReplaceDir
                    },
                    root: Root::Scope,
                    path: path.clone(),
                    pre: a.before.clone(),
                    post: Some(r.digest()),
                    content: dir_files(files),
                    commit: false,
                });
            }
            (ActionKind::Remove, None) if a.target.pointer.is_none() && a.before.is_some() => {
                out.push(super::proposals::removal(
                    &scope_dir,
                    &a.target.file,
                    a.before.clone(),
                ));
            }
            _ => {}
        }
    }
    // Proposals capm wrote that the plan settles (unless a new one replaces them).
    let dropped = super::proposals::drop_proposals(plan, project.lock.as_ref(), &scope_dir)?;
    let replaced = |c: &Change| out.iter().any(|o| o.path == c.path);
    let dropped: Vec<Change> = dropped.into_iter().filter(|c| !replaced(c)).collect();
    out.extend(dropped);
    // Directories that removals leave empty go too, deepest first (they hold no bytes).
    let removed: Vec<String> = out
        .iter()
        .filter(|c| c.post.is_none() && c.root == Root::Scope)
        .map(|c| c.path.clone())
        .collect();
    // …unless something of this transaction lands in them.
    let written: std::collections::BTreeSet<String> = out
        .iter()
        .filter(|c| c.post.is_some() && c.root == Root::Scope)
        .flat_map(|c| {
            let parts: Vec<&str> = c.path.split('/').collect();
            (1..parts.len())
                .map(|i| parts[..i].join("/"))
                .collect::<Vec<_>>()
        })
        .collect();
    for dir in emptied_dirs(&scope_dir, &removed)
        .into_iter()
        .filter(|d| !written.contains(d))
    {
        out.push(Change {
            kind: OpKind::RemoveDir,
            root: Root::Scope,
            pre: txn::path_digest(&scope_dir.join(&dir))
                .ok()
                .flatten()
                .map(|_| EMPTY_DIR_DIGEST.to_string()),
            path: dir,
            post: None,
            content: Content::None,
            commit: false,
        });
    }
    // capm.toml.
    if let Some(text) = &prep.manifest_text {
        let path = project.root.join(PROJECT_MANIFEST);
        out.push(Change {
            kind: OpKind::ReplaceFile,
            root: Root::Project,
            path: PROJECT_MANIFEST.into(),
            pre: file_digest(&path)?,
            post: Some(txn::bytes_digest(text.as_bytes())),
            content: Content::File(text.clone().into_bytes()),
            commit: false,
        });
    }
    // Directories that must exist first, shallowest first.
    let mut parents: Vec<(Root, String)> = Vec::new();
    let roots = roots(project, &prep.scope);
    for c in &out {
        if c.post.is_none() {
            continue;
        }
        let mut parts: Vec<&str> = c.path.split('/').collect();
        parts.pop();
        for i in 1..=parts.len() {
            let dir = parts[..i].join("/");
            if !roots.dir(c.root).join(&dir).exists() && !parents.contains(&(c.root, dir.clone())) {
                parents.push((c.root, dir));
            }
        }
    }
    parents.sort_by_key(|(_, d)| d.matches('/').count());
    let mut all: Vec<Change> = parents
        .into_iter()
        .map(|(root, path)| Change {
            kind: OpKind::CreateDir,
            root,
            path,
            pre: None,
            post: None,
            content: Content::None,
            commit: false,
        })
        .collect();
    all.extend(out);
    // capm.lock: the commit point.
    let mut lock = new_lock(project, prep);
    lock.created = created;
    let text = lock.to_toml_string();
    let lock_path = project.root.join(LOCK_FILE);
    let pre = file_digest(&lock_path)?;
    let post = txn::bytes_digest(text.as_bytes());
    if pre.as_deref() != Some(post.as_str()) {
        all.push(Change {
            kind: if pre.is_some() {
                OpKind::ReplaceFile
            } else {
                OpKind::WriteFile
            },
            root: Root::Project,
            path: LOCK_FILE.into(),
            pre,
            post: Some(post),
            content: Content::File(text.into_bytes()),
            commit: true,
        });
    }
    Ok(Built {
        changes: all,
        proposals,
    })
}

/// The content digest of a directory without files.
const EMPTY_DIR_DIGEST: &str =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The directories under `root` that removing `removed` (paths relative to it) leaves
/// without any entry, deepest first; never the root itself.
fn emptied_dirs(root: &Path, removed: &[String]) -> Vec<String> {
    let mut gone: std::collections::BTreeSet<String> = removed.iter().cloned().collect();
    let mut out = Vec::new();
    let mut candidates: std::collections::BTreeSet<String> = removed
        .iter()
        .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d.to_string()))
        .collect();
    while !candidates.is_empty() {
        // Deepest first, so that a parent sees its emptied children as gone.
        let deepest = candidates
            .iter()
            .max_by_key(|d| (d.matches('/').count(), (*d).clone()))
            .cloned()
            .expect("not empty");
        candidates.remove(&deepest);
        let Ok(entries) = fs_err::read_dir(root.join(&deepest)) else {
            continue;
        };
        let all_gone = entries.filter_map(Result::ok).all(|e| {
            let name = e.file_name();
            gone.contains(&format!("{deepest}/{}", name.to_string_lossy()))
        });
        if all_gone && !gone.contains(&deepest) {
            gone.insert(deepest.clone());
            out.push(deepest.clone());
            if let Some((up, _)) = deepest.rsplit_once('/') {
                candidates.insert(up.to_string());
            }
        }
    }
    out
}

/// capm.lock after the plan: the resolved bundles, and an entry for every resource the
/// project's bundles now own (created, updated, adopted, or kept as it was).
pub fn new_lock(project: &Project, prep: &Prepared) -> Lockfile {
    let old: &[LockedResource] = project
        .lock
        .as_ref()
        .map_or(&[], |l| l.resources.as_slice());
    let still: std::collections::BTreeSet<&str> = prep
        .resolution
        .bundles
        .iter()
        .map(|b| b.name.as_str())
        .collect();
    let mut resources: Vec<LockedResource> = Vec::new();
    for a in &prep.plan.actions {
        let Some(after) = &a.after else { continue };
        let at = |e: &&LockedResource| {
            e.path == a.target.file
                && e.pointer == a.target.pointer
                && e.element == a.target.element
        };
        let entry = |sha256: String, shared: bool| LockedResource {
            id: a.resource.clone(),
            bundle: a.bundle.clone(),
            path: a.target.file.clone(),
            pointer: a.target.pointer.clone(),
            element: a.target.element.clone(),
            sha256,
            shared,
            kept: None,
        };
        let as_recorded = |r: &LockedResource| LockedResource {
            bundle: a.bundle.clone(),
            id: a.resource.clone(),
            ..r.clone()
        };
        let recorded = old.iter().find(at);
        let e = match (a.action, a.reason.as_deref()) {
            (ActionKind::Create | ActionKind::Update, _) => entry(after.clone(), false),
            (ActionKind::Adopt, _) => entry(after.clone(), true),
            // Another bundle's identical entry: it stays theirs.
            (ActionKind::Keep, Some("shared-identical")) => match recorded {
                Some(r) if still.contains(r.bundle.as_str()) => r.clone(),
                // Its owner is leaving: this bundle takes it over.
                Some(r) => entry(after.clone(), r.shared),
                None => continue,
            },
            // The user's edit stays; capm's new version went beside it, and the lock
            // records what capm offered, so that it is proposed once.
            (ActionKind::Keep, Some("conflict-user-modified")) => match recorded {
                Some(r) => LockedResource {
                    sha256: after.clone(),
                    ..as_recorded(r)
                },
                None => continue,
            },
            // The user's edit stays, recorded as theirs from now on (`capm keep`).
            (ActionKind::Keep, Some("recorded-as-yours")) => match recorded {
                Some(r) => LockedResource {
                    sha256: after.clone(),
                    kept: a.before.clone(),
                    ..as_recorded(r)
                },
                None => continue,
            },
            // The user's edit stays, recorded as it was.
            (ActionKind::Keep, Some("user-modified" | "kept-by-user" | "kept-yours")) => {
                match recorded {
                    Some(r) => as_recorded(r),
                    None => continue,
                }
            }
            (ActionKind::Keep, _) => entry(after.clone(), recorded.is_some_and(|r| r.shared)),
            _ => continue,
        };
        if !resources
            .iter()
            .any(|r| r.path == e.path && r.pointer == e.pointer && r.element == e.element)
        {
            resources.push(e);
        }
    }
    Lockfile {
        version: crate::manifest::lock::LOCK_VERSION,
        bundles: crate::graph::lock_bundles(&prep.resolution),
        resources,
        created: Vec::new(),
    }
}

/// Checks before anything is written: no target is read-only, and none is reached
/// through a link leading outside its root (config links were resolved already).
fn preflight(roots: &Roots, changes: &[Change]) -> Result<(), ApplyError> {
    for c in changes {
        let path: PathBuf = roots.dir(c.root).join(&c.path);
        txn::inside(roots.dir(c.root), &c.path).map_err(ApplyError::Unsafe)?;
        if let Ok(meta) = fs_err::symlink_metadata(&path)
            && meta.is_file()
            && meta.permissions().readonly()
        {
            return Err(ApplyError::ReadOnly(c.path.clone()));
        }
    }
    Ok(())
}
