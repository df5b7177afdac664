//! Helpers shared by the integration tests: run the real binary in a directory, capture
//! what a user would see, and fingerprint directory trees to prove nothing was written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run of `capm` showed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The run as one text, for snapshots.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", self.stdout))
    }
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_capm"))
}

/// Runs `capm ARGS` in `dir` with colour off and no inherited settings.
/// `capm ARGS` in `dir` with the environment every test uses: colour off, no inherited
/// settings, never the developer's own OpenCode config.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(dir)
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CAPM_LOCK_TIMEOUT")
        .env_remove("CAPM_LOG")
        .env_remove("CAPM_FAILPOINTS")
        .env_remove("CAPM_CACHE_DIR")
        .env_remove("CAPM_HTTP_TIMEOUT")
        .env_remove("CAPM_HTTP_RETRIES")
        // Plans name the variables a server needs that are unset.
        .env_remove("GITHUB_PERSONAL_ACCESS_TOKEN")
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", dir.join(".no-user-config"))
        // Never the developer's own client configs (~/.claude.json, ~/.codex, …).
        .env("HOME", dir.join(".no-user-home"))
        .env_remove("CODEX_HOME")
        // A fresh cache per test, never the developer's ~/.cache (a test may set its own).
        .env("XDG_CACHE_HOME", dir.join(".no-user-cache"));
    cmd
}

/// `capm ARGS` in `dir`, which must succeed (exit 0); its output.
/// `capm serve --stdio` in `dir` given `requests`, one per line, and stdin closed after
/// them: its whole output once it has answered them all and exited.
pub fn serve_once(dir: &Path, requests: &[serde_json::Value]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command(dir, &["serve", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("capm serve starts");
    let mut stdin = child.stdin.take().unwrap();
    for r in requests {
        writeln!(stdin, "{r}").unwrap();
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

pub fn capm_ok(dir: &Path, args: &[&str]) -> Run {
    let run = capm(dir, args);
    assert_eq!(
        run.code,
        0,
        "capm {}:\n{}",
        args.join(" "),
        run.transcript()
    );
    run
}

/// Runs `capm ARGS` in `dir` with colour off and no inherited settings.
pub fn capm(dir: &Path, args: &[&str]) -> Run {
    capm_with(dir, args, &[])
}

/// Runs `capm ARGS` in `dir` like [`capm`], with the environment variables `env` set.
pub fn capm_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = command(dir, args);
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("capm runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    };
    assert_os_errors_name_a_path(&run.stderr);
    assert_os_errors_name_a_path(&run.stdout);
    run
}

/// Every message that carries an operating-system error also names the file it concerns
/// (in backticks, as capm quotes paths), so no run of the suite ever shows a bare
/// "Permission denied (os error 13)".
pub fn assert_os_errors_name_a_path(text: &str) {
    for line in text.lines().filter(|l| l.contains("(os error")) {
        assert!(
            line.contains('`') || line.contains("\"path\""),
            "an OS error without its path: {line}"
        );
    }
}

/// Runs `capm ARGS` like [`capm`], but kills it and fails the test if it has not ended
/// within `limit`: a guard against a hang, not a benchmark.
pub fn capm_within(dir: &Path, args: &[&str], limit: std::time::Duration) -> Run {
    capm_within_with(dir, args, &[], limit)
}

/// [`capm_within`] with the environment variables `env` set.
pub fn capm_within_with(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    limit: std::time::Duration,
) -> Run {
    use std::io::Read;
    let mut child = command(dir, args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("capm runs");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).expect("the output is UTF-8");
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            panic!("capm {args:?} did not end within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// A project made by `capm init DIR`: capm.toml with its comments, nothing else.
pub fn project() -> tempfile::TempDir {
    let dir = tempdir();
    let path = dir.path().to_str().expect("the temporary path is UTF-8");
    let run = capm(dir.path(), &["init", path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    dir
}

/// Every client a project can target, as capm.toml names them.
pub const ALL_CLIENTS: [&str; 8] = [
    "opencode",
    "claude-code",
    "gemini",
    "codex",
    "copilot",
    "qwen",
    "cursor",
    "vscode",
];

/// Every file, directory and link below `dir` with its content (or link target).
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
            let ft = e.file_type().unwrap();
            if ft.is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.insert(rel, format!("-> {}", target.display()).into_bytes());
            } else if ft.is_dir() {
                out.insert(rel + "/", Vec::new());
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Copies a directory tree (files and directories only).
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

/// Writes files given as (relative path, content) under `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (rel, content) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

/// A minimal valid bundle called `name`, as files.
pub fn valid_bundle(name: &str) -> Vec<(String, String)> {
    vec![
        (
            "bundle.toml".into(),
            format!(
                "[bundle]\nname = \"{name}\"\nversion = \"1.0.0\"\ndescription = \"A test bundle\"\n\n\
                 [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
                 [skills.{name}]\npath = \"skills/{name}\"\n"
            ),
        ),
        (
            format!("skills/{name}/SKILL.md"),
            format!("---\nname: {name}\ndescription: Does one thing well\n---\n\n# {name}\n"),
        ),
    ]
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("capm-test-")
        .tempdir()
        .unwrap()
}

/// Writes the minimal valid bundle `name` into `dir`.
pub fn write_valid_bundle(dir: &Path, name: &str) {
    let files = valid_bundle(name);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_files(dir, &refs);
}

/// The spec digest of the first diagnostic `code` of a lint JSON document.
pub fn spec_of(doc: &serde_json::Value, code: &str) -> String {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == code)
        .and_then(|d| d["spec"].as_str())
        .unwrap_or_else(|| panic!("no {code} with a spec: {doc:#}"))
        .to_string()
}

/// Every diagnostic of a JSON document as (code, severity, allowed).
pub fn findings(doc: &serde_json::Value) -> Vec<(String, String, bool)> {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["severity"].as_str().unwrap().to_string(),
                d["allowed"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// A local bundle `db` in `dir/db/` whose stdio server reads a required, non-secret
/// `DB_HOST` and, with `secret`, a required secret `DB_PASSWORD`.
pub fn db_bundle(dir: &Path, secret: bool) {
    let mut manifest = String::from(
        "[bundle]\nname = \"db\"\nversion = \"1.0.0\"\ndescription = \"A database server\"\nlicense = \"MIT\"\n\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n\n[mcp.db]\ncommand = \"uvx\"\nargs = [\"postgres-mcp@0.3.0\", \"--access-mode=restricted\"]\nenv.DB_HOST = { from-env = \"DB_HOST\", required = true }\n",
    );
    if secret {
        manifest.push_str(
            "env.DB_PASSWORD = { from-env = \"DB_PASSWORD\", secret = true, required = true }\n",
        );
    }
    write_files(dir, &[("db/bundle.toml", &manifest)]);
}

/// A project made by `capm init` that asks for the path bundle `b` (in `b/`), whose
/// manifest is a `[bundle]` table, desktop-local support and `body`.
pub fn project_with_bundle(body: &str) -> tempfile::TempDir {
    let dir = project();
    let d = dir.path();
    let manifest = format!(
        "[bundle]\nname = \"b\"\nversion = \"1.0.0\"\ndescription = \"A path bundle\"\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n{body}"
    );
    let mut capm_toml = std::fs::read_to_string(d.join("capm.toml")).unwrap();
    capm_toml.push_str("b = { path = \"b\" }\n");
    write_files(
        d,
        &[("b/bundle.toml", &manifest), ("capm.toml", &capm_toml)],
    );
    dir
}

/// A project in `dir` whose path bundle `t` has one MCP server with `server` as its table
/// body, and the MCP test servers of `tests/cli/probe/` copied beside capm.toml.
pub fn probe_project(dir: &Path, server: &str) {
    let manifest = format!(
        "[bundle]\nname = \"t\"\nversion = \"1.0.0\"\ndescription = \"Probe test server\"\nlicense = \"MIT\"\n\n[compatibility.product-modes]\ndesktop-local = \"supported\"\n\n[mcp.srv]\n{server}"
    );
    write_files(
        dir,
        &[
            ("capm.toml", "[bundles]\nt = { path = \"t\" }\n"),
            ("t/bundle.toml", &manifest),
        ],
    );
    for f in ["stdio_server.py", "http_server.py"] {
        std::fs::copy(repo().join("tests/cli/probe").join(f), dir.join(f)).unwrap();
    }
}

/// The table of a stdio server running `tests/cli/probe/stdio_server.py` in `mode`, with
/// `TOKEN` from the environment (optional).
pub fn stdio(mode: &str) -> String {
    format!(
        "command = \"python3\"\nargs = [\"stdio_server.py\", \"{mode}\"]\nenv.TOKEN = {{ from-env = \"PROBE_TOKEN\", secret = true, required = false }}\n"
    )
}
