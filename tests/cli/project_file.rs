//! capm.toml as the user's own file: strict (an unknown table or key is an error every
//! command reports, and a mutating command writes nothing), kept in agreement with
//! capm.lock by every command that changes it, remembering settled conflicts, with
//! `[inputs]` placed and checked like `--input`, and `add` recording each source.

use std::path::Path;

use crate::support::{capm, db_bundle, project, tree, write_files, write_valid_bundle};

/// Every command that reads capm.toml.
const COMMANDS: &[&[&str]] = &[
    &["install", "--yes"],
    &["add", "memory", "--yes"],
    &["remove", "code-review", "--yes"],
    &["update", "--yes"],
    &["update", "--latest", "--yes"],
    &["lock"],
    &["doctor"],
    &["plan", "install"],
    &["plan", "update"],
    &["plan", "uninstall", "code-review"],
    &["list"],
    &["tree"],
    &["why", "code-review"],
    &["graph"],
    &["lint"],
    &["search", "memory"],
];

/// Asserts that `text` contains `needle`, showing `text` when it does not.
fn has(text: &str, needle: &str) {
    assert!(text.contains(needle), "{text}");
}

/// A project with code-review (and github) installed.
fn installed() -> tempfile::TempDir {
    let dir = project();
    let run = capm(dir.path(), &["add", "code-review", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    dir
}

fn replace_in(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    has(&text, from);
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Runs each command on the project and checks each refuses (exit 1) with `expected` on
/// stderr (the error and its did-you-mean) and writes nothing.
fn each_refuses(dir: &Path, commands: &[&[&str]], expected: &[&str]) {
    for args in commands {
        let before = tree(dir);
        let run = capm(dir, args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.transcript());
        for e in expected {
            assert!(run.stderr.contains(e), "{args:?}: {}", run.stderr);
        }
        assert_eq!(tree(dir), before, "{args:?} wrote something");
    }
}

#[test]
fn a_misspelt_table_is_an_error_for_every_command_and_nothing_is_written() {
    let dir = installed();
    replace_in(dir.path(), "capm.toml", "[bundles]", "[bundle]");
    each_refuses(
        dir.path(),
        COMMANDS,
        &[
            "error[unknown-key]: unknown key `bundle`",
            "help: did you mean `bundles`?",
        ],
    );
}

#[test]
fn a_misspelt_key_inside_a_bundle_table_is_an_error_for_every_command() {
    let dir = installed();
    replace_in(
        dir.path(),
        "capm.toml",
        "code-review = \"^1.0.0\"",
        "code-review = { versoin = \"^1.0.0\" }",
    );
    each_refuses(
        dir.path(),
        COMMANDS,
        &[
            "error[unknown-key]: unknown key `bundles.code-review.versoin`",
            "help: did you mean `version`?",
        ],
    );
}

#[test]
fn an_empty_capm_toml_is_an_error_for_every_command_and_nothing_is_written() {
    for empty in ["", "\n  \n", "# my project\n"] {
        let dir = installed();
        std::fs::write(dir.path().join("capm.toml"), empty).unwrap();
        // `outdated` and `info` read capm.toml too.
        let mut commands = COMMANDS.to_vec();
        commands.extend([&["outdated"][..], &["info", "memory"][..]]);
        each_refuses(
            dir.path(),
            &commands,
            &["error[missing-field]: capm.toml is empty: it has no `[project]` and no `[bundles]`"],
        );
    }
}

#[test]
fn lint_reports_an_unknown_key_in_capm_toml_as_an_error_in_json() {
    let dir = project();
    replace_in(dir.path(), "capm.toml", "[project]", "[projet]");
    let run = capm(dir.path(), &["lint", "capm.toml", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "unknown-key");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["help"], "did you mean `project`?");
}

#[test]
fn an_install_that_removes_every_bundle_says_so_in_the_plan() {
    let dir = installed();
    // capm.toml without its bundles (an empty one is refused outright).
    let path = dir.path().join("capm.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text.split("[bundles]").next().unwrap().to_string();
    std::fs::write(&path, cut).unwrap();
    let run = capm(dir.path(), &["install", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    has(
        &run.stdout,
        "warning[removes-everything] capm.toml asks for no bundles: this plan removes all 2 installed (code-review, github)",
    );
    let json = capm(dir.path(), &["plan", "install", "--format", "json"]).json();
    let codes: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["removes-everything"]);
}

#[test]
fn an_install_that_keeps_some_bundles_has_no_such_warning() {
    let dir = installed();
    let run = capm(dir.path(), &["add", "memory", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    replace_in(dir.path(), "capm.toml", "memory = \"^1.0.0\"\n", "");
    let run = capm(dir.path(), &["install", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    has(&run.stdout, "remove   mcp:memory");
    assert!(!run.stdout.contains("removes-everything"), "{}", run.stdout);
}

/// A project with a registry holding `base` 0.2.0 and 0.3.1, asking for `base` as `req`.
fn registry_project(req: &str) -> tempfile::TempDir {
    let dir = project();
    let d = dir.path();
    for v in ["0.2.0", "0.3.1"] {
        let rel = format!("src/base-{v}");
        let manifest = format!(
            "[bundle]\nname = \"base\"\nversion = \"{v}\"\ndescription = \"Base\"\n\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n\n[mcp.base]\nurl = \"https://base.example.com/{v}/mcp\"\n"
        );
        write_files(&d.join(&rel), &[("bundle.toml", &manifest)]);
        let run = capm(d, &["publish", &rel, "--registry", "registry"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let text = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    let text = text.replace("[bundles]\n", &format!("[bundles]\nbase = {req}\n"))
        + "\n[registries]\nteam = { path = \"registry\" }\n";
    std::fs::write(d.join("capm.toml"), text).unwrap();
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    dir
}

#[test]
fn update_latest_moves_the_requirement_and_the_lock_together() {
    let dir = registry_project("\"^0.2.0\"");
    let d = dir.path();
    let plan = capm(d, &["plan", "update", "--latest"]);
    has(&plan.stdout, "  capm.toml\n    set base = \"^0.3.1\"\n");
    let run = capm(d, &["update", "--latest", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let manifest = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    has(
        &manifest,
        "[bundles]\nbase = \"^0.3.1\"\n# github = \"^1.0\"\n",
    );
    assert!(
        std::fs::read_to_string(d.join("capm.lock"))
            .unwrap()
            .contains("version = \"0.3.1\"")
    );
    // capm.toml and capm.lock agree: CI's check passes, and a plain install changes nothing.
    let locked = capm(d, &["install", "--locked", "--dry-run"]);
    assert_eq!(locked.code, 0, "{}", locked.transcript());
    let before = tree(d);
    let again = capm(d, &["install", "--yes"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    has(&again.stderr, "nothing to do");
    assert_eq!(tree(d), before);
}

#[test]
fn update_latest_sets_a_tables_version_and_leaves_a_requirement_it_meets() {
    let dir = registry_project("{ version = \"~0.2\", registry = \"team\" }");
    let run = capm(dir.path(), &["update", "base", "--latest", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let manifest = std::fs::read_to_string(dir.path().join("capm.toml")).unwrap();
    has(
        &manifest,
        "base = { version = \"^0.3.1\", registry = \"team\" }\n",
    );
    let dir = registry_project("\">=0.2\"");
    let before = std::fs::read_to_string(dir.path().join("capm.toml")).unwrap();
    let run = capm(dir.path(), &["update", "--latest", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("Updated capm.toml"), "{}", run.stderr);
    let after = std::fs::read_to_string(dir.path().join("capm.toml")).unwrap();
    assert_eq!(after, before);
    let lock = std::fs::read_to_string(dir.path().join("capm.lock")).unwrap();
    has(&lock, "version = \"0.3.1\"");
}

/// A project made by `capm init` asking for the path bundle `db`, whose server reads
/// `DB_HOST`.
fn db_project() -> tempfile::TempDir {
    let dir = project();
    db_bundle(dir.path(), false);
    replace_in(
        dir.path(),
        "capm.toml",
        "[bundles]\n",
        "[bundles]\ndb = { path = \"db\" }\n",
    );
    dir
}

#[test]
fn inputs_go_at_the_end_below_the_templates_commented_bundles() {
    let dir = db_project();
    let d = dir.path();
    let run = capm(d, &["install", "--input", "DB_HOST=db.internal", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let manifest = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert!(
        manifest.ends_with(
            "[bundles]\ndb = { path = \"db\" }\n# github = \"^1.0\"\n# local-tools = { path = \"../local-tools\" }\n\n[inputs]\nDB_HOST = \"db.internal\"\n"
        ),
        "{manifest}"
    );
    // Uncommenting a template line asks for that bundle.
    replace_in(d, "capm.toml", "# github = ", "github = ");
    let plan = capm(d, &["plan", "install"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    has(&plan.stdout, "create   mcp:github");
}

#[test]
fn an_input_no_server_reads_is_refused_from_capm_toml_too() {
    let dir = db_project();
    let d = dir.path();
    let text = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    let text = text + "\n[inputs]\nDB_HOST = \"db.internal\"\ngithub = \"^1.0\"\n";
    std::fs::write(d.join("capm.toml"), text).unwrap();
    each_refuses(
        d,
        &[
            &["install", "--yes"],
            &["plan", "install"],
            &["update", "--yes"],
        ],
        &[
            "error[input-refused]: capm.toml:14:1: capm.toml's [inputs] sets `github`, but no server of this project reads a setting `github`",
        ],
    );
}

#[test]
fn removing_a_bundle_drops_the_inputs_only_it_read() {
    let dir = db_project();
    let d = dir.path();
    let run = capm(d, &["install", "--input", "DB_HOST=db.internal", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = capm(d, &["remove", "db", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    has(
        &run.stderr,
        "Updated capm.toml: remove db\n     Updated capm.toml: remove input DB_HOST\n",
    );
    let manifest = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    assert!(!manifest.contains("DB_HOST"), "{manifest}");
    let again = capm(d, &["install", "--yes"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
}

const MY_GITHUB: &str = "{\"mcp\":{\"github\":{\"type\":\"local\",\"command\":[\"mine\"]}}}\n";

/// A project whose opencode.json has the user's own `mcp:github`, with code-review added
/// by keeping it (`--skip`).
fn settled() -> tempfile::TempDir {
    let dir = project();
    let d = dir.path();
    write_files(d, &[("opencode.json", MY_GITHUB)]);
    let blocked = capm(d, &["add", "code-review", "--yes"]);
    assert_eq!(blocked.code, 1, "{}", blocked.transcript());
    has(
        &blocked.stdout,
        "help: the scope already has your own `mcp:github`; keep yours with `--skip mcp:github` (capm.toml remembers it)",
    );
    let run = capm(d, &["add", "code-review", "--skip", "mcp:github", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    has(
        &run.stdout,
        "    keep your mcp:github: add it to code-review.skip\n",
    );
    dir
}

#[test]
fn a_settled_conflict_is_recorded_and_honoured_by_later_plans() {
    let dir = settled();
    let d = dir.path();
    let manifest = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    has(
        &manifest,
        "[bundles]\ncode-review = { version = \"^1.0.0\", skip = [\"mcp:github\"] }\n# github",
    );
    let before = tree(d);
    let install = capm(d, &["install", "--yes"]);
    assert_eq!(install.code, 0, "{}", install.transcript());
    has(&install.stderr, "nothing to do");
    let ci = capm(d, &["install", "--locked", "--dry-run"]);
    assert_eq!(ci.code, 0, "{}", ci.transcript());
    assert_eq!(tree(d), before);
    assert_eq!(
        std::fs::read_to_string(d.join("opencode.json")).unwrap(),
        MY_GITHUB
    );
}

#[test]
fn a_skipped_resource_shows_no_permissions_settings_or_findings() {
    let dir = settled();
    let plan = capm(dir.path(), &["plan", "install"]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    has(
        &plan.stdout,
        "keep     mcp:github               opencode.json /mcp/github  (kept-yours)",
    );
    for hidden in [
        "Permissions to review",
        "GITHUB_PERSONAL_ACCESS_TOKEN",
        "Findings",
    ] {
        assert!(!plan.stdout.contains(hidden), "{hidden}: {}", plan.stdout);
    }
    let doc = capm(dir.path(), &["plan", "install", "--format", "json"]).json();
    assert_eq!(doc["risk"], "low");
    for list in ["permissions", "environment", "findings"] {
        assert_eq!(doc[list], serde_json::json!([]), "{list}: {doc:#}");
    }
    // Once the user's own entry is gone, capm installs its version, and shows its settings.
    write_files(dir.path(), &[("opencode.json", "{}\n")]);
    let plan = capm(dir.path(), &["plan", "install"]);
    has(&plan.stdout, "create   mcp:github");
    has(&plan.stdout, "Permissions to review");
}

#[test]
fn why_shows_a_recorded_skip() {
    let dir = settled();
    let run = capm(dir.path(), &["why", "mcp:github"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    has(
        &run.stdout,
        "capm.toml skips mcp:github (in the `skip` of code-review): where you have your own, yours is kept\n",
    );
    let doc = capm(dir.path(), &["why", "mcp:github", "--format", "json"]).json();
    assert_eq!(doc["skipped_by"], serde_json::json!(["code-review"]));
    let other = capm(
        dir.path(),
        &["why", "skill:code-review", "--format", "json"],
    )
    .json();
    assert!(other.get("skipped_by").is_none(), "{other:#}");
}

#[test]
fn the_serve_protocol_honours_a_recorded_skip() {
    use std::io::Write;
    let dir = settled();
    let d = dir.path().to_str().unwrap();
    let mut child = crate::support::command(dir.path(), &["serve", "--stdio"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let message = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "plan",
        "params": {"project": d, "operation": "install"}});
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{message}").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let answer: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let plan = &answer["result"];
    assert_eq!(plan["status"], "noop", "{answer:#}");
    let github = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["resource"] == "mcp:github")
        .unwrap();
    assert_eq!(github["reason"], "kept-yours");
}

#[test]
fn a_skip_that_is_not_a_resource_is_refused() {
    let dir = settled();
    let d = dir.path();
    replace_in(
        d,
        "capm.toml",
        "skip = [\"mcp:github\"]",
        "skip = [\"github\"]",
    );
    each_refuses(
        d,
        &[&["install", "--yes"], &["lint"], &["plan", "install"]],
        &["error[invalid-skip]: `github` is not a resource reference like `mcp:NAME`"],
    );
}

/// A project made by `capm init` with the valid bundle `tools` in `vendor/tools/`.
fn tools_project() -> tempfile::TempDir {
    let dir = project();
    write_valid_bundle(&dir.path().join("vendor/tools"), "tools");
    dir
}

/// capm.toml records `entry` under `[bundles]`, and capm.lock agrees with it.
fn records(d: &Path, entry: &str) {
    let manifest = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    has(&manifest, &format!("[bundles]\n{entry}\n# github"));
    let ci = capm(d, &["install", "--locked", "--dry-run"]);
    assert_eq!(ci.code, 0, "{}", ci.transcript());
    has(&ci.stderr, "nothing to do");
}

#[test]
fn add_a_path_records_a_path_bundle() {
    let dir = tools_project();
    let d = dir.path();
    let run = capm(d, &["add", "./vendor/tools", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    has(
        &run.stdout,
        "  capm.toml\n    add tools = { path = \"vendor/tools\" }\n",
    );
    assert!(d.join(".opencode/skills/tools/SKILL.md").is_file());
    records(d, "tools = { path = \"vendor/tools\" }");
    has(
        &std::fs::read_to_string(d.join("capm.lock")).unwrap(),
        "source = \"path+vendor/tools\"",
    );
}

#[test]
fn add_path_from_a_subdirectory_records_the_path_from_the_project() {
    let dir = tools_project();
    let d = dir.path();
    std::fs::create_dir(d.join("docs")).unwrap();
    let run = capm(
        &d.join("docs"),
        &["add", "--path", "../vendor/tools", "--yes"],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    records(d, "tools = { path = \"vendor/tools\" }");
}

#[test]
fn add_with_a_registry_binds_the_requirement_to_it() {
    let dir = registry_project("\"^0.2.0\"");
    let d = dir.path();
    // Bound to the registry, at the version capm.lock holds.
    replace_in(d, "capm.toml", "base = \"^0.2.0\"\n", "");
    let run = capm(d, &["add", "base", "--registry", "team", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    has(
        &run.stdout,
        "    add base = { version = \"^0.2.0\", registry = \"team\" }\n",
    );
    records(d, "base = { version = \"^0.2.0\", registry = \"team\" }");
    // With a requirement, an entry already there is pointed at the registry.
    let run = capm(d, &["add", "base@^0.3", "--registry", "team", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    has(
        &run.stdout,
        "    set base = { version = \"^0.3\", registry = \"team\" }\n",
    );
    records(d, "base = { version = \"^0.3\", registry = \"team\" }");
    has(
        &std::fs::read_to_string(d.join("capm.lock")).unwrap(),
        "source = \"registry+team\"",
    );
}

#[test]
fn add_refuses_an_unknown_registry_or_a_missing_path_and_writes_nothing() {
    let dir = tools_project();
    let d = dir.path();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["add", "tools", "--registry", "team", "--yes"],
            2,
            "error: registry `team` is not declared under [registries] in capm.toml",
        ),
        (
            &["add", "--path", "vendor/nothing", "--yes"],
            2,
            "error: `vendor/nothing` does not exist",
        ),
        (
            &["add", "./vendor/tools", "--registry", "team", "--yes"],
            2,
            "error: a path bundle comes from its directory, not from a registry",
        ),
        (
            &["add", "--path", "vendor/tools", "tools"],
            2,
            "cannot be used with",
        ),
    ];
    for (args, code, message) in cases {
        let before = tree(d);
        let run = capm(d, args);
        assert_eq!(run.code, *code, "{args:?}: {}", run.transcript());
        has(&run.stderr, message);
        assert_eq!(tree(d), before, "{args:?} wrote something");
    }
}
