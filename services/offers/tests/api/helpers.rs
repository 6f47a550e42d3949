//! `spawn_app()`: the offers service on 127.0.0.1:0 with a fresh data directory and an HS256
//! dev verifier, a token for every role, and typed helpers for each endpoint.

use std::ops::Deref;

use capmatch_offers::{Application, OffersConfig};
pub use capmatch_service::testing::{
    Reply, TestClient, admin, auth_config, coordinator, provider, service, state,
};
use capmatch_service::{ServerConfig, StopHandle};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A valid draft covering `coverage`.
pub fn offer_body(title: &str, coverage: &[&str]) -> Value {
    json!({
        "title": title,
        "description": "Experienced incident responders mentor a new national CSIRT through its first year.",
        "themes": ["incident_management_cip"],
        "support_types": ["mentoring_exchange", "training"],
        "languages": ["en", "fr"],
        "coverage": coverage,
        "funding": "self_funded",
        "conditions_attached": false,
    })
}

/// A running offers service.
pub struct TestApp {
    pub http: TestClient,
    data_dir: Option<TempDir>,
    stop: StopHandle,
    running: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
}

impl Deref for TestApp {
    type Target = TestClient;

    fn deref(&self) -> &TestClient {
        &self.http
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_on(TempDir::new().expect("a temp dir")).await
}

pub async fn spawn_on(data_dir: TempDir) -> TestApp {
    capmatch_service::telemetry::init_for_tests("info");
    let config = OffersConfig {
        server: ServerConfig::default().with_bind("127.0.0.1:0"),
        data_dir: data_dir.path().to_path_buf(),
        auth: auth_config(),
        verifier: None,
    };
    let app = Application::build(config)
        .await
        .expect("the app builds")
        .without_signal_handling();
    let http = TestClient::new(app.port().expect("listening"));
    let stop = app.stop_handle();
    let running = actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        http,
        data_dir: Some(data_dir),
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
        let data_dir = self.stop().await;
        spawn_on(data_dir).await
    }

    pub async fn post_offer(&self, token: Option<&str>, body: &Value, key: Option<&str>) -> Reply {
        self.post("/v1/offers", token, Some(body), key).await
    }

    /// Posts an offer and returns its id, asserting 201.
    pub async fn create_offer(&self, token: &str, body: &Value) -> String {
        let reply = self.post_offer(Some(token), body, None).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.id()
    }

    pub async fn get_offer(&self, token: Option<&str>, id: &str) -> Reply {
        self.get(&format!("/v1/offers/{id}"), token).await
    }

    pub async fn list(&self, token: Option<&str>, query: &str) -> Reply {
        self.get(&format!("/v1/offers?{query}"), token).await
    }

    pub async fn revise(
        &self,
        token: Option<&str>,
        id: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> Reply {
        self.patch(&format!("/v1/offers/{id}"), token, if_match, body)
            .await
    }

    /// `POST /v1/offers/{id}/{action}` (pause, resume, withdraw).
    pub async fn act(
        &self,
        action: &str,
        token: Option<&str>,
        id: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Reply {
        self.post(&format!("/v1/offers/{id}/{action}"), token, body, key)
            .await
    }

    pub async fn history(&self, token: Option<&str>, id: &str) -> Reply {
        self.get(&format!("/v1/offers/{id}/history"), token).await
    }

    pub async fn feed(&self, token: Option<&str>, query: &str) -> Reply {
        self.get(&format!("/internal/events?{query}"), token).await
    }
}
