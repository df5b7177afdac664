//! `capm.lock`: what was resolved and installed (docs/spec.md §3.3). Written by capm only, read
//! back strictly, and always serialised the same way: entries sorted, no timestamps.
//!
//! Ownership of installed resources is derived from this file: a resource on disk that the
//! lock lists with a matching digest is bundle-owned and unmodified, listed with another
//! digest it is bundle-owned and modified, not listed it is the user's.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The version of the lock format this capm reads and writes.
pub const LOCK_VERSION: u32 = 1;

const HEADER: &str = "# This file is written by capm. Do not edit it by hand.\n";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "capm lock file (capm.lock)")]
pub struct Lockfile {
    /// The lock format version.
    pub version: u32,
    /// Every resolved bundle.
    #[serde(default, rename = "bundle", skip_serializing_if = "Vec::is_empty")]
    pub bundles: Vec<LockedBundle>,
    /// Every installed resource.
    #[serde(default, rename = "resource", skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<LockedResource>,
    /// Config files capm created (relative to the scope root): removed again once capm's
    /// edits leave them as capm created them, holding nothing of the user's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<String>,
}

/// A bundle's version as the lock records it: refused unless it is a semantic version, so
/// that a damaged lock is reported where it is damaged, not shown as a version.
fn semantic_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    match semver::Version::parse(&text) {
        Ok(_) => Ok(text),
        Err(e) => Err(serde::de::Error::custom(format!(
            "`{text}` is not a semantic version: {e}"
        ))),
    }
}

/// A resolved bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockedBundle {
    pub name: String,
    /// A semantic version.
    #[serde(deserialize_with = "semantic_version")]
    pub version: String,
    /// Where it came from: `catalog`, `path+RELATIVE/DIR`, `registry+NAME`,
    /// `git+URL?tag=T` (`?branch=`, `?rev=`, `&path=SUB`, or nothing for a version range) or
    /// `oci+REPOSITORY`.
    pub source: String,
    /// `sha256:` and the content digest of the bundle directory.
    pub sha256: String,
    /// For a git source: the commit installed (40 hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// For an OCI source: the digest of the manifest installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// For a registry archive or an OCI layer: the digest of the archive's bytes; for an
    /// MCP Registry server: the digest of its server.json document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
    /// Names of the bundles it depends on, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
}

/// An installed resource and the exact content capm wrote for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockedResource {
    /// `KIND:NAME`.
    pub id: String,
    /// The bundle that installed it.
    pub bundle: String,
    /// The file or directory it lands in, relative to the scope root, with `/` separators.
    pub path: String,
    /// For config keys: the JSON pointer of the entry inside `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// For elements of a config array (npm plugins): the package name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    /// `sha256:` and the digest of what capm wrote.
    pub sha256: String,
    /// Set when capm adopted an entry the user had written identically: it is shared and
    /// never deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
    /// `sha256:` and the digest of the user's own version, when the user edited what capm
    /// wrote and kept the edit as theirs (`capm keep`): capm leaves it alone, and proposes
    /// its version beside it only when the bundle's content changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
}

/// Why a lock file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("capm.lock is not valid: {message}")]
    Malformed {
        message: String,
        span: Option<std::ops::Range<usize>>,
    },
    #[error("capm.lock has format version {found}, but this capm reads version {LOCK_VERSION}")]
    UnsupportedVersion { found: u32 },
}

impl Default for Lockfile {
    fn default() -> Self {
        Lockfile::new()
    }
}

impl Lockfile {
    pub fn new() -> Self {
        Lockfile {
            version: LOCK_VERSION,
            bundles: Vec::new(),
            resources: Vec::new(),
            created: Vec::new(),
        }
    }

    /// Reads a lock file strictly: unknown keys and other versions are refused.
    pub fn parse(text: &str) -> Result<Lockfile, LockError> {
        let lock: Lockfile = toml::from_str(text).map_err(|e| LockError::Malformed {
            message: e.message().trim_end().to_string(),
            span: e.span(),
        })?;
        if lock.version != LOCK_VERSION {
            return Err(LockError::UnsupportedVersion {
                found: lock.version,
            });
        }
        Ok(lock)
    }

    /// Sorts every list so that equal locks serialise to equal bytes.
    pub fn normalize(&mut self) {
        for b in &mut self.bundles {
            b.dependencies.sort();
            b.dependencies.dedup();
        }
        self.bundles
            .sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        self.created.sort();
        self.created.dedup();
        self.resources.sort_by(|a, b| {
            (&a.id, &a.bundle, &a.path, &a.pointer).cmp(&(&b.id, &b.bundle, &b.path, &b.pointer))
        });
    }

    /// The canonical text of the lock.
    pub fn to_toml_string(&self) -> String {
        let mut lock = self.clone();
        lock.normalize();
        let body = toml::to_string(&lock).expect("a lock file always serialises");
        format!("{HEADER}{body}")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::mutation;

    fn sample() -> Lockfile {
        Lockfile {
            version: LOCK_VERSION,
            bundles: vec![
                LockedBundle {
                    commit: None,
                    manifest: None,
                    archive: None,
                    name: "b".into(),
                    version: "1.0.0".into(),
                    source: "catalog".into(),
                    sha256: format!("sha256:{}", "b".repeat(64)),
                    dependencies: vec!["z".into(), "a".into()],
                },
                LockedBundle {
                    commit: None,
                    manifest: None,
                    archive: None,
                    name: "a".into(),
                    version: "2.0.0".into(),
                    source: "path+../a".into(),
                    sha256: format!("sha256:{}", "a".repeat(64)),
                    dependencies: vec![],
                },
            ],
            resources: vec![LockedResource {
                id: "mcp:github".into(),
                bundle: "b".into(),
                path: "opencode.json".into(),
                pointer: Some("/mcp/github".into()),
                element: None,
                sha256: format!("sha256:{}", "c".repeat(64)),
                shared: false,
                kept: None,
            }],
            created: vec!["opencode.json".into()],
        }
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        let text = sample().to_toml_string();
        let mut shuffled = sample();
        shuffled.bundles.reverse();
        assert_eq!(text, shuffled.to_toml_string());
        let back = Lockfile::parse(&text).unwrap();
        assert_eq!(back.to_toml_string(), text);
        assert_eq!(back.bundles[0].name, "a");
        assert_eq!(back.bundles[1].dependencies, ["a", "z"]);
    }

    #[test]
    fn refuses_unknown_keys_and_versions() {
        assert!(Lockfile::parse("version = 1\nextra = 2\n").is_err());
        assert!(matches!(
            Lockfile::parse("version = 9\n"),
            Err(LockError::UnsupportedVersion { found: 9 })
        ));
        assert!(Lockfile::parse("not toml [").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        #[test]
        fn the_lock_parser_never_panics(text in mutation::text(300)) {
            let _ = Lockfile::parse(&text);
        }

        /// The repository's capm.lock files and a generated one, damaged (bytes that are
        /// not UTF-8 replaced, as the parser takes text).
        #[test]
        fn a_damaged_lock_file_never_panics(bytes in mutation::mutated(samples())) {
            let _ = Lockfile::parse(&String::from_utf8_lossy(&bytes));
        }
    }

    fn samples() -> Vec<Vec<u8>> {
        let mut all = mutation::repo_files("capm.lock");
        all.push(sample().to_toml_string().into_bytes());
        all
    }
}
