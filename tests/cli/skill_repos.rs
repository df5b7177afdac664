//! Repositories of Agent Skills end to end: `capm add git+PATH --skill NAME` and
//! `capm add ./dir --skill NAME` against a repository of several skills with nested
//! resources (tests/fixtures/marketplace/skills-repo), committed and tagged in a temporary
//! directory. Each test checks what the user sees, capm.toml, capm.lock and the installed
//! files, and that a refused run writes nothing.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::git_server::{git, git_config, init_repo};
use crate::support::{Run, capm_with, copy_dir, repo, tempdir, tree};

/// A temporary directory holding repositories, projects and the one cache every capm run
/// of a test shares (outside the projects).
pub struct World {
    dir: TempDir,
}

impl World {
    pub fn new() -> World {
        git_config();
        World { dir: tempdir() }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `capm ARGS` in `dir` with the shared cache.
    pub fn capm(&self, dir: &Path, args: &[&str]) -> Run {
        let cache = self.path("cache");
        capm_with(dir, args, &[("XDG_CACHE_HOME", cache.to_str().unwrap())])
    }

    /// A project `name` made by `capm init`, with `extra` appended to capm.toml.
    pub fn project(&self, name: &str, extra: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::create_dir_all(&p).unwrap();
        ok(&self.capm(&p, &["init", "."]));
        let mut text = std::fs::read_to_string(p.join("capm.toml")).unwrap();
        text.push_str(extra);
        std::fs::write(p.join("capm.toml"), text).unwrap();
        p
    }

    /// A git repository `name` holding the fixture `tests/fixtures/marketplace/FIXTURE`,
    /// committed on `main` and tagged `tag` when given. Returns the commit.
    pub fn repository(&self, name: &str, fixture: &str, tag: Option<&str>) -> String {
        let dir = self.path(name);
        init_repo(&dir);
        copy_dir(&fixture_dir(fixture), &dir);
        commit(&dir, tag)
    }
}

pub fn fixture_dir(name: &str) -> PathBuf {
    repo().join("tests/fixtures/marketplace").join(name)
}

/// Commits everything in `repo`, tags it `tag` when given, and returns the commit.
pub fn commit(repo: &Path, tag: Option<&str>) -> String {
    git(repo, &["add", "--all"]);
    git(repo, &["commit", "--quiet", "-m", "change"]);
    if let Some(tag) = tag {
        git(repo, &["tag", tag]);
    }
    git(repo, &["rev-parse", "HEAD"])
}

/// `capm ARGS` in project `p` fails with exit `code`, its stderr says each of `says`, and
/// nothing in the project changed.
pub fn refused(w: &World, p: &Path, args: &[&str], code: i32, says: &[&str]) {
    let before = tree(p);
    let run = w.capm(p, args);
    assert_eq!(run.code, code, "{}", run.transcript());
    for text in says {
        assert!(run.stderr.contains(text), "{text}:\n{}", run.stderr);
    }
    assert_eq!(tree(p), before);
}

pub fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}", run.transcript());
}

/// The `[[bundle]]` entry of `name` in the project's capm.lock.
pub fn locked(project: &Path, name: &str) -> toml::Table {
    let text = std::fs::read_to_string(project.join("capm.lock")).unwrap();
    let lock: toml::Table = text.parse().unwrap();
    let bundles = lock["bundle"].as_array().unwrap();
    bundles
        .iter()
        .find(|b| b["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{name} is not in capm.lock:\n{text}"))
        .as_table()
        .unwrap()
        .clone()
}

/// The `[bundles]` entry of `name` in capm.toml, as written.
pub fn entry(project: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(project.join("capm.toml")).unwrap();
    let prefix = format!("{name} = ");
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("capm.toml has no {name}:\n{text}"))
        .to_string()
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file of skill `name` is installed as the repository holds it.
fn installed_as_written(project: &Path, repo: &Path, name: &str) {
    let from = tree(&repo.join("skills").join(name));
    let to = tree(&project.join(".opencode/skills").join(name));
    assert_eq!(from, to, "skill {name}");
}

#[test]
fn one_skill_of_a_repository_installs_with_all_its_files() {
    let w = World::new();
    let commit = w.repository("skills-repo", "skills-repo", Some("v1.0.0"));
    let p = w.project("p", "");
    let run = w.capm(&p, &["add", "git+../skills-repo", "--skill", "pdf", "-y"]);
    ok(&run);
    assert!(
        run.stdout
            .contains("create   skill:pdf  .opencode/skills/pdf"),
        "{}",
        run.stdout
    );
    installed_as_written(&p, &w.path("skills-repo"), "pdf");
    assert!(read(p.join(".opencode/skills/pdf/scripts/extract.py")).contains("sys.argv"));
    assert!(!p.join(".opencode/skills/docx").exists());
    assert_eq!(
        entry(&p, "pdf"),
        r#"pdf = { git = "../skills-repo", skills = ["pdf"], version = "^1.0.0" }"#
    );
    let lock = locked(&p, "pdf");
    assert_eq!(lock["version"].as_str(), Some("1.0.0"));
    assert_eq!(lock["commit"].as_str(), Some(commit.as_str()));
    let sha = lock["sha256"].as_str().unwrap();
    assert!(sha.starts_with("sha256:") && sha.len() == 71, "{sha}");
}

#[test]
fn several_skills_are_one_bundle_named_after_the_repository() {
    let w = World::new();
    w.repository("skills-repo", "skills-repo", Some("v1.0.0"));
    let p = w.project("p", "");
    let args = [
        "add",
        "git+../skills-repo",
        "--skill",
        "pdf",
        "--skill",
        "docx",
        "-y",
    ];
    ok(&w.capm(&p, &args));
    for name in ["pdf", "docx"] {
        installed_as_written(&p, &w.path("skills-repo"), name);
    }
    assert!(!p.join(".opencode/skills/xlsx").exists());
    assert_eq!(
        entry(&p, "skills-repo"),
        r#"skills-repo = { git = "../skills-repo", skills = ["pdf", "docx"], version = "^1.0.0" }"#
    );
    assert_eq!(locked(&p, "skills-repo")["version"].as_str(), Some("1.0.0"));
    let list = w.capm(&p, &["list"]);
    ok(&list);
    let line = list.stdout.lines().find(|l| l.starts_with("skills-repo "));
    assert!(
        line.is_some_and(|l| l.contains(" 1.0.0 ")),
        "{}",
        list.stdout
    );
}

#[test]
fn an_unknown_skill_is_refused_with_the_names_there_and_nothing_is_written() {
    let w = World::new();
    w.repository("skills-repo", "skills-repo", Some("v1.0.0"));
    let p = w.project("p", "");
    let args = ["add", "git+../skills-repo", "--skill", "pfd", "-y"];
    let says = [
        "holds no skill named `pfd`",
        "the skills there are: docx, pdf, xlsx",
    ];
    refused(&w, &p, &args, 1, &says);
}

#[test]
fn a_skill_asked_of_a_bundle_that_is_no_repository_of_skills_is_refused() {
    let w = World::new();
    let kit = w.path("kit");
    init_repo(&kit);
    crate::git_server::commit_bundle(&kit, None, "kit", "1.0.0");
    git(&kit, &["tag", "v1.0.0"]);
    let p = w.project("p", "");
    let args = ["add", "git+../kit", "--skill", "hello", "-y"];
    let says = ["is a native bundle, not a repository of skills"];
    refused(&w, &p, &args, 1, &says);
}

#[test]
fn skill_goes_with_one_repository_and_not_with_a_bundle_name() {
    let w = World::new();
    w.repository("skills-repo", "skills-repo", Some("v1.0.0"));
    let p = w.project("p", "");
    let args = ["add", "github", "--skill", "pdf", "-y"];
    refused(&w, &p, &args, 2, &["`github` is a bundle name"]);
    let args = [
        "add",
        "git+../skills-repo",
        "git+../b",
        "--skill",
        "pdf",
        "-y",
    ];
    refused(&w, &p, &args, 2, &["from one git repository or directory"]);
}

#[test]
fn update_follows_a_new_version_tag_to_its_commit() {
    let w = World::new();
    let first = w.repository("skills-repo", "skills-repo", Some("v1.0.0"));
    let p = w.project("p", "");
    ok(&w.capm(&p, &["add", "git+../skills-repo", "--skill", "pdf", "-y"]));
    let forms = w.path("skills-repo/skills/pdf/references/forms.md");
    std::fs::write(&forms, "# PDF forms\n\nA field may be required.\n").unwrap();
    let second = commit(&w.path("skills-repo"), Some("v1.1.0"));
    let run = w.capm(&p, &["update", "-y"]);
    ok(&run);
    let lock = locked(&p, "pdf");
    assert_eq!(lock["version"].as_str(), Some("1.1.0"));
    assert_eq!(lock["commit"].as_str(), Some(second.as_str()));
    assert_ne!(first, second);
    let installed = read(p.join(".opencode/skills/pdf/references/forms.md"));
    assert!(installed.contains("may be required"), "{installed}");
    assert_eq!(
        entry(&p, "pdf"),
        r#"pdf = { git = "../skills-repo", skills = ["pdf"], version = "^1.0.0" }"#
    );
}

#[test]
fn installs_again_offline_from_the_cache() {
    let w = World::new();
    w.repository("skills-repo", "skills-repo", Some("v1.0.0"));
    let p = w.project("p", "");
    ok(&w.capm(&p, &["add", "git+../skills-repo", "--skill", "pdf", "-y"]));
    std::fs::remove_dir_all(p.join(".opencode")).unwrap();
    std::fs::remove_dir_all(w.path("skills-repo")).unwrap();
    let run = w.capm(&p, &["install", "--offline", "-y"]);
    ok(&run);
    assert_eq!(locked(&p, "pdf")["version"].as_str(), Some("1.0.0"));
    assert!(p.join(".opencode/skills/pdf/references/forms.md").is_file());
}

#[test]
fn a_directory_of_skills_is_added_by_path_with_its_selection() {
    let w = World::new();
    let p = w.project("p", "");
    copy_dir(&fixture_dir("skills-repo"), &p.join("vendor/skills"));
    let run = w.capm(&p, &["add", "./vendor/skills", "--skill", "xlsx", "-y"]);
    ok(&run);
    assert_eq!(
        entry(&p, "xlsx"),
        r#"xlsx = { path = "vendor/skills", skills = ["xlsx"] }"#
    );
    assert!(p.join(".opencode/skills/xlsx/SKILL.md").is_file());
    assert!(!p.join(".opencode/skills/pdf").exists());
    let args = ["add", "./vendor/skills", "--skill", "pptx", "-y"];
    refused(&w, &p, &args, 1, &["holds no skill named `pptx`"]);
}

#[test]
fn a_fresh_cache_installs_the_locked_commit_at_its_tagged_version() {
    let w = World::new();
    let commit = w.repository("skills-repo", "skills-repo", Some("v1.0.0"));
    let p = w.project("p", "");
    ok(&w.capm(&p, &["add", "git+../skills-repo", "--skill", "pdf", "-y"]));
    let lock = std::fs::read_to_string(p.join("capm.lock")).unwrap();
    std::fs::remove_dir_all(p.join(".opencode")).unwrap();
    let fresh = w.path("fresh-cache");
    let env = [("XDG_CACHE_HOME", fresh.to_str().unwrap())];
    let run = crate::support::capm_with(&p, &["install", "--locked", "-y"], &env);
    ok(&run);
    assert_eq!(std::fs::read_to_string(p.join("capm.lock")).unwrap(), lock);
    assert_eq!(locked(&p, "pdf")["commit"].as_str(), Some(commit.as_str()));
    assert!(p.join(".opencode/skills/pdf/scripts/extract.py").is_file());
}
