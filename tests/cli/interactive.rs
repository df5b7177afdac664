//! The interactive installer, driven through a pseudo-terminal: stdin and stderr are
//! terminals and `--yes` is absent, so `capm add` shows the plan, warns about missing
//! environment variables, asks about conflicts (dialoguer `Select`) and for confirmation
//! (dialoguer `Confirm`). Every way of saying no — `n`, Enter, "abort", Ctrl-C — must leave
//! the whole project tree as it was.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession;
use expectrl::{Eof, Expect, Session};

use crate::support::{self, project, tree, write_files};

/// How long any one expectation may take: generous, for slow CI machines.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The user's own GitHub server in opencode.json, differing from the github bundle's.
const USER_CONFIG: &str =
    "{ \"mcp\": { \"github\": { \"type\": \"local\", \"command\": [\"gh-mcp\"] } } }\n";

/// `capm ARGS` running in a pseudo-terminal in `dir`, with everything it printed so far.
struct Pty {
    session: OsSession,
    /// Every byte read from the terminal, escapes included.
    seen: Vec<u8>,
}

impl Pty {
    /// Starts `capm ARGS` in `dir` on a new terminal, with the environment `support::capm`
    /// uses and no GitHub token.
    fn spawn(dir: &Path, args: &[&str]) -> Pty {
        let mut cmd = support::command(dir, args);
        cmd.env("TERM", "xterm");
        let mut session = Session::spawn(cmd).expect("capm starts on a pseudo-terminal");
        session.set_expect_timeout(Some(TIMEOUT));
        Pty {
            session,
            seen: Vec::new(),
        }
    }

    /// Waits until the terminal shows `text`.
    fn expect(&mut self, text: &str) {
        match self.session.expect(text) {
            Ok(found) => self.seen.extend_from_slice(found.as_bytes()),
            Err(e) => panic!(
                "waiting for {text:?}: {e}; the terminal showed:\n{}",
                self.text()
            ),
        }
    }

    /// Types `keys`.
    fn send(&mut self, keys: &str) {
        self.session.send(keys).expect("the terminal takes input");
    }

    /// Reads to the end of the output and waits for the process.
    fn finish(&mut self) -> (WaitStatus, String) {
        match self.session.expect(Eof) {
            Ok(found) => self.seen.extend_from_slice(found.as_bytes()),
            Err(e) => panic!(
                "waiting for capm to end: {e}; the terminal showed:\n{}",
                self.text()
            ),
        }
        let status = self.session.get_process().wait().expect("capm ends");
        let text = self.text();
        (status, text)
    }

    /// What the terminal showed, as text.
    fn text(&self) -> String {
        plain(&String::from_utf8_lossy(&self.seen))
    }
}

/// Terminal output as plain text: escape sequences removed, line ends normalised, and a
/// line redrawn after a carriage return shown as its last version.
fn plain(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates, then one final byte.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC: up to BEL or ST.
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => {
                // The line is drawn again from its start.
                let start = out.rfind('\n').map_or(0, |i| i + 1);
                out.truncate(start);
            }
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        _ => None,
    }
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Waits for the plan, the missing-token warning and the confirmation prompt.
fn expect_plan_and_prompt(pty: &mut Pty) {
    pty.expect("Plan: install into the project scope");
    pty.expect("`GITHUB_PERSONAL_ACCESS_TOKEN` is not set");
    pty.expect("Apply this plan?");
    pty.expect("[y/N]");
}

fn assert_unchanged(before: &BTreeMap<String, Vec<u8>>, dir: &Path, text: &str) {
    let after = tree(dir);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "entries changed; the terminal showed:\n{text}"
    );
    assert!(
        before == &after,
        "contents changed; the terminal showed:\n{text}"
    );
}

#[test]
fn the_plan_is_shown_and_declining_writes_nothing() {
    for answer in ["n", "\r"] {
        let dir = project();
        let d = dir.path();
        let before = tree(d);
        let mut pty = Pty::spawn(d, &["add", "code-review"]);
        expect_plan_and_prompt(&mut pty);
        pty.send(answer);
        pty.expect("Cancelled");
        let (status, text) = pty.finish();
        assert_eq!(exit_code(status), Some(1), "{status:?}:\n{text}");
        assert!(text.contains("nothing was written"), "{text}");
        assert!(!text.contains("Applied"), "{text}");
        // The plan names what it would have done.
        for what in ["mcp:github", "skill:code-review", "agent:reviewer"] {
            assert!(text.contains(what), "{what} missing from:\n{text}");
        }
        assert_unchanged(&before, d, &text);
    }
}

#[test]
fn accepting_the_plan_installs_it() {
    let dir = project();
    let d = dir.path();
    let mut pty = Pty::spawn(d, &["add", "code-review"]);
    expect_plan_and_prompt(&mut pty);
    pty.send("y");
    pty.expect("Applied");
    let (status, text) = pty.finish();
    println!("--- the terminal of an accepted `capm add code-review`\n{text}--- end");
    assert_eq!(exit_code(status), Some(0), "{status:?}:\n{text}");
    assert!(text.contains("Apply this plan?"), "{text}");
    assert!(text.contains("Updated"), "{text}");
    assert!(
        read(d, "capm.toml").contains("code-review = "),
        "{}",
        read(d, "capm.toml")
    );
    for file in [
        ".opencode/skills/code-review/SKILL.md",
        ".opencode/skills/github-operations/SKILL.md",
        ".opencode/agents/reviewer.md",
        ".opencode/commands/review.md",
        "capm.lock",
    ] {
        assert!(d.join(file).is_file(), "{file} missing after:\n{text}");
    }
    let config: serde_json::Value = serde_json::from_str(&read(d, "opencode.json")).unwrap();
    assert_eq!(config["mcp"]["github"]["type"], "remote", "{config}");
}

#[test]
fn a_conflict_settled_by_keeping_mine_installs_the_rest() {
    let dir = project();
    let d = dir.path();
    write_files(d, &[("opencode.json", USER_CONFIG)]);
    let mut pty = Pty::spawn(d, &["add", "code-review"]);
    pty.expect("What about `mcp:github`?");
    pty.expect("keep mine: leave the bundle's version out");
    pty.expect("abort: write nothing");
    // Enter takes the highlighted first item.
    pty.send("\r");
    pty.expect("Apply this plan?");
    pty.send("y");
    pty.expect("Applied");
    let (status, text) = pty.finish();
    assert_eq!(exit_code(status), Some(0), "{status:?}:\n{text}");
    assert_eq!(
        read(d, "opencode.json"),
        USER_CONFIG,
        "the user's config changed after:\n{text}"
    );
    assert!(read(d, "capm.toml").contains("code-review = "));
    for file in [
        ".opencode/skills/code-review/SKILL.md",
        ".opencode/skills/github-operations/SKILL.md",
        ".opencode/agents/reviewer.md",
        ".opencode/commands/review.md",
        "capm.lock",
    ] {
        assert!(d.join(file).is_file(), "{file} missing after:\n{text}");
    }
}

#[test]
fn a_conflict_settled_by_aborting_writes_nothing() {
    let dir = project();
    let d = dir.path();
    write_files(d, &[("opencode.json", USER_CONFIG)]);
    let before = tree(d);
    let mut pty = Pty::spawn(d, &["add", "code-review"]);
    pty.expect("What about `mcp:github`?");
    pty.expect("abort: write nothing");
    // Down arrow: the menu is drawn again with the second item highlighted.
    pty.send("\x1b[B");
    pty.expect("> abort: write nothing");
    pty.send("\r");
    pty.expect("Cancelled");
    let (status, text) = pty.finish();
    assert_eq!(exit_code(status), Some(1), "{status:?}:\n{text}");
    assert!(text.contains("nothing was written"), "{text}");
    assert!(!text.contains("Apply this plan?"), "{text}");
    assert!(!text.contains("Applied"), "{text}");
    assert_unchanged(&before, d, &text);
}

#[test]
fn ctrl_c_at_a_prompt_writes_nothing() {
    // At the confirmation, and at the conflict menu.
    for (config, prompt) in [(None, "[y/N]"), (Some(USER_CONFIG), "abort: write nothing")] {
        let dir = project();
        let d = dir.path();
        if let Some(config) = config {
            write_files(d, &[("opencode.json", config)]);
        }
        let before = tree(d);
        let mut pty = Pty::spawn(d, &["add", "code-review"]);
        pty.expect("Plan: install into the project scope");
        pty.expect(prompt);
        pty.send("\x03");
        let (status, text) = pty.finish();
        assert_ne!(exit_code(status), Some(0), "{status:?}:\n{text}");
        assert!(!text.contains("Applied"), "{text}");
        assert!(!d.join(".capm").exists(), "{text}");
        assert_unchanged(&before, d, &text);
    }
}

/// dialoguer hides the cursor while its menu is up; Ctrl-C there raises SIGINT, which ends
/// capm before the cursor is shown again, so the user's terminal is left without one.
#[test]
fn ctrl_c_at_the_conflict_menu_shows_the_cursor_again() {
    let dir = project();
    let d = dir.path();
    write_files(d, &[("opencode.json", USER_CONFIG)]);
    let mut pty = Pty::spawn(d, &["add", "code-review"]);
    pty.expect("abort: write nothing");
    pty.send("\x03");
    let (status, text) = pty.finish();
    let raw = String::from_utf8_lossy(&pty.seen);
    let hidden = raw.rfind("\x1b[?25l").expect("the menu hides the cursor");
    assert!(
        raw[hidden..].contains("\x1b[?25h"),
        "the cursor stays hidden after {status:?}:\n{text}"
    );
}

#[test]
fn a_required_setting_is_asked_for_and_recorded_but_a_secret_is_only_named() {
    let dir = project();
    let d = dir.path();
    crate::support::db_bundle(d, true);
    let manifest = read(d, "capm.toml") + "db = { path = \"db\" }\n";
    std::fs::write(d.join("capm.toml"), manifest).unwrap();
    let mut pty = Pty::spawn(d, &["install"]);
    // Only the setting is asked for; the secret is never read.
    pty.expect("DB_HOST (a setting mcp:db needs");
    pty.send("db.internal\r");
    pty.expect("`DB_PASSWORD` is not set: it is a secret");
    pty.expect("Apply this plan?");
    pty.send("y");
    pty.expect("Applied");
    let (status, text) = pty.finish();
    assert_eq!(exit_code(status), Some(0), "{status:?}:\n{text}");
    assert!(!text.contains("DB_PASSWORD (a setting"), "{text}");
    assert!(read(d, "capm.toml").contains("[inputs]\nDB_HOST = \"db.internal\""));
    let config: serde_json::Value = serde_json::from_str(&read(d, "opencode.json")).unwrap();
    assert_eq!(
        config["mcp"]["db"]["environment"]["DB_HOST"], "db.internal",
        "{config}"
    );
    assert_eq!(
        config["mcp"]["db"]["environment"]["DB_PASSWORD"],
        "{env:DB_PASSWORD}"
    );
}

#[test]
fn json_mode_never_prompts_even_at_a_terminal() {
    let dir = project();
    let d = dir.path();
    let before = tree(d);
    let mut pty = Pty::spawn(d, &["add", "time", "--format", "json"]);
    pty.expect("error[not-confirmed]");
    let (status, text) = pty.finish();
    assert_eq!(exit_code(status), Some(1), "{status:?}:\n{text}");
    assert!(!text.contains("Apply this plan?"), "{text}");
    assert!(text.contains("\"schema\": \"capm.apply/v1\""), "{text}");
    assert_unchanged(&before, d, &text);
}

#[test]
fn a_saved_plan_is_confirmed_as_it_is_without_asking_for_settings() {
    let dir = project();
    let d = dir.path();
    crate::support::db_bundle(d, false);
    let manifest = read(d, "capm.toml") + "db = { path = \"db\" }\n";
    std::fs::write(d.join("capm.toml"), manifest).unwrap();
    let saved = crate::support::capm(d, &["plan", "install", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let mut pty = Pty::spawn(d, &["apply", "--plan", "plan.json"]);
    pty.expect("Apply this plan?");
    pty.send("y");
    pty.expect("Applied");
    let (status, text) = pty.finish();
    assert_eq!(exit_code(status), Some(0), "{status:?}:\n{text}");
    assert!(!text.contains("DB_HOST (a setting"), "{text}");
}
