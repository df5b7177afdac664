//! Detail and diagnostic logging on stderr, with `tracing`: `-v` shows capm's `info`
//! events (resolution steps, files read, what a plan and an apply did) and how long each
//! stage took; `CAPM_LOG` takes an env filter (`capm=debug`, `capm::graph=trace`, …) and
//! shows levels, targets and span fields too. Without either, nothing is installed and the
//! events cost next to nothing.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{self, FmtSpan, FormatEvent, FormatFields};
use tracing_subscriber::fmt::time::Uptime;
use tracing_subscriber::registry::LookupSpan;

use super::CliError;
use super::term::Env;

/// Installs the subscriber `-v` or `CAPM_LOG` asks for; `CAPM_LOG` wins, and works under
/// `-q` too, being for diagnosis.
pub fn init(env: &Env, verbose: bool, color: bool) -> Result<(), CliError> {
    let filter = match (&env.log, verbose) {
        (Some(spec), _) => EnvFilter::builder()
            .parse(spec)
            .map_err(|e| CliError::Usage {
                message: format!("CAPM_LOG=`{spec}` is not a log filter: {e}"),
                help: Some("write a filter such as `capm=debug` or `capm::graph=trace`".into()),
            })?,
        (None, true) => EnvFilter::new("capm=info"),
        (None, false) => return Ok(()),
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE);
    // A second subscriber (in-process tests) is not an error worth failing for.
    let _ = if env.log.is_some() {
        builder.with_timer(Uptime::default()).try_init()
    } else {
        builder
            .event_format(Verbose {
                start: std::time::Instant::now(),
            })
            .try_init()
    };
    Ok(())
}

/// `-v`'s lines: the time since start, the stages the event is in, and the message; a
/// stage's end says how long it took (`   12.3ms plan/resolve: done in 41.4µs`).
struct Verbose {
    start: std::time::Instant,
}

impl<S, N> FormatEvent<S, N> for Verbose
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let elapsed = self.start.elapsed().as_secs_f64() * 1000.0;
        let stages: Vec<&str> = ctx
            .event_scope()
            .into_iter()
            .flat_map(|scope| scope.from_root())
            .map(|span| span.name())
            .collect();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = match fields.busy {
            Some(busy) => format!("done in {busy}"),
            None => fields.message,
        };
        let stages = stages.join("/");
        let sep = if stages.is_empty() { "" } else { ": " };
        writeln!(w, "{elapsed:>9.1}ms {stages}{sep}{message}")
    }
}

/// The message of an event, and the time a closing span was busy.
#[derive(Default)]
struct Fields {
    message: String,
    busy: Option<String>,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "time.busy" => self.busy = Some(format!("{value:?}")),
            _ => {}
        }
    }
}
