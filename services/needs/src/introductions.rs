//! Which provider organisations the matcher has introduced to which needs: the only way a
//! provider comes to see a restricted need (DESIGN §7).
//!
//! Kept in memory and rebuilt from the matcher's feed (position 0) at every start, by a
//! [`capmatch_service::Follower`]; only `match.introduced` events matter here. Without a
//! configured matcher nothing is ever introduced.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use capmatch_domain::actor::OrgId;
use capmatch_domain::need::NeedId;
use capmatch_eventstore::StoredEvent;
use capmatch_service::FeedConsumer;
use serde::Deserialize;

/// The matcher's event type this service reads.
pub const MATCH_INTRODUCED: &str = "match.introduced";

/// The part of a `match.introduced` payload read here; the rest is ignored.
#[derive(Debug, Deserialize)]
struct Introduced {
    need_id: NeedId,
    provider_org: OrgId,
}

/// need → organisations introduced to it, with the feed checkpoint.
#[derive(Debug, Default)]
pub struct Introductions {
    orgs: RwLock<HashMap<NeedId, BTreeSet<OrgId>>>,
    checkpoint: AtomicU64,
}

impl Introductions {
    /// The organisations introduced to `need`.
    pub fn orgs_for(&self, need: NeedId) -> Vec<OrgId> {
        self.read()
            .get(&need)
            .map(|orgs| orgs.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether `org` has been introduced to `need`.
    pub fn is_introduced(&self, need: NeedId, org: &OrgId) -> bool {
        self.read()
            .get(&need)
            .is_some_and(|orgs| orgs.contains(org))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<NeedId, BTreeSet<OrgId>>> {
        self.orgs.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl FeedConsumer for Introductions {
    fn checkpoint(&self) -> u64 {
        self.checkpoint.load(Ordering::Acquire)
    }

    fn apply(&self, event: StoredEvent) {
        if event.event_type == MATCH_INTRODUCED {
            match event.decode::<Introduced>() {
                Ok(intro) => {
                    self.orgs
                        .write()
                        .unwrap_or_else(PoisonError::into_inner)
                        .entry(intro.need_id)
                        .or_default()
                        .insert(intro.provider_org);
                }
                // The matcher's event, not ours: note it and go on rather than stop following.
                Err(err) => tracing::warn!(
                    position = event.position,
                    error = %err,
                    "unreadable match.introduced event ignored"
                ),
            }
        }
        self.checkpoint.store(event.position, Ordering::Release);
    }
}
