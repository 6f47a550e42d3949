//! Serving an application's API from another app of the same process.
//!
//! Under `capmatch serve` the gateway and the services share one process. A request the gateway
//! routes to the needs service need not go through a second pipeline (a second request context,
//! access line, metrics and token check, a request rebuilt from the first) only to reach the same
//! handlers: the gateway mounts the services' `/v1` APIs into its own app, and each request is
//! served by one pipeline from the socket to the service's handler.
//!
//! An application that offers its API this way ([`crate::Application::colocate`]) hands out a
//! [`Colocated`] ([`crate::Application::colocated`]); whoever builds the process gives it to the
//! caller (`capmatch serve` to the gateway), whose app factory calls [`Colocated::mount`] on
//! each of its workers. The mounted API brings its own
//! state and extractor configuration (app data on its scope) and answers only the paths the
//! caller's route table gives it ([`Mounting`]); the caller's middleware (request context, metrics,
//! edge checks) wraps it.
//!
//! The application's own HTTP server keeps running (feeds and health checks still use it); the
//! mounted scopes hold the application's shared state, so the caller must stop before the
//! application does (the gateway is stopped first). A stopping application's scope admits no
//! more requests: they fall through to whatever the caller routes next (the gateway forwards
//! them over HTTP, where a stopped service is a 503).

use std::fmt;
use std::sync::Arc;

use actix_web::guard::{self, Guard};
use actix_web::web;

use tokio_util::sync::CancellationToken;

type MountFn = dyn Fn(&mut web::ServiceConfig, &Mounting) + Send + Sync;
type Admits = dyn Fn(&str) -> bool + Send + Sync;
type Ready = dyn Fn() -> bool + Send + Sync;

/// An application of this process whose API another app can mount. Cheap to clone.
#[derive(Clone)]
pub struct Colocated {
    name: &'static str,
    mount: Arc<MountFn>,
    ready: Arc<Ready>,
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
    /// The API of the application `name`, registered by `mount`, admitting nothing once
    /// `stopping` is cancelled; `ready` says what its `/readyz` would.
    pub fn new(
        name: &'static str,
        stopping: CancellationToken,
        mount: impl Fn(&mut web::ServiceConfig, &Mounting) + Send + Sync + 'static,
        ready: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Self {
        Colocated {
            name,
            mount: Arc::new(mount),
            ready: Arc::new(ready),
            stopping,
        }
    }

    /// Whether the application would answer its `/readyz` with 200: not stopping, and every
    /// check it requires passing.
    pub fn is_ready(&self) -> bool {
        !self.is_stopping() && (self.ready)()
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
}

#[cfg(test)]
mod tests {
    use actix_web::test::{TestRequest, call_service, init_service, read_body};
    use actix_web::{App, HttpResponse};

    use super::*;

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

    #[actix_web::test]
    async fn a_mounted_api_answers_the_paths_it_is_given_until_it_stops() {
        let stop_needs = CancellationToken::new();
        let needs = Colocated::new("needs", stop_needs.clone(), api("needs"), || true);
        let offers = Colocated::new("offers", CancellationToken::new(), api("offers"), || true);
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
        assert!(needs.is_ready());
        stop_needs.cancel();
        assert!(needs.is_stopping());
        assert!(!needs.is_ready(), "a stopping application is not ready");
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
