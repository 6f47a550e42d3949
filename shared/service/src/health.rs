//! `/livez` and `/readyz`.
//!
//! - `GET /livez`: 200 `{"status":"live"}` while the process serves requests.
//! - `GET /readyz`: 200 `{"status":"ready","service":..,"checks":{..}}` when every *required*
//!   check passes; otherwise 503 as a problem document (`application/problem+json`, code
//!   `unavailable`) carrying the same `checks`. Optional checks (a peer the service can do
//!   without) are reported but never make it unready.

use std::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use capmatch_auth::Caller;
use capmatch_domain::actor::Role;
use capmatch_eventstore::EventStore;
use capmatch_http::{PROBLEM_JSON, Problem, ProblemCode, RequestId};
use serde::Serialize;
use serde_json::{Value, json};

use crate::projection::Projection;

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    pub ok: bool,
    /// What the check saw (positions, peer state); never a secret.
    pub detail: Value,
}

type ProbeFn = Box<dyn Fn() -> Probe + Send + Sync>;

struct Check {
    name: &'static str,
    required: bool,
    probe: ProbeFn,
}

/// The checks `/readyz` runs.
pub struct Health {
    service: &'static str,
    checks: Vec<Check>,
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Health")
            .field("service", &self.service)
            .field(
                "checks",
                &self.checks.iter().map(|c| c.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// One check as `/readyz` reports it.
#[derive(Debug, Clone, Serialize)]
struct CheckReport {
    ok: bool,
    required: bool,
    detail: Value,
}

impl Health {
    pub fn new(service: &'static str) -> Self {
        Self {
            service,
            checks: Vec::new(),
        }
    }

    /// A check that must pass for the service to be ready.
    pub fn require(
        mut self,
        name: &'static str,
        probe: impl Fn() -> Probe + Send + Sync + 'static,
    ) -> Self {
        self.checks.push(Check {
            name,
            required: true,
            probe: Box::new(probe),
        });
        self
    }

    /// A check that is reported but does not gate readiness.
    pub fn report(
        mut self,
        name: &'static str,
        probe: impl Fn() -> Probe + Send + Sync + 'static,
    ) -> Self {
        self.checks.push(Check {
            name,
            required: false,
            probe: Box::new(probe),
        });
        self
    }

    /// Runs every check: whether the required ones pass, and the report.
    pub fn run(&self) -> (bool, Value) {
        let mut ready = true;
        let mut checks = serde_json::Map::new();
        for check in &self.checks {
            let probe = (check.probe)();
            ready &= probe.ok || !check.required;
            let report = CheckReport {
                ok: probe.ok,
                required: check.required,
                detail: probe.detail,
            };
            checks.insert(
                check.name.to_owned(),
                serde_json::to_value(report).unwrap_or(Value::Null),
            );
        }
        (ready, Value::Object(checks))
    }
}

/// A required check that the store is open and writable (its last write to disk did not fail)
/// and `projection` has applied its whole log.
pub fn projection_probe<V: Send + Sync + 'static>(
    store: EventStore,
    projection: Arc<Projection<V>>,
) -> impl Fn() -> Probe + Send + Sync + 'static {
    move || {
        let head = store.head().position;
        let applied = projection.position();
        let halted = projection.halted();
        let writable = !store.writes_failing();
        Probe {
            ok: halted.is_none() && applied >= head && writable,
            detail: json!({
                "head": head,
                "applied": applied,
                "halted": halted.is_some(),
                "writable": writable,
            }),
        }
    }
}

/// Registers `/livez` and `/readyz`; the app must hold a `web::Data<Health>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(livez).service(readyz);
}

#[get("/livez")]
async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "live" }))
}

/// Whether the caller may see the checks' details. Positions and heads move when anything is
/// written, restricted needs included, so they are for operators' tokens, not the public.
fn sees_details(req: &HttpRequest) -> bool {
    matches!(
        Caller::from_request_sync(req),
        Ok(Caller::Authenticated(actor)) if matches!(actor.role, Role::Service | Role::Admin)
    )
}

#[get("/readyz")]
async fn readyz(
    req: HttpRequest,
    health: web::Data<Health>,
    request_id: RequestId,
) -> HttpResponse {
    let (ready, mut checks) = health.run();
    if !sees_details(&req)
        && let Value::Object(map) = &mut checks
    {
        for check in map.values_mut() {
            if let Value::Object(fields) = check {
                fields.remove("detail");
            }
        }
    }
    if ready {
        return HttpResponse::Ok().json(json!({
            "status": "ready",
            "service": health.service,
            "checks": checks,
        }));
    }
    let mut problem = Problem::new(ProblemCode::Unavailable);
    problem.detail = Some("The service is not ready; see checks.".to_owned());
    problem.request_id = Some(request_id.as_str().to_owned());
    let mut body = serde_json::to_value(problem).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut body {
        map.insert("service".to_owned(), json!(health.service));
        map.insert("checks".to_owned(), checks);
    }
    HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
        .body(body.to_string())
}
