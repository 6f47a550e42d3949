//! Forwarding to the owning service. The upstream's answer (status, body and the headers that
//! belong to the protocol) comes back unchanged; only a down or slow upstream produces an answer
//! of the gateway's own (503 or 504 problem).
//!
//! An upstream in this process ([`LocalUpstreams`], under `capmatch serve`) is called without a
//! socket: each gateway worker holds its own instance of the service's app and hands it the
//! same request an HTTP client would send (the same forwarded headers). The others are reached
//! over HTTP with `awc`.

use std::time::Duration;

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{StatusCode, Uri};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use awc::error::SendRequestError;
use capmatch_http::{AnsweredRoute, ApiError, RequestId};
use capmatch_service::colocated::{Colocated, Instance, LocalRequest};

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

/// Response headers passed back to the caller.
const FORWARDED_RESPONSE_HEADERS: [HeaderName; 7] = [
    header::CONTENT_TYPE,
    header::ETAG,
    header::LOCATION,
    header::WWW_AUTHENTICATE,
    header::RETRY_AFTER,
    header::ALLOW,
    header::CACHE_CONTROL,
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

/// The upstreams running in this process, called without a socket; `None` is reached over HTTP.
#[derive(Debug, Clone, Default)]
pub struct LocalUpstreams {
    pub needs: Option<Colocated>,
    pub offers: Option<Colocated>,
    pub matcher: Option<Colocated>,
}

impl LocalUpstreams {
    /// This worker's instances of the local upstreams.
    pub async fn instances(&self) -> LocalInstances {
        async fn instance(colocated: Option<&Colocated>) -> Option<Instance> {
            match colocated {
                Some(c) => Some(c.instance().await),
                None => None,
            }
        }
        LocalInstances {
            needs: instance(self.needs.as_ref()).await,
            offers: instance(self.offers.as_ref()).await,
            matcher: instance(self.matcher.as_ref()).await,
        }
    }
}

/// One worker's instances of the local upstreams (app data built at worker start).
#[derive(Debug, Default)]
pub struct LocalInstances {
    needs: Option<Instance>,
    offers: Option<Instance>,
    matcher: Option<Instance>,
}

impl LocalInstances {
    fn get(&self, upstream: Upstream) -> Option<&Instance> {
        match upstream {
            Upstream::Needs => self.needs.as_ref(),
            Upstream::Offers => self.offers.as_ref(),
            Upstream::Matcher => self.matcher.as_ref(),
        }
    }
}

/// The catch-all handler under `/v1/`: finds the owner of the path and forwards to it.
pub async fn forward(
    req: HttpRequest,
    body: web::Bytes,
    request_id: RequestId,
    upstreams: web::Data<Upstreams>,
    client: web::Data<awc::Client>,
    local: web::Data<LocalInstances>,
) -> Result<HttpResponse, ApiError> {
    let upstream = routes::upstream_for(req.path()).ok_or_else(ApiError::not_found)?;
    if let Some(instance) = local.get(upstream) {
        return forward_in_process(
            instance,
            upstream,
            &req,
            body,
            &request_id,
            upstreams.timeout,
        )
        .await;
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

/// [`forward`] to an upstream in this process: the request it would get over HTTP, minus the
/// socket. A stopping upstream is a 503, like one that refuses connections; a slow one a 504.
async fn forward_in_process(
    instance: &Instance,
    upstream: Upstream,
    req: &HttpRequest,
    body: web::Bytes,
    request_id: &RequestId,
    timeout: Duration,
) -> Result<HttpResponse, ApiError> {
    if instance.is_stopping() {
        return Err(ApiError::unavailable(format!(
            "{} is stopping",
            upstream.name()
        )));
    }
    let call = instance.call(LocalRequest {
        method: req.method().clone(),
        uri: origin_form(req.uri()),
        headers: forwarded_headers(req, request_id),
        body,
    });
    let response = match actix_web::rt::time::timeout(timeout, call).await {
        Ok(Ok(response)) => {
            if let Some(route) = response.request().match_pattern() {
                req.extensions_mut().insert(AnsweredRoute(route));
            }
            response.into_parts().1
        }
        // What the upstream's server would have answered for an error its app returned.
        Ok(Err(error)) => error.error_response(),
        Err(_elapsed) => {
            tracing::warn!(upstream = upstream.name(), "upstream timed out");
            return Err(ApiError::gateway_timeout());
        }
    };
    Ok(answer(response.status(), response.headers()).body(response.into_body()))
}

/// What the service gets besides method, path and body, either way it is reached: the
/// forwarded request headers, the request id and the caller's address.
fn forwarded_headers(req: &HttpRequest, request_id: &RequestId) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for name in FORWARDED_REQUEST_HEADERS {
        if let Some(value) = req.headers().get(&name) {
            headers.insert(name, value.clone());
        }
    }
    if let Ok(value) = HeaderValue::from_str(request_id.as_str()) {
        headers.insert(capmatch_http::REQUEST_ID_HEADER, value);
    }
    if let Some(peer) = req.peer_addr()
        && let Ok(value) = HeaderValue::from_str(&peer.ip().to_string())
    {
        headers.insert(HeaderName::from_static("x-forwarded-for"), value);
    }
    headers
}

/// The caller's answer to a service's: its status and the response headers passed back.
fn answer(status: StatusCode, headers: &HeaderMap) -> HttpResponseBuilder {
    let mut answer = HttpResponse::build(status);
    for name in FORWARDED_RESPONSE_HEADERS {
        for value in headers.get_all(&name) {
            answer.append_header((name.clone(), value.clone()));
        }
    }
    answer
}

/// The path and query of `uri`, as an HTTP client sends them.
fn origin_form(uri: &Uri) -> Uri {
    if uri.scheme().is_none() && uri.authority().is_none() {
        return uri.clone();
    }
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    Uri::try_from(path_and_query).unwrap_or_else(|_| Uri::from_static("/"))
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
