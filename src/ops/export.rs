//! `capm export`: a native bundle that passes lint, written in another format into a new
//! directory. The files are written into a temporary directory beside the destination and
//! moved into place in one rename, so a failure leaves no half-written directory.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Sources as DiagSources};
use crate::formats::export::{ExportError, Options, To};
use crate::manifest::tree::BundleTree;

/// What was exported, and where.
#[derive(Debug)]
pub struct Exported {
    pub name: String,
    pub version: String,
    /// The files written, relative to the destination, in path order.
    pub files: Vec<String>,
    /// What the format could not carry.
    pub notes: Vec<String>,
}

/// Why nothing was exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportOpError {
    #[error("`{path}` has {} error{}; nothing was exported", diagnostics.len(), if diagnostics.len() == 1 { "" } else { "s" })]
    Invalid {
        path: String,
        diagnostics: Vec<Diagnostic>,
        sources: DiagSources,
    },
    #[error(transparent)]
    Format(#[from] ExportError),
    #[error("`{}` already exists and is not an empty directory", path.display())]
    NotEmpty { path: PathBuf },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Lints `tree`, translates it to `to` and writes it to `dest`, which must not exist or be
/// an empty directory.
pub fn export(
    tree: &BundleTree,
    to: To,
    opts: &Options,
    dest: &Path,
) -> Result<Exported, ExportOpError> {
    check_destination(dest)?;
    let check = crate::validate::check_bundle(tree);
    let errors = check.errors();
    let manifest = match check.manifest {
        Some(m) if errors.is_empty() => m,
        _ => {
            let mut sources = DiagSources::default();
            for s in check.sources {
                sources.insert(s);
            }
            return Err(ExportOpError::Invalid {
                path: tree.display_root.clone(),
                diagnostics: errors,
                sources,
            });
        }
    };
    let out = crate::formats::export::export(tree, &manifest, to, opts)?;
    write_dir(dest, &out.files)?;
    let meta = manifest.bundle.unwrap_or_default();
    Ok(Exported {
        name: meta.name.map(|n| n.value).unwrap_or_default(),
        version: meta.version.map(|v| v.value).unwrap_or_default(),
        files: out.files.into_keys().collect(),
        notes: out.notes,
    })
}

/// Refuses a destination that is a file or a directory with something in it.
fn check_destination(dest: &Path) -> Result<(), ExportOpError> {
    match fs_err::read_dir(dest).map(|mut entries| entries.next().is_none()) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ExportOpError::NotEmpty {
            path: dest.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dest.exists() => Err(ExportOpError::NotEmpty {
            path: dest.to_path_buf(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Writes `files` into `dest` at once (see [`crate::apply::create_dir_tree`]).
fn write_dir(
    dest: &Path,
    files: &std::collections::BTreeMap<String, Vec<u8>>,
) -> Result<(), ExportOpError> {
    let files: Vec<(String, &[u8])> = files.iter().map(|(k, v)| (k.clone(), &v[..])).collect();
    crate::apply::create_dir_tree(dest, &files).map_err(|e| match e {
        crate::apply::WriteError::Exists(path) => ExportOpError::NotEmpty { path },
        crate::apply::WriteError::Io { path, source } => ExportOpError::Io(std::io::Error::new(
            source.kind(),
            format!("cannot write `{}`: {source}", path.display()),
        )),
        other => ExportOpError::Io(std::io::Error::other(other.to_string())),
    })
}
