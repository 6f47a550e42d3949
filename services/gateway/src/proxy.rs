//! Forwarding to the owning service. The upstream's answer (status, body and every end-to-end
//! header) comes back unchanged; only a down or slow upstream produces an answer
//! of the gateway's own (503 or 504 problem).
//!
//! An upstream in this process ([`LocalUpstreams`], under `capmatch serve`) is not forwarded to
//! at all: its API is mounted in the gateway's own app ([`LocalUpstreams::mount`]), behind the
//! same edge checks, and answers in the gateway's pipeline. The others are reached over HTTP with
//! `awc`; so is a local upstream that has begun to stop (its mounted scope admits nothing new,
//! and its stopped server answers the forwarded request with a 503).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use awc::error::SendRequestError;
use capmatch_http::{AnsweredRoute, ApiError, RequestId};
use capmatch_service::{Colocated, Mounting};

use crate::client::TrustedProxies;
use crate::routes::{self, Upstream};

/// Request headers passed to the service; everything else stays at the edge.
const FORWARDED_REQUEST_HEADERS: [HeaderName; 6] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    HeaderName::from_static("idempotency-key"),
];

/// Response headers that belong to one connection (RFC 9110 §7.6.1) or that the gateway writes
/// itself: every other header of the service's answer reaches the caller unchanged, exactly as
/// when the service is mounted in the gateway and answers in its pipeline.
const HOP_BY_HOP_RESPONSE_HEADERS: [HeaderName; 10] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::CONTENT_LENGTH,
    header::DATE,
    capmatch_http::REQUEST_ID_HEADER,
];

/// Largest response body taken from a service (lists are paginated; this is a safety bound).
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Where each upstream lives and how long it may take. Shared by all workers.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub needs: String,
    pub offers: String,
    pub matcher: String,
    pub timeout: Duration,
}

impl Upstreams {
    pub fn base(&self, upstream: Upstream) -> &str {
        match upstream {
            Upstream::Needs => &self.needs,
            Upstream::Offers => &self.offers,
            Upstream::Matcher => &self.matcher,
        }
    }
}

/// The upstreams running in this process, whose APIs the gateway serves itself; `None` is
/// reached over HTTP.
#[derive(Debug, Clone, Default)]
pub struct LocalUpstreams {
    pub needs: Option<Colocated>,
    pub offers: Option<Colocated>,
    pub matcher: Option<Colocated>,
}

impl LocalUpstreams {
    /// The upstream's API when it runs in this process.
    pub fn get(&self, upstream: Upstream) -> Option<&Colocated> {
        match upstream {
            Upstream::Needs => self.needs.as_ref(),
            Upstream::Offers => self.offers.as_ref(),
            Upstream::Matcher => self.matcher.as_ref(),
        }
    }

    /// Mounts each local upstream's API in a worker's app, for the paths the route table gives
    /// it, with bodies capped at `body_limit`. Register before the forwarding scope.
    pub fn mount(&self, cfg: &mut web::ServiceConfig, body_limit: usize) {
        for (upstream, local) in [
            (Upstream::Needs, &self.needs),
            (Upstream::Offers, &self.offers),
            (Upstream::Matcher, &self.matcher),
        ] {
            if let Some(colocated) = local {
                let owns = move |path: &str| routes::upstream_for(path) == Some(upstream);
                colocated.mount(cfg, &Mounting::new(owns, body_limit));
            }
        }
    }
}

/// The catch-all handler under `/v1/`: finds the owner of the path and forwards to it.
pub async fn forward(
    req: HttpRequest,
    body: web::Bytes,
    request_id: RequestId,
    upstreams: web::Data<Upstreams>,
    local: Option<web::Data<LocalUpstreams>>,
    client: web::Data<awc::Client>,
) -> Result<HttpResponse, ApiError> {
    let upstream = routes::upstream_for(req.path()).ok_or_else(ApiError::not_found)?;
    // An upstream of this process that did not take the request is stopping: there is nowhere
    // else to send it.
    if local.as_ref().is_some_and(|l| l.get(upstream).is_some()) {
        return Err(ApiError::unavailable(format!(
            "{} is stopping",
            upstream.name()
        )));
    }
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or(req.path(), |pq| pq.as_str());
    let url = format!("{}{}", upstreams.base(upstream), path_and_query);
    // Which of the upstream's routes answers is the upstream's to know.
    req.extensions_mut()
        .insert(AnsweredRoute(format!("(forwarded to {})", upstream.name())));

    let mut outgoing = client
        .request(req.method().clone(), url)
        .timeout(upstreams.timeout);
    for (name, value) in &forwarded_headers(&req, &request_id) {
        outgoing = outgoing.insert_header((name.clone(), value.clone()));
    }

    let mut response = outgoing
        .send_body(body)
        .await
        .map_err(|e| upstream_failure(upstream, e))?;
    let payload = response
        .body()
        .limit(MAX_RESPONSE_BYTES)
        .await
        .map_err(|e| ApiError::unavailable(format!("{} response body: {e}", upstream.name())))?;

    Ok(answer(response.status(), response.headers()).body(payload))
}

/// What the service gets besides method, path and body: the forwarded request headers, the
/// request id and the client's address.
fn forwarded_headers(req: &HttpRequest, request_id: &RequestId) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for name in FORWARDED_REQUEST_HEADERS {
        if let Some(value) = req.headers().get(&name) {
            headers.insert(name, value.clone());
        }
    }
    headers.insert(
        capmatch_http::REQUEST_ID_HEADER,
        request_id.header_value().clone(),
    );
    let client = match req.app_data::<web::Data<TrustedProxies>>() {
        Some(proxies) => proxies.client_of(req),
        None => req.peer_addr().map(|a| a.ip()),
    };
    if let Some(client) = client
        && let Ok(value) = HeaderValue::from_str(&client.to_string())
    {
        headers.insert(HeaderName::from_static("x-forwarded-for"), value);
    }
    headers
}

/// The caller's answer to a service's: its status and every end-to-end header.
fn answer(status: StatusCode, headers: &HeaderMap) -> HttpResponseBuilder {
    let mut answer = HttpResponse::build(status);
    for (name, value) in headers {
        if !HOP_BY_HOP_RESPONSE_HEADERS.contains(name) {
            answer.append_header((name.clone(), value.clone()));
        }
    }
    answer
}

/// A timeout is 504; every other failure to get an answer (refused, reset, unreachable) is 503.
fn upstream_failure(upstream: Upstream, e: SendRequestError) -> ApiError {
    match e {
        SendRequestError::Timeout => {
            tracing::warn!(upstream = upstream.name(), "upstream timed out");
            ApiError::gateway_timeout()
        }
        other => ApiError::unavailable(format!("{} unreachable: {other}", upstream.name())),
    }
}
