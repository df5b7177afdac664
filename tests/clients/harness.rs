//! What every client test needs: the client's binary (from the variable `.ci/run` exports;
//! a test without it is skipped loudly, and fails under `CI=true`), a project and a HOME of
//! its own inside a temporary directory, capm run there, a stdio MCP server (Node) that
//! answers only when its secret arrived expanded, and running a client with a time limit,
//! so that a client that hangs fails its test instead of the run.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The value the probe servers demand in `PROBE_TOKEN`.
pub const SECRET: &str = "secret-123";

/// The longest a client may run before the test kills it and fails.
pub const LIMIT: Duration = Duration::from_secs(60);

/// A stdio MCP server that exits at once unless `PROBE_TOKEN` is exactly [`SECRET`], so a
/// client lists it connected only when it expanded the reference capm wrote.
pub const PROBE_JS: &str = r#"
if (process.env.PROBE_TOKEN !== 'secret-123') { process.stderr.write('PROBE_TOKEN not expanded: ' + process.env.PROBE_TOKEN + '\n'); process.exit(1); }
const rl = require('readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let m; try { m = JSON.parse(line); } catch { return; }
  if (m.id === undefined) return;
  let result = {};
  if (m.method === 'initialize') result = { protocolVersion: (m.params && m.params.protocolVersion) || '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'probe', version: '1.0.0' } };
  else if (m.method === 'tools/list') result = { tools: [{ name: 'ping', description: 'answers pong', inputSchema: { type: 'object' } }] };
  process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }) + '\n');
});
"#;

/// The client's binary from `var`, or `None` after saying why the test is skipped.
pub fn binary(var: &str, test: &str) -> Option<PathBuf> {
    match std::env::var_os(var).map(PathBuf::from) {
        Some(b) if b.is_file() => Some(b),
        other => {
            let why = match other {
                Some(b) => format!("{var}={} is not a file", b.display()),
                None => format!("{var} is not set"),
            };
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{test}: {why}; .ci/run installs the client and sets it");
            }
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: {why} (run .ci/run, or point {var} at the client's binary)"
            );
            None
        }
    }
}

/// A project and a HOME for one test, in one temporary directory.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// A project whose capm.toml targets `targets`, with the probe server beside it.
    pub fn new(targets: &[&str]) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("project")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        let list: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        std::fs::write(
            dir.path().join("project/capm.toml"),
            format!("[project]\ntargets = [{}]\n\n[bundles]\n", list.join(", ")),
        )
        .unwrap();
        std::fs::write(dir.path().join("probe.js"), PROBE_JS).unwrap();
        Sandbox { dir }
    }

    pub fn project(&self) -> PathBuf {
        self.dir.path().join("project")
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn probe_js(&self) -> PathBuf {
        self.dir.path().join("probe.js")
    }

    /// Writes a path bundle `name` below the sandbox (files relative to it) and returns
    /// its directory.
    pub fn bundle(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.dir.path().join("bundles").join(name);
        for (rel, text) in files {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    /// `capm ARGS` in the project, with the sandbox's HOME; panics unless it succeeds.
    pub fn capm(&self, args: &[&str]) -> Output {
        self.capm_env(args, &[])
    }

    /// [`Sandbox::capm`] with `env` set as well.
    pub fn capm_env(&self, args: &[&str], env: &[(&str, &Path)]) -> Output {
        let out = crate::support::command(&self.project(), args)
            .env("HOME", self.home())
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "capm {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The client's command in the project, with the sandbox's HOME, no colour, and
    /// `PROBE_TOKEN` set to the secret.
    pub fn client(&self, bin: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .current_dir(self.project())
            .env("HOME", self.home())
            .env("NO_COLOR", "1")
            .env("PROBE_TOKEN", SECRET)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("CODEX_HOME");
        cmd
    }
}

/// stdout and stderr of a finished client, for assertions and their messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Reads `pipe` to its end on a thread of its own.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = pipe.read_to_end(&mut v);
        v
    })
}

/// Runs `cmd` with stdin closed to its end, killing it and failing the test after
/// [`LIMIT`].
pub fn run(mut cmd: Command) -> Output {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{shown} ran longer than {LIMIT:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// How many findings of a plan (`capm plan … --format json`, run by `cmd`) have `code`.
pub fn findings(cmd: Command, code: &str) -> usize {
    let out = run(cmd);
    let plan: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .count()
}
