//! The in-memory indexes: event id → position (idempotency) and stream → positions by version.
//!
//! They are derived from the log alone, rebuilt by one scan at open, and extended by the writer
//! after each applied batch. Keeping them out of sled leaves the log the only thing written (a
//! block of events is one sled insert, where random-UUID keys would add the most expensive kind of
//! insert for sled's tree per event), and the log stays the only source of truth: an index cannot disagree with it after a crash. The cost is
//! memory, about 50 bytes per event, and the open-time scan (see the crate benchmark).

use std::collections::HashMap;

use uuid::Uuid;

use crate::codec;
use crate::error::{Error, Result};
use crate::event::Head;
use crate::log;

#[derive(Debug, Default)]
pub(crate) struct Index {
    ids: HashMap<Uuid, u64>,
    /// Positions of a stream's events; version `v` is at `[v - 1]`.
    streams: HashMap<Box<str>, Vec<u64>>,
}

impl Index {
    /// Scans the log once, checking that positions are dense and stream versions follow each
    /// other, and returns the index with the applied head.
    pub(crate) fn rebuild(tree: &sled::Tree) -> Result<(Index, Head)> {
        let mut index = Index::default();
        let mut head = Head::default();
        for entry in log::scan(tree, 1, u64::MAX) {
            let (stored_at, v) = entry?;
            let position = head.position + 1;
            if stored_at != position {
                return Err(Error::Corrupt {
                    position,
                    reason: "event missing from the log".into(),
                });
            }
            let fields = codec::decode_index_fields(position, &v)
                .map_err(|reason| Error::Corrupt { position, reason })?;
            let versions = index.streams.entry(fields.stream.into()).or_default();
            if fields.stream_version != versions.len() as u64 + 1 {
                return Err(Error::Corrupt {
                    position,
                    reason: format!(
                        "stream version {} does not follow {}",
                        fields.stream_version,
                        versions.len()
                    ),
                });
            }
            versions.push(position);
            if index.ids.insert(fields.id, position).is_some() {
                return Err(Error::Corrupt {
                    position,
                    reason: format!("event id {} is stored twice", fields.id),
                });
            }
            head = Head {
                position,
                hash: fields.hash,
            };
        }
        Ok((index, head))
    }

    pub(crate) fn position_of(&self, id: &Uuid) -> Option<u64> {
        self.ids.get(id).copied()
    }

    /// The stream's version counting only events at or below `up_to`.
    pub(crate) fn stream_version(&self, stream: &str, up_to: u64) -> u64 {
        match self.streams.get(stream) {
            None => 0,
            Some(positions) => positions.partition_point(|p| *p <= up_to) as u64,
        }
    }

    /// The stream's version counting every indexed event, durable or not: what the writer checks
    /// an append against.
    pub(crate) fn latest_version(&self, stream: &str) -> u64 {
        self.streams.get(stream).map_or(0, |v| v.len() as u64)
    }

    /// Positions of the stream's events with versions `from_version..`, at most `limit`, none
    /// beyond `up_to`.
    pub(crate) fn stream_positions(
        &self,
        stream: &str,
        from_version: u64,
        limit: usize,
        up_to: u64,
    ) -> Vec<u64> {
        let Some(positions) = self.streams.get(stream) else {
            return Vec::new();
        };
        let skip = usize::try_from(from_version.max(1) - 1).unwrap_or(usize::MAX);
        positions
            .iter()
            .skip(skip)
            .take(limit)
            .take_while(|p| **p <= up_to)
            .copied()
            .collect()
    }

    /// Records events the writer has staged: `(id, stream, position)` in position order. Readers
    /// never look past the durable head, so entries ahead of it are invisible to them.
    pub(crate) fn extend<'a>(&mut self, applied: impl Iterator<Item = (Uuid, &'a str, u64)>) {
        for (id, stream, position) in applied {
            self.ids.insert(id, position);
            match self.streams.get_mut(stream) {
                Some(v) => v.push(position),
                None => {
                    self.streams.insert(stream.into(), vec![position]);
                }
            }
        }
    }

    /// Takes back the newest entries, `(id, stream)` newest first: events the writer staged but
    /// could not apply.
    pub(crate) fn retract<'a>(&mut self, staged: impl Iterator<Item = (Uuid, &'a str)>) {
        for (id, stream) in staged {
            self.ids.remove(&id);
            if let Some(v) = self.streams.get_mut(stream) {
                v.pop();
                if v.is_empty() {
                    self.streams.remove(stream);
                }
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }
}
