//! The commands that change a project: `install`, `add`, `update`, `remove`, `apply
//! --plan`, and `doctor`. Each shows the plan, asks for confirmation on a terminal (or
//! requires `--yes`), and applies it as one transaction.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use super::graph::{TextFormat, project_error};
use super::plan::request;
use super::{CliError, Status, Term, print_json};
use crate::apply::txn::{Recovery, TxnError};
use crate::ops::apply::{ApplyError, ApplyOptions, Hooks, Outcome, Settle, is_conflict};
use crate::ops::plan::PlanRequest;
use crate::ops::project;
use crate::plan::model::{Operation, Plan};
use crate::plan::ownership::ActionKind;

/// Flags every mutating command takes.
#[derive(Debug, Args)]
pub struct ApplyFlags {
    /// Compute and check the plan as an apply would (blocked actions, --locked, a saved
    /// plan's fingerprint), print it, and stop before applying it: exit 0 when it could be
    /// applied, 1 when not. Nothing is written: an earlier capm's interrupted transaction
    /// is reported, not recovered.
    #[arg(long)]
    dry_run: bool,
    /// Apply without asking (required when not on a terminal).
    #[arg(short, long)]
    yes: bool,
    /// Fail if capm.lock's bundles would change.
    #[arg(long)]
    locked: bool,
    /// `--locked` and `--offline`: install exactly what capm.lock names, from the cache.
    #[arg(long)]
    frozen: bool,
    /// Output format: human for people, or json for one `capm.apply/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    #[command(flatten)]
    choices: super::plan::Choices,
    #[command(flatten)]
    project: super::ProjectArg,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    flags: ApplyFlags,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Bundles to add, as NAME, NAME@REQ (`github@^1`), or the path of a bundle directory
    /// (`./tools`), recorded as a path bundle.
    #[arg(required_unless_present = "path")]
    bundles: Vec<String>,
    /// Add the bundle in directory DIR (relative to the current directory), recorded in
    /// capm.toml as `{ path = "…" }` relative to the project.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["bundles", "registry"])]
    path: Option<PathBuf>,
    /// Take the bundles named from registry NAME (declared under capm.toml's
    /// `[registries]`), recorded as `{ version = "…", registry = "NAME" }`; or from the
    /// registry at a URL, which capm.toml then declares (named after its host) unless it
    /// declares it already.
    #[arg(long, value_name = "NAME|URL")]
    registry: Option<String>,
    /// For a git URL: follow tag TAG, recorded as `{ git = "…", tag = "TAG" }`.
    #[arg(long, value_name = "TAG", group = "git-ref")]
    tag: Option<String>,
    /// For a git URL: follow branch BRANCH.
    #[arg(long, value_name = "BRANCH", group = "git-ref")]
    branch: Option<String>,
    /// For a git URL: stay at commit REV.
    #[arg(long, value_name = "REV", group = "git-ref")]
    rev: Option<String>,
    /// For a git URL or a directory holding skills: take skill NAME (repeat for several),
    /// recorded as `skills = ["NAME", …]`; every skill when not given.
    #[arg(long = "skill", value_name = "NAME", conflicts_with = "registry")]
    skills: Vec<String>,
    #[command(flatten)]
    flags: ApplyFlags,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Bundles to update; all when none is named.
    bundles: Vec<String>,
    /// Go beyond capm.toml's version requirements.
    #[arg(long)]
    latest: bool,
    #[command(flatten)]
    flags: ApplyFlags,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Bundles to remove.
    #[arg(required = true)]
    bundles: Vec<String>,
    /// Also delete files the user modified after capm installed them.
    #[arg(long)]
    purge: bool,
    #[command(flatten)]
    flags: ApplyFlags,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// Resources you modified, as KIND:NAME (`agent:reviewer`); `capm doctor` lists them.
    #[arg(required = true, value_name = "RESOURCE")]
    resources: Vec<String>,
    #[command(flatten)]
    flags: ApplyFlags,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `capm plan … --out FILE`. It is computed again under the lock and
    /// applied only if it comes out identical (same fingerprint), else refused as stale.
    /// The plan's own --skip and --input choices are used; any given here are added to
    /// them, so one the saved plan did not make changes it and makes it stale: make the
    /// choices when you run `capm plan`. --locked also refuses it if capm.lock's bundles
    /// would change.
    #[arg(long, value_name = "FILE")]
    plan: PathBuf,
    #[command(flatten)]
    flags: ApplyFlags,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Output format: human for people, or json for one `capm.doctor/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    #[command(flatten)]
    pub(super) project: super::ProjectArg,
}

/// The `--project` of each mutating command, which lives in its [`ApplyFlags`].
macro_rules! project_in_flags {
    ($($args:ty),*) => {$(
        impl $args {
            pub(super) fn project_mut(&mut self) -> &mut super::ProjectArg {
                &mut self.flags.project
            }
        }
    )*};
}
project_in_flags!(
    InstallArgs,
    AddArgs,
    UpdateArgs,
    RemoveArgs,
    EditArgs,
    ApplyArgs
);

/// The fields of a saved plan that `apply --plan` reads.
#[derive(Debug, serde::Deserialize)]
struct SavedPlan {
    schema: String,
    operation: Operation,
    fingerprint: String,
    #[serde(default)]
    request: crate::plan::model::PlanRequestDoc,
}

/// The schema id of the result document of a mutating command.
pub const APPLY_SCHEMA: &str = "capm.apply/v1";

/// How a mutating command ended.
#[derive(Clone, Copy, Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApplyOutcome {
    /// The plan was applied.
    Applied,
    /// Nothing to do; nothing was written.
    Noop,
    /// `--dry-run`: nothing was written.
    DryRun,
    /// The plan is blocked; nothing was written.
    Blocked,
    /// Not confirmed; nothing was written.
    Declined,
}

/// What `--format json` prints for `install`, `add`, `update`, `remove` and `apply`.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(title = "capm apply result")]
pub struct ApplyDoc<'a> {
    /// Always `capm.apply/v1`.
    #[schemars(extend("const" = "capm.apply/v1"))]
    pub schema: &'static str,
    pub outcome: ApplyOutcome,
    /// The plan shown, or the one applied.
    pub plan: &'a Plan,
    /// Where capm wrote its versions of resources the user modified (relative to the
    /// scope).
    pub proposals: &'a [String],
    /// What capm could not delete after the change was committed, each with its path and
    /// the system's error; the next run tries again.
    pub leftovers: &'a [String],
}

impl<'a> ApplyDoc<'a> {
    pub fn of(outcome: &'a Outcome) -> ApplyDoc<'a> {
        let (word, plan, proposals, leftovers): (_, _, &[String], &[String]) = match outcome {
            Outcome::Blocked(p) => (ApplyOutcome::Blocked, p, &[], &[]),
            Outcome::Noop(p) => (ApplyOutcome::Noop, p, &[], &[]),
            Outcome::DryRun(p) => (ApplyOutcome::DryRun, p, &[], &[]),
            Outcome::Declined(p) => (ApplyOutcome::Declined, p, &[], &[]),
            Outcome::Applied {
                plan,
                proposals,
                leftovers,
            } => (ApplyOutcome::Applied, plan, proposals, leftovers),
        };
        ApplyDoc {
            schema: APPLY_SCHEMA,
            outcome: word,
            plan,
            proposals,
            leftovers,
        }
    }
}

pub fn install(args: InstallArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    request_and_run(
        Operation::Install,
        Vec::new(),
        false,
        false,
        args.flags,
        dir,
        term,
    )
}

pub fn add(args: AddArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    let root = project::find_root(dir).map_err(|e| project_error(e, term))?;
    let bundles = args
        .bundles
        .into_iter()
        .map(|spec| match crate::ops::project_edit::classify(&spec) {
            // With --registry, `io.github.acme/weather` is an MCP Registry server's name.
            crate::ops::project_edit::Spec::Path
                if args.registry.is_none() || spec.starts_with('.') =>
            {
                in_project(Path::new(&spec), &root)
            }
            _ => Ok(spec),
        })
        .chain(args.path.iter().map(|p| in_project(p, &root)))
        .collect::<Result<_, _>>()?;
    let mut req = request(
        term,
        Operation::Install,
        bundles,
        false,
        false,
        &args.flags.choices,
    )?;
    req.registry = args.registry;
    req.git_ref = [
        ("tag", args.tag),
        ("branch", args.branch),
        ("rev", args.rev),
    ]
    .into_iter()
    .find_map(|(k, v)| v.map(|v| (k.to_string(), v)));
    req.skills = args.skills;
    run(req, args.flags, None, dir, term)
}

/// Whether `spec` reads as an MCP Registry server's name (`io.github.acme/weather`): a
/// reverse-DNS namespace, `/`, and a name.
fn server_name(spec: &str) -> bool {
    let Some((namespace, name)) = spec.split_once('/') else {
        return false;
    };
    let word = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    namespace.split('.').count() > 1
        && namespace.split('.').all(word)
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// A bundle directory given on the command line, relative to the current directory (as
/// `cargo add --path` reads it), as a path relative to the project `root`, starting with
/// `./` or `../` (or absolute when nothing is shared). A directory that does not exist is
/// refused: it is never looked for anywhere else.
fn in_project(dir: &Path, root: &Path) -> Result<String, CliError> {
    let shown = dir.display();
    let help = match server_name(&dir.to_string_lossy()) {
        true => format!(
            "a bundle's path is read from the current directory; for the MCP Registry server \
             `{shown}`, name the registry: `capm add {shown} --registry NAME`"
        ),
        false => {
            "a bundle's path is read from the current directory; it must hold bundle.toml".into()
        }
    };
    let missing = || CliError::Missing {
        code: "path-not-found",
        message: format!("`{shown}` does not exist"),
        help: Some(help.clone()),
    };
    let dir = dir.canonicalize().map_err(|_| missing())?;
    let root = root.canonicalize().map_err(CliError::Io)?;
    let rel = pathdiff::diff_paths(&dir, &root).unwrap_or(dir);
    let rel = rel.to_string_lossy().replace('\\', "/");
    Ok(if rel.starts_with('.') || rel.starts_with('/') {
        rel
    } else if rel.is_empty() {
        ".".to_string()
    } else {
        format!("./{rel}")
    })
}

pub fn update(args: UpdateArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    let latest = args.latest;
    request_and_run(
        Operation::Update,
        args.bundles,
        latest,
        false,
        args.flags,
        dir,
        term,
    )
}

pub fn remove(args: RemoveArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    let purge = args.purge;
    request_and_run(
        Operation::Uninstall,
        args.bundles,
        false,
        purge,
        args.flags,
        dir,
        term,
    )
}

/// `capm keep`: the user's edits of these resources become theirs.
pub fn keep(args: EditArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    settle_edits(args, false, dir, term)
}

/// `capm restore`: capm's version of these resources replaces the user's edits.
pub fn restore(args: EditArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    settle_edits(args, true, dir, term)
}

/// An install that settles the user's edits of the named resources: keeps them as theirs,
/// or (`restore`) puts capm's version back.
fn settle_edits(
    args: EditArgs,
    restore: bool,
    dir: Option<&Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    let choices = &args.flags.choices;
    let mut req = request(term, Operation::Install, Vec::new(), false, false, choices)?;
    let named = args.resources.into_iter().collect();
    if restore {
        req.restore = named;
    } else {
        req.keep = named;
    }
    run(req, args.flags, None, dir, term)
}

fn request_and_run(
    operation: Operation,
    bundles: Vec<String>,
    latest: bool,
    purge: bool,
    flags: ApplyFlags,
    dir: Option<&Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    let req = request(term, operation, bundles, latest, purge, &flags.choices)?;
    run(req, flags, None, dir, term)
}

pub fn apply(args: ApplyArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    let text = std::fs::read_to_string(&args.plan).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CliError::Missing {
            code: "path-not-found",
            message: format!("`{}` does not exist", args.plan.display()),
            help: Some("save a plan with `capm plan install|update|uninstall … --out FILE`".into()),
        },
        _ => CliError::Other(format!("cannot read `{}`: {e}", args.plan.display())),
    })?;
    let not_a_plan = |why: String| CliError::Refused {
        code: "invalid-plan",
        message: format!("`{}` is not a capm plan: {why}", args.plan.display()),
        details: Vec::new(),
        help: Some("save one with `capm plan install|update|uninstall … --out FILE`".into()),
    };
    let saved: SavedPlan = serde_json::from_str(&text).map_err(|e| not_a_plan(e.to_string()))?;
    if saved.schema != crate::plan::model::PLAN_SCHEMA {
        return Err(not_a_plan(format!(
            "it is a `{}` document, not a `{}` plan",
            saved.schema,
            crate::plan::model::PLAN_SCHEMA
        )));
    }
    let mut req = request(
        term,
        saved.operation,
        saved.request.bundles,
        saved.request.latest,
        saved.request.purge,
        &args.flags.choices,
    )?;
    req.skip.extend(saved.request.skip);
    req.keep.extend(saved.request.keep);
    req.restore.extend(saved.request.restore);
    req.inputs.extend(saved.request.inputs);
    req.registry = saved.request.registry;
    run(req, args.flags, Some(saved.fingerprint), dir, term)
}

/// Talks to the user while an apply runs.
struct Prompt<'t> {
    term: &'t mut Term,
    yes: bool,
    human: bool,
    /// Set when confirmation was needed but there was no terminal to ask on.
    needed_yes: bool,
    /// The fingerprint of the plan last printed, so a plan is not printed twice.
    shown: Option<String>,
    /// "Resolving…" while the plan is computed, on a terminal.
    spinner: Option<indicatif::ProgressBar>,
    /// Staging progress, on a terminal, once staging takes a moment.
    bar: Option<indicatif::ProgressBar>,
    staging_since: Option<std::time::Instant>,
}

/// Ctrl-C at a prompt ends capm before anything is written; the prompts hide the cursor,
/// so it is shown again first.
fn restore_cursor_on_interrupt() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            let _ = dialoguer::console::Term::stderr().show_cursor();
            std::process::exit(130);
        });
    });
}

impl Prompt<'_> {
    /// Whether to ask: stdin and stderr are terminals and --yes is absent.
    fn interactive(&self) -> bool {
        // JSON output is for programs: they pass --yes, or get the plan and exit 1.
        let yes = !self.yes && self.human && self.term.env.stdin_tty && self.term.env.stderr_tty;
        if yes {
            restore_cursor_on_interrupt();
        }
        yes
    }

    fn stop_spinner(&mut self) {
        if let Some(s) = self.spinner.take() {
            s.finish_and_clear();
        }
    }

    fn show(&mut self, plan: &Plan) {
        self.stop_spinner();
        if self.human && self.shown.as_deref() != Some(plan.fingerprint.as_str()) {
            let text = super::plan::human(plan);
            let _ = write!(self.term.out(), "{text}");
            let _ = self.term.out().flush();
            self.shown = Some(plan.fingerprint.clone());
        }
    }
}

/// What the user must set in their environment for the planned servers: capm never reads,
/// stores or shows a secret value.
fn environment_notes(term: &mut Term, plan: &Plan) {
    let missing: Vec<_> = plan
        .environment
        .iter()
        .filter(|e| e.required && !e.input && !term.env.set_vars.contains(&e.name))
        .collect();
    for e in missing {
        let _ = term.warn(if e.secret {
            format!(
                "`{}` is not set: it is a secret that {} needs; set it in the environment {} starts in",
                e.name,
                e.resources.join(", "),
                readers_of(plan, &e.resources)
            )
        } else {
            format!(
                "`{}` is not set: it is a setting that {} needs; set it in the environment, or record it with `--input {}=VALUE`",
                e.name,
                e.resources.join(", "),
                e.name
            )
        });
    }
}

/// The clients the plan installs `resources` for, as one phrase ("OpenCode", "Claude Code
/// or Codex"): where a secret they read must be set.
fn readers_of(plan: &Plan, resources: &[String]) -> String {
    use crate::manifest::common::Target as Id;
    use crate::manifest::decode::Keyword;
    let reads = |id: &Id| {
        plan.actions
            .iter()
            .any(|a| resources.contains(&a.resource) && a.clients.iter().any(|c| c == id.as_str()))
    };
    let names: Vec<&str> = Id::all()
        .iter()
        .filter(|id| reads(id))
        .map(|id| crate::target::set::target(*id).display())
        .collect();
    match names.split_last() {
        None => "OpenCode".to_string(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

impl Hooks for Prompt<'_> {
    fn settle(&mut self, plan: &Plan) -> Settle {
        if !self.interactive() {
            return Settle::AsIs;
        }
        self.show(plan);
        let mut keep = std::collections::BTreeSet::new();
        for a in plan.actions.iter().filter(|a| is_conflict(a)) {
            let modified = a.reason.as_deref() == Some("conflict-user-modified");
            let mut place = a.target.file.clone();
            if let Some(p) = &a.target.pointer {
                place.push_str(&format!(" {p}"));
            }
            let _ = writeln!(
                self.term.err(),
                "\n`{}` ({}) at {place}: {}",
                a.resource,
                a.bundle,
                if modified {
                    "you changed what capm installed there"
                } else {
                    "your own version is there"
                }
            );
            if let Some(d) = &a.diff {
                for line in d.lines() {
                    let _ = writeln!(self.term.err(), "    {line}");
                }
            }
            let items: &[&str] = if modified {
                &[
                    "keep mine, and write capm's version beside it",
                    "skip this resource: keep mine, write nothing beside it",
                    "abort: write nothing",
                ]
            } else {
                &[
                    "keep mine: leave the bundle's version out",
                    "abort: write nothing",
                ]
            };
            let _ = self.term.flush();
            let choice = dialoguer::Select::new()
                .with_prompt(format!("What about `{}`?", a.resource))
                .items(items)
                .default(0)
                .interact_on_opt(&dialoguer::console::Term::stderr());
            // An interrupted prompt can leave the cursor hidden.
            let _ = dialoguer::console::Term::stderr().show_cursor();
            match (modified, choice) {
                (true, Ok(Some(0))) => {}
                (true, Ok(Some(1))) | (false, Ok(Some(0))) => {
                    keep.insert(a.resource.clone());
                }
                _ => return Settle::Abort,
            }
        }
        Settle::Skip(keep)
    }

    fn inputs(&mut self, plan: &Plan) -> std::collections::BTreeMap<String, String> {
        let mut values = std::collections::BTreeMap::new();
        if !self.interactive() {
            return values;
        }
        let wanted: Vec<_> = plan
            .environment
            .iter()
            .filter(|e| {
                e.required && !e.secret && !e.input && !self.term.env.set_vars.contains(&e.name)
            })
            .cloned()
            .collect();
        if wanted.is_empty() {
            return values;
        }
        self.stop_spinner();
        let _ = self.term.flush();
        for e in wanted {
            let value = dialoguer::Input::<String>::new()
                .with_prompt(format!(
                    "{} (a setting {} needs; saved in capm.toml's [inputs])",
                    e.name,
                    e.resources.join(", ")
                ))
                .interact_text_on(&dialoguer::console::Term::stderr());
            let _ = dialoguer::console::Term::stderr().show_cursor();
            match value {
                Ok(v) => {
                    values.insert(e.name.clone(), v);
                }
                Err(_) => break,
            }
        }
        values
    }

    fn confirm(&mut self, plan: &Plan) -> bool {
        // `-q --yes` applies silently; a plan someone must approve is always shown.
        if !(self.yes && self.term.quiet) {
            self.show(plan);
        }
        environment_notes(self.term, plan);
        if self.yes {
            self.stop_spinner();
            return true;
        }
        if !self.interactive() {
            self.needed_yes = true;
            return false;
        }
        let _ = self.term.flush();
        let yes = dialoguer::Confirm::new()
            .with_prompt("Apply this plan?")
            .default(false)
            .interact_on_opt(&dialoguer::console::Term::stderr())
            .ok()
            .flatten()
            .unwrap_or(false);
        let _ = dialoguer::console::Term::stderr().show_cursor();
        yes
    }

    fn progress(&mut self, progress: &crate::operation::Progress) {
        // The bar shows staging only, the one stage that can take long.
        let (crate::operation::Stage::Stage, done, Some(total)) =
            (progress.stage, progress.done, progress.total)
        else {
            return;
        };
        if !self.term.env.stderr_tty || self.term.quiet {
            return;
        }
        let since = *self
            .staging_since
            .get_or_insert_with(std::time::Instant::now);
        if self.bar.is_none() && since.elapsed() < std::time::Duration::from_millis(250) {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix:>12.green.bold} [{bar:30}] {pos}/{len}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix("Staging");
            bar
        });
        bar.set_position(done as u64);
        if done >= total {
            bar.finish_and_clear();
        }
    }

    fn waiting(&self, lock: &Path) {
        if let Some(s) = &self.spinner {
            s.set_message(format!("waiting for lock on `{}`", lock.display()));
        }
        waiting(self.term.quiet, lock);
    }

    fn replanned(&mut self, plan: &Plan) {
        let _ = self.term.warn(
            "the project changed while capm waited for the lock; applying the plan computed now",
        );
        if self.human && !self.term.quiet {
            let text = super::plan::human(plan);
            let _ = write!(self.term.out(), "{text}");
        }
    }

    fn recovered(&mut self, r: &Recovery) {
        report_recovery(
            self.term,
            &r.rolled_back,
            &r.finished,
            r.conflicts
                .iter()
                .map(|c| (c.path.as_str(), c.saved.as_deref())),
            r.leftovers.iter().map(ToString::to_string),
        );
    }
}

/// What recovery of interrupted transactions did, told on stderr.
fn report_recovery<'a>(
    term: &mut Term,
    rolled_back: &[String],
    finished: &[String],
    conflicts: impl Iterator<Item = (&'a str, Option<&'a str>)>,
    leftovers: impl Iterator<Item = String>,
) {
    for id in rolled_back {
        let _ = term.status(
            "Recovered",
            format!("rolled back interrupted transaction {id}"),
        );
    }
    for id in finished {
        let _ = term.status("Recovered", format!("finished committed transaction {id}"));
    }
    for (path, saved) in conflicts {
        let saved = saved
            .map(|s| format!("; the earlier content is saved at `{s}`"))
            .unwrap_or_default();
        let _ = term.warn(format!(
            "`{path}` was changed by another program during an interrupted transaction and was kept{saved}"
        ));
    }
    for l in leftovers {
        let _ = term.warn(format!("{l}; the next capm command tries again"));
    }
}

/// Tells the user capm waits for another capm's lock.
fn waiting(quiet: bool, lock: &Path) {
    if !quiet {
        eprintln!(
            "{:>12} for lock on `{}` held by another capm",
            "Waiting",
            lock.display()
        );
    }
}

fn run(
    request: PlanRequest,
    flags: ApplyFlags,
    expect: Option<String>,
    dir: Option<&Path>,
    term: &mut Term,
) -> Result<Status, CliError> {
    let root = project::find_root(dir).map_err(|e| project_error(e, term))?;
    if flags.frozen {
        crate::remote::go_offline();
    }
    if flags.locked || flags.frozen {
        crate::remote::fetch_only_locked();
    }
    let opts = ApplyOptions {
        request,
        dry_run: flags.dry_run,
        locked: flags.locked || flags.frozen,
        expect,
        assume_yes: flags.yes,
        timeout: term.env.lock_timeout,
    };
    let human = flags.format == TextFormat::Human;
    let spinner = (term.env.stderr_tty && !term.quiet).then(|| {
        let s = indicatif::ProgressBar::new_spinner().with_message("resolving…");
        s.enable_steady_tick(std::time::Duration::from_millis(80));
        s
    });
    let mut prompt = Prompt {
        term,
        yes: flags.yes,
        human,
        needed_yes: false,
        shown: None,
        spinner,
        bar: None,
        staging_since: None,
    };
    let result = crate::ops::apply::apply(&root, &opts, &mut prompt);
    prompt.stop_spinner();
    let needed_yes = prompt.needed_yes;
    let outcome = result.map_err(|e| apply_error(e, term))?;
    if !human {
        print_json(term, &ApplyDoc::of(&outcome))?;
    }
    match &outcome {
        Outcome::Blocked(p) if human => {
            let text = super::plan::human(p);
            write!(term.out(), "{text}")?;
            term.out().flush()?;
            show_blocking(term, p)?;
        }
        Outcome::DryRun(p) if human => {
            let text = super::plan::human(p);
            write!(term.out(), "{text}")?;
        }
        Outcome::Noop(p) => {
            // A dry run over a committed transaction's pending clean-up says so.
            for f in p.findings.iter().filter(|f| f.code == "recovery-finishing") {
                term.warn(&f.message)?;
            }
            term.status("Finished", "nothing to do: the project is up to date")?;
        }
        _ => {}
    }
    match outcome {
        Outcome::Blocked(_) => Err(CliError::Refused {
            code: "plan-blocked",
            message: "the plan is blocked; nothing was written".into(),
            details: Vec::new(),
            help: Some("the plan above says what blocks it and how to fix it".into()),
        }),
        Outcome::Declined(_) if needed_yes => Err(CliError::Refused {
            code: "not-confirmed",
            message: "not applied: confirmation is needed and there is no terminal to ask on"
                .into(),
            details: Vec::new(),
            help: Some(if human {
                "review the plan above, then run again with --yes to apply it (or --dry-run to only show it)".into()
            } else {
                "review the plan in the JSON document, then run again with --yes to apply it".into()
            }),
        }),
        Outcome::Declined(_) => {
            term.status("Cancelled", "nothing was written")?;
            Ok(Status::Refused)
        }
        Outcome::Noop(_) | Outcome::DryRun(_) => Ok(Status::Success),
        Outcome::Applied {
            plan,
            proposals,
            leftovers,
        } => {
            let count = |k: ActionKind| plan.actions.iter().filter(|a| a.action == k).count();
            term.status(
                "Applied",
                format!(
                    "{} created, {} updated, {} removed, {} adopted, {} kept",
                    count(ActionKind::Create),
                    count(ActionKind::Update),
                    count(ActionKind::Remove),
                    count(ActionKind::Adopt),
                    count(ActionKind::Keep) + count(ActionKind::Preserve),
                ),
            )?;
            for c in &plan.manifest_changes {
                term.status("Updated", format!("capm.toml: {c}"))?;
            }
            for p in &proposals {
                term.warn(format!(
                    "you modified a file capm installed; your version stays, capm's is at `{p}` to compare"
                ))?;
            }
            for l in &leftovers {
                term.warn(format!("{l}; the next capm command tries again"))?;
            }
            Ok(Status::Success)
        }
    }
}

/// The findings that block a plan, on stderr with their source lines, as lint shows them.
fn show_blocking(term: &mut Term, plan: &Plan) -> std::io::Result<()> {
    let color = term.color;
    for d in plan.findings.iter().filter(|d| d.is_error()) {
        let text = super::render::human(d, &plan.sources, color);
        writeln!(term.err(), "{text}\n")?;
    }
    Ok(())
}

pub(super) fn apply_error(e: ApplyError, term: &mut Term) -> CliError {
    if crate::operation::is_cancellation(&e) {
        return CliError::Cancelled;
    }
    let refused = |code: &'static str, message: String, help: &str| CliError::Refused {
        code,
        message,
        details: Vec::new(),
        help: Some(help.to_string()),
    };
    match e {
        ApplyError::Project(e) => project_error(e, term),
        ApplyError::Plan(e) => super::plan::plan_error(e, term),
        ApplyError::Stale(message) => refused(
            "plan-stale",
            message,
            "compute the plan again, review it, and apply that one",
        ),
        ApplyError::Txn(TxnError::Changed { path }) => refused(
            "plan-stale",
            format!(
                "`{path}` was changed by another program while capm was applying; everything was rolled back"
            ),
            "run the command again; the other program's change is kept",
        ),
        ApplyError::LockStale { changes } => CliError::Refused {
            code: "lock-stale",
            message: "capm.lock needs to be updated, but --locked (or --frozen) was given".into(),
            details: changes,
            help: Some(
                "run `capm lock` (or drop --locked or --frozen) and commit capm.lock".into(),
            ),
        },
        ApplyError::Locked(w) => CliError::Locked(w.to_string()),
        ApplyError::ReadOnly(path) => refused(
            "read-only-target",
            format!("`{path}` is read-only; capm does not replace it, and nothing was written"),
            "make it writable (`chmod u+w`) if it should change",
        ),
        ApplyError::Unsafe(message) => refused(
            "unsafe-path",
            format!("{message}; nothing was written"),
            "capm writes only inside the scope; replace the link with what it points to",
        ),
        ApplyError::Unrecoverable { journal, why } => refused(
            "journal-refused",
            format!("an interrupted transaction cannot be recovered: `{journal}`: {why}"),
            "nothing was touched; inspect the journal, restore what it concerns by hand, then delete it",
        ),
        ApplyError::Txn(e) => CliError::Other(e.to_string()),
        ApplyError::Edit { .. } | ApplyError::Io(_) | ApplyError::Write(_) => {
            CliError::Other(e.to_string())
        }
    }
}

/// How to settle the resources the user modified, when there are any.
fn edits_hint(
    term: &mut Term,
    resources: &[crate::ops::doctor::ResourceCheck],
) -> Result<(), CliError> {
    let modified: Vec<&str> = resources
        .iter()
        .filter(|r| r.status == crate::ops::doctor::Drift::Modified)
        .map(|r| r.id.as_str())
        .collect();
    if let Some(first) = modified.first()
        && !term.quiet
    {
        writeln!(
            term.err(),
            "note: {}",
            format_args!(
                "you modified {} capm installed; capm leaves your edits alone. `capm keep {first}` records yours as final, `capm restore {first}` puts capm's version back",
                if modified.len() == 1 {
                    "a resource".to_string()
                } else {
                    format!("{} resources", modified.len())
                }
            )
        )?;
    }
    Ok(())
}

/// How many resources, and in how many places when that is more (`5 resources in 13
/// places`).
fn counted(resources: &[crate::ops::doctor::ResourceCheck]) -> String {
    let ids: std::collections::BTreeSet<(&str, &str)> = resources
        .iter()
        .map(|r| (r.bundle.as_str(), r.id.as_str()))
        .collect();
    match resources.len() {
        n if n == ids.len() => format!("{n} resources"),
        n => format!("{} resources in {n} places", ids.len()),
    }
}

/// One line per resource place: its state, id, place, clients and bundle, in columns.
fn doctor_lines(resources: &[&crate::ops::doctor::ResourceCheck]) -> String {
    use crate::ops::doctor::Drift;
    let place = |r: &crate::ops::doctor::ResourceCheck| r.place.text();
    let idw = resources.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let pw = resources.iter().map(|r| place(r).len()).max().unwrap_or(0);
    let clients: Vec<String> = resources
        .iter()
        .map(|r| super::graph::clients_text(&r.place.clients))
        .collect();
    let cw = clients.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    for (r, clients) in resources.iter().zip(&clients) {
        let word = match r.status {
            Drift::Ok => "ok",
            Drift::Modified => "modified",
            Drift::Kept => "kept",
            Drift::Missing => "missing",
        };
        out.push_str(&format!(
            "{word:<9} {:<idw$}  {:<pw$}  {clients:<cw$}  from {}\n",
            r.id,
            place(r),
            r.bundle
        ));
    }
    out
}

/// The `capm.doctor/v1` report of the project at or above `dir`, after recovering its
/// interrupted transactions; `waiting` is told when another capm holds the lock.
pub(super) fn doctor_report(
    dir: Option<&Path>,
    term: &mut Term,
    waiting: &dyn Fn(&Path),
) -> Result<crate::ops::doctor::DoctorReport, CliError> {
    let root = project::find_root(dir).map_err(|e| project_error(e, term))?;
    crate::ops::doctor::doctor(
        &root,
        &term.env.opencode_config,
        term.env.lock_timeout,
        waiting,
        true,
    )
    .map_err(|e| apply_error(e, term))
}

pub fn doctor(args: DoctorArgs, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    use crate::ops::doctor::Drift;
    let quiet = term.quiet;
    let report = doctor_report(dir, term, &|p| waiting(quiet, p))?;
    if args.format == TextFormat::Json {
        print_json(term, &report)?;
    } else {
        let r = &report.recovery;
        report_recovery(
            term,
            &r.rolled_back,
            &r.finished,
            r.conflicts
                .iter()
                .map(|c| (c.path.as_str(), c.saved.as_deref())),
            r.leftovers
                .iter()
                .map(|l| format!("could not delete `{}`: {}", l.path, l.error)),
        );
        let quiet = term.quiet;
        // `-q`: only what differs.
        let shown: Vec<&crate::ops::doctor::ResourceCheck> = report
            .resources
            .iter()
            .filter(|r| !quiet || r.status != Drift::Ok)
            .collect();
        write!(term.out(), "{}", doctor_lines(&shown))?;
        let out = term.out();
        for p in &report.problems {
            writeln!(out, "problem   {p}")?;
        }
        edits_hint(term, &report.resources)?;
        if report.healthy {
            term.status(
                "Healthy",
                format!("{} as capm.lock records them", counted(&report.resources)),
            )?;
        } else {
            term.warn("the project differs from capm.lock; `capm install` restores what is missing, and keeps what you modified")?;
        }
    }
    Ok(if report.healthy {
        Status::Success
    } else {
        Status::Refused
    })
}
