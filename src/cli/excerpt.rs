//! The part of a source file a human diagnostic shows: the lines its span covers (at most
//! [`MAX_LINES`]), each cut to a window around the span when it is wide, as rustc does,
//! with `...` on the cut sides and the span moved to match.
//!
//! Whatever the text and the span (carriage returns anywhere, tabs, wide or combining
//! characters, an empty file, a span at or past the end or inside a character), the result
//! is safe to hand to annotate-snippets, and building it costs no more than the shown
//! windows are wide: never the length of the line.

use std::ops::Range;

use crate::manifest::span::{SourceFile, Span};

/// The most lines one snippet shows.
pub const MAX_LINES: usize = 5;
/// The widest a shown line's text may be, in columns; wider lines are cut to a window.
pub const MAX_COLUMNS: usize = 100;
/// How many of a cut line's columns go before the span's start, at most.
const LEFT_COLUMNS: usize = 40;
/// What stands for the text cut off a line.
const CUT: &str = "...";

/// Source text to show, and the span in it.
#[derive(Debug, PartialEq, Eq)]
pub struct Excerpt {
    pub text: String,
    /// The 1-based number in the file of the first line of `text`.
    pub line_start: usize,
    /// The span, as byte offsets into `text`, on character boundaries.
    pub span: Range<usize>,
}

impl Excerpt {
    /// The 1-based column, in characters, of the span's start in the first line of `text`.
    pub fn column(&self) -> usize {
        self.text[..self.span.start].chars().count() + 1
    }
}

/// The lines of `src` that `span` covers, with `span` mapped into them.
pub fn excerpt(src: &SourceFile, span: Span) -> Excerpt {
    let start = src.floor_boundary(span.start);
    let end = src.floor_boundary(span.end).max(start);
    let first = src.line_of(start);
    let last = src.line_of(end).min(first + MAX_LINES - 1);
    let mut text = String::new();
    let mut mapped = 0..0;
    for line in first..=last {
        if line > first {
            text.push('\n');
        }
        let range = src.line_range(line);
        let content = &src.text[range.clone()];
        let within = |offset: usize| offset.clamp(range.start, range.end) - range.start;
        let focus = if line == first {
            within(start)
        } else if line == src.line_of(end) {
            within(end)
        } else {
            0
        };
        let shown = Shown::around(content, focus);
        if line == first {
            mapped.start = text.len() + shown.map(content, focus);
        }
        if line == last {
            mapped.end = text.len() + shown.map(content, within(end));
        }
        shown.write(content, &mut text);
    }
    mapped.end = mapped.end.max(mapped.start);
    mask_url_passwords(&mut text);
    Excerpt {
        text,
        line_start: first,
        span: mapped,
    }
}

/// The window `window` of one line's text that is shown; the line is cut before it when it
/// does not start at 0, and after it when it does not reach the end.
struct Shown {
    window: Range<usize>,
}

impl Shown {
    /// The window of `line` around byte `focus`: up to [`LEFT_COLUMNS`] before it, and the
    /// rest of [`MAX_COLUMNS`] after it, the left side taking what the right leaves over.
    fn around(line: &str, focus: usize) -> Shown {
        let right = advance(line[focus..].chars(), MAX_COLUMNS - LEFT_COLUMNS);
        let left = advance(line[..focus].chars().rev(), MAX_COLUMNS - right.columns);
        Shown {
            window: focus - left.bytes..focus + right.bytes,
        }
    }

    fn cut_left(&self) -> bool {
        self.window.start > 0
    }

    fn cut_right(&self, line: &str) -> bool {
        self.window.end < line.len()
    }

    /// Appends the shown text: carriage returns as `␍`, as annotate-snippets shows them,
    /// so that none can be read as the end of a line.
    fn write(&self, line: &str, out: &mut String) {
        if self.cut_left() {
            out.push_str(CUT);
        }
        for c in line[self.window.clone()].chars() {
            out.push(visible(c));
        }
        if self.cut_right(line) {
            out.push_str(CUT);
        }
    }

    /// The length of the shown text, in bytes.
    fn len(&self, line: &str) -> usize {
        let suffix = if self.cut_right(line) { CUT.len() } else { 0 };
        self.offset(line, self.window.end) + suffix
    }

    /// Where byte `at` of the line lands in the shown text: the start of the window for
    /// anything before it, the end of the shown text (past a cut) for anything after it.
    fn map(&self, line: &str, at: usize) -> usize {
        if at > self.window.end {
            self.len(line)
        } else {
            self.offset(line, at)
        }
    }

    /// Where byte `at`, clamped into the window, lands in the shown text.
    fn offset(&self, line: &str, at: usize) -> usize {
        let prefix = if self.cut_left() { CUT.len() } else { 0 };
        let at = at.clamp(self.window.start, self.window.end);
        let inside = &line[self.window.start..at];
        prefix + inside.chars().map(|c| visible(c).len_utf8()).sum::<usize>()
    }
}

/// Replaces the user and password of every `http(s)://` URL in `text`
/// (`https://user:PASSWORD@host`, `https://TOKEN@host`) and the password of any other
/// with as many `*`, so that a snippet of a capm.toml line never prints a token (SRC-002)
/// into a terminal or a CI log; byte offsets stay where they were.
fn mask_url_passwords(text: &mut String) {
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let start = from + i + 3;
        let end = text[start..]
            .find(|c: char| c == '/' || c == '"' || c == '\'' || c.is_whitespace())
            .map_or(text.len(), |e| start + e);
        from = end.max(start);
        let authority = &text[start..end];
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let web = text[..start - 3].ends_with("http") || text[..start - 3].ends_with("https");
        let password = match authority[..at].find(':') {
            _ if web => start..start + at,
            Some(colon) => start + colon + 1..start + at,
            None => continue,
        };
        if text[password.clone()].is_ascii() {
            let stars = "*".repeat(password.len());
            text.replace_range(password, &stars);
        }
    }
}

/// A carriage return as the symbol annotate-snippets shows for it; any other character
/// as it is.
fn visible(c: char) -> char {
    if c == '\r' { '␍' } else { c }
}

/// How far a walk over characters went within a budget of columns.
struct Advance {
    bytes: usize,
    columns: usize,
}

/// Walks `chars` while their columns fit in `budget`.
fn advance(chars: impl Iterator<Item = char>, budget: usize) -> Advance {
    let mut walk = Advance {
        bytes: 0,
        columns: 0,
    };
    for c in chars {
        let w = columns(c);
        if walk.columns + w > budget {
            break;
        }
        walk.columns += w;
        walk.bytes += c.len_utf8();
    }
    walk
}

/// The columns a character takes at most once rendered: a tab four (annotate-snippets
/// expands it), ASCII one, anything else two (the widest a character is shown).
fn columns(c: char) -> usize {
    match c {
        '\t' => 4,
        c if c.is_ascii() => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_password_is_masked_in_place() {
        let mut t = String::from(
            "a = { git = \"https://me:ghp_x1@h.example/o.git\", u = \"https://h/x@y\", \
             v = \"https://ghp_t@h/\", s = \"ssh://git:pw@h/r\", g = \"ssh://git@h/r\" }",
        );
        let before = t.len();
        mask_url_passwords(&mut t);
        assert_eq!(
            t,
            "a = { git = \"https://*********@h.example/o.git\", u = \"https://h/x@y\", \
             v = \"https://*****@h/\", s = \"ssh://git:**@h/r\", g = \"ssh://git@h/r\" }"
        );
        assert_eq!(t.len(), before);
    }

    fn shown(text: &str, (start, end): (usize, usize)) -> (String, Range<usize>) {
        let e = excerpt(&SourceFile::new("f", text), Span::new(start, end));
        (e.text, e.span)
    }

    #[test]
    fn carriage_returns_never_end_a_shown_line() {
        assert_eq!(shown("\r\r", (1, 1)), ("␍␍".into(), 3..3));
        assert_eq!(shown("\r\r", (2, 2)), ("␍␍".into(), 6..6));
        assert_eq!(shown("a = 1\r\r", (7, 9)), ("a = 1␍␍".into(), 11..11));
        assert_eq!(shown("a\r\r\nb", (0, 5)), ("a␍\nb".into(), 0..6));
        // A CRLF ending is a line ending, not text.
        assert_eq!(shown("a = 1\r\nb = 2\r\n", (7, 8)), ("b = 2".into(), 0..1));
    }

    #[test]
    fn empty_files_and_spans_at_or_past_the_end_are_shown() {
        assert_eq!(shown("", (0, 0)), (String::new(), 0..0));
        assert_eq!(shown("", (5, 9)), (String::new(), 0..0));
        assert_eq!(shown("a\n", (2, 2)), (String::new(), 0..0));
        assert_eq!(shown("ab", (9, 1)), ("ab".into(), 2..2));
        // Inside a character: moved back to its start.
        assert_eq!(shown("é", (1, 2)), ("é".into(), 0..2));
    }

    #[test]
    fn a_wide_line_is_cut_around_the_span() {
        let line = format!("{}KEY{}", "a".repeat(500), "b".repeat(500));
        let e = excerpt(&SourceFile::new("f", line.as_str()), Span::new(500, 503));
        assert!(e.text.starts_with("...aaa"), "{}", e.text);
        assert!(e.text.ends_with("bbb..."), "{}", e.text);
        assert_eq!(&e.text[e.span.clone()], "KEY");
        assert_eq!(e.text.chars().count(), MAX_COLUMNS + 2 * CUT.len());
        assert_eq!(
            e.text[..e.span.start].chars().count(),
            CUT.len() + LEFT_COLUMNS
        );
    }

    #[test]
    fn a_span_running_past_the_window_covers_the_cut() {
        let line = "x".repeat(1000);
        let e = excerpt(&SourceFile::new("f", line.as_str()), Span::new(10, 900));
        assert!(!e.text.starts_with(CUT));
        assert_eq!(e.span, 10..e.text.len());
        assert!(e.text.ends_with(CUT));
    }

    #[test]
    fn the_window_leaves_room_for_wide_characters_and_tabs() {
        let line = format!("{}X{}", "中\t".repeat(300), "é\u{301}".repeat(300));
        let at = line.find('X').unwrap();
        let e = excerpt(&SourceFile::new("f", line.as_str()), Span::new(at, at + 1));
        let cols: usize = e.text.chars().map(columns).sum();
        assert!(cols <= MAX_COLUMNS + 2 * CUT.len(), "{cols}: {}", e.text);
        assert_eq!(&e.text[e.span.clone()], "X");
    }

    #[test]
    fn a_long_span_shows_its_first_lines_in_the_file_numbering() {
        let text = "0\n1\n2\n3\n4\n5\n6\n7\n";
        let e = excerpt(&SourceFile::new("f", text), Span::new(2, 14));
        assert_eq!(e.line_start, 2);
        assert_eq!(e.text, "1\n2\n3\n4\n5");
        assert_eq!(e.span, 0..e.text.len());
    }
}
