//! `capm outdated`: a table of the locked bundles that have newer versions, within
//! capm.toml's requirements (`wanted`) and beyond them (`latest`), like `npm outdated`.

use std::io::Write;
use std::path::Path;

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
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
}

const OUTDATED_SCHEMA: &str = "capm.outdated/v1";

/// What `capm outdated --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm outdated bundles (capm outdated --format json)")]
pub struct OutdatedDoc<'a> {
    /// Always `capm.outdated/v1`.
    #[schemars(extend("const" = OUTDATED_SCHEMA))]
    pub schema: &'static str,
    /// Every bundle capm.lock records, by name, outdated or not.
    pub bundles: &'a [OutdatedBundle],
}

pub fn outdated(
    args: OutdatedArgs,
    project_dir: Option<&Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    let root = project::find_root(project_dir).map_err(|e| project_error(e, term))?;
    let p = project::load(&root).map_err(|e| project_error(e, term))?;
    let bundles = crate::ops::outdated::outdated(&p).map_err(|e| match e {
        OutdatedError::NoLock => CliError::Refused {
            code: "no-lock",
            message: e.to_string(),
            details: Vec::new(),
            help: Some(
                "run `capm install` (or `capm lock`) to choose and record the versions".into(),
            ),
        },
        OutdatedError::Graph(g) => graph_error(g, term),
    })?;
    let any = bundles.iter().any(|b| b.outdated);
    if args.format == TextFormat::Json {
        print_json(
            term,
            &OutdatedDoc {
                schema: OUTDATED_SCHEMA,
                bundles: &bundles,
            },
        )?;
    } else if any {
        write!(term.out(), "{}", table(&bundles))?;
    } else {
        let n = bundles.len();
        let what = if n == 1 { "bundle is" } else { "bundles are" };
        term.status("Checked", format!("{n} {what} up to date"))?;
    }
    Ok(if any && args.exit_code {
        Status::Refused
    } else {
        Status::Success
    })
}

/// The outdated bundles as aligned columns under a heading.
fn table(bundles: &[OutdatedBundle]) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let mut rows = vec![[
        "bundle".to_string(),
        "current".into(),
        "wanted".into(),
        "latest".into(),
        "source".into(),
    ]];
    for b in bundles.iter().filter(|b| b.outdated) {
        let how = if b.direct { "" } else { " (dependency)" };
        rows.push([
            b.name.clone(),
            b.current.clone(),
            dash(&b.wanted),
            dash(&b.latest),
            format!("{}{how}", b.source),
        ]);
    }
    let mut widths = [0; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
