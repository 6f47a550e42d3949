use std::time::Duration;

use capmatch_eventstore::{ExpectedVersion, Options};

use crate::helpers::{events, open, open_with};

/// Collects positions from a subscription until `last` has been delivered.
async fn collect_until(mut sub: capmatch_eventstore::Subscription, last: u64) -> Vec<u64> {
    let mut seen = Vec::new();
    while seen.last().copied().unwrap_or(sub.position()) < last {
        let e = tokio::time::timeout(Duration::from_secs(30), sub.next())
            .await
            .expect("subscription stalled")
            .unwrap();
        seen.push(e.position);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_started_mid_stream_gets_exactly_the_later_positions_in_order() {
    let t = open();
    for i in 0..20 {
        t.store
            .append(&format!("s{}", i % 3), ExpectedVersion::Any, events(5))
            .await
            .unwrap();
    }
    // Appends go on while the subscriber starts, catches up and switches to live.
    let mut writers = Vec::new();
    for w in 0..4 {
        let s = t.store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..40 {
                s.append(&format!("w{w}-{}", i % 5), ExpectedVersion::Any, events(2))
                    .await
                    .unwrap();
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let start = t.store.head().position;
    assert!(start >= 100);
    let sub = t.store.subscribe(start);
    let total = 100 + 4 * 40 * 2;
    let reader = tokio::spawn(collect_until(sub, total));
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(t.store.head().position, total);
    let seen = reader.await.unwrap();
    assert_eq!(seen, ((start + 1)..=total).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_subscriber_never_blocks_writers_and_still_misses_nothing() {
    let t = open_with(Options {
        live_buffer: 16,
        ..Options::default()
    });
    let mut sub = t.store.subscribe(0);
    // Take one event so the subscriber is live, then stop reading while writers run.
    t.store
        .append("s", ExpectedVersion::Any, events(1))
        .await
        .unwrap();
    assert_eq!(sub.next().await.unwrap().position, 1);
    let mut writers = Vec::new();
    for w in 0..8 {
        let s = t.store.clone();
        writers.push(tokio::spawn(async move {
            for _ in 0..25 {
                s.append(&format!("w{w}"), ExpectedVersion::Any, events(3))
                    .await
                    .unwrap();
            }
        }));
    }
    for w in writers {
        tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("a writer waited on a subscriber")
            .unwrap();
    }
    let total = 1 + 8 * 25 * 3;
    let seen = collect_until(sub, total).await;
    assert_eq!(seen, (2..=total).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_subscriber_at_the_head_waits_for_the_next_append() {
    let t = open();
    t.store
        .append("a", ExpectedVersion::Any, events(2))
        .await
        .unwrap();
    let mut sub = t.store.subscribe(2);
    let pending = tokio::time::timeout(Duration::from_millis(50), sub.next()).await;
    assert!(
        pending.is_err(),
        "nothing should arrive before the next append"
    );
    t.store
        .append("a", ExpectedVersion::Any, events(1))
        .await
        .unwrap();
    let e = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.position, 3);
}

#[tokio::test]
async fn a_long_poll_returns_as_soon_as_the_head_moves() {
    let t = open();
    let head = t
        .store
        .wait_for_head_after(0, Duration::from_millis(30))
        .await;
    assert_eq!(head.position, 0, "times out on an empty log");
    let s = t.store.clone();
    let waiter =
        tokio::spawn(async move { s.wait_for_head_after(0, Duration::from_secs(30)).await });
    tokio::time::sleep(Duration::from_millis(10)).await;
    t.store
        .append("a", ExpectedVersion::Any, events(1))
        .await
        .unwrap();
    let head = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head.position, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_joining_while_a_batch_commits_gets_it_without_a_further_append() {
    // The race: the batch is staged before the subscriber exists (so nothing is broadcast for
    // it), and becomes durable after the subscriber looked at the head.
    let t = open();
    for round in 0..200u64 {
        let store = t.store.clone();
        let before = t.store.head().position;
        let append =
            tokio::spawn(async move { store.append("s", ExpectedVersion::Any, events(1)).await });
        let mut sub = t.store.subscribe(before);
        let got = tokio::time::timeout(Duration::from_secs(5), sub.next()).await;
        append.await.unwrap().unwrap();
        let e = got
            .unwrap_or_else(|_| panic!("round {round}: the committed event never arrived"))
            .unwrap();
        assert_eq!(e.position, before + 1);
    }
}
