//! The plan is optimal and within capacities: against brute force on small instances.

use std::collections::HashSet;

use capmatch_engine::plan::{PlanEdge, max_profit_assignment};
use capmatch_engine::{Engine, MatcherConfig};
use capmatch_eval::synth::{Generator, Profile};
use proptest::prelude::*;

/// The best total over every subset of pairs that respects the bounds.
fn brute_force(wanted: &[u32], capacity: &[u32], edges: &[PlanEdge]) -> i64 {
    let mut best = 0;
    for mask in 0u32..(1 << edges.len()) {
        let mut used_n = vec![0u32; wanted.len()];
        let mut used_o = vec![0u32; capacity.len()];
        let mut total = 0;
        let mut ok = true;
        for (i, e) in edges.iter().enumerate() {
            if mask & (1 << i) != 0 {
                used_n[e.need as usize] += 1;
                used_o[e.offer as usize] += 1;
                total += e.profit;
                ok &= used_n[e.need as usize] <= wanted[e.need as usize]
                    && used_o[e.offer as usize] <= capacity[e.offer as usize];
            }
        }
        if ok {
            best = best.max(total);
        }
    }
    best
}

fn instance() -> impl Strategy<Value = (Vec<u32>, Vec<u32>, Vec<PlanEdge>)> {
    (1usize..5, 1usize..5).prop_flat_map(|(n, m)| {
        let pairs: Vec<(u32, u32)> = (0..n as u32)
            .flat_map(|i| (0..m as u32).map(move |j| (i, j)))
            .collect();
        (
            prop::collection::vec(0u32..4, n),
            prop::collection::vec(0u32..4, m),
            prop::sample::subsequence(pairs.clone(), 0..=pairs.len().min(12)),
            prop::collection::vec(-20i64..100, 12),
        )
            .prop_map(|(wanted, capacity, chosen, profits)| {
                let edges = chosen
                    .into_iter()
                    .zip(profits)
                    .map(|((need, offer), profit)| PlanEdge {
                        need,
                        offer,
                        profit,
                    })
                    .collect();
                (wanted, capacity, edges)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_plan_total_is_the_optimum_and_bounds_hold((wanted, capacity, edges) in instance()) {
        let chosen = max_profit_assignment(&wanted, &capacity, &edges);
        let total: i64 = chosen.iter().map(|&i| edges[i].profit).sum();
        prop_assert_eq!(total, brute_force(&wanted, &capacity, &edges));
        let mut used_n = vec![0u32; wanted.len()];
        let mut used_o = vec![0u32; capacity.len()];
        let mut seen = HashSet::new();
        for &i in &chosen {
            let e = edges[i];
            prop_assert!(seen.insert((e.need, e.offer)), "a pair is assigned once");
            prop_assert!(e.profit > 0, "only pairs that raise the total");
            used_n[e.need as usize] += 1;
            used_o[e.offer as usize] += 1;
        }
        for (u, w) in used_n.iter().zip(&wanted) {
            prop_assert!(u <= w);
        }
        for (u, c) in used_o.iter().zip(&capacity) {
            prop_assert!(u <= c);
        }
    }
}

#[test]
fn the_engine_plan_respects_remaining_capacity_and_partners_wanted() {
    let mut g = Generator::new(3, Profile::Dense);
    let mut e = Engine::new(MatcherConfig::default()).unwrap();
    let needs: Vec<_> = (0..40).map(|_| g.need()).collect();
    let offers: Vec<_> = (0..15).map(|_| g.offer()).collect();
    for n in &needs {
        e.upsert_need(n.clone());
    }
    for o in &offers {
        e.upsert_offer(o.clone());
    }
    e.set_offer_load(offers[0].id, offers[0].details.capacity);
    let plan = e.plan();
    assert!(!plan.assignments.is_empty());
    let pairs: HashSet<_> = e.pairs().iter().map(|p| (p.need, p.offer)).collect();
    for o in &offers {
        let used = plan.assignments.iter().filter(|a| a.offer == o.id).count() as u32;
        let remaining = if o.id == offers[0].id {
            0
        } else {
            o.details.capacity
        };
        assert!(used <= remaining, "{used} <= {remaining}");
    }
    for n in &needs {
        let used = plan.assignments.iter().filter(|a| a.need == n.id).count() as u32;
        assert!(used <= n.details.partners_wanted);
    }
    for a in &plan.assignments {
        assert!(pairs.contains(&(a.need, a.offer)));
    }
    let total: f64 = plan.assignments.iter().map(|a| f64::from(a.score)).sum();
    assert!((total - plan.total).abs() < 1e-9);
}
