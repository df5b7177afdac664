//! The dependency graph end to end: publish versions into a temporary registry, then
//! `tree`, `why`, `graph`, conflicts, cycles, `lock` / `--locked`, and tampering.

use std::path::Path;

use crate::support::{Run, capm, tempdir, tree, write_files};

/// Writes a valid bundle `name` at `version` into `dir/src/name-version`.
pub(crate) fn bundle(
    dir: &Path,
    name: &str,
    version: &str,
    deps: &[(&str, &str)],
    extra: &str,
) -> String {
    let rel = format!("src/{name}-{version}");
    let mut manifest = format!(
        "[bundle]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"The {name} test bundle\"\nkeywords = [\"testing\"]\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n"
    );
    if !deps.is_empty() {
        manifest.push_str("\n[dependencies]\n");
        for (d, r) in deps {
            manifest.push_str(&format!("{d} = \"{r}\"\n"));
        }
    }
    manifest.push_str(extra);
    write_files(&dir.join(&rel), &[("bundle.toml", &manifest)]);
    rel
}

pub(crate) fn publish(dir: &Path, rel: &str) -> Run {
    capm(dir, &["publish", rel, "--registry", "registry"])
}

/// A registry with three versions of `base`, two bundles that disagree about it, a kit
/// whose skill needs base's server, and two bundles that depend on each other.
fn setup() -> tempfile::TempDir {
    let dir = tempdir();
    let d = dir.path();
    let server =
        |v: &str| format!("\n[mcp.base-server]\nurl = \"https://base.example.com/v{v}/mcp\"\n");
    let mut rels = vec![
        bundle(d, "base", "1.0.0", &[], &server("1")),
        bundle(d, "base", "1.1.0", &[], &server("1")),
        bundle(d, "base", "2.0.0", &[], &server("2")),
        bundle(d, "left", "1.0.0", &[("base", "^1.0")], ""),
        bundle(d, "right", "1.0.0", &[("base", "^2.0")], ""),
        bundle(d, "cyc-a", "1.0.0", &[("cyc-b", "^1")], ""),
        bundle(d, "cyc-b", "1.0.0", &[("cyc-a", "^1")], ""),
    ];
    let kit = bundle(
        d,
        "kit",
        "1.0.0",
        &[("base", "^1.1"), ("github", "^1")],
        "\n[skills.triage]\npath = \"skills/triage\"\nrequires = [\"mcp:base-server\", \"mcp:github\"]\n",
    );
    write_files(
        &d.join(&kit),
        &[(
            "skills/triage/SKILL.md",
            "---\nname: triage\ndescription: Triage new issues\n---\n\nTriage.\n",
        )],
    );
    rels.push(kit);
    // A registry in the directory layout of index.toml and unpacked bundles, which capm
    // still reads and publishes into (tests/cli/sparse_registry.rs has the static layout).
    write_files(&d.join("registry"), &[("index.toml", "version = 1\n")]);
    for rel in rels {
        let run = publish(d, &rel);
        assert_eq!(run.code, 0, "{rel}: {}", run.stderr);
    }
    dir
}

fn project(dir: &Path, bundles: &str) {
    write_files(
        dir,
        &[(
            "capm.toml",
            &format!("[registries]\nteam = {{ path = \"registry\" }}\n\n[bundles]\n{bundles}"),
        )],
    );
}

#[test]
fn tree_why_and_graph_of_a_resolved_project() {
    let dir = setup();
    let d = dir.path();
    project(
        d,
        "kit = \"^1\"\nleft = { version = \"^1\", registry = \"team\" }\n",
    );
    let before = tree(d);
    let plain = capm(d, &["tree"]);
    insta::assert_snapshot!("tree", plain.transcript());
    insta::assert_snapshot!(
        "tree_resources",
        capm(d, &["tree", "--resources"]).transcript()
    );
    insta::assert_snapshot!(
        "why_resource",
        capm(d, &["why", "mcp:base-server"]).transcript()
    );
    insta::assert_snapshot!("why_bundle", capm(d, &["why", "base"]).transcript());
    insta::assert_snapshot!("graph_dot", capm(d, &["graph"]).transcript());
    let json = capm(d, &["graph", "--format", "json"]).json();
    assert_eq!(json["schema"], "capm.graph/v1");
    let tree_json = capm(d, &["tree", "--format", "json"]).json();
    assert_eq!(tree_json["dependencies"][0]["name"], "kit");
    assert_eq!(
        tree_json["dependencies"][0]["dependencies"][0]["version"],
        "1.1.0"
    );
    let missing = capm(d, &["why", "mcp:nothing"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("`mcp:nothing` is not in the project's resolved graph")
    );
    assert_eq!(before, tree(d), "read-only commands wrote something");
}

#[test]
fn a_conflict_names_each_requirement_and_its_chain() {
    let dir = setup();
    project(dir.path(), "left = \"^1\"\nright = \"^1\"\n");
    let run = capm(dir.path(), &["tree"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn a_cycle_prints_its_path() {
    let dir = setup();
    project(dir.path(), "cyc-a = \"^1\"\n");
    let run = capm(dir.path(), &["tree"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn a_missing_bundle_says_who_wanted_it() {
    let dir = setup();
    project(dir.path(), "nowhere = \"^1\"\n");
    let run = capm(dir.path(), &["tree"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("error[bundle-not-found]: no bundle named `nowhere`"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_lock_is_sticky_and_locked_refuses_changes() {
    let dir = setup();
    let d = dir.path();
    project(d, "kit = \"^1\"\n");
    let run = capm(d, &["lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lock = std::fs::read_to_string(d.join("capm.lock")).unwrap();
    insta::assert_snapshot!("lock_file", lock);
    // Unchanged: nothing is written, and --locked passes.
    let again = capm(d, &["lock"]);
    assert!(
        again.stderr.contains("capm.lock is up to date"),
        "{}",
        again.stderr
    );
    assert_eq!(capm(d, &["tree", "--locked"]).code, 0);
    // A newer base is published: the lock keeps 1.1.0.
    let newer = bundle(
        d,
        "base",
        "1.2.0",
        &[],
        "\n[mcp.base-server]\nurl = \"https://base.example.com/v1/mcp\"\n",
    );
    assert_eq!(publish(d, &newer).code, 0);
    assert!(capm(d, &["tree"]).stdout.contains("base 1.1.0"));
    assert_eq!(capm(d, &["tree", "--locked"]).code, 0);
    // The project asks for more: --locked refuses and names the change.
    project(d, "kit = \"^1\"\nleft = \"^1\"\n");
    let stale = capm(d, &["tree", "--locked"]);
    assert_eq!(stale.code, 1);
    assert!(
        stale.stderr.contains("error[lock-stale]") && stale.stderr.contains("add left 1.0.0"),
        "{}",
        stale.stderr
    );
    let refused = capm(d, &["lock", "--locked"]);
    assert_eq!(refused.code, 1);
    assert_eq!(
        std::fs::read_to_string(d.join("capm.lock")).unwrap(),
        lock,
        "--locked changed capm.lock"
    );
}

#[test]
fn content_that_does_not_match_its_digest_is_refused() {
    let dir = setup();
    let d = dir.path();
    project(d, "kit = \"^1\"\n");
    assert_eq!(capm(d, &["lock"]).code, 0);
    // The lock records another digest for kit 1.0.0 than the registry serves.
    let lock = std::fs::read_to_string(d.join("capm.lock")).unwrap();
    let kit_digest = lock
        .split("name = \"kit\"")
        .nth(1)
        .unwrap()
        .split("sha256 = \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        d.join("capm.lock"),
        lock.replace(&kit_digest, &format!("sha256:{}", "0".repeat(64))),
    )
    .unwrap();
    let run = capm(d, &["tree"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("error[SC-002]: kit 1.0.0 from registry+team does not match its digest"),
        "{}",
        run.stderr
    );
    std::fs::write(d.join("capm.lock"), lock).unwrap();
    // A published file is changed behind the index's back.
    let file = d.join("registry/base/1.1.0/bundle.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("v1/mcp", "v1/evil")).unwrap();
    let run = capm(d, &["tree"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("error[SC-002]: base 1.1.0 from registry+team does not match its digest"),
        "{}",
        run.stderr
    );
}

#[test]
fn publishing_refuses_changed_versions_and_invalid_bundles() {
    let dir = setup();
    let d = dir.path();
    let same = publish(d, "src/base-1.0.0");
    assert_eq!(same.code, 0);
    assert!(
        same.stderr
            .contains("base 1.0.0 is already published with the same content"),
        "{}",
        same.stderr
    );
    let before = tree(&d.join("registry"));
    let changed = bundle(
        d,
        "base",
        "1.0.0",
        &[],
        "\n[mcp.base-server]\nurl = \"https://other.example.com/mcp\"\n",
    );
    let run = publish(d, &changed);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("base 1.0.0 is already published with different content"),
        "{}",
        run.stderr
    );
    let invalid = bundle(d, "broken", "1.0", &[], "");
    let run = publish(d, &invalid);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error[invalid-semver]")
            && run.stderr.contains("nothing was published"),
        "{}",
        run.stderr
    );
    let dangerous = bundle(
        d,
        "risky",
        "1.0.0",
        &[],
        "\n[mcp.risky]\ncommand = \"sudo\"\nargs = [\"server\"]\n",
    );
    assert_eq!(publish(d, &dangerous).code, 1);
    assert_eq!(
        before,
        tree(&d.join("registry")),
        "a refused publish changed the registry"
    );
    let index = std::fs::read_to_string(d.join("registry/index.toml")).unwrap();
    insta::assert_snapshot!("index", index);
}

#[test]
fn search_finds_catalog_and_registry_bundles() {
    let dir = setup();
    let d = dir.path();
    project(d, "kit = \"^1\"\n");
    let run = capm(d, &["search", "base"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("base 2.0.0"), "{}", run.stdout);
    assert!(run.stdout.contains("(registry+team)"));
    let json = capm(d, &["search", "github", "--format", "json"]).json();
    assert_eq!(json["results"][0]["name"], "github");
    assert_eq!(json["results"][0]["source"], "catalog");
    // Outside any project, only the catalog is searched.
    let elsewhere = tempdir();
    let run = capm(elsewhere.path(), &["search", "base"]);
    assert!(!run.stdout.contains("registry+team"));
}

#[test]
fn init_creates_a_project_once() {
    let dir = tempdir();
    let run = capm(dir.path(), &["init", "--product-mode", "cloud-web"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(dir.path().join("capm.toml")).unwrap();
    assert!(text.contains("product-mode = \"cloud-web\""));
    assert_eq!(capm(dir.path(), &["lint", "capm.toml", "-D"]).code, 0);
    let again = capm(dir.path(), &["init"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("capm.toml")).unwrap(),
        text
    );
    let empty = capm(dir.path(), &["tree"]);
    assert_eq!((empty.code, empty.stdout.as_str()), (0, "capm.toml\n"));
}

#[test]
fn a_synthetic_registry_lints_clean_and_resolves() {
    let dir = tempdir();
    let d = dir.path();
    let reg = capm::synthetic::registry(150, 3);
    for (rel, content) in &reg.files {
        write_files(&d.join("registry"), &[(rel.as_str(), content.as_str())]);
    }
    std::fs::write(d.join("registry/index.toml"), reg.index.to_toml_string()).unwrap();
    write_files(
        d,
        &[(
            "project/capm.toml",
            &capm::synthetic::project(150, 20, 3, "../registry"),
        )],
    );
    let lint = capm(d, &["lint", "registry", "--format", "json"]).json();
    assert_eq!(lint["summary"]["errors"], 0);
    assert_eq!(lint["summary"]["warnings"], 0);
    assert_eq!(
        lint["bundles"].as_array().unwrap().len(),
        reg.index.bundles.len()
    );
    let tree = capm(&d.join("project"), &["tree", "--format", "json"]);
    assert_eq!(tree.code, 0, "{}", tree.stderr);
    assert_eq!(tree.json()["dependencies"].as_array().unwrap().len(), 20);
}

#[test]
fn path_bundles_resolve_with_their_dependencies() {
    let dir = tempdir();
    let d = dir.path();
    let rel = bundle(
        d,
        "local-tools",
        "0.3.0",
        &[("github", "^1")],
        "\n[commands.sync]\npath = \"commands/sync.md\"\n",
    );
    write_files(&d.join(&rel), &[("commands/sync.md", "Sync the board.\n")]);
    write_files(
        d,
        &[(
            "app/capm.toml",
            &format!("[bundles]\nlocal-tools = {{ path = \"../{rel}\" }}\n"),
        )],
    );
    let run = capm(&d.join("app"), &["tree", "--resources"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
    // The name in capm.toml must be the bundle's own.
    write_files(
        d,
        &[(
            "app/capm.toml",
            &format!("[bundles]\ntools = {{ path = \"../{rel}\" }}\n"),
        )],
    );
    let wrong = capm(&d.join("app"), &["tree"]);
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains("capm.toml asks for `tools`"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn a_name_in_two_registries_must_be_chosen() {
    let dir = setup();
    let d = dir.path();
    let other = bundle(d, "base", "9.0.0", &[], "");
    assert_eq!(
        capm(d, &["publish", &other, "--registry", "mirror"]).code,
        0
    );
    write_files(
        d,
        &[(
            "capm.toml",
            "[registries]\nteam = { path = \"registry\" }\nmirror = { path = \"mirror\" }\n\n[bundles]\nleft = { version = \"^1\", registry = \"team\" }\n",
        )],
    );
    let run = capm(d, &["tree"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error[ambiguous-source]: `base` is published by several registries (registry+mirror, registry+team)"), "{}", run.stderr);
    write_files(
        d,
        &[(
            "capm.toml",
            "[registries]\nteam = { path = \"registry\" }\nmirror = { path = \"mirror\" }\n\n[bundles]\nleft = { version = \"^1\", registry = \"team\" }\nbase = { version = \"^1\", registry = \"team\" }\n",
        )],
    );
    let chosen = capm(d, &["tree"]);
    assert_eq!(chosen.code, 0, "{}", chosen.stderr);
    assert!(chosen.stdout.contains("base 1.1.0 (registry+team)"));
}

#[test]
fn a_hand_indented_index_is_read_whole_and_right() {
    let dir = setup();
    let d = dir.path();
    let index = std::fs::read_to_string(d.join("registry/index.toml")).unwrap();
    let indented: String = index
        .lines()
        .map(|l| {
            if l.starts_with("[[") || l.contains(" = ") {
                format!("  {l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(d.join("registry/index.toml"), indented).unwrap();
    project(d, "kit = \"^1\"\n");
    let run = capm(d, &["tree"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("base 1.1.0 (registry+team)"),
        "{}",
        run.stdout
    );
}

#[test]
fn written_files_get_ordinary_modes_and_keep_theirs() {
    use std::os::unix::fs::PermissionsExt;
    let dir = setup();
    let d = dir.path();
    let mode = |p: &str| std::fs::metadata(d.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("registry/index.toml"), 0o644);
    assert_eq!(mode("registry/base/1.0.0"), 0o755);
    assert_eq!(mode("registry/base/1.0.0/bundle.toml"), 0o644);
    project(d, "kit = \"^1\"\n");
    assert_eq!(capm(d, &["lock"]).code, 0);
    assert_eq!(mode("capm.lock"), 0o644);
    std::fs::set_permissions(d.join("capm.lock"), std::fs::Permissions::from_mode(0o664)).unwrap();
    project(d, "kit = \"^1\"\nleft = \"^1\"\n");
    assert_eq!(capm(d, &["lock"]).code, 0);
    assert_eq!(mode("capm.lock"), 0o664, "replacing a file keeps its mode");
}

#[test]
fn an_edited_path_bundle_updates_the_lock() {
    let dir = tempdir();
    let d = dir.path();
    bundle(
        d,
        "tools",
        "1.0.0",
        &[],
        "\n[mcp.tools]\nurl = \"https://tools.example.com/mcp\"\n",
    );
    write_files(
        d,
        &[(
            "capm.toml",
            "[bundles]\ntools = { path = \"src/tools-1.0.0\" }\n",
        )],
    );
    assert_eq!(capm(d, &["lock"]).code, 0);
    let text = std::fs::read_to_string(d.join("src/tools-1.0.0/bundle.toml")).unwrap();
    std::fs::write(
        d.join("src/tools-1.0.0/bundle.toml"),
        text.replace("tools.example.com", "tools.example.org"),
    )
    .unwrap();
    assert_eq!(capm(d, &["tree"]).code, 0);
    let stale = capm(d, &["tree", "--locked"]);
    assert_eq!(stale.code, 1);
    assert!(
        stale.stderr.contains("change the digest of tools 1.0.0"),
        "{}",
        stale.stderr
    );
    let run = capm(d, &["lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(capm(d, &["tree", "--locked"]).code, 0);
}

#[test]
fn missing_sources_are_refused_and_empty_registries_are_empty() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir(d.join("fresh")).unwrap();
    write_files(
        d,
        &[(
            "capm.toml",
            "[registries]\nfresh = { path = \"fresh\" }\n\n[bundles]\ngithub = \"^1\"\n",
        )],
    );
    let run = capm(d, &["tree"]);
    assert_eq!(
        run.code, 0,
        "a registry nothing was published into is empty: {}",
        run.stderr
    );
    write_files(
        d,
        &[("capm.toml", "[bundles]\nghost = { path = \"nope\" }\n")],
    );
    // A path that does not exist is exit 2, as everywhere.
    let run = capm(d, &["tree"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("error: bundle `ghost` is expected at"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_locked_registry_makes_publish_wait_then_give_up_with_exit_3() {
    let dir = setup();
    let d = dir.path();
    let held = std::fs::OpenOptions::new()
        .write(true)
        .open(d.join("registry/.capm-lock"))
        .unwrap();
    held.lock().unwrap();
    let rel = bundle(
        d,
        "late",
        "1.0.0",
        &[],
        "\n[mcp.late]\nurl = \"https://late.example.com/mcp\"\n",
    );
    let out = std::process::Command::new(crate::support::bin())
        .args(["publish", &rel, "--registry", "registry"])
        .current_dir(d)
        .env("CAPM_LOCK_TIMEOUT", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("Blocking waiting for lock on registry/.capm-lock"),
        "{stderr}"
    );
    assert!(
        stderr.contains("is locked by another capm process; gave up after 1 s"),
        "{stderr}"
    );
    held.unlock().unwrap();
    assert_eq!(publish(d, &rel).code, 0);
}

#[test]
fn a_damaged_index_refuses_publish_without_writing() {
    let dir = tempdir();
    let d = dir.path();
    write_files(d, &[("reg/index.toml", "version = 2\n")]);
    let rel = bundle(
        d,
        "one",
        "1.0.0",
        &[],
        "\n[mcp.one]\nurl = \"https://one.example.com/mcp\"\n",
    );
    let before = tree(&d.join("reg"));
    let run = capm(d, &["publish", &rel, "--registry", "reg"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(before, tree(&d.join("reg")));
}

#[test]
fn project_may_name_the_manifest_file() {
    let dir = setup();
    let d = dir.path();
    project(d, "kit = \"^1\"\n");
    let elsewhere = tempdir();
    let manifest = d.join("capm.toml");
    let run = capm(
        elsewhere.path(),
        &["--project", manifest.to_str().unwrap(), "tree"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("kit 1.0.0"));
}
