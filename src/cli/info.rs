//! `capm info BUNDLE[@VERSION]`: one bundle's description, versions, modes, resources,
//! permissions and dependencies, for people or as one JSON document.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use clap::Args;
use schemars::JsonSchema;
use serde::Serialize;

use super::graph::{TextFormat, graph_error};
use super::registry::{lookup_sources, modes_text};
use super::{CliError, Status, Term, print_json};
use crate::graph::Sources;
use crate::ops::info::{BundleInfo, InfoError};
use crate::ops::project::Project;

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The bundle, as NAME, NAME@VERSION or NAME@REQ (e.g. `github@^1`).
    bundle: String,
    /// Output format: human for people, or json for one `capm.info/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

const INFO_SCHEMA: &str = "capm.info/v1";

/// What `capm info BUNDLE --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm bundle information (capm info BUNDLE --format json)")]
pub struct InfoDoc {
    /// Always `capm.info/v1`.
    #[schemars(extend("const" = INFO_SCHEMA))]
    pub schema: &'static str,
    #[serde(flatten)]
    pub bundle: BundleInfo,
}

/// The `capm.info/v1` document of `spec` (`NAME[@REQ]`), looked up in `sources`; with
/// `project`, a name its capm.toml does not list is asked of its registries too, and the
/// version its capm.lock records is the one installed.
pub(super) fn document(
    sources: &mut Sources,
    project: Option<&Project>,
    spec: &str,
    term: &mut Term,
) -> Result<InfoDoc, CliError> {
    let name = spec.split('@').next().unwrap_or(spec);
    sources
        .fetch(&[crate::ops::info::looked_up(name)])
        .map_err(|e| graph_error(e, term))?;
    let lock = project.and_then(|p| p.lock.as_ref());
    let bundle = crate::ops::info::info(sources, spec, lock).map_err(|e| info_error(e, term))?;
    Ok(InfoDoc {
        schema: INFO_SCHEMA,
        bundle,
    })
}

pub fn info(
    args: InfoArgs,
    project_dir: Option<&Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    let (mut sources, project) = lookup_sources(project_dir, term)?;
    let doc = document(&mut sources, project.as_ref(), &args.bundle, term)?;
    if args.format == TextFormat::Json {
        print_json(term, &doc)?;
        return Ok(Status::Success);
    }
    write!(term.out(), "{}", human(&doc.bundle))?;
    Ok(Status::Success)
}

pub(super) fn info_error(e: InfoError, term: &mut Term) -> CliError {
    let message = e.to_string();
    match e {
        InfoError::UnknownBundle { suggestion, .. } => CliError::Refused {
            code: "bundle-not-found",
            message,
            details: Vec::new(),
            help: Some(match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => "`capm search` lists every bundle".into(),
            }),
        },
        InfoError::UnknownVersion {
            name, available, ..
        } => CliError::Refused {
            code: "version-not-found",
            message,
            details: vec![format!(
                "available versions of {name}: {}",
                available.join(", ")
            )],
            help: None,
        },
        InfoError::BadSpec { .. } => CliError::Usage {
            message,
            help: Some(
                "write NAME, NAME@VERSION (`github@1.0.0`) or NAME@REQ (`github@^1`)".into(),
            ),
        },
        InfoError::Graph(g) => graph_error(g, term),
    }
}

/// The bundle for people, like `cargo info`: a heading, then one section per aspect.
fn human(b: &BundleInfo) -> String {
    let mut out = format!("{} {} ({})\n", b.name, b.version, b.source);
    if !b.description.is_empty() {
        let _ = writeln!(out, "{}", b.description);
    }
    let mut field = |label: &str, value: &str| {
        let _ = writeln!(out, "{label:<13}{value}");
    };
    field("versions:", &b.versions.join(", "));
    if let Some(v) = &b.installed {
        field("installed:", v);
    }
    field("modes:", &modes_text(&b.modes));
    if let Some(l) = &b.license {
        field("license:", l);
    }
    if let Some(r) = &b.repository {
        field("repository:", r);
    }
    if !b.keywords.is_empty() {
        field("keywords:", &b.keywords.join(", "));
    }
    field("sha256:", b.sha256.trim_start_matches("sha256:"));
    let width = b.resources.iter().map(|r| r.id.len()).max().unwrap_or(0);
    section(
        &mut out,
        "resources",
        b.resources.iter().map(|r| {
            let what = match (&r.command, &r.url, &r.npm, &r.path) {
                (Some(argv), ..) => format!("local: {}", quote_argv(argv)),
                (_, Some(url), ..) => format!("remote: {url}"),
                (_, _, Some(npm), _) => format!("npm: {npm}"),
                (.., Some(path)) => path.clone(),
                _ => String::new(),
            };
            let tier = r.tier.map(|t| format!(" (tier {t})")).unwrap_or_default();
            format!("{:<width$}  {what}{tier}", r.id)
        }),
    );
    section(
        &mut out,
        "permissions",
        b.permissions.iter().map(|p| {
            let kind = p.kind.map(|k| k.to_string()).unwrap_or_default();
            let req = if p.required { "required" } else { "optional" };
            format!("{kind} `{}` ({req}): {}", p.id, p.reason)
        }),
    );
    section(
        &mut out,
        "dependencies",
        b.dependencies.iter().map(|d| {
            let opt = if d.optional { " (optional)" } else { "" };
            format!("{} {}{opt}", d.name, d.req)
        }),
    );
    out
}

/// A heading and its lines, or nothing when there are none.
fn section(out: &mut String, title: &str, lines: impl Iterator<Item = String>) {
    let lines: Vec<String> = lines.collect();
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}:");
    for l in lines {
        let _ = writeln!(out, "  {l}");
    }
}

/// An argv for display: each word as is, or JSON-quoted when it has spaces, quotes or
/// control characters, so that word boundaries stay visible.
fn quote_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && !a
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\'');
            if plain {
                a.clone()
            } else {
                serde_json::to_string(a).unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
