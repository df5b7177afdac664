//! Rebuilds the crate when the catalog in `bundles/` changes, since it is embedded.

fn main() {
    println!("cargo:rerun-if-changed=bundles");
}
