//! `[policy] allow`: an allowance keyed by rule, resource and spec digest accepts exactly
//! the reviewed spec; one changed byte voids it; block rules cannot be allowed.

use std::path::Path;

use crate::support::{capm, findings, spec_of, tempdir, write_files};

fn bundle(dir: &Path, package: &str, extra_env: &str) {
    write_files(
        dir,
        &[(
            "b/bundle.toml",
            &format!(
                "[bundle]\nname = \"b\"\nversion = \"1.0.0\"\ndescription = \"An experimental tool\"\n\n\
                 [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
                 [mcp.tool]\ncommand = \"npx\"\nargs = [\"-y\", \"{package}\"]\n{extra_env}"
            ),
        )],
    );
}

#[test]
fn an_allowance_covers_exactly_the_reviewed_spec() {
    let dir = tempdir();
    bundle(dir.path(), "tool", "env.LD_PRELOAD = \"./hook.so\"\n");
    let alone = capm(dir.path(), &["lint", "b", "--format", "json"]).json();
    let spec = spec_of(&alone, "SC-001");
    assert!(spec.starts_with("sha256:") && spec.len() == 71, "{spec}");
    let human = capm(dir.path(), &["lint", "b"]);
    assert!(
        human.stderr.contains(&format!("spec = \"{spec}\"")),
        "lint prints the digest to allow:\n{}",
        human.stderr
    );

    // Allow the high finding, and try to allow the block one.
    let project = format!(
        "[bundles]\nb = {{ path = \"b\" }}\n\n[policy]\nallow = [\n  {{ rule = \"SC-001\", resource = \"mcp:tool\", spec = \"{spec}\" }},\n  {{ rule = \"ENV-002\", resource = \"mcp:tool\", spec = \"{spec}\" }},\n]\n"
    );
    write_files(dir.path(), &[("capm.toml", &project)]);
    let run = capm(dir.path(), &["lint", "capm.toml", "--format", "json"]);
    assert_eq!(run.code, 1);
    let found = findings(&run.json());
    assert!(
        found.contains(&("SC-001".into(), "info".into(), true)),
        "{found:?}"
    );
    assert!(
        found.contains(&("ENV-002".into(), "error".into(), false)),
        "{found:?}"
    );
    assert!(
        found.contains(&("invalid-policy".into(), "error".into(), false)),
        "{found:?}"
    );

    // Without the block finding and its allowance, the project lints clean. Dropping the
    // variable changed the spec, so the digest is read again.
    bundle(dir.path(), "tool", "");
    let spec = spec_of(
        &capm(dir.path(), &["lint", "b", "--format", "json"]).json(),
        "SC-001",
    );
    let project = format!(
        "[bundles]\nb = {{ path = \"b\" }}\n\n[policy]\nallow = [{{ rule = \"SC-001\", resource = \"mcp:tool\", spec = \"{spec}\" }}]\n"
    );
    write_files(dir.path(), &[("capm.toml", &project)]);
    let run = capm(dir.path(), &["lint", "capm.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("info[SC-001]")
            && run.stderr.contains("(allowed by [policy] in capm.toml)"),
        "{}",
        run.stderr
    );

    // One byte of the launch changes: the allowance no longer applies.
    bundle(dir.path(), "tool2", "");
    let run = capm(dir.path(), &["lint", "capm.toml", "--format", "json"]);
    assert_eq!(run.code, 1);
    let doc = run.json();
    let found = findings(&doc);
    assert!(
        found.contains(&("SC-001".into(), "error".into(), false)),
        "{found:?}"
    );
    assert!(
        found.contains(&("TRUST-001".into(), "warning".into(), false)),
        "{found:?}"
    );
    let new_spec = spec_of(&doc, "SC-001");
    assert_ne!(new_spec, spec);
    let stale = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "TRUST-001")
        .unwrap();
    assert_eq!(stale["location"]["file"], "capm.toml");
    assert!(stale["help"].as_str().unwrap().contains(&new_spec));
}
