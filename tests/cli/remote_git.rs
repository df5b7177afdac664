//! Git sources end to end through the `capm` binary: repositories built in a temporary
//! directory and used by path, over `git daemon` and over `git http-backend` with Basic
//! authentication, all on 127.0.0.1. Each test checks what the user sees (stdout, stderr,
//! exit code) and what is left behind (capm.toml, capm.lock, `.opencode/`), and that a
//! refused or failed run writes nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;

use crate::git_server::{GitDaemon, GitHttp, commit_bundle, git, git_config, init_repo};
use crate::support::{Run, capm_with, capm_within_with, tempdir, tree};

/// A temporary directory for repositories and projects, with one cache (`cache/`) that
/// every capm run of the test shares, outside the projects so that their trees show only
/// what capm wrote into them.
struct World {
    dir: TempDir,
}

impl World {
    fn new() -> World {
        git_config();
        World { dir: tempdir() }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn cache(&self) -> String {
        self.path("cache").to_str().unwrap().to_string()
    }

    /// `capm ARGS` in `dir` with the shared cache and `env`.
    fn capm(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let cache = self.cache();
        let mut all = vec![("XDG_CACHE_HOME", cache.as_str())];
        all.extend_from_slice(env);
        capm_with(dir, args, &all)
    }

    /// A project `name` made by `capm init`, with `entry` (when not empty) appended to its
    /// `[bundles]`, the last table of the template.
    fn project(&self, name: &str, entry: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::create_dir_all(&p).unwrap();
        let run = self.capm(&p, &["init", "."], &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        if !entry.is_empty() {
            let mut text = std::fs::read_to_string(p.join("capm.toml")).unwrap();
            text.push_str(&format!("{entry}\n"));
            std::fs::write(p.join("capm.toml"), text).unwrap();
        }
        p
    }
}

/// A repository `kit` on branch `main` with tags v1.0.0, v1.1.0 and v2.0.0 (its head).
/// Returns the commits, oldest first.
fn kit_repo(repo: &Path) -> Vec<String> {
    init_repo(repo);
    ["1.0.0", "1.1.0", "2.0.0"]
        .iter()
        .map(|version| {
            let commit = commit_bundle(repo, None, "kit", version);
            git(repo, &["tag", &format!("v{version}")]);
            commit
        })
        .collect()
}

/// The `[[bundle]]` entry of `name` in the project's capm.lock.
fn locked(project: &Path, name: &str) -> toml::Table {
    let text = std::fs::read_to_string(project.join("capm.lock")).unwrap();
    let lock: toml::Table = text.parse().unwrap();
    let bundles = lock["bundle"].as_array().unwrap();
    let entry = bundles.iter().find(|b| b["name"].as_str() == Some(name));
    entry
        .unwrap_or_else(|| panic!("{name} is not in capm.lock:\n{text}"))
        .as_table()
        .unwrap()
        .clone()
}

/// The lock entry's (source, version, commit), after checking its digest's shape.
fn pin(project: &Path, name: &str) -> (String, String, String) {
    let b = locked(project, name);
    let sha = b["sha256"].as_str().unwrap();
    assert!(sha.starts_with("sha256:") && sha.len() == 71, "{sha}");
    let field = |k: &str| b[k].as_str().unwrap().to_string();
    (field("source"), field("version"), field("commit"))
}

/// The installed skill's SKILL.md, which names the bundle version it came from.
fn skill(project: &Path) -> String {
    std::fs::read_to_string(project.join(".opencode/skills/hello/SKILL.md")).unwrap()
}

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}", run.transcript());
}

#[test]
fn a_tag_over_git_daemon_installs_and_every_view_shows_it() {
    let w = World::new();
    let commits = kit_repo(&w.path("srv/kit"));
    let daemon = GitDaemon::start(&w.path("srv"));
    let url = daemon.url("kit");
    let p = w.project(
        "p",
        &format!("kit = {{ git = \"{url}\", tag = \"v1.0.0\" }}"),
    );
    let run = w.capm(&p, &["install", "-y"], &[]);
    ok(&run);
    let source = format!("git+{url}?tag=v1.0.0");
    assert!(
        run.stdout.contains(&format!("  kit 1.0.0 ({source})\n"))
            && run
                .stdout
                .contains("create   skill:hello  .opencode/skills/hello"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("Applied 1 created"), "{}", run.stderr);
    assert_eq!(
        pin(&p, "kit"),
        (source.clone(), "1.0.0".into(), commits[0].clone())
    );
    assert!(skill(&p).contains("Says hello (1.0.0)"));
    let shown = w.capm(&p, &["tree"], &[]);
    assert_eq!(
        shown.stdout,
        format!("capm.toml\n└── kit 1.0.0 ({source})\n")
    );
    let why = w.capm(&p, &["why", "kit"], &[]);
    assert_eq!(why.stdout, "project → kit * (1.0.0)\n", "{}", why.stderr);
    let info = w.capm(&p, &["info", "kit"], &[]);
    ok(&info);
    let digest = locked(&p, "kit")["sha256"].as_str().unwrap().to_string();
    for part in [
        format!("kit 1.0.0 ({source})\n"),
        "installed:   1.0.0\n".into(),
        format!("sha256:      {}\n", &digest["sha256:".len()..]),
        "skill:hello  skills/hello\n".into(),
    ] {
        assert!(info.stdout.contains(&part), "{part}\n{}", info.stdout);
    }
    let list = w.capm(&p, &["list"], &[]);
    ok(&list);
    assert!(
        list.stdout.contains(&format!("kit  1.0.0      {source}\n"))
            && list.stdout.contains("skill:hello"),
        "{}",
        list.stdout
    );
}

#[test]
fn each_way_of_naming_a_commit_installs_it() {
    let w = World::new();
    let commits = kit_repo(&w.path("kit"));
    let mono = w.path("mono");
    init_repo(&mono);
    std::fs::write(mono.join("README"), "monorepo\n").unwrap();
    let mono_commit = commit_bundle(&mono, Some("bundles/mono"), "mono", "0.3.0");
    git(&mono, &["tag", "v0.3.0"]);
    let full = &commits[0];
    let cases = [
        ("kit", "version = \"^1\"", "", "1.1.0", &commits[1]),
        (
            "kit",
            "branch = \"main\"",
            "?branch=main",
            "2.0.0",
            &commits[2],
        ),
        (
            "kit",
            &format!("rev = \"{full}\""),
            &format!("?rev={full}"),
            "1.0.0",
            full,
        ),
        ("kit", "", "", "2.0.0", &commits[2]),
        (
            "mono",
            "tag = \"v0.3.0\", path = \"bundles/mono\"",
            "?tag=v0.3.0&path=bundles/mono",
            "0.3.0",
            &mono_commit,
        ),
    ];
    for (i, (name, fields, query, version, commit)) in cases.into_iter().enumerate() {
        let fields = if fields.is_empty() {
            String::new()
        } else {
            format!(", {fields}")
        };
        let entry = format!("{name} = {{ git = \"../{name}\"{fields} }}");
        let p = w.project(&format!("p{i}"), &entry);
        let run = w.capm(&p, &["install", "-y"], &[]);
        ok(&run);
        let source = format!("git+../{name}{query}");
        assert!(
            run.stdout.contains(&format!("{name} {version} ({source})")),
            "{entry}: {}",
            run.stdout
        );
        assert_eq!(
            pin(&p, name),
            (source, version.into(), commit.clone()),
            "{entry}"
        );
        assert!(skill(&p).contains(&format!("({version})")), "{entry}");
    }
    // Only the bundle's directory was installed from the monorepo.
    assert!(!w.path("p4/.opencode/README").exists());
}

/// The capm.toml `capm init` writes, with `line` as the first entry of `[bundles]`.
fn with_entry(template: &str, line: &str) -> String {
    template.replacen("[bundles]\n", &format!("[bundles]\n{line}\n"), 1)
}

#[test]
fn add_records_the_git_source_it_was_given() {
    let w = World::new();
    let commits = kit_repo(&w.path("kit"));
    let served = kit_repo(&w.path("srv/kit"));
    let daemon = GitDaemon::start(&w.path("srv"));
    let absolute = w.path("kit").to_str().unwrap().to_string();
    let git_url = daemon.url("kit");
    let short = &commits[0][..10];
    let cases: Vec<(Vec<String>, String, &String)> = vec![
        (
            vec![format!("git+{absolute}")],
            format!("kit = {{ git = \"{absolute}\", version = \"^2.0.0\" }}"),
            &commits[2],
        ),
        (
            vec![git_url.clone()],
            format!("kit = {{ git = \"{git_url}\", version = \"^2.0.0\" }}"),
            &served[2],
        ),
        (
            vec!["git+../kit".into(), "--tag".into(), "v1.0.0".into()],
            "kit = { git = \"../kit\", tag = \"v1.0.0\" }".into(),
            &commits[0],
        ),
        (
            vec!["git+../kit".into(), "--branch".into(), "main".into()],
            "kit = { git = \"../kit\", branch = \"main\" }".into(),
            &commits[2],
        ),
        (
            vec!["git+../kit".into(), "--rev".into(), short.into()],
            format!("kit = {{ git = \"../kit\", rev = \"{short}\" }}"),
            &commits[0],
        ),
    ];
    for (i, (args, line, commit)) in cases.into_iter().enumerate() {
        let p = w.project(&format!("p{i}"), "");
        let template = std::fs::read_to_string(p.join("capm.toml")).unwrap();
        let mut all = vec!["add"];
        all.extend(args.iter().map(String::as_str));
        all.push("-y");
        let run = w.capm(&p, &all, &[]);
        ok(&run);
        assert!(
            run.stderr
                .contains(&format!("Updated capm.toml: add {line}")),
            "{}",
            run.stderr
        );
        let written = std::fs::read_to_string(p.join("capm.toml")).unwrap();
        assert_eq!(written, with_entry(&template, &line), "{args:?}");
        assert_eq!(&pin(&p, "kit").2, commit, "{args:?}");
        assert!(skill(&p).starts_with("---\nname: hello\n"), "{args:?}");
    }
}

#[test]
fn add_of_a_repository_without_version_tags_follows_its_default_branch() {
    let w = World::new();
    let repo = w.path("nt");
    init_repo(&repo);
    let head = commit_bundle(&repo, None, "nt", "0.1.0");
    git(&repo, &["tag", "release"]);
    let p = w.project("p", "");
    let template = std::fs::read_to_string(p.join("capm.toml")).unwrap();
    let run = w.capm(&p, &["add", "git+../nt", "-y"], &[]);
    ok(&run);
    let written = std::fs::read_to_string(p.join("capm.toml")).unwrap();
    assert_eq!(written, with_entry(&template, "nt = { git = \"../nt\" }"));
    assert_eq!(pin(&p, "nt"), ("git+../nt".into(), "0.1.0".into(), head));
    assert!(skill(&p).contains("(0.1.0)"));
}

#[test]
fn add_of_a_repository_holding_no_bundle_is_refused_and_writes_nothing() {
    let w = World::new();
    let repo = w.path("srv/notes");
    init_repo(&repo);
    std::fs::write(repo.join("README"), "no bundle here\n").unwrap();
    git(&repo, &["add", "--all"]);
    git(&repo, &["commit", "--quiet", "-m", "notes"]);
    let daemon = GitDaemon::start(&w.path("srv"));
    // The user's git configuration applies: https://git.example.com/ is this daemon.
    let config = w.path("gitconfig");
    let base = daemon.url("");
    std::fs::write(
        &config,
        format!("[url \"{base}\"]\n\tinsteadOf = https://git.example.com/\n"),
    )
    .unwrap();
    let p = w.project("p", "");
    let before = tree(&p);
    let env = [("GIT_CONFIG_GLOBAL", config.to_str().unwrap())];
    let run = w.capm(&p, &["add", "https://git.example.com/notes", "-y"], &env);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .starts_with("error[invalid-bundle-source]: https://git.example.com/notes@")
            && run.stderr.contains(": there is no bundle.toml, SKILL.md, skills/, .claude-plugin/plugin.json or server.json there"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    assert_eq!(tree(&p), before);
}

#[test]
fn a_force_moved_tag_stays_at_the_locked_commit_until_update() {
    let w = World::new();
    let repo = w.path("srv/kit");
    let commits = kit_repo(&repo);
    let daemon = GitDaemon::start(&w.path("srv"));
    let url = daemon.url("kit");
    let p = w.project(
        "p",
        &format!("kit = {{ git = \"{url}\", tag = \"v2.0.0\" }}"),
    );
    ok(&w.capm(&p, &["install", "-y"], &[]));
    let installed = tree(&p);
    std::fs::write(repo.join("skills/hello/NOTES.md"), "moved\n").unwrap();
    let moved = commit_bundle(&repo, None, "kit", "2.0.0");
    git(&repo, &["tag", "-f", "v2.0.0"]);
    // The lock wins, with and without --locked.
    for args in [&["install", "-y"][..], &["install", "--locked", "-y"]] {
        let run = w.capm(&p, args, &[]);
        ok(&run);
        assert!(run.stderr.contains("nothing to do"), "{}", run.stderr);
        assert_eq!(tree(&p), installed, "{args:?}");
    }
    let run = w.capm(&p, &["update", "-y"], &[]);
    ok(&run);
    let (old, new) = (&commits[2][..12], &moved[..12]);
    let line = format!("  kit 2.0.0 (git+{url}?tag=v2.0.0, commit {old} → {new})\n");
    assert!(run.stdout.contains(&line), "{line}{}", run.stdout);
    assert_eq!(pin(&p, "kit").2, moved);
    let notes = p.join(".opencode/skills/hello/NOTES.md");
    assert_eq!(std::fs::read_to_string(notes).unwrap(), "moved\n");
    // A tag changed in capm.toml is a change --locked refuses.
    let text = std::fs::read_to_string(p.join("capm.toml")).unwrap();
    std::fs::write(p.join("capm.toml"), text.replace("v2.0.0", "v1.0.0")).unwrap();
    let before = tree(&p);
    let run = w.capm(&p, &["install", "--locked", "-y"], &[]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.starts_with("error[lock-stale]"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(&p), before);
}

/// A copy of the project's capm.toml and capm.lock, and nothing else, at `to`.
fn fresh_copy(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for f in ["capm.toml", "capm.lock"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    to.to_path_buf()
}

#[test]
fn a_deleted_repository_installs_from_the_cache_offline_and_nowhere_else() {
    let w = World::new();
    let commits = kit_repo(&w.path("kit"));
    let p = w.project("p", "kit = { git = \"../kit\", tag = \"v1.0.0\" }");
    ok(&w.capm(&p, &["install", "-y"], &[]));
    let lock = std::fs::read(p.join("capm.lock")).unwrap();
    std::fs::remove_dir_all(w.path("kit")).unwrap();
    // From another directory with --project, and from the copy itself.
    let frozen = fresh_copy(&p, &w.path("frozen"));
    let elsewhere = w.path("");
    let args = ["install", "--frozen", "-y", "--project", "frozen"];
    ok(&w.capm(&elsewhere, &args, &[]));
    let offline = fresh_copy(&p, &w.path("offline"));
    ok(&w.capm(&offline, &["install", "--offline", "-y"], &[]));
    for copy in [&frozen, &offline] {
        assert!(skill(copy).contains("(1.0.0)"));
        assert_eq!(std::fs::read(copy.join("capm.lock")).unwrap(), lock);
    }
    // Without the cache: the commit and the repository are named, nothing is written.
    let bare = fresh_copy(&p, &w.path("bare"));
    let before = tree(&bare);
    let empty = w.path("empty-cache");
    let env = [("XDG_CACHE_HOME", empty.to_str().unwrap())];
    let missing = format!(
        "error[offline-missing]: offline, and the cache does not hold: commit {} of {}\n",
        commits[0],
        w.path("kit").display()
    );
    for flag in ["--frozen", "--offline"] {
        let run = w.capm(&bare, &["install", flag, "-y"], &env);
        assert_eq!(run.code, 2, "{}", run.transcript());
        assert!(run.stderr.starts_with(&missing), "{}", run.stderr);
        let json = w.capm(&bare, &["install", flag, "-y", "--format", "json"], &env);
        assert_eq!(
            (json.code, json.json()["code"].as_str()),
            (2, Some("offline-missing"))
        );
        assert_eq!(tree(&bare), before, "{flag}");
    }
}

#[test]
fn a_private_repository_over_http_needs_the_credential_helper_and_never_prompts() {
    let w = World::new();
    let commits = kit_repo(&w.path("srv/kit"));
    let server = GitHttp::start(&w.path("srv"));
    let url = server.url("kit");
    let p = w.project(
        "p",
        &format!("kit = {{ git = \"{url}\", version = \"^1\" }}"),
    );
    let before = tree(&p);
    let no_helper = w.path("no-helper.gitconfig");
    std::fs::write(&no_helper, "").unwrap();
    let cache = w.cache();
    let env = [
        ("XDG_CACHE_HOME", cache.as_str()),
        ("GIT_CONFIG_GLOBAL", no_helper.to_str().unwrap()),
    ];
    let limit = Duration::from_secs(60);
    let run = capm_within_with(&p, &["install", "-y"], &env, limit);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.starts_with(&format!(
            "error[git-error]: git ls-remote -- {url} ({url}) failed: "
        )) && run.stderr.contains("terminal prompts disabled"),
        "{}",
        run.stderr
    );
    let json = capm_within_with(&p, &["install", "-y", "--format", "json"], &env, limit);
    assert_eq!(
        (json.code, json.json()["code"].as_str()),
        (2, Some("git-error"))
    );
    assert_eq!(tree(&p), before);
    // The test's git configuration has a credential helper that answers.
    let run = w.capm(&p, &["install", "-y"], &[]);
    ok(&run);
    assert!(server.refused.load(std::sync::atomic::Ordering::SeqCst) > 0);
    assert_eq!(
        pin(&p, "kit"),
        (format!("git+{url}"), "1.1.0".into(), commits[1].clone())
    );
    assert!(skill(&p).contains("(1.1.0)"));
}

/// A directory holding a `git` that records each run in `ran` and fails: on PATH first,
/// it shows whether capm ran git at all.
fn trap_git(w: &World) -> (String, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let bin = w.path("trap-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let ran = w.path("git-ran");
    let script = format!("#!/bin/sh\necho \"$@\" >> '{}'\nexit 1\n", ran.display());
    std::fs::write(bin.join("git"), script).unwrap();
    std::fs::set_permissions(bin.join("git"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    (path, ran)
}

#[test]
fn refused_urls_in_capm_toml_never_run_git() {
    let w = World::new();
    let (path, ran) = trap_git(&w);
    let env = [("PATH", path.as_str())];
    let pwned = w.path("pwned");
    let cases = [
        (format!("ext::sh -c touch% {}", pwned.display()), "SRC-001"),
        ("https://u:tok@example.com/kit.git".into(), "SRC-002"),
        ("http://10.1.2.3/kit.git".into(), "SRC-003"),
    ];
    for (i, (url, rule)) in cases.iter().enumerate() {
        let entry = format!("kit = {{ git = \"{url}\", tag = \"v1.0.0\" }}");
        let p = w.project(&format!("p{i}"), &entry);
        let before = tree(&p);
        let run = w.capm(&p, &["install", "-y"], &env);
        assert_eq!(run.code, 1, "{}", run.transcript());
        assert!(
            run.stderr.starts_with(&format!("error[{rule}]: ")),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("--> capm.toml:"), "{}", run.stderr);
        let message = run.stderr.lines().next().unwrap();
        assert!(!message.contains("tok@"), "{message}");
        assert_eq!(tree(&p), before, "{url}");
    }
    assert!(!ran.exists() && !pwned.exists());
    assert!(!w.path("cache").exists());
    // The trap works: a URL that passes the rules runs it.
    let p = w.project("fine", "kit = { git = \"../kit\", tag = \"v1.0.0\" }");
    assert_eq!(w.capm(&p, &["install", "-y"], &env).code, 2);
    assert!(ran.exists());
}

#[test]
fn lint_of_a_project_with_git_sources_fetches_nothing() {
    let w = World::new();
    let (path, ran) = trap_git(&w);
    let entries = "gone = { git = \"../gone\", tag = \"v1.0.0\" }\n\
                   far = { git = \"git://127.0.0.1:1/far\", version = \"^1\" }";
    let p = w.project("p", entries);
    let before = tree(&p);
    let run = w.capm(&p, &["lint", "capm.toml"], &[("PATH", path.as_str())]);
    ok(&run);
    assert_eq!(run.stderr, "     Checked 1 project: no problems\n");
    assert!(!ran.exists());
    assert!(!w.path("cache").exists());
    assert_eq!(tree(&p), before);
}
