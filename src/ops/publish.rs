//! `capm publish`: lint a bundle and add it to a directory registry, under the registry's
//! lock. A published version never changes: publishing it again with other content is
//! refused.
//!
//! A new (missing or empty) registry, or one holding `config.json`, gets the static layout
//! of `remote::sparse` (`publish_sparse.rs`). One holding `index.toml` keeps the older
//! layout: each bundle copied as `NAME/VERSION/` and listed in `index.toml`.

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
    #[error("`{path}` is not a capm registry (it holds neither config.json nor index.toml)")]
    NotARegistry { path: PathBuf },
    #[error(
        "the registry's archives are served from `{dl}`; capm publishes only into the registry directory"
    )]
    ArchivesElsewhere { dl: String },
    #[error("{name} {version} is not in the registry")]
    NotPublished { name: String, version: String },
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

/// A bundle that passed lint, with what an index records of it.
pub(crate) struct Checked {
    pub tree: BundleTree,
    pub entry: IndexEntry,
}

pub fn publish(opts: &PublishOptions<'_>) -> Result<Published, PublishError> {
    let bundle = check(&opts.bundle)?;
    if crate::ops::publish_sparse::is_for_sparse(&opts.registry)? {
        return crate::ops::publish_sparse::publish(opts, &bundle);
    }
    let index_path = opts.registry.join(INDEX_FILE);
    // A damaged index is refused before anything is created or locked.
    read_index(&index_path)?;
    let _lock = crate::apply::DirLock::acquire(&opts.registry, opts.lock_timeout, opts.waiting)?;
    add_to_index_toml(&opts.registry, &bundle)
}

/// Reads and lints the bundle at `dir`.
fn check(dir: &Path) -> Result<Checked, PublishError> {
    let shown = dir.display().to_string();
    // A bundle of another format is published as the native bundle capm reads it as.
    let options = crate::formats::Options::default();
    let tree = crate::formats::read_dir(dir, shown.clone(), &options).map_err(|source| {
        PublishError::Read {
            path: dir.to_path_buf(),
            source,
        }
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
    let meta = manifest.bundle.as_ref().expect("checked above");
    let entry = IndexEntry {
        name,
        version,
        sha256: tree.content_digest(),
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
    };
    Ok(Checked { tree, entry })
}

/// Copies the bundle to `REG/NAME/VERSION/` and lists it in `REG/index.toml` (the caller
/// holds the registry's lock).
pub(crate) fn add_to_index_toml(
    registry: &Path,
    bundle: &Checked,
) -> Result<Published, PublishError> {
    let IndexEntry {
        name,
        version,
        sha256: digest,
        ..
    } = bundle.entry.clone();
    let index_path = registry.join(INDEX_FILE);
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
    let dest = registry.join(&name).join(&version);
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
        crate::apply::install_tree(&bundle.tree, &dest)?;
    }
    index.bundles.push(bundle.entry.clone());
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
