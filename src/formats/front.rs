//! Markdown with YAML front matter (`SKILL.md`, agent and command files of other formats):
//! the top-level keys with their values and the span of each key's line, and where the
//! body starts, so a translation can rewrite the front matter and keep the body as written.

use yaml_rust2::{Yaml, YamlLoader};

use crate::manifest::span::Span;

/// A markdown file's front matter.
#[derive(Debug)]
pub struct FrontMatter {
    /// Each top-level key, its value, and the span of the line it starts on.
    pub keys: Vec<(String, Yaml, Span)>,
    /// Where the body (after the closing `---` line) starts.
    pub body: usize,
    /// The span of the opening `---` line, for findings about the front matter as a whole.
    pub head: Span,
}

impl FrontMatter {
    /// The value of `key`, with its line's span.
    pub fn get(&self, key: &str) -> Option<(&Yaml, Span)> {
        self.keys
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, s)| (v, *s))
    }

    /// The value of `key` as a string (a number or boolean written plainly counts).
    pub fn string(&self, key: &str) -> Option<(String, Span)> {
        let (v, span) = self.get(key)?;
        scalar(v).map(|s| (s, span))
    }
}

/// A scalar as text: strings as they are, numbers and booleans as written.
pub fn scalar(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A list given as a YAML sequence or as one string separated by commas or spaces
/// (`tools: Read, Grep`), each item trimmed.
pub fn list(v: &Yaml) -> Vec<String> {
    match v {
        Yaml::Array(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other)
            .unwrap_or_default()
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

/// Why front matter could not be read: a message and where.
#[derive(Debug)]
pub struct FrontError {
    pub message: String,
    pub span: Span,
}

/// Splits `text` into front matter and body. `Ok(None)`: the file has no front matter.
pub fn parse(text: &str) -> Result<Option<FrontMatter>, FrontError> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let first_end = text[bom..].find('\n').map_or(text.len(), |i| bom + i);
    if text[bom..first_end].trim_end() != "---" {
        return Ok(None);
    }
    let head = Span::new(bom, first_end);
    let yaml_start = (first_end + 1).min(text.len());
    let mut close = None;
    let mut offset = yaml_start;
    for line in text[yaml_start..].split_inclusive('\n') {
        if line.trim_end() == "---" {
            close = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((close, body)) = close else {
        return Err(FrontError {
            message: "the front matter is never closed with `---`".into(),
            span: head,
        });
    };
    let yaml = &text[yaml_start..close];
    let docs = YamlLoader::load_from_str(yaml).map_err(|e| yaml_error(&e, yaml, yaml_start))?;
    let keys = match docs.into_iter().next() {
        None | Some(Yaml::Null) => Vec::new(),
        Some(Yaml::Hash(map)) => map
            .into_iter()
            .filter_map(|(k, v)| {
                let k = scalar(&k)?;
                let span = key_line(yaml, &k).map_or(head, |s| {
                    Span::new(yaml_start + s.start, yaml_start + s.end)
                });
                Some((k, v, span))
            })
            .collect(),
        Some(_) => {
            return Err(FrontError {
                message: "the front matter is not a mapping of keys to values".into(),
                span: head,
            });
        }
    };
    Ok(Some(FrontMatter { keys, body, head }))
}

/// The offset of the start of 1-based `line` in `text`.
/// A YAML error at the character where the parser stopped, to the end of its line. A colon
/// and a space inside an unquoted value is the usual cause: the help says so.
pub(crate) fn yaml_error(e: &yaml_rust2::ScanError, yaml: &str, yaml_start: usize) -> FrontError {
    let at = yaml
        .char_indices()
        .nth(e.marker().index())
        .map_or_else(|| line_offset(yaml, e.marker().line()), |(i, _)| i);
    let end = yaml[at..].find('\n').map_or(yaml.len(), |n| at + n);
    let mut message = format!("the front matter is not valid YAML: {}", e.info());
    if e.info().starts_with("mapping values are not allowed") {
        message.push_str(" (a value holding `: ` must be quoted: `description: \"…\"`)");
    }
    FrontError {
        message,
        span: Span::new(
            yaml_start + at,
            yaml_start + end.max(at + 1).min(yaml.len()),
        ),
    }
}

fn line_offset(text: &str, line: usize) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum()
}

/// The span of the line of `yaml` on which top-level `key` is written (bare or quoted).
pub(crate) fn key_line(yaml: &str, key: &str) -> Option<Span> {
    let mut off = 0;
    for line in yaml.split_inclusive('\n') {
        let bare = line.strip_prefix(key);
        let quoted = line
            .strip_prefix(&format!("\"{key}\""))
            .or_else(|| line.strip_prefix(&format!("'{key}'")));
        if let Some(rest) = bare.or(quoted)
            && rest.trim_start().starts_with(':')
        {
            return Some(Span::new(off, off + line.trim_end().len()));
        }
        off += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_their_lines_and_the_body_its_start() {
        let text = "---\nname: pdf\ntools: Read, Grep\nlist:\n  - a\n  - b\n---\nBody\n";
        let fm = parse(text).unwrap().unwrap();
        let (name, span) = fm.string("name").unwrap();
        assert_eq!(name, "pdf");
        assert_eq!(&text[span.start..span.end], "name: pdf");
        assert_eq!(list(fm.get("tools").unwrap().0), ["Read", "Grep"]);
        assert_eq!(list(fm.get("list").unwrap().0), ["a", "b"]);
        assert_eq!(&text[fm.body..], "Body\n");
    }

    #[test]
    fn missing_unclosed_and_broken_front_matter() {
        assert!(parse("# Title\n").unwrap().is_none());
        assert!(parse("---\nname: x\n").is_err());
        let e = parse("---\nname: [x\n---\n").unwrap_err();
        assert!(e.message.contains("not valid YAML"), "{}", e.message);
        assert!(parse("---\n- a\n---\n").is_err());
        assert!(parse("---\n---\nbody").unwrap().unwrap().keys.is_empty());
    }
}
