//! The methods of `capm serve`: each request read, checked and answered by the library
//! operation the CLI runs for the same command.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::protocol::*;
use super::{Message, Ticket, not_utf8, progress_sink, too_long};
use crate::cli::Term;
use crate::cli::apply::{ApplyDoc, apply_error};
use crate::cli::graph::project_error;
use crate::operation::{Progress, Stage};
use crate::ops::apply::{ApplyOptions, Hooks};
use crate::ops::plan::PlanRequest;
use crate::ops::project;
use crate::plan::model::Plan;

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
        waiting(lock);
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
    fn progress(&mut self, progress: &Progress) {
        crate::operation::report(progress.clone());
    }
}

/// Tells, on stderr, that another capm holds the project's lock.
pub(super) fn waiting(lock: &Path) {
    eprintln!("capm serve: waiting for lock on `{}`", lock.display());
}

/// Sends the request's progress, from now on, as `$/progress` notifications with its
/// token, when it gave one.
fn watch(token: Option<&ProgressToken>) {
    if let Some(t) = token {
        crate::operation::set_sink(progress_sink(t.clone()));
    }
}

/// The server: what stays warm between calls.
pub struct Server<'t> {
    pub(super) term: &'t mut Term,
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
        let mut report =
            crate::ops::lint::lint(&opts).map_err(|e| refusal(crate::cli::lint::lint_error(e)))?;
        crate::cli::lint::sort(&mut report.diagnostics);
        Ok(crate::cli::render::json(
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
        watch(p.progress_token.as_ref());
        crate::operation::report(Progress::new(Stage::Plan, 0, Some(1)));
        let project = project::load(&root).map_err(|e| refusal(project_error(e, self.term)))?;
        let plan = crate::ops::plan::plan(&project, &self.request(&p))
            .map_err(|e| refusal(crate::cli::plan::plan_error(e, self.term)))?;
        crate::operation::report(Progress::new(Stage::Plan, 1, Some(1)));
        Ok(to_value(&plan))
    }

    fn apply(&mut self, p: PlanParams) -> Result<Value, RpcError> {
        let Some(fingerprint) = p.fingerprint.clone() else {
            return Err(bad_params(
                "`apply` needs the `fingerprint` of the plan the user approved (from `plan`)",
            ));
        };
        let root = self.project_root(&p.project)?;
        watch(p.progress_token.as_ref());
        let opts = ApplyOptions {
            request: self.request(&p),
            dry_run: false,
            locked: false,
            expect: Some(fingerprint),
            assume_yes: false,
            timeout: self.term.env.lock_timeout,
        };
        let outcome = crate::ops::apply::apply(&root, &opts, &mut Silent).map_err(|e| {
            match apply_error(e, self.term) {
                e if e.code() == "cancelled" => cancelled(ROLLED_BACK),
                e => refusal(e),
            }
        })?;
        Ok(to_value(&ApplyDoc::of(&outcome)))
    }

    fn status(&mut self, p: StatusParams) -> Result<Value, RpcError> {
        let root = self.project_root(&p.project)?;
        let report = crate::ops::doctor::doctor(
            &root,
            &self.term.env.opencode_config,
            self.term.env.lock_timeout,
            &waiting,
            false,
        )
        .map_err(|e| refusal(apply_error(e, self.term)))?;
        Ok(to_value(&report))
    }

    fn initialize(&mut self, p: InitializeParams) -> Result<Value, RpcError> {
        if let Some(c) = &p.client {
            let version = c.version.as_deref().unwrap_or("");
            tracing::info!("client: {} {version}", echo(&c.name));
        }
        let project = project::find_root(None)
            .ok()
            .and_then(|root| std::fs::canonicalize(root).ok());
        Ok(to_value(&InitializeResult {
            schema: "capm.initialize/v1",
            name: "capm",
            version: env!("CARGO_PKG_VERSION"),
            protocol_version: PROTOCOL_VERSION,
            methods: METHODS.to_vec(),
            notifications: Notifications {
                client: vec![CANCEL_REQUEST],
                server: vec![PROGRESS],
            },
            max_message_bytes: MAX_MESSAGE_BYTES,
            project,
        }))
    }

    fn explain(&mut self, p: ExplainParams) -> Result<Value, RpcError> {
        crate::cli::explain::document(&p.code).ok_or_else(|| {
            bad_params(format!(
                "unknown code `{}`; `capm explain --list` lists every code",
                p.code
            ))
        })
    }

    /// Answers what [`read_message`] read into `bytes`: `None` for a blank line or a
    /// notification. The second value is true after `shutdown`.
    pub(super) fn answer(&mut self, message: &Message, bytes: &[u8]) -> (Option<Response>, bool) {
        match (message, std::str::from_utf8(bytes)) {
            (Message::End, _) => (None, false),
            (Message::TooLong, _) => (Some(too_long()), false),
            (Message::Line, Ok(line)) if line.trim().is_empty() => (None, false),
            (Message::Line, Ok(line)) => self.handle(line.trim_end_matches('\r')),
            // Not UTF-8, so not JSON: a parse error like any other.
            (Message::Line, Err(e)) => (Some(not_utf8(e)), false),
        }
    }

    /// Answers a queued message as [`Self::answer`] does, as the current operation: one the
    /// client cancelled before it started is answered with the cancelled error without
    /// running; one cancelled while it ran answers the cancelled error only if it stopped
    /// for the cancel (any other failure is answered as itself).
    pub(super) fn answer_queued(
        &mut self,
        message: &Message,
        bytes: &[u8],
        ticket: Option<&Ticket>,
    ) -> (Option<Response>, bool) {
        // Without an id nothing can cancel it.
        let Some(t) = ticket else {
            return self.answer(message, bytes);
        };
        if t.cancelled.load(std::sync::atomic::Ordering::SeqCst) {
            let response = Response {
                jsonrpc: "2.0",
                id: t.id.clone(),
                result: None,
                error: Some(cancelled(NOTHING_CHANGED)),
            };
            return (Some(response), false);
        }
        let _armed = crate::operation::arm(t.cancelled.clone(), None);
        self.answer(message, bytes)
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
        let method = req.method.as_str();
        if (METHODS.contains(&method) || method == CANCEL_REQUEST)
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
            "initialize" => params(req.params).and_then(|p| self.initialize(p)),
            "validate" => params(req.params).and_then(|p| self.validate(p)),
            "plan" => params(req.params).and_then(|p| self.plan(p)),
            "apply" => params(req.params).and_then(|p| self.apply(p)),
            "status" => params(req.params).and_then(|p| self.status(p)),
            "explain" => params(req.params).and_then(|p| self.explain(p)),
            "doctor" => params(req.params).and_then(|p| self.doctor(p)),
            "list" => params(req.params).and_then(|p| self.list(p)),
            "outdated" => params(req.params).and_then(|p| self.outdated(p)),
            "info" => params(req.params).and_then(|p| self.info(p)),
            "search" => params(req.params).and_then(|p| self.search(p)),
            "shutdown" => Ok(Value::Null),
            // Carried out when it was read; answered here, in its turn.
            CANCEL_REQUEST => params::<CancelParams>(req.params).map(|_| Value::Null),
            other => Err(error(
                codes::METHOD_NOT_FOUND,
                format!(
                    "method not found: `{other}`; the methods are {}",
                    METHODS.join(", ")
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
