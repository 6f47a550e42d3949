//! Reads of the whole log: long pages, pages from any position, the same answers on a
//! multi-threaded and a single-threaded runtime, and appends larger than one block of records.

use capmatch_eventstore::{EventStore, ExpectedVersion, NewEvent, Options, StoredEvent};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

/// 5000 events over 100 streams, appended in batches of 10.
async fn long_log(store: &EventStore) {
    for batch in 0..500u64 {
        let events = (0..10).map(|i| event(batch * 10 + i)).collect();
        store
            .append(
                &format!("stream-{}", batch % 100),
                ExpectedVersion::Any,
                events,
            )
            .await
            .unwrap();
    }
}

/// Every event of a read is the one at its position: dense, in order, with its own payload.
fn assert_positions(page: &[StoredEvent], first: u64, count: usize) {
    assert_eq!(page.len(), count);
    for (event, position) in page.iter().zip(first..) {
        assert_eq!(event.position, position);
        let n: serde_json::Value = event.decode().unwrap();
        assert_eq!(n["n"], position - 1, "payload of {position}");
        assert_eq!(
            event.stream,
            format!("stream-{}", (position - 1) / 10 % 100)
        );
        assert_eq!(event.event_type, "test.happened");
        assert_eq!(event.metadata.actor_subject.as_deref(), Some("tester"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_pages_come_back_whole_and_in_order_from_any_position() {
    let t = open();
    long_log(&t.store).await;
    assert_positions(&t.store.read_all(0, 5000).await.unwrap(), 1, 5000);
    assert_positions(&t.store.read_all(1234, 4096).await.unwrap(), 1235, 3766);
    assert_positions(&t.store.read_all(777, 2500).await.unwrap(), 778, 2500);
    assert!(t.store.read_all(5000, 4096).await.unwrap().is_empty());
    // The same pages, read one event at a time, match.
    let mut one_by_one = Vec::new();
    let mut after = 0;
    while let Some(e) = t.store.read_all(after, 1).await.unwrap().pop() {
        after = e.position;
        one_by_one.push(e);
    }
    let whole = t.store.read_all(0, 5000).await.unwrap();
    assert_eq!(one_by_one.len(), whole.len());
    for (a, b) in one_by_one.iter().zip(&whole) {
        assert_eq!((a.position, a.id, a.hash), (b.position, b.id, b.hash));
        assert_eq!(a.payload, b.payload);
    }
}

#[test]
fn a_single_threaded_runtime_reads_the_same() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let t = open_with(Options::default());
        long_log(&t.store).await;
        assert_positions(&t.store.read_all(0, 5000).await.unwrap(), 1, 5000);
        assert_positions(&t.store.read_all(2999, 2001).await.unwrap(), 3000, 2001);
        t.store.close().await;
    });
}

/// An append of 1 KiB events spans many blocks (written in one atomic batch); every read path
/// finds each of its events, before and after a reopen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_larger_than_a_block_reads_back_whole_by_every_path() {
    let t = open();
    t.store
        .append("small", ExpectedVersion::Any, vec![event(0)])
        .await
        .unwrap();
    let filler = "x".repeat(1024);
    let big: Vec<NewEvent> = (0..300)
        .map(|i| {
            NewEvent::new(
                Uuid::new_v4(),
                "big",
                1,
                json!({ "i": i, "filler": filler }),
            )
        })
        .collect();
    let ids: Vec<Uuid> = big.iter().map(|e| e.id).collect();
    let r = t
        .store
        .append("big", ExpectedVersion::NoStream, big)
        .await
        .unwrap();
    assert_eq!((r.first_position, r.last_position), (2, 301));
    t.store
        .append("small", ExpectedVersion::Exact(1), vec![event(1)])
        .await
        .unwrap();
    // 300 KiB in blocks of about 4 KiB.
    assert!(t.store.stats().blocks > 50, "{:?}", t.store.stats());
    let t = t.reopen().await;
    let all = t.store.read_all(0, 1000).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        (1..=302).collect::<Vec<_>>()
    );
    let stream = t.store.read_stream("big", 1, 1000).await.unwrap();
    assert_eq!(stream.len(), 300);
    for (i, e) in stream.iter().enumerate() {
        let v: serde_json::Value = e.decode().unwrap();
        assert_eq!(
            (e.id, e.stream_version, &v["i"]),
            (ids[i], i as u64 + 1, &json!(i))
        );
    }
    for (i, id) in ids.iter().enumerate().step_by(37) {
        let found = t.store.find_event(*id).await.unwrap().unwrap();
        assert_eq!(found.position, i as u64 + 2);
    }
    let page = t.store.read_all(150, 3).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.position).collect::<Vec<_>>(),
        [151, 152, 153]
    );
    let report = t.store.verify().await.unwrap();
    assert!(report.is_intact() && report.verified == 302, "{report:?}");
    // A retry of the whole append is recognised from the blocks.
    let again: Vec<NewEvent> = (0..300)
        .map(|i| NewEvent::new(ids[i], "big", 1, json!({ "i": i, "filler": filler })))
        .collect();
    let r = t
        .store
        .append("big", ExpectedVersion::Any, again)
        .await
        .unwrap();
    assert_eq!(
        (r.first_position, r.last_position, r.stream_version),
        (2, 301, 300)
    );
    assert_eq!(t.store.head().position, 302);
}
