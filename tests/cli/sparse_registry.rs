//! The static registry layout end to end: `capm publish` writes it (config.json, index
//! lines, archives, search.jsonl), a version never changes, `capm yank` flags versions, and
//! `remote::sparse::SparseRegistry` reads the tree back from the directory and over HTTP
//! from a small server on 127.0.0.1, through the cache and offline.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use capm::remote::sparse::{self, SparseRegistry};
use capm::remote::{Fetch, Net, Release, RemoteError};

use crate::graph::bundle;
use crate::json_outputs::Schemas;
use crate::support::{capm, tempdir, tree, write_files};

fn publish(d: &Path, rel: &str) -> crate::support::Run {
    capm(d, &["publish", rel, "--registry", "reg"])
}

/// A registry `reg` with kit 1.0.0 and 1.1.0 (both needing base ^1) and base 1.0.0;
/// returns the content digests publish reported, by `name version`.
fn published(d: &Path) -> Vec<(String, String)> {
    let mut digests = Vec::new();
    for (name, version, deps) in [
        ("base", "1.0.0", &[][..]),
        ("kit", "1.0.0", &[("base", "^1")][..]),
        ("kit", "1.1.0", &[("base", "^1")][..]),
    ] {
        let rel = bundle(d, name, version, deps, "");
        let run = capm(
            d,
            &["publish", &rel, "--registry", "reg", "--format", "json"],
        );
        assert_eq!(run.code, 0, "{}", run.transcript());
        let doc = run.json();
        assert_eq!(doc["outcome"], "published");
        let digest = doc["digest"].as_str().unwrap().to_string();
        digests.push((format!("{name} {version}"), digest));
    }
    digests
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn publishing_writes_the_static_layout() {
    let dir = tempdir();
    let d = dir.path();
    let digests = published(d);
    let reg = d.join("reg");
    assert_eq!(
        std::fs::read_to_string(reg.join("config.json")).unwrap(),
        "{\"capm-registry\":1,\"dl\":\"archives/{name}/{name}-{version}.tar.gz\"}\n"
    );
    let kit = lines(&reg.join("index/3/k/kit"));
    assert_eq!(kit.len(), 2);
    // Every field of the documented line (their order is checked in remote::sparse).
    assert_eq!(kit[0].as_object().unwrap().len(), 10, "{}", kit[0]);
    assert_eq!((&kit[0]["v"], &kit[0]["name"]), (&1.into(), &"kit".into()));
    assert_eq!(kit[0]["vers"], "1.0.0");
    assert_eq!(kit[1]["vers"], "1.1.0");
    assert_eq!(kit[0]["sha256"], digests[1].1.as_str());
    assert_eq!(kit[0]["format"], "tar.gz");
    assert_eq!(kit[0]["yanked"], false);
    assert_eq!(kit[0]["description"], "The kit test bundle");
    assert_eq!(
        kit[0]["deps"],
        serde_json::json!([{"name": "base", "req": "^1", "optional": false}])
    );
    for (line, version) in kit.iter().zip(["1.0.0", "1.1.0"]) {
        let archive =
            std::fs::read(reg.join(format!("archives/kit/kit-{version}.tar.gz"))).unwrap();
        assert_eq!(
            line["archive"],
            capm::remote::cache::sha256(&archive).as_str()
        );
    }
    assert_eq!(lines(&reg.join("index/ba/se/base"))[0]["vers"], "1.0.0");
    let search: Vec<(String, String)> = lines(&reg.join("search.jsonl"))
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().into(),
                l["vers"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        search,
        [
            ("base".into(), "1.0.0".into()),
            ("kit".into(), "1.1.0".into())
        ]
    );
}

#[test]
fn a_published_version_never_changes() {
    let dir = tempdir();
    let d = dir.path();
    published(d);
    let before = tree(&d.join("reg"));
    let again = publish(d, "src/kit-1.0.0");
    assert_eq!(again.code, 0, "{}", again.transcript());
    assert!(
        again
            .stderr
            .contains("kit 1.0.0 is already published with the same content"),
        "{}",
        again.stderr
    );
    assert_eq!(tree(&d.join("reg")), before, "a republish wrote something");
    write_files(&d.join("src/kit-1.0.0"), &[("notes.md", "changed\n")]);
    let changed = publish(d, "src/kit-1.0.0");
    assert_eq!(changed.code, 1, "{}", changed.transcript());
    assert!(
        changed.stderr.starts_with(
            "error[publish-refused]: kit 1.0.0 is already published with different content"
        ),
        "{}",
        changed.stderr
    );
    assert_eq!(
        tree(&d.join("reg")),
        before,
        "a refused publish wrote something"
    );
}

#[test]
fn a_directory_that_is_no_registry_is_refused_and_an_old_one_keeps_its_layout() {
    let dir = tempdir();
    let d = dir.path();
    let rel = bundle(d, "kit", "1.0.0", &[], "");
    write_files(&d.join("reg"), &[("notes.txt", "mine\n")]);
    let run = publish(d, &rel);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .starts_with("error[invalid-registry]: `reg` is not a capm registry"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(&d.join("reg")).len(), 1, "nothing was written");

    write_files(&d.join("old"), &[("index.toml", "version = 1\n")]);
    let run = capm(d, &["publish", &rel, "--registry", "old"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(!d.join("old/config.json").exists());
    assert!(d.join("old/kit/1.0.0/bundle.toml").is_file());

    // A hidden file (a git checkout to host the registry from) still counts as empty.
    write_files(&d.join("pages"), &[(".gitignore", "")]);
    let run = capm(d, &["publish", &rel, "--registry", "pages"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(d.join("pages/config.json").is_file());
}

#[test]
fn yank_flags_a_version_and_undo_clears_it() {
    let mut s = Schemas::default();
    let dir = tempdir();
    let d = dir.path();
    published(d);
    let reg = d.join("reg");
    let yank = |args: &[&str]| {
        let mut all = vec!["yank"];
        all.extend_from_slice(args);
        all.extend(["--registry", "reg"]);
        capm(d, &all)
    };
    let run = yank(&["kit@1.1.0"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, ""),
        "{}",
        run.transcript()
    );
    assert_eq!(run.stderr.trim(), "Yanked kit 1.1.0");
    let kit = lines(&reg.join("index/3/k/kit"));
    assert_eq!(
        (&kit[0]["yanked"], &kit[1]["yanked"]),
        (&false.into(), &true.into())
    );
    let search = lines(&reg.join("search.jsonl"));
    assert_eq!(
        search[1]["vers"], "1.0.0",
        "search shows the newest version not yanked"
    );

    let before = tree(&reg);
    let again = yank(&["kit@1.1.0"]);
    assert_eq!(again.code, 0);
    assert_eq!(again.stderr.trim(), "Unchanged kit 1.1.0 is already yanked");
    assert_eq!(tree(&reg), before);

    let args = [
        "yank",
        "kit@1.1.0",
        "--registry",
        "reg",
        "--undo",
        "--format",
        "json",
    ];
    let doc = s.check(d, &args, 0, "yank.schema.json");
    assert_eq!(doc["outcome"], "unyanked");
    assert_eq!(doc["yanked"], false);
    assert_eq!(doc["name"], "kit");
    assert_eq!(lines(&reg.join("index/3/k/kit"))[1]["yanked"], false);
    assert_eq!(lines(&reg.join("search.jsonl"))[1]["vers"], "1.1.0");
}

#[test]
fn yank_refuses_what_it_cannot_find_without_writing() {
    let dir = tempdir();
    let d = dir.path();
    published(d);
    write_files(&d.join("old"), &[("index.toml", "version = 1\n")]);
    let before = tree(d);
    for (args, code, start) in [
        (
            &["kit@9.9.9", "--registry", "reg"][..],
            1,
            "error[version-not-found]: kit 9.9.9 is not in the registry",
        ),
        (
            &["nope@1.0.0", "--registry", "reg"],
            1,
            "error[version-not-found]: nope 1.0.0",
        ),
        (
            &["kit@1.0.0", "--registry", "old"],
            1,
            "error[invalid-registry]: `old` is not a capm registry",
        ),
        (
            &["kit@1.0.0", "--registry", "nowhere"],
            2,
            "error: `nowhere` is not a directory",
        ),
        (&["kit", "--registry", "reg"], 2, "error"),
        (&["kit@one", "--registry", "reg"], 2, "error"),
    ] {
        let mut all = vec!["yank"];
        all.extend_from_slice(args);
        let run = capm(d, &all);
        assert_eq!(run.code, code, "{args:?}: {}", run.transcript());
        assert!(run.stderr.starts_with(start), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    let usage = capm(d, &["yank", "kit", "--registry", "reg"]);
    assert!(
        usage.stderr.contains("`kit` is not NAME@VERSION"),
        "{}",
        usage.stderr
    );
    assert_eq!(tree(d), before, "a refused yank wrote something");
}

/// Every release of `names` in the registry at `location`, each materialized and checked.
fn read_back(location: &str, net: &Net, names: &[&str]) -> Vec<(String, Vec<Release>)> {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let reg = SparseRegistry::open(location, net).unwrap();
    let got = reg.releases(&names, net).unwrap();
    for r in got.iter().flat_map(|(_, rs)| rs) {
        let Fetch::Archive {
            url,
            digest,
            format,
        } = &r.fetch
        else {
            panic!("{r:?}")
        };
        let tree = sparse::materialize(url, digest, *format, &r.digest, &r.name, net).unwrap();
        assert_eq!(tree.content_digest(), r.digest);
        assert!(tree.file("bundle.toml").is_some());
    }
    got
}

fn versions(releases: &[Release]) -> Vec<(String, bool)> {
    releases
        .iter()
        .map(|r| (r.version.to_string(), r.yanked))
        .collect()
}

#[test]
fn the_registry_reads_back_from_its_directory() {
    let dir = tempdir();
    let d = dir.path();
    let digests = published(d);
    assert_eq!(capm(d, &["yank", "kit@1.0.0", "--registry", "reg"]).code, 0);
    let net = Net::new(d.join("cache"));
    let got = read_back(
        d.join("reg").to_str().unwrap(),
        &net,
        &["kit", "base", "none"],
    );
    assert_eq!(
        versions(&got[0].1),
        [("1.1.0".into(), false), ("1.0.0".into(), true)]
    );
    assert_eq!(got[0].1[1].digest, digests[1].1);
    assert_eq!(got[0].1[0].deps[0].req, "^1");
    assert_eq!(versions(&got[1].1), [("1.0.0".into(), false)]);
    assert!(got[2].1.is_empty());
    let Fetch::Archive { url, .. } = &got[1].1[0].fetch else {
        panic!()
    };
    assert!(url.starts_with("file:///") && url.ends_with("/reg/archives/base/base-1.0.0.tar.gz"));
    let listed = SparseRegistry::open(d.join("reg").to_str().unwrap(), &net)
        .unwrap()
        .list(&net)
        .unwrap();
    let listed: Vec<String> = listed
        .iter()
        .map(|r| format!("{} {}", r.name, r.version))
        .collect();
    assert_eq!(listed, ["base 1.0.0", "kit 1.1.0"]);
}

#[test]
fn the_registry_reads_back_over_http_through_the_cache() {
    let dir = tempdir();
    let d = dir.path();
    published(d);
    let server = Server::start(d.join("reg"));
    let url = format!("http://127.0.0.1:{}/", server.port);
    let net = Net::new(d.join("cache"));
    let got = read_back(&url, &net, &["kit", "base", "none"]);
    assert_eq!(versions(&got[0].1).len(), 2);
    let Fetch::Archive { url: archive, .. } = &got[0].1[0].fetch else {
        panic!()
    };
    assert_eq!(archive, &format!("{url}archives/kit/kit-1.1.0.tar.gz"));
    let cold = server.log();
    assert_eq!(
        cold.iter().filter(|(_, s)| *s == 200).count(),
        6,
        "{cold:?}"
    );
    assert!(
        cold.contains(&("/index/no/ne/none".into(), 404)),
        "{cold:?}"
    );

    // Warm: index files are revalidated (304), archives come from the cache.
    server.clear();
    let reg = SparseRegistry::open(&url, &net).unwrap();
    reg.releases(&["kit".into(), "base".into()], &net).unwrap();
    // Within one process, an index file is fetched once.
    reg.releases(&["base".into(), "kit".into(), "base".into()], &net)
        .unwrap();
    read_back(&url, &net, &["kit", "base"]);
    let warm = server.log();
    assert!(warm.iter().all(|(_, s)| *s == 304), "{warm:?}");
    assert_eq!(
        warm.len(),
        6,
        "twice config.json and two index files: {warm:?}"
    );

    // A yank is seen on the next read.
    assert_eq!(capm(d, &["yank", "kit@1.1.0", "--registry", "reg"]).code, 0);
    let got = read_back(&url, &net, &["kit"]);
    assert_eq!(versions(&got[0].1)[0], ("1.1.0".into(), true));

    // Offline: the cache answers; a name never fetched is reported.
    server.clear();
    let offline = Net {
        offline: true,
        ..net.clone()
    };
    let got = read_back(&url, &offline, &["kit", "base"]);
    assert_eq!(got.len(), 2);
    assert!(server.log().is_empty(), "offline, nothing is fetched");
    let reg = SparseRegistry::open(&url, &offline).unwrap();
    match reg.releases(&["kit".into(), "other".into()], &offline) {
        Err(RemoteError::Offline { missing }) => {
            assert_eq!(missing.len(), 1);
            assert!(missing[0].contains("other"), "{missing:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_tampered_archive_is_refused_before_it_is_unpacked() {
    let dir = tempdir();
    let d = dir.path();
    published(d);
    let archive = d.join("reg/archives/base/base-1.0.0.tar.gz");
    std::fs::write(&archive, b"not the archive").unwrap();
    let net = Net::new(d.join("cache"));
    let reg = SparseRegistry::open(d.join("reg").to_str().unwrap(), &net).unwrap();
    let got = reg.releases(&["base".into()], &net).unwrap();
    let r = &got[0].1[0];
    let Fetch::Archive {
        url,
        digest,
        format,
    } = &r.fetch
    else {
        panic!()
    };
    let err = sparse::materialize(url, digest, *format, &r.digest, "base", &net).unwrap_err();
    assert!(matches!(err, RemoteError::Digest { .. }), "{err:?}");
    assert_eq!(err.code(), "SC-002");
    assert!(!d.join("cache/blobs").exists(), "nothing was cached");
}

#[test]
fn a_synthetic_registry_in_the_static_layout_reads_back() {
    let dir = tempdir();
    let out = dir.path().join("reg");
    let reg = capm::synthetic::registry(1000, 7);
    let written = capm::synthetic::write_sparse(&reg, &out).unwrap();
    assert_eq!(written, reg.index.bundles.len());
    let net = Net::new(dir.path().join("cache"));
    let names: Vec<String> = (0..1000).map(capm::synthetic::name).collect();
    let opened = SparseRegistry::open(out.to_str().unwrap(), &net).unwrap();
    let got = opened.releases(&names, &net).unwrap();
    let total: usize = got.iter().map(|(_, rs)| rs.len()).sum();
    assert_eq!(total, written);
    let last = &got[999].1[0];
    let entry = reg
        .index
        .bundles
        .iter()
        .rfind(|e| e.name == last.name)
        .unwrap();
    assert_eq!(
        (last.version.to_string(), &last.digest),
        (entry.version.clone(), &entry.sha256)
    );
    assert_eq!(last.deps.len(), entry.dependencies.len());
    read_back(out.to_str().unwrap(), &net, &[&last.name]);
    assert_eq!(opened.list(&net).unwrap().len(), 1000);
}

/// A static file server on 127.0.0.1 with ETags, answering `If-None-Match` with 304, and
/// a log of (path, status); stopped on drop.
struct Server {
    port: u16,
    log: Arc<Mutex<Vec<(String, u16)>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(root: PathBuf) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (l, s) = (log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let (root, log) = (root.clone(), l.clone());
                    std::thread::spawn(move || serve(conn, &root, &log));
                }
            }
        });
        Server {
            port,
            log,
            stop,
            thread: Some(thread),
        }
    }

    fn log(&self) -> Vec<(String, u16)> {
        self.log.lock().unwrap().clone()
    }

    fn clear(&self) {
        self.log.lock().unwrap().clear();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers the requests of one connection (keep-alive) until it closes.
fn serve(conn: TcpStream, root: &Path, log: &Mutex<Vec<(String, u16)>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        let path = request.split(' ').nth(1).unwrap_or("/").to_string();
        let mut if_none_match = None;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':')
                && k.eq_ignore_ascii_case("if-none-match")
            {
                if_none_match = Some(v.trim().to_string());
            }
        }
        let file = root.join(path.trim_start_matches('/'));
        let (status, body, etag) = match std::fs::read(&file) {
            Ok(body) => {
                let etag = format!("\"{}\"", &capm::remote::cache::sha256(&body)[7..23]);
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    (304, Vec::new(), Some(etag))
                } else {
                    (200, body, Some(etag))
                }
            }
            Err(_) => (404, Vec::new(), None),
        };
        log.lock().unwrap().push((path, status));
        let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
        if let Some(e) = etag {
            head.push_str(&format!("ETag: {e}\r\n"));
        }
        head.push_str("\r\n");
        if conn.write_all(head.as_bytes()).is_err() || conn.write_all(&body).is_err() {
            return;
        }
    }
}

#[test]
fn a_damaged_registry_refuses_publish_without_writing() {
    let dir = tempdir();
    let d = dir.path();
    published(d);
    let rel = bundle(d, "kit", "2.0.0", &[], "");
    let reg = d.join("reg");
    let config = std::fs::read_to_string(reg.join("config.json")).unwrap();
    let index = std::fs::read_to_string(reg.join("index/3/k/kit")).unwrap();
    let cases = [
        (
            "index/3/k/kit",
            format!("{index}{{not json\n"),
            "error[invalid-registry]: the registry index `reg/index/3/k/kit` is not valid: line 3:",
        ),
        (
            "config.json",
            config.replace(":1,", ":2,"),
            "error[invalid-registry]: the registry index `reg/config.json` is not valid: layout 2 is newer",
        ),
        (
            "config.json",
            config.replace("archives/", "https://cdn.example/"),
            "error[publish-refused]: the registry's archives are served from `https://cdn.example/",
        ),
    ];
    for (file, damaged, start) in cases {
        let good = std::fs::read(reg.join(file)).unwrap();
        std::fs::write(reg.join(file), &damaged).unwrap();
        let before = tree(&reg);
        let run = publish(d, &rel);
        assert_eq!(run.code, 1, "{}", run.transcript());
        assert!(run.stderr.starts_with(start), "{}", run.stderr);
        assert_eq!(tree(&reg), before, "a refused publish wrote something");
        std::fs::write(reg.join(file), good).unwrap();
    }
    assert_eq!(publish(d, &rel).code, 0);
}
