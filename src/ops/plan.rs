//! `capm plan install|update|uninstall`: what the operation would do to the project's
//! scope, as a [`Plan`]. Reads the project, its sources and the scope; writes nothing.

use std::collections::BTreeSet;
use std::path::PathBuf;

use semver::VersionReq;

use super::project::Project;
use crate::graph::{self, GraphError, Request, Sources};
use crate::manifest::common::{Scope, is_valid_name};
use crate::manifest::lock::Lockfile;
use crate::plan::build::{PlanInput, build};
use crate::plan::model::{Operation, Plan, PlanRequestDoc};
use crate::plan::state::ScopeState;
use crate::target::ScopeRoot;
use crate::target::opencode::OpenCode;

/// What to plan.
#[derive(Clone, Debug)]
pub struct PlanRequest {
    pub operation: Operation,
    /// `NAME` or `NAME@REQ`: bundles to add (install), refresh (update) or remove (uninstall).
    pub bundles: Vec<String>,
    /// Update beyond capm.toml's requirements.
    pub latest: bool,
    /// Uninstall: remove files the user modified too.
    pub purge: bool,
    /// Resources whose conflicts are settled by keeping the user's version.
    pub skip: BTreeSet<String>,
    /// Values for non-secret environment variables, to record in capm.toml's `[inputs]`.
    pub inputs: std::collections::BTreeMap<String, String>,
    /// The OpenCode config directory for global scope (`$XDG_CONFIG_HOME/opencode`).
    pub global_config: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The command line asks for something impossible (an invalid name or requirement).
    #[error("{0}")]
    Usage(String),
    /// A bundle named for update or removal that the project does not have (for removal:
    /// that capm.toml does not list).
    #[error("{message}")]
    NotInProject { name: String, message: String },
    /// A bundle named for removal that another bundle of the project still needs.
    #[error("`{0}` is still needed by another bundle of the project; uninstall that one too")]
    StillNeeded(String),
    /// capm.toml cannot be edited as the operation needs.
    #[error("{0}")]
    Manifest(String),
    /// A value given for an environment variable that may not have one (a secret, or a
    /// variable no server of the project reads). The value is never repeated.
    #[error("{0}")]
    Input(String),
    #[error("cannot read the scope: {0}")]
    Io(#[from] std::io::Error),
}

fn parse_spec(spec: &str) -> Result<(String, Option<VersionReq>), PlanError> {
    let (name, req) = match spec.split_once('@') {
        Some((n, r)) => (n, Some(r)),
        None => (spec, None),
    };
    if !is_valid_name(name) {
        return Err(PlanError::Usage(format!(
            "`{name}` is not a valid bundle name"
        )));
    }
    let req = req
        .map(|r| {
            VersionReq::parse(r).map_err(|e| {
                PlanError::Usage(format!("`{spec}`: `{r}` is not a version requirement: {e}"))
            })
        })
        .transpose()?;
    Ok((name.to_string(), req))
}

/// The resources that bundles leaving the graph hand to the user (`[uninstall] preserves`),
/// read from the versions the lock records.
fn preserves_of_removed(
    sources: &Sources,
    lock: Option<&Lockfile>,
    keep: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for locked in lock
        .into_iter()
        .flat_map(|l| &l.bundles)
        .filter(|b| !keep.contains(&b.name))
    {
        let Ok(candidates) = sources.candidates(&locked.name) else {
            continue;
        };
        let Some(c) = candidates.into_iter().find(|c| {
            c.version.to_string() == locked.version && c.source.to_string() == locked.source
        }) else {
            continue;
        };
        let Ok(tree) = sources.tree(c) else { continue };
        if let Some(m) = crate::validate::check_bundle(&tree).manifest
            && let Some(u) = &m.uninstall
        {
            out.extend(u.preserves.iter().map(|p| p.value.clone()));
        }
    }
    out
}

/// The scope a project installs into: itself, or the client's global config directory.
pub fn scope_of(project: &Project, global_config: &std::path::Path) -> ScopeRoot {
    let scope = project
        .manifest
        .project
        .as_ref()
        .and_then(|p| p.scope.as_ref())
        .map(|s| s.value)
        .unwrap_or(Scope::Project);
    match scope {
        Scope::Project => ScopeRoot::Project(project.root.clone()),
        Scope::Global => ScopeRoot::Global(global_config.to_path_buf()),
    }
}

/// A plan with what applying it needs: the resolution, the scope as read, and capm.toml
/// as it will be.
pub struct Prepared {
    pub plan: Plan,
    pub resolution: graph::Resolution,
    pub scope: ScopeRoot,
    pub state: ScopeState,
    /// capm.toml's new text, when the operation edits it.
    pub manifest_text: Option<String>,
}

pub fn plan(project: &Project, req: &PlanRequest) -> Result<Plan, PlanError> {
    Ok(prepare(project, req)?.plan)
}

/// Computes the plan for `req`, keeping what applying it needs.
pub fn prepare(project: &Project, req: &PlanRequest) -> Result<Prepared, PlanError> {
    let _span = tracing::info_span!("plan", operation = ?req.operation).entered();
    for id in &req.skip {
        let known = id.split_once(':').is_some_and(|(kind, name)| {
            ["mcp", "skill", "plugin", "agent", "command"].contains(&kind) && is_valid_name(name)
        });
        if !known {
            return Err(PlanError::Usage(format!(
                "`{id}` is not a resource: write KIND:NAME, where KIND is mcp, skill, plugin, agent or command"
            )));
        }
    }
    let mut requests = graph::requests(&project.manifest)?;
    let mut lock = project.lock.clone();
    match req.operation {
        Operation::Install => {
            for spec in &req.bundles {
                let (name, version) = parse_spec(spec)?;
                match requests.iter_mut().find(|r| r.name == name) {
                    Some(existing) => {
                        if let Some(v) = version {
                            existing.req = v;
                        }
                    }
                    None => requests.push(Request {
                        name,
                        req: version.unwrap_or(VersionReq::STAR),
                    }),
                }
            }
        }
        Operation::Update => {
            let mut named = BTreeSet::new();
            for spec in &req.bundles {
                let (name, _) = parse_spec(spec)?;
                let known = lock
                    .as_ref()
                    .is_some_and(|l| l.bundles.iter().any(|b| b.name == name))
                    || requests.iter().any(|r| r.name == name);
                if !known {
                    let message = format!("`{name}` is not part of this project");
                    return Err(PlanError::NotInProject { name, message });
                }
                named.insert(name);
            }
            let all = named.is_empty();
            // Forget the locked versions of what is updated, so the newest allowed is chosen.
            if let Some(l) = lock.as_mut() {
                l.bundles.retain(|b| !(all || named.contains(&b.name)));
            }
            if req.latest {
                for r in requests
                    .iter_mut()
                    .filter(|r| all || named.contains(&r.name))
                {
                    r.req = VersionReq::STAR;
                }
            }
        }
        Operation::Uninstall => {
            if req.bundles.is_empty() {
                return Err(PlanError::Usage("name the bundles to uninstall".into()));
            }
            let mut named = BTreeSet::new();
            for spec in &req.bundles {
                let (name, _) = parse_spec(spec)?;
                let before = requests.len();
                requests.retain(|r| r.name != name);
                // A name given twice is removed once.
                if requests.len() == before && !named.contains(&name) {
                    let message = format!("`{name}` is not in capm.toml's [bundles]");
                    return Err(PlanError::NotInProject { name, message });
                }
                named.insert(name);
            }
        }
    }
    let sources = Sources::load(Some(&project.manifest), &project.root)?;
    let resolution = graph::build(&sources, &requests, lock.as_ref())?;
    if let Some(l) = &project.lock {
        graph::verify_lock(l, &resolution)?;
    }
    if req.operation == Operation::Uninstall {
        let still: Vec<&str> = req
            .bundles
            .iter()
            .map(|s| s.split('@').next().unwrap_or(s))
            .filter(|n| resolution.bundles.iter().any(|b| b.name == *n))
            .collect();
        if let Some(n) = still.first() {
            return Err(PlanError::StillNeeded(n.to_string()));
        }
    }
    let keep: BTreeSet<String> = resolution.bundles.iter().map(|b| b.name.clone()).collect();
    let preserves = preserves_of_removed(&sources, project.lock.as_ref(), &keep);
    let scope = scope_of(project, &req.global_config);
    // OpenCode merges the user's global config beneath a project's: an entry there with the
    // same key is a conflict too.
    let global = ScopeRoot::Global(req.global_config.clone());
    let beneath = matches!(scope, ScopeRoot::Project(_)).then_some(&global);
    let state = ScopeState::read_merged(&OpenCode, &scope, beneath)?;
    let policy = project
        .manifest
        .policy
        .as_ref()
        .map(|p| (p, &*project.source));
    let (manifest_text, manifest_changes) = edit_manifest(project, req, &resolution)?;
    let request = PlanRequestDoc {
        bundles: req.bundles.clone(),
        latest: req.latest,
        purge: req.purge,
        skip: req.skip.clone(),
        inputs: req.inputs.clone(),
    };
    let mut inputs = project.manifest.input_values();
    inputs.extend(req.inputs.clone());
    let input = PlanInput {
        operation: req.operation,
        request: &request,
        manifest_changes: &manifest_changes,
        preserves: &preserves,
        purge: req.purge,
        skip: &req.skip,
        inputs: &inputs,
        target: &OpenCode,
        scope: &scope,
        mode: project.manifest.product_mode(),
        resolution: &resolution,
        state: &state,
        lock: project.lock.as_ref(),
        policy,
    };
    let plan = build(&input)?;
    tracing::info!(
        "{}, {} actions, {} findings, risk {}",
        format!("{:?}", plan.status).to_lowercase(),
        plan.actions.len(),
        plan.findings.len(),
        format!("{:?}", plan.risk).to_lowercase()
    );
    // A secret's value is never recorded, in capm.toml or anywhere; and a value is only
    // taken for a setting a server of the project reads.
    for e in plan.environment.iter().filter(|e| e.secret) {
        if req.inputs.contains_key(&e.name) || project.manifest.input_values().contains_key(&e.name)
        {
            return Err(PlanError::Input(format!(
                "`{}` is a secret ({} reads it): capm never records its value; remove it from the inputs and set it in the environment OpenCode starts in",
                e.name,
                e.resources.join(", ")
            )));
        }
    }
    for name in req.inputs.keys() {
        if !plan
            .environment
            .iter()
            .any(|e| &e.name == name && !e.secret)
        {
            return Err(PlanError::Input(format!(
                "no server of this project reads a setting `{name}`; the plan's environment lists those that take a value"
            )));
        }
    }
    Ok(Prepared {
        plan,
        resolution,
        scope,
        state,
        manifest_text,
    })
}

/// capm.toml after the operation, edited in place (comments and layout kept), and the
/// edits in words: `add` records the named bundles (with the requirement given, or `^` and
/// the version resolved), `remove` drops them; other operations leave it alone.
fn edit_manifest(
    project: &Project,
    req: &PlanRequest,
    resolution: &graph::Resolution,
) -> Result<(Option<String>, Vec<String>), PlanError> {
    let edits_bundles = !req.bundles.is_empty() && req.operation != Operation::Update;
    if !edits_bundles && req.inputs.is_empty() {
        return Ok((None, Vec::new()));
    }
    let text = project.source.text.as_str();
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| PlanError::Manifest(format!("capm.toml cannot be edited: {e}")))?;
    let mut changes = Vec::new();
    for (name, value) in &req.inputs {
        if !crate::validate::is_env_name(name) {
            return Err(PlanError::Usage(format!(
                "`{name}` is not an environment variable name"
            )));
        }
        if doc.get("inputs").is_none() {
            doc["inputs"] = toml_edit::table();
        }
        let Some(table) = doc["inputs"].as_table_like_mut() else {
            return Err(PlanError::Manifest(
                "capm.toml's `inputs` is not a table".into(),
            ));
        };
        if table.get(name).and_then(|v| v.as_str()) != Some(value.as_str()) {
            table.insert(name, toml_edit::value(value.clone()));
            changes.push(format!("set input {name} = \"{value}\""));
        }
    }
    if !edits_bundles {
        let new = doc.to_string();
        return Ok(((new != text).then_some(new), changes));
    }
    if doc.get("bundles").is_none() {
        doc["bundles"] = toml_edit::table();
    }
    let Some(table) = doc["bundles"].as_table_like_mut() else {
        return Err(PlanError::Manifest(
            "capm.toml's `bundles` is not a table".into(),
        ));
    };
    for spec in &req.bundles {
        let (name, version) = parse_spec(spec)?;
        match req.operation {
            Operation::Uninstall => {
                if table.remove(&name).is_some() {
                    changes.push(format!("remove {name}"));
                }
            }
            _ => {
                let wanted = match (&version, table.get(&name)) {
                    (Some(v), _) => v.to_string(),
                    (None, Some(_)) => continue,
                    (None, None) => match resolution.bundles.iter().find(|b| b.name == name) {
                        Some(b) => format!("^{}", b.version),
                        None => continue,
                    },
                };
                match table.get_mut(&name) {
                    Some(item) if item.is_str() => {
                        if item.as_str() != Some(wanted.as_str()) {
                            *item = toml_edit::value(wanted.clone());
                            changes.push(format!("set {name} = \"{wanted}\""));
                        }
                    }
                    Some(item) => {
                        if let Some(t) = item.as_table_like_mut()
                            && t.get("version").and_then(|v| v.as_str()) != Some(wanted.as_str())
                        {
                            t.insert("version", toml_edit::value(wanted.clone()));
                            changes.push(format!("set {name}.version = \"{wanted}\""));
                        }
                    }
                    None => {
                        table.insert(&name, toml_edit::value(wanted.clone()));
                        changes.push(format!("add {name} = \"{wanted}\""));
                    }
                }
            }
        }
    }
    let new = doc.to_string();
    Ok(((new != text).then_some(new), changes))
}
