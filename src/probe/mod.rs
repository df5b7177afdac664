//! `capm probe`: start a bundle's MCP servers exactly as OpenCode would launch them — the
//! `command` array and `environment` the OpenCode target renders, `{env:VAR}` references
//! resolved from capm's environment, in the project directory — and prove that they answer
//! the MCP `initialize` handshake and `tools/list` (stdio in `stdio.rs`, streamable HTTP in
//! `http.rs`). No secret value is ever reported: values read from the environment are
//! redacted from whatever the server printed.

mod http;
mod stdio;

pub use stdio::kill_running;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use crate::manifest::bundle::{BundleManifest, EnvValue, McpServer};
use crate::manifest::tree::BundleTree;
use crate::target::{Kind, Rendered, ScopeRoot, Target, opencode::OpenCode};

/// The protocol version capm asks for; the server may answer with another it supports.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// How many `tools/list` pages capm follows before it calls the server broken.
const MAX_PAGES: usize = 100;

/// One MCP server, ready to launch as the client would.
#[derive(Debug, Clone)]
pub struct Server {
    pub bundle: String,
    pub name: String,
    pub launch: Launch,
    /// Environment variables the launch references that are not set.
    pub unset: Vec<String>,
    /// Values read from the environment, never to be shown.
    pub secrets: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Launch {
    Local {
        argv: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: PathBuf,
    },
    Remote {
        url: String,
        headers: BTreeMap<String, String>,
    },
}

/// What probing one server found.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProbeResult {
    /// The bundle providing the server.
    pub bundle: String,
    /// The server's name (its key under `mcp` in OpenCode's config).
    pub server: String,
    /// `stdio` for a local server, `http` for a remote one (streamable HTTP).
    pub transport: &'static str,
    /// Whether it completed `initialize` and `tools/list`.
    pub ok: bool,
    /// The protocol version the server answered with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// The server's own name and version (`serverInfo`), when it gave them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_info: Option<String>,
    /// How many tools `tools/list` returned, every page followed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<usize>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The last lines the server wrote on stderr, secrets redacted (on failure only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stderr: Vec<String>,
    /// Milliseconds from launch to the end of the probe.
    pub millis: u64,
}

/// Why a probe failed, as one message for people.
#[derive(Debug)]
pub struct Failure(pub String);

/// A connection that carries JSON-RPC requests and notifications to one server.
trait Session {
    fn request(&mut self, method: &str, params: Value) -> Result<Value, Failure>;
    fn notify(&mut self, method: &str, params: Value) -> Result<(), Failure>;
}

/// The MCP servers of a bundle, rendered for OpenCode with the project's `inputs`, to run
/// in `cwd`.
pub fn servers(
    bundle: &str,
    manifest: &BundleManifest,
    tree: &BundleTree,
    inputs: &BTreeMap<String, String>,
    cwd: &Path,
) -> Result<Vec<Server>, String> {
    let scope = ScopeRoot::Project(cwd.to_path_buf());
    let mut out = Vec::new();
    for r in crate::target::resources(manifest, tree, inputs) {
        let Kind::Mcp(decl) = &r.kind else {
            continue;
        };
        let Some(Rendered::ConfigEntry { value, .. }) =
            OpenCode.render(&OpenCode::context(&scope), &r)?.pop()
        else {
            continue;
        };
        let mut s = server(bundle, r.name, &value, cwd);
        // OpenCode substitutes an empty string for a variable that is not set; only the
        // variables a required setting reads keep the server from starting.
        let optional = optional_vars(decl);
        s.unset.retain(|v| !optional.contains(v));
        out.push(s);
    }
    Ok(out)
}

/// The variables read only by settings declared `required = false`.
fn optional_vars(decl: &McpServer) -> Vec<String> {
    let mut optional = Vec::new();
    let mut required = Vec::new();
    for v in decl.env.values().chain(decl.headers.values()) {
        let (vars, req) = match v {
            EnvValue::Literal(_) => continue,
            EnvValue::FromEnv {
                from_env, required, ..
            } => (vec![from_env.value.clone()], required),
            EnvValue::Template {
                template, required, ..
            } => {
                let mut e = Expander::default();
                e.expand_with(&template.value, |_| None);
                (e.unset, required)
            }
        };
        let list = if req.as_ref().is_some_and(|r| !r.value) {
            &mut optional
        } else {
            &mut required
        };
        list.extend(vars);
    }
    optional.retain(|v| !required.contains(v));
    optional
}

/// One rendered `mcp` entry as a launch, its `{env:VAR}` references resolved.
fn server(bundle: &str, name: &str, value: &Value, cwd: &Path) -> Server {
    let mut env = Expander::default();
    let map = |v: Option<&Value>, env: &mut Expander| -> BTreeMap<String, String> {
        v.and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), env.expand(v.as_str().unwrap_or_default())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let launch = if value["type"] == "remote" {
        Launch::Remote {
            url: env.expand(value["url"].as_str().unwrap_or_default()),
            headers: map(value.get("headers"), &mut env),
        }
    } else {
        let argv = value["command"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| env.expand(a.as_str().unwrap_or_default()))
            .collect();
        Launch::Local {
            argv,
            env: map(value.get("environment"), &mut env),
            cwd: cwd.to_path_buf(),
        }
    };
    Server {
        bundle: bundle.to_string(),
        name: name.to_string(),
        launch,
        unset: env.unset,
        secrets: env.values,
    }
}

/// OpenCode's `{env:VAR}` substitution, from capm's environment, remembering what it read.
#[derive(Default)]
struct Expander {
    unset: Vec<String>,
    values: Vec<String>,
}

impl Expander {
    fn expand(&mut self, text: &str) -> String {
        self.expand_with(text, |var| std::env::var(var).ok())
    }

    fn expand_with(&mut self, text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("{env:") {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            out.push_str(&rest[..start]);
            let var = &rest[start + 5..start + len];
            match lookup(var) {
                Some(v) => {
                    out.push_str(&v);
                    self.values.push(v);
                }
                None if !self.unset.iter().any(|u| u == var) => self.unset.push(var.into()),
                None => {}
            }
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Starts `server`, performs the handshake and lists its tools within `timeout`.
pub fn probe(server: &Server, timeout: Duration) -> ProbeResult {
    let started = Instant::now();
    let mut result = ProbeResult {
        bundle: server.bundle.clone(),
        server: server.name.clone(),
        transport: match server.launch {
            Launch::Local { .. } => "stdio",
            Launch::Remote { .. } => "http",
        },
        ok: false,
        protocol_version: None,
        server_info: None,
        tools: None,
        error: None,
        stderr: Vec::new(),
        millis: 0,
    };
    if !server.unset.is_empty() {
        result.error = Some(format!(
            "not started: it needs {}, not set in the environment",
            list(&server.unset)
        ));
        return result;
    }
    let deadline = started + timeout;
    let outcome = match &server.launch {
        Launch::Local { argv, env, cwd } => {
            stdio::run(argv, env, cwd, deadline, |s| handshake(s, &mut result))
        }
        Launch::Remote { url, headers } => {
            http::run(url, headers, deadline, |s| handshake(s, &mut result))
        }
    };
    if let Err((failure, stderr)) = outcome {
        result.error = Some(redact(&failure.0, &server.secrets));
        result.stderr = stderr.iter().map(|l| redact(l, &server.secrets)).collect();
    } else {
        result.ok = true;
    }
    result.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    result
}

/// `initialize`, `notifications/initialized`, then `tools/list` page by page.
fn handshake(s: &mut dyn Session, result: &mut ProbeResult) -> Result<(), Failure> {
    let init = s.request(
        "initialize",
        json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": { "name": "capm", "version": env!("CARGO_PKG_VERSION") },
        }),
    )?;
    let version = init["protocolVersion"].as_str().ok_or_else(|| {
        Failure("its answer to `initialize` has no `protocolVersion`: not an MCP server".into())
    })?;
    result.protocol_version = Some(version.to_string());
    if let Some(name) = init["serverInfo"]["name"].as_str() {
        let v = init["serverInfo"]["version"].as_str().unwrap_or_default();
        result.server_info = Some(format!("{name} {v}").trim_end().to_string());
    }
    s.notify("notifications/initialized", json!({}))?;
    let mut tools = 0;
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let params = cursor.map_or_else(|| json!({}), |c| json!({ "cursor": c }));
        let page = s.request("tools/list", params)?;
        let listed = page["tools"]
            .as_array()
            .ok_or_else(|| Failure("its answer to `tools/list` has no `tools` array".into()))?;
        listed.iter().try_for_each(check_tool)?;
        tools += listed.len();
        result.tools = Some(tools);
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return Ok(()),
        }
    }
    Err(Failure(format!(
        "`tools/list` still had more pages after {MAX_PAGES}"
    )))
}

/// A tool as clients validate it: a `name` and an `inputSchema` object (OpenCode's MCP
/// client refuses the whole list otherwise).
fn check_tool(tool: &Value) -> Result<(), Failure> {
    let Some(name) = tool["name"].as_str() else {
        return Err(Failure("`tools/list` lists a tool without a name".into()));
    };
    if !tool["inputSchema"].is_object() {
        return Err(Failure(format!(
            "`tools/list` lists tool `{name}` without an `inputSchema` object"
        )));
    }
    Ok(())
}

/// The result of a JSON-RPC response to request `id`, or its error as a failure.
fn response_result(msg: &Value, method: &str) -> Result<Value, Failure> {
    if let Some(e) = msg.get("error") {
        return Err(Failure(format!(
            "it answered `{method}` with error {}: {}",
            e["code"],
            e["message"].as_str().unwrap_or("(no message)")
        )));
    }
    msg.get("result").cloned().ok_or_else(|| {
        Failure(format!(
            "its answer to `{method}` has neither result nor error"
        ))
    })
}

/// A JSON-RPC request message.
fn request_message(id: u64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

/// `text` with every secret value replaced by `***`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_env_references_and_remembers_what_it_read() {
        // SAFETY: the variable is unique to this test.
        unsafe { std::env::set_var("CAPM_PROBE_TEST_VALUE", "s3cret") };
        let mut e = Expander::default();
        let out = e.expand("a={env:CAPM_PROBE_TEST_VALUE};b={env:CAPM_PROBE_UNSET_VAR}!");
        assert_eq!(out, "a=s3cret;b=!");
        assert_eq!(e.values, vec!["s3cret"]);
        assert_eq!(e.unset, vec!["CAPM_PROBE_UNSET_VAR"]);
        assert_eq!(redact("token s3cret here", &e.values), "token *** here");
    }
}
