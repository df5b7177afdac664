//! `capm publish`: lint a bundle, copy it into a directory registry as `NAME/VERSION/`,
//! and add it to `index.toml`, all under the registry's lock. A published version never
//! changes: publishing it again with other content is refused.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Sources as DiagSources};
use crate::graph::index::{INDEX_FILE, IndexDependency, IndexEntry, RegistryIndex};
use crate::manifest::tree::BundleTree;

pub struct PublishOptions<'a> {
    pub bundle: PathBuf,
    pub registry: PathBuf,
    /// How long to wait for another publish into the same registry.
    pub lock_timeout: std::time::Duration,
    /// Told once when the registry is locked by another process.
    pub waiting: &'a dyn Fn(&Path),
}

/// What publishing did.
#[derive(Debug, PartialEq, Eq)]
pub enum Published {
    New {
        name: String,
        version: String,
        digest: String,
    },
    /// The same content was already published under this version.
    Unchanged { name: String, version: String },
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("`{path}` has errors; fix them before publishing")]
    Invalid {
        path: String,
        diagnostics: Vec<Diagnostic>,
        sources: DiagSources,
    },
    #[error(
        "{name} {version} is already published with different content ({existing}); publish a new version instead"
    )]
    VersionTaken {
        name: String,
        version: String,
        existing: String,
    },
    #[error("`{path}` already exists but is not in the registry's index")]
    Stray { path: PathBuf },
    #[error("the registry index `{path}` is not valid: {message}")]
    BadIndex { path: PathBuf, message: String },
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] crate::apply::WriteError),
}

pub fn publish(opts: &PublishOptions<'_>) -> Result<Published, PublishError> {
    let shown = opts.bundle.display().to_string();
    let tree =
        BundleTree::read(&opts.bundle, shown.clone()).map_err(|source| PublishError::Read {
            path: opts.bundle.clone(),
            source,
        })?;
    let check = crate::validate::check_bundle(&tree);
    let errors: Vec<Diagnostic> = check
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    let meta = check.manifest.as_ref().and_then(|m| m.bundle.as_ref());
    let name = meta.and_then(|b| b.name.as_ref()).map(|n| n.value.clone());
    let version = meta
        .and_then(|b| b.version.as_ref())
        .map(|v| v.value.clone());
    let (Some(manifest), Some(name), Some(version), true) =
        (check.manifest.as_ref(), name, version, errors.is_empty())
    else {
        let mut sources = DiagSources::default();
        for s in check.sources {
            sources.insert(s);
        }
        return Err(PublishError::Invalid {
            path: shown,
            diagnostics: errors,
            sources,
        });
    };
    let digest = tree.content_digest();
    let index_path = opts.registry.join(INDEX_FILE);
    // A damaged index is refused before anything is created or locked.
    read_index(&index_path)?;
    let _lock = crate::apply::DirLock::acquire(&opts.registry, opts.lock_timeout, opts.waiting)?;
    let mut index = read_index(&index_path)?;
    if let Some(existing) = index.find(&name, &version) {
        return if existing.sha256 == digest {
            Ok(Published::Unchanged { name, version })
        } else {
            Err(PublishError::VersionTaken {
                name,
                version,
                existing: existing.sha256.clone(),
            })
        };
    }
    let dest = opts.registry.join(&name).join(&version);
    if dest.exists() {
        // Left by an interrupted publish: reuse it only if it holds exactly this bundle.
        let there = BundleTree::read(&dest, dest.display().to_string()).map_err(|source| {
            PublishError::Read {
                path: dest.clone(),
                source,
            }
        })?;
        if there.content_digest() != digest {
            return Err(PublishError::Stray { path: dest });
        }
    } else {
        crate::apply::install_tree(&tree, &dest)?;
    }
    let meta = manifest.bundle.as_ref().expect("checked above");
    index.bundles.push(IndexEntry {
        name: name.clone(),
        version: version.clone(),
        sha256: digest.clone(),
        description: meta.description_text(),
        keywords: meta.keyword_list(),
        dependencies: manifest
            .dependencies
            .iter()
            .filter_map(|(n, d)| {
                Some(IndexDependency {
                    name: n.value.clone(),
                    req: d.requirement()?.value.clone(),
                    optional: d.is_optional(),
                })
            })
            .collect(),
    });
    crate::apply::write_file_atomic(&index_path, index.to_toml_string().as_bytes())?;
    Ok(Published::New {
        name,
        version,
        digest,
    })
}

fn read_index(path: &Path) -> Result<RegistryIndex, PublishError> {
    match fs_err::read_to_string(path) {
        Ok(text) => RegistryIndex::parse(&text).map_err(|e| PublishError::BadIndex {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RegistryIndex::new()),
        Err(source) => Err(PublishError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}
