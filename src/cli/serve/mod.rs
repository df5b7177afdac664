//! `capm serve --stdio`: the desktop planner protocol. JSON-RPC 2.0 over stdin and stdout,
//! one message per line, answered in the order received; the process stays up between
//! calls, so the catalog is read and checked once. The methods are [`METHODS`]. The message
//! shapes are in `schemas/rpc-*.schema.json` and described with examples in
//! `docs/protocol.md`. A message is at most [`MAX_MESSAGE_BYTES`]; a longer line is dropped
//! as it streams in.
//!
//! A reader thread reads stdin, carries out each `$/cancelRequest` at once (marking the
//! pending request with that id cancelled) and queues every message; the main thread runs
//! the requests one at a time, as the current [`crate::operation`], and writes their
//! responses, and `$/progress` notifications before them.

mod methods;
mod protocol;
mod queries;

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};

use clap::Args;
use serde_json::Value;

pub use methods::Server;
pub use protocol::*;
pub use queries::{InfoParams, ProjectParams, SearchParams};

use super::{CliError, Status, Term};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Speak JSON-RPC 2.0 on stdin and stdout, one message per line (the only transport).
    #[arg(long, required = true)]
    stdio: bool,
}

/// How many bytes of messages may wait for the request running now (itself included);
/// past that, reading waits until it is answered. A message always fits an empty queue.
const QUEUED_BYTES: usize = 2 * MAX_MESSAGE_BYTES;

/// What a queued message costs besides its bytes, so that blank lines too are bounded.
const MESSAGE_COST: usize = 128;

pub fn run(_args: ServeArgs, term: &mut Term) -> Result<Status, CliError> {
    let pending = Pending::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let (reader_pending, budget) = (pending.clone(), Budget::default());
    let reader_budget = budget.clone();
    std::thread::spawn(move || read_all(&tx, &reader_pending, &reader_budget));
    let mut server = Server::new(term);
    // The reader ends the queue when stdin closes: done once what it queued is answered.
    for incoming in rx {
        let Incoming {
            message,
            bytes,
            ticket,
        } = incoming?;
        let (response, shutdown) = server.answer_queued(&message, &bytes, ticket.as_ref());
        if let Some(t) = &ticket {
            pending.remove(t.seq);
        }
        budget.give(cost(&bytes));
        if let Some(r) = response {
            let text = serde_json::to_string(&r).expect("responses serialise");
            let out = server.term.out();
            writeln!(out, "{text}")?;
            out.flush()?;
        }
        if shutdown {
            return Ok(Status::Success);
        }
    }
    Ok(Status::Success)
}

/// A message as the reader queues it, with its ticket when it is a request with an id.
struct Incoming {
    message: Message,
    bytes: Vec<u8>,
    ticket: Option<Ticket>,
}

/// A queued request that a `$/cancelRequest` can reach until it is answered.
#[derive(Clone)]
pub(super) struct Ticket {
    seq: u64,
    /// The request's id, as sent.
    pub(super) id: Value,
    /// Set when the client cancels the request.
    pub(super) cancelled: Arc<AtomicBool>,
}

/// The requests queued or running and not answered yet: what a cancel consults.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<Vec<Ticket>>>);

impl Pending {
    fn add(&self, seq: u64, id: Value) -> Ticket {
        let cancelled = Arc::new(AtomicBool::new(false));
        let ticket = Ticket { seq, id, cancelled };
        self.lock().push(ticket.clone());
        ticket
    }

    /// Marks the pending requests with `id` cancelled; an id none has is ignored.
    fn cancel(&self, id: &Value) {
        for t in self.lock().iter().filter(|t| same_id(&t.id, id)) {
            t.cancelled.store(true, Ordering::SeqCst);
        }
    }

    fn remove(&self, seq: u64) {
        self.lock().retain(|t| t.seq != seq);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Ticket>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The bytes of the messages queued and not answered yet, bounded by [`QUEUED_BYTES`].
#[derive(Clone, Default)]
struct Budget(Arc<(Mutex<usize>, Condvar)>);

impl Budget {
    /// Waits until `n` more bytes fit (always, in an empty queue), then counts them.
    fn take(&self, n: usize) {
        let (used, freed) = &*self.0;
        let mut used = used.lock().unwrap_or_else(|e| e.into_inner());
        while *used > 0 && *used + n > QUEUED_BYTES {
            used = freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += n;
    }

    /// Counts `n` bytes answered, waking the reader if it waits.
    fn give(&self, n: usize) {
        let (used, freed) = &*self.0;
        let mut used = used.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(n);
        freed.notify_all();
    }
}

/// What a message of `bytes` counts for in the [`Budget`].
fn cost(bytes: &[u8]) -> usize {
    bytes.len() + MESSAGE_COST
}

/// The reader thread: reads stdin message by message, carries out each `$/cancelRequest` at
/// once, and queues every message (cancels included, to be answered in their turn), waiting
/// while the queue holds [`QUEUED_BYTES`].
fn read_all(tx: &Sender<std::io::Result<Incoming>>, pending: &Pending, budget: &Budget) {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut bytes = Vec::new();
    for seq in 0.. {
        let message = match read_message(&mut input, &mut bytes) {
            Ok(Message::End) => return,
            Ok(m) => m,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        let head = (message == Message::Line).then(|| peek(&bytes)).flatten();
        let mut ticket = None;
        match head {
            Some(Head::Cancel(Some(id))) => pending.cancel(&id),
            Some(Head::Request(Some(id))) => ticket = Some(pending.add(seq, id)),
            _ => {}
        }
        let bytes = std::mem::take(&mut bytes);
        budget.take(cost(&bytes));
        if tx
            .send(Ok(Incoming {
                message,
                bytes,
                ticket,
            }))
            .is_err()
        {
            return;
        }
    }
}

/// What the reader needs to know of a message.
enum Head {
    /// A `$/cancelRequest`, with the id it names.
    Cancel(Option<Value>),
    /// Anything else, with its id when that is a string or a number.
    Request(Option<Value>),
}

/// The head of a JSON object message, read without keeping its params (except a cancel's).
fn peek(bytes: &[u8]) -> Option<Head> {
    #[derive(serde::Deserialize)]
    struct Fields {
        #[serde(default)]
        id: Option<Value>,
        #[serde(default)]
        method: Option<Value>,
    }
    #[derive(serde::Deserialize)]
    struct CancelFields {
        params: CancelParams,
    }
    let text = bytes.trim_ascii_start();
    if !text.starts_with(b"{") {
        return None;
    }
    let fields: Fields = serde_json::from_slice(text).ok()?;
    let id = fields.id.filter(|v| v.is_string() || v.is_number());
    if fields.method.as_ref().and_then(Value::as_str) == Some(CANCEL_REQUEST) {
        let target = serde_json::from_slice::<CancelFields>(text).ok();
        return Some(Head::Cancel(target.map(|c| c.params.id)));
    }
    Some(Head::Request(id))
}

/// A sink writing `$/progress` notifications with `token` to stdout, a line each.
pub(super) fn progress_sink(token: ProgressToken) -> crate::operation::Sink {
    Box::new(move |p: &crate::operation::Progress| {
        let note = ProgressNotification {
            jsonrpc: "2.0",
            method: PROGRESS,
            params: ProgressParams {
                token: token.clone(),
                stage: p.stage,
                done: p.done,
                total: p.total,
                message: p.message.clone(),
            },
        };
        let text = serde_json::to_string(&note).expect("notifications serialise");
        let mut out = std::io::stdout().lock();
        // A client gone away is seen when the response is written.
        let _ = writeln!(out, "{text}").and_then(|()| out.flush());
    })
}

/// What [`read_message`] read.
#[derive(Debug, PartialEq, Eq)]
enum Message {
    /// A line, now in the buffer without its newline.
    Line,
    /// A line longer than [`MAX_MESSAGE_BYTES`], read to its end and dropped.
    TooLong,
    /// The end of the input.
    End,
}

/// Reads the next line into `line` (without its newline), holding at most
/// [`MAX_MESSAGE_BYTES`] of it: past that, the rest of the line is read and dropped as it
/// arrives.
fn read_message(input: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<Message> {
    line.clear();
    let (mut seen, mut too_long) = (false, false);
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (seen, too_long) {
                (false, _) => Message::End,
                (true, false) => Message::Line,
                (true, true) => Message::TooLong,
            });
        }
        seen = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let part = &available[..newline.unwrap_or(available.len())];
        too_long |= line.len() + part.len() > MAX_MESSAGE_BYTES;
        if too_long {
            line.clear();
        } else {
            line.extend_from_slice(part);
        }
        let used = part.len() + usize::from(newline.is_some());
        input.consume(used);
        if newline.is_some() {
            return Ok(if too_long {
                Message::TooLong
            } else {
                Message::Line
            });
        }
    }
}

fn error_response(error: RpcError) -> Response {
    Response {
        jsonrpc: "2.0",
        id: Value::Null,
        result: None,
        error: Some(error),
    }
}

fn too_long() -> Response {
    error_response(error(
        codes::INVALID_REQUEST,
        format!(
            "invalid request: the line is longer than {MAX_MESSAGE_BYTES} bytes (16 MiB), the most a message may be; it was dropped unparsed"
        ),
        None,
    ))
}

fn not_utf8(e: std::str::Utf8Error) -> Response {
    error_response(error(
        codes::PARSE_ERROR,
        format!("parse error: the line is not UTF-8: {e}"),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use proptest::test_runner::{Config, TestRunner};
    use serde_json::json;

    use super::protocol::{MAX_ERROR_CHARS, clip_text};
    use super::*;
    use crate::cli::ColorArg;
    use crate::cli::term::Env;
    use crate::mutation;

    fn messages(input: &[u8]) -> Vec<(Message, Vec<u8>)> {
        let mut reader = std::io::BufReader::with_capacity(4096, input);
        let mut line = Vec::new();
        let mut out = Vec::new();
        loop {
            let m = read_message(&mut reader, &mut line).unwrap();
            if m == Message::End {
                return out;
            }
            out.push((m, line.clone()));
        }
    }

    #[test]
    fn a_line_over_the_limit_is_dropped_and_reading_goes_on() {
        let mut input = vec![b'x'; MAX_MESSAGE_BYTES];
        input.extend(b"\n");
        input.extend(vec![b'y'; MAX_MESSAGE_BYTES + 1]);
        input.extend(b"\n{}\r\nlast");
        let read = messages(&input);
        assert_eq!(read.len(), 4);
        assert_eq!(read[0].0, Message::Line, "exactly the limit is a message");
        assert_eq!(read[0].1.len(), MAX_MESSAGE_BYTES);
        assert_eq!((&read[1].0, read[1].1.len()), (&Message::TooLong, 0));
        assert_eq!(read[2], (Message::Line, b"{}\r".to_vec()));
        assert_eq!(read[3], (Message::Line, b"last".to_vec()));
        assert_eq!(messages(b"")[..], []);
    }

    #[test]
    fn the_reader_sees_a_cancel_and_the_ids_it_can_reach() {
        let head = |text: &str| match peek(text.as_bytes()) {
            Some(Head::Cancel(id)) => format!("cancel {id:?}"),
            Some(Head::Request(id)) => format!("request {id:?}"),
            None => "none".into(),
        };
        let cancel = r#" {"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"a"}}"#;
        assert_eq!(head(cancel), r#"cancel Some(String("a"))"#);
        let bad_cancel = r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{}}"#;
        assert_eq!(head(bad_cancel), "cancel None");
        let plan = r#"{"id":3,"method":"plan","params":{"project":"."}}"#;
        assert_eq!(head(plan), "request Some(Number(3))");
        assert_eq!(head(r#"{"id":null,"method":"plan"}"#), "request None");
        assert_eq!(head(r#"{"id":[1],"method":"plan"}"#), "request None");
        assert_eq!(head(r#"[null,"$/cancelRequest",{"id":1}]"#), "none");
        assert_eq!(head("not json"), "none");

        let pending = Pending::default();
        let (first, second) = (pending.add(0, json!(1)), pending.add(1, json!(2)));
        pending.cancel(&json!("1"));
        pending.cancel(&json!(2));
        assert!(!first.cancelled.load(Ordering::SeqCst), "\"1\" is not 1");
        assert!(second.cancelled.load(Ordering::SeqCst));
        let third = pending.add(2, json!(2.0));
        pending.cancel(&json!(2));
        assert!(third.cancelled.load(Ordering::SeqCst), "2 is 2.0");
        pending.remove(0);
        pending.cancel(&json!(1));
        assert!(
            !first.cancelled.load(Ordering::SeqCst),
            "answered: out of reach"
        );
    }

    #[test]
    fn errors_quote_at_most_a_prefix_of_a_value() {
        let long = "é".repeat(100);
        let clipped = clip_text(&format!("unknown code `{long}`; see \"{long}\" and `x`"));
        let prefix = "é".repeat(MAX_ECHO_CHARS);
        assert_eq!(
            clipped,
            format!("unknown code `{prefix}…`; see \"{prefix}…\" and `x`")
        );
        assert_eq!(clip_text("unclosed `abc"), "unclosed `abc");
        let unquoted = clip_text(&"u".repeat(5000));
        assert_eq!(unquoted.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(unquoted.ends_with('…'));
    }

    /// Valid requests of every method, naming only paths that do not exist, so that no
    /// damaged one can read or write a real project.
    const REQUESTS: &[&str] = &[
        r#"{"jsonrpc":"2.0","id":1,"method":"validate","params":{"path":"/nonexistent/capm-proptest/b"}}"#,
        r#"{"jsonrpc":"2.0","id":"p","method":"plan","params":{"project":"/nonexistent/capm-proptest","operation":"install","bundles":["github@^1.0"],"skip":["mcp:github"],"inputs":{"HOST":"x"},"latest":true}}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"apply","params":{"project":"/nonexistent/capm-proptest","operation":"uninstall","bundles":["github"],"purge":false,"fingerprint":"sha256:00"}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"status","params":{"project":"/nonexistent/capm-proptest"}}"#,
        r#"{"jsonrpc":"2.0","id":4.5,"method":"explain","params":{"code":"invalid-semver"}}"#,
        r#"{"jsonrpc":"2.0","method":"explain","params":{"code":"ENV-001"}}"#,
        r#"{"jsonrpc":"2.0","id":6,"method":"initialize","params":{"client":{"name":"app","version":"1"}}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"doctor","params":{"project":"/nonexistent/capm-proptest"}}"#,
        r#"{"jsonrpc":"2.0","id":8,"method":"list","params":{"project":"/nonexistent/capm-proptest"}}"#,
        r#"{"jsonrpc":"2.0","id":9,"method":"outdated","params":{"project":"/nonexistent/capm-proptest"}}"#,
        r#"{"jsonrpc":"2.0","id":10,"method":"info","params":{"bundle":"time@^1","project":"/nonexistent/capm-proptest"}}"#,
        r#"{"jsonrpc":"2.0","id":11,"method":"search","params":{"query":"time zone","project":"/nonexistent/capm-proptest"}}"#,
        r#"{"jsonrpc":"2.0","id":12,"method":"plan","params":{"project":"/nonexistent/capm-proptest","operation":"install","progress_token":"t"}}"#,
        r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":12}}"#,
        r#"{"jsonrpc":"2.0","id":null,"method":"shutdown"}"#,
        r#"[{"jsonrpc":"2.0","id":5,"method":"status"}]"#,
    ];

    /// Feeds `input` to a server as `run` does, line by line; every line must be answered
    /// with a response that serialises, or be a notification or blank.
    fn serve_all(server: &mut Server<'_>, input: &[u8]) {
        let mut reader = std::io::BufReader::new(input);
        let mut bytes = Vec::new();
        loop {
            let message = read_message(&mut reader, &mut bytes).unwrap();
            if message == Message::End {
                return;
            }
            if let (Some(r), _) = server.answer(&message, &bytes) {
                serde_json::to_string(&r).expect("responses serialise");
            }
        }
    }

    /// Runs `cases` inputs from `strategy` through one server, as a client would.
    fn serve_cases(cases: u32, strategy: impl proptest::strategy::Strategy<Value = Vec<u8>>) {
        let env = Env {
            opencode_config: "/nonexistent/capm-proptest/config".into(),
            ..Env::default()
        };
        let mut term = Term::new(&env, ColorArg::Never, true, false);
        let server = RefCell::new(Server::new(&mut term));
        let mut runner = TestRunner::new(Config::with_cases(cases));
        runner
            .run(&strategy, |input| {
                serve_all(&mut server.borrow_mut(), &input);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn the_requests_to_damage_are_valid() {
        let mut term = Term::new(&Env::default(), ColorArg::Never, true, false);
        let mut server = Server::new(&mut term);
        // Each reaches its method (the batch is refused by design).
        for request in REQUESTS.iter().filter(|r| r.starts_with('{')) {
            let (response, _) = server.handle(request);
            if let Some(e) = response.and_then(|r| r.error) {
                let read = e.code != codes::PARSE_ERROR && e.code != codes::INVALID_REQUEST;
                assert!(
                    read && !e.message.starts_with("invalid params"),
                    "{request}: {e:?}"
                );
            }
        }
    }

    #[test]
    fn any_line_is_answered_without_panicking() {
        serve_cases(1024, mutation::bytes(300));
    }

    #[test]
    fn a_damaged_request_is_answered_without_panicking() {
        let samples = REQUESTS.iter().map(|r| r.as_bytes().to_vec()).collect();
        serve_cases(2048, mutation::mutated(samples));
    }
}
