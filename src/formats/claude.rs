//! Claude Code plugins (`.claude-plugin/plugin.json`), read as native bundles.

use super::{Options, Translation};
use crate::diagnostic::Diagnostic;
use crate::manifest::tree::BundleTree;

/// A Claude Code plugin as a native bundle's tree.
pub fn plugin(raw: BundleTree, _opts: &Options) -> BundleTree {
    let mut t = Translation::new(raw, "claude-plugin");
    let shown = t.raw.display_path(".claude-plugin/plugin.json");
    t.finding(
        Diagnostic::new(
            "invalid-bundle-source",
            "Claude Code plugins cannot be read yet",
        )
        .in_file(shown),
    );
    t.fail()
}
