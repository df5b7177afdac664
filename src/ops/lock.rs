//! `capm lock`: resolve the project and record the result in `capm.lock`, without
//! installing anything. Resource entries of the lock (what is installed) are kept.

use super::project::{LOCK_FILE, Project, ResolveOptions, ResolveProjectError, resolve};

#[derive(Debug)]
pub enum LockOutcome {
    /// capm.lock already matched the resolution; nothing was written.
    UpToDate,
    Written {
        changes: Vec<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum LockCommandError {
    #[error(transparent)]
    Resolve(#[from] ResolveProjectError),
    #[error(transparent)]
    Write(#[from] crate::apply::WriteError),
}

pub fn lock(project: &Project, opts: ResolveOptions) -> Result<LockOutcome, LockCommandError> {
    let (_, resolution) = resolve(project, opts)?;
    let mut lock = project.lock.clone().unwrap_or_default();
    let changes = match &project.lock {
        Some(old) => crate::graph::lock_changes(old, &resolution),
        None => vec!["create capm.lock".to_string()],
    };
    if changes.is_empty() {
        return Ok(LockOutcome::UpToDate);
    }
    lock.bundles = crate::graph::lock_bundles(&resolution);
    crate::apply::write_file_atomic(
        &project.root.join(LOCK_FILE),
        lock.to_toml_string().as_bytes(),
    )?;
    Ok(LockOutcome::Written { changes })
}
