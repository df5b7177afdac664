//! `capm init`: create a `capm.toml`.

use std::path::{Path, PathBuf};

use crate::manifest::common::{ProductMode, Target};

/// The text of a new capm.toml for `targets` (OpenCode alone when empty).
pub fn template(mode: ProductMode, targets: &[Target]) -> String {
    let target = match targets {
        [] | [Target::Opencode] => "target = \"opencode\"".to_string(),
        [one] => format!("target = \"{one}\""),
        many => {
            let names: Vec<String> = many.iter().map(|t| format!("\"{t}\"")).collect();
            format!("targets = [{}]", names.join(", "))
        }
    };
    format!(
        "# The bundles this project wants; `capm lint capm.toml` checks this file.\n\
         [project]\n\
         {target}\n\
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
pub fn init(
    dir: &Path,
    mode: ProductMode,
    targets: &[Target],
) -> Result<PathBuf, crate::apply::WriteError> {
    let name = super::project::PROJECT_MANIFEST;
    let path = dir.join(name);
    let text = template(mode, targets);
    if dir.symlink_metadata().is_err() {
        crate::apply::create_dir_tree(dir, &[(name.to_string(), text)])?;
    } else {
        crate::apply::create_file_atomic(&path, text.as_bytes())?;
    }
    Ok(path)
}
