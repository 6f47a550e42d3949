//! A ranked list of the best partners of one need or offer, kept exact under incremental
//! changes.
//!
//! Invariant: the entries are exactly the best `len` of the entity's eligible partners, in
//! order (score descending, then id ascending), and if `complete` they are all of them. Removing
//! an entry keeps the invariant; a new or rescored partner can enter only when the list is
//! complete or when it beats the last entry (everything not listed ranks below the last one).
//! A list that falls below `top_k` without being complete is recomputed from the indexes.

/// One ranked partner: its score and its slot on the other side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Entry {
    pub score: f32,
    pub slot: u32,
}

/// Whether `a` ranks before `b`: higher score, then lower id (ids of the partners' side).
#[inline]
pub(crate) fn before(a: Entry, b: Entry, ids: &[u128]) -> bool {
    match a.score.total_cmp(&b.score) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => {
            let id = |e: Entry| ids.get(e.slot as usize).copied().unwrap_or(u128::MAX);
            id(a) < id(b)
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TopList {
    pub entries: Vec<Entry>,
    pub complete: bool,
}

impl Default for TopList {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            complete: true,
        }
    }
}

impl TopList {
    /// The score a partner must reach to be worth offering: below it, it cannot enter (and
    /// the caller must [`TopList::pass_over`] it).
    pub fn threshold(&self, keep: usize) -> f32 {
        if self.complete && self.entries.len() < keep {
            f32::NEG_INFINITY
        } else {
            self.entries.last().map_or(f32::INFINITY, |e| e.score)
        }
    }

    /// Records that an eligible partner was not offered because its score is below the
    /// threshold: the list no longer holds every eligible partner.
    pub fn pass_over(&mut self) {
        self.complete = false;
    }

    pub fn position(&self, slot: u32) -> Option<usize> {
        self.entries.iter().position(|e| e.slot == slot)
    }

    /// Removes a partner; true if it was listed.
    pub fn remove(&mut self, slot: u32) -> bool {
        match self.position(slot) {
            Some(i) => {
                self.entries.remove(i);
                true
            }
            None => false,
        }
    }

    /// Offers an eligible partner that is not listed; true if it entered.
    pub fn offer(&mut self, e: Entry, keep: usize, ids: &[u128]) -> bool {
        let room = self.complete && self.entries.len() < keep;
        let enters = room
            || self
                .entries
                .last()
                .is_some_and(|&last| before(e, last, ids));
        if !enters {
            // A full list that was complete now has an eligible partner below it.
            self.complete = false;
            return false;
        }
        let at = self.entries.partition_point(|&x| before(x, e, ids));
        self.entries.insert(at, e);
        if self.entries.len() > keep {
            self.entries.truncate(keep);
            self.complete = false;
        }
        true
    }

    /// Whether the list must be recomputed: not complete and shorter than what is shown.
    pub fn starved(&self, top_k: usize) -> bool {
        !self.complete && self.entries.len() < top_k
    }
}

/// Sorts entries into rank order.
pub(crate) fn sort(entries: &mut [Entry], ids: &[u128]) {
    entries.sort_unstable_by(|&a, &b| {
        b.score.total_cmp(&a.score).then_with(|| {
            let id = |e: Entry| ids.get(e.slot as usize).copied().unwrap_or(u128::MAX);
            id(a).cmp(&id(b))
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(score: f32, slot: u32) -> Entry {
        Entry { score, slot }
    }

    #[test]
    fn a_full_list_drops_its_last_entry_and_becomes_incomplete() {
        let ids: Vec<u128> = (0..10).collect();
        let mut l = TopList::default();
        for (s, slot) in [(0.5, 0), (0.7, 1), (0.6, 2)] {
            assert!(l.offer(e(s, slot), 3, &ids));
        }
        assert!(l.complete);
        assert!(l.offer(e(0.65, 3), 3, &ids));
        assert!(!l.complete);
        let slots: Vec<u32> = l.entries.iter().map(|x| x.slot).collect();
        assert_eq!(slots, [1, 3, 2]);
        assert!(
            !l.offer(e(0.1, 4), 3, &ids),
            "below the last entry of an incomplete list"
        );
        assert!(l.remove(3));
        assert!(
            !l.offer(e(0.55, 5), 3, &ids),
            "may rank below an unlisted partner"
        );
        assert!(l.starved(3));
    }

    #[test]
    fn equal_scores_rank_by_id() {
        let ids: Vec<u128> = vec![30, 10, 20];
        let mut l = TopList::default();
        for slot in 0..3 {
            l.offer(e(0.5, slot), 5, &ids);
        }
        let slots: Vec<u32> = l.entries.iter().map(|x| x.slot).collect();
        assert_eq!(slots, [1, 2, 0]);
    }
}
