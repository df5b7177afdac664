//! Tests of the HTTP client against the fault-injecting test server of
//! tests/common/http_server.rs: conditional requests, retries, timeouts, truncated and
//! tampered bodies, refused URLs, certificate files, proxies and parallel fetches.

use std::time::{Duration, Instant};

use super::*;

#[path = "../../tests/common/http_server.rs"]
mod server;

use server::{Fault, TestServer};

struct Fixture {
    _dir: tempfile::TempDir,
    server: TestServer,
}

/// A server over a directory holding `a.txt` ("alpha") and `f0`…`f7` ("file N").
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "alpha").unwrap();
    for i in 0..8 {
        std::fs::write(dir.path().join(format!("f{i}")), format!("file {i}")).unwrap();
    }
    let server = TestServer::serve_dir(dir.path());
    Fixture { _dir: dir, server }
}

fn client(timeout_ms: u64, retries: u32) -> HttpClient {
    let settings = HttpSettings {
        timeout: Duration::from_millis(timeout_ms),
        retries,
        ca_file: None,
    };
    HttpClient::with_proxies(&settings, ProxyEnv::default()).unwrap()
}

fn fresh(got: Got) -> (Vec<u8>, Validators) {
    match got {
        Got::Fresh { body, validators } => (body, validators),
        other => panic!("expected a body, got {other:?}"),
    }
}

#[test]
fn a_conditional_get_is_answered_304_and_a_changed_file_200() {
    let f = fixture();
    let url = format!("{}/a.txt", f.server.url());
    let http = client(2000, 0);
    let (body, v) = fresh(http.get(&url, None).unwrap());
    assert_eq!(body, b"alpha");
    assert!(v.etag.is_some() && v.last_modified.is_some(), "{v:?}");
    assert_eq!(http.get(&url, Some(&v)).unwrap(), Got::NotModified);
    f.server.fault("/a.txt", Fault::Replace(b"beta".to_vec()));
    let (body, v2) = fresh(http.get(&url, Some(&v)).unwrap());
    assert_eq!((body.as_slice(), v2.etag != v.etag), (&b"beta"[..], true));
    let statuses: Vec<u16> = f.server.requests().iter().map(|r| r.2).collect();
    assert_eq!(statuses, [200, 304, 200]);
}

#[test]
fn server_errors_are_retried_until_one_succeeds() {
    let f = fixture();
    f.server.fault("/a.txt", Fault::FailTimes(2, 503));
    let start = Instant::now();
    let (body, _) = fresh(
        client(2000, 2)
            .get(&format!("{}/a.txt", f.server.url()), None)
            .unwrap(),
    );
    assert_eq!(body, b"alpha");
    assert_eq!(f.server.count("/a.txt"), 3);
    // Backoff: 100 ms, then 400 ms.
    assert!(
        start.elapsed() >= Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn retries_run_out_with_the_last_status() {
    let f = fixture();
    f.server.fault("/a.txt", Fault::Status(500));
    let err = client(2000, 2)
        .get(&format!("{}/a.txt", f.server.url()), None)
        .unwrap_err();
    assert!(
        matches!(err, RemoteError::Http { status: 500, .. }),
        "{err}"
    );
    assert_eq!(f.server.count("/a.txt"), 3);
    assert_eq!(err.code(), "http-error");
}

#[test]
fn client_errors_are_not_retried_and_404_is_missing() {
    let f = fixture();
    let http = client(2000, 3);
    let missing = http.get(&format!("{}/nope", f.server.url()), None).unwrap();
    assert_eq!(missing, Got::Missing);
    f.server
        .fault("/a.txt", Fault::RequireBasic("u".into(), "p".into()));
    let err = http
        .get(&format!("{}/a.txt", f.server.url()), None)
        .unwrap_err();
    assert!(
        matches!(err, RemoteError::Http { status: 401, .. }),
        "{err}"
    );
    assert_eq!((f.server.count("/nope"), f.server.count("/a.txt")), (1, 1));
}

/// GETs `/a.txt` under `fault` with a timeout of `ms`, which must fail as a timeout
/// well before the server would have answered.
fn times_out(fault: Fault, ms: u64) -> RemoteError {
    let f = fixture();
    f.server.fault("/a.txt", fault);
    let start = Instant::now();
    let err = client(ms, 0)
        .get(&format!("{}/a.txt", f.server.url()), None)
        .unwrap_err();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    err
}

#[test]
fn a_silent_server_times_out_within_the_configured_time() {
    let err = times_out(Fault::Delay(Duration::from_secs(5)), 400);
    assert!(err.to_string().contains("/a.txt"), "{err}");
}

#[test]
fn a_body_that_stalls_times_out() {
    times_out(Fault::StallAfter(2, Duration::from_secs(3)), 300);
}

#[test]
fn a_body_shorter_than_its_length_is_truncated() {
    let f = fixture();
    f.server.fault("/a.txt", Fault::Truncate(2));
    let err = client(2000, 0)
        .get(&format!("{}/a.txt", f.server.url()), None)
        .unwrap_err();
    assert!(
        matches!(
            err,
            RemoteError::Truncated {
                expected: 5,
                got: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_body_over_the_limit_is_refused() {
    let f = fixture();
    let err = client(2000, 0)
        .with_limit(3)
        .get(&format!("{}/a.txt", f.server.url()), None)
        .unwrap_err();
    assert!(
        matches!(err, RemoteError::TooLarge { limit: 3, .. }),
        "{err}"
    );
    assert!(err.is_refusal());
}

#[test]
fn get_verified_checks_the_digest_and_names_the_url() {
    let f = fixture();
    let url = format!("{}/a.txt", f.server.url());
    let http = client(2000, 0);
    let good = crate::remote::cache::sha256(b"alpha");
    assert_eq!(http.get_verified(&url, &good).unwrap(), b"alpha");
    f.server
        .fault("/a.txt", Fault::Replace(b"tampered".to_vec()));
    let err = http.get_verified(&url, &good).unwrap_err();
    assert!(matches!(err, RemoteError::Digest { .. }), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
    let err = http
        .get_verified(&format!("{}/nope", f.server.url()), &good)
        .unwrap_err();
    assert!(
        matches!(err, RemoteError::Http { status: 404, .. }),
        "{err}"
    );
}

#[test]
fn plain_http_is_refused_off_this_machine_without_a_connection() {
    let f = fixture();
    // Even through a proxy (the test server), nothing is sent.
    let proxies = ProxyEnv {
        http: Some(f.server.url()),
        ..ProxyEnv::default()
    };
    let http = HttpClient::with_proxies(&HttpSettings::default(), proxies).unwrap();
    for url in [
        "http://example.com/index",
        "ftp://example.com/x",
        "not a url",
    ] {
        let err = http.get(url, None).unwrap_err();
        assert!(
            matches!(err, RemoteError::UrlRefused { .. }),
            "{url}: {err}"
        );
    }
    assert!(f.server.requests().is_empty());
    assert!(http.get(&format!("{}/a.txt", f.server.url()), None).is_ok());
    let localhost = f.server.url().replace("127.0.0.1", "localhost");
    assert!(http.get(&format!("{localhost}/a.txt"), None).is_ok());
}

#[test]
fn an_unusable_cert_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    for path in [dir.path().join("missing.pem"), garbage] {
        let settings = HttpSettings {
            ca_file: Some(path.clone()),
            ..HttpSettings::default()
        };
        let err = HttpClient::with_proxies(&settings, ProxyEnv::default())
            .err()
            .expect("refused");
        assert!(matches!(err, RemoteError::CaFile { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("SSL_CERT_FILE") && text.contains(&*path.to_string_lossy()));
    }
}

#[test]
fn get_many_runs_in_parallel_and_keeps_the_order() {
    let f = fixture();
    let urls: Vec<(String, Option<Validators>)> = (0..8)
        .map(|i| {
            f.server
                .fault(&format!("/f{i}"), Fault::Delay(Duration::from_millis(300)));
            (format!("{}/f{i}", f.server.url()), None)
        })
        .collect();
    let mut urls = urls;
    urls.push((format!("{}/nope", f.server.url()), None));
    let start = Instant::now();
    let got = client(5000, 0).get_many(&urls);
    assert!(
        start.elapsed() < Duration::from_millis(1200),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(got.len(), 9);
    for (i, g) in got.into_iter().enumerate() {
        match i {
            8 => assert_eq!(g.unwrap(), Got::Missing),
            _ => assert_eq!(fresh(g.unwrap()).0, format!("file {i}").into_bytes()),
        }
    }
}

#[test]
fn proxies_follow_the_scheme_and_no_proxy() {
    let vars = |k: &str| {
        match k {
            "HTTPS_PROXY" => Some("http://proxy.corp:3128"),
            "ALL_PROXY" => Some("http://all.corp:1080"),
            "NO_PROXY" => Some(" internal.corp, .example.org ,*.svc"),
            _ => None,
        }
        .map(str::to_string)
    };
    let p = ProxyEnv::from_vars(vars);
    let url = |u: &str| url::Url::parse(u).unwrap();
    assert_eq!(
        p.for_url(&url("https://reg.io/x")),
        Some("http://proxy.corp:3128")
    );
    assert_eq!(p.for_url(&url("http://127.0.0.1:8/x")), None);
    assert_eq!(p.for_url(&url("https://[::1]:8/x")), None);
    assert_eq!(p.for_url(&url("https://internal.corp/x")), None);
    assert_eq!(p.for_url(&url("https://a.internal.corp/x")), None);
    assert_eq!(
        p.for_url(&url("https://notinternal.corp/x")),
        Some("http://proxy.corp:3128")
    );
    assert_eq!(p.for_url(&url("https://example.org/x")), None);
    assert_eq!(p.for_url(&url("https://api.svc/x")), None);
    let everything = ProxyEnv::from_vars(|k| (k == "no_proxy").then(|| "*".to_string()));
    assert_eq!(everything.for_url(&url("https://reg.io/x")), None);
    let all = ProxyEnv::from_vars(|k| (k == "ALL_PROXY").then(|| "http://all:1".to_string()));
    assert_eq!(all.for_url(&url("http://reg.io/x")), Some("http://all:1"));
}

#[test]
fn connections_are_kept_alive_and_last_modified_revalidates() {
    let f = fixture();
    let url = format!("{}/a.txt", f.server.url());
    let http = client(2000, 0);
    let (_, v) = fresh(http.get(&url, None).unwrap());
    let by_date = Validators {
        etag: None,
        last_modified: v.last_modified.clone(),
    };
    assert_eq!(http.get(&url, Some(&by_date)).unwrap(), Got::NotModified);
    let stale = Validators {
        etag: None,
        last_modified: Some("Thu, 01 Jan 1970 00:00:00 GMT".into()),
    };
    fresh(http.get(&url, Some(&stale)).unwrap());
    assert_eq!(f.server.connections(), 1, "{:?}", f.server.requests());
}

#[test]
fn the_test_server_answers_head_without_a_body() {
    use std::io::{Read, Write};
    let f = fixture();
    let addr = f.server.url().replace("http://", "");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"HEAD /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("Content-Length: 5\r\n") && answer.ends_with("\r\n\r\n"));
    assert_eq!(f.server.requests(), [("HEAD".into(), "/a.txt".into(), 200)]);
}

#[test]
fn the_test_server_checks_basic_credentials() {
    use std::io::{Read, Write};
    let f = fixture();
    f.server
        .fault("/a.txt", Fault::RequireBasic("u".into(), "p".into()));
    let ask = |auth: &str| {
        let addr = f.server.url().replace("http://", "");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let head = format!("GET /a.txt HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n");
        s.write_all(head.as_bytes()).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    };
    // base64("u:p") = "dTpw"
    assert!(ask("Authorization: Basic dTpw\r\n").ends_with("\r\n\r\nalpha"));
    assert!(ask("Authorization: Basic dTpx\r\n").starts_with("HTTP/1.1 401"));
    assert!(ask("").contains("WWW-Authenticate: Basic"));
}
