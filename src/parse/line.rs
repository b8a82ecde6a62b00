//! The hot path: one JSON Lines line straight into flat fields, with no intermediate tree.
//!
//! Nested objects are walked with an explicit stack of prefix lengths (no recursion), so the depth
//! limit costs nothing and deep input cannot overflow the stack. Lists are validated and skipped.

use super::hist;
use super::scan::{Cursor, Scalarish};
use super::{element_key, Field, LineError, Scalar, MAX_ARRAY, MAX_DEPTH, MAX_FIELDS, MAX_KEY_BYTES};
use std::borrow::Cow;

/// Parses one JSON Lines line into `out` (cleared first; left empty on error).
///
/// Accepts a leading UTF-8 BOM, surrounding whitespace and a trailing `\r`; bare `NaN`,
/// `Infinity` and `-Infinity`; numbers beyond f64 range (as ±inf); invalid UTF-8 in strings
/// (as U+FFFD). Top-level keys without escapes are borrowed from `line`; nested keys are joined
/// with `/`. Duplicate keys are all kept, in order. Errors: [`LineError::NotJson`] with the column
/// and what was expected, [`LineError::NotObject`], [`LineError::TooDeep`] beyond
/// [`super::MAX_DEPTH`] levels, [`LineError::TooLarge`] beyond [`super::MAX_FIELDS`] fields.
pub fn parse_line<'a>(line: &'a [u8], out: &mut Vec<Field<'a>>) -> Result<(), LineError> {
    out.clear();
    let r = parse_into(line, out, &mut ());
    if r.is_err() {
        out.clear();
    }
    r
}

/// Told where each field's value lies in the line (byte offsets, end exclusive), in field order:
/// what [`super::layout`] learns a line's layout from. `()` records nothing, at no cost.
pub(crate) trait Spans {
    fn value(&mut self, start: usize, end: usize);
}

impl Spans for () {
    #[inline(always)]
    fn value(&mut self, _: usize, _: usize) {}
}

impl Spans for Vec<(u32, u32)> {
    #[inline]
    fn value(&mut self, start: usize, end: usize) {
        self.push((start as u32, end as u32));
    }
}

pub(crate) fn parse_into<'a, S: Spans>(
    line: &'a [u8],
    out: &mut Vec<Field<'a>>,
    spans: &mut S,
) -> Result<(), LineError> {
    let mut c = Cursor::new(line);
    c.skip_ws();
    match c.peek() {
        Some(b'{') => c.i += 1,
        None => return Err(LineError::NotJson("empty line".into())),
        Some(_) => return Err(not_an_object(c)),
    }
    // Built only when the line has a nested object: `prefix` is the joined key of the innermost open
    // object, `lens[d]` its length before level d+2 was appended.
    let mut prefix = String::new();
    let mut lens: Vec<usize> = Vec::new();
    let mut depth = 1usize;
    // Bytes of joined keys allocated so far: a long prefix repeated over many fields would
    // otherwise make memory grow with (prefix length x fields), not with the line.
    let mut key_bytes = 0usize;
    // The values of a numeric list (allocated at the first one).
    let mut nums: Vec<f64> = Vec::new();

    c.skip_ws();
    if c.peek() == Some(b'}') {
        c.i += 1;
        return finish(c);
    }
    loop {
        if out.len() >= MAX_FIELDS {
            return Err(LineError::TooLarge(format!("more than {MAX_FIELDS} fields")));
        }
        // `push` below relies on this: one free slot for this key's field.
        out.reserve(1);
        // At a key.
        if c.peek() != Some(b'"') {
            return Err(c.err("a string key"));
        }
        c.i += 1;
        let key = c.string()?;
        c.expect(b':', "':' after the key")?;
        c.skip_ws();
        let at = c.i;
        match c.peek() {
            // Each arm pushes its own field: building it once after the match made the compiler
            // copy it through the stack (see `push`).
            Some(b'-' | b'0'..=b'9') => {
                let x = c.number()?;
                push(out, depth, &prefix, &mut key_bytes, key, Scalar::Num(x))?;
                spans.value(at, c.i);
            }
            Some(b'"') => {
                c.i += 1;
                let v = c.string()?;
                push(out, depth, &prefix, &mut key_bytes, key, Scalar::Str(v))?;
                spans.value(at, c.i);
            }
            Some(b'{') => {
                c.i += 1;
                c.skip_ws();
                let inside = c.i;
                if c.peek() == Some(b'}') {
                    c.i += 1;
                    push(out, depth, &prefix, &mut key_bytes, key, Scalar::Composite)?;
                    spans.value(at, c.i);
                } else if let Some(h) = (depth < MAX_DEPTH).then(|| hist::scan(&mut c)).flatten() {
                    // No span: a line with a histogram is never learnt as a layout (the fast
                    // path reads numbers and strings, and would take the object for literal
                    // bytes).
                    push(out, depth, &prefix, &mut key_bytes, key, Scalar::Hist(Box::new(h)))?;
                } else {
                    c.i = inside;
                    if depth >= MAX_DEPTH {
                        return Err(LineError::TooDeep(MAX_DEPTH));
                    }
                    lens.push(prefix.len());
                    if depth > 1 {
                        prefix.push('/');
                    }
                    prefix.push_str(&key);
                    depth += 1;
                    continue;
                }
            }
            Some(b'[') => {
                let start = c.i;
                if numbers(&mut c, &mut nums) {
                    // One field per number, each with the whole list's span: the layout learns
                    // the list as one slot of that many numbers.
                    push_elements(out, depth, &prefix, &mut key_bytes, &key, &nums)?;
                    for _ in 0..nums.len() {
                        spans.value(at, c.i);
                    }
                } else {
                    c.i = start;
                    c.skip_value(depth)?;
                    push(out, depth, &prefix, &mut key_bytes, key, Scalar::Composite)?;
                    spans.value(at, c.i);
                }
            }
            _ => {
                let v = match c.scalar()? {
                    Scalarish::Num(x) => Scalar::Num(x),
                    Scalarish::Bool(x) => Scalar::Bool(x),
                    Scalarish::Null => Scalar::Null,
                };
                push(out, depth, &prefix, &mut key_bytes, key, v)?;
                spans.value(at, c.i);
            }
        }

        // After a value: next key, or close one or more objects.
        loop {
            c.skip_ws();
            match c.peek() {
                Some(b',') => {
                    c.i += 1;
                    c.skip_ws();
                    break;
                }
                Some(b'}') => {
                    c.i += 1;
                    depth -= 1;
                    if depth == 0 {
                        return finish(c);
                    }
                    prefix.truncate(lens.pop().unwrap_or(0));
                }
                _ => return Err(c.err("',' or '}'")),
            }
        }
    }
}

/// Top-level keys stay as parsed (borrowed when plain); nested ones are joined to their prefix.
#[inline(always)]
fn push<'a>(
    out: &mut Vec<Field<'a>>,
    depth: usize,
    prefix: &str,
    key_bytes: &mut usize,
    key: Cow<'a, str>,
    value: Scalar<'a>,
) -> Result<(), LineError> {
    let key = if depth == 1 { key } else { Cow::Owned(join(prefix, &key, key_bytes)?) };
    // `Vec::push` keeps the field alive across its growth call, so the compiler built it on the
    // stack and copied it with wide loads over narrow stores (a store-forwarding stall that cost
    // ~15% on typical lines). The slot is reserved at the top of the key loop instead; this assert
    // (always true: one field per reserved slot) lets the compiler drop the growth path.
    assert!(out.len() < out.capacity());
    out.push(Field { key, value });
    Ok(())
}

/// A flat list of at most [`MAX_ARRAY`] numbers at the cursor (on its `[`) into `nums`; false
/// (the cursor anywhere) for anything else, which the caller then skips as a composite.
pub(crate) fn numbers(c: &mut Cursor<'_>, nums: &mut Vec<f64>) -> bool {
    nums.clear();
    c.i += 1;
    c.skip_ws();
    if c.peek() == Some(b']') {
        return false;
    }
    loop {
        match c.peek() {
            Some(b'-' | b'0'..=b'9' | b'N' | b'I') => match c.scalar() {
                Ok(Scalarish::Num(x)) => nums.push(x),
                _ => return false,
            },
            _ => return false,
        }
        if nums.len() > MAX_ARRAY {
            return false;
        }
        c.skip_ws();
        match c.peek() {
            Some(b',') => {
                c.i += 1;
                c.skip_ws();
            }
            Some(b']') => {
                c.i += 1;
                return true;
            }
            _ => return false,
        }
    }
}

/// One field per number of a list, named by [`element_key`].
fn push_elements<'a>(
    out: &mut Vec<Field<'a>>,
    depth: usize,
    prefix: &str,
    key_bytes: &mut usize,
    key: &str,
    nums: &[f64],
) -> Result<(), LineError> {
    for (i, &x) in nums.iter().enumerate() {
        if out.len() >= MAX_FIELDS {
            return Err(LineError::TooLarge(format!("more than {MAX_FIELDS} fields")));
        }
        out.reserve(1);
        let name = element_key(key, i, nums.len());
        // Counted like a nested key: a long key over many elements would cost (key x elements).
        *key_bytes += name.len();
        if *key_bytes > MAX_KEY_BYTES {
            return Err(LineError::TooLarge(format!("more than {MAX_KEY_BYTES} bytes of nested keys")));
        }
        push(out, depth, prefix, key_bytes, Cow::Owned(name), Scalar::Num(x))?;
    }
    Ok(())
}

/// `prefix/key`, counted against [`MAX_KEY_BYTES`].
pub(crate) fn join(prefix: &str, key: &str, key_bytes: &mut usize) -> Result<String, LineError> {
    let n = prefix.len() + 1 + key.len();
    *key_bytes += n;
    if *key_bytes > MAX_KEY_BYTES {
        return Err(LineError::TooLarge(format!("more than {MAX_KEY_BYTES} bytes of nested keys")));
    }
    let mut s = String::with_capacity(n);
    s.push_str(prefix);
    s.push('/');
    s.push_str(key);
    Ok(s)
}

/// Only whitespace (including the `\r` of CRLF) may follow the object.
fn finish(mut c: Cursor<'_>) -> Result<(), LineError> {
    c.skip_ws();
    if c.at_end() {
        Ok(())
    } else {
        Err(c.err("end of line after the object (trailing garbage)"))
    }
}

/// The line does not start with `{`: `NotObject` if it is some other valid JSON value, else why not.
#[cold]
fn not_an_object(mut c: Cursor<'_>) -> LineError {
    let start = c.i;
    if !matches!(c.peek(), Some(b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' | b'N' | b'I')) {
        return c.err("'{'");
    }
    match c.skip_value(0) {
        Ok(()) => {
            c.skip_ws();
            if c.at_end() {
                LineError::NotObject
            } else {
                c.err("end of line after the value (trailing garbage)")
            }
        }
        Err(LineError::TooDeep(n)) => LineError::TooDeep(n),
        Err(_) => c.err_at(start, "'{'"),
    }
}
