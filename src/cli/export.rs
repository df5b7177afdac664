//! `capm export BUNDLE --to FORMAT DIR`: a bundle written as a repository of Agent
//! Skills, a Claude Code plugin or MCP Registry server.json documents. stdout lists the
//! files written (or one `capm.export/v1` document); stderr says what was left out.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use schemars::JsonSchema;
use serde::Serialize;

use super::graph::{TextFormat, graph_error};
use super::info::info_error;
use super::registry::lookup_sources;
use super::{CliError, Status, Term, print_json, render};
use crate::formats::export::{ExportError, Options, To};
use crate::manifest::tree::BundleTree;
use crate::ops::export::{ExportOpError, Exported};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The bundle: a directory holding bundle.toml, or NAME[@VERSION] of the catalog or the
    /// project's registries.
    bundle: String,
    /// The format to write.
    #[arg(long, value_enum, value_name = "FORMAT")]
    to: ToArg,
    /// The directory to write; it must not exist, or be empty.
    dir: PathBuf,
    /// The namespace of server.json names (`io.github.acme`); by default `io.github.OWNER`
    /// of the bundle's GitHub repository.
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Output format: human for people, or json for one `capm.export/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

/// The formats `--to` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ToArg {
    /// A repository of Agent Skills: DIR/skills/NAME/.
    Skills,
    /// A Claude Code plugin: DIR/.claude-plugin/plugin.json and its parts.
    ClaudePlugin,
    /// One MCP Registry server.json per MCP server.
    #[value(name = "server.json")]
    ServerJson,
}

impl From<ToArg> for To {
    fn from(t: ToArg) -> To {
        match t {
            ToArg::Skills => To::Skills,
            ToArg::ClaudePlugin => To::ClaudePlugin,
            ToArg::ServerJson => To::ServerJson,
        }
    }
}

const EXPORT_SCHEMA: &str = "capm.export/v1";

/// What `capm export --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm export result (capm export --format json)")]
pub struct ExportDoc {
    /// Always `capm.export/v1`.
    #[schemars(extend("const" = EXPORT_SCHEMA))]
    pub schema: &'static str,
    pub name: String,
    pub version: String,
    /// `skills`, `claude-plugin` or `server.json`.
    pub to: String,
    /// The directory written.
    pub dir: String,
    /// The files written, relative to `dir`.
    pub files: Vec<String>,
    /// What the format could not carry, one sentence each.
    pub notes: Vec<String>,
}

pub fn run(
    args: ExportArgs,
    project_dir: Option<&Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    let tree = load(&args.bundle, project_dir, term)?;
    let to = To::from(args.to);
    let opts = Options {
        namespace: args.namespace.clone(),
    };
    let done = crate::ops::export::export(&tree, to, &opts, &args.dir)
        .map_err(|e| export_error(e, term))?;
    for note in &done.notes {
        if !term.quiet {
            writeln!(term.err(), "note: {note}")?;
        }
    }
    if args.format == TextFormat::Json {
        print_json(term, &doc(done, to, &args.dir))?;
        return Ok(Status::Success);
    }
    for f in &done.files {
        writeln!(term.out(), "{}", args.dir.join(f).display())?;
    }
    let what = format!(
        "{} {} to `{}` ({})",
        done.name,
        done.version,
        args.dir.display(),
        to.name()
    );
    term.status("Exported", what)?;
    Ok(Status::Success)
}

fn doc(done: Exported, to: To, dir: &Path) -> ExportDoc {
    ExportDoc {
        schema: EXPORT_SCHEMA,
        name: done.name,
        version: done.version,
        to: to.name().to_string(),
        dir: dir.display().to_string(),
        files: done.files,
        notes: done.notes,
    }
}

/// Whether the argument names a directory rather than a bundle by name.
fn is_path(arg: &str) -> bool {
    arg.contains(['/', '\\']) || arg.starts_with('.') || Path::new(arg).is_dir()
}

/// The bundle's files: a directory read as it is, or a name looked up like `capm info`.
fn load(arg: &str, project_dir: Option<&Path>, term: &mut Term) -> Result<BundleTree, CliError> {
    if is_path(arg) {
        let dir = Path::new(arg);
        let dir = crate::formats::marked_dir(dir)
            .filter(|_| dir.is_file())
            .unwrap_or(dir);
        if !dir.exists() {
            return Err(CliError::Missing {
                code: "path-not-found",
                message: format!("`{arg}` does not exist"),
                help: Some("pass a bundle directory, or a bundle's name".into()),
            });
        }
        let shown = dir.display().to_string();
        return crate::formats::read_dir(dir, shown.clone(), &Default::default())
            .map_err(|e| CliError::Other(format!("cannot read `{shown}`: {e}")));
    }
    let (mut sources, _) = lookup_sources(project_dir, term)?;
    let name = arg.split('@').next().unwrap_or(arg);
    sources
        .fetch(&[name.to_string()])
        .map_err(|e| graph_error(e, term))?;
    let chosen = crate::ops::info::find(&sources, arg).map_err(|e| info_error(e, term))?;
    sources.tree(chosen).map_err(|e| graph_error(e, term))
}

fn export_error(e: ExportOpError, term: &mut Term) -> CliError {
    let message = e.to_string();
    match e {
        ExportOpError::Invalid {
            diagnostics,
            sources,
            ..
        } => {
            render::print_refusal(term, &diagnostics, &sources);
            refused(
                "invalid-bundle",
                message,
                "`capm lint` on the bundle shows every problem",
            )
        }
        ExportOpError::NotEmpty { .. } => refused(
            "destination-not-empty",
            message,
            "choose a new directory, or empty this one; capm never writes over files",
        ),
        ExportOpError::Format(ExportError::NoNamespace { .. } | ExportError::BadNamespace(_)) => {
            CliError::Usage {
                message,
                help: Some(
                    "pass `--namespace io.github.OWNER` (or your own reverse-DNS domain)".into(),
                ),
            }
        }
        ExportOpError::Format(_) => refused(
            "export-refused",
            message,
            "export to another format, or change the bundle so that this format can hold it",
        ),
        ExportOpError::Io(e) => CliError::Io(e),
    }
}

fn refused(code: &'static str, message: String, help: &str) -> CliError {
    CliError::Refused {
        code,
        message,
        details: Vec::new(),
        help: Some(help.into()),
    }
}
