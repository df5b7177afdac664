//! A stand-in model endpoint on 127.0.0.1 for the clients whose print mode shows what they
//! loaded (Claude Code, Qwen Code): one that records what a client would send its model
//! (the agents, skills and commands it loaded, with their descriptions) and refuses it, and
//! one that hands the task to the probe agent (to see the tools a client gives an agent).
//! Also the reading of such a session's `init` event.

use std::process::Output;

use serde_json::{Value, json};

use crate::local_http::{Request, Server};
use crate::probe_bundle::PROBE_AGENT_PROMPT;

/// A running model endpoint; dropping it stops it.
pub struct Model {
    server: Server,
}

impl Model {
    /// A model endpoint that records every request and answers each with an error, so
    /// that the client stops after showing what it loaded.
    pub fn refusing() -> Model {
        Model {
            server: Server::start(|_| {
                let error = r#"{"type":"error","error":{"type":"invalid_request_error","message":"no model here"}}"#;
                ("400 Bad Request", error.to_string())
            }),
        }
    }

    /// An OpenAI-style streaming model whose first answer hands the task to the agent
    /// `probe-agent` (Qwen Code's `agent` tool) and every later one ends the turn.
    pub fn delegating() -> Model {
        Model {
            server: Server::start(delegate),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.base_url()
    }

    /// Everything the endpoint received, as one text.
    pub fn received(&self) -> String {
        let bodies: Vec<String> = self.server.requests().into_iter().map(|r| r.body).collect();
        bodies.join("\n")
    }

    /// The tool names offered in the request whose system prompt holds `marker`: what
    /// the agent with that prompt was allowed to use.
    pub fn tools_offered_to(&self, marker: &str) -> Vec<String> {
        let requests = self.server.requests();
        let request = requests
            .iter()
            .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
            .find(|r| r["messages"][0].to_string().contains(marker))
            .unwrap_or_else(|| panic!("no request with `{marker}` in its first message"));
        let tools = request["tools"].as_array().cloned().unwrap_or_default();
        tools
            .iter()
            .filter_map(|t| t["function"]["name"].as_str().map(String::from))
            .collect()
    }
}

/// The delegating model's answer, streamed: an `agent` tool call for the probe agent to a
/// session's first request, `done` to everything else.
fn delegate(req: &Request) -> (&'static str, String) {
    let m: Value = serde_json::from_str(&req.body).unwrap_or_default();
    let messages = m["messages"].as_array().cloned().unwrap_or_default();
    let answered = messages.iter().any(|m| m["role"] == "assistant");
    let (delta, finish) = if answered || messages.len() != 2 || is_probe_agent(&messages) {
        (json!({ "role": "assistant", "content": "done" }), "stop")
    } else {
        let args =
            json!({ "description": "probe", "prompt": "answer", "subagent_type": "probe-agent" });
        let call = json!({ "index": 0, "id": "call_1", "type": "function",
            "function": { "name": "agent", "arguments": args.to_string() } });
        (
            json!({ "role": "assistant", "tool_calls": [call] }),
            "tool_calls",
        )
    };
    let chunk = |choice: Value| {
        let c = json!({ "id": "x", "object": "chat.completion.chunk", "created": 0,
            "model": "m", "choices": [choice],
            "usage": { "prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2 } });
        format!("data: {c}\n\n")
    };
    let body = chunk(json!({ "index": 0, "delta": delta, "finish_reason": null }))
        + &chunk(json!({ "index": 0, "delta": {}, "finish_reason": finish }))
        + "data: [DONE]\n\n";
    ("200 OK", body)
}

/// Whether the conversation is the probe agent's own (its prompt is in the system message).
fn is_probe_agent(messages: &[Value]) -> bool {
    messages
        .first()
        .is_some_and(|m| m.to_string().contains(PROBE_AGENT_PROMPT))
}

/// The first line of a session's stdout that is a JSON object with `"subtype": "init"`:
/// the session's start, listing its MCP servers, agents, skills and slash commands.
pub fn init_event(out: &Output) -> Value {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["subtype"] == "init")
        .unwrap_or_else(|| panic!("no init event:\n{}", crate::harness::text(out)))
}

/// The names in the init event's `key` (strings, or objects with a `name`).
pub fn names(init: &Value, key: &str) -> Vec<String> {
    init[key]
        .as_array()
        .unwrap_or_else(|| panic!("no `{key}` in {init}"))
        .iter()
        .filter_map(|v| v.as_str().or_else(|| v["name"].as_str()).map(String::from))
        .collect()
}

/// Asserts that the init event lists each of `servers` connected.
pub fn assert_connected(init: &Value, servers: &[&str]) {
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
