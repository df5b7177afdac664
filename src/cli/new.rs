//! `capm new`: scaffold a bundle directory.

use std::path::{Path, PathBuf};

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
    let by_flag = args.name.is_some();
    let path = args.path.clone();
    let created = new_bundle(&NewOptions {
        path: args.path,
        name: args.name,
    })
    .map_err(|e| new_error(e, &path, by_flag))?;
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

/// What went wrong, in words that fit where the name came from (`--name` or the
/// directory) and what is at the path.
fn new_error(e: NewError, path: &Path, by_flag: bool) -> CliError {
    let usage = |message: String, help: String| CliError::Usage {
        message,
        help: Some(help),
    };
    let rule = "names are 1 to 64 lower-case ASCII letters and digits separated by single hyphens";
    match e {
        NewError::InvalidName(name) if by_flag => usage(
            format!(
                "`--name {name}` is not a valid bundle name: {}",
                why_invalid(&name)
            ),
            format!("{rule}, e.g. `my-kit`"),
        ),
        NewError::InvalidName(name) => usage(
            format!(
                "the directory name `{name}` is not a valid bundle name: {}",
                why_invalid(&name)
            ),
            format!("{rule}; pass --name NAME to choose one"),
        ),
        NewError::NoName(_) => usage(e.to_string(), "pass --name NAME to choose one".into()),
        NewError::Write(crate::apply::WriteError::Exists(p)) if !p.is_dir() => usage(
            format!(
                "`{}` is a file; `capm new` creates a directory",
                p.display()
            ),
            "choose a path that does not exist yet, or an empty directory".into(),
        ),
        NewError::Write(w @ crate::apply::WriteError::Exists(_)) => usage(
            w.to_string(),
            format!(
                "choose a new directory, or run `capm lint {}` to check what is there",
                path.display()
            ),
        ),
        NewError::Write(w) => CliError::Other(w.to_string()),
    }
}

/// The first thing wrong with a bundle name.
fn why_invalid(name: &str) -> String {
    if name.is_empty() {
        return "it is empty".into();
    }
    if let Some(c) = name.chars().find(|c| !c.is_ascii()) {
        return format!("`{c}` is not an ASCII letter or digit");
    }
    if let Some(c) = name.chars().find(char::is_ascii_uppercase) {
        return format!("`{c}` is upper-case");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !c.is_ascii_lowercase() && !c.is_ascii_digit() && *c != '-')
    {
        return format!("`{c}` is not allowed; separate words with hyphens");
    }
    if name.len() > 64 {
        return format!("it is {} characters long", name.len());
    }
    "a hyphen starts or ends it, or two hyphens are in a row".into()
}
