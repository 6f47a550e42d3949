//! `cargo bench -p capmatch-eventstore`: prints throughput figures and ratios against raw sled,
//! measured in the same run on the same disk. It asserts nothing about time.
//!
//! - Durable appends with 1, 16 and 256 concurrent appenders (one event per append), beside raw
//!   sled inserts of the same size in batches of the same size with one flush per batch.
//! - Replay of the whole log (`read_all` in pages, every record decoded) beside a raw sled scan
//!   of as many values of the same size.
//!
//! Each figure is measured `CAPMATCH_BENCH_ROUNDS` times (default 3), the store's and raw sled's
//! rounds taking turns so that both see the same machine, and the best round of each side is
//! reported with the range of all rounds: on a shared machine the other load only ever slows a
//! round down.
//!
//! Sizes: `CAPMATCH_BENCH_APPENDS` (appends per concurrency level, default 20000),
//! `CAPMATCH_BENCH_REPLAY` (events in the replayed log, default 200000), `CAPMATCH_BENCH_LEVELS`
//! (say `256` to run one level only). `CAPMATCH_BENCH_CPU=1` adds CPU time per event (all
//! threads of the process, during the timed part only) for both sides.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use capmatch_eventstore::{
    Durability, EventMetadata, EventStore, ExpectedVersion, NewEvent, Options, Payload,
};
use serde_json::json;
use uuid::Uuid;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A payload shaped like a posted need, about 400 bytes once encoded.
fn payload(i: usize) -> serde_json::Value {
    json!({
        "title": format!("National CSIRT establishment, phase {i}"),
        "description": "Support to establish a national computer security incident response team, including governance, staffing plans and first-year operations.",
        "themes": ["incident_management_cip"],
        "topics": ["incident_management_cip.csirt_establishment"],
        "support_types": ["technical_assistance", "training"],
        "languages": ["fr", "en"],
        "country": "SN",
        "visibility": "registered"
    })
}

/// An event as a service makes one: its payload is serialised here, by the caller, as the store
/// takes JSON text (see `caller_json` for what that costs).
fn new_event(i: usize) -> NewEvent {
    NewEvent::new(Uuid::new_v4(), "need.posted", 1, payload(i)).with_metadata(EventMetadata {
        actor_subject: Some("focal-point-sn".into()),
        actor_role: Some("state".into()),
        correlation_id: Some(Uuid::new_v4()),
        causation_id: None,
    })
}

/// The sled settings the store itself uses, so both sides of every ratio run on the same engine.
fn raw_sled(dir: &std::path::Path) -> sled::Db {
    sled::Config::new()
        .path(dir)
        .cache_capacity(Options::default().cache_capacity_bytes)
        .mode(sled::Mode::HighThroughput)
        .open()
        .unwrap()
}

/// CPU seconds (user + system) this process has used so far, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// One timed round: events per second, and CPU microseconds per event.
#[derive(Clone, Copy)]
struct Round {
    rate: f64,
    cpu_us: f64,
}

/// Times `f`, which handles `n` events.
fn round(n: usize, f: impl FnOnce()) -> Round {
    let c0 = cpu_seconds();
    let start = Instant::now();
    f();
    let elapsed = start.elapsed();
    Round {
        rate: rate(n, elapsed),
        cpu_us: (cpu_seconds() - c0) * 1e6 / n as f64,
    }
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

/// The best of several rounds, their median, and the range of their rates.
struct Best {
    best: Round,
    median: f64,
    low: f64,
}

fn best(rounds: &[Round]) -> Best {
    let mut sorted = rounds.to_vec();
    sorted.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    Best {
        best: sorted[sorted.len() - 1],
        median: sorted[sorted.len() / 2].rate,
        low: sorted[0].rate,
    }
}

/// Raw sled: `batch` inserts of `value_len` bytes applied as one batch, then one flush.
fn raw_sled_batches(total: usize, batch: usize, value_len: usize) -> Round {
    let dir = private_tempdir();
    let db = raw_sled(dir.path());
    let tree = db.open_tree("raw").unwrap();
    let value = vec![7u8; value_len];
    let total = total / batch * batch;
    round(total, || {
        let mut key = 0u64;
        while (key as usize) < total {
            let mut b = sled::Batch::default();
            for _ in 0..batch {
                key += 1;
                b.insert(&key.to_be_bytes()[..], value.as_slice());
            }
            tree.apply_batch(b).unwrap();
            tree.flush().unwrap();
        }
    })
}

/// The store: `appenders` tasks, each appending one event at a time, durably.
fn store_appends(
    rt: &tokio::runtime::Runtime,
    total: usize,
    appenders: usize,
) -> (Round, capmatch_eventstore::Stats) {
    let dir = private_tempdir();
    let store = EventStore::open(dir.path(), Options::default()).unwrap();
    let per = total / appenders;
    // Events are built before the clock starts: the figure is the store's, not the JSON macro's.
    let work: Vec<Vec<(String, NewEvent)>> = (0..appenders)
        .map(|a| {
            (0..per)
                .map(|i| (format!("need-{a}-{}", i % 50), new_event(i)))
                .collect()
        })
        .collect();
    let r = round(per * appenders, || {
        rt.block_on(async {
            let mut tasks = Vec::new();
            for events in work {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    for (stream, event) in events {
                        store
                            .append(&stream, ExpectedVersion::Any, vec![event])
                            .await
                            .unwrap();
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        })
    });
    assert_eq!(store.head().position as usize, per * appenders);
    let stats = store.stats();
    rt.block_on(store.close());
    (r, stats)
}

/// What the caller pays to make a payload's JSON text from a `serde_json::Value`, per event. It
/// is outside the append figures, as it is in a service (which serialises its typed events).
fn caller_json(n: usize) -> f64 {
    let values: Vec<serde_json::Value> = (0..n).map(payload).collect();
    let start = Instant::now();
    let texts: Vec<Payload> = values.iter().map(Payload::from).collect();
    let elapsed = start.elapsed();
    assert_eq!(texts.len(), n);
    elapsed.as_secs_f64() * 1e6 / n as f64
}

/// One figure: the store's and raw sled's best rates and their ratio, then the medians' ratio,
/// both ranges and `extra` in brackets; with `show_cpu`, the CPU per event of the best rounds.
fn print_comparison(label: &str, store: &Best, raw: &Best, extra: &str, show_cpu: bool) {
    println!(
        "{label:<44} {:>14.0} {:>14.0} {:>7.2}x   (medians {:.2}x; store {:.0}..{:.0}, raw \
         {:.0}..{:.0}{extra})",
        store.best.rate,
        raw.best.rate,
        store.best.rate / raw.best.rate,
        store.median / raw.median,
        store.low,
        store.best.rate,
        raw.low,
        raw.best.rate,
    );
    if show_cpu {
        println!(
            "  cpu µs/event in the best rounds: store {:.2}, raw {:.2}",
            store.best.cpu_us, raw.best.cpu_us
        );
    }
}

fn main() {
    let appends = env_usize("CAPMATCH_BENCH_APPENDS", 20_000);
    let replay_n = env_usize("CAPMATCH_BENCH_REPLAY", 200_000);
    let rounds = env_usize("CAPMATCH_BENCH_ROUNDS", 3).max(1);
    let show_cpu = std::env::var("CAPMATCH_BENCH_CPU").is_ok();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    let payload_len = serde_json::to_vec(&payload(0)).unwrap().len();
    // The record adds the envelope (ids, stream, type, metadata, hashes) to the payload; the raw
    // baseline writes values of the record's full size so both move the same bytes.
    let record_len = payload_len + 200;
    println!("capmatch-eventstore benchmark");
    println!(
        "payload {payload_len} B, raw values {record_len} B, {appends} appends per level, \
         {replay_n} events replayed, best of {rounds} rounds (range in brackets)"
    );
    println!(
        "caller-side JSON (Value to text, made with the events, outside the figures): {:.2} µs/event",
        caller_json(10_000)
    );
    println!();
    println!(
        "{:<44} {:>14} {:>14} {:>8}",
        "durable append (one event per append)", "store ev/s", "raw sled ev/s", "ratio"
    );
    let levels: Vec<usize> = std::env::var("CAPMATCH_BENCH_LEVELS")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 16, 256]);
    for appenders in levels {
        // One appender is a flush per event: keep it short.
        let total = if appenders == 1 {
            appends.min(2_000)
        } else {
            appends
        };
        let mut raw = Vec::new();
        let mut store = Vec::new();
        let mut stats = Vec::new();
        for _ in 0..rounds {
            raw.push(raw_sled_batches(total, appenders, record_len));
            let (r, s) = store_appends(&rt, total, appenders);
            store.push(r);
            stats.push(s);
        }
        let (raw, store) = (best(&raw), best(&store));
        let events: u64 = stats.iter().map(|s| s.events_written).sum();
        let batches: u64 = stats.iter().map(|s| s.batches).sum();
        let flushes: u64 = stats.iter().map(|s| s.flushes).sum();
        let blocks: u64 = stats.iter().map(|s| s.blocks).sum();
        print_comparison(
            &format!("{appenders} appenders vs raw batch of {appenders} + flush"),
            &store,
            &raw,
            &format!(
                "; mean group commit {:.1} events in {:.1} blocks, {} flushes per round",
                events as f64 / batches.max(1) as f64,
                blocks as f64 / batches.max(1) as f64,
                flushes / rounds as u64,
            ),
            show_cpu,
        );
    }

    // Replay: build a log quickly (relaxed, batched), then read it back as a consumer would.
    let dir = private_tempdir();
    let store = EventStore::open(
        dir.path(),
        Options {
            durability: Durability::Relaxed,
            ..Options::default()
        },
    )
    .unwrap();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for a in 0..64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut i = a;
                while i < replay_n {
                    let batch: Vec<NewEvent> = (i..(i + 64 * 8).min(replay_n))
                        .step_by(64)
                        .map(new_event)
                        .collect();
                    store
                        .append(&format!("need-{i}"), ExpectedVersion::Any, batch)
                        .await
                        .unwrap();
                    i += 64 * 8;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let total = store.head().position;

    let raw_dir = private_tempdir();
    let db = raw_sled(raw_dir.path());
    let tree = db.open_tree("raw").unwrap();
    let value = vec![7u8; record_len];
    for chunk in (1..=total).collect::<Vec<_>>().chunks(4096) {
        let mut b = sled::Batch::default();
        for k in chunk {
            b.insert(&k.to_be_bytes()[..], value.as_slice());
        }
        tree.apply_batch(b).unwrap();
    }
    tree.flush().unwrap();

    let mut replays = Vec::new();
    let mut scans = Vec::new();
    let mut bytes = 0usize;
    let mut raw_bytes = 0usize;
    for _ in 0..rounds {
        replays.push(round(total as usize, || {
            let mut after = 0;
            bytes = 0;
            rt.block_on(async {
                loop {
                    let page = store.read_all(after, 4096).await.unwrap();
                    let Some(last) = page.last() else { break };
                    after = last.position;
                    bytes += page.iter().map(|e| e.payload.len()).sum::<usize>();
                }
            });
            assert_eq!(after, total);
        }));
        scans.push(round(total as usize, || {
            let mut n = 0u64;
            raw_bytes = 0;
            for entry in tree.iter() {
                let (_, v) = entry.unwrap();
                raw_bytes += v.len();
                n += 1;
            }
            assert_eq!(n, total);
        }));
    }
    let (replay, scan) = (best(&replays), best(&scans));
    rt.block_on(store.clone().close());
    drop(store);
    // Opening rebuilds the in-memory indexes from the log: the price of one sled key per event.
    let start = Instant::now();
    let reopened = EventStore::open(dir.path(), Options::default()).unwrap();
    let open_time = start.elapsed();
    assert_eq!(reopened.head().position, total);
    drop(reopened);

    println!();
    println!(
        "{:<44} {:>14} {:>14} {:>8}",
        "replay of the whole log", "store ev/s", "raw scan ev/s", "ratio"
    );
    print_comparison(
        &format!("{total} events (read_all pages of 4096)"),
        &replay,
        &scan,
        "",
        show_cpu,
    );
    println!("(payload bytes read {bytes}, raw bytes scanned {raw_bytes})");
    println!();
    println!(
        "open with index rebuild, {total} events: {:.0} ms ({:.0} events/s)",
        open_time.as_secs_f64() * 1e3,
        rate(total as usize, open_time)
    );
}

/// A temporary directory only its owner may enter, as a store's directory must be.
fn private_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .expect("a temporary directory")
}
