//! What `--format json` prints for the commands that create or record something: `lock`,
//! `init`, `new`, `publish` and `yank`. One document each, with a schema in `schemas/`; a failure
//! prints `capm.error/v1` instead, as for every command.

use schemars::JsonSchema;
use serde::Serialize;

/// What `capm lock --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm lock result (capm lock --format json)")]
pub struct LockDoc {
    /// Always `capm.lock-result/v1`.
    #[schemars(extend("const" = "capm.lock-result/v1"))]
    pub schema: &'static str,
    /// The project's capm.lock.
    pub lockfile: String,
    /// `true` when capm.lock was written; `false` when it already matched.
    pub written: bool,
    /// What changed in capm.lock, one line each (`create capm.lock`, a bundle added,
    /// removed or moved to another version); empty when nothing did.
    pub changes: Vec<String>,
}

/// What `capm init --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm init result (capm init --format json)")]
pub struct InitDoc {
    /// Always `capm.init/v1`.
    #[schemars(extend("const" = "capm.init/v1"))]
    pub schema: &'static str,
    /// The capm.toml created.
    pub manifest: String,
    /// The project's product mode, as written.
    pub product_mode: String,
}

/// What `capm new --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm new result (capm new --format json)")]
pub struct NewDoc {
    /// Always `capm.new/v1`.
    #[schemars(extend("const" = "capm.new/v1"))]
    pub schema: &'static str,
    /// The bundle's name.
    pub name: String,
    /// The directory created.
    pub path: String,
    /// The files written, relative to `path`.
    pub files: Vec<String>,
}

/// What `capm publish --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm publish result (capm publish --format json)")]
pub struct PublishDoc {
    /// Always `capm.publish/v1`.
    #[schemars(extend("const" = "capm.publish/v1"))]
    pub schema: &'static str,
    /// `published`, or `unchanged` when the same content was already published under
    /// this version (nothing was written).
    pub outcome: PublishOutcome,
    pub name: String,
    pub version: String,
    /// The registry directory, or with `--oci` the reference pushed (`host/repo:tag`).
    pub registry: String,
    /// The sha256 of the published content; present when `published`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// With `--oci`, the sha256 of the pushed manifest; present when `published`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
}

/// How a publish ended.
#[derive(Clone, Copy, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PublishOutcome {
    Published,
    Unchanged,
}

/// What `capm yank --format json` prints.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm yank result (capm yank --format json)")]
pub struct YankDoc {
    /// Always `capm.yank/v1`.
    #[schemars(extend("const" = "capm.yank/v1"))]
    pub schema: &'static str,
    /// `yanked` or `unyanked`; `unchanged` when the version already was (nothing was
    /// written).
    pub outcome: YankOutcome,
    pub name: String,
    pub version: String,
    /// Whether the version is yanked now.
    pub yanked: bool,
    /// The registry directory.
    pub registry: String,
}

/// How a yank ended.
#[derive(Clone, Copy, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum YankOutcome {
    Yanked,
    Unyanked,
    Unchanged,
}
