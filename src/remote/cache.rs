//! The cache every project shares, under `$XDG_CACHE_HOME/capm` (`~/.cache/capm`).

use std::path::{Path, PathBuf};

/// The cache at a root directory (created on first write).
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: PathBuf) -> Cache {
        Cache { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}
