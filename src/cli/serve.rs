//! `capm serve --stdio`: the desktop planner protocol. JSON-RPC 2.0 over stdin and stdout,
//! one message per line, answered in the order received; the process stays up between
//! calls, so the catalog is read and checked once. Methods: `validate`, `plan`, `apply`,
//! `status`, `explain`, `shutdown`. The message shapes are in `schemas/rpc-*.schema.json`
//! and described with examples in `docs/protocol.md`. A message is at most
//! [`MAX_MESSAGE_BYTES`]; a longer line is dropped as it streams in.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::apply::{ApplyDoc, apply_error};
use super::graph::project_error;
use super::{CliError, Status, Term};
use crate::ops::apply::{ApplyOptions, Hooks};
use crate::ops::plan::PlanRequest;
use crate::ops::project;
use crate::plan::model::{Operation, Plan};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Speak JSON-RPC 2.0 on stdin and stdout, one message per line (the only transport).
    #[arg(long, required = true)]
    stdio: bool,
}

/// JSON-RPC error codes.
pub mod codes {
    /// The line is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// JSON, but not a request.
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    /// capm refused the request (the CLI's exit code 1, 2 or 3 is in `data.exit`).
    pub const REFUSED: i64 = -32000;
}

/// The longest message the server reads, without its newline: 16 MiB. A longer line is
/// discarded as it streams in, never held whole, and answered with an error.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The most characters of a value from a request that an error message quotes.
pub const MAX_ECHO_CHARS: usize = 64;

/// The most characters of one error text (a message, a detail, a hint), whatever it quotes.
const MAX_ERROR_CHARS: usize = 1024;

/// A request, as received.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(title = "capm serve request")]
pub struct Request {
    /// Always `2.0`.
    pub jsonrpc: String,
    /// A string, a number or null; absent for a notification, which gets no answer.
    #[serde(default)]
    pub id: Option<Value>,
    /// `validate`, `plan`, `apply`, `status`, `explain` or `shutdown`.
    pub method: String,
    /// The method's parameters, by name.
    #[serde(default)]
    pub params: Option<Value>,
}

/// A response: exactly one of `result` and `error`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm serve response")]
pub struct Response {
    /// Always `2.0`.
    pub jsonrpc: &'static str,
    /// The request's id (`null` when it could not be read).
    pub id: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RpcError>,
}

/// An error, with what capm's CLI would have said.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<ErrorData>,
}

/// Details of a refusal.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorData {
    /// capm's diagnostic code (`plan-stale`, `bundle-not-found`, …); `capm explain` knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The exit code the CLI would have ended with.
    pub exit: u8,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// `validate`: lint a bundle, a project or a directory of bundles.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateParams {
    /// A bundle directory, a bundle.toml, a capm.toml, or a directory holding bundles.
    pub path: PathBuf,
}

/// `plan` and `apply`: what to do to which project.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanParams {
    /// The project directory (holding capm.toml).
    pub project: PathBuf,
    /// `install`, `update` or `uninstall`.
    pub operation: Operation,
    /// Bundles to add, update or remove, as `NAME` or `NAME@REQ`; to add, also a bundle
    /// directory, a git URL (`https://…`, `git+PATH`, `git@host:path`) or `oci://REPOSITORY`,
    /// as `capm add` takes them.
    #[serde(default)]
    pub bundles: Vec<String>,
    /// Install: the registry the bundles named come from: a name capm.toml declares, or a
    /// URL (declared in capm.toml when applied), as `capm add --registry`.
    #[serde(default)]
    pub registry: Option<String>,
    /// Install, with a git URL: follow this tag, branch or commit, as `capm add --tag`,
    /// `--branch` or `--rev`.
    #[serde(default)]
    pub git_ref: Option<GitRefParam>,
    /// Update beyond capm.toml's requirements.
    #[serde(default)]
    pub latest: bool,
    /// Uninstall files the user modified too.
    #[serde(default)]
    pub purge: bool,
    /// Resources (`KIND:NAME`) whose conflicts are settled by keeping the user's version.
    #[serde(default)]
    pub skip: Vec<String>,
    /// Values for non-secret environment variables, recorded in capm.toml's `[inputs]`.
    #[serde(default)]
    pub inputs: std::collections::BTreeMap<String, String>,
    /// Resources (`KIND:NAME`) the user modified, whose version becomes theirs
    /// (`capm keep`).
    #[serde(default)]
    pub keep: Vec<String>,
    /// Resources (`KIND:NAME`) the user modified, where capm's version goes back
    /// (`capm restore`).
    #[serde(default)]
    pub restore: Vec<String>,
    /// `apply` only, and required there: the fingerprint of the plan the user approved. The
    /// plan is computed again and applied only if it is identical (`plan-stale` otherwise).
    #[serde(default)]
    pub fingerprint: Option<String>,
}

/// A git reference in a `plan` request: exactly one of `tag`, `branch` and `rev`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GitRefParam {
    Tag(String),
    Branch(String),
    Rev(String),
}

impl GitRefParam {
    fn pair(&self) -> (String, String) {
        match self {
            GitRefParam::Tag(t) => ("tag".into(), t.clone()),
            GitRefParam::Branch(b) => ("branch".into(), b.clone()),
            GitRefParam::Rev(r) => ("rev".into(), r.clone()),
        }
    }
}

/// `status`: what capm.lock records against what is on disk, without changing anything.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusParams {
    pub project: PathBuf,
}

/// `explain`: a diagnostic code or security rule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainParams {
    pub code: String,
}

fn error(code: i64, message: impl Into<String>, data: Option<ErrorData>) -> RpcError {
    RpcError {
        code,
        message: message.into(),
        data,
    }
}

fn bad_params(message: impl Into<String>) -> RpcError {
    error(codes::INVALID_PARAMS, message, None)
}

/// What the CLI would have said, as an error response.
fn refusal(e: CliError) -> RpcError {
    let data = ErrorData {
        code: Some(e.code().to_string()),
        exit: e.exit(),
        details: e.details().to_vec(),
        help: e.help().map(str::to_string),
    };
    let code = match e {
        CliError::Usage { .. } | CliError::Missing { .. } => codes::INVALID_PARAMS,
        _ => codes::REFUSED,
    };
    error(code, e.to_string(), Some(data))
}

fn params<T: serde::de::DeserializeOwned>(p: Option<Value>) -> Result<T, RpcError> {
    serde_json::from_value(p.unwrap_or(Value::Object(Default::default())))
        .map_err(|e| bad_params(format!("invalid params: {e}")))
}

fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).expect("documents serialise")
}

/// Hooks for an apply over the protocol: nobody to ask, so the fingerprint the client sent
/// is the approval; waits and recoveries are logged on stderr.
struct Silent;

impl Hooks for Silent {
    fn settle(&mut self, _: &Plan) -> crate::ops::apply::Settle {
        crate::ops::apply::Settle::AsIs
    }
    fn confirm(&mut self, _: &Plan) -> bool {
        true
    }
    fn waiting(&self, lock: &Path) {
        eprintln!("capm serve: waiting for lock on `{}`", lock.display());
    }
    fn recovered(&mut self, r: &crate::apply::txn::Recovery) {
        eprintln!(
            "capm serve: recovered interrupted transactions: {} rolled back, {} finished",
            r.rolled_back.len(),
            r.finished.len()
        );
        for l in &r.leftovers {
            eprintln!("capm serve: {l}; the next call tries again");
        }
    }
    fn replanned(&mut self, _: &Plan) {}
}

/// The server: what stays warm between calls.
pub struct Server<'t> {
    term: &'t mut Term,
}

impl<'t> Server<'t> {
    pub fn new(term: &'t mut Term) -> Self {
        // Read and check the catalog now, once, rather than on the first call.
        let _ = crate::graph::Sources::catalog_only();
        Server { term }
    }

    fn project_root(&mut self, dir: &Path) -> Result<PathBuf, RpcError> {
        project::find_root(Some(dir)).map_err(|e| refusal(project_error(e, self.term)))
    }

    fn request(&self, p: &PlanParams) -> PlanRequest {
        PlanRequest {
            operation: p.operation,
            bundles: p.bundles.clone(),
            latest: p.latest,
            purge: p.purge,
            skip: p.skip.iter().cloned().collect(),
            keep: p.keep.iter().cloned().collect(),
            restore: p.restore.iter().cloned().collect(),
            inputs: p.inputs.clone(),
            registry: p.registry.clone(),
            git_ref: p.git_ref.as_ref().map(GitRefParam::pair),
            skills: Vec::new(),
            global_config: self.term.env.opencode_config.clone(),
            homes: self.term.env.homes.clone(),
        }
    }

    fn validate(&mut self, p: ValidateParams) -> Result<Value, RpcError> {
        let opts = crate::ops::lint::LintOptions {
            paths: vec![p.path],
            catalog: false,
            project: None,
        };
        let mut report = crate::ops::lint::lint(&opts).map_err(|e| bad_params(e.to_string()))?;
        super::lint::sort(&mut report.diagnostics);
        Ok(super::render::json(
            &report.bundles,
            &report.projects,
            &report.diagnostics,
        ))
    }

    fn plan(&mut self, p: PlanParams) -> Result<Value, RpcError> {
        if p.fingerprint.is_some() {
            return Err(bad_params("`fingerprint` belongs to `apply`, not `plan`"));
        }
        let root = self.project_root(&p.project)?;
        let project = project::load(&root).map_err(|e| refusal(project_error(e, self.term)))?;
        let plan = crate::ops::plan::plan(&project, &self.request(&p))
            .map_err(|e| refusal(super::plan::plan_error(e, self.term)))?;
        Ok(to_value(&plan))
    }

    fn apply(&mut self, p: PlanParams) -> Result<Value, RpcError> {
        let Some(fingerprint) = p.fingerprint.clone() else {
            return Err(bad_params(
                "`apply` needs the `fingerprint` of the plan the user approved (from `plan`)",
            ));
        };
        let root = self.project_root(&p.project)?;
        let opts = ApplyOptions {
            request: self.request(&p),
            dry_run: false,
            locked: false,
            expect: Some(fingerprint),
            assume_yes: false,
            timeout: self.term.env.lock_timeout,
        };
        let outcome = crate::ops::apply::apply(&root, &opts, &mut Silent)
            .map_err(|e| refusal(apply_error(e, self.term)))?;
        Ok(to_value(&ApplyDoc::of(&outcome)))
    }

    fn status(&mut self, p: StatusParams) -> Result<Value, RpcError> {
        let root = self.project_root(&p.project)?;
        let report = crate::ops::doctor::doctor(
            &root,
            &self.term.env.opencode_config,
            self.term.env.lock_timeout,
            &|_| {},
            false,
        )
        .map_err(|e| refusal(apply_error(e, self.term)))?;
        Ok(to_value(&report))
    }

    fn explain(&mut self, p: ExplainParams) -> Result<Value, RpcError> {
        super::explain::document(&p.code).ok_or_else(|| {
            bad_params(format!(
                "unknown code `{}`; `capm explain --list` lists every code",
                p.code
            ))
        })
    }

    /// Answers what [`read_message`] read into `bytes`: `None` for a blank line or a
    /// notification. The second value is true after `shutdown`.
    fn answer(&mut self, message: &Message, bytes: &[u8]) -> (Option<Response>, bool) {
        match (message, std::str::from_utf8(bytes)) {
            (Message::End, _) => (None, false),
            (Message::TooLong, _) => (Some(too_long()), false),
            (Message::Line, Ok(line)) if line.trim().is_empty() => (None, false),
            (Message::Line, Ok(line)) => self.handle(line.trim_end_matches('\r')),
            // Not UTF-8, so not JSON: a parse error like any other.
            (Message::Line, Err(e)) => (Some(not_utf8(e)), false),
        }
    }

    /// Answers one line; `None` for a notification. The second value is true after
    /// `shutdown`.
    pub fn handle(&mut self, line: &str) -> (Option<Response>, bool) {
        // Each request sees the registries as they are now.
        crate::remote::new_operation();
        let respond = |id: Value, r: Result<Value, RpcError>| {
            Some(match r {
                Ok(result) => Response {
                    jsonrpc: "2.0",
                    id,
                    result: Some(result),
                    error: None,
                },
                Err(error) => Response {
                    jsonrpc: "2.0",
                    id,
                    result: None,
                    error: Some(bounded(error)),
                },
            })
        };
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                let err = error(codes::PARSE_ERROR, format!("parse error: {e}"), None);
                return (respond(Value::Null, Err(err)), false);
            }
        };
        // A request with `"id": null` is answered; one without an id is a notification.
        let has_id = value.get("id").is_some();
        // Only an id of a valid type is echoed back.
        let id = value
            .get("id")
            .filter(|v| v.is_string() || v.is_number() || v.is_null())
            .cloned();
        if value.is_array() {
            let err = error(
                codes::INVALID_REQUEST,
                "invalid request: batches are not supported; send one request per line",
                None,
            );
            return (respond(Value::Null, Err(err)), false);
        }
        let req: Request = match serde_json::from_value(value) {
            Ok(r) => r,
            Err(e) => {
                let err = error(
                    codes::INVALID_REQUEST,
                    format!("invalid request: {e}"),
                    None,
                );
                return (respond(id.unwrap_or(Value::Null), Err(err)), false);
            }
        };
        let valid_id = matches!(
            req.id,
            None | Some(Value::Null | Value::String(_) | Value::Number(_))
        );
        if req.jsonrpc != "2.0" || !valid_id {
            let err = error(
                codes::INVALID_REQUEST,
                "invalid request: `jsonrpc` must be \"2.0\" and `id` a string or a number",
                None,
            );
            // An id that is not valid is not echoed.
            let id = if valid_id { req.id } else { None };
            return (respond(id.unwrap_or(Value::Null), Err(err)), false);
        }
        const METHODS: [&str; 6] = ["validate", "plan", "apply", "status", "explain", "shutdown"];
        if METHODS.contains(&req.method.as_str())
            && req.params.as_ref().is_some_and(|p| !p.is_object())
        {
            let err = bad_params("invalid params: `params` must be an object, by name");
            let response = if has_id {
                respond(req.id.unwrap_or(Value::Null), Err(err))
            } else {
                None
            };
            return (response, false);
        }
        let shutdown = req.method == "shutdown";
        let result = match req.method.as_str() {
            "validate" => params(req.params).and_then(|p| self.validate(p)),
            "plan" => params(req.params).and_then(|p| self.plan(p)),
            "apply" => params(req.params).and_then(|p| self.apply(p)),
            "status" => params(req.params).and_then(|p| self.status(p)),
            "explain" => params(req.params).and_then(|p| self.explain(p)),
            "shutdown" => Ok(Value::Null),
            other => Err(error(
                codes::METHOD_NOT_FOUND,
                format!(
                    "method not found: `{other}`; the methods are validate, plan, apply, status, explain and shutdown"
                ),
                None,
            )),
        };
        if has_id {
            (respond(req.id.unwrap_or(Value::Null), result), shutdown)
        } else {
            (None, shutdown)
        }
    }
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

/// An error as sent: every value it quotes from the request (between backticks or double
/// quotes) cut to [`MAX_ECHO_CHARS`], and each text to [`MAX_ERROR_CHARS`], so a huge bad
/// value is never sent back whole.
fn bounded(mut e: RpcError) -> RpcError {
    e.message = clip_text(&e.message);
    if let Some(data) = &mut e.data {
        for d in &mut data.details {
            *d = clip_text(d);
        }
        data.help = data.help.as_deref().map(clip_text);
    }
    e
}

/// `text` with every quoted run cut to [`MAX_ECHO_CHARS`], and the whole to
/// [`MAX_ERROR_CHARS`]; cuts end with `…`.
fn clip_text(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = rest.as_bytes()[open] as char;
        out.push_str(&rest[..=open]);
        let inside = &rest[open + 1..];
        let close = inside.find(quote).unwrap_or(inside.len());
        out.push_str(&echo(&inside[..close]));
        rest = &inside[close..];
        if let Some(after) = rest.strip_prefix(quote) {
            out.push(quote);
            rest = after;
        }
    }
    out.push_str(rest);
    cut(&out, MAX_ERROR_CHARS)
}

/// At most [`MAX_ECHO_CHARS`] characters of a value from a request, ending with `…` when
/// cut.
fn echo(value: &str) -> String {
    cut(value, MAX_ECHO_CHARS)
}

fn cut(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use proptest::test_runner::{Config, TestRunner};

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
