//! [`Application`]: the matcher service bound to its port, with its store, the decisions' read
//! model, the followers of the needs and offers feeds, the closer, and the index.
//!
//! Start-up: the store in `<data_dir>/matcher` is replayed into the knowledge (every decided
//! match); both feeds are followed from position 0; once both have caught up with their peer's
//! head, the engine is built in one pass from everything known ([`Knowledge::build_engine`]),
//! and from then on every feed event and decision updates it incrementally. `/readyz` is 503
//! until both feeds have caught up, the index is built and the store is replayed, and again
//! whenever a peer stops answering.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use capmatch_auth::AuthConfig;
use capmatch_service::follower::FeedStatus;
use capmatch_service::{
    CancellationToken, FeedFrom, Follower, Foundation, Probe, StartupError, StopHandle,
};
use serde_json::json;

use crate::aggregate::SERVICE_SUBJECT;
use crate::closer;
use crate::config::MatcherServiceConfig;
use crate::decisions::Decisions;
use crate::feeds::{Peer, PeerFeed};
use crate::knowledge::{Knowledge, SharedKnowledge};
use crate::routes;
use crate::state::AppState;

/// How often the index task looks whether both feeds have caught up.
const CATCH_UP_POLL: Duration = Duration::from_millis(10);

/// Why the matcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("invalid matcher configuration: {0}")]
    Config(String),
}

/// The running matcher service.
#[derive(Debug)]
pub struct Application(capmatch_service::Application);

impl Application {
    /// Opens the store in `<data_dir>/matcher`, replays it, binds `config.server.bind` (port 0
    /// picks a free one) and starts following the needs and offers feeds. Call from within an
    /// actix system (`#[actix_web::main]`, `#[actix_web::test]`).
    pub async fn build(config: MatcherServiceConfig) -> Result<Self, BuildError> {
        config.check().map_err(BuildError::Config)?;
        let (closes, close_jobs) = tokio::sync::mpsc::unbounded_channel();
        let knowledge = SharedKnowledge::new(Knowledge::new(config.engine.clone(), closes));
        knowledge.report_metrics();
        let mut base = Foundation::open(
            "matcher",
            &config.server,
            &config.auth,
            config.verifier.as_ref(),
            &config.store_dir(),
            Decisions::new(knowledge.clone()),
        )
        .await?;
        let shutdown = base.lifecycle.shutdown_signal();
        base.lifecycle.spawn(
            "closer",
            closer::run(base.store.clone(), close_jobs, shutdown.clone()),
        );

        let mut statuses = Vec::new();
        for (peer, peer_config) in [(Peer::Needs, &config.needs), (Peer::Offers, &config.offers)] {
            let feed = Arc::new(PeerFeed::new(peer, knowledge.clone()));
            let status = follow(&mut base, peer, peer_config, &config.auth, feed.clone())?;
            let check = match peer {
                Peer::Needs => "needs_feed",
                Peer::Offers => "offers_feed",
            };
            let probed = status.clone();
            base.health = base.health.require(check, move || {
                let report = probed.report();
                let unreadable = feed.unreadable();
                Probe {
                    ok: report.ready && unreadable == 0,
                    detail: json!({ "feed": report, "unreadable_events": unreadable }),
                }
            });
            statuses.push(status);
        }

        base.lifecycle.spawn(
            "index",
            build_index(knowledge.clone(), statuses, shutdown.clone()),
        );
        let probed = knowledge.clone();
        // No counts here: `/readyz` is public, and a count of needs would move when a
        // restricted one is posted.
        base.health = base.health.require("index", move || {
            let built = probed.read().is_built();
            Probe {
                ok: built,
                detail: json!({ "built": built }),
            }
        });

        let state = AppState {
            store: base.store.clone(),
            decisions: base.projection.clone(),
            knowledge,
            write_wait: config.server.write_wait(),
            stale_after: config.stale_after(),
            page_size: config.page_size,
        };
        Ok(base.serve(&config.server, state, routes::api).map(Self)?)
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

/// Starts following `peer`'s feed into `feed`; the follower's status, for `/readyz`.
fn follow(
    base: &mut Foundation<Decisions>,
    peer: Peer,
    from: &FeedFrom,
    auth: &AuthConfig,
    feed: Arc<PeerFeed>,
) -> Result<Arc<FeedStatus>, StartupError> {
    let source = from.source(auth, SERVICE_SUBJECT)?;
    let follower = Follower::new(peer.name(), source, feed, &from.follow());
    let status = follower.status();
    capmatch_service::metrics::feed_gauges("matcher", peer.name(), status.clone());
    let shutdown = base.lifecycle.shutdown_signal();
    let task = match peer {
        Peer::Needs => "needs feed",
        Peer::Offers => "offers feed",
    };
    base.lifecycle.spawn(task, follower.run(shutdown));
    Ok(status)
}

/// Builds the engine once every feed has caught up with its peer at least once.
async fn build_index(
    knowledge: SharedKnowledge,
    feeds: Vec<Arc<FeedStatus>>,
    shutdown: CancellationToken,
) {
    loop {
        if feeds.iter().all(|f| f.report().caught_up_once) {
            let started = std::time::Instant::now();
            let built = knowledge.write().build_engine();
            match built {
                Ok(()) => tracing::info!(
                    elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    "suggestion index built"
                ),
                Err(err) => tracing::error!(error = %err, "cannot build the suggestion index"),
            }
            return;
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = actix_web::rt::time::sleep(CATCH_UP_POLL) => {}
        }
    }
}
