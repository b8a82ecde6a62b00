//! The byte-level scanner shared by [`super::parse_line`] and [`super::parse_document`]: whitespace,
//! strings (with escapes and lossy UTF-8), literals (numbers are in `number`), and an iterative
//! validator that skips a whole value (used for lists, and to tell "not an object" from "not JSON").
//!
//! Positions are byte offsets into the input; errors report them as 1-based columns.

use super::{LineError, MAX_DEPTH};
use std::borrow::Cow;

/// Strings shorter than this are scanned byte by byte; longer ones switch to `memchr2`, whose setup
/// cost only pays off on long values (mmcv's 6 kB `config` string).
const SHORT_STRING: usize = 16;

const ESCAPES: &str = "a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)";

pub(crate) struct Cursor<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) i: usize,
}

#[inline]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Cursor<'a> {
    /// Starts after a UTF-8 byte order mark, if the input has one.
    pub(crate) fn new(b: &'a [u8]) -> Self {
        let i = if b.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        Cursor { b, i }
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    #[inline]
    pub(crate) fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if !is_ws(c) {
                break;
            }
            self.i += 1;
        }
    }

    /// Consumes `c` (after optional whitespace) or fails with "expected `what`".
    #[inline]
    pub(crate) fn expect(&mut self, c: u8, what: &str) -> Result<(), LineError> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    /// "expected X at column N (found 'y')": says where and why.
    #[cold]
    pub(crate) fn err(&self, expected: &str) -> LineError {
        self.err_at(self.i, expected)
    }

    #[cold]
    pub(crate) fn err_at(&self, at: usize, expected: &str) -> LineError {
        let found = match self.b.get(at) {
            None => "end of line".to_owned(),
            Some(&c) if c.is_ascii_graphic() || c == b' ' => format!("found '{}'", c as char),
            Some(&c) => format!("found byte 0x{c:02x}"),
        };
        LineError::NotJson(format!("expected {expected} at column {} ({found})", at + 1))
    }

    /// Parses a string whose opening quote has been consumed. Borrowed from the input when it has no
    /// escapes and is valid UTF-8; invalid UTF-8 becomes U+FFFD rather than an error.
    #[inline]
    pub(crate) fn string(&mut self) -> Result<Cow<'a, str>, LineError> {
        let b = self.b;
        let start = self.i;
        let short_end = b.len().min(start + SHORT_STRING);
        let mut i = start;
        // Eight bytes at a time: the first '"' or '\\' is the lowest byte that XORs to zero.
        let mut high = 0u64;
        while i < short_end {
            let Some(chunk) = b.get(i..i + 8) else { break };
            let v = load8(chunk);
            let found = zero_bytes(v ^ QUOTES) | zero_bytes(v ^ BACKSLASHES);
            if found == 0 {
                high |= v;
                i += 8;
                continue;
            }
            let k = (found.trailing_zeros() / 8) as usize;
            // Only the bytes before the quote count for the ASCII test.
            high |= v & !(u64::MAX << (8 * k));
            let end = i + k;
            if b[end] == b'\\' {
                return self.string_escaped(start, end);
            }
            self.i = end + 1;
            let s = &b[start..end];
            if high & 0x8080_8080_8080_8080 == 0 {
                // SAFETY: every byte of `s` is below 0x80, and ASCII is valid UTF-8. Checking again
                // with `str::from_utf8` cost 18% of the time on typical lines.
                return Ok(Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(s) }));
            }
            return Ok(String::from_utf8_lossy(s));
        }
        match memchr::memchr2(b'"', b'\\', &b[i..]) {
            Some(k) if b[i + k] == b'"' => {
                self.i = i + k + 1;
                Ok(String::from_utf8_lossy(&b[start..i + k]))
            }
            Some(k) => self.string_escaped(start, i + k),
            None => Err(self.err_at(b.len(), "'\"' to close the string")),
        }
    }

    /// Slow path: the string has an escape at `esc`; decode into an owned buffer.
    fn string_escaped(&mut self, start: usize, mut esc: usize) -> Result<Cow<'a, str>, LineError> {
        let b = self.b;
        let mut buf: Vec<u8> = Vec::with_capacity(esc - start + 16);
        buf.extend_from_slice(&b[start..esc]);
        loop {
            // b[esc] is a backslash.
            let Some(&e) = b.get(esc + 1) else {
                return Err(self.err_at(b.len(), "an escape character"));
            };
            let mut next = esc + 2;
            match e {
                b'"' => buf.push(b'"'),
                b'\\' => buf.push(b'\\'),
                b'/' => buf.push(b'/'),
                b'b' => buf.push(0x08),
                b'f' => buf.push(0x0c),
                b'n' => buf.push(b'\n'),
                b'r' => buf.push(b'\r'),
                b't' => buf.push(b'\t'),
                b'u' => {
                    let hi = self.hex4(esc + 2)?;
                    next = esc + 6;
                    let ch = if (0xD800..0xDC00).contains(&hi) {
                        // A high surrogate needs a low one right after; alone it is not a character.
                        let lo = if b.get(next) == Some(&b'\\') && b.get(next + 1) == Some(&b'u') {
                            self.hex4(next + 2).ok().filter(|lo| (0xDC00..0xE000).contains(lo))
                        } else {
                            None
                        };
                        match lo {
                            Some(lo) => {
                                next += 6;
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            }
                            None => None,
                        }
                    } else {
                        char::from_u32(hi)
                    };
                    let mut tmp = [0u8; 4];
                    buf.extend_from_slice(ch.unwrap_or('\u{FFFD}').encode_utf8(&mut tmp).as_bytes());
                }
                _ => return Err(self.err_at(esc + 1, ESCAPES)),
            }
            match memchr::memchr2(b'"', b'\\', &b[next..]) {
                Some(k) => {
                    buf.extend_from_slice(&b[next..next + k]);
                    if b[next + k] == b'"' {
                        self.i = next + k + 1;
                        let s = match String::from_utf8(buf) {
                            Ok(s) => s,
                            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                        };
                        return Ok(Cow::Owned(s));
                    }
                    esc = next + k;
                }
                None => return Err(self.err_at(b.len(), "'\"' to close the string")),
            }
        }
    }

    fn hex4(&self, at: usize) -> Result<u32, LineError> {
        let mut v = 0u32;
        for k in 0..4 {
            let d = match self.b.get(at + k) {
                Some(&c @ b'0'..=b'9') => c - b'0',
                Some(&c @ b'a'..=b'f') => c - b'a' + 10,
                Some(&c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err_at(at + k, "a hex digit in \\u escape")),
            };
            v = v * 16 + u32::from(d);
        }
        Ok(v)
    }

    /// Skips a string whose opening quote has been consumed, without decoding it.
    fn skip_string(&mut self) -> Result<(), LineError> {
        let b = self.b;
        let mut i = self.i;
        loop {
            match memchr::memchr2(b'"', b'\\', &b[i..]) {
                Some(k) if b[i + k] == b'"' => {
                    self.i = i + k + 1;
                    return Ok(());
                }
                // Escapes are checked as strictly as when decoding, so that a line and a document
                // holding the same list agree on whether it is JSON.
                Some(k) => {
                    let e = i + k + 1;
                    i = match b.get(e) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => e + 1,
                        Some(b'u') => {
                            self.hex4(e + 1)?;
                            e + 5
                        }
                        None => return Err(self.err_at(b.len(), "an escape character")),
                        Some(_) => return Err(self.err_at(e, ESCAPES)),
                    };
                }
                None => return Err(self.err_at(b.len(), "'\"' to close the string")),
            }
        }
    }

    /// Consumes `word` (a literal such as `true` or `NaN`) at the cursor.
    #[inline]
    pub(crate) fn literal(&mut self, word: &[u8]) -> Result<(), LineError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err(&format!("a value (such as '{}')", String::from_utf8_lossy(word))))
        }
    }

    /// Validates and skips one whole value of any kind without recursion (a bit per open
    /// container records object vs list). `depth` counts containers already open around it.
    pub(crate) fn skip_value(&mut self, depth: usize) -> Result<(), LineError> {
        let mut kinds: u128 = 0; // bit set = object
        let mut n: usize = 0;
        'value: loop {
            self.skip_ws();
            match self.peek() {
                Some(c @ (b'{' | b'[')) => {
                    self.i += 1;
                    if depth + n >= MAX_DEPTH {
                        return Err(LineError::TooDeep(MAX_DEPTH));
                    }
                    let is_obj = c == b'{';
                    kinds = (kinds << 1) | u128::from(is_obj);
                    n += 1;
                    self.skip_ws();
                    if self.peek() == Some(if is_obj { b'}' } else { b']' }) {
                        self.i += 1;
                        kinds >>= 1;
                        n -= 1;
                    } else if is_obj {
                        self.skip_key()?;
                        continue 'value;
                    } else {
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    self.i += 1;
                    self.skip_string()?;
                }
                _ => {
                    self.scalar()?;
                }
            }
            // After a value: close containers or move to the next element.
            loop {
                if n == 0 {
                    return Ok(());
                }
                self.skip_ws();
                let is_obj = kinds & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if is_obj {
                            self.skip_ws();
                            self.skip_key()?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if is_obj => {}
                    Some(b']') if !is_obj => {}
                    _ => return Err(self.err(if is_obj { "',' or '}'" } else { "',' or ']'" })),
                }
                self.i += 1;
                kinds >>= 1;
                n -= 1;
            }
        }
    }

    /// `"key":` inside a skipped object, the cursor on the opening quote.
    fn skip_key(&mut self) -> Result<(), LineError> {
        if self.peek() != Some(b'"') {
            return Err(self.err("a string key"));
        }
        self.i += 1;
        self.skip_string()?;
        self.expect(b':', "':' after the key")
    }

    /// A number, `true`, `false`, `null`, `NaN` or `Infinity` at the cursor.
    #[inline]
    pub(crate) fn scalar(&mut self) -> Result<Scalarish, LineError> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number().map(Scalarish::Num),
            Some(b't') => self.literal(b"true").map(|()| Scalarish::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|()| Scalarish::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|()| Scalarish::Null),
            Some(b'N') => self.literal(b"NaN").map(|()| Scalarish::Num(f64::NAN)),
            Some(b'I') => self.literal(b"Infinity").map(|()| Scalarish::Num(f64::INFINITY)),
            _ => Err(self.err("a value")),
        }
    }
}

const QUOTES: u64 = 0x2222_2222_2222_2222;
const BACKSLASHES: u64 = 0x5C5C_5C5C_5C5C_5C5C;

/// The high bit of each zero byte of `x` is set; bits above the first zero byte may be set
/// falsely (borrows run upward), so only the lowest set bit is meaningful.
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080
}

#[inline(always)]
pub(crate) fn load8(chunk: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(&chunk[..8]);
    u64::from_le_bytes(buf)
}

/// The non-string, non-container values.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scalarish {
    Num(f64),
    Bool(bool),
    Null,
}
