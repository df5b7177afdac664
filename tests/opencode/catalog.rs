//! Catalog bundles, installed by capm, as OpenCode sees them.

use crate::client::OpenCode;
use crate::support::{capm_with, project};

#[test]
fn a_catalog_kit_is_seen_whole_by_opencode() {
    let Some(oc) = OpenCode::found("a_catalog_kit_is_seen_whole_by_opencode") else {
        return;
    };
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
    let Some(oc) = OpenCode::found("a_global_install_is_seen_from_any_project") else {
        return;
    };
    let (dir, env) = oc.global_project();
    let d = dir.path();
    let env = [(env[0].0, env[0].1.as_str())];
    let run = capm_with(d, &["add", "memory", "--yes"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(oc.config_dir().join("opencode.json").is_file());

    // Another directory, with no config of its own, sees the user's global config.
    let elsewhere = tempfile::tempdir().unwrap();
    let config = oc.config(elsewhere.path(), &[]);
    assert_eq!(config["mcp"]["memory"]["type"], "local", "{config:#}");
}

/// A project with every catalog bundle installed together, and its opencode.json.
fn everything() -> (tempfile::TempDir, Vec<String>, serde_json::Value) {
    let names: Vec<String> = std::fs::read_dir(crate::support::repo().join("bundles"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let dir = project();
    let mut args = vec!["add"];
    args.extend(names.iter().map(String::as_str));
    args.push("--yes");
    let run = capm_with(dir.path(), &args, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let text = std::fs::read_to_string(dir.path().join("opencode.json")).unwrap();
    let written = serde_json::from_str(&text).unwrap();
    (dir, names, written)
}

/// Whether OpenCode's view of a server (`debug config`) is what capm wrote: equal, but for
/// environment and header values, which OpenCode shows expanded (`{env:X}` replaced from
/// `env`) or masked as `***`.
fn seen_as_written(seen: &serde_json::Value, written: &serde_json::Value, env: &[(&str, &str)]) {
    let expand = |v: &str| {
        env.iter().fold(v.to_string(), |v, (k, x)| {
            v.replace(&format!("{{env:{k}}}"), x)
        })
    };
    let (mut seen, mut written) = (seen.clone(), written.clone());
    for key in ["environment", "headers"] {
        let w = written
            .get_mut(key)
            .and_then(|m| m.as_object_mut())
            .map(std::mem::take);
        let s = seen
            .get_mut(key)
            .and_then(|m| m.as_object_mut())
            .map(std::mem::take);
        let (Some(w), Some(s)) = (w, s) else {
            continue;
        };
        assert_eq!(
            w.keys().collect::<Vec<_>>(),
            s.keys().collect::<Vec<_>>(),
            "{key}"
        );
        for (k, v) in &w {
            let shown = s[k].as_str().unwrap();
            let expanded = expand(v.as_str().unwrap());
            assert!(
                shown == "***" || shown == expanded,
                "{key}.{k}: {shown} for {v}"
            );
        }
    }
    assert_eq!(seen, written);
}

#[test]
fn every_catalog_bundle_together_is_seen_as_capm_rendered_it() {
    let Some(oc) = OpenCode::found("every_catalog_bundle_together_is_seen_as_capm_rendered_it")
    else {
        return;
    };
    let (dir, names, written) = everything();
    let d = dir.path();
    // Every variable the servers read is set, so that OpenCode masks its value (an unset
    // one expands to nothing, shown as such).
    let plan = crate::support::capm(d, &["plan", "install", "--format", "json"]).json();
    let vars: Vec<String> = plan["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    let env: Vec<(&str, &str)> = vars.iter().map(|v| (v.as_str(), "set")).collect();
    let config = oc.config(d, &env);
    let servers = written["mcp"].as_object().unwrap();
    assert!(servers.len() >= 10, "{written:#}");
    for (name, server) in servers {
        eprintln!("mcp {name}");
        seen_as_written(&config["mcp"][name], server, &env);
    }
    let found = oc.skills(d);
    let agents = oc.agents(d);
    for kind in ["skills", "agents", "commands"] {
        for entry in std::fs::read_dir(d.join(".opencode").join(kind)).unwrap() {
            let file = entry.unwrap().file_name().to_string_lossy().into_owned();
            let name = file.trim_end_matches(".md");
            match kind {
                "skills" => assert!(found.iter().any(|(n, _)| n == name), "skill {name}"),
                "agents" => assert!(agents.iter().any(|(n, _)| n == name), "agent {name}"),
                _ => assert!(config["command"][name].is_object(), "command {name}"),
            }
        }
    }
    assert_eq!(names.len(), 17, "{names:?}");
}

#[test]
fn capms_config_is_valid_under_opencodes_own_schema() {
    let Some(oc) = OpenCode::found("capms_config_is_valid_under_opencodes_own_schema") else {
        return;
    };
    let (dir, _, written) = everything();
    let doc = oc.openapi(dir.path());
    let schema = serde_json::json!({
        "$ref": "#/components/schemas/Config",
        "components": doc["components"],
    });
    let validator = jsonschema::validator_for(&schema).expect("OpenCode's schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&written)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{written:#}");
    // The check can fail: a field OpenCode does not know is refused.
    let mut wrong = written.clone();
    wrong["mcp"]["time"]["cwdd"] = "/tmp".into();
    assert!(
        !validator.is_valid(&wrong),
        "the schema accepts an unknown field"
    );
}
