//! `capm serve --stdio` cancellation and progress at their edges, through the real binary:
//! a cancel that reaches an apply waiting for a lock another process holds, or a plan
//! behind hundreds of queued requests; a cancelled `search` that does not pass for a
//! success; ids compared by value; `initialize` from a subdirectory; `validate` of a
//! missing path refused as the other methods refuse one.
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http_server::{Fault, TestServer};
use crate::serve::Server;
use crate::serve_protocol::kit_project;
use crate::support::{project, tempdir, tree};

fn cancel(id: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": id}})
}

/// A project `d/p` asking for `kit` from a registry whose every answer stalls for 20 s.
fn stalled_project(d: &Path) -> (TestServer, std::path::PathBuf) {
    let registry = TestServer::serve_dir(&d.join("reg"));
    for path in ["/config.json", "/index/3/k/kit"] {
        registry.fault(path, Fault::Delay(Duration::from_secs(20)));
    }
    let p = kit_project(d, &registry);
    (registry, p)
}

/// The answer to a request sent `sent` ago: the cancelled error for `id`, promptly.
fn assert_cancelled_promptly(response: &Value, id: &Value, sent: Instant) {
    let took = sent.elapsed();
    assert!(took < Duration::from_secs(4), "the cancel took {took:?}");
    assert_eq!(response["id"], *id, "{response}");
    assert_eq!(response["error"]["code"], -32800, "{response}");
    assert_eq!(
        response["error"]["data"],
        json!({"code": "cancelled", "exit": 130})
    );
}

#[test]
fn an_apply_waiting_for_a_lock_reports_it_and_a_cancel_stops_the_wait() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start_with(d, &[("CAPM_LOCK_TIMEOUT", "30")]);
    let params = json!({"project": d, "operation": "install", "bundles": ["code-review"]});
    let plan = server.result(1, "plan", params.clone());
    // Another process holds the project's lock.
    std::fs::create_dir_all(d.join(".capm")).unwrap();
    let held = std::fs::File::create(d.join(".capm/lock")).unwrap();
    held.lock().unwrap();
    let before = tree(d);
    let mut apply = params;
    apply["fingerprint"] = plan["fingerprint"].clone();
    apply["progress_token"] = json!("w");
    server.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "apply", "params": apply}));
    let note = server.line();
    assert_eq!(note["method"], "$/progress", "{note}");
    assert_eq!(
        note["params"],
        json!({"token": "w", "stage": "lock", "done": 0, "total": 1})
    );
    let sent = Instant::now();
    server.send(&cancel(json!(2)));
    let response = server.recv();
    assert_cancelled_promptly(&response, &json!(2), sent);
    assert_eq!(
        response["error"]["message"],
        "cancelled: the client cancelled the request; what this apply had written was rolled back"
    );
    assert_eq!(tree(d), before, "the cancelled apply wrote");
    drop(held);
    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0));
    assert!(stderr.contains("waiting for lock"), "{stderr}");
}

#[test]
fn a_cancel_behind_hundreds_of_queued_requests_reaches_the_running_plan() {
    let dir = tempdir();
    let (_registry, p) = stalled_project(dir.path());
    let mut server = Server::start(&p);
    let plan = json!({"project": p, "operation": "install"});
    server.send(&json!({"jsonrpc": "2.0", "id": 0, "method": "plan", "params": plan}));
    let mut queued = String::new();
    for id in 1..=500 {
        let explain = json!({"jsonrpc": "2.0", "id": id, "method": "explain", "params": {"code": "plan-stale"}});
        queued.push_str(&format!("{explain}\n"));
    }
    server.write(&queued);
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    server.send(&cancel(json!(0)));
    assert_cancelled_promptly(&server.recv(), &json!(0), sent);
    for id in 1..=500 {
        assert_eq!(server.recv()["id"], id);
    }
}

#[test]
fn a_cancelled_search_is_answered_cancelled_not_with_what_it_found() {
    let dir = tempdir();
    let (_registry, p) = stalled_project(dir.path());
    let mut server = Server::start(&p);
    let params = json!({"query": "kit", "project": p});
    server.send(&json!({"jsonrpc": "2.0", "id": "s", "method": "search", "params": params}));
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    server.send(&cancel(json!("s")));
    assert_cancelled_promptly(&server.recv(), &json!("s"), sent);
    let explained = server.result(2, "explain", json!({"code": "plan-stale"}));
    assert_eq!(explained["code"], "plan-stale");
}

#[test]
fn a_cancel_reaches_a_request_whose_id_is_the_same_number_written_otherwise() {
    let dir = tempdir();
    let (_registry, p) = stalled_project(dir.path());
    let mut server = Server::start(&p);
    let plan = json!({"project": p, "operation": "install"});
    server.write(&format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":2.0,\"method\":\"plan\",\"params\":{plan}}}\n"
    ));
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    server.send(&cancel(json!(2)));
    assert_cancelled_promptly(&server.recv(), &json!(2.0), sent);
}

#[test]
fn a_progress_token_that_is_no_string_or_integer_is_refused_plainly() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    for token in [json!(1.5), json!(1e3), json!([1])] {
        let params = json!({"project": d, "operation": "install", "progress_token": token});
        let refused = server.call(1, "plan", params);
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("`progress_token` must be a string or an integer"),
            "{message}"
        );
        assert!(!message.contains("untagged"), "{message}");
    }
}

#[test]
fn initialize_names_the_project_root_from_a_subdirectory() {
    let dir = project();
    let d = dir.path();
    let deeper = d.join("sub/deeper");
    std::fs::create_dir_all(&deeper).unwrap();
    let mut server = Server::start(&deeper);
    let result = server.result(1, "initialize", json!({}));
    let root = std::fs::canonicalize(d).unwrap();
    assert_eq!(result["project"], json!(root), "{result}");
}

#[test]
fn validate_of_a_missing_path_carries_the_code_other_methods_give() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    let missing = d.join("nowhere");
    for (id, method, params) in [
        (1, "validate", json!({"path": missing})),
        (2, "list", json!({"project": missing})),
    ] {
        let refused = server.call(id, method, params);
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
        let data = &refused["error"]["data"];
        assert_eq!(data["code"], "path-not-found", "{refused}");
        assert_eq!(data["exit"], 2, "{refused}");
    }
}
