//! A path plugin is installed as its one file: lint refuses one that imports files of its
//! own, which would not resolve once installed, and install writes nothing for it.

use crate::plugins_fixture::add_marker;
use crate::support::{capm, project, tree};

#[test]
fn local_imports_of_every_form_are_refused_with_their_line() {
    let dir = project();
    let d = dir.path();
    let extra = "import { a } from \"./helper\";\nexport * from '../outside.js';\n\
                 const b = require(\"./lib/b\");\nconst c = await import('/abs/c.js');\n";
    add_marker(d, extra);
    let lint = capm(d, &["lint", "marker"]);
    assert_eq!(lint.code, 1, "{}", lint.stderr);
    for (spec, line) in [
        ("./helper", 6),
        ("../outside.js", 7),
        ("./lib/b", 8),
        ("/abs/c.js", 9),
    ] {
        let message = format!(
            "error[plugin-local-import]: `plugins/marker.ts` imports `{spec}` (line {line}), which is not installed with it"
        );
        assert!(lint.stderr.contains(&message), "{message}\n{}", lint.stderr);
    }
    assert!(
        lint.stderr.contains("Checked 1 bundle: 4 errors"),
        "{}",
        lint.stderr
    );
}

#[test]
fn package_imports_comments_and_strings_lint_clean() {
    let dir = project();
    let d = dir.path();
    let extra = "import type { Plugin } from \"@opencode-ai/plugin\";\n// import './not-code'\n\
                 const s = \"require('./not-code')\";\n";
    add_marker(d, extra);
    let lint = capm(d, &["lint", "marker"]);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    assert!(
        !lint.stderr.contains("plugin-local-import"),
        "{}",
        lint.stderr
    );
}

#[test]
fn a_plugin_with_a_local_import_is_not_installed() {
    let dir = project();
    let d = dir.path();
    add_marker(d, "import { h } from \"./helper\";\n");
    let before = tree(d);
    let run = capm(d, &["install", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error[plugin-local-import]"),
        "{}",
        run.stderr
    );
    assert_eq!(tree(d), before, "nothing is written");
    let plan = capm(d, &["install", "--dry-run"]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert!(!d.join(".opencode").exists());
}
