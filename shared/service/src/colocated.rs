//! Serving an application's API from another app of the same process.
//!
//! Under `capmatch serve` the gateway and the services share one process. A request the gateway
//! routes to the needs service need not go through a second pipeline (a second request context,
//! access line, metrics and token check, a request rebuilt from the first) only to reach the same
//! handlers: the gateway mounts the services' `/v1` APIs into its own app, and each request is
//! served by one pipeline from the socket to the service's handler.
//!
//! Every application that offers its API this way ([`crate::Application::colocate`]) is listed
//! here by the address it listens on while it runs; [`Colocated::at`] finds it, and the caller's
//! app factory calls [`Colocated::mount`] on each of its workers. The mounted API brings its own
//! state and extractor configuration (app data on its scope) and answers only the paths the
//! caller's route table gives it ([`Mounting`]); the caller's middleware (request context, metrics,
//! edge checks) wraps it.
//!
//! The application's own HTTP server keeps running (feeds and health checks still use it); the
//! mounted scopes hold the application's shared state, so the caller must stop before the
//! application does (the gateway is stopped first). A stopping application's scope admits no
//! more requests: they fall through to whatever the caller routes next (the gateway forwards
//! them over HTTP, where a stopped service is a 503).

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use actix_web::guard::{self, Guard};
use actix_web::web;

use tokio_util::sync::CancellationToken;

type MountFn = dyn Fn(&mut web::ServiceConfig, &Mounting) + Send + Sync;
type Admits = dyn Fn(&str) -> bool + Send + Sync;

/// The running applications of this process that offer their API, by listening address.
static RUNNING: LazyLock<Mutex<HashMap<SocketAddr, (u64, Colocated)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// An application of this process whose API another app can mount. Cheap to clone.
#[derive(Clone)]
pub struct Colocated {
    name: &'static str,
    mount: Arc<MountFn>,
    stopping: CancellationToken,
}

impl fmt::Debug for Colocated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Colocated")
            .field("name", &self.name)
            .field("stopping", &self.stopping.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// How the caller mounts a colocated API: which paths it routes there, and the largest body it
/// lets through.
#[derive(Clone)]
pub struct Mounting {
    admits: Arc<Admits>,
    body_limit: usize,
    stopping: Option<CancellationToken>,
}

impl fmt::Debug for Mounting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mounting")
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl Mounting {
    /// Requests whose path `admits` accepts reach the mounted API; bodies are capped at
    /// `body_limit` bytes (or the application's own limit, whichever is smaller).
    pub fn new(admits: impl Fn(&str) -> bool + Send + Sync + 'static, body_limit: usize) -> Self {
        Mounting {
            admits: Arc::new(admits),
            body_limit,
            stopping: None,
        }
    }

    /// The caller's body limit.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The guard of the mounted scope: the caller routes the path here, and the application is
    /// not stopping.
    pub fn guard(&self) -> impl Guard + use<> {
        let admits = self.admits.clone();
        let stopping = self.stopping.clone();
        guard::fn_guard(move |ctx| {
            admits(ctx.head().uri.path()) && !stopping.as_ref().is_some_and(|s| s.is_cancelled())
        })
    }
}

impl Colocated {
    /// The application of this process listening on `addr`, if one is running and offers its
    /// API.
    pub fn at(addr: SocketAddr) -> Option<Colocated> {
        let running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
        running.get(&addr).map(|(_, colocated)| colocated.clone())
    }

    /// The application's name (`needs`, `offers`...).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// True once the application has begun to stop.
    pub fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// Registers the application's API in `cfg` (a worker's app, being built), for the requests
    /// `mounting` admits while the application is not stopping.
    pub fn mount(&self, cfg: &mut web::ServiceConfig, mounting: &Mounting) {
        let mounting = Mounting {
            stopping: Some(self.stopping.clone()),
            ..mounting.clone()
        };
        (self.mount)(cfg, &mounting);
    }

    /// Lists the application's `mount` under `addr` until the returned guard drops.
    pub(crate) fn register(
        name: &'static str,
        addr: SocketAddr,
        stopping: CancellationToken,
        mount: impl Fn(&mut web::ServiceConfig, &Mounting) + Send + Sync + 'static,
    ) -> Registration {
        let colocated = Colocated {
            name,
            mount: Arc::new(mount),
            stopping,
        };
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(addr, (id, colocated));
        Registration { addr, id }
    }
}

/// Keeps an application listed; dropping it unlists the application (and releases the state its
/// mount holds).
#[derive(Debug)]
pub(crate) struct Registration {
    addr: SocketAddr,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
        if running
            .get(&self.addr)
            .is_some_and(|(id, _)| *id == self.id)
        {
            running.remove(&self.addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use actix_web::test::{TestRequest, call_service, init_service, read_body};
    use actix_web::{App, HttpResponse};

    use super::*;

    fn free_addr() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("bound")
    }

    /// Mounts a `/v1` scope answering with its name and the body limit it was given.
    fn api(name: &'static str) -> impl Fn(&mut web::ServiceConfig, &Mounting) + Send + Sync {
        move |cfg, mounting| {
            let limit = mounting.body_limit();
            cfg.service(
                web::scope("/v1")
                    .guard(mounting.guard())
                    .default_service(web::to(move || async move {
                        HttpResponse::Ok().body(format!("{name} {limit}"))
                    })),
            );
        }
    }

    #[test]
    fn an_application_is_listed_only_while_registered() {
        let addr = free_addr();
        assert!(Colocated::at(addr).is_none());
        let registration = Colocated::register("echo", addr, CancellationToken::new(), api("echo"));
        assert_eq!(Colocated::at(addr).map(|c| c.name()), Some("echo"));
        drop(registration);
        assert!(Colocated::at(addr).is_none());
    }

    #[actix_web::test]
    async fn a_mounted_api_answers_the_paths_it_is_given_until_it_stops() {
        let (needs_addr, offers_addr) = (free_addr(), free_addr());
        let stop_needs = CancellationToken::new();
        let _needs = Colocated::register("needs", needs_addr, stop_needs.clone(), api("needs"));
        let _offers = Colocated::register(
            "offers",
            offers_addr,
            CancellationToken::new(),
            api("offers"),
        );
        let needs = Colocated::at(needs_addr).expect("listed");
        let offers = Colocated::at(offers_addr).expect("listed");
        let app = init_service(
            App::new()
                .configure(|cfg| {
                    needs.mount(cfg, &Mounting::new(|p| p.starts_with("/v1/needs"), 100));
                    offers.mount(cfg, &Mounting::new(|p| p.starts_with("/v1/offers"), 200));
                })
                .default_service(web::to(|| async {
                    HttpResponse::NotFound().body("caller")
                })),
        )
        .await;
        let get = |path: &'static str| TestRequest::get().uri(path).to_request();
        let body = |res| async { String::from_utf8_lossy(&read_body(res).await).into_owned() };

        assert_eq!(
            body(call_service(&app, get("/v1/needs/1")).await).await,
            "needs 100"
        );
        assert_eq!(
            body(call_service(&app, get("/v1/offers")).await).await,
            "offers 200"
        );
        assert_eq!(
            body(call_service(&app, get("/v1/other")).await).await,
            "caller"
        );

        assert!(!needs.is_stopping());
        stop_needs.cancel();
        assert!(needs.is_stopping());
        // A stopping application takes nothing new: the caller's own routing answers.
        assert_eq!(
            body(call_service(&app, get("/v1/needs/1")).await).await,
            "caller"
        );
        assert_eq!(
            body(call_service(&app, get("/v1/offers")).await).await,
            "offers 200"
        );
    }
}
