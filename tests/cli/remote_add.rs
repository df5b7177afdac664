//! `capm add NAME --registry URL` and the desktop protocol's `plan` with the same requests
//! `capm add` takes: a registry by URL, declared in capm.toml once, and a git URL at a tag;
//! and what such a run may hold or fetch: the cache it uses, only what capm.lock names under
//! `--locked`, and no git server that never answers.

use std::path::Path;

use crate::http_server::TestServer;
use crate::support::{capm, project, write_files, write_valid_bundle};

/// Writes a capm.toml in `d` asking for `name` `req` from the registry `team` that
/// `server` serves.
fn ask_from_team(d: &Path, server: &TestServer, name: &str, req: &str) {
    let toml = format!(
        "[registries]\nteam = {{ url = \"{}\" }}\n\n[bundles]\n{name} = {{ version = \"{req}\", registry = \"team\" }}\n",
        server.url()
    );
    write_files(d, &[("capm.toml", &toml)]);
}

/// A registry in `d/reg` holding `kit` 1.0.0, served over HTTP.
fn served_registry(d: &Path) -> TestServer {
    write_valid_bundle(&d.join("src/kit"), "kit");
    let run = capm(d, &["publish", "src/kit", "--registry", "reg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    TestServer::serve_dir(&d.join("reg"))
}

#[test]
fn add_with_a_registry_url_declares_it_once_and_installs() {
    let dir = project();
    let d = dir.path();
    let server = served_registry(d);
    let url = server.url();
    let run = capm(d, &["add", "kit", "--registry", &url, "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let toml = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert!(
        toml.contains(&format!(
            "[registries]\n127-0-0-1 = {{ url = \"{url}\" }}\n"
        )),
        "{toml}"
    );
    assert!(
        toml.contains("kit = { version = \"^1.0.0\", registry = \"127-0-0-1\" }"),
        "{toml}"
    );
    assert!(
        run.stdout.contains("add registry 127-0-0-1 = { url = "),
        "{}",
        run.stdout
    );
    let lock = std::fs::read_to_string(d.join("capm.lock")).unwrap();
    assert!(lock.contains("source = \"registry+127-0-0-1\""), "{lock}");
    // The same URL again: the declaration is reused, not repeated.
    let again = capm(d, &["add", "kit", "--registry", &url, "-y"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let after = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert_eq!(after.matches("url = ").count(), 1, "{after}");
}

#[test]
fn a_registry_url_off_this_machine_over_http_is_refused_and_nothing_written() {
    let dir = project();
    let d = dir.path();
    let before = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    let run = capm(
        d,
        &["add", "kit", "--registry", "http://capm.example.com/", "-y"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("error[SRC-003]"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(d.join("capm.toml")).unwrap(),
        before
    );
    assert!(!d.join("capm.lock").exists());
}

#[test]
fn the_protocol_plans_a_git_url_at_a_tag_and_a_registry_url() {
    let dir = project();
    let d = dir.path();
    let server = served_registry(d);
    // A local repository holding `tool`, tagged v1.0.0.
    let repo = d.join("repo");
    write_valid_bundle(&repo, "tool");
    git_in(&repo, &["init", "-q", "-b", "main"]);
    git_in(&repo, &["add", "-A"]);
    git_in(&repo, &["commit", "-qm", "tool"]);
    git_in(&repo, &["tag", "v1.0.0"]);
    let requests = format!(
        "{}\n{}\n",
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "plan", "params": {
            "project": d, "operation": "install", "bundles": ["git+./repo"],
            "git_ref": {"tag": "v1.0.0"}}}),
        serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "plan", "params": {
            "project": d, "operation": "install", "bundles": ["kit"],
            "registry": server.url()}}),
    );
    write_files(d, &[("requests.jsonl", &requests)]);
    let out = std::process::Command::new(crate::support::bin())
        .args(["serve", "--stdio"])
        .current_dir(d)
        .env("XDG_CONFIG_HOME", d.join(".no-user-config"))
        .env("XDG_CACHE_HOME", d.join(".no-user-cache"))
        .stdin(std::fs::File::open(d.join("requests.jsonl")).unwrap())
        .output()
        .unwrap();
    let answers: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 2, "{answers:?}");
    let git_plan = &answers[0]["result"];
    assert_eq!(git_plan["status"], "ready", "{:#}", answers[0]);
    assert_eq!(git_plan["bundles"][0]["source"], "git+./repo?tag=v1.0.0");
    assert_eq!(
        git_plan["manifest_changes"][0],
        "add tool = { git = \"./repo\", tag = \"v1.0.0\" }"
    );
    let reg_plan = &answers[1]["result"];
    assert_eq!(reg_plan["status"], "ready", "{reg_plan:#}");
    assert_eq!(reg_plan["bundles"][0]["source"], "registry+127-0-0-1");
    // Planning writes nothing.
    assert!(!d.join("capm.lock").exists());
}

#[test]
fn cache_clean_waits_for_a_capm_that_is_using_the_cache() {
    use std::io::{BufRead, Write};
    let dir = project();
    let d = dir.path();
    let server = served_registry(d);
    ask_from_team(d, &server, "kit", "^1");
    let mut serve = crate::support::command(d, &["serve", "--stdio"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let request = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "plan",
        "params": {"project": d, "operation": "install"}});
    let mut stdin = serve.stdin.take().unwrap();
    writeln!(stdin, "{request}").unwrap();
    let mut answer = String::new();
    std::io::BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut answer)
        .unwrap();
    assert!(answer.contains("\"status\":\"ready\""), "{answer}");
    // The running capm holds the cache it fetched into: clean waits, then gives up.
    let run = crate::support::capm_with(d, &["cache", "clean"], &[("CAPM_LOCK_TIMEOUT", "0.5")]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    drop(stdin);
    assert!(serve.wait().unwrap().success());
    let run = capm(d, &["cache", "clean"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Publishes `name` `version` depending on `deps` into `d/reg`.
fn publish_with(d: &Path, name: &str, version: &str, deps: &[&str]) {
    let mut files = crate::support::valid_bundle(name);
    files[0].1 = files[0].1.replace("1.0.0", version);
    if !deps.is_empty() {
        files[0].1.push_str("\n[dependencies]\n");
        for dep in deps {
            files[0].1.push_str(&format!("{dep} = \"^1\"\n"));
        }
    }
    let rel = format!("src/{name}-{version}");
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(&d.join(&rel), &refs);
    let run = capm(d, &["publish", &rel, "--registry", "reg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_locked_install_fetches_only_what_the_lock_names() {
    let dir = project();
    let d = dir.path();
    // kit 1.0.0 needs `old`, kit 1.1.0 needs `base`: a lock at 1.1.0 never needs `old`.
    publish_with(d, "old", "1.0.0", &[]);
    publish_with(d, "base", "1.0.0", &[]);
    publish_with(d, "kit", "1.0.0", &["old"]);
    publish_with(d, "kit", "1.1.0", &["base"]);
    let server = TestServer::serve_dir(&d.join("reg"));
    ask_from_team(d, &server, "kit", "^1");
    assert_eq!(capm(d, &["lock"]).code, 0);
    // Without --locked, resolution looks at every version capm.toml allows.
    assert!(server.count("/index/3/o/old") > 0);
    let fresh = tempfile::tempdir().unwrap();
    let cache = fresh.path().to_str().unwrap();
    let before = server.count("/index/3/o/old");
    let run = crate::support::capm_with(
        d,
        &["install", "--locked", "-y"],
        &[("XDG_CACHE_HOME", cache)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        server.count("/index/3/o/old"),
        before,
        "fetched what the lock does not name"
    );
    assert!(d.join(".opencode/skills/base/SKILL.md").is_file());
}

/// Runs git in `dir` with a fixed author and no system config.
fn git_in(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn a_branch_whose_bundle_is_a_prerelease_installs() {
    let dir = project();
    let d = dir.path();
    let repo = d.join("repo");
    let mut files = crate::support::valid_bundle("tool");
    files[0].1 = files[0].1.replace("1.0.0", "2.0.0-dev");
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(&repo, &refs);
    git_in(&repo, &["init", "-q", "-b", "dev"]);
    git_in(&repo, &["add", "-A"]);
    git_in(&repo, &["commit", "-qm", "dev"]);
    let run = capm(d, &["add", "git+./repo", "--branch", "dev", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lock = std::fs::read_to_string(d.join("capm.lock")).unwrap();
    assert!(lock.contains("version = \"2.0.0-dev\""), "{lock}");
    assert!(d.join(".opencode/skills/tool/SKILL.md").is_file());
}

#[test]
fn a_git_server_that_never_answers_times_out() {
    let dir = project();
    let d = dir.path();
    // Accepts connections and says nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    let url = format!("git://127.0.0.1:{port}/repo.git");
    let start = std::time::Instant::now();
    let run = crate::support::capm_with(d, &["add", &url, "-y"], &[("CAPM_HTTP_TIMEOUT", "0.2")]);
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error[network-timeout]: "),
        "{}",
        run.stderr
    );
    assert!(!d.join("capm.lock").exists());
}

#[test]
fn a_registry_that_cannot_be_reached_is_read_from_the_cache_with_a_warning() {
    let dir = project();
    let d = dir.path();
    let server = served_registry(d);
    ask_from_team(d, &server, "kit", "^1");
    assert_eq!(capm(d, &["install", "-y"]).code, 0);
    drop(server);
    std::fs::remove_dir_all(d.join(".opencode")).unwrap();
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("using the copy in the cache, which may be out of date"),
        "{}",
        run.stderr
    );
    assert!(d.join(".opencode/skills/kit/SKILL.md").is_file());
}

#[test]
fn adding_a_name_reached_before_under_a_narrower_requirement_fetches_its_new_dependencies() {
    let dir = project();
    let d = dir.path();
    // app 1.0.0 needs kit ^1; kit 2.0.0 (which only `add kit@2` asks for) needs extra.
    publish_with(d, "app", "1.0.0", &["kit"]);
    publish_with(d, "app", "2.0.0", &[]);
    publish_with(d, "kit", "1.0.0", &[]);
    publish_with(d, "kit", "2.0.0", &["extra"]);
    publish_with(d, "extra", "1.0.0", &[]);
    let server = TestServer::serve_dir(&d.join("reg"));
    ask_from_team(d, &server, "app", "*");
    let run = capm(d, &["add", "kit@^2", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lock = std::fs::read_to_string(d.join("capm.lock")).unwrap();
    assert!(lock.contains("name = \"extra\""), "{lock}");
}

#[test]
fn a_new_version_range_for_a_git_source_leaves_the_locked_commit() {
    let dir = project();
    let d = dir.path();
    let repo = d.join("repo");
    write_valid_bundle(&repo, "tool");
    git_in(&repo, &["init", "-q", "-b", "main"]);
    git_in(&repo, &["add", "-A"]);
    git_in(&repo, &["commit", "-qm", "one"]);
    git_in(&repo, &["tag", "v1.0.0"]);
    let manifest = repo.join("bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("1.0.0", "2.0.0")).unwrap();
    git_in(&repo, &["commit", "-qam", "two"]);
    git_in(&repo, &["tag", "v2.0.0"]);
    let toml =
        |range: &str| format!("[bundles]\ntool = {{ git = \"./repo\", version = \"{range}\" }}\n");
    write_files(d, &[("capm.toml", &toml("^1"))]);
    assert_eq!(capm(d, &["install", "-y"]).code, 0);
    let lock = std::fs::read_to_string(d.join("capm.lock")).unwrap();
    assert!(lock.contains("version = \"1.0.0\""), "{lock}");
    // capm.toml now asks for ^2: the commit locked for 1.0.0 no longer holds.
    write_files(d, &[("capm.toml", &toml("^2"))]);
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lock = std::fs::read_to_string(d.join("capm.lock")).unwrap();
    assert!(lock.contains("version = \"2.0.0\""), "{lock}");
}
