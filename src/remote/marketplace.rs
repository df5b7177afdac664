//! Claude Code marketplaces as registries: a git repository (a URL, or a local repository
//! by path) whose `.claude-plugin/marketplace.json`, at its default branch, lists plugins.
//! Each plugin is a bundle named after its entry, read by the Claude Code plugin reader
//! with the entry's JSON (`formats::Options::plugin`).
//!
//! A plugin in the marketplace's own repository (a relative `source`) is at the
//! marketplace's commit; one in another repository (`github`, `url`, `git-subdir`) at its
//! `sha`, else its `ref`, else over that repository's version tags when the entry names no
//! version, else at its default branch. Either way a release is a [`Fetch::Git`]: capm.lock
//! pins the commit, and the content digest covers the translated bundle. Sources capm
//! cannot fetch as git (`npm`, `archive`, `command`) are refused by name when asked for.

use std::collections::BTreeMap;

use super::git::{self, GitRef, GitSource};
use super::{Net, Release, RemoteError, Source};
use crate::diagnostic::Diagnostic;
use crate::formats::marketplace::{self as listing, BadEntry, Plugin, PluginSource};
use crate::manifest::span::SourceFile;

/// A marketplace repository, read at its default branch.
pub struct Marketplace {
    location: String,
    commit: String,
    /// Each entry of marketplace.json, or why it cannot be used.
    plugins: Vec<listing::Entry>,
    /// The marketplace commit capm.lock records for a plugin of its own repository.
    pinned: BTreeMap<String, String>,
}

impl Marketplace {
    /// Reads marketplace.json at the default branch of `location` (a git URL, or the
    /// absolute path of a local repository).
    pub fn open(location: &str, net: &Net) -> Result<Marketplace, RemoteError> {
        Marketplace::read(location, &GitRef::Default, net)
    }

    /// Keeps each plugin of the marketplace's own repository that `pinned` names at that
    /// marketplace commit (capm.lock's), as git sources stay at theirs: another commit of
    /// the marketplace does not move it until it is updated.
    pub fn pinned(mut self, pinned: BTreeMap<String, String>) -> Marketplace {
        self.pinned = pinned;
        self
    }

    fn read(location: &str, reference: &GitRef, net: &Net) -> Result<Marketplace, RemoteError> {
        let (commit, dir) = git::checkout(location, reference, net)?;
        let shown = format!("{location}@{}/{}", &commit[..7], listing::FILE);
        let path = dir.join(listing::FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RemoteError::InvalidSource {
                    what: format!("{location}@{}", &commit[..7]),
                    message: format!(
                        "there is no {} there: not a Claude Code marketplace",
                        listing::FILE
                    ),
                });
            }
            Err(source) => return Err(RemoteError::Io { path, source }),
        };
        let text = String::from_utf8(bytes).map_err(|_| RemoteError::BadIndex {
            url: shown.clone(),
            line: None,
            message: "not UTF-8".into(),
        })?;
        let file = SourceFile::new(shown, text);
        let plugins = listing::parse(&file).map_err(|d| RemoteError::BadIndex {
            url: at(&d),
            line: None,
            message: d.message,
        })?;
        Ok(Marketplace {
            location: location.to_string(),
            commit,
            plugins,
            pinned: BTreeMap::new(),
        })
    }

    /// The entry that offers bundle `name`: `None` when there is none, an error when its
    /// entry cannot be used.
    fn find(&self, name: &str) -> Result<Option<&Plugin>, RemoteError> {
        for p in &self.plugins {
            match p {
                Ok(p) if p.bundle == name => return Ok(Some(p)),
                Err(BadEntry {
                    name: Some(raw),
                    why,
                }) if crate::formats::bundle_name(raw).as_deref() == Some(name) => {
                    return Err(refused(why));
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// The releases of a plugin, newest first; one of the marketplace's own repository
    /// that capm.lock pins, at that commit, its entry as marketplace.json said then.
    fn plugin_releases(&self, p: &Plugin, net: &Net) -> Result<Vec<Release>, RemoteError> {
        let pin = self.pinned.get(&p.bundle).filter(|c| **c != self.commit);
        if let (PluginSource::Here(_), Some(commit)) = (&p.source, pin) {
            let then = Marketplace::read(&self.location, &GitRef::Rev(commit.clone()), net)?;
            let entry = then.plugins.iter().flatten().find(|q| q.bundle == p.bundle);
            if let Some(q) = entry.filter(|q| matches!(q.source, PluginSource::Here(_))) {
                return then.releases_now(q, net);
            }
        }
        self.releases_now(p, net)
    }

    /// The releases of a plugin as this commit of the marketplace lists it.
    fn releases_now(&self, p: &Plugin, net: &Net) -> Result<Vec<Release>, RemoteError> {
        let options = crate::formats::Options {
            name: Some(p.bundle.clone()),
            plugin: Some(p.entry.clone()),
            ..Default::default()
        };
        let mut releases = match &p.source {
            PluginSource::Here(subdir) => {
                let at = GitRef::Rev(self.commit.clone());
                GitSource::new(&self.location, at, subdir.clone())
                    .read_as(options)
                    .releases(net)?
            }
            PluginSource::Git {
                url,
                reference,
                sha,
                subdir,
            } => {
                let url = self.resolve(url)?;
                let read = |at: GitRef| {
                    GitSource::new(&url, at, subdir.clone())
                        .read_as(options.clone())
                        .releases(net)
                };
                at_reference(read, reference, sha, p.version.is_some())?
            }
        };
        for r in &mut releases {
            self.complete(p, r)?;
        }
        Ok(releases)
    }

    /// Checks that a release is the plugin its entry names, and fills in what the plugin
    /// itself does not say from the entry.
    fn complete(&self, p: &Plugin, r: &mut Release) -> Result<(), RemoteError> {
        if r.name != p.bundle {
            return Err(RemoteError::InvalidSource {
                what: format!("{} plugin `{}`", self.location, p.bundle),
                message: format!("its files make a bundle named `{}`", r.name),
            });
        }
        if r.description.is_empty() {
            r.description = p.description.clone();
        }
        for k in &p.keywords {
            if !r.keywords.contains(k) {
                r.keywords.push(k.clone());
            }
        }
        Ok(())
    }

    /// A plugin repository's URL: a relative local path is taken from a local
    /// marketplace's directory.
    fn resolve(&self, url: &str) -> Result<String, RemoteError> {
        if !git::is_local_path(url) || url.starts_with('/') {
            return Ok(url.to_string());
        }
        if !git::is_local_path(&self.location) {
            return Err(RemoteError::InvalidSource {
                what: self.location.clone(),
                message: format!(
                    "plugin source `{url}` is a local path, which only a marketplace on this machine may name"
                ),
            });
        }
        let joined = std::path::Path::new(&self.location).join(url);
        Ok(crate::manifest::tree::normalize_lexically(&joined)
            .display()
            .to_string())
    }
}

/// The releases of a plugin repository: at `sha`, else at `reference` (a tag, else a
/// branch), else over its version tags unless the entry names its version (then, as
/// without tags, at the default branch).
fn at_reference(
    read: impl Fn(GitRef) -> Result<Vec<Release>, RemoteError>,
    reference: &Option<String>,
    sha: &Option<String>,
    versioned: bool,
) -> Result<Vec<Release>, RemoteError> {
    let (first, then) = match (sha, reference) {
        (Some(sha), _) => return read(GitRef::Rev(sha.clone())),
        (None, Some(r)) => (GitRef::Tag(r.clone()), GitRef::Branch(r.clone())),
        (None, None) if versioned => return read(GitRef::Default),
        (None, None) => (GitRef::Version(semver::VersionReq::STAR), GitRef::Default),
    };
    match read(first) {
        Err(RemoteError::RefNotFound { .. }) => read(then),
        other => other,
    }
}

/// `file:LINE:COL` of a diagnostic.
fn at(d: &Diagnostic) -> String {
    match d.location.as_deref() {
        Some(l) => format!(
            "{}:{}:{}",
            l.file,
            l.line.unwrap_or(1),
            l.column.unwrap_or(1)
        ),
        None => String::new(),
    }
}

/// An entry that cannot be used, as the error of asking for it.
fn refused(d: &Diagnostic) -> RemoteError {
    RemoteError::InvalidSource {
        what: at(d),
        message: d.message.clone(),
    }
}

impl Source for Marketplace {
    fn releases(
        &self,
        names: &[String],
        net: &Net,
    ) -> Result<Vec<(String, Vec<Release>)>, RemoteError> {
        names
            .iter()
            .map(|name| {
                let releases = match self.find(name)? {
                    Some(p) => self.plugin_releases(p, net)?,
                    None => Vec::new(),
                };
                Ok((name.clone(), releases))
            })
            .collect()
    }

    /// Every plugin at its newest version; one that cannot be read is left out with a
    /// notice saying why.
    fn list(&self, net: &Net) -> Result<Vec<Release>, RemoteError> {
        let mut out = Vec::new();
        for p in &self.plugins {
            let (name, newest) = match p {
                Ok(p) => (
                    Some(p.bundle.as_str()),
                    self.plugin_releases(p, net).map(|r| r.into_iter().next()),
                ),
                Err(BadEntry { name, why }) => (name.as_deref(), Err(refused(why))),
            };
            match newest {
                Ok(release) => out.extend(release),
                Err(e) => super::notice(format!(
                    "marketplace {}: plugin `{}` is left out: {e}",
                    self.location,
                    name.unwrap_or("(no name)")
                )),
            }
        }
        Ok(out)
    }
}
