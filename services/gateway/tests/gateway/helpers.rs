use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, web};
use capmatch_auth::{AuthConfig, DevSecret, TokenSigner, Verifier};
use capmatch_domain::actor::{Actor, Role};
use capmatch_gateway::{
    CorsConfig, GatewayConfig, LocalUpstreams, RateLimitConfig, TrustedProxies, Upstreams,
};
use capmatch_service::{Application, Colocated, Lifecycle, Mounting, ServerConfig, StopHandle};

pub const ISSUER: &str = "capmatch-test";
pub const AUDIENCE: &str = "capmatch";

/// An upstream double on the kit's server (so a gateway in this process can also mount it): answers
/// every path with what it received, as JSON, and counts hits. `/slow` waits two seconds;
/// `/problem` is a 409 problem; `/replayed` answers as a replayed idempotent request does;
/// `/readyz` answers as told.
pub struct Echo {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
    /// Its API, for a gateway in this process to mount.
    pub colocated: Colocated,
    pub stop: StopHandle,
}

pub fn echo(name: &'static str, ready: bool) -> Echo {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = ServerConfig {
        workers: Some(1),
        ..ServerConfig::default()
    };
    let handler = move |req: HttpRequest, body: web::Bytes| {
        let counter = counter.clone();
        async move {
            if req.path() == "/readyz" {
                return if ready {
                    HttpResponse::Ok().finish()
                } else {
                    HttpResponse::ServiceUnavailable().finish()
                };
            }
            counter.fetch_add(1, Ordering::SeqCst);
            if req.path().ends_with("/slow") {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            if req.path().ends_with("/replayed") {
                return HttpResponse::Ok()
                    .insert_header(("etag", "\"2\""))
                    .insert_header(("idempotent-replayed", "true"))
                    .insert_header(("cache-control", "no-store"))
                    .json(serde_json::json!({"replayed": true}));
            }
            if req.path().ends_with("/problem") {
                return HttpResponse::Conflict()
                    .content_type("application/problem+json")
                    .body(
                        r#"{"type":"x","title":"upstream says no","status":409,"code":"conflict"}"#,
                    );
            }
            let headers: serde_json::Map<String, serde_json::Value> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").into()))
                .collect();
            HttpResponse::Created()
                .insert_header(("etag", "\"7\""))
                .insert_header(("x-internal-secret", "upstream-only"))
                .json(serde_json::json!({
                    "service": name,
                    "method": req.method().as_str(),
                    "path": req.path(),
                    "query": req.query_string(),
                    "headers": headers,
                    "body": String::from_utf8_lossy(&body),
                }))
        }
    };
    let served = handler.clone();
    let factory = move || App::new().default_service(web::to(served.clone()));
    // What a gateway of this process mounts: the `/v1` paths it routes here.
    let mount = move |cfg: &mut web::ServiceConfig, mounting: &Mounting| {
        cfg.service(
            web::scope("/v1")
                .guard(mounting.guard())
                .default_service(web::to(handler.clone())),
        );
    };
    let app = Application::start(name, Some(listener), &config, Lifecycle::new(), factory)
        .unwrap()
        .colocate(mount, move || ready)
        .without_signal_handling();
    let stop = app.stop_handle();
    let colocated = app.colocated().unwrap();
    actix_web::rt::spawn(app.run_until_stopped());
    Echo {
        url: format!("http://{addr}"),
        hits,
        colocated,
        stop,
    }
}

/// Over HTTP (separate processes) and mounted in the gateway (`capmatch serve`): every test
/// runs both ways, and they must answer alike.
pub const BOTH_WAYS: [bool; 2] = [false, true];

pub struct TestGateway {
    pub url: String,
    pub signer: TokenSigner,
    pub needs: Echo,
    pub offers: Echo,
    pub matcher: Echo,
    pub client: awc::Client,
}

pub struct Options {
    pub rate_limit: RateLimitConfig,
    pub cors: CorsConfig,
    pub timeout_ms: u64,
    pub offers_down: bool,
    pub matcher_ready: bool,
    /// The upstreams' APIs are mounted in the gateway, as under `capmatch serve`.
    pub in_process: bool,
    pub trusted_proxies: TrustedProxies,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rate_limit: RateLimitConfig {
                per_second: 1000,
                burst: 1000,
                enabled: true,
            },
            cors: CorsConfig::default(),
            timeout_ms: 300,
            offers_down: false,
            matcher_ready: true,
            in_process: false,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

pub fn spawn_gateway(options: Options) -> TestGateway {
    let needs = echo("needs", true);
    let offers = echo("offers", true);
    let matcher = echo("matcher", options.matcher_ready);
    let offers_url = if options.offers_down {
        // A port that was free a moment ago: nothing listens there.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    } else {
        offers.url.clone()
    };
    let secret = DevSecret::generate().unwrap();
    let verifier = Verifier::new(AuthConfig::development(ISSUER, AUDIENCE, &secret)).unwrap();
    let config = GatewayConfig {
        server: ServerConfig {
            body_limit_bytes: 1024,
            ..ServerConfig::default()
        },
        upstreams: Upstreams {
            needs: needs.url.clone(),
            offers: offers_url,
            matcher: matcher.url.clone(),
        },
        upstream_timeout_ms: options.timeout_ms,
        rate_limit: options.rate_limit,
        cors: options.cors,
        trusted_proxies: options.trusted_proxies,
    };
    let doc = capmatch_gateway::openapi::merged([]);
    let local = if options.in_process {
        LocalUpstreams {
            needs: Some(needs.colocated.clone()),
            offers: (!options.offers_down).then(|| offers.colocated.clone()),
            matcher: Some(matcher.colocated.clone()),
        }
    } else {
        LocalUpstreams::default()
    };
    let app = capmatch_gateway::build_with_local(&config, verifier, doc, local)
        .unwrap()
        .without_signal_handling();
    let url = format!("http://127.0.0.1:{}", app.port().expect("listening"));
    actix_web::rt::spawn(app.run_until_stopped());
    TestGateway {
        url,
        signer: TokenSigner::from_dev_secret(&secret, ISSUER, AUDIENCE),
        needs,
        offers,
        matcher,
        client: awc::Client::builder()
            .timeout(Duration::from_secs(10))
            .finish(),
    }
}

impl TestGateway {
    pub fn token(&self, role: Role) -> String {
        let actor = Actor::new("someone", role);
        self.signer.mint(&actor, Duration::from_secs(300)).unwrap()
    }

    pub fn coordinator(&self) -> String {
        self.token(Role::Coordinator)
    }

    pub fn get(&self, path: &str) -> awc::ClientRequest {
        self.client.get(format!("{}{path}", self.url))
    }

    pub fn post(&self, path: &str) -> awc::ClientRequest {
        self.client.post(format!("{}{path}", self.url))
    }
}

/// The response body as JSON, failing the test with the raw body when it is not JSON.
pub async fn body_json<S>(res: &mut awc::ClientResponse<S>) -> serde_json::Value
where
    S: futures_util::Stream<Item = Result<web::Bytes, awc::error::PayloadError>> + Unpin,
{
    let body = res.body().await.unwrap();
    serde_json::from_slice(&body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&body)))
}
