use capmatch_eventstore::{EventMetadata, EventStore, NewEvent, Options};
use serde_json::json;
use tempfile::TempDir;
use uuid::Uuid;

/// A store in a fresh temporary directory; the directory lives as long as the handle.
pub struct TestStore {
    pub store: EventStore,
    pub dir: TempDir,
}

/// A temporary directory only its owner may enter, as a store's directory must be.
pub fn private_tempdir() -> TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .unwrap()
}

pub fn open() -> TestStore {
    open_with(Options::default())
}

pub fn open_with(options: Options) -> TestStore {
    let dir = private_tempdir();
    let store = EventStore::open(dir.path(), options).unwrap();
    TestStore { store, dir }
}

impl TestStore {
    /// Closes the store and opens it again on the same directory.
    pub async fn reopen(self) -> TestStore {
        self.reopen_with(Options::default()).await
    }

    pub async fn reopen_with(self, options: Options) -> TestStore {
        let TestStore { store, dir } = self;
        store.close().await;
        let store = EventStore::open(dir.path(), options).unwrap();
        TestStore { store, dir }
    }
}

pub fn event(n: u64) -> NewEvent {
    NewEvent::new(Uuid::new_v4(), "test.happened", 1, json!({ "n": n })).with_metadata(
        EventMetadata {
            actor_subject: Some("tester".into()),
            actor_role: Some("coordinator".into()),
            correlation_id: Some(Uuid::new_v4()),
            causation_id: None,
        },
    )
}

pub fn events(count: u64) -> Vec<NewEvent> {
    (0..count).map(event).collect()
}
