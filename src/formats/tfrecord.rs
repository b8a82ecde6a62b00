//! TFRecord framing, the container of TensorBoard event files: each record is a little-endian
//! `u64` length, the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data.
//!
//! [`next`] decodes one frame from the front of a buffer, incrementally: a record cut short at the
//! end of what was read is "need more bytes" (a write in progress), never an error that stops the
//! file. A record whose data checksum fails is skipped whole (its length was checked); a length
//! whose checksum fails (or that is absurd) cannot be trusted, so the reader looks for the next
//! offset where a valid frame header starts and skips the bytes in between. Nothing is allocated
//! from a length field: records are slices of the caller's buffer.

use std::fmt;

/// Bytes before a record's data: the length and its checksum.
pub const HEADER: usize = 12;
/// Bytes after a record's data: its checksum.
pub const FOOTER: usize = 4;
/// Longest record taken (1 GiB; protobuf messages cannot reach 2 GiB). A longer length is treated
/// as garbage, so a corrupt 2^63 length is neither waited for nor allocated.
pub const MAX_RECORD: u64 = 1 << 30;

/// The checksum TFRecord stores: CRC-32C, rotated and offset so that a checksum of data that
/// holds checksums stays well distributed.
pub fn masked_crc(data: &[u8]) -> u32 {
    let c = crc32c::crc32c(data);
    (c.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// Why bytes were skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// The length's checksum failed (or the length is absurd): bytes up to the next valid frame.
    BadLength,
    /// The data's checksum failed: the whole record.
    BadData,
    /// The file ends inside a record.
    Truncated,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skip::BadLength => "not a valid record (bad length checksum): skipped to the next record",
            Skip::BadData => "a record whose data checksum fails: skipped",
            Skip::Truncated => "the file ends inside a record (a write cut short)",
        })
    }
}

/// One frame at the front of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A record: its data is `buf[HEADER..HEADER + len]`; `size` bytes are consumed.
    Record { len: usize, size: usize },
    /// `size` bytes that are not a record.
    Skipped { size: usize, why: Skip },
    /// The buffer ends inside a frame: wait for more bytes (nothing consumed).
    NeedMore,
    /// The buffer is empty and no more bytes will come.
    End,
}

fn header_at(buf: &[u8], i: usize) -> Option<u64> {
    let h = buf.get(i..i + HEADER)?;
    let len = u64::from_le_bytes(h[..8].try_into().ok()?);
    let crc = u32::from_le_bytes(h[8..12].try_into().ok()?);
    (masked_crc(&h[..8]) == crc && len <= MAX_RECORD).then_some(len)
}

/// Whether `head` starts with a valid TFRecord frame header (a 32-bit checksum match: the content
/// test for an event file).
pub fn starts_like(head: &[u8]) -> bool {
    header_at(head, 0).is_some()
}

/// Decodes the frame at the front of `buf`. `eof`: no more bytes will come after `buf` (a torn
/// last record is then reported as skipped instead of waited for).
pub fn next(buf: &[u8], eof: bool) -> Frame {
    frame(buf, eof, true)
}

/// As [`next`]; without `check_data`, a record's data checksum is left to the caller (who checks
/// it on another thread), except for a last record that may still be being written, whose
/// checksum says whether to wait for it.
pub fn frame(buf: &[u8], eof: bool, check_data: bool) -> Frame {
    if buf.is_empty() && eof {
        return Frame::End;
    }
    let Some(len) = header_at(buf, 0) else {
        if buf.len() < HEADER {
            return if eof {
                Frame::Skipped { size: buf.len(), why: Skip::Truncated }
            } else {
                Frame::NeedMore
            };
        }
        // Resynchronise: the next offset where a valid header starts.
        let last = buf.len() - HEADER;
        return match (1..=last).find(|&i| header_at(buf, i).is_some()) {
            Some(i) => Frame::Skipped { size: i, why: Skip::BadLength },
            None if eof => Frame::Skipped { size: buf.len(), why: Skip::BadLength },
            // The last bytes may be the start of a header still being written.
            None => Frame::Skipped { size: last + 1, why: Skip::BadLength },
        };
    };
    let len = len as usize;
    let size = HEADER + len + FOOTER;
    if buf.len() < size {
        return if eof { Frame::Skipped { size: buf.len(), why: Skip::Truncated } } else { Frame::NeedMore };
    }
    let last = buf.len() == size && !eof;
    if !check_data && !last {
        return Frame::Record { len, size };
    }
    let data = &buf[HEADER..HEADER + len];
    let crc = u32::from_le_bytes([buf[size - 4], buf[size - 3], buf[size - 2], buf[size - 1]]);
    if masked_crc(data) != crc {
        if last {
            // The last record, complete in length but not in content: a write in progress.
            return Frame::NeedMore;
        }
        return Frame::Skipped { size, why: Skip::BadData };
    }
    Frame::Record { len, size }
}

/// Frames `data` as one record (for tests, fuzzing and the benchmark's generator).
pub fn encode(data: &[u8], out: &mut Vec<u8>) {
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(buf: &[u8], eof: bool) -> Vec<Frame> {
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            let f = next(&buf[at..], eof);
            out.push(f);
            match f {
                Frame::Record { size, .. } | Frame::Skipped { size, .. } => at += size,
                Frame::NeedMore | Frame::End => return out,
            }
        }
    }

    #[test]
    fn the_masked_checksum_tensorboard_computes() {
        // tensorboard's own `masked_crc32c(b"\0" * 8)` (its pure-Python writer) is 0x07980329.
        assert_eq!(masked_crc(&[0u8; 8]), 0x0798_0329);
    }

    #[test]
    fn records_torn_tails_and_resync() {
        let mut buf = Vec::new();
        encode(b"first", &mut buf);
        let one = buf.len();
        encode(b"second", &mut buf);
        assert_eq!(
            frames(&buf, true),
            [
                Frame::Record { len: 5, size: one },
                Frame::Record { len: 6, size: buf.len() - one },
                Frame::End
            ]
        );
        // Torn: wait while live, skipped at the end of a file read whole.
        assert_eq!(frames(&buf[..buf.len() - 3], false).last(), Some(&Frame::NeedMore));
        assert_eq!(
            frames(&buf[..buf.len() - 3], true)[1],
            Frame::Skipped { size: buf.len() - 3 - one, why: Skip::Truncated }
        );
        // Garbage before a record: skipped up to it.
        let mut g = b"garbage!garbage!".to_vec();
        g.extend_from_slice(&buf);
        assert_eq!(frames(&g, true)[0], Frame::Skipped { size: 16, why: Skip::BadLength });
        assert_eq!(frames(&g, true)[1], Frame::Record { len: 5, size: one });
        // A flipped data byte: that record only.
        let mut bad = buf.clone();
        bad[HEADER] ^= 1;
        assert_eq!(
            frames(&bad, true)[..2],
            [
                Frame::Skipped { size: one, why: Skip::BadData },
                Frame::Record { len: 6, size: buf.len() - one }
            ]
        );
    }

    #[test]
    fn an_absurd_length_is_garbage() {
        let len = (1u64 << 63).to_le_bytes();
        let mut buf = len.to_vec();
        buf.extend_from_slice(&masked_crc(&len).to_le_bytes());
        buf.extend_from_slice(&[0; 20]);
        assert!(matches!(next(&buf, false), Frame::Skipped { why: Skip::BadLength, .. }));
    }
}
