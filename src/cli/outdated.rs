//! `capm outdated`: a table of the locked bundles that have newer versions, within
//! capm.toml's requirements (`wanted`) and beyond them (`latest`), like `npm outdated`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use anstyle::{AnsiColor, Style};
use clap::Args;
use schemars::JsonSchema;
use serde::Serialize;

use super::graph::{TextFormat, graph_error, project_error};
use super::{CliError, Status, Term, print_json};
use crate::ops::outdated::{OutdatedBundle, OutdatedError};
use crate::ops::project;

#[derive(Debug, Args)]
pub struct OutdatedArgs {
    /// Exit 1 when a bundle has a newer version (like `git diff --exit-code`).
    #[arg(long)]
    exit_code: bool,
    /// Output format: human for people, or json for one `capm.outdated/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

const OUTDATED_SCHEMA: &str = "capm.outdated/v1";

/// What `capm outdated --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm outdated bundles (capm outdated --format json)")]
pub struct OutdatedDoc {
    /// Always `capm.outdated/v1`.
    #[schemars(extend("const" = OUTDATED_SCHEMA))]
    pub schema: &'static str,
    /// Every bundle capm.lock records, outdated or not, and every one capm.toml asks for
    /// that is not installed yet, by name.
    pub bundles: Vec<OutdatedBundle>,
}

/// The `capm.outdated/v1` document of the project at or above `dir`.
pub(super) fn document(dir: Option<&Path>, term: &mut Term) -> Result<OutdatedDoc, CliError> {
    let root = project::find_root(dir).map_err(|e| project_error(e, term))?;
    let p = project::load(&root).map_err(|e| project_error(e, term))?;
    let bundles = crate::ops::outdated::outdated(&p).map_err(|e| match e {
        OutdatedError::Graph(g) => graph_error(g, term),
    })?;
    Ok(OutdatedDoc {
        schema: OUTDATED_SCHEMA,
        bundles,
    })
}

pub fn outdated(
    args: OutdatedArgs,
    project_dir: Option<&Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    let doc = document(project_dir, term)?;
    let bundles = &doc.bundles;
    let any = bundles.iter().any(|b| b.outdated);
    if args.format == TextFormat::Json {
        print_json(term, &doc)?;
    } else if any {
        write!(term.out(), "{}", table(bundles))?;
    } else {
        let n = bundles.len();
        let what = match n {
            1 => "1 bundle: up to date".to_string(),
            n => format!("{n} bundles: all up to date"),
        };
        term.status("Checked", what)?;
    }
    Ok(if any && args.exit_code {
        Status::Refused
    } else {
        Status::Success
    })
}

/// The outdated bundles as aligned columns under a bold heading; like npm, a name is red
/// when an update within capm.toml's requirements is due, yellow when only a version
/// beyond them is.
fn table(bundles: &[OutdatedBundle]) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let heading = ["bundle", "current", "wanted", "latest", "source"].map(String::from);
    let mut rows = vec![(Style::new().bold(), heading)];
    for b in bundles.iter().filter(|b| b.outdated) {
        let how = if b.direct { "" } else { " (dependency)" };
        let due = b.current.is_none()
            || b.wanted
                .as_ref()
                .is_some_and(|w| b.current.as_ref() != Some(w));
        let color = if due {
            AnsiColor::Red
        } else {
            AnsiColor::Yellow
        };
        let cells = [
            b.name.clone(),
            b.current.clone().unwrap_or_else(|| "missing".into()),
            dash(&b.wanted),
            dash(&b.latest),
            format!("{}{how}", b.source),
        ];
        rows.push((Style::new().fg_color(Some(color.into())), cells));
    }
    let mut widths = [0; 5];
    for (_, row) in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (style, row) in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let line = line.join("  ");
        let (first, rest) = line.split_at(widths[0]);
        let _ = writeln!(out, "{style}{first}{style:#}{}", rest.trim_end());
    }
    out
}
