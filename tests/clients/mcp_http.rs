//! What the Claude Code, Copilot CLI and Qwen Code tests share: a remote MCP server on
//! 127.0.0.1 that answers 401 unless the bearer token arrived expanded, a stand-in model
//! endpoint that records what a client would send its model (the agents, skills and
//! commands it loaded, with their descriptions) and refuses it, one that hands the task to
//! the probe agent (to see the tools a client gives an agent), the probe bundle, and
//! running a client with a time limit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{SECRET, Sandbox};

/// The longest a client may run before the test kills it and fails.
pub const LIMIT: Duration = Duration::from_secs(60);

/// One HTTP request as received.
struct Request {
    method: String,
    authorization: Option<String>,
    body: String,
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let method = line.split(' ').next()?.to_string();
    let (mut length, mut authorization) = (0usize, None);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h.trim().is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "authorization" => authorization = Some(value.trim().to_string()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        authorization,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Answers with `body`: an event stream when it is one (`data: …`), else JSON.
fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let kind = if body.starts_with("data: ") {
        "text/event-stream"
    } else {
        "application/json"
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A server on 127.0.0.1 answering each request with `handler`, stopped when dropped.
pub struct Server {
    pub port: u16,
    stop: Arc<AtomicBool>,
    /// The bodies of the requests received, in order.
    pub bodies: Arc<Mutex<Vec<String>>>,
}

type Handler = fn(&Request) -> (&'static str, String);

impl Server {
    fn start(handler: Handler) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let (flag, seen) = (stop.clone(), bodies.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let seen = seen.clone();
                std::thread::spawn(move || {
                    if let Some(req) = read_request(&mut stream) {
                        seen.lock().unwrap().push(req.body.clone());
                        let (status, body) = handler(&req);
                        respond(&mut stream, status, &body);
                    }
                });
            }
        });
        Server { port, stop, bodies }
    }

    /// The streamable-HTTP MCP probe: 401 without `Authorization: Bearer secret-123`.
    pub fn mcp() -> Server {
        Server::start(mcp_answer)
    }

    /// A model endpoint that records every request and answers each with an error, so
    /// that the client stops after showing what it loaded.
    pub fn model() -> Server {
        Server::start(|_| {
            let error = r#"{"type":"error","error":{"type":"invalid_request_error","message":"no model here"}}"#;
            ("400 Bad Request", error.to_string())
        })
    }

    /// An OpenAI-style streaming model whose first answer hands the task to the agent
    /// `probe-agent` (Qwen Code's `agent` tool) and every later one ends the turn.
    pub fn delegating_model() -> Server {
        Server::start(delegate)
    }

    /// The tool names offered in the request whose system prompt holds `marker`: what
    /// the agent with that prompt was allowed to use.
    pub fn tools_offered_to(&self, marker: &str) -> Vec<String> {
        let bodies = self.bodies.lock().unwrap();
        let request = bodies
            .iter()
            .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
            .find(|r| r["messages"][0].to_string().contains(marker))
            .unwrap_or_else(|| panic!("no request with `{marker}` in its first message"));
        let tools = request["tools"].as_array().cloned().unwrap_or_default();
        tools
            .iter()
            .filter_map(|t| t["function"]["name"].as_str().map(String::from))
            .collect()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything the server received, as one text.
    pub fn received(&self) -> String {
        self.bodies.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn mcp_answer(req: &Request) -> (&'static str, String) {
    if req.authorization.as_deref() != Some(&format!("Bearer {SECRET}")) {
        return ("401 Unauthorized", r#"{"error":"unauthorized"}"#.into());
    }
    if req.method != "POST" {
        return ("405 Method Not Allowed", String::new());
    }
    let Ok(m) = serde_json::from_str::<serde_json::Value>(&req.body) else {
        return ("400 Bad Request", String::new());
    };
    let Some(id) = m.get("id") else {
        return ("202 Accepted", String::new());
    };
    let result = match m["method"].as_str() {
        Some("initialize") => serde_json::json!({
            "protocolVersion": m["params"]["protocolVersion"].as_str().unwrap_or("2025-06-18"),
            "capabilities": { "tools": {} },
            "serverInfo": { "name": "probe-http", "version": "1.0.0" }
        }),
        Some("tools/list") => serde_json::json!({ "tools": [
            { "name": "ping", "description": "answers pong", "inputSchema": { "type": "object" } }
        ] }),
        _ => serde_json::json!({}),
    };
    let reply = serde_json::json!({ "jsonrpc": "2.0", "id": id, "result": result });
    ("200 OK", reply.to_string())
}

/// The delegating model's answer, streamed: an `agent` tool call for the probe agent to a
/// session's first request, `done` to everything else.
fn delegate(req: &Request) -> (&'static str, String) {
    let m: serde_json::Value = serde_json::from_str(&req.body).unwrap_or_default();
    let messages = m["messages"].as_array().cloned().unwrap_or_default();
    let answered = messages.iter().any(|m| m["role"] == "assistant");
    let (delta, finish) = if answered || messages.len() != 2 || is_probe_agent(&messages) {
        (
            serde_json::json!({ "role": "assistant", "content": "done" }),
            "stop",
        )
    } else {
        let args = serde_json::json!({ "description": "probe", "prompt": "answer", "subagent_type": "probe-agent" });
        let call = serde_json::json!({ "index": 0, "id": "call_1", "type": "function",
            "function": { "name": "agent", "arguments": args.to_string() } });
        (
            serde_json::json!({ "role": "assistant", "tool_calls": [call] }),
            "tool_calls",
        )
    };
    let chunk = |choice: serde_json::Value| {
        let c = serde_json::json!({ "id": "x", "object": "chat.completion.chunk", "created": 0,
            "model": "m", "choices": [choice],
            "usage": { "prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2 } });
        format!("data: {c}\n\n")
    };
    let body = chunk(serde_json::json!({ "index": 0, "delta": delta, "finish_reason": null }))
        + &chunk(serde_json::json!({ "index": 0, "delta": {}, "finish_reason": finish }))
        + "data: [DONE]\n\n";
    ("200 OK", body)
}

/// Whether the conversation is the probe agent's own (its prompt is in the system message).
fn is_probe_agent(messages: &[serde_json::Value]) -> bool {
    messages
        .first()
        .is_some_and(|m| m.to_string().contains(PROBE_AGENT_PROMPT))
}

/// Reads `pipe` to its end on a thread of its own.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = pipe.read_to_end(&mut v);
        v
    })
}

/// Runs `cmd` to its end, killing it and failing the test after [`LIMIT`].
pub fn run(mut cmd: Command) -> Output {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
    let reader = drain(child.stdout.take().unwrap());
    let err_reader = drain(child.stderr.take().unwrap());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{shown} ran longer than {LIMIT:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

/// The first line of `cmd`'s stdout that is a JSON object with `"subtype": "init"`: the
/// session's start, listing its MCP servers, agents, skills and slash commands.
pub fn init_event(out: &Output) -> serde_json::Value {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["subtype"] == "init")
        .unwrap_or_else(|| panic!("no init event:\n{}", crate::harness::text(out)))
}

/// The names in the init event's `key` (strings, or objects with a `name`).
pub fn names(init: &serde_json::Value, key: &str) -> Vec<String> {
    init[key]
        .as_array()
        .unwrap_or_else(|| panic!("no `{key}` in {init}"))
        .iter()
        .filter_map(|v| v.as_str().or_else(|| v["name"].as_str()).map(String::from))
        .collect()
}

/// Asserts that the init event lists each of `servers` connected.
pub fn assert_connected(init: &serde_json::Value, servers: &[&str]) {
    let listed = init["mcp_servers"].as_array().unwrap();
    for name in servers {
        let up = listed
            .iter()
            .any(|s| s["name"] == *name && s["status"] == "connected");
        assert!(up, "{name} not connected: {init}");
    }
}

/// Asserts that what a client sent its model holds each of `shown`.
pub fn assert_sent(client: &str, sent: &str, shown: &[&str]) {
    for s in shown {
        assert!(sent.contains(s), "{client} did not send `{s}`");
    }
}

/// The probe bundle: a stdio server (the harness's probe.js), a remote server at `url`,
/// both given `PROBE_TOKEN` as a secret reference, a skill, two agents (one without a
/// description) and a command.
pub fn probe_bundle(sb: &Sandbox, url: &str) -> PathBuf {
    let manifest = format!(
        r#"[bundle]
name = "probe"
version = "1.0.0"
description = "Probe servers and resources for the client conformance tests"
license = "MIT"

[compatibility.product-modes]
desktop-local = "supported"

[mcp.probe-local]
command = "node"
args = [{js}]
env.PROBE_TOKEN = {{ from-env = "PROBE_TOKEN", secret = true }}

[mcp.probe-remote]
url = "{url}/mcp"
headers.Authorization = {{ template = "Bearer {{env:PROBE_TOKEN}}", secret = true }}

[skills.probe-skill]
path = "skills/probe-skill"

[agents.probe-agent]
path = "agents/probe-agent.md"

[agents.plain-agent]
path = "agents/plain-agent.md"

[commands.probe-cmd]
path = "commands/probe-cmd.md"
"#,
        js = serde_json::json!(sb.probe_js().to_str().unwrap()),
    );
    sb.bundle(
        "probe",
        &[
            ("bundle.toml", &manifest),
            ("skills/probe-skill/SKILL.md", PROBE_SKILL),
            ("agents/probe-agent.md", PROBE_AGENT),
            // OpenCode needs no description; Claude Code and Qwen Code load no agent without.
            (
                "agents/plain-agent.md",
                "---\nmode: subagent\n---\n\nChecks the probe.\n",
            ),
            ("commands/probe-cmd.md", PROBE_CMD),
        ],
    )
}

const PROBE_SKILL: &str =
    "---\nname: probe-skill\ndescription: Probe skill seen by the client\n---\n\nSay probe.\n";
/// The probe agent's prompt, which tells its requests to a model from the session's.
pub const PROBE_AGENT_PROMPT: &str = "Answer probe.";
const PROBE_AGENT: &str = "---\ndescription: Probe agent that answers probe\nmode: subagent\ntools:\n  write: false\n  bash: false\n  probe-local_ping: false\n---\n\nAnswer probe.\n";
const PROBE_CMD: &str =
    "---\ndescription: Probe command run with an argument\n---\n\nProbe-run of $ARGUMENTS now.\n";

/// A sandbox for `targets` with the probe bundle installed, and its remote server.
pub fn probed(targets: &[&str]) -> (Sandbox, Server) {
    let sb = Sandbox::new(targets);
    let http = Server::mcp();
    probe_bundle(&sb, &http.url());
    sb.capm(&["add", "../bundles/probe", "--yes"]);
    (sb, http)
}
