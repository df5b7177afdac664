//! Data-driven plan cases: every folder under `tests/cases/plan/` is a project (capm.toml,
//! maybe capm.lock, OpenCode config files with the user's own entries, bundles by path).
//! Its `cmd` file holds the arguments and an optional `env` file `KEY=VALUE` lines (`{dir}`
//! is the case's directory). The transcript is a snapshot, and planning must leave the
//! folder byte-identical.

use std::process::Command;

use crate::support::{Run, bin, copy_dir, tempdir, tree};

#[test]
fn plan_cases() {
    insta::glob!("../cases/plan", "*/cmd", |cmd_path| {
        let case_dir = cmd_path.parent().unwrap();
        let work = tempdir();
        copy_dir(case_dir, work.path());
        std::fs::remove_file(work.path().join("cmd")).unwrap();
        let env_text = std::fs::read_to_string(work.path().join("env")).unwrap_or_default();
        let _ = std::fs::remove_file(work.path().join("env"));
        let cmd = std::fs::read_to_string(cmd_path).unwrap();
        let before = tree(work.path());
        let mut command = Command::new(bin());
        command
            .args(cmd.split_whitespace())
            .current_dir(work.path())
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE");
        for line in env_text.lines().filter(|l| !l.trim().is_empty()) {
            let (k, v) = line.split_once('=').unwrap();
            command.env(k, v.replace("{dir}", &work.path().display().to_string()));
        }
        let out = command.output().unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        assert_eq!(
            before,
            tree(work.path()),
            "planning changed files in {}",
            case_dir.display()
        );
        let mut transcript = run
            .transcript()
            .replace(&work.path().display().to_string(), "[CASE]");
        if transcript.contains("[CASE]") {
            // The fingerprint covers the files read, here named by a temporary path.
            transcript = transcript
                .lines()
                .map(
                    |l| match l.find("sha256:").filter(|_| l.contains("ingerprint")) {
                        Some(i) => format!("{}[FINGERPRINT]", &l[..i]),
                        None => l.to_string(),
                    },
                )
                .collect::<Vec<_>>()
                .join("\n")
                + "\n";
        }
        insta::assert_snapshot!(transcript);
    });
}
