//! `spawn_app()`: the needs service on 127.0.0.1:0 with a fresh data directory and an HS256
//! dev verifier, a token for every role, and typed helpers for each endpoint. Plus a fake
//! matcher feed (a real HTTP server on port 0) for introductions.

use std::ops::Deref;
use std::time::{Duration, Instant};

use actix_web::http::Method;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use capmatch_auth::{Secret, Verifier};
use capmatch_domain::actor::Role;
use capmatch_needs::{Application, NeedsConfig};
pub use capmatch_service::testing::{
    Reply, SECRET, TestClient, admin, auth_config, coordinator, provider, service, state,
};
use capmatch_service::{
    FeedFrom, FollowConfig, PeerConfig, ServerConfig, ServiceTokenConfig, StopHandle,
};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The body limit the tests run with: the default.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A valid draft; `visibility` as given.
pub fn need_body(title: &str, visibility: &str) -> Value {
    json!({
        "title": title,
        "description": "We need help designing the mandate, services and staffing of a national CSIRT.",
        "themes": ["incident_management_cip"],
        "support_types": ["technical_assistance", "training"],
        "languages": ["en", "fr"],
        "visibility": visibility,
    })
}

/// A running needs service.
pub struct TestApp {
    pub http: TestClient,
    data_dir: Option<TempDir>,
    matcher_url: Option<String>,
    stop: StopHandle,
    running: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_on(TempDir::new().expect("a temp dir"), None).await
}

/// A needs service that follows the (fake) matcher at `matcher_url`.
pub async fn spawn_app_with_matcher(matcher_url: &str) -> TestApp {
    spawn_on(
        TempDir::new().expect("a temp dir"),
        Some(matcher_url.to_owned()),
    )
    .await
}

pub fn config(data_dir: &TempDir, matcher_url: Option<&str>) -> NeedsConfig {
    NeedsConfig {
        server: ServerConfig::default().with_bind("127.0.0.1:0"),
        data_dir: data_dir.path().to_path_buf(),
        auth: auth_config(),
        verifier: None,
        matcher: matcher_url.map(|url| {
            FeedFrom::Remote(PeerConfig {
                url: url.to_owned(),
                token: ServiceTokenConfig::Hs256 {
                    secret: Secret::new(SECRET),
                },
                follow: FollowConfig {
                    wait_ms: 1_000,
                    batch: 100,
                    backoff_initial_ms: 10,
                    backoff_max_ms: 200,
                },
            })
        }),
    }
}

pub async fn spawn_on(data_dir: TempDir, matcher_url: Option<String>) -> TestApp {
    capmatch_service::telemetry::init_for_tests("info");
    let app = Application::build(config(&data_dir, matcher_url.as_deref()))
        .await
        .expect("the app builds")
        .without_signal_handling();
    let port = app.port().expect("listening");
    let stop = app.stop_handle();
    let running = actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        http: TestClient::new(port),
        data_dir: Some(data_dir),
        matcher_url,
        stop,
        running,
    }
}

impl TestApp {
    /// Stops the service gracefully and waits until it has closed its store.
    pub async fn stop(mut self) -> TempDir {
        self.stop.stop().await;
        (&mut self.running)
            .await
            .expect("the server task")
            .expect("the server stops cleanly");
        self.data_dir.take().expect("the data dir")
    }

    /// Stops the service and starts a new one on the same data directory.
    pub async fn restart(self) -> TestApp {
        let matcher_url = self.matcher_url.clone();
        let data_dir = self.stop().await;
        spawn_on(data_dir, matcher_url).await
    }

    pub async fn post_need(&self, token: Option<&str>, body: &Value, key: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        self.send(Method::POST, "/v1/needs", token, &headers, Some(body))
            .await
    }

    /// Posts a need and returns its id, asserting 201.
    pub async fn create_need(&self, token: &str, body: &Value) -> String {
        let reply = self.post_need(Some(token), body, None).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.id()
    }

    pub async fn get_need(&self, token: Option<&str>, id: &str) -> Reply {
        self.send(Method::GET, &format!("/v1/needs/{id}"), token, &[], None)
            .await
    }

    pub async fn list(&self, token: Option<&str>, query: &str) -> Reply {
        self.send(Method::GET, &format!("/v1/needs?{query}"), token, &[], None)
            .await
    }

    pub async fn revise(
        &self,
        token: Option<&str>,
        id: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> Reply {
        let headers: Vec<(&str, &str)> = if_match.map(|v| ("If-Match", v)).into_iter().collect();
        self.send(
            Method::PATCH,
            &format!("/v1/needs/{id}"),
            token,
            &headers,
            Some(body),
        )
        .await
    }

    pub async fn withdraw(
        &self,
        token: Option<&str>,
        id: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Reply {
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        self.send(
            Method::POST,
            &format!("/v1/needs/{id}/withdraw"),
            token,
            &headers,
            body,
        )
        .await
    }

    pub async fn fulfil(&self, token: Option<&str>, id: &str, key: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        self.send(
            Method::POST,
            &format!("/v1/needs/{id}/fulfil"),
            token,
            &headers,
            None,
        )
        .await
    }

    pub async fn history(&self, token: Option<&str>, id: &str) -> Reply {
        self.send(
            Method::GET,
            &format!("/v1/needs/{id}/history"),
            token,
            &[],
            None,
        )
        .await
    }

    pub async fn feed(&self, token: Option<&str>, query: &str) -> Reply {
        self.send(
            Method::GET,
            &format!("/internal/events?{query}"),
            token,
            &[],
            None,
        )
        .await
    }

    /// Polls `/readyz` until `check` holds for its body, or fails after a deadline.
    pub async fn wait_for_readiness(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // The checks' details are for operators' tokens.
            let reply = self.get("/readyz", Some(&service())).await;
            if check(&reply.body) {
                return reply.body;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {reply:?}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Deref for TestApp {
    type Target = TestClient;

    fn deref(&self) -> &TestClient {
        &self.http
    }
}

/// A stand-in for the matcher's internal feed over real HTTP: serves `events` (in the feed's
/// JSON shape) to callers with a valid service token.
pub struct FakeMatcher {
    pub url: String,
    handle: actix_web::dev::ServerHandle,
}

impl FakeMatcher {
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

#[derive(serde::Deserialize)]
struct FeedQuery {
    after: Option<u64>,
}

async fn fake_feed(
    req: HttpRequest,
    query: web::Query<FeedQuery>,
    events: web::Data<Vec<Value>>,
    verifier: web::Data<Verifier>,
) -> HttpResponse {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let is_service = token
        .and_then(|t| verifier.verify(t).ok())
        .is_some_and(|actor| actor.role == Role::Service);
    if !is_service {
        return HttpResponse::Unauthorized().finish();
    }
    let after = query.after.unwrap_or(0);
    let page: Vec<&Value> = events
        .iter()
        .filter(|e| e["position"].as_u64().is_some_and(|p| p > after))
        .collect();
    HttpResponse::Ok().json(json!({
        "events": page,
        "head": { "position": events.len(), "hash": "ab".repeat(32) },
    }))
}

/// Starts a fake matcher feed serving `events`.
pub fn spawn_fake_matcher(events: Vec<Value>) -> FakeMatcher {
    let events = web::Data::new(events);
    let verifier = web::Data::new(Verifier::new(auth_config()).expect("a verifier"));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(events.clone())
            .app_data(verifier.clone())
            .route("/internal/events", web::get().to(fake_feed))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("a port");
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    FakeMatcher {
        url: format!("http://127.0.0.1:{port}"),
        handle,
    }
}

/// A `match.introduced` event at `position` in the feed's JSON shape.
pub fn introduced_event(position: u64, need_id: &str, provider_org: &str) -> Value {
    decision_event(position, "match.introduced", need_id, OFFER, provider_org)
}

/// The offer of the fake matcher's decisions.
pub const OFFER: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

/// A decision of the matcher's feed (`match.introduced`, `match.declined`, …) on the match of
/// `need_id` and `offer_id`, whose provider is `provider_org`.
pub fn decision_event(
    position: u64,
    event_type: &str,
    need_id: &str,
    offer_id: &str,
    provider_org: &str,
) -> Value {
    json!({
        "position": position,
        "stream": format!("match-{need_id}~{offer_id}"),
        "stream_version": position,
        "id": uuid::Uuid::new_v4(),
        "event_type": event_type,
        "schema_version": 1,
        "payload": {
            "match_id": format!("{need_id}~{offer_id}"),
            "need_id": need_id,
            "offer_id": offer_id,
            "need_country": "SN",
            "provider_org": provider_org,
            "by": {"subject": "coordinator:1", "role": "coordinator"},
            "at": "2026-01-01T00:00:00Z",
            "text": null,
        },
        "metadata": {"actor_subject": "coordinator:1", "actor_role": "coordinator"},
        "recorded_at": "2026-01-01T00:00:00Z",
        "hash": "cd".repeat(32),
    })
}

/// An address where nothing listens (a port bound and released).
pub fn unused_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("an address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
