//! MCP server entries for Codex, as tables of `mcp_servers` in `.codex/config.toml`. Codex
//! expands no reference inside a string: a variable reaches a server only by its own name
//! (`env_vars`), a bearer token through `bearer_token_env_var`, and a header through
//! `env_http_headers` (the header's whole value read from one variable). A value that needs
//! anything else cannot be written for Codex without putting the secret in the file, so it
//! is refused with the reason.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::manifest::bundle::{EnvValue, McpServer};
use crate::manifest::common::Transport;

const CLIENT: &str = "Codex";

/// Refuses a literal that is an OpenCode-style reference Codex would pass on as text.
fn literal(what: &str, s: &str) -> Result<Value, String> {
    if s.contains("{env:") {
        return Err(format!(
            "{what} `{s}` holds an `{{env:}}` reference, which {CLIENT} would pass on as text"
        ));
    }
    Ok(json!(s))
}

/// A server's table for Codex.
pub fn entry(s: &McpServer, inputs: &BTreeMap<String, String>) -> Result<Value, String> {
    let mut v = Map::new();
    if let Some(cmd) = &s.command {
        v.insert("command".into(), literal("the command", &cmd.value)?);
        if !s.args.is_empty() {
            let args: Result<Vec<Value>, String> = s
                .args
                .iter()
                .map(|a| literal("the argument", &a.value))
                .collect();
            v.insert("args".into(), Value::Array(args?));
        }
        environment(s, inputs, &mut v)?;
        if let Some(cwd) = &s.cwd {
            v.insert("cwd".into(), literal("cwd", &cwd.value)?);
        }
    } else {
        let url = s
            .url
            .as_ref()
            .ok_or_else(|| "it has neither a command nor a url".to_string())?;
        if s.transport
            .as_ref()
            .is_some_and(|t| t.value == Transport::Sse)
        {
            return Err(format!(
                "it speaks the SSE transport, and {CLIENT} connects only to streamable HTTP servers"
            ));
        }
        v.insert("url".into(), literal("the url", &url.value)?);
        headers(s, inputs, &mut v)?;
    }
    if let Some(t) = &s.timeout {
        // Codex counts whole seconds; a part of a second is rounded up.
        v.insert(
            "startup_timeout_sec".into(),
            json!(t.value.div_euclid(1000) + i64::from(t.value.rem_euclid(1000) != 0)),
        );
    }
    if s.enabled.as_ref().is_some_and(|e| !e.value) {
        v.insert("enabled".into(), json!(false));
    }
    Ok(Value::Object(v))
}

/// A value recorded in the project for a variable that is not secret.
fn recorded<'a>(v: &EnvValue, inputs: &'a BTreeMap<String, String>) -> Option<&'a String> {
    match v {
        EnvValue::FromEnv {
            from_env, secret, ..
        } if !secret.as_ref().is_some_and(|s| s.value) => inputs.get(&from_env.value),
        _ => None,
    }
}

/// `env` for values, `env_vars` for variables forwarded under their own names.
fn environment(
    s: &McpServer,
    inputs: &BTreeMap<String, String>,
    v: &mut Map<String, Value>,
) -> Result<(), String> {
    let mut env = Map::new();
    let mut forwarded = Vec::new();
    for (name, value) in &s.env {
        let name = &name.value;
        if let Some(text) = recorded(value, inputs) {
            env.insert(name.clone(), literal("the variable", text)?);
            continue;
        }
        match value {
            EnvValue::Literal(text) => {
                env.insert(name.clone(), literal("the variable", &text.value)?);
            }
            EnvValue::FromEnv { from_env, .. } if from_env.value == *name => {
                forwarded.push(json!(name));
            }
            EnvValue::FromEnv { from_env, .. } => {
                return Err(format!(
                    "its variable `{name}` is read from `{}`, and {CLIENT} passes a variable on only under its own name (`env_vars`)",
                    from_env.value
                ));
            }
            EnvValue::Template { template, .. } => {
                return Err(format!(
                    "its variable `{name}` is built from a template (`{}`), and {CLIENT} cannot build a value from variables",
                    template.value
                ));
            }
        }
    }
    if !env.is_empty() {
        v.insert("env".into(), Value::Object(env));
    }
    if !forwarded.is_empty() {
        v.insert("env_vars".into(), Value::Array(forwarded));
    }
    Ok(())
}

/// `http_headers` for values, `bearer_token_env_var` for `Authorization: Bearer {env:V}`,
/// `env_http_headers` for a header whose whole value is one variable.
fn headers(
    s: &McpServer,
    inputs: &BTreeMap<String, String>,
    v: &mut Map<String, Value>,
) -> Result<(), String> {
    let mut fixed = Map::new();
    let mut from_env = Map::new();
    for (name, value) in &s.headers {
        let name = &name.value;
        if let Some(text) = recorded(value, inputs) {
            fixed.insert(name.clone(), literal("the header", text)?);
            continue;
        }
        match value {
            EnvValue::Literal(text) => {
                fixed.insert(name.clone(), literal("the header", &text.value)?);
            }
            EnvValue::FromEnv { from_env: var, .. } => {
                from_env.insert(name.clone(), json!(var.value));
            }
            EnvValue::Template { template, .. } => {
                let bearer = template
                    .value
                    .strip_prefix("Bearer {env:")
                    .and_then(|r| r.strip_suffix('}'))
                    .filter(|var| !var.contains(['{', '}']));
                match bearer {
                    Some(var) if name.eq_ignore_ascii_case("authorization") => {
                        v.insert("bearer_token_env_var".into(), json!(var));
                    }
                    _ => {
                        return Err(format!(
                            "its header `{name}` is built from a template (`{}`), and {CLIENT} reads a header only whole from one variable, or a bearer token",
                            template.value
                        ));
                    }
                }
            }
        }
    }
    if !fixed.is_empty() {
        v.insert("http_headers".into(), Value::Object(fixed));
    }
    if !from_env.is_empty() {
        v.insert("env_http_headers".into(), Value::Object(from_env));
    }
    Ok(())
}
