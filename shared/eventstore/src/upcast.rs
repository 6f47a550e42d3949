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

/// Upcasters keyed by event type, then by the version they read (so that looking one up for a
/// stored event allocates nothing).
#[derive(Clone, Default)]
pub struct Upcasters {
    by_type: HashMap<String, HashMap<u32, UpcastFn>>,
}

impl fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<_> = self
            .by_type
            .iter()
            .flat_map(|(t, versions)| versions.keys().map(move |v| (t, v)))
            .collect();
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
            .entry(event_type.to_owned())
            .or_default()
            .insert(from_version, Arc::new(f));
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
        let Some(versions) = self.by_type.get(event.event_type.as_str()) else {
            return Ok(());
        };
        let mut version = event.schema_version;
        let Some(mut f) = versions.get(&version) else {
            return Ok(());
        };
        let fail = |version: u32, message: String| Error::Upcast {
            position: event.position,
            event_type: event.event_type.to_string(),
            version,
            message,
        };
        let mut value: Value = event
            .payload
            .to_value()
            .map_err(|_| fail(version, "stored payload is not valid JSON".into()))?;
        for _ in 0..MAX_CHAIN {
            value = f(value).map_err(|m| fail(version, m))?;
            version = version.saturating_add(1);
            match versions.get(&version) {
                Some(next) => f = next,
                None => break,
            }
        }
        event.payload = Payload::from(&value);
        event.schema_version = version;
        Ok(())
    }
}
