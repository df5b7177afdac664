//! `capm outdated`: for each bundle capm.lock records, the version in use, the newest one
//! the project's requirements allow (what `capm update` would choose) and the newest one
//! its source has at all. Reads the project and its sources; writes nothing.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use semver::Version;
use serde::Serialize;

use super::project::Project;
use crate::graph::{self, GraphError, Sources};

/// One locked bundle, with the versions it could move to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct OutdatedBundle {
    pub name: String,
    /// Where capm.lock says it comes from: `catalog`, `path+DIR` or `registry+NAME`.
    pub source: String,
    /// The version capm.lock records; absent for a bundle capm.toml asks for that is not
    /// installed yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// The newest version every requirement on it allows: what `capm update` would
    /// install. Absent when an update would no longer need the bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wanted: Option<String>,
    /// The newest version its source has (prereleases only when the current one is one);
    /// absent when the source no longer has the bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    /// Asked for in capm.toml (otherwise installed as a dependency).
    pub direct: bool,
    /// capm.toml's requirement, for a direct dependency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// Not installed, or `wanted` or `latest` is newer than `current`.
    pub outdated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OutdatedError {
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// Every bundle of the project's capm.lock, and every one capm.toml asks for that the lock
/// does not record yet, by name.
pub fn outdated(project: &Project) -> Result<Vec<OutdatedBundle>, OutdatedError> {
    // Without capm.lock nothing is in use yet: every bundle capm.toml asks for is missing.
    let none = crate::manifest::lock::Lockfile::default();
    let lock = project.lock.as_ref().unwrap_or(&none);
    let sources = Sources::load(Some(&project.manifest), &project.root)?;
    let requests = graph::requests(&project.manifest)?;
    // What an update of everything would choose: the lock forgotten, newest first.
    let unlocked = BTreeMap::new();
    let wanted = graph::resolve::resolve(&sources, &requests, &unlocked)?;
    let mut out = Vec::with_capacity(lock.bundles.len());
    for b in &lock.bundles {
        let wanted = wanted.get(&b.name).map(|c| c.version.clone());
        let current = Some(b.version.as_str());
        out.push(row(
            &sources, &requests, &b.name, &b.source, current, wanted,
        )?);
    }
    for r in &requests {
        if lock.bundles.iter().any(|b| b.name == r.name) {
            continue;
        }
        let chosen = wanted.get(&r.name);
        let source = chosen.map_or("-".into(), |c| c.source.to_string());
        let version = chosen.map(|c| c.version.clone());
        out.push(row(&sources, &requests, &r.name, &source, None, version)?);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// One bundle's row, from the version in use (none when not installed) and the wanted one.
fn row(
    sources: &Sources,
    requests: &[graph::Request],
    name: &str,
    source: &str,
    shown: Option<&str>,
    wanted: Option<Version>,
) -> Result<OutdatedBundle, GraphError> {
    let current = shown.and_then(|v| Version::parse(v).ok());
    let latest = newest(sources, name, current.as_ref())?;
    let newer = |v: &Option<Version>| match (v, &current) {
        (Some(v), Some(c)) => v > c,
        _ => false,
    };
    let request = requests.iter().find(|r| r.name == name);
    Ok(OutdatedBundle {
        name: name.to_string(),
        source: source.to_string(),
        current: shown.map(str::to_string),
        outdated: shown.is_none() || newer(&wanted) || newer(&latest),
        wanted: wanted.map(|v| v.to_string()),
        latest: latest.map(|v| v.to_string()),
        direct: request.is_some(),
        requirement: request.map(|r| r.req.to_string()),
    })
}

/// The newest version of `name` in its source; a prerelease only when `current` is one.
fn newest(
    sources: &Sources,
    name: &str,
    current: Option<&Version>,
) -> Result<Option<Version>, GraphError> {
    let pre = current.is_some_and(|v| !v.pre.is_empty());
    Ok(sources
        .candidates(name)?
        .into_iter()
        .map(|c| &c.version)
        .filter(|v| pre || v.pre.is_empty())
        .max()
        .cloned())
}
