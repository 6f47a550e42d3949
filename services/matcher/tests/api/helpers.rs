//! `spawn_stack()`: the real needs and offers services and the matcher pointed at them, each on
//! 127.0.0.1 with its own fresh data directory, in this test process; the needs service follows
//! the matcher's feed. Tokens for every role are minted over the kit's shared test secret.
//! `TEST_LOG=1` prints the services' logs.

use std::future::Future;
use std::ops::Deref;
use std::time::{Duration, Instant};

use actix_web::http::Method;
use capmatch_auth::Secret;
use capmatch_engine::MatcherConfig;
use capmatch_matcher::{Application as Matcher, MatcherServiceConfig};
use capmatch_needs::{Application as Needs, NeedsConfig};
use capmatch_offers::{Application as Offers, OffersConfig};
use capmatch_service::testing::{SECRET, TestClient, auth_config};
use capmatch_service::{
    FeedFrom, FollowConfig, PeerConfig, ServerConfig, ServiceTokenConfig, StopHandle,
};
use serde_json::{Value, json};
use tempfile::TempDir;

pub use capmatch_service::testing::{Reply, coordinator, provider, service, state};

/// How long a poll waits for the services to agree before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A need of the calling state's country, matching [`offer_body`]'s offers.
pub fn need_body(title: &str, visibility: &str) -> Value {
    json!({
        "title": title,
        "description": "We need help designing the mandate, services and staffing of a national CSIRT and training its first incident responders.",
        "themes": ["incident_management_cip"],
        "support_types": ["technical_assistance", "training"],
        "languages": ["en", "fr"],
        "visibility": visibility,
    })
}

/// An offer covering `coverage`, with `capacity` partnerships at once.
pub fn offer_body(title: &str, coverage: &[&str], capacity: u32) -> Value {
    json!({
        "title": title,
        "description": "Experienced incident responders mentor and train the staff of a new national CSIRT through its first year.",
        "themes": ["incident_management_cip"],
        "support_types": ["mentoring_exchange", "training"],
        "languages": ["en", "fr"],
        "coverage": coverage,
        "capacity": capacity,
        "funding": "self_funded",
        "conditions_attached": false,
    })
}

/// The engine as the tests run it: the defaults, with the text statistics refreshed at every
/// change of the corpus, so an index built incrementally and one rebuilt at start score alike.
pub fn engine_config() -> MatcherConfig {
    let mut config = MatcherConfig::default();
    config.text.refresh_ratio = Some(1e-6);
    config
}

/// One running service.
pub struct Node {
    pub http: TestClient,
    pub port: u16,
    data_dir: Option<TempDir>,
    stop: StopHandle,
    running: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
}

impl Deref for Node {
    type Target = TestClient;

    fn deref(&self) -> &TestClient {
        &self.http
    }
}

impl Node {
    fn new(
        port: u16,
        data_dir: TempDir,
        stop: StopHandle,
        running: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
    ) -> Self {
        Self {
            http: TestClient::new(port),
            port,
            data_dir: Some(data_dir),
            stop,
            running,
        }
    }

    /// Stops the service gracefully; its data directory, to start it again on.
    pub async fn stop(mut self) -> TempDir {
        self.stop.stop().await;
        (&mut self.running)
            .await
            .expect("the server task")
            .expect("the server stops cleanly");
        self.data_dir.take().expect("the data dir")
    }
}

/// A port that was free a moment ago.
pub fn reserve_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    listener.local_addr().expect("an address").port()
}

fn peer(port: u16) -> FeedFrom {
    FeedFrom::Remote(PeerConfig {
        url: format!("http://127.0.0.1:{port}"),
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
}

fn server(port: u16) -> ServerConfig {
    ServerConfig::default().with_bind(format!("127.0.0.1:{port}"))
}

pub async fn start_needs(port: u16, data_dir: TempDir, matcher_port: u16) -> Node {
    capmatch_service::telemetry::init_for_tests("info");
    let config = NeedsConfig {
        server: server(port),
        data_dir: data_dir.path().to_path_buf(),
        auth: auth_config(),
        verifier: None,
        matcher: Some(peer(matcher_port)),
    };
    let app = Needs::build(config)
        .await
        .expect("the needs service builds")
        .without_signal_handling();
    let (port, stop) = (app.port().expect("listening"), app.stop_handle());
    Node::new(
        port,
        data_dir,
        stop,
        actix_web::rt::spawn(app.run_until_stopped()),
    )
}

pub async fn start_offers(port: u16, data_dir: TempDir) -> Node {
    capmatch_service::telemetry::init_for_tests("info");
    let config = OffersConfig {
        server: server(port),
        data_dir: data_dir.path().to_path_buf(),
        auth: auth_config(),
        verifier: None,
    };
    let app = Offers::build(config)
        .await
        .expect("the offers service builds")
        .without_signal_handling();
    let (port, stop) = (app.port().expect("listening"), app.stop_handle());
    Node::new(
        port,
        data_dir,
        stop,
        actix_web::rt::spawn(app.run_until_stopped()),
    )
}

/// The matcher's configuration in the tests.
pub fn matcher_config(
    port: u16,
    data_dir: &TempDir,
    needs_port: u16,
    offers_port: u16,
    stale_after_hours: u64,
) -> MatcherServiceConfig {
    MatcherServiceConfig {
        server: server(port),
        data_dir: data_dir.path().to_path_buf(),
        auth: auth_config(),
        verifier: None,
        needs: peer(needs_port),
        offers: peer(offers_port),
        engine: engine_config(),
        stale_after_hours,
        page_size: 20,
    }
}

pub async fn start_matcher(config: MatcherServiceConfig, data_dir: TempDir) -> Node {
    try_start_matcher(config, data_dir)
        .await
        .unwrap_or_else(|e| panic!("the matcher does not build: {e}"))
}

async fn try_start_matcher(
    config: MatcherServiceConfig,
    data_dir: TempDir,
) -> Result<Node, capmatch_matcher::BuildError> {
    capmatch_service::telemetry::init_for_tests("info");
    let app = Matcher::build(config).await?.without_signal_handling();
    let (port, stop) = (app.port().expect("listening"), app.stop_handle());
    Ok(Node::new(
        port,
        data_dir,
        stop,
        actix_web::rt::spawn(app.run_until_stopped()),
    ))
}

/// The three services, wired together.
pub struct Stack {
    needs: Option<Node>,
    offers: Option<Node>,
    matcher: Option<Node>,
    pub needs_port: u16,
    pub offers_port: u16,
    pub matcher_port: u16,
    stale_after_hours: u64,
}

pub async fn spawn_stack() -> Stack {
    spawn_stack_with(336).await
}

/// A stack whose matcher flags introduced matches stale after `stale_after_hours`.
pub async fn spawn_stack_with(stale_after_hours: u64) -> Stack {
    for _ in 0..5 {
        // The needs service must know the matcher's address before the matcher runs: reserve
        // a port, and start again if someone else took it in the meantime.
        let matcher_port = reserve_port();
        let needs = start_needs(0, TempDir::new().expect("a dir"), matcher_port).await;
        let offers = start_offers(0, TempDir::new().expect("a dir")).await;
        let (needs_port, offers_port) = (needs.port, offers.port);
        let dir = TempDir::new().expect("a dir");
        let config = matcher_config(
            matcher_port,
            &dir,
            needs_port,
            offers_port,
            stale_after_hours,
        );
        let matcher = match try_start_matcher(config, dir).await {
            Ok(matcher) => matcher,
            Err(err) => {
                eprintln!("retrying the stack: {err}");
                needs.stop().await;
                offers.stop().await;
                continue;
            }
        };
        let stack = Stack {
            needs: Some(needs),
            offers: Some(offers),
            matcher: Some(matcher),
            needs_port,
            offers_port,
            matcher_port,
            stale_after_hours,
        };
        stack.wait_ready().await;
        return stack;
    }
    panic!("no free port for the matcher");
}

impl Stack {
    pub fn needs(&self) -> &Node {
        self.needs.as_ref().expect("the needs service runs")
    }

    pub fn offers(&self) -> &Node {
        self.offers.as_ref().expect("the offers service runs")
    }

    pub fn matcher(&self) -> &Node {
        self.matcher.as_ref().expect("the matcher runs")
    }

    /// Stops the matcher and starts it again on the same data directory and port.
    pub async fn restart_matcher(&mut self) {
        let dir = self.matcher.take().expect("the matcher runs").stop().await;
        let config = matcher_config(
            self.matcher_port,
            &dir,
            self.needs_port,
            self.offers_port,
            self.stale_after_hours,
        );
        self.matcher = Some(start_matcher(config, dir).await);
    }

    /// Stops the offers service; its data directory.
    pub async fn stop_offers(&mut self) -> TempDir {
        self.offers
            .take()
            .expect("the offers service runs")
            .stop()
            .await
    }

    /// Starts the offers service again on its port.
    pub async fn start_offers_on(&mut self, dir: TempDir) {
        self.offers = Some(start_offers(self.offers_port, dir).await);
    }

    /// Waits until the matcher says it is ready.
    pub async fn wait_ready(&self) {
        poll("the matcher to be ready", || async {
            let reply = self.matcher().get("/readyz", Some(&service())).await;
            (reply.status == 200).then_some(reply)
        })
        .await;
    }

    /// Posts a need as `token`; its id.
    pub async fn post_need(&self, token: &str, body: &Value) -> String {
        let reply = self
            .needs()
            .post("/v1/needs", Some(token), Some(body), None)
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.id()
    }

    /// Posts an offer as `token`; its id.
    pub async fn post_offer(&self, token: &str, body: &Value) -> String {
        let reply = self
            .offers()
            .post("/v1/offers", Some(token), Some(body), None)
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.id()
    }

    pub async fn need_matches(&self, token: Option<&str>, need: &str) -> Reply {
        self.matcher()
            .get(&format!("/v1/needs/{need}/matches"), token)
            .await
    }

    pub async fn offer_matches(&self, token: Option<&str>, offer: &str) -> Reply {
        self.matcher()
            .get(&format!("/v1/offers/{offer}/matches"), token)
            .await
    }

    pub async fn get_match(&self, token: Option<&str>, id: &str) -> Reply {
        self.matcher()
            .get(&format!("/v1/matches/{id}"), token)
            .await
    }

    /// `POST /v1/matches/{id}/{action}` with an optional body.
    pub async fn decide(
        &self,
        token: Option<&str>,
        id: &str,
        action: &str,
        body: Option<&Value>,
    ) -> Reply {
        self.matcher()
            .post(&format!("/v1/matches/{id}/{action}"), token, body, None)
            .await
    }

    /// A decision that must succeed; the match it answers.
    pub async fn decided(
        &self,
        token: &str,
        id: &str,
        action: &str,
        body: Option<&Value>,
    ) -> Value {
        let reply = self.decide(Some(token), id, action, body).await;
        assert_eq!(reply.status, 200, "{action}: {reply:?}");
        reply.body
    }

    /// Waits until the coordinator sees `offer` among `need`'s suggestions; that suggestion.
    pub async fn wait_for_suggestion(&self, need: &str, offer: &str) -> Value {
        let coordinator = coordinator();
        poll("a suggestion", || async {
            let reply = self.need_matches(Some(&coordinator), need).await;
            items(&reply).into_iter().find(|i| i["offer_id"] == offer)
        })
        .await
    }

    /// Posts a need and an offer that match, waits for the suggestion; (need, offer, match id).
    pub async fn matched_pair(&self, country: &str, org: &str) -> (String, String, String) {
        let need = self
            .post_need(&state(country), &need_body("National CSIRT", "public"))
            .await;
        let offer = self
            .post_offer(
                &provider(org),
                &offer_body("CSIRT mentoring", &[country], 2),
            )
            .await;
        let suggestion = self.wait_for_suggestion(&need, &offer).await;
        let id = suggestion["match_id"]
            .as_str()
            .expect("a match id")
            .to_owned();
        assert_eq!(id, format!("{need}~{offer}"));
        (need, offer, id)
    }

    /// The events of the matcher's internal feed.
    pub async fn matcher_feed(&self) -> Vec<Value> {
        let reply = self
            .matcher()
            .get("/internal/events?after=0&limit=1000", Some(&service()))
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.body["events"].as_array().expect("events").clone()
    }
}

/// A list reply's items.
pub fn items(reply: &Reply) -> Vec<Value> {
    reply.body["items"].as_array().cloned().unwrap_or_default()
}

/// Calls `probe` until it gives something, failing after [`DEADLINE`].
pub async fn poll<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A request with any method, for the odd cases.
pub async fn send(
    node: &Node,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    node.send(method, path, token, headers, body).await
}
