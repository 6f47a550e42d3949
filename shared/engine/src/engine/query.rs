//! The read side: suggestions, explanations, the reference scan, pairs, the plan, statistics.

use std::collections::HashSet;

use capmatch_domain::ids::{NeedId, OfferId};
use capmatch_domain::need::NeedStatus;
use capmatch_domain::offer::OfferStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::experience::Tally;
use crate::explain::{
    Explanation, PairView, RuleFailure, Standing, Suggestion, concerns, reasons, rule_message,
};
use crate::index::theme_ids;
use crate::intern::tables;
use crate::plan::{Assignment, Plan, PlanEdge, SCORE_SCALE, max_profit_assignment};
use crate::score::{Components, Fit, HardRule, content_rules};
use crate::text::{cosine, shared_terms};
use crate::toplist::{Entry, before};

use super::{Engine, EngineError, FastBuild, NeedAt, pair_key};

/// A pair and its score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScoredPair {
    pub need: NeedId,
    pub offer: OfferId,
    pub score: f32,
}

/// How [`Engine::scan_need`] treats pairs that break a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanMode {
    /// Score every pair in full (every rule and every component), as a design without
    /// indexes or pruning would: the benchmark's brute force.
    Full,
    /// Check the rules first and score only the pairs that pass them.
    RulesFirst,
}

/// Sizes of the engine's structures, for metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    /// Needs known (any status).
    pub needs: usize,
    pub needs_open: usize,
    /// Offers known (any status).
    pub offers: usize,
    pub offers_open: usize,
    pub offers_paused: usize,
    /// Entries in the needs' (theme × area) index.
    pub need_postings: usize,
    /// Entries in the offers' (theme × area) index.
    pub offer_postings: usize,
    /// Entries over every need's and offer's kept list.
    pub listed_pairs: usize,
    pub dismissed_pairs: usize,
    /// Distinct terms seen.
    pub vocabulary: usize,
    /// Documents in the live corpus.
    pub corpus_docs: u32,
    /// Documents in the snapshot scores use.
    pub snapshot_docs: u32,
    /// Full recomputations so far (builds and text refreshes).
    pub rebuilds: u64,
}

impl Engine {
    fn need_of(&self, id: NeedId) -> Result<u32, EngineError> {
        self.need_slot
            .get(&id)
            .copied()
            .filter(|&s| self.needs[s as usize].status.is_some())
            .ok_or(EngineError::UnknownNeed(id))
    }

    fn offer_of(&self, id: OfferId) -> Result<u32, EngineError> {
        self.offer_slot
            .get(&id)
            .copied()
            .filter(|&s| self.offers[s as usize].status.is_some())
            .ok_or(EngineError::UnknownOffer(id))
    }

    /// The geography level and text component of a pair, from the records.
    fn level_and_text(&self, n: u32, o: u32) -> (Option<u8>, f32) {
        let (nr, or) = (&self.needs[n as usize], &self.offers[o as usize]);
        let level = match (&nr.feats, &or.feats) {
            (Some(nf), Some(of)) => tables().coverage_level(&of.coverage, nf.country),
            _ => None,
        };
        (level, cosine(&nr.sig, &or.sig))
    }

    /// The exact score of an eligible pair of active entities, or `None` if a content rule
    /// fails. Dismissal and status are the caller's business.
    pub(crate) fn pair_score(&self, n: u32, o: u32) -> Option<f32> {
        let (nh, oh) = (&self.need_hot[n as usize], &self.offer_hot[o as usize]);
        let (level, text) = self.level_and_text(n, o);
        if content_rules(nh, oh, level) != 0 {
            return None;
        }
        Some(self.scored(n, o, level, text).1.score)
    }

    /// Components, fit and the offer's record of the pair of slots (`n`, `o`).
    fn scored(&self, n: u32, o: u32, level: Option<u8>, text: f32) -> (Components, Fit, Tally) {
        let (nh, oh) = (&self.need_hot[n as usize], &self.offer_hot[o as usize]);
        let country = self.needs[n as usize]
            .feats
            .as_ref()
            .map_or(u16::MAX, |f| f.country);
        let need = NeedAt {
            slot: n,
            hot: nh,
            country,
        };
        self.score_pair(need, o, oh, level, text)
    }

    fn view<'a>(
        &'a self,
        n: u32,
        o: u32,
        components: &'a Components,
        tally: Tally,
    ) -> PairView<'a> {
        let (nr, or) = (&self.needs[n as usize], &self.offers[o as usize]);
        let (level, _) = self.level_and_text(n, o);
        PairView {
            need: &self.need_hot[n as usize],
            offer: &self.offer_hot[o as usize],
            country: nr.feats.as_ref().map_or(u16::MAX, |f| f.country),
            coverage: or.feats.as_ref().map_or(&[][..], |f| &f.coverage[..]),
            level,
            components,
            tally,
            shared_terms: shared_terms(&nr.sig, &or.sig)
                .into_iter()
                .map(|(t, _)| self.text.term(t).to_owned())
                .collect(),
        }
    }

    fn suggestion(&self, n: u32, o: u32, rank: usize) -> Suggestion {
        let (level, text) = self.level_and_text(n, o);
        let (components, fit, tally) = self.scored(n, o, level, text);
        let reasons = reasons(&self.view(n, o, &components, tally));
        Suggestion {
            need: self.needs[n as usize].id,
            offer: self.offers[o as usize].id,
            rank: rank as u32 + 1,
            score: fit.score,
            need_fit: fit.need,
            offer_fit: fit.offer,
            components,
            reasons,
        }
    }

    /// The need's best offers, best first: at most `min(k, top_k)`. Empty for a need that is
    /// not open.
    pub fn suggestions_for_need(
        &self,
        need: NeedId,
        k: usize,
    ) -> Result<Vec<Suggestion>, EngineError> {
        let n = self.need_of(need)?;
        let list = &self.need_lists[n as usize];
        Ok(list
            .entries
            .iter()
            .take(k.min(self.cfg.top_k))
            .enumerate()
            .map(|(rank, e)| self.suggestion(n, e.slot, rank))
            .collect())
    }

    /// The offer's best needs, best first: at most `min(k, top_k)`. Empty for an offer that
    /// is not open.
    pub fn suggestions_for_offer(
        &self,
        offer: OfferId,
        k: usize,
    ) -> Result<Vec<Suggestion>, EngineError> {
        self.suggestions_for_offer_where(offer, k, |_| true)
    }

    /// The offer's best needs that pass `keep_need`, best first: exactly the first
    /// `min(k, top_k)` of them, ranked among themselves, as if the others did not exist. They
    /// are drawn from the kept list (`keep` entries) while it holds enough of them; when needs
    /// the caller may not see take so many places that it does not, the offer's candidates are
    /// scanned instead, so hidden needs never shorten the list either.
    pub fn suggestions_for_offer_where(
        &self,
        offer: OfferId,
        k: usize,
        mut keep_need: impl FnMut(NeedId) -> bool,
    ) -> Result<Vec<Suggestion>, EngineError> {
        let o = self.offer_of(offer)?;
        let k = k.min(self.cfg.top_k);
        let list = &self.offer_lists[o as usize];
        let mut kept: Vec<Entry> = list
            .entries
            .iter()
            .filter(|e| keep_need(self.needs[e.slot as usize].id))
            .take(k)
            .copied()
            .collect();
        if kept.len() < k && !list.complete {
            kept = self
                .offer_candidates(o)
                .into_iter()
                .filter(|&n| {
                    self.needs[n as usize].active
                        && !self.dismissed.contains(&pair_key(n, o))
                        && keep_need(self.needs[n as usize].id)
                })
                .filter_map(|n| self.pair_score(n, o).map(|score| Entry { score, slot: n }))
                .collect();
            crate::toplist::sort(&mut kept, &self.need_ids);
            kept.truncate(k);
        }
        Ok(kept
            .iter()
            .enumerate()
            .map(|(rank, e)| self.suggestion(e.slot, o, rank))
            .collect())
    }

    /// Every hard rule the pair breaks, as bits.
    fn failed_rules(&self, n: u32, o: u32) -> u16 {
        let (nr, or) = (&self.needs[n as usize], &self.offers[o as usize]);
        let mut failed = 0;
        if nr.status != Some(NeedStatus::Open) {
            failed |= HardRule::NeedNotOpen.bit();
        }
        match or.status {
            Some(OfferStatus::Open) => {}
            Some(OfferStatus::Paused) => failed |= HardRule::OfferPaused.bit(),
            _ => failed |= HardRule::OfferNotOpen.bit(),
        }
        if self.dismissed.contains(&pair_key(n, o)) {
            failed |= HardRule::Dismissed.bit();
        }
        let (level, _) = self.level_and_text(n, o);
        failed
            | content_rules(
                &self.need_hot[n as usize],
                &self.offer_hot[o as usize],
                level,
            )
    }

    /// Offers a need could be matched with by theme and geography (status aside), sorted.
    fn need_candidates(&self, n: u32) -> Vec<u32> {
        let Some(f) = self.needs[n as usize].feats.as_ref() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for &g in tables().chain(f.country) {
            for t in theme_ids(f.hot.themes) {
                out.extend_from_slice(self.offer_index.list(t, g).0);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn offer_candidates(&self, o: u32) -> Vec<u32> {
        let Some(f) = self.offers[o as usize].feats.as_ref() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for &g in f.coverage.iter() {
            for &country in tables().members(g) {
                for t in theme_ids(f.hot.themes) {
                    out.extend_from_slice(self.need_index.list(t, country).0);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn standing(
        &self,
        me: Entry,
        candidates: Vec<u32>,
        score_of: impl Fn(u32) -> Option<f32>,
        ids: &[u128],
    ) -> Standing {
        let (mut better, mut of) = (0u32, 0u32);
        for c in candidates {
            let Some(score) = score_of(c) else {
                continue;
            };
            of += 1;
            if c != me.slot && before(Entry { score, slot: c }, me, ids) {
                better += 1;
            }
        }
        Standing {
            rank: better + 1,
            of,
            shown: (better as usize) < self.cfg.top_k,
        }
    }

    /// Why the pair is or is not suggested: every hard rule it breaks; if it breaks none, its
    /// score, components, reasons and its rank on both sides.
    pub fn explain(&self, need: NeedId, offer: OfferId) -> Result<Explanation, EngineError> {
        let n = self.need_of(need)?;
        let o = self.offer_of(offer)?;
        let (level, text) = self.level_and_text(n, o);
        let (components, fit, tally) = self.scored(n, o, level, text);
        let view = self.view(n, o, &components, tally);
        let failed = self.failed_rules(n, o);
        let status = self.needs[n as usize]
            .status
            .map_or("unknown", |s| s.as_str());
        let failed_rules: Vec<RuleFailure> = HardRule::ALL
            .iter()
            .filter(|r| failed & r.bit() != 0)
            .map(|&rule| RuleFailure {
                rule,
                message: rule_message(rule, &view, status),
            })
            .collect();
        let eligible = failed_rules.is_empty();
        let (need_standing, offer_standing) = if eligible {
            let me_for_need = Entry {
                score: fit.score,
                slot: o,
            };
            let need_standing = self.standing(
                me_for_need,
                self.need_candidates(n),
                |c| {
                    let ok =
                        self.offers[c as usize].active && !self.dismissed.contains(&pair_key(n, c));
                    ok.then(|| self.pair_score(n, c)).flatten()
                },
                &self.offer_ids,
            );
            let me_for_offer = Entry {
                score: fit.score,
                slot: n,
            };
            let offer_standing = self.standing(
                me_for_offer,
                self.offer_candidates(o),
                |c| {
                    let ok =
                        self.needs[c as usize].active && !self.dismissed.contains(&pair_key(c, o));
                    ok.then(|| self.pair_score(c, o)).flatten()
                },
                &self.need_ids,
            );
            (Some(need_standing), Some(offer_standing))
        } else {
            (None, None)
        };
        let summary = match (&need_standing, &offer_standing, failed_rules.first()) {
            (Some(ns), Some(os), _) => {
                let shown = match (ns.shown, os.shown) {
                    (true, true) => "suggested to both sides",
                    (true, false) => "suggested for the need",
                    (false, true) => "suggested for the offer",
                    (false, false) => "eligible but ranked below the suggestions shown",
                };
                format!(
                    "Score {:.2}: {shown}; ranked {} of {} offers for this need and {} of {} \
                     needs for this offer.",
                    fit.score, ns.rank, ns.of, os.rank, os.of
                )
            }
            (_, _, Some(first)) => {
                let more = failed_rules.len() - 1;
                if more == 0 {
                    format!("Not suggested: {}.", first.message)
                } else {
                    format!(
                        "Not suggested: {} (and {more} more rule{}).",
                        first.message,
                        if more == 1 { "" } else { "s" }
                    )
                }
            }
            _ => String::new(),
        };
        Ok(Explanation {
            need,
            offer,
            eligible,
            failed_rules,
            score: eligible.then_some(fit.score),
            need_fit: fit.need,
            offer_fit: fit.offer,
            components,
            need_standing,
            offer_standing,
            reasons: reasons(&view),
            concerns: concerns(&view),
            summary,
        })
    }

    /// The reference ranking of a need's offers by a scan of every offer, without the indexes,
    /// the kept lists or pruning: what the index must agree with, and the benchmark's brute
    /// force. Best first, at most `k`.
    pub fn scan_need(
        &self,
        need: NeedId,
        k: usize,
        mode: ScanMode,
    ) -> Result<Vec<ScoredPair>, EngineError> {
        let n = self.need_of(need)?;
        let mut found: Vec<Entry> = Vec::new();
        for o in 0..self.offers.len() as u32 {
            let score = match mode {
                ScanMode::Full => {
                    let failed = self.failed_rules(n, o);
                    let (level, text) = self.level_and_text(n, o);
                    let (_, fit, _) = self.scored(n, o, level, text);
                    (failed == 0).then_some(fit.score)
                }
                ScanMode::RulesFirst => {
                    let open = self.needs[n as usize].active && self.offers[o as usize].active;
                    if !open || self.dismissed.contains(&pair_key(n, o)) {
                        None
                    } else {
                        self.pair_score(n, o)
                    }
                }
            };
            if let Some(score) = score {
                found.push(Entry { score, slot: o });
            }
        }
        crate::toplist::sort(&mut found, &self.offer_ids);
        Ok(found
            .into_iter()
            .take(k)
            .map(|e| ScoredPair {
                need,
                offer: self.offers[e.slot as usize].id,
                score: e.score,
            })
            .collect())
    }

    /// The suggestion graph as slots: every pair within the first `top_k` of a need's or an
    /// offer's list, once.
    fn pair_slots(&self) -> Vec<(u32, u32, f32)> {
        let top_k = self.cfg.top_k;
        let mut seen: HashSet<u64, FastBuild> = HashSet::default();
        let mut out = Vec::new();
        for (n, list) in self.need_lists.iter().enumerate() {
            for e in list.entries.iter().take(top_k) {
                if seen.insert(pair_key(n as u32, e.slot)) {
                    out.push((n as u32, e.slot, e.score));
                }
            }
        }
        for (o, list) in self.offer_lists.iter().enumerate() {
            for e in list.entries.iter().take(top_k) {
                if seen.insert(pair_key(e.slot, o as u32)) {
                    out.push((e.slot, o as u32, e.score));
                }
            }
        }
        out
    }

    /// Every suggested pair (within the first `top_k` of either side's list), sorted by need
    /// id then offer id: the pairs the plan chooses among.
    pub fn pairs(&self) -> Vec<ScoredPair> {
        let mut out: Vec<ScoredPair> = self
            .pair_slots()
            .into_iter()
            .map(|(n, o, score)| ScoredPair {
                need: self.needs[n as usize].id,
                offer: self.offers[o as usize].id,
                score,
            })
            .collect();
        out.sort_by(|a, b| a.need.cmp(&b.need).then(a.offer.cmp(&b.offer)));
        out
    }

    /// The capacity-aware plan: the assignment of offers to needs, among [`Engine::pairs`],
    /// that maximises the total score with each offer within its remaining capacity and each
    /// need within the partners it wants.
    pub fn plan(&self) -> Plan {
        self.plan_with(|_, _| false, |_| 0, |_| 0)
    }

    /// [`Engine::plan`] around partnerships already under way: pairs for which `decided` holds
    /// are left out (their capacity is in the offer's load already), each need wants
    /// `taken(need)` fewer partners than it asked for, and each offer has `hidden(offer)` fewer
    /// places than its remaining capacity (partnerships the load it scores with leaves out).
    pub fn plan_with(
        &self,
        decided: impl Fn(NeedId, OfferId) -> bool,
        taken: impl Fn(NeedId) -> u32,
        hidden: impl Fn(OfferId) -> u32,
    ) -> Plan {
        let mut pairs = self.pair_slots();
        pairs.retain(|&(n, o, _)| !decided(self.needs[n as usize].id, self.offers[o as usize].id));
        let mut need_index: Vec<u32> = vec![u32::MAX; self.needs.len()];
        let mut offer_index: Vec<u32> = vec![u32::MAX; self.offers.len()];
        let (mut need_slots, mut offer_slots) = (Vec::new(), Vec::new());
        let (mut wanted, mut capacity) = (Vec::new(), Vec::new());
        let mut edges = Vec::with_capacity(pairs.len());
        for &(n, o, score) in &pairs {
            let ni = &mut need_index[n as usize];
            if *ni == u32::MAX {
                *ni = need_slots.len() as u32;
                need_slots.push(n);
                let need = &self.needs[n as usize];
                let asked = need.feats.as_ref().map_or(0, |f| f.partners_wanted);
                wanted.push(asked.saturating_sub(taken(need.id)));
            }
            let oi = &mut offer_index[o as usize];
            if *oi == u32::MAX {
                *oi = offer_slots.len() as u32;
                offer_slots.push(o);
                let remaining = self.offer_hot[o as usize].remaining;
                capacity.push(remaining.saturating_sub(hidden(self.offers[o as usize].id)));
            }
            edges.push(PlanEdge {
                need: *ni,
                offer: *oi,
                profit: (f64::from(score) * SCORE_SCALE).round() as i64,
            });
        }
        let chosen = max_profit_assignment(&wanted, &capacity, &edges);
        let mut assignments: Vec<Assignment> = chosen
            .into_iter()
            .map(|e| {
                let (n, o, score) = pairs[e];
                Assignment {
                    need: self.needs[n as usize].id,
                    offer: self.offers[o as usize].id,
                    score,
                }
            })
            .collect();
        assignments.sort_by(|a, b| a.need.cmp(&b.need).then(a.offer.cmp(&b.offer)));
        let total = assignments.iter().map(|a| f64::from(a.score)).sum();
        Plan {
            assignments,
            total,
            pairs_considered: pairs.len(),
        }
    }

    /// Sizes for metrics.
    pub fn stats(&self) -> Stats {
        let (corpus_docs, _) = self.text.live();
        Stats {
            needs: self.needs.iter().filter(|r| r.status.is_some()).count(),
            needs_open: self.needs.iter().filter(|r| r.active).count(),
            offers: self.offers.iter().filter(|r| r.status.is_some()).count(),
            offers_open: self.offers.iter().filter(|r| r.active).count(),
            offers_paused: self
                .offers
                .iter()
                .filter(|r| r.status == Some(OfferStatus::Paused))
                .count(),
            need_postings: self.need_index.entries(),
            offer_postings: self.offer_index.entries(),
            listed_pairs: self
                .need_lists
                .iter()
                .chain(&self.offer_lists)
                .map(|l| l.entries.len())
                .sum(),
            dismissed_pairs: self.dismissed.len(),
            vocabulary: self.text.vocabulary(),
            corpus_docs,
            snapshot_docs: self.text.snapshot_docs(),
            rebuilds: self.rebuilds,
        }
    }
}
