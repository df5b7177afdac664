//! A TOML config file (Codex's `config.toml`) read as a JSON value, so that its entries are
//! found by JSON pointer and digested by the same canonical-JSON rule as every other
//! client's: `[mcp_servers.github]` is `/mcp_servers/github`.

use serde_json::Value;

use super::jsonc::JsoncError;

/// Parses `text`, or says where it does not parse.
pub fn parse(text: &str) -> Result<Value, JsoncError> {
    match toml::from_str::<toml::Value>(text) {
        Ok(v) => Ok(to_json(v)),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let before = &text[..span.start.min(text.len())];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            Err(JsoncError {
                message: e.message().trim_end().to_string(),
                line: before.matches('\n').count() + 1,
                column: before[line_start..].chars().count() + 1,
                start: span.start,
                end: span.end,
            })
        }
    }
}

fn to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, to_json(v))).collect())
        }
    }
}
