//! Layer 1 of validation: walk a parsed TOML tree into manifest types, collecting every shape
//! problem (wrong type, missing field, unknown key) instead of stopping at the first.
//!
//! serde's derive stops at the first error and loses spans through `flatten`, so manifests
//! are decoded by hand over `toml`'s spanned tree. Each table is read through [`Fields`],
//! which remembers which keys were asked for; whatever was not asked for is reported as an
//! unknown key, with the closest known key as a suggestion.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use indexmap::IndexMap;
use toml::de::{DeTable, DeValue};

use super::span::{SourceFile, Span, Spanned};
use crate::diagnostic::{Diagnostic, Severity};

/// A value in the parsed tree, with its span.
pub type Node<'i> = toml::Spanned<DeValue<'i>>;
type Key<'i> = toml::Spanned<Cow<'i, str>>;

fn span_of(r: Range<usize>) -> Span {
    Span::new(r.start, r.end)
}

/// The most syntax errors reported for one file. Past the first few the parser's recovery
/// is guessing, and hostile text (a megabyte of carriage returns) would otherwise make one
/// error per byte.
pub const MAX_SYNTAX_ERRORS: usize = 20;

/// Parses TOML text; on syntax errors returns the errors the parser could recover, at most
/// [`MAX_SYNTAX_ERRORS`] of them.
pub fn parse<'i>(source: &'i SourceFile) -> Result<Node<'i>, Vec<Diagnostic>> {
    let (root, errors) = DeTable::parse_recoverable(&source.text);
    if errors.is_empty() {
        let span = root.span();
        return Ok(Node::new(span, DeValue::Table(root.into_inner())));
    }
    let more = errors.len().saturating_sub(MAX_SYNTAX_ERRORS);
    let mut diags: Vec<Diagnostic> = errors
        .into_iter()
        .take(MAX_SYNTAX_ERRORS)
        .map(|e| {
            let span = e.span().map(span_of).unwrap_or_default();
            let message = e.message().trim_end().to_string();
            let message = if message.is_empty() {
                "invalid TOML".to_string()
            } else {
                message
            };
            Diagnostic::new("toml-syntax", format!("invalid TOML: {message}")).at(source, span)
        })
        .collect();
    if let (Some(last), true) = (diags.last_mut(), more > 0) {
        last.help = Some(format!(
            "{more} more syntax errors in this file are not shown; fix these and lint again"
        ));
    }
    Err(diags)
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Decoding state: the file being read, the diagnostics found so far, and the resource
/// being decoded (attached to every diagnostic raised meanwhile).
pub struct Decoder<'s> {
    pub source: &'s SourceFile,
    pub diags: Vec<Diagnostic>,
    /// Every key that was not asked for, as its dotted path with the key's span.
    pub unknown_keys: Vec<Spanned<String>>,
    resource: Option<String>,
}

impl<'s> Decoder<'s> {
    pub fn new(source: &'s SourceFile) -> Self {
        Decoder {
            source,
            diags: Vec::new(),
            unknown_keys: Vec::new(),
            resource: None,
        }
    }

    /// Runs `f` with `resource` attached to every diagnostic it raises.
    pub fn in_resource<T>(&mut self, resource: String, f: impl FnOnce(&mut Self) -> T) -> T {
        let outer = self.resource.replace(resource);
        let out = f(self);
        self.resource = outer;
        out
    }

    pub fn report(&mut self, d: Diagnostic) {
        let d = if d.resource.is_none() {
            d.maybe_resource(self.resource.as_deref())
        } else {
            d
        };
        self.diags.push(d);
    }

    pub fn diag(&mut self, code: &'static str, span: Span, message: impl Into<String>) {
        let d = Diagnostic::new(code, message).at(self.source, span);
        self.report(d);
    }

    fn type_error(&mut self, node: &Node<'_>, path: &(impl fmt::Display + ?Sized), expected: &str) {
        let found = type_name(node.get_ref());
        self.diag(
            "invalid-type",
            span_of(node.span()),
            format!("`{path}` must be {expected}, found {found}"),
        );
    }

    pub fn string(
        &mut self,
        node: &Node<'_>,
        path: &(impl fmt::Display + ?Sized),
    ) -> Option<Spanned<String>> {
        match node.get_ref() {
            DeValue::String(s) => Some(Spanned::new(s.to_string(), span_of(node.span()))),
            _ => {
                self.type_error(node, path, "a string");
                None
            }
        }
    }

    pub fn bool(
        &mut self,
        node: &Node<'_>,
        path: &(impl fmt::Display + ?Sized),
    ) -> Option<Spanned<bool>> {
        match node.get_ref() {
            DeValue::Boolean(b) => Some(Spanned::new(*b, span_of(node.span()))),
            _ => {
                self.type_error(node, path, "a boolean (true or false)");
                None
            }
        }
    }

    /// An integer from `min` to `max`; anything else is reported with `what` (a unit).
    pub fn integer_in(
        &mut self,
        node: &Node<'_>,
        path: &(impl fmt::Display + ?Sized),
        (min, max): (i64, i64),
        what: &str,
    ) -> Option<Spanned<i64>> {
        let DeValue::Integer(i) = node.get_ref() else {
            self.type_error(node, path, &format!("an integer ({what})"));
            return None;
        };
        match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(v) if (min..=max).contains(&v) => Some(Spanned::new(v, span_of(node.span()))),
            _ => {
                self.diag(
                    "invalid-type",
                    span_of(node.span()),
                    format!("`{path}` must be from {min} to {max} ({what})"),
                );
                None
            }
        }
    }

    /// An array of strings; elements of another type are reported and skipped.
    pub fn strings(
        &mut self,
        node: &Node<'_>,
        path: &(impl fmt::Display + ?Sized),
    ) -> Option<Vec<Spanned<String>>> {
        let DeValue::Array(items) = node.get_ref() else {
            self.type_error(node, path, "an array of strings");
            return None;
        };
        Some(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.string(item, &format_args!("{path}[{i}]")))
                .collect(),
        )
    }

    /// A string that must be one of an enum's spellings.
    pub fn keyword<T: Keyword>(
        &mut self,
        node: &Node<'_>,
        path: &(impl fmt::Display + ?Sized),
    ) -> Option<Spanned<T>> {
        let s = self.string(node, path)?;
        self.keyword_of(&s, path)
    }

    /// A string already read that must be one of an enum's spellings.
    pub fn keyword_of<T: Keyword>(
        &mut self,
        s: &Spanned<String>,
        path: &(impl fmt::Display + ?Sized),
    ) -> Option<Spanned<T>> {
        match T::parse(&s.value) {
            Some(v) => Some(Spanned::new(v, s.span)),
            None => {
                let d = unknown_keyword::<T>(&s.value, path).at(self.source, s.span);
                self.report(d);
                None
            }
        }
    }

    /// Opens a table for reading; `anchor` is where a "missing field" diagnostic points
    /// (the table's header key, or the whole file for the root).
    pub fn table<'n, 'i>(
        &mut self,
        node: &'n Node<'i>,
        path: &(impl fmt::Display + ?Sized),
        anchor: Span,
    ) -> Option<Fields<'n, 'i>> {
        match node.get_ref() {
            DeValue::Table(t) => Some(Fields {
                table: t,
                path: path.to_string(),
                anchor,
                asked: Vec::new(),
            }),
            _ => {
                self.type_error(node, path, "a table");
                None
            }
        }
    }

    /// A table whose keys are names chosen by the author (`[mcp]`, `[dependencies]`):
    /// decodes every entry with `f`, skipping entries `f` rejects.
    pub fn named_map<'i, T>(
        &mut self,
        node: Option<&Node<'i>>,
        path: &(impl fmt::Display + ?Sized),
        mut f: impl FnMut(&mut Self, Spanned<String>, &Node<'i>) -> Option<T>,
    ) -> IndexMap<Spanned<String>, T> {
        let mut out = IndexMap::new();
        let Some(node) = node else { return out };
        let DeValue::Table(t) = node.get_ref() else {
            self.type_error(node, path, "a table");
            return out;
        };
        for (key, value) in t.iter() {
            let name = Spanned::new(key.get_ref().to_string(), span_of(key.span()));
            if let Some(v) = f(self, name.clone(), value) {
                out.insert(name, v);
            }
        }
        out
    }

    /// Reports a missing required field.
    pub fn missing(&mut self, fields: &Fields<'_, '_>, key: &str) {
        let what = if fields.path.is_empty() {
            format!("missing table `[{key}]`")
        } else {
            format!("missing required field `{key}` in `{}`", fields.path)
        };
        self.diag("missing-field", fields.anchor, what);
    }
}

/// A string-valued enumeration, spelled in manifests as kebab-case keywords.
pub trait Keyword: Sized + Copy + 'static {
    /// What the value is, for messages ("product mode").
    const WHAT: &'static str;
    /// The code reported for a value that is not one of the keywords.
    const CODE: &'static str;
    fn all() -> &'static [Self];
    fn as_str(self) -> &'static str;
    fn parse(s: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.as_str() == s)
    }
}

pub fn unknown_keyword<T: Keyword>(value: &str, path: &(impl fmt::Display + ?Sized)) -> Diagnostic {
    let names: Vec<&str> = T::all().iter().map(|v| v.as_str()).collect();
    Diagnostic::new(
        T::CODE,
        format!("unknown {} `{value}` in `{path}`", T::WHAT),
    )
    .help(match suggest(value, &names) {
        Some(s) => format!("did you mean `{s}`? expected one of: {}", names.join(", ")),
        None => format!("expected one of: {}", names.join(", ")),
    })
}

/// Records the dotted path of every key inside `node` (through tables and arrays).
fn record_nested(node: &Node<'_>, path: &str, out: &mut Vec<Spanned<String>>) {
    match node.get_ref() {
        DeValue::Table(t) => {
            for (k, v) in t.iter() {
                let child = format!("{path}.{}", k.get_ref());
                out.push(Spanned::new(child.clone(), span_of(k.span())));
                record_nested(v, &child, out);
            }
        }
        DeValue::Array(items) => {
            for item in items.iter() {
                record_nested(item, path, out);
            }
        }
        _ => {}
    }
}

/// `; did you mean `NAME`?` for the closest of `candidates` to a misspelt `word`, to end
/// a message with, or nothing.
pub fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    suggest(word, candidates)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// The closest candidate to a misspelled word, if any is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The dotted path of a key in a table, for messages (`mcp.github.command`).
pub struct ChildPath<'k> {
    table: &'k str,
    key: &'k str,
}

impl fmt::Display for ChildPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.table.is_empty() {
            f.write_str(self.key)
        } else {
            write!(f, "{}.{}", self.table, self.key)
        }
    }
}

/// A table being read; every key asked for counts as known.
pub struct Fields<'n, 'i> {
    table: &'n DeTable<'i>,
    pub path: String,
    pub anchor: Span,
    asked: Vec<&'static str>,
}

impl<'n, 'i> Fields<'n, 'i> {
    /// Whether the table has no key at all.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The value under `key`, if present.
    pub fn get(&mut self, key: &'static str) -> Option<&'n Node<'i>> {
        self.asked.push(key);
        self.table.get(key)
    }

    /// The span of `key` itself (for tables, their header), or the anchor if absent.
    pub fn key_span(&self, key: &str) -> Span {
        self.table
            .get_key_value(key)
            .map(|(k, _)| span_of(k.span()))
            .unwrap_or(self.anchor)
    }

    /// The path of a child key, for messages: written out only when a message needs it.
    pub fn child<'k>(&'k self, key: &'k str) -> ChildPath<'k> {
        ChildPath {
            table: &self.path,
            key,
        }
    }

    /// A required value: reported as missing when absent.
    pub fn require(&mut self, dec: &mut Decoder<'_>, key: &'static str) -> Option<&'n Node<'i>> {
        let v = self.get(key);
        if v.is_none() {
            dec.missing(self, key);
        }
        v
    }

    /// Reports every key that was never asked for as an unknown key. The keys nested
    /// inside an unknown value are recorded too (not reported), so that rules over unknown
    /// keys see `claude.enableAllProjectMcpServers`, not just `claude`.
    pub fn finish(self, dec: &mut Decoder<'_>) {
        for (key, value) in self.table.iter() {
            let k: &Key<'_> = key;
            let name = k.get_ref().as_ref();
            if self.asked.contains(&name) {
                continue;
            }
            let path = self.child(name).to_string();
            dec.unknown_keys
                .push(Spanned::new(path.clone(), span_of(k.span())));
            record_nested(value, &path, &mut dec.unknown_keys);
            let mut d = Diagnostic::new("unknown-key", format!("unknown key `{path}`"))
                .with_severity(Severity::Warning)
                .at(dec.source, span_of(k.span()));
            d = match suggest(name, &self.asked) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("known keys here: {}", self.asked.join(", "))),
            };
            dec.report(d);
        }
    }
}
