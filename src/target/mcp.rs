//! MCP server entries for the clients that keep them as JSON objects under a key of their
//! own (`mcpServers`, `servers`): Claude Code's and Copilot CLI's `.mcp.json`, Gemini CLI's
//! and Qwen Code's `settings.json`, Cursor's and VS Code's `mcp.json`. Each client has its
//! own shape and its own syntax for reading a variable from the environment; a secret is
//! always such a reference, never a value.
//!
//! A literal value in which the client would itself expand a reference (`${HOME}` for Claude
//! Code) is refused: it would hand the server a variable of the user's that the bundle never
//! declared.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::manifest::bundle::{EnvValue, McpServer};
use crate::manifest::common::Transport;
use crate::manifest::span::Spanned;

/// How a client spells a server's entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `{"type": "stdio", command, args, env}` / `{"type": "http"|"sse", url, headers}`:
    /// Claude Code and Copilot CLI (`.mcp.json`), Cursor.
    Claude,
    /// `{command, args, env, cwd, timeout}` / `{httpUrl | url, headers}`: Gemini CLI, Qwen Code.
    Gemini,
    /// `{"type": "stdio", command, args, env, cwd}` / `{"type": "http"|"sse", url, headers}`
    /// under `servers`: VS Code (whose schema, unlike Cursor's documentation, has `cwd`).
    VsCode,
}

/// How a client reads a variable from the environment inside a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvSyntax {
    /// `${VAR}`: Claude Code, Copilot CLI, Gemini CLI, Qwen Code (Gemini and Qwen also
    /// expand `$VAR`).
    Braces,
    /// `${env:VAR}`: Cursor, VS Code. Both resolve it in `command`, `args`, `env`, `url`
    /// and header values (VS Code through the variable resolver of its launch
    /// configurations). VS Code also offers `inputs` (`promptString`, `password: true`,
    /// referenced as `${input:ID}`), which asks once and keeps the answer in its secret
    /// storage; capm writes `${env:VAR}` instead, so that a secret comes from the one
    /// environment every client of the project reads, is never stored by capm nor
    /// prompted for by one client only, and the user's own `inputs` are left alone.
    EnvColon,
}

impl EnvSyntax {
    fn reference(self, var: &str) -> String {
        match self {
            EnvSyntax::Braces => format!("${{{var}}}"),
            EnvSyntax::EnvColon => format!("${{env:{var}}}"),
        }
    }
}

/// What rendering one client's entry needs: its shape, its syntax, its name for messages,
/// and whether a bare `$VAR` expands too.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub shape: Shape,
    pub env: EnvSyntax,
    pub client: &'static str,
    pub dollar_expands: bool,
}

impl Style {
    /// Refuses a literal the client would expand itself.
    fn literal(&self, what: &str, s: &str) -> Result<String, String> {
        let braces = s.contains("${");
        let dollar = self.dollar_expands
            && s.as_bytes().windows(2).any(|w| {
                w[0] == b'$' && (w[1].is_ascii_alphabetic() || w[1] == b'_' || w[1] == b'{')
            });
        if braces || dollar {
            return Err(format!(
                "{what} `{s}` holds a `$` reference that {} would replace with one of the user's environment variables; capm writes only the references a bundle declares",
                self.client
            ));
        }
        Ok(s.to_string())
    }

    /// An environment variable's or a header's value in the client's syntax.
    fn value(
        &self,
        what: &str,
        v: &EnvValue,
        inputs: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        match v {
            EnvValue::Literal(s) => self.literal(what, &s.value),
            EnvValue::FromEnv {
                from_env, secret, ..
            } => Ok(match inputs.get(&from_env.value) {
                Some(value) if !secret.as_ref().is_some_and(|s| s.value) => {
                    self.literal(what, value)?
                }
                _ => self.env.reference(&from_env.value),
            }),
            EnvValue::Template {
                template, secret, ..
            } => {
                let recorded = !secret.as_ref().is_some_and(|s| s.value);
                let mut out = String::new();
                for piece in template_pieces(&template.value) {
                    match piece {
                        Piece::Text(t) => out.push_str(&self.literal(what, t)?),
                        Piece::Var(name) => match inputs.get(name) {
                            Some(value) if recorded => out.push_str(&self.literal(what, value)?),
                            _ => out.push_str(&self.env.reference(name)),
                        },
                    }
                }
                Ok(out)
            }
        }
    }

    fn map(
        &self,
        what: &str,
        m: &indexmap::IndexMap<Spanned<String>, EnvValue>,
        inputs: &BTreeMap<String, String>,
    ) -> Result<Value, String> {
        let mut out = Map::new();
        for (k, v) in m {
            let shown = format!("{what} `{}`", k.value);
            out.insert(k.value.clone(), json!(self.value(&shown, v, inputs)?));
        }
        Ok(Value::Object(out))
    }
}

/// A piece of an OpenCode-style template: text, or an `{env:VAR}` reference.
pub enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// A template split at its `{env:VAR}` references.
pub fn template_pieces(t: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find("{env:") {
        let Some(end) = rest[i..].find('}') else {
            break;
        };
        if i > 0 {
            out.push(Piece::Text(&rest[..i]));
        }
        out.push(Piece::Var(&rest[i + 5..i + end]));
        rest = &rest[i + end + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// A server's entry for a client of `style`.
pub fn entry(
    style: &Style,
    s: &McpServer,
    inputs: &BTreeMap<String, String>,
) -> Result<Value, String> {
    if s.enabled.as_ref().is_some_and(|e| !e.value) {
        return Err(format!(
            "the server is switched off (`enabled = false`), and {} has no way to list a server it does not start",
            style.client
        ));
    }
    if let Some(cmd) = &s.command {
        return local(style, cmd, s, inputs);
    }
    let url = s
        .url
        .as_ref()
        .ok_or_else(|| "it has neither a command nor a url".to_string())?;
    let url = style.literal("the url", &url.value)?;
    let sse = s
        .transport
        .as_ref()
        .is_some_and(|t| t.value == Transport::Sse);
    let mut v = match (style.shape, sse) {
        (Shape::Gemini, false) => json!({ "httpUrl": url }),
        (Shape::Gemini, true) => json!({ "url": url }),
        (_, false) => json!({ "type": "http", "url": url }),
        (_, true) => json!({ "type": "sse", "url": url }),
    };
    if !s.headers.is_empty() {
        v["headers"] = style.map("the header", &s.headers, inputs)?;
    }
    if style.shape == Shape::Gemini
        && let Some(t) = &s.timeout
    {
        v["timeout"] = json!(t.value);
    }
    Ok(v)
}

fn local(
    style: &Style,
    cmd: &Spanned<String>,
    s: &McpServer,
    inputs: &BTreeMap<String, String>,
) -> Result<Value, String> {
    let mut v = match style.shape {
        Shape::Gemini => json!({}),
        _ => json!({ "type": "stdio" }),
    };
    v["command"] = json!(style.literal("the command", &cmd.value)?);
    if !s.args.is_empty() {
        let args: Result<Vec<String>, String> = s
            .args
            .iter()
            .map(|a| style.literal("the argument", &a.value))
            .collect();
        v["args"] = json!(args?);
    }
    if !s.env.is_empty() {
        v["env"] = style.map("the variable", &s.env, inputs)?;
    }
    if let Some(cwd) = &s.cwd {
        match style.shape {
            Shape::Gemini | Shape::VsCode => v["cwd"] = json!(style.literal("cwd", &cwd.value)?),
            Shape::Claude => {
                return Err(format!(
                    "it runs in `{}` (`cwd`), and {} starts servers only in the project's directory",
                    cwd.value, style.client
                ));
            }
        }
    }
    if style.shape == Shape::Gemini
        && let Some(t) = &s.timeout
    {
        v["timeout"] = json!(t.value);
    }
    Ok(v)
}
