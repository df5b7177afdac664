//! What the user sees when the operating system says no: every error names its file and
//! what capm was doing, exit codes follow one rule (a file's content refused: 1; I/O
//! failed: 2; locked by another capm: 3), and clean-up that fails after the commit point
//! never blocks the next command. Uses a small tmpfs for a full disk and `chattr +i` for
//! an undeletable file; where the machine cannot do either, the test says so and skips.

use std::path::Path;
use std::process::Command;

use crate::support::{capm, project, tree, write_files};

/// A project using a path bundle with a skill, installed.
fn installed_tool(dir: &Path) {
    write_files(
        dir,
        &[
            ("capm.toml", "[bundles]\ntool = { path = \"tool\" }\n"),
            (
                "tool/bundle.toml",
                "[bundle]\nname = \"tool\"\nversion = \"1.0.0\"\ndescription = \"A tool\"\n\n\
                 [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
                 [skills.notes]\npath = \"skills/notes\"\n",
            ),
            (
                "tool/skills/notes/SKILL.md",
                "---\nname: notes\ndescription: Takes notes\n---\nNotes.\n",
            ),
            ("tool/skills/notes/data.txt", "data\n"),
        ],
    );
    let run = capm(dir, &["install", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Says so past the test harness's capture: a skip is never silent.
fn skip(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\nSKIPPED: {why}\n");
}

#[test]
fn a_directory_where_the_lock_file_goes_is_an_io_error_naming_it() {
    let dir = project();
    std::fs::create_dir_all(dir.path().join(".capm/lock")).unwrap();
    let before = tree(dir.path());
    let run = capm(dir.path(), &["add", "time", "-y"]);
    assert_eq!(run.code, 2, "an I/O failure, not `locked`: {}", run.stderr);
    assert!(
        run.stderr.contains(".capm/lock`") && run.stderr.contains("Is a directory"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("another capm"), "{}", run.stderr);
    let mut now = tree(dir.path());
    // capm's own `.gitignore` beside the lock is all it may have written.
    now.remove(".capm/.gitignore");
    assert_eq!(now, before, "nothing of the user's written");
}

/// A tmpfs with room for `inodes` entries, mounted at `at`; `None` where mounting is not
/// allowed.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &Path, inodes: usize) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size=1m,nr_inodes={inodes}"))
            .arg("tmpfs")
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_at_the_lock_file_is_exit_2_with_its_path() {
    let outer = crate::support::tempdir();
    let at = outer.path().join("full");
    let Some(_fs) = Tmpfs::mount(&at, 64) else {
        return skip("cannot mount a tmpfs here (needs root); the full-disk test did not run");
    };
    let init = capm(&at, &["init", at.to_str().unwrap()]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    std::fs::create_dir(at.join(".capm")).unwrap();
    std::fs::write(
        at.join(".capm/.gitignore"),
        "# capm's state for this scope; never committed\n*\n",
    )
    .unwrap();
    // Use up every inode left.
    for i in 0.. {
        if std::fs::write(at.join(format!("filler-{i}")), "").is_err() {
            break;
        }
    }
    let before = tree(&at);
    let run = capm(&at, &["add", "time", "-y"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(".capm/lock") && run.stderr.contains("No space left on device"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(&at), before, "nothing written");
}

#[test]
fn files_that_are_not_utf8_are_refused_content_with_exit_1() {
    // capm.toml
    let dir = project();
    std::fs::write(dir.path().join("capm.toml"), b"[bundles]\nx = \"\xff\"\n").unwrap();
    let run = capm(dir.path(), &["install", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // capm.lock
    let dir = project();
    std::fs::write(dir.path().join("capm.lock"), b"version = 1\n\xfe\n").unwrap();
    let run = capm(dir.path(), &["install", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("capm.lock") && run.stderr.contains("UTF-8"),
        "{}",
        run.stderr
    );
    // opencode.jsonc
    let dir = project();
    std::fs::write(
        dir.path().join("opencode.jsonc"),
        b"{\n  \"theme\": \"\xc3\"\n}\n",
    )
    .unwrap();
    let before = tree(dir.path());
    let run = capm(dir.path(), &["add", "time", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("not UTF-8") && run.stdout.contains("(opencode.jsonc:2:13)"),
        "the plan shows where: {}",
        run.stdout
    );
    assert!(run.stderr.contains("error[plan-blocked]"), "{}", run.stderr);
    assert_eq!(tree(dir.path()), before, "nothing written");
}

fn chattr(flag: &str, path: &Path) -> bool {
    Command::new("chattr")
        .arg(flag)
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn an_undeletable_leftover_is_reported_and_never_blocks_the_next_command() {
    let dir = crate::support::tempdir();
    installed_tool(dir.path());
    let stuck = dir.path().join(".opencode/skills/notes/data.txt");
    if !chattr("+i", &stuck) {
        return skip("chattr +i is not possible here (needs root); the clean-up test did not run");
    }
    let removed = capm(dir.path(), &["remove", "tool", "-y", "--format", "json"]);
    // Undo the flag before any assertion can fail, so the directory can be deleted.
    let trashed: Vec<_> = walk(&dir.path().join(".capm/trash"));
    for f in &trashed {
        chattr("-i", f);
    }
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert!(
        removed.stderr.contains("warning: could not delete")
            && removed.stderr.contains("data.txt")
            && removed.stderr.contains("Operation not permitted"),
        "the leftover is named: {}",
        removed.stderr
    );
    let doc = removed.json();
    assert_eq!(doc["outcome"], "applied");
    assert!(
        doc["leftovers"][0]
            .as_str()
            .is_some_and(|l| l.contains("data.txt")),
        "a program reading the JSON is told too: {doc:#}"
    );
    assert!(!dir.path().join(".opencode/skills/notes").exists());
    assert!(!trashed.is_empty(), "the skill went to the trash");
    // Still stuck: the next commands work, and say so again.
    for f in &trashed {
        chattr("+i", f);
    }
    let install = capm(dir.path(), &["install", "-y"]);
    let doctor = capm(dir.path(), &["doctor"]);
    for f in &trashed {
        chattr("-i", f);
    }
    assert_eq!(install.code, 0, "{}", install.stderr);
    assert!(
        install.stderr.contains("could not delete"),
        "{}",
        install.stderr
    );
    assert_eq!(doctor.code, 0, "{}", doctor.stderr);
    assert!(doctor.stderr.contains("data.txt"), "{}", doctor.stderr);
    // Once it can be deleted, the next run does.
    let doctor = capm(dir.path(), &["doctor"]);
    assert_eq!(doctor.code, 0, "{}", doctor.stderr);
    assert!(
        !doctor.stderr.contains("could not delete"),
        "{}",
        doctor.stderr
    );
    assert!(!dir.path().join(".capm/trash").exists());
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_registry_index_that_is_not_utf8_is_refused_content_with_exit_1() {
    let dir = crate::support::tempdir();
    write_files(
        dir.path(),
        &[(
            "capm.toml",
            "[bundles]\nkit = { version = \"^1\", registry = \"team\" }\n\n\
             [registries]\nteam = { path = \"registry\" }\n",
        )],
    );
    std::fs::create_dir_all(dir.path().join("registry")).unwrap();
    std::fs::write(
        dir.path().join("registry/index.toml"),
        b"version = 1\n\xff\n",
    )
    .unwrap();
    let run = capm(dir.path(), &["tree"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("index.toml") && run.stderr.contains("not UTF-8"),
        "{}",
        run.stderr
    );
}
