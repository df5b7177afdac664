//! Hosts judged by kind (URL-004, URL-006), the remote a local proxy is pointed at, and
//! PERM-002 for agents that act without asking: from lint to a blocked plan, an install that
//! writes nothing, and a `[policy] allow` that accepts exactly the reviewed agent file.

use std::path::Path;

use crate::support::{capm, findings, project_with_bundle, spec_of, tempdir, tree, write_files};

/// Lints a bundle whose body is `body` and returns its findings as (code, severity).
fn lint(body: &str) -> Vec<(String, String)> {
    let dir = tempdir();
    let manifest = format!(
        "[bundle]\nname = \"b\"\nversion = \"1.0.0\"\ndescription = \"A case\"\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n{body}"
    );
    write_files(dir.path(), &[("b/bundle.toml", &manifest)]);
    let doc = capm(dir.path(), &["lint", "b", "--format", "json"]).json();
    findings(&doc)
        .into_iter()
        .map(|(code, sev, _)| (code, sev))
        .collect()
}

fn has(found: &[(String, String)], code: &str, severity: &str) -> bool {
    found.iter().any(|(c, s)| c == code && s == severity)
}

#[test]
fn addresses_carried_in_ipv6_and_private_names_are_errors() {
    for (url, code) in [
        ("https://[64:ff9b::a9fe:a9fe]/mcp", "URL-004"),
        ("https://[2001:0:4136:e378::5601:5601]/mcp", "URL-004"),
        ("https://[::ffff:0:a00:5]/mcp", "URL-004"),
        ("https://api.tools.svc.cluster.local/mcp", "URL-006"),
        ("https://10.0.0.5.nip.io/mcp", "URL-006"),
        ("https://redis/mcp", "URL-006"),
    ] {
        let found = lint(&format!("[mcp.tool]\nurl = \"{url}\"\n"));
        assert!(has(&found, code, "error"), "{url}: {found:?}");
    }
    for url in [
        "https://internal.example.com/mcp",
        "https://[64:ff9b::808:808]/mcp",
    ] {
        let found = lint(&format!("[mcp.tool]\nurl = \"{url}\"\n"));
        assert!(found.is_empty(), "{url}: {found:?}");
    }
}

#[test]
fn a_metadata_address_blocks_the_plan_and_install_writes_nothing() {
    let dir = project_with_bundle("[mcp.tool]\nurl = \"https://[::ffff:169.254.169.254]/\"\n");
    let plan = refused(dir.path());
    assert!(
        plan.contains("error[URL-004]") && plan.contains("a cloud metadata service"),
        "{plan}"
    );
}

/// Asserts that the plan of installing the project is blocked and that installing writes
/// nothing; returns the plan.
fn refused(d: &Path) -> String {
    let before = tree(d);
    let plan = capm(d, &["plan", "install"]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert!(plan.stdout.contains("blocked"), "{}", plan.stdout);
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(tree(d), before, "a refused install writes nothing");
    plan.stdout
}

#[test]
fn the_remote_of_a_local_proxy_gets_the_url_rules() {
    let found = lint(
        "[mcp.tool]\ncommand = \"npx\"\nargs = [\"-y\", \"mcp-remote@0.1.29\", \"http://10.0.0.5/mcp\"]\n",
    );
    assert!(has(&found, "URL-001", "error"), "{found:?}");
    assert!(has(&found, "URL-004", "error"), "{found:?}");
    let found = lint(
        "[mcp.tool]\ncommand = \"npx\"\nargs = [\"-y\", \"supergateway@3.4.0\", \"--sse=https://metadata.google.internal/\"]\n",
    );
    assert!(has(&found, "URL-006", "error"), "{found:?}");
    // A public https remote, and a URL given to a program that is not a proxy.
    let found = lint(
        "[mcp.tool]\ncommand = \"npx\"\nargs = [\"-y\", \"mcp-remote@0.1.29\", \"https://mcp.example.com/mcp\"]\n",
    );
    assert!(found.is_empty(), "{found:?}");
    let found = lint(
        "[mcp.tool]\ncommand = \"npx\"\nargs = [\"-y\", \"tool@1.0.0\", \"http://10.0.0.5/\"]\n",
    );
    assert!(
        !found.iter().any(|(c, _)| c.starts_with("URL-")),
        "{found:?}"
    );
}

const GRANT: &str =
    "---\ndescription: Fixes the build\npermission:\n  bash: allow\n---\nFix the build.\n";

fn agent_project(agent: &str) -> tempfile::TempDir {
    let dir = project_with_bundle("[agents.fixer]\npath = \"agents/fixer.md\"\n");
    write_files(dir.path(), &[("b/agents/fixer.md", agent)]);
    dir
}

fn allow(d: &Path, spec: &str) {
    let mut text = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    text.push_str(&format!(
        "\n[policy]\nallow = [{{ rule = \"PERM-002\", resource = \"agent:fixer\", spec = \"{spec}\" }}]\n"
    ));
    write_files(d, &[("capm.toml", &text)]);
}

#[test]
fn an_agent_that_allows_the_shell_is_refused_until_allowed() {
    let dir = agent_project(GRANT);
    let d = dir.path();
    let lint = capm(d, &["lint", "b"]);
    assert_eq!(lint.code, 1);
    assert!(
        lint.stderr.contains("error[PERM-002]")
            && lint
                .stderr
                .contains("`permission.bash` lets the agent run any shell command")
            && lint.stderr.contains("b/agents/fixer.md:4:9")
            && lint.stderr.contains("resource = \"agent:fixer\""),
        "{}",
        lint.stderr
    );
    let plan = refused(d);
    assert!(plan.contains("error[PERM-002] agent:fixer"), "{plan}");

    let spec = spec_of(
        &capm(d, &["lint", "b", "--format", "json"]).json(),
        "PERM-002",
    );
    allow(d, &spec);
    let plan = capm(d, &["plan", "install"]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);
    assert!(
        plan.stdout.contains("info[PERM-002]") && plan.stdout.contains("allowed by [policy]"),
        "{}",
        plan.stdout
    );
    let run = capm(d, &["install", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(d.join(".opencode/agents/fixer.md")).unwrap(),
        GRANT
    );
}

#[test]
fn a_changed_agent_voids_its_allowance() {
    let dir = agent_project(GRANT);
    let d = dir.path();
    let spec = spec_of(
        &capm(d, &["lint", "b", "--format", "json"]).json(),
        "PERM-002",
    );
    allow(d, &spec);
    write_files(
        d,
        &[("b/agents/fixer.md", &GRANT.replace("Fix", "Rewrite"))],
    );
    let run = capm(d, &["lint", "capm.toml", "--format", "json"]);
    assert_eq!(run.code, 1);
    let found = findings(&run.json());
    assert!(
        found.contains(&("PERM-002".into(), "error".into(), false))
            && found.contains(&("TRUST-001".into(), "warning".into(), false)),
        "{found:?}"
    );
}

#[test]
fn a_pattern_limited_agent_lints_clean() {
    let dir = agent_project(
        "---\ndescription: Reads status\npermission:\n  bash:\n    \"git status\": allow\n    \"*\": ask\n---\nReport.\n",
    );
    let run = capm(dir.path(), &["lint", "b"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("PERM-002"), "{}", run.stderr);
}
