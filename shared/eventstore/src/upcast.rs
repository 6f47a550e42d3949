//! Schema evolution on read. Stored events are never rewritten; a reader registers functions that
//! turn version `n` of a type's payload into version `n + 1`, and every read path applies them in
//! a chain until no upcaster matches.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::event::{Payload, StoredEvent};

type UpcastFn = Arc<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;

/// Upcasters keyed by (event type, the version they read).
#[derive(Clone, Default)]
pub struct Upcasters {
    by_type: HashMap<(String, u32), UpcastFn>,
}

impl fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<_> = self.by_type.keys().collect();
        keys.sort();
        f.debug_struct("Upcasters").field("from", &keys).finish()
    }
}

/// A chain longer than this is a registration mistake (a loop is impossible, versions only rise,
/// but a bound keeps every read finite whatever is registered).
const MAX_CHAIN: u32 = 1_000;

impl Upcasters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `f` to turn `event_type` payloads of `from_version` into `from_version + 1`.
    /// A later registration for the same pair replaces the earlier one.
    pub fn register<F>(&mut self, event_type: &str, from_version: u32, f: F) -> &mut Self
    where
        F: Fn(Value) -> Result<Value, String> + Send + Sync + 'static,
    {
        self.by_type
            .insert((event_type.to_owned(), from_version), Arc::new(f));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.by_type.is_empty()
    }

    /// Brings `event` to the newest version reachable through registered upcasters.
    pub(crate) fn apply(&self, event: &mut StoredEvent) -> Result<()> {
        if self.by_type.is_empty() {
            return Ok(());
        }
        let mut key = (event.event_type.clone(), event.schema_version);
        let Some(mut f) = self.by_type.get(&key) else {
            return Ok(());
        };
        let fail = |version: u32, message: String| Error::Upcast {
            position: event.position,
            event_type: event.event_type.clone(),
            version,
            message,
        };
        let mut value: Value = event
            .payload
            .to_value()
            .map_err(|_| fail(key.1, "stored payload is not valid JSON".into()))?;
        for _ in 0..MAX_CHAIN {
            value = f(value).map_err(|m| fail(key.1, m))?;
            key.1 = key.1.saturating_add(1);
            match self.by_type.get(&key) {
                Some(next) => f = next,
                None => break,
            }
        }
        event.payload = Payload::from(&value);
        event.schema_version = key.1;
        Ok(())
    }
}
