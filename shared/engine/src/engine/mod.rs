//! The engine: needs and offers in, ranked suggestions, explanations and a plan out.
//!
//! - [`mod@self`]: the [`Engine`] and its builder, the write API (`upsert_*`, `set_*`) and the
//!   records it keeps per need and offer.
//! - `maintain`: the incremental maintenance of the candidate indexes and of every top list.
//! - `query`: suggestions, explanations, the reference scan, pairs, the plan and statistics.
//!
//! Writes take `&mut self` and reads `&self`: the service wraps the engine in a lock.

mod maintain;
mod query;

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use capmatch_domain::ids::{NeedId, OfferId};
use capmatch_domain::need::{NeedState, NeedStatus};
use capmatch_domain::offer::{OfferState, OfferStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::MatcherConfig;
use crate::experience::{Case, Outcome, Tally};
use crate::features::{
    NeedFeatures, NeedHot, OfferFeatures, OfferHot, need_features, offer_features,
};
use crate::index::{NeedCard, OfferCard, Postings};
use crate::intern::tables;
use crate::score::{Components, Fit, Scorer};
use crate::text::{Dense, Sig, TextModel, TextStats};
use crate::toplist::{Entry, TopList};

pub use query::{ScanMode, ScoredPair, Stats};

/// A multiply-rotate hasher for the engine's own integer and UUID keys (never user-chosen
/// strings, so no flooding concern).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FastBuild = BuildHasherDefault<FastHasher>;

/// Errors of the engine API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("unknown need {0}")]
    UnknownNeed(NeedId),
    #[error("unknown offer {0}")]
    UnknownOffer(OfferId),
    #[error("invalid matcher configuration: {0}")]
    Config(String),
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// First time the engine saw it.
    Inserted,
    /// Something the matcher uses changed, and everything it touches was recomputed.
    Updated,
    /// Nothing the matcher uses changed (e.g. only visibility or the budget note): no work.
    Unchanged,
    /// Older than the version the engine holds: ignored.
    Stale,
}

#[derive(Debug)]
pub(crate) struct NeedRec {
    pub id: NeedId,
    pub version: u64,
    /// `None` while the need is known only through a dismissal.
    pub status: Option<NeedStatus>,
    pub feats: Option<NeedFeatures>,
    pub sig: Sig,
    /// Filed in the index, counted in the corpus, listed.
    pub active: bool,
    /// Dismissed pairs it is part of.
    pub dismissed: u32,
}

#[derive(Debug)]
pub(crate) struct OfferRec {
    pub id: OfferId,
    pub version: u64,
    pub status: Option<OfferStatus>,
    pub feats: Option<OfferFeatures>,
    pub sig: Sig,
    pub active: bool,
    pub dismissed: u32,
    /// Active partnerships, as reported by the review workflow.
    pub load: u32,
}

/// What a pass needs to know of a list without touching it: the score a partner must beat,
/// and whether the list is complete (then a partner passed over must make it incomplete).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Gate {
    pub threshold: f32,
    pub complete: bool,
}

/// The gates of one side's lists: thresholds in one dense array, completeness in a bitset, so
/// the hot loop reads four bytes per list it considers.
#[derive(Debug, Default)]
pub(crate) struct Gates {
    thresholds: Vec<f32>,
    complete: Vec<u64>,
}

impl Gates {
    pub fn push(&mut self, gate: Gate) {
        let i = self.thresholds.len();
        self.thresholds.push(gate.threshold);
        if i / 64 >= self.complete.len() {
            self.complete.push(0);
        }
        self.set_complete(i, gate.complete);
    }

    #[inline]
    pub fn threshold(&self, i: usize) -> f32 {
        self.thresholds.get(i).copied().unwrap_or(f32::INFINITY)
    }

    #[inline]
    pub fn is_complete(&self, i: usize) -> bool {
        self.complete
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn set_complete(&mut self, i: usize, complete: bool) {
        if let Some(w) = self.complete.get_mut(i / 64) {
            if complete {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
            }
        }
    }

    pub fn get(&self, i: usize) -> Gate {
        Gate {
            threshold: self.threshold(i),
            complete: self.is_complete(i),
        }
    }

    pub fn set(&mut self, i: usize, gate: Gate) {
        if let Some(t) = self.thresholds.get_mut(i) {
            *t = gate.threshold;
        }
        self.set_complete(i, gate.complete);
    }

    pub fn mark_incomplete(&mut self, i: usize) {
        self.set_complete(i, false);
    }

    /// Every gate open: what empty lists have.
    pub fn open_all(&mut self) {
        self.thresholds
            .iter_mut()
            .for_each(|t| *t = Gate::OPEN.threshold);
        self.complete.iter_mut().for_each(|w| *w = u64::MAX);
    }
}

impl Gate {
    pub const OPEN: Gate = Gate {
        threshold: f32::NEG_INFINITY,
        complete: true,
    };

    pub fn of(list: &TopList, keep: usize) -> Self {
        Self {
            threshold: list.threshold(keep),
            complete: list.complete,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub stamp: Vec<u32>,
    pub epoch: u32,
    pub cands: Vec<Entry>,
    pub heap: std::collections::BinaryHeap<std::cmp::Reverse<maintain::Ranked>>,
    pub dense: Dense,
}

impl Scratch {
    /// Starts a new dedupe round over `len` slots.
    pub fn next_epoch(&mut self, len: usize) -> u32 {
        if self.stamp.len() < len {
            self.stamp.resize(len, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
        self.epoch
    }
}

/// The matching engine. See the crate documentation for the model.
#[derive(Debug)]
pub struct Engine {
    pub(crate) cfg: MatcherConfig,
    pub(crate) scorer: Scorer,
    pub(crate) text: TextModel,
    pub(crate) need_slot: HashMap<NeedId, u32, FastBuild>,
    pub(crate) offer_slot: HashMap<OfferId, u32, FastBuild>,
    pub(crate) needs: Vec<NeedRec>,
    pub(crate) offers: Vec<OfferRec>,
    pub(crate) need_hot: Vec<NeedHot>,
    pub(crate) offer_hot: Vec<OfferHot>,
    pub(crate) need_ids: Vec<u128>,
    pub(crate) offer_ids: Vec<u128>,
    /// Each need's best offers.
    pub(crate) need_lists: Vec<TopList>,
    /// Each offer's best needs.
    pub(crate) offer_lists: Vec<TopList>,
    /// Mirrors of the lists' gates, read in the hot loop.
    pub(crate) need_gate: Gates,
    pub(crate) offer_gate: Gates,
    /// Needs by (theme, country).
    pub(crate) need_index: Postings<NeedCard>,
    /// Offers by (theme, area of their coverage).
    pub(crate) offer_index: Postings<OfferCard>,
    /// Dismissed pairs as `need slot << 32 | offer slot`.
    pub(crate) dismissed: HashSet<u64, FastBuild>,
    /// What the review workflow taught about each offer (by offer slot).
    pub(crate) experience: Vec<Box<[Case]>>,
    pub(crate) pending_needs: Vec<u32>,
    pub(crate) pending_offers: Vec<u32>,
    pub(crate) scratch: Scratch,
    /// While a builder loads, passes wait for `build`.
    pub(crate) loading: bool,
    /// Full recomputations done (builds and text refreshes).
    pub(crate) rebuilds: u64,
}

/// A need as a pair is scored: its slot, its features and its country.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NeedAt<'a> {
    pub slot: u32,
    pub hot: &'a NeedHot,
    pub country: u16,
}

pub(crate) fn pair_key(need: u32, offer: u32) -> u64 {
    (u64::from(need) << 32) | u64::from(offer)
}

impl Engine {
    /// An empty engine.
    pub fn new(config: MatcherConfig) -> Result<Self, EngineError> {
        config.check().map_err(EngineError::Config)?;
        let t = tables();
        Ok(Self {
            text: TextModel::new(config.text.clone()),
            scorer: Scorer::new(&config),
            cfg: config,
            need_slot: HashMap::default(),
            offer_slot: HashMap::default(),
            needs: Vec::new(),
            offers: Vec::new(),
            need_hot: Vec::new(),
            offer_hot: Vec::new(),
            need_ids: Vec::new(),
            offer_ids: Vec::new(),
            need_lists: Vec::new(),
            offer_lists: Vec::new(),
            need_gate: Gates::default(),
            offer_gate: Gates::default(),
            need_index: Postings::new(t.themes.len(), t.geos.len()),
            offer_index: Postings::new(t.themes.len(), t.geos.len()),
            dismissed: HashSet::default(),
            experience: Vec::new(),
            pending_needs: Vec::new(),
            pending_offers: Vec::new(),
            scratch: Scratch::default(),
            loading: false,
            rebuilds: 0,
        })
    }

    /// A builder that loads a whole corpus first and computes every list once at the end:
    /// how a service rebuilds the index at start-up.
    pub fn builder(config: MatcherConfig) -> Result<EngineBuilder, EngineError> {
        let mut engine = Self::new(config)?;
        engine.loading = true;
        Ok(EngineBuilder {
            engine,
            stats: None,
        })
    }

    pub fn config(&self) -> &MatcherConfig {
        &self.cfg
    }

    fn need_slot_or_insert(&mut self, id: NeedId) -> u32 {
        if let Some(&slot) = self.need_slot.get(&id) {
            return slot;
        }
        let slot = self.needs.len() as u32;
        self.needs.push(NeedRec {
            id,
            version: 0,
            status: None,
            feats: None,
            sig: Sig::EMPTY,
            active: false,
            dismissed: 0,
            // load lives on offers only
        });
        self.need_hot.push(NeedHot::EMPTY);
        self.need_ids.push(id.as_uuid().as_u128());
        self.need_lists.push(TopList::default());
        self.need_gate.push(Gate::OPEN);
        self.need_slot.insert(id, slot);
        slot
    }

    fn offer_slot_or_insert(&mut self, id: OfferId) -> u32 {
        if let Some(&slot) = self.offer_slot.get(&id) {
            return slot;
        }
        let slot = self.offers.len() as u32;
        self.offers.push(OfferRec {
            id,
            version: 0,
            status: None,
            feats: None,
            sig: Sig::EMPTY,
            active: false,
            dismissed: 0,
            load: 0,
        });
        self.offer_hot.push(OfferHot::EMPTY);
        self.experience.push(Box::default());
        self.offer_ids.push(id.as_uuid().as_u128());
        self.offer_lists.push(TopList::default());
        self.offer_gate.push(Gate::OPEN);
        self.offer_slot.insert(id, slot);
        slot
    }

    /// Adds or revises a need, status changes included. Recomputes the need's own list and
    /// its place in the lists of the offers it can reach; nothing else.
    pub fn upsert_need(&mut self, need: NeedState) -> Change {
        let slot = self.need_slot_or_insert(need.id);
        let s = slot as usize;
        let known = self.needs[s].status.is_some();
        if known && need.version < self.needs[s].version {
            return Change::Stale;
        }
        let feats = need_features(&need, &mut self.text);
        if self.needs[s].status == Some(need.status) && self.needs[s].feats.as_ref() == Some(&feats)
        {
            self.needs[s].version = need.version;
            return Change::Unchanged;
        }
        if self.needs[s].active {
            self.deactivate_need(slot);
        }
        self.need_hot[s] = feats.hot;
        let rec = &mut self.needs[s];
        rec.feats = Some(feats);
        rec.status = Some(need.status);
        rec.version = need.version;
        if need.status == NeedStatus::Open {
            self.activate_need(slot);
        }
        self.settle();
        if known {
            Change::Updated
        } else {
            Change::Inserted
        }
    }

    /// Adds or revises an offer, status changes (paused, resumed, withdrawn) included.
    pub fn upsert_offer(&mut self, offer: OfferState) -> Change {
        let slot = self.offer_slot_or_insert(offer.id);
        let s = slot as usize;
        let known = self.offers[s].status.is_some();
        if known && offer.version < self.offers[s].version {
            return Change::Stale;
        }
        let mut feats = offer_features(&offer, &mut self.text);
        feats.hot.remaining = feats.hot.capacity.saturating_sub(self.offers[s].load);
        feats.hot.experienced = !self.experience[s].is_empty();
        if self.offers[s].status == Some(offer.status)
            && self.offers[s].feats.as_ref() == Some(&feats)
        {
            self.offers[s].version = offer.version;
            return Change::Unchanged;
        }
        if self.offers[s].active {
            self.deactivate_offer(slot);
        }
        self.offer_hot[s] = feats.hot;
        let rec = &mut self.offers[s];
        rec.feats = Some(feats);
        rec.status = Some(offer.status);
        rec.version = offer.version;
        if offer.status == OfferStatus::Open {
            self.activate_offer(slot);
        }
        self.settle();
        if known {
            Change::Updated
        } else {
            Change::Inserted
        }
    }

    /// Records (or lifts) a coordinator's dismissal of a pair; a dismissed pair is never
    /// suggested. Ids not seen yet are remembered for when they arrive. Returns whether
    /// anything changed.
    pub fn set_dismissed(&mut self, need: NeedId, offer: OfferId, dismissed: bool) -> bool {
        let n = self.need_slot_or_insert(need);
        let o = self.offer_slot_or_insert(offer);
        let key = pair_key(n, o);
        let (ns, os) = (n as usize, o as usize);
        if dismissed {
            if !self.dismissed.insert(key) {
                return false;
            }
            self.needs[ns].dismissed += 1;
            self.offers[os].dismissed += 1;
            self.unlist_pair(n, o);
        } else {
            if !self.dismissed.remove(&key) {
                return false;
            }
            self.needs[ns].dismissed -= 1;
            self.offers[os].dismissed -= 1;
            self.relist_pair(n, o);
        }
        self.settle();
        true
    }

    /// Sets how many partnerships the offer currently carries (introduced or agreed, as the
    /// review workflow counts them): its remaining capacity is its capacity minus this.
    /// Returns whether the remaining capacity changed.
    pub fn set_offer_load(&mut self, offer: OfferId, active_partnerships: u32) -> bool {
        let o = self.offer_slot_or_insert(offer);
        let s = o as usize;
        self.offers[s].load = active_partnerships;
        let remaining = self.offer_hot[s]
            .capacity
            .saturating_sub(active_partnerships);
        if remaining == self.offer_hot[s].remaining {
            return false;
        }
        let active = self.offers[s].active;
        if active {
            self.deactivate_offer(o);
        }
        self.offer_hot[s].remaining = remaining;
        if let Some(f) = self.offers[s].feats.as_mut() {
            f.hot.remaining = remaining;
        }
        if active {
            self.activate_offer(o);
        }
        self.settle();
        true
    }

    /// Sets what the review workflow has taught about the offer: each need it has a decided
    /// partnership with and how that stands ([`Outcome`]); the needs' current features are
    /// recorded with it. Set it again when one of those needs changes. Returns whether it
    /// changed anything.
    pub fn set_offer_experience(&mut self, offer: OfferId, cases: &[(NeedId, Outcome)]) -> bool {
        let o = self.offer_slot_or_insert(offer);
        let s = o as usize;
        let recorded: Box<[Case]> = cases
            .iter()
            .filter_map(|&(need, outcome)| {
                let &n = self.need_slot.get(&need)?;
                let country = self.needs[n as usize].feats.as_ref()?.country;
                Some(Case::new(
                    need,
                    outcome,
                    &self.need_hot[n as usize],
                    country,
                ))
            })
            .collect();
        if recorded == self.experience[s] {
            return false;
        }
        let active = self.offers[s].active;
        if active {
            self.deactivate_offer(o);
        }
        let experienced = !recorded.is_empty();
        self.experience[s] = recorded;
        self.offer_hot[s].experienced = experienced;
        if let Some(f) = self.offers[s].feats.as_mut() {
            f.hot.experienced = experienced;
        }
        if active {
            self.activate_offer(o);
        }
        self.settle();
        true
    }

    /// The components and fit of the pair of `need` and offer slot `o` (features `oh`), with
    /// what the offer's record says of it: the one way every pass, scan and explanation
    /// scores a pair.
    #[inline]
    pub(crate) fn score_pair(
        &self,
        need: NeedAt<'_>,
        o: u32,
        oh: &OfferHot,
        level: Option<u8>,
        text: f32,
    ) -> (Components, Fit, Tally) {
        let (mut c, fit) = self.scorer.evaluate(need.hot, oh, level, text);
        if !oh.experienced {
            return (c, fit, Tally::default());
        }
        let cases = self.experience.get(o as usize).map_or(&[][..], |c| &c[..]);
        let id = self.needs[need.slot as usize].id;
        let tally = Tally::of(cases, id, need.hot, need.country);
        let fit = self.scorer.with_experience(&mut c, fit, &tally);
        (c, fit, tally)
    }

    /// Takes a new snapshot of document frequencies and recomputes every score and list.
    /// Runs by itself when the corpus drifts past `text.refresh_ratio`.
    pub fn refresh_text_stats(&mut self) {
        self.text.take_snapshot();
        self.recompute_all();
    }

    /// The document frequencies scores are currently computed with.
    pub fn text_stats(&self) -> TextStats {
        self.text.export()
    }
}

/// Loads a corpus, then computes every list once. Obtained from [`Engine::builder`].
#[derive(Debug)]
pub struct EngineBuilder {
    engine: Engine,
    stats: Option<TextStats>,
}

impl EngineBuilder {
    pub fn need(&mut self, need: NeedState) -> &mut Self {
        self.engine.upsert_need(need);
        self
    }

    pub fn offer(&mut self, offer: OfferState) -> &mut Self {
        self.engine.upsert_offer(offer);
        self
    }

    pub fn dismissed(&mut self, need: NeedId, offer: OfferId) -> &mut Self {
        self.engine.set_dismissed(need, offer, true);
        self
    }

    pub fn offer_load(&mut self, offer: OfferId, active_partnerships: u32) -> &mut Self {
        self.engine.set_offer_load(offer, active_partnerships);
        self
    }

    /// The offer's experience ([`Engine::set_offer_experience`]); give it after the needs it
    /// names.
    pub fn offer_experience(&mut self, offer: OfferId, cases: &[(NeedId, Outcome)]) -> &mut Self {
        self.engine.set_offer_experience(offer, cases);
        self
    }

    /// Scores with these document frequencies instead of the loaded corpus's own: to
    /// reproduce another engine exactly.
    pub fn text_stats(&mut self, stats: TextStats) -> &mut Self {
        self.stats = Some(stats);
        self
    }

    pub fn build(self) -> Engine {
        let mut engine = self.engine;
        engine.loading = false;
        match &self.stats {
            Some(stats) => engine.text.import(stats),
            None => engine.text.take_snapshot(),
        }
        engine.recompute_all();
        engine
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_can_live_behind_a_lock_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Engine>();
    }

    #[test]
    fn an_invalid_configuration_is_refused() {
        let cfg = MatcherConfig {
            keep: 5,
            top_k: 10,
            ..MatcherConfig::default()
        };
        assert!(matches!(Engine::new(cfg), Err(EngineError::Config(_))));
    }
}
