//! The checks every request passes at the edge, before any service or endpoint sees it,
//! whether the service answers in this process or over HTTP.
//!
//! On every path (the API, `/readyz`, `/livez`, `/metrics`, `/openapi.json`, `/docs`):
//!
//! 1. the client's address ([`TrustedProxies::client_of`]) pays for every request whose caller
//!    is not yet established: one without a token, or with a token the verifier has not
//!    accepted before. Checking a signature is work, so it is paid for before it is done, and a
//!    stream of forged tokens is answered 429 once its sender's bucket is empty;
//! 2. the token is checked: under `/v1` a bad one is the 401 it deserves (it never reaches a
//!    service); elsewhere the endpoint decides (`/metrics` asks for its own token);
//! 3. an authenticated caller pays its own bucket (its token's subject).
//!
//! Under `/v1` also: a declared body over the limit (413) and the upstream timeout (504).

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web;
use capmatch_auth::Caller;
use capmatch_http::ApiError;

use crate::client::TrustedProxies;
use crate::limit::{CallerKey, Limiter};

/// What the edge enforces besides the rate limit.
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// How long a service may take to answer.
    pub timeout: Duration,
}

/// Whether `path` is the public API's (`/v1` and below), whose requests go to a service.
fn is_api(path: &str) -> bool {
    path.strip_prefix("/v1")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The middleware: `App::new().wrap(from_fn(edge::guard))`, inside CORS (so preflights are
/// answered first), with [`Edge`], [`Limiter`] and [`TrustedProxies`] as app data.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let api = is_api(req.path());
    if let Some(limiter) = req.app_data::<web::Data<Limiter>>()
        && limiter.is_enabled()
        && !Caller::has_remembered_token(req.request())
    {
        let client = req
            .app_data::<web::Data<TrustedProxies>>()
            .and_then(|proxies| proxies.client_of(req.request()));
        limiter
            .charge(&CallerKey::address(client))
            .map_err(|wait| ApiError::too_many_requests(Some(wait)))?;
    }
    let caller = match Caller::from_request_sync(req.request()) {
        Ok(caller) => caller,
        Err(refused) if api => return Err(refused.into()),
        // Outside the API no endpoint takes a token from the edge: the ones that want one
        // (`/metrics`) read it themselves.
        Err(_) => Caller::Anonymous,
    };
    if let (Some(limiter), Some(actor)) = (req.app_data::<web::Data<Limiter>>(), caller.actor()) {
        limiter
            .charge(&CallerKey::Subject(actor.subject.clone()))
            .map_err(|wait| ApiError::too_many_requests(Some(wait)))?;
    }
    if !api {
        return next.call(req).await;
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
    fn the_api_is_v1_and_below() {
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
