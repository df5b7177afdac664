//! `capm lock`, `capm tree`, `capm why` and `capm graph`: resolve the project and show the
//! result.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use clap::{Args, ValueEnum};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use schemars::JsonSchema;
use serde::Serialize;

use super::{CliError, Status, Term, print_json, render};
use crate::graph::{Edge, GraphError, Node, Resolution};
use crate::ops::lock::{LockCommandError, LockOutcome};
use crate::ops::project::{self, Project, ProjectError, ResolveOptions, ResolveProjectError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// Fail (exit 1) instead of changing capm.lock.
    #[arg(long)]
    locked: bool,
    /// Output format: human for people, or json for one `capm.lock-result/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

#[derive(Debug, Args)]
pub struct TreeArgs {
    /// Also list the resources each bundle provides.
    #[arg(long)]
    resources: bool,
    /// Fail (exit 1) when resolution differs from capm.lock.
    #[arg(long)]
    locked: bool,
    /// Output format: human for people, or json for one `capm.tree/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// A bundle name, or a resource as KIND:NAME (e.g. `mcp:github`).
    target: String,
    /// Fail (exit 1) when resolution differs from capm.lock.
    #[arg(long)]
    locked: bool,
    /// Output format: human for people, or json for one `capm.why/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Json,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Output format: dot for Graphviz, or json for one `capm.graph/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
    /// Fail (exit 1) when resolution differs from capm.lock.
    #[arg(long)]
    locked: bool,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

const TREE_SCHEMA: &str = "capm.tree/v1";
const WHY_SCHEMA: &str = "capm.why/v1";
const GRAPH_SCHEMA: &str = "capm.graph/v1";

/// A resolved bundle.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BundleDoc {
    pub name: String,
    pub version: String,
    /// Where it comes from: `catalog`, `registry+NAME` or `path+DIR`.
    pub source: String,
}

/// A node of the resolved graph: a bundle, a resource, or the project itself.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum NodeDoc {
    Bundle(BundleDoc),
    Resource {
        /// The resource, as `KIND:NAME`.
        resource: String,
    },
    Project {
        /// Always `true`.
        #[schemars(extend("const" = true))]
        project: bool,
    },
}

impl NodeDoc {
    fn of(node: &Node) -> Self {
        match node {
            Node::Bundle {
                name,
                version,
                source,
            } => NodeDoc::Bundle(BundleDoc {
                name: name.clone(),
                version: version.to_string(),
                source: source.to_string(),
            }),
            Node::Resource { id } => NodeDoc::Resource {
                resource: id.clone(),
            },
            Node::Project => NodeDoc::Project { project: true },
        }
    }
}

/// What `capm tree --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm dependency tree (capm tree --format json)")]
pub struct TreeDoc {
    /// Always `capm.tree/v1`.
    #[schemars(extend("const" = TREE_SCHEMA))]
    pub schema: &'static str,
    /// The project's capm.toml.
    pub root: String,
    /// The project's direct dependencies.
    pub dependencies: Vec<TreeEntry>,
}

/// A bundle in the tree, under the project or the bundle that depends on it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TreeEntry {
    #[serde(flatten)]
    pub bundle: BundleDoc,
    /// The requirement as written by the dependent.
    pub req: String,
    pub optional: bool,
    /// With `--resources`: the resources the bundle provides, as `KIND:NAME`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<String>>,
    /// The bundle's own dependencies; absent when `repeated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<TreeEntry>>,
    /// Present, and `true`, when the bundle's dependencies are listed earlier in the tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("const" = true))]
    pub repeated: Option<bool>,
}

/// What `capm why TARGET --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm why (capm why TARGET --format json)")]
pub struct WhyDoc {
    /// Always `capm.why/v1`.
    #[schemars(extend("const" = WHY_SCHEMA))]
    pub schema: &'static str,
    /// The bundle name or `KIND:NAME` asked about.
    pub target: String,
    /// Every chain from the project to the target, each step after the project in order.
    pub chains: Vec<Vec<WhyStep>>,
    /// For a resource: the bundles of capm.toml whose `skip` lists it, so that a conflict
    /// there keeps the user's own version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_by: Vec<String>,
    /// For a resource: every place capm.lock records it in, with the clients it is there
    /// for; empty for a bundle, and for a resource not installed yet.
    pub locations: Vec<PlaceDoc>,
}

/// One step of a chain.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WhyStep {
    #[serde(flatten)]
    pub node: NodeDoc,
    /// For a bundle: the requirement by the step before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub req: Option<String>,
}

/// What `capm graph --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm resolved graph (capm graph --format json)")]
pub struct GraphDoc {
    /// Always `capm.graph/v1`.
    #[schemars(extend("const" = GRAPH_SCHEMA))]
    pub schema: &'static str,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

/// A node of the graph.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GraphNode {
    #[serde(flatten)]
    pub node: NodeDoc,
    /// The node's label, which edges refer to.
    pub id: String,
    pub kind: NodeKind,
}

#[derive(Clone, Copy, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Project,
    Bundle,
    Resource,
}

/// An edge of the graph, between node ids.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub kind: EdgeDoc,
}

/// What an edge means.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EdgeDoc {
    /// The project or a bundle depends on a bundle.
    DependsOn {
        /// The requirement as written.
        req: String,
        optional: bool,
    },
    /// A bundle provides a resource.
    Provides,
    /// A resource requires another resource.
    Requires,
}

/// Turns a project-loading failure into what the user sees.
pub(super) fn project_error(e: ProjectError, term: &mut Term) -> CliError {
    match e {
        ProjectError::NotFound(dir) if !dir.exists() => CliError::Missing {
            code: "path-not-found",
            message: format!("`{}` does not exist", dir.display()),
            help: Some("pass --project the directory holding capm.toml".into()),
        },
        ProjectError::NotFound(dir) => CliError::Missing {
            code: "no-project",
            message: format!(
                "no capm.toml in `{}` or any parent directory",
                dir.display()
            ),
            help: Some("run `capm init` to create one, or pass --project DIR".into()),
        },
        ProjectError::Invalid {
            diagnostics,
            sources,
        } => {
            render::print_refusal(term, &diagnostics, &sources);
            CliError::Refused {
                code: "invalid-project",
                message: "capm.toml has errors".into(),
                details: Vec::new(),
                help: Some("`capm lint capm.toml` shows every problem".into()),
            }
        }
        ProjectError::Lock { path, error, text } => {
            let message = match corrupt_lock_at(&error, text, term) {
                Some(at) => format!("`{}` is damaged {at}", path.display()),
                None => format!("`{}` cannot be read: {error}", path.display()),
            };
            CliError::Refused {
                code: "corrupt-lock",
                message,
                details: Vec::new(),
                help: Some(
                    "restore capm.lock from version control, or delete it and run `capm lock`"
                        .into(),
                ),
            }
        }
        ProjectError::Io { .. } => CliError::Other(e.to_string()),
    }
}

/// Where and how a damaged capm.lock goes wrong (`at line L, column C: …`), after showing
/// the place as lint would; `None` when the error has no place.
fn corrupt_lock_at(
    error: &crate::manifest::lock::LockError,
    source: Option<std::sync::Arc<crate::manifest::span::SourceFile>>,
    term: &mut Term,
) -> Option<String> {
    let (
        crate::manifest::lock::LockError::Malformed {
            message,
            span: Some(span),
        },
        Some(source),
    ) = (error, source)
    else {
        return None;
    };
    let span = crate::manifest::span::Span::new(span.start, span.end);
    let d = crate::diagnostic::Diagnostic::new("corrupt-lock", message.clone()).at(&source, span);
    let at = source.line_col(span.start);
    let mut sources = crate::diagnostic::Sources::default();
    sources.insert(source);
    let text = render::human(&d, &sources, term.color);
    let _ = writeln!(term.err(), "{text}\n");
    Some(format!(
        "at line {}, column {}: {message}",
        at.line, at.column
    ))
}

/// Turns a resolution failure into what the user sees.
pub(super) fn graph_error(e: GraphError, term: &mut Term) -> CliError {
    if crate::operation::is_cancellation(&e) {
        return CliError::Cancelled;
    }
    let e = match e {
        GraphError::Remote(r) => return CliError::Remote(r),
        e => e,
    };
    let code = e.code();
    let message = e.to_string();
    let mut details = Vec::new();
    let mut help = None;
    match &e {
        GraphError::Conflict {
            name,
            requirements,
            available,
        } => {
            for b in requirements {
                details.push(format!(
                    "{} requires {name} {}   ({})",
                    b.requirer,
                    b.req,
                    b.chain.join(" → ")
                ));
            }
            details.push(format!(
                "available versions of {name}: {}",
                available.join(", ")
            ));
            help = Some(
                "change one of these requirements so that a common version exists".to_string(),
            );
        }
        GraphError::NotFound {
            name,
            required_by,
            suggestion,
        } => {
            for b in required_by {
                details.push(format!(
                    "required by {} ({} {})",
                    b.chain.join(" → "),
                    name,
                    b.req
                ));
            }
            help = Some(match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => "no bundle has a similar name; a bundle from a registry needs the registry in capm.toml's [registries]".into(),
            });
        }
        GraphError::InvalidBundle {
            diagnostics,
            sources,
            ..
        } => {
            for d in diagnostics {
                let text = render::human(d, sources, term.color);
                let _ = writeln!(term.err(), "{text}\n");
            }
            help = Some("`capm lint` on the bundle shows every problem".into());
        }
        GraphError::Cycle(_) => help = Some("remove one of the dependencies on the cycle".into()),
        GraphError::DigestMismatch { by_lock, .. } => {
            help = Some(if *by_lock {
                "the bundle's content changed since capm.lock recorded it, and capm installs only what the lock records; review the change, and if you trust it, delete capm.lock and run `capm lock` to record it again".into()
            } else {
                "the registry's copy changed after it was published (its index.toml records another digest); restore it, or publish the change as a new version".into()
            })
        }
        GraphError::Io { .. } => return CliError::Other(message),
        // A path capm.toml names that does not exist: a missing path is exit 2 everywhere.
        GraphError::MissingSource { .. } => {
            return CliError::Missing {
                code,
                message,
                help: Some("fix the path in capm.toml, or create what it names".into()),
            };
        }
        _ => {}
    }
    CliError::Refused {
        code,
        message,
        details,
        help,
    }
}

pub(super) fn resolve_error(e: ResolveProjectError, term: &mut Term) -> CliError {
    match e {
        ResolveProjectError::Graph(g) => graph_error(g, term),
        ResolveProjectError::Stale { changes } => CliError::Refused {
            code: "lock-stale",
            message: "capm.lock needs to be updated, but --locked was given".into(),
            details: changes,
            help: Some("run `capm lock` and commit capm.lock".into()),
        },
    }
}

/// The project at or above `dir` (the working directory when `None`), loaded, with a
/// warning for each interrupted transaction waiting for recovery.
pub(super) fn load(dir: Option<&Path>, term: &mut Term) -> Result<Project, CliError> {
    let root = project::find_root(dir).map_err(|e| project_error(e, term))?;
    let p = project::load(&root).map_err(|e| project_error(e, term))?;
    warn_pending(&p, term)?;
    Ok(p)
}

/// Read-only commands never recover: they say what is waiting and what recovery will do.
pub(super) fn warn_pending(p: &Project, term: &mut Term) -> Result<(), CliError> {
    let scope = crate::ops::plan::scope_of(p, &term.env.opencode_config);
    let roots = crate::ops::apply::roots(p, &scope);
    for pending in crate::apply::txn::preview(&roots) {
        term.warn(crate::ops::plan::pending_message(&pending))?;
    }
    Ok(())
}

fn resolved(
    dir: Option<&Path>,
    locked: bool,
    term: &mut Term,
) -> Result<(Project, Resolution), CliError> {
    let p = load(dir, term)?;
    if locked {
        crate::remote::fetch_only_locked();
    }
    let (_, r) =
        project::resolve(&p, ResolveOptions { locked }).map_err(|e| resolve_error(e, term))?;
    Ok((p, r))
}

pub fn lock(args: LockArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    let p = load(dir, term)?;
    let options = ResolveOptions {
        locked: args.locked,
    };
    let changes = match crate::ops::lock::lock(&p, options) {
        Ok(LockOutcome::UpToDate) => None,
        Ok(LockOutcome::Written { changes }) => Some(changes),
        Err(LockCommandError::Resolve(e)) => return Err(resolve_error(e, term)),
        Err(LockCommandError::Write(e)) => return Err(CliError::Other(e.to_string())),
    };
    if args.format == TextFormat::Json {
        let doc = super::results::LockDoc {
            schema: "capm.lock-result/v1",
            lockfile: p
                .root
                .join(project::LOCK_FILE)
                .display()
                .to_string()
                .trim_start_matches("./")
                .into(),
            written: changes.is_some(),
            changes: changes.unwrap_or_default(),
        };
        print_json(term, &doc)?;
        return Ok(Status::Success);
    }
    match changes {
        None => term.status("Locked", "capm.lock is up to date")?,
        Some(changes) => {
            for c in &changes {
                term.status("Locking", c)?;
            }
        }
    }
    Ok(Status::Success)
}

fn bundle_label(node: &Node) -> String {
    match node {
        Node::Bundle {
            name,
            version,
            source,
        } => match source {
            crate::graph::SourceId::Catalog => format!("{name} {version}"),
            other => format!("{name} {version} ({other})"),
        },
        Node::Project => "project".into(),
        Node::Resource { id } => id.clone(),
    }
}

/// Children of a node along one kind of edge, in a stable order.
fn children(r: &Resolution, n: NodeIndex, provides: bool) -> Vec<(NodeIndex, Edge)> {
    let mut out: Vec<(NodeIndex, Edge)> = r
        .graph
        .edges(n)
        .filter(|e| {
            matches!(e.weight(), Edge::Provides) == provides
                && !matches!(e.weight(), Edge::Requires)
        })
        .map(|e| (e.target(), e.weight().clone()))
        .collect();
    out.sort_by_key(|(t, _)| bundle_label(&r.graph[*t]));
    out
}

pub fn tree(args: TreeArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    let (p, r) = resolved(dir, args.locked, term)?;
    let root = p.root.join(project::PROJECT_MANIFEST).display().to_string();
    let root = root.strip_prefix("./").unwrap_or(&root).to_string();
    if args.format == TextFormat::Json {
        let mut seen = BTreeSet::new();
        let dependencies = tree_json(&r, r.project, args.resources, &mut seen);
        print_json(
            term,
            &TreeDoc {
                schema: TREE_SCHEMA,
                root,
                dependencies,
            },
        )?;
        return Ok(Status::Success);
    }
    let mut out = format!("{root}\n");
    let mut seen = BTreeSet::new();
    tree_text(&r, r.project, "", args.resources, &mut seen, &mut out);
    write!(term.out(), "{out}")?;
    Ok(Status::Success)
}

fn tree_text(
    r: &Resolution,
    n: NodeIndex,
    prefix: &str,
    resources: bool,
    seen: &mut BTreeSet<NodeIndex>,
    out: &mut String,
) {
    let mut items: Vec<(NodeIndex, Option<Edge>)> = children(r, n, false)
        .into_iter()
        .map(|(t, e)| (t, Some(e)))
        .collect();
    if resources {
        items.extend(children(r, n, true).into_iter().map(|(t, _)| (t, None)));
    }
    let count = items.len();
    for (i, (child, edge)) in items.into_iter().enumerate() {
        let last = i + 1 == count;
        let (branch, indent) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let mut label = bundle_label(&r.graph[child]);
        if let Some(Edge::DependsOn { optional: true, .. }) = edge {
            label.push_str(" (optional)");
        }
        let hidden = !children(r, child, false).is_empty()
            || (resources && !children(r, child, true).is_empty());
        let repeated = edge.is_some() && !seen.insert(child) && hidden;
        if repeated {
            label.push_str(" (*)");
        }
        let _ = writeln!(out, "{prefix}{branch}{label}");
        if edge.is_some() && !repeated {
            tree_text(r, child, &format!("{prefix}{indent}"), resources, seen, out);
        }
    }
}

fn tree_json(
    r: &Resolution,
    n: NodeIndex,
    resources: bool,
    seen: &mut BTreeSet<NodeIndex>,
) -> Vec<TreeEntry> {
    // Edges other than provides and requires are depends-on edges, which lead to bundles.
    children(r, n, false)
        .into_iter()
        .filter_map(|(child, edge)| {
            let (NodeDoc::Bundle(bundle), Edge::DependsOn { req, optional }) =
                (NodeDoc::of(&r.graph[child]), edge)
            else {
                return None;
            };
            let provided = resources.then(|| {
                children(r, child, true)
                    .into_iter()
                    .map(|(t, _)| bundle_label(&r.graph[t]))
                    .collect()
            });
            let first = seen.insert(child);
            Some(TreeEntry {
                bundle,
                req,
                optional,
                resources: provided,
                dependencies: first.then(|| tree_json(r, child, resources, seen)),
                repeated: (!first).then_some(true),
            })
        })
        .collect()
}

pub fn why(args: WhyArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    let (p, r) = resolved(dir, args.locked, term)?;
    let skipped_by = p.manifest.skips().remove(&args.target).unwrap_or_default();
    let target = r.graph.node_indices().find(|&n| match &r.graph[n] {
        Node::Bundle { name, .. } => *name == args.target,
        Node::Resource { id } => *id == args.target,
        Node::Project => false,
    });
    let locations = match target.map(|n| &r.graph[n]) {
        Some(Node::Resource { id }) => places(&p, term, |e| e.id == *id),
        _ => Vec::new(),
    };
    let Some(target) = target else {
        let names: Vec<String> = r
            .graph
            .node_indices()
            .filter(|&n| !matches!(r.graph[n], Node::Project))
            .map(|n| match &r.graph[n] {
                Node::Bundle { name, .. } => name.clone(),
                other => bundle_label(other),
            })
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let list = "`capm tree --resources` lists every bundle and resource";
        return Err(CliError::Refused {
            code: "not-in-graph",
            message: format!("`{}` is not in the project's resolved graph", args.target),
            details: Vec::new(),
            help: Some(
                match crate::manifest::decode::suggest(&args.target, &names) {
                    Some(s) => format!("did you mean `{s}`? {list}"),
                    None => list.into(),
                },
            ),
        });
    };
    // Depends-on and provides edges only: requires edges are not how a thing gets installed.
    let filtered = r.graph.filter_map(
        |_, n| Some(n.clone()),
        |_, e| (!matches!(e, Edge::Requires)).then(|| e.clone()),
    );
    let mut chains: Vec<Vec<NodeIndex>> =
        petgraph::algo::all_simple_paths::<Vec<_>, _, std::hash::RandomState>(
            &filtered, r.project, target, 0, None,
        )
        .collect();
    chains.sort_by_key(|c| {
        c.iter()
            .map(|n| bundle_label(&r.graph[*n]))
            .collect::<Vec<_>>()
    });
    let step = |from: NodeIndex, to: NodeIndex| {
        let e = r
            .graph
            .edges_connecting(from, to)
            .next()
            .map(|e| e.weight().clone());
        match (&r.graph[to], e) {
            (Node::Bundle { name, version, .. }, Some(Edge::DependsOn { req, optional })) => {
                format!(
                    "{name} {req}{} ({version})",
                    if optional { " optional" } else { "" }
                )
            }
            (node, _) => bundle_label(node),
        }
    };
    if args.format == TextFormat::Json {
        let chains = chains
            .iter()
            .map(|c| {
                c.windows(2)
                    .map(|w| WhyStep {
                        node: NodeDoc::of(&r.graph[w[1]]),
                        req: r
                            .graph
                            .edges_connecting(w[0], w[1])
                            .find_map(|e| match e.weight() {
                                Edge::DependsOn { req, .. } => Some(req.clone()),
                                _ => None,
                            }),
                    })
                    .collect()
            })
            .collect();
        print_json(
            term,
            &WhyDoc {
                schema: WHY_SCHEMA,
                target: args.target,
                chains,
                skipped_by,
                locations,
            },
        )?;
        return Ok(Status::Success);
    }
    let mut out = String::new();
    if let Node::Resource { id } = &r.graph[target] {
        let providers: Vec<String> = r
            .graph
            .edges_directed(target, petgraph::Direction::Incoming)
            .filter(|e| matches!(e.weight(), Edge::Provides))
            .map(|e| bundle_label(&r.graph[e.source()]))
            .collect();
        let _ = writeln!(out, "{id} is provided by {}", providers.join(" and "));
        if locations.is_empty() {
            let _ = writeln!(
                out,
                "{id} is not installed: capm.lock records no place for it (`capm install` installs it)"
            );
        } else {
            let _ = writeln!(out, "{id} is installed in:");
            let widths = (0, place_widths(locations.iter()).1);
            out.push_str(&place_lines(&locations, "  ", widths));
        }
    }
    if !skipped_by.is_empty() {
        let _ = writeln!(
            out,
            "capm.toml skips {} (in the `skip` of {}): where you have your own, yours is kept",
            args.target,
            skipped_by.join(" and ")
        );
    }
    for c in &chains {
        let steps: Vec<String> = c.windows(2).map(|w| step(w[0], w[1])).collect();
        let _ = writeln!(out, "project → {}", steps.join(" → "));
    }
    write!(term.out(), "{out}")?;
    Ok(Status::Success)
}

pub fn graph(args: GraphArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    let (_, r) = resolved(dir, args.locked, term)?;
    let id = |n: NodeIndex| bundle_label(&r.graph[n]);
    let mut edges: Vec<(String, String, &Edge)> = r
        .graph
        .edge_references()
        .map(|e| (id(e.source()), id(e.target()), e.weight()))
        .collect();
    edges.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut nodes: Vec<NodeIndex> = r.graph.node_indices().collect();
    nodes.sort_by_key(|n| id(*n));
    if args.format == GraphFormat::Json {
        let nodes = nodes
            .iter()
            .map(|n| GraphNode {
                node: NodeDoc::of(&r.graph[*n]),
                id: id(*n),
                kind: match &r.graph[*n] {
                    Node::Project => NodeKind::Project,
                    Node::Bundle { .. } => NodeKind::Bundle,
                    Node::Resource { .. } => NodeKind::Resource,
                },
            })
            .collect();
        let edges = edges
            .iter()
            .map(|(from, to, e)| GraphEdge {
                from: from.clone(),
                to: to.clone(),
                kind: match e {
                    Edge::DependsOn { req, optional } => EdgeDoc::DependsOn {
                        req: req.clone(),
                        optional: *optional,
                    },
                    Edge::Provides => EdgeDoc::Provides,
                    Edge::Requires => EdgeDoc::Requires,
                },
            })
            .collect();
        print_json(
            term,
            &GraphDoc {
                schema: GRAPH_SCHEMA,
                nodes,
                edges,
            },
        )?;
        return Ok(Status::Success);
    }
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::from("digraph capm {\n  rankdir=LR;\n");
    for n in &nodes {
        let shape = match &r.graph[*n] {
            Node::Project => "doublecircle",
            Node::Bundle { .. } => "box",
            Node::Resource { .. } => "ellipse",
        };
        let _ = writeln!(out, "  {} [shape={shape}];", q(&id(*n)));
    }
    for (from, to, e) in &edges {
        let attrs = match e {
            Edge::DependsOn { req, optional } => format!(
                "label={}{}",
                q(req),
                if *optional { ", style=dotted" } else { "" }
            ),
            Edge::Provides => "style=dashed".to_string(),
            Edge::Requires => "label=\"requires\", color=gray".to_string(),
        };
        let _ = writeln!(out, "  {} -> {} [{attrs}];", q(from), q(to));
    }
    out.push_str("}\n");
    write!(term.out(), "{out}")?;
    Ok(Status::Success)
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format: human for people, or json for one `capm.list/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

/// One installed bundle, as `capm list` shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ListedBundle {
    pub name: String,
    pub version: String,
    /// `catalog`, `path+DIR` or `registry+NAME`.
    pub source: String,
    /// Asked for in capm.toml (otherwise installed as a dependency).
    pub requested: bool,
    /// The resources capm.lock records for it (`KIND:NAME`), each once.
    pub resources: Vec<String>,
    /// Every place capm.lock records its resources in, with the clients each is there for:
    /// a resource installed for three clients in three files has three.
    pub locations: Vec<PlaceDoc>,
}

/// A place of a resource that capm.lock records, with its clients.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlaceDoc {
    /// `KIND:NAME`.
    pub resource: String,
    pub bundle: String,
    #[serde(flatten)]
    pub place: crate::ops::doctor::Placed,
}

/// The places capm.lock records for the resources `pick` chooses, with their clients.
fn places(
    p: &Project,
    term: &Term,
    pick: impl Fn(&crate::manifest::lock::LockedResource) -> bool,
) -> Vec<PlaceDoc> {
    let scope = crate::ops::plan::scope_of(p, &term.env.opencode_config);
    let targets = crate::target::set::Targets::new(&p.manifest.targets(), &scope);
    p.lock
        .iter()
        .flat_map(|l| &l.resources)
        .filter(|r| pick(r))
        .map(|r| PlaceDoc {
            resource: r.id.clone(),
            bundle: r.bundle.clone(),
            place: crate::ops::doctor::Placed::of(r, &targets, &scope),
        })
        .collect()
}

/// The clients of a place as people read them: `(claude-code, copilot)`.
pub(super) fn clients_text(clients: &[String]) -> String {
    if clients.is_empty() {
        "(no client in `targets`)".to_string()
    } else {
        format!("({})", clients.join(", "))
    }
}

/// The widths of the id and place columns that align `places`.
fn place_widths<'a>(places: impl Iterator<Item = &'a PlaceDoc>) -> (usize, usize) {
    places.fold((0, 0), |(idw, pw), l| {
        (idw.max(l.resource.len()), pw.max(l.place.text().len()))
    })
}

/// Lines of `places`, each `ID  PLACE  (CLIENTS)` with `indent` before it, the id written
/// once per resource (none when `idw` is 0), in columns `widths` wide.
fn place_lines(places: &[PlaceDoc], indent: &str, (idw, pw): (usize, usize)) -> String {
    let mut out = String::new();
    for (i, l) in places.iter().enumerate() {
        let place = l.place.text();
        let id = match idw {
            0 => String::new(),
            _ if i > 0 && places[i - 1].resource == l.resource => format!("{:idw$}  ", ""),
            _ => format!("{:idw$}  ", l.resource),
        };
        let clients = clients_text(&l.place.clients);
        let _ = writeln!(out, "{indent}{id}{place:<pw$}  {clients}");
    }
    out
}

/// What `capm list --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm installed bundles (capm list --format json)")]
pub struct ListDoc {
    /// Always `capm.list/v1`.
    #[schemars(extend("const" = "capm.list/v1"))]
    pub schema: &'static str,
    /// The clients the project installs into (capm.toml's `targets`), in its order.
    pub targets: Vec<String>,
    pub bundles: Vec<ListedBundle>,
}

/// The `capm.list/v1` document of `p`: the bundles capm.lock records as installed, with
/// their resources and the places they are in.
pub(super) fn list_doc(p: &Project, term: &Term) -> ListDoc {
    let lock = p.lock.clone().unwrap_or_default();
    let bundles: Vec<ListedBundle> = lock
        .bundles
        .iter()
        .map(|b| {
            let mut locations = places(p, term, |r| r.bundle == b.name);
            // Each resource's places together, in capm.lock's order of resources.
            let mut resources: Vec<String> = Vec::new();
            for l in &locations {
                if !resources.contains(&l.resource) {
                    resources.push(l.resource.clone());
                }
            }
            locations.sort_by_key(|l| resources.iter().position(|r| *r == l.resource));
            ListedBundle {
                name: b.name.clone(),
                version: b.version.clone(),
                source: b.source.clone(),
                requested: p.manifest.bundles.keys().any(|k| k.value == b.name),
                resources,
                locations,
            }
        })
        .collect();
    ListDoc {
        schema: "capm.list/v1",
        targets: p.manifest.targets().iter().map(|t| t.to_string()).collect(),
        bundles,
    }
}

/// `capm list`: the bundles capm.lock records as installed, with their resources.
pub fn list(args: ListArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    let p = load(dir, term)?;
    let doc = list_doc(&p, term);
    if args.format == TextFormat::Json {
        print_json(term, &doc)?;
        return Ok(Status::Success);
    }
    let bundles = doc.bundles;
    if bundles.is_empty() {
        term.status("Listed", "no bundles installed (capm.lock records none)")?;
        return Ok(Status::Success);
    }
    let width = bundles.iter().map(|b| b.name.len()).max().unwrap_or(0);
    let widths = place_widths(bundles.iter().flat_map(|b| &b.locations));
    let indent = format!("{:width$}    ", "");
    let out = term.out();
    for b in &bundles {
        let how = if b.requested { "" } else { " (dependency)" };
        writeln!(
            out,
            "{:<width$}  {:<10} {}{how}",
            b.name, b.version, b.source
        )?;
        write!(out, "{}", place_lines(&b.locations, &indent, widths))?;
    }
    Ok(Status::Success)
}
