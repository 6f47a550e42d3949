//! Tracing subscriber set-up, once per process: `RUST_LOG` filters (else the given default);
//! readable lines for people, or one JSON object per line for log collectors.
//!
//! One access line per request: the request-context middleware opens a span and logs "request
//! completed" for every request it serves. When the gateway calls a service in-process, the
//! gateway's span and line (same request id) are the request's; the service's own are kept only
//! when the filter allows debug lines. Colours only when stderr is a terminal. A server writes its
//! lines from a thread of their own ([`stderr_in_background`]), so no request waits on stderr.

use std::io::IsTerminal;
use std::sync::Once;

use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Level, Metadata, Subscriber};
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

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
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(OneLinePerRequest);
    match format {
        Format::Human => subscriber
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
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

/// Leaves the request span and "request completed" line of a request served in-process (the
/// gateway calling a service's app, [`crate::colocated`]) to debug: the caller's own span and
/// line, with the same request id, cover it. Anything else logged while serving it still shows,
/// inside the caller's span.
struct OneLinePerRequest;

impl OneLinePerRequest {
    /// The request-context middleware's span or completion line, at info.
    fn is_request_telemetry(meta: &Metadata<'_>) -> bool {
        *meta.level() == Level::INFO
            && meta.target().starts_with("capmatch_http")
            && ((meta.is_span() && meta.name() == "request")
                || (meta.is_event() && meta.fields().field("latency_ms").is_some()))
    }
}

impl<S: Subscriber> Layer<S> for OneLinePerRequest {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if Self::is_request_telemetry(meta) {
            Interest::sometimes()
        } else {
            Interest::always()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        !Self::is_request_telemetry(meta)
            || LevelFilter::current() >= LevelFilter::DEBUG
            || !crate::colocated::in_process_call()
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex, PoisonError};

    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, web};

    use super::*;
    use crate::colocated::{Colocated, LocalRequest};

    /// What a subscriber like [`init`]'s (info and above) writes.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            lines.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(scenario: impl FnOnce()) -> Vec<String> {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry()
            .with(LevelFilter::INFO)
            .with(OneLinePerRequest)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(move || writer.clone()),
            );
        tracing::subscriber::with_default(subscriber, scenario);
        let bytes = lines
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn app() -> App<
        impl actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        App::new()
            .route(
                "/x",
                web::get().to(|| async {
                    tracing::warn!("inside the handler");
                    HttpResponse::Ok().finish()
                }),
            )
            .wrap(from_fn(capmatch_http::request_context))
    }

    #[test]
    fn a_request_served_in_process_leaves_the_line_to_its_caller() {
        let lines = logged(|| {
            actix_web::rt::System::new().block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
                let addr = listener.local_addr().expect("bound");
                let (_trigger, signal) = crate::shutdown::channel();
                let _listed = Colocated::register("x", addr, signal, app);
                let colocated = Colocated::at(addr).expect("listed");
                let instance = colocated.instance().await;
                let direct = actix_web::test::init_service(app()).await;

                let req = actix_web::test::TestRequest::get().uri("/x").to_request();
                let res = actix_web::test::call_service(&direct, req).await;
                assert_eq!(res.status(), 200);
                let res = instance
                    .call(LocalRequest {
                        method: actix_web::http::Method::GET,
                        uri: actix_web::http::Uri::from_static("/x"),
                        headers: actix_web::http::header::HeaderMap::new(),
                        body: web::Bytes::new(),
                    })
                    .await
                    .expect("an answer");
                assert_eq!(res.status(), 200);
            });
        });
        let completed: Vec<_> = lines
            .iter()
            .filter(|l| l.contains("request completed"))
            .collect();
        assert_eq!(completed.len(), 1, "{lines:?}");
        let warnings: Vec<_> = lines
            .iter()
            .filter(|l| l.contains("inside the handler"))
            .collect();
        assert_eq!(warnings.len(), 2, "{lines:?}");
        assert!(warnings[0].contains("request{"), "{lines:?}");
        assert!(!warnings[1].contains("request{"), "{lines:?}");
    }
}
