//! `capm plan install|update|uninstall`: what the operation would do to the project's
//! scope, as a [`Plan`]. Reads the project, its sources and the scope; writes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use semver::VersionReq;

use super::project::Project;
use crate::apply::txn::Pending;
use crate::diagnostic::Diagnostic;
use crate::graph::{self, GraphError, Request, Sources};
use crate::manifest::common::{Scope, is_valid_name};
use crate::manifest::decode::did_you_mean;
use crate::manifest::lock::Lockfile;
use crate::manifest::project::ProjectManifest;
use crate::plan::build::{PlanInput, build};
use crate::plan::model::{Action, Operation, Plan, PlanRequestDoc};
use crate::plan::state::ScopeState;
use crate::target::ScopeRoot;
use crate::target::set::Targets;

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
    /// Install: the registry (declared in capm.toml) the bundles named come from.
    pub registry: Option<String>,
    /// Install: for a git URL, the reference to follow: `("tag", "v1.2.0")`, `("branch",
    /// …)` or `("rev", …)`; without it, the newest version tag (else the default branch).
    pub git_ref: Option<(String, String)>,
    /// Install: of the one git repository or directory named, the skills to take
    /// (`--skill`), recorded as its `skills = [...]`.
    pub skills: Vec<String>,
    /// Values for non-secret environment variables, to record in capm.toml's `[inputs]`.
    pub inputs: std::collections::BTreeMap<String, String>,
    /// Resources whose edited version the user keeps as theirs (`capm keep`).
    pub keep: BTreeSet<String>,
    /// Resources where capm's version replaces the user's edit (`capm restore`).
    pub restore: BTreeSet<String>,
    /// The OpenCode config directory for global scope (`$XDG_CONFIG_HOME/opencode`).
    pub global_config: PathBuf,
    /// The user's home directories, where other clients keep their user configs.
    pub homes: crate::target::Homes,
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
    /// A request about resources that the project's state does not allow (`capm keep` of
    /// a resource nobody edited).
    #[error("{0}")]
    Refused(String),
    /// `--skip`, `keep` or `restore` names a resource no bundle of the project provides.
    #[error("{0}")]
    UnknownResource(String),
    #[error("cannot read the scope: {0}")]
    Io(#[from] std::io::Error),
}

pub(super) fn parse_spec(spec: &str) -> Result<(String, Option<VersionReq>), PlanError> {
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
    /// The project's clients.
    pub targets: Targets,
    /// capm.toml's new text, when the operation edits it.
    pub manifest_text: Option<String>,
}

/// The project's clients, as capm.toml names them; other clients than OpenCode install
/// into a project only.
pub fn targets_of(project: &Project, scope: &ScopeRoot) -> Result<Targets, PlanError> {
    let ids = project.manifest.targets();
    if matches!(scope, ScopeRoot::Global(_)) && ids != [crate::manifest::common::Target::Opencode] {
        return Err(PlanError::Manifest(
            "`scope = \"global\"` installs into OpenCode's user config only: remove the other clients from `targets`, or install into the project".into(),
        ));
    }
    Ok(Targets::new(&ids, scope))
}

/// The plan of a read-only command (`capm plan`, a dry run, the protocol's `plan`), which
/// recovers nothing: it accounts for a transaction waiting for recovery instead.
pub fn plan(project: &Project, req: &PlanRequest) -> Result<Plan, PlanError> {
    Ok(prepare_read_only(project, req)?.plan)
}

/// [`prepare`], for a command that recovers nothing (see [`account_for_recovery`]).
pub fn prepare_read_only(project: &Project, req: &PlanRequest) -> Result<Prepared, PlanError> {
    let mut prep = prepare(project, req)?;
    let roots = super::apply::roots(project, &prep.scope);
    let pending = crate::apply::txn::preview(&roots);
    account_for_recovery(&mut prep.plan, &pending, &prep.state);
    Ok(prep)
}

/// Computes the plan for `req`, keeping what applying it needs.
pub fn prepare(project: &Project, req: &PlanRequest) -> Result<Prepared, PlanError> {
    let _span = tracing::info_span!("plan", operation = ?req.operation).entered();
    // Bundles named by a path or bound to a registry: planned as if capm.toml said so.
    let asked = req;
    let (named, manifest, new_sources) = super::project_edit::with_sources(project, req)?;
    let req = &named;
    for id in req.skip.iter().chain(&req.keep).chain(&req.restore) {
        let known = id.split_once(':').is_some_and(|(kind, name)| {
            ["mcp", "skill", "plugin", "agent", "command"].contains(&kind) && is_valid_name(name)
        });
        if !known {
            return Err(PlanError::Usage(format!(
                "`{id}` is not a resource: write KIND:NAME, where KIND is mcp, skill, plugin, agent or command"
            )));
        }
    }
    let (requests, lock) = requests_for(&manifest, project.lock.as_ref(), req)?;
    let mut sources = Sources::load_locked(&manifest, &project.root, lock.as_ref())?;
    // Names asked for on the command line, which capm.toml does not list yet.
    let named: Vec<String> = requests.iter().map(|r| r.name.clone()).collect();
    sources.fetch(&named)?;
    crate::operation::checkpoint().map_err(std::io::Error::from)?;
    let resolution = graph::build(&sources, &requests, lock.as_ref())?;
    crate::operation::checkpoint().map_err(std::io::Error::from)?;
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
    let targets = targets_of(project, &scope)?;
    // The files of a client taken out of `targets` too, so that its entries come out.
    let ids = crate::target::set::with_recorded(
        &project.manifest.targets(),
        project.lock.as_ref(),
        &scope,
    );
    let reading = Targets::new(&ids, &scope);
    let state = ScopeState::read_targets(&reading, &scope, beneath, &req.homes)?;
    let policy = project
        .manifest
        .policy
        .as_ref()
        .map(|p| (p, &*project.source));
    let request = PlanRequestDoc {
        bundles: asked.bundles.clone(),
        latest: req.latest,
        purge: req.purge,
        skip: req.skip.clone(),
        inputs: req.inputs.clone(),
        registry: req.registry.clone(),
        keep: req.keep.clone(),
        restore: req.restore.clone(),
    };
    let mut inputs = project.manifest.input_values();
    inputs.extend(req.inputs.clone());
    // Conflicts settled before, in capm.toml, and now.
    let mut skip = req.skip.clone();
    skip.extend(project.manifest.skips().into_keys());
    let plan_with = |record: &BTreeMap<String, String>| -> Result<_, PlanError> {
        let (text, changes) =
            super::project_edit::edit(project, req, &resolution, &new_sources, record)?;
        let input = PlanInput {
            operation: req.operation,
            request: &request,
            manifest_changes: &changes,
            preserves: &preserves,
            purge: req.purge,
            skip: &skip,
            keep: &req.keep,
            restore: &req.restore,
            inputs: &inputs,
            targets: &targets,
            homes: &req.homes,
            scope: &scope,
            mode: project.manifest.product_mode(),
            resolution: &resolution,
            state: &state,
            lock: project.lock.as_ref(),
            policy,
        };
        Ok((build(&input)?, text))
    };
    let (mut plan, mut manifest_text) = plan_with(&BTreeMap::new())?;
    let settled = newly_settled(project, req, &plan);
    if !settled.is_empty() {
        (plan, manifest_text) = plan_with(&settled)?;
    }
    let count = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    tracing::info!(
        "{}, {}, {}, risk {}",
        format!("{:?}", plan.status).to_lowercase(),
        count(plan.actions.len(), "action"),
        count(plan.findings.len(), "finding"),
        format!("{:?}", plan.risk).to_lowercase()
    );
    check_edit_choices(&plan, req)?;
    check_skips(&plan, req)?;
    check_inputs(project, req, &resolution)?;
    Ok(Prepared {
        plan,
        resolution,
        scope,
        state,
        targets,
        manifest_text,
    })
}

/// `capm keep` and `capm restore` name resources of the project's bundles that the user
/// edited in at least one of the places they are installed (one per client that reads its
/// own); anything else is refused.
fn check_edit_choices(plan: &Plan, req: &PlanRequest) -> Result<(), PlanError> {
    for id in req.keep.iter().chain(&req.restore) {
        resource_named(plan, id)?;
        let reasons = || {
            plan.actions
                .iter()
                .filter(|a| a.resource == *id)
                .map(|a| a.reason.as_deref())
        };
        let edited =
            reasons().any(|r| matches!(r, Some("recorded-as-yours" | "restored" | "kept-by-user")));
        if edited {
            continue;
        }
        if reasons().any(|r| r == Some("kept-yours")) {
            return Err(PlanError::Refused(format!(
                "`{id}` is your own (capm.toml's `skip` keeps it): capm never installed its version there"
            )));
        }
        return Err(PlanError::Refused(format!(
            "`{id}` is as capm installed it: there is no edit of yours to keep or restore"
        )));
    }
    Ok(())
}

/// `--skip KIND:NAME` names a resource of the project's bundles: a misspelt one would
/// settle nothing, silently.
fn check_skips(plan: &Plan, req: &PlanRequest) -> Result<(), PlanError> {
    for id in &req.skip {
        resource_named(plan, id)?;
    }
    Ok(())
}

/// The plan's action on resource `id`; refused, with the closest resource, when the
/// project's bundles have none.
fn resource_named<'p>(plan: &'p Plan, id: &str) -> Result<&'p Action, PlanError> {
    plan.actions
        .iter()
        .find(|a| a.resource == id)
        .ok_or_else(|| {
            let ids: Vec<&str> = plan.actions.iter().map(|a| a.resource.as_str()).collect();
            PlanError::UnknownResource(format!(
                "`{id}` is not a resource of this project's bundles{}",
                did_you_mean(id, &ids)
            ))
        })
}

/// What a read-only command says about a transaction waiting for recovery.
pub fn pending_message(p: &Pending) -> String {
    format!(
        "an interrupted transaction is pending; `capm doctor` (or the next mutating command) will recover it: {p}"
    )
}

/// A plan over a scope with a transaction waiting for recovery (docs/transactions.md §3.2).
/// A committed one left its changes in place, so the plan stands, with a warning. An
/// uncommitted one left the scope half-applied: no action computed from it would be
/// right (capm's unfinished writes would read as the user's), so the plan is blocked with
/// none, and says what recovery will do.
pub fn account_for_recovery(plan: &mut Plan, pending: &[Pending], state: &ScopeState) {
    if pending.is_empty() {
        return;
    }
    let what: Vec<String> = pending.iter().map(pending_message).collect();
    let what = what.join("\n");
    let finding = if pending.iter().any(Pending::changes_scope) {
        plan.actions.clear();
        plan.rendered.clear();
        plan.status = crate::plan::model::PlanStatus::Blocked;
        plan.risk = crate::plan::model::Risk::High;
        Diagnostic::new(
            "recovery-pending",
            what,
        )
        .help("run `capm doctor`, then plan again; this plan lists no actions, since the scope holds half of a change")
    } else {
        Diagnostic::new("recovery-finishing", what)
    };
    plan.findings.insert(0, finding);
    plan.fingerprint = crate::plan::build::fingerprint(plan, state);
}

/// What resolution is asked for: capm.toml's requests adjusted for the operation (bundles
/// added, refreshed or removed), and the lock it prefers (without the locked versions of
/// what is updated, so the newest allowed is chosen).
fn requests_for(
    manifest: &ProjectManifest,
    lock: Option<&Lockfile>,
    req: &PlanRequest,
) -> Result<(Vec<Request>, Option<Lockfile>), PlanError> {
    let mut requests = graph::requests(manifest)?;
    let mut lock = lock.cloned();
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
                    let mut names: Vec<&str> = requests.iter().map(|r| r.name.as_str()).collect();
                    names.extend(
                        lock.iter()
                            .flat_map(|l| &l.bundles)
                            .map(|b| b.name.as_str()),
                    );
                    let message = format!(
                        "`{name}` is not part of this project{}",
                        did_you_mean(&name, &names)
                    );
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
                let names: Vec<&str> = requests.iter().map(|r| r.name.as_str()).collect();
                let hint = did_you_mean(&name, &names);
                let before = requests.len();
                requests.retain(|r| r.name != name);
                // A name given twice is removed once.
                if requests.len() == before && !named.contains(&name) {
                    let dependency = lock
                        .as_ref()
                        .is_some_and(|l| l.bundles.iter().any(|b| b.name == name));
                    let message = if dependency {
                        format!(
                            "`{name}` is installed as a dependency, not named in capm.toml's [bundles]: it goes with the bundles that need it (`capm why {name}` lists them)"
                        )
                    } else {
                        format!("`{name}` is not in capm.toml's [bundles]{hint}")
                    };
                    return Err(PlanError::NotInProject { name, message });
                }
                named.insert(name);
            }
        }
    }
    Ok((requests, lock))
}

/// Conflicts this request settles by keeping the user's version that capm.toml does not
/// record yet, with the bundle providing each: capm.toml remembers them, so later plans
/// (and CI's `install --locked`) are not blocked again.
fn newly_settled(project: &Project, req: &PlanRequest, plan: &Plan) -> BTreeMap<String, String> {
    if req.operation == Operation::Uninstall {
        return BTreeMap::new();
    }
    let recorded = project.manifest.skips();
    plan.actions
        .iter()
        .filter(|a| a.reason.as_deref() == Some("kept-yours"))
        .filter(|a| req.skip.contains(&a.resource) && !recorded.contains_key(&a.resource))
        .map(|a| (a.resource.clone(), a.bundle.clone()))
        .collect()
}

/// A setting's value is written into OpenCode's config as it is, where OpenCode would
/// replace an `{env:}` or `{file:}` in it (docs/security-rules.md §12): such a value is
/// refused, whether given with `--input` or in capm.toml's `[inputs]`.
fn check_input_values(project: &Project, req: &PlanRequest) -> Result<(), PlanError> {
    // `--input` replaces what capm.toml records.
    let mut values = project.manifest.input_values();
    values.extend(req.inputs.clone());
    for (name, value) in values {
        let Some(sub) = crate::security::subst::refs(&value).into_iter().next() else {
            continue;
        };
        let what = match sub {
            crate::security::subst::Subst::Env(_)
            | crate::security::subst::Subst::Unclosed("env") => {
                "an `{env:}` reference, which OpenCode would replace with a variable"
            }
            _ => "a `{file:}` reference, which OpenCode would replace with a file's contents",
        };
        return Err(PlanError::Input(format!(
            "the value of `{name}` contains {what} when it loads its config; give the value itself, or leave `{name}` out of the inputs and set it in the environment OpenCode starts in"
        )));
    }
    Ok(())
}

/// A secret's value is never recorded, in capm.toml or anywhere; and a value is only taken
/// for a setting a server of the project reads, whether given with `--input` or written in
/// capm.toml's `[inputs]` (where an uncommented bundle line would otherwise become an input
/// nobody reads).
fn check_inputs(
    project: &Project,
    req: &PlanRequest,
    resolution: &graph::Resolution,
) -> Result<(), PlanError> {
    let environment = crate::plan::build::environment(resolution, &Default::default());
    for e in environment.iter().filter(|e| e.secret) {
        if req.inputs.contains_key(&e.name) || project.manifest.input_values().contains_key(&e.name)
        {
            return Err(PlanError::Input(format!(
                "`{}` is a secret ({} reads it): capm never records its value; remove it from the inputs and set it in the environment OpenCode starts in",
                e.name,
                e.resources.join(", ")
            )));
        }
    }
    check_input_values(project, req)?;
    let read: BTreeSet<String> = environment.into_iter().map(|e| e.name).collect();
    for name in req.inputs.keys() {
        if !read.contains(name) {
            return Err(PlanError::Input(format!(
                "no server of this project reads a setting `{name}`; the plan's environment lists those that take a value"
            )));
        }
    }
    if req.operation == Operation::Uninstall {
        // Removing bundles drops the inputs only they read.
        return Ok(());
    }
    for name in project.manifest.inputs.keys() {
        if !read.contains(&name.value) {
            let at = project.source.line_col(name.span.start);
            return Err(PlanError::Input(format!(
                "{}:{}:{}: capm.toml's [inputs] sets `{name}`, but no server of this project reads a setting `{name}`; remove it (a bundle's requirement belongs under [bundles])",
                project.source.path, at.line, at.column
            )));
        }
    }
    Ok(())
}
