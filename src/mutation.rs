//! Inputs for the property tests that run every parser on damaged and arbitrary text:
//! real files from the repository (the catalog, the test cases) with random byte
//! insertions, deletions, replacements and truncations, and arbitrary bytes and text, both
//! biased towards the characters the formats give meaning to.

use std::path::Path;

use proptest::prelude::*;

/// One edit; its position is taken modulo the length of the bytes at the time.
#[derive(Clone, Debug)]
pub enum Edit {
    Insert(usize, u8),
    Delete(usize),
    Replace(usize, u8),
    Truncate(usize),
}

/// Bytes that mean something in TOML, YAML, JSONC, markdown or the journal, and bytes
/// that are not UTF-8 on their own.
const SYNTAX: &[u8] = b"\r\n\t \"'`=[]{}:,.#-+\\/0a\x00\x7f\x80\xc3\xe4\xff";

/// Any byte, often one of [`SYNTAX`].
pub fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        2 => any::<u8>(),
        3 => proptest::sample::select(SYNTAX),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), byte()).prop_map(|(at, b)| Edit::Insert(at, b)),
        3 => any::<usize>().prop_map(Edit::Delete),
        4 => (any::<usize>(), byte()).prop_map(|(at, b)| Edit::Replace(at, b)),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// Applies `edits` in order.
pub fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        let len = bytes.len();
        match *e {
            Edit::Insert(at, b) => bytes.insert(at % (len + 1), b),
            Edit::Delete(at) if len > 0 => {
                bytes.remove(at % len);
            }
            Edit::Replace(at, b) if len > 0 => bytes[at % len] = b,
            Edit::Truncate(at) => bytes.truncate(at % (len + 1)),
            _ => {}
        }
    }
}

/// One to eight random edits.
pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec(edit(), 1..8)
}

/// One of `samples`, damaged by one to eight edits.
pub fn mutated(samples: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    assert!(!samples.is_empty(), "no samples to mutate");
    (proptest::sample::select(samples), edits()).prop_map(|(mut bytes, edits)| {
        apply(&mut bytes, &edits);
        bytes
    })
}

/// Up to `max` arbitrary bytes, often syntax.
pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(byte(), 0..max)
}

/// Up to `max` characters: any, or often line endings, tabs, syntax, wide, combining and
/// zero-width characters.
pub fn text(max: usize) -> impl Strategy<Value = String> {
    let special = proptest::sample::select(vec![
        '\r', '\n', '\t', ' ', '"', '\'', '`', '=', '[', ']', '{', '}', ':', ',', '#', '-', '/',
        '*', 'a', 'é', '中', '\u{301}', '\u{200d}', '\u{202e}', '\u{feff}', '😀', '\0',
    ]);
    let c = prop_oneof![2 => any::<char>(), 3 => special];
    proptest::collection::vec(c, 0..max).prop_map(|cs| cs.into_iter().collect())
}

/// Every file called `name` under the repository's `tests/cases` and `bundles`.
pub fn repo_files(name: &str) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let mut stack = vec![root.join("tests/cases"), root.join("bundles")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("the repository is readable") {
            let path = entry.expect("the repository is readable").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == name) {
                found.push(std::fs::read(&path).expect("the repository is readable"));
            }
        }
    }
    found
}
