//! `capm export --to skills`: the bundle's skills as a repository of Agent Skills, each
//! directory copied as it is to `skills/NAME/`.

use super::{ExportError, Exported, bundle_name, other_resources};
use crate::manifest::bundle::BundleManifest;
use crate::manifest::tree::BundleTree;

pub(super) fn export(tree: &BundleTree, m: &BundleManifest) -> Result<Exported, ExportError> {
    if m.skills.is_empty() {
        return Err(ExportError::Nothing {
            bundle: bundle_name(m),
            what: "skills",
            to: "a repository of Agent Skills",
        });
    }
    let mut out = Exported::default();
    copy_skills(&mut out, tree, m);
    out.left_out(
        other_resources(m, &["skill"]),
        "a repository of Agent Skills holds only skills",
    );
    Ok(out)
}

/// Each `[skills.NAME]` directory to `skills/NAME/`.
pub(super) fn copy_skills(out: &mut Exported, tree: &BundleTree, m: &BundleManifest) {
    for (name, skill) in &m.skills {
        if let Some(path) = &skill.path {
            out.copy_dir(tree, &path.value, &format!("skills/{}", name.value));
        }
    }
}
