//! One project whose capm.toml targets all eight clients: `capm add code-review` once, and
//! every client whose CLI is installed sees the `github` server (listed with its own kind
//! of reference to `GITHUB_PERSONAL_ACCESS_TOKEN`; never connected, GitHub is not reached
//! offline), the skills `code-review` and `github-operations`, and the `reviewer` agent and
//! `review` command where it lists them offline; then `capm remove code-review` leaves every
//! file of the project as it was. Cursor and VS Code have no CLI (see tests/cli/targets.rs).

use std::collections::BTreeMap;
use std::path::Path;

use crate::harness::{Sandbox, binary};
use crate::support::{ALL_CLIENTS, tree};

const TEST: &str = "all_clients_read_code_review_from_one_project";

#[test]
fn all_clients_read_code_review_from_one_project() {
    let sb = Sandbox::new(&ALL_CLIENTS);
    let codex = binary("CODEX_BIN", TEST).map(|bin| crate::codex::Codex::new(&sb, bin));
    let codex_home = codex.as_ref().map(|cx| ("CODEX_HOME", cx.home()));
    let before = tree(&sb.project());
    sb.capm_env(&["add", "code-review", "--yes"], codex_home.as_slice());
    opencode(&sb);
    claude(&sb);
    gemini(&sb);
    if let Some(cx) = &codex {
        cx.trust();
        crate::codex::reads_code_review(cx);
    }
    copilot(&sb);
    qwen(&sb);
    sb.capm_env(&["remove", "code-review", "--yes"], codex_home.as_slice());
    assert_restored(&sb.project(), &before);
}

/// Every path below the project (directories end in `/`) with its content.
type Tree = BTreeMap<String, Vec<u8>>;

/// Whether a file holds only what a client writes there.
type Check = dyn Fn(&[u8]) -> bool;

/// The project is as `before`, but for capm's own records (`.capm/`, ignored by the
/// `.gitignore` inside it, and a `capm.lock` that locks nothing) and what the clients
/// themselves wrote there (see [`take_client_files`]).
fn assert_restored(project: &Path, before: &Tree) {
    let mut after = tree(project);
    let lock = String::from_utf8(after.remove("capm.lock").unwrap()).unwrap();
    assert!(
        !lock.contains("[["),
        "capm.lock still locks something:\n{lock}"
    );
    after.retain(|p, _| !p.starts_with(".capm/"));
    take_client_files(&mut after);
    let changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .map(|p| {
            format!(
                "{p}: {}",
                String::from_utf8_lossy(&after.get(p).cloned().unwrap_or_default())
            )
        })
        .collect();
    assert!(
        changed.is_empty(),
        "not as before the add:\n{}",
        changed.join("\n")
    );
}

/// Takes out of `after` the files the clients wrote into the project themselves, each
/// checked to be only that: Claude Code's record of the approved servers, OpenCode's
/// `.gitignore` for its dependencies, and the version stamp Qwen Code adds to its
/// settings (capm removed its own entry from that file and kept the key it did not write).
fn take_client_files(after: &mut Tree) {
    fn json(b: &[u8]) -> serde_json::Value {
        serde_json::from_slice(b).unwrap()
    }
    let claude = |b: &[u8]| json(b) == serde_json::json!({ "enabledMcpjsonServers": ["github"] });
    let opencode = |b: &[u8]| String::from_utf8_lossy(b).starts_with("node_modules\n");
    let qwen = |b: &[u8]| {
        let v = json(b);
        v.as_object().unwrap().keys().eq(["$version"]) && v["$version"].is_u64()
    };
    let written: [(&str, &Check); 3] = [
        (".claude/settings.local.json", &claude),
        (".opencode/.gitignore", &opencode),
        (".qwen/settings.json", &qwen),
    ];
    for (file, expected) in written {
        let Some(bytes) = after.remove(file) else {
            continue;
        };
        let shown = String::from_utf8_lossy(&bytes);
        assert!(
            expected(&bytes),
            "{file} holds more than its client wrote:\n{shown}"
        );
        let dir = &file[..=file.rfind('/').unwrap()];
        if !after.keys().any(|p| p.starts_with(dir) && p != dir) {
            after.remove(dir);
        }
    }
}

fn opencode(sb: &Sandbox) {
    let Some(bin) = binary("OPENCODE_BIN", TEST) else {
        return;
    };
    let oc = crate::opencode::OpenCode::new(bin);
    let project = sb.project();
    let config = oc.config(&project, &[]);
    let github = &config["mcp"]["github"];
    assert_eq!(
        github["url"], "https://api.githubcopilot.com/mcp/",
        "{config}"
    );
    // OpenCode masks header values it shows; the reference is the one in opencode.json.
    assert_eq!(github["headers"]["Authorization"], "***", "{config}");
    let written = std::fs::read_to_string(project.join("opencode.json")).unwrap();
    let written: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        written["mcp"]["github"]["headers"]["Authorization"],
        "Bearer {env:GITHUB_PERSONAL_ACCESS_TOKEN}"
    );
    assert!(config["command"]["review"].is_object(), "{config}");
    let skills: Vec<String> = oc.skills(&project).into_iter().map(|s| s.0).collect();
    for skill in ["code-review", "github-operations"] {
        assert!(skills.contains(&skill.into()), "OpenCode: {skills:?}");
    }
    let agents = oc.agents(&project);
    assert!(
        agents.contains(&("reviewer".into(), "subagent".into())),
        "OpenCode: {agents:?}"
    );
}

fn claude(sb: &Sandbox) {
    if let Some(bin) = binary("CLAUDE_BIN", TEST) {
        crate::claude::reads_code_review(sb, &bin);
    }
}

/// Gemini CLI's checks, which read the server's entry from its settings file, and its own
/// listing of the server, which tries GitHub as Claude Code's and Qwen Code's do: without
/// a token (or offline) it stays disconnected.
fn gemini(sb: &Sandbox) {
    let Some(bin) = binary("GEMINI_BIN", TEST) else {
        return;
    };
    crate::gemini::reads_code_review(sb, &bin);
    let listed = crate::gemini::gemini(sb, &bin, &["mcp", "list"]);
    assert!(
        listed.contains("github: https://api.githubcopilot.com/mcp/ (http) - Disconnected"),
        "{listed}"
    );
}

fn copilot(sb: &Sandbox) {
    if let Some(bin) = binary("COPILOT_BIN", TEST) {
        crate::copilot::lists_code_review(sb, &bin);
    }
}

fn qwen(sb: &Sandbox) {
    if let Some(bin) = binary("QWEN_BIN", TEST) {
        crate::qwen::reads_code_review(sb, &bin);
    }
}
