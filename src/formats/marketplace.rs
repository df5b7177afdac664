//! A Claude Code marketplace's `.claude-plugin/marketplace.json`: the plugins it lists,
//! each with the bundle name capm gives it, where its files are (`source`), and its entry
//! as JSON text, which the plugin reader takes as completing (or standing for) the
//! plugin's own `plugin.json`.
//!
//! A document that does not parse, or whose `plugins` is not an array, is one diagnostic;
//! a bad entry is a diagnostic of its own, and the other entries stay usable, as Claude Code
//! loads them. Every diagnostic points at `marketplace.json:LINE:COL`.

use super::bundle_name;
use super::json::{self, Node};
use crate::diagnostic::Diagnostic;
use crate::manifest::span::SourceFile;

/// Where the marketplace file lives in its repository.
pub const FILE: &str = ".claude-plugin/marketplace.json";

/// One plugin the marketplace lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plugin {
    /// The bundle name (`bundle_name` of the entry's `name`).
    pub bundle: String,
    /// The entry as written, JSON text.
    pub entry: String,
    pub description: String,
    /// The entry's `version`, when it gives one.
    pub version: Option<String>,
    /// `keywords` and `tags`.
    pub keywords: Vec<String>,
    pub source: PluginSource,
}

/// Where a plugin's files are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PluginSource {
    /// In the marketplace's own repository, at the same commit: the directory (`None`:
    /// the repository's root).
    Here(Option<String>),
    /// In a git repository: at commit `sha`, else at `reference` (a tag or a branch), else
    /// over its version tags; `subdir` is the plugin's directory there.
    Git {
        url: String,
        reference: Option<String>,
        sha: Option<String>,
        subdir: Option<String>,
    },
}

/// An entry that cannot be used: its name, when it has one, and why.
#[derive(Clone, Debug)]
pub struct BadEntry {
    pub name: Option<String>,
    pub why: Box<Diagnostic>,
}

/// One entry of `plugins`.
pub type Entry = Result<Plugin, BadEntry>;

/// The entries of a marketplace file: each plugin, or why its entry cannot be used. `Err`
/// when the file as a whole cannot be read.
pub fn parse(file: &SourceFile) -> Result<Vec<Entry>, Box<Diagnostic>> {
    let root = json::parse(file)?;
    let Some(plugins) = root.get("plugins") else {
        return Err(Box::new(
            Diagnostic::new("invalid-json", "marketplace.json has no `plugins` array")
                .at(file, root.span),
        ));
    };
    if !matches!(plugins.value, json::Value::Array(_)) {
        return Err(Box::new(
            Diagnostic::new(
                "invalid-json",
                format!("`plugins` must be an array, not {}", plugins.kind()),
            )
            .at(file, plugins.span),
        ));
    }
    let plugin_root = root
        .get("metadata")
        .and_then(|m| m.get("pluginRoot"))
        .and_then(Node::as_str)
        .map(|r| r.trim_start_matches("./").trim_end_matches('/').to_string());
    Ok(plugins
        .elements()
        .iter()
        .map(|e| entry(file, e, plugin_root.as_deref()))
        .collect())
}

/// One entry of `plugins`.
fn entry(file: &SourceFile, node: &Node, plugin_root: Option<&str>) -> Entry {
    let bad = |at: &Node, message: String| {
        Box::new(Diagnostic::new("invalid-json", message).at(file, at.span))
    };
    let Some(raw) = node.get("name").and_then(Node::as_str) else {
        let why = bad(node, "a plugin entry needs a `name` string".into());
        return Err(BadEntry { name: None, why });
    };
    let named = |why: Box<Diagnostic>| BadEntry {
        name: Some(raw.to_string()),
        why,
    };
    let Some(bundle) = bundle_name(raw) else {
        let at = node.get("name").unwrap_or(node);
        return Err(named(bad(
            at,
            format!("`{raw}` cannot be made a bundle name"),
        )));
    };
    let Some(source) = node.get("source") else {
        return Err(named(bad(node, format!("plugin `{raw}` has no `source`"))));
    };
    let source = plugin_source(source, plugin_root).map_err(|m| named(bad(source, m)))?;
    let strings = |key: &str| -> Vec<String> {
        let list = node.get(key).map(Node::elements).unwrap_or_default();
        list.iter()
            .filter_map(Node::as_str)
            .map(str::to_string)
            .collect()
    };
    let mut keywords = strings("keywords");
    keywords.extend(strings("tags"));
    Ok(Plugin {
        bundle,
        entry: file.text[node.span.start..node.span.end].to_string(),
        description: node
            .get("description")
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string(),
        version: node
            .get("version")
            .and_then(Node::as_str)
            .map(str::to_string),
        keywords,
        source,
    })
}

/// An entry's `source`: a relative path, or an object of kind `github`, `url` or
/// `git-subdir`; every other kind is refused by name.
fn plugin_source(node: &Node, plugin_root: Option<&str>) -> Result<PluginSource, String> {
    if let Some(path) = node.as_str() {
        return relative(path, plugin_root);
    }
    let Some(kind) = node.get("source").and_then(Node::as_str) else {
        return Err(format!(
            "`source` must be a relative path (\"./plugins/x\") or an object with a `source` kind, not {}",
            node.kind()
        ));
    };
    let field = |key: &str| node.get(key).and_then(Node::as_str).map(str::to_string);
    let url = match kind {
        "github" => {
            let repo = field("repo").ok_or("a `github` source needs `repo` (\"owner/name\")")?;
            format!("https://github.com/{}.git", repo.trim_end_matches(".git"))
        }
        "url" | "git-subdir" => field("url").ok_or(format!("a `{kind}` source needs `url`"))?,
        "npm" | "archive" | "command" | "pip" => {
            return Err(format!(
                "plugins from `{kind}` sources are not supported: capm installs plugins from git repositories only (a relative path, `github`, `url` or `git-subdir`)"
            ));
        }
        other => return Err(format!("unknown source kind `{other}`")),
    };
    let subdir =
        field("path").map(|p| p.trim_start_matches("./").trim_end_matches('/').to_string());
    if kind == "git-subdir" && subdir.is_none() {
        return Err("a `git-subdir` source needs `path`".into());
    }
    Ok(PluginSource::Git {
        url,
        reference: field("ref"),
        sha: field("sha"),
        subdir: subdir.filter(|s| !s.is_empty()),
    })
}

/// A path in the marketplace's repository: `./dir` (or `./` for its root), or a bare name
/// under `metadata.pluginRoot`.
fn relative(path: &str, plugin_root: Option<&str>) -> Result<PluginSource, String> {
    if path.split(['/', '\\']).any(|p| p == "..") || path.starts_with('/') {
        return Err(format!("`{path}` leaves the marketplace's repository"));
    }
    let dir = match (path.strip_prefix("./"), plugin_root) {
        (Some(rest), _) => rest.trim_end_matches('/').to_string(),
        (None, Some(root)) if !path.starts_with(['/', '.']) => {
            let name = path.trim_end_matches('/');
            if root.is_empty() {
                name.to_string()
            } else {
                format!("{root}/{name}")
            }
        }
        _ => {
            return Err(format!(
                "`{path}` is not a path in the marketplace's repository: write `./{}`",
                path.trim_start_matches(['.', '/'])
            ));
        }
    };
    if dir.split('/').any(|p| p == "." || p == "..") || dir.contains('\\') {
        return Err(format!(
            "`{path}` is not a plain path in the marketplace's repository"
        ));
    }
    Ok(PluginSource::Here((!dir.is_empty()).then_some(dir)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<Entry> {
        parse(&SourceFile::new("m/.claude-plugin/marketplace.json", text)).unwrap()
    }

    #[test]
    fn every_git_source_form_is_read() {
        let text = r#"{"name": "m", "metadata": {"pluginRoot": "./plugins"}, "plugins": [
            {"name": "Local Kit", "source": "./kits/local", "tags": ["a"], "keywords": ["b"]},
            {"name": "root", "source": "./"},
            {"name": "bare", "source": "bare"},
            {"name": "gh", "source": {"source": "github", "repo": "o/r", "ref": "v1"}},
            {"name": "u", "source": {"source": "url", "url": "../r.git", "sha": "abc"}},
            {"name": "sub", "source": {"source": "git-subdir", "url": "https://h/r.git", "path": "./p/x"}}
        ]}"#;
        let all: Vec<Plugin> = parsed(text).into_iter().map(Result::unwrap).collect();
        assert_eq!(all[0].bundle, "local-kit");
        assert_eq!(all[0].keywords, ["b", "a"]);
        assert_eq!(all[0].source, PluginSource::Here(Some("kits/local".into())));
        assert!(all[0].entry.starts_with("{\"name\": \"Local Kit\""));
        assert_eq!(all[1].source, PluginSource::Here(None));
        assert_eq!(
            all[2].source,
            PluginSource::Here(Some("plugins/bare".into()))
        );
        let git = |url: &str, reference: Option<&str>, sha: Option<&str>, subdir: Option<&str>| {
            PluginSource::Git {
                url: url.into(),
                reference: reference.map(Into::into),
                sha: sha.map(Into::into),
                subdir: subdir.map(Into::into),
            }
        };
        assert_eq!(
            all[3].source,
            git("https://github.com/o/r.git", Some("v1"), None, None)
        );
        assert_eq!(all[4].source, git("../r.git", None, Some("abc"), None));
        assert_eq!(
            all[5].source,
            git("https://h/r.git", None, None, Some("p/x"))
        );
    }

    #[test]
    fn a_bad_entry_is_located_and_the_others_stay() {
        let text = "{\"plugins\": [\n  {\"name\": \"n\", \"source\": {\"source\": \"npm\", \"package\": \"x\"}},\n  {\"name\": \"ok\", \"source\": \"./ok\"},\n  {\"name\": \"up\", \"source\": \"../up\"}\n]}";
        let all = parsed(text);
        let BadEntry { name, why: d } = all[0].clone().unwrap_err();
        assert_eq!(name.as_deref(), Some("n"));
        assert!(
            d.message.contains("`npm` sources are not supported"),
            "{}",
            d.message
        );
        let at = d.location.unwrap();
        assert_eq!((at.line, at.column), (Some(2), Some(27)));
        assert!(all[1].is_ok());
        let d = all[2].clone().unwrap_err().why;
        assert!(
            d.message.contains("leaves the marketplace"),
            "{}",
            d.message
        );
    }

    #[test]
    fn a_file_without_plugins_is_refused() {
        let file = SourceFile::new("m.json", "{\"plugins\": {}}");
        assert!(
            parse(&file)
                .unwrap_err()
                .message
                .contains("must be an array")
        );
        let file = SourceFile::new("m.json", "{\"plugins\": [}");
        assert_eq!(parse(&file).unwrap_err().code, "invalid-json");
    }
}
