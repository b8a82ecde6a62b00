//! Helpers shared by the parser's integration tests: a reference flattening of serde_json's parse,
//! and owned, comparable copies of fields (numbers compared bit for bit, NaN equal to NaN).

#![allow(dead_code)]

use tmon::parse::{Field, Scalar};

/// A field reduced to something comparable: numbers by their bits (all NaNs alike).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum V {
    Num(u64),
    Str(String),
    Bool(bool),
    Null,
    Composite,
}

pub fn num(x: f64) -> V {
    V::Num(if x.is_nan() { f64::NAN.to_bits() } else { x.to_bits() })
}

pub fn owned(fields: &[Field<'_>]) -> Vec<(String, V)> {
    fields
        .iter()
        .map(|f| {
            let v = match &f.value {
                Scalar::Num(x) => num(*x),
                Scalar::Str(s) => V::Str(s.to_string()),
                Scalar::Bool(b) => V::Bool(*b),
                Scalar::Null => V::Null,
                Scalar::Composite => V::Composite,
            };
            (f.key.to_string(), v)
        })
        .collect()
}

/// What the old serde_json-based parser produced: the reference for strict-JSON input. Keys come
/// out sorted (serde_json's map is a BTreeMap), so compare after sorting.
pub fn reference(v: &serde_json::Value) -> Vec<(String, V)> {
    fn walk(prefix: Option<&str>, v: &serde_json::Value, out: &mut Vec<(String, V)>) {
        use serde_json::Value as J;
        let val = match v {
            J::Object(m) if !m.is_empty() => {
                for (k, x) in m {
                    let p = match prefix {
                        None => k.clone(),
                        Some(p) => format!("{p}/{k}"),
                    };
                    walk(Some(&p), x, out);
                }
                return;
            }
            J::Object(_) | J::Array(_) => V::Composite,
            J::Number(n) => num(n.as_f64().expect("serde_json numbers are f64-convertible")),
            J::String(s) => V::Str(s.clone()),
            J::Bool(b) => V::Bool(*b),
            J::Null => V::Null,
        };
        out.push((prefix.unwrap_or_default().to_owned(), val));
    }
    let mut out = Vec::new();
    // A top-level `{}` is a record with no fields (the old parser made one field with an empty key).
    if !matches!(v, serde_json::Value::Object(m) if m.is_empty()) {
        walk(None, v, &mut out);
    }
    out
}

pub fn sorted(mut v: Vec<(String, V)>) -> Vec<(String, V)> {
    v.sort();
    v
}
