//! Where a service reads another service's event feed ([`FeedFrom`]): over HTTP when the peer is
//! another process ([`PeerConfig`]), or straight from the peer's store when both run in one
//! process (`capmatch serve`), with no request, token or serialisation in between
//! ([`LocalFeed`]). Either way the [`Follower`](crate::Follower) sees the same pages: the events
//! after its checkpoint in position order, and the peer's head. (`awc` is `!Send`, so a
//! [`PeerSource`] lives on the actix runtime like the follower that reads it.)

use std::fmt;
use std::time::Duration;

use capmatch_auth::AuthConfig;
use capmatch_eventstore::EventStore;
use serde::Deserialize;
use tokio::sync::watch;

use crate::config::{FollowConfig, PeerConfig};
use crate::feed::FeedPage;
use crate::follower::{FeedSource, FetchError, HttpFeedSource};
use crate::token::{TokenError, TokenSource};

/// Where a service follows a peer's feed. A configuration file names a remote peer (a
/// [`PeerConfig`]); only the program that builds the process links a local one.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "PeerConfig")]
pub enum FeedFrom {
    /// Another process, reached over HTTP with a service token.
    Remote(PeerConfig),
    /// A service of this process.
    Local(LocalFeed),
}

impl From<PeerConfig> for FeedFrom {
    fn from(config: PeerConfig) -> Self {
        FeedFrom::Remote(config)
    }
}

impl FeedFrom {
    /// The feed source of this peer; `subject` names the follower in the service tokens it
    /// presents to a remote peer.
    pub fn source(&self, auth: &AuthConfig, subject: &str) -> Result<PeerSource, TokenError> {
        Ok(match self {
            FeedFrom::Remote(config) => PeerSource::Http(HttpFeedSource::new(
                &config.url,
                TokenSource::from_config(&config.token, auth, subject)?,
            )),
            FeedFrom::Local(feed) => PeerSource::Local(feed.clone()),
        })
    }

    /// How the follower long-polls and backs off.
    pub fn follow(&self) -> FollowConfig {
        match self {
            FeedFrom::Remote(config) => config.follow.clone(),
            FeedFrom::Local(_) => FollowConfig::default(),
        }
    }
}

/// The feed of a service of this process: its store, once the service has opened it. Made before
/// either service is built (each may follow the other), then [`LocalFeed::connect`]ed; a
/// follower that asks before waits for it.
#[derive(Clone)]
pub struct LocalFeed {
    store: watch::Sender<Option<EventStore>>,
}

impl fmt::Debug for LocalFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalFeed")
            .field("connected", &self.store.borrow().is_some())
            .finish()
    }
}

impl Default for LocalFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalFeed {
    pub fn new() -> Self {
        Self {
            store: watch::Sender::new(None),
        }
    }

    /// The peer's store is open: its feed is this store's log.
    pub fn connect(&self, store: EventStore) {
        self.store.send_replace(Some(store));
    }

    async fn store(&self) -> EventStore {
        let mut connected = self.store.subscribe();
        loop {
            if let Some(store) = connected.borrow_and_update().clone() {
                return store;
            }
            if connected.changed().await.is_err() {
                // The sender lives as long as `self`: unreachable, but never a busy loop.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// A peer's feed, whichever way it is read.
pub enum PeerSource {
    Http(HttpFeedSource),
    Local(LocalFeed),
}

impl fmt::Debug for PeerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerSource::Http(_) => f.write_str("PeerSource::Http"),
            PeerSource::Local(feed) => f.debug_tuple("PeerSource::Local").field(feed).finish(),
        }
    }
}

impl FeedSource for PeerSource {
    async fn fetch(
        &self,
        after: u64,
        limit: usize,
        wait: Duration,
    ) -> Result<FeedPage, FetchError> {
        match self {
            PeerSource::Http(source) => source.fetch(after, limit, wait).await,
            PeerSource::Local(feed) => {
                let store = feed.store().await;
                let unreadable = |e: capmatch_eventstore::Error| {
                    FetchError::Unreachable(format!("the peer's store: {e}"))
                };
                let mut events = store.read_all(after, limit).await.map_err(unreadable)?;
                if events.is_empty() && !wait.is_zero() {
                    store.wait_for_head_after(after, wait).await;
                    events = store.read_all(after, limit).await.map_err(unreadable)?;
                }
                Ok(FeedPage {
                    events,
                    head: store.head(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use capmatch_eventstore::{ExpectedVersion, NewEvent, Options};

    use super::*;

    #[actix_web::test]
    async fn a_local_feed_waits_for_its_store_then_pages_like_the_http_feed() {
        let dir = tempfile::tempdir().expect("a directory");
        let feed = LocalFeed::new();
        let source = PeerSource::Local(feed.clone());
        let early = actix_web::rt::spawn(async move {
            source
                .fetch(0, 10, Duration::from_millis(1))
                .await
                .map(|p| p.events.len())
        });
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        assert!(!early.is_finished(), "no store yet: the follower waits");
        let store = EventStore::open(dir.path().join("peer"), Options::default()).expect("a store");
        let events = (0..3)
            .map(|i| {
                let id = uuid::Uuid::new_v4();
                NewEvent::new(id, "thing.happened", 1, serde_json::json!({ "i": i }))
            })
            .collect();
        store
            .append("s-1", ExpectedVersion::Any, events)
            .await
            .expect("appended");
        feed.connect(store.clone());
        assert_eq!(early.await.expect("answered").expect("a page"), 3);

        let source = PeerSource::Local(feed);
        let page = source.fetch(1, 1, Duration::ZERO).await.expect("a page");
        assert_eq!(page.events.len(), 1);
        assert_eq!(page.events[0].position, 2);
        assert_eq!(page.head.position, 3);
        // Nothing after the head: a long-poll waits, then answers empty.
        let page = source
            .fetch(3, 10, Duration::from_millis(30))
            .await
            .expect("a page");
        assert!(page.events.is_empty());
        store.close().await;
    }
}
