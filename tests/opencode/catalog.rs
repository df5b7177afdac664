//! Catalog bundles, installed by capm, as OpenCode sees them.

use crate::client::{OpenCode, binary};
use crate::support::{capm_with, project};

#[test]
fn a_catalog_kit_is_seen_whole_by_opencode() {
    let Some(bin) = binary("a_catalog_kit_is_seen_whole_by_opencode") else {
        return;
    };
    let oc = OpenCode::new(bin);
    let dir = project();
    let d = dir.path();
    let token = [("GITHUB_PERSONAL_ACCESS_TOKEN", "ghp_test")];
    let run = capm_with(d, &["add", "code-review", "--yes"], &token);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let config = oc.config(d, &token);
    let github = &config["mcp"]["github"];
    assert_eq!(github["type"], "remote", "{config:#}");
    assert_eq!(github["url"], "https://api.githubcopilot.com/mcp/");
    assert_eq!(
        config["agent"]["reviewer"]["mode"], "subagent",
        "{config:#}"
    );
    assert!(
        config["command"]["review"]["template"].is_string(),
        "{config:#}"
    );

    let skills = oc.skills(d);
    for name in ["code-review", "github-operations"] {
        let found = skills.iter().find(|(n, _)| n == name);
        let (_, location) = found.unwrap_or_else(|| panic!("no skill {name}: {skills:?}"));
        assert!(
            location.ends_with(&format!(".opencode/skills/{name}/SKILL.md")),
            "{location}"
        );
    }
    let agents = oc.agents(d);
    assert!(
        agents.contains(&("reviewer".into(), "subagent".into())),
        "{agents:?}"
    );
}

#[test]
fn a_global_install_is_seen_from_any_project() {
    let Some(bin) = binary("a_global_install_is_seen_from_any_project") else {
        return;
    };
    let oc = OpenCode::new(bin);
    let dir = project();
    let d = dir.path();
    let text = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    std::fs::write(
        d.join("capm.toml"),
        text.replace("scope = \"project\"", "scope = \"global\""),
    )
    .unwrap();
    let config_home = oc.home().join(".config");
    let env = [("XDG_CONFIG_HOME", config_home.to_str().unwrap())];
    let run = capm_with(d, &["add", "memory", "--yes"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(oc.config_dir().join("opencode.json").is_file());

    // Another directory, with no config of its own, sees the user's global config.
    let elsewhere = tempfile::tempdir().unwrap();
    let config = oc.config(elsewhere.path(), &[]);
    assert_eq!(config["mcp"]["memory"]["type"], "local", "{config:#}");
}
