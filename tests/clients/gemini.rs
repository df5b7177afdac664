//! Conformance with the real gemini CLI (see main.rs): what capm installs for `gemini`, as
//! Gemini CLI itself reads it once the user trusts the project: `gemini mcp list` (on
//! stderr) connects the servers, `gemini skills list` lists the skills. Gemini CLI has no
//! offline way to list custom agents or commands (no subcommand; `--acp` lists built-in
//! commands only), so those files are read by the loaders of its own bundle instead: the
//! agent parser with its strict schema, and the command loader, run for `/NAME hello world`.

use std::path::Path;

use crate::harness::{Sandbox, binary, findings, run, text};
use crate::http_probe::HttpProbe;
use crate::probe_bundle::probe_bundle;

/// Trusts the project the way Gemini CLI's trust dialog records it.
fn trust(sb: &Sandbox) {
    let dir = sb.home().join(".gemini");
    std::fs::create_dir_all(&dir).unwrap();
    let trusted = serde_json::json!({ sb.project().to_str().unwrap(): "TRUST_FOLDER" });
    std::fs::write(dir.join("trustedFolders.json"), trusted.to_string()).unwrap();
}

/// What a function of Gemini CLI's bundle says: `script` (an ES module body) gets the
/// exports of the chunk that defines it (`definition`, the start of its line) as `m` and
/// `file` as `process.argv[2]`, and prints one JSON document.
fn gemini_js(bin: &Path, definition: &str, script: &str, file: &Path) -> serde_json::Value {
    let bundle = std::fs::canonicalize(bin).unwrap();
    let needle = format!("\n{definition}");
    let chunk = std::fs::read_dir(bundle.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "js")
                && std::fs::read_to_string(p).is_ok_and(|t| t.contains(&needle))
        })
        .unwrap_or_else(|| panic!("no chunk of Gemini CLI's bundle has `{definition}`"));
    let script = format!("const m = await import(process.argv[1]);\n{script}");
    let mut cmd = std::process::Command::new("node");
    cmd.args(["--input-type=module", "-e", &script])
        .arg(&chunk)
        .arg(file)
        .env("HOME", file.parent().unwrap());
    let out = run(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|_| panic!("{}", text(&out)))
}

/// The agent file as Gemini CLI's own loader reads it: its strict schema refuses a key it
/// does not know.
fn parse_agent(bin: &Path, file: &Path) -> serde_json::Value {
    let script = "try { console.log(JSON.stringify(await m.parseAgentMarkdown(process.argv[2]))); } \
        catch (e) { console.log(JSON.stringify('REFUSED ' + e.message)); }";
    gemini_js(bin, "async function parseAgentMarkdown(", script, file)
}

/// The command file as Gemini CLI's own loader reads it (`null` when it skips the file),
/// with the prompt it submits for `/NAME hello world`.
fn run_command(bin: &Path, file: &Path) -> serde_json::Value {
    let script = "const f = process.argv[2]; \
        const c = await new m.FileCommandLoader(null).parseAndAdaptFile(f, f.substring(0, f.lastIndexOf('/')), 'user-file'); \
        if (!c) { console.log('null'); process.exit(0); } \
        const r = await c.action({ invocation: { raw: '/' + c.name + ' hello world', name: c.name, args: 'hello world' }, services: { config: null }, ui: {} }, 'hello world'); \
        console.log(JSON.stringify({ name: c.name, description: c.description, prompt: r.content[0].text }));";
    gemini_js(bin, "var FileCommandLoader = class", script, file)
}

pub fn gemini(sb: &Sandbox, bin: &Path, args: &[&str]) -> String {
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
    let bundle = bundle.to_str().unwrap();
    let plan = || {
        let mut cmd = crate::support::command(
            &sb.project(),
            &["plan", "install", "--format", "json", bundle],
        );
        cmd.env("HOME", sb.home());
        cmd
    };
    assert_eq!(findings(plan(), "client-gate"), 1);
    trust(&sb);
    assert_eq!(findings(plan(), "client-gate"), 0);
    sb.capm(&["add", bundle, "--yes"]);

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
    let command = run_command(&bin, &project.join(".gemini/commands/probe-cmd.toml"));
    assert_eq!(
        command,
        serde_json::json!({
            "name": "probe-cmd",
            "description": "Probe command run with an argument",
            "prompt": "Probe-run of hello world now.\n"
        })
    );
    let agent = parse_agent(&bin, &project.join(".gemini/agents/probe-agent.md"));
    assert_eq!(agent[0]["name"], "probe-agent", "{agent}");
    assert_eq!(agent[0]["description"], "Probe agent that answers probe");
    assert_eq!(agent[0]["system_prompt"], "Answer probe.");
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
fn gemini_reads_code_review() {
    let Some(bin) = binary("GEMINI_BIN", "gemini_reads_code_review") else {
        return;
    };
    let sb = Sandbox::new(&["gemini"]);
    sb.capm(&["add", "code-review", "--yes"]);
    reads_code_review(&sb, &bin);
}

/// What Gemini CLI reads of the code-review kit once the project is trusted.
pub fn reads_code_review(sb: &Sandbox, bin: &Path) {
    trust(sb);
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
    let skills = gemini(sb, bin, &["skills", "list"]);
    assert!(skills.contains("code-review"), "{skills}");
    assert!(skills.contains("github-operations"), "{skills}");
    let agent = parse_agent(bin, &sb.project().join(".gemini/agents/reviewer.md"));
    assert_eq!(agent[0]["name"], "reviewer", "{agent}");
    assert_eq!(agent[0]["temperature"], 0.1);
    let command = run_command(bin, &sb.project().join(".gemini/commands/review.toml"));
    assert_eq!(command["name"], "review", "{command}");
    let prompt = command["prompt"].as_str().unwrap();
    assert!(
        prompt.starts_with("Review this change: hello world\n"),
        "{prompt}"
    );
}
