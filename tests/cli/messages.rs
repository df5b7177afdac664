//! Messages that say the right thing: `init DIR` creates DIR, `init FILE` and `new FILE`
//! say a file is in the way, an invalid `--name` is explained without telling the user to
//! pass `--name`, `--project` inside a project finds it, an invalid `CAPM_LOCK_TIMEOUT` is
//! refused, a damaged capm.lock is shown at its line and column, an SC-002 mismatch says
//! what to do, and an invalid path bundle is shown with its source like lint shows it.

use std::path::Path;

use crate::support::{capm, capm_with, project, tempdir, tree, write_files, write_valid_bundle};

#[test]
fn init_creates_the_directory_it_is_given() {
    let dir = tempdir();
    let d = dir.path();
    let run = capm(d, &["init", "new/project"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "     Created new/project/capm.toml\n");
    let text = std::fs::read_to_string(d.join("new/project/capm.toml")).unwrap();
    assert!(text.contains("[bundles]"), "{text}");
    // Only capm.toml: no staging directory left beside it.
    let names: Vec<_> = std::fs::read_dir(d.join("new")).unwrap().collect();
    assert_eq!(names.len(), 1);
    let again = capm(d, &["init", "new/project"]);
    assert_eq!(again.code, 2);
    assert!(
        again
            .stderr
            .starts_with("error: `new/project/capm.toml` already exists"),
        "{}",
        again.stderr
    );
}

#[test]
fn init_and_new_on_a_file_say_that_a_file_is_in_the_way() {
    let dir = tempdir();
    let d = dir.path();
    write_files(d, &[("notes.txt", "mine\n")]);
    let before = tree(d);
    let init = capm(d, &["init", "notes.txt"]);
    assert_eq!(init.code, 2);
    assert_eq!(
        init.stderr,
        "error: `notes.txt` is a file, not a directory\n\
         help: name the directory to create capm.toml in (it is created if missing)\n"
    );
    let new = capm(d, &["new", "notes.txt"]);
    assert_eq!(new.code, 2);
    assert_eq!(
        new.stderr,
        "error: `notes.txt` is a file; `capm new` creates a directory\n\
         help: choose a path that does not exist yet, or an empty directory\n"
    );
    assert_eq!(tree(d), before);
}

#[test]
fn an_invalid_name_says_what_is_wrong_and_where_it_came_from() {
    let dir = tempdir();
    let d = dir.path();
    let by_flag = capm(d, &["new", "kit", "--name", "Ünïcode"]);
    assert_eq!(by_flag.code, 2);
    assert_eq!(
        by_flag.stderr,
        "error: `--name Ünïcode` is not a valid bundle name: `Ü` is not an ASCII letter or digit\n\
         help: names are 1 to 64 lower-case ASCII letters and digits separated by single hyphens, e.g. `my-kit`\n"
    );
    let upper = capm(d, &["new", "kit", "--name", "My-Kit"]);
    assert!(
        upper.stderr.contains("`M` is upper-case"),
        "{}",
        upper.stderr
    );
    let by_dir = capm(d, &["new", "ünï"]);
    assert_eq!(by_dir.code, 2);
    assert_eq!(
        by_dir.stderr,
        "error: the directory name `ünï` is not a valid bundle name: `ü` is not an ASCII letter or digit\n\
         help: names are 1 to 64 lower-case ASCII letters and digits separated by single hyphens; pass --name NAME to choose one\n"
    );
    assert!(tree(d).is_empty(), "{:?}", tree(d));
    let ok = capm(d, &["new", "ünï", "--name", "uni"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
}

#[test]
fn project_given_a_directory_inside_a_project_finds_it() {
    let dir = project();
    let d = dir.path();
    std::fs::create_dir_all(d.join("docs/deep")).unwrap();
    assert_eq!(capm(d, &["add", "time", "-y"]).code, 0);
    let at_root = capm(d, &["list"]);
    let outside = tempdir();
    let inside = d.join("docs/deep");
    let run = capm(
        outside.path(),
        &["--project", inside.to_str().unwrap(), "list"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, at_root.stdout);
    // Relative, as written, from inside the project too.
    let run = capm(&d.join("docs"), &["--project", "deep", "tree"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("time 1.0.0"), "{}", run.stdout);
    let run = capm(&inside, &["--project", ".", "tree"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("time 1.0.0"), "{}", run.stdout);
}

#[test]
fn an_invalid_lock_timeout_is_an_error() {
    let dir = project();
    let d = dir.path();
    let before = tree(d);
    for value in ["soon", "-1", "inf"] {
        let env = [("CAPM_LOCK_TIMEOUT", value)];
        let run = capm_with(d, &["add", "time", "-y"], &env);
        assert_eq!(run.code, 2, "{value}: {}", run.transcript());
        assert_eq!(
            run.stderr,
            format!(
                "error: CAPM_LOCK_TIMEOUT=`{value}` is not a number of seconds\n\
                 help: unset it, or give it a valid value\n"
            )
        );
        let json = capm_with(d, &["add", "time", "-y", "--format", "json"], &env);
        assert_eq!((json.code, &json.json()["code"]), (2, &"usage".into()));
        assert_eq!(tree(d), before, "{value}");
    }
    let run = capm_with(d, &["add", "time", "-y"], &[("CAPM_LOCK_TIMEOUT", "2.5")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_damaged_lock_is_shown_at_its_line_and_column() {
    let dir = project();
    let d = dir.path();
    write_files(
        d,
        &[(
            "capm.lock",
            "version = 1\n\n[[bundle]]\nname = \"time\"\nversion = 1\n",
        )],
    );
    let before = tree(d);
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error[corrupt-lock]: invalid type: integer `1`, expected a string\n \
         --> capm.lock:5:11\n  |\n5 | version = 1\n  |           ^\n\n\
         error[corrupt-lock]: `./capm.lock` is damaged at line 5, column 11: invalid type: integer `1`, expected a string\n\
         help: restore capm.lock from version control, or delete it and run `capm lock`\n"
    );
    let json = capm(d, &["tree", "--format", "json"]).json();
    assert_eq!(json["code"], "corrupt-lock");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains("at line 5, column 11"), "{message}");
    assert_eq!(tree(d), before);
}

/// A project using `kit` from the directory registry `registry` (in the layout of
/// `index.toml` and unpacked bundles), locked.
fn registry_project(d: &Path) {
    write_valid_bundle(&d.join("kit"), "kit");
    write_files(&d.join("registry"), &[("index.toml", "version = 1\n")]);
    let run = capm(d, &["publish", "kit", "--registry", "registry"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    write_files(
        d,
        &[(
            "capm.toml",
            "[project]\nproduct-mode = \"desktop-local\"\n\n\
             [registries]\nteam = { path = \"registry\" }\n\n\
             [bundles]\nkit = { version = \"^1\", registry = \"team\" }\n",
        )],
    );
    let run = capm(d, &["lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_digest_mismatch_says_what_to_do() {
    let dir = tempdir();
    let d = dir.path();
    registry_project(d);
    let lock = std::fs::read_to_string(d.join("capm.lock")).unwrap();
    let digest = lock
        .split("sha256 = \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let zeros = format!("sha256:{}", "0".repeat(64));
    std::fs::write(d.join("capm.lock"), lock.replace(digest, &zeros)).unwrap();
    let run = capm(d, &["tree"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.ends_with(
            "help: the bundle's content changed since capm.lock recorded it, and capm installs only what the lock records; review the change, and if you trust it, delete capm.lock and run `capm lock` to record it again\n"
        ),
        "{}",
        run.stderr
    );
    std::fs::write(d.join("capm.lock"), &lock).unwrap();
    let skill = d.join("registry/kit/1.0.0/skills/kit/SKILL.md");
    let text = std::fs::read_to_string(&skill).unwrap();
    std::fs::write(&skill, text + "\nmore\n").unwrap();
    let run = capm(d, &["tree", "--format", "json"]);
    assert_eq!(run.code, 1);
    let doc = run.json();
    assert_eq!(doc["code"], "SC-002");
    assert_eq!(
        doc["help"],
        "the registry's copy changed after it was published (its index.toml records another digest); restore it, or publish the change as a new version"
    );
}

#[test]
fn an_invalid_path_bundle_is_shown_with_its_source() {
    let dir = project();
    let d = dir.path();
    write_valid_bundle(&d.join("kit"), "kit");
    let manifest = d.join("kit/bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("\"1.0.0\"", "\"1.0\"")).unwrap();
    let toml = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    std::fs::write(d.join("capm.toml"), toml + "kit = { path = \"kit\" }\n").unwrap();
    let before = tree(d);
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(
            "error[invalid-semver]: version `1.0` is not a semantic version: unexpected end of input while parsing minor version number\n \
             --> kit/bundle.toml:3:11\n  |\n3 | version = \"1.0\"\n  |           ^^^^^\n"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("error[invalid-bundle]: `kit` is not a valid bundle (1 error)"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(d), before);
}

#[test]
fn a_blocked_install_shows_what_blocks_it_with_its_source() {
    let dir = project();
    let d = dir.path();
    write_valid_bundle(&d.join("kit"), "kit");
    let manifest = d.join("kit/bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text + "\n[mcp.shell]\ncommand = \"sh\"\nargs = [\"-c\", \"echo hi\"]\n";
    std::fs::write(&manifest, &text).unwrap();
    let line = text.lines().count();
    let toml = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    std::fs::write(d.join("capm.toml"), toml + "kit = { path = \"kit\" }\n").unwrap();
    write_files(d, &[("opencode.json", "{\n  \"mcp\": { \"x\": 1,, }\n}\n")]);
    let before = tree(d);
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with("Plan: install"), "{}", run.stdout);
    let config = "error[invalid-config]: `opencode.json` does not parse: Unexpected token in object\n \
                  --> opencode.json:2:19\n  |\n2 |   \"mcp\": { \"x\": 1,, }\n  |                   ^\n";
    assert!(run.stderr.contains(config), "{}", run.stderr);
    let rule = format!(
        "error[STDIO-001]: `sh` is given inline code with `-c`\n  --> kit/bundle.toml:{line}:9\n   |\n\
         {line} | args = [\"-c\", \"echo hi\"]\n   |         ^^^^\n"
    );
    assert!(run.stderr.contains(&rule), "{}", run.stderr);
    assert!(
        run.stderr
            .ends_with("error[plan-blocked]: the plan is blocked; nothing was written\nhelp: the plan above says what blocks it and how to fix it\n"),
        "{}",
        run.stderr
    );
    // JSON readers get the plan document, not the snippets.
    let json = capm(d, &["install", "-y", "--format", "json"]);
    assert_eq!(json.code, 1);
    assert_eq!(json.json()["outcome"], "blocked");
    assert!(!json.stderr.contains(" --> "), "{}", json.stderr);
    assert_eq!(tree(d), before);
}
