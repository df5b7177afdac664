//! A registry in the static layout served over HTTP, end to end through the `capm` binary:
//! `capm publish` writes it into a directory, `tests/common/http_server.rs` serves it on
//! 127.0.0.1, and a project asks for `kit` (which needs `base` from the registry and
//! `github` from the catalog). Installs, the cache and its revalidation, faults of the
//! server, yanked versions, offline installs and two installs sharing one cache at once.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::http_server::{Fault, TestServer};
use crate::support::{Run, capm, capm_with, command, tree, write_files};

const KIT_INDEX: &str = "/index/3/k/kit";
const BASE_INDEX: &str = "/index/ba/se/base";
const KIT_ARCHIVE: &str = "/archives/kit/kit-1.1.0.tar.gz";
const BASE_ARCHIVE: &str = "/archives/base/base-1.0.0.tar.gz";

/// Writes bundle `name` `version` (one skill, the dependencies `deps`) under `d/src/`.
fn bundle(d: &Path, name: &str, version: &str, deps: &[(&str, &str)]) -> String {
    let rel = format!("src/{name}-{version}");
    let mut manifest = format!(
        "[bundle]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"The {name} test bundle\"\n\
         keywords = [\"testing\"]\n\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
         [skills.{name}]\npath = \"skills/{name}\"\n"
    );
    if !deps.is_empty() {
        manifest.push_str("\n[dependencies]\n");
        for (dep, req) in deps {
            manifest.push_str(&format!("{dep} = \"{req}\"\n"));
        }
    }
    let skill =
        format!("---\nname: {name}\ndescription: Does {name} things\n---\n\n# {name} {version}\n");
    write_files(
        &d.join(&rel),
        &[
            ("bundle.toml", &manifest),
            (&format!("skills/{name}/SKILL.md"), &skill),
        ],
    );
    rel
}

/// Publishes `name` `version` into `d/reg`.
fn publish(d: &Path, name: &str, version: &str) {
    let deps: &[(&str, &str)] = if name == "kit" {
        &[("base", "^1"), ("github", "^1")]
    } else {
        &[]
    };
    let rel = bundle(d, name, version, deps);
    let run = capm(d, &["publish", &rel, "--registry", "reg"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

/// The registry `d/reg`: base 1.0.0, other 1.0.0, kit 1.0.0 and 1.1.0, served over HTTP.
fn registry(d: &Path) -> TestServer {
    for (name, version) in [
        ("base", "1.0.0"),
        ("other", "1.0.0"),
        ("kit", "1.0.0"),
        ("kit", "1.1.0"),
    ] {
        publish(d, name, version);
    }
    TestServer::serve_dir(&d.join("reg"))
}

/// A project in `dir` asking for `kit = ^1` from the registry `team` at `url`.
fn project_at(dir: &Path, url: &str) {
    let toml = format!(
        "[bundles]\nkit = {{ version = \"^1\", registry = \"team\" }}\n\n\
         [registries]\nteam = {{ url = \"{url}\" }}\n"
    );
    write_files(dir, &[("capm.toml", &toml)]);
}

/// A new project directory `d/NAME` for the server.
fn project(d: &Path, name: &str, server: &TestServer) -> PathBuf {
    let p = d.join(name);
    project_at(&p, &format!("{}/", server.url()));
    p
}

/// `capm ARGS` in `p` with the cache `cache` (shared between projects).
fn run_in(p: &Path, cache: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let cache = cache.to_str().unwrap();
    let mut all = vec![("XDG_CACHE_HOME", cache)];
    all.extend_from_slice(env);
    capm_with(p, args, &all)
}

fn install(p: &Path, cache: &Path) -> Run {
    run_in(p, cache, &["install", "-y"], &[])
}

/// The project's files: capm.toml only, as the test wrote it.
fn untouched(p: &Path) {
    let files: Vec<String> = tree(p).into_keys().collect();
    assert_eq!(files, ["capm.toml"], "the project was written to");
}

fn installed(p: &Path) {
    for skill in ["kit", "base", "github-operations"] {
        let file = p.join(format!(".opencode/skills/{skill}/SKILL.md"));
        assert!(file.is_file(), "{} is missing", file.display());
    }
    let lock = std::fs::read_to_string(p.join("capm.lock")).unwrap();
    assert!(
        lock.contains(
            "name = \"kit\"\nversion = \"1.1.0\"\nsource = \"registry+team\"\nsha256 = \"sha256:"
        ),
        "{lock}"
    );
}

/// What a failed run was: its project, cache, arguments and environment.
struct Failed<'a> {
    p: &'a Path,
    cache: &'a Path,
    args: &'a [&'a str],
    env: &'a [(&'a str, &'a str)],
}

/// Checks a failure that is no refusal (exit 2): `error[CODE]: ` and `text` on stderr, then
/// the same run with `--format json` for its stable code. Nothing written either time.
fn system_failure(f: &Failed, run: &Run, code: &str, text: &str) {
    let Failed {
        p,
        cache,
        args,
        env,
    } = *f;
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.starts_with(&format!("error[{code}]: ")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(text), "{}", run.stderr);
    untouched(p);
    let json = run_in(p, cache, &[args, &["--format", "json"]].concat(), env);
    assert_eq!(json.code, 2, "{}", json.transcript());
    assert_eq!(json.json()["code"], code, "{}", json.stdout);
    untouched(p);
}

fn paths(server: &TestServer) -> Vec<String> {
    server.requests().into_iter().map(|r| r.1).collect()
}

#[test]
fn an_install_over_http_fetches_what_it_needs_once_and_a_warm_one_only_revalidates() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let cache = d.join("cache");
    let p = project(d, "p", &server);
    let run = install(&p, &cache);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stderr.contains("Applied 4 created"), "{}", run.stderr);
    installed(&p);
    let lock = std::fs::read_to_string(p.join("capm.lock")).unwrap();
    for name in ["kit", "base"] {
        let at = lock.find(&format!("name = \"{name}\"")).unwrap();
        let entry = &lock[at..lock[at..].find("\n\n").map_or(lock.len(), |e| at + e)];
        assert!(entry.contains("source = \"registry+team\""), "{entry}");
        assert!(entry.contains("\narchive = \"sha256:"), "{entry}");
    }
    assert!(lock.contains("name = \"github\"\nversion = \"1.0.0\"\nsource = \"catalog\""));
    assert!(lock.contains("dependencies = [\"base\", \"github\"]"));

    let cold = paths(&server);
    let mut asked: Vec<&str> = cold.iter().map(String::as_str).collect();
    asked.sort_unstable();
    // Each once, though an install plans twice (before applying, and under the lock).
    assert_eq!(
        asked,
        [
            BASE_ARCHIVE,
            KIT_ARCHIVE,
            "/config.json",
            KIT_INDEX,
            BASE_INDEX
        ],
        "only kit, its registry dependency and their archives: {cold:?}"
    );

    // Warm: the index files are revalidated (304), no archive is downloaded.
    let before = server.requests().len();
    let run = install(&p, &cache);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stderr.contains("nothing to do"), "{}", run.stderr);
    let warm = &server.requests()[before..];
    let mut asked: Vec<(&str, u16)> = warm.iter().map(|r| (r.1.as_str(), r.2)).collect();
    asked.sort_unstable();
    assert_eq!(
        asked,
        [("/config.json", 304), (KIT_INDEX, 304), (BASE_INDEX, 304)],
        "one conditional request per index file, no archive"
    );
}

#[test]
fn tree_info_search_and_outdated_read_the_http_registry() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let cache = d.join("cache");
    let p = project(d, "p", &server);
    assert_eq!(install(&p, &cache).code, 0);
    let run = run_in(&p, &cache, &["tree"], &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        run.stdout,
        "capm.toml\n└── kit 1.1.0 (registry+team)\n    ├── base 1.0.0 (registry+team)\n    └── github 1.0.0\n"
    );
    let run = run_in(&p, &cache, &["info", "kit"], &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.starts_with("kit 1.1.0 (registry+team)\nThe kit test bundle\nversions:    1.1.0, 1.0.0\ninstalled:   1.1.0\n"), "{}", run.stdout);
    let run = run_in(&p, &cache, &["search", "other"], &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.starts_with("other 1.0.0"), "{}", run.stdout);
    assert!(run.stdout.contains("(registry+team)"), "{}", run.stdout);
    let run = run_in(&p, &cache, &["outdated"], &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stderr.contains("all up to date"), "{}", run.stderr);

    publish(d, "kit", "1.2.0");
    let run = run_in(&p, &cache, &["outdated"], &[]);
    assert!(run.stdout.contains("kit"), "{}", run.transcript());
    assert!(run.stdout.contains("1.2.0"), "{}", run.transcript());
}

#[test]
fn an_index_file_failing_a_few_times_is_retried_and_always_failing_is_http_error() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let p = project(d, "p", &server);
    server.fault(KIT_INDEX, Fault::FailTimes(2, 500));
    let run = install(&p, &d.join("cache"));
    assert_eq!(run.code, 0, "{}", run.transcript());
    installed(&p);
    assert!(
        server
            .requests()
            .contains(&("GET".into(), KIT_INDEX.into(), 500))
    );

    let q = project(d, "q", &server);
    server.fault(BASE_INDEX, Fault::Status(500));
    let before = server.count(BASE_INDEX);
    let run = install(&q, &d.join("cache2"));
    assert_eq!(
        server.count(BASE_INDEX) - before,
        3,
        "the default 2 retries"
    );
    let text = format!("{}{BASE_INDEX}: the server answered 500", server.url());
    let cache = d.join("cache2");
    let f = Failed {
        p: &q,
        cache: &cache,
        args: &["install", "-y"],
        env: &[],
    };
    system_failure(&f, &run, "http-error", &text);
}

#[test]
fn a_slow_answer_past_the_timeout_is_network_timeout() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let p = project(d, "p", &server);
    server.fault(KIT_INDEX, Fault::Delay(Duration::from_secs(30)));
    let start = Instant::now();
    let env = [("CAPM_HTTP_TIMEOUT", "1")];
    let run = run_in(&p, &d.join("cache"), &["install", "-y"], &env);
    // Three tries of a second each (the default 2 retries) and 0.5 s of backoff.
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    let text = format!("{KIT_INDEX}: no answer within 1s");
    let cache = d.join("cache");
    let f = Failed {
        p: &p,
        cache: &cache,
        args: &["install", "-y"],
        env: &env,
    };
    system_failure(&f, &run, "network-timeout", &text);
}

#[test]
fn a_truncated_archive_is_truncated_download_after_retries() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let p = project(d, "p", &server);
    server.fault(KIT_ARCHIVE, Fault::Truncate(10));
    let run = install(&p, &d.join("cache"));
    assert_eq!(server.count(KIT_ARCHIVE), 3, "retried twice");
    let text = format!("{KIT_ARCHIVE}: the download stopped after 10 of ");
    let cache = d.join("cache");
    let f = Failed {
        p: &p,
        cache: &cache,
        args: &["install", "-y"],
        env: &[],
    };
    system_failure(&f, &run, "truncated-download", &text);
    assert_eq!(staged(&cache), 0, "a cut download was left in the cache");
}

/// How many files the cache `cache` has under `tmp/` (staging).
fn staged(cache: &Path) -> usize {
    let tmp = cache.join("capm/tmp");
    std::fs::read_dir(&tmp).map_or(0, |entries| entries.count())
}

#[test]
fn an_archive_with_other_bytes_is_refused_and_not_cached() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let p = project(d, "p", &server);
    let real = std::fs::read(d.join("reg").join(&KIT_ARCHIVE[1..])).unwrap();
    let digest = capm::remote::cache::sha256(&real);
    let mut other = real.clone();
    let last = other.len() - 1;
    other[last] ^= 1;
    server.fault(KIT_ARCHIVE, Fault::Replace(other.clone()));
    let cache = d.join("cache");
    let run = install(&p, &cache);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.starts_with("error[SC-002]: "), "{}", run.stderr);
    assert!(run.stderr.contains(KIT_ARCHIVE), "{}", run.stderr);
    untouched(&p);
    for d in [&digest, &capm::remote::cache::sha256(&other)] {
        let hex = &d["sha256:".len()..];
        let blob = cache.join("capm/blobs/sha256").join(&hex[..2]).join(hex);
        assert!(!blob.exists(), "{} was cached", blob.display());
    }
    assert_eq!(staged(&cache), 0, "refused bytes were left in the cache");
}

#[test]
fn a_plan_saved_before_a_new_version_is_published_is_refused_as_stale() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let p = project(d, "p", &server);
    let cache = d.join("cache");
    let run = run_in(&p, &cache, &["plan", "install", "--out", "plan.json"], &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    publish(d, "kit", "1.2.0");
    let before = tree(&p);
    let run = run_in(&p, &cache, &["apply", "--plan", "plan.json", "-y"], &[]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("stale"), "{}", run.stderr);
    assert_eq!(tree(&p), before, "a stale plan wrote something");
    drop(server);
}

#[test]
fn a_name_without_an_index_file_is_bundle_not_found() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let p = project(d, "p", &server);
    std::fs::remove_file(d.join("reg/index/ba/se/base")).unwrap();
    let run = install(&p, &d.join("cache"));
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.starts_with("error[bundle-not-found]: "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("base"), "{}", run.stderr);
    assert!(
        server
            .requests()
            .contains(&("GET".into(), BASE_INDEX.into(), 404))
    );
    untouched(&p);
}

#[test]
fn a_yanked_version_is_left_out_unless_the_lock_names_it() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let cache = d.join("cache");
    let locked = project(d, "locked", &server);
    assert_eq!(install(&locked, &cache).code, 0);
    let run = capm(d, &["yank", "kit@1.1.0", "--registry", "reg"]);
    assert_eq!(run.code, 0, "{}", run.transcript());

    let fresh = project(d, "fresh", &server);
    let run = install(&fresh, &cache);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let lock = std::fs::read_to_string(fresh.join("capm.lock")).unwrap();
    assert!(
        lock.contains("name = \"kit\"\nversion = \"1.0.0\""),
        "{lock}"
    );
    assert_eq!(
        std::fs::read_to_string(fresh.join(".opencode/skills/kit/SKILL.md")).unwrap(),
        "---\nname: kit\ndescription: Does kit things\n---\n\n# kit 1.0.0\n"
    );

    let before = tree(&locked);
    let run = install(&locked, &cache);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stderr.contains("nothing to do"), "{}", run.stderr);
    assert_eq!(tree(&locked), before);
}

#[test]
fn offline_and_frozen_installs_answer_from_the_shared_cache() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let url = format!("{}/", server.url());
    let cache = d.join("cache");
    let first = project(d, "first", &server);
    assert_eq!(install(&first, &cache).code, 0);
    drop(server);

    let offline = d.join("offline");
    project_at(&offline, &url);
    let run = run_in(&offline, &cache, &["--offline", "install", "-y"], &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    installed(&offline);

    let frozen = d.join("frozen");
    project_at(&frozen, &url);
    std::fs::copy(first.join("capm.lock"), frozen.join("capm.lock")).unwrap();
    let run = run_in(&frozen, &cache, &["install", "--frozen", "-y"], &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    installed(&frozen);
    assert_eq!(
        std::fs::read(frozen.join("capm.lock")).unwrap(),
        std::fs::read(first.join("capm.lock")).unwrap()
    );

    // A name never fetched: what the cache lacks is named, nothing is written.
    let more = d.join("more");
    project_at(&more, &url);
    let toml = std::fs::read_to_string(more.join("capm.toml")).unwrap();
    let toml = toml.replace(
        "[registries]",
        "other = { version = \"^1\", registry = \"team\" }\n\n[registries]",
    );
    write_files(&more, &[("capm.toml", &toml)]);
    let run = run_in(&more, &cache, &["--offline", "install", "-y"], &[]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(
        run.stderr.lines().next().unwrap(),
        format!(
            "error[offline-missing]: offline, and the cache does not hold: the index of other ({url}index/ot/he/other)"
        )
    );
    untouched(&more);
}

#[test]
fn offline_with_an_empty_cache_names_what_is_missing() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let url = format!("{}/", server.url());
    let first = project(d, "first", &server);
    assert_eq!(install(&first, &d.join("cache")).code, 0);
    drop(server);
    let empty = d.join("empty-cache");

    let p = d.join("p");
    project_at(&p, &url);
    let env = [("CAPM_HTTP_RETRIES", "0")];
    let run = run_in(&p, &empty, &["--offline", "install", "-y"], &env);
    let text =
        format!("error[offline-missing]: offline, and the cache does not hold: {url}config.json\n");
    let args = ["--offline", "install", "-y"];
    let f = Failed {
        p: &p,
        cache: &empty,
        args: &args,
        env: &env,
    };
    system_failure(&f, &run, "offline-missing", &text);

    std::fs::copy(first.join("capm.lock"), p.join("capm.lock")).unwrap();
    let before = tree(&p);
    let run = run_in(&p, &empty, &["install", "--frozen", "-y"], &[]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.starts_with(&text), "{}", run.stderr);
    assert_eq!(tree(&p), before, "a frozen install wrote something");
    assert!(!empty.exists() || tree(&empty).keys().all(|k| !k.contains("blobs/sha256/")));
}

#[test]
fn two_installs_at_once_share_one_cache() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let cache = d.join("cache");
    let projects = [project(d, "a", &server), project(d, "b", &server)];
    let children: Vec<_> = projects
        .iter()
        .map(|p| {
            command(p, &["install", "-y"])
                .env("XDG_CACHE_HOME", &cache)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for p in &projects {
        installed(p);
    }
    assert_eq!(
        std::fs::read(projects[0].join("capm.lock")).unwrap(),
        std::fs::read(projects[1].join("capm.lock")).unwrap()
    );
    let run = run_in(&projects[0], &cache, &["cache", "dir"], &[]);
    let root = PathBuf::from(run.stdout.trim());
    assert_eq!(root, cache.join("capm"));
    let files = tree(&root);
    let blobs: Vec<&String> = files
        .keys()
        .filter(|k| k.starts_with("blobs/sha256/") && !k.ends_with('/'))
        .collect();
    let lock = std::fs::read_to_string(projects[0].join("capm.lock")).unwrap();
    let archives: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.strip_prefix("archive = \"sha256:"))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    assert_eq!(archives.len(), 2);
    assert_eq!(blobs.len(), 2, "{blobs:?}");
    for hex in archives {
        assert!(blobs.iter().any(|b| b.ends_with(hex)), "{blobs:?}");
    }
    assert_eq!(staged(&cache), 0, "leftovers in the cache's tmp/");
}

#[test]
fn plain_http_to_another_machine_is_refused_before_any_request() {
    let dir = crate::support::tempdir();
    let p = dir.path();
    project_at(p, "http://registry.example.com/");
    let start = Instant::now();
    let run = capm(p, &["install", "-y"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.starts_with("error[SRC-003]"), "{}", run.stderr);
    assert!(start.elapsed() < Duration::from_secs(5));
    untouched(p);
    assert!(!p.join(".no-user-cache").exists(), "nothing was cached");
}

/// The version of `kit` in the plan `capm serve` answered on one line.
fn planned_kit(line: &str) -> String {
    let doc: serde_json::Value = serde_json::from_str(line).unwrap();
    let bundles = doc["result"]["bundles"].as_array().expect(line);
    let kit = bundles.iter().find(|b| b["name"] == "kit").expect(line);
    kit["version"].as_str().unwrap().to_string()
}

#[test]
fn each_request_of_serve_sees_the_registry_as_it_is_then() {
    use std::io::{BufRead, BufReader, Write};
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let p = project(d, "p", &server);
    let mut child = command(&p, &["serve", "--stdio"])
        .env("XDG_CACHE_HOME", d.join("cache"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut plan = |id: u32| {
        let request = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"plan\",\"params\":{{\"project\":\".\",\"operation\":\"install\"}}}}\n"
        );
        stdin.write_all(request.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        planned_kit(&line)
    };
    assert_eq!(plan(1), "1.1.0");
    assert_eq!(server.count(KIT_INDEX), 1);
    publish(d, "kit", "1.2.0");
    assert_eq!(plan(2), "1.2.0", "the second request revalidated the index");
    assert_eq!(server.count(KIT_INDEX), 2);
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn search_fetches_the_archives_it_reads_modes_from_at_the_same_time() {
    let dir = crate::support::tempdir();
    let d = dir.path();
    let server = registry(d);
    let p = project(d, "p", &server);
    let archives = [
        KIT_ARCHIVE,
        BASE_ARCHIVE,
        "/archives/other/other-1.0.0.tar.gz",
    ];
    for archive in archives {
        server.fault(archive, Fault::Delay(Duration::from_millis(500)));
    }
    let run = run_in(&p, &d.join("cache"), &["search", "the test bundle"], &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let names: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(names, ["base", "kit", "other"], "{}", run.stdout);
    assert!(run.stdout.contains("desktop-local"), "{}", run.stdout);
    for archive in archives {
        assert_eq!(server.count(archive), 1, "{:?}", server.requests());
    }
    assert_eq!(server.most_at_once(), 3, "{:?}", server.requests());
}
