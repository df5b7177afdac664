//! `capm probe`: MCP servers started as OpenCode would launch them, against tiny servers
//! written for these tests (`tests/cli/probe/*.py`, Python 3 standard library, bound to
//! 127.0.0.1 only): the handshake and paged `tools/list` over stdio and streamable HTTP,
//! and the failures — a server that exits, one that hangs, one that speaks no JSON-RPC.

use std::path::Path;
use std::time::Duration;

use crate::json_outputs::Schemas;
use crate::support::{Run, capm, capm_with, command, probe_project, stdio, tempdir, tree};

#[test]
fn probe_starts_a_stdio_server_as_opencode_would_and_lists_every_page_of_tools() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, &stdio("ok"));
    let run = capm_with(d, &["probe", "t"], &[("PROBE_TOKEN", "tok-secret-1")]);
    expect(
        &run,
        0,
        "ok      t/srv (stdio): protocol 2025-03-26, 3 tools, probe-test 0.1.0 in ",
    );
    assert!(!run.stdout.contains("tok-secret-1"));
    assert!(run.stderr.contains("Probing t/srv"), "{}", run.stderr);
    assert!(
        run.stderr.contains("1 of 1 servers answered"),
        "{}",
        run.stderr
    );
    // The argv, the environment reference resolved, and the project as working directory.
    let seen = seen(d);
    assert_eq!(seen["argv"], serde_json::json!(["ok"]));
    assert_eq!(seen["token"], "tok-secret-1");
    assert_eq!(
        Path::new(seen["cwd"].as_str().unwrap())
            .canonicalize()
            .unwrap(),
        d.canonicalize().unwrap()
    );
}

#[test]
fn probe_without_names_starts_the_servers_the_project_resolves_to() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, &stdio("ok"));
    let sub = d.join("t");
    let run = capm_with(
        &sub,
        &["probe", "--format", "json"],
        &[("PROBE_TOKEN", "x")],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    let doc = run.json();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["servers"][0]["bundle"], "t");
    assert_eq!(doc["servers"][0]["tools"], 3);
    // Started in the project root, not in the directory capm ran from.
    assert!(d.join("seen.json").exists());
    assert!(!sub.join("seen.json").exists());
}

#[test]
fn probe_json_matches_its_schema() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, &stdio("crash"));
    let doc = Schemas::default().check(d, &["probe", "--format", "json"], 1, "probe.schema.json");
    let s = &doc["servers"][0];
    assert_eq!(doc["ok"], false);
    assert_eq!(s["ok"], false);
    assert_eq!(s["transport"], "stdio");
    assert!(s.get("tools").is_none(), "{doc:#}");
}

#[test]
fn a_server_that_exits_shows_its_stderr_with_secrets_redacted() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, &stdio("crash"));
    let before = tree(d);
    let run = capm_with(d, &["probe", "t"], &[("PROBE_TOKEN", "tok-secret-2")]);
    expect(
        &run,
        1,
        "failed  t/srv (stdio): it exited (exit status: 3) before answering `initialize` (",
    );
    assert!(
        run.stdout.contains("    stderr | starting\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("    stderr | fatal: cannot log in with token ***\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("tok-secret-2") && !run.stderr.contains("tok-secret-2"));
    assert!(
        run.stderr.contains("0 of 1 servers answered"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(d), before, "probe writes nothing itself");
}

#[test]
fn a_server_that_hangs_is_stopped_with_its_whole_process_group_at_the_timeout() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, &stdio("hang"));
    let started = std::time::Instant::now();
    let run = capm(d, &["probe", "t", "--timeout", "2"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        run.stdout
            .contains("failed  t/srv (stdio): no answer to `initialize` before the timeout"),
        "{}",
        run.stdout
    );
    // The helper the server started went with it.
    let pid = std::fs::read_to_string(d.join("helper.pid")).unwrap();
    assert!(gone(pid.trim()), "process {pid} outlived the probe");
}

/// What the stdio test server recorded of its launch.
fn seen(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("seen.json")).unwrap()).unwrap()
}

/// `run` ended with `code` and its report holds `line`.
fn expect(run: &Run, code: i32, line: &str) {
    assert_eq!(run.code, code, "{}", run.transcript());
    assert!(run.stdout.contains(line), "{}", run.transcript());
}

#[test]
fn an_interrupted_probe_takes_the_server_down_with_it() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, &stdio("hang"));
    let mut child = command(d, &["probe", "t", "--timeout", "60"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = (0..200)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(50));
            std::fs::read_to_string(d.join("helper.pid"))
                .ok()
                .filter(|p| !p.is_empty())
        })
        .expect("the server started its helper");
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(gone(pid.trim()), "process {pid} outlived the probe");
}

/// Whether process `pid` has ended (reaped, or a zombie waiting to be).
fn gone(pid: &str) -> bool {
    let stat = Path::new("/proc").join(pid).join("stat");
    (0..100).any(|_| {
        let alive = std::fs::read_to_string(&stat).is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        });
        if alive {
            std::thread::sleep(Duration::from_millis(50));
        }
        !alive
    })
}

#[test]
fn a_server_that_writes_no_json_rpc_is_named_as_such() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, &stdio("garbage"));
    let run = capm(d, &["probe", "t", "--timeout", "20"]);
    expect(
        &run,
        1,
        "failed  t/srv (stdio): it wrote something that is not JSON-RPC on stdout: `Server listening, press Ctrl-C to stop`",
    );
}

#[test]
fn a_server_that_refuses_initialize_shows_its_error() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, &stdio("refuse"));
    let run = capm(d, &["probe", "t"]);
    expect(
        &run,
        1,
        "failed  t/srv (stdio): it answered `initialize` with error -32602: unsupported protocol",
    );
}

#[test]
fn a_tool_without_an_input_schema_fails_as_it_does_in_opencode() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, &stdio("bad-tool"));
    let run = capm(d, &["probe", "t"]);
    expect(
        &run,
        1,
        "failed  t/srv (stdio): `tools/list` lists tool `two` without an `inputSchema` object",
    );
}

#[test]
fn a_program_that_does_not_exist_is_reported_without_starting_anything() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, "command = \"capm-no-such-program\"\nargs = [\"x\"]\n");
    let run = capm(d, &["probe"]);
    expect(
        &run,
        1,
        "failed  t/srv (stdio): cannot start `capm-no-such-program`: No such file or directory (os error 2) (is it installed and on PATH?)",
    );
}

#[test]
fn a_required_variable_that_is_unset_keeps_the_server_from_starting() {
    let dir = tempdir();
    let d = dir.path();
    let server = stdio("ok").replace("required = false", "required = true");
    probe_project(d, &server);
    let run = capm(d, &["probe", "t"]);
    expect(
        &run,
        1,
        "failed  t/srv (stdio): not started: it needs `PROBE_TOKEN`, not set in the environment",
    );
    assert!(!d.join("seen.json").exists(), "the server was started");
}

#[test]
fn an_optional_variable_that_is_unset_is_passed_empty_as_opencode_does() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, &stdio("ok"));
    let run = capm(d, &["probe", "t"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let seen = seen(d);
    assert_eq!(seen["token"], "");
}

#[test]
fn probe_speaks_streamable_http_with_a_session_and_secret_headers() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, "command = \"unused\"\n");
    let mut server = std::process::Command::new("python3")
        .args(["http_server.py", "port.txt"])
        .current_dir(d)
        .spawn()
        .unwrap();
    let port = wait_for(&d.join("port.txt"));
    let remote = format!(
        "url = \"http://127.0.0.1:{port}/mcp\"\ntransport = \"streamable-http\"\nheaders.Authorization = {{ template = \"Bearer {{env:PROBE_HTTP_TOKEN}}\", secret = true }}\n"
    );
    probe_project(d, &remote);
    let ok = capm_with(d, &["probe", "t"], &[("PROBE_HTTP_TOKEN", "tok-123")]);
    let refused = capm_with(d, &["probe", "t"], &[("PROBE_HTTP_TOKEN", "wrong")]);
    server.kill().unwrap();
    server.wait().unwrap();
    expect(
        &ok,
        0,
        "ok      t/srv (http): protocol 2025-06-18, 4 tools, probe-http 2.0.0 in ",
    );
    expect(
        &refused,
        1,
        "failed  t/srv (http): it answered `initialize` with HTTP 401 Unauthorized",
    );
}

/// The port the HTTP test server wrote, once it has.
fn wait_for(file: &Path) -> String {
    for _ in 0..200 {
        if let Ok(p) = std::fs::read_to_string(file).map(|p| p.trim().to_string())
            && !p.is_empty()
        {
            return p;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the HTTP test server did not start");
}

#[test]
fn an_unknown_bundle_is_refused_and_a_bad_timeout_is_a_usage_error() {
    let dir = tempdir();
    let d = dir.path();
    probe_project(d, &stdio("ok"));
    let run = capm(d, &["probe", "no-such-bundle"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("error[bundle-not-found]"),
        "{}",
        run.stderr
    );
    let run = capm(d, &["probe", "t", "--timeout", "0"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("--timeout must be at least 1 second"),
        "{}",
        run.stderr
    );
    assert!(!d.join("seen.json").exists());
}

#[test]
fn probe_outside_a_project_without_names_says_so() {
    let dir = tempdir();
    let run = command(dir.path(), &["probe"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(stderr.contains("error: no capm.toml in `"), "{stderr}");
}
