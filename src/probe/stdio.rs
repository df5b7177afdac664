//! MCP over stdio: the server as a child process in its own process group, JSON-RPC 2.0
//! messages one per line on its stdin and stdout, its stderr kept for the report. The whole
//! group is stopped at the end, so what a launcher (npx, uvx) started goes too.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Failure, Session, request_message, response_result};

/// How many lines of stderr the report keeps.
const TAIL: usize = 20;

type Tail = Arc<Mutex<VecDeque<String>>>;

/// Runs `argv` with `env` added to capm's environment in `cwd`, and `talk`s to it until
/// `deadline`. On failure, returns the last lines of its stderr with the reason.
pub(super) fn run(
    argv: &[String],
    env: &BTreeMap<String, String>,
    cwd: &Path,
    deadline: Instant,
    talk: impl FnOnce(&mut dyn Session) -> Result<(), Failure>,
) -> Result<(), (Failure, Vec<String>)> {
    let mut child = spawn(argv, env, cwd).map_err(|f| (f, Vec::new()))?;
    RUNNING.store(child.id(), Ordering::SeqCst);
    let tail: Tail = Arc::default();
    let stderr = child.stderr.take().map(|e| keep_tail(e, tail.clone()));
    let rx = child.stdout.take().map(lines).expect("stdout is piped");
    let stdin = child.stdin.take().expect("stdin is piped");
    let mut session = Pipe {
        stdin: Some(stdin),
        rx,
        deadline,
        next_id: 1,
        child: &mut child,
    };
    let outcome = talk(&mut session);
    drop(session);
    stop(&mut child);
    RUNNING.store(0, Ordering::SeqCst);
    outcome.map_err(|f| (f, finish(stderr, &tail)))
}

fn spawn(argv: &[String], env: &BTreeMap<String, String>, cwd: &Path) -> Result<Child, Failure> {
    let Some((program, args)) = argv.split_first() else {
        return Err(Failure("its command is empty".into()));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(env)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.spawn().map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            " (is it installed and on PATH?)"
        } else {
            ""
        };
        Failure(format!("cannot start `{program}`: {e}{hint}"))
    })
}

/// The process group of the server being probed (its leader's id), 0 when none.
static RUNNING: AtomicU32 = AtomicU32::new(0);

/// Kills the process group of the server being probed, if any: for an interrupted capm,
/// whose Ctrl-C the server, in a group of its own, does not receive.
pub fn kill_running() {
    #[cfg(unix)]
    {
        let pid = i32::try_from(RUNNING.load(Ordering::SeqCst)).ok();
        if let Some(pid) = pid.and_then(rustix::process::Pid::from_raw) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

/// Stops the server: its stdin is already closed; the process group gets SIGTERM, then
/// SIGKILL if it is still there a second later.
fn stop(child: &mut Child) {
    #[cfg(unix)]
    {
        use rustix::process::{Pid, Signal, kill_process_group};
        let pid = i32::try_from(child.id()).ok().and_then(Pid::from_raw);
        if let Some(pid) = pid {
            let _ = kill_process_group(pid, Signal::TERM);
            let until = Instant::now() + Duration::from_secs(1);
            while Instant::now() < until && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = kill_process_group(pid, Signal::KILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads stderr on a thread, keeping the last [`TAIL`] lines.
fn keep_tail(stream: impl Read + Send + 'static, tail: Tail) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
            if t.len() == TAIL {
                t.pop_front();
            }
            t.push_back(line);
        }
    })
}

/// The stderr tail, once the reader has seen the end (or half a second has passed: a
/// process outside the group may hold the pipe open).
fn finish(reader: Option<JoinHandle<()>>, tail: &Tail) -> Vec<String> {
    let until = Instant::now() + Duration::from_millis(500);
    while reader.as_ref().is_some_and(|r| !r.is_finished()) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    let t = tail.lock().unwrap_or_else(|e| e.into_inner());
    t.iter().cloned().collect()
}

/// stdout's lines, read on a thread; the channel closes at end of file.
fn lines(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

struct Pipe<'a> {
    stdin: Option<ChildStdin>,
    rx: Receiver<String>,
    deadline: Instant,
    next_id: u64,
    child: &'a mut Child,
}

impl Pipe<'_> {
    fn send(&mut self, msg: &Value) -> Result<(), Failure> {
        let stdin = self.stdin.as_mut().expect("stdin is open while talking");
        let line = format!("{msg}\n");
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| Failure(format!("cannot write to its stdin: {e}")))
    }

    /// The next message on stdout, or why there is none.
    fn receive(&mut self, method: &str) -> Result<Value, Failure> {
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            let line = match self.rx.recv_timeout(left) {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(Failure(format!(
                        "no answer to `{method}` before the timeout"
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => return Err(self.exited(method)),
            };
            if line.trim().is_empty() {
                continue;
            }
            return serde_json::from_str(&line).map_err(|_| {
                let shown: String = line.chars().take(200).collect();
                Failure(format!(
                    "it wrote something that is not JSON-RPC on stdout: `{shown}`"
                ))
            });
        }
    }

    fn exited(&mut self, method: &str) -> Failure {
        let until = Instant::now() + Duration::from_secs(1);
        let mut status = None;
        while status.is_none() && Instant::now() < until {
            status = self.child.try_wait().ok().flatten();
            std::thread::sleep(Duration::from_millis(10));
        }
        match status {
            Some(s) => Failure(format!("it exited ({s}) before answering `{method}`")),
            None => Failure(format!("it closed stdout before answering `{method}`")),
        }
    }

    /// Answers a request the server sent: `ping` with an empty result, anything else with
    /// "method not found" (capm declares no client capabilities).
    fn answer(&mut self, msg: &Value) -> Result<(), Failure> {
        let reply = if msg["method"] == "ping" {
            json!({ "jsonrpc": "2.0", "id": msg["id"], "result": {} })
        } else {
            json!({ "jsonrpc": "2.0", "id": msg["id"],
                    "error": { "code": -32601, "message": "Method not found" } })
        };
        self.send(&reply)
    }
}

impl Session for Pipe<'_> {
    fn request(&mut self, method: &str, params: Value) -> Result<Value, Failure> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&request_message(id, method, params))?;
        loop {
            let msg = self.receive(method)?;
            if msg.get("method").is_some() {
                if msg.get("id").is_some() {
                    self.answer(&msg)?;
                }
                continue;
            }
            if msg["id"] == id {
                return response_result(&msg, method);
            }
        }
    }

    fn notify(&mut self, method: &str, params: Value) -> Result<(), Failure> {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }))
    }
}

impl Drop for Pipe<'_> {
    fn drop(&mut self) {
        // Closing stdin is how MCP asks a stdio server to stop.
        self.stdin.take();
    }
}
