//! The plan as a value (docs/spec.md §8): what an operation would do, resource by resource, with
//! everything a reviewer or a desktop app needs to decide, and a fingerprint that ties it
//! to the files it was computed from.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ownership::ActionKind;
use crate::diagnostic::Diagnostic;
use crate::manifest::common::ProductMode;

/// The schema id of a plan document.
pub const PLAN_SCHEMA: &str = "capm.plan/v1";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Install,
    Update,
    Uninstall,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlanStatus {
    /// Applying it would change something, and nothing blocks it.
    Ready,
    /// Something blocks it: a finding or a conflict. Nothing may be applied.
    Blocked,
    /// Everything is already as the plan wants it.
    Noop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
}

/// Where an action lands: a file, and for config keys the JSON pointer inside it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct Location {
    /// Relative to the scope root.
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// For elements of a config array (npm plugins): the package name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Action {
    pub action: ActionKind,
    /// `KIND:NAME`.
    pub resource: String,
    pub bundle: String,
    pub target: Location,
    /// The clients that read it there (`opencode`, `claude-code`, …): more than one where
    /// clients share the place.
    pub clients: Vec<String>,
    /// The digest of what is there now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The digest of what will be there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// For config keys: the entry before and after, as short JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Why the action is what it is (`conflict-user-owned`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// A permission a bundle asks for, to be reviewed before applying.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PermissionReview {
    pub bundle: String,
    pub kind: String,
    pub id: String,
    pub reason: String,
    pub required: bool,
    /// For a `filesystem` permission, the files OpenCode reads into the config of the
    /// bundle's servers through `{file:…}` (SUBST-002), which the permission covers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<FileRead>,
}

/// A `{file:PATH}` in a server's rendered config: OpenCode sends the file's contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FileRead {
    /// `mcp:NAME`.
    pub resource: String,
    /// Where the reference is: `argument …`, `env.NAME`, `headers.NAME`, `url`, ….
    pub field: String,
    /// The path as written; a relative one is taken from the config file's directory.
    pub path: String,
}

/// A bundle the plan installs or keeps, as capm.lock will record it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PlannedBundle {
    pub name: String,
    pub version: String,
    pub source: String,
    pub sha256: String,
    /// The version capm.lock records now, when the plan changes it (`0.2.0` for
    /// `0.2.0 → 0.3.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// For a git source: the commit it will be at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// For a git source whose reference moved (a tag pushed again, a branch with new
    /// commits): the commit capm.lock records now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_commit: Option<String>,
}

/// What was asked for, so that `capm apply --plan` can compute the plan again and check
/// that it is still exactly the same.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanRequestDoc {
    /// The bundles named on the command line, as `NAME`, `NAME@REQ`, or the path of a bundle
    /// directory relative to the project (`./tools`).
    #[serde(default)]
    pub bundles: Vec<String>,
    /// Update beyond capm.toml's requirements.
    #[serde(default)]
    pub latest: bool,
    /// Uninstall files the user modified too.
    #[serde(default)]
    pub purge: bool,
    /// Resources (`KIND:NAME`) left out because the user keeps their own version there.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub skip: std::collections::BTreeSet<String>,
    /// Values for non-secret environment variables, recorded in capm.toml's `[inputs]`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub inputs: std::collections::BTreeMap<String, String>,
    /// Resources (`KIND:NAME`) whose edited version the user keeps as theirs (`capm keep`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub keep: std::collections::BTreeSet<String>,
    /// Resources (`KIND:NAME`) where capm's version replaces the user's edit
    /// (`capm restore`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub restore: std::collections::BTreeSet<String>,
    /// The registry the bundles named come from (`capm add --registry NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
}

/// An environment variable the planned servers read when they start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct EnvRequirement {
    pub name: String,
    /// The resources (`KIND:NAME`) that read it.
    pub resources: Vec<String>,
    /// A secret: capm never reads, stores or shows its value; the user sets it.
    pub secret: bool,
    /// The server needs it to work.
    pub required: bool,
    /// Not secret, and capm.toml's `[inputs]` gives its value, which is written into the
    /// config instead of a reference.
    pub input: bool,
}

/// A computed plan.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(title = "capm plan")]
pub struct Plan {
    /// Always `capm.plan/v1`.
    #[schemars(extend("const" = "capm.plan/v1"))]
    pub schema: &'static str,
    pub operation: Operation,
    pub request: PlanRequestDoc,
    /// `project` or `global`.
    pub scope: String,
    pub product_mode: ProductMode,
    pub status: PlanStatus,
    /// sha256 over the canonical plan and the digests of every file it read or will write,
    /// as they were: applying refuses the plan if any of them changed.
    pub fingerprint: String,
    pub actions: Vec<Action>,
    pub findings: Vec<Diagnostic>,
    pub permissions: Vec<PermissionReview>,
    pub risk: Risk,
    pub bundles: Vec<PlannedBundle>,
    /// Edits to capm.toml's `[bundles]` that applying makes (`add github = "^1.2.0"`).
    pub manifest_changes: Vec<String>,
    /// Environment variables the planned servers read (`{env:VAR}` references).
    pub environment: Vec<EnvRequirement>,
    /// What each action writes, by index (not part of the document).
    #[serde(skip)]
    #[schemars(skip)]
    pub rendered: Vec<Option<crate::target::Rendered>>,
    /// The files the findings point into, to show their lines (not part of the document).
    #[serde(skip)]
    #[schemars(skip)]
    pub sources: crate::diagnostic::Sources,
}
