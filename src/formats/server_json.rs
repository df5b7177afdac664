//! MCP Registry `server.json` documents, read as native bundles.

use super::{Options, Translation};
use crate::diagnostic::Diagnostic;
use crate::manifest::tree::BundleTree;

/// A server.json as a native bundle's tree.
pub fn translate(raw: BundleTree, _opts: &Options) -> BundleTree {
    let mut t = Translation::new(raw, "server.json");
    let shown = t.raw.display_path("server.json");
    t.finding(
        Diagnostic::new("invalid-bundle-source", "server.json cannot be read yet").in_file(shown),
    );
    t.fail()
}
