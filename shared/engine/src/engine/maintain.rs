//! Incremental maintenance.
//!
//! A need that arrives (or changes) is scored against the offers its index lists yield: its
//! own list is built from them, and it is offered to each of those offers' lists. A need that
//! leaves (or is about to change) is removed from the lists of the offers its old features
//! could reach. Offers are handled the same way from the other side. A list that falls below
//! `top_k` without being complete is recomputed at the end of the call (`settle`).
//!
//! Each list's gate (its threshold and completeness) is mirrored in a dense array, so offering
//! a partner to thousands of lists touches only the few it can enter.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::features::{NeedHot, OfferHot};
use crate::index::{NeedCard, OfferCard, theme_ids};
use crate::intern::tables;
use crate::score::passes_rest;
use crate::toplist::{Entry, TopList, sort};

use super::{Engine, Gate, NeedAt, pair_key};

/// A candidate in the selection heap, ordered by rank (greater is better).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ranked {
    score: f32,
    id: u128,
    slot: u32,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.id.cmp(&self.id))
    }
}

/// An entity's own list from its scored candidates: the best `keep` of those not dismissed,
/// in rank order, complete if that is all of them. One pass with a bounded min-heap.
fn select(
    cands: &[Entry],
    heap: &mut BinaryHeap<Reverse<Ranked>>,
    keep: usize,
    ids: &[u128],
    dismissed: Option<&dyn Fn(u32) -> bool>,
) -> TopList {
    let id = |slot: u32| ids.get(slot as usize).copied().unwrap_or(u128::MAX);
    heap.clear();
    let mut eligible = 0usize;
    for &e in cands {
        if dismissed.is_some_and(|d| d(e.slot)) {
            continue;
        }
        eligible += 1;
        if heap.len() < keep {
            heap.push(Reverse(Ranked {
                score: e.score,
                id: id(e.slot),
                slot: e.slot,
            }));
        } else if let Some(mut min) = heap.peek_mut() {
            let beats = e.score > min.0.score || (e.score == min.0.score && id(e.slot) < min.0.id);
            if beats {
                *min = Reverse(Ranked {
                    score: e.score,
                    id: id(e.slot),
                    slot: e.slot,
                });
            }
        }
    }
    let mut entries: Vec<Entry> = heap
        .drain()
        .map(|Reverse(r)| Entry {
            score: r.score,
            slot: r.slot,
        })
        .collect();
    sort(&mut entries, ids);
    TopList {
        entries,
        complete: eligible <= keep,
    }
}

/// Whether a list behind `gate` can hold a partner scoring `score` (and so must be looked at).
fn may_hold(gate: Gate, score: f32) -> bool {
    gate.threshold == f32::NEG_INFINITY || score >= gate.threshold
}

impl Engine {
    // -----------------------------------------------------------------------------------------
    // Index membership.

    fn need_card(&self, n: u32) -> NeedCard {
        NeedCard {
            hot: self.need_hot[n as usize],
            sig: self.needs[n as usize].sig,
        }
    }

    fn offer_card(&self, o: u32) -> OfferCard {
        OfferCard {
            hot: self.offer_hot[o as usize],
            sig: self.offers[o as usize].sig,
        }
    }

    pub(super) fn index_need(&mut self, n: u32, insert: bool) {
        let Some(f) = self.needs[n as usize].feats.as_ref() else {
            return;
        };
        let (themes, country) = (f.hot.themes, f.country);
        let card = self.need_card(n);
        for t in theme_ids(themes) {
            if insert {
                self.need_index.insert(t, country, n, card);
            } else {
                self.need_index.remove(t, country, n);
            }
        }
    }

    pub(super) fn index_offer(&mut self, o: u32, insert: bool) {
        let Some(f) = self.offers[o as usize].feats.as_ref() else {
            return;
        };
        let themes = f.hot.themes;
        let coverage = f.coverage.clone();
        let card = self.offer_card(o);
        for t in theme_ids(themes) {
            for &g in coverage.iter() {
                if insert {
                    self.offer_index.insert(t, g, o, card);
                } else {
                    self.offer_index.remove(t, g, o);
                }
            }
        }
    }

    pub(super) fn activate_need(&mut self, n: u32) {
        let s = n as usize;
        if let Some(f) = self.needs[s].feats.as_ref().filter(|f| f.in_corpus) {
            self.text.add(&f.doc);
        }
        self.needs[s].active = true;
        if !self.loading {
            if let Some(f) = self.needs[s].feats.as_ref() {
                self.needs[s].sig = self.text.signature(&f.doc);
            }
            self.index_need(n, true);
            self.need_pass(n, true);
        }
    }

    pub(super) fn activate_offer(&mut self, o: u32) {
        let s = o as usize;
        if let Some(f) = self.offers[s].feats.as_ref() {
            self.text.add(&f.doc);
        }
        self.offers[s].active = true;
        if !self.loading {
            if let Some(f) = self.offers[s].feats.as_ref() {
                self.offers[s].sig = self.text.signature(&f.doc);
            }
            self.index_offer(o, true);
            self.offer_pass(o, true);
        }
    }

    /// Takes a need out of the index, the corpus and every list, using its current features.
    pub(super) fn deactivate_need(&mut self, n: u32) {
        let s = n as usize;
        if !self.loading {
            // Every offer whose list may hold the need is among its candidates, and holds it
            // only if the pair's score reaches the list's gate.
            self.scan_offers_for(n);
            let keep = self.cfg.keep;
            let top_k = self.cfg.top_k;
            let scratch = std::mem::take(&mut self.scratch);
            for e in &scratch.cands {
                let o = e.slot as usize;
                if !may_hold(self.offer_gate.get(o), e.score) {
                    continue;
                }
                let list = &mut self.offer_lists[o];
                if list.remove(n) {
                    self.offer_gate.set(o, Gate::of(list, keep));
                    if list.starved(top_k) {
                        self.pending_offers.push(e.slot);
                    }
                }
            }
            self.scratch = scratch;
            self.index_need(n, false);
        }
        if let Some(f) = self.needs[s].feats.as_ref().filter(|f| f.in_corpus) {
            self.text.remove(&f.doc);
        }
        self.needs[s].active = false;
        self.need_lists[s] = TopList::default();
        self.need_gate.set(s, Gate::OPEN);
    }

    /// Takes an offer out of the index, the corpus and every list, using its current features.
    pub(super) fn deactivate_offer(&mut self, o: u32) {
        let s = o as usize;
        if !self.loading {
            self.scan_needs_for(o);
            let keep = self.cfg.keep;
            let top_k = self.cfg.top_k;
            let scratch = std::mem::take(&mut self.scratch);
            for e in &scratch.cands {
                let n = e.slot as usize;
                if !may_hold(self.need_gate.get(n), e.score) {
                    continue;
                }
                let list = &mut self.need_lists[n];
                if list.remove(o) {
                    self.need_gate.set(n, Gate::of(list, keep));
                    if list.starved(top_k) {
                        self.pending_needs.push(e.slot);
                    }
                }
            }
            self.scratch = scratch;
            self.index_offer(o, false);
        }
        if let Some(f) = self.offers[s].feats.as_ref() {
            self.text.remove(&f.doc);
        }
        self.offers[s].active = false;
        self.offer_lists[s] = TopList::default();
        self.offer_gate.set(s, Gate::OPEN);
    }

    // -----------------------------------------------------------------------------------------
    // Scans: every eligible partner with its exact score, into `scratch.cands`.

    /// Scores a need against every offer its index lists yield that passes the rules
    /// (dismissal aside).
    fn scan_offers_for(&mut self, n: u32) {
        let s = n as usize;
        let need: NeedHot = self.need_hot[s];
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.cands.clear();
        let Some(country) = self.needs[s].feats.as_ref().map(|f| f.country) else {
            self.scratch = scratch;
            return;
        };
        scratch
            .dense
            .load(&self.needs[s].sig, self.text.vocabulary());
        let epoch = scratch.next_epoch(self.offers.len());
        let t = tables();
        for &g in t.chain(country) {
            let level = Some(t.level(g));
            for theme in theme_ids(need.themes) {
                let (slots, cards) = self.offer_index.list(theme, g);
                for (&o, card) in slots.iter().zip(cards) {
                    let stamp = &mut scratch.stamp[o as usize];
                    if *stamp == epoch {
                        continue;
                    }
                    *stamp = epoch;
                    let offer: &OfferHot = &card.hot;
                    if !passes_rest(&need, offer) {
                        continue;
                    }
                    let text = scratch.dense.dot(&card.sig);
                    let at = NeedAt {
                        slot: n,
                        hot: &need,
                        country,
                    };
                    let (_, fit, _) = self.score_pair(at, o, offer, level, text);
                    scratch.cands.push(Entry {
                        score: fit.score,
                        slot: o,
                    });
                }
            }
        }
        scratch.dense.clear();
        self.scratch = scratch;
    }

    /// Scores an offer against every need its index lists yield that passes the rules
    /// (dismissal aside).
    fn scan_needs_for(&mut self, o: u32) {
        let s = o as usize;
        let offer: OfferHot = self.offer_hot[s];
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.cands.clear();
        let Some(coverage) = self.offers[s].feats.as_ref().map(|f| f.coverage.clone()) else {
            self.scratch = scratch;
            return;
        };
        scratch
            .dense
            .load(&self.offers[s].sig, self.text.vocabulary());
        let epoch = scratch.next_epoch(self.needs.len());
        let t = tables();
        // Coverage is sorted most specific first, so a need's first appearance is at the
        // level that sets its geography component.
        for &g in coverage.iter() {
            let level = Some(t.level(g));
            for &country in t.members(g) {
                for theme in theme_ids(offer.themes) {
                    let (slots, cards) = self.need_index.list(theme, country);
                    for (&n, card) in slots.iter().zip(cards) {
                        let stamp = &mut scratch.stamp[n as usize];
                        if *stamp == epoch {
                            continue;
                        }
                        *stamp = epoch;
                        let need: &NeedHot = &card.hot;
                        if !passes_rest(need, &offer) {
                            continue;
                        }
                        let text = scratch.dense.dot(&card.sig);
                        let at = NeedAt {
                            slot: n,
                            hot: need,
                            country,
                        };
                        let (_, fit, _) = self.score_pair(at, o, &offer, level, text);
                        scratch.cands.push(Entry {
                            score: fit.score,
                            slot: n,
                        });
                    }
                }
            }
        }
        scratch.dense.clear();
        self.scratch = scratch;
    }

    // -----------------------------------------------------------------------------------------
    // Passes.

    /// Scores a need against its candidate offers: rebuilds its own list and, if `share`,
    /// offers it to the candidates' lists.
    pub(crate) fn need_pass(&mut self, n: u32, share: bool) {
        let s = n as usize;
        self.scan_offers_for(n);
        let mut scratch = std::mem::take(&mut self.scratch);
        let keep = self.cfg.keep;
        let has_dismissals = self.needs[s].dismissed > 0;
        let dismissed = |o: u32| self.dismissed.contains(&pair_key(n, o));
        let list = select(
            &scratch.cands,
            &mut scratch.heap,
            keep,
            &self.offer_ids,
            has_dismissals.then_some(&dismissed as &dyn Fn(u32) -> bool),
        );
        self.need_gate.set(s, Gate::of(&list, keep));
        self.need_lists[s] = list;
        if share {
            for e in &scratch.cands {
                let o = e.slot as usize;
                if (has_dismissals || self.offers[o].dismissed > 0)
                    && self.dismissed.contains(&pair_key(n, e.slot))
                {
                    continue;
                }
                if e.score < self.offer_gate.threshold(o) {
                    if self.offer_gate.is_complete(o) {
                        self.offer_lists[o].pass_over();
                        self.offer_gate.mark_incomplete(o);
                    }
                    continue;
                }
                let list = &mut self.offer_lists[o];
                let entry = Entry {
                    score: e.score,
                    slot: n,
                };
                list.offer(entry, keep, &self.need_ids);
                self.offer_gate.set(o, Gate::of(list, keep));
            }
        }
        self.scratch = scratch;
    }

    /// Scores an offer against its candidate needs: rebuilds its own list and, if `share`,
    /// offers it to the candidates' lists.
    pub(crate) fn offer_pass(&mut self, o: u32, share: bool) {
        let s = o as usize;
        self.scan_needs_for(o);
        let mut scratch = std::mem::take(&mut self.scratch);
        let keep = self.cfg.keep;
        let has_dismissals = self.offers[s].dismissed > 0;
        let dismissed = |n: u32| self.dismissed.contains(&pair_key(n, o));
        let list = select(
            &scratch.cands,
            &mut scratch.heap,
            keep,
            &self.need_ids,
            has_dismissals.then_some(&dismissed as &dyn Fn(u32) -> bool),
        );
        self.offer_gate.set(s, Gate::of(&list, keep));
        self.offer_lists[s] = list;
        if share {
            for e in &scratch.cands {
                let n = e.slot as usize;
                if (has_dismissals || self.needs[n].dismissed > 0)
                    && self.dismissed.contains(&pair_key(e.slot, o))
                {
                    continue;
                }
                if e.score < self.need_gate.threshold(n) {
                    if self.need_gate.is_complete(n) {
                        self.need_lists[n].pass_over();
                        self.need_gate.mark_incomplete(n);
                    }
                    continue;
                }
                let list = &mut self.need_lists[n];
                let entry = Entry {
                    score: e.score,
                    slot: o,
                };
                list.offer(entry, keep, &self.offer_ids);
                self.need_gate.set(n, Gate::of(list, keep));
            }
        }
        self.scratch = scratch;
    }

    // -----------------------------------------------------------------------------------------
    // Pairs.

    /// Removes a pair from both lists (after a dismissal).
    pub(super) fn unlist_pair(&mut self, n: u32, o: u32) {
        let (ns, os) = (n as usize, o as usize);
        let keep = self.cfg.keep;
        let top_k = self.cfg.top_k;
        if self.need_lists[ns].remove(o) {
            self.need_gate.set(ns, Gate::of(&self.need_lists[ns], keep));
            if self.need_lists[ns].starved(top_k) {
                self.pending_needs.push(n);
            }
        }
        if self.offer_lists[os].remove(n) {
            self.offer_gate
                .set(os, Gate::of(&self.offer_lists[os], keep));
            if self.offer_lists[os].starved(top_k) {
                self.pending_offers.push(o);
            }
        }
    }

    /// Offers a pair to both lists (after a dismissal is lifted), if it is eligible.
    pub(super) fn relist_pair(&mut self, n: u32, o: u32) {
        let (ns, os) = (n as usize, o as usize);
        if self.loading || !self.needs[ns].active || !self.offers[os].active {
            return;
        }
        let Some(score) = self.pair_score(n, o) else {
            return;
        };
        let keep = self.cfg.keep;
        self.need_lists[ns].offer(Entry { score, slot: o }, keep, &self.offer_ids);
        self.need_gate.set(ns, Gate::of(&self.need_lists[ns], keep));
        self.offer_lists[os].offer(Entry { score, slot: n }, keep, &self.need_ids);
        self.offer_gate
            .set(os, Gate::of(&self.offer_lists[os], keep));
    }

    /// Recomputes the lists that fell below `top_k`, or everything if the corpus drifted.
    pub(super) fn settle(&mut self) {
        if self.loading {
            self.pending_needs.clear();
            self.pending_offers.clear();
            return;
        }
        if self.text.needs_refresh() {
            self.text.take_snapshot();
            self.recompute_all();
            return;
        }
        let top_k = self.cfg.top_k;
        while let Some(n) = self.pending_needs.pop() {
            let s = n as usize;
            if self.needs[s].active && self.need_lists[s].starved(top_k) {
                self.need_pass(n, false);
            }
        }
        while let Some(o) = self.pending_offers.pop() {
            let s = o as usize;
            if self.offers[s].active && self.offer_lists[s].starved(top_k) {
                self.offer_pass(o, false);
            }
        }
    }

    /// Recomputes every signature, the indexes and every list from scratch: after a text
    /// snapshot, or once when a builder finishes.
    pub(crate) fn recompute_all(&mut self) {
        self.pending_needs.clear();
        self.pending_offers.clear();
        self.rebuilds += 1;
        for rec in self.needs.iter_mut() {
            rec.sig = match (&rec.feats, rec.active) {
                (Some(f), true) => self.text.signature(&f.doc),
                _ => Default::default(),
            };
        }
        for rec in self.offers.iter_mut() {
            rec.sig = match (&rec.feats, rec.active) {
                (Some(f), true) => self.text.signature(&f.doc),
                _ => Default::default(),
            };
        }
        self.need_index.clear();
        self.offer_index.clear();
        for n in 0..self.needs.len() as u32 {
            if self.needs[n as usize].active {
                self.index_need(n, true);
            }
        }
        for o in 0..self.offers.len() as u32 {
            if self.offers[o as usize].active {
                self.index_offer(o, true);
            }
        }
        self.need_lists
            .iter_mut()
            .for_each(|l| *l = TopList::default());
        self.offer_lists
            .iter_mut()
            .for_each(|l| *l = TopList::default());
        self.need_gate.open_all();
        self.offer_gate.open_all();
        // Every eligible pair is met once, from its need; offers' lists fill from there.
        for n in 0..self.needs.len() as u32 {
            if self.needs[n as usize].active {
                self.need_pass(n, true);
            }
        }
    }
}
