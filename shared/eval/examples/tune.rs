//! Tunes the default weights on the labelled evaluation set and prints the figures the README
//! reports: `cargo run --release -p capmatch-eval --example tune`.
//!
//! Prints the figures for the starting weights, the coordinate-ascent steps, the tuned figures
//! and the tuned weights, and a 2-fold cross-validation (tune on one half of the needs, measure
//! on the other) as a check on over-fitting.

use capmatch_engine::{MatcherConfig, Weights};
use capmatch_eval::{EvalSet, evaluate, tune};

/// The weights set by hand before tuning.
fn hand_set() -> MatcherConfig {
    let mut cfg = MatcherConfig::default();
    let w = &mut cfg.weights;
    (
        w.need.language,
        w.need.theme,
        w.need.support,
        w.need.geography,
    ) = (0.20, 0.25, 0.15, 0.10);
    (
        w.need.time,
        w.need.target_groups,
        w.need.text,
        w.need.capacity,
    ) = (0.05, 0.05, 0.15, 0.05);
    (w.offer.language, w.offer.theme, w.offer.geography) = (0.20, 0.40, 0.10);
    (w.offer.time, w.offer.target_groups, w.offer.text) = (0.10, 0.10, 0.20);
    cfg
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let set = EvalSet::bundled()?;
    // Start from the hand-set weights the defaults were tuned from (README, "Matching
    // quality"), or from the current defaults with START=defaults.
    let start = if std::env::var("START").as_deref() == Ok("defaults") {
        MatcherConfig::default()
    } else {
        hand_set()
    };
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    // Baselines: every weight equal, and each component on its own.
    let mut uniform = start.clone();
    for i in 0..Weights::NAMES.len() {
        uniform.weights.set(i, 1.0);
    }
    println!(
        "== uniform weights (every weight 1)\n{}",
        evaluate(&set, &uniform)?
    );
    println!("== ablations: starting weights with one weight set to 0");
    for (i, name) in Weights::NAMES.iter().enumerate() {
        let mut cfg = start.clone();
        cfg.weights.set(i, 0.0);
        if cfg.check().is_err() {
            continue;
        }
        let r = evaluate(&set, &cfg)?;
        println!(
            "  without {name:<20} hit@1 {:.3}  hit@3 {:.3}  MRR {:.3}",
            r.hit_at_1, r.hit_at_3, r.mrr
        );
    }
    println!();
    let tuning = tune(&set, &start, rounds)?;
    println!("== starting weights\n{}", tuning.before);
    println!("== steps");
    for step in &tuning.steps {
        println!("  {step}");
    }
    println!("\n== tuned\n{}", tuning.after);
    println!(
        "tuned weights:\n{}",
        serde_json::to_string_pretty(&tuning.config.weights)?
    );

    println!("\n== 2-fold cross-validation (tune on one half, measure on the other)");
    for fold in 0..2 {
        let (train, test) = set.split(fold, 2);
        let tuned = tune(&train, &start, rounds)?;
        let base = evaluate(&test, &start)?;
        let after = evaluate(&test, &tuned.config)?;
        println!(
            "fold {fold}: held-out hit@1 {:.3} -> {:.3}, hit@3 {:.3} -> {:.3}, MRR {:.3} -> {:.3}, \
             first-choice MRR {:.3} -> {:.3}",
            base.hit_at_1,
            after.hit_at_1,
            base.hit_at_3,
            after.hit_at_3,
            base.mrr,
            after.mrr,
            base.mrr_first_choice,
            after.mrr_first_choice
        );
    }
    Ok(())
}
