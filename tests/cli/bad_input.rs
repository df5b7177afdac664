//! The bad inputs of docs/spec.md §11 that lint meets: each gets a clear error naming the file and
//! place, exit 1, and nothing is written.

use std::path::Path;

use crate::support::{
    Run, capm, capm_within, project, tempdir, tree, valid_bundle, write_files, write_valid_bundle,
};

/// Writes a valid bundle called `b` into `dir/b`, lets `spoil` break it, lints it, and
/// checks that nothing changed on disk.
fn lint_spoiled(spoil: impl FnOnce(&Path)) -> Run {
    let dir = tempdir();
    let bundle = dir.path().join("b");
    write_valid_bundle(&bundle, "b");
    spoil(&bundle);
    let before = tree(dir.path());
    let run = capm(dir.path(), &["lint", "b"]);
    assert_eq!(before, tree(dir.path()), "lint wrote something");
    assert_eq!(run.code, 1, "{}", run.stderr);
    run
}

#[test]
fn malformed_toml_reports_line_and_column() {
    let run = lint_spoiled(|b| {
        std::fs::write(
            b.join("bundle.toml"),
            "[bundle]\nname = \"b\"\nversion = 1.0.0\n",
        )
        .unwrap();
    });
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn a_duplicate_table_is_a_syntax_error_at_its_second_definition() {
    let run = lint_spoiled(|b| {
        let text = std::fs::read_to_string(b.join("bundle.toml")).unwrap();
        std::fs::write(
            b.join("bundle.toml"),
            format!("{text}\n[skills.b]\npath = \"skills/b\"\n"),
        )
        .unwrap();
    });
    assert!(run.stderr.contains("error[toml-syntax]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("--> b/bundle.toml:12:"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_manifest_over_one_mebibyte_is_refused_unread() {
    let run = lint_spoiled(|b| {
        let mut text = std::fs::read_to_string(b.join("bundle.toml")).unwrap();
        text.push_str(&format!("# {}\n", "x".repeat(1024 * 1024)));
        std::fs::write(b.join("bundle.toml"), text).unwrap();
    });
    assert!(
        run.stderr
            .contains("error[manifest-too-large]: bundle.toml is 1048"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--> b/bundle.toml"), "{}", run.stderr);
}

#[test]
fn a_skill_over_one_thousand_files_is_refused() {
    let run = lint_spoiled(|b| {
        for i in 0..1000 {
            std::fs::write(b.join(format!("skills/b/ref-{i}.md")), "x").unwrap();
        }
    });
    assert!(
        run.stderr
            .contains("error[skill-too-large]: skill directory `skills/b` holds 1001 files"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--> b/bundle.toml:10:8"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_skill_over_ten_mebibytes_is_refused() {
    let run = lint_spoiled(|b| {
        std::fs::write(b.join("skills/b/data.bin"), vec![0u8; 10 * 1024 * 1024 + 1]).unwrap();
    });
    assert!(
        run.stderr.contains("error[skill-too-large]"),
        "{}",
        run.stderr
    );
    let skill_md = valid_bundle("b")
        .into_iter()
        .find(|(p, _)| p.ends_with("SKILL.md"))
        .unwrap()
        .1;
    let total = 10 * 1024 * 1024 + 1 + skill_md.len();
    assert!(
        run.stderr
            .contains(&format!("holds 2 files and {total} bytes")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_path_escaping_the_bundle_is_refused() {
    let run = lint_spoiled(|b| {
        let text = std::fs::read_to_string(b.join("bundle.toml")).unwrap();
        std::fs::write(
            b.join("bundle.toml"),
            text.replace("\"skills/b\"", "\"skills/../../b\""),
        )
        .unwrap();
    });
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn symlinks_in_a_bundle_are_refused() {
    let run = lint_spoiled(|b| {
        std::os::unix::fs::symlink("/etc/passwd", b.join("skills/b/passwd")).unwrap();
        std::os::unix::fs::symlink("SKILL.md", b.join("skills/b/alias.md")).unwrap();
    });
    assert!(
        run.stderr.contains("error[symlink-in-bundle]: `skills/b/passwd` is a symbolic link to `/etc/passwd`, outside the bundle"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "error[symlink-in-bundle]: `skills/b/alias.md` is a symbolic link to `SKILL.md`\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_symlinked_skill_directory_is_refused_not_followed() {
    let run = lint_spoiled(|b| {
        std::fs::rename(b.join("skills/b"), b.join("real")).unwrap();
        std::os::unix::fs::symlink("../real", b.join("skills/b")).unwrap();
    });
    assert!(
        run.stderr
            .contains("`skills/b` is a symbolic link to `../real`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_skill_md_is_refused() {
    let run = lint_spoiled(|b| std::fs::remove_file(b.join("skills/b/SKILL.md")).unwrap());
    assert!(
        run.stderr
            .contains("error[missing-skill-md]: `skills/b` has no SKILL.md"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_invalid_skill_md_is_refused_at_its_line() {
    let run = lint_spoiled(|b| {
        std::fs::write(
            b.join("skills/b/SKILL.md"),
            "---\nname: b\ndescription: [unclosed\n---\n",
        )
        .unwrap();
    });
    assert!(
        run.stderr
            .contains("error[invalid-front-matter]: the front matter is not valid YAML"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--> b/skills/b/SKILL.md:"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_skill_md_without_front_matter_is_refused() {
    let run = lint_spoiled(|b| {
        std::fs::write(b.join("skills/b/SKILL.md"), "# Just a heading\n").unwrap()
    });
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn a_manifest_that_is_not_utf8_is_refused() {
    let run = lint_spoiled(|b| {
        std::fs::write(b.join("bundle.toml"), b"[bundle]\nname = \"\xff\"\n").unwrap()
    });
    assert!(
        run.stderr
            .contains("error[invalid-utf8]: bundle.toml is not valid UTF-8"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_project_file_that_does_not_parse_is_refused() {
    let dir = tempdir();
    write_files(dir.path(), &[("capm.toml", "[bundles\ngithub = \"^1\"\n")]);
    let run = capm(dir.path(), &["lint", "capm.toml"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error[toml-syntax]"), "{}", run.stderr);
    assert!(run.stderr.contains("--> capm.toml:1:"), "{}", run.stderr);
}

#[test]
fn a_literal_secret_is_located_but_never_printed() {
    let run = lint_spoiled(|b| {
        let text = std::fs::read_to_string(b.join("bundle.toml")).unwrap();
        std::fs::write(
            b.join("bundle.toml"),
            format!("{text}\n[mcp.api]\nurl = \"https://mcp.example.com/mcp\"\nheaders.Authorization = \"Bearer hunter2hunter2\"\n"),
        )
        .unwrap();
    });
    assert!(run.stderr.contains("error[URL-011]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("--> b/bundle.toml:14:9"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}

#[test]
fn carriage_returns_without_a_newline_are_a_syntax_error() {
    let run = lint_spoiled(|b| std::fs::write(b.join("bundle.toml"), "\r\r").unwrap());
    insta::assert_snapshot!(run.stderr);
    let dir = project();
    std::fs::write(dir.path().join("capm.toml"), "[project]\r\r").unwrap();
    for args in [&["lint", "capm.toml"][..], &["install"]] {
        let run = capm(dir.path(), args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "error[toml-syntax]: invalid TOML: carriage return must be followed by newline"
            ),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("--> capm.toml:1:11"), "{}", run.stderr);
    }
}

/// A capm.toml of one line just under the 1 MiB limit, with an unknown key every hundred
/// bytes (an error in capm.toml): each one shows a window of the line and its real column, and the report ends
/// promptly (the time limit only guards against a hang).
#[test]
fn a_one_mebibyte_line_is_reported_in_windows_of_it() {
    let mut line = String::from("project = {");
    let mut columns = Vec::new();
    while line.len() < 1024 * 1024 - 200 {
        line.push_str(if columns.is_empty() { " " } else { ", " });
        columns.push(line.len() + 1);
        line.push_str(&format!("k{} = \"{}\"", columns.len(), "x".repeat(80)));
    }
    line.push_str(" }");
    let dir = tempdir();
    std::fs::write(dir.path().join("capm.toml"), &line).unwrap();
    let limit = std::time::Duration::from_secs(10);
    let run = capm_within(dir.path(), &["lint", "capm.toml"], limit);
    assert_eq!(run.code, 1, "{}", &run.stderr[..2000.min(run.stderr.len())]);
    let errors = run.stderr.matches("error[unknown-key]").count();
    assert_eq!(errors, columns.len());
    let last = columns.last().unwrap();
    assert!(run.stderr.contains(&format!("--> capm.toml:1:{last}\n")));
    let widest = run.stderr.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest < 140, "a line of {widest} characters");
}

#[test]
fn syntax_errors_past_twenty_are_counted_not_listed() {
    let dir = tempdir();
    std::fs::write(dir.path().join("capm.toml"), "\r".repeat(1000)).unwrap();
    let run = capm(dir.path(), &["lint", "capm.toml", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let diagnostics = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 20);
    assert_eq!(
        diagnostics[19]["help"],
        "980 more syntax errors in this file are not shown; fix these and lint again"
    );
}
