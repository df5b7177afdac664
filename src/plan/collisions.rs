//! Names a resource shares with something else the client reads, which the client settles
//! silently (docs/spec.md §7.5): the same agent, command or skill under another directory
//! the client reads, an inline entry of the same name in a config file, the same file in a
//! directory above the project (up to its git worktree root), or a built-in of the client.

use std::path::Path;

use super::state::ScopeState;
use crate::diagnostic::Diagnostic;
use crate::target::{Rendered, Resource, ScopeRoot, Target};

fn exists(path: &Path) -> std::io::Result<bool> {
    match fs_err::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Where the client finds something else of the resource's kind and name, as a user reads
/// it (a path relative to the scope, a full path above it, or a config file); `None` when
/// the name is the resource's alone. `recorded` tells a path capm.lock records for this
/// resource: a place it leaves (a skill moving to another directory when `targets`
/// changes), which the same plan removes, is not something else.
pub fn same_name_elsewhere(
    target: &dyn Target,
    scope: &ScopeRoot,
    state: &ScopeState,
    resource: &Resource<'_>,
    rendered: &Rendered,
    recorded: &dyn Fn(&str) -> bool,
) -> std::io::Result<Option<String>> {
    let own = match rendered {
        Rendered::File { path, .. } | Rendered::Dir { path, .. } => Some(path),
        _ => None,
    };
    let mut same = target.same_name(scope, resource);
    // The place the resource lands is not "elsewhere" (a skill's directory is one of
    // those the client reads).
    same.paths.retain(|p| Some(p) != own && !recorded(p));
    for rel in &same.paths {
        if exists(&state.path(rel))? {
            return Ok(Some(rel.clone()));
        }
    }
    let parents: &[std::path::PathBuf] = if target.reads_parents() {
        &state.parents
    } else {
        &[]
    };
    for parent in parents {
        for rel in own.into_iter().chain(&same.paths) {
            let path = parent.join(rel);
            if exists(&path)? {
                return Ok(Some(path.display().to_string()));
            }
        }
    }
    Ok(same.pointer.and_then(|p| {
        state
            .entries_at(target.name(), &p)
            .first()
            .map(|(file, _)| file.to_string())
    }))
}

/// A warning when the resource replaces one of the client's own: not a conflict (asking
/// for the bundle asks for its version), but never silent.
pub fn replaces_built_in(
    target: &dyn Target,
    resource: &Resource<'_>,
    bundle: &str,
) -> Option<Diagnostic> {
    let built_in = target.built_in(resource)?;
    Some(
        Diagnostic::new(
            "replaces-built-in",
            format!("`{}` of {bundle} replaces {built_in}", resource.id),
        )
        .help(format!(
            "once installed, {} uses the bundle's `{}` instead of its own; leave the bundle out to keep the built-in",
            target.display(),
            resource.id
        )),
    )
}
