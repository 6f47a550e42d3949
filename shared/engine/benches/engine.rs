//! `cargo bench -p capmatch-engine`: the engine at scale, in one run.
//!
//! Prints hit@1, hit@3 and MRR on the labelled evaluation set, then, for a seeded realistic
//! corpus: the initial build of 100k needs × 100k offers; the
//! latency (p50, p99) of adding one need beside a brute-force rescoring of every offer for it,
//! their ratio, and a check that both give the same top 10; the same for adding one offer
//! (for information); the plan over 5k needs × 5k offers; and peak memory. It asserts nothing
//! about time.
//!
//! Sizes: `CAPMATCH_BENCH_NEEDS`, `CAPMATCH_BENCH_OFFERS` (100000 each), `CAPMATCH_BENCH_PROBES`
//! (500), `CAPMATCH_BENCH_PLAN` (5000).

use std::time::{Duration, Instant};

use capmatch_engine::{Engine, EngineError, MatcherConfig, ScanMode};
use capmatch_eval::synth::{Generator, Profile};
use capmatch_eval::{EvalSet, evaluate};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// VmHWM and VmRSS from /proc/self/status, in MiB (Linux only).
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> Result<(), EngineError> {
    let needs = env("CAPMATCH_BENCH_NEEDS", 100_000);
    let offers = env("CAPMATCH_BENCH_OFFERS", 100_000);
    let probes = env("CAPMATCH_BENCH_PROBES", 500).max(1);
    let plan_size = env("CAPMATCH_BENCH_PLAN", 5_000);
    let config = MatcherConfig::default();
    println!(
        "capmatch-engine benchmark (seeded realistic corpus, top_k {}, keep {})",
        config.top_k, config.keep
    );

    // ---------------------------------------------------------------------------------------
    println!("\n== matching quality on the labelled evaluation set (data/eval.json)");
    match EvalSet::bundled() {
        Ok(set) => print!("{}", evaluate(&set, &config)?),
        Err(e) => println!("evaluation set unreadable: {e}"),
    }

    // ---------------------------------------------------------------------------------------
    println!("\n== initial build: {needs} needs x {offers} offers");
    let mut generator = Generator::new(42, Profile::Realistic);
    let start = Instant::now();
    let mut builder = Engine::builder(config.clone())?;
    for _ in 0..offers {
        builder.offer(generator.offer());
    }
    for _ in 0..needs {
        builder.need(generator.need());
    }
    let loaded = start.elapsed();
    let mut engine = builder.build();
    let built = start.elapsed();
    let stats = engine.stats();
    println!(
        "load (generate + convert + index) {:.2} s, score every list {:.2} s, total {:.2} s",
        loaded.as_secs_f64(),
        (built - loaded).as_secs_f64(),
        built.as_secs_f64()
    );
    println!(
        "index entries: needs {}, offers {}; kept list entries {}; vocabulary {}",
        stats.need_postings, stats.offer_postings, stats.listed_pairs, stats.vocabulary
    );
    let (hwm, rss) = memory();
    println!("memory after build: VmHWM {hwm:.0} MiB, VmRSS {rss:.0} MiB");

    // ---------------------------------------------------------------------------------------
    println!("\n== one new need against {offers} offers ({probes} probes)");
    // The new needs arrive one after another, as from the feed; each is then checked against
    // a brute-force rescoring of every offer.
    let fresh: Vec<_> = (0..probes).map(|_| generator.need()).collect();
    let mut incremental = Vec::with_capacity(probes);
    for need in &fresh {
        let need = need.clone();
        let t = Instant::now();
        engine.upsert_need(need);
        incremental.push(t.elapsed());
    }
    let mut brute = Vec::with_capacity(probes);
    let mut rules_first = Vec::with_capacity(probes);
    let mut same = 0;
    let mut candidates = 0usize;
    let mut slowest = (Duration::ZERO, 0usize);
    for (need, &took) in fresh.iter().zip(&incremental) {
        let id = need.id;
        let top: Vec<_> = engine
            .suggestions_for_need(id, 10)?
            .into_iter()
            .map(|s| (s.offer, s.score.to_bits()))
            .collect();
        let t = Instant::now();
        let scan = engine.scan_need(id, 10, ScanMode::Full)?;
        brute.push(t.elapsed());
        let t = Instant::now();
        let scan_rules = engine.scan_need(id, usize::MAX, ScanMode::RulesFirst)?;
        rules_first.push(t.elapsed());
        candidates += scan_rules.len();
        if took > slowest.0 {
            slowest = (took, scan_rules.len());
        }
        let expected: Vec<_> = scan.iter().map(|p| (p.offer, p.score.to_bits())).collect();
        if top == expected {
            same += 1;
        }
    }
    for v in [&mut incremental, &mut brute, &mut rules_first] {
        v.sort();
    }
    let (i50, i99) = (
        percentile(&incremental, 0.5),
        percentile(&incremental, 0.99),
    );
    let (b50, b99) = (percentile(&brute, 0.5), percentile(&brute, 0.99));
    let (r50, r99) = (
        percentile(&rules_first, 0.5),
        percentile(&rules_first, 0.99),
    );
    println!(
        "eligible offers per new need: {:.0} on average",
        candidates as f64 / probes as f64
    );
    println!(
        "incremental upsert_need:        p50 {:7.3} ms   p99 {:7.3} ms   (slowest {:.3} ms, {} eligible offers)",
        ms(i50),
        ms(i99),
        ms(slowest.0),
        slowest.1
    );
    println!(
        "brute force, every offer scored: p50 {:7.3} ms   p99 {:7.3} ms   ratio p50 {:.0}x, p99 {:.0}x",
        ms(b50),
        ms(b99),
        b50.as_secs_f64() / i50.as_secs_f64(),
        b99.as_secs_f64() / i99.as_secs_f64()
    );
    println!(
        "scan with rules first:           p50 {:7.3} ms   p99 {:7.3} ms   ratio p50 {:.1}x, p99 {:.1}x",
        ms(r50),
        ms(r99),
        r50.as_secs_f64() / i50.as_secs_f64(),
        r99.as_secs_f64() / i99.as_secs_f64()
    );
    println!("same top 10 as the brute force: {same} of {probes}");

    // ---------------------------------------------------------------------------------------
    println!(
        "\n== one new offer against {} needs ({probes} probes)",
        needs + probes
    );
    let mut offer_times = Vec::with_capacity(probes);
    for _ in 0..probes {
        let offer = generator.offer();
        let t = Instant::now();
        engine.upsert_offer(offer);
        offer_times.push(t.elapsed());
    }
    offer_times.sort();
    println!(
        "incremental upsert_offer:       p50 {:7.3} ms   p99 {:7.3} ms",
        ms(percentile(&offer_times, 0.5)),
        ms(percentile(&offer_times, 0.99))
    );
    let (hwm, rss) = memory();
    println!("memory: VmHWM {hwm:.0} MiB, VmRSS {rss:.0} MiB");
    drop(engine);

    // ---------------------------------------------------------------------------------------
    println!("\n== plan: {plan_size} needs x {plan_size} offers");
    let mut generator = Generator::new(7, Profile::Realistic);
    let start = Instant::now();
    let mut builder = Engine::builder(config)?;
    for _ in 0..plan_size {
        builder.offer(generator.offer());
        builder.need(generator.need());
    }
    let engine = builder.build();
    let built = start.elapsed();
    let start = Instant::now();
    let plan = engine.plan();
    let planned = start.elapsed();
    let wanted: u32 = plan.assignments.len() as u32;
    println!(
        "build {:.2} s; plan {:.3} s over {} candidate pairs: {} assignments, total score {:.1}",
        built.as_secs_f64(),
        planned.as_secs_f64(),
        plan.pairs_considered,
        wanted,
        plan.total
    );
    let (hwm, rss) = memory();
    println!("\npeak memory: VmHWM {hwm:.0} MiB (VmRSS now {rss:.0} MiB)");
    Ok(())
}
