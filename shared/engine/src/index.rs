//! The candidate indexes: for each (theme, area) the open offers, and for each (theme, country)
//! the open needs, each entry carrying a copy of the entity's scoring features.
//!
//! An offer is filed under each of its themes × each area of its coverage (a country or an M49
//! region); a need under each of its themes × its country. The offers that share a theme with a
//! need and cover its country are exactly those filed under (one of the need's themes, one of
//! the areas containing its country: the country, its intermediate region, sub-region, region
//! and the world); the needs an offer can serve are those filed under (one of its themes, a
//! country inside one of its areas). Candidates come from at most `themes × 5` lists for a need,
//! never from a scan of every pair. Languages act as a bitset filter on what the lists yield.
//!
//! Entries hold the features themselves (a "card": flags, bitsets, window, text signature), so
//! scoring a need's candidates reads its lists front to back instead of jumping around memory;
//! a change to an entity replaces its cards.

use crate::features::{NeedHot, OfferHot};
use crate::text::Sig;

/// What the scorer needs of an offer, stored in the index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OfferCard {
    pub hot: OfferHot,
    pub sig: Sig,
}

/// What the scorer needs of a need, stored in the index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NeedCard {
    pub hot: NeedHot,
    pub sig: Sig,
}

/// Posting lists keyed by (theme id, geo id): slots, and a card per slot.
#[derive(Debug)]
pub(crate) struct Postings<C> {
    slots: Vec<Vec<u32>>,
    cards: Vec<Vec<C>>,
    geos: usize,
    entries: usize,
}

impl<C: Copy> Postings<C> {
    pub fn new(themes: usize, geos: usize) -> Self {
        Self {
            slots: vec![Vec::new(); themes * geos],
            cards: (0..themes * geos).map(|_| Vec::new()).collect(),
            geos,
            entries: 0,
        }
    }

    fn at(&self, theme: usize, geo: u16) -> usize {
        theme * self.geos + usize::from(geo)
    }

    /// The slots and cards filed under (theme, geo), position for position.
    pub fn list(&self, theme: usize, geo: u16) -> (&[u32], &[C]) {
        let at = self.at(theme, geo);
        match (self.slots.get(at), self.cards.get(at)) {
            (Some(s), Some(c)) => (s, c),
            _ => (&[], &[]),
        }
    }

    pub fn insert(&mut self, theme: usize, geo: u16, slot: u32, card: C) {
        let at = self.at(theme, geo);
        if let (Some(s), Some(c)) = (self.slots.get_mut(at), self.cards.get_mut(at)) {
            s.push(slot);
            c.push(card);
            self.entries += 1;
        }
    }

    pub fn remove(&mut self, theme: usize, geo: u16, slot: u32) {
        let at = self.at(theme, geo);
        if let (Some(s), Some(c)) = (self.slots.get_mut(at), self.cards.get_mut(at))
            && let Some(i) = s.iter().rposition(|&x| x == slot)
        {
            s.swap_remove(i);
            c.swap_remove(i);
            self.entries -= 1;
        }
    }

    pub fn clear(&mut self) {
        self.slots.iter_mut().for_each(Vec::clear);
        self.cards.iter_mut().for_each(Vec::clear);
        self.entries = 0;
    }

    /// Entries over all lists.
    pub fn entries(&self) -> usize {
        self.entries
    }
}

/// The set bits of a theme mask, as theme ids.
pub(crate) fn theme_ids(mask: u32) -> impl Iterator<Item = usize> {
    (0..32).filter(move |i| mask & (1 << i) != 0)
}
