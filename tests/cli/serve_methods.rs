//! `capm serve`'s `doctor`, `list`, `outdated`, `info` and `search`: each answers with the
//! very document the command prints with `--format json` for the same project and
//! arguments, and refuses what the command refuses, with the same code and exit.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::graph::{bundle, publish};
use crate::json_outputs::Schemas;
use crate::support::{capm, capm_ok, project, serve_once, tempdir, tree};

/// `kit` VERSION, with one remote MCP server, published to the project's `registry`.
fn publish_kit(d: &Path, version: &str) {
    let server = "\n[mcp.kit-server]\nurl = \"https://kit.example.com/mcp\"\n";
    let run = publish(d, &bundle(d, "kit", version, &[], server));
    assert_eq!(run.code, 0, "{}", run.transcript());
}

/// A project with the catalog's `time` and `kit` 1.0.0 from its directory registry
/// installed by the CLI; the registry then gains kit 1.1.0 and 2.0.0.
fn installed() -> tempfile::TempDir {
    let dir = project();
    let d = dir.path();
    publish_kit(d, "1.0.0");
    let mut manifest = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    manifest.push_str("\n[registries]\nteam = { path = \"registry\" }\n");
    std::fs::write(d.join("capm.toml"), manifest).unwrap();
    capm_ok(d, &["add", "time", "-y"]);
    capm_ok(d, &["add", "kit@^1.0", "--registry", "team", "-y"]);
    publish_kit(d, "1.1.0");
    publish_kit(d, "2.0.0");
    dir
}

/// Sends `requests` (method and params) to one `capm serve` in `dir`, ids 1, 2, …: each
/// answer by id, after checking that every request got exactly one.
fn serve(dir: &Path, requests: &[(&str, Value)]) -> BTreeMap<u64, Value> {
    let lines: Vec<Value> = requests
        .iter()
        .zip(1..)
        .map(|((method, params), id)| {
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        })
        .collect();
    let out = serve_once(dir, &lines);
    assert!(out.status.success(), "{out:?}");
    let answers: BTreeMap<u64, Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["id"].as_u64().unwrap(), v)
        })
        .collect();
    assert_eq!(answers.len(), requests.len(), "{answers:#?}");
    answers
}

/// Each method's `result` is, as a JSON value, what its command prints with
/// `--format json` for the same project (run there, or given with `--project`) and arguments.
#[test]
fn each_method_answers_what_its_command_prints() {
    let dir = installed();
    let d = dir.path();
    let outside = tempdir();
    let o = outside.path();
    let p = d.to_str().unwrap();
    let mut schemas = Schemas::default();
    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "doctor",
            json!({"project": d}),
            schemas.check(d, &["doctor", "--format", "json"], 0, "doctor.schema.json"),
        ),
        (
            "list",
            json!({"project": d}),
            schemas.check(d, &["list", "--format", "json"], 0, "list.schema.json"),
        ),
        (
            "outdated",
            json!({"project": d}),
            schemas.check(
                d,
                &["outdated", "--format", "json"],
                0,
                "outdated.schema.json",
            ),
        ),
        (
            "info",
            json!({"bundle": "kit@^1", "project": d}),
            schemas.check(
                o,
                &["info", "kit@^1", "--project", p, "--format", "json"],
                0,
                "info.schema.json",
            ),
        ),
        (
            "info",
            json!({"bundle": "time"}),
            schemas.check(
                o,
                &["info", "time", "--format", "json"],
                0,
                "info.schema.json",
            ),
        ),
        (
            "search",
            json!({"query": "", "project": d}),
            schemas.check(d, &["search", "--format", "json"], 0, "search.schema.json"),
        ),
        (
            "search",
            json!({"query": "time zones"}),
            schemas.check(
                o,
                &["search", "time", "zones", "--format", "json"],
                0,
                "search.schema.json",
            ),
        ),
    ];
    let requests: Vec<(&str, Value)> = cases.iter().map(|(m, p, _)| (*m, p.clone())).collect();
    let answers = serve(o, &requests);
    for ((method, params, cli), id) in cases.iter().zip(1..) {
        let answer = &answers[&id];
        assert_eq!(&answer["result"], cli, "{method} {params}: {answer}");
    }
    // What the documents hold is the project's: kit from its registry, installed and
    // outdated, and listed by search.
    let outdated = &cases[2].2["bundles"];
    let kit = outdated
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "kit");
    let kit = kit.expect("kit is in outdated");
    assert_eq!(
        (&kit["current"], &kit["wanted"], &kit["latest"]),
        (&json!("1.0.0"), &json!("1.1.0"), &json!("2.0.0"))
    );
    assert_eq!(cases[3].2["installed"], "1.0.0", "{}", cases[3].2);
    let found = cases[5].2["results"].as_array().unwrap();
    assert!(found.iter().any(|h| h["name"] == "kit"), "{found:?}");
}

/// Without `project`, `info` and `search` see the catalog alone, as the commands do
/// outside a project: a registry bundle is unknown, refused with the CLI's code, exit,
/// message and hint.
#[test]
fn an_unknown_bundle_is_refused_as_the_command_refuses_it() {
    let dir = installed();
    let d = dir.path();
    let outside = tempdir();
    let o = outside.path();
    let answers = serve(
        d,
        &[
            ("info", json!({"bundle": "kit"})),
            ("info", json!({"bundle": "no-such-bundle", "project": d})),
            ("search", json!({"query": "kit"})),
        ],
    );
    for (id, args) in [(1, ["info", "kit"]), (2, ["info", "no-such-bundle"])] {
        let cli = capm(o, &[&args[..], &["--format", "json"]].concat());
        assert_eq!(cli.code, 1, "{}", cli.transcript());
        let cli = cli.json();
        let error = &answers[&id]["error"];
        assert_eq!(error["code"], -32000, "{error}");
        assert_eq!(error["message"], cli["message"]);
        assert_eq!(error["data"]["code"], "bundle-not-found");
        for field in ["code", "exit", "help"] {
            assert_eq!(error["data"][field], cli[field], "{field}: {error}");
        }
    }
    let results = &answers[&3]["result"]["results"];
    let names: Vec<&Value> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &h["name"])
        .collect();
    assert!(!names.contains(&&json!("kit")), "{names:?}");
}

/// A project directory that does not exist is bad params, exactly as for `status`; an
/// unknown field and a missing one are bad params too. Nothing is written.
#[test]
fn a_missing_project_and_unknown_fields_are_bad_params() {
    let dir = installed();
    let d = dir.path();
    let before = tree(d);
    let gone = d.join("gone");
    let mut requests = vec![("status", json!({"project": gone}))];
    for method in ["doctor", "list", "outdated"] {
        requests.push((method, json!({"project": gone})));
    }
    requests.push(("info", json!({"bundle": "time", "project": gone})));
    requests.push(("search", json!({"query": "time", "project": gone})));
    let bad: Vec<(&str, Value)> = vec![
        ("doctor", json!({"project": d, "recover": true})),
        ("list", json!({"project": d, "format": "json"})),
        ("outdated", json!({"project": d, "latest": true})),
        ("info", json!({"bundle": "time", "version": "1"})),
        ("search", json!({"query": "time", "limit": 5})),
        ("info", json!({"project": d})),
        ("search", json!({})),
        ("list", json!({})),
    ];
    requests.extend(bad.iter().cloned());
    let answers = serve(d, &requests);
    let status = &answers[&1]["error"];
    assert_eq!(status["code"], -32602, "{status}");
    assert_eq!(status["data"]["code"], "path-not-found", "{status}");
    for id in 2..=6 {
        assert_eq!(
            &answers[&id]["error"],
            status,
            "{:?}",
            requests[id as usize - 1]
        );
    }
    for (id, (method, params)) in (7..).zip(&bad) {
        let error = &answers[&id]["error"];
        assert_eq!(error["code"], -32602, "{method} {params}: {error}");
        let message = error["message"].as_str().unwrap();
        let field = if id < 12 {
            "unknown field"
        } else {
            "missing field"
        };
        assert!(message.contains(field), "{method} {params}: {message}");
    }
    assert_eq!(tree(d), before, "a refused request wrote");
}

/// An update killed after its second swap: `status` only reports the transaction waiting
/// for recovery and writes nothing; `doctor` rolls it back as `capm doctor` does, leaving
/// the same files, and answers with the same document.
#[cfg(feature = "failpoints")]
#[test]
fn doctor_recovers_what_status_only_reports() {
    use crate::read_only::{PENDING, interrupted};
    let (served, cli) = (interrupted(), interrupted());
    let (s, c) = (served.path(), cli.path());
    let before = tree(s);
    let status = serve(s, &[("status", json!({"project": s}))]);
    let problems = status[&1]["result"]["problems"].to_string();
    assert!(problems.contains(PENDING), "{problems}");
    assert_eq!(tree(s), before, "status wrote");
    let answers = serve(
        s,
        &[
            ("doctor", json!({"project": s})),
            ("status", json!({"project": s})),
        ],
    );
    let mut doctor = answers[&1]["result"].clone();
    let mut expected =
        Schemas::default().check(c, &["doctor", "--format", "json"], 0, "doctor.schema.json");
    // The transaction ids differ between the two projects; one was rolled back in each.
    for doc in [&mut doctor, &mut expected] {
        let rolled_back = doc["recovery"]["rolled_back"].as_array().unwrap().len();
        assert_eq!(rolled_back, 1, "{doc}");
        doc["recovery"]["rolled_back"] = json!(rolled_back);
    }
    assert_eq!(doctor, expected);
    assert_eq!(
        tree(s),
        tree(c),
        "the server's doctor and capm doctor left different files"
    );
    assert_eq!(answers[&2]["result"]["healthy"], true, "{}", answers[&2]);
    assert_eq!(answers[&2]["result"]["problems"], json!([]));
}
