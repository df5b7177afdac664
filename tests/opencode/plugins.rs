//! Path plugins as OpenCode loads them: `opencode debug config` imports every plugin module,
//! so a plugin that writes a marker when imported shows whether it loaded. One capm installs
//! loads; one whose local import is missing is skipped with exit 0 and nothing on stderr,
//! which is why lint refuses local imports (`plugin-local-import`) of a plugin file. A plugin
//! directory is installed whole and loaded through the entry capm writes beside it.

use crate::client::OpenCode;
use crate::plugins_fixture::{HELPER, INDEX, PLUGIN, add_marker, add_marker_dir};
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

#[test]
fn a_plugin_directory_installed_by_capm_loads_with_its_helper() {
    let Some(oc) = OpenCode::found("a_plugin_directory_installed_by_capm_loads_with_its_helper")
    else {
        return;
    };
    let dir = project();
    let d = dir.path();
    add_marker_dir(d, &[("index.ts", INDEX), ("lib/helper.ts", HELPER)]);
    let run = capm_with(d, &["install", "--yes"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let marks = tempfile::tempdir().unwrap();
    let env = [("MARK_DIR", marks.path().to_str().unwrap())];
    let config = oc.config(d, &env);
    // One plugin: the entry; the directory's files are not plugins of their own.
    let plugins: Vec<&str> = config["plugin"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert_eq!(plugins.len(), 1, "{config:#}");
    assert!(
        plugins[0].ends_with(".opencode/plugins/marker.ts"),
        "{plugins:?}"
    );
    let mark = std::fs::read_to_string(marks.path().join("marker-loaded")).expect("not loaded");
    assert_eq!(mark, "loaded with its helper");
}

#[test]
fn the_default_export_of_a_global_plugin_directory_is_called() {
    let Some(oc) = OpenCode::found("the_default_export_of_a_global_plugin_directory_is_called")
    else {
        return;
    };
    let (dir, env) = oc.global_project();
    let d = dir.path();
    let env = [(env[0].0, env[0].1.as_str())];
    let index = "import { writeFileSync } from \"node:fs\";\nimport { join } from \"node:path\";\n\
                 import { helper } from \"./lib/helper.js\";\n\
                 export default async () => {\n  writeFileSync(join(process.env.MARK_DIR ?? \".\", \"called\"), helper);\n  return {};\n};\n";
    add_marker_dir(d, &[("index.js", index), ("lib/helper.js", HELPER)]);
    let run = capm_with(d, &["install", "--yes"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        oc.config_dir()
            .join("plugins/marker/lib/helper.js")
            .is_file()
    );
    let marks = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let env = [("MARK_DIR", marks.path().to_str().unwrap())];
    let out = oc.run(elsewhere.path(), &["agent", "list"], &env);
    assert!(out.status.success(), "{out:?}");
    let mark = std::fs::read_to_string(marks.path().join("called")).expect("not called");
    assert_eq!(mark, "loaded with its helper");
}
