//! Parsing: bytes of one log line (or one whole-file JSON document) into flat fields.
//!
//! Keys of nested objects are joined with `/`. Only numbers become metrics later; strings, bools,
//! nulls and lists are kept as such so the schema stage can use them (time strings, split keys).

use std::borrow::Cow;
use thiserror::Error;

/// A flattened scalar value.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    Num(f64),
    Str(Cow<'a, str>),
    Bool(bool),
    Null,
    /// A list, or an empty object: present, but not a scalar.
    Composite,
}

/// One flattened `key: value` pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Field<'a> {
    pub key: Cow<'a, str>,
    pub value: Scalar<'a>,
}

/// Why a line is not a record.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum LineError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("JSON but not an object")]
    NotObject,
    #[error("nested deeper than {0} levels")]
    TooDeep(usize),
}

/// Parses one JSON Lines line into `out` (cleared first).
pub fn parse_line<'a>(line: &'a [u8], out: &mut Vec<Field<'a>>) -> Result<(), LineError> {
    out.clear();
    let v: serde_json::Value = serde_json::from_slice(line).map_err(|e| LineError::NotJson(e.to_string()))?;
    let serde_json::Value::Object(map) = v else {
        return Err(LineError::NotObject);
    };
    flatten("", &serde_json::Value::Object(map), out);
    Ok(())
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<Field<'_>>) {
    use serde_json::Value as V;
    let key = || Cow::Owned(prefix.to_owned());
    match v {
        V::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}/{k}") };
                flatten(&p, x, out);
            }
        }
        V::Object(_) | V::Array(_) => out.push(Field { key: key(), value: Scalar::Composite }),
        V::Number(n) => out.push(Field { key: key(), value: Scalar::Num(n.as_f64().unwrap_or(f64::NAN)) }),
        V::String(s) => out.push(Field { key: key(), value: Scalar::Str(Cow::Owned(s.clone())) }),
        V::Bool(b) => out.push(Field { key: key(), value: Scalar::Bool(*b) }),
        V::Null => out.push(Field { key: key(), value: Scalar::Null }),
    }
}

/// A whole JSON document (for `trainer_state.json` and top-level arrays), with non-finite numbers.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonValue {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Array(Vec<JsonValue>),
    /// Keys in document order.
    Object(Vec<(String, JsonValue)>),
}

/// Parses a whole JSON document.
pub fn parse_document(bytes: &[u8]) -> Result<JsonValue, LineError> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| LineError::NotJson(e.to_string()))?;
    Ok(from_serde(v))
}

fn from_serde(v: serde_json::Value) -> JsonValue {
    use serde_json::Value as V;
    match v {
        V::Null => JsonValue::Null,
        V::Bool(b) => JsonValue::Bool(b),
        V::Number(n) => JsonValue::Num(n.as_f64().unwrap_or(f64::NAN)),
        V::String(s) => JsonValue::Str(s),
        V::Array(a) => JsonValue::Array(a.into_iter().map(from_serde).collect()),
        V::Object(m) => JsonValue::Object(m.into_iter().map(|(k, x)| (k, from_serde(x))).collect()),
    }
}

/// Flattens one object of a document into fields, as [`parse_line`] does for a line.
pub fn flatten_value<'a>(v: &'a JsonValue, out: &mut Vec<Field<'a>>) -> Result<(), LineError> {
    out.clear();
    let JsonValue::Object(m) = v else { return Err(LineError::NotObject) };
    fn walk<'a>(prefix: Option<&str>, m: &'a [(String, JsonValue)], out: &mut Vec<Field<'a>>) {
        for (k, x) in m {
            let key: Cow<'a, str> = match prefix {
                None => Cow::Borrowed(k.as_str()),
                Some(p) => Cow::Owned(format!("{p}/{k}")),
            };
            let value = match x {
                JsonValue::Object(inner) if !inner.is_empty() => {
                    walk(Some(&key), inner, out);
                    continue;
                }
                JsonValue::Object(_) | JsonValue::Array(_) => Scalar::Composite,
                JsonValue::Null => Scalar::Null,
                JsonValue::Bool(b) => Scalar::Bool(*b),
                JsonValue::Num(n) => Scalar::Num(*n),
                JsonValue::Str(s) => Scalar::Str(Cow::Borrowed(s.as_str())),
            };
            out.push(Field { key, value });
        }
    }
    walk(None, m, out);
    Ok(())
}
