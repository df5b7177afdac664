//! What capm writes beside the user's edits, and takes back: proposals (`PATH.capm-new`,
//! `.capm/proposals/…`) go when the resource leaves or the user settles the edit
//! (`capm keep`, `capm restore`); a config file capm created goes when capm's edits leave
//! it as capm created it. Each removal is a change of the transaction, so it is crash-safe.

use std::path::Path;

use crate::apply::journal::{OpKind, Root};
use crate::apply::txn::{self, Change, Content, META_DIR};
use crate::manifest::lock::Lockfile;
use crate::plan::model::{Action, Plan};
use crate::plan::ownership::ActionKind;

/// Where capm writes its version of something the user modified: `PATH.capm-new` beside
/// a file; under `.capm/proposals/` for a skill directory (one beside the user's would be
/// loaded as a second skill) and for a config entry.
pub fn proposal_at(a: &Action) -> String {
    if a.target.pointer.is_some() {
        format!(
            "{META_DIR}/proposals/{}.json",
            a.resource.replace([':', '/'], "-")
        )
    } else if a.resource.starts_with("skill:") {
        format!("{META_DIR}/proposals/{}", a.target.file)
    } else {
        format!("{}.capm-new", a.target.file)
    }
}

/// Whether the proposal beside a resource has served its purpose: the resource leaves the
/// project, or the user settled the edit.
fn settled(a: &Action) -> bool {
    match a.reason.as_deref() {
        Some("restored" | "recorded-as-yours") => true,
        _ => {
            a.after.is_none()
                && matches!(
                    a.action,
                    ActionKind::Remove | ActionKind::Preserve | ActionKind::Keep
                )
                && !matches!(
                    a.reason.as_deref(),
                    Some("owned-by-other-bundle" | "provided-by-another-bundle")
                )
        }
    }
}

/// Removals of the proposals capm wrote that are no longer needed. Anything under `.capm/`
/// is capm's; a `PATH.capm-new` is removed only while it holds what capm proposed (the
/// digest capm.lock records, or the bundle's version now), so a proposal the user edited
/// stays.
pub fn drop_proposals(
    plan: &Plan,
    lock: Option<&Lockfile>,
    scope_dir: &Path,
) -> std::io::Result<Vec<Change>> {
    let mut out = Vec::new();
    for a in plan.actions.iter().filter(|a| settled(a)) {
        let path = proposal_at(a);
        let Some(now) = txn::path_digest(&scope_dir.join(&path))? else {
            continue;
        };
        let recorded = lock.into_iter().flat_map(|l| &l.resources).find(|r| {
            r.path == a.target.file
                && r.pointer == a.target.pointer
                && r.element == a.target.element
        });
        let capms = path.starts_with(&format!("{META_DIR}/"))
            || recorded.is_some_and(|r| r.sha256 == now)
            || a.after.as_deref() == Some(now.as_str());
        if !capms {
            continue;
        }
        out.push(removal(scope_dir, &path, Some(now)));
    }
    Ok(out)
}

/// The removal of the file or directory at `path` (under the scope), which holds `pre`.
pub fn removal(scope_dir: &Path, path: &str, pre: Option<String>) -> Change {
    let is_dir = scope_dir.join(path).is_dir();
    Change {
        kind: if is_dir {
            OpKind::RemoveDir
        } else {
            OpKind::RemoveFile
        },
        root: Root::Scope,
        path: path.to_string(),
        pre,
        post: None,
        content: Content::None,
        commit: false,
    }
}

/// Config files capm created that still exist after the changes: those it had created
/// (`before`), plus those the changes create, less those they remove.
pub fn created_configs(before: &[String], config_changes: &[Change]) -> Vec<String> {
    let mut created: Vec<String> = before.to_vec();
    for c in config_changes {
        match c.kind {
            OpKind::WriteFile => created.push(c.path.clone()),
            OpKind::RemoveFile => created.retain(|p| *p != c.path),
            _ => {}
        }
    }
    created.sort();
    created.dedup();
    created
}
