//! `-q`, `-v` and `CAPM_LOG`: `-q` leaves only errors and the data a command was asked
//! for; `-v` adds resolution steps, the files read and how long each stage took;
//! `CAPM_LOG` is a tracing filter for diagnosis. All of it on stderr: stdout is the same.

use crate::support::{capm, capm_with, project, tempdir, tree, write_valid_bundle};

#[test]
fn quiet_commands_that_succeed_print_nothing() {
    let dir = tempdir();
    let d = dir.path();
    let path = d.to_str().unwrap();
    let runs: &[&[&str]] = &[
        &["-q", "init", path],
        &["-q", "add", "code-review", "-y"],
        &["-q", "install", "-y"],
        &["-q", "lock"],
        &["-q", "doctor"],
        &["-q", "new", "kit"],
        &["-q", "lint", "kit"],
        &["-q", "update", "-y"],
        &["-q", "remove", "code-review", "-y"],
    ];
    for args in runs {
        let run = capm(d, args);
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (0, "", ""),
            "capm {}",
            args.join(" ")
        );
    }
    // They did their work all the same.
    assert!(d.join("kit/bundle.toml").is_file());
    let manifest = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert!(!manifest.contains("code-review"), "{manifest}");
    assert!(!d.join(".opencode/skills/code-review").exists());
}

#[test]
fn quiet_still_prints_the_data_asked_for_and_every_error() {
    let dir = project();
    let d = dir.path();
    assert_eq!(capm(d, &["add", "code-review", "-y"]).code, 0);
    for args in [
        &["tree"][..],
        &["list"],
        &["graph"],
        &["why", "mcp:github"],
        &["explain", "usage"],
        &["tree", "--format", "json"],
        &["plan", "install"],
        &["add", "time", "--dry-run"],
    ] {
        let loud = capm(d, args);
        let mut quiet_args = vec!["-q"];
        quiet_args.extend_from_slice(args);
        let quiet = capm(d, &quiet_args);
        assert_eq!(
            quiet.code,
            0,
            "capm -q {}: {}",
            args.join(" "),
            quiet.stderr
        );
        assert!(!quiet.stdout.is_empty(), "capm -q {}", args.join(" "));
        assert_eq!(quiet.stdout, loud.stdout, "capm -q {}", args.join(" "));
    }
    let before = tree(d);
    let run = capm(d, &["-q", "remove", "nope", "-y"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("error[not-in-project]: `nope` is not in capm.toml's [bundles]"),
        "{}",
        run.stderr
    );
    // A plan that needs approval is shown with its refusal, even under -q.
    let run = capm(d, &["-q", "remove", "code-review"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with("Plan: uninstall"), "{}", run.stdout);
    assert!(
        run.stderr.starts_with("error[not-confirmed]"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(d), before);
}

#[test]
fn quiet_lint_shows_errors_but_not_warnings() {
    let dir = tempdir();
    let d = dir.path();
    write_valid_bundle(&d.join("kit"), "kit");
    let manifest = d.join("kit/bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("[bundle]\n", "[bundle]\nhomepag = 1\n"),
    )
    .unwrap();
    let loud = capm(d, &["lint", "kit"]);
    assert!(
        loud.stderr.contains("warning[unknown-key]"),
        "{}",
        loud.stderr
    );
    let quiet = capm(d, &["-q", "lint", "kit"]);
    assert_eq!((quiet.code, quiet.stderr.as_str()), (0, ""));
    std::fs::write(&manifest, text.replace("1.0.0", "1.0")).unwrap();
    let quiet = capm(d, &["-q", "lint", "kit"]);
    assert_eq!(quiet.code, 1);
    assert!(
        quiet.stderr.starts_with("error[invalid-semver]"),
        "{}",
        quiet.stderr
    );
    assert!(!quiet.stderr.contains("Checked"), "{}", quiet.stderr);
}

#[test]
fn verbose_shows_resolution_files_read_and_timings_on_stderr() {
    let dir = project();
    let d = dir.path();
    let plain = capm(d, &["add", "code-review", "-y"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(!plain.stderr.contains("resolve"), "{}", plain.stderr);

    let quiet_tree = capm(d, &["tree"]);
    assert_eq!(quiet_tree.stderr, "");
    let tree_v = capm(d, &["-v", "tree"]);
    assert_eq!(tree_v.code, 0, "{}", tree_v.stderr);
    assert_eq!(tree_v.stdout, quiet_tree.stdout, "-v changes only stderr");
    for wanted in [
        "reading `./capm.toml`",
        "reading `./capm.lock`",
        "catalog: checking the 17 bundles of the built-in catalog",
        "resolve: picked code-review 1.0.0 (catalog)",
        "resolve: picked github 1.0.0 (catalog)",
        "resolve: done in ",
    ] {
        assert!(
            tree_v.stderr.contains(wanted),
            "{wanted}:\n{}",
            tree_v.stderr
        );
    }
    // Each line starts with the milliseconds since start.
    for line in tree_v.stderr.lines() {
        let (ms, _) = line.trim_start().split_once("ms ").unwrap();
        assert!(ms.parse::<f64>().is_ok(), "{line}");
    }

    let remove = capm(d, &["-v", "remove", "code-review", "-y"]);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    for wanted in [
        "plan: ready, 5 actions",
        "holding the scope's lock; planning again under it",
        "transaction: journal written: `./.capm/txn/",
        "transaction: staged beside their targets: ",
        "transaction: committed",
        "transaction: done in ",
        "Applied 0 created, 0 updated, 5 removed",
    ] {
        assert!(
            remove.stderr.contains(wanted),
            "{wanted}:\n{}",
            remove.stderr
        );
    }
}

#[test]
fn capm_log_takes_a_filter_and_works_under_quiet() {
    let dir = project();
    let d = dir.path();
    assert_eq!(capm(d, &["add", "code-review", "-y"]).code, 0);
    let plain = capm(d, &["tree"]);
    let debug = capm_with(d, &["-q", "tree"], &[("CAPM_LOG", "capm=debug")]);
    assert_eq!(debug.code, 0, "{}", debug.stderr);
    assert_eq!(debug.stdout, plain.stdout);
    for wanted in [
        "INFO capm::ops::project: reading `./capm.toml`",
        "DEBUG resolve{requests=1}: capm::graph::resolve: trying code-review 1.0.0 (of 1 that fit)",
        "INFO resolve{requests=1}: capm::graph::resolve: picked github 1.0.0 (catalog)",
    ] {
        assert!(debug.stderr.contains(wanted), "{wanted}:\n{}", debug.stderr);
    }
    // A filter on one module shows that module only.
    let graph = capm_with(d, &["tree"], &[("CAPM_LOG", "capm::graph::resolve=info")]);
    assert!(graph.stderr.contains("picked github"), "{}", graph.stderr);
    assert!(!graph.stderr.contains("capm.toml"), "{}", graph.stderr);
    assert!(!graph.stderr.contains("DEBUG"), "{}", graph.stderr);
}

#[test]
fn an_invalid_capm_log_is_a_usage_error() {
    let dir = project();
    let d = dir.path();
    let before = tree(d);
    let run = capm_with(d, &["tree"], &[("CAPM_LOG", "capm=loud")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: CAPM_LOG=`capm=loud` is not a log filter"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    let run = capm_with(
        d,
        &["tree", "--format", "json"],
        &[("CAPM_LOG", "capm=loud")],
    );
    assert_eq!((run.code, &run.json()["code"]), (2, &"usage".into()));
    assert_eq!(tree(d), before);
}

#[test]
fn quiet_and_verbose_together_are_refused() {
    let dir = tempdir();
    let run = capm(dir.path(), &["-q", "-v", "list"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("'--verbose'"), "{}", run.stderr);
}
