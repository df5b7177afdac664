//! Where bundles come from: the built-in catalog, `{ path = "…" }` bundles, directory
//! registries, and remote sources (registries over HTTP or in the static layout, git
//! repositories, OCI registries: `crate::remote`). Every source is turned into candidates
//! (name, version, digest and dependency requirements) for the resolver; a candidate's
//! files are read (or fetched) only when it is chosen.
//!
//! Remote sources are asked in waves before resolution: first for the names capm.toml
//! lists, then for the dependencies of what they answered, and so on, each wave's requests
//! in parallel, so a resolution needs as many round trips as its dependency depth.
//!
//! Each bundle name comes from exactly one source, so that a registry cannot shadow a
//! catalog bundle by publishing a higher version under its name: a name the project pins
//! (`path`, or `registry = "…"`) comes from there; otherwise from the catalog when the
//! catalog has it; otherwise from the one registry that has it.

use crate::operation::is_cancellation;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use semver::{Version, VersionReq};

use std::sync::OnceLock;

use super::GraphError;
use super::index::{self, INDEX_FILE, RegistryIndex};
use crate::manifest::bundle::BundleManifest;
use crate::manifest::lock::Lockfile;
use crate::manifest::project::{BundleRequest, ProjectManifest};
use crate::manifest::tree::BundleTree;
use crate::remote::Declared;

/// Where a bundle came from, as recorded in `capm.lock`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceId {
    Catalog,
    /// A directory, as written in capm.toml (relative to the project).
    Path(String),
    /// A registry declared in capm.toml, by name.
    Registry(String),
    /// A git repository and the reference capm.toml names: `URL?tag=v1` (`?branch=`,
    /// `?rev=`, and `path=SUB` for a bundle below the root).
    Git(String),
    /// An OCI repository (`ghcr.io/org/kit`).
    Oci(String),
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceId::Catalog => f.write_str("catalog"),
            SourceId::Path(p) => write!(f, "path+{p}"),
            SourceId::Registry(r) => write!(f, "registry+{r}"),
            SourceId::Git(g) => write!(f, "git+{g}"),
            SourceId::Oci(o) => write!(f, "oci+{o}"),
        }
    }
}

/// A dependency requirement of a candidate.
#[derive(Clone, Debug)]
pub struct Dep {
    pub name: String,
    pub req: VersionReq,
    pub optional: bool,
}

/// How to read a candidate's files.
#[derive(Clone, Debug)]
enum Origin {
    Catalog(usize),
    /// A directory, read as the options say when it is not a native bundle.
    Dir(PathBuf, crate::formats::Options),
    Remote(crate::remote::Fetch),
}

/// One version of one bundle that resolution may choose.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub name: String,
    pub version: Version,
    pub source: SourceId,
    /// `sha256:` and the bundle's content digest, as the source states it.
    pub digest: String,
    pub deps: Vec<Dep>,
    pub description: String,
    pub keywords: Vec<String>,
    /// Withdrawn by its publisher: chosen only when capm.lock already names it.
    pub yanked: bool,
    /// The one commit a git tag, branch or rev names: `*` admits it even when its version
    /// is a prerelease (the user named the commit, not a range).
    pub pinned: bool,
    origin: Origin,
}

/// The built-in catalog's trees and candidates. They never change while capm runs, so
/// they are read and checked once per process (a long-lived `capm serve` keeps them warm).
fn catalog_candidates() -> Result<(Vec<BundleTree>, Vec<Candidate>), GraphError> {
    static CATALOG: OnceLock<(Vec<BundleTree>, Vec<Candidate>)> = OnceLock::new();
    if let Some((trees, candidates)) = CATALOG.get() {
        return Ok((trees.clone(), candidates.clone()));
    }
    let _span = tracing::info_span!("catalog").entered();
    let trees = crate::catalog::bundles();
    tracing::info!(
        "checking the {} bundles of the built-in catalog",
        trees.len()
    );
    let mut candidates = Vec::new();
    for (i, tree) in trees.iter().enumerate() {
        candidates.push(from_tree(tree, SourceId::Catalog, Origin::Catalog(i))?);
    }
    let _ = CATALOG.set((trees.clone(), candidates.clone()));
    Ok((trees, candidates))
}

/// Every candidate the project can see, by name, newest first.
pub struct Sources {
    /// Catalog and path candidates.
    by_name: BTreeMap<String, Vec<Candidate>>,
    registry_data: Vec<Registry>,
    /// Names whose source the project chose explicitly.
    pinned: BTreeMap<String, SourceId>,
    catalog: Vec<BundleTree>,
    /// Registry names by directory, for messages.
    pub registries: Vec<(String, PathBuf)>,
    /// The remote sources capm.toml declares, asked name by name (see [`Sources::fetch`]).
    remotes: Vec<Remote>,
    /// Names the remote sources were asked for already.
    asked: std::collections::BTreeSet<String>,
    /// The requirements seen on each name (capm.toml's, and every dependency's), and the
    /// candidates whose dependencies were followed: only a version some requirement allows
    /// can be chosen, so only its dependencies are asked for.
    wanted: BTreeMap<String, Vec<VersionReq>>,
    followed: std::collections::BTreeSet<(String, Version, SourceId)>,
    /// The versions capm.lock records, for a `--locked` run (see `remote::Net::locked`).
    locked: BTreeMap<String, Version>,
}

/// A remote source, the id its candidates carry, and the one name it is bound to (git and
/// OCI sources; a registry answers any name).
struct Remote {
    id: SourceId,
    binds: Option<String>,
    /// A git source at one tag, branch or rev (see [`Candidate::pinned`]).
    pinned: bool,
    source: Box<dyn crate::remote::Source>,
}

/// A source capm.toml binds to a name (`x = { git = … }`) that offers a bundle of another
/// name only (a plugin.json, server.json or bundle.toml naming it otherwise).
fn misnamed(
    remote: &Remote,
    answer: &[(String, Vec<crate::remote::Release>)],
) -> Option<GraphError> {
    let requested = remote.binds.as_ref()?;
    let offered = answer.iter().filter(|(_, r)| !r.is_empty());
    let names: Vec<&String> = offered.map(|(n, _)| n).collect();
    let found = names.first().filter(|_| !names.contains(&requested))?;
    Some(GraphError::NameMismatch {
        requested: requested.clone(),
        found: found.to_string(),
        path: remote.id.to_string(),
    })
}

fn deps_of(m: &BundleManifest) -> Vec<Dep> {
    m.dependencies
        .iter()
        .filter_map(|(name, d)| {
            let req = VersionReq::parse(&d.requirement()?.value).ok()?;
            Some(Dep {
                name: name.value.clone(),
                req,
                optional: d.is_optional(),
            })
        })
        .collect()
}

/// A candidate from a checked bundle tree.
fn from_tree(tree: &BundleTree, source: SourceId, origin: Origin) -> Result<Candidate, GraphError> {
    let check = crate::validate::check_bundle(tree);
    // Manifest errors make a bundle unusable; security findings are for lint and plans to
    // report (a plan containing them is blocked), not a reason to hide the bundle.
    let errors: Vec<_> = check
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && d.rule_severity.is_none())
        .cloned()
        .collect();
    let meta = check.manifest.as_ref().and_then(|m| m.bundle.as_ref());
    let name = meta.and_then(|b| b.name.as_ref()).map(|n| n.value.clone());
    let version = meta
        .and_then(|b| b.version.as_ref())
        .and_then(|v| Version::parse(&v.value).ok());
    let (Some(m), Some(name), Some(version), true) =
        (check.manifest.as_ref(), name, version, errors.is_empty())
    else {
        let mut sources = crate::diagnostic::Sources::default();
        for file in check.sources {
            sources.insert(file);
        }
        return Err(GraphError::InvalidBundle {
            path: tree.display_root.clone(),
            diagnostics: errors,
            sources,
        });
    };
    let meta = m.bundle.as_ref().expect("checked above");
    Ok(Candidate {
        deps: deps_of(m),
        description: meta.description_text(),
        keywords: meta.keyword_list(),
        digest: tree.content_digest(),
        name,
        version,
        source,
        yanked: false,
        pinned: false,
        origin,
    })
}

/// Candidates from a registry's index entries.
fn candidates_from(
    registry: &str,
    dir: &Path,
    path: &Path,
    index: RegistryIndex,
) -> Result<Vec<Candidate>, GraphError> {
    let mut out = Vec::with_capacity(index.bundles.len());
    for e in index.bundles {
        let bad = |message: String| GraphError::BadIndex {
            path: path.to_path_buf(),
            message,
        };
        let version = Version::parse(&e.version)
            .map_err(|err| bad(format!("{} {}: {err}", e.name, e.version)))?;
        let mut deps = Vec::with_capacity(e.dependencies.len());
        for d in e.dependencies {
            let req = VersionReq::parse(&d.req).map_err(|err| {
                bad(format!(
                    "{} {} → {} {}: {err}",
                    e.name, e.version, d.name, d.req
                ))
            })?;
            deps.push(Dep {
                name: d.name,
                req,
                optional: d.optional,
            });
        }
        out.push(Candidate {
            origin: Origin::Dir(
                dir.join(&e.name).join(&e.version),
                crate::formats::Options::default(),
            ),
            name: e.name,
            version,
            source: SourceId::Registry(registry.to_string()),
            digest: e.sha256,
            deps,
            description: e.description,
            keywords: e.keywords,
            yanked: false,
            pinned: false,
        });
    }
    Ok(out)
}

/// A name's sections in the index text, and its candidates once parsed.
type NameEntry = (
    Vec<std::ops::Range<usize>>,
    OnceLock<Result<Vec<Candidate>, String>>,
);

/// A registry whose index entries are parsed per name, on first use.
struct Registry {
    name: String,
    dir: PathBuf,
    index_path: PathBuf,
    text: String,
    /// Each name's sections in `text`, and its candidates once parsed.
    names: BTreeMap<String, NameEntry>,
}

impl Registry {
    fn open(name: &str, dir: &Path) -> Result<Registry, GraphError> {
        let index_path = dir.join(INDEX_FILE);
        if !dir.is_dir() {
            return Err(GraphError::MissingSource {
                what: format!("registry `{name}`"),
                path: dir.to_path_buf(),
            });
        }
        // A registry nothing was published into yet is empty, not broken.
        let text = match std::fs::read(&index_path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|e| GraphError::BadIndex {
                path: index_path.clone(),
                message: crate::manifest::span::not_utf8(&e.utf8_error()),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                format!("version = {}\n", index::INDEX_VERSION)
            }
            Err(e) => {
                return Err(GraphError::Io {
                    path: index_path.clone(),
                    source: e,
                });
            }
        };
        let mut reg = Registry {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            index_path,
            text,
            names: BTreeMap::new(),
        };
        match index::scan_sections(&reg.text) {
            Some(sections) => {
                reg.names = sections
                    .into_iter()
                    .map(|(n, r)| (n, (r, OnceLock::new())))
                    .collect();
            }
            None => {
                // Not in capm's own layout: parse it whole, strictly.
                let index = RegistryIndex::parse(&reg.text).map_err(|e| GraphError::BadIndex {
                    path: reg.index_path.clone(),
                    message: e.to_string(),
                })?;
                let all = candidates_from(name, dir, &reg.index_path, index)?;
                let mut by: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
                for c in all {
                    by.entry(c.name.clone()).or_default().push(c);
                }
                reg.names = by
                    .into_iter()
                    .map(|(n, list)| (n, (Vec::new(), OnceLock::from(Ok(list)))))
                    .collect();
            }
        }
        Ok(reg)
    }

    fn candidates(&self, name: &str) -> Result<&[Candidate], GraphError> {
        let Some((ranges, cell)) = self.names.get(name) else {
            return Ok(&[]);
        };
        let parsed = cell.get_or_init(|| {
            let index = index::parse_sections(&self.text, ranges).map_err(|e| e.to_string())?;
            candidates_from(&self.name, &self.dir, &self.index_path, index)
                .map_err(|e| e.to_string())
        });
        let list = parsed.as_deref().map_err(|message| GraphError::BadIndex {
            path: self.index_path.clone(),
            message: message.clone(),
        })?;
        // The scan attributes sections to names; never trust it to have done so.
        if let Some(c) = list.iter().find(|c| c.name != name) {
            return Err(GraphError::BadIndex {
                path: self.index_path.clone(),
                message: format!("an entry for `{}` sits among those of `{name}`", c.name),
            });
        }
        Ok(list)
    }
}

impl Registry {
    /// Parses every name's entries, so that a damaged index is found now, not mid-way.
    fn check_all(&self) -> Result<(), GraphError> {
        for name in self.names.keys() {
            self.candidates(name)?;
        }
        Ok(())
    }
}

/// A registry left out of a tolerant load, and why.
#[derive(Debug)]
pub struct Unreachable {
    pub registry: String,
    pub error: GraphError,
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (skipped)", self.error)
    }
}

impl Candidate {
    /// How a remote candidate's files are fetched.
    pub fn fetch(&self) -> Option<&crate::remote::Fetch> {
        match &self.origin {
            Origin::Remote(f) => Some(f),
            _ => None,
        }
    }

    /// A candidate held only in memory, for resolver tests and tools: it has no files.
    pub fn in_memory(name: &str, version: Version, deps: Vec<Dep>) -> Candidate {
        Candidate {
            name: name.to_string(),
            version,
            source: SourceId::Catalog,
            digest: String::new(),
            deps,
            description: String::new(),
            keywords: Vec::new(),
            yanked: false,
            pinned: false,
            origin: Origin::Dir(PathBuf::new(), crate::formats::Options::default()),
        }
    }
}

impl Sources {
    /// Sources made of the given candidates only (see [`Candidate::in_memory`]).
    pub fn from_candidates(candidates: Vec<Candidate>) -> Sources {
        let mut by_name: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
        for c in candidates {
            by_name.entry(c.name.clone()).or_default().push(c);
        }
        Sources {
            by_name,
            registry_data: Vec::new(),
            pinned: BTreeMap::new(),
            catalog: Vec::new(),
            registries: Vec::new(),
            remotes: Vec::new(),
            asked: Default::default(),
            wanted: BTreeMap::new(),
            followed: Default::default(),
            locked: BTreeMap::new(),
        }
    }

    /// The catalog alone.
    pub fn catalog_only() -> Result<Sources, GraphError> {
        Sources::load(None, Path::new("."))
    }

    /// The catalog, plus the project's registries and path bundles.
    pub fn load(project: Option<&ProjectManifest>, root: &Path) -> Result<Sources, GraphError> {
        Sources::load_with(project, root, false, None).map(|(sources, _)| sources)
    }

    /// Like [`Sources::load`], with capm.lock: a git source stays at the commit the lock
    /// records for it.
    pub fn load_locked(
        project: &ProjectManifest,
        root: &Path,
        lock: Option<&Lockfile>,
    ) -> Result<Sources, GraphError> {
        Sources::load_with(Some(project), root, false, lock).map(|(sources, _)| sources)
    }

    /// Like [`Sources::load`], but a registry that cannot be read (its directory missing or
    /// unreadable, its index malformed) is left out and reported instead of failing: for
    /// commands that look bundles up, where the other sources still answer.
    pub fn load_tolerant(
        project: Option<&ProjectManifest>,
        root: &Path,
    ) -> Result<(Sources, Vec<Unreachable>), GraphError> {
        Sources::load_with(project, root, true, None)
    }

    fn load_with(
        project: Option<&ProjectManifest>,
        root: &Path,
        tolerant: bool,
        lock: Option<&Lockfile>,
    ) -> Result<(Sources, Vec<Unreachable>), GraphError> {
        let (catalog, mut all) = catalog_candidates()?;
        let mut unreachable = Vec::new();
        let mut sources = Sources {
            by_name: BTreeMap::new(),
            registry_data: Vec::new(),
            pinned: BTreeMap::new(),
            catalog,
            registries: Vec::new(),
            remotes: Vec::new(),
            asked: Default::default(),
            wanted: BTreeMap::new(),
            followed: Default::default(),
            locked: BTreeMap::new(),
        };
        let Some(p) = project else {
            sources.add(all);
            return Ok((sources, unreachable));
        };
        sources.locked = lock
            .into_iter()
            .flat_map(|l| &l.bundles)
            .filter_map(|b| Some((b.name.clone(), Version::parse(&b.version).ok()?)))
            .collect();
        let net = crate::remote::net();
        for (name, decl) in &p.registries {
            let opened = sources.open_registry(&name.value, decl, root, (tolerant, lock), &net);
            match opened {
                Ok(()) => {}
                // A cancellation is never a registry to skip: it stops the operation.
                Err(error) if tolerant && !is_cancellation(&error) => {
                    unreachable.push(Unreachable {
                        registry: name.value.clone(),
                        error,
                    })
                }
                Err(e) => return Err(e),
            }
        }
        for (name, req) in &p.bundles {
            if let Some(c) = sources.bind(&name.value, req, root, lock, &net)? {
                all.push(c);
            }
        }
        sources.add(all);
        let names: Vec<String> = p.bundles.keys().map(|k| k.value.clone()).collect();
        unreachable.extend(sources.fetch_with(&names, tolerant)?);
        Ok((sources, unreachable))
    }

    fn add(&mut self, candidates: Vec<Candidate>) {
        for c in candidates {
            self.by_name.entry(c.name.clone()).or_default().push(c);
        }
    }

    /// Opens a registry capm.toml declares: a directory in the old layout (`index.toml`) is
    /// read here; one in the static layout (`config.json`) and a URL are remote sources.
    /// A marketplace keeps the plugins of its own repository at the commits `lock` records.
    fn open_registry(
        &mut self,
        name: &str,
        decl: &crate::manifest::project::RegistryDecl,
        root: &Path,
        (tolerant, lock): (bool, Option<&Lockfile>),
        net: &crate::remote::Net,
    ) -> Result<(), GraphError> {
        let declared = if let Some(m) = &decl.marketplace {
            let local = m.value.starts_with('.') || m.value.starts_with('/');
            let id = SourceId::Registry(name.to_string()).to_string();
            Declared::Marketplace {
                location: if local {
                    local_repository(root, &m.value)
                } else {
                    m.value.clone()
                },
                pinned: lock
                    .into_iter()
                    .flat_map(|l| &l.bundles)
                    .filter(|b| b.source == id)
                    .filter_map(|b| Some((b.name.clone(), b.commit.clone()?)))
                    .collect(),
            }
        } else if let Some(url) = &decl.mcp_registry {
            Declared::McpRegistry {
                url: url.value.clone(),
            }
        } else {
            match (&decl.path, &decl.url) {
                (Some(dir), _) => {
                    let dir = root.join(&dir.value);
                    if !dir.join(crate::remote::sparse::CONFIG_FILE).is_file() {
                        tracing::info!("reading registry `{name}` at `{}`", dir.display());
                        let r = Registry::open(name, &dir)?;
                        if tolerant {
                            r.check_all()?;
                        }
                        self.registry_data.push(r);
                        self.registries.push((name.to_string(), dir));
                        return Ok(());
                    }
                    Declared::Registry {
                        location: dir.display().to_string(),
                    }
                }
                (None, Some(url)) => Declared::Registry {
                    location: url.value.clone(),
                },
                // capm.toml's check reports a registry with none.
                (None, None) => return Ok(()),
            }
        };
        let location = match &declared {
            Declared::Registry { location } | Declared::Marketplace { location, .. } => {
                location.clone()
            }
            Declared::McpRegistry { url } => url.clone(),
            _ => String::new(),
        };
        tracing::info!("opening registry `{name}` at `{location}`");
        let source = crate::remote::open(&declared, net)?;
        self.remotes.push(Remote {
            id: SourceId::Registry(name.to_string()),
            binds: None,
            pinned: false,
            source,
        });
        self.registries
            .push((name.to_string(), PathBuf::from(location)));
        Ok(())
    }

    /// Binds `name` to the source its capm.toml entry names: a path bundle (returned as its
    /// candidate), a registry, a git repository or an OCI repository. A git source whose
    /// capm.lock entry records a commit stays at that commit; an OCI one at its manifest.
    fn bind(
        &mut self,
        name: &str,
        req: &BundleRequest,
        root: &Path,
        lock: Option<&Lockfile>,
        net: &crate::remote::Net,
    ) -> Result<Option<Candidate>, GraphError> {
        let BundleRequest::Detailed {
            path,
            registry,
            git,
            oci,
            skills,
            ..
        } = req
        else {
            return Ok(None);
        };
        if let Some(r) = registry {
            self.pinned
                .insert(name.to_string(), SourceId::Registry(r.value.clone()));
            return Ok(None);
        }
        if git.is_none()
            && oci.is_none()
            && let Some(path) = path
        {
            tracing::info!("reading bundle `{name}` at `{}`", path.value);
            let options = crate::formats::Options {
                name: Some(name.to_string()),
                version: None,
                skills: skills.iter().map(|s| s.value.clone()).collect(),
                place: None,
                plugin: None,
            };
            let c = path_candidate(root, &path.value, &format!("bundle `{name}`"), options)?;
            if c.name != name {
                return Err(GraphError::NameMismatch {
                    requested: name.to_string(),
                    found: c.name,
                    path: path.value.clone(),
                });
            }
            self.pinned.insert(name.to_string(), c.source.clone());
            return Ok(Some(c));
        }
        // The lock's pin holds while capm.toml's version range still allows its version.
        let range = match req {
            BundleRequest::Detailed {
                version: Some(v), ..
            } => VersionReq::parse(&v.value).ok(),
            _ => None,
        };
        let allowed = |b: &&crate::manifest::lock::LockedBundle| {
            range
                .as_ref()
                .is_none_or(|r| Version::parse(&b.version).is_ok_and(|v| r.matches(&v)))
        };
        let Some((id, decl)) = declared(Some(name), req, root, |id| {
            lock.and_then(|l| l.bundles.iter().find(|b| b.name == name))
                .filter(|b| b.source == id.to_string())
                .filter(allowed)
                .and_then(|b| match id {
                    SourceId::Oci(_) => b.manifest.clone(),
                    _ => b.commit.clone(),
                })
        }) else {
            return Ok(None);
        };
        let source = crate::remote::open(&decl, net)?;
        // capm.toml names one commit (not the lock's pin of a version range).
        let pinned = matches!(req, BundleRequest::Detailed { git: Some(_), tag, branch, rev, .. }
            if tag.is_some() || branch.is_some() || rev.is_some());
        self.pinned.insert(name.to_string(), id.clone());
        self.remotes.push(Remote {
            id,
            binds: Some(name.to_string()),
            pinned,
            source,
        });
        Ok(None)
    }

    /// Asks the remote sources for `names` and, wave by wave, for the dependencies of what
    /// they answer, until every name reachable has been asked once. For a name capm.toml
    /// does not list (`capm info NAME`).
    pub fn fetch(&mut self, names: &[String]) -> Result<(), GraphError> {
        self.fetch_with(names, false).map(|_| ())
    }

    fn fetch_with(
        &mut self,
        names: &[String],
        tolerant: bool,
    ) -> Result<Vec<Unreachable>, GraphError> {
        let net = crate::remote::net();
        let mut unreachable = Vec::new();
        // Names asked for here may take any version: one reached before under a narrower
        // requirement is looked at again for the versions it did not allow.
        let mut widened = Vec::new();
        for n in names {
            let seen = self.wanted.entry(n.clone()).or_default();
            if !seen.contains(&VersionReq::STAR) {
                seen.push(VersionReq::STAR);
                if self.asked.contains(n) {
                    widened.push(n.clone());
                }
            }
        }
        let mut todo: std::collections::BTreeSet<String> = names
            .iter()
            .filter(|n| !self.asked.contains(*n))
            .cloned()
            .collect();
        todo.extend(self.follow(widened));
        while !todo.is_empty() {
            self.asked.extend(todo.iter().cloned());
            let asks: Vec<(usize, Vec<String>)> = (0..self.remotes.len())
                .map(|i| {
                    let wanted = todo.iter().filter(|n| self.asks(i, n)).cloned();
                    (i, wanted.collect::<Vec<_>>())
                })
                .filter(|(_, n)| !n.is_empty())
                .collect();
            let answers = self.ask_all(&asks, &net);
            for ((i, _), answer) in asks.iter().zip(answers) {
                let id = self.remotes[*i].id.clone();
                let answer = match answer {
                    Ok(a) => a,
                    Err(error) if tolerant && !is_cancellation(&error) => {
                        unreachable.push(Unreachable {
                            registry: id.to_string(),
                            error: error.into(),
                        });
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                if let Some(e) = misnamed(&self.remotes[*i], &answer) {
                    return Err(e);
                }
                let pinned = self.remotes[*i].pinned;
                for (name, releases) in answer {
                    for r in releases {
                        let mut c = from_release(r, id.clone())?;
                        c.pinned = pinned;
                        self.by_name.entry(name.clone()).or_default().push(c);
                    }
                }
            }
            // Local candidates of these names depend on remote ones too.
            todo = self.follow(todo.into_iter().collect());
        }
        Ok(unreachable)
    }

    /// Follows the dependencies of the candidates of `work` that a requirement seen on
    /// them allows, recording each dependency's requirement; returns the names reached that
    /// were never asked for. A name asked before that gets a new requirement is looked at
    /// again, for the versions only that requirement allows.
    fn follow(&mut self, mut work: Vec<String>) -> std::collections::BTreeSet<String> {
        let mut unasked = std::collections::BTreeSet::new();
        let only_locked = crate::remote::net().locked;
        while let Some(name) = work.pop() {
            let mut reqs = self.wanted.get(&name).cloned().unwrap_or_default();
            // A --locked run follows the locked version alone, while a requirement allows it.
            if let Some(v) = self.locked.get(&name).filter(|_| only_locked)
                && reqs.iter().any(|r| r.matches(v))
                && let Ok(exact) = VersionReq::parse(&format!("={v}"))
            {
                reqs = vec![exact];
            }
            let mut deps = Vec::new();
            let mut keys = Vec::new();
            for c in self.everywhere(&name).unwrap_or_default() {
                let key = (name.clone(), c.version.clone(), c.source.clone());
                if reqs.iter().any(|r| r.matches(&c.version)) && !self.followed.contains(&key) {
                    deps.extend(c.deps.iter().map(|d| (d.name.clone(), d.req.clone())));
                    keys.push(key);
                }
            }
            self.followed.extend(keys);
            for (dep, req) in deps {
                let seen = self.wanted.entry(dep.clone()).or_default();
                if seen.contains(&req) {
                    continue;
                }
                seen.push(req);
                if self.asked.contains(&dep) {
                    work.push(dep);
                } else {
                    unasked.insert(dep);
                }
            }
        }
        unasked
    }

    /// Adds what each remote registry lists (its newest version of every bundle), for
    /// `capm search`; a registry that cannot list is reported and left out. A cancelled
    /// operation stops with its error.
    pub fn list_remote(&mut self) -> Result<Vec<Unreachable>, GraphError> {
        let net = crate::remote::net();
        let mut unreachable = Vec::new();
        let mut found = Vec::new();
        for r in self.remotes.iter().filter(|r| r.binds.is_none()) {
            match r.source.list(&net) {
                Ok(list) => found.extend(list.into_iter().map(|rel| (r.id.clone(), rel))),
                Err(error) if is_cancellation(&error) => return Err(error.into()),
                Err(error) => unreachable.push(Unreachable {
                    registry: r.id.to_string(),
                    error: error.into(),
                }),
            }
        }
        for (id, rel) in found {
            let known = self
                .by_name
                .get(&rel.name)
                .is_some_and(|l| l.iter().any(|c| c.source == id && c.version == rel.version));
            if known {
                continue;
            }
            if let Ok(c) = from_release(rel, id) {
                self.by_name.entry(c.name.clone()).or_default().push(c);
            }
        }
        Ok(unreachable)
    }

    /// Whether remote source `i` is asked for `name`: a bound source for its name; a
    /// registry for a name pinned to it, or pinned nowhere and not in the catalog.
    fn asks(&self, i: usize, name: &str) -> bool {
        let r = &self.remotes[i];
        match (&r.binds, self.pinned.get(name)) {
            (Some(bound), _) => bound == name,
            (None, Some(pin)) => *pin == r.id,
            (None, None) => !self
                .by_name
                .get(name)
                .is_some_and(|l| l.iter().any(|c| c.source == SourceId::Catalog)),
        }
    }

    /// Each source's answer for its names, all sources at once.
    #[allow(clippy::type_complexity)]
    fn ask_all(
        &self,
        asks: &[(usize, Vec<String>)],
        net: &crate::remote::Net,
    ) -> Vec<Result<Vec<(String, Vec<crate::remote::Release>)>, crate::remote::RemoteError>> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = asks
                .iter()
                .map(|(i, names)| {
                    let source = &self.remotes[*i].source;
                    scope.spawn(move || source.releases(names, net))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a source's thread does not panic"))
                .collect()
        })
    }

    /// Every bundle name some source has.
    pub fn names(&self) -> std::collections::BTreeSet<&str> {
        let mut names: std::collections::BTreeSet<&str> =
            self.by_name.keys().map(String::as_str).collect();
        for r in &self.registry_data {
            names.extend(r.names.keys().map(String::as_str));
        }
        names
    }

    /// The name some source has that is closest to `name`, if close enough to be a typo.
    pub fn suggest(&self, name: &str) -> Option<String> {
        let names: Vec<&str> = self.names().into_iter().collect();
        crate::manifest::decode::suggest(name, &names).map(str::to_string)
    }

    /// The name of the bundle in the directory `path` (relative to the project `root`), for
    /// `capm add ./path` (with `--skill`: of those skills of a repository of skills).
    pub fn path_bundle_name(
        root: &Path,
        path: &str,
        skills: &[String],
    ) -> Result<String, GraphError> {
        let options = crate::formats::Options {
            skills: skills.to_vec(),
            ..crate::formats::Options::default()
        };
        Ok(path_candidate(root, path, "a bundle", options)?.name)
    }

    /// The candidates of `name` from every source, newest first.
    fn everywhere(&self, name: &str) -> Result<Vec<&Candidate>, GraphError> {
        let mut all: Vec<&Candidate> = self.by_name.get(name).into_iter().flatten().collect();
        for r in &self.registry_data {
            all.extend(r.candidates(name)?);
        }
        all.sort_by(|a, b| b.version.cmp(&a.version).then(a.source.cmp(&b.source)));
        Ok(all)
    }

    /// The candidates of `name` from its one source, newest first.
    pub fn candidates(&self, name: &str) -> Result<Vec<&Candidate>, GraphError> {
        let all = self.everywhere(name)?;
        let source = match self.pinned.get(name) {
            Some(s) => s.clone(),
            None if all.iter().any(|c| c.source == SourceId::Catalog) => SourceId::Catalog,
            None => {
                let mut regs: Vec<&SourceId> = all.iter().map(|c| &c.source).collect();
                regs.sort();
                regs.dedup();
                match regs.as_slice() {
                    [] => return Ok(Vec::new()),
                    [one] => (*one).clone(),
                    many => {
                        return Err(GraphError::AmbiguousSource {
                            name: name.to_string(),
                            sources: many.iter().map(|s| s.to_string()).collect(),
                        });
                    }
                }
            }
        };
        Ok(all.into_iter().filter(|c| c.source == source).collect())
    }

    /// Every candidate of every source, for search.
    pub fn all(&self) -> Result<Vec<&Candidate>, GraphError> {
        let mut out = Vec::new();
        for n in self.names() {
            out.extend(self.everywhere(n)?);
        }
        Ok(out)
    }

    /// The trees of `chosen`, in order: remote ones fetched at the same time (up to 16).
    pub fn trees(&self, chosen: &[&Candidate]) -> Result<Vec<BundleTree>, GraphError> {
        self.trees_each(chosen).into_iter().collect()
    }

    /// The tree of each of `chosen`, or why it could not be read, in order: up to 16 read
    /// (remote ones fetched) at the same time.
    pub fn trees_each(&self, chosen: &[&Candidate]) -> Vec<Result<BundleTree, GraphError>> {
        // Local trees are read at once: no thread is worth starting for them alone.
        if !chosen.iter().any(|c| matches!(c.origin, Origin::Remote(_))) {
            return chosen.iter().map(|c| self.tree(c)).collect();
        }
        crate::remote::sparse::in_parallel(chosen, |c| self.tree(c))
    }

    /// Reads a candidate's files, refusing content that does not match its digest.
    pub fn tree(&self, c: &Candidate) -> Result<BundleTree, GraphError> {
        let tree = match &c.origin {
            Origin::Catalog(i) => self.catalog[*i].clone(),
            Origin::Dir(dir, options) => {
                tracing::info!("reading {} {} at `{}`", c.name, c.version, dir.display());
                let shown = dir.display().to_string();
                let shown = shown.strip_prefix("./").unwrap_or(&shown);
                crate::formats::read_dir(dir, shown, options).map_err(|e| GraphError::Io {
                    path: dir.clone(),
                    source: e,
                })?
            }
            Origin::Remote(fetch) => {
                let shown = format!("{} {} ({})", c.name, c.version, c.source);
                tracing::info!("fetching {shown}");
                crate::remote::materialize(fetch, &c.digest, &shown, &crate::remote::net())?
            }
        };
        let actual = tree.content_digest();
        if actual != c.digest {
            return Err(GraphError::DigestMismatch {
                bundle: format!("{} {}", c.name, c.version),
                source_id: c.source.to_string(),
                expected: c.digest.clone(),
                actual,
                by_lock: false,
            });
        }
        Ok(tree)
    }
}

/// The bundle in the directory `path` relative to `root`, as a candidate; `what` names it
/// when the directory holds no bundle.
fn path_candidate(
    root: &Path,
    path: &str,
    what: &str,
    options: crate::formats::Options,
) -> Result<Candidate, GraphError> {
    let dir = root.join(path);
    if !crate::formats::is_bundle_dir(&dir) {
        return Err(GraphError::MissingSource {
            what: what.to_string(),
            path: dir,
        });
    }
    let tree =
        crate::formats::read_dir(&dir, path.to_string(), &options).map_err(|e| GraphError::Io {
            path: dir.clone(),
            source: e,
        })?;
    from_tree(
        &tree,
        SourceId::Path(path.to_string()),
        Origin::Dir(dir, options),
    )
}

/// A remote candidate from a source's release.
fn from_release(r: crate::remote::Release, source: SourceId) -> Result<Candidate, GraphError> {
    let mut deps = Vec::with_capacity(r.deps.len());
    for d in r.deps {
        let req = VersionReq::parse(&d.req).map_err(|e| crate::remote::RemoteError::BadIndex {
            url: source.to_string(),
            line: None,
            message: format!("{} {} → {} {}: {e}", r.name, r.version, d.name, d.req),
        })?;
        deps.push(Dep {
            name: d.name,
            req,
            optional: d.optional,
        });
    }
    Ok(Candidate {
        name: r.name,
        version: r.version,
        source,
        digest: r.digest,
        deps,
        description: r.description,
        keywords: r.keywords,
        yanked: r.yanked,
        pinned: false,
        origin: Origin::Remote(r.fetch),
    })
}

/// A local repository written in capm.toml, as the absolute path git is given: `..`
/// resolved lexically, so that it names one cache entry (and `--offline` finds it) from
/// any directory capm runs in and from any copy of the project beside the original.
fn local_repository(root: &Path, url: &str) -> String {
    let joined = root.join(url);
    let absolute = std::path::absolute(&joined).unwrap_or(joined);
    crate::manifest::tree::normalize_lexically(&absolute)
        .display()
        .to_string()
}

/// The git or OCI source a capm.toml entry declares, with its id; `locked` gives the pin
/// capm.lock records for a source id (a git commit, an OCI manifest digest), which the
/// source then stays at. A local repository path is taken relative to the project `root`.
pub fn declared(
    name: Option<&str>,
    req: &BundleRequest,
    root: &Path,
    locked: impl Fn(&SourceId) -> Option<String>,
) -> Option<(SourceId, Declared)> {
    let BundleRequest::Detailed {
        version,
        path,
        git,
        tag,
        branch,
        rev,
        oci,
        skills,
        ..
    } = req
    else {
        return None;
    };
    let value =
        |v: &Option<crate::manifest::span::Spanned<String>>| v.as_ref().map(|v| v.value.clone());
    let version = version
        .as_ref()
        .and_then(|v| VersionReq::parse(&v.value).ok());
    if let Some(repository) = oci {
        let id = SourceId::Oci(repository.value.clone());
        let decl = Declared::Oci {
            repository: repository.value.clone(),
            version: version.unwrap_or(VersionReq::STAR),
            manifest: locked(&id),
        };
        return Some((id, decl));
    }
    let url = git.as_ref()?.value.clone();
    let mut query = Vec::new();
    for (key, v) in [
        ("tag", tag),
        ("branch", branch),
        ("rev", rev),
        ("path", path),
    ] {
        if let Some(v) = v {
            query.push(format!("{key}={}", v.value));
        }
    }
    let id = SourceId::Git(if query.is_empty() {
        url.clone()
    } else {
        format!("{url}?{}", query.join("&"))
    });
    let local = url.starts_with('.') || url.starts_with('/');
    let commit = locked(&id);
    let decl = Declared::Git {
        url: if local {
            local_repository(root, &url)
        } else {
            url
        },
        tag: if commit.is_some() { None } else { value(tag) },
        branch: if commit.is_some() {
            None
        } else {
            value(branch)
        },
        rev: commit.or_else(|| value(rev)),
        version,
        subdir: value(path),
        options: crate::formats::Options {
            name: name.map(str::to_string),
            version: None,
            skills: skills.iter().map(|s| s.value.clone()).collect(),
            place: None,
            plugin: None,
        },
    };
    Some((id, decl))
}
