//! capm.toml as the mutating commands leave it: the user's comments stay beside what capm
//! changes, a settled conflict stays settled while its resource stays, and capm removes
//! only what its own edits emptied.

use crate::support::{capm, project, tree};

fn ok(dir: &std::path::Path, args: &[&str]) {
    let run = capm(dir, args);
    assert_eq!(run.code, 0, "{args:?}: {}", run.transcript());
}

fn manifest(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("capm.toml")).unwrap()
}

fn rewrite(dir: &std::path::Path, from: &str, to: &str) {
    let text = manifest(dir);
    assert!(text.contains(from), "{text}");
    std::fs::write(dir.join("capm.toml"), text.replacen(from, to, 1)).unwrap();
}

#[test]
fn comments_beside_a_requirement_survive_its_changes() {
    let dir = project();
    let d = dir.path();
    ok(d, &["add", "memory", "--yes"]);
    rewrite(d, "memory = \"^1.0.0\"", "memory = \"^1\" # notes");
    ok(d, &["add", "memory@^1.0", "--yes"]);
    assert!(
        manifest(d).contains("memory = \"^1.0\" # notes\n"),
        "{}",
        manifest(d)
    );

    // Recording a skip turns the requirement into a table, comment kept.
    ok(d, &["add", "code-review", "--yes"]);
    rewrite(
        d,
        "code-review = \"^1.0.0\"",
        "code-review = \"^1.0.0\" # reviews",
    );
    std::fs::remove_file(d.join("opencode.json")).unwrap();
    std::fs::write(
        d.join("opencode.jsonc"),
        "{\n  \"mcp\": { \"github\": { \"type\": \"local\", \"command\": [\"mine\"] } }\n}\n",
    )
    .unwrap();
    ok(d, &["install", "--skip", "mcp:github", "--yes"]);
    assert!(
        manifest(d).contains(
            "code-review = { version = \"^1.0.0\", skip = [\"mcp:github\"] } # reviews\n"
        ),
        "{}",
        manifest(d)
    );
}

#[test]
fn a_settled_conflict_moves_to_the_bundle_that_still_brings_the_resource() {
    let dir = project();
    let d = dir.path();
    std::fs::write(
        d.join("opencode.jsonc"),
        "{\n  \"mcp\": { \"github\": { \"type\": \"local\", \"command\": [\"mine\"] } }\n}\n",
    )
    .unwrap();
    ok(d, &["add", "code-review", "--skip", "mcp:github", "--yes"]);
    ok(d, &["add", "github", "--yes"]);
    ok(d, &["remove", "code-review", "--yes"]);
    assert!(
        manifest(d).contains("github = { version = \"^1.0.0\", skip = [\"mcp:github\"] }"),
        "{}",
        manifest(d)
    );
    let before = tree(d);
    ok(d, &["install", "--yes"]);
    assert_eq!(tree(d), before, "the settled conflict came back");
}

#[test]
fn removing_a_table_bundle_keeps_the_comments_above_it() {
    let dir = project();
    let d = dir.path();
    ok(d, &["add", "memory", "--yes"]);
    rewrite(
        d,
        "memory = \"^1.0.0\"\n",
        "# my own notes about memory\n[bundles.memory]\nversion = \"^1\" # c1\n",
    );
    let text = manifest(d);
    ok(d, &["remove", "memory", "--yes"]);
    let after = manifest(d);
    assert!(after.contains("# my own notes about memory\n"), "{after}");
    assert!(!after.contains("[bundles.memory]"), "{after}");
    assert!(after.ends_with('\n'), "{after:?}");
    assert!(text.contains("# github = \"^1.0\""), "{text}");
    assert!(after.contains("# github = \"^1.0\""), "{after}");
}

#[test]
fn an_inputs_table_goes_only_when_capms_edit_emptied_it() {
    let dir = project();
    let d = dir.path();
    ok(
        d,
        &[
            "add",
            "memory",
            "--input",
            "MEMORY_FILE_PATH=/tmp/m.json",
            "--yes",
        ],
    );
    ok(d, &["remove", "memory", "--yes"]);
    assert!(!manifest(d).contains("[inputs]"), "{}", manifest(d));

    // A table the user wrote empty is theirs.
    ok(d, &["add", "memory", "--yes"]);
    let text = manifest(d) + "\n[inputs] # for later\n";
    std::fs::write(d.join("capm.toml"), text).unwrap();
    ok(d, &["remove", "memory", "--yes"]);
    assert!(
        manifest(d).contains("[inputs] # for later"),
        "{}",
        manifest(d)
    );
}

#[test]
fn removing_a_dependency_says_it_is_one() {
    let dir = project();
    let d = dir.path();
    ok(d, &["add", "code-review", "--yes"]);
    let before = tree(d);
    let run = capm(d, &["remove", "github", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert_eq!(
        run.stderr,
        "error[not-in-project]: `github` is installed as a dependency, not named in capm.toml's [bundles]: it goes with the bundles that need it (`capm why github` lists them)\n\
         help: `capm list` shows the project's bundles\n"
    );
    assert_eq!(tree(d), before);
    let run = capm(d, &["remove", "code-reviw", "--yes"]);
    assert!(
        run.stderr.contains("did you mean `code-review`?"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("capm add"), "{}", run.stderr);
}

#[test]
fn a_bundle_path_is_read_from_the_current_directory_only() {
    let dir = project();
    let d = dir.path();
    let run = capm(d, &["new", "kit"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::create_dir(d.join("sub")).unwrap();
    let sub = d.join("sub");
    let before = tree(d);
    // `kit` is in the project, not in sub/: refused, not looked for elsewhere.
    let run = capm(&sub, &["add", "--path", "kit", "--yes"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.starts_with("error: `kit` does not exist"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(d), before);
    ok(&sub, &["add", "--path", "../kit", "--yes"]);
    assert!(
        manifest(d).contains("kit = { path = \"kit\" }"),
        "{}",
        manifest(d)
    );
}

#[test]
fn a_lock_version_that_is_not_semantic_is_refused_where_it_is() {
    let dir = project();
    let d = dir.path();
    ok(d, &["add", "memory", "--yes"]);
    let lock = std::fs::read_to_string(d.join("capm.lock")).unwrap();
    std::fs::write(
        d.join("capm.lock"),
        lock.replacen("version = \"1.0.0\"", "version = \"x1.0\"", 1),
    )
    .unwrap();
    let run = capm(d, &["list"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("error[corrupt-lock]: `x1.0` is not a semantic version"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_recorded_skip_that_names_nothing_is_a_warning_in_the_plan() {
    let dir = project();
    let d = dir.path();
    ok(d, &["add", "memory", "--yes"]);
    rewrite(
        d,
        "memory = \"^1.0.0\"",
        "memory = { version = \"^1.0.0\", skip = [\"mcp:memroy\"] }",
    );
    let run = capm(d, &["plan", "install"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains(
            "warning[unused-skip] capm.toml skips `mcp:memroy`, which no bundle of the project provides; did you mean `mcp:memory`?"
        ),
        "{}",
        run.stdout
    );
}
