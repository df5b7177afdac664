//! Where bundles come from: the built-in catalog, `{ path = "…" }` bundles, and directory
//! registries. Every source is turned into candidates (name, version, digest and
//! dependency requirements) for the resolver; a candidate's files are read only when it
//! is chosen.
//!
//! Each bundle name comes from exactly one source, so that a registry cannot shadow a
//! catalog bundle by publishing a higher version under its name: a name the project pins
//! (`path`, or `registry = "…"`) comes from there; otherwise from the catalog when the
//! catalog has it; otherwise from the one registry that has it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use semver::{Version, VersionReq};

use std::sync::OnceLock;

use super::GraphError;
use super::index::{self, INDEX_FILE, RegistryIndex};
use crate::manifest::bundle::BundleManifest;
use crate::manifest::project::{BundleRequest, ProjectManifest};
use crate::manifest::tree::BundleTree;

/// Where a bundle came from, as recorded in `capm.lock`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceId {
    Catalog,
    /// A directory, as written in capm.toml (relative to the project).
    Path(String),
    /// A registry declared in capm.toml, by name.
    Registry(String),
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceId::Catalog => f.write_str("catalog"),
            SourceId::Path(p) => write!(f, "path+{p}"),
            SourceId::Registry(r) => write!(f, "registry+{r}"),
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
    Dir(PathBuf),
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
            origin: Origin::Dir(dir.join(&e.name).join(&e.version)),
            name: e.name,
            version,
            source: SourceId::Registry(registry.to_string()),
            digest: e.sha256,
            deps,
            description: e.description,
            keywords: e.keywords,
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
            origin: Origin::Dir(PathBuf::new()),
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
        }
    }

    /// The catalog alone.
    pub fn catalog_only() -> Result<Sources, GraphError> {
        Sources::load(None, Path::new("."))
    }

    /// The catalog, plus the project's registries and path bundles.
    pub fn load(project: Option<&ProjectManifest>, root: &Path) -> Result<Sources, GraphError> {
        Sources::load_with(project, root, false).map(|(sources, _)| sources)
    }

    /// Like [`Sources::load`], but a registry that cannot be read (its directory missing or
    /// unreadable, its index malformed) is left out and reported instead of failing: for
    /// commands that look bundles up, where the other sources still answer.
    pub fn load_tolerant(
        project: Option<&ProjectManifest>,
        root: &Path,
    ) -> Result<(Sources, Vec<Unreachable>), GraphError> {
        Sources::load_with(project, root, true)
    }

    fn load_with(
        project: Option<&ProjectManifest>,
        root: &Path,
        tolerant: bool,
    ) -> Result<(Sources, Vec<Unreachable>), GraphError> {
        let (catalog, mut all) = catalog_candidates()?;
        let mut unreachable = Vec::new();
        let mut sources = Sources {
            by_name: BTreeMap::new(),
            registry_data: Vec::new(),
            pinned: BTreeMap::new(),
            catalog,
            registries: Vec::new(),
        };
        if let Some(p) = project {
            for (name, decl) in &p.registries {
                let Some(dir) = &decl.path else { continue };
                let dir = root.join(&dir.value);
                tracing::info!("reading registry `{}` at `{}`", name.value, dir.display());
                let opened = Registry::open(&name.value, &dir).and_then(|r| {
                    if tolerant {
                        r.check_all()?;
                    }
                    Ok(r)
                });
                match opened {
                    Ok(r) => sources.registry_data.push(r),
                    Err(error) if tolerant => {
                        unreachable.push(Unreachable {
                            registry: name.value.clone(),
                            error,
                        });
                        continue;
                    }
                    Err(e) => return Err(e),
                }
                sources.registries.push((name.value.clone(), dir));
            }
            for (name, req) in &p.bundles {
                let BundleRequest::Detailed { path, registry, .. } = req else {
                    continue;
                };
                if let Some(path) = path {
                    tracing::info!("reading bundle `{name}` at `{}`", path.value);
                    let c = path_candidate(root, &path.value, &format!("bundle `{name}`"))?;
                    if c.name != name.value {
                        return Err(GraphError::NameMismatch {
                            requested: name.value.clone(),
                            found: c.name,
                            path: path.value.clone(),
                        });
                    }
                    sources.pinned.insert(name.value.clone(), c.source.clone());
                    all.push(c);
                } else if let Some(r) = registry {
                    sources
                        .pinned
                        .insert(name.value.clone(), SourceId::Registry(r.value.clone()));
                }
            }
        }
        for c in all {
            sources.by_name.entry(c.name.clone()).or_default().push(c);
        }
        Ok((sources, unreachable))
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
    /// `capm add ./path`.
    pub fn path_bundle_name(root: &Path, path: &str) -> Result<String, GraphError> {
        Ok(path_candidate(root, path, "a bundle")?.name)
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

    /// Reads a candidate's files, refusing content that does not match its digest.
    pub fn tree(&self, c: &Candidate) -> Result<BundleTree, GraphError> {
        let tree = match &c.origin {
            Origin::Catalog(i) => self.catalog[*i].clone(),
            Origin::Dir(dir) => {
                tracing::info!("reading {} {} at `{}`", c.name, c.version, dir.display());
                let shown = dir.display().to_string();
                let shown = shown.strip_prefix("./").unwrap_or(&shown);
                BundleTree::read(dir, shown).map_err(|e| GraphError::Io {
                    path: dir.clone(),
                    source: e,
                })?
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
fn path_candidate(root: &Path, path: &str, what: &str) -> Result<Candidate, GraphError> {
    let dir = root.join(path);
    if !dir.join(crate::manifest::tree::MANIFEST).is_file() {
        return Err(GraphError::MissingSource {
            what: what.to_string(),
            path: dir,
        });
    }
    let tree = BundleTree::read(&dir, path.to_string()).map_err(|e| GraphError::Io {
        path: dir.clone(),
        source: e,
    })?;
    from_tree(&tree, SourceId::Path(path.to_string()), Origin::Dir(dir))
}
