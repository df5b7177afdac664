//! The OpenCode target (docs/spec.md §6): MCP servers as keys of `mcp` in the config file, npm
//! plugins as elements of `plugin`, and skills, agents, commands and path plugins as files
//! under `.opencode/` (in global scope, directly under the config directory).
//!
//! OpenCode merges, lowest precedence first: the global config, the project's
//! `opencode.json{,c}`, then `.opencode/opencode.json{,c}`; objects merge key by key and
//! arrays are concatenated. Secrets are rendered as `{env:VAR}` references, which OpenCode
//! expands when it loads the file; no secret value is ever rendered.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Context, Kind, Rendered, Resource, SameName, ScopeRoot, Target, builtins};
use crate::manifest::bundle::{EnvValue, McpServer, OAuth};
use crate::manifest::span::Spanned;
use crate::manifest::tree::normalise;

pub struct OpenCode;

/// The schema OpenCode publishes for its config, named in files capm creates.
pub const SCHEMA_URL: &str = "https://opencode.ai/config.json";

fn env_value(v: &EnvValue, inputs: &BTreeMap<String, String>) -> Value {
    match v {
        EnvValue::Literal(s) => json!(s.value),
        EnvValue::FromEnv {
            from_env, secret, ..
        } => match inputs.get(&from_env.value) {
            // A value the project recorded for a setting that is not secret.
            Some(value) if !secret.as_ref().is_some_and(|s| s.value) => json!(value),
            _ => json!(format!("{{env:{}}}", from_env.value)),
        },
        EnvValue::Template {
            template, secret, ..
        } => {
            // A template that is not secret takes the project's recorded settings; anything
            // else stays a reference that OpenCode expands.
            let mut text = template.value.clone();
            if !secret.as_ref().is_some_and(|s| s.value) {
                for (name, value) in inputs {
                    text = text.replace(&format!("{{env:{name}}}"), value);
                }
            }
            json!(text)
        }
    }
}

fn env_map(
    m: &indexmap::IndexMap<Spanned<String>, EnvValue>,
    inputs: &BTreeMap<String, String>,
) -> Value {
    Value::Object(
        m.iter()
            .map(|(k, v)| (k.value.clone(), env_value(v, inputs)))
            .collect::<Map<_, _>>(),
    )
}

/// A server's entry under `mcp`, with every field OpenCode's `McpLocalConfig` or
/// `McpRemoteConfig` takes that the bundle sets; `None` without a command or url.
fn mcp_value(s: &McpServer, inputs: &BTreeMap<String, String>) -> Option<Value> {
    let mut v = if let Some(cmd) = &s.command {
        let mut command = vec![json!(cmd.value)];
        command.extend(s.args.iter().map(|a| json!(a.value)));
        let mut v = json!({ "type": "local", "command": command });
        if !s.env.is_empty() {
            v["environment"] = env_map(&s.env, inputs);
        }
        if let Some(cwd) = &s.cwd {
            v["cwd"] = json!(cwd.value);
        }
        v
    } else {
        let url = s.url.as_ref()?;
        let mut v = json!({ "type": "remote", "url": url.value });
        if !s.headers.is_empty() {
            v["headers"] = env_map(&s.headers, inputs);
        }
        if let Some(oauth) = &s.oauth {
            v["oauth"] = oauth_value(oauth, inputs);
        }
        v
    };
    v["enabled"] = json!(s.enabled.as_ref().is_none_or(|e| e.value));
    if let Some(t) = &s.timeout {
        v["timeout"] = json!(t.value);
    }
    Some(v)
}

/// `oauth`: `false`, or `clientId`, `clientSecret` (always a reference) and `scope`.
fn oauth_value(o: &OAuth, inputs: &BTreeMap<String, String>) -> Value {
    let OAuth::Client {
        client_id,
        client_secret,
        scope,
        ..
    } = o
    else {
        return json!(false);
    };
    let mut v = Map::new();
    if let Some(id) = client_id {
        v.insert("clientId".into(), env_value(id, inputs));
    }
    if let Some(secret) = client_secret {
        // Never a recorded value: the secret stays in the user's environment.
        v.insert("clientSecret".into(), env_value(secret, &BTreeMap::new()));
    }
    if let Some(scope) = scope {
        v.insert("scope".into(), json!(scope.value));
    }
    Value::Object(v)
}

/// The prefix of resource files in a scope: `.opencode/` in a project, nothing in the
/// global config directory.
fn files_prefix(scope: &ScopeRoot) -> &'static str {
    match scope {
        ScopeRoot::Project(_) => ".opencode/",
        ScopeRoot::Global(_) => "",
    }
}

impl OpenCode {
    /// What rendering needs when OpenCode is the only client: skills in its own directory.
    pub fn context(scope: &ScopeRoot) -> Context<'_> {
        let skills = match scope {
            ScopeRoot::Project(_) => ".opencode/skills",
            ScopeRoot::Global(_) => "skills",
        };
        Context {
            scope,
            skills,
            servers: &[],
        }
    }
}

impl Target for OpenCode {
    fn name(&self) -> &'static str {
        "opencode"
    }

    fn display(&self) -> &'static str {
        "OpenCode"
    }

    /// Its own `skills/`, and in a project also `.claude/skills/` and `.agents/skills/`.
    fn skill_dirs(&self, scope: &ScopeRoot) -> Vec<String> {
        let own = format!("{}skills", files_prefix(scope));
        match scope {
            ScopeRoot::Project(_) => vec![own, ".claude/skills".into(), ".agents/skills".into()],
            ScopeRoot::Global(_) => vec![own],
        }
    }

    fn file_dirs(&self, scope: &ScopeRoot) -> Vec<String> {
        let prefix = files_prefix(scope);
        ["agents", "commands", "plugins"]
            .iter()
            .map(|d| format!("{prefix}{d}"))
            .collect()
    }

    fn reads_parents(&self) -> bool {
        true
    }

    fn config_files(&self, scope: &ScopeRoot) -> Vec<String> {
        match scope {
            ScopeRoot::Project(_) => vec![
                "opencode.json".into(),
                "opencode.jsonc".into(),
                ".opencode/opencode.json".into(),
                ".opencode/opencode.jsonc".into(),
            ],
            ScopeRoot::Global(_) => vec![
                "config.json".into(),
                "opencode.json".into(),
                "opencode.jsonc".into(),
            ],
        }
    }

    fn writable_config(&self, scope: &ScopeRoot, existing: &[String]) -> String {
        let preference: &[&str] = match scope {
            ScopeRoot::Project(_) => &[
                "opencode.jsonc",
                "opencode.json",
                ".opencode/opencode.jsonc",
                ".opencode/opencode.json",
            ],
            ScopeRoot::Global(_) => &["opencode.jsonc", "opencode.json"],
        };
        preference
            .iter()
            .find(|p| existing.iter().any(|e| e == *p))
            .map_or_else(|| "opencode.json".to_string(), |p| p.to_string())
    }

    fn new_config(&self, _file: &str) -> String {
        format!("{{\n  \"$schema\": \"{SCHEMA_URL}\"\n}}\n")
    }

    fn render(&self, cx: &Context<'_>, r: &Resource<'_>) -> Result<Vec<Rendered>, String> {
        if let Kind::Plugin(p) = &r.kind
            && let Some(path) = &p.path
            && let dir = normalise(&path.value)
            && matches!(r.tree.get(&dir), Some(crate::manifest::tree::Entry::Dir))
        {
            return plugin_dir(cx.scope, r, &dir);
        }
        render_one(cx, r).map(|one| vec![one])
    }

    /// OpenCode also reads the singular `agent/`, `command/` and `skill/` directories, inline
    /// `agent.NAME` and `command.NAME` entries (which the markdown files replace), and, in a
    /// project, skills under `.claude/skills/` and `.agents/skills/`.
    fn same_name(&self, scope: &ScopeRoot, r: &Resource<'_>) -> SameName {
        let prefix = files_prefix(scope);
        let name = r.name;
        let file_and_entry = |folder: &str, key: &str| SameName {
            paths: vec![format!("{prefix}{folder}/{name}.md")],
            pointer: Some(format!("/{key}/{name}")),
        };
        match &r.kind {
            Kind::Agent(_) => file_and_entry("agent", "agent"),
            Kind::Command(_) => file_and_entry("command", "command"),
            Kind::Skill(_) => {
                let mut paths = vec![format!("{prefix}skill/{name}")];
                if matches!(scope, ScopeRoot::Project(_)) {
                    paths.push(format!(".claude/skills/{name}"));
                    paths.push(format!(".agents/skills/{name}"));
                }
                SameName {
                    paths,
                    pointer: None,
                }
            }
            _ => SameName::default(),
        }
    }

    fn built_in(&self, r: &Resource<'_>) -> Option<String> {
        let (list, what) = match &r.kind {
            Kind::Command(_) => (builtins::COMMANDS, format!("`/{}` command", r.name)),
            Kind::Agent(_) => (builtins::AGENTS, format!("`{}` agent", r.name)),
            Kind::Skill(_) => (builtins::SKILLS, format!("`{}` skill", r.name)),
            _ => return None,
        };
        list.contains(&r.name).then(|| {
            format!(
                "the built-in {what} of OpenCode {}",
                builtins::OPENCODE_VERSION
            )
        })
    }
}

/// A resource that lands in one place.
fn render_one(cx: &Context<'_>, r: &Resource<'_>) -> Result<Rendered, String> {
    let prefix = files_prefix(cx.scope);
    match &r.kind {
        Kind::Mcp(s) => Ok(Rendered::ConfigEntry {
            pointer: format!("/mcp/{}", r.name),
            value: mcp_value(s, r.inputs)
                .ok_or_else(|| format!("`{}` has neither a command nor a url", r.id))?,
        }),
        Kind::Plugin(p) => {
            if let Some(npm) = &p.npm {
                let key = crate::validate::npm_package_name(&npm.value).to_string();
                return Ok(Rendered::ArrayElement {
                    pointer: "/plugin".into(),
                    key,
                    value: json!(npm.value),
                });
            }
            if p.path.is_none() {
                return Err(format!("`{}` has no source", r.id));
            }
            let (path, bytes) = r.file(p.path.as_ref())?;
            let ext = if path.ends_with(".js") { "js" } else { "ts" };
            Ok(Rendered::File {
                path: format!("{prefix}plugins/{}.{ext}", r.name),
                bytes: bytes.to_vec(),
            })
        }
        Kind::Skill(s) => r.skill_dir(cx, s.path.as_ref()),
        Kind::Agent(a) | Kind::Command(a) => {
            let folder = if matches!(r.kind, Kind::Agent(_)) {
                "agents"
            } else {
                "commands"
            };
            let (_, bytes) = r.file(a.path.as_ref())?;
            Ok(Rendered::File {
                path: format!("{prefix}{folder}/{}.md", r.name),
                bytes: bytes.to_vec(),
            })
        }
    }
}

/// A plugin directory: copied whole to `plugins/NAME/`, where OpenCode does not look for
/// plugins (it loads only the files directly in `plugins/`), and loaded through an entry
/// file `plugins/NAME.ts` (`.js` for an `index.js`) that re-exports the directory's
/// `index`, its default export included when it has one.
fn plugin_dir(scope: &ScopeRoot, r: &Resource<'_>, dir: &str) -> Result<Vec<Rendered>, String> {
    let prefix = files_prefix(scope);
    let name = r.name;
    let (index, ext) = ["ts", "js"]
        .iter()
        .find_map(|ext| {
            let index = format!("{dir}/index.{ext}");
            r.tree.file(&index).map(|b| (b, *ext))
        })
        .ok_or_else(|| format!("`{dir}` has no `index.ts` or `index.js`"))?;
    let module = crate::validate::plugin::scan(&String::from_utf8_lossy(index));
    let from = format!("./{name}/index.{ext}");
    let mut entry = format!(
        "// The plugin `{name}`, installed by capm with its files in `{name}/`.\nexport * from \"{from}\";\n"
    );
    if module.default_export {
        entry.push_str(&format!("export {{ default }} from \"{from}\";\n"));
    }
    Ok(vec![
        Rendered::File {
            path: format!("{prefix}plugins/{name}.{ext}"),
            bytes: entry.into_bytes(),
        },
        Rendered::Dir {
            path: format!("{prefix}plugins/{name}"),
            files: super::files_below(r.tree, dir),
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::tree::BundleTree;
    use crate::target::resources;

    /// The one place a resource lands.
    fn one(r: Result<Vec<Rendered>, String>) -> Rendered {
        let mut parts = r.unwrap();
        assert_eq!(parts.len(), 1, "{parts:?}");
        parts.remove(0)
    }

    fn bundle(
        manifest: &str,
        files: &[(&str, &[u8])],
    ) -> (crate::manifest::bundle::BundleManifest, BundleTree) {
        let mut all: Vec<(&str, &[u8])> = vec![("bundle.toml", manifest.as_bytes())];
        all.extend_from_slice(files);
        let tree = BundleTree::from_files("b", all);
        let m = crate::validate::check_bundle(&tree).manifest.unwrap();
        (m, tree)
    }

    #[test]
    fn renders_every_kind_as_opencode_expects() {
        let (m, tree) = bundle(
            "[bundle]\nname = \"b\"\nversion = \"1.0.0\"\ndescription = \"d\"\n\
             [mcp.local]\ncommand = \"npx\"\nargs = [\"-y\", \"s@1.0.0\"]\nenv.TOKEN = { from-env = \"MY_TOKEN\", secret = true }\nenv.MODE = \"fast\"\n\
             [mcp.remote]\nurl = \"https://mcp.example.com/mcp\"\nheaders.Authorization = { template = \"Bearer {env:KEY}\", secret = true }\n\
             [plugins.notify]\nnpm = \"@s/notify@1.0.3\"\ntier = \"supported\"\n\
             [skills.s]\npath = \"skills/s\"\n[agents.a]\npath = \"agents/a.md\"\n",
            &[
                ("skills/s/SKILL.md", b"---\nname: s\ndescription: d\n---\n"),
                ("skills/s/ref/x.md", b"x"),
                ("agents/a.md", b"agent"),
            ],
        );
        let scope = ScopeRoot::Project(".".into());
        let r: Vec<Rendered> = resources(&m, &tree, &crate::target::NO_INPUTS)
            .iter()
            .map(|r| one(OpenCode.render(&OpenCode::context(&scope), r)))
            .collect();
        assert_eq!(
            r[0],
            Rendered::ConfigEntry {
                pointer: "/mcp/local".into(),
                value: json!({"type": "local", "command": ["npx", "-y", "s@1.0.0"], "enabled": true, "environment": {"TOKEN": "{env:MY_TOKEN}", "MODE": "fast"}}),
            }
        );
        assert_eq!(
            r[1],
            Rendered::ConfigEntry {
                pointer: "/mcp/remote".into(),
                value: json!({"type": "remote", "url": "https://mcp.example.com/mcp", "enabled": true, "headers": {"Authorization": "Bearer {env:KEY}"}}),
            }
        );
        assert_eq!(
            r[2],
            Rendered::ArrayElement {
                pointer: "/plugin".into(),
                key: "@s/notify".into(),
                value: json!("@s/notify@1.0.3")
            }
        );
        let Rendered::Dir { path, files } = &r[3] else {
            panic!("{:?}", r[3])
        };
        assert_eq!(path, ".opencode/skills/s");
        assert_eq!(
            files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
            ["SKILL.md", "ref/x.md"]
        );
        assert_eq!(
            r[4],
            Rendered::File {
                path: ".opencode/agents/a.md".into(),
                bytes: b"agent".to_vec()
            }
        );
        // Global scope: the same layout directly under the config directory.
        let global = ScopeRoot::Global("/cfg".into());
        let res = resources(&m, &tree, &crate::target::NO_INPUTS);
        assert!(
            matches!(one(OpenCode.render(&OpenCode::context(&global), &res[4])), Rendered::File { path, .. } if path == "agents/a.md")
        );
    }

    #[test]
    fn renders_cwd_timeout_enabled_and_oauth() {
        let (m, tree) = bundle(
            "[bundle]\nname = \"b\"\nversion = \"1.0.0\"\ndescription = \"d\"\n\
             [mcp.local]\ncommand = \"npx\"\ncwd = \"tools\"\ntimeout = 120000\nenabled = false\n\
             [mcp.remote]\nurl = \"https://mcp.example.com/mcp\"\ntimeout = 5000\n\
             oauth = { client-id = { from-env = \"ID\" }, client-secret = { from-env = \"SECRET\", secret = true }, scope = \"read write\" }\n\
             [mcp.plain]\nurl = \"https://mcp.example.com/other\"\noauth = false\n",
            &[],
        );
        let scope = ScopeRoot::Project(".".into());
        // A recorded value for the secret is never rendered.
        let inputs = BTreeMap::from([("SECRET".to_string(), "s3cret".to_string())]);
        let values: Vec<Value> = resources(&m, &tree, &inputs)
            .iter()
            .map(
                |r| match one(OpenCode.render(&OpenCode::context(&scope), r)) {
                    Rendered::ConfigEntry { value, .. } => value,
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        assert_eq!(
            values[0],
            json!({"type": "local", "command": ["npx"], "cwd": "tools", "enabled": false, "timeout": 120000})
        );
        assert_eq!(
            values[1],
            json!({"type": "remote", "url": "https://mcp.example.com/mcp", "enabled": true, "timeout": 5000,
                   "oauth": {"clientId": "{env:ID}", "clientSecret": "{env:SECRET}", "scope": "read write"}})
        );
        assert_eq!(values[2]["oauth"], json!(false));
    }

    #[test]
    fn the_file_capm_edits_is_the_first_existing_one() {
        let p = ScopeRoot::Project(".".into());
        assert_eq!(OpenCode.writable_config(&p, &[]), "opencode.json");
        assert_eq!(
            OpenCode.writable_config(&p, &[".opencode/opencode.json".into()]),
            ".opencode/opencode.json"
        );
        assert_eq!(
            OpenCode.writable_config(&p, &["opencode.json".into(), "opencode.jsonc".into()]),
            "opencode.jsonc"
        );
        assert!(
            OpenCode
                .new_config("opencode.json")
                .contains("\"$schema\": \"https://opencode.ai/config.json\"")
        );
    }

    #[test]
    fn digests_ignore_key_order_but_not_content() {
        let a = Rendered::ConfigEntry {
            pointer: "/mcp/x".into(),
            value: json!({"a": 1, "b": [1, 2]}),
        };
        let b = Rendered::ConfigEntry {
            pointer: "/mcp/x".into(),
            value: serde_json::from_str("{\"b\": [1, 2], \"a\": 1}").unwrap(),
        };
        let c = Rendered::ConfigEntry {
            pointer: "/mcp/x".into(),
            value: json!({"a": 1, "b": [2, 1]}),
        };
        assert_eq!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
    }
}
