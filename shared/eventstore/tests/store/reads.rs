//! Reads of the whole log: long pages (read on two threads), pages from any position, and the
//! same answers on a multi-threaded and a single-threaded runtime.

use capmatch_eventstore::{EventStore, ExpectedVersion, Options, StoredEvent};

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
