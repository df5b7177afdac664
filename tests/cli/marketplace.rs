//! Claude Code marketplaces as registries end to end: a marketplace repository
//! (tests/fixtures/marketplace/market) listing a plugin by relative path, a skills-only
//! plugin with `"strict": false`, a plugin in another repository by a `url` source
//! (review-kit, tagged v1.0.0) and one from npm, all committed in a temporary directory
//! and declared as `[registries] acme = { marketplace = "../market" }`.
//!
//! The tests that install a plugin need the Claude Code plugin reader
//! (`formats::claude`); until it reads plugins they are ignored, with that as the reason.

use std::path::PathBuf;

use crate::skill_repos::{World, entry, locked, ok, refused};
use crate::support::tree;

/// The marketplace and review-kit repositories, and a project declaring the marketplace.
/// Returns the project and the marketplace's commit.
fn setup(w: &World) -> (PathBuf, String) {
    w.repository("review-kit", "review-kit", Some("v1.0.0"));
    let commit = w.repository("market", "market", None);
    let p = w.project(
        "p",
        "\n[registries]\nacme = { marketplace = \"../market\" }\n",
    );
    (p, commit)
}

#[test]
fn an_npm_plugin_is_refused_by_name_at_its_entry() {
    let w = World::new();
    let (p, _) = setup(&w);
    let says = [
        "plugins from `npm` sources are not supported",
        ".claude-plugin/marketplace.json:31:",
    ];
    refused(&w, &p, &["add", "npm-kit", "-y"], 1, &says);
}

#[test]
fn a_broken_marketplace_file_is_refused_where_it_breaks() {
    let w = World::new();
    let (p, _) = setup(&w);
    let file = w.path("market/.claude-plugin/marketplace.json");
    let text = "{\n  \"name\": \"acme-tools\",\n  \"plugins\": [\n    {\"name\": }\n  ]\n}\n";
    std::fs::write(&file, text).unwrap();
    crate::skill_repos::commit(&w.path("market"), None);
    let says = [
        "/market@",
        ".claude-plugin/marketplace.json:4:",
        "is not valid JSON",
    ];
    refused(&w, &p, &["add", "docs-kit", "-y"], 1, &says);
}

#[test]
fn a_repository_without_a_marketplace_file_is_refused() {
    let w = World::new();
    w.repository("skills-repo", "skills-repo", None);
    let registry = "\n[registries]\nacme = { marketplace = \"../skills-repo\" }\n";
    let p = w.project("p", registry);
    let says = ["there is no .claude-plugin/marketplace.json there"];
    refused(&w, &p, &["add", "docs-kit", "-y"], 1, &says);
}

#[test]
fn a_name_the_marketplace_lacks_is_unknown() {
    let w = World::new();
    let (p, _) = setup(&w);
    refused(&w, &p, &["add", "docs-kti", "-y"], 1, &["`docs-kti`"]);
}

#[test]
fn a_plugin_by_relative_path_installs_at_the_marketplace_commit() {
    let w = World::new();
    let (p, commit) = setup(&w);
    let run = w.capm(&p, &["add", "docs-kit", "-y"]);
    ok(&run);
    assert_eq!(entry(&p, "docs-kit"), r#"docs-kit = "^1.2.0""#);
    let lock = locked(&p, "docs-kit");
    assert_eq!(lock["version"].as_str(), Some("1.2.0"));
    assert_eq!(lock["commit"].as_str(), Some(commit.as_str()));
    assert_eq!(lock["source"].as_str(), Some("registry+acme"));
    assert!(p.join(".opencode/skills/write-docs/SKILL.md").is_file());
    // Where the plugin reader names them is its own business: look for their text.
    let files = tree(&p);
    let holds = |prefix: &str, text: &str| {
        files
            .iter()
            .any(|(k, v)| k.starts_with(prefix) && String::from_utf8_lossy(v).contains(text))
    };
    assert!(
        holds(".opencode/agents/", "You review documentation"),
        "{:?}",
        files.keys()
    );
    assert!(
        holds(".opencode/commands/", "broken links"),
        "{:?}",
        files.keys()
    );
    assert!(
        holds("opencode.json", "server-memory@2026.8.31"),
        "{:?}",
        files.keys()
    );
}

#[test]
fn a_skills_only_plugin_installs_its_listed_skills() {
    let w = World::new();
    let (p, _) = setup(&w);
    ok(&w.capm(&p, &["add", "doc-skills", "-y"]));
    assert!(p.join(".opencode/skills/style-guide/SKILL.md").is_file());
    assert_eq!(locked(&p, "doc-skills")["version"].as_str(), Some("0.3.0"));
}

#[test]
fn a_plugin_by_git_url_follows_its_version_tags() {
    let w = World::new();
    let (p, _) = setup(&w);
    ok(&w.capm(&p, &["add", "review-kit", "-y"]));
    let first = locked(&p, "review-kit");
    assert_eq!(first["version"].as_str(), Some("1.0.0"));
    let review = w.path("review-kit/commands/review.md");
    std::fs::write(
        &review,
        "---\ndescription: Review the branch\n---\nReview it.\n",
    )
    .unwrap();
    let second = crate::skill_repos::commit(&w.path("review-kit"), Some("v1.1.0"));
    ok(&w.capm(&p, &["update", "-y"]));
    let lock = locked(&p, "review-kit");
    assert_eq!(lock["version"].as_str(), Some("1.1.0"));
    assert_eq!(lock["commit"].as_str(), Some(second.as_str()));
}

#[test]
fn search_lists_the_plugins_and_leaves_out_the_npm_one() {
    let w = World::new();
    let (p, _) = setup(&w);
    let run = w.capm(&p, &["search", "kit"]);
    ok(&run);
    assert!(
        run.stdout.contains("docs-kit") && run.stdout.contains("review-kit"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("npm-kit") || run.stderr.contains("`npm` sources"),
        "{}",
        run.stderr
    );
}

#[test]
fn installs_again_offline_from_the_cache() {
    let w = World::new();
    let (p, _) = setup(&w);
    ok(&w.capm(&p, &["add", "docs-kit", "-y"]));
    std::fs::remove_dir_all(p.join(".opencode")).unwrap();
    std::fs::remove_dir_all(w.path("market")).unwrap();
    ok(&w.capm(&p, &["install", "--offline", "-y"]));
    assert!(p.join(".opencode/skills/write-docs/SKILL.md").is_file());
}

#[test]
fn a_plugin_stays_at_its_locked_commit_until_updated() {
    let w = World::new();
    let (p, first) = setup(&w);
    ok(&w.capm(&p, &["add", "docs-kit", "-y"]));
    let lock = std::fs::read_to_string(p.join("capm.lock")).unwrap();
    let skill = w.path("market/plugins/docs-kit/skills/write-docs/SKILL.md");
    let text = std::fs::read_to_string(&skill).unwrap() + "\nLink every page.\n";
    std::fs::write(&skill, text).unwrap();
    let second = crate::skill_repos::commit(&w.path("market"), None);
    ok(&w.capm(&p, &["install", "--locked", "-y"]));
    assert_eq!(std::fs::read_to_string(p.join("capm.lock")).unwrap(), lock);
    ok(&w.capm(&p, &["update", "docs-kit", "-y"]));
    assert_eq!(
        locked(&p, "docs-kit")["commit"].as_str(),
        Some(second.as_str())
    );
    assert_ne!(first, second);
    let installed = p.join(".opencode/skills/write-docs/SKILL.md");
    assert!(
        std::fs::read_to_string(installed)
            .unwrap()
            .contains("Link every page.")
    );
}
