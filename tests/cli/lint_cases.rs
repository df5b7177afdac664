//! Data-driven lint cases: every folder under `tests/cases/lint/` is a case. Its `cmd` file
//! holds the arguments; the rest of the folder is the input. The transcript (exit code,
//! stdout, stderr) is a snapshot, and the folder must be byte-identical afterwards.

use crate::support::{capm, copy_dir, tempdir, tree};

#[test]
fn lint_cases() {
    insta::glob!("../cases/lint", "*/cmd", |cmd_path| {
        let case_dir = cmd_path.parent().unwrap();
        let work = tempdir();
        copy_dir(case_dir, work.path());
        std::fs::remove_file(work.path().join("cmd")).unwrap();
        let cmd = std::fs::read_to_string(cmd_path).unwrap();
        let args: Vec<&str> = cmd.split_whitespace().collect();
        let before = tree(work.path());
        let run = capm(work.path(), &args);
        assert_eq!(
            before,
            tree(work.path()),
            "lint changed files in {}",
            case_dir.display()
        );
        insta::assert_snapshot!(run.transcript());
    });
}
