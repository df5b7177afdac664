//! The documentation against the behaviour: README's command table and examples against
//! the clap definitions, its schema list against `schemas/`, every option described in
//! `--help`, `--project` only where it means something, one man page per command, and the
//! stdout/stderr rule README states.

use std::collections::BTreeSet;

use capm::cli::Cli;
use clap::CommandFactory;

use crate::support::{capm, repo, tempdir};

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

/// capm's commands, built so that each knows its full name.
fn root() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

/// The top-level commands clap knows, with their one-line descriptions (`help` left out).
fn commands() -> Vec<(String, String)> {
    root()
        .get_subcommands()
        .filter(|c| c.get_name() != "help" && !c.is_hide_set())
        .map(|c| {
            let about = c.get_about().map(ToString::to_string).unwrap_or_default();
            (c.get_name().to_string(), about)
        })
        .collect()
}

/// The rows of README's command table: (`capm NAME` without `capm `, description).
fn readme_table() -> Vec<(String, String)> {
    readme()
        .lines()
        .filter_map(|l| l.strip_prefix("| `capm "))
        .filter_map(|l| {
            let (name, rest) = l.split_once("` | ")?;
            Some((name.to_string(), rest.strip_suffix(" |")?.to_string()))
        })
        .collect()
}

#[test]
fn readme_lists_every_command_as_help_describes_it() {
    let documented = readme_table();
    let mut problems = Vec::new();
    for (name, about) in commands() {
        match documented.iter().find(|(n, _)| *n == name) {
            None => problems.push(format!(
                "README's command table (under \"Using capm\") lacks `capm {name}`; add the row:\n| `capm {name}` | {about} |"
            )),
            Some((_, said)) if *said != about => problems.push(format!(
                "README describes `capm {name}` as \"{said}\" but `capm help` says \"{about}\"; make them the same"
            )),
            Some(_) => {}
        }
    }
    let known: BTreeSet<String> = commands().into_iter().map(|(n, _)| n).collect();
    for (name, _) in &documented {
        if !known.contains(name) {
            problems.push(format!(
                "README documents `capm {name}`, which is no capm command; remove its row"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every `capm …` command line in README's `sh` blocks: its words, comments dropped.
fn readme_command_lines() -> Vec<Vec<String>> {
    let text = readme();
    let mut lines = Vec::new();
    let mut in_sh = false;
    for line in text.lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            l if in_sh => {
                let code = l.split(" #").next().unwrap_or_default();
                for part in code.split("&&") {
                    let words: Vec<String> = part
                        .split_whitespace()
                        .map(|w| w.trim_matches(|c| c == '[' || c == ']').to_string())
                        .collect();
                    if words.first().is_some_and(|w| w == "capm") {
                        lines.push(words);
                    }
                }
            }
            _ => {}
        }
    }
    lines
}

/// The long options `cmd` takes, its globals included.
fn long_options(cmd: &clap::Command) -> BTreeSet<String> {
    let mut longs: BTreeSet<String> = cmd
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    longs.extend(["help", "color", "quiet", "verbose"].map(String::from));
    longs
}

#[test]
fn readme_examples_use_real_commands_and_options() {
    let root = root();
    let lines = readme_command_lines();
    assert!(lines.len() >= 20, "{lines:?}");
    let mut problems = Vec::new();
    for words in lines {
        let mut at = &root;
        let mut rest = words[1..].iter();
        let mut next = rest.next();
        while let Some(sub) = next.and_then(|w| at.find_subcommand(w)) {
            at = sub;
            next = rest.next();
        }
        if at.get_name() == "capm" {
            problems.push(format!("`{}`: no such command", words.join(" ")));
            continue;
        }
        let longs = long_options(at);
        for w in next.into_iter().chain(rest) {
            let Some(long) = w.strip_prefix("--") else {
                continue;
            };
            let long = long.split('=').next().unwrap_or_default();
            if !longs.contains(long) {
                problems.push(format!(
                    "`{}`: `{}` takes no --{long}",
                    words.join(" "),
                    at.get_bin_name().unwrap_or_default()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn readme_lists_exactly_the_schemas() {
    let text = readme();
    let section = text
        .split("\n## Schemas\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a Schemas section");
    let listed: BTreeSet<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_string()))
        .collect();
    let files: BTreeSet<String> = std::fs::read_dir(repo().join("schemas"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let missing: Vec<_> = files.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&files).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "README's Schemas section lacks {missing:?} (one line each: - `NAME`: what it describes) and lists {extra:?}, which schemas/ does not have"
    );
}

/// Every command below `cmd`, `cmd` included.
fn all_commands(cmd: &clap::Command) -> Vec<&clap::Command> {
    let mut all = vec![cmd];
    for sub in cmd.get_subcommands().filter(|c| c.get_name() != "help") {
        all.extend(all_commands(sub));
    }
    all
}

#[test]
fn every_argument_is_described() {
    let root = root();
    let mut bare = Vec::new();
    for cmd in all_commands(&root) {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if arg
                .get_help()
                .is_none_or(|h| h.to_string().trim().is_empty())
            {
                let name = arg.get_long().map_or_else(
                    || arg.get_id().to_string().to_uppercase(),
                    |l| format!("--{l}"),
                );
                bare.push(format!("{} {name}", cmd.get_bin_name().unwrap_or_default()));
            }
        }
    }
    assert!(
        bare.is_empty(),
        "without a description in --help: {bare:#?}"
    );
}

#[test]
fn every_command_but_three_takes_format_json() {
    let root = root();
    let mut without = Vec::new();
    for cmd in all_commands(&root).into_iter().skip(1) {
        let name = cmd.get_name();
        if cmd.has_subcommands() || ["serve", "completions", "man"].contains(&name) {
            continue;
        }
        let json = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some("format"))
            .is_some_and(|a| {
                a.get_possible_values()
                    .iter()
                    .any(|v| v.get_name() == "json")
            });
        if !json {
            without.push(cmd.get_bin_name().unwrap_or_default().to_string());
        }
    }
    assert!(without.is_empty(), "without --format json: {without:?}");
}

/// The commands README says take `--project`.
const PROJECT_COMMANDS: [&str; 20] = [
    "lint", "lock", "list", "tree", "why", "graph", "search", "outdated", "info", "plan",
    "install", "add", "update", "remove", "keep", "restore", "apply", "doctor", "probe", "export",
];

#[test]
fn project_is_offered_only_where_it_means_something() {
    let root = root();
    for cmd in all_commands(&root).into_iter().skip(1) {
        if cmd.has_subcommands() {
            continue;
        }
        let top = cmd.get_bin_name().unwrap().split(' ').nth(1).unwrap();
        let has = cmd.get_arguments().any(|a| a.get_long() == Some("project"));
        let hidden = cmd
            .get_arguments()
            .any(|a| a.get_long() == Some("project") && a.is_hide_set());
        assert_eq!(
            has && !hidden,
            PROJECT_COMMANDS.contains(&top),
            "`{}` and --project",
            cmd.get_bin_name().unwrap()
        );
    }
    let dir = tempdir();
    let run = capm(dir.path(), &["explain", "invalid-semver", "--project", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--project"), "{}", run.stderr);
    let run = capm(dir.path(), &["--project", ".", "explain", "invalid-semver"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("`capm explain` works on no project, so it takes no `--project`"),
        "{}",
        run.stderr
    );
    assert!(!capm(dir.path(), &["--help"]).stdout.contains("--project"));
}

#[test]
fn help_lists_values_and_explains_saved_plans() {
    let dir = tempdir();
    let init = capm(dir.path(), &["init", "--help"]).stdout;
    assert!(init.contains("possible values: desktop-local,"), "{init}");
    let apply = capm(dir.path(), &["apply", "--help"]).stdout;
    for says in ["--skip and --input", "stale", "--locked also refuses"] {
        assert!(apply.contains(says), "{says} not in:\n{apply}");
    }
}

#[test]
fn one_man_page_per_command() {
    let dir = tempdir();
    let out = dir.path().join("man");
    let run = capm(dir.path(), &["man", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let root = root();
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let expected: BTreeSet<String> = all_commands(&cmd)
        .iter()
        .map(|c| format!("{}.1", c.get_display_name().unwrap_or("capm")))
        .collect();
    let written: BTreeSet<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, expected);
    assert!(written.contains("capm-plan-install.1"), "{written:?}");
    assert!(
        run.stderr
            .contains(&format!("{} man pages", expected.len()))
    );
    for c in all_commands(&root).into_iter().skip(1) {
        let Some(name) = c.get_display_name() else {
            continue;
        };
        let page = std::fs::read_to_string(out.join(format!("{name}.1"))).unwrap();
        for long in c
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_long())
        {
            let roff = format!("\\-\\-{}", long.replace('-', "\\-"));
            assert!(page.contains(&roff), "{name}.1 does not mention --{long}");
        }
    }
    let lint = capm(dir.path(), &["man", "lint"]);
    assert_eq!(lint.code, 0);
    assert_eq!(
        lint.stdout,
        std::fs::read_to_string(out.join("capm-lint.1")).unwrap()
    );
    let nested = capm(dir.path(), &["man", "plan", "install"]);
    assert!(nested.stdout.contains(".TH capm-plan-install 1"));
}

#[test]
fn a_man_page_of_no_command_is_refused() {
    let dir = tempdir();
    let run = capm(dir.path(), &["man", "plan", "nope"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("`capm plan` has no command `nope`")
            && run.stderr.contains("install, update, uninstall"),
        "{}",
        run.stderr
    );
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let run = capm(dir.path(), &["man", "--out", file.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn data_goes_to_stdout_and_messages_to_stderr() {
    let dir = tempdir();
    let d = dir.path();
    let messages: [&[&str]; 5] = [
        &["init"],
        &["new", "kit"],
        &["lint", "kit"],
        &["lock"],
        &["add", "code-review", "-y"],
    ];
    for args in messages {
        let run = capm(d, args);
        assert_eq!(run.code, 0, "capm {args:?}: {}", run.stderr);
        assert!(
            !run.stderr.is_empty(),
            "capm {args:?} said nothing on stderr"
        );
        if args[0] != "add" {
            assert_eq!(run.stdout, "", "capm {args:?} put a message on stdout");
        }
    }
    // `doctor` is a check: under -q it lists only what differs (nothing here).
    let data: [&[&str]; 7] = [
        &["list"],
        &["tree"],
        &["why", "github"],
        &["graph"],
        &["search", "git"],
        &["explain", "invalid-semver"],
        &["plan", "install"],
    ];
    for args in data {
        let mut quiet = args.to_vec();
        quiet.push("-q");
        let run = capm(d, &quiet);
        assert_eq!(run.code, 0, "capm {args:?}: {}", run.stderr);
        assert!(!run.stdout.is_empty(), "capm {args:?} -q printed no data");
        assert_eq!(run.stderr, "", "capm {args:?} -q");
    }
}
