//! `capm cache`: where the cache of remote sources is, and removing what it holds: all of
//! it (`clean`), or the entries not used lately and staging leftovers (`prune`). Both wait
//! for the other capm processes using the cache, then hold it alone.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::remote::RemoteError;
use crate::remote::cache::{Cache, CleanReport};

/// What to do with the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheAction {
    /// Only say where it is.
    Dir,
    /// Remove every entry.
    Clean,
    /// Remove the entries unused for longer than this.
    Prune { max_age: Duration },
}

pub struct CacheOptions<'a> {
    pub cache: Cache,
    /// How long to wait for other capm processes using the cache.
    pub lock_timeout: Duration,
    /// Called once when capm has to wait.
    pub waiting: &'a dyn Fn(&Path),
}

/// What `capm cache` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheOutcome {
    pub dir: PathBuf,
    /// What was removed (`clean`, `prune`).
    pub removed: Option<CleanReport>,
    /// What stayed (`prune`).
    pub kept: Option<CleanReport>,
}

pub fn cache(action: CacheAction, opts: &CacheOptions) -> Result<CacheOutcome, RemoteError> {
    let mut outcome = CacheOutcome {
        dir: opts.cache.root().to_path_buf(),
        removed: None,
        kept: None,
    };
    match action {
        CacheAction::Dir => {}
        CacheAction::Clean => {
            outcome.removed = Some(opts.cache.clean(opts.lock_timeout, opts.waiting)?);
        }
        CacheAction::Prune { max_age } => {
            let report = opts.cache.prune(max_age, opts.lock_timeout, opts.waiting)?;
            outcome.removed = Some(report.removed);
            outcome.kept = Some(report.kept);
        }
    }
    Ok(outcome)
}
