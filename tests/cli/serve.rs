//! `capm serve --stdio` as a desktop app runs it: one long-lived process speaking JSON-RPC
//! 2.0, one message per line (docs/protocol.md). Each test drives the real binary through
//! pipes, checks the answers line by line and what lands on disk, and validates every
//! response against the checked-in schemas.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{self, project, repo, tree};

/// How long one answer may take: generous, for slow CI machines.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A running `capm serve --stdio`, its stdout read line by line on a thread.
pub(crate) struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    /// Starts `capm serve --stdio` in `dir`, with the environment `support::capm` uses.
    pub(crate) fn start(dir: &Path) -> Server {
        Server::start_with(dir, &[])
    }

    /// Starts `capm serve --stdio` in `dir` with `env` set besides.
    pub(crate) fn start_with(dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut child = support::command(dir, &["serve", "--stdio"])
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("capm serve starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
            s
        });
        Server {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr: Some(stderr),
        }
    }

    /// Writes `text` as it is, in one write.
    pub(crate) fn write(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(text.as_bytes()).expect("the server reads");
        stdin.flush().unwrap();
    }

    /// Sends one request as a line.
    pub(crate) fn send(&mut self, request: &Value) {
        self.write(&format!("{request}\n"));
    }

    /// The next response line, parsed and checked against the response schemas.
    pub(crate) fn recv(&mut self) -> Value {
        let line = match self.lines.recv_timeout(TIMEOUT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("no answer within {TIMEOUT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed stdout"),
        };
        let response: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("a response line is not JSON ({e}): {line}"));
        check_response(&response);
        response
    }

    /// The next line, whatever it is (a notification or a response), parsed but unchecked.
    pub(crate) fn line(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(TIMEOUT)
            .expect("a line within the timeout");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("a line is not JSON ({e}): {line}"))
    }

    /// A request with `id`, and its answer.
    pub(crate) fn call(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.recv();
        assert_eq!(response["id"], id, "{response}");
        response
    }

    /// A call that must succeed: its `result`.
    pub(crate) fn result(&mut self, id: u64, method: &str, params: Value) -> Value {
        let response = self.call(id, method, params);
        assert!(response.get("error").is_none(), "{response}");
        response["result"].clone()
    }

    /// Nothing more on stdout for a moment.
    pub(crate) fn assert_silent(&self, wait: Duration) {
        match self.lines.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(line) => panic!("unexpected output: {line}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed stdout"),
        }
    }

    /// Closes stdin and waits for the process: its exit status and stderr.
    pub(crate) fn close(mut self) -> (ExitStatus, String) {
        drop(self.stdin.take());
        self.wait()
    }

    /// Waits (at most `TIMEOUT`) for the process to end.
    fn wait(mut self) -> (ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                panic!("capm serve did not exit within {TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // Anything left on stdout is a protocol error.
        if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
            panic!("output after the last answer: {line}");
        }
        let stderr = self.stderr.take().unwrap().join().unwrap();
        (status, stderr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Validates `doc` against `schemas/NAME`; `false` when there is no such file.
pub(crate) fn validate_against(doc: &Value, name: &str) -> bool {
    let path = repo().join("schemas").join(name);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return false;
    };
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{doc}");
    true
}

/// Every response: JSON-RPC 2.0, exactly one of `result` and `error`, valid against
/// rpc-response.schema.json when it exists, and its result against its document's schema.
fn check_response(response: &Value) {
    assert_eq!(response["jsonrpc"], "2.0", "{response}");
    assert!(response.get("id").is_some(), "{response}");
    assert!(
        response.get("result").is_some() != response.get("error").is_some(),
        "exactly one of result and error: {response}"
    );
    validate_against(response, "rpc-response.schema.json");
    if let Some(error) = response.get("error") {
        assert!(error["code"].is_i64(), "{response}");
        assert!(error["message"].is_string(), "{response}");
    }
    let Some(result) = response.get("result") else {
        return;
    };
    let file = match result["schema"].as_str() {
        Some("capm.plan/v1") => "plan.schema.json",
        Some("capm.apply/v1") => "apply.schema.json",
        Some("capm.doctor/v1") => "doctor.schema.json",
        Some("capm.diagnostics/v1") => "diagnostics.schema.json",
        _ => return,
    };
    assert!(validate_against(result, file), "schemas/{file} is missing");
}

fn install(dir: &Path, bundles: &[&str]) -> Value {
    json!({"project": dir, "operation": "install", "bundles": bundles})
}

fn with_fingerprint(mut params: Value, fingerprint: &Value) -> Value {
    params["fingerprint"] = fingerprint.clone();
    params
}

#[test]
fn a_plan_then_its_apply_installs_and_status_is_healthy() {
    let dir = project();
    let d = dir.path();
    let before = tree(d);
    let mut server = Server::start(d);

    let plan = server.result(1, "plan", install(d, &["code-review"]));
    assert_eq!(plan["schema"], "capm.plan/v1");
    assert_eq!(plan["status"], "ready");
    assert_eq!(tree(d), before, "plan wrote something");
    let fingerprint = plan["fingerprint"].clone();
    assert!(fingerprint.as_str().unwrap().starts_with("sha256:"));

    let params = with_fingerprint(install(d, &["code-review"]), &fingerprint);
    let applied = server.result(2, "apply", params);
    assert_eq!(applied["schema"], "capm.apply/v1");
    assert_eq!(applied["outcome"], "applied");
    assert_eq!(applied["plan"]["fingerprint"], fingerprint);
    assert!(applied["proposals"].as_array().unwrap().is_empty());
    for file in [
        ".opencode/skills/code-review/SKILL.md",
        ".opencode/skills/github-operations/SKILL.md",
        ".opencode/agents/reviewer.md",
        ".opencode/commands/review.md",
        "opencode.json",
        "capm.lock",
    ] {
        assert!(d.join(file).is_file(), "{file} missing");
    }
    let manifest = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert!(manifest.contains("code-review = "), "{manifest}");

    // A relative project path is resolved against the server's directory.
    let status = server.result(3, "status", json!({"project": "."}));
    assert_eq!(status["schema"], "capm.doctor/v1");
    assert_eq!(status["healthy"], true, "{status}");
    let resources: Vec<&str> = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["status"], "ok", "{r}");
            r["id"].as_str().unwrap()
        })
        .collect();
    for id in [
        "mcp:github",
        "skill:github-operations",
        "skill:code-review",
        "agent:reviewer",
        "command:review",
    ] {
        assert!(resources.contains(&id), "{id} missing from {resources:?}");
    }

    // The same plan again now creates nothing.
    let again = server.result(4, "plan", install(d, &["code-review"]));
    assert_eq!(again["schema"], "capm.plan/v1");
    assert!(
        again["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["action"] != "create"),
        "{again}"
    );

    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "stderr carries only log lines: {stderr}");
}

#[test]
fn a_malformed_line_is_answered_and_the_server_keeps_serving() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    server.write("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"plan\"\n");
    let response = server.recv();
    assert_eq!(response["id"], Value::Null, "{response}");
    assert_eq!(response["error"]["code"], -32700, "{response}");
    assert!(response.get("result").is_none());

    server.write("not json at all\n");
    assert_eq!(server.recv()["error"]["code"], -32700);

    // JSON, but not a request.
    server.write("[1,2,3]\n");
    let response = server.recv();
    assert_eq!(response["error"]["code"], -32600, "{response}");
    server.send(&json!({"jsonrpc": "1.0", "id": 7, "method": "status"}));
    let response = server.recv();
    assert_eq!(response["id"], 7, "{response}");
    assert_eq!(response["error"]["code"], -32600, "{response}");

    let status = server.result(2, "status", json!({"project": d}));
    assert_eq!(status["schema"], "capm.doctor/v1");
    assert_eq!(status["healthy"], true);

    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn requests_written_at_once_are_answered_in_order() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    let requests = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "plan", "params": install(d, &["time"])}),
        json!({"jsonrpc": "2.0", "id": "two", "method": "frobnicate"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "plan",
               "params": {"project": d, "operation": "install", "bundle": ["time"]}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "validate",
               "params": {"path": d.join("capm.toml")}}),
        json!({"jsonrpc": "2.0", "id": 5, "method": "status", "params": {"project": d}}),
    ];
    let text: String = requests.iter().map(|r| format!("{r}\n")).collect();
    server.write(&text);
    let answers: Vec<Value> = (0..requests.len()).map(|_| server.recv()).collect();
    let ids: Vec<&Value> = answers.iter().map(|a| &a["id"]).collect();
    assert_eq!(
        ids,
        [&json!(1), &json!("two"), &json!(3), &json!(4), &json!(5)]
    );

    assert_eq!(answers[0]["result"]["schema"], "capm.plan/v1");
    let unknown = &answers[1]["error"];
    assert_eq!(unknown["code"], -32601, "{unknown}");
    assert!(
        unknown["message"].as_str().unwrap().contains("frobnicate"),
        "{unknown}"
    );
    let bad = &answers[2]["error"];
    assert_eq!(bad["code"], -32602, "{bad}");
    assert!(
        bad["message"].as_str().unwrap().contains("`bundle`"),
        "the message names the field: {bad}"
    );
    assert_eq!(answers[3]["result"]["schema"], "capm.diagnostics/v1");
    assert_eq!(answers[3]["result"]["summary"]["errors"], 0);
    assert_eq!(answers[4]["result"]["schema"], "capm.doctor/v1");

    // A wrong type and a missing field are named too.
    let wrong = server.call(
        6,
        "plan",
        json!({"project": d, "operation": "install", "latest": "yes"}),
    );
    assert_eq!(wrong["error"]["code"], -32602, "{wrong}");
    let missing = server.call(7, "plan", json!({"project": d}));
    assert_eq!(missing["error"]["code"], -32602, "{missing}");
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("operation"),
        "{missing}"
    );
    server.assert_silent(Duration::from_millis(200));
    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn a_notification_is_carried_out_but_not_answered() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    // Both lines in one write: the only answer must be the second's.
    let notification = json!({"jsonrpc": "2.0", "method": "plan", "params": install(d, &["time"])});
    let request = json!({"jsonrpc": "2.0", "id": 2, "method": "status", "params": {"project": d}});
    server.write(&format!("{notification}\n{request}\n"));
    let response = server.recv();
    assert_eq!(response["id"], 2, "{response}");
    assert_eq!(response["result"]["schema"], "capm.doctor/v1");
    assert_eq!(response["result"]["resources"], json!([]), "{response}");

    // An apply sent as a notification is carried out: status then sees what it installed.
    let plan = server.result(3, "plan", install(d, &["time"]));
    let apply = json!({"jsonrpc": "2.0", "method": "apply",
                       "params": with_fingerprint(install(d, &["time"]), &plan["fingerprint"])});
    server.send(&apply);
    let status = server.result(4, "status", json!({"project": d}));
    assert_eq!(status["healthy"], true, "{status}");
    let ids: Vec<&str> = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"mcp:time"), "{ids:?}");

    // A notification that fails is not answered either.
    server.write("{\"jsonrpc\":\"2.0\",\"method\":\"frobnicate\"}\n");
    server.assert_silent(Duration::from_millis(300));
    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

/// JSON-RPC 2.0: a notification is a request *without* an `id` member; `"id": null` is a
/// request (capm's protocol allows only strings and numbers, so it is an invalid one), and
/// must be answered.
#[test]
fn a_request_with_a_null_id_is_answered() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    server.write("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"frobnicate\"}\n");
    let response = server.recv();
    assert_eq!(response["id"], Value::Null, "{response}");
    assert!(response.get("error").is_some(), "{response}");
    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

/// A line that is not UTF-8 is not JSON: -32700, and the server keeps serving.
#[test]
fn a_line_that_is_not_utf8_is_a_parse_error() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    let stdin = server.stdin.as_mut().unwrap();
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}\n")
        .unwrap();
    stdin.flush().unwrap();
    let response = server.recv();
    assert_eq!(response["error"]["code"], -32700, "{response}");
    let status = server.result(2, "status", json!({"project": d}));
    assert_eq!(status["healthy"], true, "{status}");
    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn apply_needs_a_fingerprint_and_refuses_a_stale_one() {
    let dir = project();
    let d = dir.path();
    let before = tree(d);
    let mut server = Server::start(d);

    let response = server.call(1, "apply", install(d, &["code-review"]));
    let error = &response["error"];
    assert_eq!(error["code"], -32602, "{response}");
    assert!(
        error["message"].as_str().unwrap().contains("fingerprint"),
        "{response}"
    );
    assert_eq!(
        tree(d),
        before,
        "apply without a fingerprint wrote something"
    );

    let stale = json!("sha256:0000000000000000000000000000000000000000000000000000000000000000");
    let response = server.call(
        2,
        "apply",
        with_fingerprint(install(d, &["code-review"]), &stale),
    );
    let error = &response["error"];
    assert_eq!(error["code"], -32000, "{response}");
    assert_eq!(error["data"]["code"], "plan-stale", "{response}");
    assert_eq!(error["data"]["exit"], 1, "{response}");
    assert!(error["data"]["help"].is_string(), "{response}");
    assert_eq!(tree(d), before, "a stale apply wrote something");

    // A plan whose project changed after it was computed is stale too.
    let plan = server.result(3, "plan", install(d, &["time"]));
    std::fs::write(d.join("opencode.json"), "{ \"theme\": \"dark\" }\n").unwrap();
    let changed = tree(d);
    let response = server.call(
        4,
        "apply",
        with_fingerprint(install(d, &["time"]), &plan["fingerprint"]),
    );
    assert_eq!(
        response["error"]["data"]["code"], "plan-stale",
        "{response}"
    );
    assert_eq!(tree(d), changed, "a stale apply wrote something");

    // `fingerprint` belongs to apply only.
    let response = server.call(5, "plan", with_fingerprint(install(d, &["time"]), &stale));
    assert_eq!(response["error"]["code"], -32602, "{response}");

    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn shutdown_answers_null_and_exits_zero() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    let response = server.call(1, "shutdown", Value::Null);
    assert_eq!(response["result"], Value::Null, "{response}");
    assert!(response.get("result").is_some(), "{response}");
    // The server ends without stdin being closed.
    let (status, stderr) = server.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");

    // Without params at all, too; and the lines after it are not read.
    let mut server = Server::start(d);
    server.write(
        "{\"jsonrpc\":\"2.0\",\"id\":\"bye\",\"method\":\"shutdown\"}\n\
         {\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"status\",\"params\":{\"project\":\".\"}}\n",
    );
    let response = server.recv();
    assert_eq!(response["id"], "bye", "{response}");
    assert_eq!(response["result"], Value::Null, "{response}");
    let (status, stderr) = server.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn closing_stdin_exits_zero() {
    let dir = project();
    let d = dir.path();
    // Right away.
    let server = Server::start(d);
    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    // After a call, and with a last line lacking its newline, which is still answered.
    let mut server = Server::start(d);
    server.result(1, "status", json!({"project": d}));
    server.write(
        &json!({"jsonrpc": "2.0", "id": 2, "method": "status", "params": {"project": d}})
            .to_string(),
    );
    drop(server.stdin.take());
    let response = server.recv();
    assert_eq!(response["id"], 2, "{response}");
    let (status, stderr) = server.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(tree(d).keys().filter(|k| k.starts_with(".capm")).count(), 0);
}

#[test]
fn a_batch_is_refused_and_an_unknown_method_is_one_whatever_its_params() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    let stdin = server.stdin.as_mut().unwrap();
    stdin
        .write_all(b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}]\n")
        .unwrap();
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\",\"params\":[1]}\n")
        .unwrap();
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":{\"x\":1},\"method\":5}\n")
        .unwrap();
    stdin.flush().unwrap();
    let batch = server.recv();
    assert_eq!(batch["error"]["code"], -32600, "{batch}");
    assert_eq!(batch["id"], Value::Null);
    let unknown = server.recv();
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let bad_id = server.recv();
    assert_eq!(bad_id["error"]["code"], -32600, "{bad_id}");
    assert_eq!(
        bad_id["id"],
        Value::Null,
        "an invalid id is not echoed: {bad_id}"
    );
    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

/// A line over the 16 MiB limit (here a request whose `code` is 17 MiB long) is answered
/// with -32600 and `id: null`, without a byte of it echoed, and the next line is served.
#[test]
fn a_line_over_the_message_limit_is_refused_and_the_next_is_served() {
    let dir = project();
    let mut server = Server::start(dir.path());
    let huge = "x".repeat(17 * 1024 * 1024);
    let stdin = server.stdin.as_mut().unwrap();
    let head = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"explain\",\"params\":{\"code\":\"";
    stdin.write_all(head).unwrap();
    stdin.write_all(huge.as_bytes()).unwrap();
    stdin.write_all(b"\"}}\n").unwrap();
    server.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "explain", "params": {"code": "invalid-semver"}}));
    let refused = server.recv();
    assert_eq!(refused["id"], Value::Null, "{refused}");
    assert_eq!(refused["error"]["code"], -32600, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("16777216 bytes (16 MiB)"), "{message}");
    assert!(!message.contains("xxxx"), "{message}");
    let next = server.recv();
    assert_eq!(next["id"], 2, "{next}");
    assert_eq!(next["result"]["code"], "invalid-semver", "{next}");
    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

/// Bad values are quoted in errors by their first 64 characters only, marked as cut.
#[test]
fn a_long_bad_value_is_quoted_by_its_prefix_only() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    let long = format!("{}{}", "é".repeat(64), "z".repeat(100_000));
    let prefix = format!("`{}…`", "é".repeat(64));
    let calls = [
        ("method not found", long.as_str(), json!({})),
        ("unknown code", "explain", json!({"code": long})),
        (
            "unknown variant",
            "plan",
            json!({"project": d, "operation": long}),
        ),
        (
            "unknown field",
            "status",
            json!({"project": d, long.as_str(): 1}),
        ),
        (
            "bundle name",
            "plan",
            json!({"project": d, "operation": "install", "bundles": [long]}),
        ),
    ];
    for (id, (what, method, params)) in calls.into_iter().enumerate() {
        server.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = server.recv();
        let error = &response["error"];
        assert!(error.is_object(), "{what}: {response}");
        let text = error.to_string();
        assert!(text.contains(&prefix), "{what}: {text}");
        assert!(
            !text.contains("zz"),
            "{what}: {}",
            &text[..text.len().min(500)]
        );
        assert!(text.len() < 2048, "{what}: {} bytes", text.len());
    }
    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
}
