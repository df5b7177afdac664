//! `capm init`, `capm search`, `capm publish` and `capm yank`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use schemars::JsonSchema;
use serde::Serialize;

use super::graph::{TextFormat, graph_error, project_error};
use super::results::{YankDoc, YankOutcome};
use super::{CliError, Status, Term, print_json, render};
use crate::graph::Sources;
use crate::manifest::common::{ProductMode, Target, Tier};
use crate::ops::project;
use crate::ops::publish::{PublishError, PublishOptions, Published};
use crate::ops::search::Hit;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to create capm.toml (created if missing); defaults to the current directory.
    dir: Option<PathBuf>,
    /// Output format: human for people, or json for one `capm.init/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    /// The product mode the project runs in.
    #[arg(long, value_parser = mode_parser(), default_value = "desktop-local")]
    product_mode: ProductMode,
    /// A client to install into (repeat it, or separate with commas, for several);
    /// OpenCode when none is given.
    #[arg(long = "target", value_name = "CLIENT", value_delimiter = ',', value_parser = keyword_parser::<Target>())]
    targets: Vec<Target>,
}

/// The product modes as clap's possible values, so `--help`, completions and the error for
/// a wrong one list them.
fn mode_parser() -> impl clap::builder::TypedValueParser<Value = ProductMode> {
    keyword_parser::<ProductMode>()
}

/// A keyword enum's spellings as clap's possible values.
fn keyword_parser<K: crate::manifest::common::Keyword + Clone + Send + Sync + 'static>()
-> impl clap::builder::TypedValueParser<Value = K> {
    use clap::builder::TypedValueParser;
    let names = K::all().iter().map(|m| m.as_str());
    clap::builder::PossibleValuesParser::new(names)
        .map(|s: String| K::parse(&s).expect("a possible value is a keyword"))
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to look for in names, descriptions and keywords; none lists every bundle.
    query: Vec<String>,
    /// Output format: human for people, or json for one `capm.search/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The bundle directory to publish.
    bundle: PathBuf,
    /// The directory registry to publish into (created if missing): a new one gets the
    /// static layout that can be served over HTTP as it is.
    #[arg(long, value_name = "DIR", required_unless_present = "oci")]
    registry: Option<PathBuf>,
    /// Push to an OCI registry instead, as HOST/REPOSITORY (tagged with the version).
    #[arg(long, value_name = "REF", conflicts_with = "registry")]
    oci: Option<String>,
    /// Output format: human for people, or json for one `capm.publish/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
}

#[derive(Debug, Args)]
pub struct YankArgs {
    /// The published version, as NAME@VERSION.
    #[arg(value_name = "NAME@VERSION", value_parser = name_at_version)]
    version: (String, semver::Version),
    /// The registry directory (one with config.json, as `capm publish` writes it).
    #[arg(long, value_name = "DIR")]
    registry: PathBuf,
    /// Unyank: let resolution pick the version again.
    #[arg(long)]
    undo: bool,
    /// Output format: human for people, or json for one `capm.yank/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
}

fn name_at_version(spec: &str) -> Result<(String, semver::Version), String> {
    let (name, version) = spec
        .split_once('@')
        .ok_or_else(|| format!("`{spec}` is not NAME@VERSION"))?;
    if !crate::manifest::common::is_valid_name(name) {
        return Err(format!("`{name}` is not a bundle name"));
    }
    let version = semver::Version::parse(version).map_err(|e| format!("`{version}`: {e}"))?;
    Ok((name.to_string(), version))
}

const SEARCH_SCHEMA: &str = "capm.search/v1";

/// What `capm search TEXT --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm search results (capm search --format json)")]
pub struct SearchDoc {
    /// Always `capm.search/v1`.
    #[schemars(extend("const" = SEARCH_SCHEMA))]
    pub schema: &'static str,
    /// The words searched for, joined by spaces; empty when every bundle is listed.
    pub query: String,
    /// Best matches first: exact names, then names starting with the query, names
    /// containing it, keywords, descriptions.
    pub results: Vec<Hit>,
}

pub fn init(args: InitArgs, term: &mut Term) -> Result<Status, CliError> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    // Each client once, in the order given.
    let mut targets: Vec<Target> = Vec::new();
    for t in &args.targets {
        if !targets.contains(t) {
            targets.push(*t);
        }
    }
    match crate::ops::init::init(&dir, args.product_mode, &targets) {
        Ok(path) => {
            let shown = path.display().to_string();
            let shown = shown.trim_start_matches("./");
            if args.format == TextFormat::Json {
                let doc = super::results::InitDoc {
                    schema: "capm.init/v1",
                    manifest: shown.to_string(),
                    product_mode: args.product_mode.to_string(),
                };
                print_json(term, &doc)?;
            } else {
                term.status("Created", shown)?;
            }
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

/// The sources to look bundles up in: the project's (with its lock, when there is one),
/// or the catalog alone outside a project. A registry that cannot be read is a warning.
pub(super) fn lookup_sources(
    project_dir: Option<&Path>,
    term: &mut Term,
) -> Result<(Sources, Option<project::Project>), CliError> {
    let p = match project::find_root(project_dir) {
        Ok(root) => Some(project::load(&root).map_err(|e| project_error(e, term))?),
        Err(project::ProjectError::NotFound(_)) if project_dir.is_none() => None,
        Err(e) => return Err(project_error(e, term)),
    };
    Ok((sources_of(p.as_ref(), term)?, p))
}

/// The sources of project `p` (the catalog and its registries), or the catalog alone
/// without one; each registry that cannot be read is a warning.
pub(super) fn sources_of(
    p: Option<&project::Project>,
    term: &mut Term,
) -> Result<Sources, CliError> {
    let loaded = match p {
        Some(p) => Sources::load_tolerant(Some(&p.manifest), &p.root),
        None => Sources::load_tolerant(None, Path::new(".")),
    };
    let (sources, unreachable) = loaded.map_err(|e| graph_error(e, term))?;
    for u in &unreachable {
        term.warn(u.to_string())?;
    }
    Ok(sources)
}

/// The `capm.search/v1` document of `query` over `sources`, best matches first; what
/// could not be searched is a warning.
pub(super) fn search_doc(
    sources: &mut Sources,
    query: String,
    term: &mut Term,
) -> Result<SearchDoc, CliError> {
    for u in sources.list_remote().map_err(|e| graph_error(e, term))? {
        term.warn(u.to_string())?;
    }
    let found = crate::ops::search::search(sources, &query).map_err(|e| graph_error(e, term))?;
    for w in &found.warnings {
        term.warn(w)?;
    }
    Ok(SearchDoc {
        schema: SEARCH_SCHEMA,
        query,
        results: found.hits,
    })
}

pub fn search(
    args: SearchArgs,
    project_dir: Option<&Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    let (mut sources, _) = lookup_sources(project_dir, term)?;
    let doc = search_doc(&mut sources, args.query.join(" "), term)?;
    if args.format == TextFormat::Json {
        print_json(term, &doc)?;
        return Ok(Status::Success);
    }
    let (query, hits) = (doc.query, doc.results);
    if hits.is_empty() {
        term.warn(if query.is_empty() {
            "no bundles in the catalog or the project's registries".to_string()
        } else {
            format!("no bundle matches `{query}`")
        })?;
        return Ok(Status::Success);
    }
    let width = hits
        .iter()
        .map(|h| h.name.len() + h.version.len() + 1)
        .max()
        .unwrap_or(0);
    let modes: Vec<String> = hits.iter().map(|h| modes_text(&h.modes)).collect();
    let mode_width = modes.iter().map(|m| m.chars().count()).max().unwrap_or(0);
    for (h, modes) in hits.iter().zip(&modes) {
        let mut desc: String = h.description.chars().take(72).collect();
        if h.description.chars().count() > 72 {
            desc.push('…');
        }
        let src = if h.source == "catalog" {
            String::new()
        } else {
            format!("  ({})", h.source)
        };
        let line = format!(
            "{:<width$}  {modes:<mode_width$}  {desc}{src}",
            format!("{} {}", h.name, h.version)
        );
        writeln!(term.out(), "{}", line.trim_end())?;
    }
    Ok(Status::Success)
}

/// The modes a bundle can be installed in, as `desktop-local, cloud-web (experimental)`;
/// `no mode` when it declares none it supports.
pub(super) fn modes_text(modes: &std::collections::BTreeMap<ProductMode, Tier>) -> String {
    let usable: Vec<String> = modes
        .iter()
        .filter_map(|(m, t)| match t {
            Tier::Supported => Some(m.to_string()),
            Tier::Experimental => Some(format!("{m} (experimental)")),
            Tier::Blocked | Tier::Unsupported => None,
        })
        .collect();
    if usable.is_empty() {
        "no mode".into()
    } else {
        usable.join(", ")
    }
}

/// Tells once, unless quiet, that the registry's lock is held by another capm.
fn lock_waiting(term: &Term) -> impl Fn(&Path) + use<> {
    let quiet = term.quiet;
    move |path: &Path| {
        if !quiet {
            anstream::eprintln!("    Blocking waiting for lock on {}", path.display());
        }
    }
}

pub fn publish(args: PublishArgs, term: &mut Term) -> Result<Status, CliError> {
    if !args.bundle.exists() {
        return Err(CliError::Missing {
            code: "path-not-found",
            message: format!("`{}` does not exist", args.bundle.display()),
            help: Some("pass the directory of the bundle to publish".into()),
        });
    }
    let (registry, oci) = (args.registry.clone(), args.oci.clone());
    let Some(registry) = registry else {
        let oci = oci.expect("clap requires --registry or --oci");
        return publish_oci(args.bundle, oci, args.format, term);
    };
    let waiting = lock_waiting(term);
    let opts = PublishOptions {
        bundle: args.bundle,
        registry,
        lock_timeout: term.env.lock_timeout,
        waiting: &waiting,
    };
    match crate::ops::publish::publish(&opts) {
        Ok(published) if args.format == TextFormat::Json => {
            print_json(term, &publish_doc(published, &opts.registry))?;
            Ok(Status::Success)
        }
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
        Ok(Published::Unchanged { name, version }) => unchanged(term, &name, &version),
        Err(e) => publish_refusal(e, term),
    }
}

/// Why a bundle was not published (lint errors, a taken version, the registry).
fn publish_refusal(e: PublishError, term: &mut Term) -> Result<Status, CliError> {
    match e {
        PublishError::Invalid {
            path,
            diagnostics,
            sources,
        } => {
            render::print_refusal(term, &diagnostics, &sources);
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
        e => Err(registry_error(e)),
    }
}

/// How a registry refused a publish or a yank.
fn registry_error(e: PublishError) -> CliError {
    let refused = |code, e: PublishError| CliError::Refused {
        code,
        message: e.to_string(),
        details: Vec::new(),
        help: None,
    };
    match e {
        e @ (PublishError::VersionTaken { .. }
        | PublishError::Stray { .. }
        | PublishError::ArchivesElsewhere { .. }) => refused("publish-refused", e),
        e @ (PublishError::BadIndex { .. } | PublishError::NotARegistry { .. }) => {
            refused("invalid-registry", e)
        }
        e @ PublishError::NotPublished { .. } => refused("version-not-found", e),
        PublishError::Write(e @ crate::apply::WriteError::Locked { .. }) => {
            CliError::Locked(e.to_string())
        }
        e => CliError::Other(e.to_string()),
    }
}

fn publish_doc(published: Published, registry: &Path) -> super::results::PublishDoc {
    use super::results::{PublishDoc, PublishOutcome};
    let (outcome, name, version, digest) = match published {
        Published::New {
            name,
            version,
            digest,
        } => (PublishOutcome::Published, name, version, Some(digest)),
        Published::Unchanged { name, version } => (PublishOutcome::Unchanged, name, version, None),
    };
    PublishDoc {
        schema: "capm.publish/v1",
        outcome,
        name,
        version,
        registry: registry.display().to_string(),
        digest,
        manifest: None,
    }
}

/// `capm publish DIR --oci HOST/REPO`.
fn publish_oci(
    bundle: PathBuf,
    repository: String,
    format: TextFormat,
    term: &mut Term,
) -> Result<Status, CliError> {
    use crate::ops::publish_oci::{OciPublishError, OciPublishOptions};
    use crate::remote::oci::Pushed;
    let net = crate::remote::Net::new(term.env.cache_dir.clone());
    let opts = OciPublishOptions {
        bundle,
        repository,
        net: &net,
    };
    let pushed = match crate::ops::publish_oci::publish_oci(&opts) {
        Ok(p) => p,
        Err(OciPublishError::Remote(e)) => return Err(CliError::Remote(e)),
        Err(OciPublishError::Lint(e)) => return publish_refusal(e, term),
    };
    if format == TextFormat::Json {
        print_json(term, &oci_publish_doc(pushed))?;
        return Ok(Status::Success);
    }
    match pushed {
        Pushed::New {
            name,
            version,
            reference,
            manifest,
            ..
        } => term.status(
            "Published",
            format!("{name} {version} to {reference} ({manifest})"),
        )?,
        Pushed::Unchanged { name, version, .. } => return unchanged(term, &name, &version),
    }
    Ok(Status::Success)
}

fn unchanged(term: &mut Term, name: &str, version: &str) -> Result<Status, CliError> {
    term.status(
        "Unchanged",
        format!("{name} {version} is already published with the same content"),
    )?;
    Ok(Status::Success)
}

fn oci_publish_doc(pushed: crate::remote::oci::Pushed) -> super::results::PublishDoc {
    use super::results::{PublishDoc, PublishOutcome};
    use crate::remote::oci::Pushed;
    let (outcome, name, version, reference, digest, manifest) = match pushed {
        Pushed::New {
            name,
            version,
            reference,
            manifest,
            digest,
        } => (
            PublishOutcome::Published,
            name,
            version,
            reference,
            Some(digest),
            Some(manifest),
        ),
        Pushed::Unchanged {
            name,
            version,
            reference,
        } => (
            PublishOutcome::Unchanged,
            name,
            version,
            reference,
            None,
            None,
        ),
    };
    PublishDoc {
        schema: "capm.publish/v1",
        outcome,
        name,
        version,
        registry: reference,
        digest,
        manifest,
    }
}

pub fn yank(args: YankArgs, term: &mut Term) -> Result<Status, CliError> {
    if !args.registry.is_dir() {
        return Err(CliError::Missing {
            code: "path-not-found",
            message: format!("`{}` is not a directory", args.registry.display()),
            help: Some("pass the registry directory `capm publish` writes into".into()),
        });
    }
    let waiting = lock_waiting(term);
    let (name, version) = args.version;
    let opts = crate::ops::yank::YankOptions {
        name,
        version,
        registry: args.registry,
        undo: args.undo,
        lock_timeout: term.env.lock_timeout,
        waiting: &waiting,
    };
    let done = crate::ops::yank::yank(&opts).map_err(registry_error)?;
    let outcome = match (done.changed, done.yanked) {
        (false, _) => YankOutcome::Unchanged,
        (true, true) => YankOutcome::Yanked,
        (true, false) => YankOutcome::Unyanked,
    };
    let shown = format!("{} {}", opts.name, opts.version);
    if args.format == TextFormat::Json {
        let doc = YankDoc {
            schema: "capm.yank/v1",
            outcome,
            name: opts.name.clone(),
            version: opts.version.to_string(),
            yanked: done.yanked,
            registry: opts.registry.display().to_string(),
        };
        print_json(term, &doc)?;
    } else {
        match outcome {
            YankOutcome::Yanked => term.status("Yanked", shown)?,
            YankOutcome::Unyanked => term.status("Unyanked", shown)?,
            YankOutcome::Unchanged => term.status(
                "Unchanged",
                format!(
                    "{shown} is already {}",
                    if done.yanked { "yanked" } else { "not yanked" }
                ),
            )?,
        }
    }
    Ok(Status::Success)
}
