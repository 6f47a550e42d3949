//! [`Application`]: the offers service bound to its port, with its store and read model.

use std::io;

use capmatch_service::{Foundation, StartupError, StopHandle};

use crate::config::OffersConfig;
use crate::routes;
use crate::state::AppState;
use crate::view::OffersView;

/// The running offers service.
#[derive(Debug)]
pub struct Application(capmatch_service::Application);

impl Application {
    /// Opens the store in `<data_dir>/offers`, replays it and binds `config.server.bind` (port
    /// 0 picks a free one). Call from within an actix system (`#[actix_web::main]`,
    /// `#[actix_web::test]`).
    pub async fn build(config: OffersConfig) -> Result<Self, StartupError> {
        let base = Foundation::open(
            "offers",
            &config.server,
            &config.auth,
            config.verifier.as_ref(),
            &config.store_dir(),
            OffersView::default(),
        )
        .await?;
        let state = AppState {
            store: base.store.clone(),
            offers: base.projection.clone(),
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
