//! `/metrics` in the Prometheus text format, on every service.
//!
//! One registry per process, every series labelled with its `service`: under `capmatch serve`
//! any service's `/metrics` (the gateway's included) shows all four. Service or admin tokens
//! only.
//!
//! - Requests: `capmatch_http_requests_total{service, route, method, status}` and
//!   `capmatch_http_request_duration_seconds{service, route, method}`. Every label comes from a
//!   closed set, so no caller can make a series (and the memory it holds for ever) of its own:
//!   the route is a pattern of the route table or `(unmatched)`, never the raw path; the method
//!   is one of the nine standard ones or `other` ([`method_label`]); the status is a number
//!   below 1000.
//! - Whatever a service registers with [`gauge_source`], read at scrape time: events appended,
//!   the store head, feed lag, the matcher's index size.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, get};
use capmatch_auth::{Caller, RoleKind};
use capmatch_eventstore::EventStore;
use capmatch_http::ApiError;
use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts,
    Registry,
};

use crate::follower::FeedStatus;

struct Http {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
}

static HTTP: LazyLock<Option<Http>> = LazyLock::new(|| {
    let registry = Registry::new();
    let requests = IntCounterVec::new(
        Opts::new("capmatch_http_requests_total", "HTTP requests answered"),
        &["service", "route", "method", "status"],
    )
    .ok()?;
    let duration = HistogramVec::new(
        HistogramOpts::new(
            "capmatch_http_request_duration_seconds",
            "Time to answer an HTTP request",
        )
        .buckets(vec![
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
        ]),
        &["service", "route", "method"],
    )
    .ok()?;
    registry.register(Box::new(requests.clone())).ok()?;
    registry.register(Box::new(duration.clone())).ok()?;
    Some(Http {
        registry,
        requests,
        duration,
    })
});

type Reading = Box<dyn Fn() -> Vec<(Vec<String>, f64)> + Send + Sync>;

/// A gauge family read at scrape time from the sources services registered.
struct Source {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    read: Reading,
}

static SOURCES: LazyLock<Mutex<Vec<Source>>> = LazyLock::new(|| Mutex::new(Vec::new()));

/// Registers a gauge family; `read` returns label values (in `labels` order) and values.
pub fn gauge_source(
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    read: impl Fn() -> Vec<(Vec<String>, f64)> + Send + Sync + 'static,
) {
    if let Ok(mut sources) = SOURCES.lock() {
        sources.push(Source {
            name,
            help,
            labels,
            read: Box::new(read),
        });
    }
}

/// The store's figures: events appended since start, durable head, batches and flushes.
/// Held weakly: a closed store stops reporting instead of being kept open.
pub fn store_gauges(service: &'static str, store: &EventStore) {
    let weak = store.downgrade();
    gauge_source(
        "capmatch_store_events_appended",
        "Events appended to the service's store since it started",
        &["service"],
        move || {
            weak.upgrade()
                .map(|s| vec![(vec![service.to_owned()], s.stats().events_written as f64)])
                .unwrap_or_default()
        },
    );
    let weak = store.downgrade();
    gauge_source(
        "capmatch_store_head_position",
        "Position of the last durable event in the service's store",
        &["service"],
        move || {
            weak.upgrade()
                .map(|s| vec![(vec![service.to_owned()], s.head().position as f64)])
                .unwrap_or_default()
        },
    );
}

/// How far a follower is behind the feed it follows, in events.
pub fn feed_gauges(service: &'static str, feed: &'static str, status: std::sync::Arc<FeedStatus>) {
    gauge_source(
        "capmatch_feed_lag_events",
        "Events the peer's feed holds that this service has not applied yet",
        &["service", "feed"],
        move || {
            let report = status.report();
            let lag = report.peer_head.saturating_sub(report.checkpoint);
            vec![(vec![service.to_owned(), feed.to_owned()], lag as f64)]
        },
    );
}

/// Counts and times every request by route pattern. Wrap it inside the request-id middleware.
pub async fn track(
    service: &'static str,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let res = next.call(req).await;
    let (route, status) = match &res {
        Ok(r) => (capmatch_http::route_label(r.request()), r.status().as_u16()),
        Err(e) => (
            "(unmatched)".to_owned(),
            e.as_response_error().status_code().as_u16(),
        ),
    };
    let key = SeriesKey {
        service,
        route,
        method,
        status,
    };
    SERIES.with(|series| {
        let mut series = series.borrow_mut();
        let handles = match series.get(&key) {
            Some(handles) => Some(handles),
            None => series_handles(&key).map(|handles| &*series.entry(key).or_insert(handles)),
        };
        if let Some((requests, duration)) = handles {
            requests.inc();
            duration.observe(started.elapsed().as_secs_f64());
        }
    });
    res
}

/// The `method` label: the request's method when it is one of the nine HTTP defines (RFC 9110
/// and PATCH), else `other`. A method is any token a client cares to send.
pub fn method_label(method: &Method) -> &'static str {
    const STANDARD: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::CONNECT,
        Method::OPTIONS,
        Method::TRACE,
        Method::PATCH,
    ];
    STANDARD
        .iter()
        .find(|m| *m == method)
        .map_or("other", |m| m.as_str())
}

/// One request series: what `capmatch_http_requests_total` is labelled with.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SeriesKey {
    service: &'static str,
    route: String,
    method: &'static str,
    status: u16,
}

thread_local! {
    /// This thread's handles on the series it has counted: a request costs one lookup here,
    /// instead of the registry's lookups, which hash every label value under a lock. Bounded
    /// like the registry itself: routes are patterns, never paths.
    static SERIES: RefCell<HashMap<SeriesKey, (IntCounter, Histogram)>> =
        RefCell::new(HashMap::new());
}

/// The registry's counter and histogram for `key`.
fn series_handles(key: &SeriesKey) -> Option<(IntCounter, Histogram)> {
    let http = HTTP.as_ref()?;
    let status = key.status.to_string();
    let requests = http
        .requests
        .get_metric_with_label_values(&[
            key.service,
            key.route.as_str(),
            key.method,
            status.as_str(),
        ])
        .ok()?;
    let duration = http
        .duration
        .get_metric_with_label_values(&[key.service, key.route.as_str(), key.method])
        .ok()?;
    Some((requests, duration))
}

/// The exposition: request metrics, then every registered gauge read now.
pub fn render() -> String {
    let mut out = Vec::new();
    if let Some(http) = HTTP.as_ref() {
        let _ = prometheus::TextEncoder::new().encode(&http.registry.gather(), &mut out);
    }
    let gauges = Registry::new();
    if let Ok(sources) = SOURCES.lock() {
        let mut families: Vec<(&'static str, GaugeVec)> = Vec::new();
        for s in sources.iter() {
            let family = match families.iter().find(|(n, _)| *n == s.name) {
                Some((_, f)) => f.clone(),
                None => match GaugeVec::new(Opts::new(s.name, s.help), s.labels) {
                    Ok(f) => {
                        let _ = gauges.register(Box::new(f.clone()));
                        families.push((s.name, f.clone()));
                        f
                    }
                    Err(_) => continue,
                },
            };
            for (labels, value) in (s.read)() {
                let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
                if let Ok(g) = family.get_metric_with_label_values(&labels) {
                    g.set(value);
                }
            }
        }
    }
    let _ = prometheus::TextEncoder::new().encode(&gauges.gather(), &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET /metrics`, for service and admin tokens only: store heads and counts move when anything
/// is written, a restricted need included, so they are not for the public. Scrapers send a
/// bearer token.
#[get("/metrics")]
pub async fn endpoint(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Caller::from_request_sync(&req)?.require_role(&[RoleKind::Service, RoleKind::Admin])?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(render()))
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::test::{TestRequest, call_service, init_service};
    use actix_web::{App, HttpResponse, web};

    use super::*;

    /// The value of the series line that starts with `series`, if the exposition has it.
    fn value(series: &str) -> Option<f64> {
        render()
            .lines()
            .find(|line| line.starts_with(series))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn methods_outside_the_standard_nine_share_one_label() {
        for standard in [
            "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH",
        ] {
            let method = Method::from_bytes(standard.as_bytes()).expect("a method");
            assert_eq!(method_label(&method), standard);
        }
        for odd in ["XM1AAAA", "get", "PROPFIND", "BREW"] {
            let method = Method::from_bytes(odd.as_bytes()).expect("a token");
            assert_eq!(method_label(&method), "other", "{odd}");
        }
    }

    async fn serve(requests: &[(&'static str, &'static str)]) {
        let app = init_service(
            App::new()
                .route("/things/{id}", web::get().to(HttpResponse::Ok))
                .route("/things/{id}", web::post().to(HttpResponse::Conflict))
                .wrap(from_fn(|req, next| track("metrics-test", req, next))),
        )
        .await;
        for (method, path) in requests {
            let req = match *method {
                "POST" => TestRequest::post(),
                _ => TestRequest::get(),
            };
            call_service(&app, req.uri(path).to_request()).await;
        }
    }

    #[actix_web::test]
    async fn every_request_is_counted_once_by_route_method_and_status_on_every_thread() {
        serve(&[
            ("GET", "/things/1"),
            ("GET", "/things/2"),
            ("POST", "/things/3"),
        ])
        .await;
        // Another thread counts into the same series through handles of its own.
        std::thread::spawn(|| {
            actix_web::rt::System::new().block_on(serve(&[("GET", "/things/4"), ("GET", "/x")]))
        })
        .join()
        .expect("the other thread");
        let requests = |method: &str, route: &str, status: u16| {
            value(&format!(
                "capmatch_http_requests_total{{method=\"{method}\",route=\"{route}\",\
                 service=\"metrics-test\",status=\"{status}\"}}"
            ))
        };
        assert_eq!(requests("GET", "/things/{id}", 200), Some(3.0));
        assert_eq!(requests("POST", "/things/{id}", 409), Some(1.0));
        assert_eq!(requests("GET", "(unmatched)", 404), Some(1.0));
        assert_eq!(
            value(
                "capmatch_http_request_duration_seconds_count{method=\"GET\",\
                 route=\"/things/{id}\",service=\"metrics-test\"}"
            ),
            Some(3.0)
        );
    }
}
