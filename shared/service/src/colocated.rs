//! Calling an application of this process without a socket.
//!
//! Under `capmatch serve` the gateway and the services share one process; a request the gateway
//! routes to the needs service need not be written to loopback, parsed again and answered
//! through a second HTTP connection. Every [`crate::Application`] is listed here by the address it
//! listens on while it runs; [`Colocated::at`] finds it, and each of the caller's worker threads
//! builds its own instance of the application's app ([`Colocated::instance`]) and calls it as
//! its HTTP server would: same middleware, same handlers, same answers, minus the socket.
//!
//! The application's own HTTP server keeps running (feeds and health checks still use it); the
//! instances hold the application's shared state, so the caller must stop before the
//! application does (the gateway is stopped first).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, Uri};
use actix_web::web::Bytes;
use actix_web::{App, Error};

use crate::shutdown::ShutdownSignal;

type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;
type Instantiate = dyn Fn() -> LocalFuture<Instance> + Send + Sync;
type Call = dyn Fn(LocalRequest) -> LocalFuture<Result<ServiceResponse, Error>>;

tokio::task_local! {
    /// Set while an [`Instance`] serves a call (see [`in_process_call`]).
    static IN_PROCESS_CALL: ();
}

/// True while the current task is inside an [`Instance::call`]: the request being served came
/// from an in-process caller, which logs it itself (see [`crate::telemetry`]).
pub fn in_process_call() -> bool {
    IN_PROCESS_CALL.try_with(|()| ()).is_ok()
}

/// The running applications of this process, by listening address.
static RUNNING: LazyLock<Mutex<HashMap<SocketAddr, (u64, Colocated)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// An application of this process that can be called in-process. Cheap to clone.
#[derive(Clone)]
pub struct Colocated {
    name: &'static str,
    instantiate: Arc<Instantiate>,
}

impl fmt::Debug for Colocated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Colocated")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Colocated {
    /// The application of this process listening on `addr`, if one is running.
    pub fn at(addr: SocketAddr) -> Option<Colocated> {
        let running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
        running.get(&addr).map(|(_, colocated)| colocated.clone())
    }

    /// The application's name (`needs`, `offers`...).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// A new instance of the application's app, for the calling thread only (actix apps are
    /// not `Send`). Build one per worker, at worker start. Panics if the app cannot be built,
    /// as the application's own workers would fail to start.
    pub async fn instance(&self) -> Instance {
        (self.instantiate)().await
    }

    /// Lists the application built by `factory` under `addr` until the returned guard drops.
    pub(crate) fn register<F, T, B>(
        name: &'static str,
        addr: SocketAddr,
        stopping: ShutdownSignal,
        factory: F,
    ) -> Registration
    where
        F: Fn() -> App<T> + Send + 'static,
        T: ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<B>,
                Error = Error,
                InitError = (),
            > + 'static,
        B: MessageBody + 'static,
    {
        // The factory is only `Send`; it is called once per instance, under the lock.
        let factory = Mutex::new(factory);
        let instantiate = move || -> LocalFuture<Instance> {
            let app = factory.lock().unwrap_or_else(PoisonError::into_inner)();
            let stopping = stopping.clone();
            Box::pin(async move {
                // actix-web's in-process entry points (`init_service`, `TestRequest`) are the
                // public way to run an app without a server; only their module is named "test".
                let service = actix_web::test::init_service(app).await;
                let call =
                    move |local: LocalRequest| -> LocalFuture<Result<ServiceResponse, Error>> {
                        let mut req = actix_web::test::TestRequest::default()
                            .method(local.method)
                            .set_payload(local.body)
                            .to_request();
                        *req.uri_mut() = local.uri;
                        let headers = req.headers_mut();
                        for (name, value) in local.headers {
                            if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
                                headers.append(name, value);
                            }
                        }
                        let call = service.call(req);
                        Box::pin(
                            async move { call.await.map(ServiceResponse::map_into_boxed_body) },
                        )
                    };
                Instance {
                    name,
                    call: Rc::new(call),
                    stopping,
                }
            })
        };
        let colocated = Colocated {
            name,
            instantiate: Arc::new(instantiate),
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
/// factory holds).
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

/// One thread's instance of a colocated application's app.
#[derive(Clone)]
pub struct Instance {
    name: &'static str,
    call: Rc<Call>,
    stopping: ShutdownSignal,
}

impl fmt::Debug for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instance")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Instance {
    /// True once the application has begun to stop: like a server that no longer accepts
    /// connections, it should not be given new requests.
    pub fn is_stopping(&self) -> bool {
        self.stopping.is_triggered()
    }

    /// Serves `req` through the whole app (middleware, routing, handler), as the application's
    /// HTTP server would. An `Err` is what the server would have rendered with
    /// `error_response()`.
    pub fn call(
        &self,
        req: LocalRequest,
    ) -> impl Future<Output = Result<ServiceResponse, Error>> + 'static {
        IN_PROCESS_CALL.scope((), (self.call)(req))
    }
}

/// A request for an [`Instance`]: what an HTTP client would send.
#[derive(Debug)]
pub struct LocalRequest {
    pub method: Method,
    /// Path and query (`/v1/needs/abc?limit=5`).
    pub uri: Uri,
    /// Sent as given, except `Content-Length` and `Transfer-Encoding`: the body's length is set
    /// from the body, as an HTTP client does.
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use actix_web::http::header::{HeaderName, HeaderValue};
    use actix_web::{HttpRequest, HttpResponse, web};

    use super::*;

    /// Answers with the method, path, query, body and the headers it was given.
    fn echo() -> App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<impl MessageBody>,
            Error = Error,
            InitError = (),
        >,
    > {
        App::new().default_service(web::to(|req: HttpRequest, body: Bytes| async move {
            let headers: Vec<String> = req
                .headers()
                .iter()
                .map(|(k, v)| format!("{k}={}", v.to_str().unwrap_or("?")))
                .collect();
            HttpResponse::Accepted().body(format!(
                "{} {} {} {} {}",
                req.method(),
                req.path(),
                req.query_string(),
                String::from_utf8_lossy(&body),
                headers.join(","),
            ))
        }))
    }

    fn free_addr() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("bound")
    }

    #[test]
    fn an_application_is_listed_only_while_registered() {
        let addr = free_addr();
        let (_trigger, signal) = crate::shutdown::channel();
        assert!(Colocated::at(addr).is_none());
        let registration = Colocated::register("echo", addr, signal, echo);
        assert_eq!(Colocated::at(addr).map(|c| c.name()), Some("echo"));
        drop(registration);
        assert!(Colocated::at(addr).is_none());
    }

    #[actix_web::test]
    async fn an_instance_serves_what_a_client_would_send_and_knows_when_it_stops() {
        let addr = free_addr();
        let (trigger, signal) = crate::shutdown::channel();
        let _listed = Colocated::register("echo", addr, signal, echo);
        let instance = Colocated::at(addr).expect("listed").instance().await;
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("if-match"),
            HeaderValue::from_static("\"3\""),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        let res = instance
            .call(LocalRequest {
                method: Method::POST,
                uri: Uri::from_static("/v1/needs/1/withdraw?reason=x"),
                headers,
                body: Bytes::from_static(b"{}"),
            })
            .await
            .expect("an answer");
        assert_eq!(res.status(), 202);
        let body = actix_web::body::to_bytes(res.into_body())
            .await
            .expect("a body");
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.starts_with("POST /v1/needs/1/withdraw reason=x {} "),
            "{body}"
        );
        assert!(body.contains("if-match=\"3\""), "{body}");
        assert!(body.contains("content-length=2"), "{body}");
        assert!(!body.contains("999"), "{body}");

        assert!(!instance.is_stopping());
        trigger.trigger();
        assert!(instance.is_stopping());
    }
}
