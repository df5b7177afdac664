//! Publishing into a registry of the static layout (`remote::sparse`, docs/spec.md §5):
//! the archive is written first, then the name's index file is rewritten atomically, then
//! `search.jsonl`, all under the registry's lock, so a reader never sees a line whose
//! archive is missing. Also the index and search helpers `capm yank` shares.

use std::path::{Path, PathBuf};

use super::publish::{Checked, PublishError, PublishOptions, Published};
use crate::graph::index::IndexEntry;
use crate::remote::archive;
use crate::remote::sparse::{
    self, CONFIG_FILE, Config, INDEX_DIR, IndexLine, LineDep, SEARCH_FILE,
};

/// Whether publishing into `registry` writes the static layout: it holds `config.json`,
/// or is missing or empty (hidden files such as `.git` aside). One holding `index.toml`
/// keeps the older layout; anything else is not a registry.
pub(crate) fn is_for_sparse(registry: &Path) -> Result<bool, PublishError> {
    if sparse::is_sparse(registry) {
        return Ok(true);
    }
    if registry.join(crate::graph::index::INDEX_FILE).exists() {
        return Ok(false);
    }
    let entries = match std::fs::read_dir(registry) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(source) => return Err(read_error(registry)(source)),
    };
    for entry in entries {
        let entry = entry.map_err(read_error(registry))?;
        if !entry.file_name().to_string_lossy().starts_with('.') {
            return Err(PublishError::NotARegistry {
                path: registry.to_path_buf(),
            });
        }
    }
    Ok(true)
}

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Read {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn publish(
    opts: &PublishOptions<'_>,
    bundle: &Checked,
) -> Result<Published, PublishError> {
    let reg = &opts.registry;
    // A damaged registry is refused before anything is created or locked.
    read_config(reg)?;
    let _lock = crate::apply::DirLock::acquire(reg, opts.lock_timeout, opts.waiting)?;
    let config = match read_config(reg)? {
        Some(config) => config,
        None => {
            let config = Config::default();
            write(&reg.join(CONFIG_FILE), config.to_json())?;
            config
        }
    };
    let entry = &bundle.entry;
    let index = IndexFile::read(reg, &entry.name)?;
    let version = parse_version(&entry.version);
    if let Some(existing) = index.lines.iter().find(|l| l.version() == version) {
        if existing.sha256 != entry.sha256 {
            return Err(PublishError::VersionTaken {
                name: entry.name.clone(),
                version: entry.version.clone(),
                existing: existing.sha256.clone(),
            });
        }
        return Ok(Published::Unchanged {
            name: entry.name.clone(),
            version: entry.version.clone(),
        });
    }
    let line = write_archive(reg, &config, bundle)?;
    let mut text = index.text.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line.to_json());
    text.push('\n');
    write(&index.path, &text)?;
    let mut lines = index.lines;
    lines.push(line);
    update_search(reg, &config, &entry.name, &lines)?;
    Ok(Published::New {
        name: entry.name.clone(),
        version: entry.version.clone(),
        digest: entry.sha256.clone(),
    })
}

fn parse_version(v: &str) -> semver::Version {
    semver::Version::parse(v).expect("lint checked the version")
}

/// Packs the bundle, writes its archive where `dl` says, and returns its index line.
fn write_archive(reg: &Path, config: &Config, bundle: &Checked) -> Result<IndexLine, PublishError> {
    let entry = &bundle.entry;
    let rel = config.archive_path(&entry.name, &entry.version, archive::Format::TarGz);
    if rel.contains("://") {
        return Err(PublishError::ArchivesElsewhere {
            dl: config.dl.clone(),
        });
    }
    let bytes = archive::pack(&bundle.tree);
    write(&reg.join(&rel), &bytes)?;
    Ok(line_for(entry, crate::remote::cache::sha256(&bytes)))
}

/// The index line of a bundle whose `.tar.gz` archive has the digest `archive`.
pub fn line_for(entry: &IndexEntry, archive: String) -> IndexLine {
    IndexLine {
        v: 1,
        name: entry.name.clone(),
        vers: entry.version.clone(),
        sha256: entry.sha256.clone(),
        archive,
        format: archive::Format::TarGz.ext().to_string(),
        deps: entry
            .dependencies
            .iter()
            .map(|d| LineDep {
                name: d.name.clone(),
                req: d.req.clone(),
                optional: d.optional,
            })
            .collect(),
        description: entry.description.clone(),
        keywords: entry.keywords.clone(),
        yanked: false,
    }
}

/// `config.json`, if the registry has one yet.
pub(crate) fn read_config(reg: &Path) -> Result<Option<Config>, PublishError> {
    let path = reg.join(CONFIG_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Config::parse(&bytes, &path.display().to_string())
            .map(Some)
            .map_err(|e| bad_index(&path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(read_error(&path)(source)),
    }
}

fn bad_index(path: &Path, e: crate::remote::RemoteError) -> PublishError {
    let message = match e {
        crate::remote::RemoteError::BadIndex {
            line: Some(n),
            message,
            ..
        } => format!("line {n}: {message}"),
        crate::remote::RemoteError::BadIndex { message, .. } => message,
        other => other.to_string(),
    };
    PublishError::BadIndex {
        path: path.to_path_buf(),
        message,
    }
}

/// One name's index file as it is: its path, its text and its lines.
pub(crate) struct IndexFile {
    pub path: PathBuf,
    pub text: String,
    pub lines: Vec<IndexLine>,
}

impl IndexFile {
    pub(crate) fn read(reg: &Path, name: &str) -> Result<IndexFile, PublishError> {
        let path = reg.join(INDEX_DIR).join(sparse::index_path(name));
        let text = match fs_err::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(read_error(&path)(source)),
        };
        let lines = sparse::parse_index(name, &text, &path.display().to_string())
            .map_err(|e| bad_index(&path, e))?;
        Ok(IndexFile { path, text, lines })
    }
}

/// Replaces `path` atomically, creating its directory.
pub(crate) fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), PublishError> {
    let parent = path.parent().expect("a registry file has a directory");
    std::fs::create_dir_all(parent).map_err(|source| crate::apply::WriteError::Io {
        path: parent.to_path_buf(),
        source,
    })?;
    crate::apply::write_file_atomic(path, bytes.as_ref())?;
    Ok(())
}

/// Sets `name`'s line in the search file to its newest version not yanked (none when all
/// are), keeping the file sorted by name.
pub(crate) fn update_search(
    reg: &Path,
    config: &Config,
    name: &str,
    lines: &[IndexLine],
) -> Result<(), PublishError> {
    let path = reg.join(config.search.as_deref().unwrap_or(SEARCH_FILE));
    let text = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(read_error(&path)(source)),
    };
    let mut rows: Vec<(String, String)> = Vec::new();
    for (n, raw) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| PublishError::BadIndex {
                path: path.clone(),
                message: format!("line {}: {e}", n + 1),
            })?;
        let row_name = value
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        if row_name != name {
            rows.push((row_name.to_string(), raw.to_string()));
        }
    }
    if let Some(newest) = lines
        .iter()
        .filter(|l| !l.yanked)
        .max_by_key(|l| l.version())
    {
        rows.push((name.to_string(), newest.to_json()));
    }
    rows.sort();
    let mut out = String::new();
    for (_, raw) in rows {
        out.push_str(&raw);
        out.push('\n');
    }
    write(&path, &out)
}
