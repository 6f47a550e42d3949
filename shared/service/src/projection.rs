//! [`Projection`]: a service's in-memory read model of its own store, with the position it has
//! applied, so a write can wait until its own events are visible (read-your-writes).
//!
//! [`Projection::load`] replays the log at startup; [`Projection::follow`] (a background task)
//! then applies each new event from a store subscription, in position order, with no gap or
//! duplicate. An event the view cannot apply halts the projection: the service turns unready and
//! writes answer 500, rather than serving a view that silently skipped a fact.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

use capmatch_eventstore::{EventStore, StoredEvent};
use capmatch_http::ApiError;
use tokio::sync::watch;

use tokio_util::sync::CancellationToken;

/// Events read per page while replaying at startup.
const REPLAY_PAGE: usize = 1024;

/// A read model built from a store's events.
pub trait View: Send + Sync + 'static {
    /// Applies one event, in position order. An error means the event cannot be understood.
    fn apply(&mut self, event: &StoredEvent) -> Result<(), ApplyError>;
}

/// An event the view could not apply.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot apply event {event_type} at position {position}: {message}")]
pub struct ApplyError {
    pub position: u64,
    pub event_type: String,
    pub message: String,
}

impl ApplyError {
    pub fn new(event: &StoredEvent, message: impl Into<String>) -> Self {
        Self {
            position: event.position,
            event_type: event.event_type.to_string(),
            message: message.into(),
        }
    }
}

/// Why a projection could not be built at startup.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the event log")]
    Store(#[from] capmatch_eventstore::Error),
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// A view, the position it has applied, and whether it is still healthy.
#[derive(Debug)]
pub struct Projection<V> {
    view: RwLock<V>,
    applied: watch::Sender<u64>,
    halted: Mutex<Option<ApplyError>>,
}

impl<V: View> Projection<V> {
    /// Builds the view by replaying `store` from the start.
    pub async fn load(store: &EventStore, mut view: V) -> Result<Arc<Self>, LoadError> {
        let mut position = 0;
        loop {
            let page = store.read_all(position, REPLAY_PAGE).await?;
            let Some(last) = page.last().map(|e| e.position) else {
                break;
            };
            for event in &page {
                view.apply(event)?;
            }
            position = last;
        }
        let (applied, _) = watch::channel(position);
        Ok(Arc::new(Self {
            view: RwLock::new(view),
            applied,
            halted: Mutex::new(None),
        }))
    }

    /// Applies the store's new events until shutdown: spawn the returned future as a background
    /// task. The subscription is taken here, before the future first runs, so no append made in
    /// between can slip past it.
    pub fn follow(
        self: Arc<Self>,
        store: &EventStore,
        shutdown: CancellationToken,
    ) -> impl Future<Output = ()> + 'static {
        let mut subscription = store.subscribe(self.position());
        async move {
            loop {
                let next = tokio::select! {
                    () = shutdown.cancelled() => break,
                    next = subscription.next() => next,
                };
                match next {
                    Ok(event) => {
                        if let Err(err) = self.apply(&event) {
                            tracing::error!(error = %err, "projection halted");
                            break;
                        }
                    }
                    Err(capmatch_eventstore::Error::Closed) => break,
                    Err(err) => {
                        tracing::error!(error = %err, "projection cannot read the log; halted");
                        self.halt(ApplyError {
                            position: self.position() + 1,
                            event_type: String::new(),
                            message: "the log could not be read".to_owned(),
                        });
                        break;
                    }
                }
            }
        }
    }

    /// Applies one event now (the follow loop's step; public so tests can drive it).
    pub fn apply(&self, event: &StoredEvent) -> Result<(), ApplyError> {
        if let Some(err) = self.halted() {
            return Err(err);
        }
        let expected = self.position() + 1;
        if event.position < expected {
            return Ok(());
        }
        if event.position > expected {
            let err = ApplyError::new(event, format!("expected position {expected}"));
            self.halt(err.clone());
            return Err(err);
        }
        let result = self
            .view
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .apply(event);
        match result {
            Ok(()) => {
                self.applied.send_replace(event.position);
                Ok(())
            }
            Err(err) => {
                self.halt(err.clone());
                Err(err)
            }
        }
    }

    fn halt(&self, err: ApplyError) {
        *self.halted.lock().unwrap_or_else(PoisonError::into_inner) = Some(err);
        // Wake writers waiting for a position that will never come.
        self.applied.send_modify(|_| {});
    }
}

impl<V> Projection<V> {
    /// Reads the view. Keep the guard short and never across an `.await`.
    pub fn read(&self) -> RwLockReadGuard<'_, V> {
        self.view.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last position applied.
    pub fn position(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Why the projection stopped, if it did.
    pub fn halted(&self) -> Option<ApplyError> {
        self.halted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the view has applied everything up to `head` and is still running.
    pub fn is_caught_up(&self, head: u64) -> bool {
        self.halted().is_none() && self.position() >= head
    }

    /// Waits until the view has applied `position`: 500 when the projection halted, 503 when it
    /// did not get there within `timeout`.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> Result<(), ApiError> {
        let mut rx = self.applied.subscribe();
        let reached = async {
            loop {
                if let Some(err) = self.halted() {
                    return Err(ApiError::internal(err));
                }
                if *rx.borrow_and_update() >= position {
                    return Ok(());
                }
                if rx.changed().await.is_err() {
                    return Err(ApiError::internal("projection stopped"));
                }
            }
        };
        match tokio::time::timeout(timeout, reached).await {
            Ok(result) => result,
            Err(_) => Err(ApiError::unavailable(format!(
                "projection did not reach position {position} within {timeout:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use capmatch_eventstore::{ExpectedVersion, NewEvent, Options};
    use capmatch_http::ProblemCode;

    use super::*;

    /// Counts events; refuses type `bad`.
    #[derive(Debug, Default)]
    struct Count(u64);

    impl View for Count {
        fn apply(&mut self, event: &StoredEvent) -> Result<(), ApplyError> {
            if event.event_type == "bad" {
                return Err(ApplyError::new(event, "refused"));
            }
            self.0 += 1;
            Ok(())
        }
    }

    async fn append(store: &EventStore, event_type: &str) -> u64 {
        let event = NewEvent::new(uuid::Uuid::new_v4(), event_type, 1, serde_json::json!({}));
        store
            .append("s", ExpectedVersion::Any, vec![event])
            .await
            .expect("append")
            .last_position
    }

    #[actix_web::test]
    async fn a_projection_replays_the_log_then_follows_it_and_writers_can_wait_for_it() {
        let dir = tempfile::tempdir().expect("dir");
        let store = EventStore::open(dir.path().join("store"), Options::default()).expect("store");
        append(&store, "ok").await;
        append(&store, "ok").await;
        let projection = Projection::load(&store, Count::default())
            .await
            .expect("load");
        assert_eq!((projection.position(), projection.read().0), (2, 2));

        let trigger = CancellationToken::new();
        let signal = trigger.clone();
        let task = actix_web::rt::spawn(projection.clone().follow(&store, signal));
        let position = append(&store, "ok").await;
        projection
            .wait_for(position, Duration::from_secs(5))
            .await
            .expect("the projection reaches the append");
        assert_eq!(projection.read().0, 3);
        assert!(projection.is_caught_up(store.head().position));

        // Nothing will reach position 99: the wait gives up with 503.
        let err = projection
            .wait_for(99, Duration::from_millis(20))
            .await
            .expect_err("a timeout");
        assert_eq!(err.code(), ProblemCode::Unavailable);
        trigger.cancel();
        task.await.expect("the follow task ends on shutdown");
    }

    #[actix_web::test]
    async fn an_event_the_view_refuses_halts_the_projection() {
        let dir = tempfile::tempdir().expect("dir");
        let store = EventStore::open(dir.path().join("store"), Options::default()).expect("store");
        let projection = Projection::load(&store, Count::default())
            .await
            .expect("load");
        let trigger = CancellationToken::new();
        let signal = trigger.clone();
        let task = actix_web::rt::spawn(projection.clone().follow(&store, signal));
        let position = append(&store, "bad").await;
        let err = projection
            .wait_for(position, Duration::from_secs(5))
            .await
            .expect_err("halted");
        assert_eq!(err.code(), ProblemCode::Internal);
        assert!(projection.halted().is_some());
        assert!(!projection.is_caught_up(store.head().position));
        task.await.expect("the follow task ends when halted");
        trigger.cancel();
    }
}
