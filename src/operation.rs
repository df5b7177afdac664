//! The current operation's cancellation and progress: a leaf every layer may use.
//!
//! `capm serve` arms one [`Operation`] per request ([`arm`]): a flag its reader thread sets
//! when the client cancels the request, and optionally a sink for progress reports. The
//! layers below check [`checkpoint`] at their safe points (before each remote fetch, between
//! planning steps, before each swap of a transaction), report with [`report`] and
//! [`fetched`], and run blocking network calls through [`abandonable`], which gives up on a
//! call in flight once the request is cancelled. Nothing is armed on the command line: there
//! every check passes, nothing is reported, and calls run on the caller's thread.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// A stage of an operation, in the order they happen; a stage that does not apply is
/// skipped. (`capm serve` sends them by these names.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// A remote index, archive or repository fetched; no `total`.
    Fetch,
    /// Waiting for (0 of 1), then holding (1 of 1), the project's lock.
    Lock,
    /// Computing the plan (for `apply`: again, under the lock).
    Plan,
    /// Writing changes beside their targets.
    Stage,
    /// Moving staged changes into place, capm.lock last.
    Commit,
    /// Removing backups and the journal after the commit.
    CleanUp,
}

/// One progress report: `done` of `total` (when known) in `stage`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    pub done: usize,
    pub total: Option<usize>,
    /// What is being worked on: a URL (credentials cut) or a path.
    pub message: Option<String>,
}

impl Progress {
    pub fn new(stage: Stage, done: usize, total: Option<usize>) -> Progress {
        Progress {
            stage,
            done,
            total,
            message: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Progress {
        self.message = Some(message.into());
        self
    }
}

/// Where progress reports go; called from whichever thread makes progress.
pub type Sink = Box<dyn Fn(&Progress) + Send + Sync>;

/// The error of a cancelled operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cancelled: the client cancelled the request")]
pub struct Cancelled;

impl From<Cancelled> for std::io::Error {
    fn from(c: Cancelled) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::Interrupted, c)
    }
}

/// Whether `error`, or an error it was caused by, is a [`Cancelled`] (itself, as the
/// cause of another, or inside an `io::Error`): a cancellation, not a failure.
pub fn is_cancellation(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .is_some_and(|i| i.is::<Cancelled>());
        if inner || e.is::<Cancelled>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// The operation running now.
pub struct Operation {
    cancelled: Arc<AtomicBool>,
    sink: Option<Sink>,
    fetches: AtomicUsize,
}

static CURRENT: RwLock<Option<Arc<Operation>>> = RwLock::new(None);

/// Ends the armed operation when dropped.
#[must_use = "the operation ends when the guard is dropped"]
pub struct Armed(());

impl Drop for Armed {
    fn drop(&mut self) {
        *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Makes this the current operation until the guard is dropped: cancelled once `cancelled`
/// is set, reporting progress to `sink`.
pub fn arm(cancelled: Arc<AtomicBool>, sink: Option<Sink>) -> Armed {
    let op = Operation {
        cancelled,
        sink,
        fetches: AtomicUsize::new(0),
    };
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(op));
    Armed(())
}

fn current() -> Option<Arc<Operation>> {
    CURRENT.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Whether an operation is armed (`capm serve`), so that blocking calls can be abandoned.
pub fn armed() -> bool {
    current().is_some()
}

/// Whether the current operation was cancelled.
pub fn cancelled() -> bool {
    current().is_some_and(|op| op.cancelled.load(Ordering::SeqCst))
}

/// A safe point: `Err` once the current operation was cancelled.
pub fn checkpoint() -> Result<(), Cancelled> {
    if cancelled() { Err(Cancelled) } else { Ok(()) }
}

/// Gives the current operation a sink for its progress reports (from now on).
pub fn set_sink(sink: Sink) {
    let mut current = CURRENT.write().unwrap_or_else(|e| e.into_inner());
    if let Some(op) = current.as_ref() {
        let op = Operation {
            cancelled: op.cancelled.clone(),
            sink: Some(sink),
            fetches: AtomicUsize::new(op.fetches.load(Ordering::SeqCst)),
        };
        *current = Some(Arc::new(op));
    }
}

/// Reports progress to the current operation's sink, if it has one.
pub fn report(progress: Progress) {
    if let Some(sink) = current().as_ref().and_then(|op| op.sink.as_ref()) {
        sink(&progress);
    }
}

/// Reports one more fetch of `shown`, a URL as it may be shown (see
/// `remote::shown_url`).
pub fn fetched(shown: String) {
    let Some(op) = current() else { return };
    let done = op.fetches.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(sink) = &op.sink {
        sink(&Progress::new(Stage::Fetch, done, None).with_message(shown));
    }
}

/// How often a wait on an abandonable call looks at the cancellation flag.
const SLICE: Duration = Duration::from_millis(20);

/// Runs `call`: on the command line right here; in an armed operation on a thread of its
/// own, waited for in short slices, and abandoned (left to finish unseen) once the operation
/// is cancelled.
pub fn abandonable<T: Send + 'static>(
    call: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Cancelled> {
    if !armed() {
        return Ok(call());
    }
    checkpoint()?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::spawn(move || {
        let _ = tx.send(call());
    });
    loop {
        match rx.recv_timeout(SLICE) {
            Ok(value) => return Ok(value),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => checkpoint()?,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                panic!("an abandonable call panicked")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unarmed_calls_run_here_and_every_check_passes() {
        // Tests of the library run unarmed, in parallel: nothing here arms an operation.
        assert_eq!(
            abandonable(|| std::thread::current().id()),
            Ok(std::thread::current().id())
        );
        assert_eq!(checkpoint(), Ok(()));
    }

    #[test]
    fn a_cancellation_is_told_from_a_failure_through_its_causes() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot write: {0}")]
        struct Wrapper(#[source] std::io::Error);
        let wrapped = Wrapper(std::io::Error::from(Cancelled));
        assert!(is_cancellation(&wrapped));
        assert!(is_cancellation(&Cancelled));
        let interrupted = std::io::Error::from(std::io::ErrorKind::Interrupted);
        assert!(!is_cancellation(&Wrapper(interrupted)));
    }
}
