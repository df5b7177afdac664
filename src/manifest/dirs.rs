//! Listing a bundle's directories and reading its files, for [`BundleTree::read`].
//!
//! On Unix every entry is opened relative to its open directory (`openat`), so the kernel
//! does not walk the whole path from the working directory again for each one; elsewhere
//! entries are opened by path. Either way an entry's type comes from the listing, and
//! no link is followed.
//!
//! [`BundleTree::read`]: super::tree::BundleTree::read

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// What a directory entry is, links not followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Dir,
    Symlink,
    /// Anything else: read as a file.
    File,
}

/// How much of a file is read before its size is asked for: most files in a bundle fit,
/// and then reading them costs no system call to learn their size.
const FIRST_READ: usize = 16 * 1024;

/// Reads a file to its end when its size fits in `room` bytes: `None` when it does not.
/// A file larger than [`FIRST_READ`] is measured before the rest is read, so a file past
/// the limit is never read in full. `size` gives the size of a file that cannot be
/// opened, so that a file past the limit counts as such even when it is unreadable.
fn read_at_most(
    file: io::Result<File>,
    room: u64,
    size: impl FnOnce() -> io::Result<u64>,
) -> io::Result<Option<Vec<u8>>> {
    let mut file = match file {
        Ok(f) => f,
        Err(e) => return if size()? > room { Ok(None) } else { Err(e) },
    };
    let mut first = [0u8; FIRST_READ];
    let mut filled = 0;
    while filled < first.len() {
        match file.read(&mut first[filled..]) {
            Ok(0) => return fits(first[..filled].to_vec(), room),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if filled as u64 > room {
        return Ok(None);
    }
    let len = file.metadata()?.len();
    if len > room {
        return Ok(None);
    }
    // Room for one byte more than the size, so that the end is found by one more read.
    let mut content = Vec::with_capacity(len as usize + 1);
    content.extend_from_slice(&first);
    file.take(room.saturating_add(1).saturating_sub(filled as u64))
        .read_to_end(&mut content)?;
    fits(content, room)
}

fn fits(content: Vec<u8>, room: u64) -> io::Result<Option<Vec<u8>>> {
    Ok((content.len() as u64 <= room).then_some(content))
}

#[cfg(unix)]
pub(super) use unix::Root;

#[cfg(not(unix))]
pub(super) use portable::Root;

#[cfg(unix)]
mod unix {
    use std::cell::{Cell, Ref, RefCell};
    use std::os::fd::OwnedFd;
    use std::os::unix::ffi::OsStringExt;

    use rustix::fs::{AtFlags, CWD, Dir, FileType, Mode, OFlags, openat, readlinkat, statat};

    use super::*;

    /// An open bundle directory. Its own listing reads the same descriptor the
    /// directories below are opened from, so no second one is made for it.
    pub struct Root {
        dir: RefCell<Dir>,
        /// Whether the descriptor was read already, and must be rewound to list again.
        listed: Cell<bool>,
    }

    impl Root {
        pub fn open(dir: &Path) -> io::Result<Root> {
            Ok(Root {
                dir: RefCell::new(Dir::new(open_dir(CWD, dir)?)?),
                listed: Cell::new(false),
            })
        }

        /// Lists the directory at `rel` (relative to the root; empty for the root itself),
        /// sorted by name.
        pub fn list(&self, rel: &Path) -> io::Result<Listing<'_>> {
            if rel.as_os_str().is_empty() {
                let entries = {
                    let mut dir = self.dir.borrow_mut();
                    if self.listed.replace(true) {
                        dir.rewind();
                    }
                    entries(&mut dir)?
                };
                let dir = Source::Root(self.dir.borrow());
                return Ok(Listing { dir, entries });
            }
            let fd = open_dir(self.dir.borrow().fd()?, rel)?;
            let mut dir = Dir::new(fd)?;
            let entries = entries(&mut dir)?;
            Ok(Listing {
                dir: Source::Own(dir),
                entries,
            })
        }
    }

    /// A directory's entries and their kinds, sorted by name.
    fn entries(dir: &mut Dir) -> io::Result<Vec<(OsString, Kind)>> {
        let mut entries = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let name = OsString::from_vec(name.to_vec());
            let kind = kind(dir, &name, entry.file_type())?;
            entries.push((name, kind));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    enum Source<'r> {
        Own(Dir),
        Root(Ref<'r, Dir>),
    }

    /// One listed directory: its entries, and the directory to open them from.
    pub struct Listing<'r> {
        dir: Source<'r>,
        pub entries: Vec<(OsString, Kind)>,
    }

    impl Listing<'_> {
        fn dir(&self) -> &Dir {
            match &self.dir {
                Source::Own(d) => d,
                Source::Root(d) => d,
            }
        }

        pub fn read_link(&self, name: &OsString) -> io::Result<PathBuf> {
            let target = readlinkat(self.dir().fd()?, name.as_os_str(), Vec::new())?;
            Ok(PathBuf::from(OsString::from_vec(target.into_bytes())))
        }

        /// The file `name`'s content, when its size fits in `room` bytes.
        pub fn read_file(&self, name: &OsString, room: u64) -> io::Result<Option<Vec<u8>>> {
            let dir = self.dir().fd()?;
            let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
            let file = openat(dir, name.as_os_str(), flags, Mode::empty()).map(File::from);
            read_at_most(file.map_err(io::Error::from), room, || {
                let stat = statat(dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)?;
                Ok(stat.st_size as u64)
            })
        }
    }

    fn open_dir<Fd: std::os::fd::AsFd>(at: Fd, path: &Path) -> io::Result<OwnedFd> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(openat(at, path, flags, Mode::empty())?)
    }

    /// The entry's type from the listing; asked of the file system (links not followed)
    /// when the listing does not say.
    fn kind(dir: &Dir, name: &OsString, listed: FileType) -> io::Result<Kind> {
        let file_type = match listed {
            FileType::Unknown => {
                let stat = statat(dir.fd()?, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)?;
                FileType::from_raw_mode(stat.st_mode)
            }
            known => known,
        };
        Ok(match file_type {
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Symlink,
            _ => Kind::File,
        })
    }
}

#[cfg(not(unix))]
mod portable {
    use super::*;

    /// A bundle directory.
    pub struct Root(PathBuf);

    impl Root {
        pub fn open(dir: &Path) -> io::Result<Root> {
            Ok(Root(dir.to_path_buf()))
        }

        /// Lists the directory at `rel` (relative to the root), sorted by name.
        pub fn list(&self, rel: &Path) -> io::Result<Listing> {
            let dir = self.0.join(rel);
            let mut entries = Vec::new();
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let file_type = entry.file_type()?;
                let kind = if file_type.is_symlink() {
                    Kind::Symlink
                } else if file_type.is_dir() {
                    Kind::Dir
                } else {
                    Kind::File
                };
                entries.push((entry.file_name(), kind));
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(Listing { dir, entries })
        }
    }

    /// One listed directory: its entries, and its path to open them from.
    pub struct Listing {
        dir: PathBuf,
        pub entries: Vec<(OsString, Kind)>,
    }

    impl Listing {
        pub fn read_link(&self, name: &OsString) -> io::Result<PathBuf> {
            std::fs::read_link(self.dir.join(name))
        }

        /// The file `name`'s content, when its size fits in `room` bytes.
        pub fn read_file(&self, name: &OsString, room: u64) -> io::Result<Option<Vec<u8>>> {
            let path = self.dir.join(name);
            read_at_most(File::open(&path), room, || {
                Ok(path.symlink_metadata()?.len())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(content: &[u8], room: u64) -> Option<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, content).unwrap();
        read_at_most(File::open(&path), room, || unreachable!()).unwrap()
    }

    #[test]
    fn reads_files_on_both_sides_of_the_first_read() {
        for len in [
            0,
            1,
            FIRST_READ - 1,
            FIRST_READ,
            FIRST_READ + 1,
            3 * FIRST_READ,
        ] {
            let content: Vec<u8> = (0..len).map(|i| i as u8).collect();
            assert_eq!(
                read(&content, 1 << 20).as_deref(),
                Some(&content[..]),
                "{len}"
            );
        }
    }

    #[test]
    fn a_file_past_the_room_is_not_returned() {
        let content = vec![7u8; 2 * FIRST_READ];
        assert_eq!(read(&content, content.len() as u64 - 1), None);
        assert_eq!(read(&content, 10), None);
        assert_eq!(read(&content[..11], 10), None);
        assert_eq!(read(&content[..10], 10).map(|c| c.len()), Some(10));
    }

    #[test]
    fn an_unopenable_file_past_the_room_counts_as_too_large() {
        let missing = || Err(io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(read_at_most(missing(), 5, || Ok(6)).unwrap(), None);
        assert!(read_at_most(missing(), 5, || Ok(5)).is_err());
    }
}
