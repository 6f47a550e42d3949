//! Tracing subscriber set-up, once per process: `RUST_LOG` filters (else the given default);
//! readable lines for people, or one JSON object per line for log collectors.

use std::sync::Once;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        Format::Human => builder.try_init().is_ok(),
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
            .is_ok(),
    }
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
