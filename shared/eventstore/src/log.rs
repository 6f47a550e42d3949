//! Where the log lives in the sled tree, and how it is read back in position order.
//!
//! - `b` + first position (u64 BE) → a **block**: consecutive records (see `codec`), written by
//!   one sled insert. The writer packs the records of a group commit into blocks of about
//!   [`BLOCK_BYTES`], so a busy log costs one insert per block instead of one per event: sled's
//!   work per insert (finding the leaf, logging the change, rewriting and splitting the rightmost
//!   leaf as it fills) is the same for a small value as for a few kilobytes. Blocks stay far below
//!   the size at which sled moves a value out of its log into a file of its own.
//! - `e` + position (u64 BE) → one record: how earlier versions wrote the log. Such records are
//!   read as ever, and always precede the first block: a log written before blocks grows in
//!   blocks after its last record.
//!
//! A block's layout (integers big-endian):
//!
//! ```text
//! u8 format (1) | u32 count | count × u32 record length | the records, back to back
//! ```
//!
//! Every record still carries its own position and the previous record's hash, so a block adds
//! nothing the chain has to trust: a record moved to another place decodes as corrupt there.

use sled::IVec;

use crate::error::{Error, Result};

const BLOCK: u8 = b'b';
const EVENT: u8 = b'e';
const BLOCK_FORMAT: u8 = 1;
const BLOCK_HEADER: usize = 1 + 4;

/// A block is closed once its records reach this many bytes: a few records of the usual size
/// (a posted need is about 600 bytes), while a leaf of sled's tree (at most 17 items) still stays
/// far below sled's out-of-line threshold (a quarter of a 512 KiB segment).
pub(crate) const BLOCK_BYTES: usize = 4096;

pub(crate) type Key = [u8; 9];

fn key(prefix: u8, position: u64) -> Key {
    let mut k = [0u8; 9];
    k[0] = prefix;
    k[1..].copy_from_slice(&position.to_be_bytes());
    k
}

/// The key of the block whose first record is at `first`.
pub(crate) fn block_key(first: u64) -> Key {
    key(BLOCK, first)
}

/// The key of a record stored on its own (the layout before blocks).
pub(crate) fn event_key(position: u64) -> Key {
    key(EVENT, position)
}

/// The position in a key with this prefix.
fn key_position(k: &[u8], prefix: u8) -> Option<u64> {
    match k {
        [p, rest @ ..] if *p == prefix => Some(u64::from_be_bytes(rest.try_into().ok()?)),
        _ => None,
    }
}

/// Packs consecutive records, the first at `first`, into blocks of about [`BLOCK_BYTES`]:
/// `(key, value)` pairs in position order.
pub(crate) fn pack<'a>(
    first: u64,
    records: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<(Key, IVec)> {
    let mut blocks = Vec::new();
    let mut members: Vec<&[u8]> = Vec::new();
    let mut bytes = 0;
    let mut next = first;
    for record in records {
        members.push(record);
        bytes += record.len();
        if bytes >= BLOCK_BYTES {
            blocks.push((block_key(next), encode(&members)));
            next += members.len() as u64;
            members.clear();
            bytes = 0;
        }
    }
    if !members.is_empty() {
        blocks.push((block_key(next), encode(&members)));
    }
    blocks
}

/// One block holding exactly these records.
fn encode<R: AsRef<[u8]>>(records: &[R]) -> IVec {
    let data: usize = records.iter().map(|r| r.as_ref().len()).sum();
    let mut value = Vec::with_capacity(BLOCK_HEADER + 4 * records.len() + data);
    value.push(BLOCK_FORMAT);
    value.extend_from_slice(&u32_len(records.len()).to_be_bytes());
    for r in records {
        value.extend_from_slice(&u32_len(r.as_ref().len()).to_be_bytes());
    }
    for r in records {
        value.extend_from_slice(r.as_ref());
    }
    IVec::from(value)
}

/// Lengths in a block fit a u32: a record is at most a megabyte of payload plus its envelope
/// (see the limits in `store`).
fn u32_len(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A stored block, its header checked: the records' lengths add up to the bytes that follow.
struct Block {
    first: u64,
    bytes: IVec,
    count: usize,
}

impl Block {
    fn parse(first: u64, bytes: IVec) -> Result<Block> {
        let corrupt = |reason: &str| Error::Corrupt {
            position: first,
            reason: format!("block of records from here: {reason}"),
        };
        let (format, count) = match bytes.get(..BLOCK_HEADER) {
            Some([format, c @ ..]) => (*format, be_u32(c).ok_or_else(|| corrupt("short header"))?),
            _ => return Err(corrupt("short header")),
        };
        if format != BLOCK_FORMAT {
            return Err(corrupt(&format!("unknown block format {format}")));
        }
        let count = count as usize;
        // The header is there, so the subtraction holds.
        if count == 0 || count > (bytes.len() - BLOCK_HEADER) / 4 {
            return Err(corrupt("record count does not fit the block"));
        }
        let data = BLOCK_HEADER + 4 * count;
        let total = (0..count).try_fold(0usize, |sum, i| {
            sum.checked_add(Block::length_in(&bytes, i)? as usize)
        });
        if total.and_then(|t| t.checked_add(data)) != Some(bytes.len()) {
            return Err(corrupt("record lengths do not add up to the block"));
        }
        Ok(Block {
            first,
            bytes,
            count,
        })
    }

    fn length_in(bytes: &[u8], i: usize) -> Option<u32> {
        let at = BLOCK_HEADER + 4 * i;
        be_u32(bytes.get(at..at + 4)?)
    }

    fn length(&self, i: usize) -> usize {
        Block::length_in(&self.bytes, i).unwrap_or(0) as usize
    }

    /// One past the last position in the block.
    fn end(&self) -> u64 {
        self.first + self.count as u64
    }

    /// Whether the block holds the record at `position`.
    fn holds(&self, position: u64) -> bool {
        self.first <= position && position < self.end()
    }

    /// The record at `position`, if the block holds it.
    fn record(self, position: u64) -> Option<IVec> {
        if !self.holds(position) {
            return None;
        }
        self.cursor(position).next().map(|(_, record)| record)
    }

    /// Walks the records from `position` on.
    fn cursor(self, position: u64) -> Cursor {
        let skip = usize::try_from(position.saturating_sub(self.first))
            .unwrap_or(usize::MAX)
            .min(self.count);
        let at = BLOCK_HEADER + 4 * self.count + (0..skip).map(|j| self.length(j)).sum::<usize>();
        Cursor {
            next: skip,
            at,
            block: self,
        }
    }
}

fn be_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

struct Cursor {
    block: Block,
    /// The index of the next record, and where it starts.
    next: usize,
    at: usize,
}

impl Iterator for Cursor {
    type Item = (u64, IVec);

    fn next(&mut self) -> Option<(u64, IVec)> {
        if self.next >= self.block.count {
            return None;
        }
        let len = self.block.length(self.next);
        let record = self.block.bytes.subslice(self.at, len);
        let position = self.block.first + self.next as u64;
        self.next += 1;
        self.at += len;
        Some((position, record))
    }
}

/// The block whose first position is the greatest at or below `position`.
fn block_at_or_before(tree: &sled::Tree, position: u64) -> Result<Option<Block>> {
    let Some((k, v)) = tree
        .range(block_key(0)..=block_key(position))
        .next_back()
        .transpose()?
    else {
        return Ok(None);
    };
    let first = key_position(&k, BLOCK).ok_or_else(|| Error::Corrupt {
        position,
        reason: "malformed block key".into(),
    })?;
    Block::parse(first, v).map(Some)
}

/// The stored record at `position`, if there is one.
pub(crate) fn get(tree: &sled::Tree, position: u64) -> Result<Option<IVec>> {
    if let Some(record) = block_at_or_before(tree, position)?.and_then(|b| b.record(position)) {
        return Ok(Some(record));
    }
    Ok(tree.get(event_key(position))?)
}

/// The stored records at positions `first..=last` in position order, each with the position its
/// place in the tree gives it. Gaps are the caller's to notice: a record that is missing is not
/// yielded. A block that cannot be read ends the scan with [`Error::Corrupt`] naming its first
/// position.
pub(crate) fn scan(tree: &sled::Tree, first: u64, last: u64) -> Scan {
    Scan {
        tree: tree.clone(),
        first,
        last,
        legacy: Some(tree.range(event_key(first)..=event_key(last))),
        blocks: None,
        cursor: None,
        done: first > last,
    }
}

pub(crate) struct Scan {
    tree: sled::Tree,
    first: u64,
    last: u64,
    /// Records stored on their own, read first (they precede every block).
    legacy: Option<sled::Iter>,
    /// The blocks from the one holding `first`, once the legacy records are read.
    blocks: Option<sled::Iter>,
    cursor: Option<Cursor>,
    done: bool,
}

impl Scan {
    fn next_record(&mut self) -> Result<Option<(u64, IVec)>> {
        if let Some(legacy) = &mut self.legacy {
            match legacy.next().transpose()? {
                Some((k, v)) => {
                    let position = key_position(&k, EVENT).ok_or_else(|| Error::Corrupt {
                        position: self.first,
                        reason: "malformed event key".into(),
                    })?;
                    return Ok(Some((position, v)));
                }
                None => self.legacy = None,
            }
        }
        if self.blocks.is_none() {
            self.start_blocks()?;
        }
        loop {
            if let Some((position, record)) = self.cursor.as_mut().and_then(Iterator::next) {
                if position > self.last {
                    return Ok(None);
                }
                return Ok(Some((position, record)));
            }
            self.cursor = None;
            let Some(blocks) = &mut self.blocks else {
                return Ok(None);
            };
            let Some((k, v)) = blocks.next().transpose()? else {
                return Ok(None);
            };
            let first = key_position(&k, BLOCK).ok_or_else(|| Error::Corrupt {
                position: self.first,
                reason: "malformed block key".into(),
            })?;
            self.cursor = Some(Block::parse(first, v)?.cursor(self.first));
        }
    }
}

impl Scan {
    /// Starts on the blocks: the block holding `first` (which may begin before it) is taken as
    /// found, and the blocks after it follow.
    fn start_blocks(&mut self) -> Result<()> {
        let mut after = self.first;
        if let Some(block) = block_at_or_before(&self.tree, self.first)?
            && block.holds(self.first)
        {
            after = block.first + 1;
            self.cursor = Some(block.cursor(self.first));
        }
        self.blocks = Some(self.tree.range(block_key(after)..=block_key(self.last)));
        Ok(())
    }
}

impl Iterator for Scan {
    type Item = Result<(u64, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_record().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

/// Test tools that change the log as someone with access to the disk could.
#[cfg(test)]
pub(crate) mod tamper {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Replaces the record at `position` (which must exist) with what `f` makes of it, in place.
    pub(crate) fn rewrite(tree: &sled::Tree, position: u64, f: impl FnOnce(Vec<u8>) -> Vec<u8>) {
        match block_at_or_before(tree, position).unwrap() {
            Some(block) if block.holds(position) => {
                let first = block.first;
                let mut records: Vec<Vec<u8>> =
                    block.cursor(first).map(|(_, r)| r.to_vec()).collect();
                let i = (position - first) as usize;
                records[i] = f(std::mem::take(&mut records[i]));
                tree.insert(block_key(first), encode(&records)).unwrap();
            }
            _ => {
                let old = tree.get(event_key(position)).unwrap().unwrap();
                tree.insert(event_key(position), f(old.to_vec())).unwrap();
            }
        }
    }

    /// Takes the record at `position` out of the log, leaving a gap.
    pub(crate) fn remove(tree: &sled::Tree, position: u64) {
        match block_at_or_before(tree, position).unwrap() {
            Some(block) if block.holds(position) => {
                let first = block.first;
                let records: Vec<Vec<u8>> = block.cursor(first).map(|(_, r)| r.to_vec()).collect();
                let i = (position - first) as usize;
                tree.remove(block_key(first)).unwrap();
                if i > 0 {
                    tree.insert(block_key(first), encode(&records[..i]))
                        .unwrap();
                }
                if i + 1 < records.len() {
                    tree.insert(block_key(position + 1), encode(&records[i + 1..]))
                        .unwrap();
                }
            }
            _ => {
                tree.remove(event_key(position)).unwrap();
            }
        }
    }

    /// Writes raw bytes where the block starting at `first` goes.
    pub(crate) fn put_block(tree: &sled::Tree, first: u64, value: &[u8]) {
        tree.insert(block_key(first), value).unwrap();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn record(position: u64, len: usize) -> Vec<u8> {
        let mut r = position.to_be_bytes().to_vec();
        r.resize(len.max(8), (position % 251) as u8);
        r
    }

    fn tree() -> (tempfile::TempDir, sled::Tree) {
        let dir = crate::private_tempdir();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let tree = db.open_tree("events").unwrap();
        (dir, tree)
    }

    #[test]
    fn blocks_close_once_they_reach_their_size() {
        let records: Vec<Vec<u8>> = (1..=20).map(|p| record(p, 1000)).collect();
        let blocks = pack(1, records.iter().map(Vec::as_slice));
        let firsts: Vec<u64> = blocks
            .iter()
            .map(|(k, _)| key_position(k, BLOCK).unwrap())
            .collect();
        assert_eq!(firsts, [1, 6, 11, 16]);
        // A record larger than a block closes the block it joins.
        let big = [record(7, 3 * BLOCK_BYTES), record(8, 10)];
        let blocks = pack(7, big.iter().map(Vec::as_slice));
        assert_eq!(blocks.len(), 2);
        let blocks = pack(7, big.iter().rev().map(Vec::as_slice));
        assert_eq!(blocks.len(), 1);
        assert!(pack(1, []).is_empty());
    }

    #[test]
    fn a_garbled_block_is_named_by_its_first_position_not_a_panic() {
        let (_dir, tree) = tree();
        for (k, v) in pack(1, [record(1, 50).as_slice(), &record(2, 50)]) {
            tree.insert(k, v).unwrap();
        }
        for garbage in [
            &b""[..],
            b"\x01",
            b"\x02\0\0\0\x01",
            b"\x01\0\0\0\x02\0\0\0\x05abcde",
        ] {
            tamper::put_block(&tree, 3, garbage);
            let e = scan(&tree, 1, 10).collect::<Result<Vec<_>>>().unwrap_err();
            assert!(matches!(e, Error::Corrupt { position: 3, .. }), "{e:?}");
            assert!(get(&tree, 4).is_err());
            assert_eq!(scan(&tree, 1, 2).count(), 2);
            assert_eq!(get(&tree, 2).unwrap().unwrap(), record(2, 50));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the mix of legacy records and blocks of any size, every position reads back
        /// its own record, by itself and in any range.
        #[test]
        fn every_position_reads_back_from_any_layout(
            legacy in 0u64..20,
            sizes in prop::collection::vec(1usize..3000, 0..120),
            group in prop::collection::vec(1usize..40, 1..10),
            from in 0u64..150,
            span in 0u64..150,
        ) {
            let (_dir, tree) = tree();
            for p in 1..=legacy {
                tree.insert(event_key(p), record(p, 30)).unwrap();
            }
            let mut next = legacy + 1;
            let mut chunks = group.iter().cycle();
            let mut rest = &sizes[..];
            while !rest.is_empty() {
                let n = (*chunks.next().unwrap()).min(rest.len());
                let records: Vec<Vec<u8>> = (next..).zip(&rest[..n]).map(|(p, s)| record(p, *s)).collect();
                for (k, v) in pack(next, records.iter().map(Vec::as_slice)) {
                    tree.insert(k, v).unwrap();
                }
                next += n as u64;
                rest = &rest[n..];
            }
            let head = next - 1;
            let size = |p: u64| if p <= legacy { 30 } else { sizes[(p - legacy - 1) as usize] };
            for p in 1..=head {
                prop_assert_eq!(get(&tree, p).unwrap().unwrap(), record(p, size(p)));
            }
            prop_assert!(get(&tree, head + 1).unwrap().is_none());
            prop_assert!(get(&tree, 0).unwrap().is_none());
            let last = from + span;
            let read: Vec<(u64, IVec)> = scan(&tree, from, last).collect::<Result<_>>().unwrap();
            let expected: Vec<u64> = (from.max(1)..=last.min(head)).collect();
            prop_assert_eq!(read.iter().map(|(p, _)| *p).collect::<Vec<_>>(), expected);
            for (p, r) in read {
                prop_assert_eq!(r, record(p, size(p)));
            }
        }
    }
}
