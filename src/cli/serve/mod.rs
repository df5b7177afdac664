//! `capm serve --stdio`: the desktop planner protocol. JSON-RPC 2.0 over stdin and stdout,
//! one message per line, answered in the order received; the process stays up between
//! calls, so the catalog is read and checked once. Methods: `validate`, `plan`, `apply`,
//! `status`, `explain`, `shutdown`. The message shapes are in `schemas/rpc-*.schema.json`
//! and described with examples in `docs/protocol.md`. A message is at most
//! [`MAX_MESSAGE_BYTES`]; a longer line is dropped as it streams in.

mod methods;
mod protocol;
mod queries;

use std::io::{BufRead, Write};

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

pub fn run(_args: ServeArgs, term: &mut Term) -> Result<Status, CliError> {
    let stdin = std::io::stdin();
    let mut server = Server::new(term);
    let mut bytes = Vec::new();
    let mut input = stdin.lock();
    loop {
        let message = read_message(&mut input, &mut bytes)?;
        if message == Message::End {
            // The client closed stdin: done.
            return Ok(Status::Success);
        }
        let (response, shutdown) = server.answer(&message, &bytes);
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
