use capmatch_eventstore::{Error, EventStore, ExpectedVersion, NewEvent, Options, Upcasters};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{event, events, open, open_with};

#[tokio::test]
async fn appends_get_dense_positions_and_stream_versions() {
    let t = open();
    let s = &t.store;
    let a = s
        .append("a", ExpectedVersion::NoStream, events(2))
        .await
        .unwrap();
    let b = s
        .append("b", ExpectedVersion::NoStream, events(1))
        .await
        .unwrap();
    let c = s
        .append("a", ExpectedVersion::Exact(2), events(3))
        .await
        .unwrap();
    assert_eq!(
        (a.first_position, a.last_position, a.stream_version),
        (1, 2, 2)
    );
    assert_eq!(
        (b.first_position, b.last_position, b.stream_version),
        (3, 3, 1)
    );
    assert_eq!(
        (c.first_position, c.last_position, c.stream_version),
        (4, 6, 5)
    );

    let stream_a = s.read_stream("a", 1, 100).await.unwrap();
    let versions: Vec<u64> = stream_a.iter().map(|e| e.stream_version).collect();
    let positions: Vec<u64> = stream_a.iter().map(|e| e.position).collect();
    assert_eq!(versions, [1, 2, 3, 4, 5]);
    assert_eq!(positions, [1, 2, 4, 5, 6]);
    assert_eq!(s.read_stream("a", 4, 100).await.unwrap().len(), 2);
    assert_eq!(s.read_stream("a", 1, 2).await.unwrap().len(), 2);

    let all = s.read_all(0, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(s.read_all(4, 100).await.unwrap()[0].position, 5);
    assert_eq!(s.stream_version("a").await.unwrap(), 5);
    assert_eq!(s.stream_version("nothing").await.unwrap(), 0);
    assert_eq!(s.head().position, 6);
    assert_eq!(s.head().hash, all[5].hash);
}

#[tokio::test]
async fn a_stored_event_keeps_what_the_caller_gave_and_what_the_store_added() {
    let t = open();
    let given = event(42);
    let before = chrono::Utc::now();
    t.store
        .append("need-1", ExpectedVersion::Any, vec![given.clone()])
        .await
        .unwrap();
    let stored = &t.store.read_stream("need-1", 1, 1).await.unwrap()[0];
    assert_eq!(stored.id, given.id);
    assert_eq!(stored.event_type, "test.happened");
    assert_eq!(stored.schema_version, 1);
    assert_eq!(stored.payload_value().unwrap(), json!({ "n": 42 }));
    assert_eq!(stored.metadata, given.metadata);
    assert_eq!(stored.stream, "need-1");
    assert!(stored.recorded_at >= before - chrono::Duration::seconds(1));
}

#[tokio::test]
async fn a_wrong_expected_version_carries_expected_and_actual_and_writes_nothing() {
    let t = open();
    let s = &t.store;
    s.append("a", ExpectedVersion::NoStream, events(2))
        .await
        .unwrap();
    let head = s.head();

    match s.append("a", ExpectedVersion::NoStream, events(1)).await {
        Err(Error::WrongExpectedVersion {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(stream, "a");
            assert_eq!(expected, ExpectedVersion::NoStream);
            assert_eq!(actual, 2);
        }
        other => panic!("expected a version conflict, got {other:?}"),
    }
    match s.append("a", ExpectedVersion::Exact(1), events(3)).await {
        Err(Error::WrongExpectedVersion {
            expected, actual, ..
        }) => {
            assert_eq!((expected, actual), (ExpectedVersion::Exact(1), 2));
        }
        other => panic!("expected a version conflict, got {other:?}"),
    }
    match s.append("new", ExpectedVersion::Exact(3), events(1)).await {
        Err(Error::WrongExpectedVersion { actual, .. }) => assert_eq!(actual, 0),
        other => panic!("expected a version conflict, got {other:?}"),
    }
    assert_eq!(s.head(), head, "a refused append must not move the head");
    assert_eq!(s.stream_version("a").await.unwrap(), 2);
    s.append("a", ExpectedVersion::Any, events(1))
        .await
        .unwrap();
    s.append("fresh", ExpectedVersion::Exact(0), events(1))
        .await
        .unwrap();
    assert_eq!(s.stream_version("a").await.unwrap(), 3);
}

#[tokio::test]
async fn malformed_appends_are_refused_without_writing() {
    let t = open();
    let s = &t.store;
    let dup = event(1);
    let cases = vec![
        ("", events(1)),
        ("a", Vec::new()),
        ("a", vec![dup.clone(), dup]),
        ("bad\nstream", events(1)),
        ("a", vec![NewEvent::new(Uuid::new_v4(), "", 1, json!({}))]),
    ];
    for (stream, evs) in cases {
        assert!(
            matches!(
                s.append(stream, ExpectedVersion::Any, evs).await,
                Err(Error::InvalidInput(_))
            ),
            "stream {stream:?}"
        );
    }
    let long = "x".repeat(201);
    assert!(matches!(
        s.append(&long, ExpectedVersion::Any, events(1)).await,
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(s.head().position, 0);
}

#[tokio::test]
async fn concurrent_appenders_share_flushes_and_keep_positions_dense() {
    let t = open();
    let mut tasks = Vec::new();
    for i in 0..64u64 {
        let s = t.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut results = Vec::new();
            for _ in 0..5 {
                results.push(
                    s.append(&format!("s{}", i % 8), ExpectedVersion::Any, events(2))
                        .await
                        .unwrap(),
                );
            }
            results
        }));
    }
    let mut positions = Vec::new();
    for task in tasks {
        for r in task.await.unwrap() {
            positions.extend(r.first_position..=r.last_position);
        }
    }
    positions.sort_unstable();
    assert_eq!(positions, (1..=640).collect::<Vec<_>>());
    for stream in 0..8 {
        let evs = t
            .store
            .read_stream(&format!("s{stream}"), 1, 1000)
            .await
            .unwrap();
        assert_eq!(
            evs.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
            (1..=80).collect::<Vec<_>>()
        );
    }
    assert!(t.store.verify().await.unwrap().is_intact());
}

#[tokio::test]
async fn a_second_opener_gets_a_clear_error_not_a_corrupt_store() {
    let t = open();
    t.store
        .append("a", ExpectedVersion::Any, events(3))
        .await
        .unwrap();
    match EventStore::open(t.dir.path(), Options::default()) {
        Err(Error::Locked { path }) => assert_eq!(path, t.dir.path()),
        other => panic!("expected Locked, got {other:?}"),
    }
    // The first handle is unharmed.
    t.store
        .append("a", ExpectedVersion::Exact(3), events(1))
        .await
        .unwrap();
    assert!(t.store.verify().await.unwrap().is_intact());
}

#[tokio::test]
async fn the_store_survives_a_reopen_with_everything_in_place() {
    let t = open();
    t.store
        .append("a", ExpectedVersion::Any, events(3))
        .await
        .unwrap();
    t.store
        .append("b", ExpectedVersion::Any, events(2))
        .await
        .unwrap();
    let head = t.store.head();
    let t = t.reopen().await;
    assert_eq!(t.store.head(), head);
    assert_eq!(t.store.stream_version("a").await.unwrap(), 3);
    let r = t
        .store
        .append("a", ExpectedVersion::Exact(3), events(1))
        .await
        .unwrap();
    assert_eq!((r.first_position, r.stream_version), (6, 4));
    assert!(t.store.verify().await.unwrap().is_intact());
}

#[tokio::test]
async fn verify_reports_an_intact_chain_and_its_head() {
    let t = open();
    for i in 0..10 {
        t.store
            .append(&format!("s{i}"), ExpectedVersion::Any, events(3))
            .await
            .unwrap();
    }
    let report = t.store.verify().await.unwrap();
    assert!(report.is_intact());
    assert_eq!(report.verified, 30);
    assert_eq!(report.head, t.store.head());
}

#[tokio::test]
async fn a_v1_event_is_read_as_v2_through_a_registered_upcaster() {
    let t = open();
    let v1 = NewEvent::new(
        Uuid::new_v4(),
        "need.posted",
        1,
        json!({ "title": "CSIRT", "lang": "fr" }),
    );
    t.store
        .append("need-1", ExpectedVersion::NoStream, vec![v1])
        .await
        .unwrap();

    let mut upcasters = Upcasters::new();
    upcasters.register("need.posted", 1, |mut v| {
        let lang = v.get("lang").cloned().ok_or("v1 payload has no lang")?;
        let obj = v.as_object_mut().ok_or("payload is not an object")?;
        obj.remove("lang");
        obj.insert("languages".into(), json!([lang]));
        Ok(v)
    });
    upcasters.register("need.posted", 2, |mut v| {
        v.as_object_mut()
            .ok_or("not an object")?
            .insert("languages_required".into(), json!(false));
        Ok(v)
    });
    let t = t
        .reopen_with(Options {
            upcasters,
            ..Options::default()
        })
        .await;

    let via_stream = &t.store.read_stream("need-1", 1, 1).await.unwrap()[0];
    assert_eq!(via_stream.schema_version, 3);
    assert_eq!(
        via_stream.payload_value().unwrap(),
        json!({ "title": "CSIRT", "languages": ["fr"], "languages_required": false })
    );
    let via_log = &t.store.read_all(0, 1).await.unwrap()[0];
    assert_eq!(via_log.schema_version, 3);
    let mut sub = t.store.subscribe(0);
    assert_eq!(sub.next().await.unwrap().schema_version, 3);
    // Upcasting happens on read only: the stored chain is untouched.
    assert!(t.store.verify().await.unwrap().is_intact());
}

#[tokio::test]
async fn a_failing_upcaster_is_an_error_naming_the_event_not_a_panic() {
    let mut upcasters = Upcasters::new();
    upcasters.register("test.happened", 1, |_| Err("cannot".into()));
    let t = open_with(Options {
        upcasters,
        ..Options::default()
    });
    t.store
        .append("a", ExpectedVersion::Any, events(1))
        .await
        .unwrap();
    match t.store.read_all(0, 10).await {
        Err(Error::Upcast {
            position,
            event_type,
            version,
            ..
        }) => {
            assert_eq!(
                (position, event_type.as_str(), version),
                (1, "test.happened", 1)
            );
        }
        other => panic!("expected an upcast error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_event_is_found_by_its_id_and_round_trips_through_json() {
    let t = open();
    let e = event(7);
    t.store
        .append("a", ExpectedVersion::Any, vec![event(1), e.clone()])
        .await
        .unwrap();
    let found = t.store.find_event(e.id).await.unwrap().unwrap();
    assert_eq!((found.position, found.stream_version), (2, 2));
    assert!(t.store.find_event(Uuid::new_v4()).await.unwrap().is_none());

    let json = serde_json::to_string(&found).unwrap();
    let back: capmatch_eventstore::StoredEvent = serde_json::from_str(&json).unwrap();
    assert_eq!(back.id, found.id);
    assert_eq!(back.hash, found.hash);
    assert_eq!(back.payload, found.payload);
    assert_eq!(back.recorded_at, found.recorded_at);
    let head: capmatch_eventstore::Head =
        serde_json::from_str(&serde_json::to_string(&t.store.head()).unwrap()).unwrap();
    assert_eq!(head, t.store.head());
}
