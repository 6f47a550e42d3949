//! The labelled evaluation set: prints hit@1, hit@3 and MRR with the default weights, and
//! checks only that the figures are sane (thresholds live in the README, not here).

use capmatch_engine::MatcherConfig;
use capmatch_eval::{EvalSet, evaluate};

#[test]
fn the_evaluation_set_loads_and_every_label_names_a_known_offer() {
    let set = EvalSet::bundled().unwrap();
    assert!(set.needs.len() >= 30 && set.offers.len() >= 40);
    for need in &set.needs {
        assert!(!need.relevant.is_empty(), "{} has labels", need.key);
        for key in &need.relevant {
            assert!(set.offers.iter().any(|o| &o.key == key), "{key} exists");
        }
    }
}

#[test]
fn default_weights_rank_the_labelled_offers_high() {
    let set = EvalSet::bundled().unwrap();
    let report = evaluate(&set, &MatcherConfig::default()).unwrap();
    println!("{report}");
    assert!(report.hit_at_1 <= report.hit_at_3);
    // Far above chance (about 1 in 60 for hit@1).
    assert!(report.mrr > 0.3, "MRR {}", report.mrr);
}
