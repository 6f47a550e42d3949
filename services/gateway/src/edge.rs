//! The checks every API request passes at the edge, before any service sees it, whether the
//! service answers in this process or over HTTP: the bearer token (a bad one is a 401 that never
//! reaches a service, nor counts against anybody's quota), the caller's rate limit (429), a
//! declared body over the limit (413), and the upstream timeout (504).

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web;
use capmatch_auth::Caller;
use capmatch_http::ApiError;

use crate::limit::Limiter;

/// What the edge enforces besides the rate limit.
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// How long a service may take to answer.
    pub timeout: Duration,
}

/// Whether `path` is the public API's, which the edge guards (`/v1` and below).
fn is_api(path: &str) -> bool {
    path.strip_prefix("/v1")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The middleware: `App::new().wrap(from_fn(edge::guard))`, inside CORS (so preflights are
/// answered first), with [`Edge`] and [`Limiter`] as app data.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    if !is_api(req.path()) {
        return next.call(req).await;
    }
    // A bad token is the 401 it deserves, before any quota is charged.
    let caller = Caller::from_request_sync(req.request())?;
    if let Some(limiter) = req.app_data::<web::Data<Limiter>>()
        && let Err(wait) = limiter.check(&req, &caller)
    {
        return Err(ApiError::too_many_requests(Some(wait)).into());
    }
    let Some(edge) = req.app_data::<web::Data<Edge>>().map(|e| *e.get_ref()) else {
        return next.call(req).await;
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > edge.body_limit as u64) {
        return Err(ApiError::payload_too_large(edge.body_limit).into());
    }
    // (The request must not be cloned to answer the timeout with it: routing needs it unshared.)
    match actix_web::rt::time::timeout(edge.timeout, next.call(req)).await {
        Ok(res) => res,
        Err(_elapsed) => {
            tracing::warn!("upstream timed out");
            Err(ApiError::gateway_timeout().into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edge_guards_the_api_and_nothing_else() {
        for path in ["/v1", "/v1/", "/v1/needs", "/v1/needs/1/matches"] {
            assert!(is_api(path), "{path}");
        }
        for path in [
            "/",
            "/v10/needs",
            "/v1needs",
            "/readyz",
            "/docs/",
            "/openapi.json",
        ] {
            assert!(!is_api(path), "{path}");
        }
    }
}
