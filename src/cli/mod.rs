//! The command line: the only code that knows clap, the terminal, colours and output
//! formats. Each command turns its arguments into an options struct, calls one library
//! operation, and prints the result.

pub mod apply;
mod cache;
mod excerpt;
mod explain;
mod export;
mod graph;
mod info;
mod lint;
mod log;
mod man;
mod new;
mod outdated;
mod plan;
mod probe;
mod registry;
mod render;
mod results;
pub mod schemas;
pub mod serve;
mod term;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub use term::Term;

const EXIT_CODES: &str = "\
Exit codes:
  0  success, or a lint with no errors
  1  the input was refused: lint errors, a blocked or stale plan, a resolution
     conflict, an unknown bundle, a conflict with the user's files, an unconfirmed change
  2  usage error, a missing path or capm.toml, or unexpected failure (I/O, a bug)
  3  the scope is locked by another capm process past the wait timeout";

/// A package manager for capability bundles: MCP servers, skills, plugins, agents and
/// commands for OpenCode.
#[derive(Debug, Parser)]
#[command(name = "capm", version, about, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// When to use colour: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// Print only errors, and the data a command is asked for (a tree, a JSON document).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more detail on stderr: files read, resolution steps, stage timings
    /// (`CAPM_LOG=capm=debug` for diagnostic logs).
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Fetch nothing: remote bundles, registry indexes and git repositories come from the
    /// cache only, and what it lacks is named.
    #[arg(long, global = true)]
    offline: bool,
    /// `--project DIR` before the command name, as older capm took it: handed to the
    /// command when it takes a project, refused otherwise.
    #[arg(long, value_name = "DIR", hide = true)]
    project: Option<std::path::PathBuf>,
    /// The command's name as given, for messages.
    #[arg(skip)]
    name: String,
}

/// `--project DIR`, only for the commands that work on a project. Such a command flattens
/// it into its arguments (`#[command(flatten)] project: ProjectArg`) and returns it from
/// [`Command::project_mut`]; a command without it never shows the flag.
#[derive(Debug, Default, clap::Args)]
pub struct ProjectArg {
    /// The project directory (holding capm.toml), or its capm.toml; by default the nearest
    /// one from the current directory upwards.
    #[arg(long, value_name = "DIR")]
    pub project: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check bundle manifests and project files, and report every problem found.
    Lint(lint::LintArgs),
    /// Explain a diagnostic code or security rule; --list lists every code.
    Explain(explain::ExplainArgs),
    /// Create a new bundle that passes `capm lint --deny-warnings`.
    New(new::NewArgs),
    /// Create a capm.toml in the current (or given, created if missing) directory.
    Init(registry::InitArgs),
    /// Resolve the project's bundles and record them in capm.lock, installing nothing.
    Lock(graph::LockArgs),
    /// List the bundles installed in the project, with their resources.
    #[command(visible_alias = "ls")]
    List(graph::ListArgs),
    /// Show bundles with newer versions, within and beyond capm.toml's requirements.
    Outdated(outdated::OutdatedArgs),
    /// Show a bundle: description, versions, modes, resources, permissions, dependencies.
    Info(info::InfoArgs),
    /// Show the resolved dependency tree.
    Tree(graph::TreeArgs),
    /// Show every chain from the project to a bundle or resource.
    Why(graph::WhyArgs),
    /// Print the resolved graph of bundles and resources as DOT or JSON.
    Graph(graph::GraphArgs),
    /// Search the catalog and the project's registries; with no words, list every bundle.
    Search(registry::SearchArgs),
    /// Lint a bundle and publish it into a directory registry, or push it to an OCI registry (`--oci`).
    Publish(registry::PublishArgs),
    /// Write a bundle as Agent Skills, a Claude Code plugin or MCP Registry server.json files.
    Export(export::ExportArgs),
    /// Show where the cache of remote bundles is, clean it or prune what was not used.
    Cache(cache::CacheArgs),
    /// Mark a published version as yanked (or not, with --undo) in a registry.
    Yank(registry::YankArgs),
    /// Show what install, update or uninstall would do, writing nothing.
    #[command(subcommand)]
    Plan(plan::PlanCommand),
    /// Make the project match capm.toml: install, update and remove resources.
    Install(apply::InstallArgs),
    /// Add bundles to capm.toml and install them.
    Add(apply::AddArgs),
    /// Update bundles to the newest versions capm.toml allows, and apply.
    Update(apply::UpdateArgs),
    /// Uninstall bundles and drop them from capm.toml.
    #[command(visible_aliases = ["rm", "uninstall"])]
    Remove(apply::RemoveArgs),
    /// Keep your edits of resources capm installed as yours.
    ///
    /// capm stops reporting them as modified, and proposes its version beside them only when
    /// a bundle changes it.
    Keep(apply::EditArgs),
    /// Put capm's version of resources back over your edits.
    Restore(apply::EditArgs),
    /// Apply a plan saved by `capm plan … --out FILE`, exactly as it was computed.
    Apply(apply::ApplyArgs),
    /// Recover interrupted transactions and report drift between capm.lock and disk.
    Doctor(apply::DoctorArgs),
    /// Start MCP servers as OpenCode would and check that they answer and list their tools.
    Probe(probe::ProbeArgs),
    /// Serve the desktop planner protocol: JSON-RPC 2.0 on stdin/stdout, one message per line.
    Serve(serve::ServeArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print capm's man page, or a command's (roff); --out writes them all.
    Man(man::ManArgs),
}

impl Command {
    /// The command's `--project`, for the commands that work on a project.
    fn project_mut(&mut self) -> Option<&mut ProjectArg> {
        match self {
            Command::Lint(a) => Some(&mut a.project),
            Command::Lock(a) => Some(&mut a.project),
            Command::List(a) => Some(&mut a.project),
            Command::Tree(a) => Some(&mut a.project),
            Command::Why(a) => Some(&mut a.project),
            Command::Graph(a) => Some(&mut a.project),
            Command::Search(a) => Some(&mut a.project),
            Command::Plan(cmd) => Some(cmd.project_mut()),
            Command::Install(a) => Some(a.project_mut()),
            Command::Add(a) => Some(a.project_mut()),
            Command::Update(a) => Some(a.project_mut()),
            Command::Remove(a) => Some(a.project_mut()),
            Command::Keep(a) | Command::Restore(a) => Some(a.project_mut()),
            Command::Apply(a) => Some(a.project_mut()),
            Command::Doctor(a) => Some(&mut a.project),
            Command::Outdated(a) => Some(&mut a.project),
            Command::Info(a) => Some(&mut a.project),
            Command::Probe(a) => Some(&mut a.project),
            Command::Export(a) => Some(&mut a.project),
            Command::Explain(_)
            | Command::New(_)
            | Command::Init(_)
            | Command::Publish(_)
            | Command::Cache(_)
            | Command::Yank(_)
            | Command::Serve(_)
            | Command::Completions(_)
            | Command::Man(_) => None,
        }
    }

    /// The command's `--project`, taking one given before the command name; refused for a
    /// command that works on no project.
    fn take_project(
        &mut self,
        before: Option<PathBuf>,
        name: &str,
    ) -> Result<Option<PathBuf>, CliError> {
        match (self.project_mut(), before) {
            (Some(arg), before) => Ok(arg.project.take().or(before)),
            (None, None) => Ok(None),
            (None, Some(_)) => Err(CliError::Usage {
                message: format!("`capm {name}` works on no project, so it takes no `--project`"),
                help: Some("`capm help COMMAND` lists the options a command takes".into()),
            }),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// How a command ended, short of an error: this decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Exit 0.
    Success,
    /// Exit 1: the user's input was refused.
    Refused,
}

/// Why a command failed. Every kind has a stable code (what `--format json` prints in
/// `code`) and an exit status, both decided in [`CliError::code`] and [`CliError::exit`].
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line asks for something capm cannot do (exit 2, `usage`).
    #[error("{message}")]
    Usage {
        message: String,
        help: Option<String>,
    },
    /// An operation of the system failed (exit 2, `io`).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Any other failure of the system, or a bug (exit 2, `io`).
    #[error("{0}")]
    Other(String),
    /// Another capm process holds the lock past the timeout (exit 3, `locked`).
    #[error("{0}")]
    Locked(String),
    /// Something the command line names does not exist: a path, or a project (exit 2).
    #[error("{message}")]
    Missing {
        code: &'static str,
        message: String,
        help: Option<String>,
    },
    /// The user's input was refused (exit 1), with details and a hint.
    #[error("{message}")]
    Refused {
        code: &'static str,
        message: String,
        details: Vec<String>,
        help: Option<String>,
    },
    /// A remote source failed or refused what it served (exit 1 or 2 by its code).
    #[error(transparent)]
    Remote(#[from] crate::remote::RemoteError),
    /// The client of `capm serve` cancelled the request (exit 130, `cancelled`).
    #[error("cancelled: the client cancelled the request")]
    Cancelled,
}

/// What to do about a remote source's failure.
fn remote_help(e: &crate::remote::RemoteError) -> Option<&'static str> {
    use crate::remote::RemoteError as R;
    Some(match e {
        R::Offline { .. } => "run once without --offline (or --frozen) to fetch it into the cache",
        R::Http { .. } | R::Network { .. } | R::Timeout { .. } | R::Truncated { .. } => {
            "check the URL and the connection (proxies come from HTTPS_PROXY and NO_PROXY; CAPM_HTTP_TIMEOUT and CAPM_HTTP_RETRIES set the patience); when the cache already holds everything, --offline works without the network"
        }
        R::Digest { .. } => {
            "what the source served is not what its index or capm.lock records: nothing was installed; if the publisher changed it on purpose, ask for a new version"
        }
        R::BadIndex { .. } | R::BadArchive { .. } => {
            "the registry serves something capm cannot read: tell its maintainer"
        }
        R::UrlRefused { .. } => {
            "`capm explain` with the rule's code says why and what to write instead"
        }
        _ => return None,
    })
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage {
            message: message.into(),
            help: None,
        }
    }

    /// The stable code of this failure, printed in JSON errors and by `capm serve`.
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Usage { .. } => "usage",
            CliError::Io(_) | CliError::Other(_) => "io",
            CliError::Cancelled => "cancelled",
            CliError::Locked(_) => "locked",
            CliError::Missing { code, .. } | CliError::Refused { code, .. } => code,
            CliError::Remote(e) => e.code(),
        }
    }

    /// The exit status: 1 input refused, 2 usage or system failure, 3 locked, 130
    /// cancelled (as after Ctrl-C).
    pub fn exit(&self) -> u8 {
        match self {
            CliError::Refused { .. } => 1,
            CliError::Locked(_) => 3,
            CliError::Usage { .. } | CliError::Io(_) | CliError::Other(_) => 2,
            CliError::Missing { .. } => 2,
            CliError::Remote(crate::remote::RemoteError::CacheLocked { .. }) => 3,
            CliError::Remote(e) if e.is_refusal() => 1,
            CliError::Remote(crate::remote::RemoteError::Cancelled { .. }) => 130,
            CliError::Remote(_) => 2,
            CliError::Cancelled => 130,
        }
    }

    /// The `help:` line, when there is one.
    pub fn help(&self) -> Option<&str> {
        match self {
            CliError::Usage { help, .. }
            | CliError::Missing { help, .. }
            | CliError::Refused { help, .. } => help.as_deref(),
            CliError::Remote(e) => remote_help(e),
            _ => None,
        }
    }

    /// Lines that explain the message (a conflict's requirements, a stale lock's changes).
    pub fn details(&self) -> &[String] {
        match self {
            CliError::Refused { details, .. } => details,
            _ => &[],
        }
    }
}

/// The one place exit codes are decided.
pub fn exit_code(result: &Result<Status, CliError>) -> ExitCode {
    match result {
        Ok(Status::Success) => ExitCode::from(0),
        Ok(Status::Refused) => ExitCode::from(1),
        Err(CliError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(0),
        Err(e) => ExitCode::from(e.exit()),
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let parsed = Cli::command().try_get_matches().and_then(|m| {
        let mut cli = Cli::from_arg_matches(&m)?;
        cli.name = m.subcommand_name().unwrap_or_default().to_string();
        Ok((cli, json_requested(&m)))
    });
    let (cli, json) = match parsed {
        Ok(x) => x,
        Err(e) => return command_line_error(&e),
    };
    let env = term::Env::from_process();
    crate::remote::set_net(env.net(cli.offline));
    let mut term = Term::new(&env, cli.color, cli.quiet, cli.verbose);
    let result = match env.invalid.first() {
        Some(problem) => Err(CliError::Usage {
            message: problem.clone(),
            help: Some("unset it, or give it a valid value".into()),
        }),
        None => log::init(&env, cli.verbose, term.color).and_then(|()| run(cli, &mut term)),
    };
    for notice in crate::remote::take_notices() {
        let _ = term.warn(notice);
    }
    if let Err(e) = &result {
        let broken_pipe =
            matches!(e, CliError::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe);
        if !broken_pipe {
            term.error(e);
            if json && !term.printed_json {
                // A program reading stdout gets the failure as a document too (unless the
                // command already printed its document, which says what happened).
                let _ = print_json(&mut term, &ErrorDoc::of(e));
            }
        }
    }
    let _ = term.flush();
    exit_code(&result)
}

/// Prints clap's refusal of the command line (or its help and version, exit 0); under
/// `--format json`, also one error document that names the argument at fault.
fn command_line_error(e: &clap::Error) -> ExitCode {
    let _ = e.print();
    if !e.use_stderr() {
        return ExitCode::from(0);
    }
    // The raw arguments: the command line did not parse.
    let args: Vec<String> = std::env::args().collect();
    let json = args
        .windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json");
    if json {
        let (message, tip) = clap_message(e);
        let doc = ErrorDoc {
            schema: "capm.error/v1",
            code: "usage".into(),
            message,
            details: Vec::new(),
            help: Some(tip.unwrap_or_else(|| {
                "`capm help` lists the commands, `capm COMMAND --help` their options".into()
            })),
            exit: 2,
        };
        if let Ok(text) = serde_json::to_string_pretty(&doc) {
            println!("{text}");
        }
    }
    ExitCode::from(2)
}

/// clap's error as one line that names the argument at fault (`unexpected argument
/// '--bogus' found`), and its tip, if any.
fn clap_message(e: &clap::Error) -> (String, Option<String>) {
    let text = e.render().to_string();
    let mut message = Vec::new();
    let mut tip = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if let Some(t) = line.strip_prefix("tip:") {
            tip = Some(t.trim().to_string());
        } else if !line.is_empty() {
            message.push(line.strip_prefix("error:").unwrap_or(line).trim());
        }
    }
    let mut message = message.join(" ");
    if message.is_empty() {
        message = e.kind().to_string();
    }
    (message, tip)
}

fn run(mut cli: Cli, term: &mut Term) -> Result<Status, CliError> {
    let project = cli.command.take_project(cli.project, &cli.name)?;
    let project = project.as_deref();
    match cli.command {
        Command::Lint(args) => lint::run(args, project, term),
        Command::Explain(args) => explain::run(args, term),
        Command::New(args) => new::run(args, term),
        Command::Init(args) => registry::init(args, term),
        Command::Lock(args) => graph::lock(args, project, term),
        Command::List(args) => graph::list(args, project, term),
        Command::Outdated(args) => outdated::outdated(args, project, term),
        Command::Info(args) => info::info(args, project, term),
        Command::Tree(args) => graph::tree(args, project, term),
        Command::Why(args) => graph::why(args, project, term),
        Command::Graph(args) => graph::graph(args, project, term),
        Command::Search(args) => registry::search(args, project, term),
        Command::Publish(args) => registry::publish(args, term),
        Command::Export(args) => export::run(args, project, term),
        Command::Cache(args) => cache::run(args, term),
        Command::Yank(args) => registry::yank(args, term),
        Command::Plan(cmd) => plan::run(cmd, project, term),
        Command::Install(args) => apply::install(args, project, term),
        Command::Add(args) => apply::add(args, project, term),
        Command::Update(args) => apply::update(args, project, term),
        Command::Remove(args) => apply::remove(args, project, term),
        Command::Keep(args) => apply::keep(args, project, term),
        Command::Restore(args) => apply::restore(args, project, term),
        Command::Apply(args) => apply::apply(args, project, term),
        Command::Doctor(args) => apply::doctor(args, project, term),
        Command::Probe(args) => probe::run(args, project, term),
        Command::Serve(args) => serve::run(args, term),
        Command::Completions(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            // Generated in memory: the generator panics on a write error (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "capm", &mut script);
            term.out().write_all(&script)?;
            Ok(Status::Success)
        }
        Command::Man(args) => man::run(args, term),
    }
}

/// Whether the command line asked for `--format json` (of any subcommand).
fn json_requested(m: &clap::ArgMatches) -> bool {
    let mut at = m;
    loop {
        if let Ok(Some(mut raw)) = at.try_get_raw("format")
            && raw.any(|v| v == "json")
        {
            return true;
        }
        match at.subcommand() {
            Some((_, sub)) => at = sub,
            None => return false,
        }
    }
}

/// What `--format json` prints on stdout when a command fails (and prints the same as a
/// human message on stderr).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(title = "capm error")]
pub struct ErrorDoc {
    /// Always `capm.error/v1`.
    #[schemars(extend("const" = "capm.error/v1"))]
    pub schema: &'static str,
    /// What failed, as a stable code. Exit 2: `usage` (the command line), `io` (the
    /// system), `no-project` (no capm.toml), `path-not-found`; exit 3: `locked`; exit 1:
    /// the code of what was refused (`bundle-not-found`, `plan-blocked`, `lock-stale`, …),
    /// which `capm explain CODE` explains, like every code here.
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The exit code.
    pub exit: u8,
}

impl ErrorDoc {
    fn of(e: &CliError) -> Self {
        ErrorDoc {
            schema: "capm.error/v1",
            code: e.code().to_string(),
            message: e.to_string(),
            details: e.details().to_vec(),
            help: e.help().map(str::to_string),
            exit: e.exit(),
        }
    }
}

/// Writes a JSON document and a newline to stdout.
fn print_json(term: &mut Term, value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Other(e.to_string()))?;
    writeln!(term.out(), "{text}")?;
    term.printed_json = true;
    Ok(())
}
