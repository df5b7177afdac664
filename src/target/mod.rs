//! Where and how resources land in an agent client's configuration. A [`Target`] knows a
//! scope's config files, how a resource is rendered for the client, and where it goes:
//! OpenCode's own (`opencode.rs`), and the other clients as data (`clients.rs`) over shared
//! renderers (`mcp.rs`, `codex.rs`, `markdown.rs` and `gemini_agent.rs`; `toml_value.rs`
//! reads a TOML config as JSON); `set.rs` is a project's set of
//! targets, with the places they share. Nothing here writes: rendering produces values that
//! a plan compares with what is on disk.

pub mod builtins;
pub mod clients;
pub mod codex;
pub mod gemini_agent;
pub mod jsonc;
pub mod markdown;
pub mod mcp;
pub mod opencode;
pub mod set;
pub mod toml_value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::manifest::tree::hex;

/// Which configuration a project installs into, resolved to a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeRoot {
    /// The directory holding capm.toml.
    Project(PathBuf),
    /// The client's user config directory (for OpenCode, `$XDG_CONFIG_HOME/opencode`).
    Global(PathBuf),
}

impl ScopeRoot {
    pub fn dir(&self) -> &Path {
        match self {
            ScopeRoot::Project(p) | ScopeRoot::Global(p) => p,
        }
    }
}

/// The user's home directories, where clients keep their user-scope configuration: read
/// to find what a project's resources would collide with, never written by a project.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Homes {
    /// `$HOME`; `None` when unset (nothing of the user's is read then).
    pub home: Option<PathBuf>,
    /// `$CODEX_HOME`, else `~/.codex`.
    pub codex: Option<PathBuf>,
}

/// What rendering a resource for one client needs besides the resource.
pub struct Context<'a> {
    pub scope: &'a ScopeRoot,
    /// The skills directory chosen for this client among those it reads (relative to the
    /// scope root): where clients share one, every client that reads it gets the same.
    pub skills: &'a str,
    /// The MCP servers of every bundle installed, whose tools an agent may name.
    pub servers: &'a [String],
}

/// The syntax of a config file, told by its name: TOML for `.toml`, JSON with comments
/// otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Jsonc,
    Toml,
}

impl Syntax {
    pub fn of(file: &str) -> Syntax {
        if file.ends_with(".toml") {
            Syntax::Toml
        } else {
            Syntax::Jsonc
        }
    }
}

/// One resource as the client needs it.
#[derive(Clone, Debug, PartialEq)]
pub enum Rendered {
    /// A keyed entry in the config file, at a JSON pointer (`/mcp/github`).
    ConfigEntry {
        pointer: String,
        value: serde_json::Value,
    },
    /// An element of a config array (`/plugin`), identified by `key` (the npm package name).
    ArrayElement {
        pointer: String,
        key: String,
        value: serde_json::Value,
    },
    /// A file, relative to the scope root.
    File { path: String, bytes: Vec<u8> },
    /// A directory of files, relative to the scope root (paths inside it relative to it).
    Dir {
        path: String,
        files: Vec<(String, Vec<u8>)>,
    },
}

/// The digest of a resource rendered in one or more places: the one place's digest, or
/// sha256 over the places' digests, one per line, in order.
pub fn digest_of(parts: &[Rendered]) -> String {
    match parts {
        [one] => one.digest(),
        _ => {
            let lines: Vec<String> = parts.iter().map(Rendered::digest).collect();
            format!(
                "sha256:{}",
                crate::manifest::tree::hex(&Sha256::digest(lines.join("\n").as_bytes()))
            )
        }
    }
}

/// What each resource of a bundle would install, as the digest of its rendered content
/// (see [`Rendered::digest`]). Two bundles providing the same `KIND:NAME`
/// conflict unless these are equal.
pub fn resource_digests(
    m: &crate::manifest::bundle::BundleManifest,
    tree: &crate::manifest::tree::BundleTree,
) -> BTreeMap<String, (String, crate::manifest::span::Span)> {
    use self::opencode::OpenCode;
    let scope = ScopeRoot::Project(std::path::PathBuf::from("."));
    let spans: BTreeMap<String, crate::manifest::span::Span> = m
        .resources()
        .iter()
        .map(|r| (r.id(), r.name.span))
        .collect();
    resources(m, tree, &crate::target::NO_INPUTS)
        .into_iter()
        .map(|r| {
            // A resource that cannot be rendered is reported by validation; its digest
            // then stands for the error, so it never matches real content.
            let digest = match OpenCode.render(&OpenCode::context(&scope), &r) {
                Ok(parts) => digest_of(&parts),
                Err(e) => format!("unrenderable:{e}"),
            };
            let span = spans.get(&r.id).copied().unwrap_or_default();
            (r.id, (digest, span))
        })
        .collect()
}

impl Rendered {
    /// The digest of exactly what capm would write, as recorded in capm.lock: canonical JSON
    /// (sorted keys, no spaces) for config values, the bytes for a file, and the content
    /// digest rule of bundles for a directory.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        match self {
            Rendered::ConfigEntry { value, .. } | Rendered::ArrayElement { value, .. } => {
                h.update(canonical_json(value).as_bytes());
            }
            Rendered::File { bytes, .. } => h.update(bytes),
            Rendered::Dir { files, .. } => {
                // The bundle content digest, over the directory's files.
                return crate::manifest::tree::files_digest(
                    files.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
                );
            }
        }
        format!("sha256:{}", hex(&h.finalize()))
    }
}

/// JSON with object keys sorted and no insignificant white space, so that equal values
/// have equal digests however a file spells them.
pub fn canonical_json(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

/// An agent client capm installs into.
pub trait Target: Sync {
    /// The client's name, as in capm.toml's `target`.
    fn name(&self) -> &'static str;
    /// The client's name for people (`Claude Code`).
    fn display(&self) -> &'static str;
    /// The directories, relative to the scope root, the client reads skills from, the one
    /// it calls its own first.
    fn skill_dirs(&self, scope: &ScopeRoot) -> Vec<String>;
    /// The directories, relative to the scope root, its rendering puts agent, command and
    /// plugin files in (skills go where [`set::Targets`] chooses).
    fn file_dirs(&self, scope: &ScopeRoot) -> Vec<String>;
    /// Whether the client also reads the directories above a project, up to its git
    /// worktree root.
    fn reads_parents(&self) -> bool {
        false
    }
    /// Config files of the user's that the client merges with a project's (full paths):
    /// read to find collisions, never written.
    fn user_config_files(&self, _homes: &Homes) -> Vec<PathBuf> {
        Vec::new()
    }
    /// What the user must know before the client reads what capm writes for it (a trust
    /// gate), as findings of the plan.
    fn notes(&self, _scope: &ScopeRoot, _homes: &Homes) -> Vec<crate::diagnostic::Diagnostic> {
        Vec::new()
    }
    /// The config files the client merges for the scope, lowest precedence first, relative
    /// to the scope root (files that do not exist included).
    fn config_files(&self, scope: &ScopeRoot) -> Vec<String>;
    /// Of the config files that exist, the one capm edits; or the one it creates.
    fn writable_config(&self, scope: &ScopeRoot, existing: &[String]) -> String;
    /// The text of config file `file` when capm creates it.
    fn new_config(&self, file: &str) -> String;
    /// A resource rendered for the client, or why it cannot be: the places it lands, the
    /// main one first. Most resources land in one place; a plugin directory lands as the
    /// directory and the entry file the client loads.
    fn render(&self, cx: &Context<'_>, resource: &Resource<'_>) -> Result<Vec<Rendered>, String>;
    /// Other places the client reads a resource of the same kind and name from: whatever
    /// is there and the resource would silently replace one another.
    fn same_name(&self, scope: &ScopeRoot, resource: &Resource<'_>) -> SameName;
    /// The client's own resource that this one would replace, described (`the built-in
    /// `/review` command of OpenCode 1.18.33`).
    fn built_in(&self, resource: &Resource<'_>) -> Option<String>;
}

/// Where else a resource's name is defined for the client.
#[derive(Debug, Default, PartialEq)]
pub struct SameName {
    /// Files or directories, relative to a scope root (or to a directory above a project
    /// that the client reads too).
    pub paths: Vec<String>,
    /// A config entry (`/agent/NAME`) in any of the config files the client merges.
    pub pointer: Option<String>,
}

/// A resource of a resolved bundle, with what rendering needs.
pub struct Resource<'a> {
    /// `KIND:NAME`.
    pub id: String,
    pub name: &'a str,
    pub kind: Kind<'a>,
    pub tree: &'a crate::manifest::tree::BundleTree,
    /// The project's `[inputs]`: values for non-secret `from-env` variables.
    pub inputs: &'a BTreeMap<String, String>,
}

impl<'a> Resource<'a> {
    /// A path the manifest declares for the resource (`path = …`), normalised.
    pub fn declared(
        &self,
        path: Option<&crate::manifest::span::Spanned<String>>,
    ) -> Result<String, String> {
        path.map(|p| crate::manifest::tree::normalise(&p.value))
            .ok_or_else(|| format!("`{}` has no path", self.id))
    }

    /// The declared path of a file resource and the file's bytes.
    pub fn file(
        &self,
        path: Option<&crate::manifest::span::Spanned<String>>,
    ) -> Result<(String, &'a [u8]), String> {
        let path = self.declared(path)?;
        let bytes = self
            .tree
            .file(&path)
            .ok_or_else(|| format!("`{path}` is missing from the bundle"))?;
        Ok((path, bytes))
    }

    /// A skill's directory as it lands in `cx.skills`.
    pub fn skill_dir(
        &self,
        cx: &Context<'_>,
        path: Option<&crate::manifest::span::Spanned<String>>,
    ) -> Result<Rendered, String> {
        let dir = self.declared(path)?;
        Ok(Rendered::Dir {
            path: [cx.skills, "/", self.name].concat(),
            files: files_below(self.tree, &dir),
        })
    }
}

/// The files below directory `dir` of a bundle, with paths relative to it.
pub fn files_below(tree: &crate::manifest::tree::BundleTree, dir: &str) -> Vec<(String, Vec<u8>)> {
    tree.below(dir)
        .filter_map(|(p, e)| match e {
            crate::manifest::tree::Entry::File(b) => {
                Some((p[dir.len() + 1..].to_string(), b.to_vec()))
            }
            _ => None,
        })
        .collect()
}

/// No `[inputs]`.
pub static NO_INPUTS: BTreeMap<String, String> = BTreeMap::new();

/// What a resource is, with its declaration.
pub use crate::manifest::bundle::ResourceItem as Kind;

/// The resources a bundle provides, in manifest order.
pub fn resources<'a>(
    m: &'a crate::manifest::bundle::BundleManifest,
    tree: &'a crate::manifest::tree::BundleTree,
    inputs: &'a BTreeMap<String, String>,
) -> Vec<Resource<'a>> {
    m.resources()
        .into_iter()
        .map(|r| Resource {
            id: r.id(),
            name: &r.name.value,
            kind: r.item,
            tree,
            inputs,
        })
        .collect()
}
