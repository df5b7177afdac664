//! A bundle as one archive file: a deterministic `.tar.gz` (or a `.tar.zst` read), packed
//! from and unpacked into a [`crate::manifest::tree::BundleTree`].

/// The compression of an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    TarGz,
    TarZst,
}
