//! A bundle as one archive file: a deterministic `.tar.gz` (or a `.tar.zst` read), packed
//! from and unpacked into a [`crate::manifest::tree::BundleTree`].
//!
//! Packing is byte-reproducible (entries sorted, mode 0644, owner 0, mtime 0, no names in
//! the gzip header), so the same bundle always gives the same archive digest. Unpacking
//! trusts nothing: absolute paths, `..`, links, devices and duplicate paths are refused, and
//! the bundle limits are enforced while decompressing, so an archive that inflates without
//! end is stopped at the limit.

use std::io::Read;

use crate::manifest::tree::{BundleTree, Entry, MAX_BUNDLE_BYTES, MAX_BUNDLE_FILES};

use super::RemoteError;

/// The compression of an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    TarGz,
    TarZst,
}

impl Format {
    /// The file name extension (and the `format` of an index line): `tar.gz`, `tar.zst`.
    pub fn ext(self) -> &'static str {
        match self {
            Format::TarGz => "tar.gz",
            Format::TarZst => "tar.zst",
        }
    }

    /// The format an extension names.
    pub fn from_ext(ext: &str) -> Option<Format> {
        match ext {
            "tar.gz" => Some(Format::TarGz),
            "tar.zst" => Some(Format::TarZst),
            _ => None,
        }
    }
}

/// Packs the regular files of `tree` as a reproducible `.tar.gz`.
pub fn pack(tree: &BundleTree) -> Vec<u8> {
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    // `entries` is a BTreeMap: sorted by path already.
    for (path, entry) in &tree.entries {
        let Entry::File(bytes) = entry else { continue };
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(bytes.len() as u64);
        tar.append_data(&mut header, path, &bytes[..])
            .expect("a bundle path is relative and writing to memory cannot fail");
    }
    let gz = tar.into_inner().expect("writing to memory cannot fail");
    gz.finish().expect("writing to memory cannot fail")
}

/// Reads a `.tar.gz` or `.tar.zst` into a tree shown as `display`.
pub fn unpack(bytes: &[u8], format: Format, display: &str) -> Result<BundleTree, RemoteError> {
    let bad = |message: String| RemoteError::BadArchive {
        what: display.to_string(),
        message,
    };
    let inflated: Box<dyn Read + '_> = match format {
        Format::TarGz => Box::new(flate2::read::GzDecoder::new(bytes)),
        Format::TarZst => Box::new(
            ruzstd::decoding::StreamingDecoder::new(bytes)
                .map_err(|e| bad(format!("not a zstd stream: {e}")))?,
        ),
    };
    // Headers and padding aside, no more than the bundle limit is ever inflated.
    let budget = MAX_BUNDLE_BYTES + 2048 * (MAX_BUNDLE_FILES as u64 + 2);
    let mut archive = tar::Archive::new(inflated.take(budget));
    let files = read_entries(&mut archive).map_err(bad)?;
    check_prefixes(&files).map_err(bad)?;
    Ok(BundleTree::from_files(
        display,
        files.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
    ))
}

type Files = std::collections::BTreeMap<String, Vec<u8>>;

/// Every regular file of the archive by its relative path, within the bundle limits.
fn read_entries(archive: &mut tar::Archive<impl Read>) -> Result<Files, String> {
    let mut files = Files::new();
    let (mut count, mut total) = (0usize, 0u64);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            continue;
        }
        count += 1;
        if count > MAX_BUNDLE_FILES {
            return Err(format!("more than {MAX_BUNDLE_FILES} entries"));
        }
        let path = entry_path(&entry)?;
        if kind.is_dir() {
            continue;
        }
        if path.is_empty() {
            return Err("a file without a name".into());
        }
        if !(kind.is_file() || kind.is_contiguous()) {
            return Err(format!("`{path}` is not a regular file ({kind:?})"));
        }
        let size = entry.size();
        total += size;
        if total > MAX_BUNDLE_BYTES {
            return Err(format!("more than {MAX_BUNDLE_BYTES} bytes"));
        }
        let mut content = Vec::with_capacity(size.min(1 << 20) as usize);
        entry
            .read_to_end(&mut content)
            .map_err(|e| format!("`{path}`: {e}"))?;
        if files.insert(path.clone(), content).is_some() {
            return Err(format!("`{path}` appears twice"));
        }
    }
    Ok(files)
}

/// An entry's path relative to the bundle root, `/`-separated; absolute or `..` refused.
fn entry_path(entry: &tar::Entry<'_, impl Read>) -> Result<String, String> {
    use std::path::Component;
    let raw = entry.path().map_err(|e| e.to_string())?;
    let mut parts = Vec::new();
    for c in raw.components() {
        match c {
            Component::Normal(p) => parts.push(
                p.to_str()
                    .ok_or_else(|| format!("`{}` is not UTF-8", raw.display()))?,
            ),
            Component::CurDir => {}
            Component::ParentDir => return Err(format!("`{}` leaves the bundle", raw.display())),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("`{}` is an absolute path", raw.display()));
            }
        }
    }
    Ok(parts.join("/"))
}

/// Refuses a file that is also the directory of another (`a` and `a/b`).
fn check_prefixes(files: &Files) -> Result<(), String> {
    for path in files.keys() {
        let dir = format!("{path}/");
        if let Some((below, _)) = files.range(dir.clone()..).next()
            && below.starts_with(&dir)
        {
            return Err(format!("`{path}` is both a file and a directory"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kit() -> BundleTree {
        BundleTree::from_files(
            "kit",
            [
                ("bundle.toml", &b"[bundle]\nname = \"kit\"\n"[..]),
                ("skills/a/SKILL.md", b"---\nname: a\n---\n"),
                ("agents/rev.md", b"review"),
            ],
        )
    }

    /// A tar with raw headers, so that refused shapes can be written.
    fn raw_tar(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn refusal(entries: &[(&str, tar::EntryType, &[u8])]) -> String {
        match unpack(&gz(&raw_tar(entries)), Format::TarGz, "x") {
            Err(RemoteError::BadArchive { message, .. }) => message,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_round_trip_keeps_the_content_digest() {
        let tree = kit();
        let back = unpack(&pack(&tree), Format::TarGz, "kit").unwrap();
        assert_eq!(back.content_digest(), tree.content_digest());
        assert_eq!(back.file("agents/rev.md"), Some(&b"review"[..]));
    }

    #[test]
    fn packing_twice_gives_the_same_bytes_without_names_or_times() {
        let (a, b) = (pack(&kit()), pack(&kit()));
        assert_eq!(a, b);
        // gzip header: mtime 0 (bytes 4..8), no FNAME flag (bit 3 of byte 3).
        assert_eq!(&a[4..8], &[0, 0, 0, 0]);
        assert_eq!(a[3] & 0x08, 0);
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&a[..]));
        let paths: Vec<String> = tar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                assert_eq!(
                    (h.mode().unwrap(), h.uid().unwrap(), h.mtime().unwrap()),
                    (0o644, 0, 0)
                );
                assert_eq!(h.username().unwrap(), Some(""));
                e.path().unwrap().display().to_string()
            })
            .collect();
        assert_eq!(paths, ["agents/rev.md", "bundle.toml", "skills/a/SKILL.md"]);
    }

    #[test]
    fn a_zstd_archive_is_read_too() {
        let tar = raw_tar(&[("bundle.toml", tar::EntryType::Regular, b"x")]);
        let zst = ruzstd::encoding::compress_to_vec(
            &tar[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        let tree = unpack(&zst, Format::TarZst, "z").unwrap();
        assert_eq!(tree.file("bundle.toml"), Some(&b"x"[..]));
    }

    #[test]
    fn unsafe_entries_are_refused() {
        use tar::EntryType as T;
        assert!(refusal(&[("/etc/passwd", T::Regular, b"x")]).contains("absolute"));
        assert!(refusal(&[("a/../../x", T::Regular, b"x")]).contains("leaves the bundle"));
        assert!(refusal(&[("link", T::Symlink, b"")]).contains("not a regular file"));
        assert!(refusal(&[("hard", T::Link, b"")]).contains("not a regular file"));
        assert!(refusal(&[("dev", T::Char, b"")]).contains("not a regular file"));
        assert!(refusal(&[("fifo", T::Fifo, b"")]).contains("not a regular file"));
        let twice = [("a", T::Regular, &b"1"[..]), ("./a", T::Regular, b"2")];
        assert!(refusal(&twice).contains("appears twice"));
        assert!(refusal(&[("./", T::Regular, b"x")]).contains("without a name"));
        let both = [("a", T::Regular, &b"1"[..]), ("a/b", T::Regular, b"2")];
        assert!(refusal(&both).contains("both a file and a directory"));
    }

    #[test]
    fn garbage_is_refused() {
        for format in [Format::TarGz, Format::TarZst] {
            let got = unpack(b"not an archive at all", format, "x");
            assert!(
                matches!(got, Err(RemoteError::BadArchive { .. })),
                "{got:?}"
            );
        }
    }

    #[test]
    fn too_many_entries_are_refused() {
        let names: Vec<String> = (0..=MAX_BUNDLE_FILES).map(|i| format!("f{i}")).collect();
        let entries: Vec<_> = names
            .iter()
            .map(|n| (n.as_str(), tar::EntryType::Regular, &b""[..]))
            .collect();
        assert!(refusal(&entries).contains("entries"));
    }

    #[test]
    fn a_bomb_stops_at_the_byte_limit_without_inflating_it_all() {
        use std::io::Write;
        // One entry claiming 4 GiB of zeros; the gzip stream is tiny.
        let mut h = tar::Header::new_gnu();
        h.set_path("big").unwrap();
        h.set_size(4 << 30);
        h.set_cksum();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(h.as_bytes()).unwrap();
        e.write_all(&vec![0u8; 1 << 20]).unwrap();
        let bomb = e.finish().unwrap();
        // Refused on the header's size, before its data is inflated (the stream is cut
        // short: reading on would fail with another message).
        let got = unpack(&bomb, Format::TarGz, "x");
        assert!(
            matches!(&got, Err(RemoteError::BadArchive { message, .. }) if message.contains("more than")),
            "{got:?}"
        );
    }
}
