//! Launches a review found misjudged, end to end: documented setups (`cmd /c` with a plain
//! argv, runtime option variables that only tune memory) lint clean with exit 0, and their
//! dangerous neighbours are refused with exit 1 under the right rule.

use crate::launches::lint_run;

/// Runs `capm lint --format json` on a bundle with one server `body`: exit code and the
/// diagnostics' codes.
fn lint(body: &str) -> (i32, Vec<String>) {
    let run = lint_run(body);
    let codes = run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    (run.code, codes)
}

#[test]
fn cmd_c_with_a_plain_pinned_argv_lints_clean() {
    for command in ["cmd", "cmd.exe", "C:\\\\Windows\\\\System32\\\\cmd.exe"] {
        let body = format!(
            "command = \"{command}\"\nargs = [\"/s\", \"/c\", \"npx\", \"-y\", \"server@1.2.3\"]\n"
        );
        assert_eq!(lint(&body), (0, vec![]), "{command}");
    }
}

#[test]
fn cmd_c_is_checked_as_the_launch_it_wraps() {
    let (code, found) = lint("command = \"cmd\"\nargs = [\"/c\", \"npx\", \"-y\", \"server\"]\n");
    assert_eq!((code, found), (1, vec!["SC-001".to_string()]));
    let (code, found) = lint(
        "command = \"cmd\"\nargs = [\"/c\", \"npx\", \"-y\", \"server@1.2.3\", \"&\", \"calc\"]\n",
    );
    assert_eq!(code, 1);
    assert!(found.contains(&"STDIO-001".to_string()), "{found:?}");
    assert!(found.contains(&"STDIO-002".to_string()), "{found:?}");
}

#[test]
fn runtime_option_variables_are_judged_by_their_value() {
    let clean = "command = \"node\"\nargs = [\"server.js\"]\n\
                 env.NODE_OPTIONS = \"--max-old-space-size=4096\"\nenv.ENV = \"production\"\n\
                 env.JAVA_TOOL_OPTIONS = \"-Xmx512m\"\nenv.BROWSER = \"none\"\n";
    assert_eq!(lint(clean), (0, vec![]));
    let bad = "command = \"node\"\nargs = [\"server.js\"]\n\
               env.NODE_OPTIONS = \"--max-old-space-size=4096 --require ./x.js\"\n";
    assert_eq!(lint(bad), (1, vec!["ENV-002".to_string()]));
}

#[test]
fn interpreters_behind_launchers_and_remote_scripts_are_refused() {
    let (code, found) =
        lint("command = \"npx\"\nargs = [\"-y\", \"node@20.11.1\", \"-e\", \"process.exit\"]\n");
    assert_eq!(code, 1);
    assert!(found.contains(&"STDIO-001".to_string()), "{found:?}");
    let (code, found) = lint("command = \"python\"\nargs = ['\\\\fs\\tools\\server.py']\n");
    assert_eq!((code, found), (1, vec!["STDIO-003".to_string()]));
    let (code, found) = lint("command = \"npx\"\nargs = [\"-y\", \"tsx@4.19.2\", \"server.ts\"]\n");
    assert_eq!((code, found), (0, vec![]));
}
