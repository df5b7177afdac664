//! `capm new`: scaffold a bundle directory.

use std::path::PathBuf;

use clap::Args;

use super::graph::TextFormat;
use super::{CliError, Status, Term, print_json};
use crate::ops::new::{NewError, NewOptions, new_bundle};

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The directory to create; its name is the bundle's name unless --name is given.
    path: PathBuf,
    /// The bundle's name.
    #[arg(long)]
    name: Option<String>,
    /// Output format: human for people, or json for one `capm.new/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
}

pub fn run(args: NewArgs, term: &mut Term) -> Result<Status, CliError> {
    let created = new_bundle(&NewOptions {
        path: args.path,
        name: args.name,
    })
    .map_err(|e| match e {
        NewError::InvalidName(_) | NewError::NoName(_) => CliError::Usage {
            message: e.to_string(),
            help: Some("names are 1 to 64 lower-case letters and digits separated by single hyphens; pass --name to choose one".into()),
        },
        NewError::Write(w @ crate::apply::WriteError::Exists(_)) => CliError::Usage {
            message: w.to_string(),
            help: Some("choose a new directory, or remove the existing one".into()),
        },
        NewError::Write(w) => CliError::Other(w.to_string()),
    })?;
    if args.format == TextFormat::Json {
        let doc = super::results::NewDoc {
            schema: "capm.new/v1",
            name: created.name,
            path: created.path.display().to_string(),
            files: created.files,
        };
        print_json(term, &doc)?;
        return Ok(Status::Success);
    }
    term.status(
        "Created",
        format!("bundle `{}` in {}", created.name, created.path.display()),
    )?;
    if term.verbose {
        for f in &created.files {
            term.status("", f)?;
        }
    }
    Ok(Status::Success)
}
