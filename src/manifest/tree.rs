//! A bundle's files, read once into memory: from a directory on disk or from the catalog
//! embedded in the binary. Validation, digests and (later) installs all work on this one
//! snapshot, so what is checked is exactly what is installed.
//!
//! Reading never follows symlinks: a link is recorded as a link, with where it points, and
//! validation refuses it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::dirs;

/// At most this many entries are read from one bundle directory.
pub const MAX_BUNDLE_FILES: usize = 10_000;
/// At most this many bytes are read from one bundle directory.
pub const MAX_BUNDLE_BYTES: u64 = 100 * 1024 * 1024;
/// The name of a bundle's manifest.
pub const MANIFEST: &str = "bundle.toml";

/// One entry of a bundle, keyed by its `/`-separated path relative to the bundle root.
#[derive(Clone, Debug)]
pub enum Entry {
    File(Cow<'static, [u8]>),
    Dir,
    Symlink {
        /// What the link points at, as written in the link.
        target: PathBuf,
        /// Whether the target, resolved lexically from the link's directory, leaves the bundle.
        escapes: bool,
    },
}

/// A snapshot of a bundle directory.
#[derive(Clone, Debug)]
pub struct BundleTree {
    /// How to show the bundle's directory to the user (`bundles/github`).
    pub display_root: String,
    pub entries: BTreeMap<String, Entry>,
    /// Set when the directory held more than [`MAX_BUNDLE_FILES`] entries or
    /// [`MAX_BUNDLE_BYTES`] bytes; the snapshot is then incomplete.
    pub too_large: bool,
    /// For a bundle translated from another format: the files it was read from.
    pub origin: Option<std::sync::Arc<super::origin::Origin>>,
}

impl BundleTree {
    /// Reads a bundle directory from disk.
    pub fn read(dir: &Path, display_root: impl Into<String>) -> io::Result<BundleTree> {
        tracing::debug!("reading the bundle directory `{}`", dir.display());
        let root = dirs::OpenDir::open(dir)?;
        let mut tree = BundleTree {
            display_root: display_root.into(),
            entries: BTreeMap::new(),
            too_large: false,
            origin: None,
        };
        let mut bytes = 0u64;
        // Directories still to list: their path below the root, and as shown in `entries`.
        let mut stack = vec![(PathBuf::new(), String::new())];
        while let Some((at, rel)) = stack.pop() {
            let below = if at.as_os_str().is_empty() {
                None
            } else {
                Some(root.open_child(&at)?)
            };
            let dir = below.as_ref().unwrap_or(&root);
            for (name, kind) in &dir.entries {
                let shown = name.to_string_lossy();
                if rel.is_empty() && shown == ".git" {
                    continue;
                }
                let child_rel = if rel.is_empty() {
                    shown.to_string()
                } else {
                    [rel.as_str(), "/", &shown].concat()
                };
                if tree.entries.len() >= MAX_BUNDLE_FILES {
                    tree.too_large = true;
                    return Ok(tree);
                }
                let entry = match kind {
                    dirs::Kind::Symlink => {
                        let target = dir.read_link(name)?;
                        let escapes = link_escapes(&child_rel, &target);
                        Entry::Symlink { target, escapes }
                    }
                    dirs::Kind::Dir => {
                        stack.push((at.join(name), child_rel.clone()));
                        Entry::Dir
                    }
                    dirs::Kind::File => {
                        let room = MAX_BUNDLE_BYTES - bytes;
                        let Some(content) = dir.read_file(name, room)? else {
                            tree.too_large = true;
                            return Ok(tree);
                        };
                        bytes += content.len() as u64;
                        Entry::File(Cow::Owned(content))
                    }
                };
                tree.entries.insert(child_rel, entry);
            }
        }
        Ok(tree)
    }

    /// Builds a tree from a directory embedded in the binary.
    pub fn embedded(
        dir: &'static include_dir::Dir<'static>,
        display_root: impl Into<String>,
    ) -> BundleTree {
        let mut entries = BTreeMap::new();
        let base = dir.path();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for e in d.entries() {
                let rel = e
                    .path()
                    .strip_prefix(base)
                    .unwrap_or(e.path())
                    .to_string_lossy()
                    .replace('\\', "/");
                match e {
                    include_dir::DirEntry::Dir(sub) => {
                        entries.insert(rel, Entry::Dir);
                        stack.push(sub);
                    }
                    include_dir::DirEntry::File(f) => {
                        entries.insert(rel, Entry::File(Cow::Borrowed(f.contents())));
                    }
                }
            }
        }
        BundleTree {
            display_root: display_root.into(),
            entries,
            too_large: false,
            origin: None,
        }
    }

    /// An in-memory tree, for tests and generated bundles.
    pub fn from_files<'a>(
        display_root: &str,
        files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> BundleTree {
        let mut entries = BTreeMap::new();
        for (path, bytes) in files {
            let mut parent = String::new();
            for part in path
                .split('/')
                .collect::<Vec<_>>()
                .split_last()
                .map(|(_, p)| p)
                .unwrap_or(&[])
            {
                if !parent.is_empty() {
                    parent.push('/');
                }
                parent.push_str(part);
                entries.insert(parent.clone(), Entry::Dir);
            }
            entries.insert(path.to_string(), Entry::File(Cow::Owned(bytes.to_vec())));
        }
        BundleTree {
            display_root: display_root.to_string(),
            entries,
            too_large: false,
            origin: None,
        }
    }

    /// The path of a bundle file as the user should see it.
    pub fn display_path(&self, rel: &str) -> String {
        if self.display_root.is_empty() || self.display_root == "." {
            rel.to_string()
        } else {
            [self.display_root.trim_end_matches('/'), "/", rel].concat()
        }
    }

    pub fn get(&self, rel: &str) -> Option<&Entry> {
        self.entries.get(rel)
    }

    pub fn file(&self, rel: &str) -> Option<&[u8]> {
        match self.entries.get(rel) {
            Some(Entry::File(b)) => Some(b),
            _ => None,
        }
    }

    /// Every entry strictly below directory `rel` (all entries for the empty path).
    pub fn below<'a>(&'a self, rel: &'a str) -> impl Iterator<Item = (&'a String, &'a Entry)> + 'a {
        let prefix = if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        };
        self.entries
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
    }

    /// The content digest: sha256 over every file in byte order of its relative path, each
    /// as its path, a NUL byte, its length as 8 little-endian bytes, and its bytes.
    /// Directories count only through the files in them. Rendered as `sha256:HEX`.
    pub fn content_digest(&self) -> String {
        let files = self.entries.iter().filter_map(|(path, entry)| match entry {
            Entry::File(bytes) => Some((path.as_str(), bytes.as_ref())),
            _ => None,
        });
        digest_sorted_files(files)
    }
}

/// The content digest of files given by their paths (for a directory capm renders): the
/// digest of the tree [`BundleTree::from_files`] builds from them, without copying a byte.
/// As there, each file's parents are directories whatever came before (a file `a` given
/// before `a/b` is not digested), and a path given twice keeps its last content.
pub fn files_digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut entries: BTreeMap<&str, Option<&[u8]>> = BTreeMap::new();
    for (path, bytes) in files {
        for (slash, _) in path.match_indices('/') {
            entries.insert(&path[..slash], None);
        }
        entries.insert(path, Some(bytes));
    }
    digest_sorted_files(
        entries
            .into_iter()
            .filter_map(|(path, bytes)| Some((path, bytes?))),
    )
}

/// The content digest rule, over files in path order.
fn digest_sorted_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut h = Sha256::new();
    for (path, bytes) in files {
        hash_file(&mut h, path, bytes);
    }
    format!("sha256:{}", hex(&h.finalize()))
}

/// One file's part of a content digest: its path, a NUL byte, its length as 8
/// little-endian bytes, and its bytes.
fn hash_file(h: &mut Sha256, path: &str, bytes: &[u8]) {
    h.update(path.as_bytes());
    h.update([0u8]);
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// The digest of a directory on disk as capm compares it with what it wrote: the content
/// digest rule over every file (`.git` included), so a directory exactly as capm wrote it
/// has the digest of its rendered content. Anything capm never writes (a symbolic link, an
/// empty directory's absence aside) changes the digest, and a directory past the bundle
/// limits gets one that matches nothing capm wrote: either way it counts as modified by the
/// user, and is kept.
pub fn disk_digest(dir: &Path) -> io::Result<String> {
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    let mut links: Vec<(String, std::path::PathBuf)> = Vec::new();
    let mut bytes = 0u64;
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((abs, rel)) = stack.pop() {
        for child in std::fs::read_dir(&abs)? {
            let child = child?;
            let name = child.file_name().to_string_lossy().into_owned();
            let child_rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let meta = child.path().symlink_metadata()?;
            if meta.file_type().is_symlink() {
                links.push((child_rel, std::fs::read_link(child.path())?));
            } else if meta.is_dir() {
                stack.push((child.path(), child_rel));
            } else {
                bytes += meta.len();
                files.push((child_rel, child.path()));
            }
            if files.len() + links.len() > MAX_BUNDLE_FILES || bytes > MAX_BUNDLE_BYTES {
                return Ok(format!(
                    "sha256:beyond-bundle-limits-{}",
                    hex(&Sha256::digest(dir.as_os_str().as_encoded_bytes()))
                ));
            }
        }
    }
    files.sort();
    links.sort();
    let mut h = Sha256::new();
    for (rel, path) in &files {
        hash_file(&mut h, rel, &std::fs::read(path)?);
    }
    for (rel, target) in &links {
        h.update(rel.as_bytes());
        h.update([0xffu8]);
        h.update(target.as_os_str().as_encoded_bytes());
    }
    Ok(format!("sha256:{}", hex(&h.finalize())))
}

/// A manifest path as a key of [`BundleTree::entries`]: separators unified to `/`, empty
/// and `.` parts dropped (`./agents//rev.md` → `agents/rev.md`). `..` is kept; validation
/// refuses it.
pub fn normalise(path: &str) -> String {
    path.split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// Lower-case hexadecimal of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// `path` with its `.` and `..` components resolved lexically, whatever links say (lint
/// names files as it was given them, so `../x/bundle.toml` is a file beside the root; a
/// local git repository names one cache entry from any directory).
pub fn normalize_lexically(path: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether a link at `link_rel` (relative to the bundle root) pointing at `target` leaves the
/// bundle, judged lexically.
fn link_escapes(link_rel: &str, target: &Path) -> bool {
    if target.is_absolute() {
        return true;
    }
    let mut depth: i64 = link_rel.split('/').count() as i64 - 1;
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            _ => return true,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_depends_on_paths_and_bytes() {
        let a = BundleTree::from_files("a", [("x/y.md", b"hi".as_slice()), ("bundle.toml", b"t")]);
        let b = BundleTree::from_files("b", [("bundle.toml", b"t".as_slice()), ("x/y.md", b"hi")]);
        assert_eq!(a.content_digest(), b.content_digest());
        let c = BundleTree::from_files("c", [("x/z.md", b"hi".as_slice()), ("bundle.toml", b"t")]);
        assert_ne!(a.content_digest(), c.content_digest());
        // Moving a byte between a path and content changes the digest.
        let d = BundleTree::from_files("d", [("ab", b"c".as_slice())]);
        let e = BundleTree::from_files("e", [("a", b"bc".as_slice())]);
        assert_ne!(d.content_digest(), e.content_digest());
    }

    #[test]
    fn files_are_digested_as_the_tree_built_from_them() {
        let files = [
            ("x/y.md", b"hi".as_slice()),
            ("bundle.toml", b"t"),
            ("x/y.md", b"again"),
        ];
        let tree = BundleTree::from_files("t", files);
        assert_eq!(files_digest(files), tree.content_digest());
        assert_ne!(
            files_digest(files),
            files_digest(files[..2].iter().copied())
        );
        // A path that is a file and a parent: whichever the tree ends up holding.
        for files in [
            [("a", b"x".as_slice()), ("a/b", b"y")],
            [("a/b", b"y".as_slice()), ("a", b"x")],
            [("/a", b"x".as_slice()), ("a//b", b"y")],
        ] {
            let tree = BundleTree::from_files("t", files);
            assert_eq!(files_digest(files), tree.content_digest(), "{files:?}");
        }
    }

    #[test]
    fn hex_writes_two_lower_case_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn a_directory_is_read_whole_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("skills/s/ref")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("bundle.toml"), b"t").unwrap();
        std::fs::write(root.join("skills/s/SKILL.md"), b"skill").unwrap();
        std::fs::write(root.join("skills/s/ref/big.md"), vec![b'x'; 20_000]).unwrap();
        std::fs::write(root.join(".git/HEAD"), b"ref").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("../bundle.toml", root.join("skills/link")).unwrap();
        let tree = BundleTree::read(root, "b").unwrap();
        let mut expected = vec![
            "bundle.toml",
            "skills",
            "skills/s",
            "skills/s/SKILL.md",
            "skills/s/ref",
            "skills/s/ref/big.md",
        ];
        if cfg!(unix) {
            expected.insert(2, "skills/link");
            assert!(matches!(
                tree.get("skills/link"),
                Some(Entry::Symlink { escapes: false, .. })
            ));
        }
        assert_eq!(tree.entries.keys().collect::<Vec<_>>(), expected);
        assert_eq!(tree.file("skills/s/SKILL.md"), Some(b"skill".as_slice()));
        assert_eq!(
            tree.file("skills/s/ref/big.md").map(<[u8]>::len),
            Some(20_000)
        );
        assert!(!tree.too_large);
    }

    #[test]
    fn a_file_past_the_byte_limit_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bundle.toml"), b"t").unwrap();
        let big = std::fs::File::create(dir.path().join("big.bin")).unwrap();
        big.set_len(MAX_BUNDLE_BYTES + 1).unwrap();
        let tree = BundleTree::read(dir.path(), "b").unwrap();
        assert!(tree.too_large);
        assert!(tree.get("big.bin").is_none());
        assert_eq!(
            tree.file("bundle.toml"),
            None,
            "read in name order, after big.bin"
        );
    }

    #[test]
    fn links_that_leave_are_found() {
        assert!(link_escapes("a", Path::new("/etc/passwd")));
        assert!(link_escapes("a", Path::new("../x")));
        assert!(link_escapes("d/a", Path::new("../../x")));
        assert!(!link_escapes("d/a", Path::new("../x")));
        assert!(!link_escapes("a", Path::new("./b/c")));
    }
}
