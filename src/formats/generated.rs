//! The `bundle.toml` capm generates for a bundle of another format: written as text, a
//! line at a time, remembering for every value it writes the original place it came from,
//! so that the checks of the generated manifest report in the author's own files.

use crate::manifest::origin::Origin;
use crate::manifest::span::Span;
use crate::manifest::tree::MANIFEST;

/// Where a generated value came from: an index of [`Origin::files`] and, when known, the
/// range in that file (`None`: the file as a whole).
pub type From = Option<(usize, Option<Span>)>;

/// A generated manifest under construction.
#[derive(Debug, Default)]
pub struct Manifest {
    text: String,
    map: Vec<(Span, usize, Option<Span>)>,
}

/// A TOML string literal for `s`.
pub fn string(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

/// A TOML key for `k`: bare when it can be, quoted otherwise.
pub fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare { k.to_string() } else { string(k) }
}

impl Manifest {
    /// Starts a table: `[a.b]` from `["a", "b"]`, each part quoted when it must be.
    pub fn table(&mut self, path: &[&str]) {
        self.table_from(path, None);
    }

    /// Starts a table whose last key (a resource's name) came from `from`.
    pub fn table_from(&mut self, path: &[&str], from: From) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        let (last, parents) = path.split_last().expect("a table has a name");
        self.text.push('[');
        for p in parents {
            self.text.push_str(&key(p));
            self.text.push('.');
        }
        self.value(&key(last), from);
        self.text.push_str("]\n");
    }

    /// `key = "value"`.
    pub fn string(&mut self, k: &str, value: &str, from: From) {
        self.raw(k, &string(value), from);
    }

    /// `key = VALUE`, where `value` is already TOML (a number, a boolean, an inline table).
    pub fn raw(&mut self, k: &str, value: &str, from: From) {
        self.text.push_str(&key(k));
        self.text.push_str(" = ");
        self.value(value, from);
        self.text.push('\n');
    }

    /// `key = ["a", "b"]`, each element mapped to where it came from.
    pub fn strings(&mut self, k: &str, values: &[(String, From)]) {
        self.text.push_str(&key(k));
        self.text.push_str(" = [");
        for (i, (v, from)) in values.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.value(&string(v), *from);
        }
        self.text.push_str("]\n");
    }

    fn value(&mut self, text: &str, from: From) {
        let start = self.text.len();
        self.text.push_str(text);
        if let Some((file, span)) = from {
            self.map
                .push((Span::new(start, self.text.len()), file, span));
        }
    }

    /// The manifest's text, its map recorded in `origin`.
    pub fn finish(self, origin: &mut Origin) -> String {
        for (span, file, to) in self.map {
            origin.map(MANIFEST, span, file, to);
        }
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_mapped() {
        let mut m = Manifest::default();
        m.table(&["bundle"]);
        m.string("name", "kit", Some((0, Some(Span::new(3, 8)))));
        m.table(&["mcp", "a.b"]);
        m.strings(
            "args",
            &[("-y".into(), None), ("x\"y".into(), Some((1, None)))],
        );
        let mut origin = Origin::default();
        let text = m.finish(&mut origin);
        assert_eq!(
            text,
            "[bundle]\nname = \"kit\"\n\n[mcp.\"a.b\"]\nargs = [\"-y\", 'x\"y']\n"
        );
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["mcp"]["a.b"]["args"][1].as_str(), Some("x\"y"));
        assert_eq!(origin.map.len(), 2);
        let first = &origin.map[0];
        assert_eq!(&text[first.span.start..first.span.end], "\"kit\"");
    }
}
