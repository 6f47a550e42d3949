//! Tracing subscriber set-up, once per process: `RUST_LOG` filters (else the given default);
//! readable lines for people, or one JSON object per line for log collectors.
//!
//! One access line per request: the request-context middleware opens a span and logs "request
//! completed" for every request it serves (under `capmatch serve` the gateway serves the
//! services' APIs in its own app, so a request has one span and one line). Colours only when
//! stderr is a terminal. A server writes its lines from a thread of their own
//! ([`stderr_in_background`]), so no request waits on stderr.

use std::io::IsTerminal;
use std::sync::Once;

use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::logline::{Line, LineFields};

/// How log lines look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Human,
    Json,
}

/// Installs a readable subscriber writing to `writer`, filtered by `RUST_LOG` or
/// `default_filter`. Returns false when a subscriber was installed already (then it does
/// nothing).
pub fn init<W>(default_filter: &str, writer: W) -> bool
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    init_with_format(default_filter, Format::Human, writer)
}

/// [`init`] with the line format chosen.
pub fn init_with_format<W>(default_filter: &str, format: Format, writer: W) -> bool
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let subscriber = tracing_subscriber::registry().with(filter);
    match format {
        Format::Human if std::io::stderr().is_terminal() => subscriber
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(true)
                    .with_writer(writer),
            )
            .try_init()
            .is_ok(),
        // The same text, written faster (see `logline`).
        Format::Human => subscriber
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .event_format(Line)
                    .fmt_fields(LineFields)
                    .with_writer(writer),
            )
            .try_init()
            .is_ok(),
        Format::Json => subscriber
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_writer(writer),
            )
            .try_init()
            .is_ok(),
    }
}

/// A writer to stderr that does not make the logging thread wait for the write: lines go
/// through a channel to a thread of their own (`capmatch-log`), which writes them in batches.
/// Nothing is dropped: when 128k lines are waiting, loggers wait. Keep the guard until the
/// process is done logging; dropping it writes out every line logged before.
pub fn stderr_in_background() -> (NonBlocking, WorkerGuard) {
    NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("capmatch-log")
        .finish(std::io::BufWriter::new(std::io::stderr()))
}

/// For test binaries: logs to stdout only when `TEST_LOG` is set; silent otherwise. Safe to call
/// from every test.
pub fn init_for_tests(default_filter: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            init(default_filter, std::io::stdout);
        }
    });
}
