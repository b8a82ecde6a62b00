//! Histograms in a record: a distribution of weights, gradients or activations logged at a step.
//! A histogram is one value, not a metric: it is never flattened into one series per bin.
//!
//! Recognised by the keys of the object under a record's key, in three documented forms:
//! - the natural one, `{"bins": [edges...], "counts": [...]}` (`n + 1` edges for `n` counts, what
//!   `torch.histc` and `numpy.histogram` give), optionally with `"_type": "histogram"`;
//! - W&B's `{"_type": "histogram", "bins": [edges...], "values": [...]}` (its history rows), and
//!   its packed form `{"_type": "histogram", "packedBins": {"min": m, "size": w, "count": n},
//!   "values": [...]}` (`n` bins of width `w` from `m`: edge `i` is `m + i * w`; the W&B SDK writes
//!   it for `wandb.watch`'s gradients and parameters, and for TensorBoard histograms it syncs);
//! - TensorBoard's `{"min", "max", "num", "sum", "sum_squares", "bucket_limit", "bucket"}` (the
//!   `HistogramProto` fields: bucket `i` holds the values up to `bucket_limit[i]`, the first from
//!   `min`, the last to `max`).
//!
//! An object of any other shape (a key outside these, a nested object, a list of strings) is not
//! a histogram and is flattened as before. One of these shapes whose content is wrong (edges and
//! counts of mismatched lengths, a negative count, a NaN edge, edges that go down) is a malformed
//! histogram: kept as the reason why, which the ingest counts per run.

use super::scan::{Cursor, Scalarish};
use super::JsonValue;

/// Most bins a histogram may have; a longer list makes it malformed (a histogram of a million
/// bins is a data dump, and would cost a record its size again in memory).
pub const MAX_BINS: usize = 1 << 14;

/// One histogram: `edges.len() == counts.len() + 1`, edges finite and non-decreasing, counts
/// finite and non-negative.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<f64>,
}

/// A histogram as read: valid, or why not.
pub type HistValue = Result<Histogram, String>;

impl Histogram {
    /// The natural form: `n + 1` edges for `n` counts, checked.
    pub fn natural(edges: Vec<f64>, counts: Vec<f64>) -> HistValue {
        if counts.is_empty() {
            return Err("a histogram with no counts".into());
        }
        if edges.len() != counts.len() + 1 {
            return Err(format!(
                "{} edges for {} counts (a histogram has one edge more than counts)",
                edges.len(),
                counts.len()
            ));
        }
        check_counts(&counts)?;
        for (i, e) in edges.iter().enumerate() {
            if e.is_nan() {
                return Err(format!("edge {i} is NaN"));
            }
            if !e.is_finite() {
                return Err(format!("edge {i} is infinite"));
            }
            if i > 0 && *e < edges[i - 1] {
                return Err(format!("edges go down at edge {i}"));
            }
        }
        Ok(Histogram { edges, counts })
    }

    /// TensorBoard's form: bucket `i` holds the values up to `limits[i]`; the first starts at
    /// `min`, the last ends at `max` (TensorBoard's last limit is often `DBL_MAX`, and its first
    /// buckets reach down to `-DBL_MAX`: clamped to the range the values have).
    pub fn tensorboard(min: Option<f64>, max: Option<f64>, limits: &[f64], buckets: Vec<f64>) -> HistValue {
        if buckets.is_empty() {
            return Err("a histogram with no buckets".into());
        }
        if limits.len() != buckets.len() {
            return Err(format!("{} bucket limits for {} buckets", limits.len(), buckets.len()));
        }
        check_counts(&buckets)?;
        if let Some(i) = limits.iter().position(|l| l.is_nan()) {
            return Err(format!("bucket limit {i} is NaN"));
        }
        let n = limits.len();
        // Without min or max, the outer buckets end at their neighbours' limits.
        let lo = match min {
            Some(m) => m,
            None if n > 1 => limits[0].min(limits[1]),
            None => limits[0],
        };
        let hi = match max {
            Some(m) => m,
            None if n > 1 => limits[n - 2],
            None => limits[0],
        };
        if !lo.is_finite() || !hi.is_finite() {
            return Err("min or max is not finite".into());
        }
        if hi < lo {
            return Err(format!("max {hi} is below min {lo}"));
        }
        let mut edges = Vec::with_capacity(n + 1);
        edges.push(lo);
        for &l in &limits[..n - 1] {
            let prev = *edges.last().unwrap_or(&lo);
            edges.push(l.clamp(lo, hi).max(prev));
        }
        edges.push(hi);
        Ok(Histogram { edges, counts: buckets })
    }

    /// How many values the histogram counts.
    pub fn total(&self) -> f64 {
        self.counts.iter().sum()
    }
}

/// W&B's packed bins: `count` bins of width `size` from `min`, for the counts `values`.
fn unpack((min, size, count): (f64, f64, f64), values: Vec<f64>) -> HistValue {
    if !min.is_finite() || !size.is_finite() {
        return Err("packedBins: min or size is not finite".into());
    }
    if size < 0.0 {
        return Err(format!("packedBins: negative size ({size})"));
    }
    if count != values.len() as f64 {
        return Err(format!("packedBins: count {count} for {} values", values.len()));
    }
    let edges = (0..=values.len()).map(|i| min + i as f64 * size).collect();
    Histogram::natural(edges, values)
}

/// The packed bins' three numbers from their keys, or why they are not.
fn packed_of(min: Option<f64>, size: Option<f64>, count: Option<f64>) -> Result<(f64, f64, f64), String> {
    match (min, size, count) {
        (Some(m), Some(s), Some(c)) => Ok((m, s, c)),
        _ => Err("packedBins without its min, size and count".into()),
    }
}

fn check_counts(counts: &[f64]) -> Result<(), String> {
    if counts.len() > MAX_BINS {
        return Err(format!("{} bins, more than {MAX_BINS}", counts.len()));
    }
    for (i, c) in counts.iter().enumerate() {
        if c.is_nan() {
            return Err(format!("count {i} is NaN"));
        }
        if !c.is_finite() {
            return Err(format!("count {i} is infinite"));
        }
        if *c < 0.0 {
            return Err(format!("count {i} is negative ({c})"));
        }
    }
    Ok(())
}

/// The parts of an object that may be a histogram, gathered key by key.
#[derive(Default)]
struct Parts {
    bins: Option<Vec<f64>>,
    counts: Option<Vec<f64>>,
    values: Option<Vec<f64>>,
    limits: Option<Vec<f64>>,
    buckets: Option<Vec<f64>>,
    min: Option<f64>,
    max: Option<f64>,
    /// `num`, `sum` or `sum_squares` was there.
    moments: bool,
    /// W&B's `packedBins`: (min, size, count), or `Err` for one whose content is wrong.
    packed: Option<Result<(f64, f64, f64), String>>,
    typed: bool,
    /// A list longer than [`MAX_BINS`] + 1.
    too_long: bool,
}

/// What a key of a histogram object holds.
enum Slot {
    List,
    Number,
    Type,
    Packed,
}

fn slot(key: &str) -> Option<Slot> {
    Some(match key {
        "bins" | "counts" | "values" | "bucket_limit" | "bucket" => Slot::List,
        "min" | "max" | "num" | "sum" | "sum_squares" => Slot::Number,
        "_type" => Slot::Type,
        "packedBins" => Slot::Packed,
        _ => return None,
    })
}

impl Parts {
    fn list(&mut self, key: &str, v: Vec<f64>) {
        if v.len() > MAX_BINS + 1 {
            self.too_long = true;
        }
        let to = match key {
            "bins" => &mut self.bins,
            "counts" => &mut self.counts,
            "values" => &mut self.values,
            "bucket_limit" => &mut self.limits,
            _ => &mut self.buckets,
        };
        *to = Some(v);
    }

    fn number(&mut self, key: &str, x: f64) {
        match key {
            "min" => self.min = Some(x),
            "max" => self.max = Some(x),
            _ => self.moments = true,
        }
    }

    /// The histogram, when the keys make one of the documented shapes.
    fn finish(self) -> Option<HistValue> {
        let tb = self.limits.is_some() || self.buckets.is_some();
        let natural = self.bins.is_some() || self.counts.is_some() || self.values.is_some();
        let too_long = || Err(format!("more than {MAX_BINS} bins"));
        if tb && !natural {
            let (Some(limits), Some(buckets)) = (self.limits, self.buckets) else { return None };
            return Some(if self.too_long {
                too_long()
            } else {
                Histogram::tensorboard(self.min, self.max, &limits, buckets)
            });
        }
        if tb || self.min.is_some() || self.max.is_some() || self.moments {
            return None;
        }
        if let Some(packed) = self.packed {
            // Only W&B's own shape: its type mark, the counts as `values`, no edges besides.
            let (true, Some(values), None, None) = (self.typed, self.values, &self.bins, &self.counts) else {
                return None;
            };
            return Some(if self.too_long { too_long() } else { packed.and_then(|p| unpack(p, values)) });
        }
        let counts = match (self.counts, self.values) {
            (Some(c), None) => c,
            // W&B's name for the counts, only with its type mark.
            (None, Some(v)) if self.typed => v,
            _ => return None,
        };
        let bins = self.bins?;
        Some(if self.too_long { too_long() } else { Histogram::natural(bins, counts) })
    }
}

/// Reads the object at the cursor as a histogram, when its keys are one of the documented
/// shapes. The cursor is just inside the object's `{`, on its first key's quote. `None`: not a
/// histogram (or not valid JSON); the cursor is then anywhere and the caller reads the object
/// again from where it was.
pub(crate) fn scan(c: &mut Cursor<'_>) -> Option<HistValue> {
    let mut parts = Parts::default();
    loop {
        let key = key(c)?;
        match slot(&key)? {
            Slot::List => {
                let v = numbers(c)?;
                parts.list(&key, v);
            }
            Slot::Number => match c.scalar().ok()? {
                Scalarish::Num(x) => parts.number(&key, x),
                _ => return None,
            },
            Slot::Type => {
                if c.peek() != Some(b'"') {
                    return None;
                }
                c.i += 1;
                if c.string().ok()? != "histogram" {
                    return None;
                }
                parts.typed = true;
            }
            Slot::Packed => parts.packed = Some(packed_scan(c)?),
        }
        c.skip_ws();
        match c.peek() {
            Some(b',') => {
                c.i += 1;
                c.skip_ws();
            }
            Some(b'}') => {
                c.i += 1;
                return parts.finish();
            }
            _ => return None,
        }
    }
}

/// An object's key at the cursor (on its opening quote), and the cursor moved past its `:` to the
/// value.
fn key<'a>(c: &mut Cursor<'a>) -> Option<std::borrow::Cow<'a, str>> {
    if c.peek() != Some(b'"') {
        return None;
    }
    c.i += 1;
    let key = c.string().ok()?;
    c.expect(b':', "").ok()?;
    c.skip_ws();
    Some(key)
}

/// W&B's `packedBins` object at the cursor, on its `{`: only `min`, `size` and `count`, numbers.
fn packed_scan(c: &mut Cursor<'_>) -> Option<Result<(f64, f64, f64), String>> {
    if c.peek() != Some(b'{') {
        return None;
    }
    c.i += 1;
    let (mut min, mut size, mut count) = (None, None, None);
    loop {
        c.skip_ws();
        if c.peek() == Some(b'}') && min.is_none() && size.is_none() && count.is_none() {
            c.i += 1;
            break;
        }
        let key = key(c)?;
        let Scalarish::Num(x) = c.scalar().ok()? else { return None };
        *match key.as_ref() {
            "min" => &mut min,
            "size" => &mut size,
            "count" => &mut count,
            _ => return None,
        } = Some(x);
        c.skip_ws();
        match c.peek() {
            Some(b',') => c.i += 1,
            Some(b'}') => {
                c.i += 1;
                break;
            }
            _ => return None,
        }
    }
    Some(packed_of(min, size, count))
}

/// A list of numbers (possibly empty) at the cursor, on its `[`.
fn numbers(c: &mut Cursor<'_>) -> Option<Vec<f64>> {
    if c.peek() != Some(b'[') {
        return None;
    }
    c.i += 1;
    c.skip_ws();
    let mut v = Vec::new();
    if c.peek() == Some(b']') {
        c.i += 1;
        return Some(v);
    }
    loop {
        match c.scalar().ok()? {
            Scalarish::Num(x) => v.push(x),
            _ => return None,
        }
        c.skip_ws();
        match c.peek() {
            Some(b',') => {
                c.i += 1;
                c.skip_ws();
            }
            Some(b']') => {
                c.i += 1;
                return Some(v);
            }
            _ => return None,
        }
    }
}

/// [`scan`] for an object of a parsed document (whole-file JSON, W&B history values).
pub fn from_object(m: &[(String, JsonValue)]) -> Option<HistValue> {
    let mut parts = Parts::default();
    for (k, v) in m {
        match (slot(k)?, v) {
            (Slot::List, JsonValue::Array(a)) => {
                let nums: Option<Vec<f64>> =
                    a.iter().map(|x| if let JsonValue::Num(n) = x { Some(*n) } else { None }).collect();
                parts.list(k, nums?);
            }
            (Slot::Number, JsonValue::Num(x)) => parts.number(k, *x),
            (Slot::Type, JsonValue::Str(s)) if s == "histogram" => parts.typed = true,
            (Slot::Packed, JsonValue::Object(p)) => {
                let (mut min, mut size, mut count) = (None, None, None);
                for (k, v) in p {
                    let JsonValue::Num(x) = v else { return None };
                    *match k.as_str() {
                        "min" => &mut min,
                        "size" => &mut size,
                        "count" => &mut count,
                        _ => return None,
                    } = Some(*x);
                }
                parts.packed = Some(packed_of(min, size, count));
            }
            _ => return None,
        }
    }
    parts.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_str(s: &str) -> Option<HistValue> {
        let mut c = Cursor::new(s.as_bytes());
        c.i += 1;
        c.skip_ws();
        scan(&mut c)
    }

    #[test]
    fn the_documented_shapes_are_histograms() {
        let h = scan_str(r#"{"bins": [0, 1, 2], "counts": [3, 4]}"#).unwrap().unwrap();
        assert_eq!(h, Histogram { edges: vec![0.0, 1.0, 2.0], counts: vec![3.0, 4.0] });
        let w = scan_str(r#"{"_type": "histogram", "values": [1, 2], "bins": [0, 0.5, 1]}"#);
        assert_eq!(w.unwrap().unwrap().counts, vec![1.0, 2.0]);
        let t = scan_str(
            r#"{"min": -1, "max": 3, "num": 6, "sum": 4, "sum_squares": 12,
                "bucket_limit": [0, 2, 1.7976931348623157e308], "bucket": [1, 3, 2]}"#,
        );
        assert_eq!(t.unwrap().unwrap().edges, vec![-1.0, 0.0, 2.0, 3.0]);
    }

    #[test]
    fn wandb_packed_bins_are_edges_from_min_by_size() {
        let s = r#"{"_type": "histogram", "values": [1, 2, 3], "packedBins": {"min": -1.5, "size": 0.5, "count": 3}}"#;
        let h = scan_str(s).unwrap().unwrap();
        assert_eq!(h, Histogram { edges: vec![-1.5, -1.0, -0.5, 0.0], counts: vec![1.0, 2.0, 3.0] });
        // Key order does not matter, and the parsed-document path agrees.
        let s2 = r#"{"packedBins": {"count": 3, "size": 0.5, "min": -1.5}, "values": [1, 2, 3], "_type": "histogram"}"#;
        assert_eq!(scan_str(s2).unwrap().unwrap(), h);
        let doc = crate::parse::parse_document(s.as_bytes()).unwrap();
        let JsonValue::Object(m) = doc else { panic!() };
        assert_eq!(from_object(&m).unwrap().unwrap(), h);
        // Wrong content: a malformed histogram, with why.
        let err = |s: &str| scan_str(s).expect("a histogram shape").unwrap_err();
        assert!(err(
            r#"{"_type": "histogram", "values": [1, 2], "packedBins": {"min": 0, "size": 1, "count": 3}}"#
        )
        .contains("count 3 for 2 values"));
        assert!(err(r#"{"_type": "histogram", "values": [1], "packedBins": {"min": 0, "count": 1}}"#)
            .contains("without its min"));
        assert!(err(
            r#"{"_type": "histogram", "values": [1], "packedBins": {"min": 0, "size": -1, "count": 1}}"#
        )
        .contains("negative size"));
        // Not W&B's shape: flattened as before.
        for s in [
            r#"{"values": [1], "packedBins": {"min": 0, "size": 1, "count": 1}}"#,
            r#"{"_type": "histogram", "values": [1], "bins": [0, 1], "packedBins": {"min": 0, "size": 1, "count": 1}}"#,
            r#"{"_type": "histogram", "values": [1], "packedBins": {"min": 0, "size": 1, "count": 1, "x": 2}}"#,
            r#"{"_type": "histogram", "values": [1], "packedBins": [0, 1, 1]}"#,
        ] {
            assert!(scan_str(s).is_none(), "{s}");
        }
    }

    #[test]
    fn other_objects_are_not_histograms() {
        for s in [
            r#"{"loss": 1, "acc": 2}"#,
            r#"{"min": 0.1, "max": 0.5}"#,
            r#"{"bins": [0, 1], "counts": [1], "extra": 1}"#,
            r#"{"bins": ["a", "b"], "counts": [1]}"#,
            r#"{"values": [1], "bins": [0, 1]}"#,
            r#"{"_type": "image", "bins": [0, 1], "counts": [1]}"#,
            r#"{"bins": [0, 1], "counts": {"a": 1}}"#,
        ] {
            assert!(scan_str(s).is_none(), "{s}");
        }
    }

    #[test]
    fn malformed_histograms_say_why() {
        let err = |s: &str| scan_str(s).expect("a histogram shape").unwrap_err();
        assert!(err(r#"{"bins": [0, 1], "counts": [1, 2]}"#).contains("2 edges for 2 counts"));
        assert!(err(r#"{"bins": [0, 1, 2], "counts": [1, -2]}"#).contains("negative"));
        assert!(err(r#"{"bins": [0, NaN, 2], "counts": [1, 2]}"#).contains("NaN"));
        assert!(err(r#"{"bins": [0, 3, 2], "counts": [1, 2]}"#).contains("go down"));
        assert!(err(r#"{"bins": [], "counts": []}"#).contains("no counts"));
        assert!(err(r#"{"bucket_limit": [1, 2], "bucket": [1]}"#).contains("limits"));
        let long = format!(r#"{{"bins": [{}], "counts": [1]}}"#, vec!["0"; MAX_BINS + 2].join(","));
        assert!(err(&long).contains("more than"));
    }
}
