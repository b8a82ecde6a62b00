//! The protobuf wire format, read in place: the fields of a message as slices of its bytes.
//!
//! `prost` decodes every message into owned structs (a `String` per tag, a `Vec` per repeated
//! field): for the millions of one-scalar events of a TensorBoard file and the history rows of a
//! W&B file, those allocations cost more than the rest of the reading (BENCHMARKS.md, "Other
//! formats"). The hot paths read the few fields they need here, borrowing; anything unusual (a
//! field of an unexpected wire type, a truncated varint, a plugin's tensor) makes them give up, and
//! the message is decoded with `prost` instead, so what is read, and every error, is the same.

/// A field's value as it is on the wire.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Wire<'a> {
    Varint(u64),
    Fixed64([u8; 8]),
    Bytes(&'a [u8]),
    Fixed32([u8; 4]),
}

/// Reads a varint at the front of `buf`, advancing it.
pub fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut x = 0u64;
    for (i, &b) in buf.iter().enumerate().take(10) {
        x |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            // A tenth byte may only carry the last bit.
            if i == 9 && b > 1 {
                return None;
            }
            *buf = &buf[i + 1..];
            return Some(x);
        }
    }
    None
}

/// The fields of one message, in order; `None` ends the iteration early on malformed bytes
/// (then [`Fields::bad`] is true).
pub struct Fields<'a> {
    buf: &'a [u8],
    bad: bool,
}

impl<'a> Fields<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Fields { buf, bad: false }
    }

    /// Whether the message was malformed (a truncated field, an unknown wire type, a field
    /// number 0, a group).
    pub fn bad(&self) -> bool {
        self.bad
    }

    fn fail(&mut self) -> Option<(u32, Wire<'a>)> {
        self.bad = true;
        self.buf = &[];
        None
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (u32, Wire<'a>);

    fn next(&mut self) -> Option<(u32, Wire<'a>)> {
        if self.buf.is_empty() {
            return None;
        }
        let Some(key) = varint(&mut self.buf) else { return self.fail() };
        let tag = key >> 3;
        if tag == 0 || tag > u64::from(u32::MAX >> 3) {
            return self.fail();
        }
        let tag = tag as u32;
        let value = match key & 7 {
            0 => match varint(&mut self.buf) {
                Some(v) => Wire::Varint(v),
                None => return self.fail(),
            },
            1 => match self.buf.split_first_chunk::<8>() {
                Some((v, rest)) => {
                    self.buf = rest;
                    Wire::Fixed64(*v)
                }
                None => return self.fail(),
            },
            2 => {
                let Some(len) = varint(&mut self.buf) else { return self.fail() };
                match usize::try_from(len).ok().filter(|&n| n <= self.buf.len()) {
                    Some(n) => {
                        let (v, rest) = self.buf.split_at(n);
                        self.buf = rest;
                        Wire::Bytes(v)
                    }
                    None => return self.fail(),
                }
            }
            5 => match self.buf.split_first_chunk::<4>() {
                Some((v, rest)) => {
                    self.buf = rest;
                    Wire::Fixed32(*v)
                }
                None => return self.fail(),
            },
            // Groups (3, 4) and the unused wire types: not in the messages read here.
            _ => return self.fail(),
        };
        Some((tag, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[derive(Clone, PartialEq, Message)]
    struct M {
        #[prost(int64, tag = "1")]
        a: i64,
        #[prost(string, tag = "2")]
        b: String,
        #[prost(double, tag = "3")]
        c: f64,
        #[prost(float, tag = "4")]
        d: f32,
    }

    #[test]
    fn reads_what_prost_writes() {
        let m = M { a: -5, b: "loss".into(), c: 1.5, d: 2.5 };
        let bytes = m.encode_to_vec();
        let got: Vec<(u32, Wire<'_>)> = Fields::new(&bytes).collect();
        assert_eq!(
            got,
            [
                (1, Wire::Varint(-5i64 as u64)),
                (2, Wire::Bytes(b"loss")),
                (3, Wire::Fixed64(1.5f64.to_le_bytes())),
                (4, Wire::Fixed32(2.5f32.to_le_bytes()))
            ]
        );
        // Truncated anywhere: the iteration says so.
        for cut in 1..bytes.len() {
            let mut f = Fields::new(&bytes[..cut]);
            f.by_ref().for_each(drop);
            let whole_fields = [11usize, 17, 26].contains(&cut);
            assert_eq!(f.bad(), !whole_fields, "cut at {cut}");
        }
        let mut long = &[0xffu8; 11][..];
        assert_eq!(varint(&mut long), None);
    }
}
