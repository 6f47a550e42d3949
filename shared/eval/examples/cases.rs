//! Scores the matcher on a file of real cases ([`CaseFile`]) in process:
//! `cargo run --release -p capmatch-eval --example cases -- FILE [--detail]`.
//!
//! Prints hit@1, hit@3 and MRR with related offers counted as misses (as a coordinator reading
//! the list would count them) and left out of the ranking; with `--detail`, each need whose
//! true offer is not first, with the concepts its text shows and the offers above the true one.

use capmatch_engine::Engine;
use capmatch_engine::MatcherConfig;
use capmatch_engine::concepts::Thesaurus;
use capmatch_eval::{CaseFile, EvalSet, evaluate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: cases FILE [--detail] (a real-cases JSON file)")?;
    let detail = std::env::args().any(|a| a == "--detail");
    let mut config = MatcherConfig::default();
    // Weights to try, as `need.concepts=0.3`.
    for arg in std::env::args().skip(2).filter(|a| a.contains('=')) {
        let (name, value) = arg.split_once('=').ok_or("name=value")?;
        let i = capmatch_engine::Weights::NAMES
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| format!("no weight {name}"))?;
        config.weights.set(i, value.parse()?);
    }
    let cases = CaseFile::from_json(&std::fs::read_to_string(&path)?)?;
    let set = cases.to_eval_set()?;
    let mut strict = set.clone();
    strict.needs.iter_mut().for_each(|n| n.related.clear());
    let report = evaluate(&strict, &config)?;
    println!("related offers counted as misses: {report}");
    let lenient = evaluate(&set, &config)?;
    println!(
        "related offers left out: hit@1 {:.3}  hit@3 {:.3}  MRR {:.3}",
        lenient.hit_at_1, lenient.hit_at_3, lenient.mrr
    );
    if detail {
        details(&strict, &config)?;
    }
    Ok(())
}

fn details(set: &EvalSet, config: &MatcherConfig) -> Result<(), Box<dyn std::error::Error>> {
    let t = Thesaurus::bundled();
    let about = |title: &str, text: &str| -> String {
        let mut ids: Vec<String> = t
            .about(&format!("{title}. {text}"))
            .iter()
            .map(|c| c.id.clone())
            .collect();
        ids.dedup();
        ids.join(", ")
    };
    let depth = set.offers.len();
    let mut builder = Engine::builder(MatcherConfig {
        top_k: depth,
        keep: depth,
        ..config.clone()
    })?;
    set.need_states().into_iter().for_each(|n| {
        builder.need(n);
    });
    set.offer_states().into_iter().for_each(|o| {
        builder.offer(o);
    });
    let engine = builder.build();
    for need in &set.needs {
        let list = engine.suggestions_for_need(EvalSet::need_id(&need.key), depth)?;
        let key = |id| {
            set.offers
                .iter()
                .find(|o| EvalSet::offer_id(&o.key) == id)
                .map(|o| o.key.as_str())
                .unwrap_or("?")
        };
        let rank = list
            .iter()
            .position(|s| need.relevant.iter().any(|r| r == key(s.offer)));
        if rank == Some(0) {
            continue;
        }
        println!(
            "\n== {} ({}): {}",
            need.key,
            need.country.as_str(),
            about(&need.title, &need.description)
        );
        for (i, s) in list.iter().enumerate().take(rank.map_or(3, |r| r + 1)) {
            let o = set
                .offers
                .iter()
                .find(|o| o.key == key(s.offer))
                .ok_or("offer")?;
            let c = &s.components;
            println!(
                "  {}{:<28} {:.3} (need {:.3} offer {:.3}) lang {:.2} theme {:.2}/{:.2} sup {:.2} geo {:.2} text {:.2}  [{}]",
                if need.relevant.contains(&o.key) {
                    "*"
                } else {
                    " "
                },
                o.key,
                s.score,
                s.need_fit,
                s.offer_fit,
                c.language,
                c.theme,
                c.theme_offer,
                c.support,
                c.geography,
                c.text,
                about(&o.title, &o.description)
            );
            let _ = i;
        }
    }
    Ok(())
}
