//! `capm lint`: check bundles and projects, print the diagnostics in the chosen format.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{CliError, Status, Term, print_json, render};
use crate::diagnostic::{Severity, Summary};
use crate::ops::lint::{LintError, LintOptions, lint};

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Bundle directories, bundle.toml or capm.toml files, or directories to search for
    /// every bundle.toml below them. Defaults to the current directory.
    paths: Vec<PathBuf>,
    /// Also lint the catalog built into capm (alone, when no PATH is given).
    #[arg(long)]
    catalog: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    format: LintFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long, short = 'D')]
    deny_warnings: bool,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LintFormat {
    /// For people, on stderr.
    Human,
    /// One JSON document (schema `capm.diagnostics/v1`) on stdout.
    Json,
    /// SARIF 2.1.0 on stdout, for code scanning.
    Sarif,
    /// GitHub Actions workflow annotations on stdout.
    Github,
}

/// What `capm lint` takes, said when it is given something else.
const HELP: &str = "pass a bundle directory (native, an Agent Skill or a repository of skills, a \
                    Claude Code plugin, an MCP Registry server) or its bundle.toml, SKILL.md, \
                    plugin.json or server.json, a capm.toml, or a directory holding bundles";

pub fn run(
    args: LintArgs,
    project: Option<&std::path::Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    let opts = LintOptions {
        paths: args.paths,
        catalog: args.catalog,
        project: project.map(std::path::Path::to_path_buf),
    };
    let mut report = lint(&opts).map_err(lint_error)?;
    sort(&mut report.diagnostics);
    let summary = Summary::of(&report.diagnostics);
    match args.format {
        LintFormat::Human => {
            let shown = report
                .diagnostics
                .iter()
                .filter(|d| !term.quiet || d.severity == Severity::Error);
            let color = term.color;
            let texts: Vec<String> = shown
                .map(|d| render::human(d, &report.sources, color))
                .collect();
            for t in texts {
                writeln!(term.err(), "{t}\n")?;
            }
            let checked = checked_phrase(report.bundles.len(), report.projects.len());
            let problems = problems_phrase(&summary);
            term.status("Checked", format!("{checked}: {problems}"))?;
        }
        LintFormat::Json => print_json(
            term,
            &render::json(&report.bundles, &report.projects, &report.diagnostics),
        )?,
        LintFormat::Sarif => {
            let root = std::env::current_dir().map_err(|e| {
                CliError::Other(format!("failed to read the current directory: {e}"))
            })?;
            print_json(term, &render::sarif(&report.diagnostics, &root))?
        }
        LintFormat::Github => {
            for d in &report.diagnostics {
                writeln!(term.out(), "{}", render::github(d))?;
            }
        }
    }
    if summary.errors > 0 {
        return Ok(Status::Refused);
    }
    if args.deny_warnings && summary.warnings > 0 {
        if args.format == LintFormat::Human {
            term.warn("warnings are denied by --deny-warnings")?;
        }
        return Ok(Status::Refused);
    }
    Ok(Status::Success)
}

/// Diagnostics in reading order: by file, line and column; those without a place last.
pub(super) fn sort(diagnostics: &mut [crate::diagnostic::Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        let key = |d: &crate::diagnostic::Diagnostic| {
            d.location
                .as_ref()
                .map(|l| {
                    (
                        0,
                        l.file.clone(),
                        l.line.unwrap_or(0),
                        l.column.unwrap_or(0),
                    )
                })
                .unwrap_or((1, String::new(), 0, 0))
        };
        key(a).cmp(&key(b))
    });
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn checked_phrase(bundles: usize, projects: usize) -> String {
    let mut parts = Vec::new();
    if bundles > 0 || projects == 0 {
        parts.push(plural(bundles, "bundle", "bundles"));
    }
    if projects > 0 {
        parts.push(plural(projects, "project", "projects"));
    }
    parts.join(" and ")
}

fn problems_phrase(s: &Summary) -> String {
    if s.errors + s.warnings + s.infos == 0 {
        return "no problems".into();
    }
    let mut parts = Vec::new();
    if s.errors > 0 {
        parts.push(plural(s.errors, "error", "errors"));
    }
    if s.warnings > 0 {
        parts.push(plural(s.warnings, "warning", "warnings"));
    }
    if s.infos > 0 {
        parts.push(plural(s.infos, "note", "notes"));
    }
    parts.join(", ")
}

/// What the user sees when the paths to check cannot be checked.
pub(super) fn lint_error(e: LintError) -> CliError {
    match e {
        LintError::Io { .. } => CliError::Other(e.to_string()),
        LintError::NotFound(_) => CliError::Missing {
            code: "path-not-found",
            message: e.to_string(),
            help: Some(HELP.into()),
        },
        _ => CliError::Usage {
            message: e.to_string(),
            help: Some(HELP.into()),
        },
    }
}
