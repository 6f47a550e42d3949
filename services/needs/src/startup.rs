//! [`Application`]: the needs service bound to its port, with its store, read model and — when a
//! matcher is configured — the follower of the matcher's feed.

use std::io;
use std::sync::Arc;

use capmatch_service::{Follower, Foundation, Probe, StartupError, StopHandle};
use serde_json::json;

use crate::config::NeedsConfig;
use crate::introductions::Introductions;
use crate::routes;
use crate::state::AppState;
use crate::view::NeedsView;

/// The subject of the service token this service presents to the matcher.
pub const SERVICE_SUBJECT: &str = "svc:needs";

/// The running needs service.
#[derive(Debug)]
pub struct Application(capmatch_service::Application);

impl Application {
    /// Opens the store in `<data_dir>/needs`, replays it, binds `config.server.bind` (port 0
    /// picks a free one) and starts following the matcher if one is configured. Call from within
    /// an actix system (`#[actix_web::main]`, `#[actix_web::test]`).
    pub async fn build(config: NeedsConfig) -> Result<Self, StartupError> {
        let mut base = Foundation::open(
            "needs",
            &config.server,
            &config.auth,
            config.verifier.as_ref(),
            &config.store_dir(),
            NeedsView::default(),
        )
        .await?;
        let introductions = Arc::new(Introductions::default());
        match &config.matcher {
            Some(peer) => {
                let source = peer.source(&config.auth, SERVICE_SUBJECT)?;
                let follower =
                    Follower::new("matcher", source, introductions.clone(), &peer.follow());
                let status = follower.status();
                capmatch_service::metrics::feed_gauges("needs", "matcher", status.clone());
                // Reported, never required: needs must serve while the matcher is down.
                base.health = base.health.report("matcher_feed", move || {
                    let report = status.report();
                    Probe {
                        ok: report.ready,
                        detail: serde_json::to_value(report).unwrap_or_default(),
                    }
                });
                let shutdown = base.lifecycle.shutdown_signal();
                base.lifecycle.spawn("matcher feed", follower.run(shutdown));
            }
            None => {
                base.health = base.health.report("matcher_feed", || Probe {
                    ok: true,
                    detail: json!({ "configured": false }),
                });
            }
        }
        let state = AppState {
            store: base.store.clone(),
            needs: base.projection.clone(),
            introductions,
            write_wait: config.server.write_wait(),
        };
        base.serve(&config.server, state, routes::api).map(Self)
    }

    /// The port the service listens on; `None` when it is served only through another app of
    /// its process.
    pub fn port(&self) -> Option<u16> {
        self.0.port()
    }

    /// Makes `feed` this service's event feed, for the services of this process that follow
    /// it.
    pub fn connect(&self, feed: &capmatch_service::LocalFeed) -> bool {
        self.0.connect(feed)
    }

    /// The service's `/v1` API, for another app of this process (the gateway) to mount.
    pub fn colocated(&self) -> Option<capmatch_service::Colocated> {
        self.0.colocated()
    }

    /// A handle that stops the service gracefully.
    pub fn stop_handle(&self) -> StopHandle {
        self.0.stop_handle()
    }

    /// Leaves SIGINT/SIGTERM to the embedding program.
    pub fn without_signal_handling(self) -> Self {
        Self(self.0.without_signal_handling())
    }

    /// Serves until stopped, then winds down and closes the store.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        self.0.run_until_stopped().await
    }
}
