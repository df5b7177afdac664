//! Read-only commands write nothing, even when an interrupted transaction waits for
//! recovery: they report it and what recovery will do, and their plans never take capm's
//! half-applied writes for the user's files. Needs the `failpoints` feature (CI builds the
//! tests with `--all-features`) to leave a transaction interrupted for real.
#![cfg(feature = "failpoints")]

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use super::support::{Run, capm, command, tempdir, tree};

use super::fixtures;

pub(crate) const PENDING: &str = "an interrupted transaction is pending; `capm doctor` (or the next mutating command) will recover it: roll back transaction";

/// The crash fixture installed at v1, then an update to v2 killed after its second swap:
/// the scope holds half of v2 and a journal waits in `.capm/txn/`.
pub(crate) fn interrupted() -> tempfile::TempDir {
    let dir = tempdir();
    fixtures::base(dir.path());
    let run = capm(dir.path(), &["install", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    fixtures::to_v2(dir.path());
    let out = command(dir.path(), &["update", "-y"])
        .env("CAPM_FAILPOINTS", "swapped#2=abort")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the update was killed");
    let journals = std::fs::read_dir(dir.path().join(".capm/txn"))
        .unwrap()
        .count();
    assert_eq!(journals, 1, "a journal waits for recovery");
    dir
}

fn serve(dir: &Path, lines: &[&str]) -> String {
    let mut child = command(dir, &["serve", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for l in lines {
        writeln!(stdin, "{l}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Every read-only command, run over the interrupted transaction: the whole tree
/// (`.capm/` included, so no lock file is created and nothing is recovered) is the same
/// byte for byte afterwards.
#[test]
fn read_only_commands_never_recover_or_write() {
    let dir = interrupted();
    let p = dir.path();
    let before = tree(p);
    let commands: &[&[&str]] = &[
        &["plan", "install"],
        &["plan", "install", "--format", "json"],
        &["plan", "update"],
        &["plan", "uninstall", "tool"],
        &["install", "--dry-run"],
        &["install", "--dry-run", "--format", "json"],
        &["add", "tool", "--dry-run"],
        &["update", "--dry-run"],
        &["remove", "tool", "--dry-run"],
        &["list"],
        &["list", "--format", "json"],
        &["tree"],
        &["why", "mcp:tool"],
        &["graph", "--format", "json"],
    ];
    for args in commands {
        let run = capm(p, args);
        assert_eq!(tree(p), before, "`capm {}` wrote", args.join(" "));
        let shown = format!("{}{}", run.stdout, run.stderr);
        assert!(
            shown.contains(PENDING),
            "`capm {}` does not report the pending transaction:\n{}",
            args.join(" "),
            run.transcript()
        );
    }
    let answers = serve(
        p,
        &[
            r#"{"jsonrpc":"2.0","id":1,"method":"plan","params":{"project":".","operation":"update"}}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"status","params":{"project":"."}}"#,
        ],
    );
    assert_eq!(tree(p), before, "`capm serve` wrote");
    assert_eq!(answers.matches(PENDING).count(), 2, "{answers}");
}

/// The plans themselves: blocked with the reason and no action computed from the
/// half-applied tree (no `adopt` of capm's own unfinished writes); exit 1.
#[test]
fn plans_over_an_interrupted_transaction_are_blocked_with_the_reason() {
    let dir = interrupted();
    let p = dir.path();
    for args in [
        &["plan", "update", "--format", "json"][..],
        &["install", "--dry-run", "--format", "json"],
    ] {
        let run = capm(p, args);
        assert_eq!(run.code, 1, "{}", run.transcript());
        let doc = run.json();
        let plan = doc.get("plan").unwrap_or(&doc);
        assert_eq!(plan["status"], "blocked");
        assert_eq!(plan["actions"], serde_json::json!([]), "{plan:#}");
        assert_eq!(plan["findings"][0]["code"], "recovery-pending");
        let message = plan["findings"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(PENDING), "{message}");
        assert!(message.contains("`capm.lock`"), "{message}");
    }
    let human: Run = capm(p, &["plan", "update"]);
    assert_eq!(human.code, 1);
    assert!(
        human.stdout.contains("error[recovery-pending]"),
        "{}",
        human.stdout
    );
    // Once recovered, the same plan is the real one: v1 is back, v2 updates it.
    let doctor = capm(p, &["doctor"]);
    assert_eq!(doctor.code, 0, "{}", doctor.transcript());
    let after = capm(p, &["plan", "update", "--format", "json"]).json();
    assert_eq!(after["status"], "ready", "{after:#}");
    let actions: Vec<&str> = after["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(!actions.contains(&"adopt"), "{actions:?}");
    assert!(actions.contains(&"update"), "{actions:?}");
}

/// Killed after capm.lock was replaced: the transaction committed, every target holds its
/// new content, so the plan is exact (nothing to do) and only says that clean-up waits.
#[test]
fn a_committed_transaction_leaves_the_plan_exact() {
    let dir = tempdir();
    let p = dir.path();
    fixtures::base(p);
    let out = command(p, &["install", "-y"])
        .env("CAPM_FAILPOINTS", "lock-replaced=abort")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the install was killed");
    let before = tree(p);
    let run = capm(p, &["install", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("will recover it: finish committed transaction")
            && run.stderr.contains("nothing to do"),
        "{}",
        run.transcript()
    );
    let plan = capm(p, &["plan", "install", "--format", "json"]).json();
    assert_eq!(plan["status"], "noop", "{plan:#}");
    assert_eq!(plan["findings"][0]["code"], "recovery-finishing");
    assert_eq!(tree(p), before, "a read-only command wrote");
}
