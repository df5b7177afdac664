//! `capm probe [BUNDLE…]`: start MCP servers as OpenCode would and report, per server,
//! whether it answered the handshake, its protocol version and its tool count, with the
//! tail of its stderr when it failed. Human lines or one `capm.probe/v1` JSON document on
//! stdout; exit 1 when any server failed.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use clap::Args;
use schemars::JsonSchema;
use serde::Serialize;

use super::graph::{TextFormat, project_error, resolve_error};
use super::registry::lookup_sources;
use super::{CliError, Status, Term, print_json};
use crate::ops::probe::ProbeError;
use crate::probe::{ProbeResult, Server};

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Bundles whose servers to start (NAME, NAME@VERSION or NAME@REQ); by default the
    /// servers of every bundle the project resolves to.
    bundles: Vec<String>,
    /// Seconds each server has to start, answer `initialize` and list its tools (a cold
    /// npx or uvx cache downloads the server first).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// Output format: human for people, or json for one `capm.probe/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

const PROBE_SCHEMA: &str = "capm.probe/v1";

/// What `capm probe --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm MCP server probe (capm probe --format json)")]
pub struct ProbeDoc {
    /// Always `capm.probe/v1`.
    #[schemars(extend("const" = PROBE_SCHEMA))]
    pub schema: &'static str,
    /// Whether every server answered.
    pub ok: bool,
    /// One entry per server, in the order they were started.
    pub servers: Vec<ProbeResult>,
}

pub fn run(
    args: ProbeArgs,
    project_dir: Option<&Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    if args.timeout == 0 {
        return Err(CliError::usage("--timeout must be at least 1 second"));
    }
    let servers = select(&args, project_dir, term)?;
    // The server runs in a process group of its own, out of reach of the terminal's
    // Ctrl-C: an interrupted probe takes it down itself.
    let _ = ctrlc::set_handler(|| {
        crate::probe::kill_running();
        std::process::exit(130);
    });
    let mut results = Vec::new();
    for s in &servers {
        term.status("Probing", format!("{}/{}", s.bundle, s.name))?;
        results.push(crate::probe::probe(s, Duration::from_secs(args.timeout)));
    }
    let ok = results.iter().all(|r| r.ok);
    if args.format == TextFormat::Json {
        print_json(
            term,
            &ProbeDoc {
                schema: PROBE_SCHEMA,
                ok,
                servers: results,
            },
        )?;
    } else {
        print_human(&results, term)?;
    }
    Ok(if ok { Status::Success } else { Status::Refused })
}

/// The servers to start: the named bundles', or the project's.
fn select(
    args: &ProbeArgs,
    project_dir: Option<&Path>,
    term: &mut Term,
) -> Result<Vec<Server>, CliError> {
    let selected = if args.bundles.is_empty() {
        let root =
            crate::ops::project::find_root(project_dir).map_err(|e| project_error(e, term))?;
        let project = crate::ops::project::load(&root).map_err(|e| project_error(e, term))?;
        crate::ops::probe::installed(&project)
    } else {
        let (sources, project) = lookup_sources(project_dir, term)?;
        let cwd = project
            .as_ref()
            .map_or(Path::new("."), |p| p.root.as_path());
        crate::ops::probe::named(&sources, &args.bundles, project.as_ref(), cwd)
    };
    selected.map_err(|e| match e {
        ProbeError::Bundle(e) => super::info::info_error(e, term),
        ProbeError::Resolve(e) => resolve_error(e, term),
        e @ ProbeError::Render { .. } => CliError::Other(e.to_string()),
    })
}

fn print_human(results: &[ProbeResult], term: &mut Term) -> Result<(), CliError> {
    if results.is_empty() {
        term.warn("no MCP servers to probe")?;
        return Ok(());
    }
    for r in results {
        writeln!(term.out(), "{}", line(r))?;
        for l in &r.stderr {
            writeln!(term.out(), "    stderr | {l}")?;
        }
    }
    let failed = results.iter().filter(|r| !r.ok).count();
    let summary = format!(
        "{} of {} servers answered",
        results.len() - failed,
        results.len()
    );
    if failed == 0 {
        term.status("Finished", summary)?;
    } else {
        term.warn(summary)?;
    }
    Ok(())
}

/// `ok  BUNDLE/SERVER  stdio  protocol V  N tools  (NAME VERSION, T s)`, or the failure.
fn line(r: &ProbeResult) -> String {
    let who = format!("{}/{} ({})", r.bundle, r.server, r.transport);
    let secs = format!("{:.1} s", r.millis as f64 / 1000.0);
    match &r.error {
        None => format!(
            "ok      {who}: protocol {}, {}{} in {secs}",
            r.protocol_version.as_deref().unwrap_or("?"),
            tools(r.tools.unwrap_or_default()),
            r.server_info
                .as_ref()
                .map_or_else(String::new, |i| format!(", {i}")),
        ),
        Some(e) => format!("failed  {who}: {e} ({secs})"),
    }
}

fn tools(n: usize) -> String {
    if n == 1 {
        "1 tool".into()
    } else {
        format!("{n} tools")
    }
}
