//! `capm new`: scaffold a bundle that passes `capm lint --deny-warnings` as it stands.

use std::path::{Path, PathBuf};

use crate::manifest::common::is_valid_name;

#[derive(Clone, Debug)]
pub struct NewOptions {
    /// The directory to create.
    pub path: PathBuf,
    /// The bundle's name; defaults to the directory's name.
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum NewError {
    #[error("`{0}` is not a valid bundle name")]
    InvalidName(String),
    #[error("cannot tell the bundle's name from `{0}`")]
    NoName(PathBuf),
    #[error(transparent)]
    Write(#[from] crate::apply::WriteError),
}

/// What was created.
#[derive(Debug)]
pub struct Created {
    pub name: String,
    pub path: PathBuf,
    pub files: Vec<String>,
}

/// The files of a new bundle called `name`, as (relative path, content).
pub fn scaffold(name: &str) -> Vec<(String, String)> {
    let manifest = format!(
        r#"[bundle]
name = "{name}"
version = "0.1.0"
description = "What {name} gives an agent, in one sentence"
license = "MIT"
keywords = []

[compatibility.product-modes]
desktop-local = "supported"

# A skill: a directory holding SKILL.md. Add MCP servers with [mcp.NAME], agents with
# [agents.NAME] and commands with [commands.NAME]; `capm explain --list` lists every check.
[skills.{name}]
path = "skills/{name}"
"#
    );
    let skill = format!(
        r#"---
name: {name}
description: Explain when an agent should use this skill and what it achieves
---

# {name}

Write the steps the agent should follow, in order. Be concrete: name the files, commands
and checks involved, and say what a good result looks like.

## Steps

1. Understand the request and restate the goal.
2. Do the work.
3. Check the result before reporting back.
"#
    );
    let readme = format!(
        r#"# {name}

A capm bundle.

- `bundle.toml` describes the bundle and what it provides.
- `skills/{name}/SKILL.md` is its skill.

Check it with `capm lint .` and install it into a project with
`capm add {name} --path <this directory>`.
"#
    );
    vec![
        ("bundle.toml".to_string(), manifest),
        (format!("skills/{name}/SKILL.md"), skill),
        ("README.md".to_string(), readme),
    ]
}

/// Creates the bundle directory; refuses to touch an existing non-empty directory.
pub fn new_bundle(opts: &NewOptions) -> Result<Created, NewError> {
    // A file in the way says so before its name is judged.
    if opts.path.exists() && !opts.path.is_dir() {
        return Err(crate::apply::WriteError::Exists(opts.path.clone()).into());
    }
    let name = match &opts.name {
        Some(n) => n.clone(),
        None => fs_err::canonicalize(&opts.path)
            .unwrap_or_else(|_| opts.path.clone())
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .ok_or_else(|| NewError::NoName(opts.path.clone()))?,
    };
    if !is_valid_name(&name) {
        return Err(NewError::InvalidName(name));
    }
    let files = scaffold(&name);
    crate::apply::create_dir_tree(Path::new(&opts.path), &files)?;
    Ok(Created {
        name,
        path: opts.path.clone(),
        files: files.into_iter().map(|(p, _)| p).collect(),
    })
}
