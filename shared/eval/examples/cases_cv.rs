//! Fits the few real-case parameters ([`REAL_CASE_KNOBS`]) on a case file and measures them
//! honestly: `cargo run --release -p capmatch-eval --example cases_cv -- FILE`.
//!
//! Prints the defaults' figures, the in-sample figures of the parameters fitted on every need
//! (what not to quote), and the leave-one-out figures: each need ranked by the parameters
//! fitted on the others.

use capmatch_engine::MatcherConfig;
use capmatch_eval::{CaseFile, REAL_CASE_KNOBS, cross_validate, evaluate, tune_knobs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: cases_cv FILE")?;
    let mut set = CaseFile::from_json(&std::fs::read_to_string(&path)?)?.to_eval_set()?;
    // As a coordinator reads the list: related offers take places like any other.
    set.needs.iter_mut().for_each(|n| n.related.clear());
    let start = MatcherConfig::default();
    println!("defaults: {}", evaluate(&set, &start)?);
    let fitted = tune_knobs(&set, &start, &REAL_CASE_KNOBS, 4)?;
    println!(
        "fitted on every need (in-sample, not to quote): {}",
        fitted.after
    );
    for step in &fitted.steps {
        println!("  {step}");
    }
    let (held_out, chosen) = cross_validate(&set, &start, &REAL_CASE_KNOBS, 4, false)?;
    println!("leave-one-out: {held_out}");
    let (with_history, _) = cross_validate(&set, &start, &REAL_CASE_KNOBS, 4, true)?;
    println!(
        "leave-one-out, the other needs' picks as completed partnerships (track record): \
         hit@1 {:.3}  hit@3 {:.3}  MRR {:.3}",
        with_history.hit_at_1, with_history.hit_at_3, with_history.mrr
    );
    let names: Vec<&str> = REAL_CASE_KNOBS.iter().map(|k| k.name).collect();
    println!("values chosen per fold ({}):", names.join(", "));
    for values in chosen {
        println!("  {values:?}");
    }
    Ok(())
}
