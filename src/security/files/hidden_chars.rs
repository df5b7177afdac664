//! FILE-002: characters a shipped text hides from the person reviewing it but not from the
//! model or program reading it.
//!
//! - `block`: Unicode tag characters (U+E0000–E007F, invisible ASCII a model reads), except
//!   in an emoji subdivision flag (🏴 followed by tag letters and U+E007F); bidirectional
//!   embeddings, overrides and isolates (U+202A–202E, U+2066–2069: Trojan Source); and a
//!   run of four or more invisible characters, or of two or more variation selectors (a
//!   data channel: bytes spelled as characters nobody sees).
//! - `medium`: a lone invisible character that has no job where it is: a zero-width space,
//!   a word joiner or invisible operator (U+2060–2064), U+180E, a byte order mark that is
//!   not the first character, a soft hyphen run, a zero-width joiner or non-joiner between
//!   ASCII characters. A ZWJ or ZWNJ between two non-ASCII characters (an emoji sequence
//!   👨‍👩‍👧, Persian or Indic text), one variation selector (❤️), one soft hyphen and a
//!   byte order mark at the start of the file are how text is written, and pass.
//!
//! - `medium`: a control character other than tab, line feed, carriage return and form
//!   feed (an escape sequence can hide or rewrite text shown in a terminal).
//!
//! One finding per class and text, at its first run, with the count of the rest.

use super::Hit;
use crate::security::Level;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tag,
    Bidi,
    Selector,
    SoftHyphen,
    Joiner,
    Invisible,
    Control,
}

fn kind(c: char) -> Option<Kind> {
    Some(match c as u32 {
        0xE0000..=0xE007F => Kind::Tag,
        0x202A..=0x202E | 0x2066..=0x2069 => Kind::Bidi,
        0xFE00..=0xFE0F | 0xE0100..=0xE01EF => Kind::Selector,
        0x00AD => Kind::SoftHyphen,
        0x200C | 0x200D => Kind::Joiner,
        0x200B | 0x2060..=0x2064 | 0xFEFF | 0x180E => Kind::Invisible,
        0x00..=0x08 | 0x0B | 0x0E..=0x1F | 0x7F..=0x9F => Kind::Control,
        _ => return None,
    })
}

/// The first run of one class, and how many characters of that class the text has.
#[derive(Default)]
struct Class {
    first: Option<(std::ops::Range<usize>, char, usize)>,
    count: usize,
}

impl Class {
    fn add(&mut self, range: std::ops::Range<usize>, c: char, n: usize) {
        if self.first.is_none() {
            self.first = Some((range, c, n));
        }
        self.count += n;
    }
}

/// FILE-002 over `text`.
pub(super) fn scan(text: &str) -> Vec<Hit> {
    // Printable ASCII and ordinary white space hide nothing: most texts end here, without
    // decoding a character.
    if text
        .bytes()
        .all(|b| matches!(b, b' '..=b'~' | b'\t' | b'\n' | b'\x0C' | b'\r'))
    {
        return Vec::new();
    }
    // tag, bidi, data channel, lone invisible, control
    let mut classes: [Class; 5] = Default::default();
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let Some(k) = kind(c) else {
            prev = Some(c);
            continue;
        };
        let mut run = vec![(c, k)];
        let mut end = start + c.len_utf8();
        while let Some(&(i, n)) = chars.peek() {
            let Some(nk) = kind(n) else { break };
            run.push((n, nk));
            end = i + n.len_utf8();
            chars.next();
        }
        let next = chars.peek().map(|&(_, n)| n);
        judge(&run, start..end, prev, next, &mut classes);
        prev = run.last().map(|r| r.0);
    }
    report(classes)
}

/// Sorts one run of hidden characters into its class, if it is not legitimate.
fn judge(
    run: &[(char, Kind)],
    range: std::ops::Range<usize>,
    prev: Option<char>,
    next: Option<char>,
    classes: &mut [Class; 5],
) {
    let count = |k: Kind| run.iter().filter(|r| r.1 == k).count();
    let first_of = |k: Kind| run.iter().find(|r| r.1 == k).map(|r| r.0);
    let tags = count(Kind::Tag);
    if tags > 0 && !subdivision_flag(run, prev) {
        let c = first_of(Kind::Tag).expect("counted");
        classes[0].add(range.clone(), c, tags);
    }
    if let Some(c) = first_of(Kind::Bidi) {
        classes[1].add(range.clone(), c, count(Kind::Bidi));
    }
    if let Some(c) = first_of(Kind::Control) {
        classes[4].add(range.clone(), c, count(Kind::Control));
    }
    if tags > 0 || first_of(Kind::Bidi).is_some() || first_of(Kind::Control).is_some() {
        return;
    }
    if run.len() >= 4 || count(Kind::Selector) >= 2 {
        classes[2].add(range, run[0].0, run.len());
        return;
    }
    let non_ascii = |c: Option<char>| c.is_some_and(|c| !c.is_ascii());
    let lone = run.iter().find(|(c, k)| match k {
        Kind::Selector => false,
        Kind::SoftHyphen => run.len() > 1,
        Kind::Joiner => !(non_ascii(prev) && non_ascii(next)),
        Kind::Invisible => !(*c == '\u{feff}' && range.start == 0),
        _ => true,
    });
    if let Some(&(c, _)) = lone {
        classes[3].add(range, c, run.len());
    }
}

/// An emoji subdivision flag: 🏴 (U+1F3F4), then tag letters and digits, then U+E007F.
fn subdivision_flag(run: &[(char, Kind)], prev: Option<char>) -> bool {
    let tags: Vec<u32> = run.iter().map(|r| r.0 as u32).collect();
    prev == Some('\u{1F3F4}')
        && run.iter().all(|r| r.1 == Kind::Tag)
        && (3..=8).contains(&tags.len())
        && tags.last() == Some(&0xE007F)
        && tags[..tags.len() - 1].iter().all(|&t| {
            char::from_u32(t - 0xE0000)
                .is_some_and(|a| a.is_ascii_lowercase() || a.is_ascii_digit())
        })
}

fn report(classes: [Class; 5]) -> Vec<Hit> {
    const WHAT: [(&str, Level, &str); 5] = [
        (
            "a Unicode tag character",
            Level::Block,
            "tag characters spell text a model reads and a reviewer cannot see",
        ),
        (
            "a bidirectional control",
            Level::Block,
            "it reorders how the text is displayed, so what a reviewer sees is not what is read (Trojan Source)",
        ),
        (
            "a run of invisible characters",
            Level::Block,
            "a run of characters nobody sees can carry data or instructions",
        ),
        (
            "an invisible character",
            Level::Medium,
            "it has no visible effect where it is, and may hide or split words",
        ),
        (
            "a control character",
            Level::Medium,
            "shown in a terminal it can hide or rewrite text (an escape sequence)",
        ),
    ];
    let mut out = Vec::new();
    for (class, (what, level, why)) in classes.into_iter().zip(WHAT) {
        let Some((range, c, n)) = class.first else {
            continue;
        };
        let rest = class.count - n;
        let more = if rest > 0 {
            format!(", and {rest} more in this text")
        } else {
            String::new()
        };
        let run = if n > 1 {
            format!(" (starting a run of {n})")
        } else {
            String::new()
        };
        out.push(Hit {
            rule: "FILE-002",
            level,
            range,
            message: format!("U+{:04X}, {what}{run}{more}: {why}", c as u32),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(text: &str) -> Vec<(Level, String)> {
        scan(text)
            .into_iter()
            .map(|h| (h.level, h.message))
            .collect()
    }

    #[test]
    fn tag_characters_and_bidi_controls_block() {
        let tags: String = "\u{E0049}\u{E0067}\u{E006E}".into();
        let found = levels(&format!("Summarise the file.{tags}\n"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, Level::Block);
        assert!(found[0].1.starts_with("U+E0049"), "{}", found[0].1);
        let found = levels("access = \"user\u{202E} \u{2066}// admin\u{2069}\"");
        assert_eq!(found[0].0, Level::Block);
        assert!(found[0].1.contains("U+202E"));
        assert!(found[0].1.contains("and 2 more"));
    }

    #[test]
    fn invisible_runs_block_and_lone_ones_warn() {
        let channel = "a\u{200B}\u{200C}\u{200B}\u{200D}b";
        assert_eq!(levels(channel)[0].0, Level::Block);
        let selectors = "😀\u{FE00}\u{FE01}\u{E0100}";
        assert_eq!(levels(selectors)[0].0, Level::Block);
        assert_eq!(levels("pass\u{200B}word")[0].0, Level::Medium);
        assert_eq!(levels("x\u{FEFF}y")[0].0, Level::Medium);
        assert_eq!(levels("co\u{AD}\u{AD}de")[0].0, Level::Medium);
        for ascii_control in ["nul\0", "del\u{7f}", "vt\u{0b}"] {
            assert_eq!(
                levels(ascii_control)[0].0,
                Level::Medium,
                "{ascii_control:?}"
            );
        }
        let escape = levels("echo ok\u{1b}[8m hidden\u{1b}[0m");
        assert_eq!(escape.len(), 1);
        assert!(
            escape[0].1.starts_with("U+001B, a control character"),
            "{escape:?}"
        );
    }

    #[test]
    fn ordinary_text_passes() {
        for text in [
            "\u{FEFF}# Title\n",
            "family: 👨\u{200D}👩\u{200D}👧",
            "love: ❤\u{FE0F}",
            "fire heart: ❤\u{FE0F}\u{200D}🔥",
            "Persian: می\u{200C}خواهم",
            "Silben\u{AD}trennung",
            "flag: 🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
            "plain ASCII text",
            "tabs\tand\r\nline ends\x0c",
        ] {
            assert!(scan(text).is_empty(), "{text:?}");
        }
    }
}
