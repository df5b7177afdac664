//! `capm cache dir | clean | prune`: the arguments, and printing what the operation did.

use std::io::Write;
use std::path::Path;

use clap::{Args, Subcommand};
use schemars::JsonSchema;
use serde::Serialize;

use super::graph::TextFormat;
use super::{CliError, Status, Term, print_json};
use crate::ops::cache::{CacheAction, CacheOptions, CacheOutcome};
use crate::remote::RemoteError;
use crate::remote::cache::CleanReport;

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    command: CacheCommand,
}

#[derive(Debug, Subcommand)]
enum CacheCommand {
    /// Print the cache directory.
    Dir(FormatArg),
    /// Remove everything the cache holds.
    Clean(FormatArg),
    /// Remove what was not used for a while, and leftovers of interrupted downloads.
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
struct FormatArg {
    /// Output format: human for people, or json for one `capm.cache/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
}

#[derive(Debug, Args)]
struct PruneArgs {
    /// Remove the entries not used for more than this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    max_age: u32,
    #[command(flatten)]
    format: FormatArg,
}

const SCHEMA: &str = "capm.cache/v1";

/// What `capm cache … --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm cache result (capm cache dir|clean|prune --format json)")]
pub struct CacheDoc {
    /// Always `capm.cache/v1`.
    #[schemars(extend("const" = SCHEMA))]
    pub schema: &'static str,
    /// `dir`, `clean` or `prune`.
    pub command: &'static str,
    /// The cache directory.
    pub dir: String,
    /// What was removed (`clean`, `prune`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<CleanReport>,
    /// What stayed (`prune`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<CleanReport>,
    /// The age past which entries were removed, in days (`prune`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u32>,
}

pub fn run(args: CacheArgs, term: &mut Term) -> Result<Status, CliError> {
    let (name, action, format, days) = match args.command {
        CacheCommand::Dir(f) => ("dir", CacheAction::Dir, f.format, None),
        CacheCommand::Clean(f) => ("clean", CacheAction::Clean, f.format, None),
        CacheCommand::Prune(p) => {
            let max_age = std::time::Duration::from_secs(u64::from(p.max_age) * 86_400);
            (
                "prune",
                CacheAction::Prune { max_age },
                p.format.format,
                Some(p.max_age),
            )
        }
    };
    let quiet = term.quiet;
    let waiting = move |path: &Path| {
        if !quiet {
            anstream::eprintln!(
                "{:>12} for lock on `{}` held by another capm",
                "Waiting",
                path.display()
            );
        }
    };
    let opts = CacheOptions {
        cache: term.env.net(false).cache,
        lock_timeout: term.env.lock_timeout,
        waiting: &waiting,
    };
    let outcome = crate::ops::cache::cache(action, &opts).map_err(cache_error)?;
    if format == TextFormat::Json {
        print_json(term, &doc(name, outcome, days))?;
    } else {
        print_human(term, &outcome, days)?;
    }
    Ok(Status::Success)
}

fn doc(command: &'static str, outcome: CacheOutcome, max_age_days: Option<u32>) -> CacheDoc {
    CacheDoc {
        schema: SCHEMA,
        command,
        dir: outcome.dir.display().to_string(),
        removed: outcome.removed,
        kept: outcome.kept,
        max_age_days,
    }
}

/// `dir` prints the path on stdout; `clean` and `prune` say what they did on stderr.
fn print_human(term: &mut Term, o: &CacheOutcome, days: Option<u32>) -> Result<(), CliError> {
    let Some(removed) = &o.removed else {
        writeln!(term.out(), "{}", o.dir.display())?;
        return Ok(());
    };
    let mut message = format!("{} from `{}`", amount(removed), o.dir.display());
    if let (Some(kept), Some(days)) = (&o.kept, days) {
        let plural = if days == 1 { "" } else { "s" };
        message = format!(
            "{message} (unused for more than {days} day{plural}); kept {}",
            amount(kept)
        );
    }
    term.status("Removed", message)?;
    Ok(())
}

/// `3 entries, 1.2 MiB`.
fn amount(r: &CleanReport) -> String {
    let plural = if r.entries == 1 { "y" } else { "ies" };
    format!("{} entr{plural}, {}", r.entries, bytes(r.bytes))
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn cache_error(e: RemoteError) -> CliError {
    match e {
        RemoteError::CacheLocked { .. } => CliError::Locked(e.to_string()),
        other => CliError::Other(other.to_string()),
    }
}
