//! [`build`]: binds the listener (port 0 allowed), composes the gateway, and hands it to the
//! kit's server, which stops it gracefully like every other service.

use std::time::Duration;

use actix_cors::Cors;
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{App, web};
use capmatch_auth::Verifier;
use capmatch_service::{Application, Lifecycle};
use utoipa_swagger_ui::SwaggerUi;

use crate::config::{CorsConfig, GatewayConfig};
use crate::edge::{self, Edge};
use crate::health;
use crate::limit::Limiter;
use crate::proxy::{self, LocalUpstreams, Upstreams};

/// How often idle callers' buckets are forgotten.
const LIMITER_SWEEP: Duration = Duration::from_secs(60);

/// The gateway on the kit's server: bound at once (port 0 allowed), stopped gracefully through
/// its [`capmatch_service::StopHandle`]. Must be called inside an actix system.
pub fn build(
    config: &GatewayConfig,
    verifier: Verifier,
    api_document: utoipa::openapi::OpenApi,
) -> std::io::Result<Application> {
    build_with_local(config, verifier, api_document, LocalUpstreams::default())
}

/// [`build`], with the upstreams in `local` served by the gateway itself: their APIs are
/// mounted in its app, behind the same edge checks, and their readiness is asked in-process.
/// Stop the gateway before them: its workers hold their state.
pub fn build_with_local(
    config: &GatewayConfig,
    verifier: Verifier,
    api_document: utoipa::openapi::OpenApi,
    local: LocalUpstreams,
) -> std::io::Result<Application> {
    let listener = config.server.listen()?.ok_or_else(|| {
        std::io::Error::other("the gateway needs an address to listen on (server.bind)")
    })?;
    let upstreams = web::Data::new(Upstreams {
        needs: trim(&config.upstreams.needs),
        offers: trim(&config.upstreams.offers),
        matcher: trim(&config.upstreams.matcher),
        timeout: config.upstream_timeout(),
    });
    let verifier = web::Data::new(verifier);
    let limiter = web::Data::new(Limiter::new(&config.rate_limit));
    let proxies = web::Data::new(config.trusted_proxies.clone());
    let cors = config.cors.clone();
    let body_limit = config.server.body_limit_bytes;
    let timeout = config.upstream_timeout();
    let edge = web::Data::new(Edge {
        body_limit,
        timeout,
    });

    let mut lifecycle = Lifecycle::new();
    let sweeper = limiter.clone();
    let stop = lifecycle.shutdown_signal();
    lifecycle.spawn("rate-limit-sweeper", async move {
        let mut tick = actix_web::rt::time::interval(LIMITER_SWEEP);
        loop {
            tokio::select! {
                _ = tick.tick() => sweeper.forget_idle(),
                () = stop.cancelled() => return,
            }
        }
    });

    let local_upstreams = web::Data::new(local.clone());
    Application::start(
        "gateway",
        Some(listener),
        &config.server,
        lifecycle,
        move || {
            // awc's client is per worker thread; its own timeout is set per request.
            let client = awc::Client::builder()
                .disable_redirects()
                .timeout(timeout)
                .finish();
            App::new()
                .app_data(upstreams.clone())
                .app_data(local_upstreams.clone())
                .app_data(verifier.clone())
                .app_data(limiter.clone())
                .app_data(proxies.clone())
                .app_data(edge.clone())
                .app_data(web::Data::new(client))
                .app_data(web::PayloadConfig::new(body_limit))
                .configure(capmatch_http::extract::configure)
                // The APIs of the services in this process first (the busiest routes are matched
                // first); what they do not take under `/v1` is forwarded.
                .configure(|cfg| local.mount(cfg, body_limit))
                .service(web::scope("/v1").default_service(web::to(proxy::forward)))
                .service(health::livez)
                .service(health::readyz)
                .service(capmatch_service::metrics::endpoint)
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api_document.clone()))
                .wrap(from_fn(edge::guard))
                .wrap(cors_middleware(&cors))
                .wrap(from_fn(|req, next| {
                    capmatch_service::metrics::track("gateway", req, next)
                }))
                .wrap(from_fn(capmatch_http::request_context))
        },
    )
}

fn trim(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

/// Closed unless origins are configured: with none, browsers get no CORS headers at all.
fn cors_middleware(config: &CorsConfig) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(config.max_age_seconds);
    for origin in &config.allowed_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
