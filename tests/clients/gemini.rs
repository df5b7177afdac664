//! Conformance with the real gemini CLI (see main.rs): what capm installs for `gemini`, as
//! Gemini CLI itself lists it once the user trusts the project. Gemini CLI has no offline
//! way to list custom agents or commands (no subcommand; `--acp` lists built-in commands
//! only), so those are checked as files in the format its bundled docs give.

use std::path::Path;

use crate::conformance::{probe_bundle, run};
use crate::harness::{Sandbox, binary, text};
use crate::http_probe::HttpProbe;

/// Trusts the project the way Gemini CLI's trust dialog records it.
fn trust(sb: &Sandbox) {
    let dir = sb.home().join(".gemini");
    std::fs::create_dir_all(&dir).unwrap();
    let trusted = serde_json::json!({ sb.project().to_str().unwrap(): "TRUST_FOLDER" });
    std::fs::write(dir.join("trustedFolders.json"), trusted.to_string()).unwrap();
}

/// The agent file as Gemini CLI's own loader (`parseAgentMarkdown`, exported by a chunk of
/// its bundle) reads it: its strict schema refuses a key it does not know.
fn parse_agent(bin: &Path, file: &Path) -> serde_json::Value {
    let bundle = std::fs::canonicalize(bin)
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let chunk = std::fs::read_dir(&bundle)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "js")
                && std::fs::read_to_string(p).is_ok_and(|t| t.contains("  parseAgentMarkdown,\n"))
        })
        .expect("a chunk of Gemini CLI's bundle exports parseAgentMarkdown");
    let script = "const m = await import(process.argv[1]); \
        try { console.log(JSON.stringify(await m.parseAgentMarkdown(process.argv[2]))); } \
        catch (e) { console.log('REFUSED ' + e.message); }";
    let mut cmd = std::process::Command::new("node");
    cmd.args(["--input-type=module", "-e", script])
        .arg(&chunk)
        .arg(file)
        .env("HOME", file.parent().unwrap());
    let out = run(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|_| panic!("{}", text(&out)))
}

fn gemini(sb: &Sandbox, bin: &Path, args: &[&str]) -> String {
    let mut cmd = sb.client(bin, args);
    cmd.env_remove("GEMINI_CLI_TRUST_WORKSPACE")
        .env_remove("GITHUB_PERSONAL_ACCESS_TOKEN");
    let out = run(cmd);
    assert!(out.status.success(), "gemini {args:?}:\n{}", text(&out));
    text(&out)
}

#[test]
fn gemini_lists_the_probe_bundle_connected() {
    let Some(bin) = binary("GEMINI_BIN", "gemini_lists_the_probe_bundle_connected") else {
        return;
    };
    let sb = Sandbox::new(&["gemini"]);
    let server = HttpProbe::start();
    let bundle = probe_bundle(&sb, &server.url());
    sb.capm(&["add", bundle.to_str().unwrap(), "--yes"]);
    trust(&sb);

    // `gemini mcp list` prints on stderr.
    let list = gemini(&sb, &bin, &["mcp", "list"]);
    let local = format!(
        "probe-local: node {} (stdio) - Connected",
        sb.probe_js().display()
    );
    assert!(list.contains(&local), "{list}");
    let remote = format!("probe-remote: {} (http) - Connected", server.url());
    assert!(list.contains(&remote), "{list}");
    assert!(server.called("initialize"), "{:?}", server.requests());

    let skills = gemini(&sb, &bin, &["skills", "list"]);
    assert!(skills.contains("probe-skill"), "{skills}");

    let project = sb.project();
    let command = std::fs::read_to_string(project.join(".gemini/commands/probe-cmd.toml")).unwrap();
    let command: toml::Table = command.parse().unwrap();
    assert_eq!(
        command["description"].as_str(),
        Some("Runs the probe on the given text")
    );
    assert_eq!(command["prompt"].as_str(), Some("Probe this: {{args}}\n"));
    let agent = parse_agent(&bin, &project.join(".gemini/agents/probe-agent.md"));
    assert_eq!(agent[0]["name"], "probe-agent", "{agent}");
    assert_eq!(
        agent[0]["description"],
        "Reviews probes without editing anything"
    );
    assert_eq!(agent[0]["system_prompt"], "You review probes.");
    assert_eq!(agent[0]["temperature"], 0.2);
    let tools = agent[0]["tools"].as_array().unwrap();
    assert!(tools.contains(&"read_file".into()) && !tools.contains(&"write_file".into()));
}

#[test]
fn gemini_reads_nothing_of_an_untrusted_project() {
    let Some(bin) = binary("GEMINI_BIN", "gemini_reads_nothing_of_an_untrusted_project") else {
        return;
    };
    let sb = Sandbox::new(&["gemini"]);
    let server = HttpProbe::start();
    let bundle = probe_bundle(&sb, &server.url());
    sb.capm(&["add", bundle.to_str().unwrap(), "--yes"]);
    let list = gemini(&sb, &bin, &["mcp", "list"]);
    assert!(
        list.contains("disabled because this folder is untrusted"),
        "{list}"
    );
    assert!(!list.contains("Connected"), "{list}");
}

#[test]
fn gemini_lists_the_code_review_skills() {
    let Some(bin) = binary("GEMINI_BIN", "gemini_lists_the_code_review_skills") else {
        return;
    };
    let sb = Sandbox::new(&["gemini"]);
    sb.capm(&["add", "code-review", "--yes"]);
    trust(&sb);
    // Not `gemini mcp list`: it would connect to GitHub's hosted server. The entry is read
    // back from the file Gemini CLI reads instead.
    let settings = std::fs::read_to_string(sb.project().join(".gemini/settings.json")).unwrap();
    let settings: serde_json::Value = serde_json::from_str(&settings).unwrap();
    assert_eq!(
        settings["mcpServers"]["github"],
        serde_json::json!({
            "httpUrl": "https://api.githubcopilot.com/mcp/",
            "headers": { "Authorization": "Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}" }
        })
    );
    let skills = gemini(&sb, &bin, &["skills", "list"]);
    assert!(skills.contains("code-review"), "{skills}");
    assert!(skills.contains("github-operations"), "{skills}");
    let agent = parse_agent(&bin, &sb.project().join(".gemini/agents/reviewer.md"));
    assert_eq!(agent[0]["name"], "reviewer", "{agent}");
    assert_eq!(agent[0]["temperature"], 0.1);
}
