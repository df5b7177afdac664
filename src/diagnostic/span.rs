//! Source text and byte spans, so every diagnostic can point at `file:line:col`.
//!
//! Manifest values are wrapped in [`Spanned`], which remembers the byte range the value came
//! from. [`SourceFile`] turns byte offsets into 1-based lines and columns (columns count
//! characters, as editors do).

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::OnceLock;

/// A half-open byte range into a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Self {
        Span::new(r.start, r.end)
    }
}

/// A value with the place in its source file it was read from.
///
/// Equality, ordering and hashing look at the value only, so a `Spanned<String>` key finds
/// its entry whatever its position.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: impl Into<Span>) -> Self {
        Spanned {
            value,
            span: span.into(),
        }
    }

    pub fn as_ref(&self) -> Spanned<&T> {
        Spanned {
            value: &self.value,
            span: self.span,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned {
            value: f(self.value),
            span: self.span,
        }
    }
}

impl Spanned<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T: Eq> Eq for Spanned<T> {}

impl<T: Hash> Hash for Spanned<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state)
    }
}

impl<T: PartialOrd> PartialOrd for Spanned<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.value.partial_cmp(&other.value)
    }
}
impl<T: Ord> Ord for Spanned<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

impl std::borrow::Borrow<str> for Spanned<String> {
    fn borrow(&self) -> &str {
        &self.value
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: serde::Serialize> serde::Serialize for Spanned<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// A 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// What capm says of a file that is not UTF-8, at the first invalid byte.
pub fn not_utf8(e: &std::str::Utf8Error) -> String {
    format!(
        "it is not UTF-8 (an invalid byte at offset {})",
        e.valid_up_to()
    )
}

/// The text of one file, with a line index for turning offsets into positions.
///
/// Every lookup costs at most [`CHUNK`] bytes of scanning, however long the line, so a
/// diagnostic's position is cheap even on a file of one very long line. The index is built
/// on the first lookup: most files read have nothing to point at.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the user should see it (relative to where they ran capm, when possible).
    pub path: String,
    pub text: String,
    index: OnceLock<Index>,
}

/// Where each line starts, and how many characters precede each [`CHUNK`].
#[derive(Clone, Debug)]
struct Index {
    line_starts: Vec<usize>,
    /// `chars_at[k]`: the number of characters in the first `k * CHUNK` bytes.
    chars_at: Vec<usize>,
}

impl Index {
    fn of(text: &str) -> Index {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut chars_at = vec![0];
        for chunk in text.as_bytes().chunks(CHUNK) {
            let before = chars_at[chars_at.len() - 1];
            chars_at.push(before + chunk.iter().filter(|b| starts_char(b)).count());
        }
        Index {
            line_starts,
            chars_at,
        }
    }
}

/// The stride of [`SourceFile`]'s character index, in bytes.
const CHUNK: usize = 256;

/// Whether a byte starts a character (is not a UTF-8 continuation byte).
fn starts_char(b: &u8) -> bool {
    (*b as i8) >= -0x40
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
            index: OnceLock::new(),
        }
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::of(&self.text))
    }

    /// The largest character boundary at or before `offset`, clamped to the text.
    pub fn floor_boundary(&self, offset: usize) -> usize {
        let mut at = offset.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    /// The number of characters before a byte offset that is a character boundary.
    fn chars_before(&self, offset: usize) -> usize {
        let k = offset / CHUNK;
        let tail = &self.text.as_bytes()[k * CHUNK..offset];
        self.index().chars_at[k] + tail.iter().filter(|b| starts_char(b)).count()
    }

    /// The 1-based line holding a byte offset; offsets past the end are on the last line.
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.index().line_starts.partition_point(|&s| s <= offset)
    }

    /// The line and column of a byte offset; offsets past the end clamp to the end.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = self.floor_boundary(offset);
        let line = self.line_of(offset);
        let start = self.index().line_starts[line - 1];
        LineCol {
            line,
            column: self.chars_before(offset) - self.chars_before(start) + 1,
        }
    }

    /// The byte range of a 1-based line's text, without its line ending (`\n` or `\r\n`);
    /// an empty range at the end for a line past the last.
    pub fn line_range(&self, line: usize) -> Range<usize> {
        let line_starts = &self.index().line_starts;
        let Some(&start) = line_starts.get(line.wrapping_sub(1)) else {
            return self.text.len()..self.text.len();
        };
        let mut end = match line_starts.get(line) {
            Some(&next) => next - 1,
            None => self.text.len(),
        };
        if end < self.text.len() && end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        if line == 0 || line > self.index().line_starts.len() {
            return "";
        }
        self.text[self.line_range(line)].trim_end_matches(['\n', '\r'])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let f = SourceFile::new("x.toml", "a = 1\nbé = \"x\"\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(6), LineCol { line: 2, column: 1 });
        // 'é' is two bytes but one column.
        assert_eq!(f.line_col(9), LineCol { line: 2, column: 3 });
        assert_eq!(f.line_text(2), "bé = \"x\"");
        assert_eq!(f.line_col(999).line, 3);
    }

    #[test]
    fn line_ranges_leave_out_the_line_ending() {
        let f = SourceFile::new("x.toml", "a\r\nb\r\r\n\rc\r");
        assert_eq!(f.line_range(1), 0..1);
        assert_eq!(f.line_range(2), 3..5);
        assert_eq!(&f.text[f.line_range(3)], "\rc\r");
        assert_eq!(f.line_range(4), f.text.len()..f.text.len());
        assert_eq!(f.line_of(0), 1);
        assert_eq!(f.line_of(2), 1);
        assert_eq!(f.line_of(3), 2);
        assert_eq!(f.line_of(999), 3);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn columns_count_the_characters_since_the_line_start(
            text in "[a\n\ré中\u{301}]{0,1200}",
            offset in 0usize..1300,
        ) {
            let f = SourceFile::new("x", text.as_str());
            let mut at = offset.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let expected = LineCol {
                line: text[..at].matches('\n').count() + 1,
                column: text[line_start..at].chars().count() + 1,
            };
            proptest::prop_assert_eq!(f.line_col(offset), expected);
        }
    }
}
