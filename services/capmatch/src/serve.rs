//! Running the services: all four in one process (`capmatch serve`), or one alone.
//!
//! In one process each service keeps its own store and projection, exactly as when deployed
//! apart, and follows the others' feeds straight from their stores ([`LocalFeed`]): no request,
//! token or serialisation in between. Only the gateway listens: it mounts the services' APIs in
//! its own app ([`capmatch_gateway::LocalUpstreams`]), so a request goes through one pipeline
//! from the socket to the handler, and asks their readiness in-process. SIGTERM (or Ctrl-C)
//! stops the gateway first, so requests in flight drain through it, then the services, whose
//! stores are flushed and closed.

use std::net::{SocketAddr, ToSocketAddrs};

use actix_web::rt;
use capmatch_auth::{AuthConfig, DevSecret, Verifier};
use capmatch_gateway::{GatewayConfig, LocalUpstreams, Upstreams};
use capmatch_matcher::MatcherServiceConfig;
use capmatch_needs::NeedsConfig;
use capmatch_offers::OffersConfig;
use capmatch_service::{
    FeedFrom, FollowConfig, LocalFeed, PeerConfig, ServiceTokenConfig, StopHandle,
};

use crate::config::Config;

/// How tokens are verified, how services authenticate to each other's feeds over HTTP, and
/// whether this is development mode.
#[derive(Debug)]
pub struct Security {
    pub auth: AuthConfig,
    /// The one verifier of the process, built from `auth`: every service and the gateway share
    /// it, so a token the edge accepted is not checked again.
    pub verifier: Verifier,
    /// Absent when nothing needs it: `[auth]` configured without a service token, for services
    /// that read no feed over HTTP.
    pub peer_token: Option<ServiceTokenConfig>,
    pub development: bool,
}

/// Whether the service to run reads another's feed over HTTP, and so needs a service token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feeds {
    /// All services in this process: feeds are read from the stores.
    InProcess,
    /// This service follows a peer in another process.
    OverHttp,
    /// This service follows no one.
    None,
}

/// Development mode (a secret generated in the data directory) unless `[auth]` is configured.
/// The data directory is created for its owner only, or refused when others may read it.
pub fn security(config: &Config, feeds: Feeds) -> Result<Security, String> {
    match &config.auth {
        Some(auth) => {
            capmatch_eventstore::private_directory(&config.data_dir)
                .map_err(|e| format!("data directory: {e}"))?;
            let token = match (
                &config.peers.service_token,
                &config.peers.service_token_file,
            ) {
                (Some(token), _) => Some(token.clone()),
                (None, Some(path)) => Some(
                    capmatch_auth::read_owner_only(path)
                        .map(|t| capmatch_auth::Secret::new(t.trim().as_bytes()))
                        .map_err(|e| format!("[peers] service_token_file: {e}"))?,
                ),
                (None, None) if feeds != Feeds::OverHttp => None,
                (None, None) => {
                    return Err("with [auth] configured, a service that follows another's \
                                feed over HTTP needs a service token: set [peers] \
                                service_token or service_token_file"
                        .into());
                }
            };
            Ok(Security {
                verifier: Verifier::new(auth.clone()).map_err(|e| format!("[auth]: {e}"))?,
                auth: auth.clone(),
                peer_token: token.map(|token| ServiceTokenConfig::Static { token }),
                development: false,
            })
        }
        None => {
            let path = config.dev_secret_path();
            let secret = development_secret(config)?;
            let auth = AuthConfig::development(
                &config.development.issuer,
                &config.development.audience,
                &secret,
            );
            Ok(Security {
                verifier: Verifier::new(auth.clone()).map_err(|e| format!("[auth]: {e}"))?,
                auth,
                peer_token: Some(ServiceTokenConfig::Hs256File { path }),
                development: true,
            })
        }
    }
}

/// The development secret, read, or made and saved on first use: in the data directory (which
/// only its owner may enter) unless `development.secret_file` puts it elsewhere.
pub fn development_secret(config: &Config) -> Result<DevSecret, String> {
    capmatch_eventstore::private_directory(&config.data_dir)
        .map_err(|e| format!("data directory: {e}"))?;
    let path = config.dev_secret_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    DevSecret::load_or_generate(&path)
        .map_err(|e| format!("development secret {}: {e}", path.display()))
}

/// Development mode listens on loopback only, unless allowed explicitly.
pub fn check_development_bind(bind: &str, allowed: bool) -> Result<(), String> {
    let addresses: Vec<SocketAddr> = bind
        .to_socket_addrs()
        .map_err(|e| format!("bad address {bind:?}: {e}"))?
        .collect();
    let public = addresses.iter().any(|a| !a.ip().is_loopback());
    if public && !allowed {
        return Err(format!(
            "refusing to run in development mode on {bind}: anyone who can read the data \
             directory can mint tokens. Configure [auth] for your identity provider, bind to \
             127.0.0.1, or pass --allow-dev-mode-on-public-address"
        ));
    }
    Ok(())
}

/// The peer at `url`, read over HTTP with the service token.
fn peer(url: &str, s: &Security) -> Result<FeedFrom, String> {
    let token = s
        .peer_token
        .clone()
        .ok_or("following a feed over HTTP needs a service token: set [peers] service_token")?;
    Ok(FeedFrom::Remote(PeerConfig {
        url: url.to_owned(),
        token,
        follow: FollowConfig::default(),
    }))
}

fn needs_config(
    config: &Config,
    s: &Security,
    bind: Option<&str>,
    matcher: FeedFrom,
) -> NeedsConfig {
    NeedsConfig {
        server: config.needs.server(bind),
        data_dir: config.data_dir.clone(),
        auth: s.auth.clone(),
        verifier: Some(s.verifier.clone()),
        matcher: Some(matcher),
    }
}

fn offers_config(config: &Config, s: &Security, bind: Option<&str>) -> OffersConfig {
    OffersConfig {
        server: config.offers.server(bind),
        data_dir: config.data_dir.clone(),
        auth: s.auth.clone(),
        verifier: Some(s.verifier.clone()),
    }
}

fn matcher_config(
    config: &Config,
    s: &Security,
    bind: Option<&str>,
    needs: FeedFrom,
    offers: FeedFrom,
) -> MatcherServiceConfig {
    MatcherServiceConfig {
        server: config.matcher.service().server(bind),
        data_dir: config.data_dir.clone(),
        auth: s.auth.clone(),
        verifier: Some(s.verifier.clone()),
        needs,
        offers,
        engine: config.matcher.engine.clone(),
        stale_after_hours: config.matcher.stale_after_hours,
        page_size: config.matcher.page_size,
    }
}

fn gateway_config(config: &Config, upstreams: Upstreams) -> GatewayConfig {
    let g = &config.gateway;
    GatewayConfig {
        server: g.server(),
        upstreams,
        upstream_timeout_ms: g.upstream_timeout_ms,
        rate_limit: g.rate_limit.clone(),
        cors: g.cors.clone(),
        trusted_proxies: g.trusted_proxies.clone(),
    }
}

fn gateway(
    config: &Config,
    s: &Security,
    upstreams: Upstreams,
    local: LocalUpstreams,
) -> Result<capmatch_service::Application, String> {
    capmatch_gateway::build_with_local(
        &gateway_config(config, upstreams),
        s.verifier.clone(),
        crate::openapi::document(),
        local,
    )
    .map_err(|e| format!("gateway on {}: {e}", config.gateway.bind))
}

/// `capmatch serve`.
pub async fn all_in_one(config: &Config, allow_public: bool) -> Result<(), String> {
    let s = security(config, Feeds::InProcess)?;
    if s.development {
        let allowed = allow_public || config.development.allow_on_public_address;
        check_development_bind(&config.gateway.bind, allowed)?;
    }
    // The services follow each other's feeds straight from their stores. Each feed is linked
    // once its service has opened its store; a follower that asks before waits.
    let (needs_feed, offers_feed, matcher_feed) =
        (LocalFeed::new(), LocalFeed::new(), LocalFeed::new());
    let needs = capmatch_needs::Application::build(needs_config(
        config,
        &s,
        None,
        FeedFrom::Local(matcher_feed.clone()),
    ))
    .await
    .map_err(|e| format!("needs: {e}"))?
    .without_signal_handling();
    needs.connect(&needs_feed);
    let offers = capmatch_offers::Application::build(offers_config(config, &s, None))
        .await
        .map_err(|e| format!("offers: {e}"))?
        .without_signal_handling();
    offers.connect(&offers_feed);
    let matcher = capmatch_matcher::Application::build(matcher_config(
        config,
        &s,
        None,
        FeedFrom::Local(needs_feed),
        FeedFrom::Local(offers_feed),
    ))
    .await
    .map_err(|e| format!("matcher: {e}"))?
    .without_signal_handling();
    matcher.connect(&matcher_feed);
    // Every upstream is served in this process; their URLs are the configuration's, never used.
    let upstreams = Upstreams {
        needs: config.needs.url.clone(),
        offers: config.offers.url.clone(),
        matcher: config.matcher.url.clone(),
    };
    let local = LocalUpstreams {
        needs: needs.colocated(),
        offers: offers.colocated(),
        matcher: matcher.colocated(),
    };
    let gateway = gateway(config, &s, upstreams, local)?.without_signal_handling();

    let port = gateway.port().ok_or("the gateway is not listening")?;
    announce(config, &s, port);
    // Stop order: the gateway drains first, then the services behind it.
    let stops = vec![
        gateway.stop_handle(),
        matcher.stop_handle(),
        needs.stop_handle(),
        offers.stop_handle(),
    ];
    let runs = vec![
        rt::spawn(gateway.run_until_stopped()),
        rt::spawn(matcher.run_until_stopped()),
        rt::spawn(needs.run_until_stopped()),
        rt::spawn(offers.run_until_stopped()),
    ];
    wait_for_stop_signal().await;
    tracing::info!("stopping: draining requests, flushing stores");
    stop_in_order(&stops).await;
    let mut failed = Vec::new();
    for run in runs {
        match run.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed.push(e.to_string()),
            Err(e) => failed.push(e.to_string()),
        }
    }
    if failed.is_empty() {
        tracing::info!("stopped");
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

async fn stop_in_order(stops: &[StopHandle]) {
    for stop in stops {
        stop.stop().await;
    }
}

/// SIGTERM or SIGINT.
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn announce(config: &Config, s: &Security, port: u16) {
    let host = config
        .gateway
        .bind
        .rsplit_once(':')
        .map_or("127.0.0.1", |(h, _)| h);
    let host = if host == "0.0.0.0" || host == "[::]" {
        "127.0.0.1"
    } else {
        host
    };
    let base = format!("http://{host}:{port}");
    println!("capmatch is running");
    println!("  API        {base}/v1/");
    println!("  docs       {base}/docs/  (the document: {base}/openapi.json)");
    println!("  health     {base}/readyz");
    println!("  data       {}", config.data_dir.display());
    if s.development {
        println!(
            "  DEVELOPMENT MODE: tokens are signed with the secret in {}",
            config.dev_secret_path().display()
        );
        println!(
            "  mint one:  capmatch token --role coordinator --data-dir {}",
            config.data_dir.display()
        );
        println!(
            "  demo data: capmatch demo --url {base} --data-dir {}",
            config.data_dir.display()
        );
    }
    println!("  stop with Ctrl-C (or SIGTERM): requests drain and stores are flushed");
}

/// Which service `capmatch needs|offers|matcher|gateway` runs.
#[derive(Debug, Clone, Copy)]
pub enum One {
    Needs,
    Offers,
    Matcher,
    Gateway,
}

/// One service as its own process; its peers' URLs come from the configuration. It handles
/// SIGTERM and SIGINT itself.
pub async fn one(config: &Config, which: One) -> Result<(), String> {
    let feeds = match which {
        One::Needs | One::Matcher => Feeds::OverHttp,
        One::Offers | One::Gateway => Feeds::None,
    };
    let s = security(config, feeds)?;
    let bind = match which {
        One::Needs => &config.needs.bind,
        One::Offers => &config.offers.bind,
        One::Matcher => &config.matcher.bind,
        One::Gateway => &config.gateway.bind,
    };
    if s.development {
        check_development_bind(bind, config.development.allow_on_public_address)?;
    }
    let serving = |port: Option<u16>| tracing::info!(port, development = s.development, "serving");
    let run = match which {
        One::Needs => {
            let app = capmatch_needs::Application::build(needs_config(
                config,
                &s,
                Some(bind),
                peer(&config.matcher.url, &s)?,
            ))
            .await
            .map_err(|e| format!("needs: {e}"))?;
            serving(app.port());
            app.run_until_stopped().await
        }
        One::Offers => {
            let app = capmatch_offers::Application::build(offers_config(config, &s, Some(bind)))
                .await
                .map_err(|e| format!("offers: {e}"))?;
            serving(app.port());
            app.run_until_stopped().await
        }
        One::Matcher => {
            let app = capmatch_matcher::Application::build(matcher_config(
                config,
                &s,
                Some(bind),
                peer(&config.needs.url, &s)?,
                peer(&config.offers.url, &s)?,
            ))
            .await
            .map_err(|e| format!("matcher: {e}"))?;
            serving(app.port());
            app.run_until_stopped().await
        }
        One::Gateway => {
            let upstreams = Upstreams {
                needs: config.needs.url.clone(),
                offers: config.offers.url.clone(),
                matcher: config.matcher.url.clone(),
            };
            let app = gateway(config, &s, upstreams, LocalUpstreams::default())?;
            serving(app.port());
            app.run_until_stopped().await
        }
    };
    run.map_err(|e| e.to_string())
}
