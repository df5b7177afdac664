//! The cache every project shares, under `$XDG_CACHE_HOME/capm` (`~/.cache/capm`):
//!
//! ```text
//! blobs/sha256/ab/abcdef…   archives and OCI blobs, by the digest of their bytes
//! index/KEY/…               index files of a registry, each with `FILE.meta` (validators)
//! git/db/KEY.git            bare repositories; git/checkouts/KEY/COMMIT/ trees
//! oci/KEY/…                 tag lists
//! tmp/                      staging: every entry is written there, then renamed in place
//! ```
//!
//! `KEY` names a URL: a readable slug and 16 hex digits of its sha256. Entries are written
//! to `tmp/` and renamed, so a reader sees a whole entry or none, whatever other capm
//! processes do; a blob is hashed again on every read, and one that does not match its
//! name is removed and reported missing.
//!
//! `CACHEDIR.TAG` marks the root for backup tools; `.capm-lock` is held shared by every
//! capm that uses the cache and exclusively by `capm cache clean` / `prune`
//! (`housekeeping.rs`). Reading an entry touches its mtime (at most once an hour), which
//! `prune` takes as its last use.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::RemoteError;
use super::http::Validators;

mod housekeeping;

pub use housekeeping::{CacheLock, CleanReport, PruneReport, SizeReport};

/// The cache at a root directory (created on first write).
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
    /// With [`Cache::once_per_operation`]: the index files already revalidated by this
    /// operation (shared by every clone), each with whether the server had it.
    checked: Option<Arc<Mutex<HashMap<PathBuf, bool>>>>,
    /// With [`Cache::held_while_used`]: the shared lock this process takes on first use, so
    /// that `capm cache clean` or `prune` in another process waits for it.
    held: Option<Arc<std::sync::OnceLock<Option<housekeeping::CacheLock>>>>,
}

/// `text` in lower case with every character but ASCII letters and digits made a `-`
/// (`ghcr.io/org` → `ghcr-io-org`).
pub fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Checks that `bytes` have `digest`; `what` names them in the error (SC-002).
pub fn check_digest(what: String, digest: &str, bytes: &[u8]) -> Result<(), RemoteError> {
    let actual = sha256(bytes);
    if actual != digest {
        return Err(RemoteError::Digest {
            what,
            expected: digest.to_string(),
            actual,
        });
    }
    Ok(())
}

/// `sha256:HEX` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        crate::manifest::tree::hex(&Sha256::digest(bytes))
    )
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RemoteError + '_ {
    move |source| RemoteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `Ok(None)` for a file that is not there.
fn read_if_there(path: &Path) -> Result<Option<Vec<u8>>, RemoteError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

impl Cache {
    pub fn new(root: PathBuf) -> Cache {
        Cache {
            root,
            checked: None,
            held: None,
        }
    }

    /// This cache, held shared from its first use to the end of the process (the CLI's
    /// cache; tests that clean a cache in the same process do not hold it).
    pub fn held_while_used(self) -> Cache {
        Cache {
            held: Some(Arc::default()),
            ..self
        }
    }

    /// Takes the shared lock on first use, when the cache exists or is being written;
    /// best effort: a cache whose lock cannot be taken (read-only, or clean running past
    /// the wait) is still used, as before the lock existed.
    fn hold(&self, writing: bool) {
        let Some(held) = &self.held else { return };
        if held.get().is_some() || (!writing && !self.root.exists()) {
            return;
        }
        held.get_or_init(|| {
            self.lock_shared(std::time::Duration::from_secs(60), &|_| {})
                .ok()
        });
    }

    /// This cache, remembering from now on which index files were revalidated through it
    /// (or a clone), so that one operation asks the server for each at most once: an
    /// install plans twice (before asking and under the lock) and revalidates once. Made
    /// anew for each operation (a command, a request of `capm serve`), which then sees
    /// what the server has at that time.
    pub fn once_per_operation(self) -> Cache {
        Cache {
            checked: Some(Arc::default()),
            ..self
        }
    }

    /// Whether this operation already revalidated the index file `rel` of an area, and
    /// whether the server had it (`None`: not yet, or no memory of it).
    pub fn checked(&self, area: &str, key: &str, rel: &str) -> Option<bool> {
        let checked = self.checked.as_ref()?;
        let path = self.dir(area, key).join(rel);
        checked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&path)
            .copied()
    }

    /// Records that this operation revalidated `rel` (`present`: the server had it).
    pub fn mark_checked(&self, area: &str, key: &str, rel: &str, present: bool) {
        if let Some(checked) = &self.checked {
            let path = self.dir(area, key).join(rel);
            checked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path, present);
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The key of a URL: its host and path as a slug (at most 40 characters), and 16 hex
    /// digits of its sha256.
    pub fn key(url: &str) -> String {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let mut slug = slug(rest);
        slug.truncate(40);
        let slug = slug.trim_matches('-');
        let hash = crate::manifest::tree::hex(&Sha256::digest(url.as_bytes()));
        format!("{slug}-{}", &hash[..16])
    }

    /// A directory of an area (`index`, `git/db`, `oci`) for a key.
    pub fn dir(&self, area: &str, key: &str) -> PathBuf {
        self.root.join(area).join(key)
    }

    fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        let shard = hex.get(..2).unwrap_or("00");
        self.root.join("blobs/sha256").join(shard).join(hex)
    }

    /// The bytes stored under `digest`, checked against it; `None` when absent or damaged
    /// (a damaged blob is removed).
    pub fn blob(&self, digest: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        self.hold(false);
        let path = self.blob_path(digest);
        let Some(bytes) = read_if_there(&path)? else {
            return Ok(None);
        };
        if sha256(&bytes) != digest {
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        }
        touch(&path);
        Ok(Some(bytes))
    }

    /// Stores `bytes` under `digest`, after checking that they have it.
    pub fn put_blob(&self, digest: &str, bytes: &[u8]) -> Result<(), RemoteError> {
        check_digest(format!("blob {digest}"), digest, bytes)?;
        self.write(&self.blob_path(digest), bytes)
    }

    /// A file of an area, and the validators it was fetched with.
    pub fn file(
        &self,
        area: &str,
        key: &str,
        rel: &str,
    ) -> Result<Option<(Vec<u8>, Validators)>, RemoteError> {
        self.hold(false);
        let path = self.dir(area, key).join(rel);
        let Some(body) = read_if_there(&path)? else {
            return Ok(None);
        };
        let meta = read_if_there(&meta_path(&path))?;
        let Some(meta) = meta.and_then(|m| serde_json::from_slice::<Meta>(&m).ok()) else {
            return Ok(None);
        };
        // Body and meta written by two different processes: treat as absent.
        if meta.sha256 != sha256(&body) {
            return Ok(None);
        }
        touch(&path);
        Ok(Some((
            body,
            Validators {
                etag: meta.etag,
                last_modified: meta.last_modified,
            },
        )))
    }

    /// Stores a file of an area with its validators.
    pub fn put_file(
        &self,
        area: &str,
        key: &str,
        rel: &str,
        body: &[u8],
        validators: &Validators,
    ) -> Result<(), RemoteError> {
        let path = self.dir(area, key).join(rel);
        self.write(&path, body)?;
        let meta = Meta {
            sha256: sha256(body),
            etag: validators.etag.clone(),
            last_modified: validators.last_modified.clone(),
        };
        let meta = serde_json::to_vec(&meta).expect("meta serialises");
        self.write(&meta_path(&path), &meta)
    }

    /// Writes `bytes` at `path` through `tmp/` and a rename.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), RemoteError> {
        use std::io::Write;
        let tmp_dir = self.root.join("tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(io(&tmp_dir))?;
        self.tag()?;
        self.hold(true);
        let parent = path.parent().expect("a cache path has a parent");
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let mut tmp = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(io(&tmp_dir))?;
        tmp.write_all(bytes).map_err(io(tmp.path()))?;
        tmp.persist(path).map_err(|e| io(path)(e.error))?;
        Ok(())
    }
}

/// Records a use of the entry at `path` for `prune`: sets its mtime to now when it is more
/// than an hour old (so reads do not write every time). Best effort: a read-only cache
/// still answers.
pub fn touch(path: &Path) {
    let now = std::time::SystemTime::now();
    let stale = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > TOUCH_EVERY);
    if stale && let Ok(f) = std::fs::File::open(path) {
        let _ = f.set_modified(now);
    }
}

/// How often a read records a use of an entry.
pub const TOUCH_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

fn meta_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".meta");
    PathBuf::from(s)
}

/// What `FILE.meta` records of `FILE`.
#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    sha256: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_checked_on_the_way_in_and_out() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let d = sha256(b"hello");
        assert!(cache.blob(&d).unwrap().is_none());
        assert!(matches!(
            cache.put_blob(&d, b"other"),
            Err(RemoteError::Digest { .. })
        ));
        cache.put_blob(&d, b"hello").unwrap();
        assert_eq!(cache.blob(&d).unwrap().unwrap(), b"hello");
        std::fs::write(cache.blob_path(&d), b"damaged").unwrap();
        assert!(cache.blob(&d).unwrap().is_none());
        assert!(!cache.blob_path(&d).exists(), "a damaged blob is removed");
    }

    #[test]
    fn files_keep_their_validators_and_a_mismatched_pair_is_absent() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let key = Cache::key("https://reg.example.com/capm/");
        assert!(key.starts_with("reg-example-com-capm-"), "{key}");
        let v = Validators {
            etag: Some("\"e1\"".into()),
            last_modified: None,
        };
        cache
            .put_file("index", &key, "gi/th/github", b"line\n", &v)
            .unwrap();
        let (body, got) = cache.file("index", &key, "gi/th/github").unwrap().unwrap();
        assert_eq!((body.as_slice(), got), (&b"line\n"[..], v));
        std::fs::write(cache.dir("index", &key).join("gi/th/github"), b"changed").unwrap();
        assert!(cache.file("index", &key, "gi/th/github").unwrap().is_none());
    }
}
