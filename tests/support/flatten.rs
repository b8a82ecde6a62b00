//! The parser tests' reference: one flattening of a JSON tree into `a/b` keys (the one the parser
//! must agree with), fed from serde_json's parse or from a generated tree, and owned, comparable
//! copies of the parser's fields (numbers compared bit for bit, NaN equal to NaN).

use tmon::parse::{Field, Scalar};

/// A field reduced to something comparable: numbers by their bits (all NaNs alike).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum V {
    Num(u64),
    Str(String),
    Bool(bool),
    Null,
    Composite,
    /// A histogram (or why it is malformed), as the parser's `Debug` writes it.
    Hist(String),
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
                Scalar::Hist(h) => V::Hist(format!("{h:?}")),
            };
            (f.key.to_string(), v)
        })
        .collect()
}

/// A JSON tree as far as flattening cares: objects (keys in order), lists and leaves. A list
/// holds its numbers when it is 1 to `MAX_ARRAY` numbers and nothing else (then each is a field),
/// `None` otherwise (one composite field).
pub enum Tree {
    Obj(Vec<(String, Tree)>),
    List(Option<Vec<V>>),
    Leaf(V),
}

/// What a list is to the flattening: its numbers, if it is a short flat list of numbers.
pub fn list_of(xs: impl ExactSizeIterator<Item = Option<f64>>) -> Tree {
    let n = xs.len();
    if n == 0 || n > tmon::parse::MAX_ARRAY {
        return Tree::List(None);
    }
    let nums: Option<Vec<V>> = xs.map(|x| x.map(num)).collect();
    Tree::List(nums)
}

impl From<&serde_json::Value> for Tree {
    fn from(v: &serde_json::Value) -> Tree {
        use serde_json::Value as J;
        match v {
            // An object in one of the histogram shapes is one value (tmon::parse::hist decides
            // the shape; what it holds is compared as the parser's `Debug`).
            J::Object(m) => match tmon::parse::hist::from_object(&json_pairs(m)) {
                Some(h) => Tree::Leaf(V::Hist(format!("{h:?}"))),
                None => Tree::Obj(m.iter().map(|(k, x)| (k.clone(), Tree::from(x))).collect()),
            },
            J::Array(a) => list_of(a.iter().map(|x| x.as_f64())),
            J::Number(n) => Tree::Leaf(num(n.as_f64().expect("serde_json numbers are f64-convertible"))),
            J::String(s) => Tree::Leaf(V::Str(s.clone())),
            J::Bool(b) => Tree::Leaf(V::Bool(*b)),
            J::Null => Tree::Leaf(V::Null),
        }
    }
}

/// The fields the parser must produce for `tree`, in order: nested objects joined with `/`, an
/// empty object or a list one composite field, except a short list of numbers: one field per
/// number, named by `element_key`. A top-level `{}` is a record with no fields.
pub fn flatten(tree: &Tree) -> Vec<(String, V)> {
    fn walk(prefix: Option<&str>, t: &Tree, out: &mut Vec<(String, V)>) {
        let v = match t {
            Tree::Obj(kv) if !kv.is_empty() => {
                for (k, x) in kv {
                    let p = match prefix {
                        None => k.clone(),
                        Some(p) => format!("{p}/{k}"),
                    };
                    walk(Some(&p), x, out);
                }
                return;
            }
            Tree::List(Some(nums)) => {
                let key = prefix.unwrap_or_default();
                for (i, v) in nums.iter().enumerate() {
                    out.push((tmon::parse::element_key(key, i, nums.len()), v.clone()));
                }
                return;
            }
            Tree::Obj(_) | Tree::List(None) => V::Composite,
            Tree::Leaf(v) => v.clone(),
        };
        out.push((prefix.unwrap_or_default().to_owned(), v));
    }
    let mut out = Vec::new();
    if !matches!(tree, Tree::Obj(kv) if kv.is_empty()) {
        walk(None, tree, &mut out);
    }
    out
}

/// What the old serde_json-based parser produced: the reference for strict-JSON input. Keys come
/// out sorted (serde_json's map is a BTreeMap), so compare after sorting.
pub fn reference(v: &serde_json::Value) -> Vec<(String, V)> {
    flatten(&Tree::from(v))
}

pub fn sorted(mut v: Vec<(String, V)>) -> Vec<(String, V)> {
    v.sort();
    v
}

/// serde_json's object as the document parser's pairs.
fn json_pairs(m: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, tmon::parse::JsonValue)> {
    fn conv(v: &serde_json::Value) -> tmon::parse::JsonValue {
        use serde_json::Value as J;
        use tmon::parse::JsonValue as T;
        match v {
            J::Null => T::Null,
            J::Bool(b) => T::Bool(*b),
            J::Number(n) => T::Num(n.as_f64().unwrap_or(f64::NAN)),
            J::String(s) => T::Str(s.clone()),
            J::Array(a) => T::Array(a.iter().map(conv).collect()),
            J::Object(m) => T::Object(json_pairs(m)),
        }
    }
    m.iter().map(|(k, v)| (k.clone(), conv(v))).collect()
}
