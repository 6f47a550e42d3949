//! Request ids, the per-request tracing span, and the last word on error bodies.
//!
//! [`request_context`] is the outermost middleware of every service:
//!
//! - takes the caller's `X-Request-Id` when it is 1..=128 characters of `[A-Za-z0-9._-]`,
//!   otherwise generates a UUID v4; stores it as [`RequestId`] in the request extensions and
//!   echoes it in the response's `X-Request-Id`;
//! - runs the request inside a `request` span with its `request_id`, and ends it with one access
//!   line, "request completed", with `method`, `route` (the matched pattern, or the
//!   [`AnsweredRoute`] a handler recorded; never the raw path), `status` and `latency_ms` —
//!   never a header value such as `Authorization`;
//! - makes every error response a problem: an [`ApiError`] is re-rendered with the request id
//!   in its body; a bare error status from actix (an empty 405, a 404 from a resource without
//!   default service...) is replaced by the table's problem for that status.

use std::future::{Ready, ready};
use std::time::Instant;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use tracing::Instrument;

use crate::error::{ApiError, problem_response};
use crate::problem::{PROBLEM_JSON, Problem};

/// The request id header, in and out.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id accepted from a caller.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The id of the current request (from `X-Request-Id` or generated). Also an extractor. Kept as
/// the header value it is sent back in: a caller's id is echoed without a copy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The caller's id if it is acceptable, else a fresh UUID v4.
    pub fn from_header(value: Option<&HeaderValue>) -> Self {
        value
            .filter(|v| v.to_str().is_ok_and(is_valid_request_id))
            .map(|v| Self(v.clone()))
            .unwrap_or_else(Self::generate)
    }

    /// A fresh UUID v4 id.
    pub fn generate() -> Self {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id = uuid::Uuid::new_v4();
        let text = id.hyphenated().encode_lower(&mut text);
        // A hyphenated UUID is always a valid header value.
        Self(HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-")))
    }

    /// The id as sent on the wire.
    pub fn as_str(&self) -> &str {
        // Only ids of `[A-Za-z0-9._-]` are ever made.
        self.0.to_str().unwrap_or_default()
    }

    /// The id as a header value.
    pub fn header_value(&self) -> &HeaderValue {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 1..=128 characters of `[A-Za-z0-9._-]`: safe to log and to put back in a header.
pub fn is_valid_request_id(value: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl FromRequest for RequestId {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    /// The id stored by [`request_context`]; without that middleware, a fresh one (stored, so
    /// every extractor of the request sees the same id).
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let id = req.extensions().get::<RequestId>().cloned();
        ready(Ok(id.unwrap_or_else(|| {
            let id = RequestId::generate();
            req.extensions_mut().insert(id.clone());
            id
        })))
    }
}

/// The route that answered a request whose path actix matched to no pattern of its own: a
/// handler serving many paths (the gateway forwarding to the service that owns them) records
/// here the route the request really took, so that logs and metrics name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredRoute(pub String);

/// The route to name in logs and metrics, never the raw path: the [`AnsweredRoute`] a handler
/// recorded, else the pattern actix matched, else `(unmatched)`.
pub fn route_label(req: &HttpRequest) -> String {
    if let Some(AnsweredRoute(route)) = req.extensions().get::<AnsweredRoute>() {
        return route.clone();
    }
    req.match_pattern().unwrap_or_else(|| UNMATCHED.to_owned())
}

const UNMATCHED: &str = "(unmatched)";

/// The middleware: `App::new().wrap(actix_web::middleware::from_fn(request_context))`.
/// Wrap it last, so it is outermost and sees every response.
///
/// Each request is logged in a context that carries its id, and ends with one access line. With
/// an [`AccessLog`] layer in the subscriber, the context is a task-local the log formatter reads
/// and the line is written directly; without one, they are a tracing span and event. The text is
/// the same either way.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static, BoxBody>>, actix_web::Error> {
    let request_id = RequestId::from_header(req.headers().get(REQUEST_ID_HEADER));
    req.extensions_mut().insert(request_id.clone());
    let method = req.method().clone();
    let started = Instant::now();
    let latency_ms = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

    if let Some(log) = AccessLog::installed() {
        let answered = CURRENT_REQUEST
            .scope(request_id.clone(), answer(req, next, &request_id))
            .await;
        if tracing::enabled!(tracing::Level::INFO) {
            log.write(&Access {
                request_id: &request_id,
                method: &method,
                route: &answered.route,
                status: answered.status.as_u16(),
                latency_ms: latency_ms(),
            });
        }
        return answered.result;
    }

    // The span carries what every line logged while serving the request needs: its id. The
    // rest is said once, by the access line (recording it into the span would format it twice).
    let span = tracing::info_span!("request", request_id = request_id.as_str());
    let answered = answer(req, next, &request_id)
        .instrument(span.clone())
        .await;
    span.in_scope(|| {
        tracing::info!(
            target: ACCESS_TARGET,
            method = method.as_str(),
            route = answered.route.as_str(),
            status = answered.status.as_u16(),
            latency_ms = latency_ms(),
            "request completed"
        );
    });
    answered.result
}

/// A request's answer, with the route and status its access line names.
struct Answered<B> {
    result: Result<ServiceResponse<EitherBody<B, BoxBody>>, actix_web::Error>,
    route: String,
    status: StatusCode,
}

/// Serves the request and makes every error answer a problem with the request id.
async fn answer<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
    request_id: &RequestId,
) -> Answered<B> {
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(err) => {
            // An inner middleware failed before producing a response (handlers' errors are
            // responses by now). No request is at hand to build a `ServiceResponse`, so the
            // problem travels as a pre-rendered error.
            let status = err.as_response_error().status_code();
            let mut response =
                problem_replacement(status, Some(&err), &HeaderMap::new(), request_id.as_str())
                    .unwrap_or_else(|| err.error_response());
            set_request_id(response.headers_mut(), request_id);
            return Answered {
                status: response.status(),
                route: UNMATCHED.to_owned(),
                result: Err(InternalError::from_response(err.to_string(), response).into()),
            };
        }
    };

    let route = route_label(res.request());
    let replacement = problem_replacement(
        res.status(),
        res.response().error(),
        res.headers(),
        request_id.as_str(),
    );
    let mut res = match replacement {
        Some(response) => res.into_response(response).map_into_right_body(),
        None => res.map_into_left_body(),
    };
    set_request_id(res.headers_mut(), request_id);
    Answered {
        status: res.status(),
        route,
        result: Ok(res),
    }
}

/// The target of the access line, "request completed": a fast formatter that writes the line
/// itself ([`AccessLog`]) names it the same.
pub const ACCESS_TARGET: &str = module_path!();

tokio::task_local! {
    /// The id of the request being served, when an [`AccessLog`] stands in for the request
    /// span (see [`current_request_id`]).
    static CURRENT_REQUEST: RequestId;
}

/// The id of the request whose task is running, when an [`AccessLog`] is installed: the log
/// formatter writes it where the request span would have been (`request{request_id="…"}:`).
/// `None` outside a request, or when requests have real spans.
pub fn current_request_id() -> Option<RequestId> {
    CURRENT_REQUEST.try_with(RequestId::clone).ok()
}

/// What an access line says.
#[derive(Debug)]
pub struct Access<'a> {
    pub request_id: &'a RequestId,
    pub method: &'a actix_web::http::Method,
    /// The route pattern, never the raw path.
    pub route: &'a str,
    pub status: u16,
    pub latency_ms: u64,
}

type WriteAccess = dyn Fn(&Access<'_>) + Send + Sync;

/// A layer for the tracing subscriber that writes access lines directly and lets the request
/// context be a task-local instead of a span ([`request_context`]): the cheap way to log every
/// request, for a formatter that writes the context itself. It handles no tracing data; the
/// middleware finds it in the current subscriber.
#[derive(Clone)]
pub struct AccessLog {
    write: std::sync::Arc<WriteAccess>,
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog").finish_non_exhaustive()
    }
}

impl AccessLog {
    /// `write` writes one access line; it runs on the request's thread.
    pub fn new(write: impl Fn(&Access<'_>) + Send + Sync + 'static) -> Self {
        AccessLog {
            write: std::sync::Arc::new(write),
        }
    }

    /// The access log of the current subscriber, if it has one.
    pub fn installed() -> Option<AccessLog> {
        tracing::dispatcher::get_default(|dispatch| dispatch.downcast_ref::<AccessLog>().cloned())
    }

    fn write(&self, access: &Access<'_>) {
        (self.write)(access);
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for AccessLog {}

fn set_request_id(headers: &mut HeaderMap, request_id: &RequestId) {
    headers.insert(REQUEST_ID_HEADER, request_id.header_value().clone());
}

/// The problem response that replaces an error response, or `None` to keep the response:
/// an [`ApiError`] is re-rendered with `request_id` in its body; a response that is already a
/// problem is kept; any other error status (a bare status from actix, a body from a foreign
/// error type) becomes the table's problem for that status, keeping the headers that matter to
/// the protocol (`Allow`, `WWW-Authenticate`, `Retry-After`).
fn problem_replacement(
    status: StatusCode,
    error: Option<&actix_web::Error>,
    headers: &HeaderMap,
    request_id: &str,
) -> Option<HttpResponse> {
    if !(status.is_client_error() || status.is_server_error()) {
        return None;
    }
    if let Some(api_error) = error.and_then(|e| e.as_error::<ApiError>()) {
        return Some(api_error.render(Some(request_id)));
    }
    let is_problem = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return None;
    }
    if let Some(err) = error.filter(|_| status.is_server_error()) {
        tracing::error!(status = status.as_u16(), cause = %err, "request failed");
    }
    let mut problem = Problem::for_status(status);
    problem.request_id = Some(request_id.to_owned());
    let mut builder = HttpResponse::build(status);
    for name in [header::ALLOW, header::WWW_AUTHENTICATE, header::RETRY_AFTER] {
        if let Some(value) = headers.get(&name) {
            builder.insert_header((name, value.clone()));
        }
    }
    Some(problem_response(builder, &problem))
}

#[cfg(test)]
mod tests {
    use actix_web::test::{TestRequest, call_and_read_body, init_service};
    use actix_web::{App, HttpResponse, web};

    use super::*;

    async fn label(req: HttpRequest) -> HttpResponse {
        HttpResponse::Ok().body(route_label(&req))
    }

    async fn forwarding(req: HttpRequest) -> HttpResponse {
        if req.path().starts_with("/v1/") {
            req.extensions_mut()
                .insert(AnsweredRoute("/v1/needs/{id}".to_owned()));
        }
        label(req).await
    }

    #[actix_web::test]
    async fn the_route_is_the_pattern_or_what_a_handler_recorded_never_the_path() {
        let app = init_service(
            App::new()
                .route("/v1/offers/{id}", web::get().to(label))
                .default_service(web::to(forwarding)),
        )
        .await;
        for (path, route) in [
            ("/v1/offers/secret-id", "/v1/offers/{id}"),
            ("/v1/needs/secret-id", "/v1/needs/{id}"),
            ("/elsewhere/secret-id", "(unmatched)"),
        ] {
            let req = TestRequest::get().uri(path).to_request();
            let body = call_and_read_body(&app, req).await;
            assert_eq!(body, route.as_bytes(), "{path}");
        }
    }

    #[test]
    fn request_ids_are_checked_for_length_and_alphabet() {
        assert!(is_valid_request_id("abc-DEF_1.2"));
        assert!(is_valid_request_id(&"a".repeat(128)));
        assert!(!is_valid_request_id(&"a".repeat(129)));
        assert!(!is_valid_request_id(""));
        assert!(!is_valid_request_id("a b"));
        assert!(!is_valid_request_id("a\u{e9}"));
        assert!(!is_valid_request_id("Bearer:x"));
    }
}
