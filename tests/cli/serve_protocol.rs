//! `capm serve --stdio`'s protocol additions, through the real binary: `initialize`,
//! `$/progress` notifications for a request with a `progress_token`, and `$/cancelRequest`
//! (a queued request answered -32800 without running, an apply stopped before its commit
//! point and rolled back, a plan waiting on a slow registry abandoned).
#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http_server::{Fault, TestServer};
use crate::serve::{Server, validate_against};
use crate::support::{project, tempdir, tree, write_files};

fn install(dir: &Path, bundles: &[&str]) -> Value {
    json!({"project": dir, "operation": "install", "bundles": bundles})
}

fn cancel(id: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": id}})
}

/// The project's files, capm's own state (`.capm/`: its lock, its journal) left out.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut t = tree(dir);
    t.retain(|path, _| !path.starts_with(".capm"));
    t
}

/// The `$/progress` notifications before the response to `id`, and that response.
fn progress_then_response(server: &mut Server, id: u64) -> (Vec<Value>, Value) {
    let mut notes = Vec::new();
    loop {
        let line = server.line();
        if line.get("id").is_some() {
            assert_eq!(line["id"], id, "{line}");
            return (notes, line);
        }
        assert_eq!(line["method"], "$/progress", "{line}");
        assert!(validate_against(&line, "rpc-progress.schema.json"));
        notes.push(line["params"].clone());
    }
}

/// A project `d/p` asking for `kit = ^1` from the registry `registry` serves.
pub(crate) fn kit_project(d: &Path, registry: &TestServer) -> std::path::PathBuf {
    let toml = format!(
        "[bundles]\nkit = {{ version = \"^1\", registry = \"team\" }}\n\n\
         [registries]\nteam = {{ url = \"{}\" }}\n",
        registry.url()
    );
    let p = d.join("p");
    write_files(&p, &[("capm.toml", &toml)]);
    p
}

fn assert_cancelled(response: &Value, id: u64) {
    assert_cancelled_with(response, id, "nothing was changed");
}

/// The cancelled error for `id`, its message ending with what the request `changed`.
fn assert_cancelled_with(response: &Value, id: u64, changed: &str) {
    assert_eq!(response["id"], id, "{response}");
    let error = &response["error"];
    assert_eq!(error["code"], -32800, "{response}");
    assert_eq!(
        error["message"],
        format!("cancelled: the client cancelled the request; {changed}")
    );
    assert_eq!(error["data"], json!({"code": "cancelled", "exit": 130}));
    validate_against(response, "rpc-response.schema.json");
}

#[test]
fn initialize_describes_the_server_and_the_project_it_runs_in() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    let params = json!({"client": {"name": "desktop", "version": "0.1.0"}});
    let init = server.result(1, "initialize", params);
    assert!(validate_against(&init, "initialize.schema.json"));
    assert_eq!(init["schema"], "capm.initialize/v1");
    assert_eq!(init["name"], "capm");
    assert_eq!(init["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(init["protocol_version"], 1);
    let methods = [
        "initialize",
        "validate",
        "plan",
        "apply",
        "status",
        "doctor",
        "list",
        "outdated",
        "info",
        "search",
        "explain",
        "shutdown",
    ];
    assert_eq!(init["methods"], json!(methods));
    assert_eq!(
        init["notifications"],
        json!({"client": ["$/cancelRequest"], "server": ["$/progress"]})
    );
    assert_eq!(init["max_message_bytes"], 16_777_216);
    let found = Path::new(init["project"].as_str().unwrap());
    assert!(found.is_absolute(), "{init}");
    assert_eq!(found.canonicalize().unwrap(), d.canonicalize().unwrap());
    // Without params too; an unknown field is refused.
    assert_eq!(
        server.result(2, "initialize", json!({}))["protocol_version"],
        1
    );
    let refused = server.call(3, "initialize", json!({"clientInfo": {}}));
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");

    let outside = tempdir();
    let mut server = Server::start(outside.path());
    let init = server.result(1, "initialize", json!({}));
    assert!(init.get("project").is_none(), "{init}");
    assert!(validate_against(&init, "initialize.schema.json"));
}

/// `(done, total)` of each notification of `stage`.
fn counts(notes: &[Value], stage: &str) -> Vec<(u64, Option<u64>)> {
    notes
        .iter()
        .filter(|n| n["stage"] == stage)
        .map(|n| (n["done"].as_u64().unwrap(), n["total"].as_u64()))
        .collect()
}

/// Counts that never go back and end at their total.
fn assert_monotone(seen: &[(u64, Option<u64>)], stage: &str) {
    assert!(!seen.is_empty(), "no `{stage}` notification");
    let total = seen[0].1.expect("a total");
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "{stage}: {seen:?}"
    );
    assert!(
        seen.iter().all(|(_, t)| *t == Some(total)),
        "{stage}: {seen:?}"
    );
    assert_eq!(seen.last().unwrap().0, total, "{stage}: {seen:?}");
}

#[test]
fn plan_and_apply_with_a_progress_token_report_their_stages_before_the_response() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    // Without a token, the response comes alone.
    let plan = server.result(1, "plan", install(d, &["code-review"]));
    let mut params = install(d, &["code-review"]);
    params["progress_token"] = json!("p2");
    server.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "plan", "params": params}));
    let (notes, response) = progress_then_response(&mut server, 2);
    assert_eq!(response["result"]["fingerprint"], plan["fingerprint"]);
    assert!(notes.iter().all(|n| n["token"] == "p2"), "{notes:?}");
    assert_eq!(counts(&notes, "plan"), [(0, Some(1)), (1, Some(1))]);

    params["fingerprint"] = plan["fingerprint"].clone();
    params["progress_token"] = json!(7);
    server.send(&json!({"jsonrpc": "2.0", "id": 3, "method": "apply", "params": params}));
    let (notes, response) = progress_then_response(&mut server, 3);
    assert_eq!(response["result"]["outcome"], "applied", "{response}");
    assert!(notes.iter().all(|n| n["token"] == 7), "{notes:?}");
    let stages: Vec<&str> = notes.iter().map(|n| n["stage"].as_str().unwrap()).collect();
    let mut order = stages.clone();
    order.dedup();
    assert_eq!(order, ["lock", "plan", "stage", "commit", "clean-up"]);
    assert_eq!(counts(&notes, "lock"), [(0, Some(1)), (1, Some(1))]);
    assert_monotone(&counts(&notes, "stage"), "stage");
    assert_monotone(&counts(&notes, "commit"), "commit");
    assert!(
        notes
            .iter()
            .filter(|n| n["stage"] == "commit" && n["done"] != 0)
            .any(|n| n["message"] == "capm.lock"),
        "capm.lock is committed: {notes:?}"
    );
    // Nothing is left to come: the response was the last line.
    server.assert_silent(Duration::from_millis(200));
}

#[test]
fn a_request_cancelled_while_queued_is_answered_without_running() {
    // `slow` is applied first, held for 2 s while it stages; the apply queued behind it in
    // `idle` is cancelled before it starts.
    let (slow_dir, idle_dir) = (project(), project());
    let (slow, idle) = (slow_dir.path(), idle_dir.path());
    let mut server = Server::start_with(slow, &[("CAPM_FAILPOINTS", "staged=run:sleep 2")]);
    let slow_plan = server.result(1, "plan", install(slow, &["code-review"]));
    let idle_plan = server.result(2, "plan", install(idle, &["code-review"]));
    let before = files(idle);
    let mut slow_apply = install(slow, &["code-review"]);
    slow_apply["fingerprint"] = slow_plan["fingerprint"].clone();
    let mut idle_apply = install(idle, &["code-review"]);
    idle_apply["fingerprint"] = idle_plan["fingerprint"].clone();
    server.send(&json!({"jsonrpc": "2.0", "id": 3, "method": "apply", "params": slow_apply}));
    server.send(&json!({"jsonrpc": "2.0", "id": 4, "method": "apply", "params": idle_apply}));
    server.send(&cancel(json!(4)));
    let applied = server.recv();
    assert_eq!(applied["id"], 3);
    assert_eq!(applied["result"]["outcome"], "applied", "{applied}");
    assert_cancelled(&server.recv(), 4);
    assert_eq!(files(idle), before, "the cancelled apply wrote");
    assert!(
        !idle.join(".capm").exists(),
        "the cancelled apply took the lock"
    );
    // Its id is free again: a new request with it runs.
    let again = server.result(4, "plan", install(idle, &["code-review"]));
    assert_eq!(again["fingerprint"], idle_plan["fingerprint"]);
}

#[test]
fn an_apply_cancelled_before_its_commit_point_is_rolled_back() {
    let dir = project();
    let d = dir.path();
    // Staging the first change takes a second: time for the cancel to arrive.
    let mut server = Server::start_with(d, &[("CAPM_FAILPOINTS", "staged=run:sleep 1")]);
    let plan = server.result(1, "plan", install(d, &["code-review"]));
    let before = files(d);
    let mut params = install(d, &["code-review"]);
    params["fingerprint"] = plan["fingerprint"].clone();
    params["progress_token"] = json!("a");
    server.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "apply", "params": params}));
    loop {
        let note = server.line();
        assert_eq!(
            note["method"], "$/progress",
            "answered before staging: {note}"
        );
        if note["params"]["stage"] == "stage" {
            break;
        }
    }
    server.send(&cancel(json!(2)));
    let (notes, response) = progress_then_response(&mut server, 2);
    let rolled_back = "what this apply had written was rolled back";
    assert_cancelled_with(&response, 2, rolled_back);
    assert!(
        notes.iter().all(|n| n["stage"] == "stage"),
        "nothing was committed: {notes:?}"
    );
    assert_eq!(files(d), before, "the cancelled apply left changes behind");
    let journals = std::fs::read_dir(d.join(".capm/txn")).map_or(0, |r| r.count());
    assert_eq!(journals, 0, "the journal is closed");
    let again = server.result(3, "plan", install(d, &["code-review"]));
    assert_eq!(again["fingerprint"], plan["fingerprint"]);
    assert_eq!(again["actions"], plan["actions"]);
}

#[test]
fn a_plan_waiting_on_a_slow_registry_is_cancelled_promptly() {
    let dir = tempdir();
    let d = dir.path();
    let registry = TestServer::serve_dir(&d.join("reg"));
    for path in ["/config.json", "/index/3/k/kit"] {
        registry.fault(path, Fault::Delay(Duration::from_secs(20)));
    }
    let p = kit_project(d, &registry);
    let mut server = Server::start(&p);
    let params = json!({"project": p, "operation": "install"});
    server.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "plan", "params": params}));
    // Time to reach the registry, which stalls.
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    server.send(&cancel(json!(1)));
    assert_cancelled(&server.recv(), 1);
    let took = sent.elapsed();
    assert!(took < Duration::from_secs(3), "the cancel took {took:?}");
    // The server goes on serving.
    let explained = server.result(2, "explain", json!({"code": "plan-stale"}));
    assert_eq!(explained["code"], "plan-stale");
}

#[test]
fn a_cancel_for_no_pending_request_is_ignored_and_one_with_an_id_is_answered_null() {
    let dir = project();
    let d = dir.path();
    let mut server = Server::start(d);
    server.send(&cancel(json!(99)));
    server.send(&cancel(json!("gone")));
    server.assert_silent(Duration::from_millis(200));
    let explained = server.result(1, "explain", json!({"code": "plan-stale"}));
    assert_eq!(explained["code"], "plan-stale");
    // A stale cancel of an answered id does not touch a later request reusing it.
    server.send(&cancel(json!(1)));
    assert_eq!(
        server.result(1, "status", json!({"project": d}))["healthy"],
        true
    );
    let answered = server.call(2, "$/cancelRequest", json!({"id": 42}));
    assert_eq!(answered["result"], Value::Null, "{answered}");
    assert!(answered.get("error").is_none(), "{answered}");
    let refused = server.call(3, "$/cancelRequest", json!({"id": 1, "x": 2}));
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    let (status, stderr) = server.close();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn a_plan_reports_each_registry_fetch_by_its_url() {
    let dir = tempdir();
    let d = dir.path();
    let manifest = "[bundle]\nname = \"kit\"\nversion = \"1.0.0\"\ndescription = \"A test bundle\"\n\n\
                    [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
                    [skills.kit]\npath = \"skills/kit\"\n";
    let skill = "---\nname: kit\ndescription: Does kit things\n---\n\n# kit\n";
    write_files(
        &d.join("src"),
        &[("bundle.toml", manifest), ("skills/kit/SKILL.md", skill)],
    );
    let published = crate::support::capm(d, &["publish", "src", "--registry", "reg"]);
    assert_eq!(published.code, 0, "{}", published.transcript());
    let registry = TestServer::serve_dir(&d.join("reg"));
    let p = kit_project(d, &registry);
    let mut server = Server::start(&p);
    let params = json!({"project": p, "operation": "install", "progress_token": "f"});
    server.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "plan", "params": params}));
    let (notes, response) = progress_then_response(&mut server, 1);
    assert_eq!(response["result"]["status"], "ready", "{response}");
    let fetches: Vec<&Value> = notes.iter().filter(|n| n["stage"] == "fetch").collect();
    assert!(!fetches.is_empty(), "{notes:?}");
    for (i, f) in fetches.iter().enumerate() {
        assert_eq!(f["done"], i as u64 + 1, "{f}");
        assert!(f.get("total").is_none(), "{f}");
        let url = f["message"].as_str().unwrap();
        assert!(url.starts_with(&registry.url()), "{f}");
    }
    assert_eq!(fetches.len(), registry.requests().len());
}
