//! The hot path: one JSON Lines line straight into flat fields, with no intermediate tree.
//!
//! Nested objects are walked with an explicit stack of prefix lengths (no recursion), so the depth
//! limit costs nothing and deep input cannot overflow the stack. Lists are validated and skipped.

use super::scan::{Cursor, Scalarish};
use super::{Field, LineError, Scalar, MAX_DEPTH};
use std::borrow::Cow;

/// Parses one JSON Lines line into `out` (cleared first; left empty on error).
///
/// Accepts a leading UTF-8 BOM, surrounding whitespace and a trailing `\r`; bare `NaN`,
/// `Infinity` and `-Infinity`; numbers beyond f64 range (as ±inf); invalid UTF-8 in strings
/// (as U+FFFD). Top-level keys without escapes are borrowed from `line`; nested keys are joined
/// with `/`. Duplicate keys are all kept, in order.
pub fn parse_line<'a>(line: &'a [u8], out: &mut Vec<Field<'a>>) -> Result<(), LineError> {
    out.clear();
    let r = parse_into(line, out);
    if r.is_err() {
        out.clear();
    }
    r
}

fn parse_into<'a>(line: &'a [u8], out: &mut Vec<Field<'a>>) -> Result<(), LineError> {
    let mut c = Cursor::new(line);
    c.skip_ws();
    match c.peek() {
        Some(b'{') => c.i += 1,
        None => return Err(c.err("'{' (the line is empty)")),
        Some(_) => return Err(not_an_object(c)),
    }
    // Built only when the line has a nested object: `prefix` is the joined key of the innermost open
    // object, `lens[d]` its length before level d+2 was appended.
    let mut prefix = String::new();
    let mut lens: Vec<usize> = Vec::new();
    let mut depth = 1usize;

    c.skip_ws();
    if c.peek() == Some(b'}') {
        c.i += 1;
        return finish(c);
    }
    loop {
        // At a key.
        if c.peek() != Some(b'"') {
            return Err(c.err("a string key"));
        }
        c.i += 1;
        let key = c.string()?;
        c.expect(b':', "':' after the key")?;
        c.skip_ws();
        let value = match c.peek() {
            Some(b'"') => {
                c.i += 1;
                Scalar::Str(c.string()?)
            }
            Some(b'{') => {
                c.i += 1;
                c.skip_ws();
                if c.peek() == Some(b'}') {
                    c.i += 1;
                    Scalar::Composite
                } else {
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
                c.skip_value(depth)?;
                Scalar::Composite
            }
            _ => match c.scalar()? {
                Scalarish::Num(x) => Scalar::Num(x),
                Scalarish::Bool(x) => Scalar::Bool(x),
                Scalarish::Null => Scalar::Null,
            },
        };
        let key = if depth == 1 { key } else { Cow::Owned(join(&prefix, &key)) };
        out.push(Field { key, value });

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

fn join(prefix: &str, key: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + 1 + key.len());
    s.push_str(prefix);
    s.push('/');
    s.push_str(key);
    s
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
