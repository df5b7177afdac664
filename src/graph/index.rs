//! A directory registry's `index.toml`: every published name and version with its
//! dependency requirements and content digest, so that resolution reads one file instead
//! of every bundle. Written only by capm (sorted, no timestamps) and read strictly.
//!
//! Layout of a registry directory:
//!
//! ```text
//! REGISTRY/index.toml
//! REGISTRY/NAME/VERSION/bundle.toml   (and the rest of the bundle's files)
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The index format version this capm reads and writes.
pub const INDEX_VERSION: u32 = 1;
pub const INDEX_FILE: &str = "index.toml";

const HEADER: &str = "# This file is written by `capm publish`. Do not edit it by hand.\n";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryIndex {
    pub version: u32,
    #[serde(default, rename = "bundle", skip_serializing_if = "Vec::is_empty")]
    pub bundles: Vec<IndexEntry>,
}

/// One published version of one bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexEntry {
    pub name: String,
    pub version: String,
    /// `sha256:` and the content digest of `NAME/VERSION/`.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<IndexDependency>,
}

/// A dependency requirement of a published version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexDependency {
    pub name: String,
    pub req: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{message}")]
    Malformed { message: String },
    #[error("format version {0}, but this capm reads version {INDEX_VERSION}")]
    UnsupportedVersion(u32),
}

impl RegistryIndex {
    pub fn new() -> Self {
        RegistryIndex {
            version: INDEX_VERSION,
            bundles: Vec::new(),
        }
    }

    pub fn parse(text: &str) -> Result<RegistryIndex, IndexError> {
        let index: RegistryIndex = toml::from_str(text).map_err(|e| IndexError::Malformed {
            message: e.to_string().trim_end().to_string(),
        })?;
        if index.version != INDEX_VERSION {
            return Err(IndexError::UnsupportedVersion(index.version));
        }
        Ok(index)
    }

    /// The canonical text: entries sorted by name, then by version (semver order).
    pub fn to_toml_string(&self) -> String {
        let mut index = self.clone();
        index.sort();
        format!(
            "{HEADER}{}",
            toml::to_string(&index).expect("an index always serialises")
        )
    }

    fn sort(&mut self) {
        for b in &mut self.bundles {
            b.dependencies.sort_by(|a, b| a.name.cmp(&b.name));
            b.keywords.sort();
        }
        self.bundles.sort_by(|a, b| {
            let va = semver::Version::parse(&a.version).ok();
            let vb = semver::Version::parse(&b.version).ok();
            a.name
                .cmp(&b.name)
                .then(va.cmp(&vb))
                .then(a.version.cmp(&b.version))
        });
    }

    pub fn find(&self, name: &str, version: &str) -> Option<&IndexEntry> {
        self.bundles
            .iter()
            .find(|b| b.name == name && b.version == version)
    }
}

/// Where each name's entries are in index text that capm wrote: byte ranges of its
/// `[[bundle]]` sections. `None` when the text is not in that canonical layout (edited by
/// hand, say), in which case it must be parsed whole.
///
/// Resolution reads only the names it visits, so a large index is scanned once (a few
/// milliseconds for 20,000 versions) and parsed piecemeal.
pub fn scan_sections(
    text: &str,
) -> Option<std::collections::BTreeMap<String, Vec<std::ops::Range<usize>>>> {
    let mut map: std::collections::BTreeMap<String, Vec<std::ops::Range<usize>>> =
        std::collections::BTreeMap::new();
    let mut current: Option<(String, usize)> = None;
    let mut offset = 0;
    let mut saw_version = false;
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_end();
        // capm writes headers at the start of the line; anything else was edited by hand.
        if line.trim_start().starts_with('[') && !line.starts_with('[') {
            return None;
        }
        if trimmed == "[[bundle]]" {
            if let Some((name, from)) = current.take() {
                map.entry(name).or_default().push(from..start);
            }
            let next = lines.peek()?.trim_end();
            let name = next.strip_prefix("name = \"")?.strip_suffix('"')?;
            if name.contains(['\\', '"']) {
                return None;
            }
            current = Some((name.to_string(), start));
        } else if current.is_none() {
            // The preamble: comments, blank lines and the format version only.
            if trimmed == format!("version = {INDEX_VERSION}") {
                saw_version = true;
            } else if !(trimmed.is_empty() || trimmed.starts_with('#')) {
                return None;
            }
        } else if trimmed.starts_with('[')
            && !trimmed.starts_with("[[bundle.")
            && !trimmed.starts_with("[bundle.")
        {
            return None;
        }
    }
    if let Some((name, from)) = current {
        map.entry(name).or_default().push(from..text.len());
    }
    saw_version.then_some(map)
}

/// Parses some sections of index text as an index of their own.
pub fn parse_sections(
    text: &str,
    ranges: &[std::ops::Range<usize>],
) -> Result<RegistryIndex, IndexError> {
    let mut part = format!("version = {INDEX_VERSION}\n");
    for r in ranges {
        part.push_str(&text[r.clone()]);
        if !part.ends_with('\n') {
            part.push('\n');
        }
    }
    RegistryIndex::parse(&part)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::mutation;

    #[test]
    fn canonical_text_is_sorted_in_semver_order() {
        let entry = |v: &str| IndexEntry {
            name: "a".into(),
            version: v.into(),
            sha256: format!("sha256:{}", "0".repeat(64)),
            description: String::new(),
            keywords: vec![],
            dependencies: vec![],
        };
        let mut index = RegistryIndex::new();
        index.bundles = vec![entry("10.0.0"), entry("2.0.0"), entry("2.0.0-beta.1")];
        let text = index.to_toml_string();
        let back = RegistryIndex::parse(&text).unwrap();
        let versions: Vec<&str> = back.bundles.iter().map(|b| b.version.as_str()).collect();
        assert_eq!(versions, ["2.0.0-beta.1", "2.0.0", "10.0.0"]);
        assert!(RegistryIndex::parse("version = 2\n").is_err());
        assert!(RegistryIndex::parse("version = 1\nextra = true\n").is_err());
    }

    /// Parses `text` whole and, when it is in capm's layout, section by section.
    fn read_every_way(text: &str) {
        let _ = RegistryIndex::parse(text);
        for ranges in scan_sections(text)
            .into_iter()
            .flat_map(|m| m.into_values())
        {
            let _ = parse_sections(text, &ranges);
        }
    }

    fn sample() -> String {
        let entry = |name: &str, v: &str, deps: &[&str]| IndexEntry {
            name: name.into(),
            version: v.into(),
            sha256: format!("sha256:{}", "0".repeat(64)),
            description: "a \"quoted\" description".into(),
            keywords: vec!["k".into()],
            dependencies: deps
                .iter()
                .map(|d| IndexDependency {
                    name: (*d).into(),
                    req: "^1.0".into(),
                    optional: d.starts_with('o'),
                })
                .collect(),
        };
        let mut index = RegistryIndex::new();
        index.bundles = vec![
            entry("a", "1.0.0", &["b", "opt"]),
            entry("a", "1.1.0", &[]),
            entry("b", "1.0.0", &[]),
        ];
        index.to_toml_string()
    }

    #[test]
    fn the_index_to_damage_is_in_capm_layout() {
        let text = sample();
        let sections = scan_sections(&text).expect("capm's own layout");
        assert_eq!(sections["a"].len(), 2);
        assert_eq!(
            parse_sections(&text, &sections["a"]).unwrap().bundles.len(),
            2
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        #[test]
        fn any_index_text_is_read_without_panicking(text in mutation::text(300)) {
            read_every_way(&text);
            read_every_way(&format!("version = 1\n[[bundle]]\n{text}"));
        }

        #[test]
        fn a_damaged_index_is_read_without_panicking(
            bytes in mutation::mutated(vec![sample().into_bytes()]),
        ) {
            read_every_way(&String::from_utf8_lossy(&bytes));
        }
    }
}
