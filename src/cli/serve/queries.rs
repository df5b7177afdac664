//! The methods of `capm serve` that look at a project or the bundles there are: `doctor`,
//! `list`, `outdated`, `info` and `search`. Each answers with the document its command
//! prints with `--format json`, built by the same function, and refuses with the same
//! `CliError`; only `doctor` writes, and only what recovering interrupted transactions
//! writes.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::methods::{Server, waiting};
use super::protocol::{RpcError, refusal, to_value};
use crate::cli::{CliError, graph, info, outdated, registry};
use crate::graph::Sources;
use crate::ops::project::Project;

/// `doctor`, `list` and `outdated`: the project to look at.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectParams {
    /// The project directory (holding capm.toml, here or in a parent directory).
    pub project: PathBuf,
}

/// `info`: one bundle's description, versions, modes, resources, permissions and
/// dependencies.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InfoParams {
    /// The bundle, as `NAME`, `NAME@VERSION` or `NAME@REQ` (`github@^1`).
    pub bundle: String,
    /// A project: its registries are asked too, and capm.lock says which version is
    /// installed. Without it, the built-in catalog alone.
    pub project: Option<PathBuf>,
}

/// `search`: bundles whose name, keywords or description match.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// The words to search for, separated by spaces; empty lists every bundle.
    pub query: String,
    /// A project: its registries are searched too. Without it, the built-in catalog alone.
    pub project: Option<PathBuf>,
}

impl Server<'_> {
    /// Runs `build` over the server's terminal, turning what it refuses into the error
    /// the CLI's `capm.error/v1` would carry.
    fn query<T: serde::Serialize>(
        &mut self,
        build: impl FnOnce(&mut crate::cli::Term) -> Result<T, CliError>,
    ) -> Result<Value, RpcError> {
        build(self.term).map(|doc| to_value(&doc)).map_err(refusal)
    }

    pub(super) fn doctor(&mut self, p: ProjectParams) -> Result<Value, RpcError> {
        self.query(|term| crate::cli::apply::doctor_report(Some(&p.project), term, &waiting))
    }

    pub(super) fn list(&mut self, p: ProjectParams) -> Result<Value, RpcError> {
        self.query(|term| {
            let project = graph::load(Some(&p.project), term)?;
            Ok(graph::list_doc(&project, term))
        })
    }

    pub(super) fn outdated(&mut self, p: ProjectParams) -> Result<Value, RpcError> {
        self.query(|term| outdated::document(Some(&p.project), term))
    }

    pub(super) fn info(&mut self, p: InfoParams) -> Result<Value, RpcError> {
        self.query(|term| {
            let (mut sources, project) = lookup(p.project.as_deref(), term)?;
            info::document(&mut sources, project.as_ref(), &p.bundle, term)
        })
    }

    pub(super) fn search(&mut self, p: SearchParams) -> Result<Value, RpcError> {
        self.query(|term| {
            let (mut sources, _) = lookup(p.project.as_deref(), term)?;
            registry::search_doc(&mut sources, p.query, term)
        })
    }
}

/// The sources to look bundles up in: those of the project at or above `dir`, with the
/// project; the catalog alone without `dir`.
fn lookup(
    dir: Option<&Path>,
    term: &mut crate::cli::Term,
) -> Result<(Sources, Option<Project>), CliError> {
    match dir {
        Some(dir) => registry::lookup_sources(Some(dir), term),
        None => Ok((registry::sources_of(None, term)?, None)),
    }
}
