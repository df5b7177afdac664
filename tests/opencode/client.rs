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
    /// OpenCode for `test`, when the binary is there (see [`binary`]).
    pub fn found(test: &str) -> Option<OpenCode> {
        binary(test).map(OpenCode::new)
    }

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

    /// A project whose capm.toml installs into this user's global scope, and the
    /// environment capm needs to find that scope.
    pub fn global_project(&self) -> (tempfile::TempDir, [(&'static str, String); 1]) {
        let dir = crate::support::project();
        let path = dir.path().join("capm.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replace("scope = \"project\"", "scope = \"global\""),
        )
        .unwrap();
        let config_home = self.home().join(".config").display().to_string();
        (dir, [("XDG_CONFIG_HOME", config_home)])
    }

    /// `opencode ARGS` in `project`, with no network access it could need (no update
    /// check, no models list) and nothing of the machine's environment but PATH.
    /// Its stdout goes to a file, not a pipe: OpenCode exits without waiting for a pipe to
    /// drain, and a long answer (`debug skill` with many skills) came back cut short.
    pub fn run(&self, project: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let stdout = tempfile::NamedTempFile::new().expect("a file for stdout");
        let mut cmd = self.command(project, args);
        cmd.envs(env.iter().copied())
            .stdout(stdout.reopen().expect("stdout file opens"));
        let mut out = cmd.output().expect("opencode runs");
        out.stdout = std::fs::read(stdout.path()).expect("stdout file reads");
        out
    }

    /// `opencode ARGS` in `project` with the environment of [`OpenCode::run`], not started.
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

    /// The OpenAPI document OpenCode's own server publishes (`/doc`), whose
    /// `components.schemas` hold the types of its configuration (`Config`, `AgentConfig`,
    /// `McpLocalConfig`, …).
    pub fn openapi(&self, project: &Path) -> Value {
        self.serve(project).get("/doc")
    }

    /// `opencode serve` in `project`, on a free port of 127.0.0.1 only; stopped when
    /// dropped, when the test fails too.
    pub fn serve(&self, project: &Path) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let port_arg = port.to_string();
        let serve = ["serve", "--hostname", "127.0.0.1", "--port", &port_arg];
        let mut server = self.command(project, &serve);
        server
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let child = server.spawn().expect("opencode serve starts");
        Served { child, port }
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

/// A running `opencode serve`, stopped when dropped.
pub struct Served {
    child: std::process::Child,
    port: u16,
}

impl Served {
    /// The JSON answer to `GET path`, asked again while the server starts.
    pub fn get(&self, path: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let body = loop {
            if let Some(body) = http_get(self.port, path) {
                break body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "opencode serve did not answer GET {path} on 127.0.0.1:{}",
                self.port
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path} is not JSON ({e})"))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of `GET PATH` from 127.0.0.1:`port` when it answers 200; `None` while nothing
/// listens. Read up to the length the response states (the server may keep the
/// connection open), with a timeout on every read.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        if let Some(body) = complete_body(&response) {
            return body;
        }
    }
    complete_body(&response).flatten()
}

/// The body of a complete HTTP response with a Content-Length: `Some(None)` when it is
/// not a 200, `None` while more is to come.
fn complete_body(response: &[u8]) -> Option<Option<String>> {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let length: usize = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())
            .flatten()
    })?;
    if body.len() < length {
        return None;
    }
    Some(
        head.starts_with("HTTP/1.1 200")
            .then(|| body[..length].to_string()),
    )
}
