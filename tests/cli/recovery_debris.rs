//! A run stopped while emptying the trash leaves `.capm/trash/` empty: the next mutating
//! run, or `doctor`, removes it, and a read-only one reports it without touching it.

use crate::support::{capm, project, tree};

#[test]
fn an_empty_trash_left_by_a_stopped_run_is_removed_by_the_next() {
    let dir = project();
    let d = dir.path();
    let run = capm(d, &["add", "memory", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::create_dir_all(d.join(".capm/trash")).unwrap();
    // Read-only: the directory stays.
    let before = tree(d);
    assert_eq!(capm(d, &["list"]).code, 0);
    assert_eq!(tree(d), before);
    let doctor = capm(d, &["doctor"]);
    assert_eq!(doctor.code, 0, "{}", doctor.stderr);
    assert!(!d.join(".capm/trash").exists(), "{}", doctor.stderr);
}
