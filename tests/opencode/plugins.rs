//! Path plugins as OpenCode loads them: `opencode debug config` imports every plugin module,
//! so a plugin that writes a marker when imported shows whether it loaded. One capm installs
//! loads; one whose local import is missing is skipped with exit 0 and nothing on stderr,
//! which is why lint refuses local imports (`plugin-local-import`).

use crate::client::OpenCode;
use crate::plugins_fixture::{PLUGIN, add_marker};
use crate::support::{capm_with, project};

#[test]
fn a_path_plugin_installed_by_capm_is_loaded() {
    let Some(oc) = OpenCode::found("a_path_plugin_installed_by_capm_is_loaded") else {
        return;
    };
    let dir = project();
    let d = dir.path();
    add_marker(d, "");
    let run = capm_with(d, &["install", "--yes"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let marks = tempfile::tempdir().unwrap();
    let env = [("MARK_DIR", marks.path().to_str().unwrap())];
    let config = oc.config(d, &env);
    let plugins = config["plugin"].to_string();
    assert!(
        plugins.contains(".opencode/plugins/marker.ts"),
        "{config:#}"
    );
    assert!(marks.path().join("marker-loaded").is_file(), "not loaded");
}

#[test]
fn opencode_skips_a_plugin_whose_local_import_is_missing_without_a_word() {
    let Some(oc) =
        OpenCode::found("opencode_skips_a_plugin_whose_local_import_is_missing_without_a_word")
    else {
        return;
    };
    let dir = project();
    let d = dir.path();
    // What installing only the entry of a two-file plugin would leave.
    // (An import whose binding is unused is erased by the TypeScript transpiler: use it.)
    let plugin =
        format!("import {{ helper }} from \"./helper\";\n{PLUGIN}export const h = helper;\n");
    std::fs::create_dir_all(d.join(".opencode/plugins")).unwrap();
    std::fs::write(d.join(".opencode/plugins/marker.ts"), plugin).unwrap();
    let marks = tempfile::tempdir().unwrap();
    let env = [("MARK_DIR", marks.path().to_str().unwrap())];
    let out = oc.run(d, &["debug", "config"], &env);
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !marks.path().join("marker-loaded").exists(),
        "loaded anyway"
    );
}
