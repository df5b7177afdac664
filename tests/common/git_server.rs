//! Git fixtures for tests: repositories built with the `git` command, and a `git daemon`
//! serving a directory on 127.0.0.1 (a port the OS picks; one `git daemon --inetd` per
//! connection, so there is no port race), stopped on drop.
//!
//! Every git command here, and every one capm runs from the test process, reads only the
//! configuration file [`git_config`] names (`GIT_CONFIG_GLOBAL`, `GIT_CONFIG_NOSYSTEM=1`).

use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

/// The global git configuration of the test process: created once, and set as
/// `GIT_CONFIG_GLOBAL` (with `GIT_CONFIG_NOSYSTEM=1`) before any git command runs.
pub fn git_config() -> &'static Path {
    static CONFIG: OnceLock<PathBuf> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let path = dir.join("gitconfig");
        std::fs::write(&path, "").unwrap();
        // SAFETY: set once, before this process runs any git command; nothing else in the
        // test process reads these variables.
        unsafe {
            std::env::set_var("GIT_CONFIG_GLOBAL", &path);
            std::env::set_var("GIT_CONFIG_NOSYSTEM", "1");
        }
        path
    })
}

/// Runs `git ARGS` in `dir` with the test configuration and a fixed identity; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", git_config())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A new repository at `dir` (branch `main`).
pub fn init_repo(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "--quiet", "--initial-branch", "main"]);
}

/// Writes a valid bundle `name` at `version` into `dir/sub` (or `dir`), commits everything
/// and returns the commit.
pub fn commit_bundle(repo: &Path, sub: Option<&str>, name: &str, version: &str) -> String {
    let dir = sub.map_or(repo.to_path_buf(), |s| repo.join(s));
    std::fs::create_dir_all(dir.join("skills/hello")).unwrap();
    std::fs::write(
        dir.join("bundle.toml"),
        format!(
            "[bundle]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"Bundle {name}\"\nkeywords = [\"git\"]\n\n\
             [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n\
             [skills.hello]\npath = \"skills/hello\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("skills/hello/SKILL.md"),
        format!("---\nname: hello\ndescription: Says hello ({version})\n---\n\nHello.\n"),
    )
    .unwrap();
    git(repo, &["add", "--all"]);
    git(repo, &["commit", "--quiet", "--allow-empty", "-m", version]);
    git(repo, &["rev-parse", "HEAD"])
}

/// `git daemon` serving every repository below a directory, on 127.0.0.1.
pub struct GitDaemon {
    pub port: u16,
    stop: Arc<AtomicBool>,
    children: Arc<Mutex<Vec<Child>>>,
    accept: Option<JoinHandle<()>>,
}

impl GitDaemon {
    /// Serves `root`: `git://127.0.0.1:PORT/NAME` is the repository `root/NAME`.
    pub fn start(root: &Path) -> GitDaemon {
        git_config();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let children = Arc::new(Mutex::new(Vec::new()));
        let root = root.to_path_buf();
        let (stop2, children2) = (stop.clone(), children.clone());
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let Ok(child) = serve(&root, stream) {
                    children2.lock().unwrap().push(child);
                }
            }
        });
        GitDaemon {
            port,
            stop,
            children,
            accept: Some(accept),
        }
    }

    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

/// One `git daemon --inetd` talking over the connection.
fn serve(root: &Path, stream: TcpStream) -> std::io::Result<Child> {
    let input = OwnedFd::from(stream.try_clone()?);
    let output = OwnedFd::from(stream);
    let base = format!("--base-path={}", root.display());
    Command::new("git")
        .env("GIT_CONFIG_GLOBAL", git_config())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["daemon", "--inetd", "--export-all", "--informative-errors"])
        .arg(base)
        .arg(root)
        .stdin(Stdio::from(input))
        .stdout(Stdio::from(output))
        .stderr(Stdio::null())
        .spawn()
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        for mut child in self.children.lock().unwrap().drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
