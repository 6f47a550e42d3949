use capmatch_eventstore::{Error, ExpectedVersion};
use serde_json::json;

use crate::helpers::{event, events, open};

#[tokio::test]
async fn a_retried_append_returns_the_original_result_and_writes_nothing() {
    let t = open();
    let batch = events(3);
    let first = t
        .store
        .append("a", ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    t.store
        .append("b", ExpectedVersion::Any, events(1))
        .await
        .unwrap();
    let head = t.store.head();

    // The retry's expected version would now fail; a retry is recognised by its ids first.
    let again = t
        .store
        .append("a", ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert_eq!(again, first);
    let with_any = t
        .store
        .append("a", ExpectedVersion::Any, batch)
        .await
        .unwrap();
    assert_eq!(with_any, first);
    assert_eq!(t.store.head(), head);
    assert_eq!(t.store.stream_version("a").await.unwrap(), 3);
}

#[tokio::test]
async fn the_same_id_with_a_different_payload_is_an_error() {
    let t = open();
    let original = event(1);
    t.store
        .append("a", ExpectedVersion::Any, vec![original.clone()])
        .await
        .unwrap();
    let mut altered = original.clone();
    altered.payload = json!({ "n": 2 }).into();
    match t
        .store
        .append("a", ExpectedVersion::Any, vec![altered])
        .await
    {
        Err(Error::IdempotencyConflict { event_id }) => assert_eq!(event_id, original.id),
        other => panic!("expected an idempotency conflict, got {other:?}"),
    }
    let mut elsewhere = original.clone();
    elsewhere.event_type = "other.type".into();
    assert!(matches!(
        t.store
            .append("a", ExpectedVersion::Any, vec![elsewhere])
            .await,
        Err(Error::IdempotencyConflict { .. })
    ));
    assert!(matches!(
        t.store
            .append("b", ExpectedVersion::Any, vec![original])
            .await,
        Err(Error::IdempotencyConflict { .. })
    ));
    assert_eq!(t.store.head().position, 1);
}

#[tokio::test]
async fn a_retry_mixing_stored_and_new_ids_is_refused_whole() {
    let t = open();
    let stored = event(1);
    t.store
        .append("a", ExpectedVersion::Any, vec![stored.clone()])
        .await
        .unwrap();
    for batch in [vec![stored.clone(), event(2)], vec![event(3), stored]] {
        assert!(matches!(
            t.store.append("a", ExpectedVersion::Any, batch).await,
            Err(Error::IdempotencyConflict { .. })
        ));
    }
    assert_eq!(t.store.head().position, 1);
}

#[tokio::test]
async fn a_payload_with_reordered_keys_is_the_same_payload() {
    let t = open();
    let mut e = event(1);
    e.payload = json!({ "a": 1, "b": [1, 2] }).into();
    let first = t
        .store
        .append("a", ExpectedVersion::Any, vec![e.clone()])
        .await
        .unwrap();
    e.payload = serde_json::from_str(r#"{ "b": [1, 2], "a": 1 }"#).unwrap();
    assert_eq!(
        t.store
            .append("a", ExpectedVersion::Any, vec![e])
            .await
            .unwrap(),
        first
    );
}

#[tokio::test]
async fn idempotency_holds_across_close_and_reopen() {
    let t = open();
    let batch = events(2);
    let first = t
        .store
        .append("a", ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    let t = t.reopen().await;
    let head = t.store.head();
    assert_eq!(
        t.store
            .append("a", ExpectedVersion::NoStream, batch.clone())
            .await
            .unwrap(),
        first
    );
    assert_eq!(
        t.store
            .append("a", ExpectedVersion::Any, batch.clone())
            .await
            .unwrap(),
        first
    );
    let mut altered = batch[0].clone();
    altered.payload = json!("different").into();
    assert!(matches!(
        t.store
            .append("a", ExpectedVersion::Any, vec![altered])
            .await,
        Err(Error::IdempotencyConflict { .. })
    ));
    assert_eq!(t.store.head(), head);
}

#[tokio::test]
async fn concurrent_retries_of_one_append_write_it_once() {
    let t = open();
    let batch = events(2);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let s = t.store.clone();
        let b = batch.clone();
        tasks.push(tokio::spawn(async move {
            s.append("a", ExpectedVersion::Any, b).await.unwrap()
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    assert!(results.iter().all(|r| *r == results[0]));
    assert_eq!(t.store.head().position, 2);
    assert_eq!(t.store.stream_version("a").await.unwrap(), 2);
}
