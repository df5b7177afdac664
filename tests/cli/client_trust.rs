//! Trust is the user's decision: installing into every client capm knows writes no trust
//! or approval setting anywhere (Claude Code's `enableAllProjectMcpServers`,
//! `enabledMcpjsonServers`, `hasTrustDialogAccepted`; Copilot CLI's `trustedFolders`;
//! Codex's `trust_level`; Gemini CLI's and Qwen Code's folder trust and approvals), and a
//! bundle that asks for one is blocked (TRUST-002) before anything is written.

use crate::support::{capm, tempdir, tree, write_files};

const ALL_TARGETS: &str =
    r#"["opencode", "claude-code", "gemini", "codex", "copilot", "qwen", "cursor", "vscode"]"#;

/// Settings by which a client trusts a project or its servers without asking its user.
const TRUST_KEYS: &[&str] = &[
    "enableAllProjectMcpServers",
    "enabledMcpjsonServers",
    "hasTrustDialogAccepted",
    "trustedFolders",
    "trusted_folders",
    "trust_level",
    "folderTrust",
    "approvalMode",
    "mcpApprovals",
    "TRUST_FOLDER",
];

const BUNDLE: &str = r#"[bundle]
name = "kit"
version = "1.0.0"
description = "Servers, a skill, an agent and a command"

[compatibility.product-modes]
desktop-local = "supported"

[mcp.local]
command = "node"
args = ["server.js"]
env.KIT_TOKEN = { from-env = "KIT_TOKEN", secret = true }

[mcp.remote]
url = "https://mcp.example.com/mcp"
headers.Authorization = { template = "Bearer {env:KIT_TOKEN}", secret = true }

[skills.kit-skill]
path = "skills/kit-skill"

[agents.kit-agent]
path = "agents/kit-agent.md"

[commands.kit-cmd]
path = "commands/kit-cmd.md"
"#;

fn kit_files(manifest: &str) -> Vec<(&'static str, String)> {
    vec![
        ("kit/bundle.toml", manifest.to_string()),
        (
            "kit/skills/kit-skill/SKILL.md",
            "---\nname: kit-skill\ndescription: A skill\n---\nDo it.\n".into(),
        ),
        (
            "kit/agents/kit-agent.md",
            "---\ndescription: An agent\nmode: subagent\n---\nAct.\n".into(),
        ),
        (
            "kit/commands/kit-cmd.md",
            "---\ndescription: A command\n---\nRun $ARGUMENTS.\n".into(),
        ),
    ]
}

fn project(manifest: &str) -> tempfile::TempDir {
    let dir = tempdir();
    let mut files = kit_files(manifest);
    files.push((
        "capm.toml",
        format!("[project]\ntargets = {ALL_TARGETS}\n\n[bundles]\n"),
    ));
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    write_files(dir.path(), &refs);
    dir
}

#[test]
fn installing_into_every_client_writes_no_trust_setting() {
    let dir = project(BUNDLE);
    let before = tree(dir.path());
    for args in [
        &["add", "code-review", "--yes"][..],
        &["add", "./kit", "--yes"],
    ] {
        let run = capm(dir.path(), args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
    let after = tree(dir.path());
    let written: Vec<(&String, &Vec<u8>)> = after
        .iter()
        .filter(|(p, bytes)| !p.ends_with('/') && before.get(*p) != Some(bytes))
        .collect();
    let names: Vec<&str> = written.iter().map(|(p, _)| p.as_str()).collect();
    for f in [".mcp.json", ".qwen/settings.json", ".gemini/settings.json"] {
        assert!(names.contains(&f), "{f} not written: {names:?}");
    }
    for f in [".codex/config.toml", ".cursor/mcp.json", ".vscode/mcp.json"] {
        assert!(names.contains(&f), "{f} not written: {names:?}");
    }
    for (path, bytes) in written {
        let text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
        for key in TRUST_KEYS {
            assert!(
                !text.contains(&key.to_ascii_lowercase()),
                "{path} holds `{key}`"
            );
        }
    }
}

#[test]
fn a_bundle_asking_for_a_client_trust_setting_is_blocked() {
    let asks = [
        "\n[mcp.local.claude]\nenableAllProjectMcpServers = true\n",
        "\nenabledMcpjsonServers = [\"local\"]\n",
        "\n[claude]\nhasTrustDialogAccepted = true\n",
        "\n[copilot]\ntrustedFolders = [\".\"]\n",
    ];
    for ask in asks {
        // Top-level keys go before the first table, tables after the last.
        let manifest = if ask.starts_with("\n[") {
            format!("{BUNDLE}{ask}")
        } else {
            format!("{}\n{BUNDLE}", ask.trim())
        };
        let dir = project(&manifest);
        let before = tree(dir.path());
        let run = capm(dir.path(), &["add", "./kit", "--yes"]);
        assert_eq!(run.code, 1, "{ask}: {}{}", run.stdout, run.stderr);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(all.contains("TRUST-002"), "{ask}: {all}");
        assert!(all.contains("tries to set a client trust switch"), "{all}");
        assert_eq!(tree(dir.path()), before, "{ask}: something was written");
    }
}
