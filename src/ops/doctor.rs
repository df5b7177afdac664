//! `capm doctor`: recover interrupted transactions, then compare what capm.lock records
//! with what is on disk, resource by resource.

use std::path::Path;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::apply::{ApplyError, lock_exclusive, lock_shared, roots};
use super::plan::scope_of;
use super::project;
use crate::apply::txn::{self, Recovery};
use crate::manifest::common::Target as Id;
use crate::manifest::lock::{LockedResource, Lockfile};
use crate::plan::state::ScopeState;
use crate::target::set::{self, Targets};
use crate::target::{Homes, ScopeRoot};

/// The schema id of a doctor report.
pub const DOCTOR_SCHEMA: &str = "capm.doctor/v1";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Drift {
    /// On disk exactly as capm wrote it.
    Ok,
    /// Changed since capm wrote it: the user's edit, which capm leaves alone (`capm keep`
    /// records it as theirs, `capm restore` puts capm's version back). A state, not a fault.
    Modified,
    /// The user's edit, kept as theirs with `capm keep`.
    Kept,
    /// Gone from disk.
    Missing,
}

/// One resource capm.lock records, checked against the disk.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ResourceCheck {
    pub id: String,
    pub bundle: String,
    #[serde(flatten)]
    pub place: Placed,
    pub status: Drift,
}

/// One place capm.lock records a resource in, and the clients of the project's `targets`
/// capm put it there for.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Placed {
    /// The file or directory, relative to the scope root.
    pub path: String,
    /// For a config entry: its JSON pointer in `path` (`/mcpServers/github`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// For an element of a config array: the npm package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    /// Client names (`claude-code`, `copilot`): one place is shared by every client that
    /// reads it there. Empty when no client of `targets` does any more (the next install
    /// removes it).
    pub clients: Vec<String>,
}

impl Placed {
    /// The place of a capm.lock entry, with its clients among `targets`.
    pub fn of(entry: &LockedResource, targets: &Targets, scope: &ScopeRoot) -> Placed {
        Placed {
            path: entry.path.clone(),
            pointer: entry.pointer.clone(),
            element: entry.element.clone(),
            clients: targets
                .readers(scope, &entry.path)
                .into_iter()
                .map(str::to_string)
                .collect(),
        }
    }

    /// As people read it: `.mcp.json#/mcpServers/github`, `opencode.json#/plugin[pkg]`, or
    /// the path of a file or directory.
    pub fn text(&self) -> String {
        match (&self.pointer, &self.element) {
            (Some(p), Some(e)) => format!("{}#{p}[{e}]", self.path),
            (Some(p), None) => format!("{}#{p}", self.path),
            _ => self.path.clone(),
        }
    }
}

/// What recovery did, in the report.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct RecoveryReport {
    /// Interrupted transactions undone.
    pub rolled_back: Vec<String>,
    /// Committed transactions whose clean-up was finished.
    pub finished: Vec<String>,
    /// Targets someone else changed during an interrupted transaction: kept as they are,
    /// with capm's copy of the earlier content at `saved`.
    pub conflicts: Vec<ConflictReport>,
    /// Journals refused (naming paths outside the scope, or damaged): nothing was touched.
    pub refused: Vec<RefusedJournal>,
    /// capm's own files it no longer needs but could not delete; the next run tries again.
    pub leftovers: Vec<LeftoverReport>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LeftoverReport {
    pub path: String,
    /// What the operating system answered, naming the entry that could not be deleted.
    pub error: String,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ConflictReport {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved: Option<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RefusedJournal {
    pub journal: String,
    pub reason: String,
}

impl From<&Recovery> for RecoveryReport {
    fn from(r: &Recovery) -> Self {
        RecoveryReport {
            rolled_back: r.rolled_back.clone(),
            finished: r.finished.clone(),
            conflicts: r
                .conflicts
                .iter()
                .map(|c| ConflictReport {
                    path: c.path.clone(),
                    saved: c.saved.clone(),
                })
                .collect(),
            refused: r
                .refused
                .iter()
                .map(|(journal, reason)| RefusedJournal {
                    journal: journal.clone(),
                    reason: reason.clone(),
                })
                .collect(),
            leftovers: r
                .leftovers
                .iter()
                .map(|l| LeftoverReport {
                    path: l.path.clone(),
                    error: l.error.clone(),
                })
                .collect(),
        }
    }
}

/// The doctor's findings.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(title = "capm doctor report")]
pub struct DoctorReport {
    /// Always `capm.doctor/v1`.
    #[schemars(extend("const" = "capm.doctor/v1"))]
    pub schema: &'static str,
    /// Everything recorded is on disk (as written, or as the user edited it), nothing
    /// refused recovery, and every config file parses.
    pub healthy: bool,
    /// The clients the project installs into (capm.toml's `targets`), in its order.
    pub targets: Vec<String>,
    pub recovery: RecoveryReport,
    pub resources: Vec<ResourceCheck>,
    /// Other problems: config files that do not parse, a lock that cannot be read.
    pub problems: Vec<String>,
}

/// Runs the doctor on the project at `root`; `waiting` is told if another capm holds the
/// lock.
///
/// With `recover` false nothing is written: interrupted transactions are only reported
/// (the desktop protocol's `status`).
pub fn doctor(
    root: &Path,
    global_config: &Path,
    timeout: Duration,
    waiting: &dyn Fn(&Path),
    recover_now: bool,
) -> Result<DoctorReport, ApplyError> {
    let project = project::load(root)?;
    let scope = scope_of(&project, global_config);
    let roots = roots(&project, &scope);
    let mut recovery = Recovery::default();
    let pending = txn::pending(&roots);
    // Doctor repairs capm's own state too (a torn `.capm/.gitignore`, say), which takes
    // the writers' lock.
    let damaged = txn::meta_damaged(&roots.project) || txn::meta_damaged(&roots.scope);
    let needed = damaged || !pending.is_empty() || txn::trash_left(&roots);
    let _lock = if !recover_now || !needed {
        (lock_shared(root, timeout, waiting)?, Vec::new())
    } else {
        let locks = lock_exclusive(&roots, timeout, waiting)?;
        // A refused journal is reported below, with everything else recovery did.
        recovery = txn::recover(&roots)?;
        (None, locks)
    };
    // Recovery may have changed capm.lock's state on disk; read it again.
    let project = project::load(root)?;
    let targets = Targets::new(&project.manifest.targets(), &scope);
    let state = read_scope(&project.manifest.targets(), project.lock.as_ref(), &scope)?;
    let mut problems: Vec<String> = state
        .parse_errors()
        .iter()
        .map(|(file, e)| format!("`{file}` does not parse: {}", e.message))
        .collect();
    let mut resources = Vec::new();
    for r in project.lock.iter().flat_map(|l| &l.resources) {
        let now = state.location_digest(&r.path, r.pointer.as_deref(), r.element.as_deref())?;
        let status = match now {
            None => Drift::Missing,
            Some(d) if d == r.sha256 => Drift::Ok,
            Some(d) if r.kept.as_ref() == Some(&d) => Drift::Kept,
            Some(_) => Drift::Modified,
        };
        resources.push(ResourceCheck {
            id: r.id.clone(),
            bundle: r.bundle.clone(),
            place: Placed::of(r, &targets, &scope),
            status,
        });
    }
    if !recover_now {
        problems.extend(
            txn::preview(&roots)
                .iter()
                .map(super::plan::pending_message),
        );
    }
    for (journal, why) in &recovery.refused {
        problems.push(format!("journal `{journal}` refused: {why}"));
    }
    // The user's edits are states, not faults: only what is missing counts.
    let healthy = problems.is_empty()
        && recovery.conflicts.is_empty()
        && resources.iter().all(|r| r.status != Drift::Missing);
    Ok(DoctorReport {
        schema: DOCTOR_SCHEMA,
        healthy,
        targets: targets.iter().map(|(t, _)| t.name().to_string()).collect(),
        recovery: RecoveryReport::from(&recovery),
        resources,
        problems,
    })
}

/// The scope's config files as the project's clients read them, and those of any other
/// client that capm.lock records an entry in (a client just taken out of `targets`, whose
/// entries are still there until the next install). The user's own files are not read.
fn read_scope(
    ids: &[Id],
    lock: Option<&Lockfile>,
    scope: &ScopeRoot,
) -> std::io::Result<ScopeState> {
    let ids = set::with_recorded(ids, lock, scope);
    ScopeState::read_targets(&Targets::new(&ids, scope), scope, None, &Homes::default())
}
