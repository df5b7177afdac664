//! Agent Skills: a directory with `SKILL.md` at its root is a bundle of that one skill; a
//! directory with skills below it (`skills/NAME/SKILL.md` or any other depth) is a bundle
//! of the skills selected from it, each left where the author put it.
//!
//! The Agent Skills standard has no version: the version tag a bundle was fetched at is
//! used, else a single skill's `metadata.version`, else `0.0.0`.

use yaml_rust2::Yaml;

use super::front::{self, FrontMatter};
use super::generated::From;
use super::{Options, Translation, bundle_name};
use crate::diagnostic::Diagnostic;
use crate::manifest::span::Span;
use crate::manifest::tree::BundleTree;

/// One skill found in the author's files.
struct Found {
    /// Its directory, relative to the root (`skills/pdf`; empty for the root itself).
    dir: String,
    name: String,
    description: Option<(String, Span)>,
    version: Option<String>,
    /// Its SKILL.md in the origin.
    file: usize,
    name_span: Option<Span>,
}

/// A directory whose root holds `SKILL.md`: the bundle of that skill, which lands in
/// `skills/DIR/` of the bundle (DIR: the directory's own name).
pub fn single(raw: BundleTree, opts: &Options) -> BundleTree {
    let dir = last_part(&raw.display_root);
    let mut t = Translation::new(raw, "agent-skill");
    let Some(found) = read_skill(&mut t, "", &dir) else {
        return t.fail();
    };
    let Some(found) = select(&mut t, vec![found], &opts.skills).pop() else {
        return t.fail();
    };
    let to = format!("skills/{}", if dir.is_empty() { &found.name } else { &dir });
    let mut files: Vec<String> = t.raw.entries.keys().cloned().collect();
    files.retain(|k| !k.contains('/') || !k.starts_with('.'));
    for k in files {
        if !k.contains('/') {
            t.copy(&k, &format!("{to}/{k}"));
        }
    }
    let name = bundle_name(&found.name).or_else(|| opts.name.clone());
    write_manifest(&mut t, name, opts, &[found], &[to]);
    t.finish(0)
}

/// A directory with skills below it: the bundle of the skills `opts.skills` names (all of
/// them when it names none), named by capm.toml (`opts.name`), else after the one skill
/// taken, else after the repository or directory.
pub fn repository(raw: BundleTree, opts: &Options) -> BundleTree {
    let root_name = last_part(&raw.display_root);
    let mut t = Translation::new(raw, "skills");
    let mut found: Vec<Found> = Vec::new();
    for dir in skill_dirs(&t.raw) {
        let fallback = last_part(&dir);
        let Some(skill) = read_skill(&mut t, &dir, &fallback) else {
            continue;
        };
        if let Some(first) = found.iter().find(|f| f.name == skill.name) {
            let d = Diagnostic::new(
                "duplicate-resource",
                format!(
                    "two skills are named `{}`: `{}` and `{}`; only the first is read",
                    skill.name, first.dir, skill.dir
                ),
            );
            let file = t.origin.files[skill.file].clone();
            t.finding(d.at(&file, skill.name_span.unwrap_or_default()));
            continue;
        }
        found.push(skill);
    }
    let chosen = select(&mut t, found, &opts.skills);
    if chosen.is_empty() {
        return t.fail();
    }
    for f in &chosen {
        let dir = f.dir.clone();
        t.copy(&dir, &dir);
    }
    let one = match chosen.as_slice() {
        [one] => bundle_name(&one.name),
        _ => None,
    };
    let name = (opts.name.clone().or(one))
        .or_else(|| opts.place.clone())
        .or_else(|| bundle_name(&root_name));
    let dirs: Vec<String> = chosen.iter().map(|f| f.dir.clone()).collect();
    let main = chosen[0].file;
    write_manifest(&mut t, name, opts, &chosen, &dirs);
    t.finish(main)
}

/// The directories below the root that hold a SKILL.md, outermost first; a skill's own
/// files are never searched for more skills, nor are hidden directories.
fn skill_dirs(raw: &BundleTree) -> Vec<String> {
    let mut dirs: Vec<String> = Vec::new();
    for k in raw.entries.keys() {
        let Some(dir) = k.strip_suffix("/SKILL.md") else {
            continue;
        };
        let hidden = dir.split('/').any(|p| p.starts_with('.'));
        let inside = dirs.iter().any(|d| dir.starts_with(&format!("{d}/")));
        if !hidden && !inside {
            dirs.push(dir.to_string());
        }
    }
    dirs
}

/// Keeps the skills `wanted` names (every one when it is empty); a name no skill has is a
/// finding with the closest one.
fn select(t: &mut Translation, found: Vec<Found>, wanted: &[String]) -> Vec<Found> {
    if found.is_empty() {
        let d = Diagnostic::new(
            "missing-skill-md",
            "no SKILL.md was found below the directory",
        )
        .in_file(t.raw.display_root.clone())
        .help("a skill is a directory holding SKILL.md, such as `skills/NAME/SKILL.md`");
        t.finding(d);
        return Vec::new();
    }
    if wanted.is_empty() {
        return found;
    }
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    let mut missing = false;
    for w in wanted {
        if !names.contains(&w.as_str()) {
            missing = true;
            let mut d = Diagnostic::new(
                "skill-not-found",
                format!("the repository holds no skill named `{w}`"),
            );
            d = d
                .in_file(t.raw.display_root.clone())
                .help(format!("the skills there are: {}", names.join(", ")));
            t.finding(d);
        }
    }
    if missing {
        return Vec::new();
    }
    found
        .into_iter()
        .filter(|f| wanted.contains(&f.name))
        .collect()
}

/// Reads `DIR/SKILL.md`; its name is the front matter's, else `fallback`.
fn read_skill(t: &mut Translation, dir: &str, fallback: &str) -> Option<Found> {
    let rel = if dir.is_empty() {
        "SKILL.md".to_string()
    } else {
        format!("{dir}/SKILL.md")
    };
    let (file, source) = t.source(&rel)?;
    // Malformed front matter is reported by the skill check of the generated bundle.
    let fm = front::parse(&source.text).ok().flatten();
    let fm = fm.as_ref();
    let named = fm.and_then(|f| f.string("name"));
    let name = named
        .as_ref()
        .map(|(n, _)| n.clone())
        .unwrap_or_else(|| fallback.to_string());
    Some(Found {
        dir: dir.to_string(),
        name,
        description: fm.and_then(|f| f.string("description")),
        version: fm.and_then(metadata_version),
        file,
        name_span: named.map(|(_, s)| s),
    })
}

/// `metadata: { version: "1.2.0" }`.
fn metadata_version(fm: &FrontMatter) -> Option<String> {
    let (meta, _) = fm.get("metadata")?;
    let v = front::scalar(meta.as_hash()?.get(&Yaml::String("version".into()))?)?;
    // Skills often say `version: "1.0"`, which is no semantic version: not one to use.
    semver::Version::parse(&v).is_ok().then_some(v)
}

/// The generated manifest: `[bundle]` and one `[skills.NAME]` per skill, at `dirs`.
fn write_manifest(
    t: &mut Translation,
    name: Option<String>,
    opts: &Options,
    skills: &[Found],
    dirs: &[String],
) {
    let m = &mut t.manifest;
    m.table(&["bundle"]);
    let first = &skills[0];
    let from_name: From = first.name_span.map(|s| (first.file, Some(s)));
    m.string("name", name.as_deref().unwrap_or(&first.name), from_name);
    // A version tag names the release of the whole repository, so it wins.
    let version = match (&opts.version, &first.version) {
        (Some(v), _) => v.to_string(),
        (None, Some(v)) if skills.len() == 1 => v.clone(),
        _ => "0.0.0".to_string(),
    };
    m.string("version", &version, Some((first.file, None)));
    let description = match skills {
        [one] => one.description.clone().map(|(d, _)| d),
        many => Some(summary(many)),
    };
    let from_desc: From = first
        .description
        .as_ref()
        .map(|(_, s)| (first.file, Some(*s)));
    // A skill without a description is reported in its SKILL.md; the bundle's stays valid.
    let fallback = format!("The {} skill", first.name);
    m.string(
        "description",
        description.as_deref().unwrap_or(&fallback),
        from_desc,
    );
    t.compatibility();
    let m = &mut t.manifest;
    for (skill, dir) in skills.iter().zip(dirs) {
        let from_name: From = skill.name_span.map(|s| (skill.file, Some(s)));
        m.table_from(&["skills", &skill.name], from_name);
        m.string("path", dir, Some((skill.file, None)));
    }
}

/// The description of a bundle of several skills.
fn summary(skills: &[Found]) -> String {
    let names: Vec<&str> = skills.iter().map(|s| s.name.as_str()).collect();
    let mut text = format!("Agent Skills: {}", names.join(", "));
    if text.chars().count() > 1024 {
        text = text.chars().take(1021).collect::<String>() + "...";
    }
    text
}

/// The last part of a path as shown (`repos/kit/` → `kit`).
fn last_part(shown: &str) -> String {
    shown
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skill(name: &str, desc: &str) -> String {
        format!("---\nname: {name}\ndescription: {desc}\n---\n# {name}\n")
    }

    #[test]
    fn a_single_skill_lands_under_skills_and_checks_clean() {
        let md = skill("pdf", "Read PDFs.");
        let raw = BundleTree::from_files(
            "repo/pdf",
            [("SKILL.md", md.as_bytes()), ("scripts/x.py", b"print(1)\n")],
        );
        let tree = single(raw, &Options::default());
        assert!(tree.file("skills/pdf/scripts/x.py").is_some());
        let check = crate::validate::check_bundle(&tree);
        assert!(check.diagnostics.is_empty(), "{:#?}", check.diagnostics);
        assert_eq!(check.name(), Some("pdf"));
    }

    #[test]
    fn a_repository_keeps_the_selected_skills_where_they_are() {
        let (a, b) = (skill("alpha", "A."), skill("beta", "B."));
        let raw = BundleTree::from_files(
            "kit",
            [
                ("skills/alpha/SKILL.md", a.as_bytes()),
                ("skills/beta/SKILL.md", b.as_bytes()),
                ("README.md", b"x"),
            ],
        );
        let opts = Options {
            skills: vec!["beta".into()],
            ..Options::default()
        };
        let tree = repository(raw.clone(), &opts);
        assert!(tree.file("skills/alpha/SKILL.md").is_none());
        assert!(tree.file("README.md").is_none());
        let check = crate::validate::check_bundle(&tree);
        assert!(check.diagnostics.is_empty(), "{:#?}", check.diagnostics);
        assert_eq!(check.name(), Some("beta"));
        let all = repository(raw, &Options::default());
        assert_eq!(crate::validate::check_bundle(&all).name(), Some("kit"));
    }

    #[test]
    fn an_unknown_selection_names_the_skills_there() {
        let a = skill("alpha", "A.");
        let raw = BundleTree::from_files("kit", [("skills/alpha/SKILL.md", a.as_bytes())]);
        let opts = Options {
            skills: vec!["alpah".into()],
            ..Options::default()
        };
        let check = crate::validate::check_bundle(&repository(raw, &opts));
        assert_eq!(check.diagnostics.len(), 1, "{:#?}", check.diagnostics);
        assert_eq!(check.diagnostics[0].code, "skill-not-found");
        assert!(
            check.diagnostics[0]
                .help
                .as_deref()
                .unwrap()
                .contains("alpha")
        );
    }

    #[test]
    fn a_single_skill_is_chosen_only_by_its_own_name() {
        let md = skill("pdf", "Read PDFs.");
        let raw = BundleTree::from_files("repo/pdf", [("SKILL.md", md.as_bytes())]);
        let opts = |name: &str| Options {
            skills: vec![name.into()],
            ..Options::default()
        };
        let check = crate::validate::check_bundle(&single(raw.clone(), &opts("pdf")));
        assert!(check.diagnostics.is_empty(), "{:#?}", check.diagnostics);
        let check = crate::validate::check_bundle(&single(raw, &opts("docx")));
        assert_eq!(check.diagnostics.len(), 1, "{:#?}", check.diagnostics);
        assert_eq!(check.diagnostics[0].code, "skill-not-found");
    }

    #[test]
    fn a_bad_name_is_reported_in_skill_md() {
        let md = skill("Bad_Name", "x");
        let raw = BundleTree::from_files("r/Bad_Name", [("SKILL.md", md.as_bytes())]);
        let check = crate::validate::check_bundle(&single(raw, &Options::default()));
        let files: Vec<_> = check
            .diagnostics
            .iter()
            .map(|d| d.location.as_ref().unwrap().file.clone())
            .collect();
        assert!(
            files.iter().all(|f| f == "r/Bad_Name/SKILL.md"),
            "{files:?} {:#?}",
            check.diagnostics
        );
    }
}
