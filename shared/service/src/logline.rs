//! The readable log line, written quickly: the same text as `tracing-subscriber`'s default
//! ("full") format without colours, for a fraction of its cost.
//!
//! Every request writes one line (the access line) and opens one span, so formatting is on every
//! request's path. The default formatter goes through `core::fmt` for each piece (the timestamp
//! digit by digit, the level padded, every field name and value), and through colour styles even
//! when colours are off. [`Line`] and [`LineFields`] write the common pieces directly: the
//! timestamp from a per-thread copy of the current second, the level as a constant, names and
//! plain values as they are. Anything out of the ordinary (a value with characters to escape, a
//! `Debug` value, an error) is written exactly as the default formatter writes it, so the text
//! is the same either way; a test compares the two on a range of events.
//!
//! Colours (a terminal) keep the default formatter.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use capmatch_http::{Access, RequestId};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The event format: `timestamp level spans: target: fields`, as the default full format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Line;

/// The field format of events and spans: `message name=value ...`, as the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineFields;

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        write_timestamp(&mut writer, SystemTime::now())?;
        writer.write_str(level(meta.level()))?;
        // The request being served, when its context is a task-local rather than a span (see
        // `capmatch_http::AccessLog`): written as its span would be, outermost.
        let request = capmatch_http::current_request_id();
        if let Some(id) = &request {
            write_request_span(&mut writer, id)?;
        }
        let mut seen = request.is_some();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                seen = true;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    writer.write_char('{')?;
                    writer.write_str(fields)?;
                    writer.write_char('}')?;
                }
                writer.write_char(':')?;
            }
        }
        if seen {
            writer.write_char(' ')?;
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

/// `request{request_id="…"}:`, as the request span of `capmatch_http::request_context` is
/// written.
fn write_request_span(writer: &mut impl fmt::Write, id: &RequestId) -> fmt::Result {
    writer.write_str("request{request_id=")?;
    write_str_value(writer, id.as_str())?;
    writer.write_str("}:")
}

/// A `&str` field's value as the default writes it (`Debug`: quoted, escaped).
fn write_str_value(writer: &mut impl fmt::Write, value: &str) -> fmt::Result {
    if plain(value) {
        writer.write_char('"')?;
        writer.write_str(value)?;
        writer.write_char('"')
    } else {
        write!(writer, "{value:?}")
    }
}

/// The access line of a request, as `capmatch_http::request_context` would log it through
/// [`Line`] with a real span: `… INFO request{request_id="…"}: capmatch_http::request_id:
/// request completed method="GET" route="/v1/needs/{id}" status=200 latency_ms=0`.
pub fn write_access(out: &mut String, access: &Access<'_>, now: SystemTime) -> fmt::Result {
    let mut writer = Writer::new(out);
    write_timestamp(&mut writer, now)?;
    writer.write_str(" INFO ")?;
    write_request_span(&mut writer, access.request_id)?;
    writer.write_char(' ')?;
    writer.write_str(capmatch_http::ACCESS_TARGET)?;
    writer.write_str(": request completed method=")?;
    write_str_value(&mut writer, access.method.as_str())?;
    writer.write_str(" route=")?;
    write_str_value(&mut writer, access.route)?;
    writer.write_str(" status=")?;
    write_decimal(&mut writer, false, u64::from(access.status))?;
    writer.write_str(" latency_ms=")?;
    write_decimal(&mut writer, false, access.latency_ms)?;
    writer.write_char('\n')
}

/// The level as the default writes it: padded to five, then a space.
fn level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE ",
        Level::DEBUG => "DEBUG ",
        Level::INFO => " INFO ",
        Level::WARN => " WARN ",
        _ => "ERROR ",
    }
}

thread_local! {
    /// The second last formatted on this thread and its text up to the seconds
    /// (`2026-12-06T18:06:40.`).
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// `2026-12-06T18:06:40.498315Z ` (UTC, microseconds, then a space).
fn write_timestamp(writer: &mut Writer<'_>, now: SystemTime) -> fmt::Result {
    let Ok(since_epoch) = now.duration_since(UNIX_EPOCH) else {
        return writer.write_str("<unknown time> ");
    };
    let secs = since_epoch.as_secs();
    SECOND.with(|cell| {
        let mut second = cell.borrow_mut();
        if second.0 != secs {
            let text = &mut second.1;
            text.clear();
            civil_second(text, secs)?;
            second.0 = secs;
        }
        writer.write_str(&second.1)
    })?;
    let micros = since_epoch.subsec_micros();
    let mut digits = [b'0'; 6];
    let mut rest = micros;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    // Six ASCII digits.
    writer.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)?;
    writer.write_str("Z ")
}

/// `YYYY-MM-DDTHH:MM:SS.` for `secs` since the Unix epoch (UTC).
fn civil_second(out: &mut String, secs: u64) -> fmt::Result {
    let at = i64::try_from(secs)
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .ok_or(fmt::Error)?;
    write!(out, "{}", at.format("%Y-%m-%dT%H:%M:%S."))
}

impl<'w> FormatFields<'w> for LineFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let sanitize = writer.sanitizes_ansi_escapes();
        let mut visitor = Fields {
            writer,
            sanitize,
            empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct Fields<'w> {
    writer: Writer<'w>,
    /// Whether the message is cleared of terminal control characters (the default: yes).
    sanitize: bool,
    empty: bool,
    result: fmt::Result,
}

impl Fields<'_> {
    /// A space before every field but the first, then `name=` (`r#type` is written `type`).
    fn start(&mut self, field: &Field) -> fmt::Result {
        if self.empty {
            self.empty = false;
        } else {
            self.writer.write_char(' ')?;
        }
        if field.name() != "message" {
            let name = field.name();
            self.writer
                .write_str(name.strip_prefix("r#").unwrap_or(name))?;
            self.writer.write_char('=')?;
        }
        Ok(())
    }

    fn record(&mut self, field: &Field, write: impl FnOnce(&mut Self) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self.start(field).and_then(|()| write(self));
        }
    }
}

/// Printable ASCII that `str`'s `Debug` writes as it is (not `"` or `\`).
fn plain(s: &str) -> bool {
    s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// Text the message sanitiser leaves alone: ASCII without the terminal control characters.
fn harmless(s: &str) -> bool {
    s.bytes()
        .all(|b| b < 0x80 && !matches!(b, 0x1b | 0x07 | 0x08 | 0x0c | 0x7f))
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let sanitize = self.sanitize;
        self.record(field, |f| {
            if field.name() == "message" {
                if !sanitize || harmless(value) {
                    f.writer.write_str(value)
                } else {
                    write!(Sanitizing(&mut f.writer), "{value}")
                }
            } else {
                write_str_value(&mut f.writer, value)
            }
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record(field, |f| write_decimal(&mut f.writer, false, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record(field, |f| {
            write_decimal(&mut f.writer, value < 0, value.unsigned_abs())
        });
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.record(field, |f| {
            f.writer.write_str(if value { "true" } else { "false" })
        });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let sanitize = self.sanitize;
        self.record(field, |f| {
            // `error name.sources=[cause, its cause]`, each part sanitised like a message.
            let mut text = value.to_string();
            if let Some(source) = value.source() {
                write!(text, " {}.sources=[", field.name())?;
                let mut next = Some(source);
                let mut first = true;
                while let Some(error) = next {
                    if !first {
                        text.push_str(", ");
                    }
                    first = false;
                    write!(text, "{error}")?;
                    next = error.source();
                }
                text.push(']');
            }
            if sanitize {
                write!(Sanitizing(&mut f.writer), "{text}")
            } else {
                f.writer.write_str(&text)
            }
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let sanitize = self.sanitize;
        self.record(field, |f| {
            if field.name() == "message" && sanitize {
                write!(Sanitizing(&mut f.writer), "{value:?}")
            } else {
                write!(f.writer, "{value:?}")
            }
        });
    }
}

/// `value` in decimal (what `{}` writes), without the formatting machinery.
fn write_decimal(writer: &mut impl fmt::Write, negative: bool, value: u64) -> fmt::Result {
    if negative {
        writer.write_char('-')?;
    }
    writer.write_str(itoa::Buffer::new().format(value))
}

/// Writes through, escaping what a terminal would act on, as the default formatter does.
struct Sanitizing<'a, W: fmt::Write>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Sanitizing<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if harmless(s) {
            return self.0.write_str(s);
        }
        for ch in s.chars() {
            match ch {
                '\x1b' => self.0.write_str("\\x1b")?,
                '\x07' => self.0.write_str("\\x07")?,
                '\x08' => self.0.write_str("\\x08")?,
                '\x0c' => self.0.write_str("\\x0c")?,
                '\x7f' => self.0.write_str("\\x7f")?,
                ch if ('\u{80}'..='\u{9f}').contains(&ch) => {
                    write!(self.0, "\\u{{{:x}}}", ch as u32)?
                }
                ch => self.0.write_char(ch)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, Mutex, PoisonError};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Where a test's subscriber writes its lines.
    #[derive(Clone, Default)]
    pub(crate) struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        pub(crate) fn lines(&self) -> Vec<String> {
            let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            String::from_utf8_lossy(&bytes)
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer \u{1b}[31mfailure")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner cause \"quoted\"")]
    struct Inner;

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Shape {
        name: &'static str,
        sides: u8,
    }

    /// Events of every kind a service logs, and some it should not.
    fn scenario() {
        tracing::info!("plain message");
        tracing::warn!(
            count = 3u64,
            delta = -7i64,
            ok = true,
            ratio = 0.5f64,
            "numbers"
        );
        tracing::warn!(
            max = u64::MAX,
            min = i64::MIN,
            zero = 0i64,
            small = 7u8,
            "extremes"
        );
        let request = tracing::info_span!("request", request_id = "ab-12");
        request.in_scope(|| {
            tracing::info!(
                method = "GET",
                route = "/v1/needs/{id}",
                status = 200u16,
                latency_ms = 0u64,
                "request completed"
            );
            let inner = tracing::info_span!("inner", shape = ?Shape { name: "tri", sides: 3 });
            inner.in_scope(|| tracing::error!(error = %"disk full", "write failed"));
        });
        let empty = tracing::info_span!("empty");
        empty.in_scope(|| tracing::info!(r#type = "kind", "raw identifier"));
        let late = tracing::info_span!("late", route = tracing::field::Empty, n = 1u64);
        late.record("route", "/x");
        late.in_scope(|| tracing::info!("recorded after creation"));
        tracing::info!(
            text = "quote \" backslash \\ newline \n tab \t é ü \u{7}",
            "escapes"
        );
        tracing::info!("message with \u{1b}[2J escape, \u{85} next line, \u{7f} and é");
        tracing::info!(message = "named \"message\" field", extra = 1u64);
        tracing::error!(
            error = &Outer(Inner) as &(dyn std::error::Error + 'static),
            "failed"
        );
        tracing::error!(error = &Inner as &(dyn std::error::Error + 'static));
        tracing::info!(debugged = ?vec!["a", "b\"c"], displayed = %"shown as is", "kinds");
        tracing::info!(target: "custom::target", "no fields at all");
    }

    fn with_default_format() -> Vec<String> {
        let out = Buffer::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        );
        tracing::subscriber::with_default(subscriber, scenario);
        out.lines()
    }

    fn with_line_format() -> Vec<String> {
        let out = Buffer::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .event_format(Line)
                .fmt_fields(LineFields)
                .with_writer(move || writer.clone()),
        );
        tracing::subscriber::with_default(subscriber, scenario);
        out.lines()
    }

    /// The line without its timestamp, which must have the default's shape.
    fn untimed(line: &str) -> &str {
        let (stamp, rest) = line.split_at_checked(27).unwrap_or(("", line));
        let shape: Vec<bool> = stamp.bytes().map(|b| b.is_ascii_digit()).collect();
        let expected: Vec<bool> = "2026-12-06T18:06:40.498315Z"
            .bytes()
            .map(|b| b.is_ascii_digit())
            .collect();
        assert_eq!(shape, expected, "timestamp of {line:?}");
        assert!(
            stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{line:?}"
        );
        rest
    }

    #[test]
    fn lines_read_exactly_as_the_default_format_writes_them() {
        let default = with_default_format();
        let fast = with_line_format();
        assert_eq!(default.len(), 14, "{default:#?}");
        assert_eq!(default.len(), fast.len(), "{default:#?}\n{fast:#?}");
        for (d, f) in default.iter().zip(&fast) {
            assert_eq!(untimed(f), untimed(d));
        }
    }

    #[test]
    fn timestamps_are_utc_with_microseconds() {
        for (secs, micros, expected) in [
            (0, 0, "1970-01-01T00:00:00.000000Z "),
            (951_782_400, 7, "2000-02-29T00:00:00.000007Z "),
            (1_796_579_217, 498_315, "2026-12-06T17:46:57.498315Z "),
            (4_102_444_799, 999_999, "2099-12-31T23:59:59.999999Z "),
        ] {
            let at = UNIX_EPOCH + std::time::Duration::new(secs, micros * 1000);
            let mut text = String::new();
            write_timestamp(&mut Writer::new(&mut text), at).expect("written");
            assert_eq!(text, expected);
            let same = chrono::DateTime::<chrono::Utc>::from(at)
                .format("%Y-%m-%dT%H:%M:%S%.6fZ ")
                .to_string();
            assert_eq!(text, same);
        }
    }
}
