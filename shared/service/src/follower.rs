//! [`Follower`]: follows another service's internal event feed and hands its events, in position
//! order with no gap and no duplicate, to a [`FeedConsumer`] that keeps its own checkpoint.
//!
//! The loop long-polls `GET {peer}/internal/events?after=<checkpoint>&limit=&wait_ms=` with a
//! service token. While the peer is down it retries with exponential back-off up to a cap
//! ([`Backoff`]); the shared [`FeedStatus`] says whether the peer is reachable and whether the
//! consumer has caught up with the peer's head at least once, for `/readyz`.
//!
//! The transport is a [`FeedSource`]: [`HttpFeedSource`] (awc, plain HTTP) in services; anything
//! that answers pages in tests. `awc` is `!Send`: spawn the loop on the actix runtime
//! ([`crate::server::Lifecycle::spawn`]).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use awc::http::header;
use capmatch_eventstore::StoredEvent;
use serde::Serialize;

use crate::config::FollowConfig;
use crate::feed::{FeedPage, MAX_FEED_LIMIT, MAX_FEED_WAIT_MS};
use crate::token::{TokenError, TokenSource};
use tokio_util::sync::CancellationToken;

/// Largest feed page body accepted.
const MAX_PAGE_BYTES: usize = 256 * 1024 * 1024;
/// Time allowed on top of the long-poll for the peer to answer.
const ANSWER_MARGIN: Duration = Duration::from_secs(10);

/// What consumes a feed. The consumer owns the checkpoint: after `apply(event)` its checkpoint
/// is `event.position`. The follower only ever hands it the event right after its checkpoint.
pub trait FeedConsumer {
    /// The position of the last event applied (0: none).
    fn checkpoint(&self) -> u64;
    /// Applies the next event (its position is `checkpoint() + 1`).
    fn apply(&self, event: StoredEvent);
}

impl<T: FeedConsumer + ?Sized> FeedConsumer for std::sync::Arc<T> {
    fn checkpoint(&self) -> u64 {
        (**self).checkpoint()
    }

    fn apply(&self, event: StoredEvent) {
        (**self).apply(event);
    }
}

/// Fetches one page of a feed.
pub trait FeedSource {
    /// Up to `limit` events after `after`, waiting up to `wait` for one when there are none.
    fn fetch(
        &self,
        after: u64,
        limit: usize,
        wait: Duration,
    ) -> impl Future<Output = Result<FeedPage, FetchError>>;
}

/// Why a page could not be had or used.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the peer could not be reached: {0}")]
    Unreachable(String),
    #[error("the peer answered with status {0}")]
    Status(u16),
    #[error("the peer's page could not be read: {0}")]
    Decode(String),
    #[error("no service token: {0}")]
    Token(#[from] TokenError),
    #[error("the peer's page skips from position {checkpoint} to {found}")]
    Gap { checkpoint: u64, found: u64 },
}

/// A feed over plain HTTP with `awc`.
pub struct HttpFeedSource {
    client: awc::Client,
    events_url: String,
    token: TokenSource,
}

impl std::fmt::Debug for HttpFeedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpFeedSource")
            .field("events_url", &self.events_url)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl HttpFeedSource {
    /// The feed of the service at `base_url` (`http://host:port`).
    pub fn new(base_url: &str, token: TokenSource) -> Self {
        let client = awc::Client::builder()
            .disable_redirects()
            // Per request instead: each long-poll sets its own.
            .disable_timeout()
            .finish();
        Self {
            client,
            events_url: format!("{}/internal/events", base_url.trim_end_matches('/')),
            token,
        }
    }
}

impl FeedSource for HttpFeedSource {
    async fn fetch(
        &self,
        after: u64,
        limit: usize,
        wait: Duration,
    ) -> Result<FeedPage, FetchError> {
        let token = self.token.token()?;
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(MAX_FEED_WAIT_MS);
        let url = format!(
            "{}?after={after}&limit={limit}&wait_ms={wait_ms}",
            self.events_url
        );
        let mut response = self
            .client
            .get(url)
            .insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
            .timeout(wait + ANSWER_MARGIN)
            .send()
            .await
            .map_err(|e| FetchError::Unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        response
            .json::<FeedPage>()
            .limit(MAX_PAGE_BYTES)
            .await
            .map_err(|e| FetchError::Decode(e.to_string()))
    }
}

/// Exponential back-off: `initial`, doubling per failure, never above `max`; `reset` after a
/// success.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(1));
        let max = max.max(initial);
        Self {
            initial,
            max,
            next: initial,
        }
    }

    /// The pause before the next retry; each call doubles the following one, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// Back to the initial pause.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

/// The follower's state as `/readyz` reports it. Shared between the loop and the service.
#[derive(Debug, Default)]
pub struct FeedStatus {
    caught_up_once: AtomicBool,
    reachable: AtomicBool,
    checkpoint: AtomicU64,
    peer_head: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// A snapshot of [`FeedStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedStatusReport {
    /// Caught up with the peer at least once and the peer answered the last request.
    pub ready: bool,
    pub reachable: bool,
    pub caught_up_once: bool,
    /// The consumer's last applied position.
    pub checkpoint: u64,
    /// The peer's head at the last answer.
    pub peer_head: u64,
    /// Failed requests in a row.
    pub consecutive_failures: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl FeedStatus {
    /// Ready: caught up once, and the peer answered the last request.
    pub fn is_ready(&self) -> bool {
        self.caught_up_once.load(Ordering::Acquire) && self.reachable.load(Ordering::Acquire)
    }

    pub fn report(&self) -> FeedStatusReport {
        FeedStatusReport {
            ready: self.is_ready(),
            reachable: self.reachable.load(Ordering::Acquire),
            caught_up_once: self.caught_up_once.load(Ordering::Acquire),
            checkpoint: self.checkpoint.load(Ordering::Acquire),
            peer_head: self.peer_head.load(Ordering::Acquire),
            consecutive_failures: self.failures.load(Ordering::Acquire),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    fn succeeded(&self, checkpoint: u64, peer_head: u64) {
        self.checkpoint.store(checkpoint, Ordering::Release);
        self.peer_head.store(peer_head, Ordering::Release);
        if checkpoint >= peer_head {
            self.caught_up_once.store(true, Ordering::Release);
        }
        self.failures.store(0, Ordering::Release);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        self.reachable.store(true, Ordering::Release);
    }

    fn failed(&self, err: &FetchError) {
        self.reachable.store(false, Ordering::Release);
        self.failures.fetch_add(1, Ordering::AcqRel);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(err.to_string());
    }
}

/// What one [`Follower::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Events handed to the consumer.
    pub applied: usize,
    /// Events of the page already applied, skipped.
    pub skipped: usize,
    /// The consumer's checkpoint has reached the peer's head.
    pub caught_up: bool,
}

/// Follows one feed into one consumer.
#[derive(Debug)]
pub struct Follower<S, C> {
    name: &'static str,
    source: S,
    consumer: C,
    status: std::sync::Arc<FeedStatus>,
    backoff: Backoff,
    batch: usize,
    wait: Duration,
}

impl<S: FeedSource, C: FeedConsumer> Follower<S, C> {
    /// A follower named `name` (for logs) of `source` into `consumer`.
    pub fn new(name: &'static str, source: S, consumer: C, config: &FollowConfig) -> Self {
        let limit = usize::try_from(MAX_FEED_LIMIT).unwrap_or(1000);
        let status = std::sync::Arc::new(FeedStatus::default());
        status
            .checkpoint
            .store(consumer.checkpoint(), Ordering::Release);
        Self {
            name,
            source,
            consumer,
            status,
            backoff: Backoff::new(
                Duration::from_millis(config.backoff_initial_ms),
                Duration::from_millis(config.backoff_max_ms),
            ),
            batch: config.batch.clamp(1, limit),
            wait: Duration::from_millis(config.wait_ms.min(MAX_FEED_WAIT_MS)),
        }
    }

    /// The status shared with `/readyz`.
    pub fn status(&self) -> std::sync::Arc<FeedStatus> {
        self.status.clone()
    }

    /// The consumer.
    pub fn consumer(&self) -> &C {
        &self.consumer
    }

    /// Fetches one page after the consumer's checkpoint and applies it: events at or before the
    /// checkpoint are skipped, a page that does not continue right after it is refused
    /// ([`FetchError::Gap`], nothing applied past the gap). Updates the status either way.
    pub async fn step(&mut self) -> Result<Step, FetchError> {
        let result = self.fetch_and_apply().await;
        match &result {
            Ok(_) => {}
            Err(err) => self.status.failed(err),
        }
        result
    }

    async fn fetch_and_apply(&mut self) -> Result<Step, FetchError> {
        let after = self.consumer.checkpoint();
        // Long-poll only once caught up with a peer that answers: before that (at start, after a
        // failure) ask without waiting, so an idle peer's head is learnt at once and readiness
        // does not wait out a whole long-poll.
        let settled = self.status.caught_up_once.load(Ordering::Acquire)
            && self.status.reachable.load(Ordering::Acquire);
        let wait = if settled { self.wait } else { Duration::ZERO };
        let page = self.source.fetch(after, self.batch, wait).await?;
        let mut step = Step {
            applied: 0,
            skipped: 0,
            caught_up: false,
        };
        for event in page.events {
            let checkpoint = self.consumer.checkpoint();
            if event.position <= checkpoint {
                step.skipped += 1;
                continue;
            }
            if event.position != checkpoint + 1 {
                let err = FetchError::Gap {
                    checkpoint,
                    found: event.position,
                };
                self.status.checkpoint.store(checkpoint, Ordering::Release);
                return Err(err);
            }
            let position = event.position;
            self.consumer.apply(event);
            if self.consumer.checkpoint() != position {
                tracing::error!(
                    feed = self.name,
                    position,
                    "feed consumer did not advance its checkpoint"
                );
            }
            step.applied += 1;
        }
        let checkpoint = self.consumer.checkpoint();
        step.caught_up = checkpoint >= page.head.position;
        self.status.succeeded(checkpoint, page.head.position);
        Ok(step)
    }

    /// Follows the feed until shutdown: long-polls, applies, and backs off while the peer is
    /// down or answers wrongly.
    pub async fn run(mut self, shutdown: CancellationToken) {
        tracing::info!(
            feed = self.name,
            checkpoint = self.consumer.checkpoint(),
            "following feed"
        );
        while !shutdown.is_cancelled() {
            let started = Instant::now();
            let result = tokio::select! {
                () = shutdown.cancelled() => break,
                result = self.step() => result,
            };
            let pause = match result {
                Ok(step) => {
                    self.backoff.reset();
                    // A peer that answers an empty page at once (instead of long-polling) must
                    // not make this loop spin.
                    let hurried = started.elapsed() < self.wait / 2;
                    (step.applied == 0 && step.skipped == 0 && hurried)
                        .then_some(self.backoff.initial)
                }
                Err(err) => {
                    let delay = self.backoff.next_delay();
                    tracing::warn!(
                        feed = self.name,
                        error = %err,
                        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "feed request failed"
                    );
                    Some(delay)
                }
            };
            if let Some(pause) = pause {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = actix_web::rt::time::sleep(pause) => {}
                }
            }
        }
        tracing::info!(feed = self.name, "feed follower stopped");
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use capmatch_eventstore::Head;

    use super::*;

    /// A consumer that records what it got.
    #[derive(Default)]
    struct Recorder {
        seen: RefCell<Vec<u64>>,
    }

    impl FeedConsumer for Recorder {
        fn checkpoint(&self) -> u64 {
            self.seen.borrow().last().copied().unwrap_or(0)
        }
        fn apply(&self, event: StoredEvent) {
            self.seen.borrow_mut().push(event.position);
        }
    }

    /// A source that answers from a script, and records what was asked.
    #[derive(Default)]
    struct Script {
        answers: RefCell<VecDeque<Result<FeedPage, FetchError>>>,
        asked: RefCell<Vec<u64>>,
    }

    impl FeedSource for Script {
        async fn fetch(
            &self,
            after: u64,
            _limit: usize,
            _wait: Duration,
        ) -> Result<FeedPage, FetchError> {
            self.asked.borrow_mut().push(after);
            let next = self.answers.borrow_mut().pop_front();
            match next {
                Some(answer) => answer,
                // Past the script the peer has nothing new: a long-poll that never ends.
                None => std::future::pending().await,
            }
        }
    }

    fn event(position: u64) -> StoredEvent {
        serde_json::from_value(serde_json::json!({
            "position": position,
            "stream": "match-1",
            "stream_version": position,
            "id": uuid::Uuid::new_v4(),
            "event_type": "match.introduced",
            "schema_version": 1,
            "payload": {"n": position},
            "metadata": {},
            "recorded_at": "2026-01-01T00:00:00Z",
            "hash": "00".repeat(32),
        }))
        .expect("a stored event")
    }

    fn page(positions: &[u64], head: u64) -> Result<FeedPage, FetchError> {
        Ok(FeedPage {
            events: positions.iter().map(|p| event(*p)).collect(),
            head: Head {
                position: head,
                hash: [0; 32],
            },
        })
    }

    fn follower(answers: Vec<Result<FeedPage, FetchError>>) -> Follower<Script, Recorder> {
        let script = Script {
            answers: RefCell::new(answers.into()),
            ..Script::default()
        };
        let config = FollowConfig {
            wait_ms: 0,
            batch: 10,
            backoff_initial_ms: 1,
            backoff_max_ms: 4,
        };
        Follower::new("test", script, Recorder::default(), &config)
    }

    #[test]
    fn back_off_doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(350));
        let delays: Vec<_> = (0..5).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 350, 350, 350]);
        backoff.reset();
        assert_eq!(backoff.next_delay().as_millis(), 100);
    }

    #[actix_web::test]
    async fn overlapping_pages_are_applied_once_each_in_order() {
        let mut f = follower(vec![page(&[1, 2, 3], 5), page(&[2, 3, 4, 5], 5)]);
        let first = f.step().await.expect("first page");
        assert_eq!(first.applied, 3);
        assert!(!first.caught_up);
        assert!(!f.status().is_ready());
        let second = f.step().await.expect("second page");
        assert_eq!((second.applied, second.skipped), (2, 2));
        assert!(second.caught_up);
        assert_eq!(*f.consumer().seen.borrow(), vec![1, 2, 3, 4, 5]);
        // Each request asked after the consumer's checkpoint.
        assert_eq!(*f.source.asked.borrow(), vec![0, 3]);
        assert!(f.status().is_ready());
    }

    #[actix_web::test]
    async fn a_page_with_a_gap_applies_nothing_past_it() {
        let mut f = follower(vec![page(&[1, 3], 3), page(&[2, 3], 3)]);
        let err = f.step().await.expect_err("a gap");
        assert!(matches!(
            err,
            FetchError::Gap {
                checkpoint: 1,
                found: 3
            }
        ));
        assert_eq!(*f.consumer().seen.borrow(), vec![1]);
        f.step().await.expect("the gap filled");
        assert_eq!(*f.consumer().seen.borrow(), vec![1, 2, 3]);
    }

    #[actix_web::test]
    async fn an_unreachable_peer_is_not_ready_until_it_answers_again() {
        let mut f = follower(vec![
            page(&[1], 1),
            Err(FetchError::Unreachable("refused".into())),
            page(&[], 1),
        ]);
        f.step().await.expect("caught up");
        assert!(f.status().is_ready());
        f.step().await.expect_err("down");
        let report = f.status().report();
        assert!(!report.ready);
        assert_eq!(report.consecutive_failures, 1);
        assert!(report.last_error.is_some());
        f.step().await.expect("back");
        assert!(f.status().is_ready());
        assert_eq!(f.status().report().consecutive_failures, 0);
    }

    #[actix_web::test]
    async fn the_loop_retries_through_failures_and_stops_on_shutdown() {
        let f = follower(vec![
            Err(FetchError::Unreachable("down".into())),
            Err(FetchError::Status(503)),
            page(&[1, 2], 2),
        ]);
        let status = f.status();
        let trigger = CancellationToken::new();
        let signal = trigger.clone();
        let run = actix_web::rt::spawn(f.run(signal));
        let deadline = Instant::now() + Duration::from_secs(5);
        while !status.is_ready() {
            assert!(Instant::now() < deadline, "the follower never caught up");
            actix_web::rt::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(status.report().checkpoint, 2);
        trigger.cancel();
        run.await.expect("the loop ends");
    }
}
