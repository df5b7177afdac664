//! The built-in catalog: the repository's `bundles/` directory, embedded in the binary at
//! build time so that a `capm` copied anywhere still has it.

use include_dir::{Dir, include_dir};

use crate::manifest::tree::BundleTree;

static CATALOG: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/bundles");

/// Every catalog bundle, as trees shown to the user as `catalog/NAME`.
pub fn bundles() -> Vec<BundleTree> {
    let mut dirs: Vec<&'static Dir<'static>> = CATALOG.dirs().collect();
    dirs.sort_by_key(|d| d.path());
    dirs.into_iter()
        .map(|d| {
            let name = d
                .path()
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            BundleTree::embedded(d, format!("catalog/{name}"))
        })
        .collect()
}
