//! MCP over streamable HTTP: each JSON-RPC message POSTed to the server's URL, accepting a
//! JSON answer or a server-sent event stream, with the `Mcp-Session-Id` the server hands
//! out on `initialize` sent back on every later request.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::time::Instant;

use serde_json::{Value, json};
use ureq::Agent;
use ureq::http::Response;

use super::{Failure, PROTOCOL_VERSION, Session, request_message, response_result};

/// Talks to the server at `url` with `headers` until `deadline`; on failure there is no
/// stderr to report.
pub(super) fn run(
    url: &str,
    headers: &BTreeMap<String, String>,
    deadline: Instant,
    talk: impl FnOnce(&mut dyn Session) -> Result<(), Failure>,
) -> Result<(), (Failure, Vec<String>)> {
    let agent: Agent = Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut session = Http {
        agent,
        url: url.to_string(),
        headers: headers.clone(),
        session: None,
        version: None,
        deadline,
        next_id: 1,
    };
    let outcome = talk(&mut session);
    session.close();
    outcome.map_err(|f| (f, Vec::new()))
}

struct Http {
    agent: Agent,
    url: String,
    headers: BTreeMap<String, String>,
    session: Option<String>,
    version: Option<String>,
    deadline: Instant,
    next_id: u64,
}

impl Http {
    fn post(&self, msg: &Value) -> Result<Response<ureq::Body>, Failure> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let mut req = self
            .agent
            .post(&self.url)
            .config()
            .timeout_global(Some(left))
            .build()
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json");
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        if let Some(s) = &self.session {
            req = req.header("Mcp-Session-Id", s);
        }
        if let Some(v) = &self.version {
            req = req.header("MCP-Protocol-Version", v);
        }
        req.send(msg.to_string())
            .map_err(|e| Failure(format!("cannot reach `{}`: {e}", self.url)))
    }

    /// Ends the session, when the server gave one; a server may refuse, which is fine.
    fn close(&self) {
        if let Some(s) = &self.session {
            let _ = self
                .agent
                .delete(&self.url)
                .header("Mcp-Session-Id", s)
                .call();
        }
    }
}

/// The response to request `id` in an answer: one JSON message, a batch, or events.
fn find_response(mut resp: Response<ureq::Body>, id: u64, method: &str) -> Result<Value, Failure> {
    let kind = header(&resp, "content-type").unwrap_or_default();
    let reader = BufReader::new(resp.body_mut().as_reader());
    if kind.starts_with("text/event-stream") {
        return from_events(reader, id, method);
    }
    if !kind.starts_with("application/json") {
        return Err(Failure(format!(
            "it answered `{method}` with content type `{kind}`, not JSON or an event stream"
        )));
    }
    let msg: Value = serde_json::from_reader(reader)
        .map_err(|e| Failure(format!("its answer to `{method}` is not JSON: {e}")))?;
    let found = match &msg {
        Value::Array(batch) => batch.iter().find(|m| m["id"] == id).cloned(),
        m if m["id"] == id => Some(m.clone()),
        _ => None,
    };
    found
        .ok_or_else(|| Failure(format!("its answer to `{method}` has no response to it")))
        .and_then(|m| response_result(&m, method))
}

/// Reads server-sent events until the `data` of one is the response to `id`.
fn from_events(reader: impl BufRead, id: u64, method: &str) -> Result<Value, Failure> {
    let mut data = String::new();
    for line in reader.lines() {
        let line = line.map_err(|e| Failure(format!("reading its event stream: {e}")))?;
        if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.strip_prefix(' ').unwrap_or(d));
            data.push('\n');
        } else if line.is_empty() && !data.is_empty() {
            let msg: Value = serde_json::from_str(&data).map_err(|_| {
                Failure(format!("an event in its answer to `{method}` is not JSON"))
            })?;
            if msg["id"] == id && msg.get("method").is_none() {
                return response_result(&msg, method);
            }
            data.clear();
        }
    }
    Err(Failure(format!(
        "its event stream ended without answering `{method}`"
    )))
}

fn header(resp: &Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn status_failure(resp: &Response<ureq::Body>, method: &str) -> Failure {
    Failure(format!(
        "it answered `{method}` with HTTP {}",
        resp.status()
    ))
}

impl Session for Http {
    fn request(&mut self, method: &str, params: Value) -> Result<Value, Failure> {
        let id = self.next_id;
        self.next_id += 1;
        let resp = self.post(&request_message(id, method, params))?;
        if !resp.status().is_success() {
            return Err(status_failure(&resp, method));
        }
        if let Some(s) = header(&resp, "mcp-session-id") {
            self.session = Some(s);
        }
        let result = find_response(resp, id, method)?;
        if method == "initialize" {
            self.version = result["protocolVersion"]
                .as_str()
                .map(str::to_string)
                .or(Some(PROTOCOL_VERSION.to_string()));
        }
        Ok(result)
    }

    fn notify(&mut self, method: &str, params: Value) -> Result<(), Failure> {
        let resp = self.post(&json!({ "jsonrpc": "2.0", "method": method, "params": params }))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(status_failure(&resp, method))
        }
    }
}
