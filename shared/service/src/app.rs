//! What every service's actix app carries besides its own API, assembled once: the JWT
//! verifier, the extractor configurations (problem answers, the body limit), the internal event
//! feed, `/livez` and `/readyz`, and the problem default service ([`Common`]). And the startup
//! every store-owning service goes through ([`Foundation`]): bind, open the store, replay it
//! into the read model, follow it, then serve the service's `/v1` scope with all of the above.

use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, web};
use capmatch_auth::{AuthConfig, AuthConfigError, Verifier};
use capmatch_eventstore::{EventStore, Options};
use capmatch_http::AllowedMethods;
use capmatch_http::extract::default_service;
use capmatch_http::{json_config_with_limit, path_config, query_config};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::scope::Scope;

use crate::colocated::Mounting;
use crate::config::ServerConfig;
use crate::feed::{self, FeedState};
use crate::health::{self, Health, projection_probe};
use crate::projection::{LoadError, Projection, View};
use crate::server::{Application, Lifecycle};
use crate::token::TokenError;

/// The shared parts of a service's app; cheap to clone into each worker.
#[derive(Debug, Clone)]
pub struct Common {
    pub verifier: web::Data<Verifier>,
    pub health: web::Data<Health>,
    pub feed: web::Data<FeedState>,
    /// Largest JSON body accepted (413 beyond).
    pub body_limit: usize,
}

impl Common {
    /// Notes the shared state the workers hold, so a stop waits for its release.
    pub fn hold_in(&self, lifecycle: &mut Lifecycle) {
        lifecycle.hold("health", &self.health.clone().into_inner());
        lifecycle.hold("feed", &self.feed.clone().into_inner());
    }

    /// Installs the shared parts: `App::new().configure(|cfg| common.configure(cfg))`. Wrap the
    /// finished app in `capmatch_http::request_context` last.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(self.verifier.clone())
            .app_data(self.health.clone())
            .app_data(json_config_with_limit(self.body_limit))
            .app_data(query_config())
            .app_data(path_config())
            .service(feed::scope(self.feed.clone()))
            .service(crate::metrics::endpoint)
            .configure(health::configure)
            .default_service(web::to(default_service));
    }
}

/// What a service's `/v1` scope is made of: an actix service factory answering requests.
pub trait ApiFactory:
    ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    > + 'static
{
}

impl<T> ApiFactory for T where
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse,
            Error = actix_web::Error,
            InitError = (),
        > + 'static
{
}

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {bind}")]
    Bind {
        bind: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot open the event store in {path}")]
    Store {
        path: PathBuf,
        #[source]
        source: capmatch_eventstore::Error,
    },
    #[error("cannot build the read model")]
    Projection(#[from] LoadError),
    #[error("invalid auth configuration")]
    Auth(#[from] AuthConfigError),
    #[error("cannot set up the service token")]
    Token(#[from] TokenError),
    #[error("cannot start the HTTP server")]
    Server(#[source] io::Error),
}

/// Opens (or creates) the store in `path` off the async threads: opening scans the log.
pub async fn open_store(path: &Path) -> Result<EventStore, StartupError> {
    let owned = path.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || EventStore::open(owned, Options::default()))
        .await
        .map_err(|join| StartupError::Store {
            path: path.to_path_buf(),
            source: capmatch_eventstore::Error::Io(io::Error::other(join.to_string())),
        })?;
    opened.map_err(|source| StartupError::Store {
        path: path.to_path_buf(),
        source,
    })
}

/// Shared state in an `Arc`, as both `web::Data` and the `Arc` the lifecycle watches.
pub fn shared<T>(value: T) -> (web::Data<T>, Arc<T>) {
    let arc = Arc::new(value);
    (web::Data::from(arc.clone()), arc)
}

/// A store-owning service half-built: listening, its store open and replayed into `projection`,
/// which follows the store from here on. Add background tasks to `lifecycle` and checks to
/// `health`, then [`Foundation::serve`].
#[derive(Debug)]
pub struct Foundation<V> {
    pub name: &'static str,
    /// `None` when the service is served only through another app of its process.
    pub listener: Option<TcpListener>,
    pub store: EventStore,
    pub projection: Arc<Projection<V>>,
    pub lifecycle: Lifecycle,
    /// Already requires the store check (open, read model caught up).
    pub health: Health,
    pub verifier: Verifier,
}

impl<V: View> Foundation<V> {
    /// Checks the auth configuration (or takes the process's `shared` verifier), binds
    /// `server.bind` (if any), opens the store in `store_dir`, replays it into `view` and starts
    /// following it. Call from within an actix system.
    pub async fn open(
        name: &'static str,
        server: &ServerConfig,
        auth: &AuthConfig,
        shared: Option<&Verifier>,
        store_dir: &Path,
        view: V,
    ) -> Result<Self, StartupError> {
        let verifier = match shared {
            Some(verifier) => verifier.clone(),
            None => Verifier::new(auth.clone())?,
        };
        let listener = server.listen().map_err(|source| StartupError::Bind {
            bind: server.bind.clone().unwrap_or_default(),
            source,
        })?;
        let store = open_store(store_dir).await?;
        let projection = Projection::load(&store, view).await?;
        let mut lifecycle = Lifecycle::new();
        let follow = projection
            .clone()
            .follow(&store, lifecycle.shutdown_signal());
        lifecycle.spawn("projection", follow);
        let health =
            Health::new(name).require("store", projection_probe(store.clone(), projection.clone()));
        Ok(Self {
            name,
            listener,
            store,
            projection,
            lifecycle,
            health,
            verifier,
        })
    }

    /// Starts serving `api()` (the service's documented `/v1` scope) with `state` as app data,
    /// plus everything in [`Common`], wrapped in the request-context middleware.
    pub fn serve<S, T>(
        self,
        server: &ServerConfig,
        state: S,
        api: fn() -> Scope<T>,
    ) -> Result<Application, StartupError>
    where
        S: Send + Sync + 'static,
        T: ApiFactory,
    {
        let Self {
            name,
            listener,
            store,
            lifecycle: mut life,
            health,
            verifier,
            ..
        } = self;
        let (state, state_arc) = shared(state);
        let allowed = web::Data::new(allowed_methods(api));
        let common = Common {
            verifier: web::Data::new(verifier),
            health: web::Data::new(health),
            feed: web::Data::new(FeedState::new(store.clone(), life.shutdown_signal())),
            body_limit: server.body_limit_bytes,
        };
        common.hold_in(&mut life);
        life.hold("state", &state_arc);
        crate::metrics::store_gauges(name, &store);
        let feed = store.clone();
        life.close_on_stop(store);
        let mounted = Mounted {
            common: common.clone(),
            state: state.clone(),
            allowed: allowed.clone(),
        };
        let health = common.health.clone();
        let application = Application::start(name, listener, server, life, move || {
            App::new()
                .configure(|cfg| common.configure(cfg))
                .app_data(state.clone())
                .app_data(allowed.clone())
                .into_utoipa_app()
                .service(api())
                .into_app()
                .wrap(from_fn(move |req, next| {
                    crate::metrics::track(name, req, next)
                }))
                .wrap(from_fn(capmatch_http::request_context))
        })
        .map_err(StartupError::Server)?;
        Ok(application.with_store(feed).colocate(
            move |cfg, mounting| mounted.mount(cfg, mounting, api),
            move || health.run().0,
        ))
    }
}

/// What a service's `/v1` API needs when another app of the process serves it
/// ([`crate::colocated`]): the app data its handlers and extractors look up. The caller's app
/// brings the rest (request context, metrics).
struct Mounted<S> {
    common: Common,
    state: web::Data<S>,
    allowed: web::Data<AllowedMethods>,
}

impl<S: 'static> Mounted<S> {
    fn mount<T>(&self, cfg: &mut web::ServiceConfig, mounting: &Mounting, api: fn() -> Scope<T>)
    where
        T: ApiFactory,
    {
        let body_limit = self.common.body_limit.min(mounting.body_limit());
        cfg.service(
            api()
                .guard(mounting.guard())
                .app_data(self.common.verifier.clone())
                .app_data(json_config_with_limit(body_limit))
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(query_config())
                .app_data(path_config())
                .app_data(self.state.clone())
                .app_data(self.allowed.clone())
                .default_service(web::to(default_service)),
        );
    }
}

/// The methods of every route: the documented `/v1` ones from `api`'s own document, and the
/// kit's read-only endpoints. A wrong method gets 405 with this `Allow`.
fn allowed_methods<T>(api: fn() -> Scope<T>) -> AllowedMethods
where
    T: ApiFactory,
{
    let (_, doc) = App::new()
        .into_utoipa_app()
        .service(api())
        .split_for_parts();
    let documented: Vec<(String, Vec<String>)> = doc
        .paths
        .paths
        .iter()
        .map(|(path, item)| (path.clone(), item_methods(item)))
        .collect();
    let fixed = [
        "/livez",
        "/readyz",
        "/metrics",
        "/internal/events",
        "/internal/head",
    ];
    AllowedMethods::new(
        documented
            .iter()
            .map(|(path, methods)| (path.as_str(), methods.clone()))
            .chain(fixed.into_iter().map(|path| (path, vec!["GET".to_owned()]))),
    )
}

fn item_methods(item: &utoipa::openapi::PathItem) -> Vec<String> {
    [
        ("GET", item.get.is_some()),
        ("POST", item.post.is_some()),
        ("PUT", item.put.is_some()),
        ("PATCH", item.patch.is_some()),
        ("DELETE", item.delete.is_some()),
    ]
    .into_iter()
    .filter(|(_, present)| *present)
    .map(|(method, _)| method.to_owned())
    .collect()
}
