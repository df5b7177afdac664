//! The planner protocol's messages: requests, responses, errors and each method's
//! params, as JSON-RPC 2.0 carries them. `schemas/rpc-*.schema.json` are generated from
//! these types; `docs/protocol.md` describes them with examples.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cli::CliError;
use crate::plan::model::Operation;

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
    /// The client cancelled the request (`$/cancelRequest`).
    pub const CANCELLED: i64 = -32800;
}

/// The protocol's version: it rises only for a change that breaks an existing client.
pub const PROTOCOL_VERSION: u32 = 1;

/// Every method a client may call.
pub const METHODS: [&str; 12] = [
    "initialize",
    "validate",
    "plan",
    "apply",
    "status",
    "doctor",
    "list",
    "outdated",
    "info",
    "search",
    "explain",
    "shutdown",
];

/// The notification a client sends to cancel a request.
pub const CANCEL_REQUEST: &str = "$/cancelRequest";

/// The notification the server sends about a request's progress.
pub const PROGRESS: &str = "$/progress";

/// The longest message the server reads, without its newline: 16 MiB. A longer line is
/// discarded as it streams in, never held whole, and answered with an error.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The most characters of a value from a request that an error message quotes.
pub const MAX_ECHO_CHARS: usize = 64;

/// The most characters of one error text (a message, a detail, a hint), whatever it quotes.
pub(super) const MAX_ERROR_CHARS: usize = 1024;

/// A request, as received.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(title = "capm serve request")]
pub struct Request {
    /// Always `2.0`.
    pub jsonrpc: String,
    /// A string, a number or null; absent for a notification, which gets no answer.
    #[serde(default)]
    pub id: Option<Value>,
    /// `initialize`, `validate`, `plan`, `apply`, `status`, `doctor`, `list`, `outdated`,
    /// `info`, `search`, `explain` or `shutdown`; or the notification `$/cancelRequest`.
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
    /// When given, `$/progress` notifications carrying this token come before the response.
    #[serde(default)]
    pub progress_token: Option<ProgressToken>,
}

/// A token the client chose to tell its requests' progress apart.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ProgressToken {
    String(String),
    Integer(i64),
}

impl<'de> Deserialize<'de> for ProgressToken {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(ProgressToken::String(s)),
            Value::Number(n) if n.is_i64() => Ok(ProgressToken::Integer(n.as_i64().unwrap_or(0))),
            _ => Err(serde::de::Error::custom(
                "`progress_token` must be a string or an integer",
            )),
        }
    }
}

/// Whether two request ids are the same: numbers by value (`2` is `2.0`), strings exactly.
pub(super) fn same_id(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

/// `initialize`: who the client is. Optional, as is the whole method.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InitializeParams {
    #[serde(default)]
    pub client: Option<ClientInfo>,
}

/// The client's name and version, for the log.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInfo {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
}

/// What `initialize` answers: the server, the protocol version and what it offers.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm.initialize/v1")]
pub struct InitializeResult {
    /// Always `capm.initialize/v1`.
    #[schemars(extend("const" = "capm.initialize/v1"))]
    pub schema: &'static str,
    /// Always `capm`.
    pub name: &'static str,
    /// capm's version.
    pub version: &'static str,
    /// Rises only for a change that breaks an existing client; a client refuses a version it
    /// does not know.
    pub protocol_version: u32,
    /// The methods a client may call.
    pub methods: Vec<&'static str>,
    pub notifications: Notifications,
    /// The longest message the server reads, in bytes, without its newline.
    pub max_message_bytes: usize,
    /// The project found from the server's working directory (absolute); absent when it is
    /// in no project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<PathBuf>,
}

/// The notifications each side may send.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Notifications {
    /// From the client: `$/cancelRequest`.
    pub client: Vec<&'static str>,
    /// From the server: `$/progress`.
    pub server: Vec<&'static str>,
}

/// `$/cancelRequest`: the request to cancel.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelParams {
    /// The id of the request to cancel.
    #[schemars(with = "IdSchema")]
    pub id: Value,
}

/// A request's id as a client gives it.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum IdSchema {
    String(String),
    Number(f64),
}

/// A `$/progress` notification, sent before the response of a request that gave a
/// `progress_token`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "capm serve progress notification")]
pub struct ProgressNotification {
    /// Always `2.0`.
    #[schemars(extend("const" = "2.0"))]
    pub jsonrpc: &'static str,
    /// Always `$/progress`.
    #[schemars(extend("const" = "$/progress"))]
    pub method: &'static str,
    pub params: ProgressParams,
}

/// What a progress notification says.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProgressParams {
    /// The request's `progress_token`.
    pub token: ProgressToken,
    pub stage: crate::operation::Stage,
    /// Steps of the stage done so far.
    pub done: usize,
    /// Steps of the stage in all, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
    /// What is being worked on: a URL (without credentials, query or fragment) or a path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
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
    pub(super) fn pair(&self) -> (String, String) {
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

pub(super) fn error(code: i64, message: impl Into<String>, data: Option<ErrorData>) -> RpcError {
    RpcError {
        code,
        message: message.into(),
        data,
    }
}

/// What a cancelled request changed: nothing, for all but `apply`.
pub(super) const NOTHING_CHANGED: &str = "nothing was changed";

/// What a cancelled `apply` changed: it stopped before its commit point.
pub(super) const ROLLED_BACK: &str = "what this apply had written was rolled back";

/// The answer to a cancelled request, saying what it `changed`.
pub(super) fn cancelled(changed: &str) -> RpcError {
    error(
        codes::CANCELLED,
        format!("cancelled: the client cancelled the request; {changed}"),
        Some(ErrorData {
            code: Some("cancelled".into()),
            exit: 130,
            details: Vec::new(),
            help: None,
        }),
    )
}

pub(super) fn bad_params(message: impl Into<String>) -> RpcError {
    error(codes::INVALID_PARAMS, message, None)
}

/// What the CLI would have said, as an error response.
pub(super) fn refusal(e: CliError) -> RpcError {
    if e.code() == "cancelled" {
        return cancelled(NOTHING_CHANGED);
    }
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

pub(super) fn params<T: serde::de::DeserializeOwned>(p: Option<Value>) -> Result<T, RpcError> {
    serde_json::from_value(p.unwrap_or(Value::Object(Default::default())))
        .map_err(|e| bad_params(format!("invalid params: {e}")))
}

pub(super) fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).expect("documents serialise")
}

/// An error as sent: every value it quotes from the request (between backticks or double
/// quotes) cut to [`MAX_ECHO_CHARS`], and each text to [`MAX_ERROR_CHARS`], so a huge bad
/// value is never sent back whole.
pub(super) fn bounded(mut e: RpcError) -> RpcError {
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
pub(super) fn clip_text(text: &str) -> String {
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
pub(super) fn echo(value: &str) -> String {
    cut(value, MAX_ECHO_CHARS)
}

pub(super) fn cut(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}
