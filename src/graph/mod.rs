//! The dependency graph: sources of bundles, version resolution, and the resolved graph of
//! bundles and the resources they provide and require (petgraph). Nothing here writes or
//! prints; reading is limited to the sources the project declares.

pub mod index;
pub mod resolve;
pub mod source;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use semver::{Version, VersionReq};

use crate::diagnostic::Diagnostic;
use crate::manifest::bundle::BundleManifest;
use crate::manifest::lock::{LockedBundle, Lockfile};
use crate::manifest::project::{BundleRequest, ProjectManifest};
use crate::manifest::tree::BundleTree;
pub use resolve::{Blame, Request};
pub use source::{Candidate, SourceId, Sources, Unreachable};

/// Why a graph could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("no version of `{name}` satisfies every requirement")]
    Conflict {
        name: String,
        requirements: Vec<Blame>,
        available: Vec<String>,
    },
    #[error("no bundle named `{name}` in the catalog or the project's registries")]
    NotFound {
        name: String,
        required_by: Vec<Blame>,
        /// The closest name the sources do have, when one is close enough to be a typo.
        suggestion: Option<String>,
    },
    #[error("the dependencies form a cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    #[error("`{name}` is published by several registries ({}); choose one with `registry = \"…\"` in capm.toml", .sources.join(", "))]
    AmbiguousSource { name: String, sources: Vec<String> },
    #[error("`{path}` is not a valid bundle ({} error{})", .diagnostics.len(), if .diagnostics.len() == 1 { "" } else { "s" })]
    InvalidBundle {
        path: String,
        diagnostics: Vec<Diagnostic>,
        /// The files the diagnostics point into, to show the offending lines.
        sources: crate::diagnostic::Sources,
    },
    #[error("capm.toml asks for `{requested}` at `{path}`, but the bundle there is `{found}`")]
    NameMismatch {
        requested: String,
        found: String,
        path: String,
    },
    #[error(
        "{bundle} from {source_id} does not match its digest: expected {expected}, found {actual}"
    )]
    DigestMismatch {
        bundle: String,
        source_id: String,
        expected: String,
        actual: String,
        /// Whether capm.lock recorded the expected digest (otherwise the registry's index).
        by_lock: bool,
    },
    #[error("`{resource}`, required by {required_by}, is provided by no bundle in the graph")]
    MissingResource {
        resource: String,
        required_by: String,
    },
    #[error("`{resource}` is provided by both {first} and {second}, with different content")]
    Collision {
        resource: String,
        first: String,
        second: String,
    },
    #[error("{what} is expected at `{path}`, but nothing is there")]
    MissingSource { what: String, path: PathBuf },
    #[error("registry index `{path}` is not valid: {message}")]
    BadIndex { path: PathBuf, message: String },
    #[error(transparent)]
    Remote(#[from] crate::remote::RemoteError),
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl GraphError {
    /// The stable code of the error, for JSON output and `capm explain`.
    pub fn code(&self) -> &'static str {
        match self {
            GraphError::Conflict { .. } => "resolution-conflict",
            GraphError::NotFound { .. } => "bundle-not-found",
            GraphError::Cycle(_) => "dependency-cycle",
            GraphError::AmbiguousSource { .. } => "ambiguous-source",
            GraphError::InvalidBundle { .. } => "invalid-bundle",
            GraphError::NameMismatch { .. } => "invalid-bundle-source",
            GraphError::DigestMismatch { .. } => "SC-002",
            GraphError::MissingResource { .. } => "missing-required-resource",
            GraphError::Collision { .. } => "NAME-001",
            GraphError::BadIndex { .. } => "invalid-registry",
            GraphError::MissingSource { .. } => "path-not-found",
            GraphError::Remote(e) => e.code(),
            GraphError::Io { .. } => "io-error",
        }
    }

    /// Whether the error is about the user's input (exit 1) rather than the machine (exit 2).
    pub fn is_refusal(&self) -> bool {
        match self {
            GraphError::Remote(e) => e.is_refusal(),
            _ => !matches!(
                self,
                GraphError::Io { .. } | GraphError::MissingSource { .. }
            ),
        }
    }
}

/// A node of the resolved graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Project,
    Bundle {
        name: String,
        version: Version,
        source: SourceId,
    },
    Resource {
        id: String,
    },
}

/// An edge of the resolved graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edge {
    /// Bundle (or project) on bundle, with the requirement as written.
    DependsOn { req: String, optional: bool },
    /// Bundle to the resources it provides.
    Provides,
    /// Resource to the resources it needs.
    Requires,
}

/// One chosen bundle, with its files read and checked against its digest.
#[derive(Debug)]
pub struct ResolvedBundle {
    pub name: String,
    pub version: Version,
    pub source: SourceId,
    pub digest: String,
    /// How a remote bundle was fetched, as capm.lock pins it.
    pub fetch: Option<crate::remote::Fetch>,
    pub tree: BundleTree,
    pub manifest: BundleManifest,
    /// Names of the bundles it depends on that are in the graph.
    pub dependencies: Vec<String>,
}

/// The outcome of resolution.
#[derive(Debug)]
pub struct Resolution {
    /// In install order: every bundle after its dependencies.
    pub bundles: Vec<ResolvedBundle>,
    pub graph: DiGraph<Node, Edge>,
    pub project: NodeIndex,
}

/// What the project asks for, from its capm.toml.
pub fn requests(project: &ProjectManifest) -> Result<Vec<Request>, GraphError> {
    let mut out = Vec::new();
    for (name, r) in &project.bundles {
        let text = match r {
            BundleRequest::Requirement(v) => Some(v.value.as_str()),
            BundleRequest::Detailed { version, .. } => version.as_ref().map(|v| v.value.as_str()),
        };
        let req = match text {
            Some(t) => VersionReq::parse(t).map_err(|e| GraphError::InvalidBundle {
                path: "capm.toml".into(),
                diagnostics: vec![Diagnostic::new(
                    "invalid-version-req",
                    format!("`{name} = \"{t}\"`: {e}"),
                )],
                sources: Default::default(),
            })?,
            None => VersionReq::STAR,
        };
        out.push(Request {
            name: name.value.clone(),
            req,
        });
    }
    Ok(out)
}

/// The versions a lock records, to prefer them while they still satisfy the requirements.
pub fn locked_versions(lock: Option<&Lockfile>) -> BTreeMap<String, Version> {
    lock.into_iter()
        .flat_map(|l| &l.bundles)
        .filter_map(|b| Some((b.name.clone(), Version::parse(&b.version).ok()?)))
        .collect()
}

/// Resolves the requests and builds the graph of bundles and resources.
pub fn build(
    sources: &Sources,
    requests: &[Request],
    lock: Option<&Lockfile>,
) -> Result<Resolution, GraphError> {
    let locked = locked_versions(lock);
    let solution = resolve::resolve(sources, requests, &locked)?;
    let mut graph = DiGraph::new();
    let project = graph.add_node(Node::Project);
    let mut index: BTreeMap<&str, NodeIndex> = BTreeMap::new();
    for (name, c) in &solution {
        let n = graph.add_node(Node::Bundle {
            name: name.clone(),
            version: c.version.clone(),
            source: c.source.clone(),
        });
        index.insert(name, n);
    }
    for r in requests {
        graph.add_edge(
            project,
            index[r.name.as_str()],
            Edge::DependsOn {
                req: r.req.to_string(),
                optional: false,
            },
        );
    }
    for (name, c) in &solution {
        for d in &c.deps {
            if let Some(&to) = index.get(d.name.as_str()) {
                graph.add_edge(
                    index[name.as_str()],
                    to,
                    Edge::DependsOn {
                        req: d.req.to_string(),
                        optional: d.optional,
                    },
                );
            }
        }
    }
    let order = match petgraph::algo::toposort(&graph, None) {
        Ok(order) => order,
        Err(_) => return Err(GraphError::Cycle(find_cycle(&graph))),
    };
    // Dependencies first: the reverse of the topological order of depends-on edges.
    let mut bundles = Vec::new();
    let chosen: Vec<&Candidate> = order
        .into_iter()
        .rev()
        .filter_map(|n| match &graph[n] {
            Node::Bundle { name, .. } => Some(solution[name.as_str()]),
            _ => None,
        })
        .collect();
    let trees = sources.trees(&chosen)?;
    for (c, tree) in chosen.into_iter().zip(trees) {
        let manifest = crate::validate::check_bundle(&tree)
            .manifest
            .unwrap_or_default();
        let mut dependencies: Vec<String> = c
            .deps
            .iter()
            .filter(|d| solution.contains_key(&d.name))
            .map(|d| d.name.clone())
            .collect();
        dependencies.sort();
        dependencies.dedup();
        bundles.push(ResolvedBundle {
            name: c.name.clone(),
            version: c.version.clone(),
            source: c.source.clone(),
            digest: c.digest.clone(),
            fetch: c.fetch().cloned(),
            tree,
            manifest,
            dependencies,
        });
    }
    add_resources(&mut graph, &index, &bundles)?;
    Ok(Resolution {
        bundles,
        graph,
        project,
    })
}

/// Adds resource nodes, provides and requires edges; refuses collisions and missing
/// requirements.
fn add_resources(
    graph: &mut DiGraph<Node, Edge>,
    index: &BTreeMap<&str, NodeIndex>,
    bundles: &[ResolvedBundle],
) -> Result<(), GraphError> {
    let mut provider: BTreeMap<String, (String, String, NodeIndex)> = BTreeMap::new();
    for b in bundles {
        for (id, (digest, _)) in crate::target::resource_digests(&b.manifest, &b.tree) {
            let who = format!("{} {}", b.name, b.version);
            match provider.get(&id) {
                Some((first, d, _)) if *d != digest => {
                    return Err(GraphError::Collision {
                        resource: id,
                        first: first.clone(),
                        second: who,
                    });
                }
                Some((_, _, node)) => {
                    graph.add_edge(index[b.name.as_str()], *node, Edge::Provides);
                }
                None => {
                    let node = graph.add_node(Node::Resource { id: id.clone() });
                    graph.add_edge(index[b.name.as_str()], node, Edge::Provides);
                    provider.insert(id, (who, digest, node));
                }
            }
        }
    }
    for b in bundles {
        for (owner, list) in requires(&b.manifest) {
            let from = provider[&owner].2;
            for r in list {
                match provider.get(&r) {
                    Some((_, _, to)) => {
                        graph.add_edge(from, *to, Edge::Requires);
                    }
                    None => {
                        return Err(GraphError::MissingResource {
                            resource: r,
                            required_by: format!("{owner} of {} {}", b.name, b.version),
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

/// Each resource's `requires`, by the resource's id.
fn requires(m: &BundleManifest) -> Vec<(String, Vec<String>)> {
    m.resources()
        .into_iter()
        .map(|r| {
            (
                r.id(),
                r.requires()
                    .into_iter()
                    .flatten()
                    .map(|s| s.value.clone())
                    .collect(),
            )
        })
        .collect()
}

/// A cycle of depends-on edges, as `name version` steps returning to the first.
fn find_cycle(graph: &DiGraph<Node, Edge>) -> Vec<String> {
    let label = |n: NodeIndex| match &graph[n] {
        Node::Bundle { name, version, .. } => format!("{name} {version}"),
        Node::Project => "project".into(),
        Node::Resource { id } => id.clone(),
    };
    for scc in petgraph::algo::tarjan_scc(graph) {
        let self_loop = scc.len() == 1 && graph.edges(scc[0]).any(|e| e.target() == scc[0]);
        if scc.len() < 2 && !self_loop {
            continue;
        }
        let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
        let start = *scc.iter().min_by_key(|n| label(**n)).expect("non-empty");
        // Walk inside the component until the start comes round again.
        let mut path = vec![start];
        let mut seen = BTreeSet::from([start]);
        let mut cur = start;
        loop {
            let mut nexts: Vec<NodeIndex> = graph
                .edges(cur)
                .map(|e| e.target())
                .filter(|t| members.contains(t))
                .collect();
            nexts.sort_by_key(|n| label(*n));
            if nexts.contains(&start) {
                path.push(start);
                break;
            }
            let Some(&next) = nexts.iter().find(|n| !seen.contains(*n)) else {
                path.push(start);
                break;
            };
            seen.insert(next);
            path.push(next);
            cur = next;
        }
        return path.into_iter().map(label).collect();
    }
    Vec::new()
}

/// The lock entries of a resolution.
pub fn lock_bundles(r: &Resolution) -> Vec<LockedBundle> {
    let mut out: Vec<LockedBundle> = r
        .bundles
        .iter()
        .map(|b| {
            let (commit, manifest, archive) = pins(b.fetch.as_ref());
            LockedBundle {
                name: b.name.clone(),
                version: b.version.to_string(),
                source: b.source.to_string(),
                sha256: b.digest.clone(),
                commit,
                manifest,
                archive,
                dependencies: b.dependencies.clone(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn short_commit(c: Option<&str>) -> &str {
    c.map_or("-", |c| &c[..c.len().min(12)])
}

/// What capm.lock records of how a bundle was fetched: the commit, the OCI manifest, and
/// the archive's digest (of an MCP Registry server, the digest of its server.json).
fn pins(fetch: Option<&crate::remote::Fetch>) -> (Option<String>, Option<String>, Option<String>) {
    use crate::remote::Fetch;
    match fetch {
        Some(Fetch::Git { commit, .. }) => (Some(commit.clone()), None, None),
        Some(Fetch::Oci {
            manifest, layer, ..
        }) => (None, Some(manifest.clone()), Some(layer.clone())),
        Some(Fetch::Archive { digest, .. } | Fetch::ServerJson { digest, .. }) => {
            (None, None, Some(digest.clone()))
        }
        None => (None, None, None),
    }
}

/// How a lock differs from a resolution: bundles added, removed or changed.
pub fn lock_changes(lock: &Lockfile, r: &Resolution) -> Vec<String> {
    let old: BTreeMap<&str, &LockedBundle> =
        lock.bundles.iter().map(|b| (b.name.as_str(), b)).collect();
    let new = lock_bundles(r);
    let new_by: BTreeMap<&str, &LockedBundle> = new.iter().map(|b| (b.name.as_str(), b)).collect();
    let mut out = Vec::new();
    for (name, b) in &new_by {
        match old.get(name) {
            None => out.push(format!("add {name} {}", b.version)),
            Some(o) if o.version != b.version => {
                out.push(format!("update {name} {} → {}", o.version, b.version))
            }
            Some(o) if o.source != b.source => out.push(format!(
                "change the source of {name} from {} to {}",
                o.source, b.source
            )),
            Some(o) if o.commit.is_some() && o.commit != b.commit => out.push(format!(
                "move {name} {} from commit {} to {}",
                b.version,
                short_commit(o.commit.as_deref()),
                short_commit(b.commit.as_deref())
            )),
            Some(o) if o.sha256 != b.sha256 => {
                out.push(format!("change the digest of {name} {}", b.version))
            }
            Some(o) if o.dependencies != b.dependencies => {
                out.push(format!("change the dependencies of {name} {}", b.version))
            }
            Some(_) => {}
        }
    }
    for name in old.keys() {
        if !new_by.contains_key(name) {
            out.push(format!("remove {name}"));
        }
    }
    out
}

/// SC-002: a bundle the lock records at the same version and source, but with other content.
/// Path bundles are the user's working copies: their content is expected to change, and
/// the lock follows it.
pub fn verify_lock(lock: &Lockfile, r: &Resolution) -> Result<(), GraphError> {
    for b in r
        .bundles
        .iter()
        .filter(|b| !matches!(b.source, SourceId::Path(_)))
    {
        let source = b.source.to_string();
        if let Some(l) = lock
            .bundles
            .iter()
            .find(|l| l.name == b.name && l.version == b.version.to_string() && l.source == source)
            && l.sha256 != b.digest
            // A git reference that moved to another commit (`capm update`) is a change,
            // not a tampered copy: the commit says which content is which.
            && (l.commit.is_none() || l.commit == pins(b.fetch.as_ref()).0)
        {
            return Err(GraphError::DigestMismatch {
                bundle: format!("{} {}", b.name, b.version),
                source_id: source,
                expected: l.sha256.clone(),
                actual: b.digest.clone(),
                by_lock: true,
            });
        }
    }
    Ok(())
}
