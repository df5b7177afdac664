//! A user's edit of something capm installed is a state, not a fault: `capm doctor`
//! reports it and exits 0, capm proposes its version beside the edit only when the bundle
//! changed, `capm keep` records the edit as the user's, `capm restore` puts capm's version
//! back, and capm removes what it wrote (proposals, a config file it created) when it is
//! no longer needed.

use std::path::Path;

use super::support::{self, capm, tempdir, tree, write_files};

use super::fixtures;

const AGENT: &str = ".opencode/agents/helper.md";
const PROPOSAL: &str = ".opencode/agents/helper.md.capm-new";
const MINE: &str = "---\ndescription: Helps\n---\nMy own helper.\n";

/// The crash fixture installed at v1, with the agent edited by the user.
fn edited() -> tempfile::TempDir {
    let dir = tempdir();
    fixtures::base(dir.path());
    ok(dir.path(), &["install", "-y"]);
    std::fs::write(dir.path().join(AGENT), MINE).unwrap();
    dir
}

use crate::support::capm_ok as ok;

fn doctor_status(dir: &Path, id: &str) -> String {
    let doc = ok(dir, &["doctor", "--format", "json"]).json();
    assert_eq!(doc["healthy"], true, "{doc:#}");
    let r = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {doc:#}"));
    r["status"].as_str().unwrap().to_string()
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

#[test]
fn doctor_reports_an_edit_and_exits_0() {
    let dir = edited();
    let p = dir.path();
    let run = ok(p, &["doctor"]);
    assert!(
        run.stdout.contains("modified  agent:helper"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("`capm keep agent:helper` records yours as final, `capm restore agent:helper` puts capm's version back"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Healthy"), "{}", run.stderr);
    assert_eq!(doctor_status(p, "agent:helper"), "modified");
}

#[test]
fn install_writes_no_proposal_when_the_bundle_did_not_change() {
    let dir = edited();
    let p = dir.path();
    let before = tree(p);
    let run = ok(p, &["install", "-y"]);
    assert!(run.stderr.contains("nothing to do"), "{}", run.stderr);
    assert_eq!(tree(p), before, "install wrote something");
    let plan = ok(p, &["plan", "install", "--format", "json"]).json();
    let agent = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["resource"] == "agent:helper")
        .unwrap();
    assert_eq!(
        (&agent["action"], &agent["reason"]),
        (&"keep".into(), &"user-modified".into())
    );
}

#[test]
fn a_proposal_is_written_once_per_bundle_change_and_removed_with_the_bundle() {
    let dir = edited();
    let p = dir.path();
    fixtures::to_v2(p);
    ok(p, &["update", "-y"]);
    assert_eq!(read(p, AGENT), MINE);
    assert!(read(p, PROPOSAL).contains("Helper, version two."));
    // Seen and deleted: the same version is not proposed again.
    std::fs::remove_file(p.join(PROPOSAL)).unwrap();
    let before = tree(p);
    ok(p, &["install", "-y"]);
    assert_eq!(tree(p), before, "the proposal came back");
    assert_eq!(doctor_status(p, "agent:helper"), "modified");
    // A new proposal, then removal: capm's proposal goes, the user's edit stays.
    write_files(
        p,
        &[(
            "vendor/tool/agents/helper.md",
            "---\ndescription: Helps\n---\nHelper, version three.\n",
        )],
    );
    ok(p, &["install", "-y"]);
    assert!(p.join(PROPOSAL).exists());
    ok(p, &["remove", "tool", "-y"]);
    assert!(!p.join(PROPOSAL).exists(), "remove left capm's proposal");
    assert_eq!(read(p, AGENT), MINE);
}

#[test]
fn a_proposal_the_user_edited_stays_on_removal() {
    let dir = edited();
    let p = dir.path();
    fixtures::to_v2(p);
    ok(p, &["update", "-y"]);
    std::fs::write(p.join(PROPOSAL), "merged by hand\n").unwrap();
    ok(p, &["remove", "tool", "-y"]);
    assert_eq!(read(p, PROPOSAL), "merged by hand\n");
}

#[test]
fn keep_records_the_edit_as_yours() {
    let dir = edited();
    let p = dir.path();
    let before = tree(p);
    let dry = ok(
        p,
        &["keep", "agent:helper", "--dry-run", "--format", "json"],
    )
    .json();
    assert_eq!(dry["outcome"], "dry-run");
    assert_eq!(dry["plan"]["request"]["keep"][0], "agent:helper");
    assert_eq!(tree(p), before, "a dry run wrote");
    ok(p, &["keep", "agent:helper", "-y"]);
    assert_eq!(read(p, AGENT), MINE);
    assert!(read(p, "capm.lock").contains("kept = \"sha256:"));
    assert_eq!(doctor_status(p, "agent:helper"), "kept");
    let run = ok(p, &["doctor"]);
    assert!(
        run.stdout.contains("kept      agent:helper"),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("capm keep"), "{}", run.stderr);
    // Kept: nothing to do until the bundle changes; then capm's version is proposed.
    let before = tree(p);
    ok(p, &["install", "-y"]);
    assert_eq!(tree(p), before);
    fixtures::to_v2(p);
    ok(p, &["update", "-y"]);
    assert!(read(p, PROPOSAL).contains("version two"));
    assert_eq!(read(p, AGENT), MINE);
    // Removing the bundle hands the kept file over, even with --purge.
    ok(p, &["remove", "tool", "--purge", "-y"]);
    assert_eq!(read(p, AGENT), MINE);
    assert!(!p.join(PROPOSAL).exists());
}

#[test]
fn restore_puts_capms_version_back_and_drops_the_proposal() {
    let dir = edited();
    let p = dir.path();
    fixtures::to_v2(p);
    ok(p, &["update", "-y"]);
    assert!(p.join(PROPOSAL).exists());
    let run = ok(p, &["restore", "agent:helper", "-y"]);
    assert!(run.stdout.contains("(restored)"), "{}", run.stdout);
    assert!(read(p, AGENT).contains("Helper, version two."));
    assert!(!p.join(PROPOSAL).exists());
    assert_eq!(doctor_status(p, "agent:helper"), "ok");
    // A skill directory too.
    std::fs::write(p.join(".opencode/skills/notes/mine.md"), "mine\n").unwrap();
    assert_eq!(doctor_status(p, "skill:notes"), "modified");
    ok(p, &["restore", "skill:notes", "-y"]);
    assert!(!p.join(".opencode/skills/notes/mine.md").exists());
    assert_eq!(doctor_status(p, "skill:notes"), "ok");
}

#[test]
fn keep_and_restore_refuse_what_is_not_an_edit_and_write_nothing() {
    let dir = edited();
    let p = dir.path();
    let before = tree(p);
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["keep", "agent:nope", "-y"],
            1,
            "error[unknown-resource]: `agent:nope` is not a resource of this project's bundles",
        ),
        (
            &["restore", "skill:notes", "-y"],
            1,
            "error[not-edited]: `skill:notes` is as capm installed it: there is no edit of yours to keep or restore",
        ),
        (
            &["keep", "helper", "-y"],
            2,
            "`helper` is not a resource: write KIND:NAME",
        ),
        (&["restore"], 2, "RESOURCE"),
    ];
    for (args, code, message) in cases {
        let run = capm(p, args);
        assert_eq!(run.code, *code, "{}", run.transcript());
        assert!(run.stderr.contains(message), "{}", run.transcript());
        assert_eq!(tree(p), before, "capm {} wrote", args.join(" "));
    }
    let json = capm(p, &["keep", "agent:nope", "--format", "json"]);
    assert_eq!(json.json()["code"], "unknown-resource");
}

/// The `tool` path bundle alone, installed, with `config` as the user's opencode.json.
fn tool_installed(config: Option<&str>) -> tempfile::TempDir {
    let dir = tempdir();
    let p = dir.path();
    write_files(
        p,
        &[(
            "capm.toml",
            "[bundles]\ntool = { path = \"vendor/tool\" }\n",
        )],
    );
    write_files(p, fixtures::TOOL_V1);
    if let Some(text) = config {
        write_files(p, &[("opencode.json", text)]);
    }
    ok(p, &["install", "-y"]);
    dir
}

#[test]
fn removing_the_last_bundle_removes_the_config_capm_created() {
    let dir = tool_installed(None);
    let p = dir.path();
    assert!(read(p, "opencode.json").contains("\"tool\""));
    assert!(read(p, "capm.lock").contains("created = [\"opencode.json\"]"));
    ok(p, &["remove", "tool", "-y"]);
    assert!(
        !p.join("opencode.json").exists(),
        "capm's own config was left"
    );
    assert!(!p.join(".opencode").exists());
    // One the user added to keeps their entry, and stays.
    let dir = tool_installed(None);
    let p = dir.path();
    let config = read(p, "opencode.json").replacen('{', "{\n  \"theme\": \"mine\",", 1);
    std::fs::write(p.join("opencode.json"), &config).unwrap();
    ok(p, &["remove", "tool", "-y"]);
    assert!(read(p, "opencode.json").contains("\"theme\": \"mine\""));
    // And a config file of the user's is never removed, even when it ends up empty.
    let skeleton = "{\n  \"$schema\": \"https://opencode.ai/config.json\"\n}\n";
    let dir = tool_installed(Some(skeleton));
    let p = dir.path();
    ok(p, &["remove", "tool", "-y"]);
    assert_eq!(read(p, "opencode.json"), skeleton);
}

#[test]
fn keeping_again_takes_back_a_proposal_written_after_the_first_keep() {
    let dir = edited();
    let p = dir.path();
    ok(p, &["keep", "agent:helper", "-y"]);
    fixtures::to_v2(p);
    ok(p, &["update", "-y"]);
    assert!(read(p, PROPOSAL).contains("Helper, version two."));
    ok(p, &["keep", "agent:helper", "-y"]);
    assert!(!p.join(PROPOSAL).exists(), "keep left the proposal");
    assert_eq!(read(p, AGENT), MINE);
    assert_eq!(doctor_status(p, "agent:helper"), "kept");
}

#[test]
fn misspelt_resources_are_refused_with_the_closest_one() {
    let dir = edited();
    let p = dir.path();
    for args in [
        &["keep", "agent:helpr", "-y"][..],
        &["restore", "agent:helpr", "-y"],
        &["install", "--skip", "agent:helpr", "--dry-run"],
    ] {
        let before = tree(p);
        let run = support::capm(p, args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.transcript());
        assert!(
            run.stderr.starts_with(
                "error[unknown-resource]: `agent:helpr` is not a resource of this project's bundles; did you mean `agent:helper`?"
            ),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(tree(p), before, "{args:?} wrote something");
    }
}
