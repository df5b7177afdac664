//! The real OpenCode, asked what it sees: its binary (pinned in `.ci/run`, which installs it
//! from the npm registry and exports `OPENCODE_BIN`), run in a project with HOME and the XDG
//! directories inside a temporary directory, so it never reads the machine's own config.
//!
//! Without the binary a test is skipped, saying so on stderr; under `CI=true` a missing
//! binary fails the test instead, so CI never passes without asking OpenCode.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The OpenCode binary, when there is one; `None` after saying loudly why the test is
/// skipped. Panics under `CI=true`, where the binary must be there.
pub fn binary(test: &str) -> Option<PathBuf> {
    let bin = std::env::var_os("OPENCODE_BIN").map(PathBuf::from);
    match bin {
        Some(b) if b.is_file() => Some(b),
        other => {
            let why = match other {
                Some(b) => format!("OPENCODE_BIN={} is not a file", b.display()),
                None => "OPENCODE_BIN is not set".to_string(),
            };
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{test}: {why}; .ci/run installs OpenCode and sets it");
            }
            // Written to the process's stderr, past the test harness's capture.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: {why} (run .ci/run, or point OPENCODE_BIN at an opencode binary)"
            );
            None
        }
    }
}

/// OpenCode with its own HOME: a user config directory (`~/.config/opencode`) that only
/// the test writes.
pub struct OpenCode {
    bin: PathBuf,
    home: tempfile::TempDir,
}

impl OpenCode {
    pub fn new(bin: PathBuf) -> OpenCode {
        let home = tempfile::tempdir().unwrap();
        OpenCode { bin, home }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The user's global config directory, where capm's global scope writes.
    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join(".config/opencode")
    }

    /// `opencode ARGS` in `project`, with no network access it could need (no update
    /// check, no models list) and nothing of the machine's environment but PATH.
    pub fn run(&self, project: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(project, args);
        cmd.envs(env.iter().copied());
        cmd.output().expect("opencode runs")
    }

    /// The command `run` runs, to start it otherwise (a server).
    pub fn command(&self, project: &Path, args: &[&str]) -> Command {
        let home = self.home.path();
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .current_dir(project)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("OPENCODE_DISABLE_AUTOUPDATE", "1")
            .env("OPENCODE_DISABLE_MODELS_FETCH", "1");
        cmd
    }

    /// `opencode ARGS`, which must succeed; its stdout.
    pub fn ok(&self, project: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run(project, args, env);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "opencode {args:?} failed ({}):\n{stdout}\n{stderr}",
            out.status
        );
        stdout
    }

    /// The configuration OpenCode resolved (`opencode debug config`): every config file it
    /// merged, with agents and commands read from their markdown files.
    pub fn config(&self, project: &Path, env: &[(&str, &str)]) -> Value {
        let text = self.ok(project, &["debug", "config"], env);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("`opencode debug config` is not JSON ({e}):\n{text}"))
    }

    /// The skills OpenCode found (`opencode debug skill`): name → location.
    pub fn skills(&self, project: &Path) -> Vec<(String, String)> {
        let text = self.ok(project, &["debug", "skill"], &[]);
        let list: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("`opencode debug skill` is not JSON ({e}):\n{text}"));
        let field = |s: &Value, k: &str| s[k].as_str().unwrap_or_default().to_string();
        list.as_array()
            .expect("a list of skills")
            .iter()
            .map(|s| (field(s, "name"), field(s, "location")))
            .collect()
    }

    /// The agents OpenCode lists (`opencode agent list`), with their mode.
    pub fn agents(&self, project: &Path) -> Vec<(String, String)> {
        let text = self.ok(project, &["agent", "list"], &[]);
        text.lines()
            .filter_map(|l| {
                let (name, rest) = l.split_once(" (")?;
                let mode = rest.strip_suffix(')')?;
                (!name.starts_with(char::is_whitespace)).then(|| (name.into(), mode.into()))
            })
            .collect()
    }
}
