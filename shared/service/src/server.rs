//! [`Application`]: a running service — its HTTP server on a listener it bound itself (port 0
//! works), the background tasks it started (projection, feed followers), and the stores it must
//! close — with one graceful way to stop all of it.
//!
//! A service assembles a [`Lifecycle`] while it builds (opening stores, spawning tasks, noting
//! which shared state the workers hold), then hands it with its app factory to
//! [`Application::start`]. Stopping ([`StopHandle::stop`], SIGINT or SIGTERM) runs in this
//! order: the shutdown signal is set (long-polls and tasks return), the server stops taking
//! connections and lets requests in flight finish, the background tasks are awaited, the workers'
//! shared state is awaited until released, and each store is closed (flushed) as its last handle
//! goes, so the same data directory can be opened again at once.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::TcpListener;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, Error, HttpServer, rt};
use capmatch_eventstore::EventStore;
use tokio::task::JoinHandle;

use crate::colocated::{Colocated, Mounting};
use crate::config::ServerConfig;
use crate::peer::LocalFeed;
use tokio_util::sync::CancellationToken;

/// How long a stop waits for the workers to let go of the shared state before closing the
/// stores anyway.
const RELEASE_DEADLINE: Duration = Duration::from_secs(10);

/// What a service started besides its HTTP server, to be wound down when it stops.
pub struct Lifecycle {
    stopping: CancellationToken,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
    held: Vec<(&'static str, Weak<dyn Any + Send + Sync>)>,
    stores: Vec<EventStore>,
}

impl fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lifecycle")
            .field(
                "tasks",
                &self.tasks.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field(
                "held",
                &self.held.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("stores", &self.stores.len())
            .finish()
    }
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

impl Lifecycle {
    pub fn new() -> Self {
        Self {
            stopping: CancellationToken::new(),
            tasks: Vec::new(),
            held: Vec::new(),
            stores: Vec::new(),
        }
    }

    /// The signal tasks and long-polling handlers stop on.
    pub fn shutdown_signal(&self) -> CancellationToken {
        self.stopping.clone()
    }

    /// Spawns background work on the current actix runtime (it may hold `!Send` values such as
    /// an `awc` client). The task must return soon after the shutdown signal is set; the stop
    /// awaits it.
    ///
    /// Must be called from within an actix system (`#[actix_web::main]`, `#[actix_web::test]`).
    pub fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + 'static) {
        self.tasks.push((name, rt::spawn(task)));
    }

    /// Notes shared state the workers hold (`web::Data` is an `Arc`): the stop waits until every
    /// worker has dropped it before closing the stores, because that state holds store handles.
    pub fn hold<T: Send + Sync + 'static>(&mut self, name: &'static str, state: &Arc<T>) {
        let erased: Arc<dyn Any + Send + Sync> = state.clone();
        self.held.push((name, Arc::downgrade(&erased)));
    }

    /// Closes `store` (flushing it) once everything else has stopped.
    pub fn close_on_stop(&mut self, store: EventStore) {
        self.stores.push(store);
    }

    /// Sets the signal, awaits the tasks and the release of the held state, closes the stores.
    async fn wind_down(self) {
        self.stopping.cancel();
        for (name, task) in self.tasks {
            if let Err(err) = task.await {
                tracing::error!(task = name, error = %err, "background task ended abnormally");
            }
        }
        let deadline = Instant::now() + RELEASE_DEADLINE;
        loop {
            let holding: Vec<_> = self
                .held
                .iter()
                .filter(|(_, weak)| weak.strong_count() > 0)
                .map(|(name, _)| *name)
                .collect();
            if holding.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                tracing::warn!(
                    ?holding,
                    "shared state still held at shutdown; closing anyway"
                );
                break;
            }
            rt::time::sleep(Duration::from_millis(2)).await;
        }
        for store in self.stores {
            store.close().await;
        }
    }
}

/// Stops a running [`Application`] gracefully. Cloneable; stopping twice is harmless.
#[derive(Clone)]
pub struct StopHandle {
    stopping: CancellationToken,
    server: Option<ServerHandle>,
}

impl fmt::Debug for StopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopHandle").finish_non_exhaustive()
    }
}

impl StopHandle {
    /// Sets the shutdown signal, then stops the server gracefully. Returns once the server has
    /// stopped; [`Application::run_until_stopped`] then finishes the wind-down.
    pub async fn stop(&self) {
        self.stopping.cancel();
        if let Some(server) = &self.server {
            server.stop(true).await;
        }
    }
}

/// A service bound to its port (or served only through another app of its process), ready to
/// run.
pub struct Application {
    name: &'static str,
    /// `None` without a listener of its own.
    port: Option<u16>,
    server: Option<Server>,
    stop: StopHandle,
    lifecycle: Lifecycle,
    handle_signals: bool,
    /// Its API, when it offers it to other apps of the process.
    colocated: Option<Colocated>,
    /// Its event store, when it has one: what its feed serves.
    store: Option<EventStore>,
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application")
            .field("name", &self.name)
            .field("port", &self.port)
            .field("lifecycle", &self.lifecycle)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Starts an HTTP server on `listener` with the app `factory` (called once per worker).
    /// The server takes connections once [`Application::run_until_stopped`] is polled. Without
    /// a listener there is no server: the application is served through another app of the
    /// process ([`Application::colocate`]), and runs its lifecycle until stopped.
    pub fn start<F, T, B>(
        name: &'static str,
        listener: Option<TcpListener>,
        config: &ServerConfig,
        lifecycle: Lifecycle,
        factory: F,
    ) -> io::Result<Self>
    where
        F: Fn() -> App<T> + Send + Clone + 'static,
        T: ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<B>,
                Error = Error,
                InitError = (),
            > + 'static,
        B: MessageBody + 'static,
    {
        let (server, port) = match listener {
            Some(listener) => {
                let port = listener.local_addr()?.port();
                let mut server = HttpServer::new(factory)
                    .disable_signals()
                    .shutdown_timeout(config.shutdown_timeout_seconds);
                if let Some(workers) = config.workers {
                    server = server.workers(workers.max(1));
                }
                let server = server.listen(listener)?.run();
                tracing::info!(service = name, port, "listening");
                (Some(server), Some(port))
            }
            None => {
                tracing::info!(service = name, "served in process");
                (None, None)
            }
        };
        let stop = StopHandle {
            stopping: lifecycle.stopping.clone(),
            server: server.as_ref().map(Server::handle),
        };
        Ok(Self {
            name,
            port,
            server,
            stop,
            lifecycle,
            handle_signals: true,
            colocated: None,
            store: None,
        })
    }

    /// Offers the application's API to other apps of this process ([`crate::colocated`]):
    /// `mount` registers it in a caller's app, `ready` says whether it is ready;
    /// [`Application::colocated`] hands it out.
    pub fn colocate(
        mut self,
        mount: impl Fn(&mut actix_web::web::ServiceConfig, &Mounting) + Send + Sync + 'static,
        ready: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Self {
        self.colocated = Some(Colocated::new(
            self.name,
            self.lifecycle.shutdown_signal(),
            mount,
            ready,
        ));
        self
    }

    /// Notes the application's store, whose log is its feed ([`Application::connect`]).
    pub fn with_store(mut self, store: EventStore) -> Self {
        self.store = Some(store);
        self
    }

    /// Makes `feed` this application's event feed, for the services of this process that follow
    /// it ([`crate::peer`]). False when the application keeps no store.
    pub fn connect(&self, feed: &LocalFeed) -> bool {
        match &self.store {
            Some(store) => {
                feed.connect(store.clone());
                true
            }
            None => false,
        }
    }

    /// The application's API for another app of this process to mount, if it offers it.
    pub fn colocated(&self) -> Option<Colocated> {
        self.colocated.clone()
    }

    /// Leaves SIGINT/SIGTERM alone (when the embedding program handles them itself).
    pub fn without_signal_handling(mut self) -> Self {
        self.handle_signals = false;
        self
    }

    /// The port the server listens on (the one the system chose when bound to port 0); `None`
    /// without a listener of its own.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// A handle that stops the application gracefully.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Serves until stopped (by [`StopHandle::stop`], SIGINT or SIGTERM), then winds down: the
    /// background tasks end, the workers release their state, the stores are flushed and closed.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        let Self {
            name,
            server,
            stop,
            lifecycle,
            handle_signals,
            colocated,
            store,
            ..
        } = self;
        let signals = handle_signals.then(|| rt::spawn(stop_on_signal(stop.clone())));
        let result = match server {
            Some(server) => server.await,
            None => {
                stop.stopping.cancelled().await;
                Ok(())
            }
        };
        if let Some(signals) = signals {
            signals.abort();
        }
        // Let go of before the wind-down, which waits for the state the mount holds and closes
        // the store.
        drop(colocated);
        drop(store);
        lifecycle.wind_down().await;
        tracing::info!(service = name, "stopped");
        result
    }
}

/// Waits for SIGINT or SIGTERM, then stops gracefully.
async fn stop_on_signal(stop: StopHandle) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("stop signal received");
    stop.stop().await;
}
