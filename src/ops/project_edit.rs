//! Editing capm.toml for an operation, in place (comments and layout kept, docs/spec.md
//! §3.2), so that it stays in agreement with what capm.lock will record: `add` records the
//! bundles named (from a path or a registry too), `remove` drops them (and the `[inputs]`
//! only they read), `update --latest` moves a requirement the new version no longer meets,
//! `--input` sets `[inputs]`, a table appended at the end of the file, and a conflict
//! settled by keeping the user's version is remembered in a bundle's `skip`.

use std::collections::BTreeMap;

use petgraph::visit::EdgeFiltered;
use toml_edit::{DocumentMut, Item, TableLike};

use super::plan::{PlanError, PlanRequest, parse_spec};
use super::project::Project;
use crate::graph::{Edge, Node, Resolution};
use crate::manifest::project::{BundleRequest, ProjectManifest};
use crate::manifest::span::{Span, Spanned};
use crate::plan::model::Operation;
use crate::remote::RemoteError;

/// capm.toml after the operation, and the edits in words; `None` when it is unchanged.
/// `record` maps conflicts settled now by keeping the user's version to the bundle that
/// provides each: they are remembered in the `skip` of the capm.toml entry that brings it in.
pub fn edit(
    project: &Project,
    req: &PlanRequest,
    resolution: &Resolution,
    new_sources: &BTreeMap<String, NewSource>,
    record: &BTreeMap<String, String>,
) -> Result<(Option<String>, Vec<String>), PlanError> {
    let text = project.source.text.as_str();
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| PlanError::Manifest(format!("capm.toml cannot be edited: {e}")))?;
    let mut changes = Vec::new();
    set_inputs(&mut doc, req, &mut changes)?;
    match req.operation {
        Operation::Install => add_bundles(&mut doc, req, resolution, new_sources, &mut changes)?,
        Operation::Uninstall => {
            let kept = remove_bundles(&mut doc, req, resolution, &mut changes)?;
            drop_unread_inputs(&mut doc, resolution, &mut changes);
            record_skips(&mut doc, resolution, &kept, &mut changes)?;
        }
        Operation::Update if req.latest => follow_latest(&mut doc, req, resolution, &mut changes)?,
        Operation::Update => {}
    }
    record_skips(&mut doc, resolution, record, &mut changes)?;
    let mut new = doc.to_string();
    if text.ends_with('\n') && !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    Ok(((new != text).then_some(new), changes))
}

/// The table `name`, created at the end of the file when missing. The comments that end
/// the file stay above the new header, with the table they follow (a template's
/// commented-out examples under `[bundles]` stay there).
fn table_mut<'d>(doc: &'d mut DocumentMut, name: &str) -> Result<&'d mut dyn TableLike, PlanError> {
    if doc.get(name).is_none() {
        let trailing = doc.trailing().as_str().unwrap_or("").to_string();
        let mut table = toml_edit::Table::new();
        if !trailing.trim().is_empty() {
            let sep = if trailing.ends_with("\n\n") { "" } else { "\n" };
            table.decor_mut().set_prefix(format!("{trailing}{sep}"));
            doc.set_trailing("");
        }
        doc.insert(name, Item::Table(table));
    }
    doc[name]
        .as_table_like_mut()
        .ok_or_else(|| PlanError::Manifest(format!("capm.toml's `{name}` is not a table")))
}

/// `--input NAME=VALUE`: set in `[inputs]`.
fn set_inputs(
    doc: &mut DocumentMut,
    req: &PlanRequest,
    changes: &mut Vec<String>,
) -> Result<(), PlanError> {
    for (name, value) in &req.inputs {
        if !crate::manifest::common::is_env_name(name) {
            return Err(PlanError::Usage(format!(
                "`{name}` is not an environment variable name"
            )));
        }
        let table = table_mut(doc, "inputs")?;
        if table.get(name).and_then(|v| v.as_str()) != Some(value.as_str()) {
            table.insert(name, toml_edit::value(value.clone()));
            changes.push(format!("set input {name} = \"{value}\""));
        }
    }
    Ok(())
}

/// `remove`: the named bundles leave `[bundles]`. Returns the settled conflicts their
/// entries recorded whose resource a bundle staying still provides, with that bundle: they
/// stay settled, recorded on the entry that now brings the provider in. The comments above
/// a removed `[bundles.NAME]` header stay where they were.
fn remove_bundles(
    doc: &mut DocumentMut,
    req: &PlanRequest,
    resolution: &Resolution,
    changes: &mut Vec<String>,
) -> Result<BTreeMap<String, String>, PlanError> {
    let mut kept = BTreeMap::new();
    let mut orphaned = Vec::new();
    let Some(table) = doc.get_mut("bundles").and_then(Item::as_table_like_mut) else {
        return Ok(kept);
    };
    for spec in &req.bundles {
        let (name, _) = parse_spec(spec)?;
        let Some(item) = table.remove(&name) else {
            continue;
        };
        changes.push(format!("remove {name}"));
        for id in skips_of(&item) {
            if let Some(provider) = provider_of(resolution, &id) {
                kept.insert(id, provider);
            }
        }
        // A `[bundles.NAME]` header carries the comments written above it.
        if let Some(t) = item.as_table() {
            let prefix = t.decor().prefix().and_then(|p| p.as_str()).unwrap_or("");
            if !prefix.trim().is_empty() {
                orphaned.push((t.position().unwrap_or(isize::MAX), prefix.to_string()));
            }
        }
    }
    for (position, comments) in orphaned {
        keep_comments(doc, position, &comments);
    }
    Ok(kept)
}

/// Puts `comments`, left by a table removed from `position`, above the table that now
/// follows that place, or at the end of the file.
fn keep_comments(doc: &mut DocumentMut, position: isize, comments: &str) {
    let mut tables = Vec::new();
    positions(doc.as_table(), &mut Vec::new(), &mut tables);
    let next = tables
        .into_iter()
        .filter(|(p, _)| *p > position)
        .min_by_key(|(p, _)| *p);
    let target = next.and_then(|(_, path)| {
        let mut t = doc.as_table_mut();
        for key in &path {
            t = t.get_mut(key)?.as_table_mut()?;
        }
        Some(t)
    });
    match target {
        Some(t) => {
            let own = t.decor().prefix().and_then(|p| p.as_str()).unwrap_or("");
            let prefix = format!("{comments}{own}");
            t.decor_mut().set_prefix(prefix);
        }
        None => {
            let trailing = doc.trailing().as_str().unwrap_or_default().to_string();
            doc.set_trailing(format!("{trailing}{comments}"));
        }
    }
}

/// Every table below `table` (headers in the file), with its position and key path.
fn positions(
    table: &toml_edit::Table,
    path: &mut Vec<String>,
    out: &mut Vec<(isize, Vec<String>)>,
) {
    for (key, item) in table.iter() {
        if let Some(t) = item.as_table() {
            path.push(key.to_string());
            if let Some(p) = t.position() {
                out.push((p, path.clone()));
            }
            positions(t, path, out);
            path.pop();
        }
    }
}

/// The resources a capm.toml entry's `skip` lists.
fn skips_of(item: &Item) -> Vec<String> {
    let list = item.as_table_like().and_then(|t| t.get("skip"));
    list.and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The bundle that provides resource `id` in the resolved graph.
fn provider_of(resolution: &Resolution, id: &str) -> Option<String> {
    let g = &resolution.graph;
    let resource = g
        .node_indices()
        .find(|&n| matches!(&g[n], Node::Resource { id: x } if x == id))?;
    g.neighbors_directed(resource, petgraph::Direction::Incoming)
        .find_map(|n| match &g[n] {
            Node::Bundle { name, .. } => Some(name.clone()),
            _ => None,
        })
}

/// `remove`: `[inputs]` that no server of the bundles staying reads go with the bundles
/// that read them, so that the next plan does not refuse them as unread.
fn drop_unread_inputs(doc: &mut DocumentMut, resolution: &Resolution, changes: &mut Vec<String>) {
    let read: Vec<String> = crate::plan::build::environment(resolution, &Default::default())
        .into_iter()
        .map(|e| e.name)
        .collect();
    let Some(table) = doc.get_mut("inputs").and_then(Item::as_table_like_mut) else {
        return;
    };
    let unread: Vec<String> = table
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| !read.contains(k))
        .collect();
    if unread.is_empty() {
        return;
    }
    for name in unread {
        table.remove(&name);
        changes.push(format!("remove input {name}"));
    }
    if table.is_empty() {
        // An empty `[inputs]` goes; the comments above its header stay.
        let header = doc["inputs"].as_table().map(|t| {
            let prefix = t.decor().prefix().and_then(|p| p.as_str()).unwrap_or("");
            (t.position().unwrap_or(isize::MAX), prefix.to_string())
        });
        doc.remove("inputs");
        if let Some((position, comments)) = header.filter(|(_, c)| !c.trim().is_empty()) {
            keep_comments(doc, position, &comments);
        }
    }
}

/// `add` (and `install NAME`): record the named bundles, with the requirement given or
/// `^` and the version resolved.
fn add_bundles(
    doc: &mut DocumentMut,
    req: &PlanRequest,
    resolution: &Resolution,
    new_sources: &BTreeMap<String, NewSource>,
    changes: &mut Vec<String>,
) -> Result<(), PlanError> {
    if req.bundles.is_empty() {
        return Ok(());
    }
    for source in new_sources.values() {
        if let NewSource::Registry {
            name,
            declare: Some(url),
        } = source
        {
            declare_registry(doc, name, url, changes)?;
        }
    }
    let table = table_mut(doc, "bundles")?;
    for spec in &req.bundles {
        let (name, version) = parse_spec(spec)?;
        let resolved = || {
            resolution
                .bundles
                .iter()
                .find(|b| b.name == name)
                .map(|b| format!("^{}", b.version))
        };
        match new_sources.get(&name) {
            Some(NewSource::Path { path, skills }) => {
                let fields = with_skills(vec![("path", path.into())], skills);
                set_source(table, &name, &fields, changes)
            }
            Some(NewSource::Git {
                url,
                reference,
                skills,
            }) => {
                let mut fields = with_skills(vec![("git", url.into())], skills);
                if let Some((k, v)) = reference {
                    fields.push((k.as_str(), v.into()));
                }
                set_source(table, &name, &fields, changes);
            }
            Some(NewSource::Oci {
                repository,
                version,
            }) => set_source(
                table,
                &name,
                &[("oci", repository.into()), ("version", version.into())],
                changes,
            ),
            Some(NewSource::Registry { name: r, .. }) => {
                let Some(wanted) = version.as_ref().map(ToString::to_string).or_else(resolved)
                else {
                    continue;
                };
                set_source(
                    table,
                    &name,
                    &[("version", wanted.into()), ("registry", r.into())],
                    changes,
                );
            }
            None => {
                let wanted = match (&version, table.get(&name)) {
                    (Some(v), _) => v.to_string(),
                    (None, Some(_)) => continue,
                    (None, None) => match resolved() {
                        Some(w) => w,
                        None => continue,
                    },
                };
                set_requirement(table, &name, &wanted, changes);
            }
        }
    }
    Ok(())
}

/// Points `name` at a source: the entry becomes an inline table holding exactly `fields`
/// (the `skip` it had stays).
fn set_source(
    table: &mut dyn TableLike,
    name: &str,
    fields: &[(&str, toml_edit::Value)],
    changes: &mut Vec<String>,
) {
    let mut wanted = toml_edit::InlineTable::new();
    for (k, v) in fields {
        wanted.insert(*k, v.clone());
    }
    let old = table.get(name);
    let same = old.and_then(Item::as_table_like).is_some_and(|t| {
        fields.iter().all(|(k, v)| {
            t.get(k)
                .and_then(Item::as_value)
                .is_some_and(|o| same_value(o, v))
        }) && t
            .iter()
            .all(|(k, _)| k == "skip" || fields.iter().any(|(f, _)| *f == k))
    });
    if same {
        return;
    }
    if let Some(skip) = old
        .and_then(Item::as_table_like)
        .and_then(|t| t.get("skip"))
        .and_then(|s| s.as_value())
    {
        wanted.insert("skip", skip.clone());
    }
    let verb = if old.is_some() { "set" } else { "add" };
    changes.push(format!("{verb} {name} = {wanted}"));
    match table.get_mut(name) {
        Some(item) => replace_value(item, wanted.into()),
        None => {
            table.insert(name, toml_edit::value(wanted));
        }
    }
}

/// Whether two values of capm.toml are equal, whatever their layout: strings, or arrays
/// of strings (`skills`).
fn same_value(a: &toml_edit::Value, b: &toml_edit::Value) -> bool {
    let strings = |v: &toml_edit::Value| -> Option<Vec<String>> {
        match v {
            toml_edit::Value::Array(a) => {
                a.iter().map(|e| e.as_str().map(str::to_string)).collect()
            }
            other => other.as_str().map(|s| vec![s.to_string()]),
        }
    };
    a.is_array() == b.is_array() && strings(a).is_some() && strings(a) == strings(b)
}

/// `fields` followed by `skills = [...]` when skills are taken.
fn with_skills<'a>(
    mut fields: Vec<(&'a str, toml_edit::Value)>,
    skills: &[String],
) -> Vec<(&'a str, toml_edit::Value)> {
    if !skills.is_empty() {
        fields.push(("skills", skills.iter().collect::<toml_edit::Array>().into()));
    }
    fields
}

/// Replaces a value in place, keeping the spaces and the comment around it
/// (`code-review = "^1" # for reviews` keeps `# for reviews`).
fn replace_value(item: &mut Item, mut new: toml_edit::Value) {
    if let Some(old) = item.as_value() {
        *new.decor_mut() = old.decor().clone();
    }
    *item = Item::Value(new);
}

/// Where a bundle that `add` names comes from, when not from the usual search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewSource {
    /// A bundle directory, relative to the project, and the skills taken from it.
    Path { path: String, skills: Vec<String> },
    /// A registry declared in capm.toml; with `declare`, one `add --registry URL` declares
    /// under that name.
    Registry {
        name: String,
        declare: Option<String>,
    },
    /// A git repository, with the capm.toml fields that say which commit (`tag`, `branch`,
    /// `rev` or a `version` range; none for the default branch).
    Git {
        url: String,
        reference: Option<(String, String)>,
        skills: Vec<String>,
    },
    /// An OCI repository, and the version range over its tags.
    Oci { repository: String, version: String },
}

/// What `add` was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    /// `NAME` or `NAME@REQ`.
    Name,
    /// A bundle directory.
    Path,
    /// A git repository: `git+URL`, `https://…`, `ssh://…`, `git://…` or `user@host:path`.
    Git(String),
    /// `oci://REPOSITORY`.
    Oci(String),
}

/// Classifies what `add` was given: a URL names a git repository (an `oci://` one an OCI
/// repository), a spec that starts with `.` or holds a slash a directory, anything else a
/// name.
pub fn classify(spec: &str) -> Spec {
    if let Some(r) = spec.strip_prefix("oci://") {
        return Spec::Oci(r.to_string());
    }
    if let Some(r) = spec.strip_prefix("git+") {
        return Spec::Git(r.to_string());
    }
    let url = ["https://", "http://", "ssh://", "git://"]
        .iter()
        .any(|p| spec.starts_with(p));
    // `git@github.com:org/kit.git`: a user, a host, and a colon before any slash.
    let scp = spec.split_once(':').is_some_and(|(before, _)| {
        before.contains('@') && !before.contains('/') && !before.starts_with('.')
    });
    if url || scp {
        Spec::Git(spec.to_string())
    } else if is_path_spec(spec) {
        Spec::Path
    } else {
        Spec::Name
    }
}

/// Whether `add` was given the path of a bundle directory (`./tools`, `../kit`, `/srv/x`)
/// rather than a name: names never start with `.` nor hold a slash.
pub fn is_path_spec(spec: &str) -> bool {
    spec.starts_with('.') || spec.contains('/') || spec.contains('\\')
}

/// `add` with paths or `--registry`: the request with every bundle as `NAME[@REQ]`, the
/// manifest as if capm.toml already named those sources (so that resolution finds them
/// there), and the source of each bundle named so.
pub fn with_sources(
    project: &Project,
    req: &PlanRequest,
) -> Result<(PlanRequest, ProjectManifest, BTreeMap<String, NewSource>), PlanError> {
    let req = &mcp_names(&project.manifest, req);
    let mut named = req.clone();
    let mut manifest = project.manifest.clone();
    let mut sources = BTreeMap::new();
    let any_path = req.bundles.iter().any(|s| is_path_spec(s));
    let any_source = req.bundles.iter().any(|s| classify(s) != Spec::Name);
    if !any_source && req.registry.is_none() && req.git_ref.is_none() && req.skills.is_empty() {
        return Ok((named, manifest, sources));
    }
    if req.operation != Operation::Install {
        return Err(PlanError::Usage(
            "only `add` takes a bundle's path or a registry".into(),
        ));
    }
    if req.registry.is_some() && any_path {
        return Err(PlanError::Usage(
            "a path bundle comes from its directory, not from a registry: give --registry with bundle names only".into(),
        ));
    }
    let registry = match &req.registry {
        Some(r) if r.contains("://") => Some(registry_by_url(&mut manifest, r)?),
        Some(r) if !manifest.registries.contains_key(r.as_str()) => {
            return Err(PlanError::Usage(format!(
                "registry `{r}` is not declared under [registries] in capm.toml; add `{r} = {{ url = \"https://…\" }}` there first, or give its URL"
            )));
        }
        Some(r) => Some((r.clone(), None)),
        None => None,
    };
    check_skills(req)?;
    for (spec, out) in req.bundles.iter().zip(named.bundles.iter_mut()) {
        let (name, version, source) = match classify(spec) {
            Spec::Git(url) => remote_source(
                project,
                spec,
                NewSource::Git {
                    url,
                    reference: req.git_ref.clone(),
                    skills: req.skills.clone(),
                },
            )?,
            Spec::Oci(repository) => remote_source(
                project,
                spec,
                NewSource::Oci {
                    repository,
                    version: "*".into(),
                },
            )?,
            _ if req.git_ref.is_some() => {
                return Err(PlanError::Usage(format!(
                    "`{spec}` is not a git URL: --tag, --branch and --rev go with one"
                )));
            }
            Spec::Path => {
                let path = spec.replace('\\', "/");
                let path = path.strip_prefix("./").unwrap_or(&path).to_string();
                let skills = req.skills.clone();
                let name = crate::graph::Sources::path_bundle_name(&project.root, &path, &skills)?;
                (name, None, NewSource::Path { path, skills })
            }
            Spec::Name => {
                let (name, version) = parse_spec(spec)?;
                let (registry, declare) = registry.clone().unwrap_or_default();
                (
                    name,
                    version,
                    NewSource::Registry {
                        name: registry,
                        declare,
                    },
                )
            }
        };
        *out = match &version {
            Some(v) => format!("{name}@{v}"),
            None => name.clone(),
        };
        manifest.bundles.insert(
            Spanned::new(name.clone(), Span::default()),
            planned(&source, version),
        );
        sources.insert(name, source);
    }
    Ok((named, manifest, sources))
}

/// `--skill` takes skills of one git repository or directory: not of a bundle named.
fn check_skills(req: &PlanRequest) -> Result<(), PlanError> {
    if req.skills.is_empty() {
        return Ok(());
    }
    match req.bundles.as_slice() {
        [one] if classify(one) == Spec::Name => Err(PlanError::Usage(format!(
            "--skill takes skills from a git repository or a directory, and `{one}` is a bundle name; give the repository (`git+URL`, `./dir`)"
        ))),
        [_] => Ok(()),
        _ => Err(PlanError::Usage(
            "--skill takes skills from one git repository or directory: name only that one".into(),
        )),
    }
}

/// With `--registry` naming an MCP Registry, the server names given
/// (`io.github.acme/weather[@1.2.0]`) stand for the bundle names they make
/// (`io-github-acme-weather`).
fn mcp_names(manifest: &ProjectManifest, req: &PlanRequest) -> PlanRequest {
    let mut req = req.clone();
    let registry = req
        .registry
        .as_deref()
        .and_then(|r| manifest.registries.get(r));
    if registry.is_none_or(|d| d.mcp_registry.is_none()) {
        return req;
    }
    for spec in &mut req.bundles {
        let (server, version) = match spec.rsplit_once('@') {
            Some((s, v)) if !s.is_empty() => (s.to_string(), Some(v.to_string())),
            _ => (spec.clone(), None),
        };
        if let Some(name) = crate::formats::bundle_name(&server) {
            *spec = version.map_or(name.clone(), |v| format!("{name}@{v}"));
        }
    }
    req
}

/// The registry capm.toml declares with the URL `url`, or a new one named after its host
/// (`capm-example-com`), declared in `manifest` for planning; `Some(url)` when capm.toml
/// will get the declaration.
fn registry_by_url(
    manifest: &mut ProjectManifest,
    url: &str,
) -> Result<(String, Option<String>), PlanError> {
    crate::remote::http::check_registry_url(url)
        .map_err(|e| PlanError::Graph(crate::graph::GraphError::Remote(e)))?;
    let same = |a: &str| a.trim_end_matches('/') == url.trim_end_matches('/');
    if let Some((name, _)) = manifest
        .registries
        .iter()
        .find(|(_, d)| d.url.as_ref().is_some_and(|u| same(&u.value)))
    {
        return Ok((name.value.clone(), None));
    }
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "registry".into());
    let base = crate::remote::cache::slug(&host)
        .trim_matches('-')
        .to_string();
    let name = (1..)
        .map(|i| {
            if i == 1 {
                base.clone()
            } else {
                format!("{base}-{i}")
            }
        })
        .find(|n| !manifest.registries.contains_key(n.as_str()))
        .expect("some name is free");
    manifest.registries.insert(
        Spanned::new(name.clone(), Span::default()),
        crate::manifest::project::RegistryDecl {
            path: None,
            url: Some(Spanned::new(url.to_string(), Span::default())),
            marketplace: None,
            mcp_registry: None,
            span: Span::default(),
        },
    );
    Ok((name, Some(url.to_string())))
}

/// Adds `[registries] name = { url = "…" }` to capm.toml.
fn declare_registry(
    doc: &mut DocumentMut,
    name: &str,
    url: &str,
    changes: &mut Vec<String>,
) -> Result<(), PlanError> {
    let table = table_mut(doc, "registries")?;
    if table.get(name).is_some() {
        return Ok(());
    }
    let mut decl = toml_edit::InlineTable::new();
    decl.insert("url", url.into());
    changes.push(format!("add registry {name} = {decl}"));
    table.insert(name, toml_edit::value(decl));
    Ok(())
}

/// A git or OCI repository `add` was given: the bundle's name, learnt by asking the
/// repository, and its source as capm.toml will record it. Without a reference, a git
/// repository is followed over its version tags (`version = "^1.2.0"` for the newest),
/// or, when it has none, on its default branch.
fn remote_source(
    project: &Project,
    spec: &str,
    source: NewSource,
) -> Result<(String, Option<semver::VersionReq>, NewSource), PlanError> {
    let net = crate::remote::net();
    let ask = |source: &NewSource| -> Result<Vec<crate::remote::Release>, RemoteError> {
        let request = planned(source, None);
        let decl = crate::graph::source::declared(None, &request, &project.root, |_| None)
            .map(|(_, d)| d)
            .expect("a git or OCI source");
        let answer = crate::remote::open(&decl, &net).and_then(|s| s.releases(&[], &net))?;
        Ok(answer.into_iter().flat_map(|(_, r)| r).collect())
    };
    let mut source = source;
    let releases = match &mut source {
        // Over its version tags; a repository with none is followed on its default branch.
        NewSource::Git { reference, .. } if reference.is_none() => {
            *reference = Some(("version".into(), "*".into()));
            match ask(&source) {
                Err(RemoteError::RefNotFound { .. }) => {
                    if let NewSource::Git { reference, .. } = &mut source {
                        *reference = None;
                    }
                    ask(&source)
                }
                other => other,
            }
        }
        _ => ask(&source),
    }
    .map_err(crate::graph::GraphError::from)?;
    let newest = releases
        .iter()
        .filter(|r| !r.yanked)
        .max_by(|a, b| a.version.cmp(&b.version))
        .ok_or_else(|| PlanError::Usage(format!("`{spec}` holds no bundle")))?;
    let caret = format!("^{}", newest.version);
    match &mut source {
        NewSource::Git {
            reference: Some((kind, range)),
            ..
        } if kind == "version" => *range = caret,
        NewSource::Oci { version, .. } => *version = caret,
        _ => {}
    }
    Ok((newest.name.clone(), None, source))
}

/// The capm.toml entry a new source stands for while planning.
fn planned(source: &NewSource, version: Option<semver::VersionReq>) -> BundleRequest {
    let at = |v: &str| Some(Spanned::new(v.to_string(), Span::default()));
    let reference = |key: &str| match source {
        NewSource::Git {
            reference: Some((k, v)),
            ..
        } if k == key => at(v),
        _ => None,
    };
    let version = match source {
        NewSource::Oci { version, .. } => at(version),
        NewSource::Git { .. } => reference("version"),
        _ => version.and_then(|v| at(&v.to_string())),
    };
    BundleRequest::Detailed {
        version,
        path: match source {
            NewSource::Path { path, .. } => at(path),
            _ => None,
        },
        registry: match source {
            NewSource::Registry { name, .. } => at(name),
            _ => None,
        },
        git: match source {
            NewSource::Git { url, .. } => at(url),
            _ => None,
        },
        tag: reference("tag"),
        branch: reference("branch"),
        rev: reference("rev"),
        oci: match source {
            NewSource::Oci { repository, .. } => at(repository),
            _ => None,
        },
        skip: Vec::new(),
        skills: match source {
            NewSource::Path { skills, .. } | NewSource::Git { skills, .. } => skills
                .iter()
                .map(|s| Spanned::new(s.clone(), Span::default()))
                .collect(),
            _ => Vec::new(),
        },
        span: Span::default(),
    }
}

/// Sets `name`'s requirement to `wanted`: the string, or the `version` of its table.
fn set_requirement(table: &mut dyn TableLike, name: &str, wanted: &str, changes: &mut Vec<String>) {
    match table.get_mut(name) {
        Some(item) if item.is_str() => {
            if item.as_str() != Some(wanted) {
                replace_value(item, wanted.into());
                changes.push(format!("set {name} = \"{wanted}\""));
            }
        }
        Some(item) => {
            if let Some(t) = item.as_table_like_mut()
                && t.get("version").and_then(|v| v.as_str()) != Some(wanted)
            {
                t.insert("version", toml_edit::value(wanted));
                changes.push(format!("set {name}.version = \"{wanted}\""));
            }
        }
        None => {
            table.insert(name, toml_edit::value(wanted));
            changes.push(format!("add {name} = \"{wanted}\""));
        }
    }
}

/// `update --latest`: a requirement in capm.toml that the version now resolved does not
/// meet becomes `^VERSION`, so that capm.toml and capm.lock agree (and `install --locked`
/// accepts the lock). Requirements the new version meets, and path bundles without one,
/// stay as written.
fn follow_latest(
    doc: &mut DocumentMut,
    req: &PlanRequest,
    resolution: &Resolution,
    changes: &mut Vec<String>,
) -> Result<(), PlanError> {
    let named: Vec<String> = req
        .bundles
        .iter()
        .map(|s| parse_spec(s).map(|(n, _)| n))
        .collect::<Result<_, _>>()?;
    let Some(table) = doc.get_mut("bundles").and_then(Item::as_table_like_mut) else {
        return Ok(());
    };
    for b in &resolution.bundles {
        if !named.is_empty() && !named.contains(&b.name) {
            continue;
        }
        let current = match table.get(&b.name) {
            Some(item) if item.is_str() => item.as_str(),
            Some(item) => item
                .as_table_like()
                .and_then(|t| t.get("version"))
                .and_then(Item::as_str),
            None => continue,
        };
        let Some(current) = current else { continue };
        let meets = semver::VersionReq::parse(current).is_ok_and(|r| r.matches(&b.version));
        if !meets {
            set_requirement(table, &b.name, &format!("^{}", b.version), changes);
        }
    }
    Ok(())
}

/// Adds each settled resource to the `skip` list of the capm.toml entry that brings its
/// provider in: the provider itself when capm.toml names it, else the first entry that
/// depends on it. A plain requirement becomes an inline table to hold the list.
fn record_skips(
    doc: &mut DocumentMut,
    resolution: &Resolution,
    record: &BTreeMap<String, String>,
    changes: &mut Vec<String>,
) -> Result<(), PlanError> {
    if record.is_empty() {
        return Ok(());
    }
    let table = table_mut(doc, "bundles")?;
    let names: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    for (id, provider) in record {
        let Some(owner) = names
            .iter()
            .find(|n| *n == provider)
            .or_else(|| names.iter().find(|n| depends_on(resolution, n, provider)))
        else {
            continue;
        };
        let Some(item) = table.get_mut(owner) else {
            continue;
        };
        if let Some(req) = item.as_str().map(str::to_string) {
            let mut t = toml_edit::InlineTable::new();
            t.insert("version", req.into());
            replace_value(item, t.into());
        }
        let Some(entry) = item.as_table_like_mut() else {
            continue;
        };
        if entry.get("skip").is_none() {
            entry.insert("skip", toml_edit::value(toml_edit::Array::new()));
        }
        if let Some(list) = entry.get_mut("skip").and_then(Item::as_array_mut) {
            list.push(id.as_str());
            changes.push(format!("keep your {id}: add it to {owner}.skip"));
        }
    }
    Ok(())
}

/// Whether bundle `from` depends on bundle `to`, directly or not, in the resolved graph.
fn depends_on(resolution: &Resolution, from: &str, to: &str) -> bool {
    let g = &resolution.graph;
    let node = |name: &str| {
        g.node_indices()
            .find(|&n| matches!(&g[n], Node::Bundle { name: x, .. } if x == name))
    };
    let (Some(a), Some(b)) = (node(from), node(to)) else {
        return false;
    };
    let deps = EdgeFiltered::from_fn(g, |e| matches!(e.weight(), Edge::DependsOn { .. }));
    petgraph::algo::has_path_connecting(&deps, a, b, None)
}
