//! Whole-file JSON documents (`trainer_state.json`, Chainer's top-level array): a tree of
//! [`JsonValue`], with the same lenient tokens and depth limit as lines, and its flattening.

use super::line::join;
use super::scan::{Cursor, Scalarish};
use super::{
    element_key, Field, JsonValue, LineError, Scalar, MAX_ARRAY, MAX_DEPTH, MAX_FIELDS, MAX_KEY_BYTES,
};
use std::borrow::Cow;

/// Parses a whole JSON document. The same leniency as [`super::parse_line`] (BOM, `NaN`,
/// `Infinity`, out-of-range numbers, lossy UTF-8); nesting deeper than 128 levels is
/// [`LineError::TooDeep`]; anything but whitespace after the value is an error.
pub fn parse_document(bytes: &[u8]) -> Result<JsonValue, LineError> {
    let mut c = Cursor::new(bytes);
    c.skip_ws();
    if c.at_end() {
        return Err(LineError::NotJson("empty document".into()));
    }
    let v = value(&mut c, 0)?;
    c.skip_ws();
    if !c.at_end() {
        return Err(c.err("end of document after the value (trailing garbage)"));
    }
    Ok(v)
}

/// One value at the cursor; `depth` containers are open around it. Recursion is bounded by
/// `MAX_DEPTH` frames.
fn value(c: &mut Cursor<'_>, depth: usize) -> Result<JsonValue, LineError> {
    c.skip_ws();
    match c.peek() {
        Some(b'"') => {
            c.i += 1;
            Ok(JsonValue::Str(c.string()?.into_owned()))
        }
        Some(b'{') => {
            c.i += 1;
            if depth >= MAX_DEPTH {
                return Err(LineError::TooDeep(MAX_DEPTH));
            }
            let mut m = Vec::new();
            c.skip_ws();
            if c.peek() == Some(b'}') {
                c.i += 1;
                return Ok(JsonValue::Object(m));
            }
            loop {
                c.skip_ws();
                if c.peek() != Some(b'"') {
                    return Err(c.err("a string key"));
                }
                c.i += 1;
                let k = c.string()?.into_owned();
                c.expect(b':', "':' after the key")?;
                m.push((k, value(c, depth + 1)?));
                c.skip_ws();
                match c.peek() {
                    Some(b',') => c.i += 1,
                    Some(b'}') => {
                        c.i += 1;
                        return Ok(JsonValue::Object(m));
                    }
                    _ => return Err(c.err("',' or '}'")),
                }
            }
        }
        Some(b'[') => {
            c.i += 1;
            if depth >= MAX_DEPTH {
                return Err(LineError::TooDeep(MAX_DEPTH));
            }
            let mut a = Vec::new();
            c.skip_ws();
            if c.peek() == Some(b']') {
                c.i += 1;
                return Ok(JsonValue::Array(a));
            }
            loop {
                a.push(value(c, depth + 1)?);
                c.skip_ws();
                match c.peek() {
                    Some(b',') => c.i += 1,
                    Some(b']') => {
                        c.i += 1;
                        return Ok(JsonValue::Array(a));
                    }
                    _ => return Err(c.err("',' or ']'")),
                }
            }
        }
        _ => Ok(match c.scalar()? {
            Scalarish::Num(x) => JsonValue::Num(x),
            Scalarish::Bool(x) => JsonValue::Bool(x),
            Scalarish::Null => JsonValue::Null,
        }),
    }
}

/// Flattens one object of a document into fields, as [`super::parse_line`] does for a line
/// (`out` is cleared first). Not an object -> [`LineError::NotObject`].
pub fn flatten_value<'a>(v: &'a JsonValue, out: &mut Vec<Field<'a>>) -> Result<(), LineError> {
    out.clear();
    let JsonValue::Object(m) = v else { return Err(LineError::NotObject) };
    let mut key_bytes = 0;
    let r = walk(None, m, out, &mut key_bytes);
    if r.is_err() {
        out.clear();
    }
    r
}

/// Recursion is bounded by the document's depth, which `parse_document` limits.
fn walk<'a>(
    prefix: Option<&str>,
    m: &'a [(String, JsonValue)],
    out: &mut Vec<Field<'a>>,
    key_bytes: &mut usize,
) -> Result<(), LineError> {
    for (k, x) in m {
        let key: Cow<'a, str> = match prefix {
            None => Cow::Borrowed(k.as_str()),
            Some(p) => Cow::Owned(join(p, k, key_bytes)?),
        };
        let value = match x {
            JsonValue::Object(inner) if !inner.is_empty() => {
                if let Some(h) = super::hist::from_object(inner) {
                    if out.len() >= MAX_FIELDS {
                        return Err(LineError::TooLarge(format!("more than {MAX_FIELDS} fields")));
                    }
                    out.push(Field { key, value: Scalar::Hist(Box::new(h)) });
                    continue;
                }
                walk(Some(&key), inner, out, key_bytes)?;
                continue;
            }
            JsonValue::Array(a)
                if !a.is_empty()
                    && a.len() <= MAX_ARRAY
                    && a.iter().all(|v| matches!(v, JsonValue::Num(_))) =>
            {
                for (i, v) in a.iter().enumerate() {
                    let JsonValue::Num(n) = v else { continue };
                    if out.len() >= MAX_FIELDS {
                        return Err(LineError::TooLarge(format!("more than {MAX_FIELDS} fields")));
                    }
                    let name = element_key(&key, i, a.len());
                    *key_bytes += name.len();
                    if *key_bytes > MAX_KEY_BYTES {
                        return Err(LineError::TooLarge(format!(
                            "more than {MAX_KEY_BYTES} bytes of nested keys"
                        )));
                    }
                    out.push(Field { key: Cow::Owned(name), value: Scalar::Num(*n) });
                }
                continue;
            }
            JsonValue::Object(_) | JsonValue::Array(_) => Scalar::Composite,
            JsonValue::Null => Scalar::Null,
            JsonValue::Bool(b) => Scalar::Bool(*b),
            JsonValue::Num(n) => Scalar::Num(*n),
            JsonValue::Str(s) => Scalar::Str(Cow::Borrowed(s.as_str())),
        };
        if out.len() >= MAX_FIELDS {
            return Err(LineError::TooLarge(format!("more than {MAX_FIELDS} fields")));
        }
        out.push(Field { key, value });
    }
    Ok(())
}
