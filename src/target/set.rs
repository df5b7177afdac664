//! A project's clients, together: the targets capm.toml names, and for each the skills
//! directory it is given. Several clients read skills from the same directories
//! (`.agents/skills` is read by Gemini CLI, Codex, Copilot CLI, Qwen Code, OpenCode,
//! Cursor and VS Code; `.claude/skills` by Claude Code, OpenCode, Copilot CLI, Cursor and
//! VS Code), so a skill is written once
//! where clients share a directory, and never where a client would read it a second time
//! when another choice exists.

use super::clients;
use super::opencode::OpenCode;
use super::{ScopeRoot, Target};
use crate::manifest::common::Target as Id;

/// The target of one client id.
pub fn target(id: Id) -> &'static dyn Target {
    match id {
        Id::Opencode => &OpenCode,
        Id::ClaudeCode => &clients::CLAUDE_CODE,
        Id::Gemini => &clients::GEMINI,
        Id::Codex => &clients::CODEX,
        Id::Copilot => &clients::COPILOT,
        Id::Qwen => &clients::QWEN,
        Id::Cursor => &clients::CURSOR,
        Id::Vscode => &clients::VSCODE,
    }
}

/// The clients `ids`, and after them every other client that merges a config file
/// capm.lock records an entry in: what must be read to see every recorded entry, those of a
/// client just taken out of `targets` (until the next install removes them) included.
pub fn with_recorded(
    ids: &[Id],
    lock: Option<&crate::manifest::lock::Lockfile>,
    scope: &ScopeRoot,
) -> Vec<Id> {
    use crate::manifest::common::Keyword;
    let files = lock
        .into_iter()
        .flat_map(|l| &l.resources)
        .filter(|e| e.pointer.is_some())
        .map(|e| e.path.as_str());
    let mut out = ids.to_vec();
    for file in files {
        let more = Id::all().iter().find(|id| {
            !out.contains(id) && target(**id).config_files(scope).iter().any(|f| f == file)
        });
        out.extend(more);
    }
    out
}

/// The clients of a project, each with its skills directory.
pub struct Targets {
    list: Vec<(&'static dyn Target, String)>,
    /// Clients that read a skill from two of the chosen directories, with those.
    twice: Vec<(&'static str, Vec<String>)>,
}

impl Targets {
    /// The clients `ids`, in that order, for `scope`.
    pub fn new(ids: &[Id], scope: &ScopeRoot) -> Targets {
        let targets: Vec<&'static dyn Target> = ids.iter().map(|&id| target(id)).collect();
        let reads: Vec<Vec<String>> = targets.iter().map(|t| t.skill_dirs(scope)).collect();
        let chosen = place_skills(&reads);
        let twice = targets
            .iter()
            .zip(&reads)
            .filter_map(|(t, dirs)| {
                let read: Vec<String> = dirs
                    .iter()
                    .filter(|d| chosen.contains(d))
                    .cloned()
                    .collect();
                (read.len() > 1).then(|| (t.display(), read))
            })
            .collect();
        let list = targets
            .into_iter()
            .zip(reads)
            .map(|(t, dirs)| {
                let dir = dirs
                    .iter()
                    .find(|d| chosen.contains(d))
                    .cloned()
                    .unwrap_or_default();
                (t, dir)
            })
            .collect();
        Targets { list, twice }
    }

    /// OpenCode alone, as a project without `targets` has it.
    #[cfg(test)]
    pub fn opencode(scope: &ScopeRoot) -> Targets {
        Targets::new(&[Id::Opencode], scope)
    }

    /// Each client with the skills directory it is given.
    pub fn iter(&self) -> impl Iterator<Item = (&'static dyn Target, &str)> {
        self.list.iter().map(|(t, d)| (*t, d.as_str()))
    }

    /// Clients that read a skill from two of the chosen directories (no choice avoided it).
    pub fn read_twice(&self) -> &[(&'static str, Vec<String>)] {
        &self.twice
    }

    /// The text of config file `file` when capm creates it, as the first client that reads
    /// it writes it (of the project's, else of all: a client taken out of `targets` still
    /// has its file emptied back to that).
    pub fn new_config(&self, scope: &ScopeRoot, file: &str) -> String {
        use crate::manifest::common::Keyword;
        let reads = |t: &&'static dyn Target| t.config_files(scope).iter().any(|f| f == file);
        let others = Id::all().iter().map(|id| target(*id));
        self.list
            .iter()
            .map(|(t, _)| *t)
            .chain(others)
            .find(reads)
            .map_or_else(|| "{}\n".to_string(), |t| t.new_config(file))
    }

    /// The clients capm puts what is at `file` (relative to the scope root) there for: for
    /// a config file, those that write their entries into it when it exists (not a client
    /// that only reads it beneath a file of its own, as Qwen Code reads `.mcp.json`), else
    /// every client that merges it; for a file or directory, those whose skills, agents,
    /// commands or plugins directory holds it. Empty when no client of the project does.
    pub fn readers(&self, scope: &ScopeRoot, file: &str) -> Vec<&'static str> {
        let merging: Vec<&'static dyn Target> = self
            .list
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| t.config_files(scope).iter().any(|f| f == file))
            .collect();
        if !merging.is_empty() {
            let existing = [file.to_string()];
            let writing: Vec<&'static str> = merging
                .iter()
                .filter(|t| t.writable_config(scope, &existing) == file)
                .map(|t| t.name())
                .collect();
            if writing.is_empty() {
                return merging.iter().map(|t| t.name()).collect();
            }
            return writing;
        }
        let inside = |dir: &str| {
            file.strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('/'))
        };
        self.list
            .iter()
            .filter(|(t, skills)| inside(skills) || t.file_dirs(scope).iter().any(|d| inside(d)))
            .map(|(t, _)| t.name())
            .collect()
    }
}

/// Chooses the skills directories: of the sets of directories that give every client one
/// it reads, the one where the fewest clients read a skill twice, then the fewest
/// directories, then each client's own directory where there is a choice (the one it
/// lists first). The clients read at most a handful of directories, so every set is tried.
fn place_skills(reads: &[Vec<String>]) -> Vec<String> {
    let mut dirs: Vec<&String> = Vec::new();
    for d in reads.iter().flatten() {
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    let chosen = |set: usize| -> Vec<String> {
        let picked = dirs.iter().enumerate().filter(|(k, _)| set & (1 << k) != 0);
        picked.map(|(_, d)| (*d).clone()).collect()
    };
    (0..1usize << dirs.len())
        .filter_map(|set| Some((placement_cost(reads, &chosen(set))?, set)))
        .min()
        .map_or_else(Vec::new, |(_, set)| chosen(set))
}

/// How good a choice of skills directories is, lower being better: the clients reading a
/// skill twice, the directories, how far down its list each client's directory is; `None`
/// when a client reads none of them.
fn placement_cost(reads: &[Vec<String>], chosen: &[String]) -> Option<(usize, usize, usize)> {
    let (mut twice, mut rank) = (0, 0);
    for dirs in reads {
        let read: Vec<usize> = (0..dirs.len())
            .filter(|&k| chosen.contains(&dirs[k]))
            .collect();
        rank += read.first()?;
        twice += usize::from(read.len() > 1);
    }
    Some((twice, chosen.len(), rank))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(ids: &[Id]) -> Vec<(&'static str, String)> {
        let scope = ScopeRoot::Project(".".into());
        Targets::new(ids, &scope)
            .iter()
            .map(|(t, d)| (t.name(), d.to_string()))
            .collect()
    }

    #[test]
    fn opencode_alone_keeps_its_own_directory() {
        assert_eq!(
            dirs(&[Id::Opencode]),
            [("opencode", ".opencode/skills".into())]
        );
    }

    #[test]
    fn clients_that_share_a_directory_get_it_once() {
        // Claude Code reads only `.claude/skills`, which OpenCode and Copilot read too.
        assert_eq!(
            dirs(&[Id::Opencode, Id::ClaudeCode, Id::Copilot]),
            [
                ("opencode", ".claude/skills".into()),
                ("claude-code", ".claude/skills".into()),
                ("copilot", ".claude/skills".into())
            ]
        );
        // Codex reads only `.agents/skills`: Gemini reads it too, OpenCode as well.
        let d = dirs(&[Id::Opencode, Id::Gemini, Id::Codex]);
        assert!(d.iter().all(|(_, dir)| dir == ".agents/skills"), "{d:?}");
    }

    #[test]
    fn readers_are_the_clients_capm_put_a_place_there_for() {
        let scope = ScopeRoot::Project(".".into());
        let all = [
            Id::Opencode,
            Id::ClaudeCode,
            Id::Codex,
            Id::Copilot,
            Id::Qwen,
            Id::Vscode,
        ];
        let t = Targets::new(&all, &scope);
        // Qwen Code reads `.mcp.json` beneath its own settings, where capm writes for it.
        assert_eq!(t.readers(&scope, ".mcp.json"), ["claude-code", "copilot"]);
        assert_eq!(t.readers(&scope, ".qwen/settings.json"), ["qwen"]);
        assert_eq!(t.readers(&scope, "opencode.jsonc"), ["opencode"]);
        assert_eq!(t.readers(&scope, ".codex/config.toml"), ["codex"]);
        assert_eq!(t.readers(&scope, ".claude/agents/a.md"), ["claude-code"]);
        assert_eq!(
            t.readers(&scope, ".github/agents/a.agent.md"),
            ["copilot", "vscode"]
        );
        assert_eq!(t.readers(&scope, ".opencode/plugins/p.ts"), ["opencode"]);
        assert!(t.readers(&scope, ".gemini/agents/a.md").is_empty());
        assert!(t.readers(&scope, ".claude/agents-old/a.md").is_empty());
        let (_, skills) = t.iter().next().unwrap();
        let skill = format!("{skills}/s");
        let sharing: Vec<&str> = t
            .iter()
            .filter(|(_, d)| *d == skills)
            .map(|(c, _)| c.name())
            .collect();
        assert_eq!(t.readers(&scope, &skill), sharing);
        // Copilot CLI merges `.github/mcp.json` but capm never writes there.
        assert_eq!(t.readers(&scope, ".github/mcp.json"), ["copilot"]);
    }

    #[test]
    fn clients_reading_a_directory_in_common_share_it_rather_than_each_take_its_own() {
        // OpenCode and Qwen Code both read `.agents/skills`: one copy, not `.opencode/skills`
        // and `.qwen/skills`.
        let d = dirs(&[Id::Opencode, Id::Qwen]);
        assert!(d.iter().all(|(_, dir)| dir == ".agents/skills"), "{d:?}");
        let d = dirs(&[Id::Opencode, Id::Vscode]);
        assert!(d.iter().all(|(_, dir)| dir == ".claude/skills"), "{d:?}");
    }

    #[test]
    fn a_client_reads_a_skill_twice_only_when_nothing_else_works() {
        let scope = ScopeRoot::Project(".".into());
        let t = Targets::new(&[Id::ClaudeCode, Id::Gemini], &scope);
        assert!(t.read_twice().is_empty());
        let d: Vec<String> = t.iter().map(|(_, d)| d.to_string()).collect();
        assert_eq!(d, [".claude/skills", ".gemini/skills"]);
        let t = Targets::new(&[Id::ClaudeCode, Id::Codex, Id::Opencode], &scope);
        assert_eq!(t.read_twice().len(), 1, "{:?}", t.read_twice());
        assert_eq!(t.read_twice()[0].0, "OpenCode");
    }
}
