//! Listing directories and reading their files, for [`BundleTree::read`] and for the
//! search for bundle directories behind `capm lint`.
//!
//! On Unix every entry is opened relative to its open directory (`openat`), so the kernel
//! does not walk the whole path from the working directory again for each one; elsewhere
//! entries are opened by path. Either way an entry's type comes from the listing, and
//! no link is followed.
//!
//! [`BundleTree::read`]: super::tree::BundleTree::read

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// What a directory entry is, links not followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
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
    let first = match read_first(&mut file)? {
        First::Whole(content) => return fits(content, room),
        First::Start(start) => start,
    };
    let filled = first.len();
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

/// The first [`FIRST_READ`] bytes of a file: all of it, or the start of a larger one.
enum First {
    Whole(Vec<u8>),
    Start(Vec<u8>),
}

/// Reads up to [`FIRST_READ`] bytes into the thread's read buffer (zeroed once, not for
/// every file), and copies out what was read.
fn read_first(file: &mut File) -> io::Result<First> {
    use std::cell::RefCell;
    thread_local! {
        static BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; FIRST_READ].into_boxed_slice());
    }
    BUFFER.with_borrow_mut(|first| {
        let mut filled = 0;
        while filled < first.len() {
            match file.read(&mut first[filled..]) {
                Ok(0) => return Ok(First::Whole(first[..filled].to_vec())),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(First::Start(first.to_vec()))
    })
}

fn fits(content: Vec<u8>, room: u64) -> io::Result<Option<Vec<u8>>> {
    Ok((content.len() as u64 <= room).then_some(content))
}

#[cfg(unix)]
pub use unix::OpenDir;

#[cfg(not(unix))]
pub use portable::OpenDir;

/// Sorts a listing by name.
fn sorted(mut entries: Vec<(OsString, Kind)>) -> Vec<(OsString, Kind)> {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

#[cfg(unix)]
mod unix {
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::ffi::OsStringExt;

    use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags, openat, readlinkat, statat};

    use super::*;

    /// An open directory and its entries, sorted by name. The directories below it are
    /// opened relative to it, and its files are read through the same descriptor.
    pub struct OpenDir {
        fd: OwnedFd,
        pub entries: Vec<(OsString, Kind)>,
    }

    impl OpenDir {
        /// Opens and lists the directory at `path`.
        pub fn open(path: &Path) -> io::Result<OpenDir> {
            Self::list(open_dir(CWD, path)?)
        }

        /// Opens and lists the directory at `rel`, relative to this one.
        pub fn open_child(&self, rel: &Path) -> io::Result<OpenDir> {
            Self::list(open_dir(&self.fd, rel)?)
        }

        fn list(fd: OwnedFd) -> io::Result<OpenDir> {
            let entries = sorted(read_entries(&fd)?);
            Ok(OpenDir { fd, entries })
        }

        /// Whether `rel`, relative to this directory, is a regular file, links followed
        /// (as [`Path::is_file`] says).
        pub fn is_file(&self, rel: &Path) -> bool {
            statat(&self.fd, rel, AtFlags::empty())
                .is_ok_and(|s| FileType::from_raw_mode(s.st_mode).is_file())
        }

        /// Where the link `name` here points.
        pub fn read_link(&self, name: &OsStr) -> io::Result<PathBuf> {
            let target = readlinkat(&self.fd, name, Vec::new())?;
            Ok(PathBuf::from(OsString::from_vec(target.into_bytes())))
        }

        /// The content of the file `name` here, when its size fits in `room` bytes.
        pub fn read_file(&self, name: &OsStr, room: u64) -> io::Result<Option<Vec<u8>>> {
            let dir = &self.fd;
            let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
            let file = openat(dir, name, flags, Mode::empty()).map(File::from);
            read_at_most(file.map_err(io::Error::from), room, || {
                let stat = statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
                Ok(stat.st_size as u64)
            })
        }
    }

    fn open_dir<Fd: AsFd>(at: Fd, path: &Path) -> io::Result<OwnedFd> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(openat(at, path, flags, Mode::empty())?)
    }

    /// The size of the buffer each thread lists directories into: room for a few hundred
    /// entries per system call, used again for every directory.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const LISTING_BUFFER: usize = 32 * 1024;

    /// A directory's entries, read with `getdents64` into the thread's listing buffer
    /// rather than a buffer allocated (and zeroed) for each directory.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn read_entries(fd: &OwnedFd) -> io::Result<Vec<(OsString, Kind)>> {
        use std::cell::RefCell;
        use std::mem::MaybeUninit;
        thread_local! {
            static BUFFER: RefCell<Box<[MaybeUninit<u8>]>> =
                RefCell::new(Box::new_uninit_slice(LISTING_BUFFER));
        }
        BUFFER.with_borrow_mut(|buffer| {
            let mut dir = rustix::fs::RawDir::new(fd, buffer);
            let mut entries = Vec::new();
            while let Some(entry) = dir.next() {
                let entry = entry?;
                add_entry(fd, &mut entries, entry.file_name(), entry.file_type())?;
            }
            Ok(entries)
        })
    }

    /// A directory's entries.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn read_entries(fd: &OwnedFd) -> io::Result<Vec<(OsString, Kind)>> {
        let mut dir = rustix::fs::Dir::new(fd.try_clone()?)?;
        let mut entries = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry?;
            add_entry(fd, &mut entries, entry.file_name(), entry.file_type())?;
        }
        Ok(entries)
    }

    /// Adds one listed entry (but not `.` and `..`) with its kind.
    fn add_entry(
        dir: &OwnedFd,
        entries: &mut Vec<(OsString, Kind)>,
        name: &std::ffi::CStr,
        listed: FileType,
    ) -> io::Result<()> {
        let name = name.to_bytes();
        if name != b"." && name != b".." {
            let name = OsString::from_vec(name.to_vec());
            let kind = kind(dir, &name, listed)?;
            entries.push((name, kind));
        }
        Ok(())
    }

    /// The entry's type from the listing; asked of the file system (links not followed)
    /// when the listing does not say.
    fn kind(dir: &OwnedFd, name: &OsString, listed: FileType) -> io::Result<Kind> {
        let file_type = match listed {
            FileType::Unknown => {
                let stat = statat(dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)?;
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

    /// A listed directory, by path.
    pub struct OpenDir {
        path: PathBuf,
        pub entries: Vec<(OsString, Kind)>,
    }

    impl OpenDir {
        /// Lists the directory at `path`.
        pub fn open(path: &Path) -> io::Result<OpenDir> {
            let mut entries = Vec::new();
            for entry in std::fs::read_dir(path)? {
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
            Ok(OpenDir {
                path: path.to_path_buf(),
                entries: sorted(entries),
            })
        }

        /// Lists the directory at `rel`, relative to this one.
        pub fn open_child(&self, rel: &Path) -> io::Result<OpenDir> {
            Self::open(&self.path.join(rel))
        }

        /// Whether `rel`, relative to this directory, is a regular file, links followed.
        pub fn is_file(&self, rel: &Path) -> bool {
            self.path.join(rel).is_file()
        }

        /// Where the link `name` here points.
        pub fn read_link(&self, name: &OsStr) -> io::Result<PathBuf> {
            std::fs::read_link(self.path.join(name))
        }

        /// The content of the file `name` here, when its size fits in `room` bytes.
        pub fn read_file(&self, name: &OsStr, room: u64) -> io::Result<Option<Vec<u8>>> {
            let path = self.path.join(name);
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
