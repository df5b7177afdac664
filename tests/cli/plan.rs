//! `capm plan`: saving a plan with --out, updates within requirements or beyond them,
//! and refusals.

use crate::support::{capm, tempdir, tree, write_files};

fn registry_project() -> tempfile::TempDir {
    let dir = tempdir();
    let d = dir.path();
    for v in ["1.0.0", "1.1.0", "2.0.0"] {
        let rel = format!("src/base-{v}");
        write_files(
            &d.join(&rel),
            &[(
                "bundle.toml",
                &format!(
                    "[bundle]\nname = \"base\"\nversion = \"{v}\"\ndescription = \"Base\"\n\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
                     [mcp.base]\nurl = \"https://base.example.com/{v}/mcp\"\n"
                ),
            )],
        );
        assert_eq!(
            capm(d, &["publish", &rel, "--registry", "registry"]).code,
            0
        );
    }
    write_files(
        d,
        &[(
            "capm.toml",
            "[registries]\nteam = { path = \"registry\" }\n\n[bundles]\nbase = \"^1.0\"\n",
        )],
    );
    dir
}

fn version(plan: &serde_json::Value) -> String {
    plan["bundles"][0]["version"].as_str().unwrap().to_string()
}

#[test]
fn update_stays_within_requirements_unless_latest() {
    let dir = registry_project();
    let d = dir.path();
    // Lock base at 1.0.0, as if installed a while ago.
    write_files(
        d,
        &[(
            "capm.toml",
            "[registries]\nteam = { path = \"registry\" }\n\n[bundles]\nbase = \"=1.0.0\"\n",
        )],
    );
    assert_eq!(capm(d, &["lock"]).code, 0);
    write_files(
        d,
        &[(
            "capm.toml",
            "[registries]\nteam = { path = \"registry\" }\n\n[bundles]\nbase = \"^1.0\"\n",
        )],
    );
    let install = capm(d, &["plan", "install", "--format", "json"]).json();
    assert_eq!(
        version(&install),
        "1.0.0",
        "install keeps the locked version"
    );
    let update = capm(d, &["plan", "update", "--format", "json"]).json();
    assert_eq!(version(&update), "1.1.0");
    assert_eq!(update["operation"], "update");
    let latest = capm(
        d,
        &["plan", "update", "base", "--latest", "--format", "json"],
    )
    .json();
    assert_eq!(version(&latest), "2.0.0");
    let unknown = capm(d, &["plan", "update", "nothing"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("`nothing` is not part of this project"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn out_saves_the_json_plan_and_nothing_else() {
    let dir = registry_project();
    let d = dir.path();
    let before = tree(d);
    let json = capm(d, &["plan", "install", "--format", "json"]);
    let run = capm(d, &["plan", "install", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("Plan: install into the project scope (desktop-local): ready"),
        "{}",
        run.stdout
    );
    let saved = std::fs::read_to_string(d.join("plan.json")).unwrap();
    assert_eq!(saved, json.stdout, "the saved plan is the JSON plan");
    let mut after = tree(d);
    after.remove("plan.json");
    assert_eq!(before, after, "planning wrote something besides --out");
}

#[test]
fn uninstall_needs_a_bundle_of_the_project() {
    let dir = registry_project();
    let d = dir.path();
    let run = capm(d, &["plan", "uninstall", "github"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("`github` is not in capm.toml's [bundles]"),
        "{}",
        run.stderr
    );
    let blocked_exit = {
        write_files(
            d,
            &[(
                "opencode.json",
                "{ \"mcp\": { \"base\": { \"type\": \"local\", \"command\": [\"mine\"] } } }\n",
            )],
        );
        capm(d, &["plan", "install"]).code
    };
    assert_eq!(blocked_exit, 1, "a blocked plan exits 1");
}

#[test]
fn a_plan_never_shows_a_secret_value() {
    let dir = tempdir();
    let d = dir.path();
    write_files(
        &d.join("tool"),
        &[(
            "bundle.toml",
            "[bundle]\nname = \"tool\"\nversion = \"1.0.0\"\ndescription = \"Leaks\"\n\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
             [mcp.tool]\ncommand = \"tool-server\"\nargs = [\"--token\", \"ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\"]\nenv.API_KEY = \"hunter2hunter2\"\nenv.LOG_LEVEL = \"info\"\n",
        )],
    );
    write_files(
        d,
        &[("capm.toml", "[bundles]\ntool = { path = \"tool\" }\n")],
    );
    for format in ["human", "json"] {
        let run = capm(d, &["plan", "install", "--format", format]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !all.contains("hunter2hunter2") && !all.contains("ghp_0123456789"),
            "{format}: {all}"
        );
        if format == "json" {
            // Ordinary values stay visible; only secret-looking ones are replaced.
            assert!(
                all.contains("[redacted]") && all.contains(r#"\"LOG_LEVEL\":\"info\""#),
                "{all}"
            );
        }
    }
}
