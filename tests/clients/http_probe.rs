//! The streamable-HTTP MCP probe server on 127.0.0.1: it answers JSON-RPC POSTs
//! (`initialize`, `tools/list` with one `ping` tool, empty lists otherwise) only when the
//! request carries `Authorization: Bearer secret-123`, and 401 without it, so a client lists
//! it connected only when it sent the token capm told it to read from the environment.
//! Every request is logged with whether it was authorised.

use serde_json::{Value, json};

use crate::harness::SECRET;
use crate::local_http::{Request, Server};

/// One logged request: the HTTP method, the JSON-RPC method (if any), and whether the
/// bearer token was right.
pub type Logged = (String, Option<String>, bool);

/// A running probe; dropping it stops it.
pub struct HttpProbe {
    server: Server,
}

impl HttpProbe {
    pub fn start() -> HttpProbe {
        HttpProbe {
            server: Server::start(answer),
        }
    }

    /// `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("{}/mcp", self.server.base_url())
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Logged> {
        let rpc = |r: &Request| {
            let msg: Option<Value> = serde_json::from_str(&r.body).ok();
            msg.and_then(|m| m["method"].as_str().map(str::to_string))
        };
        let logged = |r: &Request| (r.method.clone(), rpc(r), authorised(r));
        self.server.requests().iter().map(logged).collect()
    }

    /// Whether a client called `method` with the right token.
    pub fn called(&self, method: &str) -> bool {
        self.requests()
            .iter()
            .any(|(_, m, ok)| *ok && m.as_deref() == Some(method))
    }
}

fn authorised(req: &Request) -> bool {
    req.header("authorization") == Some(&format!("Bearer {SECRET}"))
}

/// The status line's tail and the body for one request.
fn answer(req: &Request) -> (&'static str, String) {
    if !authorised(req) {
        return ("401 Unauthorized", r#"{"error":"unauthorized"}"#.into());
    }
    if req.method != "POST" {
        return ("405 Method Not Allowed", String::new());
    }
    let Ok(m) = serde_json::from_str::<Value>(&req.body) else {
        return ("400 Bad Request", String::new());
    };
    let Some(id) = m.get("id") else {
        return ("202 Accepted", String::new());
    };
    let result = match m["method"].as_str().unwrap_or("") {
        "initialize" => json!({
            "protocolVersion": m["params"]["protocolVersion"].as_str().unwrap_or("2025-06-18"),
            "capabilities": { "tools": {} },
            "serverInfo": { "name": "probe-remote", "version": "1.0.0" }
        }),
        "tools/list" => json!({ "tools": [{
            "name": "ping", "description": "answers pong", "inputSchema": { "type": "object" }
        }] }),
        "resources/list" => json!({ "resources": [] }),
        "resources/templates/list" => json!({ "resourceTemplates": [] }),
        "prompts/list" => json!({ "prompts": [] }),
        _ => json!({}),
    };
    let body = json!({ "jsonrpc": "2.0", "id": id, "result": result });
    ("200 OK", body.to_string())
}
