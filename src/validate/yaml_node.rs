//! YAML front matter read the way OpenCode reads it (gray-matter over js-yaml), into a tree
//! of nodes that remember their byte spans, so that a check can point at `file:line:col`.
//!
//! yaml-rust2 tokenises; plain scalars are then resolved by js-yaml's rules (its default
//! schema: `True`/`FALSE` are booleans, `yes` is a string, `0x1f` and `1_000` are numbers,
//! `~` and an empty value are null), and a key given twice is an error, as in js-yaml.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::manifest::span::Span;

/// One YAML value with the span of its first line in the parsed text.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number and whether it is an integer (js-yaml keeps both as JavaScript numbers).
    Number(f64, bool),
    String(String),
    /// A list (no schema OpenCode publishes for front matter constrains its items).
    Seq,
    Map(Vec<(Node, Node)>),
    /// An alias (`*name`), which capm does not follow: the schema check passes it over, and
    /// PERM-002 counts one in an agent's permissions as a grant (fail closed).
    Alias,
}

/// Why the text is not YAML js-yaml accepts: a message and where.
#[derive(Debug)]
pub struct YamlError {
    pub message: String,
    pub offset: usize,
}

/// Parses one YAML document; `None` for an empty one.
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    let chars: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .collect();
    let mut reader = Reader {
        parser: Parser::new_from_str(text),
        text,
        chars,
    };
    loop {
        let (ev, mark) = reader.next()?;
        match ev {
            Event::StreamStart | Event::DocumentStart => {}
            Event::StreamEnd => return Ok(None),
            ev => return reader.node(ev, mark).map(Some),
        }
    }
}

struct Reader<'a> {
    parser: Parser<std::str::Chars<'a>>,
    text: &'a str,
    chars: Vec<usize>,
}

impl Reader<'_> {
    fn offset(&self, mark: Marker) -> usize {
        self.chars
            .get(mark.index())
            .copied()
            .unwrap_or(self.text.len())
    }

    fn next(&mut self) -> Result<(Event, Marker), YamlError> {
        self.parser.next_token().map_err(|e| YamlError {
            message: e.info().to_string(),
            offset: self.offset(*e.marker()),
        })
    }

    /// The span from `start` to the end of its line, without trailing blanks.
    fn line_span(&self, start: usize) -> Span {
        let rest = &self.text[start..];
        let end = rest.find('\n').unwrap_or(rest.len());
        Span::new(start, start + rest[..end].trim_end().len())
    }

    fn node(&mut self, ev: Event, mark: Marker) -> Result<Node, YamlError> {
        let start = self.offset(mark);
        let span = self.line_span(start);
        let value = match ev {
            Event::Scalar(s, style, _, tag) => scalar(s, style, tag.is_some()),
            Event::Alias(_) => Value::Alias,
            Event::SequenceStart(..) => {
                self.seq()?;
                Value::Seq
            }
            Event::MappingStart(..) => Value::Map(self.map()?),
            _ => {
                return Err(YamlError {
                    message: "unexpected end of the document".into(),
                    offset: start,
                });
            }
        };
        Ok(Node { value, span })
    }

    fn seq(&mut self) -> Result<(), YamlError> {
        loop {
            match self.next()? {
                (Event::SequenceEnd, _) => return Ok(()),
                (ev, mark) => {
                    self.node(ev, mark)?;
                }
            }
        }
    }

    fn map(&mut self) -> Result<Vec<(Node, Node)>, YamlError> {
        let mut entries: Vec<(Node, Node)> = Vec::new();
        loop {
            let (ev, mark) = self.next()?;
            if matches!(ev, Event::MappingEnd) {
                return Ok(entries);
            }
            let key = self.node(ev, mark)?;
            let (ev, mark) = self.next()?;
            let mut value = self.node(ev, mark)?;
            if matches!(value.value, Value::Null) && value.span.start > key.span.end {
                // An empty value: point at its key rather than at the next line.
                value.span = key.span;
            }
            if let Value::String(k) = &key.value
                && entries
                    .iter()
                    .any(|(e, _)| matches!(&e.value, Value::String(s) if s == k))
            {
                return Err(YamlError {
                    message: format!("duplicated mapping key `{k}`"),
                    offset: key.span.start,
                });
            }
            entries.push((key, value));
        }
    }
}

/// A scalar as js-yaml's default schema resolves it; quoted, block and tagged scalars are
/// strings.
fn scalar(s: String, style: TScalarStyle, tagged: bool) -> Value {
    if style != TScalarStyle::Plain || tagged {
        return Value::String(s);
    }
    match s.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = int(&s) {
        return Value::Number(n, true);
    }
    match float(&s) {
        Some(f) => Value::Number(f, f.is_finite() && f.fract() == 0.0),
        None => Value::String(s),
    }
}

/// js-yaml's integers: decimal, `0b`, `0o`, `0x`, with `_` separators and a sign.
fn int(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') {
        return None;
    }
    let digits = body.replace('_', "");
    let (radix, digits) = match digits.get(..2) {
        Some("0b") => (2, &digits[2..]),
        Some("0o") => (8, &digits[2..]),
        Some("0x") => (16, &digits[2..]),
        _ => (10, digits.as_str()),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = u128::from_str_radix(digits, radix).ok()? as f64;
    Some(if neg { -n } else { n })
}

/// js-yaml's floats: `1.5`, `-.5`, `1e3`, `6.8523015e+5`, `.inf`, `.NaN`.
fn float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.trim_start_matches(['+', '-']) {
        ".inf" => {
            return Some(if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        ".nan" if s.len() == 4 => return Some(f64::NAN),
        _ => {}
    }
    let body = lower.replace('_', "");
    let ok = !body.is_empty()
        && !s.starts_with('_')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
        && body.chars().any(|c| c.is_ascii_digit());
    if !ok {
        return None;
    }
    body.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Value {
        let Some(Node {
            value: Value::Map(m),
            ..
        }) = parse(&format!("k: {text}")).unwrap()
        else {
            panic!("not a map")
        };
        m.into_iter().next().unwrap().1.value
    }

    #[test]
    fn scalars_resolve_as_js_yaml_does() {
        assert!(matches!(one("True"), Value::Bool(true)));
        assert!(matches!(one("FALSE"), Value::Bool(false)));
        assert!(matches!(one("yes"), Value::String(s) if s == "yes"));
        assert!(matches!(one("0x1"), Value::Number(n, true) if n == 1.0));
        assert!(matches!(one("1_000"), Value::Number(n, true) if n == 1000.0));
        assert!(matches!(one("2.5"), Value::Number(n, false) if n == 2.5));
        assert!(matches!(one(".inf"), Value::Number(n, false) if n.is_infinite()));
        assert!(matches!(one("'3'"), Value::String(_)));
        assert!(matches!(one("~"), Value::Null));
        assert!(matches!(one("#FF5733"), Value::Null));
        assert!(matches!(one("1.2.3"), Value::String(_)));
    }

    #[test]
    fn a_key_given_twice_is_an_error() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.offset, 10);
    }

    #[test]
    fn spans_are_byte_offsets_even_after_wide_characters() {
        let Some(Node {
            value: Value::Map(m),
            ..
        }) = parse("d: é€\nmode: x\n").unwrap()
        else {
            panic!()
        };
        assert_eq!(m[1].0.span, Span::new(9, 16));
    }
}
