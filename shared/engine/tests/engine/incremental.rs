//! Incremental maintenance gives exactly what a rebuild from zero gives, and what a scan of
//! every offer gives: property tests over random sequences of changes.

use std::collections::{BTreeMap, BTreeSet};

use capmatch_domain::ids::{NeedId, OfferId};
use capmatch_domain::need::{NeedState, NeedStatus};
use capmatch_domain::offer::{OfferState, OfferStatus};
use capmatch_engine::{Change, Engine, MatcherConfig, Outcome, ScanMode, Suggestion};
use capmatch_eval::synth::{Generator, Profile};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    ReviseNeed(usize),
    NeedStatus(usize, u8),
    ReviseOffer(usize),
    OfferStatus(usize, u8),
    Dismiss(usize, usize, bool),
    Load(usize, u32),
    /// The offer's experience of needs: (need, outcome 0 completed, 1 shortlisted, 2 dismissed).
    Experience(usize, Vec<(usize, u8)>),
    Refresh,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..10).prop_map(Op::ReviseNeed),
        2 => (0usize..10, 0u8..3).prop_map(|(i, s)| Op::NeedStatus(i, s)),
        4 => (0usize..10).prop_map(Op::ReviseOffer),
        2 => (0usize..10, 0u8..3).prop_map(|(i, s)| Op::OfferStatus(i, s)),
        2 => (0usize..10, 0usize..10, any::<bool>()).prop_map(|(n, o, d)| Op::Dismiss(n, o, d)),
        1 => (0usize..10, 0u32..4).prop_map(|(o, l)| Op::Load(o, l)),
        2 => (0usize..10, prop::collection::vec((0usize..10, 0u8..3), 0..4))
            .prop_map(|(o, cases)| Op::Experience(o, cases)),
        1 => Just(Op::Refresh),
    ]
}

fn view(list: Vec<Suggestion>) -> Vec<(NeedId, OfferId, u32)> {
    list.into_iter()
        .map(|s| (s.need, s.offer, s.score.to_bits()))
        .collect()
}

/// Applies the operations to an engine built empty, tracking the final state of everything.
struct World {
    generator: Generator,
    needs: Vec<Option<NeedState>>,
    offers: Vec<Option<OfferState>>,
    dismissed: BTreeSet<(usize, usize)>,
    loads: BTreeMap<usize, u32>,
    experience: BTreeMap<usize, Vec<(usize, u8)>>,
}

const OUTCOMES: [Outcome; 3] = [Outcome::Completed, Outcome::Shortlisted, Outcome::Dismissed];

impl World {
    fn need(&mut self, i: usize) -> NeedState {
        let fresh = self.generator.need();
        match &self.needs[i] {
            Some(old) => NeedState {
                id: old.id,
                country: old.country,
                version: old.version + 1,
                status: old.status,
                ..fresh
            },
            None => fresh,
        }
    }

    fn offer(&mut self, i: usize) -> OfferState {
        let fresh = self.generator.offer();
        match &self.offers[i] {
            Some(old) => OfferState {
                id: old.id,
                version: old.version + 1,
                status: old.status,
                ..fresh
            },
            None => fresh,
        }
    }

    fn ensure_need(&mut self, e: &mut Engine, i: usize) -> NeedState {
        if self.needs[i].is_none() {
            let n = self.need(i);
            assert_eq!(e.upsert_need(n.clone()), Change::Inserted);
            self.needs[i] = Some(n);
        }
        self.needs[i].clone().unwrap()
    }

    fn ensure_offer(&mut self, e: &mut Engine, i: usize) -> OfferState {
        if self.offers[i].is_none() {
            let o = self.offer(i);
            assert_eq!(e.upsert_offer(o.clone()), Change::Inserted);
            self.offers[i] = Some(o);
        }
        self.offers[i].clone().unwrap()
    }

    /// The offer's experience as the engine takes it.
    fn cases(&self, o: usize) -> Vec<(NeedId, Outcome)> {
        self.experience
            .get(&o)
            .into_iter()
            .flatten()
            .filter_map(|&(n, k)| Some((self.needs[n].as_ref()?.id, OUTCOMES[usize::from(k)])))
            .collect()
    }

    /// After need `i` changed: the experience naming it is recorded again, as the service
    /// does.
    fn reexperience(&self, e: &mut Engine, i: usize) {
        for (&o, cases) in &self.experience {
            if cases.iter().any(|&(n, _)| n == i) {
                e.set_offer_experience(self.offers[o].as_ref().unwrap().id, &self.cases(o));
            }
        }
    }

    fn apply(&mut self, e: &mut Engine, op: &Op) {
        match op {
            Op::ReviseNeed(i) => {
                let i = *i;
                let n = self.need(i);
                e.upsert_need(n.clone());
                self.needs[i] = Some(n);
                self.reexperience(e, i);
            }
            Op::Experience(o, cases) => {
                for &(n, _) in cases {
                    self.ensure_need(e, n);
                }
                let offer = self.ensure_offer(e, *o);
                self.experience.insert(*o, cases.clone());
                e.set_offer_experience(offer.id, &self.cases(*o));
            }
            Op::NeedStatus(i, s) => {
                let (i, s) = (*i, *s);
                let mut n = self.ensure_need(e, i);
                n.status = [
                    NeedStatus::Open,
                    NeedStatus::Fulfilled,
                    NeedStatus::Withdrawn,
                ][s as usize];
                n.version += 1;
                e.upsert_need(n.clone());
                self.needs[i] = Some(n);
                self.reexperience(e, i);
            }
            Op::ReviseOffer(i) => {
                let i = *i;
                let o = self.offer(i);
                e.upsert_offer(o.clone());
                self.offers[i] = Some(o);
            }
            Op::OfferStatus(i, s) => {
                let (i, s) = (*i, *s);
                let mut o = self.ensure_offer(e, i);
                o.status = [
                    OfferStatus::Open,
                    OfferStatus::Paused,
                    OfferStatus::Withdrawn,
                ][s as usize];
                o.version += 1;
                e.upsert_offer(o.clone());
                self.offers[i] = Some(o);
            }
            Op::Dismiss(n, o, d) => {
                let (n, o, d) = (*n, *o, *d);
                let need = self.ensure_need(e, n);
                let offer = self.ensure_offer(e, o);
                e.set_dismissed(need.id, offer.id, d);
                if d {
                    self.dismissed.insert((n, o));
                } else {
                    self.dismissed.remove(&(n, o));
                }
            }
            Op::Load(o, l) => {
                let (o, l) = (*o, *l);
                let offer = self.ensure_offer(e, o);
                e.set_offer_load(offer.id, l);
                self.loads.insert(o, l);
            }
            Op::Refresh => e.refresh_text_stats(),
        }
    }
}

fn config(top_k: usize, slack: usize, refresh: bool) -> MatcherConfig {
    let mut cfg = MatcherConfig {
        top_k,
        keep: top_k + slack,
        ..MatcherConfig::default()
    };
    cfg.text.refresh_ratio = refresh.then_some(0.5);
    cfg
}

fn assert_same(a: &Engine, b: &Engine, world: &World, k: usize) {
    for n in world.needs.iter().flatten() {
        let got = view(a.suggestions_for_need(n.id, k).unwrap());
        assert_eq!(
            got,
            view(b.suggestions_for_need(n.id, k).unwrap()),
            "need {}",
            n.id
        );
        let scan: Vec<(NeedId, OfferId, u32)> = a
            .scan_need(n.id, k, ScanMode::Full)
            .unwrap()
            .into_iter()
            .map(|p| (p.need, p.offer, p.score.to_bits()))
            .collect();
        let expected = if n.status == NeedStatus::Open {
            scan
        } else {
            Vec::new()
        };
        assert_eq!(got, expected, "need {} against the scan", n.id);
    }
    for o in world.offers.iter().flatten() {
        let got = view(a.suggestions_for_offer(o.id, k).unwrap());
        assert_eq!(
            got,
            view(b.suggestions_for_offer(o.id, k).unwrap()),
            "offer {}",
            o.id
        );
    }
    assert_eq!(a.pairs(), b.pairs());
    assert_eq!(a.plan(), b.plan());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn incremental_updates_equal_a_rebuild_from_zero(
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 1..80),
        top_k in 1usize..4,
        slack in 0usize..3,
        refresh in any::<bool>(),
    ) {
        let cfg = config(top_k, slack, refresh);
        let mut a = Engine::new(cfg.clone()).unwrap();
        let mut world = World {
            generator: Generator::new(seed, Profile::Dense),
            needs: vec![None; 10],
            offers: vec![None; 10],
            dismissed: BTreeSet::new(),
            loads: BTreeMap::new(),
            experience: BTreeMap::new(),
        };
        for i in 0..10 {
            world.ensure_need(&mut a, i);
            world.ensure_offer(&mut a, i);
        }
        for op in &ops {
            world.apply(&mut a, op);
        }

        // The same final states, loaded at once, scored with the same text statistics.
        let mut b = Engine::builder(cfg.clone()).unwrap();
        for n in world.needs.iter().flatten() {
            b.need(n.clone());
        }
        for o in world.offers.iter().flatten() {
            b.offer(o.clone());
        }
        for &(n, o) in &world.dismissed {
            let (need, offer) = (world.needs[n].as_ref().unwrap(), world.offers[o].as_ref().unwrap());
            b.dismissed(need.id, offer.id);
        }
        for (&o, &l) in &world.loads {
            b.offer_load(world.offers[o].as_ref().unwrap().id, l);
        }
        for &o in world.experience.keys() {
            b.offer_experience(world.offers[o].as_ref().unwrap().id, &world.cases(o));
        }
        b.text_stats(a.text_stats());
        let b = b.build();
        assert_same(&a, &b, &world, top_k);

        // And after a fresh snapshot on both sides, each from its own corpus.
        a.refresh_text_stats();
        let mut c = Engine::builder(cfg).unwrap();
        for n in world.needs.iter().flatten() {
            c.need(n.clone());
        }
        for o in world.offers.iter().flatten() {
            c.offer(o.clone());
        }
        for &(n, o) in &world.dismissed {
            let (need, offer) = (world.needs[n].as_ref().unwrap(), world.offers[o].as_ref().unwrap());
            c.dismissed(need.id, offer.id);
        }
        for (&o, &l) in &world.loads {
            c.offer_load(world.offers[o].as_ref().unwrap().id, l);
        }
        for &o in world.experience.keys() {
            c.offer_experience(world.offers[o].as_ref().unwrap().id, &world.cases(o));
        }
        let c = c.build();
        prop_assert_eq!(a.text_stats(), c.text_stats());
        assert_same(&a, &c, &world, top_k);
    }
}

#[test]
fn a_revision_that_changes_nothing_the_matcher_uses_costs_nothing() {
    let mut g = Generator::new(7, Profile::Dense);
    let mut e = Engine::new(MatcherConfig::default()).unwrap();
    let mut n = g.need();
    e.upsert_need(n.clone());
    n.version += 1;
    n.details.budget_note = Some("co-funding possible".into());
    assert_eq!(e.upsert_need(n.clone()), Change::Unchanged);
    n.version -= 1;
    assert_eq!(e.upsert_need(n), Change::Stale);
}

#[test]
fn stats_count_what_is_held() {
    let mut g = Generator::new(11, Profile::Dense);
    let mut e = Engine::new(MatcherConfig::default()).unwrap();
    for _ in 0..5 {
        e.upsert_need(g.need());
        e.upsert_offer(g.offer());
    }
    let mut o = g.offer();
    o.status = OfferStatus::Paused;
    e.upsert_offer(o);
    let s = e.stats();
    assert_eq!(
        (
            s.needs,
            s.needs_open,
            s.offers,
            s.offers_open,
            s.offers_paused
        ),
        (5, 5, 6, 5, 1)
    );
    assert_eq!(s.corpus_docs, 10);
    assert!(s.need_postings >= 5 && s.offer_postings >= 5);
}
