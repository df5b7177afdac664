//! `capm init`: create a `capm.toml`.

use std::path::{Path, PathBuf};

use crate::manifest::common::ProductMode;

/// The text of a new capm.toml.
pub fn template(mode: ProductMode) -> String {
    format!(
        "# The bundles this project wants; `capm lint capm.toml` checks this file.\n\
         [project]\n\
         target = \"opencode\"\n\
         scope = \"project\"\n\
         product-mode = \"{mode}\"\n\
         \n\
         [bundles]\n\
         # github = \"^1.0\"\n\
         # local-tools = {{ path = \"../local-tools\" }}\n"
    )
}

/// Creates `DIR/capm.toml`, refusing to replace one; `DIR` is created (with its parents)
/// when it does not exist, as `cargo new` does.
pub fn init(dir: &Path, mode: ProductMode) -> Result<PathBuf, crate::apply::WriteError> {
    let name = super::project::PROJECT_MANIFEST;
    let path = dir.join(name);
    if dir.symlink_metadata().is_err() {
        crate::apply::create_dir_tree(dir, &[(name.to_string(), template(mode))])?;
    } else {
        crate::apply::create_file_atomic(&path, template(mode).as_bytes())?;
    }
    Ok(path)
}
