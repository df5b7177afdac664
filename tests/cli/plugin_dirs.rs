//! A path plugin can be a directory: it is installed whole under `plugins/NAME/`, beside an
//! entry file `plugins/NAME.ts` that loads its `index`, and every local import of its
//! modules must lead to a file inside it.

use crate::plugins_fixture::{HELPER, INDEX, add_marker, add_marker_dir};
use crate::support::{capm, project, tree};

const ENTRY: &str = "// The plugin `marker`, installed by capm with its files in `marker/`.\n\
                     export * from \"./marker/index.ts\";\n";

fn lock_paths(dir: &std::path::Path) -> Vec<String> {
    let lock = std::fs::read_to_string(dir.join("capm.lock")).unwrap();
    let lock: toml::Value = toml::from_str(&lock).unwrap();
    lock["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["id"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_plugin_directory_is_installed_whole_and_removed_whole() {
    let dir = project();
    let d = dir.path();
    add_marker_dir(
        d,
        &[
            ("index.ts", INDEX),
            ("lib/helper.ts", HELPER),
            ("README.md", "x"),
        ],
    );
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("create   plugin:marker  .opencode/plugins/marker.ts")
            && run
                .stdout
                .contains("create   plugin:marker  .opencode/plugins/marker\n"),
        "{}",
        run.stdout
    );
    let plugins = d.join(".opencode/plugins");
    assert_eq!(
        std::fs::read_to_string(plugins.join("marker.ts")).unwrap(),
        ENTRY
    );
    assert_eq!(
        std::fs::read_to_string(plugins.join("marker/index.ts")).unwrap(),
        INDEX
    );
    assert_eq!(
        std::fs::read_to_string(plugins.join("marker/lib/helper.ts")).unwrap(),
        HELPER
    );
    assert_eq!(
        std::fs::read_to_string(plugins.join("marker/README.md")).unwrap(),
        "x"
    );
    assert_eq!(
        lock_paths(d),
        [
            "plugin:marker .opencode/plugins/marker",
            "plugin:marker .opencode/plugins/marker.ts"
        ]
    );
    let again = capm(d, &["install", "--dry-run"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("nothing to do"), "{}", again.stderr);
    let gone = capm(d, &["uninstall", "marker", "--yes"]);
    assert_eq!(gone.code, 0, "{}", gone.stderr);
    assert!(
        !plugins.exists(),
        "{:?}",
        tree(d).keys().collect::<Vec<_>>()
    );
}

#[test]
fn the_entry_re_exports_a_default_export_too() {
    let dir = project();
    let d = dir.path();
    let index = "const P = async () => ({});\nexport { P as default };\n";
    add_marker_dir(d, &[("index.js", index)]);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let entry = std::fs::read_to_string(d.join(".opencode/plugins/marker.js")).unwrap();
    assert_eq!(
        entry,
        "// The plugin `marker`, installed by capm with its files in `marker/`.\n\
         export * from \"./marker/index.js\";\nexport { default } from \"./marker/index.js\";\n"
    );
}

#[test]
fn imports_that_do_not_lead_inside_the_directory_are_refused() {
    let dir = project();
    let d = dir.path();
    let index = format!(
        "{INDEX}import {{ a }} from \"./missing\";\nimport {{ b }} from \"../outside\";\n\
         const c = await import(\"/abs/c.js\");\n"
    );
    let lib = "export * from \"../../x\";\nexport const helper = 1;\n";
    add_marker_dir(d, &[("index.ts", &index), ("lib/helper.ts", lib)]);
    let before = tree(d);
    let lint = capm(d, &["lint", "marker"]);
    assert_eq!(lint.code, 1, "{}", lint.stderr);
    for message in [
        "`plugins/marker/index.ts` imports `./missing` (line 7), which names no file of the plugin",
        "`plugins/marker/index.ts` imports `../outside` (line 8), which names a file outside the plugin directory",
        "`plugins/marker/index.ts` imports `/abs/c.js` (line 9), which names a file outside the bundle",
        "`plugins/marker/lib/helper.ts` imports `../../x` (line 1), which names a file outside the plugin directory",
    ] {
        let message = format!("error[plugin-local-import]: {message}");
        assert!(lint.stderr.contains(&message), "{message}\n{}", lint.stderr);
    }
    assert!(
        lint.stderr.contains("Checked 1 bundle: 4 errors"),
        "{}",
        lint.stderr
    );
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(tree(d), before, "nothing is written");
}

#[test]
fn a_directory_needs_exactly_one_index() {
    for (files, what) in [
        (&[("main.ts", INDEX)][..], "neither"),
        (&[("index.ts", INDEX), ("index.js", INDEX)][..], "both"),
    ] {
        let dir = project();
        let d = dir.path();
        let mut files = files.to_vec();
        files.push(("lib/helper.ts", HELPER));
        add_marker_dir(d, &files);
        let lint = capm(d, &["lint", "marker"]);
        assert_eq!(lint.code, 1, "{}", lint.stderr);
        let message = format!(
            "error[invalid-plugin-source]: the plugin directory `plugins/marker` holds {what} `index.ts` and `index.js`"
        );
        assert!(lint.stderr.contains(&message), "{message}\n{}", lint.stderr);
        assert!(!d.join(".opencode").exists());
    }
}

#[test]
fn a_plugin_that_becomes_one_file_leaves_its_directory_behind_it() {
    let dir = project();
    let d = dir.path();
    add_marker_dir(d, &[("index.ts", INDEX), ("lib/helper.ts", HELPER)]);
    assert_eq!(capm(d, &["install", "--yes"]).code, 0);
    // The next version is one file again.
    std::fs::remove_dir_all(d.join("marker/plugins/marker")).unwrap();
    add_marker(d, "");
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("update   plugin:marker  .opencode/plugins/marker.ts")
            && run
                .stdout
                .contains("remove   plugin:marker  .opencode/plugins/marker\n"),
        "{}",
        run.stdout
    );
    assert!(!d.join(".opencode/plugins/marker").exists());
    assert_eq!(lock_paths(d), ["plugin:marker .opencode/plugins/marker.ts"]);
    // And back to a directory.
    std::fs::remove_file(d.join("marker/plugins/marker.ts")).unwrap();
    add_marker_dir(d, &[("index.ts", INDEX), ("lib/helper.ts", HELPER)]);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(d.join(".opencode/plugins/marker/lib/helper.ts").is_file());
    assert_eq!(lock_paths(d).len(), 2);
}

#[test]
fn a_directory_of_the_users_where_the_plugin_goes_blocks_it() {
    let dir = project();
    let d = dir.path();
    add_marker_dir(d, &[("index.ts", INDEX), ("lib/helper.ts", HELPER)]);
    std::fs::create_dir_all(d.join(".opencode/plugins/marker")).unwrap();
    std::fs::write(d.join(".opencode/plugins/marker/mine.ts"), "// mine\n").unwrap();
    let before = tree(d);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("BLOCKED  plugin:marker  .opencode/plugins/marker  (conflict-user-owned)"),
        "{}",
        run.stdout
    );
    assert_eq!(tree(d), before, "nothing is written");
}
