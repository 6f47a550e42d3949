//! Liveness and readiness. The gateway is ready when every upstream says it is.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use capmatch_http::{PROBLEM_JSON, Problem};
use futures_util::future::join_all;
use serde::Serialize;

use crate::proxy::{LocalUpstreams, Upstreams};
use crate::routes::Upstream;

#[derive(Debug, Serialize)]
struct Readiness {
    ready: bool,
    upstreams: Vec<UpstreamReadiness>,
}

#[derive(Debug, Serialize)]
struct UpstreamReadiness {
    name: &'static str,
    ready: bool,
}

#[get("/livez")]
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "live": true }))
}

/// Asks every upstream whether it is ready, at once: one of this process in-process, another
/// at its `/readyz` within the upstream timeout.
#[get("/readyz")]
pub async fn readyz(
    upstreams: web::Data<Upstreams>,
    local: web::Data<LocalUpstreams>,
    client: web::Data<awc::Client>,
) -> HttpResponse {
    let checks = Upstream::ALL.map(|u| {
        let local = local.get(u).cloned();
        let request = local.is_none().then(|| {
            client
                .get(format!("{}/readyz", upstreams.base(u)))
                .timeout(upstreams.timeout)
        });
        async move {
            let ready = match (local, request) {
                (Some(colocated), _) => colocated.is_ready(),
                (None, Some(request)) => {
                    matches!(request.send().await, Ok(r) if r.status() == StatusCode::OK)
                }
                (None, None) => false,
            };
            UpstreamReadiness {
                name: u.name(),
                ready,
            }
        }
    });
    let upstreams = join_all(checks).await;
    let ready = upstreams.iter().all(|u| u.ready);
    if ready {
        return HttpResponse::Ok().json(Readiness { ready, upstreams });
    }
    // Not ready: a problem document (RFC 9457) whose extension members say which upstream.
    let waiting: Vec<&str> = upstreams
        .iter()
        .filter(|u| !u.ready)
        .map(|u| u.name)
        .collect();
    let mut problem = Problem::for_status(StatusCode::SERVICE_UNAVAILABLE);
    problem.detail = Some(format!("not ready: {}", waiting.join(", ")));
    let mut body = serde_json::to_value(problem).unwrap_or_default();
    if let Some(fields) = body.as_object_mut() {
        fields.insert("ready".into(), false.into());
        fields.insert(
            "upstreams".into(),
            serde_json::to_value(&upstreams).unwrap_or_default(),
        );
    }
    HttpResponse::ServiceUnavailable()
        .content_type(PROBLEM_JSON)
        .json(body)
}
