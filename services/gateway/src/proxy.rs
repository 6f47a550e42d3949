//! Forwarding to the owning service. The upstream's answer (status, body and the headers that
//! belong to the protocol) comes back unchanged; only a down or slow upstream produces an answer
//! of the gateway's own (503 or 504 problem).

use std::time::Duration;

use actix_web::http::header::{self, HeaderMap, HeaderName};
use actix_web::{HttpRequest, HttpResponse, web};
use awc::error::SendRequestError;
use capmatch_http::{ApiError, RequestId};

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

/// The catch-all handler under `/v1/`: finds the owner of the path and forwards to it.
pub async fn forward(
    req: HttpRequest,
    body: web::Bytes,
    request_id: RequestId,
    upstreams: web::Data<Upstreams>,
    client: web::Data<awc::Client>,
) -> Result<HttpResponse, ApiError> {
    let upstream = routes::upstream_for(req.path()).ok_or_else(ApiError::not_found)?;
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or(req.path(), |pq| pq.as_str());
    let url = format!("{}{}", upstreams.base(upstream), path_and_query);

    let mut outgoing = client
        .request(req.method().clone(), url)
        .timeout(upstreams.timeout);
    outgoing = copy_headers(req.headers(), outgoing);
    outgoing = outgoing.insert_header((capmatch_http::REQUEST_ID_HEADER, request_id.as_str()));
    if let Some(peer) = req.peer_addr() {
        outgoing = outgoing.insert_header(("x-forwarded-for", peer.ip().to_string()));
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

    let mut answer = HttpResponse::build(response.status());
    for name in FORWARDED_RESPONSE_HEADERS {
        for value in response.headers().get_all(&name) {
            answer.append_header((name.clone(), value.clone()));
        }
    }
    Ok(answer.body(payload))
}

fn copy_headers(headers: &HeaderMap, mut outgoing: awc::ClientRequest) -> awc::ClientRequest {
    for name in FORWARDED_REQUEST_HEADERS {
        if let Some(value) = headers.get(&name) {
            outgoing = outgoing.insert_header((name, value.clone()));
        }
    }
    outgoing
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
