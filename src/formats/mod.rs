//! Bundles in the formats the field already publishes in, read as native bundles: a single
//! Agent Skill (`SKILL.md`), a repository of skills, a Claude Code plugin
//! (`.claude-plugin/plugin.json`) and an MCP Registry `server.json`.
//!
//! A reader turns the files it finds into the tree of a native bundle: the `bundle.toml`
//! capm generates (`generated.rs`), the files where that manifest points, and an [`Origin`] that
//! maps the generated text back to the author's files. Everything after this (validation,
//! the security rules, digests, plans, installs) sees an ordinary bundle; `validate` uses
//! the origin to report in the original files. What a format holds that capm cannot
//! install faithfully is a finding of the translation, never dropped in silence.
//!
//! Layout: `json.rs` JSON with spans; `front.rs` markdown front matter with spans;
//! `generated.rs` the generated manifest; `skills.rs`, `claude.rs`, `server_json.rs` the readers;
//! `marketplace.rs` the plugins a Claude Code marketplace lists;
//! `export.rs` the writers of `capm export`.

pub mod claude;
pub mod claude_markdown;
pub mod export;
pub mod front;
pub mod generated;
pub mod json;
pub mod marketplace;
pub mod server_json;
pub mod skills;

use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::manifest::common::is_valid_name;
use crate::manifest::origin::Origin;
use crate::manifest::span::{SourceFile, Span};
use crate::manifest::tree::{BundleTree, Entry, MANIFEST};

/// A format capm reads bundles in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `bundle.toml`.
    Native,
    /// A directory with `SKILL.md` at its root.
    Skill,
    /// A directory with skills below it (`skills/NAME/SKILL.md`, or any depth).
    Skills,
    /// A directory with `.claude-plugin/plugin.json`.
    ClaudePlugin,
    /// A directory with an MCP Registry `server.json`.
    ServerJson,
}

/// The marker file of each format, in the order they are recognised.
const MARKERS: &[(&str, Format)] = &[
    (MANIFEST, Format::Native),
    (".claude-plugin/plugin.json", Format::ClaudePlugin),
    ("server.json", Format::ServerJson),
    ("SKILL.md", Format::Skill),
];

/// What the reader of a format needs to know that the files do not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// The name capm.toml gives the bundle: names a bundle whose format has no name of its
    /// own (a repository of skills).
    pub name: Option<String>,
    /// The name of the place the bundle was fetched from (a git repository's), for a
    /// repository of several skills that capm.toml does not name.
    pub place: Option<String>,
    /// The version for a bundle whose format has none: the version tag it was fetched at.
    pub version: Option<semver::Version>,
    /// Of a repository of skills, the skills to take, by name (every skill when empty).
    pub skills: Vec<String>,
    /// For a plugin listed by a Claude Code marketplace: its entry there, as JSON text.
    /// The entry's fields complete plugin.json, or stand for it (`"strict": false`).
    pub plugin: Option<String>,
}

/// The format of a bundle tree.
pub fn detect(tree: &BundleTree) -> Format {
    for (marker, format) in MARKERS {
        if tree.get(marker).is_some() {
            return *format;
        }
    }
    let skill_below = tree
        .entries
        .keys()
        .any(|k| k.ends_with("/SKILL.md") && !k.starts_with('.'));
    if skill_below {
        Format::Skills
    } else {
        Format::Native
    }
}

/// Whether `dir` holds a bundle of some format, judged by its marker files (a repository
/// of skills is recognised by `skills/`).
pub fn is_bundle_dir(dir: &Path) -> bool {
    has_marker(dir) || dir.join("skills").is_dir()
}

/// Whether `dir` holds the marker file of a format (`bundle.toml`, `SKILL.md`,
/// `.claude-plugin/plugin.json`, `server.json`).
pub fn has_marker(dir: &Path) -> bool {
    MARKERS.iter().any(|(m, _)| dir.join(m).is_file())
}

/// For a marker file named on the command line, the bundle directory it marks
/// (`kit/.claude-plugin/plugin.json` → `kit`).
pub fn marked_dir(file: &Path) -> Option<&Path> {
    let parent = file.parent()?;
    match file.file_name()?.to_str()? {
        "SKILL.md" | "server.json" | MANIFEST => Some(parent),
        "plugin.json" if parent.file_name()? == ".claude-plugin" => parent.parent(),
        _ => None,
    }
}

/// A tree of any format as a native bundle's tree (a native one unchanged).
pub fn translate(tree: BundleTree, opts: &Options) -> BundleTree {
    if opts.plugin.is_some() {
        return claude::plugin(tree, opts);
    }
    let format = detect(&tree);
    if !opts.skills.is_empty() && !matches!(format, Format::Skill | Format::Skills) {
        return not_skills(tree, format);
    }
    match format {
        Format::Native => tree,
        Format::Skill => skills::single(tree, opts),
        Format::Skills => skills::repository(tree, opts),
        Format::ClaudePlugin => claude::plugin(tree, opts),
        Format::ServerJson => server_json::translate(tree, opts),
    }
}

/// A selection of skills (`skills = [...]`, `--skill`) from a bundle of another kind: a
/// finding in its marker file, and no bundle.
fn not_skills(tree: BundleTree, format: Format) -> BundleTree {
    let (marker, kind) = match format {
        Format::ClaudePlugin => (".claude-plugin/plugin.json", "a Claude Code plugin"),
        Format::ServerJson => ("server.json", "an MCP Registry server"),
        _ => (MANIFEST, "a native bundle"),
    };
    let mut t = Translation::new(tree, "skills");
    let shown = t.raw.display_path(marker);
    let d = Diagnostic::new(
        "invalid-bundle-source",
        format!(
            "`{}` is {kind}, not a repository of skills, so no skills can be chosen from it",
            t.raw.display_root
        ),
    )
    .in_file(shown)
    .help("remove `skills` (`--skill`) to take the bundle as it is");
    t.finding(d);
    t.fail()
}

/// Why a translation gave no bundle, when it gave none: the code of its first error, and
/// its errors with their help.
pub fn failure(tree: &BundleTree) -> Option<(&'static str, String)> {
    if tree.file(MANIFEST).is_some() {
        return None;
    }
    let origin = tree.origin.as_ref()?;
    let errors: Vec<&Diagnostic> = origin.findings.iter().filter(|d| d.is_error()).collect();
    let why: Vec<String> = errors
        .iter()
        .map(|d| match &d.help {
            Some(help) => format!("{} ({help})", d.message),
            None => d.message.clone(),
        })
        .collect();
    Some((errors.first()?.code, why.join("; ")))
}

/// Reads a bundle directory of any format (see [`translate`]).
pub fn read_dir(
    dir: &Path,
    display: impl Into<String>,
    opts: &Options,
) -> std::io::Result<BundleTree> {
    Ok(translate(BundleTree::read(dir, display)?, opts))
}

/// A bundle name made from a foreign name: lower case, every run of other characters one
/// `-` (`io.github.acme/Weather_Server` → `io-github-acme-weather-server`). `None` when
/// nothing valid is left.
pub fn bundle_name(raw: &str) -> Option<String> {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    is_valid_name(&out).then_some(out)
}

/// A translation under way: the author's files, the files of the native bundle being
/// built, the generated manifest and the origin.
pub struct Translation {
    /// The files as the author wrote them.
    pub raw: BundleTree,
    /// The native bundle's files, without `bundle.toml` (added by [`Translation::finish`]).
    pub out: BundleTree,
    pub origin: Origin,
    pub manifest: generated::Manifest,
}

impl Translation {
    /// Starts translating `raw`, a bundle of `format` (as users name it), into an empty
    /// tree.
    pub fn new(raw: BundleTree, format: &'static str) -> Translation {
        let out = BundleTree {
            display_root: raw.display_root.clone(),
            entries: Default::default(),
            too_large: raw.too_large,
            origin: None,
        };
        Translation {
            raw,
            out,
            origin: Origin {
                format,
                ..Origin::default()
            },
            manifest: generated::Manifest::default(),
        }
    }

    /// The author's file `rel` as a source diagnostics can point into, and its index in
    /// the origin; `None` (with a finding) when it is missing or not UTF-8.
    pub fn source(&mut self, rel: &str) -> Option<(usize, Arc<SourceFile>)> {
        let display = self.raw.display_path(rel);
        let Some(bytes) = self.raw.file(rel) else {
            self.finding(
                Diagnostic::new("path-not-found", format!("`{rel}` does not exist"))
                    .in_file(display),
            );
            return None;
        };
        match crate::validate::manifest_source(display, bytes) {
            Ok(file) => Some((self.origin.add_file(file.clone()), file)),
            Err(d) => {
                self.finding(*d);
                None
            }
        }
    }

    /// Records a finding of the translation, located in the author's files.
    pub fn finding(&mut self, d: Diagnostic) {
        self.origin.findings.push(d);
    }

    /// Records a security finding of the translation (FMT-001, FMT-002) at `span` of
    /// original file `file`: blocked unless a `[policy] allow` names the rule, `resource`
    /// and the digest of `reviewed` (the text of what is left out), so that a changed hook
    /// needs a new review.
    pub fn rule(
        &mut self,
        rule: &'static str,
        (file, span): (usize, Span),
        resource: &str,
        message: String,
        reviewed: &str,
    ) {
        use sha2::Digest;
        let info = crate::security::rules::lookup(rule).and_then(|c| c.rule.as_ref());
        let level = info
            .and_then(|r| r.level)
            .unwrap_or(crate::security::Level::High);
        let finding = crate::security::Finding {
            rule,
            level,
            message,
            span,
            resource: resource.to_string(),
            help: None,
            spec: Some(format!(
                "sha256:{}",
                crate::manifest::tree::hex(&sha2::Sha256::digest(reviewed.as_bytes()))
            )),
            file: None,
        };
        let source = self.origin.files[file].clone();
        self.finding(finding.to_diagnostic(&source));
    }

    /// Copies the author's entry `from` (a file or a whole directory) to `to` in the
    /// native bundle; a file copied unchanged keeps its diagnostics' places.
    pub fn copy(&mut self, from: &str, to: &str) {
        if let Some(entry) = self.raw.get(from).cloned() {
            self.put(from, to, entry);
        }
        let below: Vec<(String, Entry)> = self
            .raw
            .below(from)
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        for (k, e) in below {
            let rest = &k[from.len()..];
            self.put(&k, &format!("{to}{rest}"), e);
        }
    }

    fn put(&mut self, from: &str, to: &str, entry: Entry) {
        if from != to
            && let Entry::File(bytes) = &entry
            && let Ok(text) = std::str::from_utf8(bytes)
        {
            let file = Arc::new(SourceFile::new(self.raw.display_path(from), text));
            let at = self.origin.add_file(file);
            let all = Span::new(0, text.len());
            self.origin.map(to, all, at, Some(all));
        }
        self.parents(to);
        self.out.entries.insert(to.to_string(), entry);
    }

    /// Writes a file the translation made (`bytes`) at `to`; `from` says where it came
    /// from for diagnostics in it.
    pub fn write(&mut self, to: &str, bytes: Vec<u8>, from: generated::From) {
        if let Some((file, span)) = from {
            let all = Span::new(0, bytes.len());
            self.origin.map(to, all, file, span);
        }
        self.parents(to);
        self.out
            .entries
            .insert(to.to_string(), Entry::File(bytes.into()));
    }

    fn parents(&mut self, to: &str) {
        let mut at = 0;
        while let Some(i) = to[at..].find('/') {
            at += i;
            self.out.entries.insert(to[..at].to_string(), Entry::Dir);
            at += 1;
        }
    }

    /// `[compatibility]`: no foreign format says where its bundle may run, so it is
    /// supported where the user's own machine runs the agent (`desktop-local`) and nowhere
    /// else. Written after `[bundle]`.
    pub fn compatibility(&mut self) {
        self.manifest.table(&["compatibility", "product-modes"]);
        self.manifest.string("desktop-local", "supported", None);
    }

    /// The native bundle: the generated manifest added and the origin attached. `main`
    /// is the index of the file messages about the bundle as a whole go to.
    pub fn finish(mut self, main: usize) -> BundleTree {
        let text = std::mem::take(&mut self.manifest).finish(&mut self.origin);
        self.origin.main = main;
        self.out
            .entries
            .insert(MANIFEST.to_string(), Entry::File(text.into_bytes().into()));
        self.out.origin = Some(Arc::new(self.origin));
        self.out
    }

    /// Gives up: no manifest could be generated, and the findings say why.
    pub fn fail(mut self) -> BundleTree {
        self.out.origin = Some(Arc::new(self.origin));
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_names_become_bundle_names() {
        assert_eq!(
            bundle_name("io.github.acme/Weather_Server").as_deref(),
            Some("io-github-acme-weather-server")
        );
        assert_eq!(bundle_name("--").as_deref(), None);
        assert_eq!(bundle_name("pdf").as_deref(), Some("pdf"));
    }

    #[test]
    fn formats_are_told_by_their_marker_files() {
        let t = |files: &[&str]| {
            detect(&BundleTree::from_files(
                "x",
                files.iter().map(|f| (*f, &b""[..])),
            ))
        };
        assert_eq!(t(&["bundle.toml", "SKILL.md"]), Format::Native);
        assert_eq!(
            t(&[".claude-plugin/plugin.json", "skills/a/SKILL.md"]),
            Format::ClaudePlugin
        );
        assert_eq!(t(&["server.json"]), Format::ServerJson);
        assert_eq!(t(&["SKILL.md", "scripts/a.py"]), Format::Skill);
        assert_eq!(t(&["skills/a/SKILL.md", "README.md"]), Format::Skills);
        assert_eq!(t(&[".git/x/SKILL.md"]), Format::Native);
        assert_eq!(t(&["README.md"]), Format::Native);
    }
}
