//! JSON documents of other formats (`plugin.json`, `.mcp.json`, `hooks.json`,
//! `marketplace.json`, `server.json`) as trees whose every value remembers its byte range,
//! so a finding points at `file:line:col`.
//!
//! Comments and trailing commas are accepted, as OpenCode's own config allows; a
//! document that does not parse is one diagnostic at the place it stops.

use crate::diagnostic::Diagnostic;
use crate::manifest::span::{SourceFile, Span, Spanned};

/// A JSON value and its range.
#[derive(Clone, Debug)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

/// A JSON value whose members are [`Node`]s. Numbers keep their text.
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(Spanned<String>, Node)>),
}

impl Node {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(members) => members.iter().find(|(k, _)| k.value == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The members of an object (none for anything else).
    pub fn members(&self) -> &[(Spanned<String>, Node)] {
        match &self.value {
            Value::Object(members) => members,
            _ => &[],
        }
    }

    /// The elements of an array (none for anything else).
    pub fn elements(&self) -> &[Node] {
        match &self.value {
            Value::Array(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The string, with its span.
    pub fn spanned_str(&self) -> Option<Spanned<String>> {
        self.as_str()
            .map(|s| Spanned::new(s.to_string(), self.span))
    }

    /// What kind of value this is, for messages (`a string`, `an array`).
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The value as plain `serde_json`, spans dropped.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => serde_json::from_str(n).unwrap_or(J::Null),
            Value::String(s) => J::String(s.clone()),
            Value::Array(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Object(members) => J::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.value.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parses a document. An empty one, or one that does not parse, is a diagnostic (code
/// `invalid-json`) in `source`.
pub fn parse(source: &SourceFile) -> Result<Node, Box<Diagnostic>> {
    let collect = jsonc_parser::CollectOptions::default();
    let options = crate::target::jsonc::options();
    let name = source.path.rsplit('/').next().unwrap_or(&source.path);
    match jsonc_parser::parse_to_ast(&source.text, &collect, &options) {
        Ok(parsed) => match parsed.value {
            Some(v) => Ok(convert(v)),
            None => Err(Box::new(
                Diagnostic::new("invalid-json", format!("{name} is empty"))
                    .at(source, Span::new(0, 0)),
            )),
        },
        Err(e) => {
            let r = e.range();
            Err(Box::new(
                Diagnostic::new(
                    "invalid-json",
                    format!("{name} is not valid JSON: {}", e.kind()),
                )
                .at(source, Span::new(r.start, r.end)),
            ))
        }
    }
}

fn convert(v: jsonc_parser::ast::Value<'_>) -> Node {
    use jsonc_parser::ast::{ObjectPropName, Value as A};
    let (span, value) = match v {
        A::StringLit(s) => (s.range, Value::String(s.value.into_owned())),
        A::NumberLit(n) => (n.range, Value::Number(n.value.to_string())),
        A::BooleanLit(b) => (b.range, Value::Bool(b.value)),
        A::NullKeyword(n) => (n.range, Value::Null),
        A::Array(a) => (
            a.range,
            Value::Array(a.elements.into_iter().map(convert).collect()),
        ),
        A::Object(o) => {
            let members = o
                .properties
                .into_iter()
                .map(|p| {
                    let (key, range) = match p.name {
                        ObjectPropName::String(s) => (s.value.into_owned(), s.range),
                        ObjectPropName::Word(w) => (w.value.to_string(), w.range),
                    };
                    (
                        Spanned::new(key, Span::new(range.start, range.end)),
                        convert(p.value),
                    )
                })
                .collect();
            (o.range, Value::Object(members))
        }
    };
    Node {
        span: Span::new(span.start, span.end),
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_ranges() {
        let src = SourceFile::new("p.json", "{\n  \"name\": \"kit\", \"tags\": [\"a\", 2]\n}");
        let root = parse(&src).unwrap();
        let name = root.get("name").unwrap();
        assert_eq!(&src.text[name.span.start..name.span.end], "\"kit\"");
        let tags = root.get("tags").unwrap().elements();
        assert_eq!(tags[1].kind(), "a number");
        assert_eq!(root.to_json()["tags"][1], 2);
    }

    #[test]
    fn a_broken_document_is_one_located_diagnostic() {
        let src = SourceFile::new("dir/p.json", "{\n  \"name\": \n}");
        let d = parse(&src).unwrap_err();
        assert_eq!(d.code, "invalid-json");
        assert_eq!(d.location.as_ref().unwrap().line, Some(3));
        assert!(parse(&SourceFile::new("e.json", "  ")).is_err());
    }
}
