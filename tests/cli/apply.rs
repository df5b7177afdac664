//! The commands that change a project — `install`, `add`, `update`, `remove`, `apply
//! --plan` — and `doctor`, end to end: what lands on disk, what is left alone byte for
//! byte, and every refusal (unconfirmed, blocked, read-only, unsafe link, stale plan,
//! stale lock, busy lock, hostile journal) writing nothing.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::io::BufRead;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::support::{self, Run, capm, project, repo, tempdir, tree, write_files};

/// `capm ARGS` in `dir`, as `support::capm` runs it, with extra environment.
fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = support::command(dir, args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn finish(child: Child) -> Run {
    let out = child.wait_with_output().expect("capm runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn capm_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    finish(command(dir, args, env).spawn().expect("capm starts"))
}

/// What a write to one entry would change: kind, bytes (or link target), mode, inode and
/// modification time.
#[derive(Debug, PartialEq, Eq)]
struct Stat {
    kind: &'static str,
    /// A file's bytes, or a link's target.
    bytes: Vec<u8>,
    mode: u32,
    inode: u64,
    mtime: (i64, i64),
}

/// Every entry below `dir`, with its `Stat`.
fn stat_tree(dir: &Path) -> BTreeMap<String, Stat> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let (kind, bytes) = if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                ("link", target.to_string_lossy().as_bytes().to_vec())
            } else if meta.is_dir() {
                stack.push(p.clone());
                ("dir", Vec::new())
            } else {
                ("file", std::fs::read(&p).unwrap())
            };
            out.insert(
                rel,
                Stat {
                    kind,
                    bytes,
                    mode: meta.mode(),
                    inode: meta.ino(),
                    mtime: (meta.mtime(), meta.mtime_nsec()),
                },
            );
        }
    }
    out
}

/// The tree without capm's own state directory (`.capm/`).
fn without_meta(mut t: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    t.retain(|k, _| k != ".capm/" && !k.starts_with(".capm/"));
    t
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn lock_of(dir: &Path) -> toml::Table {
    read(dir, "capm.lock").parse().expect("capm.lock is TOML")
}

fn lock_bundles(dir: &Path) -> Vec<String> {
    lock_of(dir)
        .get("bundle")
        .and_then(|b| b.as_array())
        .map(|a| {
            a.iter()
                .map(|b| b["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The resources capm.lock records, as (id, bundle, path).
fn lock_resources(dir: &Path) -> Vec<(String, String, String)> {
    lock_of(dir)
        .get("resource")
        .and_then(|b| b.as_array())
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap().to_string(),
                        r["bundle"].as_str().unwrap().to_string(),
                        r["path"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn ids(resources: &[(String, String, String)]) -> Vec<&str> {
    let mut ids: Vec<&str> = resources.iter().map(|r| r.0.as_str()).collect();
    ids.sort();
    ids
}

/// A transcript with the plan's fingerprint (a digest of the catalog's content) masked.
fn masked(run: &Run) -> String {
    run.transcript()
        .lines()
        .map(|l| {
            if l.starts_with("Fingerprint: sha256:") {
                "Fingerprint: sha256:[…]"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

const CODE_REVIEW_IDS: [&str; 5] = [
    "agent:reviewer",
    "command:review",
    "mcp:github",
    "skill:code-review",
    "skill:github-operations",
];

#[test]
fn add_installs_a_bundle_and_its_dependency_and_doctor_finds_it_healthy() {
    let dir = project();
    let d = dir.path();
    let manifest_before = read(d, "capm.toml");
    let run = capm(d, &["add", "code-review", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(masked(&run));

    // The config file capm creates when there is none.
    let config: serde_json::Value = serde_json::from_str(&read(d, "opencode.json")).unwrap();
    assert_eq!(config["$schema"], "https://opencode.ai/config.json");
    assert_eq!(config["mcp"]["github"]["type"], "remote");
    assert_eq!(
        config["mcp"]["github"]["url"],
        "https://api.githubcopilot.com/mcp/"
    );
    assert_eq!(
        config["mcp"]["github"]["headers"]["Authorization"],
        "Bearer {env:GITHUB_PERSONAL_ACCESS_TOKEN}"
    );
    // Files are the bundles' own bytes.
    let catalog = repo().join("bundles");
    for (installed, shipped) in [
        (
            ".opencode/agents/reviewer.md",
            "code-review/agents/reviewer.md",
        ),
        (
            ".opencode/commands/review.md",
            "code-review/commands/review.md",
        ),
    ] {
        assert_eq!(
            std::fs::read(d.join(installed)).unwrap(),
            std::fs::read(catalog.join(shipped)).unwrap(),
            "{installed}"
        );
    }
    for (installed, shipped) in [
        (
            ".opencode/skills/code-review",
            "code-review/skills/code-review",
        ),
        (
            ".opencode/skills/github-operations",
            "github/skills/github-operations",
        ),
    ] {
        assert_eq!(
            tree(&d.join(installed)),
            tree(&catalog.join(shipped)),
            "{installed}"
        );
    }

    // capm.toml gains the requirement, its comments kept.
    let manifest = read(d, "capm.toml");
    assert!(
        manifest.contains("[bundles]\ncode-review = \"^1.0.0\"\n"),
        "{manifest}"
    );
    assert_eq!(
        manifest.replace("code-review = \"^1.0.0\"\n", ""),
        manifest_before,
        "capm.toml changed beyond the one line"
    );
    for comment in manifest_before.lines().filter(|l| l.starts_with('#')) {
        assert!(manifest.contains(comment), "lost `{comment}`");
    }

    // capm.lock: both bundles and every resource.
    assert_eq!(lock_bundles(d), ["code-review", "github"]);
    let resources = lock_resources(d);
    assert_eq!(ids(&resources), CODE_REVIEW_IDS);
    assert!(resources.contains(&(
        "agent:reviewer".into(),
        "code-review".into(),
        ".opencode/agents/reviewer.md".into()
    )));
    assert!(resources.contains(&("mcp:github".into(), "github".into(), "opencode.json".into())));

    // The doctor agrees.
    let doctor = capm(d, &["doctor"]);
    assert_eq!(doctor.code, 0, "{}", doctor.stderr);
    assert!(
        doctor
            .stderr
            .contains("Healthy 5 resources as capm.lock records them"),
        "{}",
        doctor.stderr
    );
    let json = capm(d, &["doctor", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let report = json.json();
    assert_eq!(report["schema"], "capm.doctor/v1");
    assert_eq!(report["healthy"], true);
    let checked = report["resources"].as_array().unwrap();
    let mut checked_ids: Vec<&str> = checked.iter().map(|r| r["id"].as_str().unwrap()).collect();
    checked_ids.sort();
    assert_eq!(checked_ids, CODE_REVIEW_IDS);
    for r in checked {
        assert_eq!(r["status"], "ok", "{r}");
    }
    assert_eq!(report["problems"], serde_json::json!([]));
}

#[test]
fn a_noop_install_writes_nothing_at_all() {
    let dir = project();
    let d = dir.path();
    assert_eq!(capm(d, &["add", "code-review", "-y"]).code, 0);
    let before = stat_tree(d);
    assert!(before.contains_key(".capm"), "{:?}", before.keys());
    assert!(before.contains_key(".capm/lock"), "{:?}", before.keys());
    // Let the clock move on, so that any rewrite would show in a modification time.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let run = capm(d, &["install"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("nothing to do: the project is up to date"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "", "a no-op shows no plan");
    let after = stat_tree(d);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "entries were created or removed"
    );
    for (path, was) in &before {
        assert_eq!(was, &after[path], "`{path}` was touched by a no-op install");
    }
    // Also with --yes and as JSON: still nothing.
    assert_eq!(capm(d, &["install", "-y", "--format", "json"]).code, 0);
    assert_eq!(before, stat_tree(d));
}

const USER_JSONC: &str = r#"// My OpenCode config — written by hand.
{
    /* the schema */ "$schema": "https://opencode.ai/config.json",
  "theme":   "dark",   // a trailing comment
	"mcp": {
	    // my own server
	    "mine": { "type": "local", "command": ["my-server", "--flag"], "enabled": true, },
	    "other":{"type":"remote","url":"https://example.com/mcp"},
	    /* a block
	       comment */
	},
   "plugin": [ "my-plugin@1.2.3", /* pinned */ "other-plugin@0.1.0", ],
      "agent": {"x": {"model": "m"},},
}
// a tail comment
"#;

#[test]
fn add_then_remove_gives_back_every_byte() {
    let dir = project();
    let d = dir.path();
    write_files(d, &[("opencode.jsonc", USER_JSONC)]);
    let before = tree(d);
    assert!(!d.join(".opencode").exists());

    let add = capm(d, &["add", "code-review", "-y"]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(
        !d.join("opencode.json").exists(),
        "capm edits the existing opencode.jsonc"
    );
    let edited = read(d, "opencode.jsonc");
    assert!(
        edited.contains("\"github\": {") && edited.contains("api.githubcopilot.com"),
        "{edited}"
    );
    // Everything of the user's is still there, in order.
    for line in USER_JSONC.lines() {
        assert!(edited.contains(line), "lost `{line}` in:\n{edited}");
    }
    assert!(d.join(".opencode/agents/reviewer.md").is_file());

    let remove = capm(d, &["remove", "code-review", "-y"]);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    assert_eq!(read(d, "opencode.jsonc"), USER_JSONC, "not byte-identical");
    assert!(
        !d.join(".opencode").exists(),
        "`.opencode/` did not exist before and should be gone: {:?}",
        tree(d).keys()
    );
    // Besides capm's state and its (now empty) capm.lock, the project is as it was.
    let mut after = without_meta(tree(d));
    after.remove("capm.lock");
    assert_eq!(before, after);
    assert!(lock_resources(d).is_empty() && lock_bundles(d).is_empty());
}

#[test]
fn remove_keeps_directories_holding_user_files_and_drops_emptied_ones() {
    // Like git: a directory that a removal leaves empty goes (it holds no bytes); one that
    // still holds something of the user's stays, with it.
    let dir = project();
    let d = dir.path();
    write_files(d, &[(".opencode/agents/mine.md", "my own agent\n")]);
    std::fs::create_dir_all(d.join(".opencode/skills")).unwrap();
    let before = tree(d);
    assert_eq!(capm(d, &["add", "code-review", "-y"]).code, 0);
    let remove = capm(d, &["remove", "code-review", "-y"]);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    let after = tree(d);
    assert_eq!(after[".opencode/agents/mine.md"], b"my own agent\n");
    for gone in [".opencode/skills/", ".opencode/commands/"] {
        assert!(!after.contains_key(gone), "{gone} is left empty");
    }
    let mut after = without_meta(after);
    for capm_made in ["capm.lock", "opencode.json"] {
        after.remove(capm_made);
    }
    let mut expected = before;
    expected.remove(".opencode/skills/");
    assert_eq!(expected, after);
}

#[test]
fn without_yes_and_without_a_terminal_nothing_is_written() {
    let dir = project();
    let d = dir.path();
    let before = stat_tree(d);
    let run = capm(d, &["add", "code-review"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!(masked(&run));
    assert!(
        run.stderr.contains("error[not-confirmed]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.lines().any(|l| l.starts_with("help: ")),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .starts_with("Plan: install into the project scope (desktop-local): ready")
            && run.stdout.contains("create   agent:reviewer"),
        "{}",
        run.stdout
    );
    assert_eq!(before, stat_tree(d), "something was written");
    assert!(!d.join(".capm").exists());

    // The same for install, update and remove on an installed project.
    assert_eq!(capm(d, &["add", "time", "-y"]).code, 0);
    let manifest = read(d, "capm.toml").replace("[bundles]\n", "[bundles]\nmemory = \"^1.0\"\n");
    write_files(d, &[("capm.toml", &manifest)]);
    let before = stat_tree(d);
    for args in [
        &["install"][..],
        &["remove", "time"],
        &["update", "--latest"],
        &["add", "docs-writing"],
    ] {
        // Each has something to do: `memory` is wanted but not installed.
        let run = capm(d, args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("error[not-confirmed]"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(before, stat_tree(d), "{args:?} wrote something");
    }

    // --dry-run shows the plan, succeeds, and writes nothing.
    let dry = capm(d, &["add", "code-review", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("create   agent:reviewer"),
        "{}",
        dry.stdout
    );
    let dry_yes = capm(d, &["install", "--dry-run", "-y"]);
    assert_eq!(dry_yes.code, 0, "{}", dry_yes.stderr);
    assert_eq!(before, stat_tree(d), "--dry-run wrote something");
}

#[test]
fn a_blocked_plan_writes_nothing() {
    let dir = project();
    let d = dir.path();
    write_files(
        d,
        &[(
            "opencode.json",
            "{\n  \"mcp\": { \"github\": { \"type\": \"local\", \"command\": [\"my-github\"] } }\n}\n",
        )],
    );
    let before = stat_tree(d);
    let run = capm(d, &["add", "github", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("error[plan-blocked]"), "{}", run.stderr);
    assert!(
        run.stdout.contains("BLOCKED  mcp:github") && run.stdout.contains("conflict-user-owned"),
        "{}",
        run.stdout
    );
    assert_eq!(before, stat_tree(d), "a blocked plan wrote something");
    let json = capm(d, &["add", "github", "-y", "--format", "json"]);
    assert_eq!(json.code, 1);
    assert_eq!(json.json()["outcome"], "blocked");
    assert_eq!(before, stat_tree(d));
}

#[test]
fn a_read_only_config_is_refused_and_left_alone() {
    let dir = project();
    let d = dir.path();
    let user = "{\n  \"theme\": \"dark\" // mine\n}\n";
    write_files(d, &[("opencode.json", user)]);
    let config = d.join("opencode.json");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = tree(d);
    let run = capm(d, &["add", "github", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error[read-only-target]")
            && run.stderr.contains("`opencode.json` is read-only"),
        "{}",
        run.stderr
    );
    assert_eq!(read(d, "opencode.json"), user);
    assert_eq!(mode(&config), 0o444);
    let after = tree(d);
    assert_eq!(
        before,
        without_meta(after.clone()),
        "user files were written"
    );
    // At most capm's state directory appears; no journal, backup or staged file in it.
    let meta: Vec<&String> = after.keys().filter(|k| k.starts_with(".capm")).collect();
    for k in &meta {
        assert!(
            [".capm/", ".capm/.gitignore", ".capm/lock"].contains(&k.as_str()),
            "unexpected `{k}` after a refused apply"
        );
    }
}

#[test]
fn a_linked_config_is_written_through_inside_the_project_and_refused_outside() {
    let dir = project();
    let d = dir.path();
    let user = "{\n  \"theme\": \"dark\"\n}\n";
    write_files(d, &[("conf/real.json", user)]);
    std::os::unix::fs::symlink("conf/real.json", d.join("opencode.json")).unwrap();
    let run = capm(d, &["add", "github", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let link = std::fs::symlink_metadata(d.join("opencode.json")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert_eq!(
        std::fs::read_link(d.join("opencode.json")).unwrap(),
        Path::new("conf/real.json")
    );
    let real: serde_json::Value = serde_json::from_str(&read(d, "conf/real.json")).unwrap();
    assert_eq!(real["theme"], "dark");
    assert_eq!(real["mcp"]["github"]["type"], "remote");
    assert!(!d.join("conf/.capm-new").exists());
    assert_eq!(capm(d, &["doctor"]).code, 0);
    // And back: the real file is the user's again, byte for byte.
    let remove = capm(d, &["remove", "github", "-y"]);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    assert!(
        std::fs::symlink_metadata(d.join("opencode.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(read(d, "conf/real.json"), user);

    // A link leading out of the project.
    let outside = tempdir();
    write_files(outside.path(), &[("real.json", user)]);
    let dir = project();
    let d = dir.path();
    std::os::unix::fs::symlink(outside.path().join("real.json"), d.join("opencode.json")).unwrap();
    let before = tree(d);
    let outside_before = stat_tree(outside.path());
    let run = capm(d, &["add", "github", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error[unsafe-path]") && run.stderr.contains("outside the scope"),
        "{}",
        run.stderr
    );
    assert_eq!(before, without_meta(tree(d)), "the project was written");
    assert_eq!(
        outside_before,
        stat_tree(outside.path()),
        "outside was written"
    );
}

#[test]
fn a_file_the_user_modified_is_kept_on_remove_and_purged_on_request() {
    let dir = project();
    let d = dir.path();
    assert_eq!(capm(d, &["add", "code-review", "-y"]).code, 0);
    let agent = ".opencode/agents/reviewer.md";
    let mine = read(d, agent) + "\nMy own rule: be kind.\n";
    write_files(d, &[(agent, &mine)]);
    let doctor = capm(d, &["doctor", "--format", "json"]);
    assert_eq!(doctor.code, 0, "a modified file is a state, not a fault");
    let report = doctor.json();
    let modified: Vec<&serde_json::Value> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "ok")
        .collect();
    assert_eq!(modified.len(), 1, "{modified:?}");
    assert_eq!(modified[0]["id"], "agent:reviewer");
    assert_eq!(modified[0]["status"], "modified");

    let run = capm(d, &["remove", "code-review", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(masked(&run));
    assert!(run.stdout.contains("kept-user-modified"), "{}", run.stdout);
    assert_eq!(read(d, agent), mine, "the user's edit is gone");
    assert!(!d.join(".opencode/commands").exists());
    assert!(!d.join(".opencode/skills").exists());
    assert!(
        lock_resources(d).is_empty(),
        "the kept file is the user's now"
    );
    assert!(!read(d, "capm.toml").contains("code-review ="));

    // With --purge it goes.
    let dir = project();
    let d = dir.path();
    assert_eq!(capm(d, &["add", "code-review", "-y"]).code, 0);
    write_files(d, &[(agent, &mine)]);
    let run = capm(d, &["remove", "code-review", "--purge", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("purged-user-modified"),
        "{}",
        run.stdout
    );
    assert!(!d.join(".opencode").exists(), "{:?}", tree(d).keys());
    assert!(lock_resources(d).is_empty());
}

#[test]
fn a_new_version_of_a_file_the_user_modified_is_written_beside_it() {
    let dir = tempdir();
    let d = dir.path();
    assert_eq!(capm(d, &["new", "kit"]).code, 0);
    let agent_v1 = "---\ndescription: Helps with the kit\nmode: subagent\n---\n\nVersion one.\n";
    let agent_v2 = "---\ndescription: Helps with the kit\nmode: subagent\n---\n\nVersion two.\n";
    let manifest = read(d, "kit/bundle.toml") + "\n[agents.helper]\npath = \"agents/helper.md\"\n";
    write_files(
        d,
        &[
            ("kit/bundle.toml", &manifest),
            ("kit/agents/helper.md", agent_v1),
        ],
    );
    assert_eq!(capm(d, &["lint", "kit", "-D"]).code, 0);
    let p = d.join("proj");
    write_files(
        &p,
        &[("capm.toml", "[bundles]\nkit = { path = \"../kit\" }\n")],
    );
    let first = capm(&p, &["install", "-y"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let agent = ".opencode/agents/helper.md";
    assert_eq!(read(&p, agent), agent_v1);

    let mine = format!("{agent_v1}\nMy own line.\n");
    write_files(&p, &[(agent, &mine)]);
    write_files(d, &[("kit/agents/helper.md", agent_v2)]);
    let run = capm(&p, &["install", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("conflict-user-modified"),
        "{}",
        run.stdout
    );
    assert_eq!(read(&p, agent), mine, "the user's edit was overwritten");
    assert_eq!(read(&p, &format!("{agent}.capm-new")), agent_v2);
    assert!(
        run.stderr.contains("warning:")
            && run
                .stderr
                .contains("capm's is at `.opencode/agents/helper.md.capm-new`"),
        "{}",
        run.stderr
    );
    // capm.lock records the version capm proposed, so the edit stays visible as one.
    let doctor = capm(&p, &["doctor"]);
    assert_eq!(doctor.code, 0, "{}", doctor.stdout);
    assert!(
        doctor
            .stdout
            .lines()
            .any(|l| l.starts_with("modified") && l.contains("agent:helper")),
        "{}",
        doctor.stdout
    );
    // Once written, the proposal is not written again.
    let before = stat_tree(&p);
    let again = capm(&p, &["install", "-y"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(before, stat_tree(&p));
}

#[test]
fn a_saved_plan_is_applied_exactly_or_refused_when_stale() {
    let dir = project();
    let d = dir.path();
    let plan = capm(d, &["plan", "install", "github", "--out", "p.json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let run = capm(d, &["apply", "--plan", "p.json", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        read(d, "capm.toml").contains("[bundles]\ngithub = \"^1.0.0\"\n"),
        "{}",
        read(d, "capm.toml")
    );
    assert_eq!(lock_bundles(d), ["github"]);
    assert!(
        d.join(".opencode/skills/github-operations/SKILL.md")
            .is_file()
    );
    let config: serde_json::Value = serde_json::from_str(&read(d, "opencode.json")).unwrap();
    assert_eq!(config["mcp"]["github"]["type"], "remote");

    // A plan saved, then the config changed by someone else: refused.
    let plan = capm(d, &["plan", "install", "time", "--out", "q.json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let changed = read(d, "opencode.json").replacen('{', "{\n  \"theme\": \"dark\",", 1);
    write_files(d, &[("opencode.json", &changed)]);
    let before = stat_tree(d);
    let run = capm(d, &["apply", "--plan", "q.json", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("error[plan-stale]"), "{}", run.stderr);
    assert_eq!(before, stat_tree(d), "a stale plan wrote something");
    assert!(!read(d, "capm.toml").contains("time ="));
}

#[test]
fn locked_refuses_a_stale_lock_and_accepts_a_current_one() {
    let dir = project();
    let d = dir.path();
    assert_eq!(capm(d, &["add", "time", "-y"]).code, 0);
    let ok = capm(d, &["install", "--locked", "--dry-run"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);

    // capm.toml edited by hand: the lock no longer matches it.
    let manifest = read(d, "capm.toml").replace("[bundles]\n", "[bundles]\nmemory = \"^1.0\"\n");
    write_files(d, &[("capm.toml", &manifest)]);
    let before = stat_tree(d);
    for args in [
        &["install", "--locked", "--dry-run"][..],
        &["install", "--locked", "-y"],
    ] {
        let run = capm(d, args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("error[lock-stale]") && run.stderr.contains("memory"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(before, stat_tree(d), "{args:?} wrote something");
    }
    // Without --locked the same install goes ahead.
    assert_eq!(capm(d, &["install", "-y"]).code, 0);
    assert_eq!(lock_bundles(d), ["memory", "time"]);
    assert_eq!(capm(d, &["install", "--locked", "--dry-run"]).code, 0);
}

/// A child process holding an exclusive lock on `dir/.capm/lock`, once it says so.
fn hold_lock(dir: &Path) -> Child {
    std::fs::create_dir_all(dir.join(".capm")).unwrap();
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import fcntl, sys, time\n\
             f = open('.capm/lock', 'a')\n\
             fcntl.flock(f, fcntl.LOCK_EX)\n\
             print('locked', flush=True)\n\
             time.sleep(60)\n",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "locked\n");
    child
}

#[test]
fn a_held_lock_makes_capm_wait_then_give_up_and_the_next_one_proceeds() {
    let dir = project();
    let d = dir.path();
    write_files(d, &[("capm.toml", "[bundles]\ntime = \"^1.0\"\n")]);
    let mut holder = hold_lock(d);
    let before = stat_tree(d);
    let start = std::time::Instant::now();
    let run = capm_env(d, &["install", "-y"], &[("CAPM_LOCK_TIMEOUT", "1")]);
    let waited = start.elapsed();
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("Waiting for lock"), "{}", run.stderr);
    assert!(
        run.stderr.contains("is locked by another capm process"),
        "{}",
        run.stderr
    );
    assert!(
        waited >= std::time::Duration::from_millis(900),
        "gave up after {waited:?}"
    );
    assert_eq!(before, stat_tree(d), "a locked-out capm wrote something");

    // The holder is gone: the next capm proceeds at once.
    let run = capm_env(d, &["install", "-y"], &[("CAPM_LOCK_TIMEOUT", "1")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("Waiting"), "{}", run.stderr);
    assert_eq!(lock_bundles(d), ["time"]);
}

#[test]
fn two_adds_at_once_both_succeed_and_the_second_sees_the_first() {
    for round in 0..3 {
        let dir = project();
        let d = dir.path();
        let env = [("CAPM_LOCK_TIMEOUT", "20")];
        let a = command(d, &["add", "time", "-y"], &env).spawn().unwrap();
        let b = command(d, &["add", "memory", "-y"], &env).spawn().unwrap();
        let (a, b) = (finish(a), finish(b));
        assert_eq!(a.code, 0, "round {round}, add time:\n{}", a.stderr);
        assert_eq!(b.code, 0, "round {round}, add memory:\n{}", b.stderr);
        let manifest = read(d, "capm.toml");
        assert!(
            manifest.contains("time = \"^1.0.0\"") && manifest.contains("memory = \"^1.0.0\""),
            "{manifest}"
        );
        assert_eq!(lock_bundles(d), ["memory", "time"]);
        let bundles: Vec<String> = lock_resources(d).into_iter().map(|r| r.1).collect();
        assert!(
            bundles.contains(&"time".to_string()) && bundles.contains(&"memory".to_string()),
            "{bundles:?}"
        );
        assert_eq!(capm(d, &["doctor"]).code, 0);
    }
}

/// Checks a JSON document against a checked-in schema.
fn assert_valid(doc: &serde_json::Value, schema: &str) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas").join(schema)).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn json_output_is_one_document() {
    let dir = project();
    let d = dir.path();
    let add = capm(d, &["add", "time", "-y", "--format", "json"]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    let doc = add.json();
    assert_valid(&doc, "apply.schema.json");
    assert_eq!(doc["schema"], "capm.apply/v1");
    assert_eq!(doc["outcome"], "applied");
    assert_eq!(doc["plan"]["schema"], "capm.plan/v1");
    assert!(doc["proposals"].is_array());
    assert!(!add.stdout.contains("Plan: install"), "{}", add.stdout);

    let install = capm(d, &["install", "--format", "json"]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    let doc = install.json();
    assert_valid(&doc, "apply.schema.json");
    assert_eq!(doc["schema"], "capm.apply/v1");
    assert_eq!(doc["outcome"], "noop");
    let doctor = capm(d, &["doctor", "--format", "json"]);
    assert_valid(&doctor.json(), "doctor.schema.json");

    let dry = capm(d, &["add", "memory", "--dry-run", "--format", "json"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(dry.json()["outcome"], "dry-run");

    let declined = capm(d, &["add", "memory", "--format", "json"]);
    assert_eq!(declined.code, 1, "{}", declined.stderr);
    assert_eq!(declined.json()["outcome"], "declined");
    assert_valid(&declined.json(), "apply.schema.json");
    assert!(declined.stderr.contains("error[not-confirmed]"));
}

/// One journal line: the first 16 hex digits of the JSON's sha256, a tab, the JSON.
fn journal_line(record: serde_json::Value) -> String {
    use sha2::Digest;
    let json = record.to_string();
    let sum: String = sha2::Sha256::digest(json.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}\t{json}\n", &sum[..16])
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let hex: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// A journal of transaction `id` that, were it rolled back, would delete `path` (it
/// claims to have created it with the content it has now).
fn hostile_journal(id: &str, path: &str, content: &[u8]) -> String {
    journal_line(serde_json::json!({ "record": "begin", "id": id }))
        + &journal_line(serde_json::json!({
            "record": "op",
            "seq": 0,
            "kind": "write-file",
            "path": path,
            "post": sha256(content),
        }))
}

#[test]
fn a_journal_naming_paths_outside_the_project_is_refused_and_nothing_touched() {
    let base = tempdir();
    let d = &base.path().join("proj");
    std::fs::create_dir(d).unwrap();
    assert_eq!(capm(d, &["init", "."]).code, 0);
    assert_eq!(capm(d, &["add", "time", "-y"]).code, 0);
    let victim = b"precious\n";
    write_files(base.path(), &[("outside/victim.txt", "precious\n")]);
    std::os::unix::fs::symlink(base.path().join("outside"), d.join("escape")).unwrap();

    for (id, path) in [
        ("abc", "../outside/victim.txt"),
        ("def", "escape/victim.txt"),
    ] {
        let journal = format!(".capm/txn/{id}.jsonl");
        write_files(d, &[(&journal, &hostile_journal(id, path, victim))]);
        let before = stat_tree(base.path());

        let run = capm(d, &["install", "-y"]);
        assert_eq!(run.code, 1, "{path}: {}", run.stderr);
        assert!(
            run.stderr.contains("error[journal-refused]") && run.stderr.contains("help:"),
            "{path}: {}",
            run.stderr
        );
        assert_eq!(
            before,
            stat_tree(base.path()),
            "{path}: something was touched"
        );
        assert_eq!(
            std::fs::read(base.path().join("outside/victim.txt")).unwrap(),
            victim
        );

        // Other mutating commands refuse too.
        let add = capm(d, &["add", "memory", "-y"]);
        assert_eq!(add.code, 1, "{path}: {}", add.stderr);
        assert!(
            add.stderr.contains("error[journal-refused]"),
            "{}",
            add.stderr
        );
        assert_eq!(before, stat_tree(base.path()));

        // The doctor reports it, unhealthy, and touches nothing either.
        let doctor = capm(d, &["doctor"]);
        assert_eq!(doctor.code, 1, "{path}: {}", doctor.stderr);
        assert!(
            doctor
                .stdout
                .lines()
                .any(|l| l.starts_with("problem   journal `")
                    && l.contains(&format!("{journal}` refused"))
                    && l.contains("outside")),
            "{path}: {}",
            doctor.stdout
        );
        let json = capm(d, &["doctor", "--format", "json"]);
        assert_eq!(json.code, 1);
        let report = json.json();
        assert_eq!(report["healthy"], false);
        let refused = report["recovery"]["refused"].as_array().unwrap();
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(
            refused[0]["journal"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{id}.jsonl")),
            "{refused:?}"
        );
        assert_eq!(
            before,
            stat_tree(base.path()),
            "{path}: the doctor touched something"
        );

        std::fs::remove_file(d.join(&journal)).unwrap();
    }
    // With the journals gone, capm works again.
    assert_eq!(capm(d, &["install", "-y"]).code, 0);
}

#[test]
fn a_global_scope_project_installs_into_the_user_config_directory() {
    let dir = project();
    let d = dir.path();
    let manifest = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    std::fs::write(
        d.join("capm.toml"),
        manifest.replace("scope = \"project\"", "scope = \"global\""),
    )
    .unwrap();
    let add = capm(d, &["add", "time", "-y"]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    let global = d.join(".no-user-config/opencode");
    let config = std::fs::read_to_string(global.join("opencode.json")).unwrap();
    assert!(config.contains("\"time\""), "{config}");
    assert!(global.join("skills/time-zones/SKILL.md").is_file());
    assert!(!d.join("opencode.json").exists() && !d.join(".opencode").exists());
    let lock = std::fs::read_to_string(d.join("capm.lock")).unwrap();
    assert!(lock.contains("path = \"skills/time-zones\""), "{lock}");
    assert_eq!(capm(d, &["doctor"]).code, 0);
    let remove = capm(d, &["remove", "time", "-y"]);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    assert!(!global.join("skills").exists());
    // capm created the config file, and nothing else is in it now: it goes too.
    assert!(!global.join("opencode.json").exists());
}

/// A local bundle `name` at `dir/name` with one agent per `(agent, content)`.
fn agent_bundle(dir: &Path, name: &str, agents: &[(&str, &str)]) {
    let mut manifest = format!(
        "[bundle]\nname = \"{name}\"\nversion = \"1.0.0\"\ndescription = \"The {name} bundle\"\nlicense = \"MIT\"\n\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n"
    );
    let root = dir.join(name);
    let _ = std::fs::remove_dir_all(&root);
    for (agent, content) in agents {
        manifest.push_str(&format!(
            "\n[agents.{agent}]\npath = \"agents/{agent}.md\"\n"
        ));
        write_files(&root, &[(&format!("agents/{agent}.md"), content)]);
    }
    write_files(&root, &[("bundle.toml", &manifest)]);
}

fn request(dir: &Path, line: &str) {
    let mut manifest = read(dir, "capm.toml");
    manifest.push_str(line);
    std::fs::write(dir.join("capm.toml"), manifest).unwrap();
}

#[test]
fn a_capm_state_directory_linked_outside_is_refused_by_recovery() {
    let dir = project();
    let d = dir.path();
    let outside = tempdir();
    write_files(outside.path(), &[("Documents/a", "precious\n")]);
    // A committed journal whose clean-up would remove `.capm/backup/Documents`, with
    // `.capm/backup` a link to the user's home.
    std::fs::create_dir_all(d.join(".capm/txn")).unwrap();
    let journal = journal_line(serde_json::json!({"record": "begin", "id": "Documents"}))
        + &journal_line(serde_json::json!({"record": "commit"}));
    std::fs::write(d.join(".capm/txn/Documents.jsonl"), journal).unwrap();
    std::os::unix::fs::symlink(outside.path(), d.join(".capm/backup")).unwrap();
    let doctor = capm(d, &["doctor"]);
    assert_eq!(doctor.code, 1, "{}", doctor.stderr);
    assert!(
        doctor.stdout.contains("is a symbolic link"),
        "{}",
        doctor.stdout
    );
    assert_eq!(read(outside.path(), "Documents/a"), "precious\n");
    let install = capm(d, &["install", "-y"]);
    assert_eq!(install.code, 1, "{}", install.stderr);
    assert!(
        install.stderr.contains("error[journal-refused]"),
        "{}",
        install.stderr
    );
    assert_eq!(read(outside.path(), "Documents/a"), "precious\n");
}

#[test]
fn what_the_user_adds_inside_an_installed_skill_directory_makes_it_theirs() {
    let dir = project();
    let d = dir.path();
    assert_eq!(capm(d, &["add", "code-review", "-y"]).code, 0);
    // Version control and a link inside the installed skill: capm never wrote those.
    write_files(
        d,
        &[(".opencode/skills/code-review/.git/HEAD", "ref: main\n")],
    );
    std::os::unix::fs::symlink(
        "SKILL.md",
        d.join(".opencode/skills/github-operations/alias.md"),
    )
    .unwrap();
    let remove = capm(d, &["remove", "code-review", "-y"]);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    assert!(
        remove.stdout.contains("kept-user-modified"),
        "{}",
        remove.stdout
    );
    assert_eq!(
        read(d, ".opencode/skills/code-review/.git/HEAD"),
        "ref: main\n"
    );
    assert!(
        d.join(".opencode/skills/github-operations/alias.md")
            .is_symlink()
    );
}

#[test]
fn a_resource_two_bundles_provide_identically_stays_when_one_leaves() {
    let dir = project();
    let d = dir.path();
    let same = "---\ndescription: Same\n---\nThe same agent.\n";
    agent_bundle(d, "first", &[("same", same)]);
    agent_bundle(d, "second", &[("same", same)]);
    request(d, "first = { path = \"first\" }\n");
    assert_eq!(capm(d, &["install", "-y"]).code, 0);
    request(d, "second = { path = \"second\" }\n");
    let install = capm(d, &["install", "-y"]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    let remove = capm(d, &["remove", "first", "-y"]);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    assert_eq!(read(d, ".opencode/agents/same.md"), same);
    let owners: Vec<(String, String, String)> = lock_resources(d);
    assert_eq!(
        owners,
        [(
            "agent:same".to_string(),
            "second".to_string(),
            ".opencode/agents/same.md".to_string()
        )]
    );
    let doctor = capm(d, &["doctor"]);
    assert_eq!(doctor.code, 0, "{}{}", doctor.stdout, doctor.stderr);
}

#[test]
fn renaming_a_resource_in_a_directory_replaces_it_in_one_transaction() {
    let dir = project();
    let d = dir.path();
    agent_bundle(d, "kit", &[("one", "---\ndescription: One\n---\nOne.\n")]);
    request(d, "kit = { path = \"kit\" }\n");
    assert_eq!(capm(d, &["install", "-y"]).code, 0);
    agent_bundle(d, "kit", &[("two", "---\ndescription: Two\n---\nTwo.\n")]);
    let install = capm(d, &["install", "-y"]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    assert!(!d.join(".opencode/agents/one.md").exists());
    assert_eq!(
        read(d, ".opencode/agents/two.md"),
        "---\ndescription: Two\n---\nTwo.\n"
    );
}

#[test]
fn a_setting_given_with_input_is_recorded_and_rendered_but_a_secret_never_is() {
    let dir = project();
    let d = dir.path();
    crate::support::db_bundle(d, true);
    request(d, "db = { path = \"db\" }\n");
    // Without a value the plan says which variables the server needs.
    let dry = capm(d, &["install", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("DB_HOST (required): mcp:db"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("DB_PASSWORD (secret, required): mcp:db")
    );
    // A secret's value is refused, and written nowhere.
    let secret = capm(d, &["install", "-y", "--input", "DB_PASSWORD=hunter2"]);
    assert_eq!(secret.code, 1, "{}", secret.stderr);
    assert!(
        secret.stderr.contains("error[input-refused]"),
        "{}",
        secret.stderr
    );
    assert!(
        secret.stderr.contains("`DB_PASSWORD` is a secret"),
        "{}",
        secret.stderr
    );
    assert!(!secret.stderr.contains("hunter2"));
    // A secret of a catalog bundle the project does not use, or any name no server reads,
    // is refused too: a value is recorded only for a setting the plan lists.
    for other in ["BRAVE_API_KEY=sk-hunter2", "NOBODY_READS_THIS=hunter2"] {
        let run = capm(d, &["install", "-y", "--input", other]);
        assert_eq!(run.code, 1, "{other}: {}", run.stderr);
        assert!(
            run.stderr.contains("error[input-refused]"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
    assert!(!read(d, "capm.toml").contains("hunter2"));
    let install = capm(d, &["install", "-y", "--input", "DB_HOST=db.internal"]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    assert!(
        install
            .stderr
            .contains("`DB_PASSWORD` is not set: it is a secret"),
        "{}",
        install.stderr
    );
    let config: serde_json::Value = serde_json::from_str(&read(d, "opencode.json")).unwrap();
    assert_eq!(
        config["mcp"]["db"]["environment"],
        serde_json::json!({"DB_HOST": "db.internal", "DB_PASSWORD": "{env:DB_PASSWORD}"})
    );
    // The setting is recorded; the secret's value appears nowhere.
    let manifest = read(d, "capm.toml");
    assert!(
        manifest.contains("[inputs]\nDB_HOST = \"db.internal\""),
        "{manifest}"
    );
    for (path, bytes) in tree(d) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("hunter2"),
            "the secret's value is in {path}"
        );
    }
    // Recorded, it needs no flag next time.
    let again = capm(d, &["install"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("nothing to do"), "{}", again.stderr);
    let bad = capm(d, &["install", "-y", "--input", "no-equals-sign"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn a_template_takes_a_recorded_setting_and_a_refused_command_line_still_gets_json() {
    let dir = project();
    let d = dir.path();
    write_files(
        d,
        &[(
            "region/bundle.toml",
            "[bundle]\nname = \"region\"\nversion = \"1.0.0\"\ndescription = \"A regional server\"\nlicense = \"MIT\"\n\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n\n[mcp.region]\nurl = \"https://region.example.com/mcp\"\nheaders.X-Region = { template = \"region-{env:REGION}\", required = true }\nheaders.Authorization = { template = \"Bearer {env:REGION_TOKEN}\", secret = true, required = true }\n",
        )],
    );
    request(d, "region = { path = \"region\" }\n");
    let install = capm(d, &["install", "-y", "--input", "REGION=eu"]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    let config: serde_json::Value = serde_json::from_str(&read(d, "opencode.json")).unwrap();
    assert_eq!(
        config["mcp"]["region"]["headers"],
        serde_json::json!({"X-Region": "region-eu", "Authorization": "Bearer {env:REGION_TOKEN}"})
    );
    // A command line clap refuses still gets its error document in JSON mode.
    let bad = capm(d, &["add", "time", "--format", "json", "--bogus"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let doc = bad.json();
    assert_eq!(doc["schema"], "capm.error/v1", "{doc}");
    assert_eq!(doc["exit"], 2);
}

#[test]
fn list_shows_what_capm_lock_records_as_installed() {
    let dir = project();
    let d = dir.path();
    let empty = capm(d, &["list"]);
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert!(
        empty.stderr.contains("no bundles installed"),
        "{}",
        empty.stderr
    );
    assert_eq!(capm(d, &["add", "code-review", "-y"]).code, 0);
    let list = capm(d, &["list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    insta::assert_snapshot!(list.stdout, @r"
    code-review  1.0.0      catalog
                   agent:reviewer           .opencode/agents/reviewer.md        (opencode)
                   command:review           .opencode/commands/review.md        (opencode)
                   skill:code-review        .opencode/skills/code-review        (opencode)
    github       1.0.0      catalog (dependency)
                   mcp:github               opencode.json#/mcp/github           (opencode)
                   skill:github-operations  .opencode/skills/github-operations  (opencode)
    ");
}

#[test]
fn a_journal_whose_conflict_directory_links_outside_is_refused() {
    let base = tempdir();
    let d = &base.path().join("proj");
    std::fs::create_dir(d).unwrap();
    assert_eq!(capm(d, &["init", "."]).code, 0);
    write_files(
        base.path(),
        &[
            ("outside/target.txt", "precious\n"),
            ("proj/x/target.txt", "mine\n"),
        ],
    );
    // Were it rolled back, its conflict copy would go through the link, over the victim.
    let id = "deadbeefdeadbeef";
    let journal = journal_line(serde_json::json!({ "record": "begin", "id": id }))
        + &journal_line(serde_json::json!({
            "record": "op",
            "seq": 0,
            "kind": "replace-file",
            "path": "x/target.txt",
            "pre": sha256(b"before\n"),
            "post": sha256(b"capm's\n"),
        }));
    write_files(
        d,
        &[
            (&format!(".capm/txn/{id}.jsonl"), &journal),
            (&format!(".capm/backup/{id}/0"), "ATTACKER\n"),
        ],
    );
    std::fs::create_dir_all(d.join(format!(".capm/conflicts/{id}"))).unwrap();
    std::os::unix::fs::symlink(
        base.path().join("outside"),
        d.join(format!(".capm/conflicts/{id}/x")),
    )
    .unwrap();
    let before = stat_tree(base.path());
    let run = capm(d, &["doctor"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("refused") || run.stderr.contains("refused"),
        "{}",
        run.stderr
    );
    assert_eq!(read(base.path(), "outside/target.txt"), "precious\n");
    // Only capm's lock file and `.gitignore` may appear; nothing else is touched.
    let mut now = stat_tree(base.path());
    for bookkeeping in ["proj/.capm", "proj/.capm/lock", "proj/.capm/.gitignore"] {
        now.remove(bookkeeping);
    }
    let mut before = before;
    before.remove("proj/.capm");
    assert_eq!(now, before, "nothing touched");
}

#[test]
fn capm_never_writes_its_gitignore_through_a_link() {
    let base = tempdir();
    let d = &base.path().join("proj");
    std::fs::create_dir(d).unwrap();
    assert_eq!(capm(d, &["init", "."]).code, 0);
    assert_eq!(capm(d, &["add", "time", "-y"]).code, 0);
    write_files(base.path(), &[("victim.txt", "precious\n")]);
    std::fs::remove_file(d.join(".capm/.gitignore")).unwrap();
    std::os::unix::fs::symlink(base.path().join("victim.txt"), d.join(".capm/.gitignore")).unwrap();
    let run = capm(d, &["doctor"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(read(base.path(), "victim.txt"), "precious\n");
    let meta = std::fs::symlink_metadata(d.join(".capm/.gitignore")).unwrap();
    assert!(meta.is_file(), "the link is replaced by capm's own file");

    // `.capm` itself a link (to the project, whose .gitignore it would replace): refused.
    let d = &base.path().join("linked");
    std::fs::create_dir(d).unwrap();
    assert_eq!(capm(d, &["init", "."]).code, 0);
    write_files(d, &[(".gitignore", "node_modules/\n")]);
    std::os::unix::fs::symlink(".", d.join(".capm")).unwrap();
    let run = capm(d, &["add", "time", "-y"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(read(d, ".gitignore"), "node_modules/\n");
}
