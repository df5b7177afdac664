//! Diagnostics in every output format: human (like cargo's), JSON, SARIF 2.1.0 and GitHub
//! workflow annotations.

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use std::path::Path;

use super::excerpt::{Excerpt, excerpt};
use crate::diagnostic::{Diagnostic, Location, Severity, Sources, Summary};
use crate::ops::lint::CheckedBundle;
use crate::security::rules as codes;

/// The schema id of the diagnostics document.
pub const DIAGNOSTICS_SCHEMA: &str = "capm.diagnostics/v1";

/// The `--format json` document of `capm lint`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm lint report (capm lint --format json)")]
pub struct DiagnosticsDocument<'a> {
    /// Always `capm.diagnostics/v1`.
    #[schemars(extend("const" = "capm.diagnostics/v1"))]
    pub schema: &'static str,
    pub summary: Summary,
    /// The bundles that were checked.
    pub bundles: &'a [CheckedBundle],
    /// The project files (`capm.toml`) that were checked.
    pub projects: &'a [String],
    pub diagnostics: &'a [Diagnostic],
}

/// Each diagnostic as [`human`] shows it, on stderr, for a command that refuses its input.
pub(super) fn print_refusal(term: &mut super::Term, diagnostics: &[Diagnostic], sources: &Sources) {
    use std::io::Write as _;
    for d in diagnostics {
        let text = human(d, sources, term.color);
        let _ = writeln!(term.err(), "{text}\n");
    }
}

/// One diagnostic as cargo shows it: `error[CODE]: message`, `--> file:line:col`, the
/// source line with a caret, and a `help:` line.
pub fn human(d: &Diagnostic, sources: &Sources, color: bool) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    };
    let title = level.primary_title(d.message.as_str()).id(d.code);
    // The line behind a literal-secret finding is the secret: point at it, never print it.
    let sensitive = matches!(d.code, "ENV-001" | "URL-010" | "URL-011");
    let mut origin_fix = None;
    let mut group: Group<'_> = match &d.location {
        Some(loc) => match (sources.get(&loc.file).filter(|_| !sensitive), loc.span) {
            (Some(src), Some(span)) => {
                let shown = excerpt(src, span);
                origin_fix = true_origin(loc, &shown);
                title.element(
                    Snippet::source(shown.text)
                        .line_start(shown.line_start)
                        .path(loc.file.as_str())
                        .annotation(AnnotationKind::Primary.span(shown.span)),
                )
            }
            _ => title.element(origin(loc)),
        },
        None => Group::with_title(title),
    };
    if let Some(help) = &d.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let text = renderer.render(&[group]);
    match origin_fix {
        // The `-->` line follows the title, which has as many lines as the message.
        Some((shown, real)) => fix_origin(text, d.message.split('\n').count(), &shown, &real),
        None => text,
    }
}

/// A location without source text to show: `--> file:line:col`.
fn origin(loc: &Location) -> Origin<'_> {
    let mut origin = Origin::path(loc.file.as_str());
    if let Some(line) = loc.line {
        origin = origin.line(line);
        if let Some(c) = loc.column {
            origin = origin.char_column(c);
        }
    }
    origin
}

/// annotate-snippets numbers the `-->` line's column from the text it is given, which for a
/// line cut on the left is not the file's: the position it will print and the one to print
/// instead, when they differ.
fn true_origin(loc: &Location, shown: &Excerpt) -> Option<(String, String)> {
    let (line, column) = (loc.line?, loc.column?);
    let printed = format!("{}:{}:{}", loc.file, shown.line_start, shown.column());
    let real = format!("{}:{line}:{column}", loc.file);
    (printed != real).then_some((printed, real))
}

/// Puts the real position on the `-->` line, line `at` of `text` (counting from 0), when
/// that line ends with the position annotate-snippets printed.
fn fix_origin(text: String, at: usize, printed: &str, real: &str) -> String {
    let mut lines: Vec<&str> = text.split('\n').collect();
    let Some(line) = lines.get(at).and_then(|l| l.strip_suffix(printed)) else {
        return text;
    };
    let fixed = format!("{line}{real}");
    lines[at] = &fixed;
    lines.join("\n")
}

/// The JSON document.
pub fn json(
    bundles: &[CheckedBundle],
    projects: &[String],
    diagnostics: &[Diagnostic],
) -> serde_json::Value {
    serde_json::to_value(DiagnosticsDocument {
        schema: DIAGNOSTICS_SCHEMA,
        summary: Summary::of(diagnostics),
        bundles,
        projects,
        diagnostics,
    })
    .expect("diagnostics always serialise")
}

/// The `uriBaseId` every relative location in capm's SARIF refers to: the directory lint ran
/// from, declared in the run's `originalUriBaseIds` (GitHub code scanning knows it too).
const SRCROOT: &str = "%SRCROOT%";

/// Where people learn more about capm: the package's `homepage` in Cargo.toml, when set.
const INFORMATION_URI: &str = env!("CARGO_PKG_HOMEPAGE");

/// A SARIF 2.1.0 log with one run and one result per diagnostic. `root` is the absolute
/// directory lint ran from: locations below it are relative to `%SRCROOT%`, others are
/// absolute `file://` URIs.
pub fn sarif(diagnostics: &[Diagnostic], root: &Path) -> serde_json::Value {
    let mut rule_ids: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<_> = rule_ids
        .iter()
        .map(|id| {
            let info = codes::lookup(id);
            json!({
                "id": id,
                "shortDescription": { "text": info.map_or("", |i| i.summary) },
                "fullDescription": { "text": info.map_or(String::new(), |i| i.why.to_string()) },
                "help": { "text": info.map_or(String::new(), |i| i.fix.to_string()) },
                "defaultConfiguration": { "level": info.map_or("error", |i| sarif_level(i.severity)) },
            })
        })
        .collect();
    let results: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            let mut message = d.message.clone();
            if let Some(h) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(h);
            }
            let mut result = json!({
                "ruleId": d.code,
                "ruleIndex": rule_ids.binary_search(&d.code).unwrap_or(0),
                "level": sarif_level(d.severity),
                "message": { "text": message },
            });
            if let Some(loc) = &d.location {
                let mut physical =
                    json!({ "artifactLocation": artifact_location(&loc.file, root) });
                if let (Some(l), Some(c)) = (loc.line, loc.column) {
                    physical["region"] = json!({
                        "startLine": l,
                        "startColumn": c,
                        "endLine": loc.end_line.unwrap_or(l),
                        "endColumn": loc.end_column.unwrap_or(c),
                    });
                }
                result["locations"] = json!([{ "physicalLocation": physical }]);
            }
            if let Some(r) = &d.resource {
                result["properties"] = json!({ "resource": r });
            }
            result
        })
        .collect();
    let mut log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "capm",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "originalUriBaseIds": { (SRCROOT): {
                "uri": directory_uri(root),
                "description": { "text": "The directory capm lint ran from." },
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    if !INFORMATION_URI.is_empty() {
        log["runs"][0]["tool"]["driver"]["informationUri"] = json!(INFORMATION_URI);
    }
    log
}

/// A file's `artifactLocation`: relative to `%SRCROOT%` when the file is below `root`,
/// else an absolute `file://` URI (a relative reference must not begin with a slash, nor
/// climb out of its base with `..`).
fn artifact_location(file: &str, root: &Path) -> serde_json::Value {
    let absolute = crate::manifest::tree::normalize_lexically(&root.join(file));
    match absolute.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => json!({
            "uri": uri_reference(&rel.to_string_lossy()),
            "uriBaseId": SRCROOT,
        }),
        _ => match url::Url::from_file_path(&absolute) {
            Ok(u) => json!({ "uri": u.as_str() }),
            Err(()) => json!({ "uri": uri_reference(file), "uriBaseId": SRCROOT }),
        },
    }
}

/// `root` as a `file://` URI ending in a slash, as a base URI must.
fn directory_uri(root: &Path) -> String {
    url::Url::from_directory_path(root).map_or_else(|()| "file:///".into(), String::from)
}

/// A relative path as a URI reference: every byte outside the unreserved set and `/`
/// percent-encoded, as SARIF's `uri` requires.
fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// One GitHub Actions workflow command per diagnostic.
pub fn github(d: &Diagnostic) -> String {
    let command = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut props = Vec::new();
    if let Some(loc) = &d.location {
        props.push(format!("file={}", escape_property(&loc.file)));
        if let Some(l) = loc.line {
            props.push(format!("line={l}"));
        }
        if let Some(c) = loc.column {
            props.push(format!("col={c}"));
        }
        if let Some(l) = loc.end_line {
            props.push(format!("endLine={l}"));
        }
        if let Some(c) = loc.end_column {
            props.push(format!("endColumn={c}"));
        }
    }
    props.push(format!(
        "title={}",
        escape_property(&format!("capm {}", d.code))
    ));
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    format!("::{command} {}::{}", props.join(","), escape_data(&message))
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::manifest::span::{SourceFile, Span};
    use crate::manifest::tree::BundleTree;
    use crate::mutation;

    #[test]
    fn sarif_uris_are_percent_encoded() {
        assert_eq!(
            uri_reference("dir é x/bundle.toml"),
            "dir%20%C3%A9%20x/bundle.toml"
        );
    }

    #[test]
    fn github_commands_escape_their_separators() {
        let d = Diagnostic::new("invalid-name", "bad: 100%\nnext")
            .in_file("a,b:c/bundle.toml")
            .help("x");
        assert_eq!(
            github(&d),
            "::error file=a%2Cb%3Ac/bundle.toml,title=capm invalid-name::bad: 100%25%0Anext%0Ahelp: x"
        );
    }

    /// Renders `d` both ways, with `sources`.
    fn render_both(d: &Diagnostic, sources: &Sources) -> String {
        human(d, sources, true);
        human(d, sources, false)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        /// Any text (carriage returns, tabs, wide, combining and zero-width characters, an
        /// empty file) with any span: rendered, and located where the JSON output says.
        #[test]
        fn any_text_and_span_render_at_their_position(
            text in mutation::text(300),
            message in mutation::text(20),
            start in 0usize..320,
            len in 0usize..320,
        ) {
            let file = Arc::new(SourceFile::new("f.toml", text.as_str()));
            let d = Diagnostic::new("toml-syntax", message).at(&file, Span::new(start, start + len));
            let mut sources = Sources::default();
            sources.insert(file);
            let loc = d.location.as_deref().unwrap();
            let at = format!("--> f.toml:{}:{}\n", loc.line.unwrap(), loc.column.unwrap());
            let shown = render_both(&d, &sources);
            prop_assert!(shown.contains(&at), "{at} not in\n{shown}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        /// Any bytes as capm.toml and as bundle.toml, not UTF-8 included, and damaged real
        /// ones: every diagnostic lint finds is rendered.
        #[test]
        fn any_manifest_renders_every_diagnostic(
            bytes in prop_oneof![
                mutation::bytes(300),
                mutation::mutated(mutation::repo_files("capm.toml")),
                mutation::mutated(mutation::repo_files("bundle.toml")),
            ],
        ) {
            let project = crate::validate::check_project("capm.toml", &bytes);
            let mut sources = Sources::default();
            sources.insert(project.source.clone());
            for d in &project.diagnostics {
                render_both(d, &sources);
            }
            let tree = BundleTree::from_files("b", [("bundle.toml", &bytes[..])]);
            let bundle = crate::validate::check_bundle(&tree);
            let mut sources = Sources::default();
            for file in bundle.sources {
                sources.insert(file);
            }
            for d in &bundle.diagnostics {
                render_both(d, &sources);
            }
        }
    }
}
