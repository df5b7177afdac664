//! Building plans: the resolved bundles, rendered for each of the project's clients,
//! compared location by location with what is on disk and what capm.lock records, through
//! the conflict table; a place clients share is one action.
//! Reads the scope (through [`ScopeState`]) but never writes.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::collisions;
use super::model::{
    Action, Location, Operation, PLAN_SCHEMA, PermissionReview, Plan, PlanStatus, PlannedBundle,
    Risk,
};
use super::ownership::{self, ActionKind, OnDisk, Recorded};
use super::state::{ScopeState, value_digest};
use crate::diagnostic::{Diagnostic, Severity};
use crate::graph::Resolution;
use crate::manifest::common::{PermissionKind, ProductMode};
use crate::manifest::lock::Lockfile;
use crate::manifest::project::Policy;
use crate::manifest::span::SourceFile;
use crate::manifest::tree::hex;
use crate::security::Level;
use crate::target::set::Targets;
use crate::target::{Context, Homes, Rendered, ScopeRoot, Target};

/// What a plan is computed from.
pub struct PlanInput<'a> {
    pub operation: Operation,
    /// What was asked for, recorded in the plan.
    pub request: &'a super::model::PlanRequestDoc,
    /// Edits to capm.toml that applying makes.
    pub manifest_changes: &'a [String],
    /// Resources (`KIND:NAME`) of removed bundles that their `[uninstall] preserves` hands to
    /// the user.
    pub preserves: &'a std::collections::BTreeSet<String>,
    /// Remove files the user modified too (`--purge`).
    pub purge: bool,
    /// Resources whose conflicts the user settled by keeping their own version.
    pub skip: &'a std::collections::BTreeSet<String>,
    /// Resources whose edited version the user keeps as theirs (`capm keep`).
    pub keep: &'a std::collections::BTreeSet<String>,
    /// Resources where capm's version replaces the user's edit (`capm restore`).
    pub restore: &'a std::collections::BTreeSet<String>,
    /// Values for non-secret environment variables (capm.toml's `[inputs]`, and new ones).
    pub inputs: &'a std::collections::BTreeMap<String, String>,
    /// The project's clients.
    pub targets: &'a Targets,
    /// Where the clients' user configs are, read for collisions.
    pub homes: &'a Homes,
    pub scope: &'a ScopeRoot,
    pub mode: ProductMode,
    pub resolution: &'a Resolution,
    pub state: &'a ScopeState,
    pub lock: Option<&'a Lockfile>,
    /// The project's `[policy]`, and capm.toml for diagnostics about it.
    pub policy: Option<(&'a Policy, &'a SourceFile)>,
}

/// A copy of a rendered value fit to show: literal values that read as secrets (under
/// `environment` or `headers`, or token-shaped anywhere) are replaced, since a plan never
/// shows a secret value.
fn redacted(v: &Value, key: Option<&str>) -> Value {
    match v {
        Value::String(s) if crate::security::looks_secret(key, s) => {
            Value::String("[redacted]".into())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let inner = matches!(k.as_str(), "environment" | "headers");
                    let shown = match v {
                        Value::Object(entries) if inner => Value::Object(
                            entries
                                .iter()
                                .map(|(name, x)| (name.clone(), redacted(x, Some(name))))
                                .collect(),
                        ),
                        other => redacted(other, None),
                    };
                    (k.clone(), shown)
                })
                .collect(),
        ),
        // An option's value is judged under the option's name (`--api-key`, `VALUE`).
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let option = i
                        .checked_sub(1)
                        .and_then(|p| items[p].as_str())
                        .filter(|p| p.starts_with('-'));
                    redacted(x, option)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn short(v: &Value) -> String {
    let text = redacted(v, None).to_string();
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(160).collect::<String>())
    } else {
        text
    }
}

fn help_for(reason: &str, resource: &str) -> Option<String> {
    Some(match reason {
        "conflict-user-owned" => format!(
            "the scope already has your own `{resource}`; keep yours with `--skip {resource}` (capm.toml remembers it), rename or remove yours, or leave this bundle out"
        ),
        "conflict-other-bundle" => format!(
            "another installed bundle owns `{resource}`; keep that one with `--skip {resource}`, remove that bundle first, or leave this one out"
        ),
        "conflict-user-modified" => format!(
            "your edited version stays; capm's version will be written beside it for you to compare (`capm keep {resource}` makes yours final, `capm restore {resource}` takes capm's)"
        ),
        "user-modified" => format!(
            "you edited it and the bundle has nothing new for it; `capm keep {resource}` records your version as yours, `capm restore {resource}` puts capm's back"
        ),
        _ => return None,
    })
}

/// `capm keep` and `capm restore` on a resource the user edited: record the edit as
/// theirs, or put capm's version back over it.
fn settle_edit(
    decision: ownership::Decision,
    id: &str,
    keep: &std::collections::BTreeSet<String>,
    restore: &std::collections::BTreeSet<String>,
) -> ownership::Decision {
    let settled = |action, reason| ownership::Decision {
        action,
        reason: Some(reason),
        propose_beside: false,
    };
    if !ownership::is_user_edit(decision.reason) {
        return decision;
    }
    if restore.contains(id) {
        settled(ActionKind::Update, "restored")
    } else if keep.contains(id) {
        // Kept before too: recorded again, which takes back a proposal a bundle change
        // wrote beside it since.
        settled(ActionKind::Keep, "recorded-as-yours")
    } else {
        decision
    }
}

/// Where the lock records something at `loc`, if anywhere.
fn recorded(lock: Option<&Lockfile>, loc: &Location) -> Recorded {
    let entry = lock
        .into_iter()
        .flat_map(|l| &l.resources)
        .find(|r| r.path == loc.file && r.pointer == loc.pointer && r.element == loc.element);
    match entry {
        Some(r) => Recorded::Bundle {
            bundle: r.bundle.clone(),
            digest: r.sha256.clone(),
            shared: r.shared,
            kept: r.kept.clone(),
        },
        None => Recorded::Nothing,
    }
}

/// What deciding one place of a resource reads: the scope, capm.lock and the user's
/// settled choices.
struct Place<'a> {
    scope: &'a ScopeRoot,
    state: &'a ScopeState,
    lock: Option<&'a Lockfile>,
    skip: &'a std::collections::BTreeSet<String>,
    keep: &'a std::collections::BTreeSet<String>,
    restore: &'a std::collections::BTreeSet<String>,
}

/// Where a rendered resource lands, what is there now, and another file of the client's
/// that defines the same entry (which capm.lock does not record as this resource's).
fn locate(
    target: &dyn Target,
    state: &ScopeState,
    lock: Option<&Lockfile>,
    id: &str,
    writable: &str,
    rendered: &Rendered,
) -> (Location, Option<Value>, Option<String>) {
    let (pointer, element, found) = match rendered {
        Rendered::ConfigEntry { pointer, .. } => {
            (pointer, None, state.entries_at(target.name(), pointer))
        }
        Rendered::ArrayElement { pointer, key, .. } => (
            pointer,
            Some(key.clone()),
            state.elements_at(target.name(), pointer, key),
        ),
        Rendered::File { path, .. } | Rendered::Dir { path, .. } => {
            let loc = Location {
                file: path.clone(),
                pointer: None,
                element: None,
            };
            return (loc, None, None);
        }
    };
    let here = found
        .iter()
        .find(|(f, _)| *f == writable)
        .map(|(_, v)| (*v).clone());
    let ours = |f: &str| {
        lock.into_iter()
            .flat_map(|l| &l.resources)
            .any(|e| e.path == f && e.pointer.as_deref() == Some(pointer.as_str()) && e.id == id)
    };
    let other = found
        .iter()
        .find(|(f, _)| *f != writable && !ours(f))
        .map(|(f, _)| f.to_string());
    let loc = Location {
        file: writable.to_string(),
        pointer: Some(pointer.clone()),
        element,
    };
    (loc, here, other)
}

impl Place<'_> {
    /// The action for one place a resource lands in for `target`, with the findings about
    /// its name; the checks of its name run for the main place only.
    fn decide(
        &self,
        target: &dyn Target,
        r: &crate::target::Resource<'_>,
        bundle: &str,
        rendered: &Rendered,
        main: bool,
    ) -> std::io::Result<(Action, Vec<Diagnostic>)> {
        let Place {
            scope,
            state,
            lock,
            skip,
            keep,
            restore,
        } = *self;
        let mut findings = Vec::new();
        let existing: Vec<String> = state
            .configs
            .iter()
            .filter(|c| c.readers.contains(&target.name()))
            .map(|c| c.rel.clone())
            .collect();
        let writable = target.writable_config(scope, &existing);
        let after = rendered.digest();
        let (loc, current, mut elsewhere) = locate(target, state, lock, &r.id, &writable, rendered);
        let disk = match rendered {
            Rendered::File { path, .. } | Rendered::Dir { path, .. } => state
                .path_digest(path)?
                .map_or(OnDisk::Nothing, OnDisk::Present),
            _ => current
                .as_ref()
                .map_or(OnDisk::Nothing, |v| OnDisk::Present(value_digest(v))),
        };
        let lock_entry = recorded(lock, &loc);
        if lock_entry == Recorded::Nothing && elsewhere.is_none() && main {
            let recorded = |p: &str| {
                lock.into_iter().flat_map(|l| &l.resources).any(|e| {
                    e.path == p && e.pointer.is_none() && e.id == r.id && e.bundle == bundle
                })
            };
            elsewhere =
                collisions::same_name_elsewhere(target, scope, state, r, rendered, &recorded)?;
        }
        let mut decision = ownership::install(bundle, &after, &disk, &lock_entry);
        let config_broken = matches!(
            rendered,
            Rendered::ConfigEntry { .. } | Rendered::ArrayElement { .. }
        ) && state.parse_errors().iter().any(|(f, _)| *f == writable);
        let misshapen = match rendered {
            Rendered::ConfigEntry { pointer, .. } | Rendered::ArrayElement { pointer, .. } => {
                state.shape_error(&writable, pointer)
            }
            _ => None,
        };
        if config_broken || misshapen.is_some() {
            decision = blocked("invalid-config");
        } else if elsewhere.is_some() && lock_entry == Recorded::Nothing {
            // Another file the client reads defines the same name: whichever wins, one
            // hides the other.
            decision = blocked("shadowed");
        }
        decision = settle_edit(decision, &r.id, keep, restore);
        if ownership::settleable(decision.reason) && skip.contains(&r.id) {
            // The user keeps theirs: nothing is written there, nothing proposed.
            decision = ownership::Decision {
                action: ActionKind::Keep,
                reason: Some("kept-yours"),
                propose_beside: false,
            };
        }
        if lock_entry == Recorded::Nothing && decision.action != ActionKind::Keep && main {
            findings.extend(collisions::replaces_built_in(target, r, bundle));
        }
        let before = match &disk {
            OnDisk::Present(d) => Some(d.clone()),
            OnDisk::Nothing => None,
        };
        let diff = diff_of(rendered, decision.action, current.as_ref());
        let help = help_of(
            decision.reason,
            &writable,
            misshapen.as_deref(),
            elsewhere.as_deref(),
            &r.id,
        );
        let action = Action {
            action: decision.action,
            resource: r.id.clone(),
            bundle: bundle.to_string(),
            target: loc,
            clients: vec![target.name().to_string()],
            before,
            after: Some(after),
            diff,
            reason: decision.reason.map(str::to_string),
            help,
        };
        Ok((action, findings))
    }
}

fn blocked(reason: &'static str) -> ownership::Decision {
    ownership::Decision {
        action: ActionKind::Block,
        reason: Some(reason),
        propose_beside: false,
    }
}

/// The clients that read a place capm.lock records, among the project's; a place no client
/// of the project reads any more is named by the file alone.
fn readers(targets: &Targets, scope: &ScopeRoot, loc: &Location) -> Vec<String> {
    targets
        .readers(scope, &loc.file)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// For a config entry written or blocked: the entry before and after, as short JSON.
fn diff_of(rendered: &Rendered, action: ActionKind, current: Option<&Value>) -> Option<String> {
    match (rendered, action) {
        (
            Rendered::ConfigEntry { value, .. } | Rendered::ArrayElement { value, .. },
            ActionKind::Create | ActionKind::Update | ActionKind::Block,
        ) => {
            let mut d = String::new();
            if let Some(old) = current {
                d.push_str(&format!("- {}\n", short(old)));
            }
            d.push_str(&format!("+ {}", short(value)));
            Some(d)
        }
        _ => None,
    }
}

/// What the user can do about an action's reason.
fn help_of(
    reason: Option<&str>,
    writable: &str,
    misshapen: Option<&str>,
    elsewhere: Option<&str>,
    id: &str,
) -> Option<String> {
    match reason {
        Some("invalid-config") => Some(match misshapen {
            Some(why) => format!("{why}; capm would replace it: fix the file first"),
            None => format!("`{writable}` does not parse; fix it first"),
        }),
        Some("shadowed") => elsewhere.map(|f| {
            format!(
                "`{f}` defines `{id}` too; keep that one with `--skip {id}`, rename or remove it, or leave this bundle out"
            )
        }),
        Some(reason) => help_for(reason, id),
        None => None,
    }
}

/// Adds an action, or, where another client already put the same resource in the same
/// place, adds the client to that action: written once, read by both. The same place
/// rendered differently for two clients blocks.
fn merge_action(
    actions: &mut Vec<Action>,
    payload: &mut Vec<Option<Rendered>>,
    action: Action,
    rendered: Rendered,
) {
    let same = actions.iter().position(|a| {
        a.resource == action.resource
            && a.bundle == action.bundle
            && a.target == action.target
            && !a.target.file.is_empty()
    });
    let Some(k) = same else {
        actions.push(action);
        payload.push(Some(rendered));
        return;
    };
    let shared = &mut actions[k];
    let wins = precedence(&action) > precedence(shared);
    shared.clients.extend(action.clients);
    // The place is written once, so one decision holds for every client, whatever the
    // order of `targets`: what blocks it for one client (a file only that one reads defines
    // the same name) blocks it for all; short of a block, the user's choice to keep their
    // own version for one keeps the place as it is.
    if wins {
        shared.action = action.action;
        shared.reason = action.reason;
        shared.help = action.help;
        shared.diff = action.diff;
    }
    if shared.after != action.after {
        shared.action = ActionKind::Block;
        shared.reason = Some("clients-disagree".into());
        shared.help = Some(format!(
            "{} share `{}`, but `{}` would be written there differently for each; leave one of them out of `targets`",
            shared.clients.join(" and "),
            shared.target.file,
            shared.resource
        ));
    }
}

/// Which of two decisions for one shared place wins: a block, then the user's own version
/// kept, then anything else.
fn precedence(a: &Action) -> u8 {
    match (a.action, a.reason.as_deref()) {
        (ActionKind::Block, _) => 2,
        (ActionKind::Keep, Some("kept-yours")) => 1,
        _ => 0,
    }
}

/// A resource the client cannot take as the bundle declares it: the plan is blocked, with
/// the reason.
fn unrenderable(target: &dyn Target, id: &str, bundle: &str, why: String) -> Action {
    Action {
        action: ActionKind::Block,
        resource: id.to_string(),
        bundle: bundle.to_string(),
        target: Location {
            file: String::new(),
            pointer: None,
            element: None,
        },
        clients: vec![target.name().to_string()],
        before: None,
        after: None,
        diff: None,
        reason: Some("unrenderable".into()),
        help: Some(why),
    }
}

/// A skill that moved to another directory (`targets` changed) but whose old copy stays,
/// because the user modified it: a client reading both directories sees the skill twice.
fn kept_copies_read_twice(
    targets: &Targets,
    scope: &ScopeRoot,
    actions: &[Action],
) -> Vec<Diagnostic> {
    let parent = |a: &Action| a.target.file.rsplit_once('/').map(|(d, _)| d.to_string());
    let mut out = Vec::new();
    let kept = actions.iter().filter(|a| {
        a.resource.starts_with("skill:") && a.reason.as_deref() == Some("kept-user-modified")
    });
    for old in kept {
        let new = actions.iter().find(|a| {
            a.resource == old.resource
                && a.bundle == old.bundle
                && a.target != old.target
                && a.after.is_some()
                && a.action != ActionKind::Block
        });
        let (Some(old_dir), Some(new)) = (parent(old), new) else {
            continue;
        };
        let Some(new_dir) = parent(new) else {
            continue;
        };
        for (t, _) in targets.iter() {
            let dirs = t.skill_dirs(scope);
            if dirs.contains(&old_dir) && dirs.contains(&new_dir) {
                out.push(Diagnostic::new(
                    "skill-read-twice",
                    format!(
                        "{} reads `{}` twice: from `{}`, where it moved, and from `{}`, which stays because you modified it",
                        t.display(), old.resource, new.target.file, old.target.file
                    ),
                ).resource(&old.resource).help(format!("move your edits over and delete `{}`", old.target.file)));
            }
        }
    }
    out
}

/// A warning for a resource of a kind the client has no place for, naming the clients it is
/// installed for (those the plan places it for; not those that cannot take it either).
fn not_for_client(
    (target, id, bundle): (&dyn Target, &str, &str),
    targets: &Targets,
    actions: &[Action],
) -> Diagnostic {
    let placed = |client: &str| {
        actions.iter().any(|a| {
            a.resource == id
                && a.bundle == bundle
                && a.reason.as_deref() != Some("unrenderable")
                && a.clients.iter().any(|c| c == client)
        })
    };
    let others: Vec<&str> = targets
        .iter()
        .filter(|(t, _)| placed(t.name()))
        .map(|(t, _)| t.display())
        .collect();
    let rest = if others.is_empty() {
        "it is installed for no client".to_string()
    } else {
        format!("it is installed for {} only", others.join(", "))
    };
    Diagnostic::new(
        "not-for-client",
        format!(
            "`{id}` of {bundle} is not installed for {}, which has no place for it: {rest}",
            target.display()
        ),
    )
    .resource(id)
}

/// Computes what an operation would do: the project ends up with exactly the resolved
/// bundles, so resources of bundles no longer resolved are uninstalled.
pub fn build(input: &PlanInput<'_>) -> std::io::Result<Plan> {
    let PlanInput {
        operation,
        request,
        manifest_changes,
        inputs,
        scope,
        mode,
        resolution,
        state,
        lock,
        ..
    } = *input;
    let (mut findings, mut sources) = config_errors(state);
    let mut permissions = check_bundles(input, &mut findings, &mut sources);
    let (mut actions, mut payload) = render_all(input, &mut findings)?;
    removals(input, &mut actions, &mut payload)?;
    let bundles = planned_bundles(resolution, lock);
    findings.extend(kept_copies_read_twice(input.targets, scope, &actions));
    findings.extend(removes_everything(operation, lock, resolution));
    findings.extend(unused_skips(input.skip, &actions));
    let mut environment = environment(resolution, inputs);
    without_kept(
        &actions,
        resolution,
        &mut findings,
        &mut permissions,
        &mut environment,
    );
    let blocked = findings.iter().any(Diagnostic::is_error)
        || actions.iter().any(|a| a.action == ActionKind::Block);
    let changes = actions
        .iter()
        .any(|a| a.action != ActionKind::Keep || a.reason.as_deref() == Some("recorded-as-yours"));
    let lock_changes = lock.is_none_or(|l| !crate::graph::lock_changes(l, resolution).is_empty());
    let status = if blocked {
        PlanStatus::Blocked
    } else if changes || lock_changes || !manifest_changes.is_empty() {
        PlanStatus::Ready
    } else {
        PlanStatus::Noop
    };
    let risk = risk(blocked, &findings, &permissions);
    let mut plan = Plan {
        schema: PLAN_SCHEMA,
        operation,
        request: request.clone(),
        scope: match scope {
            ScopeRoot::Project(_) => "project".into(),
            ScopeRoot::Global(_) => "global".into(),
        },
        product_mode: mode,
        status,
        fingerprint: String::new(),
        actions,
        findings,
        permissions,
        risk,
        bundles,
        manifest_changes: manifest_changes.to_vec(),
        environment,
        rendered: payload,
        sources,
    };
    plan.fingerprint = fingerprint(&plan, state);
    Ok(plan)
}

/// A finding for each config file that does not parse, with its text to show.
fn config_errors(state: &ScopeState) -> (Vec<Diagnostic>, crate::diagnostic::Sources) {
    let mut findings: Vec<Diagnostic> = Vec::new();
    let mut sources = crate::diagnostic::Sources::default();
    for c in &state.configs {
        let Err(e) = &c.value else {
            continue;
        };
        let source = SourceFile::new(&c.rel, c.text.clone());
        let d = Diagnostic::new(
            "invalid-config",
            format!("`{}` does not parse: {}", c.rel, e.message),
        )
        .at(&source, crate::manifest::span::Span::new(e.start, e.end));
        findings.push(if c.user {
            // A client's own user file, which capm never writes: what it defines cannot
            // be compared, but nothing of it is at stake.
            d.with_severity(Severity::Warning).help(
                "capm could not check it for names the project's resources share; the client will not read it either until it is fixed",
            )
        } else {
            d.help("fix the file; capm never writes a config it cannot read")
        });
        sources.insert(std::sync::Arc::new(source));
    }
    (findings, sources)
}

/// Every resolved bundle checked under the project's product mode and policy (findings),
/// and the permissions each asks for.
fn check_bundles(
    input: &PlanInput<'_>,
    findings: &mut Vec<Diagnostic>,
    sources: &mut crate::diagnostic::Sources,
) -> Vec<PermissionReview> {
    let PlanInput {
        mode,
        resolution,
        policy,
        ..
    } = *input;
    let mut permissions = Vec::new();
    for b in &resolution.bundles {
        let mut check = crate::validate::check_bundle_for_mode(&b.tree, mode);
        if let Some((policy, source)) = policy {
            let stale = crate::security::apply_policy(&mut check.diagnostics, policy, source);
            findings.extend(stale);
            sources.insert(std::sync::Arc::new(source.clone()));
        }
        check.sources.drain(..).for_each(|f| sources.insert(f));
        findings.extend(
            check
                .diagnostics
                .into_iter()
                .filter(|d| d.severity != Severity::Info || d.rule_severity.is_some()),
        );
        let first_fs = b.manifest.permissions.iter().position(|p| {
            p.kind
                .as_ref()
                .is_some_and(|k| k.value == PermissionKind::Filesystem)
        });
        for (i, p) in b.manifest.permissions.iter().enumerate() {
            permissions.push(PermissionReview {
                bundle: b.name.clone(),
                kind: p
                    .kind
                    .as_ref()
                    .map_or_else(String::new, |k| k.value.to_string()),
                id: p.id.as_ref().map_or_else(String::new, |i| i.value.clone()),
                reason: p
                    .reason
                    .as_ref()
                    .map_or_else(String::new, |r| r.value.clone()),
                required: p.required.as_ref().is_none_or(|r| r.value),
                reads: if first_fs == Some(i) {
                    file_reads(&b.manifest)
                } else {
                    Vec::new()
                },
            });
        }
    }
    permissions
}

/// Every resource of every resolved bundle rendered for every client and decided place by
/// place, places clients share merged; with the findings about clients that cannot take a
/// resource and skills read twice.
fn render_all(
    input: &PlanInput<'_>,
    findings: &mut Vec<Diagnostic>,
) -> std::io::Result<(Vec<Action>, Vec<Option<Rendered>>)> {
    let PlanInput {
        skip,
        keep,
        restore,
        inputs,
        targets,
        homes,
        scope,
        resolution,
        state,
        lock,
        ..
    } = *input;
    let mut actions: Vec<Action> = Vec::new();
    let mut payload: Vec<Option<Rendered>> = Vec::new();
    let place = Place {
        scope,
        state,
        lock,
        skip,
        keep,
        restore,
    };
    let servers: Vec<String> = resolution
        .bundles
        .iter()
        .flat_map(|b| b.manifest.mcp.keys().map(|k| k.value.clone()))
        .collect();
    let mut left_out: Vec<(&dyn Target, String, String)> = Vec::new();
    for (target, skills) in targets.iter() {
        findings.extend(target.notes(scope, homes));
        let cx = Context {
            scope,
            skills,
            servers: &servers,
        };
        for b in &resolution.bundles {
            for r in crate::target::resources(&b.manifest, &b.tree, inputs) {
                let parts = match target.render(&cx, &r) {
                    Ok(parts) => parts,
                    Err(e) => {
                        actions.push(unrenderable(target, &r.id, &b.name, e));
                        payload.push(None);
                        continue;
                    }
                };
                // Said in every plan (a plan with nothing to do prints no findings), so
                // that adding a client to `targets` says what it will not get.
                if parts.is_empty() {
                    left_out.push((target, r.id.clone(), b.name.clone()));
                }
                for (i, rendered) in parts.into_iter().enumerate() {
                    let (action, extra) = place.decide(target, &r, &b.name, &rendered, i == 0)?;
                    findings.extend(extra);
                    merge_action(&mut actions, &mut payload, action, rendered);
                }
            }
        }
    }
    for (target, id, bundle) in left_out {
        findings.push(not_for_client((target, &id, &bundle), targets, &actions));
    }
    let skills = resolution.bundles.iter().any(|b| {
        b.manifest
            .resources()
            .iter()
            .any(|r| matches!(r.item, crate::target::Kind::Skill(_)))
    });
    for (client, dirs) in targets.read_twice().iter().filter(|_| skills) {
        findings.push(Diagnostic::new(
            "skill-read-twice",
            format!(
                "{client} reads skills from both `{}`: each skill of the project is there twice for it",
                dirs.join("` and `")
            ),
        ));
    }
    Ok((actions, payload))
}

/// The places capm.lock records that the plan no longer puts anything in, decided for
/// removal: those of bundles leaving, of resources a kept bundle stopped providing, and
/// places a resource moved from.
fn removals(
    input: &PlanInput<'_>,
    actions: &mut Vec<Action>,
    payload: &mut Vec<Option<Rendered>>,
) -> std::io::Result<()> {
    let PlanInput {
        resolution, lock, ..
    } = *input;
    let wanted: std::collections::BTreeSet<&str> =
        resolution.bundles.iter().map(|b| b.name.as_str()).collect();
    // Resources no resolved bundle provides any more come out: those of bundles leaving,
    // and those a kept bundle stopped providing.
    let provided: std::collections::BTreeSet<(String, String)> = actions
        .iter()
        .map(|a| (a.bundle.clone(), a.resource.clone()))
        .collect();
    // A place a resource no longer lands in comes out too: a plugin that was a directory
    // and is one file now, a client no longer in `targets`, a skill moved to the directory
    // clients now share.
    let placed: std::collections::BTreeSet<(&str, &str, &Location)> = actions
        .iter()
        .filter(|a| !a.target.file.is_empty())
        .map(|a| (a.bundle.as_str(), a.resource.as_str(), &a.target))
        .collect();
    let unrendered: std::collections::BTreeSet<(&str, &str)> = actions
        .iter()
        .filter(|a| a.target.file.is_empty())
        .map(|a| (a.bundle.as_str(), a.resource.as_str()))
        .collect();
    let moved = |e: &crate::manifest::lock::LockedResource| {
        let loc = Location {
            file: e.path.clone(),
            pointer: e.pointer.clone(),
            element: e.element.clone(),
        };
        !unrendered.contains(&(e.bundle.as_str(), e.id.as_str()))
            && !placed.contains(&(e.bundle.as_str(), e.id.as_str(), &loc))
    };
    let leaving: Vec<&crate::manifest::lock::LockedResource> = lock
        .into_iter()
        .flat_map(|l| &l.resources)
        .filter(|e| {
            !wanted.contains(e.bundle.as_str())
                || !provided.contains(&(e.bundle.clone(), e.id.clone()))
                || moved(e)
        })
        .collect();
    for entry in leaving {
        let action = removal(input, entry, actions)?;
        actions.push(action);
        payload.push(None);
    }
    Ok(())
}

/// The removal of one place capm.lock records, decided against what is there now; kept
/// where a bundle that stays puts the same thing there.
fn removal(
    input: &PlanInput<'_>,
    entry: &crate::manifest::lock::LockedResource,
    actions: &[Action],
) -> std::io::Result<Action> {
    let PlanInput {
        preserves,
        purge,
        targets,
        scope,
        state,
        ..
    } = *input;
    let loc = Location {
        file: entry.path.clone(),
        pointer: entry.pointer.clone(),
        element: entry.element.clone(),
    };
    let disk = state.location_digest(
        &entry.path,
        entry.pointer.as_deref(),
        entry.element.as_deref(),
    )?;
    let disk = disk.map_or(OnDisk::Nothing, OnDisk::Present);
    let rec = Recorded::Bundle {
        bundle: entry.bundle.clone(),
        digest: entry.sha256.clone(),
        shared: entry.shared,
        kept: entry.kept.clone(),
    };
    let mut d = ownership::uninstall(
        &entry.bundle,
        &disk,
        &rec,
        preserves.contains(&entry.id),
        purge,
    );
    // A bundle that stays provides the same thing there: it stays, and is theirs now.
    let taken_over = actions
        .iter()
        .any(|a| a.after.is_some() && a.action != ActionKind::Block && a.target == loc);
    if taken_over {
        d = ownership::Decision {
            action: ActionKind::Keep,
            reason: Some("provided-by-another-bundle"),
            propose_beside: false,
        };
    }
    // An entry of a config file that does not parse cannot be taken out of it.
    let broken = entry.pointer.is_some()
        && d.action == ActionKind::Remove
        && state.parse_errors().iter().any(|(f, _)| *f == entry.path);
    let help = broken.then(|| format!("`{}` does not parse; fix it first", entry.path));
    if broken {
        d = blocked("invalid-config");
    }
    let before = match &disk {
        OnDisk::Present(x) => Some(x.clone()),
        OnDisk::Nothing => None,
    };
    Ok(Action {
        action: d.action,
        resource: entry.id.clone(),
        bundle: entry.bundle.clone(),
        clients: readers(targets, scope, &loc),
        target: loc,
        before,
        after: None,
        diff: None,
        reason: d.reason.map(str::to_string),
        help,
    })
}

/// The bundles capm.lock will record, with the version and commit each had before.
fn planned_bundles(resolution: &Resolution, lock: Option<&Lockfile>) -> Vec<PlannedBundle> {
    crate::graph::lock_bundles(resolution)
        .into_iter()
        .map(|b| {
            let old = lock.and_then(|l| l.bundles.iter().find(|o| o.name == b.name));
            PlannedBundle {
                previous: old
                    .filter(|o| o.version != b.version)
                    .map(|o| o.version.clone()),
                previous_commit: old
                    .filter(|o| o.commit.is_some() && o.commit != b.commit)
                    .and_then(|o| o.commit.clone()),
                commit: b.commit,
                name: b.name,
                version: b.version,
                source: b.source,
                sha256: b.sha256,
            }
        })
        .collect()
}

/// The plan's risk: high when blocked or a finding is, medium for a risky permission or a
/// medium finding.
fn risk(blocked: bool, findings: &[Diagnostic], permissions: &[PermissionReview]) -> Risk {
    let risky_permission = permissions.iter().any(|p| {
        p.required
            && [
                PermissionKind::Shell,
                PermissionKind::Filesystem,
                PermissionKind::Plugin,
                PermissionKind::Credential,
            ]
            .iter()
            .any(|k| k.to_string() == p.kind)
    });
    if blocked
        || findings
            .iter()
            .any(|d| matches!(d.rule_severity, Some(Level::Block | Level::High)))
    {
        Risk::High
    } else if risky_permission
        || findings
            .iter()
            .any(|d| d.rule_severity == Some(Level::Medium))
    {
        Risk::Medium
    } else {
        Risk::Low
    }
}

/// A loud warning when an install would remove every installed bundle and leave none:
/// capm.toml asks for no bundle at all, which is more often a damaged capm.toml than a wish.
fn removes_everything(
    operation: Operation,
    lock: Option<&Lockfile>,
    resolution: &Resolution,
) -> Option<Diagnostic> {
    let installed: Vec<&str> = lock?.bundles.iter().map(|b| b.name.as_str()).collect();
    if operation != Operation::Install || installed.is_empty() || !resolution.bundles.is_empty() {
        return None;
    }
    Some(
        Diagnostic::new(
            "removes-everything",
            format!(
                "capm.toml asks for no bundles: this plan removes all {} installed ({})",
                installed.len(),
                installed.join(", ")
            ),
        )
        .help("if capm.toml lost them by mistake, restore it before installing; `capm remove NAME` removes a bundle on purpose"),
    )
}

/// A skip capm.toml records for a resource no bundle of the project provides: a typo, or
/// a leftover of a bundle that changed; it settles nothing.
fn unused_skips(skip: &std::collections::BTreeSet<String>, actions: &[Action]) -> Vec<Diagnostic> {
    skip.iter()
        .filter(|id| !actions.iter().any(|a| &a.resource == *id))
        .map(|id| {
            let ids: Vec<&str> = actions.iter().map(|a| a.resource.as_str()).collect();
            let hint = crate::manifest::decode::did_you_mean(id, &ids);
            Diagnostic::new(
                "unused-skip",
                format!("capm.toml skips `{id}`, which no bundle of the project provides{hint}"),
            )
            .help("remove it from the bundle's `skip` in capm.toml, or correct its name")
        })
        .collect()
}

/// The environment variables one server reads, each with whether it is secret and
/// required.
fn server_vars(server: &crate::manifest::bundle::McpServer) -> Vec<(String, bool, bool)> {
    use crate::manifest::bundle::EnvValue;
    let mut out = Vec::new();
    let plain = server.env.values().chain(server.headers.values());
    let oauth = server.oauth.iter().flat_map(|o| o.values());
    for (v, always_secret) in plain.map(|v| (v, false)).chain(oauth) {
        let (vars, secret, required): (Vec<String>, _, _) = match v {
            EnvValue::Literal(_) => continue,
            EnvValue::FromEnv {
                from_env,
                secret,
                required,
            } => (vec![from_env.value.clone()], secret, required),
            EnvValue::Template {
                template,
                secret,
                required,
            } => (
                crate::manifest::common::template_vars(&template.value)
                    .unwrap_or_default()
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                secret,
                required,
            ),
        };
        let secret = always_secret || secret.as_ref().is_some_and(|s| s.value);
        let required = required.as_ref().is_some_and(|r| r.value);
        out.extend(vars.into_iter().map(|var| (var, secret, required)));
    }
    out
}

/// The environment variables the resolved bundles' servers read, by name.
pub fn environment(
    resolution: &Resolution,
    inputs: &std::collections::BTreeMap<String, String>,
) -> Vec<super::model::EnvRequirement> {
    let mut by_name: std::collections::BTreeMap<String, super::model::EnvRequirement> =
        std::collections::BTreeMap::new();
    for b in &resolution.bundles {
        for (name, server) in &b.manifest.mcp {
            let id = format!("mcp:{}", name.value);
            for (var, secret, required) in server_vars(server) {
                let e =
                    by_name
                        .entry(var.clone())
                        .or_insert_with(|| super::model::EnvRequirement {
                            name: var,
                            resources: Vec::new(),
                            secret: false,
                            required: false,
                            input: false,
                        });
                if !e.resources.contains(&id) {
                    e.resources.push(id.clone());
                }
                e.secret |= secret;
                e.required |= required;
            }
        }
    }
    for e in by_name.values_mut() {
        e.input = !e.secret && inputs.contains_key(&e.name);
    }
    by_name.into_values().collect()
}

/// The `{file:}` reads of a bundle's servers, which its first `filesystem` permission
/// covers (SUBST-002).
fn file_reads(m: &crate::manifest::bundle::BundleManifest) -> Vec<super::model::FileRead> {
    m.mcp
        .iter()
        .flat_map(|(name, s)| {
            crate::security::subst::file_reads(s)
                .into_iter()
                .map(move |(field, path)| super::model::FileRead {
                    resource: format!("mcp:{name}"),
                    field,
                    path,
                })
        })
        .collect()
}

/// The servers of its bundle a permission is about, when it names them: the server itself
/// (`mcp`), those reading the variable (`credential`), those connecting to the host
/// (`network`). Other permissions concern the bundle as a whole.
fn permission_servers(p: &PermissionReview, resolution: &Resolution) -> Vec<String> {
    let Some(b) = resolution.bundles.iter().find(|b| b.name == p.bundle) else {
        return Vec::new();
    };
    b.manifest
        .mcp
        .iter()
        .filter(|(name, server)| match p.kind.as_str() {
            "mcp" => name.value == p.id,
            "credential" => server_vars(server).iter().any(|(v, ..)| *v == p.id),
            "network" => server.url.as_ref().is_some_and(|u| {
                url::Url::parse(&u.value).is_ok_and(|u| u.host_str() == Some(p.id.as_str()))
            }),
            _ => false,
        })
        .map(|(name, _)| format!("mcp:{}", name.value))
        .collect()
}

/// Leaves out what concerns only resources the user keeps their own version of
/// (`kept-yours`): capm installs nothing there, so their findings, permissions and
/// settings are not the user's concern.
fn without_kept(
    actions: &[Action],
    resolution: &Resolution,
    findings: &mut Vec<Diagnostic>,
    permissions: &mut Vec<PermissionReview>,
    environment: &mut Vec<super::model::EnvRequirement>,
) {
    // Left out only where the user keeps their own version for every client: a resource
    // still written for one client keeps its findings, permissions and variables.
    let placed = |a: &&Action| a.after.is_some();
    let kept: std::collections::BTreeSet<&str> = actions
        .iter()
        .filter(placed)
        .filter(|a| a.reason.as_deref() == Some("kept-yours"))
        .map(|a| a.resource.as_str())
        .filter(|id| {
            actions
                .iter()
                .filter(placed)
                .filter(|a| a.resource == *id)
                .all(|a| a.reason.as_deref() == Some("kept-yours"))
        })
        .collect();
    if kept.is_empty() {
        return;
    }
    let (hidden, shown): (Vec<PermissionReview>, Vec<PermissionReview>) =
        std::mem::take(permissions).into_iter().partition(|p| {
            let servers = permission_servers(p, resolution);
            !servers.is_empty() && servers.iter().all(|s| kept.contains(s.as_str()))
        });
    *permissions = shown;
    // PERM-001 asks to review a permission: not one that is left out.
    let reviews_hidden = |d: &Diagnostic| {
        d.code == "PERM-001"
            && hidden.iter().any(|p| {
                d.resource.as_deref() == Some(&format!("bundle:{}", p.bundle))
                    && d.message
                        .contains(&format!("{} permission `{}`", p.kind, p.id))
            })
    };
    findings
        .retain(|d| d.resource.as_deref().is_none_or(|r| !kept.contains(r)) && !reviews_hidden(d));
    for e in environment.iter_mut() {
        e.resources.retain(|r| !kept.contains(r.as_str()));
    }
    environment.retain(|e| !e.resources.is_empty());
}

/// sha256 over the canonical plan and every config file's content as read.
pub fn fingerprint(plan: &Plan, state: &ScopeState) -> String {
    let mut h = Sha256::new();
    let value = serde_json::to_value(plan).expect("plans serialise");
    h.update(crate::target::canonical_json(&value).as_bytes());
    for c in &state.configs {
        h.update(c.rel.as_bytes());
        h.update([0]);
        if c.user {
            // A client rewrites its user file as it runs (Claude Code at every start): only
            // what the plan compared there counts.
            for a in &plan.actions {
                let at = a
                    .target
                    .pointer
                    .as_deref()
                    .and_then(|p| c.value.as_ref().ok()?.pointer(p));
                h.update(
                    at.map(crate::target::canonical_json)
                        .unwrap_or_default()
                        .as_bytes(),
                );
                h.update([0]);
            }
            continue;
        }
        h.update(Sha256::digest(c.text.as_bytes()));
    }
    format!("sha256:{}", hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Request, Sources};
    use crate::manifest::lock::LockedResource;
    use crate::target::opencode::OpenCode;

    fn plan(
        bundles: &[&str],
        files: &[(&str, &str)],
        lock: Option<&Lockfile>,
        mode: ProductMode,
    ) -> Plan {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let sources = Sources::catalog_only().unwrap();
        let requests: Vec<Request> = bundles
            .iter()
            .map(|n| Request {
                name: n.to_string(),
                req: semver::VersionReq::STAR,
            })
            .collect();
        let resolution = crate::graph::build(&sources, &requests, lock).unwrap();
        let scope = ScopeRoot::Project(dir.path().to_path_buf());
        let state = ScopeState::read(&OpenCode, &scope).unwrap();
        let preserves = std::collections::BTreeSet::new();
        let request = crate::plan::model::PlanRequestDoc::default();
        let skip = std::collections::BTreeSet::new();
        let inputs = std::collections::BTreeMap::new();
        let input = PlanInput {
            inputs: &inputs,
            operation: Operation::Install,
            request: &request,
            manifest_changes: &[],
            preserves: &preserves,
            purge: false,
            skip: &skip,
            keep: &skip,
            restore: &skip,
            targets: &Targets::opencode(&scope),
            homes: &Homes::default(),
            scope: &scope,
            mode,
            resolution: &resolution,
            state: &state,
            lock,
            policy: None,
        };
        build(&input).unwrap()
    }

    fn action<'p>(p: &'p Plan, resource: &str) -> &'p Action {
        p.actions
            .iter()
            .find(|a| a.resource == resource)
            .unwrap_or_else(|| panic!("no action for {resource}: {:#?}", p.actions))
    }

    const GITHUB: &str = r#"{"type":"remote","url":"https://api.githubcopilot.com/mcp/","enabled":true,"headers":{"Authorization":"Bearer {env:GITHUB_PERSONAL_ACCESS_TOKEN}"}}"#;

    #[test]
    fn an_empty_project_gets_everything_created() {
        let p = plan(&["github"], &[], None, ProductMode::DesktopLocal);
        assert_eq!(p.status, PlanStatus::Ready);
        let mcp = action(&p, "mcp:github");
        assert_eq!(
            (
                mcp.action,
                mcp.target.file.as_str(),
                mcp.target.pointer.as_deref()
            ),
            (ActionKind::Create, "opencode.json", Some("/mcp/github"))
        );
        assert_eq!(
            action(&p, "skill:github-operations").target.file,
            ".opencode/skills/github-operations"
        );
        assert!(p.fingerprint.starts_with("sha256:"));
    }

    #[test]
    fn the_conflict_table_against_a_commented_config() {
        let differs = "// my servers\n{\n  \"mcp\": { \"github\": { \"type\": \"local\", \"command\": [\"gh-mcp\"] }, },\n}\n";
        let p = plan(
            &["github"],
            &[("opencode.jsonc", differs)],
            None,
            ProductMode::DesktopLocal,
        );
        let a = action(&p, "mcp:github");
        assert_eq!(
            (a.action, a.reason.as_deref(), a.target.file.as_str()),
            (
                ActionKind::Block,
                Some("conflict-user-owned"),
                "opencode.jsonc"
            )
        );
        assert_eq!(p.status, PlanStatus::Blocked);
        let same = format!("{{ \"mcp\": {{ \"github\": {GITHUB} }} }}");
        let p = plan(
            &["github"],
            &[("opencode.json", &same)],
            None,
            ProductMode::DesktopLocal,
        );
        assert_eq!(action(&p, "mcp:github").action, ActionKind::Adopt);
        let shadow = plan(
            &["github"],
            &[("opencode.json", "{}"), (".opencode/opencode.json", &same)],
            None,
            ProductMode::DesktopLocal,
        );
        let a = action(&shadow, "mcp:github");
        assert_eq!(
            (a.action, a.reason.as_deref()),
            (ActionKind::Block, Some("shadowed"))
        );
    }

    #[test]
    fn an_installed_bundle_is_a_noop_and_a_broken_config_blocks() {
        let first = plan(&["github"], &[], None, ProductMode::DesktopLocal);
        let mut lock = Lockfile::new();
        lock.bundles = first
            .bundles
            .iter()
            .map(|b| crate::manifest::lock::LockedBundle {
                commit: None,
                manifest: None,
                archive: None,
                name: b.name.clone(),
                version: b.version.clone(),
                source: b.source.clone(),
                sha256: b.sha256.clone(),
                dependencies: vec![],
            })
            .collect();
        let skill_digest = action(&first, "skill:github-operations")
            .after
            .clone()
            .unwrap();
        let mcp_digest = action(&first, "mcp:github").after.clone().unwrap();
        lock.resources = vec![
            LockedResource {
                id: "mcp:github".into(),
                bundle: "github".into(),
                path: "opencode.json".into(),
                pointer: Some("/mcp/github".into()),
                element: None,
                sha256: mcp_digest,
                shared: false,
                kept: None,
            },
            LockedResource {
                id: "skill:github-operations".into(),
                bundle: "github".into(),
                path: ".opencode/skills/github-operations".into(),
                pointer: None,
                element: None,
                sha256: skill_digest,
                shared: false,
                kept: None,
            },
        ];
        let tree = crate::catalog::bundles()
            .into_iter()
            .find(|t| t.display_root == "catalog/github")
            .unwrap();
        let skill: Vec<(String, String)> = tree
            .below("skills/github-operations")
            .filter_map(|(p, e)| match e {
                crate::manifest::tree::Entry::File(b) => Some((
                    format!(
                        ".opencode/skills/github-operations/{}",
                        &p["skills/github-operations/".len()..]
                    ),
                    String::from_utf8(b.to_vec()).unwrap(),
                )),
                _ => None,
            })
            .collect();
        let config = format!("{{ \"mcp\": {{ \"github\": {GITHUB} }} }}");
        let mut files: Vec<(&str, &str)> = skill
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        files.push(("opencode.json", &config));
        let again = plan(&["github"], &files, Some(&lock), ProductMode::DesktopLocal);
        assert_eq!(again.status, PlanStatus::Noop, "{:#?}", again.actions);
        let broken = plan(
            &["github"],
            &[("opencode.json", "{\n  \"mcp\": {\n}\n")],
            None,
            ProductMode::DesktopLocal,
        );
        assert_eq!(broken.status, PlanStatus::Blocked);
        let f = broken
            .findings
            .iter()
            .find(|d| d.code == "invalid-config")
            .unwrap();
        assert_eq!(f.location.as_ref().unwrap().file, "opencode.json");
    }

    #[test]
    fn a_local_only_bundle_in_cloud_web_is_blocked() {
        // The bundle does not claim cloud-web, so its tier and its server's modes block it.
        let p = plan(&["filesystem"], &[], None, ProductMode::CloudWeb);
        assert_eq!(p.status, PlanStatus::Blocked);
        let codes: Vec<&str> = p
            .findings
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code)
            .collect();
        assert!(
            codes.contains(&"MODE-003") && codes.contains(&"MODE-002"),
            "{codes:?}"
        );
        assert_eq!(p.risk, Risk::High);
    }

    #[test]
    fn every_catalog_bundle_installs_into_an_empty_project() {
        let names: Vec<String> = crate::catalog::bundles()
            .iter()
            .map(|t| t.display_root.trim_start_matches("catalog/").to_string())
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let p = plan(&refs, &[], None, ProductMode::DesktopLocal);
        assert_eq!(
            p.status,
            PlanStatus::Ready,
            "{:#?}",
            p.findings
                .iter()
                .filter(|d| d.is_error())
                .collect::<Vec<_>>()
        );
        assert!(p.actions.iter().all(|a| a.action == ActionKind::Create));
        let schema: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/schemas/plan.schema.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let doc = serde_json::to_value(&p).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}
