//! The capacity-aware plan: which offers to introduce to which needs so that the total score
//! is as high as possible, with each offer within its remaining capacity and each need within
//! the partners it wants.
//!
//! It is a min-cost flow, solved here by successive shortest paths with potentials:
//!
//! - nodes: needs, offers, a sink `t`; arcs: need → offer for each pair (capacity 1, cost
//!   −profit), offer → `t` (capacity: remaining capacity, cost 0), and need → `t` (unbounded,
//!   cost 0) for "this unit of the need stays unassigned";
//! - each unit a need wants is routed in turn along a shortest path from the need to `t`
//!   (Dijkstra on reduced costs, which the potentials keep non-negative; the search stops when
//!   it reaches `t`, and only the nodes it settled get new potentials). The path may reassign
//!   other needs (need → offer ← other need → another offer → `t`);
//! - a unit is routed only if its path's real cost is negative, i.e. if it raises the total.
//!   Maximising the total is not maximising the flow: once the cheapest path costs nothing, the
//!   need's remaining units stay unassigned.
//!
//! Augmenting along a shortest path keeps the residual graph free of negative cycles, whichever
//! need the path starts from, so the flow stays the cheapest for what it routes, and the final
//! one is optimal. Profits are integers (scores × [`SCORE_SCALE`]), so there is no float
//! drift; pairs with a profit of zero or less are never worth assigning and are left out.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use capmatch_domain::ids::{NeedId, OfferId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Scores become integer profits at this scale (six decimals).
pub const SCORE_SCALE: f64 = 1_000_000.0;

/// A pair the plan may assign: indices into the `wanted` and `capacity` slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanEdge {
    pub need: u32,
    pub offer: u32,
    pub profit: i64,
}

/// One introduction the plan proposes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    pub need: NeedId,
    pub offer: OfferId,
    pub score: f32,
}

/// The plan: assignments sorted by need then offer, and their total score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Plan {
    pub assignments: Vec<Assignment>,
    pub total: f64,
    /// Pairs the plan chose among.
    pub pairs_considered: usize,
}

#[derive(Debug, Clone, Copy)]
struct Arc {
    to: u32,
    cap: i64,
    cost: i64,
}

/// The assignment maximising the total profit: indices into `edges` of the chosen pairs.
///
/// Need `i` is assigned at most `wanted[i]` pairs, offer `j` at most `capacity[j]`, and each
/// pair at most once (a pair listed twice counts once, at its larger profit).
pub fn max_profit_assignment(wanted: &[u32], capacity: &[u32], edges: &[PlanEdge]) -> Vec<usize> {
    let needs = wanted.len();
    let offers = capacity.len();
    let sink = needs + offers;
    let nodes = sink + 1;

    // Best edge per pair, among those that can matter.
    let mut best: HashMap<(u32, u32), usize> = HashMap::new();
    for (i, e) in edges.iter().enumerate() {
        let (n, o) = (e.need as usize, e.offer as usize);
        if n >= needs || o >= offers || e.profit <= 0 || wanted[n] == 0 || capacity[o] == 0 {
            continue;
        }
        best.entry((e.need, e.offer))
            .and_modify(|b| {
                if edges[*b].profit < e.profit {
                    *b = i;
                }
            })
            .or_insert(i);
    }
    let mut pairs: Vec<usize> = best.into_values().collect();
    pairs.sort_unstable();

    let mut arcs: Vec<Arc> = Vec::with_capacity(2 * (pairs.len() + needs + offers));
    let mut tail: Vec<u32> = Vec::with_capacity(arcs.capacity());
    let mut add = |arcs: &mut Vec<Arc>, from: usize, to: usize, cap: i64, cost: i64| {
        arcs.push(Arc {
            to: to as u32,
            cap,
            cost,
        });
        tail.push(from as u32);
        arcs.push(Arc {
            to: from as u32,
            cap: 0,
            cost: -cost,
        });
        tail.push(to as u32);
    };
    for &e in &pairs {
        let edge = edges[e];
        add(
            &mut arcs,
            edge.need as usize,
            needs + edge.offer as usize,
            1,
            -edge.profit,
        );
    }
    let pair_arcs = arcs.len();
    for (o, &c) in capacity.iter().enumerate() {
        if c > 0 {
            add(&mut arcs, needs + o, sink, i64::from(c), 0);
        }
    }
    for (n, &w) in wanted.iter().enumerate() {
        if w > 0 {
            add(&mut arcs, n, sink, i64::MAX / 4, 0);
        }
    }

    // Adjacency in compressed rows.
    let mut start = vec![0usize; nodes + 1];
    for &t in &tail {
        start[t as usize + 1] += 1;
    }
    for i in 0..nodes {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut adj = vec![0u32; arcs.len()];
    for (a, &t) in tail.iter().enumerate() {
        adj[fill[t as usize]] = a as u32;
        fill[t as usize] += 1;
    }

    // Feasible potentials: every pair arc and every arc into the sink has reduced cost >= 0.
    let mut pot = vec![0i64; nodes];
    for &e in &pairs {
        let edge = edges[e];
        let p = &mut pot[needs + edge.offer as usize];
        *p = (*p).min(-edge.profit);
    }
    pot[sink] = pot[needs..sink].iter().copied().min().unwrap_or(0).min(0);

    let mut search = Search::new(nodes);
    for (n, &w) in wanted.iter().enumerate() {
        for _ in 0..w {
            let Some(reached) = search.run(n, sink, &arcs, &adj, &start, &pot) else {
                break;
            };
            // The real cost of the path: reduced distance corrected by the potentials.
            let real = reached - pot[n] + pot[sink];
            if real >= 0 {
                break;
            }
            for &v in &search.popped {
                pot[v as usize] += search.dist[v as usize] - reached;
            }
            let mut v = sink;
            while v != n {
                let a = search.prev[v] as usize;
                arcs[a].cap -= 1;
                arcs[a ^ 1].cap += 1;
                v = tail[a] as usize;
            }
        }
    }

    let mut chosen: Vec<usize> = (0..pair_arcs)
        .step_by(2)
        .filter(|&a| arcs[a].cap == 0)
        .map(|a| pairs[a / 2])
        .collect();
    chosen.sort_unstable();
    chosen
}

/// Dijkstra on reduced costs, stopped at the target, with per-search stamps so a search costs
/// only what it touches.
struct Search {
    dist: Vec<i64>,
    prev: Vec<u32>,
    seen: Vec<u32>,
    done: Vec<u32>,
    epoch: u32,
    heap: BinaryHeap<Reverse<(i64, u32)>>,
    popped: Vec<u32>,
}

impl Search {
    fn new(nodes: usize) -> Self {
        Self {
            dist: vec![0; nodes],
            prev: vec![0; nodes],
            seen: vec![0; nodes],
            done: vec![0; nodes],
            epoch: 0,
            heap: BinaryHeap::new(),
            popped: Vec::new(),
        }
    }

    /// The reduced distance from `source` to `target`, leaving the settled nodes in `popped`
    /// and the path in `prev`.
    fn run(
        &mut self,
        source: usize,
        target: usize,
        arcs: &[Arc],
        adj: &[u32],
        start: &[usize],
        pot: &[i64],
    ) -> Option<i64> {
        self.epoch += 1;
        let epoch = self.epoch;
        self.heap.clear();
        self.popped.clear();
        self.dist[source] = 0;
        self.seen[source] = epoch;
        self.heap.push(Reverse((0, source as u32)));
        while let Some(Reverse((d, v))) = self.heap.pop() {
            let v = v as usize;
            if self.done[v] == epoch || d > self.dist[v] {
                continue;
            }
            self.done[v] = epoch;
            self.popped.push(v as u32);
            if v == target {
                return Some(d);
            }
            for &a in &adj[start[v]..start[v + 1]] {
                let arc = arcs[a as usize];
                if arc.cap <= 0 {
                    continue;
                }
                let w = arc.to as usize;
                if self.done[w] == epoch {
                    continue;
                }
                let reduced = arc.cost + pot[v] - pot[w];
                debug_assert!(reduced >= 0, "potentials keep reduced costs non-negative");
                let nd = d + reduced.max(0);
                if self.seen[w] != epoch || nd < self.dist[w] {
                    self.seen[w] = epoch;
                    self.dist[w] = nd;
                    self.prev[w] = a;
                    self.heap.push(Reverse((nd, w as u32)));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(need: u32, offer: u32, profit: i64) -> PlanEdge {
        PlanEdge {
            need,
            offer,
            profit,
        }
    }

    #[test]
    fn a_reassignment_beats_the_greedy_choice() {
        // Greedy gives offer 0 to need 0 (10) and leaves need 1 with nothing (total 10);
        // the optimum is need 0 → offer 1 (8) and need 1 → offer 0 (9): 17.
        let edges = [e(0, 0, 10), e(0, 1, 8), e(1, 0, 9)];
        let chosen = max_profit_assignment(&[1, 1], &[1, 1], &edges);
        assert_eq!(chosen, [1, 2]);
    }

    #[test]
    fn unprofitable_pairs_stay_unassigned() {
        let edges = [e(0, 0, -5), e(0, 1, 0), e(1, 1, 3)];
        let chosen = max_profit_assignment(&[2, 1], &[5, 5], &edges);
        assert_eq!(chosen, [2]);
    }

    #[test]
    fn capacity_bounds_an_offer() {
        let edges = [e(0, 0, 5), e(1, 0, 6), e(2, 0, 7)];
        let chosen = max_profit_assignment(&[1, 1, 1], &[2], &edges);
        assert_eq!(chosen, [1, 2]);
    }
}
