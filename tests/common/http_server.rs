//! A small HTTP/1.1 server for tests, over std only: serves the files of a directory on
//! 127.0.0.1 (a port the OS picks), a thread per connection with keep-alive, GET and HEAD
//! with ETag (sha256 of the body) and Last-Modified, answering If-None-Match and
//! If-Modified-Since with 304. Faults are set per path at any time ([`Fault`]) to test
//! retries, timeouts, truncated bodies, tampered bytes and authentication; every request is
//! logged. Stopped when dropped. Hand-written because the faults must lie about
//! Content-Length and stall mid-answer, which no server crate allows.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What to do instead of (or before) answering normally for one path.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and a short body.
    Status(u16),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Send the full Content-Length but only this many bytes of the body, then close.
    Truncate(usize),
    /// Send the head and this many bytes of the body, wait, then send the rest.
    StallAfter(usize, Duration),
    /// Serve these bytes instead of the file (ETag and length follow them).
    Replace(Vec<u8>),
    /// The next n requests get this status, then the path is served normally.
    FailTimes(u32, u16),
    /// 401 unless the request carries these Basic credentials.
    RequireBasic(String, String),
}

/// One logged request: method, path (with any query), status sent.
pub type Logged = (String, String, u16);

struct State {
    root: PathBuf,
    faults: Mutex<HashMap<String, Fault>>,
    log: Mutex<Vec<Logged>>,
    open: Mutex<Vec<TcpStream>>,
    connections: std::sync::atomic::AtomicUsize,
    /// Requests being answered now, and the most ever answered at once.
    in_flight: Mutex<(usize, usize)>,
    stop: AtomicBool,
}

/// A running server; dropping it stops it and closes every connection.
pub struct TestServer {
    addr: SocketAddr,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Serves the files under `root` at `http://127.0.0.1:PORT/`.
    pub fn serve_dir(root: &Path) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(State {
            root: root.to_path_buf(),
            faults: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            open: Mutex::new(Vec::new()),
            connections: std::sync::atomic::AtomicUsize::new(0),
            in_flight: Mutex::new((0, 0)),
            stop: AtomicBool::new(false),
        });
        let shared = Arc::clone(&state);
        let accept = std::thread::spawn(move || accept_loop(&listener, &shared));
        TestServer {
            addr,
            state,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets (or replaces) the fault of `path` (`/dir/file`).
    pub fn fault(&self, path: &str, fault: Fault) {
        lock(&self.state.faults).insert(path.to_string(), fault);
    }

    /// Serves `path` normally again.
    pub fn clear_fault(&self, path: &str) {
        lock(&self.state.faults).remove(path);
    }

    /// Every request so far, in the order they were answered.
    pub fn requests(&self) -> Vec<Logged> {
        lock(&self.state.log).clone()
    }

    /// How many requests asked for `path`.
    pub fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.1 == path).count()
    }

    /// How many connections clients opened.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// The most requests that were being answered at the same time.
    pub fn most_at_once(&self) -> usize {
        lock(&self.state.in_flight).1
    }

    /// How many requests were answered with `status`.
    pub fn count_status(&self, status: u16) -> usize {
        self.requests().iter().filter(|r| r.2 == status).count()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop, then close every connection still open.
        let _ = TcpStream::connect(self.addr);
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
        for stream in lock(&self.state.open).drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn accept_loop(listener: &TcpListener, state: &Arc<State>) {
    for stream in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        state.connections.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&state.open).push(clone);
        }
        let state = Arc::clone(state);
        std::thread::spawn(move || {
            let _ = serve_connection(stream, &state);
        });
    }
}

/// A parsed request head.
struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    // Requests of tests carry no body; skip one if sent.
    let len: u64 = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    std::io::copy(&mut reader.by_ref().take(len), &mut std::io::sink())?;
    Ok(Some(Request {
        method: method.to_string(),
        path: path.to_string(),
        headers,
    }))
}

fn serve_connection(stream: TcpStream, state: &State) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    while let Some(req) = read_request(&mut reader)? {
        if state.stop.load(Ordering::SeqCst) {
            break;
        }
        let keep_alive = !req
            .headers
            .get("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        if !answer(&req, state, &mut out)? || !keep_alive {
            break;
        }
    }
    let _ = out.shutdown(Shutdown::Both);
    Ok(())
}

/// What to send: status, extra headers, body, and how many body bytes before closing.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    cut: Option<usize>,
    stall: Option<(usize, Duration)>,
}

impl Answer {
    fn status(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: format!("{status}\n").into_bytes(),
            cut: None,
            stall: None,
        }
    }
}

/// Answers one request, counting it in flight meanwhile; `false` when the connection
/// must be closed.
fn answer(req: &Request, state: &State, out: &mut TcpStream) -> std::io::Result<bool> {
    {
        let mut n = lock(&state.in_flight);
        n.0 += 1;
        n.1 = n.1.max(n.0);
    }
    let answered = answer_now(req, state, out);
    lock(&state.in_flight).0 -= 1;
    answered
}

fn answer_now(req: &Request, state: &State, out: &mut TcpStream) -> std::io::Result<bool> {
    let fault = take_fault(state, &req.path);
    if let Some(Fault::Delay(d)) = &fault {
        std::thread::sleep(*d);
    }
    let ans = match fault {
        Some(Fault::Status(s)) | Some(Fault::FailTimes(_, s)) => Answer::status(s),
        Some(Fault::RequireBasic(user, pass)) if !authorized(req, &user, &pass) => {
            let mut a = Answer::status(401);
            a.headers
                .push(("WWW-Authenticate", "Basic realm=\"test\"".into()));
            a
        }
        Some(Fault::Replace(bytes)) => file_answer(req, bytes, None),
        other => {
            let mut a = serve_file(req, state);
            match other {
                Some(Fault::Truncate(n)) => a.cut = Some(n),
                Some(Fault::StallAfter(n, d)) => a.stall = Some((n, d)),
                _ => {}
            }
            a
        }
    };
    lock(&state.log).push((req.method.clone(), req.path.clone(), ans.status));
    send(req, ans, out)
}

/// The fault of `path`, counting a `FailTimes` down (and dropping it once spent).
fn take_fault(state: &State, path: &str) -> Option<Fault> {
    let mut faults = lock(&state.faults);
    let fault = faults.get_mut(path)?;
    if let Fault::FailTimes(n, status) = fault {
        if *n == 0 {
            faults.remove(path);
            return None;
        }
        *n -= 1;
        return Some(Fault::FailTimes(*n, *status));
    }
    Some(fault.clone())
}

fn authorized(req: &Request, user: &str, pass: &str) -> bool {
    let expected = format!("Basic {}", base64(format!("{user}:{pass}").as_bytes()));
    req.headers.get("authorization") == Some(&expected)
}

fn serve_file(req: &Request, state: &State) -> Answer {
    let rel = req.path.split('?').next().unwrap_or("");
    let rel = rel.trim_start_matches('/');
    if rel.split('/').any(|c| c == "..") {
        return Answer::status(403);
    }
    let path = state.root.join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            file_answer(req, bytes, modified)
        }
        Err(_) => Answer::status(404),
    }
}

/// 200 with `body`, or 304 when the request's validators match.
fn file_answer(req: &Request, body: Vec<u8>, modified: Option<SystemTime>) -> Answer {
    use sha2::Digest;
    let hex: String = sha2::Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let etag = format!("\"{hex}\"");
    let last_modified = modified.map(http_date);
    let not_modified = match req.headers.get("if-none-match") {
        Some(tags) => tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        None => {
            last_modified.is_some()
                && req.headers.get("if-modified-since") == last_modified.as_ref()
        }
    };
    let mut headers = vec![("ETag", etag)];
    if let Some(lm) = last_modified {
        headers.push(("Last-Modified", lm));
    }
    Answer {
        status: if not_modified { 304 } else { 200 },
        headers,
        body: if not_modified { Vec::new() } else { body },
        cut: None,
        stall: None,
    }
}

fn send(req: &Request, ans: Answer, out: &mut TcpStream) -> std::io::Result<bool> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", ans.status, reason(ans.status));
    if ans.status != 304 {
        head.push_str(&format!("Content-Length: {}\r\n", ans.body.len()));
    }
    for (k, v) in &ans.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    if req.method == "HEAD" || ans.status == 304 {
        out.flush()?;
        return Ok(true);
    }
    let mut sent = 0;
    if let Some((n, pause)) = ans.stall {
        sent = n.min(ans.body.len());
        out.write_all(&ans.body[..sent])?;
        out.flush()?;
        std::thread::sleep(pause);
    }
    let n = ans.cut.unwrap_or(ans.body.len()).min(ans.body.len());
    out.write_all(&ans.body[sent.min(n)..n])?;
    out.flush()?;
    Ok(ans.cut.is_none())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        304 => "Not Modified",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}
