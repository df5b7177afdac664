//! What is on disk in a scope now: the config files each of the project's clients merges
//! (parsed, or with the error that stops a plan; JSONC or TOML by the file's name) and the
//! digests of the files and directories resources land in. Reading only; the digests follow
//! the same rules as rendered content, so "what is there" and "what capm would write"
//! compare directly.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::target::jsonc::{self, JsoncError};
use crate::target::set::Targets;
use crate::target::{Homes, ScopeRoot, Syntax, Target, canonical_json};

/// One config file that exists.
#[derive(Debug)]
pub struct ConfigFile {
    /// Relative to the scope root; a file outside it by its full path.
    pub rel: String,
    pub text: String,
    pub value: Result<Value, JsoncError>,
    /// The clients (by name) that merge it.
    pub readers: Vec<&'static str>,
    /// One of a client's user files (`~/.claude.json`), which the client itself rewrites as
    /// it runs: read only for the names a project's resources would collide with.
    pub user: bool,
}

/// A scope as it is on disk.
#[derive(Debug)]
pub struct ScopeState {
    pub root: PathBuf,
    /// The existing config files, lowest precedence first.
    pub configs: Vec<ConfigFile>,
    /// For a project: the directories above it up to the root of its git worktree, which
    /// OpenCode reads too (config files, agents, commands, skills), nearest first.
    pub parents: Vec<PathBuf>,
}

/// The directories above `dir` up to the root of the git worktree holding it (the nearest
/// one with a `.git`), nearest first; none when `dir` is not inside a worktree.
pub fn worktree_parents(dir: &Path) -> Vec<PathBuf> {
    let Ok(dir) = std::path::absolute(dir) else {
        return Vec::new();
    };
    let above: Vec<PathBuf> = dir.ancestors().skip(1).map(Path::to_path_buf).collect();
    if dir.join(".git").exists() {
        return Vec::new();
    }
    match above.iter().position(|d| d.join(".git").exists()) {
        Some(root) => above[..=root].to_vec(),
        None => Vec::new(),
    }
}

/// A value's kind, as a plain phrase.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A config file's text and value, or `None` when it does not exist.
fn read_config(path: &Path, shown: String) -> std::io::Result<Option<ConfigFile>> {
    let bytes = match fs_err::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    // Not UTF-8 is malformed content, like a syntax error: it blocks plans.
    let (text, value) = match String::from_utf8(bytes) {
        Ok(text) => {
            let value = match Syntax::of(&shown) {
                Syntax::Jsonc => jsonc::parse(&text),
                Syntax::Toml => crate::target::toml_value::parse(&text),
            };
            (text, value)
        }
        Err(e) => {
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            (text, Err(jsonc::not_utf8(e.as_bytes(), e.utf8_error())))
        }
    };
    Ok(Some(ConfigFile {
        rel: shown,
        text,
        value,
        readers: Vec::new(),
        user: false,
    }))
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "sha256:{}",
        crate::manifest::tree::hex(&Sha256::digest(bytes))
    )
}

/// The digest of a config value, as [`crate::target::Rendered::digest`] computes it.
pub fn value_digest(v: &Value) -> String {
    sha256(canonical_json(v).as_bytes())
}

impl ScopeState {
    /// The scope as one client alone reads it, with no user files.
    #[cfg(test)]
    pub fn read(target: &dyn Target, scope: &ScopeRoot) -> std::io::Result<ScopeState> {
        let one = [(target, None)];
        ScopeState::read_all(&one, scope, &Homes::default())
    }

    /// Reads the config files of every client of `targets`, each once, whoever else reads
    /// it too; `beneath` is OpenCode's global config, merged beneath a project's.
    pub fn read_targets(
        targets: &Targets,
        scope: &ScopeRoot,
        beneath: Option<&ScopeRoot>,
        homes: &Homes,
    ) -> std::io::Result<ScopeState> {
        let list: Vec<(&dyn Target, Option<&ScopeRoot>)> = targets
            .iter()
            .map(|(t, _)| (t, beneath.filter(|_| t.reads_parents())))
            .collect();
        ScopeState::read_all(&list, scope, homes)
    }

    /// Reads the scope's config files for each client, after those it merges beneath them
    /// (OpenCode's global config and the directories above a project, a client's user
    /// files): those are read to find conflicts, never written, and named by their full
    /// path.
    fn read_all(
        targets: &[(&dyn Target, Option<&ScopeRoot>)],
        scope: &ScopeRoot,
        homes: &Homes,
    ) -> std::io::Result<ScopeState> {
        let root = scope.dir().to_path_buf();
        let any_parents = targets.iter().any(|(t, _)| t.reads_parents());
        let parents = match scope {
            ScopeRoot::Project(dir) if any_parents => worktree_parents(dir),
            _ => Vec::new(),
        };
        let mut files: Vec<(PathBuf, String, &'static str)> = Vec::new();
        let mut user: Vec<String> = Vec::new();
        for (target, beneath) in targets {
            let name = target.name();
            for path in target.user_config_files(homes) {
                user.push(path.display().to_string());
                files.push((path.clone(), path.display().to_string(), name));
            }
            let parents = if target.reads_parents() {
                &parents[..]
            } else {
                &[]
            };
            let outside = beneath
                .map(|g| (g.dir().to_path_buf(), g))
                .into_iter()
                .chain(parents.iter().rev().map(|p| (p.clone(), scope)));
            for (dir, kind) in outside {
                for rel in target.config_files(kind) {
                    let path = dir.join(&rel);
                    files.push((path.clone(), path.display().to_string(), name));
                }
            }
            for rel in target.config_files(scope) {
                files.push((root.join(&rel), rel, name));
            }
        }
        let mut configs: Vec<ConfigFile> = Vec::new();
        for (path, shown, reader) in files {
            if let Some(c) = configs.iter_mut().find(|c| c.rel == shown) {
                c.readers.push(reader);
                continue;
            }
            if let Some(mut c) = read_config(&path, shown)? {
                c.readers.push(reader);
                c.user = user.contains(&c.rel);
                configs.push(c);
            }
        }
        Ok(ScopeState {
            root,
            configs,
            parents,
        })
    }

    /// Config files that do not parse: a plan touching this scope is blocked by them.
    pub fn parse_errors(&self) -> Vec<(&str, &JsoncError)> {
        self.configs
            .iter()
            .filter_map(|c| c.value.as_ref().err().map(|e| (c.rel.as_str(), e)))
            .collect()
    }

    /// Why an entry cannot be set at `pointer` in the config file `rel`, which parses: the
    /// file's top level, or an object above the entry, is something else than an object,
    /// and writing the entry would replace it. `None` when the file does not exist.
    pub fn shape_error(&self, rel: &str, pointer: &str) -> Option<String> {
        let file = self.configs.iter().find(|c| c.rel == rel)?;
        let mut value = file.value.as_ref().ok()?;
        let segments: Vec<&str> = pointer.split('/').skip(1).collect();
        let (_, parents) = segments.split_last()?;
        let mut at = String::new();
        for seg in std::iter::once(None).chain(parents.iter().map(Some)) {
            if let Some(seg) = seg {
                at.push('/');
                at.push_str(seg);
                value = value.get(seg.replace("~1", "/").replace("~0", "~"))?;
            }
            if !value.is_object() {
                let what = json_kind(value);
                return Some(if at.is_empty() {
                    format!("the top level of `{rel}` is {what}, not an object")
                } else {
                    format!("`{at}` in `{rel}` is {what}, not an object")
                });
            }
        }
        None
    }

    /// The value at a JSON pointer (`/mcp/github`) of every config file `client` merges,
    /// lowest precedence first: more than one means a later file shadows an earlier one.
    pub fn entries_at(&self, client: &str, pointer: &str) -> Vec<(&str, &Value)> {
        self.configs
            .iter()
            .filter(|c| c.readers.contains(&client))
            .filter_map(|c| Some((c.rel.as_str(), c.value.as_ref().ok()?.pointer(pointer)?)))
            .collect()
    }

    /// The elements of a config array (`/plugin`) for an npm package, in every file
    /// `client` merges.
    pub fn elements_at(&self, client: &str, pointer: &str, package: &str) -> Vec<(&str, &Value)> {
        self.entries_at(client, pointer)
            .into_iter()
            .flat_map(|(file, v)| {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .filter(move |e| {
                        e.as_str()
                            .is_some_and(|s| crate::validate::npm_package_name(s) == package)
                    })
                    .map(move |e| (file, e))
            })
            .collect()
    }

    /// The digest of a file or directory under the scope, or `None` when nothing is there.
    pub fn path_digest(&self, rel: &str) -> std::io::Result<Option<String>> {
        let path = self.root.join(rel);
        let meta = match fs_err::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if meta.is_dir() {
            return Ok(Some(crate::manifest::tree::disk_digest(&path)?));
        }
        // A link is digested as what it points to; a plan never writes through one blindly.
        let bytes = fs_err::read(&path)?;
        Ok(Some(sha256(&bytes)))
    }

    /// The digest of what is at a location capm.lock records: an entry of a config file,
    /// an element of a config array, or a file or directory.
    pub fn location_digest(
        &self,
        file: &str,
        pointer: Option<&str>,
        element: Option<&str>,
    ) -> std::io::Result<Option<String>> {
        let value = |pointer: &str| {
            let c = self.configs.iter().find(|c| c.rel == file)?;
            c.value.as_ref().ok()?.pointer(pointer)
        };
        Ok(match (pointer, element) {
            (Some(pointer), Some(key)) => value(pointer)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|e| {
                    e.as_str()
                        .is_some_and(|s| crate::validate::npm_package_name(s) == key)
                })
                .map(value_digest),
            (Some(pointer), None) => value(pointer).map(value_digest),
            (None, _) => self.path_digest(file)?,
        })
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(Path::new(rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Rendered;
    use crate::target::opencode::OpenCode;

    #[test]
    fn reads_what_opencode_merges_and_digests_like_rendering() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("opencode.jsonc"), "// mine\n{ \"mcp\": { \"github\": { \"type\": \"remote\", \"url\": \"https://x\", }, }, \"plugin\": [\"a@1.0.0\", \"@s/b@2.0.0\"] }\n").unwrap();
        std::fs::create_dir_all(root.join(".opencode/skills/s")).unwrap();
        std::fs::write(
            root.join(".opencode/opencode.json"),
            "{ \"mcp\": { \"github\": { \"type\": \"local\" } } }",
        )
        .unwrap();
        std::fs::write(root.join(".opencode/skills/s/SKILL.md"), "hi").unwrap();
        let state = ScopeState::read(&OpenCode, &ScopeRoot::Project(root.to_path_buf())).unwrap();
        let files: Vec<&str> = state.configs.iter().map(|c| c.rel.as_str()).collect();
        assert_eq!(files, ["opencode.jsonc", ".opencode/opencode.json"]);
        let github = state.entries_at("opencode", "/mcp/github");
        assert_eq!(github.len(), 2, "the .opencode file shadows the root one");
        assert_eq!(state.elements_at("opencode", "/plugin", "@s/b").len(), 1);
        let rendered = Rendered::Dir {
            path: ".opencode/skills/s".into(),
            files: vec![("SKILL.md".into(), b"hi".to_vec())],
        };
        assert_eq!(
            state.path_digest(".opencode/skills/s").unwrap(),
            Some(rendered.digest())
        );
        assert_eq!(state.path_digest(".opencode/skills/none").unwrap(), None);
        let entry = Rendered::ConfigEntry {
            pointer: "/mcp/github".into(),
            value: github[0].1.clone(),
        };
        assert_eq!(value_digest(github[0].1), entry.digest());
    }

    #[test]
    fn the_directories_above_a_project_up_to_its_git_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let project = root.join("a/b");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(&project).unwrap();
        assert_eq!(worktree_parents(&project), [root.join("a"), root.clone()]);
        assert!(worktree_parents(&root).is_empty(), "the root itself");
        std::fs::write(project.join(".git"), "gitdir: elsewhere").unwrap();
        assert!(
            worktree_parents(&project).is_empty(),
            "a worktree of its own"
        );
    }

    #[test]
    fn a_config_that_does_not_parse_is_reported_with_its_place() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("opencode.json"),
            "{\n  \"mcp\": {\n    \"a\": 'x'\n  }\n}\n",
        )
        .unwrap();
        let state =
            ScopeState::read(&OpenCode, &ScopeRoot::Project(dir.path().to_path_buf())).unwrap();
        let errors = state.parse_errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].0, errors[0].1.line, errors[0].1.column),
            ("opencode.json", 3, 10)
        );
    }
}
