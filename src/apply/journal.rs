//! The write-ahead journal of a transaction (docs/transactions.md §3.5): one record per
//! line, `CHECKSUM<TAB>JSON`, where the checksum is the first 16 hex digits of the
//! sha256 of the JSON. A torn last line (a crash mid-append) fails its checksum and is
//! ignored; a bad record before the end means the journal was damaged and is refused.
//! Paths are relative to the scope and checked before anything acts on them: a journal
//! naming a path outside the scope is refused whole (invariant I6).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What one operation does to its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    WriteFile,
    ReplaceFile,
    RemoveFile,
    CreateDir,
    ReplaceDir,
    RemoveDir,
    JsonSet,
    JsonRemove,
}

/// Which directory an operation's path is relative to. In project scope both are the
/// project directory; in global scope resources land in the client's config directory
/// while capm.toml and capm.lock stay in the project.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Root {
    #[default]
    Scope,
    Project,
}

impl Root {
    fn is_scope(&self) -> bool {
        *self == Root::Scope
    }
}

/// One journal record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "kebab-case")]
pub enum Record {
    Begin {
        id: String,
        /// The client's config directory the transaction changed, when it is not the
        /// project (global scope): recovery refuses to undo it anywhere else.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
    },
    Op {
        seq: u32,
        kind: OpKind,
        #[serde(default, skip_serializing_if = "Root::is_scope")]
        root: Root,
        /// Relative to the root, `/`-separated.
        path: String,
        /// The digest of the target before, if it existed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pre: Option<String>,
        /// The digest of the target after, if it will exist.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        post: Option<String>,
    },
    Done {
        seq: u32,
    },
    Commit,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    #[error("record {line} of the journal is damaged")]
    Damaged { line: usize },
    #[error("the journal does not start with a begin record")]
    NoBegin,
    #[error("the journal's id `{0}` is not one capm writes")]
    BadId(String),
    #[error("the journal names `{path}`, which is outside the scope")]
    OutsideScope { path: String },
}

fn checksum(json: &str) -> String {
    crate::manifest::tree::hex(&Sha256::digest(json.as_bytes()))[..16].to_string()
}

/// One record as a journal line, newline included.
pub fn encode(record: &Record) -> String {
    let json = serde_json::to_string(record).expect("records serialise");
    format!("{}\t{json}\n", checksum(&json))
}

/// Whether a journal path stays inside the scope: relative, no `..`, no empty or `.`
/// parts, no backslashes or NUL. (Links along the way are checked against the disk by
/// the code that acts on the path.)
pub fn path_in_scope(path: &str) -> bool {
    let absolute = path.starts_with('/') || (path.len() >= 2 && path.as_bytes()[1] == b':');
    let odd = path.is_empty() || path.contains(['\\', '\0']);
    !absolute
        && !odd
        && path
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

/// Whether `id` is a transaction id capm could have written: it names files and
/// directories, so only letters, digits and `-`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Reads a journal: its records up to the first one that fails, if that is the last line
/// (torn); a failure earlier is damage. Every path must be inside the scope.
pub fn parse(bytes: &[u8]) -> Result<Vec<Record>, JournalError> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut records = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let complete = raw.ends_with('\n');
        let line = raw.trim_end_matches('\n');
        let decoded = line.split_once('\t').and_then(|(sum, json)| {
            (complete && sum == checksum(json))
                .then(|| serde_json::from_str::<Record>(json).ok())
                .flatten()
        });
        match decoded {
            Some(r) => records.push(r),
            None if i + 1 == lines.len() => break,
            None => return Err(JournalError::Damaged { line: i + 1 }),
        }
    }
    match records.first() {
        Some(Record::Begin { id, .. }) if valid_id(id) => {}
        Some(Record::Begin { id, .. }) => return Err(JournalError::BadId(id.clone())),
        None => return Ok(records),
        Some(_) => return Err(JournalError::NoBegin),
    }
    for r in &records {
        if let Record::Op { path, .. } = r
            && !path_in_scope(path)
        {
            return Err(JournalError::OutsideScope { path: path.clone() });
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sample() -> Vec<Record> {
        vec![
            Record::Begin {
                id: "t1".into(),
                scope: None,
            },
            Record::Op {
                seq: 0,
                kind: OpKind::JsonSet,
                root: Root::Scope,
                path: "opencode.json".into(),
                pre: None,
                post: Some("sha256:aa".into()),
            },
            Record::Op {
                seq: 1,
                kind: OpKind::CreateDir,
                root: Root::Project,
                path: ".opencode/skills/notes".into(),
                pre: None,
                post: Some("sha256:bb".into()),
            },
            Record::Done { seq: 0 },
            Record::Commit,
        ]
    }

    fn text(records: &[Record]) -> String {
        records.iter().map(encode).collect()
    }

    #[test]
    fn round_trips_and_ignores_a_torn_tail() {
        let all = text(&sample());
        assert_eq!(parse(all.as_bytes()).unwrap(), sample());
        // Cut anywhere inside the last record: it is ignored, the rest stands.
        let last = encode(&Record::Commit);
        for cut in 1..last.len() {
            let torn = &all[..all.len() - cut];
            assert_eq!(
                parse(torn.as_bytes()).unwrap(),
                sample()[..4].to_vec(),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn damage_before_the_end_and_hostile_paths_are_refused() {
        let mut lines: Vec<String> = sample().iter().map(encode).collect();
        lines[1] = lines[1].replace("opencode.json", "opencode.jsom");
        assert_eq!(
            parse(lines.concat().as_bytes()),
            Err(JournalError::Damaged { line: 2 })
        );
        for bad in ["../outside", "/etc/passwd", "a/../../b", "C:/x", "a\\b", ""] {
            let records = vec![
                Record::Begin {
                    id: "t".into(),
                    scope: None,
                },
                Record::Op {
                    seq: 0,
                    kind: OpKind::RemoveFile,
                    root: Root::Scope,
                    path: bad.into(),
                    pre: None,
                    post: None,
                },
            ];
            assert!(
                matches!(
                    parse(text(&records).as_bytes()),
                    Err(JournalError::OutsideScope { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            parse(encode(&Record::Commit).as_bytes()),
            Err(JournalError::NoBegin)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn the_journal_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse(&bytes);
        }

        /// A valid journal damaged by byte insertions, deletions, replacements and
        /// truncations.
        #[test]
        fn mutated_journals_never_panic(edits in crate::mutation::edits()) {
            let mut bytes = text(&sample()).into_bytes();
            crate::mutation::apply(&mut bytes, &edits);
            let _ = parse(&bytes);
        }
    }
}
