//! `cargo bench -p capmatch-eventstore`: prints throughput figures and ratios against raw sled,
//! measured in the same run on the same disk. It asserts nothing about time.
//!
//! - Durable appends with 1, 16 and 256 concurrent appenders (one event per append), beside raw
//!   sled inserts of the same payload size in batches of the same size with one flush per batch.
//! - Replay of the whole log (`read_all` in pages, every record decoded) beside a raw sled scan
//!   of as many values of the same size.
//!
//! Sizes: `CAPMATCH_BENCH_APPENDS` (appends per concurrency level, default 20000) and
//! `CAPMATCH_BENCH_REPLAY` (events in the replayed log, default 200000).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use capmatch_eventstore::{
    Durability, EventMetadata, EventStore, ExpectedVersion, NewEvent, Options,
};
use serde_json::json;
use uuid::Uuid;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A payload shaped like a posted need, about 350 bytes once encoded.
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

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

/// Raw sled: `batch` inserts of `value_len` bytes applied as one batch, then one flush.
fn raw_sled_batches(total: usize, batch: usize, value_len: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let db = raw_sled(dir.path());
    let tree = db.open_tree("raw").unwrap();
    let value = vec![7u8; value_len];
    let start = Instant::now();
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
    rate(key as usize, start.elapsed())
}

async fn store_appends(
    total: usize,
    appenders: usize,
    durability: Durability,
) -> (f64, u64, capmatch_eventstore::Stats) {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(
        dir.path(),
        Options {
            durability,
            ..Options::default()
        },
    )
    .unwrap();
    let per = total / appenders;
    // Events are built before the clock starts: the figure is the store's, not the JSON macro's.
    let work: Vec<Vec<(String, NewEvent)>> = (0..appenders)
        .map(|a| {
            (0..per)
                .map(|i| (format!("need-{a}-{}", i % 50), new_event(i)))
                .collect()
        })
        .collect();
    let start = Instant::now();
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
    let r = rate(per * appenders, start.elapsed());
    let head = store.head().position;
    let stats = store.stats();
    store.close().await;
    (r, head, stats)
}

fn main() {
    let appends = env_usize("CAPMATCH_BENCH_APPENDS", 20_000);
    let replay_n = env_usize("CAPMATCH_BENCH_REPLAY", 200_000);
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
        "payload {payload_len} B, raw values {record_len} B, {appends} appends per level, {replay_n} events replayed"
    );
    println!();
    println!(
        "{:<44} {:>14} {:>14} {:>8}",
        "durable append (one event per append)", "store ev/s", "raw sled ev/s", "ratio"
    );
    // `CAPMATCH_BENCH_LEVELS=256` runs one level only (for profiling).
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
        let c0 = cpu_seconds();
        let raw = raw_sled_batches(total, appenders, record_len);
        let c1 = cpu_seconds();
        let (store, head, stats) = rt.block_on(store_appends(total, appenders, Durability::Flush));
        let c2 = cpu_seconds();
        if std::env::var("CAPMATCH_BENCH_CPU").is_ok() {
            println!(
                "  cpu µs/event: raw {:.1}, store {:.1}",
                (c1 - c0) * 1e6 / total as f64,
                (c2 - c1) * 1e6 / total as f64
            );
        }
        assert_eq!(head as usize, total / appenders * appenders);
        println!(
            "{:<44} {:>14.0} {:>14.0} {:>7.2}x   (mean group commit {:.1} events, {} flushes)",
            format!("{appenders} appenders vs raw batch of {appenders} + flush"),
            store,
            raw,
            store / raw,
            stats.events_written as f64 / stats.batches.max(1) as f64,
            stats.flushes,
        );
    }

    // Replay: build a log quickly (relaxed, batched), then read it back as a consumer would.
    let dir = tempfile::tempdir().unwrap();
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
    let start = Instant::now();
    let mut after = 0;
    let mut bytes = 0usize;
    rt.block_on(async {
        loop {
            let page = store.read_all(after, 4096).await.unwrap();
            let Some(last) = page.last() else { break };
            after = last.position;
            bytes += page.iter().map(|e| e.payload.as_str().len()).sum::<usize>();
        }
    });
    let replay = rate(after as usize, start.elapsed());
    assert_eq!(after, total);
    rt.block_on(store.clone().close());
    drop(store);
    // Opening rebuilds the in-memory indexes from the log: the price of one sled key per event.
    let start = Instant::now();
    let reopened = EventStore::open(dir.path(), Options::default()).unwrap();
    let open_time = start.elapsed();
    assert_eq!(reopened.head().position, total);
    drop(reopened);

    let raw_dir = tempfile::tempdir().unwrap();
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
    let start = Instant::now();
    let mut n = 0usize;
    let mut raw_bytes = 0usize;
    for entry in tree.iter() {
        let (_, v) = entry.unwrap();
        raw_bytes += v.len();
        n += 1;
    }
    let raw_scan = rate(n, start.elapsed());
    assert_eq!(n as u64, total);
    println!();
    println!(
        "{:<44} {:>14} {:>14} {:>8}",
        "replay of the whole log", "store ev/s", "raw scan ev/s", "ratio"
    );
    println!(
        "{:<44} {:>14.0} {:>14.0} {:>7.2}x",
        format!("{total} events (read_all pages of 4096)"),
        replay,
        raw_scan,
        replay / raw_scan
    );
    println!("(payload bytes read {bytes}, raw bytes scanned {raw_bytes})");
    println!();
    println!(
        "open with index rebuild, {total} events: {:.0} ms ({:.0} events/s)",
        open_time.as_secs_f64() * 1e3,
        rate(total as usize, open_time)
    );
}
