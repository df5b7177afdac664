//! `capm man`: man pages generated from the command-line definitions, one per command as
//! cargo has them — `capm.1`, `capm-lint.1`, `capm-plan-install.1`, … — printed one at a
//! time or all written into a directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};

use super::{Cli, CliError, Status, Term};

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print, e.g. `lint` or `plan install`; capm's own page
    /// when none is given.
    #[arg(value_name = "COMMAND")]
    command: Vec<String>,
    /// Write every page (capm.1, capm-lint.1, capm-plan-install.1, …) into DIR, created if
    /// missing, instead of printing one.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    out: Option<PathBuf>,
}

pub fn run(args: ManArgs, term: &mut Term) -> Result<Status, CliError> {
    let root = root();
    if let Some(dir) = &args.out {
        let written = write_all(&root, dir)?;
        term.status("Wrote", format!("{written} man pages to {}", dir.display()))?;
        return Ok(Status::Success);
    }
    let page = find(&root, &args.command)?;
    term.out().write_all(&render(page)?)?;
    Ok(Status::Success)
}

/// capm's command tree, built (so each subcommand knows its full name, `capm-plan-install`).
fn root() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The command reached by the subcommand names in `path`.
fn find<'a>(root: &'a clap::Command, path: &[String]) -> Result<&'a clap::Command, CliError> {
    let mut at = root;
    for name in path {
        at = at
            .get_subcommands()
            .find(|c| c.get_name() == name && !c.is_hide_set())
            .ok_or_else(|| {
                let known: Vec<&str> = at.get_subcommands().map(clap::Command::get_name).collect();
                CliError::Usage {
                    message: format!(
                        "`{}` has no command `{name}`",
                        at.get_bin_name().unwrap_or("capm")
                    ),
                    help: Some(format!("its commands: {}", known.join(", "))),
                }
            })?;
    }
    Ok(at)
}

fn display_name(cmd: &clap::Command) -> &str {
    cmd.get_display_name().unwrap_or_else(|| cmd.get_name())
}

fn render(cmd: &clap::Command) -> Result<Vec<u8>, CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .source(concat!("capm ", env!("CARGO_PKG_VERSION")))
        .manual("capm manual")
        .render(&mut page)?;
    Ok(page)
}

/// Writes the page of `cmd` and of every command below it into `dir`; the count written.
fn write_all(cmd: &clap::Command, dir: &Path) -> Result<usize, CliError> {
    fs_err::create_dir_all(dir)?;
    let path = dir.join(format!("{}.1", display_name(cmd)));
    crate::apply::write_file_atomic(&path, &render(cmd)?)
        .map_err(|e| CliError::Other(e.to_string()))?;
    let mut written = 1;
    for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
        written += write_all(sub, dir)?;
    }
    Ok(written)
}
