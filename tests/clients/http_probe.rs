//! A streamable-HTTP MCP server on 127.0.0.1 for the client tests: it answers JSON-RPC
//! POSTs (`initialize`, `tools/list` with one `ping` tool, empty lists otherwise) only when
//! the request carries `Authorization: Bearer secret-123`, and 401 without it, so a client
//! lists it connected only when it sent the token capm told it to read from the environment.
//! Every request is logged with whether it was authorised. Over std only, a thread per
//! connection; stopped when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// One logged request: the HTTP method, the JSON-RPC method (if any), and whether the
/// bearer token was right.
pub type Logged = (String, Option<String>, bool);

/// A running server; dropping it stops accepting.
pub struct HttpProbe {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Logged>>>,
    stop: Arc<AtomicBool>,
}

impl HttpProbe {
    pub fn start() -> HttpProbe {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, s) = (Arc::clone(&log), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let l = Arc::clone(&l);
                std::thread::spawn(move || serve(stream, &l));
            }
        });
        HttpProbe { addr, log, stop }
    }

    /// `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }

    /// Whether a client called `method` with the right token.
    pub fn called(&self, method: &str) -> bool {
        self.requests()
            .iter()
            .any(|(_, m, ok)| *ok && m.as_deref() == Some(method))
    }
}

impl Drop for HttpProbe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// One request's head and body.
struct Request {
    method: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let method = line.split_whitespace().next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let mut req = Request {
        method,
        headers,
        body: Vec::new(),
    };
    if req
        .header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        req.body = read_chunked(r)?;
    } else if let Some(n) = req.header("content-length").and_then(|n| n.parse().ok()) {
        let mut body = vec![0; n];
        r.read_exact(&mut body).ok()?;
        req.body = body;
    }
    Some(req)
}

fn read_chunked(r: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        r.read_line(&mut size).ok()?;
        let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; n + 2];
        r.read_exact(&mut chunk).ok()?;
        if n == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..n]);
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Logged>>) {
    let mut out = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    while let Some(req) = read_request(&mut r) {
        let authorised = req.header("authorization") == Some("Bearer secret-123");
        let msg: Option<Value> = serde_json::from_slice(&req.body).ok();
        let rpc = msg
            .as_ref()
            .and_then(|m| m["method"].as_str())
            .map(str::to_string);
        log.lock()
            .unwrap()
            .push((req.method.clone(), rpc.clone(), authorised));
        let (status, body) = answer(&req.method, authorised, msg.as_ref());
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n",
            body.len(),
            if status.starts_with("401") {
                "WWW-Authenticate: Bearer\r\n"
            } else {
                ""
            }
        );
        if out.write_all(head.as_bytes()).is_err() || out.write_all(body.as_bytes()).is_err() {
            return;
        }
    }
}

/// The status line's tail and the body for one request.
fn answer(method: &str, authorised: bool, msg: Option<&Value>) -> (&'static str, String) {
    if !authorised {
        return ("401 Unauthorized", r#"{"error":"unauthorized"}"#.into());
    }
    if method != "POST" {
        return ("405 Method Not Allowed", String::new());
    }
    let Some(m) = msg else {
        return ("400 Bad Request", String::new());
    };
    if m.get("id").is_none() {
        return ("202 Accepted", String::new());
    }
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
    let body = json!({ "jsonrpc": "2.0", "id": m["id"], "result": result });
    ("200 OK", body.to_string())
}
