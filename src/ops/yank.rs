//! `capm yank NAME@VERSION --registry DIR [--undo]`: marks a published version as yanked
//! (or not) in a registry of the static layout, by rewriting that name's index file
//! atomically under the registry's lock. The version stays downloadable, so a project whose
//! capm.lock pins it still installs; resolution no longer picks it otherwise.

use std::path::{Path, PathBuf};

use super::publish::PublishError;
use super::publish_sparse::{IndexFile, read_config, update_search, write};
use crate::remote::sparse;

pub struct YankOptions<'a> {
    pub name: String,
    pub version: semver::Version,
    pub registry: PathBuf,
    /// Unyank instead.
    pub undo: bool,
    pub lock_timeout: std::time::Duration,
    /// Told once when the registry is locked by another process.
    pub waiting: &'a dyn Fn(&Path),
}

/// What yanking did: whether the line changed, and its state now.
#[derive(Debug, PartialEq, Eq)]
pub struct Yanked {
    pub changed: bool,
    pub yanked: bool,
}

pub fn yank(opts: &YankOptions<'_>) -> Result<Yanked, PublishError> {
    let reg = &opts.registry;
    if !sparse::is_sparse(reg) {
        return Err(PublishError::NotARegistry { path: reg.clone() });
    }
    let _lock = crate::apply::DirLock::acquire(reg, opts.lock_timeout, opts.waiting)?;
    let config =
        read_config(reg)?.ok_or_else(|| PublishError::NotARegistry { path: reg.clone() })?;
    let index = IndexFile::read(reg, &opts.name)?;
    let want = !opts.undo;
    let mut lines = index.lines;
    let Some(line) = lines.iter_mut().find(|l| l.version() == opts.version) else {
        return Err(PublishError::NotPublished {
            name: opts.name.clone(),
            version: opts.version.to_string(),
        });
    };
    if line.yanked == want {
        return Ok(Yanked {
            changed: false,
            yanked: want,
        });
    }
    line.yanked = want;
    let text = set_yanked(&index.text, &line.vers, want);
    write(&index.path, text)?;
    update_search(reg, &config, &opts.name, &lines)?;
    Ok(Yanked {
        changed: true,
        yanked: want,
    })
}

/// The index text with `yanked` set on the line of `vers`; every other line, and every
/// other field of that one (a newer capm's too), kept as it is.
fn set_yanked(text: &str, vers: &str, yanked: bool) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for raw in text.lines() {
        let edited = serde_json::from_str::<serde_json::Value>(raw)
            .ok()
            .filter(|v| v.get("vers").and_then(|v| v.as_str()) == Some(vers))
            .filter(|v| v.get("v").and_then(|v| v.as_u64()) == Some(1))
            .map(|mut v| {
                v["yanked"] = serde_json::Value::Bool(yanked);
                v.to_string()
            });
        out.push_str(edited.as_deref().unwrap_or(raw));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_versions_line_changes_and_unknown_fields_stay() {
        let text = "{\"v\":1,\"vers\":\"1.0.0\",\"yanked\":false,\"extra\":7}\n\
                    {\"v\":1,\"vers\":\"1.1.0\",\"yanked\":false}\n\
                    {\"v\":2,\"vers\":\"1.0.0\"}\n";
        let got = set_yanked(text, "1.0.0", true);
        assert_eq!(
            got,
            "{\"v\":1,\"vers\":\"1.0.0\",\"yanked\":true,\"extra\":7}\n\
             {\"v\":1,\"vers\":\"1.1.0\",\"yanked\":false}\n\
             {\"v\":2,\"vers\":\"1.0.0\"}\n"
        );
    }
}
