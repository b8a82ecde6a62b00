//! The LevelDB log framing of W&B run files (`run-*.wandb`).
//!
//! The file starts with a 7-byte W&B header (`:W&B`, the magic `0xBEE1` little-endian, a version
//! byte), then blocks of 32 KiB. A block holds physical records: a 4-byte checksum, a 2-byte
//! length and a type byte, then the data; a record never crosses a block boundary, and fewer than 7
//! bytes left in a block are zero padding. A logical record is one `FULL` physical record, or a
//! `FIRST`, any `MIDDLE`s and a `LAST`. The checksum is CRC-32 (IEEE, as W&B's writers compute it
//! with zlib) of the type byte and the data; LevelDB's own masked CRC-32C is accepted too.
//!
//! [`LogReader::next`] decodes incrementally: a record cut short at the end of what was read is
//! "need more bytes", never an error. A physical record that fails its checksum (or whose
//! header makes no sense) cannot be trusted to say where the next one starts, so the rest of its
//! block is skipped, as LevelDB's reader does; a logical record missing a piece is dropped. Both
//! are reported as skipped bytes. Lengths are at most 32 KiB by construction, and a logical record
//! is capped at [`MAX_RECORD`], so no length field makes the reader allocate much.

use std::fmt;

/// The W&B file header: ident, magic, version.
pub const FILE_HEADER: usize = 7;
/// Blocks are this long.
pub const BLOCK: usize = 32 * 1024;
/// A physical record's header: checksum, length, type.
pub const RECORD_HEADER: usize = 7;
/// Longest logical record assembled (a longer one is dropped as corrupt).
pub const MAX_RECORD: usize = 256 << 20;

const FULL: u8 = 1;
const FIRST: u8 = 2;
const MIDDLE: u8 = 3;
const LAST: u8 = 4;

/// Whether `head` starts with the W&B header.
pub fn is_wandb_header(head: &[u8]) -> bool {
    head.len() >= FILE_HEADER && &head[..4] == b":W&B" && head[4..6] == [0xe1, 0xbe]
}

/// Why bytes were skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// The file does not start with the W&B header.
    BadFileHeader,
    /// A physical record failed its checksum; the record after it is sound, so only it is lost.
    BadChecksum,
    /// A physical record failed its checksum, or its header made no sense: the rest of the block.
    BadRecord,
    /// A `MIDDLE` or `LAST` without a `FIRST`, or a `FIRST` cut off by another record.
    Orphan,
    /// A logical record longer than [`MAX_RECORD`].
    TooLong,
    /// The file ends inside a record.
    Truncated,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skip::BadFileHeader => "not a W&B file header",
            Skip::BadChecksum => "a record that fails its checksum: skipped",
            Skip::BadRecord => "a record that fails its checksum: the rest of its 32 KiB block skipped",
            Skip::Orphan => "a piece of a record whose other pieces are missing",
            Skip::TooLong => "a record longer than 256 MiB",
            Skip::Truncated => "the file ends inside a record (a write cut short)",
        })
    }
}

/// What [`LogReader::next`] found at the front of the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// A whole record in one piece: `buf[start..start + len]`.
    Full { start: usize, len: usize },
    /// A record assembled from pieces: [`LogReader::joined`].
    Joined,
    /// Bytes that hold no record.
    Skipped { size: usize, why: Skip },
    /// Bytes used without a record to show yet (padding, the file header, a piece of a record).
    Used,
    /// The buffer ends inside a record: wait for more bytes.
    NeedMore,
    /// Nothing left and no more bytes will come.
    End,
}

/// The checksum of a physical record as W&B writes it (CRC-32 of the type byte and the data), or
/// LevelDB's masked CRC-32C of the same bytes.
fn checksum_ok(stored: u32, kind: u8, data: &[u8]) -> bool {
    let mut h = crc32fast::Hasher::new();
    h.update(&[kind]);
    h.update(data);
    if h.finalize() == stored {
        return true;
    }
    let c = crc32c::crc32c_append(crc32c::crc32c(&[kind]), data);
    c.rotate_right(15).wrapping_add(0xa282_ead8) == stored
}

/// Whether the bytes `at` bytes into `buf` (with `left` bytes left in the block at 0) are where a
/// record may start: the block's padding, the end of the file, or a record whose checksum holds.
fn sound_after(buf: &[u8], at: usize, left: usize, eof: bool) -> bool {
    let rest = left - at;
    if rest < RECORD_HEADER {
        return true;
    }
    let Some(h) = buf.get(at..at + RECORD_HEADER) else { return eof && buf.len() == at };
    let len = u16::from_le_bytes([h[4], h[5]]) as usize;
    let kind = h[6];
    if RECORD_HEADER + len > rest || !(FULL..=LAST).contains(&kind) {
        return false;
    }
    let stored = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    buf.get(at + RECORD_HEADER..at + RECORD_HEADER + len).is_some_and(|d| checksum_ok(stored, kind, d))
}

/// Reads the records of one file, front to back. The caller passes the bytes from the reader's
/// [`offset`](Self::offset) on, and drops the bytes each call says it used.
#[derive(Debug, Default)]
pub struct LogReader {
    offset: u64,
    joined: Vec<u8>,
    /// A `FIRST` was read and its `LAST` not yet: the piece started at this offset.
    joining: Option<u64>,
    /// The logical record too long: its pieces are skipped up to its `LAST`.
    dropping: bool,
}

impl LogReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// The file offset of the next byte to pass.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The last record assembled from pieces ([`Item::Joined`]).
    pub fn joined(&self) -> &[u8] {
        &self.joined
    }

    /// Takes the last record assembled from pieces ([`Item::Joined`]) instead of copying it.
    pub fn take_joined(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.joined)
    }

    /// A reader that goes on at `offset` in a file whose bytes before it were read by another
    /// (a history read elsewhere), no record being assembled there.
    pub fn at(offset: u64) -> Self {
        LogReader { offset, ..Self::default() }
    }

    /// Decodes what is at the front of `buf` (which starts at [`offset`](Self::offset)); returns
    /// the item and the bytes used. `eof`: no more bytes will come.
    pub fn next(&mut self, buf: &[u8], eof: bool) -> (Item, usize) {
        let (item, used) = self.step(buf, eof);
        self.offset += used as u64;
        (item, used)
    }

    fn step(&mut self, buf: &[u8], eof: bool) -> (Item, usize) {
        if self.offset == 0 {
            if buf.len() < FILE_HEADER {
                return match (eof, buf.is_empty()) {
                    (true, true) => (Item::End, 0),
                    (true, false) => (Item::Skipped { size: buf.len(), why: Skip::Truncated }, buf.len()),
                    (false, _) => (Item::NeedMore, 0),
                };
            }
            return if is_wandb_header(buf) {
                (Item::Used, FILE_HEADER)
            } else {
                (Item::Skipped { size: FILE_HEADER, why: Skip::BadFileHeader }, FILE_HEADER)
            };
        }
        let in_block = (self.offset % BLOCK as u64) as usize;
        let left = BLOCK - in_block;
        if left < RECORD_HEADER {
            // Trailer padding.
            return match buf.len() {
                n if n >= left => (Item::Used, left),
                0 if eof => self.end(),
                n if eof => (Item::Used, n),
                _ => (Item::NeedMore, 0),
            };
        }
        if buf.len() < RECORD_HEADER {
            return match (eof, buf.is_empty()) {
                (true, true) => self.end(),
                (true, false) => (Item::Skipped { size: buf.len(), why: Skip::Truncated }, buf.len()),
                (false, _) => (Item::NeedMore, 0),
            };
        }
        let stored = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let len = u16::from_le_bytes([buf[4], buf[5]]) as usize;
        let kind = buf[6];
        let size = RECORD_HEADER + len;
        if stored == 0 && len == 0 && kind == 0 {
            // Zeros where a record would start: preallocated or padded space. The rest of the
            // block holds nothing.
            let n = left.min(buf.len());
            if n < left && !eof {
                return (Item::NeedMore, 0);
            }
            return (Item::Used, n);
        }
        if size > left || !(FULL..=LAST).contains(&kind) {
            return self.bad_block(buf, left, eof);
        }
        if buf.len() < size {
            return if eof {
                (Item::Skipped { size: buf.len(), why: Skip::Truncated }, buf.len())
            } else {
                (Item::NeedMore, 0)
            };
        }
        let data = &buf[RECORD_HEADER..size];
        if !checksum_ok(stored, kind, data) {
            if buf.len() == size && !eof {
                // The last record, complete in length but not in content: a write in progress.
                return (Item::NeedMore, 0);
            }
            if sound_after(buf, size, left, eof) {
                // The length was right (what follows it is a record): only this one is lost.
                self.joining = None;
                self.dropping = false;
                return (Item::Skipped { size, why: Skip::BadChecksum }, size);
            }
            return self.bad_block(buf, left, eof);
        }
        match kind {
            FULL => {
                if self.joining.take().is_some() {
                    // The FIRST..LAST before it never ended: its pieces are lost. Report it, and
                    // read this record on the next call.
                    self.dropping = false;
                    return (Item::Skipped { size: 0, why: Skip::Orphan }, 0);
                }
                (Item::Full { start: RECORD_HEADER, len }, size)
            }
            FIRST => {
                let orphan = self.joining.is_some();
                self.joined.clear();
                self.joined.extend_from_slice(data);
                self.joining = Some(self.offset);
                self.dropping = false;
                if orphan {
                    return (Item::Skipped { size: 0, why: Skip::Orphan }, size);
                }
                (Item::Used, size)
            }
            _ => {
                if self.joining.is_none() {
                    return (Item::Skipped { size, why: Skip::Orphan }, size);
                }
                if !self.dropping {
                    if self.joined.len() + len > MAX_RECORD {
                        self.dropping = true;
                        self.joined = Vec::new();
                    } else {
                        self.joined.extend_from_slice(data);
                    }
                }
                if kind == MIDDLE {
                    return (Item::Used, size);
                }
                self.joining = None;
                if std::mem::take(&mut self.dropping) {
                    return (Item::Skipped { size, why: Skip::TooLong }, size);
                }
                (Item::Joined, size)
            }
        }
    }

    /// The rest of the block is skipped (waiting for it while it is still being written).
    fn bad_block(&mut self, buf: &[u8], left: usize, eof: bool) -> (Item, usize) {
        if buf.len() < left && !eof {
            return (Item::NeedMore, 0);
        }
        self.joining = None;
        self.dropping = false;
        let n = left.min(buf.len());
        (Item::Skipped { size: n, why: Skip::BadRecord }, n)
    }

    fn end(&mut self) -> (Item, usize) {
        if self.joining.take().is_some() {
            return (Item::Skipped { size: 0, why: Skip::Truncated }, 0);
        }
        (Item::End, 0)
    }
}

/// Frames logical records as W&B writes them (for tests, fuzzing and the benchmark's generator):
/// the file header when `out` is empty, then each record, split across blocks as needed.
pub fn encode(data: &[u8], out: &mut Vec<u8>) {
    if out.is_empty() {
        out.extend_from_slice(b":W&B\xe1\xbe\x00");
    }
    let mut rest = data;
    let mut first = true;
    loop {
        let left = BLOCK - out.len() % BLOCK;
        if left < RECORD_HEADER {
            out.resize(out.len() + left, 0);
            continue;
        }
        let room = left - RECORD_HEADER;
        let (piece, more): (&[u8], &[u8]) =
            if rest.len() <= room { (rest, &[]) } else { rest.split_at(room) };
        let kind = match (first, more.is_empty()) {
            (true, true) => FULL,
            (true, false) => FIRST,
            (false, true) => LAST,
            (false, false) => MIDDLE,
        };
        let mut h = crc32fast::Hasher::new();
        h.update(&[kind]);
        h.update(piece);
        out.extend_from_slice(&h.finalize().to_le_bytes());
        out.extend_from_slice(&(piece.len() as u16).to_le_bytes());
        out.push(kind);
        out.extend_from_slice(piece);
        if kind == FULL || kind == LAST {
            return;
        }
        rest = more;
        first = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(buf: &[u8], eof: bool) -> (Vec<Vec<u8>>, Vec<Skip>, bool) {
        let mut r = LogReader::new();
        let (mut out, mut skips) = (Vec::new(), Vec::new());
        let mut at = 0;
        loop {
            let (item, used) = r.next(&buf[at..], eof);
            match item {
                Item::Full { start, len } => out.push(buf[at + start..at + start + len].to_vec()),
                Item::Joined => out.push(r.joined().to_vec()),
                Item::Skipped { why, .. } => skips.push(why),
                Item::Used => {}
                Item::NeedMore => return (out, skips, false),
                Item::End => return (out, skips, true),
            }
            at += used;
        }
    }

    #[test]
    fn records_across_blocks() {
        let big: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let mut buf = Vec::new();
        encode(b"one", &mut buf);
        encode(&big, &mut buf);
        encode(b"three", &mut buf);
        let (got, skips, end) = records(&buf, true);
        assert!(end && skips.is_empty());
        assert_eq!(got, vec![b"one".to_vec(), big.clone(), b"three".to_vec()]);
        // Torn: the records before the cut, then a wait.
        let (got, _, end) = records(&buf[..buf.len() - 2], false);
        assert_eq!((got.len(), end), (2, false));
    }

    #[test]
    fn a_bad_checksum_loses_its_block_only() {
        let mut buf = Vec::new();
        encode(b"one", &mut buf);
        encode(b"two", &mut buf);
        while buf.len() < BLOCK {
            encode(b"filler", &mut buf);
        }
        encode(b"next block", &mut buf);
        // A flipped data byte: the length still leads to a sound record, so only "one" is lost.
        let mut flipped = buf.clone();
        flipped[FILE_HEADER + RECORD_HEADER] ^= 0xff;
        let (got, skips, _) = records(&flipped, true);
        assert_eq!(skips, [Skip::BadChecksum]);
        assert_eq!(got[0], b"two");
        // A flipped length: nothing after it can be trusted in that block.
        let mut flipped = buf.clone();
        flipped[FILE_HEADER + 4] ^= 0x10;
        let (got, skips, _) = records(&flipped, true);
        assert_eq!(skips[0], Skip::BadRecord);
        // (The filler record split across the two blocks loses its first piece with the block.)
        assert_eq!(skips[1..], [Skip::Orphan]);
        assert_eq!(got, vec![b"next block".to_vec()]);
    }
}
