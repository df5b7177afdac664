//! `capm init`, `capm search` and `capm publish`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use schemars::JsonSchema;
use serde::Serialize;

use super::graph::{TextFormat, graph_error, project_error};
use super::{CliError, Status, Term, print_json, render};
use crate::graph::Sources;
use crate::manifest::common::ProductMode;
use crate::ops::project;
use crate::ops::publish::{PublishError, PublishOptions, Published};
use crate::ops::search::Hit;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to create capm.toml (created if missing); defaults to the current directory.
    dir: Option<PathBuf>,
    /// The product mode the project runs in.
    #[arg(long, value_parser = parse_mode, default_value = "desktop-local")]
    product_mode: ProductMode,
}

fn parse_mode(s: &str) -> Result<ProductMode, String> {
    use crate::manifest::common::Keyword;
    ProductMode::parse(s).ok_or_else(|| {
        let all: Vec<&str> = ProductMode::all().iter().map(|m| m.as_str()).collect();
        format!("expected one of: {}", all.join(", "))
    })
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to look for in names, descriptions and keywords.
    #[arg(required = true)]
    query: Vec<String>,
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The bundle directory to publish.
    bundle: PathBuf,
    /// The directory registry to publish into (created if missing).
    #[arg(long, value_name = "DIR")]
    registry: PathBuf,
}

const SEARCH_SCHEMA: &str = "capm.search/v1";

/// What `capm search TEXT --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm search results (capm search --format json)")]
pub struct SearchDoc<'a> {
    /// Always `capm.search/v1`.
    #[schemars(extend("const" = SEARCH_SCHEMA))]
    pub schema: &'static str,
    /// The words searched for, joined by spaces.
    pub query: &'a str,
    /// Best matches first: exact names, then names starting with the query, names
    /// containing it, keywords, descriptions.
    pub results: &'a [Hit],
}

pub fn init(
    args: InitArgs,
    project_dir: Option<&Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    let dir = args
        .dir
        .or_else(|| project_dir.map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    match crate::ops::init::init(&dir, args.product_mode) {
        Ok(path) => {
            term.status(
                "Created",
                path.display().to_string().trim_start_matches("./"),
            )?;
            Ok(Status::Success)
        }
        Err(_) if dir.exists() && !dir.is_dir() => Err(CliError::Usage {
            message: format!("`{}` is a file, not a directory", dir.display()),
            help: Some(
                "name the directory to create capm.toml in (it is created if missing)".into(),
            ),
        }),
        Err(crate::apply::WriteError::Exists(p)) => Err(CliError::Usage {
            message: format!("`{}` already exists", p.display()),
            help: Some("edit it, or `capm lint capm.toml` to check it".into()),
        }),
        Err(e) => Err(CliError::Other(e.to_string())),
    }
}

pub fn search(
    args: SearchArgs,
    project_dir: Option<&Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    // Outside a project only the catalog is searched.
    let sources = match project::find_root(project_dir) {
        Ok(root) => {
            let p = project::load(&root).map_err(|e| project_error(e, term))?;
            Sources::load(Some(&p.manifest), &p.root)
        }
        Err(project::ProjectError::NotFound(_)) if project_dir.is_none() => Sources::catalog_only(),
        Err(e) => return Err(project_error(e, term)),
    }
    .map_err(|e| graph_error(e, term))?;
    let query = args.query.join(" ");
    let hits = crate::ops::search::search(&sources, &query).map_err(|e| graph_error(e, term))?;
    if args.format == TextFormat::Json {
        print_json(
            term,
            &SearchDoc {
                schema: SEARCH_SCHEMA,
                query: &query,
                results: &hits,
            },
        )?;
        return Ok(Status::Success);
    }
    if hits.is_empty() {
        term.warn(format!("no bundle matches `{query}`"))?;
        return Ok(Status::Success);
    }
    let width = hits
        .iter()
        .map(|h| h.name.len() + h.version.len() + 1)
        .max()
        .unwrap_or(0);
    for h in &hits {
        let mut desc: String = h.description.chars().take(72).collect();
        if h.description.chars().count() > 72 {
            desc.push('…');
        }
        let src = if h.source == "catalog" {
            String::new()
        } else {
            format!("  ({})", h.source)
        };
        writeln!(
            term.out(),
            "{:<width$}  {desc}{src}",
            format!("{} {}", h.name, h.version)
        )?;
    }
    Ok(Status::Success)
}

pub fn publish(args: PublishArgs, term: &mut Term) -> Result<Status, CliError> {
    if !args.bundle.exists() {
        return Err(CliError::Missing {
            code: "path-not-found",
            message: format!("`{}` does not exist", args.bundle.display()),
            help: Some("pass the directory of the bundle to publish".into()),
        });
    }
    let quiet = term.quiet;
    let waiting = move |path: &Path| {
        if !quiet {
            anstream::eprintln!("    Blocking waiting for lock on {}", path.display());
        }
    };
    let opts = PublishOptions {
        bundle: args.bundle,
        registry: args.registry,
        lock_timeout: term.env.lock_timeout,
        waiting: &waiting,
    };
    match crate::ops::publish::publish(&opts) {
        Ok(Published::New {
            name,
            version,
            digest,
        }) => {
            term.status(
                "Published",
                format!("{name} {version} to {} ({digest})", opts.registry.display()),
            )?;
            Ok(Status::Success)
        }
        Ok(Published::Unchanged { name, version }) => {
            term.status(
                "Unchanged",
                format!("{name} {version} is already published with the same content"),
            )?;
            Ok(Status::Success)
        }
        Err(PublishError::Invalid {
            path,
            diagnostics,
            sources,
        }) => {
            for d in &diagnostics {
                let text = render::human(d, &sources, term.color);
                writeln!(term.err(), "{text}\n")?;
            }
            Err(CliError::Refused {
                code: "invalid-bundle",
                message: format!(
                    "`{path}` has {} error{}; nothing was published",
                    diagnostics.len(),
                    if diagnostics.len() == 1 { "" } else { "s" }
                ),
                details: Vec::new(),
                help: Some("`capm lint` on the bundle shows every problem".into()),
            })
        }
        Err(
            e @ (PublishError::VersionTaken { .. }
            | PublishError::Stray { .. }
            | PublishError::BadIndex { .. }),
        ) => Err(CliError::Refused {
            code: "publish-refused",
            message: e.to_string(),
            details: Vec::new(),
            help: None,
        }),
        Err(PublishError::Write(e @ crate::apply::WriteError::Locked { .. })) => {
            Err(CliError::Locked(e.to_string()))
        }
        Err(e) => Err(CliError::Other(e.to_string())),
    }
}
