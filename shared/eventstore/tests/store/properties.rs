//! Property tests: the expected-version rules and the density of versions and positions, first
//! against a sequential model, then under random concurrent interleavings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use capmatch_eventstore::{Error, ExpectedVersion};
use proptest::prelude::*;

use crate::helpers::{events, open};

#[derive(Debug, Clone)]
enum Expect {
    Any,
    NoStream,
    /// The version the caller believes the stream is at (from its own last result).
    Believed,
    Exact(u64),
}

#[derive(Debug, Clone)]
struct Op {
    stream: usize,
    expect: Expect,
    count: u64,
}

fn op() -> impl Strategy<Value = Op> {
    let expect = prop_oneof![
        Just(Expect::Any),
        Just(Expect::NoStream),
        Just(Expect::Believed),
        (0u64..6).prop_map(Expect::Exact),
    ];
    (0usize..4, expect, 1u64..4).prop_map(|(stream, expect, count)| Op {
        stream,
        expect,
        count,
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn sequential_appends_follow_the_model_exactly(ops in prop::collection::vec(op(), 1..30)) {
        runtime().block_on(async {
            let t = open();
            let mut model: HashMap<usize, u64> = HashMap::new();
            let mut position = 0u64;
            for op in ops {
                let current = model.get(&op.stream).copied().unwrap_or(0);
                let expected = match op.expect {
                    Expect::Any => ExpectedVersion::Any,
                    Expect::NoStream => ExpectedVersion::NoStream,
                    Expect::Believed => ExpectedVersion::Exact(current),
                    Expect::Exact(n) => ExpectedVersion::Exact(n),
                };
                let result = t.store.append(&format!("s{}", op.stream), expected, events(op.count)).await;
                if expected.admits(current) {
                    let r = result.unwrap();
                    assert_eq!(r.first_position, position + 1);
                    assert_eq!(r.last_position, position + op.count);
                    assert_eq!(r.stream_version, current + op.count);
                    position += op.count;
                    model.insert(op.stream, current + op.count);
                } else {
                    match result {
                        Err(Error::WrongExpectedVersion { expected: e, actual, .. }) => {
                            assert_eq!(e, expected);
                            assert_eq!(actual, current);
                        }
                        other => panic!("expected a conflict, got {other:?}"),
                    }
                }
                assert_eq!(t.store.head().position, position);
            }
            for (stream, version) in model {
                assert_eq!(t.store.stream_version(&format!("s{stream}")).await.unwrap(), version);
            }
        });
    }

    #[test]
    fn concurrent_interleavings_keep_versions_and_positions_dense(
        tasks in prop::collection::vec(prop::collection::vec(op(), 1..12), 2..6)
    ) {
        runtime().block_on(async {
            let t = open();
            let mut handles = Vec::new();
            for ops in tasks {
                let store = t.store.clone();
                handles.push(tokio::spawn(async move {
                    let mut believed: HashMap<usize, u64> = HashMap::new();
                    let mut outcomes = Vec::new();
                    for op in ops {
                        let expected = match op.expect {
                            Expect::Any => ExpectedVersion::Any,
                            Expect::NoStream => ExpectedVersion::NoStream,
                            Expect::Believed => ExpectedVersion::Exact(believed.get(&op.stream).copied().unwrap_or(0)),
                            Expect::Exact(n) => ExpectedVersion::Exact(n),
                        };
                        let result = store.append(&format!("s{}", op.stream), expected, events(op.count)).await;
                        match &result {
                            Ok(r) => { believed.insert(op.stream, r.stream_version); }
                            Err(Error::WrongExpectedVersion { actual, .. }) => { believed.insert(op.stream, *actual); }
                            Err(_) => {}
                        }
                        outcomes.push((op, expected, result));
                    }
                    outcomes
                }));
            }
            let mut outcomes = Vec::new();
            for h in handles {
                outcomes.extend(h.await.unwrap());
            }

            let mut positions = BTreeSet::new();
            // Per stream: the version ranges written by successful appends.
            let mut written: BTreeMap<usize, Vec<(u64, u64)>> = BTreeMap::new();
            for (op, expected, result) in &outcomes {
                match result {
                    Ok(r) => {
                        assert_eq!(r.last_position - r.first_position + 1, op.count);
                        for p in r.first_position..=r.last_position {
                            assert!(positions.insert(p), "position {p} handed out twice");
                        }
                        let first_version = r.stream_version - op.count + 1;
                        match expected {
                            ExpectedVersion::NoStream => assert_eq!(first_version, 1),
                            ExpectedVersion::Exact(n) => assert_eq!(first_version, n + 1),
                            ExpectedVersion::Any => {}
                        }
                        written.entry(op.stream).or_default().push((first_version, r.stream_version));
                    }
                    Err(Error::WrongExpectedVersion { expected: e, .. }) => assert_eq!(e, expected),
                    Err(other) => panic!("unexpected error {other:?}"),
                }
            }
            // Positions are dense from 1 and the head is the last one.
            let total = positions.len() as u64;
            assert_eq!(positions.iter().copied().collect::<Vec<_>>(), (1..=total).collect::<Vec<_>>());
            assert_eq!(t.store.head().position, total);

            // Per stream, the successful appends tile the versions 1..=n without gap or overlap,
            // and every refusal named a version the stream really had and that was not expected.
            for (stream, mut ranges) in written.clone() {
                ranges.sort_unstable();
                let mut next = 1;
                for (a, b) in &ranges {
                    assert_eq!(*a, next, "stream s{stream} has a gap or an overlap");
                    next = b + 1;
                }
                let stored = t.store.read_stream(&format!("s{stream}"), 1, 10_000).await.unwrap();
                assert_eq!(stored.iter().map(|e| e.stream_version).collect::<Vec<_>>(), (1..next).collect::<Vec<_>>());
            }
            for (op, expected, result) in &outcomes {
                if let Err(Error::WrongExpectedVersion { actual, .. }) = result {
                    assert!(!expected.admits(*actual));
                    let had = *actual == 0
                        || written.get(&op.stream).is_some_and(|r| r.iter().any(|(_, b)| b == actual));
                    assert!(had, "stream s{} never was at version {actual}", op.stream);
                }
            }
            assert!(t.store.verify().await.unwrap().is_intact());
        });
    }
}
