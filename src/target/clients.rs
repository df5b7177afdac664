//! The agent clients besides OpenCode, as data: for each, the files it reads MCP servers
//! from and the one capm writes, how it spells a server and a reference to the environment,
//! where it reads skills, agents and commands and in which format, and what the user must do
//! before it reads a project's servers. One adapter, [`Client`], renders every resource
//! from that data. What each client reads was observed by running its CLI (README, "Agent
//! clients"); `tests/clients/` asks the real CLIs again.

use std::path::PathBuf;

use super::markdown::Format;
use super::mcp::{EnvSyntax, Shape, Style};
use super::{Context, Homes, Kind, Rendered, Resource, SameName, ScopeRoot, Target};
use crate::diagnostic::Diagnostic;

/// How a client keeps its MCP servers.
#[derive(Clone, Copy, Debug)]
pub enum Servers {
    /// JSON objects of a shape and a syntax.
    Json(Style),
    /// Codex's TOML tables.
    Codex,
}

/// The directory a user-scope file is relative to.
#[derive(Clone, Copy, Debug)]
pub enum Home {
    /// `$HOME`.
    User,
    /// `$CODEX_HOME`, else `~/.codex`.
    Codex,
}

/// A client's trust gate for a project's servers, checked when planning.
#[derive(Clone, Copy, Debug)]
pub enum Gate {
    /// Gemini CLI reads a project's servers and skills only in a folder the user trusts.
    GeminiTrust,
    /// Codex reads `.codex/config.toml` only in a project its user config trusts.
    CodexTrust,
}

/// One client, as data.
#[derive(Debug)]
pub struct Client {
    pub id: &'static str,
    pub display: &'static str,
    /// Project files the client reads MCP servers from, lowest precedence first.
    pub mcp_files: &'static [&'static str],
    /// The one capm writes.
    pub mcp_file: &'static str,
    /// The key servers are kept under (`mcpServers`, `servers`, `mcp_servers`).
    pub mcp_key: &'static str,
    pub servers: Servers,
    /// User-scope files it merges with a project's.
    pub user_files: &'static [(Home, &'static str)],
    /// Project skill directories it reads, its own first.
    pub skills: &'static [&'static str],
    /// Where its project agents go and in which format; `None`: it has none.
    pub agents: Option<(&'static str, Format)>,
    pub commands: Option<(&'static str, Format)>,
    pub gate: Option<Gate>,
}

const fn json(shape: Shape, env: EnvSyntax, client: &'static str, dollar: bool) -> Servers {
    Servers::Json(Style {
        shape,
        env,
        client,
        dollar_expands: dollar,
    })
}

pub const CLAUDE_CODE: Client = Client {
    id: "claude-code",
    display: "Claude Code",
    mcp_files: &[".mcp.json"],
    mcp_file: ".mcp.json",
    mcp_key: "mcpServers",
    servers: json(Shape::Claude, EnvSyntax::Braces, "Claude Code", false),
    user_files: &[(Home::User, ".claude.json")],
    skills: &[".claude/skills"],
    agents: Some((".claude/agents", Format::ClaudeMarkdown)),
    commands: Some((".claude/commands", Format::ClaudeMarkdown)),
    gate: None,
};

pub const GEMINI: Client = Client {
    id: "gemini",
    display: "Gemini CLI",
    mcp_files: &[".gemini/settings.json"],
    mcp_file: ".gemini/settings.json",
    mcp_key: "mcpServers",
    servers: json(Shape::Gemini, EnvSyntax::Braces, "Gemini CLI", true),
    user_files: &[(Home::User, ".gemini/settings.json")],
    skills: &[".gemini/skills", ".agents/skills"],
    agents: Some((".gemini/agents", Format::GeminiAgent)),
    commands: Some((".gemini/commands", Format::GeminiCommand)),
    gate: Some(Gate::GeminiTrust),
};

pub const CODEX: Client = Client {
    id: "codex",
    display: "Codex",
    mcp_files: &[".codex/config.toml"],
    mcp_file: ".codex/config.toml",
    mcp_key: "mcp_servers",
    servers: Servers::Codex,
    user_files: &[(Home::Codex, "config.toml")],
    skills: &[".agents/skills"],
    agents: Some((".codex/agents", Format::CodexAgent)),
    commands: None,
    gate: Some(Gate::CodexTrust),
};

pub const COPILOT: Client = Client {
    id: "copilot",
    display: "Copilot CLI",
    mcp_files: &[".github/mcp.json", ".mcp.json"],
    mcp_file: ".mcp.json",
    mcp_key: "mcpServers",
    servers: json(Shape::Claude, EnvSyntax::Braces, "Copilot CLI", false),
    user_files: &[(Home::User, ".copilot/mcp-config.json")],
    skills: &[".github/skills", ".agents/skills", ".claude/skills"],
    agents: Some((".github/agents", Format::CopilotAgent)),
    commands: None,
    gate: None,
};

pub const QWEN: Client = Client {
    id: "qwen",
    display: "Qwen Code",
    // Qwen Code reads `.mcp.json` too, beneath its own settings (an entry of the same name
    // in `.qwen/settings.json` wins), and expands no reference there.
    mcp_files: &[".mcp.json", ".qwen/settings.json"],
    mcp_file: ".qwen/settings.json",
    mcp_key: "mcpServers",
    servers: json(Shape::Gemini, EnvSyntax::Braces, "Qwen Code", true),
    user_files: &[(Home::User, ".qwen/settings.json")],
    skills: &[".qwen/skills", ".agents/skills"],
    agents: Some((".qwen/agents", Format::QwenAgent)),
    commands: Some((".qwen/commands", Format::QwenCommand)),
    gate: None,
};

/// Cursor has no CLI to ask: this follows its documentation (README, "Agent clients"), and
/// `tests/fixtures/clients/cursor-mcp.schema.json` checks the entries. It reads skills from
/// `.codex/skills` too, which no other client reads (so capm never writes there). Its
/// subagents (`.cursor/agents/`) take front matter no format here writes yet.
pub const CURSOR: Client = Client {
    id: "cursor",
    display: "Cursor",
    mcp_files: &[".cursor/mcp.json"],
    mcp_file: ".cursor/mcp.json",
    mcp_key: "mcpServers",
    servers: json(Shape::Claude, EnvSyntax::EnvColon, "Cursor", false),
    user_files: &[(Home::User, ".cursor/mcp.json")],
    skills: &[
        ".cursor/skills",
        ".claude/skills",
        ".agents/skills",
        ".codex/skills",
    ],
    agents: None,
    commands: Some((".cursor/commands", Format::Plain)),
    gate: None,
};

/// VS Code has no CLI to ask: its entries follow the JSON Schema VS Code validates
/// `.vscode/mcp.json` with (`tests/fixtures/clients/vscode-mcp.schema.json`). Its user
/// `mcp.json` lives in a per-platform profile directory, not read here.
pub const VSCODE: Client = Client {
    id: "vscode",
    display: "VS Code",
    mcp_files: &[".vscode/mcp.json"],
    mcp_file: ".vscode/mcp.json",
    mcp_key: "servers",
    servers: json(Shape::VsCode, EnvSyntax::EnvColon, "VS Code", false),
    user_files: &[],
    skills: &[".github/skills", ".claude/skills", ".agents/skills"],
    agents: Some((".github/agents", Format::CopilotAgent)),
    commands: None,
    gate: None,
};

impl Client {
    fn server(
        &self,
        r: &Resource<'_>,
        s: &crate::manifest::bundle::McpServer,
    ) -> Result<Rendered, String> {
        let oauth_client = matches!(s.oauth, Some(crate::manifest::bundle::OAuth::Client { .. }));
        let value = if oauth_client {
            // Each of these clients registers its own OAuth client, if any: the bundle's
            // client id and secret would be lost without a word.
            Err(format!(
                "it names an OAuth client (`oauth`), and {} has no place for one in its config",
                self.display
            ))
        } else {
            match &self.servers {
                Servers::Json(style) => super::mcp::entry(style, s, r.inputs),
                Servers::Codex => super::codex::entry(s, r.inputs),
            }
        }
        .map_err(|why| format!("{} cannot take `{}`: {why}", self.display, r.id))?;
        Ok(Rendered::ConfigEntry {
            pointer: format!("/{}/{}", self.mcp_key, r.name),
            value,
        })
    }

    /// An agent or command file, translated; `None` when the client has no place for it.
    fn markdown(
        &self,
        cx: &Context<'_>,
        r: &Resource<'_>,
        place: Option<(&str, Format)>,
    ) -> Result<Vec<Rendered>, String> {
        let Some((dir, format)) = place else {
            return Ok(Vec::new());
        };
        let (Kind::Agent(a) | Kind::Command(a)) = &r.kind else {
            return Ok(Vec::new());
        };
        let (path, bytes) = r.file(a.path.as_ref())?;
        let text = String::from_utf8_lossy(bytes);
        if matches!(format, Format::GeminiCommand | Format::QwenCommand) && text.contains("!{") {
            // Text OpenCode shows as written, these clients run as a shell command.
            return Err(format!(
                "{} runs `!{{…}}` in a command as a shell command, and `{path}` holds one that OpenCode would show as text",
                self.display
            ));
        }
        let out = if matches!(r.kind, Kind::Agent(_)) {
            super::markdown::agent(format, r.name, &text, cx.servers)
        } else {
            super::markdown::command(format, r.name, &text, cx.servers)
        };
        Ok(vec![Rendered::File {
            path: format!("{dir}/{}", format.file(r.name)),
            bytes: out,
        }])
    }
}

impl Target for Client {
    fn name(&self) -> &'static str {
        self.id
    }

    fn display(&self) -> &'static str {
        self.display
    }

    fn skill_dirs(&self, _scope: &ScopeRoot) -> Vec<String> {
        self.skills.iter().map(|s| s.to_string()).collect()
    }

    fn file_dirs(&self, _scope: &ScopeRoot) -> Vec<String> {
        [self.agents, self.commands]
            .into_iter()
            .flatten()
            .map(|(dir, _)| dir.to_string())
            .collect()
    }

    fn user_config_files(&self, homes: &Homes) -> Vec<PathBuf> {
        self.user_files
            .iter()
            .filter_map(|(home, rel)| {
                let dir = match home {
                    Home::User => homes.home.as_ref(),
                    Home::Codex => homes.codex.as_ref(),
                }?;
                Some(dir.join(rel))
            })
            .collect()
    }

    fn notes(&self, scope: &ScopeRoot, homes: &Homes) -> Vec<Diagnostic> {
        match self.gate {
            Some(Gate::CodexTrust) => codex_trust(scope, homes).into_iter().collect(),
            Some(Gate::GeminiTrust) => gemini_trust(scope, homes).into_iter().collect(),
            None => Vec::new(),
        }
    }

    fn config_files(&self, _scope: &ScopeRoot) -> Vec<String> {
        self.mcp_files.iter().map(|s| s.to_string()).collect()
    }

    fn writable_config(&self, _scope: &ScopeRoot, _existing: &[String]) -> String {
        self.mcp_file.to_string()
    }

    fn new_config(&self, file: &str) -> String {
        match super::Syntax::of(file) {
            super::Syntax::Toml => String::new(),
            super::Syntax::Jsonc => "{}\n".to_string(),
        }
    }

    fn render(&self, cx: &Context<'_>, r: &Resource<'_>) -> Result<Vec<Rendered>, String> {
        match &r.kind {
            Kind::Mcp(s) => Ok(vec![self.server(r, s)?]),
            Kind::Skill(s) => Ok(vec![r.skill_dir(cx, s.path.as_ref())?]),
            Kind::Agent(_) => self.markdown(cx, r, self.agents),
            Kind::Command(_) => self.markdown(cx, r, self.commands),
            // Plugins are OpenCode's: no other client loads them.
            Kind::Plugin(_) => Ok(Vec::new()),
        }
    }

    fn same_name(&self, _scope: &ScopeRoot, r: &Resource<'_>) -> SameName {
        let paths = match &r.kind {
            Kind::Skill(_) => self
                .skills
                .iter()
                .map(|d| format!("{d}/{}", r.name))
                .collect(),
            _ => Vec::new(),
        };
        SameName {
            paths,
            pointer: None,
        }
    }

    fn built_in(&self, _resource: &Resource<'_>) -> Option<String> {
        None
    }
}

/// A warning unless Codex's user config trusts the project: until then Codex does not read
/// `.codex/config.toml` or `.codex/agents/`. As Codex decides (observed with 0.171.0): the
/// project's own `[projects."DIR"]` entry, else the entry of the root of the git worktree
/// holding it; an entry for any other directory above does not count.
fn codex_trust(scope: &ScopeRoot, homes: &Homes) -> Option<Diagnostic> {
    let dir = std::path::absolute(scope.dir()).ok()?;
    let config = homes.codex.as_ref().map(|c| c.join("config.toml"));
    let projects = config
        .as_ref()
        .and_then(|c| std::fs::read_to_string(c).ok())
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|mut t| t.remove("projects"))
        .and_then(|p| p.as_table().cloned())
        .unwrap_or_default();
    let level = |d: &std::path::Path| {
        projects
            .get(d.to_str()?)?
            .get("trust_level")?
            .as_str()
            .map(str::to_string)
    };
    // Codex records the directory as it resolved it: through links, or as written.
    let real = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
    let trusted = [&dir, &real].into_iter().any(|dir| {
        let root = dir.ancestors().find(|d| d.join(".git").exists());
        level(dir)
            .or_else(|| root.and_then(level))
            .is_some_and(|l| l == "trusted")
    });
    (!trusted).then(|| {
        Diagnostic::new(
            "client-gate",
            format!(
                "Codex reads `.codex/config.toml` and `.codex/agents/` only in a project it trusts, and `{}` is not trusted in {}",
                dir.display(),
                config.map_or_else(|| "Codex's config".to_string(), |c| format!("`{}`", c.display()))
            ),
        )
        .help("start `codex` in the project and trust it when asked; capm never writes that setting")
    })
}

/// A JSON file of the user's (comments allowed), or `None` when it is missing or broken.
fn user_json(path: &std::path::Path) -> Option<serde_json::Value> {
    super::jsonc::parse(&std::fs::read_to_string(path).ok()?).ok()
}

/// A warning unless Gemini CLI trusts the project, as 0.61.0 decides from the user's files:
/// trust is on unless `~/.gemini/settings.json` sets `security.folderTrust.enabled` to
/// false, and then the longest rule of `~/.gemini/trustedFolders.json` whose folder holds
/// the project (`TRUST_PARENT` names a folder by a path inside it) says `TRUST_FOLDER` or
/// `TRUST_PARENT`, not `DO_NOT_TRUST`. Until then it lists the project's servers disabled
/// and reads none of its skills.
fn gemini_trust(scope: &ScopeRoot, homes: &Homes) -> Option<Diagnostic> {
    let real = |p: &std::path::Path| std::fs::canonicalize(p).or_else(|_| std::path::absolute(p));
    let dir = real(scope.dir()).ok()?;
    let gemini = homes.home.as_ref()?.join(".gemini");
    let settings = user_json(&gemini.join("settings.json"));
    if settings.is_some_and(|s| s.pointer("/security/folderTrust/enabled") == Some(&false.into())) {
        return None;
    }
    let rules = user_json(&gemini.join("trustedFolders.json"));
    let rules = rules.as_ref().and_then(|r| r.as_object());
    let longest = rules
        .into_iter()
        .flatten()
        .filter_map(|(rule, level)| {
            let level = level.as_str()?;
            let folder = std::path::Path::new(rule);
            let folder = match level {
                "TRUST_PARENT" => folder.parent()?,
                _ => folder,
            };
            dir.starts_with(real(folder).ok()?)
                .then_some((rule.len(), level))
        })
        .max_by_key(|(len, _)| *len);
    if longest.is_some_and(|(_, level)| matches!(level, "TRUST_FOLDER" | "TRUST_PARENT")) {
        return None;
    }
    Some(
        Diagnostic::new(
            "client-gate",
            format!(
                "Gemini CLI reads a project's servers and skills only in a folder it trusts, and `{}` is not trusted in `{}`",
                dir.display(),
                gemini.join("trustedFolders.json").display()
            ),
        )
        .help("start `gemini` in the project and trust the folder when asked (or set GEMINI_CLI_TRUST_WORKSPACE=true); capm never writes that setting"),
    )
}
