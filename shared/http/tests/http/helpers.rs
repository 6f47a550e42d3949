//! A tiny service wired like a real one, and a reply type to assert on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, get, patch, post, test, web};
use capmatch_http::{ApiError, FieldError, IfMatch, Problem, ProblemCode, RequestId};
use serde::Deserialize;

/// The limit the test app puts on JSON bodies, small so tests stay small.
pub const TEST_LIMIT: usize = 256;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct NewItem {
    pub title: String,
    pub count: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ListQuery {
    pub limit: Option<u32>,
}

#[post("/items")]
async fn create(item: web::Json<NewItem>) -> HttpResponse {
    HttpResponse::Created().json(serde_json::json!({ "title": item.title }))
}

#[get("/items")]
async fn list(query: web::Query<ListQuery>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "limit": query.limit }))
}

#[get("/items/{id}")]
async fn show(id: web::Path<uuid::Uuid>, request_id: RequestId) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(capmatch_http::etag_header(3))
        .json(serde_json::json!({ "id": id.into_inner(), "request_id": request_id.as_str() }))
}

#[patch("/items/{id}")]
async fn revise(_id: web::Path<uuid::Uuid>, if_match: IfMatch) -> Result<HttpResponse, ApiError> {
    if_match.check(3)?;
    Ok(HttpResponse::Ok()
        .insert_header(capmatch_http::etag_header(4))
        .finish())
}

#[get("/fail/internal")]
async fn internal() -> Result<HttpResponse, ApiError> {
    let io = std::io::Error::other("disk /var/lib/capmatch/needs is full");
    Err(ApiError::internal(io))
}

#[get("/fail/foreign")]
async fn foreign() -> Result<HttpResponse, actix_web::Error> {
    Err(actix_web::error::ErrorInternalServerError(
        "sled: corrupted page 42",
    ))
}

#[get("/fail/foreign-400")]
async fn foreign_400() -> Result<HttpResponse, actix_web::Error> {
    Err(actix_web::error::ErrorBadRequest(
        "serde said: expected struct Internal",
    ))
}

#[get("/fail/validation")]
async fn validation() -> Result<HttpResponse, ApiError> {
    Err(ApiError::validation([
        FieldError::new(
            "country",
            "invalid_country",
            "not an ISO 3166-1 alpha-2 code",
        ),
        FieldError::new("themes[0]", "unknown_theme", "unknown theme"),
    ]))
}

#[get("/fail/unauthenticated")]
async fn unauthenticated() -> Result<HttpResponse, ApiError> {
    Err(ApiError::unauthenticated())
}

#[get("/fail/too-many")]
async fn too_many() -> Result<HttpResponse, ApiError> {
    Err(ApiError::too_many_requests(Some(
        std::time::Duration::from_secs(7),
    )))
}

#[get("/fail/{code}")]
async fn by_code(code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let code = ProblemCode::ALL
        .iter()
        .find(|c| c.as_str() == code.as_str())
        .copied()
        .unwrap_or(ProblemCode::NotFound);
    Err(ApiError::new(code))
}

/// A service wired like the real ones: the kit's extractor configs, default service and
/// request-context middleware, plus one `web::resource` whose empty 405 the middleware must
/// turn into a problem.
pub async fn call(req: test::TestRequest) -> Reply {
    let app = test::init_service(
        App::new()
            .app_data(capmatch_http::json_config_with_limit(TEST_LIMIT))
            .app_data(capmatch_http::query_config())
            .app_data(capmatch_http::path_config())
            .service(create)
            .service(list)
            .service(show)
            .service(revise)
            .service(internal)
            .service(foreign)
            .service(foreign_400)
            .service(validation)
            .service(unauthenticated)
            .service(too_many)
            .service(by_code)
            .service(web::resource("/resource").route(web::get().to(HttpResponse::Ok)))
            .default_service(web::to(capmatch_http::extract::default_service))
            .wrap(from_fn(capmatch_http::request_context)),
    )
    .await;
    let res = test::call_service(&app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let body = test::read_body(res).await;
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the reply is a problem+json with `status` and `code`, and returns it.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Problem {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{self:?}"
        );
        let problem: Problem = serde_json::from_str(&self.body).expect("a problem body");
        assert_eq!(problem.status, status);
        assert_eq!(problem.code, code, "{problem:?}");
        assert_eq!(
            problem.type_uri,
            format!("https://capmatch.dev/problems/{}", code.replace('_', "-"))
        );
        let request_id = self.header("x-request-id").expect("an X-Request-Id header");
        assert_eq!(
            problem.request_id.as_deref(),
            Some(request_id),
            "request id in the body"
        );
        problem
    }
}

/// A `tracing` subscriber that keeps every span's fields (including those recorded later) and
/// every event's fields, so tests can say what the logs contain.
#[derive(Debug, Default, Clone)]
pub struct Capture {
    inner: Arc<Mutex<CaptureState>>,
}

#[derive(Debug, Default)]
pub struct CaptureState {
    pub spans: Vec<(String, BTreeMap<String, String>)>,
    /// Each event's fields, and `in_span`: the name of the span it was logged in.
    pub events: Vec<BTreeMap<String, String>>,
    /// The spans entered, innermost last.
    entered: Vec<u64>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Capture {
    pub fn spans_named(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let state = self.inner.lock().expect("capture lock");
        state
            .spans
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, f)| f.clone())
            .collect()
    }

    /// The events whose message is `message`.
    pub fn events_saying(&self, message: &str) -> Vec<BTreeMap<String, String>> {
        let state = self.inner.lock().expect("capture lock");
        state
            .events
            .iter()
            .filter(|e| e.get("message").map(String::as_str) == Some(message))
            .cloned()
            .collect()
    }

    pub fn everything(&self) -> String {
        format!("{:?}", self.inner.lock().expect("capture lock"))
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut state = self.inner.lock().expect("capture lock");
        state
            .spans
            .push((attrs.metadata().name().to_owned(), fields));
        tracing::span::Id::from_u64(state.spans.len() as u64)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut state = self.inner.lock().expect("capture lock");
        if let Some((_, fields)) = state.spans.get_mut(span.into_u64() as usize - 1) {
            values.record(&mut Fields(fields));
        }
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let mut state = self.inner.lock().expect("capture lock");
        let span = state
            .entered
            .last()
            .and_then(|id| state.spans.get(*id as usize - 1));
        if let Some((name, _)) = span {
            fields.insert("in_span".to_owned(), name.clone());
        }
        state.events.push(fields);
    }
    fn enter(&self, span: &tracing::span::Id) {
        let mut state = self.inner.lock().expect("capture lock");
        state.entered.push(span.into_u64());
    }
    fn exit(&self, span: &tracing::span::Id) {
        let mut state = self.inner.lock().expect("capture lock");
        if let Some(at) = state.entered.iter().rposition(|id| *id == span.into_u64()) {
            state.entered.remove(at);
        }
    }
}
