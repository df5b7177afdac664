//! A repository of Agent Skills, as the field publishes them (`skills/NAME/SKILL.md` with
//! scripts and references), added from git by capm: OpenCode finds exactly the skills
//! chosen, with every file of each.

use std::path::Path;
use std::process::Command;

use crate::client::OpenCode;
use crate::support::{capm_with, tempdir};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// A git repository of three skills, tagged v1.0.0.
fn skills_repository(root: &Path) {
    for (name, what) in [
        ("pdf", "PDF forms"),
        ("xlsx", "spreadsheets"),
        ("pptx", "slides"),
    ] {
        let md = format!(
            "---\nname: {name}\ndescription: Work with {what}. Use when the user mentions {name} files.\nlicense: Proprietary. LICENSE.txt has the terms\nmetadata:\n  version: \"1.0\"\n---\n# {name}\n\nRun `scripts/run.py`, read `references/guide.md`.\n"
        );
        write(root, &format!("skills/{name}/SKILL.md"), &md);
        write(
            root,
            &format!("skills/{name}/scripts/run.py"),
            "print('ok')\n",
        );
        write(
            root,
            &format!("skills/{name}/references/guide.md"),
            "# Guide\n",
        );
    }
    write(root, "README.md", "# Team skills\n");
    git(root, &["init", "--quiet"]);
    git(root, &["add", "--all"]);
    git(root, &["commit", "--quiet", "-m", "skills"]);
    git(root, &["tag", "v1.0.0"]);
}

#[test]
fn the_skills_chosen_from_a_git_repository_are_what_opencode_finds() {
    let Some(oc) =
        OpenCode::found("the_skills_chosen_from_a_git_repository_are_what_opencode_finds")
    else {
        return;
    };
    let dir = tempdir();
    let repo = dir.path().join("team-skills");
    skills_repository(&repo);
    let project = dir.path().join("p");
    write(
        &project,
        "capm.toml",
        "[bundles]\nteam = { git = \"../team-skills\", version = \"^1\", skills = [\"pdf\", \"xlsx\"] }\n",
    );
    let run = capm_with(&project, &["install", "--yes"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lock = std::fs::read_to_string(project.join("capm.lock")).unwrap();
    assert!(
        lock.contains("name = \"team\"\nversion = \"1.0.0\""),
        "{lock}"
    );

    let mut skills: Vec<(String, String)> = oc
        .skills(&project)
        .into_iter()
        .filter(|(_, location)| location.contains(".opencode/skills/"))
        .collect();
    skills.sort();
    let names: Vec<&str> = skills.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["pdf", "xlsx"], "{skills:?}");
    for (name, location) in &skills {
        assert!(
            location.ends_with(&format!(".opencode/skills/{name}/SKILL.md")),
            "{location}"
        );
        let installed = project.join(".opencode/skills").join(name);
        assert!(installed.join("scripts/run.py").is_file(), "{name}");
        assert!(installed.join("references/guide.md").is_file(), "{name}");
    }
    assert!(!project.join(".opencode/skills/pptx").exists());
}
