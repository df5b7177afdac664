//! The commands a cargo, uv or npm user reaches for first: `outdated`, `info`, `search`
//! with no words, did-you-mean for misspelled bundle names, the `ls`/`rm`/`uninstall`
//! aliases, and plans that show version changes. Each runs against a directory registry
//! that gained newer versions after the project locked its own.

use std::path::Path;

use crate::graph::{bundle, publish};
use crate::json_outputs::Schemas;
use crate::support::{capm, repo, tempdir, tree, write_files};

const CAPM_TOML: &str = "[registries]\nteam = { path = \"registry\" }\n\n[bundles]\nbase = \"^1.0\"\nkit = \"^1\"\nsteady = \"^1\"\n";

fn publish_all(d: &Path, rels: &[String]) {
    for rel in rels {
        let run = publish(d, rel);
        assert_eq!(run.code, 0, "{rel}: {}", run.stderr);
    }
}

/// A project locked at base 1.0.0, kit 1.0.0 (which depends on helper ^1.0, locked at
/// 1.0.0) and steady 1.0.0; then the registry gains base 1.1.0 and 2.0.0, helper 1.0.1
/// and 2.0.0, and kit 1.1.0.
fn locked_then_published() -> tempfile::TempDir {
    let dir = tempdir();
    let d = dir.path();
    let kit = |v: &str| bundle(d, "kit", v, &[("helper", "^1.0")], "");
    publish_all(
        d,
        &[
            bundle(d, "base", "1.0.0", &[], ""),
            bundle(d, "helper", "1.0.0", &[], ""),
            bundle(d, "steady", "1.0.0", &[], ""),
            kit("1.0.0"),
        ],
    );
    write_files(d, &[("capm.toml", CAPM_TOML)]);
    let run = capm(d, &["lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    publish_all(
        d,
        &[
            bundle(d, "base", "1.1.0", &[], ""),
            bundle(d, "base", "2.0.0", &[], ""),
            bundle(d, "helper", "1.0.1", &[], ""),
            bundle(d, "helper", "2.0.0", &[], ""),
            kit("1.1.0"),
        ],
    );
    dir
}

#[test]
fn outdated_shows_wanted_and_latest_and_writes_nothing() {
    let dir = locked_then_published();
    let d = dir.path();
    let before = tree(d);
    let run = capm(d, &["outdated"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "bundle  current  wanted  latest  source\n\
         base    1.0.0    1.1.0   2.0.0   registry+team\n\
         helper  1.0.0    1.0.1   2.0.0   registry+team (dependency)\n\
         kit     1.0.0    1.1.0   1.1.0   registry+team\n"
    );
    assert_eq!(run.stderr, "");
    let run = capm(d, &["outdated", "--exit-code"]);
    assert_eq!(run.code, 1, "something is outdated: {}", run.stderr);
    // Like npm: red when an update within the requirements is due, yellow when only beyond.
    let run = capm(d, &["outdated", "--color", "always"]);
    assert!(
        run.stdout.starts_with("\u{1b}[1mbundle\u{1b}[0m  current")
            && run.stdout.contains("\n\u{1b}[31mbase  \u{1b}[0m  1.0.0"),
        "{:?}",
        run.stdout
    );
    assert_eq!(before, tree(d), "outdated wrote something");

    let doc = Schemas::default().check(
        d,
        &["outdated", "--format", "json"],
        0,
        "outdated.schema.json",
    );
    let bundles = doc["bundles"].as_array().unwrap();
    let names: Vec<&str> = bundles
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["base", "helper", "kit", "steady"]);
    assert_eq!(
        bundles[0],
        serde_json::json!({
            "name": "base", "source": "registry+team", "current": "1.0.0",
            "wanted": "1.1.0", "latest": "2.0.0", "direct": true,
            "requirement": "^1.0", "outdated": true
        })
    );
    assert_eq!(bundles[1]["direct"], false);
    assert!(bundles[1].get("requirement").is_none());
    assert_eq!(bundles[3]["outdated"], false);
    assert_eq!(before, tree(d), "outdated --format json wrote something");
}

#[test]
fn outdated_after_an_update_shows_only_what_is_beyond_the_requirements() {
    let dir = locked_then_published();
    let d = dir.path();
    let plan = capm(d, &["plan", "update"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("base 1.0.0 → 1.1.0 (registry+team)"),
        "{}",
        plan.stdout
    );
    let json = capm(d, &["plan", "update", "--format", "json"]).json();
    let base = &json["bundles"].as_array().unwrap()[0];
    assert_eq!(
        (&base["name"], &base["previous"]),
        (&"base".into(), &"1.0.0".into())
    );
    assert_eq!(base["version"], "1.1.0");
    let steady = json["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "steady");
    assert!(steady.unwrap().get("previous").is_none(), "{json}");

    let run = capm(d, &["update", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = capm(d, &["outdated"]);
    assert_eq!(
        run.stdout,
        "bundle  current  wanted  latest  source\n\
         base    1.1.0    1.1.0   2.0.0   registry+team\n\
         helper  1.0.1    1.0.1   2.0.0   registry+team (dependency)\n"
    );
    let run = capm(d, &["outdated", "--exit-code"]);
    assert_eq!(run.code, 1);
}

#[test]
fn outdated_says_when_everything_is_up_to_date() {
    let dir = tempdir();
    let d = dir.path();
    write_files(
        d,
        &[("capm.toml", "[bundles]\ntime = \"^1\"\ngithub = \"^1\"\n")],
    );
    assert_eq!(capm(d, &["lock"]).code, 0);
    for args in [&["outdated"][..], &["outdated", "--exit-code"]] {
        let run = capm(d, args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stdout, "");
        assert_eq!(run.stderr, "     Checked 2 bundles: all up to date\n");
    }
    // A bundle capm.toml asks for that is not installed yet is missing, like npm says.
    write_files(
        d,
        &[(
            "capm.toml",
            "[bundles]\ntime = \"^1\"\ngithub = \"^1\"\nmemory = \"^1\"\n",
        )],
    );
    let before = tree(d);
    let run = capm(d, &["outdated", "--exit-code"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "bundle  current  wanted  latest  source\n\
         memory  missing  1.0.0   1.0.0   catalog\n"
    );
    let json = Schemas::default().check(
        d,
        &["outdated", "--format", "json"],
        0,
        "outdated.schema.json",
    );
    let memory = &json["bundles"][1];
    assert_eq!(memory["name"], "memory");
    assert!(memory.get("current").is_none(), "{json}");
    assert_eq!(memory["outdated"], true);
    assert_eq!(before, tree(d), "outdated wrote something");
}

#[test]
fn outdated_without_a_lock_or_a_project_says_what_to_do() {
    let dir = tempdir();
    let d = dir.path();
    write_files(d, &[("capm.toml", "[bundles]\ntime = \"^1\"\n")]);
    let before = tree(d);
    // Nothing is installed yet: every bundle capm.toml asks for is missing.
    let run = capm(d, &["outdated", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["bundles"][0]["name"], "time", "{doc:#}");
    assert_eq!(
        doc["bundles"][0]["current"],
        serde_json::Value::Null,
        "{doc:#}"
    );
    assert_eq!(doc["bundles"][0]["outdated"], true, "{doc:#}");
    assert_eq!(before, tree(d), "outdated wrote something");

    // A project asking for nothing has nothing outdated.
    write_files(d, &[("capm.toml", "[bundles]\n")]);
    let run = capm(d, &["outdated"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");

    let nowhere = tempdir();
    let run = capm(nowhere.path(), &["outdated"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no capm.toml in"), "{}", run.stderr);
    assert!(tree(nowhere.path()).is_empty());
}

#[test]
fn info_shows_a_registry_bundle_at_any_version() {
    let dir = locked_then_published();
    let d = dir.path();
    let before = tree(d);
    let run = capm(d, &["info", "kit"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let digest = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("sha256:      "))
        .expect("a digest line")
        .to_string();
    assert_eq!(
        run.stdout,
        format!(
            "kit 1.1.0 (registry+team)\n\
             The kit test bundle\n\
             versions:    1.1.0, 1.0.0\n\
             installed:   1.0.0\n\
             modes:       desktop-local\n\
             keywords:    testing\n\
             sha256:      {digest}\n\
             dependencies:\n  helper ^1.0\n"
        )
    );
    for (spec, version) in [
        ("base@1.0.0", "1.0.0"),
        ("base@^1", "1.1.0"),
        ("base", "2.0.0"),
    ] {
        let run = capm(d, &["info", spec]);
        assert_eq!(run.code, 0, "{spec}: {}", run.stderr);
        assert!(
            run.stdout
                .starts_with(&format!("base {version} (registry+team)\n")),
            "{spec}: {}",
            run.stdout
        );
    }
    let doc = Schemas::default().check(
        d,
        &["info", "base@1.1.0", "--format", "json"],
        0,
        "info.schema.json",
    );
    assert_eq!(doc["version"], "1.1.0");
    assert_eq!(doc["installed"], "1.0.0");
    assert_eq!(
        doc["versions"],
        serde_json::json!(["2.0.0", "1.1.0", "1.0.0"])
    );
    assert_eq!(
        doc["modes"],
        serde_json::json!({"desktop-local": "supported"})
    );
    assert_eq!(before, tree(d), "info wrote something");
}

#[test]
fn info_refuses_unknown_bundles_and_versions_clearly() {
    let dir = locked_then_published();
    let d = dir.path();
    let before = tree(d);
    let run = capm(d, &["info", "bsae"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error[bundle-not-found]: no bundle named `bsae` in the catalog or the project's registries\n\
         help: did you mean `base`?\n"
    );
    let run = capm(d, &["info", "base@3.0.0"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error[version-not-found]: `base` has no version matching `3.0.0`\n  \
         available versions of base: 2.0.0, 1.1.0, 1.0.0\n"
    );
    let run = capm(d, &["info", "base@one"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with(
            "error: `base@one`: `one` is neither a version nor a version requirement\n"
        ),
        "{}",
        run.stderr
    );
    let json = capm(d, &["info", "zzzzzz", "--format", "json"]);
    assert_eq!(json.code, 1);
    assert_eq!(json.json()["code"], "bundle-not-found");
    assert_eq!(json.json()["help"], "`capm search` lists every bundle");
    assert_eq!(before, tree(d), "a refused info wrote something");
}

#[test]
fn info_works_outside_a_project_from_the_catalog() {
    let dir = tempdir();
    let d = dir.path();
    let run = capm(d, &["info", "github"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("github 1.0.0 (catalog)\n"),
        "{}",
        run.stdout
    );
    for line in [
        "modes:       desktop-local, desktop-cloud, cloud-web\n",
        "license:     MIT\n",
        "resources:\n  mcp:github               remote: https://api.githubcopilot.com/mcp/\n",
        "permissions:\n  credential `GITHUB_PERSONAL_ACCESS_TOKEN` (required):",
    ] {
        assert!(run.stdout.contains(line), "{line:?} in:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("installed:"), "{}", run.stdout);
    let run = capm(d, &["info", "fetch"]);
    assert!(
        run.stdout
            .contains("  mcp:fetch        local: uvx mcp-server-fetch@2026.10.24\n"),
        "{}",
        run.stdout
    );
    assert!(tree(d).is_empty(), "info wrote something");
}

#[test]
fn search_without_words_lists_everything_with_its_modes() {
    let dir = locked_then_published();
    let d = dir.path();
    let run = capm(d, &["search"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    // Columns are as wide as the longest catalog name; compare the words.
    let lines: Vec<String> = run
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for line in [
        "base 2.0.0 desktop-local The base test bundle (registry+team)",
        "helper 2.0.0 desktop-local The helper test bundle (registry+team)",
    ] {
        assert!(lines.iter().any(|l| l == line), "{line}: {}", run.stdout);
    }
    assert!(
        lines.iter().any(|l| l.starts_with(
            "github 1.0.0 desktop-local, desktop-cloud, cloud-web GitHub's hosted MCP server"
        )),
        "{}",
        run.stdout
    );
    // Every catalog bundle and every registry bundle, once each, by name.
    let catalog = std::fs::read_dir(repo().join("bundles")).unwrap().count();
    let names: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), catalog + 4, "{}", run.stdout);

    let doc = Schemas::default().check(d, &["search", "--format", "json"], 0, "search.schema.json");
    assert_eq!(doc["query"], "");
    assert_eq!(doc["results"].as_array().unwrap().len(), catalog + 4);
    let kit = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "kit")
        .unwrap();
    assert_eq!(
        kit["modes"],
        serde_json::json!({"desktop-local": "supported"})
    );
}

#[test]
fn an_unreachable_registry_is_a_warning_not_a_failed_search() {
    let dir = locked_then_published();
    let d = dir.path();
    std::fs::create_dir(d.join("broken")).unwrap();
    std::fs::write(
        d.join("broken/index.toml"),
        "version = 1\n[[bundle]]\nname = 3\n",
    )
    .unwrap();
    write_files(
        d,
        &[(
            "capm.toml",
            &CAPM_TOML.replace(
                "[bundles]",
                "gone = { path = \"no-such-dir\" }\nbroken = { path = \"broken\" }\n\n[bundles]",
            ),
        )],
    );
    let before = tree(d);
    let run = capm(d, &["search", "base"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("base 2.0.0"), "{}", run.stdout);
    let warnings: Vec<&str> = run.stderr.split("\nwarning: ").collect();
    assert_eq!(warnings.len(), 2, "{}", run.stderr);
    assert_eq!(
        warnings[0],
        "warning: registry `gone` is expected at `./no-such-dir`, but nothing is there (skipped)"
    );
    assert!(
        warnings[1].starts_with("registry index `./broken/index.toml` is not valid:")
            && warnings[1].ends_with("expected a string (skipped)\n"),
        "{}",
        run.stderr
    );
    let json = capm(d, &["search", "--format", "json"]);
    assert_eq!(json.code, 0);
    let catalog = std::fs::read_dir(repo().join("bundles")).unwrap().count();
    assert_eq!(
        json.json()["results"].as_array().unwrap().len(),
        catalog + 4
    );
    // Installing still fails closed on the missing registry (a missing path: exit 2).
    let run = capm(d, &["tree"]);
    assert_eq!(run.code, 2);
    assert_eq!(before, tree(d));
}

#[test]
fn misspelled_bundle_names_get_a_did_you_mean() {
    let dir = locked_then_published();
    let d = dir.path();
    let before = tree(d);
    let run = capm(d, &["add", "helpr", "--dry-run"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(
            "error[bundle-not-found]: no bundle named `helpr` in the catalog or the project's registries\n"
        ) && run.stderr.ends_with("help: did you mean `helper`?\n"),
        "{}",
        run.stderr
    );
    let run = capm(d, &["plan", "install", "githbu"]);
    assert!(
        run.stderr.ends_with("help: did you mean `github`?\n"),
        "{}",
        run.stderr
    );
    let run = capm(d, &["add", "qqqqqq", "--dry-run"]);
    assert!(
        run.stderr.ends_with("help: no bundle has a similar name; a bundle from a registry needs the registry in capm.toml's [registries]\n"),
        "{}",
        run.stderr
    );
    // Unknown-bundle refusals are exit 1 or 2 depending on the command; what matters here
    // is the message and that nothing was written.
    for (args, expected) in [
        (
            &["remove", "stedy", "-y"][..],
            "`stedy` is not in capm.toml's [bundles]; did you mean `steady`?",
        ),
        (
            &["uninstall", "bse", "-y"],
            "`bse` is not in capm.toml's [bundles]; did you mean `base`?",
        ),
        (
            &["update", "helpe", "-y"],
            "`helpe` is not part of this project; did you mean `helper`?",
        ),
        (
            &["plan", "update", "kitt"],
            "`kitt` is not part of this project; did you mean `kit`?",
        ),
    ] {
        let run = capm(d, args);
        assert_ne!(run.code, 0, "{args:?}");
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
    }
    let run = capm(d, &["why", "helpr"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.ends_with(
            "help: did you mean `helper`? `capm tree --resources` lists every bundle and resource\n"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(before, tree(d), "a refused command wrote something");
}

#[test]
fn ls_rm_and_uninstall_are_aliases() {
    let dir = tempdir();
    let d = dir.path();
    write_files(
        d,
        &[("capm.toml", "[bundles]\ntime = \"^1\"\nfetch = \"^1\"\n")],
    );
    assert_eq!(capm(d, &["install", "-y"]).code, 0);
    let ls = capm(d, &["ls"]);
    assert_eq!(ls.code, 0, "{}", ls.stderr);
    assert_eq!(ls.stdout, capm(d, &["list"]).stdout);
    assert!(ls.stdout.contains("time "), "{}", ls.stdout);
    let dry = capm(d, &["uninstall", "time", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("remove   mcp:time"), "{}", dry.stdout);
    let rm = capm(d, &["rm", "time", "-y"]);
    assert_eq!(rm.code, 0, "{}", rm.stderr);
    let toml = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert_eq!(toml, "[bundles]\nfetch = \"^1\"\n");
    let help = capm(d, &["--help"]);
    assert!(
        help.stdout.contains("[aliases: rm, uninstall]"),
        "{}",
        help.stdout
    );
    assert!(help.stdout.contains("[alias: ls]"), "{}", help.stdout);
}
