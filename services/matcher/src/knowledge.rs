//! [`Knowledge`]: everything the matcher knows, in memory, behind one lock.
//!
//! - needs and offers, folded from the needs and offers feeds with the domain's own `evolve`;
//! - every decided match, folded from the matcher's own store;
//! - the [`Engine`], fed from both: each need and offer change is an `upsert_*` (the engine
//!   recomputes only what it touches), each dismissal a `set_dismissed`, and the count of
//!   introduced and agreed matches per offer its `set_offer_load`.
//!
//! **Nothing anyone else can see moves because of a restricted need.** The load the engine
//! scores with (an offer's remaining capacity, shown in every suggestion's reasons) counts only
//! partnerships on needs that are not restricted; partnerships on restricted needs are counted
//! apart ([`Knowledge::hidden_load`]) for the coordinators' plan. When a need's visibility
//! changes, the loads of the offers it is matched with are counted again.
//!
//! All of it is rebuilt at every start (the store replayed, both feeds followed from position
//! 0). The engine is built in one go with [`Engine::builder`] once both feeds have caught up
//! ([`Knowledge::build_engine`]); until then the suggestion endpoints answer 503.
//!
//! When a need is withdrawn or fulfilled, or an offer withdrawn, every open decided match of it
//! is handed to the [`crate::closer`] as a [`CloseJob`]; the same happens when a match
//! decision lands on a need or offer that is already gone (a decision racing the withdrawal).
//! The job carries the feed event that caused it, so the `match.closed` it appends has an id
//! derived from it and is never written twice.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use capmatch_domain::actor::{Actor, OrgId};
use capmatch_domain::codes::Visibility;
use capmatch_domain::ids::{MatchId, NeedId, OfferId};
use capmatch_domain::need::{self, NeedEvent, NeedState, NeedStatus};
use capmatch_domain::offer::{self, OfferEvent, OfferState, OfferStatus};
use capmatch_domain::partnership::{self, CloseReason, MatchEvent, MatchState, MatchStatus};
use capmatch_domain::visibility::{match_visible_to, need_visible_to};
use capmatch_http::ApiError;
use capmatch_service::ListKey;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc::UnboundedSender;
use uuid::Uuid;

use capmatch_engine::MatcherConfig;
use capmatch_engine::experience::Outcome;
use capmatch_engine::{Engine, EngineError};

/// Why, since when and because of which feed event a need's or offer's matches are closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closing {
    pub reason: CloseReason,
    /// The id of the feed event that withdrew or fulfilled it.
    pub source: Uuid,
    /// When it was withdrawn or fulfilled.
    pub at: DateTime<Utc>,
}

/// A match to close, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseJob {
    pub match_id: MatchId,
    pub closing: Closing,
}

#[derive(Debug, Clone)]
pub struct NeedEntry {
    pub state: NeedState,
    pub closing: Option<Closing>,
}

#[derive(Debug, Clone)]
pub struct OfferEntry {
    pub state: OfferState,
    pub closing: Option<Closing>,
}

#[derive(Debug, Clone)]
pub struct MatchEntry {
    pub state: MatchState,
    /// Its place in the queue's order: the time of its first decision, then the match.
    pub key: ListKey,
}

/// The namespace of the per-match digest that breaks ties in the queue's order.
const QUEUE_ORDER: Uuid = Uuid::from_u128(0x7175_6575_655f_6f72_6465_725f_6b65_7973);

/// Where a match first decided at `at` stands in the queue.
fn queue_key(id: MatchId, at: DateTime<Utc>) -> ListKey {
    let mut pair = [0u8; 32];
    pair[..16].copy_from_slice(id.need.as_uuid().as_bytes());
    pair[16..].copy_from_slice(id.offer.as_uuid().as_bytes());
    ListKey::created(at, Uuid::new_v5(&QUEUE_ORDER, &pair))
}

/// What the matcher knows. Keep guards short, never across an `.await`.
#[derive(Debug)]
pub struct Knowledge {
    config: MatcherConfig,
    needs: HashMap<NeedId, NeedEntry>,
    offers: HashMap<OfferId, OfferEntry>,
    matches: HashMap<MatchId, MatchEntry>,
    by_need: HashMap<NeedId, BTreeSet<MatchId>>,
    by_offer: HashMap<OfferId, BTreeSet<MatchId>>,
    /// Decided matches in the queue's order.
    order: BTreeMap<ListKey, MatchId>,
    /// Introduced and agreed matches per offer on needs that are not restricted, as last told
    /// to the engine.
    loads: HashMap<OfferId, u32>,
    /// Introduced and agreed matches per offer on restricted needs (or needs not known yet):
    /// never shown, never scored with; the plan counts them.
    hidden_loads: HashMap<OfferId, u32>,
    /// `None` until both feeds have caught up once.
    engine: Option<Engine>,
    closer: UnboundedSender<CloseJob>,
}

impl Knowledge {
    /// Knows nothing yet; close jobs go to `closer`. `config` must have passed `check`.
    pub fn new(config: MatcherConfig, closer: UnboundedSender<CloseJob>) -> Self {
        Self {
            config,
            needs: HashMap::new(),
            offers: HashMap::new(),
            matches: HashMap::new(),
            by_need: HashMap::new(),
            by_offer: HashMap::new(),
            order: BTreeMap::new(),
            loads: HashMap::new(),
            hidden_loads: HashMap::new(),
            engine: None,
            closer,
        }
    }

    // ---------------------------------------------------------------------------------------
    // Applying what the feeds and the store say.

    /// Applies a need event from the needs feed; `source` is its event id.
    pub fn apply_need(&mut self, event: &NeedEvent, source: Uuid) -> Result<(), String> {
        let id = event.need_id();
        let previous = self.needs.get(&id);
        let earlier = previous.and_then(|e| e.closing);
        let Some(state) = need::evolve(previous.map(|e| e.state.clone()), event) else {
            return Err(format!("an event for need {id}, which was never posted"));
        };
        let reason = match state.status {
            NeedStatus::Open => None,
            NeedStatus::Withdrawn => Some(CloseReason::NeedWithdrawn),
            NeedStatus::Fulfilled => Some(CloseReason::NeedFulfilled),
        };
        let closing = earlier.or_else(|| {
            reason.map(|reason| Closing {
                reason,
                source,
                at: event.at(),
            })
        });
        let counted_before = previous.map(|e| counted(&e.state));
        let counted_now = counted(&state);
        if let Some(engine) = self.engine.as_mut() {
            engine.upsert_need(state.clone());
        }
        self.needs.insert(id, NeedEntry { state, closing });
        // The need's partnerships count in their offers' loads (while it is not restricted)
        // and experience (as the need is now).
        let offers: BTreeSet<OfferId> = self
            .matches_of_need(id)
            .map(|m| m.state.pair.offer_id)
            .collect();
        for offer in offers {
            if counted_before != Some(counted_now) {
                self.refresh_load(offer);
            }
            self.refresh_experience(offer);
        }
        if earlier.is_none()
            && let Some(closing) = closing
        {
            let open = self.open_matches(self.by_need.get(&id));
            self.send_closes(open, closing);
        }
        Ok(())
    }

    /// Applies an offer event from the offers feed; `source` is its event id.
    pub fn apply_offer(&mut self, event: &OfferEvent, source: Uuid) -> Result<(), String> {
        let id = event.offer_id();
        let previous = self.offers.get(&id);
        let earlier = previous.and_then(|e| e.closing);
        let Some(state) = offer::evolve(previous.map(|e| e.state.clone()), event) else {
            return Err(format!("an event for offer {id}, which was never posted"));
        };
        let closing = earlier.or_else(|| {
            (state.status == OfferStatus::Withdrawn).then(|| Closing {
                reason: CloseReason::OfferWithdrawn,
                source,
                at: event.at(),
            })
        });
        if let Some(engine) = self.engine.as_mut() {
            engine.upsert_offer(state.clone());
        }
        self.offers.insert(id, OfferEntry { state, closing });
        if earlier.is_none()
            && let Some(closing) = closing
        {
            let open = self.open_matches(self.by_offer.get(&id));
            self.send_closes(open, closing);
        }
        Ok(())
    }

    /// Applies a decision from the matcher's own store.
    pub fn apply_match(&mut self, event: &MatchEvent) -> Result<(), String> {
        let decided = event.decided();
        let id = decided.match_id;
        let previous = self.matches.get(&id);
        let key = previous.map_or_else(|| queue_key(id, decided.at), |e| e.key);
        let was = previous.map(|e| e.state.status);
        let Some(state) = partnership::evolve(previous.map(|e| e.state.clone()), event) else {
            return Err(format!("a decision on match {id} left no match"));
        };
        let (need, offer) = (state.pair.need_id, state.pair.offer_id);
        let status = state.status;
        self.by_need.entry(need).or_default().insert(id);
        self.by_offer.entry(offer).or_default().insert(id);
        self.order.insert(key, id);
        self.matches.insert(id, MatchEntry { state, key });
        if status == MatchStatus::Dismissed
            && was != Some(MatchStatus::Dismissed)
            && let Some(engine) = self.engine.as_mut()
        {
            engine.set_dismissed(need, offer, true);
        }
        self.refresh_load(offer);
        self.refresh_experience(offer);
        if status.is_open() {
            let closing = self
                .needs
                .get(&need)
                .and_then(|e| e.closing)
                .or_else(|| self.offers.get(&offer).and_then(|e| e.closing));
            if let Some(closing) = closing {
                self.send_closes(vec![id], closing);
            }
        }
        Ok(())
    }

    /// Counts the offer's partnerships again: those on needs that are not restricted into the
    /// load the engine scores with, the others into the hidden load.
    fn refresh_load(&mut self, offer: OfferId) {
        let (mut load, mut hidden) = (0u32, 0u32);
        for m in self
            .by_offer
            .get(&offer)
            .into_iter()
            .flatten()
            .filter_map(|id| self.matches.get(id))
            .filter(|m| m.state.status.uses_capacity())
        {
            let shown = self
                .needs
                .get(&m.state.pair.need_id)
                .is_some_and(|n| counted(&n.state));
            if shown {
                load = load.saturating_add(1);
            } else {
                hidden = hidden.saturating_add(1);
            }
        }
        self.hidden_loads.insert(offer, hidden);
        if self.loads.get(&offer).copied().unwrap_or(0) == load {
            return;
        }
        self.loads.insert(offer, load);
        if let Some(engine) = self.engine.as_mut() {
            engine.set_offer_load(offer, load);
        }
    }

    /// What the offer's decided partnerships on needs that are not restricted teach: completed
    /// ones its track record, shortlisted (or introduced, or agreed) ones and dismissed ones the
    /// coordinators' feedback. Restricted needs teach nothing anyone else could see.
    fn experience_of(&self, offer: OfferId) -> Vec<(NeedId, Outcome)> {
        self.by_offer
            .get(&offer)
            .into_iter()
            .flatten()
            .filter_map(|id| self.matches.get(id))
            .filter(|m| {
                self.needs
                    .get(&m.state.pair.need_id)
                    .is_some_and(|n| counted(&n.state))
            })
            .filter_map(|m| {
                let outcome = match m.state.status {
                    MatchStatus::Completed => Outcome::Completed,
                    MatchStatus::Shortlisted | MatchStatus::Introduced | MatchStatus::Agreed => {
                        Outcome::Shortlisted
                    }
                    MatchStatus::Dismissed => Outcome::Dismissed,
                    MatchStatus::Suggested | MatchStatus::Declined | MatchStatus::Closed => {
                        return None;
                    }
                };
                Some((m.state.pair.need_id, outcome))
            })
            .collect()
    }

    fn refresh_experience(&mut self, offer: OfferId) {
        let cases = self.experience_of(offer);
        if let Some(engine) = self.engine.as_mut() {
            engine.set_offer_experience(offer, &cases);
        }
    }

    /// The offer's introduced and agreed partnerships on restricted needs: capacity the
    /// suggestions never show as taken, which the coordinators' plan must not hand out again.
    pub fn hidden_load(&self, offer: OfferId) -> u32 {
        self.hidden_loads.get(&offer).copied().unwrap_or(0)
    }

    fn open_matches(&self, ids: Option<&BTreeSet<MatchId>>) -> Vec<MatchId> {
        ids.into_iter()
            .flatten()
            .filter(|id| {
                self.matches
                    .get(id)
                    .is_some_and(|m| m.state.status.is_open())
            })
            .copied()
            .collect()
    }

    fn send_closes(&self, ids: Vec<MatchId>, closing: Closing) {
        for match_id in ids {
            // The closer only stops at shutdown; what it misses then, the next start redoes.
            if self.closer.send(CloseJob { match_id, closing }).is_err() {
                tracing::debug!(%match_id, "closer gone; the close is redone at the next start");
            }
        }
    }

    /// Builds the engine from everything known, in one pass (the builder computes every list
    /// once). Does nothing if it is built already.
    pub fn build_engine(&mut self) -> Result<(), EngineError> {
        if self.engine.is_some() {
            return Ok(());
        }
        let mut builder = Engine::builder(self.config.clone())?;
        // A stable order, so a rebuild interns terms the same way every time.
        let needs: BTreeMap<_, _> = self.needs.iter().collect();
        for entry in needs.values() {
            builder.need(entry.state.clone());
        }
        let offers: BTreeMap<_, _> = self.offers.iter().collect();
        for entry in offers.values() {
            builder.offer(entry.state.clone());
        }
        for entry in self.order.values().filter_map(|id| self.matches.get(id)) {
            if entry.state.status == MatchStatus::Dismissed {
                builder.dismissed(entry.state.pair.need_id, entry.state.pair.offer_id);
            }
        }
        for (offer, load) in &self.loads {
            builder.offer_load(*offer, *load);
        }
        for offer in self.by_offer.keys() {
            let cases = self.experience_of(*offer);
            if !cases.is_empty() {
                builder.offer_experience(*offer, &cases);
            }
        }
        self.engine = Some(builder.build());
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Reading.

    /// The engine, or 503 while the index is still being built.
    pub fn engine(&self) -> Result<&Engine, ApiError> {
        self.engine.as_ref().ok_or_else(|| {
            ApiError::unavailable("the suggestion index is still loading")
                .with_detail("The suggestion index is still loading; retry shortly.")
        })
    }

    pub fn is_built(&self) -> bool {
        self.engine.is_some()
    }

    pub fn need(&self, id: NeedId) -> Option<&NeedEntry> {
        self.needs.get(&id)
    }

    pub fn offer(&self, id: OfferId) -> Option<&OfferEntry> {
        self.offers.get(&id)
    }

    pub fn needs(&self) -> impl Iterator<Item = &NeedEntry> {
        self.needs.values()
    }

    pub fn offers(&self) -> impl Iterator<Item = &OfferEntry> {
        self.offers.values()
    }

    /// A decided match.
    pub fn decided(&self, id: MatchId) -> Option<&MatchEntry> {
        self.matches.get(&id)
    }

    /// Every decided match, in the order of its first decision.
    pub fn decided_in_order(&self) -> impl Iterator<Item = &MatchEntry> {
        self.order.values().filter_map(|id| self.matches.get(id))
    }

    /// The status of a pair: its last decision, or suggested.
    pub fn status_of(&self, id: MatchId) -> MatchStatus {
        self.matches
            .get(&id)
            .map_or(MatchStatus::Suggested, |m| m.state.status)
    }

    /// Decided matches of a need.
    pub fn matches_of_need(&self, need: NeedId) -> impl Iterator<Item = &MatchEntry> {
        self.by_need
            .get(&need)
            .into_iter()
            .flatten()
            .filter_map(|id| self.matches.get(id))
    }

    /// The organisations `need` is shared with now: those with a partnership on it that is
    /// introduced or agreed (`MatchStatus::shares_need`).
    pub fn shared_orgs(&self, need: NeedId) -> BTreeSet<&OrgId> {
        self.matches_of_need(need)
            .filter(|m| m.state.status.shares_need())
            .map(|m| &m.state.pair.provider_org)
            .collect()
    }

    /// Whether `actor` (`None`: anonymous) may see `need` (`capmatch_domain::visibility`).
    pub fn is_visible(&self, need: &NeedState, actor: Option<&Actor>) -> bool {
        need_visible_to(need, actor, self.shared_orgs(need.id))
    }

    /// The need, the offer and the decided match of `id`, if `actor` may see that match
    /// (`capmatch_domain::visibility::match_visible_to`); `None` looks the same as no such
    /// match.
    pub fn visible_match(
        &self,
        id: MatchId,
        actor: &Actor,
    ) -> Option<(&NeedEntry, &OfferEntry, Option<&MatchEntry>)> {
        let need = self.needs.get(&id.need)?;
        let offer = self.offers.get(&id.offer)?;
        let decided = self.matches.get(&id);
        let provider = &offer.state.provider.org;
        match_visible_to(&need.state, provider, decided.map(|m| &m.state), actor)
            .then_some((need, offer, decided))
    }
}

/// Whether a need takes part in what callers other than its owner and coordinators can see:
/// public and registered needs do, restricted ones do not.
pub fn counted(need: &NeedState) -> bool {
    need.details.visibility != Visibility::Restricted
}

/// [`Knowledge`] shared between the feed followers, the store's projection and the handlers.
#[derive(Debug, Clone)]
pub struct SharedKnowledge(Arc<RwLock<Knowledge>>);

impl SharedKnowledge {
    pub fn new(knowledge: Knowledge) -> Self {
        Self(Arc::new(RwLock::new(knowledge)))
    }

    /// Reads. Keep the guard short and never across an `.await`.
    pub fn read(&self) -> RwLockReadGuard<'_, Knowledge> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes. Keep the guard short and never across an `.await`.
    pub fn write(&self) -> RwLockWriteGuard<'_, Knowledge> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reports the index's size on `/metrics` while the knowledge lives (held weakly).
    pub fn report_metrics(&self) {
        let weak = Arc::downgrade(&self.0);
        capmatch_service::metrics::gauge_source(
            "capmatch_matcher_index_size",
            "Entries of the matcher's suggestion index, by kind",
            &["kind"],
            move || {
                let Some(knowledge) = weak.upgrade() else {
                    return Vec::new();
                };
                let knowledge = knowledge.read().unwrap_or_else(PoisonError::into_inner);
                let Ok(engine) = knowledge.engine() else {
                    return Vec::new();
                };
                let s = engine.stats();
                [
                    ("needs", s.needs),
                    ("offers", s.offers),
                    ("need_postings", s.need_postings),
                    ("offer_postings", s.offer_postings),
                ]
                .into_iter()
                .map(|(kind, n)| (vec![kind.to_owned()], n as f64))
                .collect()
            },
        );
    }
}

#[cfg(test)]
mod tests {
    //! The knowledge gives the same suggestions whether its engine was built before the events
    //! (a running service), after all of them (a restart), or in between (a start that caught
    //! up part way): decisions, dismissals and loads included.

    use capmatch_domain::actor::Role;
    use capmatch_domain::need::{NeedFulfilled, NeedPosted, NeedRevised, NeedWithdrawn};
    use capmatch_domain::offer::{
        OfferPaused, OfferPosted, OfferResumed, OfferRevised, OfferWithdrawn,
    };
    use capmatch_domain::partnership::{MatchCommand, Pair};
    use proptest::prelude::*;

    use super::*;
    use capmatch_eval::synth::{Generator, Profile};

    #[derive(Debug, Clone)]
    enum Op {
        PostNeed,
        PostOffer,
        ReviseNeed(usize),
        EndNeed(usize, bool),
        ReviseOffer(usize),
        OfferStatus(usize, u8),
        Decide(usize, usize, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::PostNeed),
            3 => Just(Op::PostOffer),
            2 => (0usize..8).prop_map(Op::ReviseNeed),
            1 => (0usize..8, any::<bool>()).prop_map(|(i, w)| Op::EndNeed(i, w)),
            2 => (0usize..8).prop_map(Op::ReviseOffer),
            1 => (0usize..8, 0u8..3).prop_map(|(i, s)| Op::OfferStatus(i, s)),
            8 => (0usize..8, 0usize..8, 0u8..6).prop_map(|(n, o, a)| Op::Decide(n, o, a)),
        ]
    }

    struct World {
        generator: Generator,
        needs: Vec<NeedState>,
        offers: Vec<OfferState>,
        /// Every event so far, to replay into a knowledge built from zero.
        log: Vec<Event>,
    }

    #[derive(Debug, Clone)]
    enum Event {
        Need(NeedEvent),
        Offer(OfferEvent),
        Match(MatchEvent),
    }

    fn by(role: Role) -> Actor {
        Actor::new("someone", role)
    }

    impl World {
        /// The events of one operation, given what `k` knows of the matches.
        fn events(&mut self, op: &Op, k: &Knowledge) -> Vec<Event> {
            let at = Utc::now();
            let coordinator = by(Role::Coordinator);
            match *op {
                Op::PostNeed => {
                    let need = self.generator.need();
                    let posted = NeedEvent::Posted(NeedPosted {
                        need_id: need.id,
                        country: need.country,
                        details: need.details.clone(),
                        by: coordinator,
                        on_behalf: true,
                        at,
                    });
                    vec![Event::Need(posted)]
                }
                Op::PostOffer => {
                    let offer = self.generator.offer();
                    let posted = OfferEvent::Posted(OfferPosted {
                        offer_id: offer.id,
                        provider: offer.provider.clone(),
                        details: offer.details.clone(),
                        by: coordinator,
                        at,
                    });
                    vec![Event::Offer(posted)]
                }
                Op::ReviseNeed(i) => {
                    let Some(need) = self.needs.get(i) else {
                        return Vec::new();
                    };
                    let details = self.generator.need().details;
                    vec![Event::Need(NeedEvent::Revised(NeedRevised {
                        need_id: need.id,
                        details,
                        changed: Vec::new(),
                        by: coordinator,
                        on_behalf: true,
                        at,
                    }))]
                }
                Op::EndNeed(i, withdraw) => {
                    let Some(need) = self.needs.get(i) else {
                        return Vec::new();
                    };
                    let need_id = need.id;
                    let event = if withdraw {
                        NeedEvent::Withdrawn(NeedWithdrawn {
                            need_id,
                            reason: None,
                            by: coordinator,
                            on_behalf: true,
                            at,
                        })
                    } else {
                        NeedEvent::Fulfilled(NeedFulfilled {
                            need_id,
                            by: coordinator,
                            on_behalf: true,
                            at,
                        })
                    };
                    vec![Event::Need(event)]
                }
                Op::ReviseOffer(i) => {
                    let Some(offer) = self.offers.get(i) else {
                        return Vec::new();
                    };
                    let offer_id = offer.id;
                    let details = self.generator.offer().details;
                    vec![Event::Offer(OfferEvent::Revised(OfferRevised {
                        offer_id,
                        details,
                        changed: Vec::new(),
                        by: coordinator,
                        on_behalf: true,
                        at,
                    }))]
                }
                Op::OfferStatus(i, s) => {
                    let Some(offer) = self.offers.get(i) else {
                        return Vec::new();
                    };
                    let offer_id = offer.id;
                    let event = match s {
                        0 => OfferEvent::Paused(OfferPaused {
                            offer_id,
                            reason: None,
                            by: coordinator,
                            on_behalf: true,
                            at,
                        }),
                        1 => OfferEvent::Resumed(OfferResumed {
                            offer_id,
                            by: coordinator,
                            on_behalf: true,
                            at,
                        }),
                        _ => OfferEvent::Withdrawn(OfferWithdrawn {
                            offer_id,
                            reason: None,
                            by: coordinator,
                            on_behalf: true,
                            at,
                        }),
                    };
                    vec![Event::Offer(event)]
                }
                Op::Decide(n, o, action) => {
                    if self.needs.is_empty() || self.offers.is_empty() {
                        return Vec::new();
                    }
                    let need = &self.needs[n % self.needs.len()];
                    let offer = &self.offers[o % self.offers.len()];
                    let pair = Pair {
                        need_id: need.id,
                        offer_id: offer.id,
                        need_country: need.country,
                        provider_org: offer.provider.org.clone(),
                    };
                    let current = k.decided(pair.match_id()).map(|m| m.state.clone());
                    let (command, actor) = match action {
                        0 => (MatchCommand::Shortlist { note: None }, coordinator),
                        1 => (
                            MatchCommand::Dismiss {
                                reason: Some("no".into()),
                            },
                            coordinator,
                        ),
                        2 => (MatchCommand::Introduce { note: None }, coordinator),
                        3 => (
                            MatchCommand::Accept,
                            by(Role::State {
                                country: need.country,
                            }),
                        ),
                        4 => (
                            MatchCommand::Accept,
                            by(Role::Provider {
                                org: offer.provider.org.clone(),
                                org_type: offer.provider.org_type,
                            }),
                        ),
                        _ => (
                            MatchCommand::Decline {
                                reason: Some("no".into()),
                            },
                            by(Role::State {
                                country: need.country,
                            }),
                        ),
                    };
                    let decided = partnership::decide(current.as_ref(), &pair, command, &actor, at);
                    decided
                        .unwrap_or_default()
                        .into_iter()
                        .map(Event::Match)
                        .collect()
                }
            }
        }

        fn record(&mut self, event: &Event) {
            match event {
                Event::Need(e) => {
                    let id = e.need_id();
                    let old = self.needs.iter().position(|n| n.id == id);
                    let state = need::evolve(old.map(|i| self.needs[i].clone()), e);
                    match (old, state) {
                        (Some(i), Some(s)) => self.needs[i] = s,
                        (None, Some(s)) => self.needs.push(s),
                        _ => {}
                    }
                }
                Event::Offer(e) => {
                    let id = e.offer_id();
                    let old = self.offers.iter().position(|o| o.id == id);
                    let state = offer::evolve(old.map(|i| self.offers[i].clone()), e);
                    match (old, state) {
                        (Some(i), Some(s)) => self.offers[i] = s,
                        (None, Some(s)) => self.offers.push(s),
                        _ => {}
                    }
                }
                Event::Match(..) => {}
            }
            self.log.push(event.clone());
        }
    }

    fn apply(k: &mut Knowledge, event: &Event) {
        let applied = match event {
            Event::Need(e) => k.apply_need(e, Uuid::nil()),
            Event::Offer(e) => k.apply_offer(e, Uuid::nil()),
            Event::Match(e) => k.apply_match(e),
        };
        assert_eq!(applied, Ok(()));
    }

    fn knowledge(config: &MatcherConfig) -> Knowledge {
        let (closes, _) = tokio::sync::mpsc::unbounded_channel();
        Knowledge::new(config.clone(), closes)
    }

    type Listing = Vec<(Uuid, u32)>;

    /// Every need's and offer's suggestions, scores to 1e-5.
    fn listings(k: &Knowledge, world: &World) -> Vec<Listing> {
        let engine = k.engine.as_ref().expect("built");
        let top_k = engine.config().top_k;
        let quantise = |score: f32| (score * 100_000.0).round() as u32;
        let mut out = Vec::new();
        for need in &world.needs {
            let list = engine.suggestions_for_need(need.id, top_k).expect("known");
            out.push(
                list.iter()
                    .map(|s| (s.offer.as_uuid(), quantise(s.score)))
                    .collect(),
            );
        }
        for offer in &world.offers {
            let list = engine
                .suggestions_for_offer(offer.id, top_k)
                .expect("known");
            out.push(
                list.iter()
                    .map(|s| (s.need.as_uuid(), quantise(s.score)))
                    .collect(),
            );
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn a_knowledge_built_at_any_point_suggests_the_same(
            seed in any::<u64>(),
            ops in prop::collection::vec(op(), 1..60),
            split in 0usize..60,
            top_k in 1usize..4,
        ) {
            let mut config = MatcherConfig {
                top_k,
                keep: top_k + 1,
                ..MatcherConfig::default()
            };
            config.text.refresh_ratio = Some(0.5);
            let mut world = World {
                generator: Generator::new(seed, Profile::Dense),
                needs: Vec::new(),
                offers: Vec::new(),
                log: Vec::new(),
            };
            let mut running = knowledge(&config);
            running.build_engine().expect("a valid config");
            let mut partway = knowledge(&config);
            for (i, op) in ops.iter().enumerate() {
                if i == split {
                    partway.build_engine().expect("a valid config");
                }
                for event in world.events(op, &running) {
                    apply(&mut running, &event);
                    apply(&mut partway, &event);
                    world.record(&event);
                }
            }
            partway.build_engine().expect("a valid config");
            let mut restarted = knowledge(&config);
            for event in world.log.clone() {
                apply(&mut restarted, &event);
            }
            restarted.build_engine().expect("a valid config");
            // Same text statistics everywhere: those of the corpus as it stands.
            for k in [&mut running, &mut partway] {
                if let Some(engine) = k.engine.as_mut() {
                    engine.refresh_text_stats();
                }
            }
            let expected = listings(&restarted, &world);
            prop_assert_eq!(&listings(&running, &world), &expected);
            prop_assert_eq!(&listings(&partway, &world), &expected);
            prop_assert_eq!(&running.loads, &restarted.loads);
        }
    }
}
