//! A plugin's MCP servers (`.mcp.json`, and the files or inline object `mcpServers` adds)
//! as `[mcp.NAME]` tables: stdio servers with command, args, env and cwd, `http` and `sse`
//! servers with url, transport and headers.
//!
//! Claude Code expands `${VAR}` (and `${VAR:-default}`) in those strings. In `env` and
//! `headers` that becomes `{ from-env = "VAR" }`, or a template with `{env:VAR}` inside a
//! longer string; in the command, arguments, url or cwd it becomes `{env:VAR}` when the
//! server reads VAR that way already, and otherwise cannot be expressed (FMT-002). A server
//! that needs `${CLAUDE_PLUGIN_ROOT}` or `${CLAUDE_PLUGIN_DATA}` cannot be installed
//! (FMT-002): capm installs no files for a server.

use super::manifest::Doc;
use super::{Plugin, error, not_carried, plugin_var};
use crate::formats::generated::{From, string};
use crate::formats::json::{Node, Value};
use crate::formats::{Translation, bundle_name};
use crate::manifest::span::Span;

/// Translates every server of the plugin.
pub fn translate(t: &mut Translation, doc: &Doc, p: &Plugin) {
    let inline = doc.documents(t, "mcpServers", ".mcp.json");
    // Each server's name, and where it was first defined.
    let mut seen: Vec<(String, String)> = Vec::new();
    for (file, root) in inline {
        let servers = root
            .get("mcpServers")
            .filter(|s| matches!(s.value, Value::Object(_)));
        for (key, cfg) in servers.unwrap_or(&root).members() {
            let name = bundle_name(&key.value).unwrap_or_else(|| key.value.clone());
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                let message = format!(
                    "the server `{}` is left out: {first} already defines the server `{name}`",
                    key.value
                );
                not_carried(t, file, key.span, message);
                continue;
            }
            let path = &t.origin.files[file].path;
            seen.push((name.clone(), format!("`{}` in {path}", key.value)));
            server(t, p, file, (&name, key.span), cfg);
        }
    }
}

/// A value of `env` or `headers`: its TOML and what it reads.
struct Setting {
    key: String,
    toml: String,
    from: From,
}

/// A server being translated.
struct Server<'a> {
    file: usize,
    name: &'a str,
    /// Its name's place, for findings about it as a whole.
    key: Span,
    cfg: &'a Node,
}

/// A line of `[mcp.NAME]`: key, TOML value, and where it came from.
type Line = (String, String, From);

/// Why a server is left out: where, and the message of its FMT-002 finding.
type LeftOut = (Span, String);

/// One server: its `[mcp.NAME]` table, or the finding that it cannot be installed.
fn server(t: &mut Translation, p: &Plugin, file: usize, (name, key): (&str, Span), cfg: &Node) {
    if !matches!(cfg.value, Value::Object(_)) {
        let message = format!("the server `{name}` must be an object, not {}", cfg.kind());
        error(t, "invalid-type", (file, cfg.span), message);
        return;
    }
    let s = Server {
        file,
        name,
        key,
        cfg,
    };
    let text = t.origin.files[file].text.clone();
    let transport = match needs_plugin(&s, &text).map_or_else(|| transport(&s), Err) {
        Ok(transport) => transport,
        Err(why) => return left_out(t, p, &s, why),
    };
    let env = settings(t, &s, "env");
    let headers = settings(t, &s, "headers");
    let declared: Vec<String> = env
        .iter()
        .chain(&headers)
        .flat_map(|s| reads(&s.toml))
        .collect();
    match launch(t, &s, transport, &declared) {
        Ok(Some(lines)) => {
            other_keys(t, &s, transport.is_some());
            write(t, name, lines, env, headers);
        }
        Ok(None) => {}
        Err(why) => left_out(t, p, &s, why),
    }
}

/// FMT-002 for a server left out, reviewed as its JSON.
fn left_out(t: &mut Translation, p: &Plugin, s: &Server<'_>, (span, message): LeftOut) {
    let reviewed = s.cfg.to_json().to_string();
    t.rule("FMT-002", (s.file, span), &p.resource, message, &reviewed);
}

/// A server that needs the plugin's own directory, or mints its headers with a command.
fn needs_plugin(s: &Server<'_>, text: &str) -> Option<LeftOut> {
    let own = &text[s.cfg.span.start..s.cfg.span.end];
    if let Some(at) = plugin_var(own) {
        let span = Span::new(s.cfg.span.start + at.start, s.cfg.span.start + at.end);
        let message = format!(
            "the server `{}` needs `{}`, a directory of the plugin Claude Code provides; \
             capm installs no files for a server, so it is left out",
            s.name,
            &own[at.start..at.end]
        );
        return Some((span, message));
    }
    let (k, _) = s
        .cfg
        .members()
        .iter()
        .find(|(k, _)| k.value == "headersHelper")?;
    let message = format!(
        "the server `{}` mints its headers with a command (`headersHelper`), which OpenCode \
         cannot run; it is left out",
        s.name
    );
    Some((k.span, message))
}

/// The transport of a remote server (`None` for a local one).
fn transport(s: &Server<'_>) -> Result<Option<&'static str>, LeftOut> {
    let node = s.cfg.get("type");
    match node.and_then(Node::as_str) {
        Some("stdio") => Ok(None),
        None if s.cfg.get("url").is_none() => Ok(None),
        None | Some("http") | Some("streamable-http") => Ok(Some("streamable-http")),
        Some("sse") => Ok(Some("sse")),
        Some(other) => Err((
            node.map_or(s.key, |n| n.span),
            format!(
                "the server `{}` is of type `{other}`, which OpenCode cannot connect to; it is \
                 left out",
                s.name
            ),
        )),
    }
}

/// The lines of `[mcp.NAME]` before its `env` and `headers`: how it is launched or
/// reached, and its timeout. `Ok(None)` after an error in them.
fn launch(
    t: &mut Translation,
    s: &Server<'_>,
    transport: Option<&str>,
    declared: &[String],
) -> Result<Option<Vec<Line>>, LeftOut> {
    let keys: &[&str] = match transport {
        Some(_) => &["url"],
        None => &["command", "args", "cwd"],
    };
    let mut lines: Vec<Line> = Vec::new();
    for k in keys {
        let Some(node) = s.cfg.get(k) else { continue };
        if matches!(node.value, Value::Object(_) | Value::Null) {
            let message = format!("`{k}` of the server `{}` cannot be {}", s.name, node.kind());
            error(t, "invalid-type", (s.file, node.span), message);
            return Ok(None);
        }
        let toml = expressed(node, declared).map_err(|(span, (var, why))| {
            let message = format!(
                "the server `{}` reads `{var}` in `{k}`, {why}; it is left out",
                s.name
            );
            (span, message)
        })?;
        lines.push((k.to_string(), toml, Some((s.file, Some(node.span)))));
    }
    if let Some(tr) = transport {
        let from = s.cfg.get("type").map(|n| (s.file, Some(n.span)));
        lines.push(("transport".into(), string(tr), from));
    }
    if let Some(n) = s.cfg.get("timeout")
        && let Value::Number(v) = &n.value
    {
        lines.push(("timeout".into(), v.clone(), Some((s.file, Some(n.span)))));
    }
    Ok(Some(lines))
}

/// Writes `[mcp.NAME]` and its `env` or `headers` table.
fn write(
    t: &mut Translation,
    name: &str,
    lines: Vec<Line>,
    env: Vec<Setting>,
    headers: Vec<Setting>,
) {
    let m = &mut t.manifest;
    m.table(&["mcp", name]);
    for (k, toml, from) in lines {
        m.raw(&k, &toml, from);
    }
    for (table, values) in [("env", env), ("headers", headers)] {
        if values.is_empty() {
            continue;
        }
        m.table(&["mcp", name, table]);
        for s in values {
            m.raw(&s.key, &s.toml, s.from);
        }
    }
}

/// A warning for each key of a server that is not carried.
fn other_keys(t: &mut Translation, s: &Server<'_>, remote: bool) {
    let (file, cfg, name) = (s.file, s.cfg, s.name);
    let carried: &[&str] = if remote {
        &["type", "url", "headers", "timeout"]
    } else {
        &["type", "command", "args", "env", "cwd", "timeout"]
    };
    let lost: Vec<(String, Span)> = cfg
        .members()
        .iter()
        .filter(|(k, _)| !carried.contains(&k.value.as_str()))
        .map(|(k, _)| (k.value.clone(), k.span))
        .collect();
    for (k, span) in lost {
        let message = format!(
            "`{k}` of the server `{name}` is not carried: OpenCode's server config has no such field"
        );
        not_carried(t, file, span, message);
    }
}

/// A part of a string as Claude Code reads it.
enum Part<'a> {
    Text(&'a str),
    Var {
        name: &'a str,
        default: Option<&'a str>,
    },
}

/// `text` cut at each `${VAR}` and `${VAR:-default}`.
fn parts(text: &str) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let Some(end) = rest[i..].find('}') else {
            break;
        };
        let inner = &rest[i + 2..i + end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let valid =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            out.push(Part::Text(&rest[..i + end + 1]));
        } else {
            out.push(Part::Text(&rest[..i]));
            out.push(Part::Var { name, default });
        }
        rest = &rest[i + end + 1..];
    }
    out.push(Part::Text(rest));
    out.retain(|p| !matches!(p, Part::Text("")));
    out
}

/// The `env` or `headers` of a server as native values.
fn settings(t: &mut Translation, s: &Server<'_>, what: &str) -> Vec<Setting> {
    let (file, name) = (s.file, s.name);
    let Some(node) = s.cfg.get(what) else {
        return Vec::new();
    };
    if !matches!(node.value, Value::Object(_)) {
        let message = format!(
            "`{what}` of the server `{name}` must be an object, not {}",
            node.kind()
        );
        error(t, "invalid-type", (file, node.span), message);
        return Vec::new();
    }
    let mut out = Vec::new();
    for (key, value) in node.members() {
        let Some(text) = value.as_str() else {
            let message = format!(
                "`{what}.{}` of the server `{name}` must be a string, not {}",
                key.value,
                value.kind()
            );
            error(t, "invalid-type", (file, value.span), message);
            continue;
        };
        let parts = parts(text);
        let defaults: Vec<&str> = parts
            .iter()
            .filter_map(|p| match p {
                Part::Var {
                    name,
                    default: Some(_),
                } => Some(*name),
                _ => None,
            })
            .collect();
        if !defaults.is_empty() {
            let message = format!(
                "the default of `${{{}:-…}}` is not carried: OpenCode has no defaults for \
                 variables, so the value is read from the environment and is optional",
                defaults[0]
            );
            not_carried(t, file, value.span, message);
        }
        out.push(Setting {
            key: key.value.clone(),
            toml: env_value(&key.value, &parts),
            from: Some((file, Some(value.span))),
        });
    }
    out
}

/// A value of `env` or `headers` as TOML: a literal, `{ from-env = … }` or a template.
fn env_value(key: &str, parts: &[Part<'_>]) -> String {
    let vars: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            Part::Var { name, .. } => Some(*name),
            Part::Text(_) => None,
        })
        .collect();
    let secret =
        crate::security::secret_name(key) || vars.iter().any(|v| crate::security::secret_name(v));
    let optional = parts.iter().any(|p| {
        matches!(
            p,
            Part::Var {
                default: Some(_),
                ..
            }
        )
    });
    let mut flags = String::new();
    if secret {
        flags.push_str(", secret = true");
    }
    if optional {
        flags.push_str(", required = false");
    }
    match parts {
        [] => string(""),
        [Part::Var { name, .. }] => format!("{{ from-env = {}{flags} }}", string(name)),
        _ if vars.is_empty() => string(&joined(parts)),
        _ => format!("{{ template = {}{flags} }}", string(&joined(parts))),
    }
}

/// The parts as one string, each variable as OpenCode's `{env:VAR}`.
fn joined(parts: &[Part<'_>]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(s) => s.to_string(),
            Part::Var { name, .. } => format!("{{env:{name}}}"),
        })
        .collect()
}

/// The variables a native value reads (`from-env = "VAR"`, `{env:VAR}`).
fn reads(toml: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(rest) = toml.strip_prefix("{ from-env = \"") {
        out.extend(rest.split('"').next().map(str::to_string));
    }
    let mut rest = toml;
    while let Some(i) = rest.find("{env:") {
        let tail = &rest[i + 5..];
        let end = tail.find('}').unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

/// A launch value (a string, or a list of strings for `args`) as TOML, each `${VAR}` as
/// `{env:VAR}` when the server already reads VAR; when one cannot be expressed, the
/// string holding it, the variable as written and why.
fn expressed(node: &Node, declared: &[String]) -> Result<String, (Span, Unexpressed)> {
    let one = |n: &Node, s: &str| -> Result<String, (Span, Unexpressed)> {
        let parts = parts(s);
        match parts.iter().find_map(|p| unexpressed(p, declared)) {
            Some(why) => Err((n.span, why)),
            None => Ok(string(&joined(&parts))),
        }
    };
    match &node.value {
        Value::Array(items) => {
            let all: Result<Vec<String>, (Span, Unexpressed)> = items
                .iter()
                .map(|i| match i.as_str() {
                    Some(s) => one(i, s),
                    None => Ok(i.to_json().to_string()),
                })
                .collect();
            Ok(format!("[{}]", all?.join(", ")))
        }
        Value::String(s) => one(node, s),
        _ => Ok(node.to_json().to_string()),
    }
}

/// A variable of a launch value that cannot be written as `{env:VAR}`: as written, and why.
type Unexpressed = (String, &'static str);

/// Why a variable cannot be written as `{env:VAR}` in a launch value, if it cannot.
fn unexpressed(part: &Part<'_>, declared: &[String]) -> Option<Unexpressed> {
    let Part::Var { name, default } = part else {
        return None;
    };
    if let Some(default) = default {
        let why = "and OpenCode has no defaults for variables";
        return Some((format!("${{{name}:-{default}}}"), why));
    }
    let why =
        "which OpenCode cannot fill in there: the server's `env` and `headers` do not read it";
    (!declared.iter().any(|d| d == name)).then(|| (format!("${{{name}}}"), why))
}
