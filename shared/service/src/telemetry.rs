//! Tracing subscriber set-up, once per process: `RUST_LOG` filters (else the given default);
//! readable lines for people, or one JSON object per line for log collectors.
//!
//! One access line per request: the request-context middleware opens a span and logs "request
//! completed" for every request it serves (under `capmatch serve` the gateway serves the
//! services' APIs in its own app, so a request has one span and one line). Colours only when
//! stderr is a terminal. A server writes its lines from a thread of their own
//! ([`stderr_in_background`]), so no request waits on stderr.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Once};
use std::time::SystemTime;

use capmatch_http::{Access, AccessLog};

use tracing::Subscriber;
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::logline::{Line, LineFields, write_access};

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
        // The same text, written faster (see `logline`), access lines included.
        Format::Human => subscriber.with(readable(writer)).try_init().is_ok(),
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

/// The readable lines without colours, written quickly: [`Line`] for events, and an
/// [`AccessLog`] that writes each request's access line directly and lets its context be a
/// task-local instead of a span. The text is what the default format writes.
pub fn readable<S, W>(writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let writer = Shared(Arc::new(writer));
    let access_writer = writer.clone();
    tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .event_format(Line)
        .fmt_fields(LineFields)
        .with_writer(writer)
        .and_then(AccessLog::new(move |access| {
            write_access_line(&access_writer, access)
        }))
}

/// One writer for the log lines and the access lines.
struct Shared<W>(Arc<W>);

impl<W> Clone for Shared<W> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Shared<W> {
    type Writer = W::Writer;

    fn make_writer(&'a self) -> Self::Writer {
        self.0.make_writer()
    }
}

thread_local! {
    /// Where this thread formats its access lines.
    static ACCESS_LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Writes `access` as one line to `writer` (as `logline::write_access` renders it).
fn write_access_line<W>(writer: &W, access: &Access<'_>)
where
    W: for<'a> MakeWriter<'a>,
{
    ACCESS_LINE.with(|line| {
        let mut line = line.borrow_mut();
        line.clear();
        if write_access(&mut line, access, SystemTime::now()).is_ok() {
            // A log line that cannot be written has nowhere else to go.
            let _ = writer.make_writer().write_all(line.as_bytes());
        }
    });
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

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::test::{TestRequest, call_service, init_service};
    use actix_web::{App, HttpResponse, web};

    use super::*;
    use crate::logline::tests::Buffer;

    /// Serves requests (a plain one, one whose handler logs inside a span of its own, one that
    /// fails, a 404) and returns the lines written, without their times.
    fn served_with(
        subscriber: impl Subscriber + Send + Sync + 'static,
        out: &Buffer,
    ) -> Vec<String> {
        tracing::subscriber::with_default(subscriber, || {
            actix_web::rt::System::new().block_on(async {
                let app = init_service(
                    App::new()
                        .route("/items/{id}", web::get().to(HttpResponse::Ok))
                        .route(
                            "/noisy",
                            web::get().to(|| async {
                                tracing::warn!(detail = "odd \"input\"", "inside the handler");
                                let span = tracing::info_span!("step", n = 2u64);
                                span.in_scope(|| tracing::info!("inside a span of its own"));
                                HttpResponse::Accepted().finish()
                            }),
                        )
                        .route(
                            "/fails",
                            web::get().to(|| async {
                                Err::<HttpResponse, _>(capmatch_http::ApiError::internal(
                                    std::io::Error::other("disk full"),
                                ))
                            }),
                        )
                        .wrap(from_fn(capmatch_http::request_context)),
                )
                .await;
                for (path, id) in [
                    ("/items/42", "one"),
                    ("/noisy", "two"),
                    ("/fails", "three"),
                    ("/nowhere", "four"),
                ] {
                    let req = TestRequest::get()
                        .uri(path)
                        .insert_header(("x-request-id", id))
                        .to_request();
                    call_service(&app, req).await;
                }
            });
        });
        out.lines()
            .into_iter()
            .map(|line| {
                // The time, and the latency the two runs need not share.
                let line = line.get(27..).unwrap_or(&line);
                match line.find("latency_ms=") {
                    Some(at) => format!("{}latency_ms=…", &line[..at]),
                    None => line.to_owned(),
                }
            })
            .collect()
    }

    #[test]
    fn requests_read_the_same_with_access_lines_written_directly() {
        let default = Buffer::default();
        let writer = default.clone();
        let spans_and_events = served_with(
            tracing_subscriber::registry().with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(move || writer.clone()),
            ),
            &default,
        );
        let fast = Buffer::default();
        let writer = fast.clone();
        let subscriber = tracing_subscriber::registry().with(readable(move || writer.clone()));
        // The middleware finds the access log in this subscriber, and in the default one none.
        let found = tracing::subscriber::with_default(subscriber, AccessLog::installed);
        assert!(found.is_some());
        assert!(AccessLog::installed().is_none());
        let writer = fast.clone();
        let direct = served_with(
            tracing_subscriber::registry().with(readable(move || writer.clone())),
            &fast,
        );
        assert_eq!(spans_and_events.len(), 7, "{spans_and_events:#?}");
        assert_eq!(direct, spans_and_events);
        assert!(
            spans_and_events[1].contains(
                "request{request_id=\"two\"}: capmatch_service::telemetry::tests: \
                 inside the handler"
            ),
            "{spans_and_events:#?}"
        );
    }
}
