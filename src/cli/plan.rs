//! `capm plan install|update|uninstall`: show what an operation would do, as a readable
//! plan grouped by bundle or as one JSON document; `--out` saves the JSON for
//! `capm apply --plan`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anstyle::{AnsiColor, Style};
use clap::{Args, Subcommand};

use super::graph::{TextFormat, graph_error, project_error};
use super::{CliError, Status, Term, print_json};
use crate::ops::plan::{PlanError, PlanRequest};
use crate::ops::project;
use crate::plan::model::{Operation, Plan, PlanStatus};
use crate::plan::ownership::ActionKind;

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// What `capm install` would do: capm.toml, plus the bundles named here added to it.
    Install(InstallArgs),
    /// What `capm update` would do: newer versions within capm.toml's requirements.
    Update(UpdateArgs),
    /// What `capm remove` would do for the bundles named.
    Uninstall(UninstallArgs),
}

#[derive(Debug, Args)]
pub struct Output {
    /// Output format: human for people, or json for one `capm.plan/v1` document on stdout.
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    format: TextFormat,
    /// Also write the plan as JSON to FILE, for `capm apply --plan FILE`.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    choices: Choices,
    #[command(flatten)]
    project: super::ProjectArg,
}

impl PlanCommand {
    /// The plan's `--project`.
    pub(super) fn project_mut(&mut self) -> &mut super::ProjectArg {
        match self {
            PlanCommand::Install(a) => &mut a.output.project,
            PlanCommand::Update(a) => &mut a.output.project,
            PlanCommand::Uninstall(a) => &mut a.output.project,
        }
    }
}

/// What a plan settles in advance, for `plan` and for the commands that apply one.
#[derive(Debug, Args)]
pub struct Choices {
    /// Settle a conflict on RESOURCE (`KIND:NAME`) by keeping your own version there and
    /// leaving the bundle's out. Repeatable.
    #[arg(long, value_name = "RESOURCE")]
    skip: Vec<String>,
    /// The value of a non-secret environment variable a server reads, recorded in
    /// capm.toml's `[inputs]` (never a secret: those stay in the environment). Repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    input: Vec<String>,
}

/// The request for `operation` on `bundles`, with the choices given on the command line.
pub(super) fn request(
    term: &Term,
    operation: Operation,
    bundles: Vec<String>,
    latest: bool,
    purge: bool,
    choices: &Choices,
) -> Result<PlanRequest, CliError> {
    Ok(PlanRequest {
        operation,
        bundles,
        latest,
        purge,
        skip: choices.skip.iter().cloned().collect(),
        keep: Default::default(),
        restore: Default::default(),
        inputs: inputs_of(&choices.input)?,
        registry: None,
        git_ref: None,
        skills: Vec::new(),
        global_config: term.env.opencode_config.clone(),
        homes: term.env.homes.clone(),
    })
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Bundles to add, as NAME or NAME@REQ (e.g. `github@^1`).
    bundles: Vec<String>,
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Bundles to update; all when none is named.
    bundles: Vec<String>,
    /// Go beyond capm.toml's version requirements.
    #[arg(long)]
    latest: bool,
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Bundles to remove.
    #[arg(required = true)]
    bundles: Vec<String>,
    /// Also delete files the user modified after capm installed them.
    #[arg(long)]
    purge: bool,
    #[command(flatten)]
    output: Output,
}

pub fn run(cmd: PlanCommand, dir: Option<&Path>, term: &mut Term) -> Result<Status, CliError> {
    let (operation, bundles, latest, purge, output) = match cmd {
        PlanCommand::Install(a) => (Operation::Install, a.bundles, false, false, a.output),
        PlanCommand::Update(a) => (Operation::Update, a.bundles, a.latest, false, a.output),
        PlanCommand::Uninstall(a) => (Operation::Uninstall, a.bundles, false, a.purge, a.output),
    };
    let root = project::find_root(dir).map_err(|e| project_error(e, term))?;
    let p = project::load(&root).map_err(|e| project_error(e, term))?;
    let request = request(term, operation, bundles, latest, purge, &output.choices)?;
    let plan = crate::ops::plan::plan(&p, &request).map_err(|e| plan_error(e, term))?;
    if let Some(path) = &output.out {
        let text =
            serde_json::to_string_pretty(&plan).map_err(|e| CliError::Other(e.to_string()))? + "\n";
        crate::apply::write_file_atomic(path, text.as_bytes())
            .map_err(|e| CliError::Other(e.to_string()))?;
    }
    match output.format {
        TextFormat::Json => print_json(term, &plan)?,
        TextFormat::Human => {
            let text = human(&plan);
            write!(term.out(), "{text}")?;
        }
    }
    Ok(if plan.status == PlanStatus::Blocked {
        Status::Refused
    } else {
        Status::Success
    })
}

fn style(kind: ActionKind) -> (Style, &'static str) {
    let color = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
    match kind {
        ActionKind::Create => (color(AnsiColor::Green), "create"),
        ActionKind::Update => (color(AnsiColor::Yellow), "update"),
        ActionKind::Remove => (color(AnsiColor::Red), "remove"),
        ActionKind::Keep => (Style::new().dimmed(), "keep"),
        ActionKind::Adopt => (color(AnsiColor::Cyan), "adopt"),
        ActionKind::Preserve => (color(AnsiColor::Cyan), "preserve"),
        ActionKind::Block => (color(AnsiColor::Red).bold(), "BLOCKED"),
    }
}

/// The plan for people: a header, the actions grouped by bundle, then blocked actions
/// with their reasons, findings, permissions to review, risk and fingerprint.
pub fn human(plan: &Plan) -> String {
    let mut out = String::new();
    let op = match plan.operation {
        Operation::Install => "install",
        Operation::Update => "update",
        Operation::Uninstall => "uninstall",
    };
    let (status_style, status) = match plan.status {
        PlanStatus::Ready => (
            Style::new().bold().fg_color(Some(AnsiColor::Green.into())),
            "ready",
        ),
        PlanStatus::Blocked => (
            Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            "blocked",
        ),
        PlanStatus::Noop => (Style::new().bold(), "nothing to do"),
    };
    let risk = match plan.risk {
        crate::plan::model::Risk::Low => "low",
        crate::plan::model::Risk::Medium => "medium",
        crate::plan::model::Risk::High => "high",
    };
    let _ = writeln!(
        out,
        "Plan: {op} into the {} scope ({}): {status_style}{status}{status_style:#}, risk {risk}",
        plan.scope, plan.product_mode
    );
    // Which client reads each place matters once there is more than one.
    let clients: std::collections::BTreeSet<&String> =
        plan.actions.iter().flat_map(|a| &a.clients).collect();
    let many_clients = clients.len() > 1;
    let mut bundles: Vec<&str> = Vec::new();
    for a in &plan.actions {
        if !bundles.contains(&a.bundle.as_str()) {
            bundles.push(&a.bundle);
        }
    }
    // A version change shows even when none of the bundle's resources change.
    for b in plan
        .bundles
        .iter()
        .filter(|b| b.previous.is_some() || b.previous_commit.is_some())
    {
        if !bundles.contains(&b.name.as_str()) {
            bundles.push(&b.name);
        }
    }
    let width = plan
        .actions
        .iter()
        .map(|a| a.resource.len())
        .max()
        .unwrap_or(0);
    for b in bundles {
        let version = plan.bundles.iter().find(|x| x.name == b).map(|x| {
            let from = x
                .previous
                .as_ref()
                .map(|p| format!("{p} → "))
                .unwrap_or_default();
            let moved = match (&x.previous_commit, &x.commit) {
                (Some(old), Some(new)) => format!(", commit {} → {}", short(old), short(new)),
                _ => String::new(),
            };
            if x.source == "catalog" {
                format!(" {from}{}", x.version)
            } else {
                format!(" {from}{} ({}{moved})", x.version, x.source)
            }
        });
        let _ = writeln!(
            out,
            "\n  {b}{}",
            version.unwrap_or_else(|| " (leaving)".into())
        );
        for a in plan.actions.iter().filter(|a| a.bundle == b) {
            let (st, word) = style(a.action);
            let mut place = a.target.file.clone();
            if let Some(p) = &a.target.pointer {
                place.push_str(&format!(" {p}"));
            }
            if let Some(e) = &a.target.element {
                place.push_str(&format!(" [{e}]"));
            }
            if many_clients && !a.clients.is_empty() {
                place.push_str(&format!("  for {}", a.clients.join(", ")));
            }
            let note = a
                .reason
                .as_ref()
                .map(|r| format!("  ({r})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {st}{word:<8}{st:#} {:<width$}  {place}{note}",
                a.resource
            );
            if a.action == ActionKind::Block
                || a.reason.as_deref() == Some("conflict-user-modified")
            {
                if let Some(d) = &a.diff {
                    for line in d.lines() {
                        let _ = writeln!(out, "             {line}");
                    }
                }
                if let Some(h) = &a.help {
                    let h_style = Style::new().bold().fg_color(Some(AnsiColor::Cyan.into()));
                    let _ = writeln!(out, "             {h_style}help{h_style:#}: {h}");
                }
            }
        }
    }
    if !plan.manifest_changes.is_empty() {
        let _ = writeln!(out, "\n  capm.toml");
        for c in &plan.manifest_changes {
            let _ = writeln!(out, "    {c}");
        }
    }
    let shown: Vec<&crate::diagnostic::Diagnostic> = plan
        .findings
        .iter()
        .filter(|d| d.severity != crate::diagnostic::Severity::Info || d.allowed)
        .collect();
    if !shown.is_empty() {
        let _ = writeln!(out, "\nFindings:");
        for d in shown {
            let place = d.location.as_ref().map(|l| match (l.line, l.column) {
                (Some(line), Some(col)) => format!(" ({}:{line}:{col})", l.file),
                _ => format!(" ({})", l.file),
            });
            let resource = d
                .resource
                .as_ref()
                .map(|r| format!(" {r}:"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}[{}]{resource} {}{}",
                d.severity.as_str(),
                d.code,
                d.message,
                place.unwrap_or_default()
            );
            if let Some(h) = &d.help {
                let _ = writeln!(out, "      help: {}", h.lines().next().unwrap_or(""));
            }
        }
    }
    if !plan.permissions.is_empty() {
        let _ = writeln!(out, "\nPermissions to review:");
        for p in &plan.permissions {
            let req = if p.required { "required" } else { "optional" };
            let _ = writeln!(
                out,
                "  {}: {} `{}` ({req}): {}",
                p.bundle, p.kind, p.id, p.reason
            );
            for r in &p.reads {
                let _ = writeln!(
                    out,
                    "    {}: OpenCode reads `{}` into {}",
                    r.resource, r.path, r.field
                );
            }
        }
    }
    if !plan.environment.is_empty() {
        let _ = writeln!(
            out,
            "\nEnvironment the servers read (capm never stores a secret):"
        );
        for e in &plan.environment {
            let kind = match (e.secret, e.required, e.input) {
                (true, true, _) => "secret, required",
                (true, false, _) => "secret",
                (false, _, true) => "set in capm.toml [inputs]",
                (false, true, false) => "required",
                (false, false, false) => "optional",
            };
            let _ = writeln!(out, "  {} ({kind}): {}", e.name, e.resources.join(", "));
        }
    }
    let _ = writeln!(out, "\nFingerprint: {}", plan.fingerprint);
    out
}

/// `NAME=VALUE` pairs of `--input`, as a map.
fn inputs_of(pairs: &[String]) -> Result<std::collections::BTreeMap<String, String>, CliError> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(CliError::usage(format!("`--input {p}`: write NAME=VALUE"))),
        })
        .collect()
}

/// Turns a planning failure into what the user sees.
pub(super) fn plan_error(e: PlanError, term: &mut Term) -> CliError {
    if crate::operation::is_cancellation(&e) {
        return CliError::Cancelled;
    }
    match e {
        PlanError::Graph(g) => graph_error(g, term),
        PlanError::Input(message) => CliError::Refused {
            code: "input-refused",
            message,
            details: Vec::new(),
            help: Some(
                "secrets stay in the environment; `--input` records only settings the plan's environment lists"
                    .into(),
            ),
        },
        PlanError::UnknownResource(message) => CliError::Refused {
            code: "unknown-resource",
            message,
            details: Vec::new(),
            help: Some("`capm list` shows the resources of the project's bundles".into()),
        },
        PlanError::Refused(message) => CliError::Refused {
            code: "not-edited",
            message,
            details: Vec::new(),
            help: Some(
                "`capm doctor` lists the resources you modified; only those can be kept or restored"
                    .into(),
            ),
        },
        PlanError::Usage(message) => CliError::Usage {
            message,
            help: None,
        },
        PlanError::NotInProject { name, message } => {
            // After a did-you-mean or a dependency's explanation, adding the name is not
            // what the user wants.
            let help = if message.contains("did you mean") || message.contains("dependency") {
                "`capm list` shows the project's bundles".to_string()
            } else {
                format!("`capm list` shows the project's bundles; `capm add {name}` adds one")
            };
            CliError::Refused {
                code: "not-in-project",
                message,
                details: Vec::new(),
                help: Some(help),
            }
        }
        PlanError::StillNeeded(_) => CliError::Refused {
            code: "still-needed",
            message: e.to_string(),
            details: Vec::new(),
            help: Some("`capm why BUNDLE` shows what needs it".into()),
        },
        PlanError::Manifest(message) => CliError::Refused {
            code: "invalid-project",
            message,
            details: Vec::new(),
            help: Some("`capm lint capm.toml` shows every problem".into()),
        },
        PlanError::Io(e) => CliError::Other(format!("cannot read the scope: {e}")),
    }
}

/// A commit id as people read it: its first 12 digits.
fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}
