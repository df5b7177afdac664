//! OpenCode's own schemas of agent and command config, as its `opencode serve` publishes
//! them at `/doc` (version in [`OPENCODE_VERSION`]), kept verbatim in
//! `src/target/opencode/schema-1.18.33.json`, and an evaluator of the JSON Schema keywords
//! they use over front-matter nodes. A keyword the evaluator does not know is a test
//! failure, so the rules cannot drift from the data file.

use std::sync::LazyLock;

use serde_json::Value as Json;

use super::yaml_node::{Node, Value};
use crate::manifest::span::Span;

/// The OpenCode release the schemas come from.
pub const OPENCODE_VERSION: &str = "1.18.33";

/// The data file: `{ "opencode": VERSION, "source": …, "schemas": { NAME: schema } }`.
pub const SCHEMA_TEXT: &str = include_str!("../target/opencode/schema-1.18.33.json");

static SCHEMAS: LazyLock<Json> = LazyLock::new(|| {
    let doc: Json = serde_json::from_str(SCHEMA_TEXT).expect("the schema data file is JSON");
    doc["schemas"].clone()
});

/// The keywords [`check`] evaluates; `required` is met by the markdown body (`template`)
/// and `description` is documentation.
pub const KEYWORDS: &[&str] = &[
    "$ref",
    "anyOf",
    "type",
    "enum",
    "pattern",
    "exclusiveMinimum",
    "properties",
    "additionalProperties",
    "required",
    "description",
];

/// A named schema of the data file (`AgentConfig`, `CommandConfig`, …).
pub fn schema(name: &str) -> &'static Json {
    &SCHEMAS[name]
}

/// A value OpenCode refuses: where, and what it expected there.
#[derive(Debug)]
pub struct Problem {
    pub span: Span,
    pub message: String,
}

/// Checks `node` (found at `path`, e.g. `permission.edit`) against `schema`. A keyword
/// the evaluator does not know fails the value: the rules fail closed.
pub fn check(schema: &Json, node: &Node, path: &str, out: &mut Vec<Problem>) {
    let schema = resolve(schema);
    if matches!(node.value, Value::Alias) {
        return;
    }
    if let Some(alts) = schema.get("anyOf").and_then(Json::as_array) {
        return any_of(schema, alts, node, path, out);
    }
    let fail = |out: &mut Vec<Problem>| {
        out.push(Problem {
            span: node.span,
            message: format!(
                "`{path}` is {}, but OpenCode expects {}",
                show(node),
                describe(schema)
            ),
        })
    };
    let unknown = schema
        .as_object()
        .and_then(|m| m.keys().find(|k| !KEYWORDS.contains(&k.as_str())));
    if unknown.is_some() || !type_matches(schema, node) || !scalar_matches(schema, node) {
        return fail(out);
    }
    if let Value::Map(entries) = &node.value {
        for (k, v) in entries {
            let key = key_text(k);
            let sub = schema
                .get("properties")
                .and_then(|p| p.get(&key))
                .or_else(|| schema.get("additionalProperties"));
            if let Some(sub) = sub.filter(|s| s.is_object()) {
                check(sub, v, &format!("{path}.{key}"), out);
            }
        }
    }
}

/// `anyOf`: the problems of the one alternative of the node's type, or else one problem
/// naming every alternative.
fn any_of(schema: &Json, alts: &[Json], node: &Node, path: &str, out: &mut Vec<Problem>) {
    let mut results: Vec<Vec<Problem>> = Vec::new();
    for alt in alts {
        let mut p = Vec::new();
        check(alt, node, path, &mut p);
        if p.is_empty() {
            return;
        }
        if type_matches(resolve(alt), node) {
            results.push(p);
        }
    }
    match results.len() {
        1 => out.append(&mut results.remove(0)),
        _ => out.push(Problem {
            span: node.span,
            message: format!(
                "`{path}` is {}, but OpenCode expects {}",
                show(node),
                describe(schema)
            ),
        }),
    }
}

fn resolve(schema: &Json) -> &Json {
    match schema.get("$ref").and_then(Json::as_str) {
        Some(r) => resolve(schema_by_ref(r)),
        None => schema,
    }
}

fn schema_by_ref(r: &str) -> &'static Json {
    let name = r.rsplit('/').next().unwrap_or(r);
    schema(name)
}

fn type_matches(schema: &Json, node: &Node) -> bool {
    let Some(t) = schema.get("type").and_then(Json::as_str) else {
        return true;
    };
    match (t, &node.value) {
        ("string", Value::String(_)) | ("boolean", Value::Bool(_)) => true,
        ("object", Value::Map(_)) | ("array", Value::Seq) | ("null", Value::Null) => true,
        ("number", Value::Number(n, _)) => n.is_finite(),
        ("integer", Value::Number(n, int)) => n.is_finite() && *int,
        _ => false,
    }
}

fn scalar_matches(schema: &Json, node: &Node) -> bool {
    if let Some(options) = schema.get("enum").and_then(Json::as_array) {
        let Value::String(s) = &node.value else {
            return false;
        };
        if !options.iter().any(|o| o.as_str() == Some(s)) {
            return false;
        }
    }
    if let (Some(p), Value::String(s)) = (schema.get("pattern").and_then(Json::as_str), &node.value)
        && !pattern(p).is_match(s)
    {
        return false;
    }
    if let (Some(min), Value::Number(n, _)) = (
        schema.get("exclusiveMinimum").and_then(Json::as_f64),
        &node.value,
    ) && *n <= min
    {
        return false;
    }
    true
}

/// The compiled regex of a schema `pattern`, compiled once per pattern for the process.
fn pattern(p: &str) -> regex::Regex {
    static CACHE: std::sync::LazyLock<
        std::sync::Mutex<std::collections::HashMap<String, regex::Regex>>,
    > = std::sync::LazyLock::new(Default::default);
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(p.to_string())
        .or_insert_with(|| regex::Regex::new(p).expect("the data file's patterns compile"))
        .clone()
}

/// What a schema accepts, in words: "one of `ask`, `allow`, `deny`", "an integer greater
/// than 0".
pub fn describe(schema: &Json) -> String {
    let schema = resolve(schema);
    if let Some(alts) = schema.get("anyOf").and_then(Json::as_array) {
        let parts: Vec<String> = alts.iter().map(describe).collect();
        return parts.join(" or ");
    }
    if let Some(options) = schema.get("enum").and_then(Json::as_array) {
        let names: Vec<String> = options
            .iter()
            .map(|o| format!("`{}`", o.as_str().unwrap_or_default()))
            .collect();
        return format!("one of {}", names.join(", "));
    }
    if let Some(p) = schema.get("pattern").and_then(Json::as_str) {
        return format!("a string matching `{p}`");
    }
    let base = match schema.get("type").and_then(Json::as_str) {
        Some("string") => "a string",
        Some("number") => "a number",
        Some("integer") => "an integer",
        Some("boolean") => "`true` or `false`",
        Some("object") => "a mapping",
        Some("array") => "a list",
        _ => "a value",
    };
    match schema.get("exclusiveMinimum").and_then(Json::as_f64) {
        Some(min) => format!("{base} greater than {min}"),
        None => base.to_string(),
    }
}

/// A node as the message shows it.
pub fn show(node: &Node) -> String {
    match &node.value {
        Value::Null => "empty (null)".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n, _) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Seq => "a list".into(),
        Value::Map(_) => "a mapping".into(),
        Value::Alias => "an alias".into(),
    }
}

/// A mapping key as text (js-yaml turns every key into a string).
pub fn key_text(key: &Node) -> String {
    match &key.value {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n, _) => n.to_string(),
        _ => "[object]".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(schema: &Json, found: &mut Vec<String>) {
        match schema {
            Json::Object(map) => {
                for (k, v) in map {
                    found.push(k.clone());
                    match k.as_str() {
                        "properties" => v
                            .as_object()
                            .unwrap()
                            .values()
                            .for_each(|s| keywords(s, found)),
                        "anyOf" => v
                            .as_array()
                            .unwrap()
                            .iter()
                            .for_each(|s| keywords(s, found)),
                        "additionalProperties" => keywords(v, found),
                        _ => {}
                    }
                }
            }
            Json::Bool(_) => {}
            other => panic!("not a schema: {other}"),
        }
    }

    /// Every keyword the data file uses is one the evaluator knows: the rules are the data.
    #[test]
    fn the_evaluator_knows_every_keyword_of_the_data_file() {
        let mut found = Vec::new();
        for s in SCHEMAS.as_object().unwrap().values() {
            keywords(s, &mut found);
        }
        for k in found {
            assert!(KEYWORDS.contains(&k.as_str()), "unknown keyword `{k}`");
        }
        for name in ["AgentConfig", "CommandConfig", "PermissionConfig"] {
            assert!(schema(name).is_object(), "{name} missing");
        }
    }

    #[test]
    fn the_data_file_names_the_version() {
        let doc: Json = serde_json::from_str(SCHEMA_TEXT).unwrap();
        assert_eq!(doc["opencode"], OPENCODE_VERSION);
    }

    #[test]
    fn descriptions_read_as_words() {
        let color = &schema("AgentConfig")["properties"]["color"];
        assert!(
            describe(color)
                .starts_with("a string matching `^#[0-9a-fA-F]{6}$` or one of `primary`")
        );
        let steps = &schema("AgentConfig")["properties"]["steps"];
        assert_eq!(describe(steps), "an integer greater than 0");
    }
}
