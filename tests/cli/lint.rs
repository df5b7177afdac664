//! `capm lint`: output formats, exit codes, path handling, and the planted-mistakes manifest
//! reported completely in every format.

use crate::support::{capm, repo, tempdir, valid_bundle, write_files, write_valid_bundle};

/// (code, file, line) triples from `tests/cases/lint/planted-mistakes/expected.txt`.
fn planted() -> (tempfile::TempDir, Vec<(String, String, usize)>) {
    let case = repo().join("tests/cases/lint/planted-mistakes");
    let work = tempdir();
    crate::support::copy_dir(&case, work.path());
    let expected = std::fs::read_to_string(case.join("expected.txt")).unwrap();
    let triples = expected
        .lines()
        .map(|l| {
            let mut it = l.split_whitespace();
            let code = it.next().unwrap().to_string();
            let file = it.next().unwrap().to_string();
            let line = it.next().unwrap().parse().unwrap();
            (code, file, line)
        })
        .collect();
    (work, triples)
}

#[test]
fn planted_mistakes_are_all_reported_in_human_output() {
    let (work, expected) = planted();
    assert!(expected.len() >= 10);
    let run = capm(work.path(), &["lint", "bundle"]);
    assert_eq!(run.code, 1);
    for (code, file, line) in &expected {
        let header = format!("[{code}]: ");
        let at = run
            .stderr
            .split("\n\n")
            .filter(|block| block.contains(&header))
            .any(|block| block.contains(&format!("--> {file}:{line}:")));
        assert!(at, "{code} at {file}:{line} missing from:\n{}", run.stderr);
    }
    let errors = expected
        .iter()
        .filter(|(c, ..)| {
            !matches!(
                c.as_str(),
                "unknown-key" | "invalid-license" | "no-supported-mode"
            )
        })
        .count();
    assert!(
        run.stderr
            .contains(&format!("Checked 1 bundle: {errors} errors, 3 warnings")),
        "{}",
        run.stderr
    );
}

#[test]
fn planted_mistakes_are_all_reported_in_json() {
    let (work, expected) = planted();
    let run = capm(work.path(), &["lint", "bundle", "--format", "json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "");
    let doc = run.json();
    assert_eq!(doc["schema"], "capm.diagnostics/v1");
    let found: Vec<(String, String, usize)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["location"]["file"].as_str().unwrap().to_string(),
                d["location"]["line"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(found, expected);
    assert_eq!(
        doc["summary"]["errors"].as_u64().unwrap() as usize
            + doc["summary"]["warnings"].as_u64().unwrap() as usize,
        expected.len()
    );
}

#[test]
fn planted_mistakes_are_all_reported_in_sarif() {
    let (work, expected) = planted();
    let run = capm(work.path(), &["lint", "bundle", "--format", "sarif"]);
    assert_eq!(run.code, 1);
    let doc = run.json();
    assert_eq!(doc["version"], "2.1.0");
    let run0 = &doc["runs"][0];
    let rules: Vec<&str> = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), expected.len());
    for (r, (code, file, line)) in results.iter().zip(&expected) {
        assert_eq!(r["ruleId"], code.as_str());
        assert_eq!(
            rules[r["ruleIndex"].as_u64().unwrap() as usize],
            code.as_str()
        );
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], file.as_str());
        assert_eq!(loc["region"]["startLine"].as_u64().unwrap() as usize, *line);
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn planted_mistakes_as_github_annotations() {
    let (work, expected) = planted();
    let run = capm(work.path(), &["lint", "bundle", "--format", "github"]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), expected.len());
    for (l, (code, file, line)) in lines.iter().zip(&expected) {
        assert!(
            l.starts_with("::error ") || l.starts_with("::warning "),
            "{l}"
        );
        assert!(l.contains(&format!("file={file},line={line},")), "{l}");
        assert!(l.contains(&format!("title=capm {code}::")), "{l}");
    }
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = tempdir();
    let files: Vec<(String, String)> = valid_bundle("warned")
        .into_iter()
        .map(|(p, c)| {
            if p == "bundle.toml" {
                (p, c + "\n[extra]\nkey = 1\n")
            } else {
                (p, c)
            }
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_files(&dir.path().join("b"), &refs);
    let run = capm(dir.path(), &["lint", "b"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning[unknown-key]: unknown key `extra`"),
        "{}",
        run.stderr
    );
    let denied = capm(dir.path(), &["lint", "b", "--deny-warnings"]);
    assert_eq!(denied.code, 1);
    assert!(
        denied.stderr.contains("warnings are denied"),
        "{}",
        denied.stderr
    );
    let quiet = capm(dir.path(), &["-q", "lint", "b"]);
    assert_eq!((quiet.code, quiet.stderr.as_str()), (0, ""));
}

#[test]
fn paths_may_name_a_directory_a_manifest_or_a_tree() {
    let dir = tempdir();
    for name in ["one", "two"] {
        write_valid_bundle(&dir.path().join("kits").join(name), name);
    }
    let by_dir = capm(dir.path(), &["lint", "kits/one", "--format", "json"]).json();
    assert_eq!(by_dir["bundles"][0]["path"], "kits/one");
    let by_file = capm(
        dir.path(),
        &["lint", "kits/two/bundle.toml", "--format", "json"],
    )
    .json();
    assert_eq!(by_file["bundles"][0]["name"], "two");
    let tree = capm(dir.path(), &["lint", "kits", "--format", "json"]).json();
    let names: Vec<&str> = tree["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["one", "two"]);
    // The same bundle named twice is linted once.
    let twice = capm(
        dir.path(),
        &[
            "lint",
            "kits/one",
            "kits/one/bundle.toml",
            "--format",
            "json",
        ],
    )
    .json();
    assert_eq!(twice["bundles"].as_array().unwrap().len(), 1);
    // No argument: the current directory.
    let here = capm(&dir.path().join("kits/one"), &["lint"]);
    assert_eq!(here.code, 0, "{}", here.stderr);
    assert!(here.stderr.contains("Checked 1 bundle: no problems"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempdir();
    std::fs::write(dir.path().join("notes.txt"), "hi").unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    for (args, message) in [
        (vec!["lint", "nope"], "error: `nope` does not exist"),
        (vec!["lint", "notes.txt"], "is neither a bundle directory"),
        (vec!["lint", "empty"], "found under `empty`"),
        (vec!["lint", "--format", "xml"], "invalid value 'xml'"),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ] {
        let run = capm(dir.path(), &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
    }
}

#[test]
fn a_project_is_linted_with_its_path_bundles() {
    let dir = tempdir();
    write_valid_bundle(&dir.path().join("local-tools"), "local-tools");
    write_files(
        &dir.path().join("app"),
        &[(
            "capm.toml",
            "[project]\nproduct-mode = \"cloud-webb\"\n\n[bundles]\nlocal-tools = { path = \"../local-tools\" }\n\
             gone = { path = \"../gone\" }\nteam-kit = { version = \"2\", registry = \"team\" }\n",
        )],
    );
    let run = capm(dir.path(), &["lint", "app/capm.toml", "--format", "json"]);
    assert_eq!(run.code, 1);
    let doc = run.json();
    assert_eq!(doc["projects"][0], "app/capm.toml");
    assert_eq!(doc["bundles"][0]["name"], "local-tools");
    let codes: Vec<(&str, u64)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap(),
                d["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("unknown-product-mode", 2),
            ("path-not-found", 6),
            ("unknown-registry", 7)
        ]
    );
}

#[test]
fn human_output_points_at_the_source_line() {
    let (work, _) = planted();
    let run = capm(work.path(), &["lint", "bundle"]);
    let expected = "error[invalid-semver]: version `1.0` is not a semantic version: unexpected end of input while parsing minor version number
 --> bundle/bundle.toml:3:11
  |
3 | version = \"1.0\"
  |           ^^^^^
  |
  = help: write MAJOR.MINOR.PATCH, e.g. `1.0.0`";
    assert!(run.stderr.contains(expected), "{}", run.stderr);
}

#[test]
fn json_output_validates_against_its_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/diagnostics.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let (work, _) = planted();
    for args in [
        vec!["lint", "bundle", "--format", "json"],
        vec!["lint", "--catalog", "--format", "json"],
    ] {
        let doc = capm(work.path(), &args).json();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{args:?}: {errors:#?}");
    }
}

#[test]
fn lint_finds_the_project_from_a_subdirectory_or_project_flag() {
    let dir = tempdir();
    write_valid_bundle(&dir.path().join("app/tools"), "tools");
    write_files(
        &dir.path().join("app"),
        &[
            ("capm.toml", "[bundles]\ntools = { path = \"tools\" }\n"),
            ("docs/deep/notes.md", "x"),
        ],
    );
    let run = capm(
        &dir.path().join("app/docs/deep"),
        &["lint", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["projects"].as_array().unwrap().len(), 1);
    assert_eq!(doc["bundles"][0]["name"], "tools");
    let elsewhere = tempdir();
    let app = dir.path().join("app");
    let run = capm(
        elsewhere.path(),
        &[
            "--project",
            app.to_str().unwrap(),
            "lint",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["bundles"][0]["name"], "tools");
}

#[test]
fn lint_checks_that_a_path_bundle_has_the_name_capm_toml_uses() {
    let dir = tempdir();
    write_valid_bundle(&dir.path().join("tools"), "tools");
    write_files(
        dir.path(),
        &[("capm.toml", "[bundles]\nhelpers = { path = \"tools\" }\n")],
    );
    let run = capm(dir.path(), &["lint", "capm.toml"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error[invalid-bundle-source]: capm.toml asks for `helpers`, but the bundle at this path is `tools`"), "{}", run.stderr);
    assert!(run.stderr.contains("--> capm.toml:2:1"), "{}", run.stderr);
}
