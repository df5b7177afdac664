//! Git fixtures for tests: repositories built with the `git` command, a `git daemon`
//! serving a directory on 127.0.0.1 (a port the OS picks; one `git daemon --inetd` per
//! connection, so there is no port race), and `git http-backend` behind Basic
//! authentication for a private repository; both servers stop on drop.
//!
//! Every git command here, and every one capm runs from the test process, reads only the
//! configuration file [`git_config`] names (`GIT_CONFIG_GLOBAL`, `GIT_CONFIG_NOSYSTEM=1`).

use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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
        // For the private repository of [`GitHttp`]; git never sends a chunked POST then.
        let helper = "!f() { test \"$1\" = get && printf 'username=u\\npassword=p\\n'; }; f";
        for (key, value) in [("credential.helper", helper), ("http.postBuffer", "100M")] {
            let status = Command::new("git")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .args(["config", "--file"])
                .arg(&path)
                .args([key, value])
                .status()
                .unwrap();
            assert!(status.success());
        }
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

/// A listener on 127.0.0.1 (a port the OS picks) handing each connection to a handler on
/// its own thread, until dropped.
struct Listener {
    port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Listener {
    fn start(mut handle: impl FnMut(TcpStream) + Send + 'static) -> Listener {
        git_config();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    handle(stream);
                }
            }
        });
        Listener {
            port,
            stop,
            accept: Some(accept),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// `git daemon` serving every repository below a directory, on 127.0.0.1.
pub struct GitDaemon {
    listener: Listener,
    children: Arc<Mutex<Vec<Child>>>,
}

impl GitDaemon {
    /// Serves `root`: `git://127.0.0.1:PORT/NAME` is the repository `root/NAME`.
    pub fn start(root: &Path) -> GitDaemon {
        let children = Arc::new(Mutex::new(Vec::new()));
        let (root, children2) = (root.to_path_buf(), children.clone());
        let listener = Listener::start(move |stream| {
            if let Ok(child) = serve(&root, stream) {
                children2.lock().unwrap().push(child);
            }
        });
        GitDaemon { listener, children }
    }

    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.listener.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        for mut child in self.children.lock().unwrap().drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
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

/// `git http-backend` behind Basic authentication (user `u`, password `p`) on 127.0.0.1:
/// a private repository over HTTP. One thread per connection, one response per connection.
pub struct GitHttp {
    listener: Listener,
    /// How many requests were answered 401 (no or wrong credentials).
    pub refused: Arc<AtomicUsize>,
}

/// `Authorization` for `u:p`.
const BASIC_U_P: &str = "Basic dTpw";

impl GitHttp {
    /// Serves the repositories below `root` as `http://127.0.0.1:PORT/NAME`.
    pub fn start(root: &Path) -> GitHttp {
        let refused = Arc::new(AtomicUsize::new(0));
        let (root, refused2) = (root.to_path_buf(), refused.clone());
        let listener = Listener::start(move |stream| {
            let (root, refused) = (root.clone(), refused2.clone());
            std::thread::spawn(move || {
                let _ = answer(&root, stream, &refused);
            });
        });
        GitHttp { listener, refused }
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.listener.port)
    }
}

/// A request: method, target, headers (lower-case names), body.
type Request = (String, String, Vec<(String, String)>, Vec<u8>);

fn read_request(stream: &TcpStream) -> std::io::Result<Request> {
    use std::io::{BufRead, BufReader, Read};
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len = header(&headers, "content-length").map_or(0, |v| v.parse().unwrap_or(0));
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    Ok((method, target, headers, body))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn answer(root: &Path, mut stream: TcpStream, refused: &AtomicUsize) -> std::io::Result<()> {
    use std::io::Write;
    let (method, target, headers, body) = read_request(&stream)?;
    if header(&headers, "authorization") != Some(BASIC_U_P) {
        refused.fetch_add(1, Ordering::SeqCst);
        return stream.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n\
              Content-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut cgi = Command::new("git");
    cgi.arg("http-backend")
        .env("GIT_CONFIG_GLOBAL", git_config())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REMOTE_USER", "u")
        .env("PATH_INFO", path)
        .env("REQUEST_METHOD", &method)
        .env("QUERY_STRING", query)
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, var) in [
        ("content-type", "CONTENT_TYPE"),
        ("git-protocol", "GIT_PROTOCOL"),
        ("content-encoding", "HTTP_CONTENT_ENCODING"),
    ] {
        if let Some(v) = header(&headers, name) {
            cgi.env(var, v);
        }
    }
    let mut child = cgi.spawn()?;
    child.stdin.take().unwrap().write_all(&body)?;
    let out = child.wait_with_output()?;
    stream.write_all(&cgi_to_http(&out.stdout))
}

/// A CGI response (headers, `Status:`, blank line, body) as an HTTP/1.1 response.
fn cgi_to_http(cgi: &[u8]) -> Vec<u8> {
    let split = cgi
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| cgi.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (head, body) = match split {
        Some((i, n)) => (
            String::from_utf8_lossy(&cgi[..i]).into_owned(),
            &cgi[i + n..],
        ),
        None => (String::new(), cgi),
    };
    let mut status = "200 OK".to_string();
    let mut out_headers = String::new();
    for line in head.lines() {
        match line.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("status") => status = v.trim().to_string(),
            Some(_) => out_headers.push_str(&format!("{line}\r\n")),
            None => {}
        }
    }
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{out_headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}
