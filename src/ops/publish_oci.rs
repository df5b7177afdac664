//! `capm publish DIR --oci HOST/REPO`: lint a bundle as `capm publish` does, then push it
//! to an OCI registry as an artifact tagged with its version (`remote::oci::push`). A
//! published version never changes: a tag holding other content is refused.

use std::path::PathBuf;

use crate::diagnostic::Sources as DiagSources;
use crate::manifest::bundle::BundleManifest;
use crate::manifest::tree::BundleTree;
use crate::ops::publish::PublishError;
use crate::remote::oci::{PushMeta, Pushed};
use crate::remote::{Dep, Net, RemoteError};

pub struct OciPublishOptions<'a> {
    pub bundle: PathBuf,
    /// `host/repository`, without a tag.
    pub repository: String,
    pub net: &'a Net,
}

#[derive(Debug, thiserror::Error)]
pub enum OciPublishError {
    #[error(transparent)]
    Lint(PublishError),
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

pub fn publish_oci(opts: &OciPublishOptions<'_>) -> Result<Pushed, OciPublishError> {
    let shown = opts.bundle.display().to_string();
    let options = crate::formats::Options::default();
    let tree =
        crate::formats::read_dir(&opts.bundle, shown.clone(), &options).map_err(|source| {
            OciPublishError::Lint(PublishError::Read {
                path: opts.bundle.clone(),
                source,
            })
        })?;
    let meta = checked_meta(&tree, shown).map_err(OciPublishError::Lint)?;
    Ok(crate::remote::oci::push(
        &tree,
        &meta,
        &opts.repository,
        opts.net,
    )?)
}

/// The bundle's push metadata, when it lints without errors.
fn checked_meta(tree: &BundleTree, shown: String) -> Result<PushMeta, PublishError> {
    let check = crate::validate::check_bundle(tree);
    let errors = check.errors();
    let meta = check.manifest.as_ref().and_then(push_meta);
    match meta {
        Some(meta) if errors.is_empty() => Ok(meta),
        _ => {
            let mut sources = DiagSources::default();
            for s in check.sources {
                sources.insert(s);
            }
            Err(PublishError::Invalid {
                path: shown,
                diagnostics: errors,
                sources,
            })
        }
    }
}

fn push_meta(manifest: &BundleManifest) -> Option<PushMeta> {
    let bundle = manifest.bundle.as_ref()?;
    let version = semver::Version::parse(&bundle.version.as_ref()?.value).ok()?;
    let deps = manifest
        .requirements()
        .map(|(name, req, optional)| Dep {
            name: name.to_string(),
            req: req.to_string(),
            optional,
        })
        .collect();
    Some(PushMeta {
        name: bundle.name.as_ref()?.value.clone(),
        version,
        description: bundle.description_text(),
        deps,
    })
}
