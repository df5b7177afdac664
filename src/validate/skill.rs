//! Skill checks: the directory's size, and SKILL.md's YAML front matter (`name` equal to the
//! directory and resource names, `description` of 1..=1024 characters).

use std::sync::Arc;

use yaml_rust2::{Yaml, YamlLoader};

use super::bundle::Checker;
use crate::diagnostic::Diagnostic;
use crate::manifest::common::is_valid_name;
use crate::manifest::span::{SourceFile, Span, Spanned};
use crate::manifest::tree::Entry;

/// The most files one skill directory may hold.
pub const MAX_SKILL_FILES: usize = 1_000;
/// The most bytes one skill directory may hold.
pub const MAX_SKILL_BYTES: u64 = 10 * 1024 * 1024;

pub(super) fn check_skill(
    ck: &mut Checker<'_>,
    id: &str,
    name: &str,
    path: &Spanned<String>,
    rel: &str,
) {
    let (mut files, mut bytes) = (0usize, 0u64);
    for (_, e) in ck.tree.below(rel) {
        if let Entry::File(b) = e {
            files += 1;
            bytes += b.len() as u64;
        }
    }
    if files > MAX_SKILL_FILES || bytes > MAX_SKILL_BYTES {
        let d = ck
            .at(
                "skill-too-large",
                path.span,
                format!(
                    "skill directory `{rel}` holds {files} files and {bytes} bytes; the limits are {MAX_SKILL_FILES} files and {MAX_SKILL_BYTES} bytes (10 MiB)"
                ),
            )
            .resource(id);
        ck.push(d);
    }
    let skill_md = format!("{rel}/SKILL.md");
    let Some(content) = ck.tree.file(&skill_md) else {
        let d = ck
            .at("missing-skill-md", path.span, format!("`{rel}` has no SKILL.md"))
            .resource(id)
            .help("add SKILL.md starting with front matter: `---`, `name: …`, `description: …`, `---`");
        ck.push(d);
        return;
    };
    let display = ck.tree.display_path(&skill_md);
    let Ok(text) = std::str::from_utf8(content) else {
        ck.push(
            Diagnostic::new("invalid-utf8", "SKILL.md is not valid UTF-8")
                .in_file(display)
                .resource(id),
        );
        return;
    };
    let file = Arc::new(SourceFile::new(display, text));
    ck.extra_sources.push(file.clone());
    let dir_name = rel.rsplit('/').next().unwrap_or(rel);
    for d in check_front_matter(&file, name, dir_name) {
        ck.push(d.resource(id));
    }
}

/// Checks SKILL.md's front matter; `resource` is the skill's name in bundle.toml and
/// `dir` the name of its directory.
fn check_front_matter(file: &SourceFile, resource: &str, dir: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let text = file.text.strip_prefix('\u{feff}').unwrap_or(&file.text);
    let bom = file.text.len() - text.len();
    let invalid =
        |msg: String, span: Span| Diagnostic::new("invalid-front-matter", msg).at(file, span);
    let first_line_end = text.find('\n').unwrap_or(text.len());
    if text[..first_line_end].trim_end() != "---" {
        out.push(
            invalid(
                "SKILL.md does not start with YAML front matter (`---`)".into(),
                Span::new(bom, bom + first_line_end),
            )
            .help("start the file with `---`, then `name: …` and `description: …`, then `---`"),
        );
        return out;
    }
    let body_start = first_line_end + 1;
    let mut close = None;
    let mut offset = body_start;
    for line in text.get(body_start..).unwrap_or("").split_inclusive('\n') {
        if line.trim_end() == "---" {
            close = Some(offset);
            break;
        }
        offset += line.len();
    }
    let Some(close) = close else {
        out.push(invalid(
            "the front matter is never closed with `---`".into(),
            Span::new(bom, bom + first_line_end),
        ));
        return out;
    };
    let yaml = &text[body_start.min(close)..close];
    let span_of_key = |key: &str| -> Span {
        let mut off = body_start;
        for line in yaml.split_inclusive('\n') {
            if let Some(rest) = line.strip_prefix(key)
                && rest.trim_start().starts_with(':')
            {
                return Span::new(bom + off, bom + off + line.trim_end().len());
            }
            off += line.len();
        }
        Span::new(bom, bom + first_line_end)
    };
    let docs = match YamlLoader::load_from_str(yaml) {
        Ok(d) => d,
        Err(e) => {
            let e = crate::formats::front::yaml_error(&e, yaml, bom + body_start.min(close));
            out.push(invalid(e.message, e.span));
            return out;
        }
    };
    let Some(Yaml::Hash(map)) = docs.first() else {
        out.push(invalid(
            "the front matter must be a YAML mapping with `name` and `description`".into(),
            Span::new(bom, bom + first_line_end),
        ));
        return out;
    };
    let get = |k: &str| map.get(&Yaml::String(k.to_string()));
    match get("name") {
        None => out.push(invalid(
            "the front matter has no `name`".into(),
            Span::new(bom, bom + first_line_end),
        )),
        Some(Yaml::String(n)) => {
            let span = span_of_key("name");
            // A name that is the resource's too is reported once, at the resource.
            if !is_valid_name(n) && n != resource {
                out.push(
                    Diagnostic::new("invalid-name", format!("invalid skill name `{n}` in SKILL.md"))
                        .at(file, span)
                        .help("names are 1 to 64 lower-case letters and digits separated by single hyphens"),
                );
            }
            if n != dir {
                out.push(
                    Diagnostic::new(
                        "skill-name-mismatch",
                        format!("SKILL.md names the skill `{n}`, but its directory is `{dir}`"),
                    )
                    .at(file, span)
                    .help("OpenCode requires the name to equal the directory name"),
                );
            } else if n != resource {
                out.push(
                    Diagnostic::new("skill-name-mismatch", format!("SKILL.md names the skill `{n}`, but bundle.toml declares `skills.{resource}`"))
                        .at(file, span)
                        .help("use one name for the resource, the directory and SKILL.md"),
                );
            }
        }
        Some(_) => out.push(invalid(
            "`name` in the front matter must be a string".into(),
            span_of_key("name"),
        )),
    }
    match get("description") {
        None => out.push(invalid(
            "the front matter has no `description`".into(),
            Span::new(bom, bom + first_line_end),
        )),
        Some(Yaml::String(d)) => {
            let n = d.chars().count();
            if d.trim().is_empty() || n > 1024 {
                out.push(
                    Diagnostic::new(
                        "invalid-length",
                        format!(
                            "the skill description is {n} characters long; it must be 1 to 1024"
                        ),
                    )
                    .at(file, span_of_key("description")),
                );
            }
        }
        Some(_) => out.push(invalid(
            "`description` in the front matter must be a string".into(),
            span_of_key("description"),
        )),
    }
    if let Some(meta) = get("metadata") {
        let ok = match meta {
            Yaml::Hash(h) => h
                .iter()
                .all(|(k, v)| matches!((k, v), (Yaml::String(_), Yaml::String(_)))),
            _ => false,
        };
        if !ok {
            out.push(
                invalid(
                    "`metadata` in the front matter must map strings to strings".into(),
                    span_of_key("metadata"),
                )
                .with_severity(crate::diagnostic::Severity::Warning),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::mutation;

    fn codes(text: &str) -> Vec<&'static str> {
        let f = SourceFile::new("s/SKILL.md", text);
        check_front_matter(&f, "s", "s")
            .into_iter()
            .map(|d| d.code)
            .collect::<Vec<_>>()
    }

    #[test]
    fn front_matter_rules() {
        assert!(codes("---\nname: s\ndescription: does things\n---\nbody\n").is_empty());
        assert_eq!(codes("# no front matter\n"), ["invalid-front-matter"]);
        assert_eq!(codes("---\nname: s\n"), ["invalid-front-matter"]);
        assert_eq!(
            codes("---\nname: t\ndescription: x\n---\n"),
            ["skill-name-mismatch"]
        );
        assert_eq!(codes("---\nname: s\n---\n"), ["invalid-front-matter"]);
        assert_eq!(
            codes("---\nname: [s\ndescription: x\n---\n"),
            ["invalid-front-matter"]
        );
        assert_eq!(
            codes("---\nname: s\ndescription: \"\"\n---\n"),
            ["invalid-length"]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        #[test]
        fn any_front_matter_is_checked_without_panicking(body in mutation::text(300)) {
            codes(&body);
            codes(&format!("---\n{body}"));
            codes(&format!("\u{feff}---\r\nname: s\r\n{body}\n---\n"));
        }

        /// The catalog's SKILL.md files, damaged.
        #[test]
        fn a_damaged_skill_md_is_checked_without_panicking(
            bytes in mutation::mutated(mutation::repo_files("SKILL.md")),
        ) {
            if let Ok(text) = std::str::from_utf8(&bytes) {
                codes(text);
            }
        }
    }
}
