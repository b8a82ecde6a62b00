//! A run's histograms: per name, the bins of every step it was logged at, packed.
//!
//! A histogram is not a metric: a 64-bin histogram logged at 10,000 steps is 640,000 counts, and
//! a run may log a hundred of them. Each point costs about 20 bytes plus one byte a bin:
//! - the record it was logged on (its step and line come from the store's record table);
//! - its edges: the first and last when they are evenly spaced (`torch.histc`, `numpy.histogram`
//!   with a bin count, TensorBoard's exponential buckets clamped to min and max are not, and keep
//!   every edge, as `f32`);
//! - its counts, a byte each: exact when every count is a whole number up to 255; else the square
//!   root of the count's fraction of the tallest bin, in 255 steps. The error of a count `c` is
//!   then about `sqrt(c * top) / 255`: under the counting noise of the bin itself (`sqrt(c)`)
//!   whenever the tallest bin holds fewer than 65,025 values, and a fraction of a percent of the
//!   tallest bin at worst; a bar on a terminal has a few hundred eighths of a cell at most. A
//!   non-empty bin is never rounded to empty, so the range a distribution covers (its 0th and
//!   100th percentiles) stays exact;
//! - the total count, as the log gave it.
//!
//! Malformed histograms are counted here with the first [`BAD_KEPT`] reasons, for the screens and
//! the report.

use crate::parse::Histogram;
use crate::store::RecordIdx;
use std::collections::HashMap;

/// Index of a histogram name in a [`Histograms`].
pub type HistId = usize;

/// Most histogram names a run may have; the values of further names are counted as dropped.
pub const MAX_HISTOGRAMS: usize = 2_000;

/// Malformed histograms kept with their reason; beyond this only the count grows.
pub const BAD_KEPT: usize = 100;

/// One malformed histogram: where, under which key, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct BadHistogram {
    pub line: u64,
    /// The key, as in the log (not sanitised: the UI sanitises).
    pub name: String,
    pub reason: String,
}

/// How a point's bins are laid out in the packed counts.
#[derive(Clone, Debug)]
enum Bins {
    /// Every point so far has this many bins.
    Fixed(u32),
    /// Point `i`'s counts are `counts[starts[i]..starts[i + 1]]`.
    Varying(Vec<u32>),
}

/// Every point of one histogram name.
#[derive(Clone, Debug)]
struct HistSeries {
    name: String,
    records: Vec<RecordIdx>,
    /// First and last edge of each point.
    range: Vec<[f32; 2]>,
    /// The total count of each point, as logged.
    totals: Vec<f32>,
    /// Each point's count for a byte of 1.
    scales: Vec<f32>,
    counts: Vec<u8>,
    bins: Bins,
    /// Points whose edges are not evenly spaced: (point, offset of its edges in `edges`).
    uneven: Vec<(u32, u32)>,
    edges: Vec<f32>,
}

/// A run's histograms.
#[derive(Clone, Debug, Default)]
pub struct Histograms {
    list: Vec<HistSeries>,
    by_name: HashMap<String, HistId>,
    bad: Vec<BadHistogram>,
    bad_count: u64,
    dropped: u64,
}

/// Whether `edges` are evenly spaced from the first to the last, to `f32` precision.
fn even(edges: &[f64]) -> bool {
    let n = edges.len() - 1;
    let (lo, hi) = (edges[0], edges[n]);
    let tol = (hi - lo).abs() * 1e-5 + lo.abs().max(hi.abs()) * 1e-7;
    edges.iter().enumerate().all(|(k, &e)| (e - (lo + (hi - lo) * k as f64 / n as f64)).abs() <= tol)
}

impl Histograms {
    /// The id of histogram `name`, made when new; `None` when the run has [`MAX_HISTOGRAMS`].
    pub fn intern(&mut self, name: &str) -> Option<HistId> {
        if let Some(&id) = self.by_name.get(name) {
            return Some(id);
        }
        if self.list.len() >= MAX_HISTOGRAMS {
            return None;
        }
        let id = self.list.len();
        self.list.push(HistSeries {
            name: name.to_owned(),
            records: Vec::new(),
            range: Vec::new(),
            totals: Vec::new(),
            scales: Vec::new(),
            counts: Vec::new(),
            bins: Bins::Fixed(0),
            uneven: Vec::new(),
            edges: Vec::new(),
        });
        self.by_name.insert(name.to_owned(), id);
        Some(id)
    }

    pub fn find(&self, name: &str) -> Option<HistId> {
        self.by_name.get(name).copied()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn name(&self, id: HistId) -> &str {
        &self.list[id].name
    }

    /// The histograms whose last point is on record `rec` (those a record just appended carried).
    pub fn on_record(&self, rec: RecordIdx) -> impl Iterator<Item = HistId> + '_ {
        self.list.iter().enumerate().filter(move |(_, s)| s.records.last() == Some(&rec)).map(|(id, _)| id)
    }

    /// Appends `h` to histogram `id` at record `rec`.
    pub fn push(&mut self, id: HistId, rec: RecordIdx, h: &Histogram) {
        let s = &mut self.list[id];
        let point = s.records.len() as u32;
        let n = h.counts.len() as u32;
        match &mut s.bins {
            Bins::Fixed(k) if point == 0 => *k = n,
            Bins::Fixed(k) if *k == n => {}
            Bins::Fixed(k) => {
                let k = *k;
                s.bins = Bins::Varying((0..=point).map(|p| p * k).collect());
            }
            Bins::Varying(_) => {}
        }
        if let Bins::Varying(starts) = &mut s.bins {
            starts.push(s.counts.len() as u32 + n);
        }
        let (lo, hi) = (h.edges[0], h.edges[h.edges.len() - 1]);
        super::room_for_one(&mut s.records);
        s.records.push(rec);
        super::room_for_one(&mut s.range);
        s.range.push([lo as f32, hi as f32]);
        if !even(&h.edges) {
            s.uneven.push((point, s.edges.len() as u32));
            s.edges.extend(h.edges.iter().map(|&e| e as f32));
        }
        let top = h.counts.iter().copied().fold(0.0f64, f64::max);
        let whole = top <= 255.0 && h.counts.iter().all(|c| c.fract() == 0.0);
        // 0: the bytes are the counts. Else the tallest count, and a byte is the square root of
        // a count's fraction of it.
        let scale = if whole { 0.0 } else { top };
        super::room_for_one(&mut s.scales);
        s.scales.push(scale as f32);
        if s.counts.len() + h.counts.len() > s.counts.capacity() && s.counts.capacity() >= 4 << 20 {
            s.counts.reserve_exact(s.counts.len() / 8);
        }
        s.counts.extend(h.counts.iter().map(|&c| {
            let q = if whole { c } else { ((c / top).sqrt() * 255.0).round() };
            let q = q.clamp(0.0, 255.0) as u8;
            // A non-empty bin stays non-empty.
            if c > 0.0 {
                q.max(1)
            } else {
                q
            }
        }));
        super::room_for_one(&mut s.totals);
        s.totals.push(h.total() as f32);
    }

    /// Counts a malformed histogram under `name` at `line`.
    pub fn count_bad(&mut self, line: u64, name: &str, reason: &str) {
        self.bad_count += 1;
        if self.bad.len() < BAD_KEPT {
            self.bad.push(BadHistogram { line, name: name.to_owned(), reason: reason.to_owned() });
        }
    }

    /// Counts a histogram not kept because the run has [`MAX_HISTOGRAMS`] names.
    pub fn count_dropped(&mut self) {
        self.dropped += 1;
    }

    /// Malformed histograms read: how many, and the first [`BAD_KEPT`].
    pub fn bad(&self) -> (u64, &[BadHistogram]) {
        (self.bad_count, &self.bad)
    }

    /// Histograms not kept because the run had [`MAX_HISTOGRAMS`] names already.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn heap_bytes(&self) -> usize {
        self.list
            .iter()
            .map(|s| {
                s.records.capacity() * 4
                    + s.range.capacity() * 8
                    + s.totals.capacity() * 4
                    + s.scales.capacity() * 4
                    + s.counts.capacity()
                    + s.uneven.capacity() * 8
                    + s.edges.capacity() * 4
                    + match &s.bins {
                        Bins::Fixed(_) => 0,
                        Bins::Varying(v) => v.capacity() * 4,
                    }
                    + s.name.capacity()
                    + 160
            })
            .sum::<usize>()
            + self.bad.iter().map(|b| b.name.len() + b.reason.len() + 64).sum::<usize>()
    }

    /// Read access to histogram `id`, its steps read from `steps` (the store's record steps).
    pub fn view<'a>(&'a self, id: HistId, steps: &'a super::Packed) -> HistView<'a> {
        HistView { s: &self.list[id], steps }
    }
}

/// Read access to one histogram name's points.
#[derive(Clone, Copy)]
pub struct HistView<'a> {
    s: &'a HistSeries,
    steps: &'a super::Packed,
}

/// One point: a histogram at a step, unpacked.
#[derive(Clone, Debug, PartialEq)]
pub struct HistPoint {
    pub step: f64,
    pub record: RecordIdx,
    /// `counts.len() + 1` edges.
    pub edges: Vec<f64>,
    pub counts: Vec<f64>,
    /// The total count as logged.
    pub total: f64,
}

impl<'a> HistView<'a> {
    pub fn name(&self) -> &'a str {
        &self.s.name
    }
    pub fn len(&self) -> usize {
        self.s.records.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn step(&self, i: usize) -> f64 {
        self.steps.get(self.s.records[i] as usize)
    }
    pub fn record(&self, i: usize) -> RecordIdx {
        self.s.records[i]
    }
    /// The first and last edge of point `i`: the range its values cover.
    pub fn range(&self, i: usize) -> (f64, f64) {
        let [lo, hi] = self.s.range[i];
        (lo as f64, hi as f64)
    }
    /// The index of the last point at or before `step` (the first point when all are after).
    pub fn at_step(&self, step: f64) -> Option<usize> {
        if self.is_empty() {
            return None;
        }
        let k = self.s.records.partition_point(|&r| self.steps.get(r as usize) <= step);
        Some(k.saturating_sub(1))
    }
    fn bins_of(&self, i: usize) -> std::ops::Range<usize> {
        match &self.s.bins {
            Bins::Fixed(k) => i * *k as usize..(i + 1) * *k as usize,
            Bins::Varying(st) => st[i] as usize..st[i + 1] as usize,
        }
    }
    /// Point `i`, unpacked.
    pub fn point(&self, i: usize) -> HistPoint {
        let r = self.bins_of(i);
        let n = r.len();
        let scale = self.s.scales[i] as f64;
        let counts: Vec<f64> = if scale == 0.0 {
            self.s.counts[r].iter().map(|&q| q as f64).collect()
        } else {
            self.s.counts[r].iter().map(|&q| (q as f64 / 255.0).powi(2) * scale).collect()
        };
        let (lo, hi) = self.range(i);
        let edges = match self.s.uneven.binary_search_by_key(&(i as u32), |u| u.0) {
            Ok(k) => {
                let at = self.s.uneven[k].1 as usize;
                self.s.edges[at..at + n + 1].iter().map(|&e| e as f64).collect()
            }
            Err(_) => (0..=n).map(|k| lo + (hi - lo) * k as f64 / n.max(1) as f64).collect(),
        };
        HistPoint {
            step: self.step(i),
            record: self.s.records[i],
            edges,
            counts,
            total: self.s.totals[i] as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(edges: &[f64], counts: &[f64]) -> Histogram {
        Histogram { edges: edges.to_vec(), counts: counts.to_vec() }
    }

    #[test]
    fn points_come_back_as_they_went_in() {
        let mut hs = Histograms::default();
        let id = hs.intern("w").unwrap();
        hs.push(id, 0, &h(&[0.0, 1.0, 2.0, 3.0], &[1.0, 5.0, 2.0]));
        hs.push(id, 1, &h(&[-1.0, 0.0, 10.0], &[3.0, 4.0]));
        hs.push(id, 2, &h(&[0.0, 0.5, 1.0], &[1e6, 2.5e5]));
        let steps: super::super::Packed = [10.0, 20.0, 30.0].into_iter().collect();
        let v = hs.view(id, &steps);
        assert_eq!(v.len(), 3);
        let p = v.point(0);
        assert_eq!(
            (p.step, p.edges, p.counts, p.total),
            (10.0, vec![0.0, 1.0, 2.0, 3.0], vec![1.0, 5.0, 2.0], 8.0)
        );
        let p = v.point(1);
        assert_eq!((p.edges, p.counts), (vec![-1.0, 0.0, 10.0], vec![3.0, 4.0]));
        let p = v.point(2);
        assert!((p.counts[0] - 1e6).abs() < 1.0, "{}", p.counts[0]);
        assert!((p.counts[1] - 2.5e5).abs() <= 1e6 / 255.0, "{}", p.counts[1]);
        assert_eq!(hs.view(id, &steps).point(0).counts, vec![1.0, 5.0, 2.0], "small whole counts are exact");
        assert_eq!(v.at_step(25.0), Some(1));
        assert_eq!(v.at_step(5.0), Some(0));
    }

    #[test]
    fn a_tiny_bin_is_never_rounded_to_empty() {
        let mut hs = Histograms::default();
        let id = hs.intern("w").unwrap();
        hs.push(id, 0, &h(&[0.0, 1.0, 2.0, 3.0], &[1.0, 1e9, 0.0]));
        let p = hs.view(id, &[0.0].into_iter().collect()).point(0);
        assert!(p.counts[0] > 0.0 && p.counts[2] == 0.0);
    }

    #[test]
    fn a_point_costs_about_a_byte_a_bin() {
        let mut hs = Histograms::default();
        let id = hs.intern("w").unwrap();
        let edges: Vec<f64> = (0..=64).map(|k| -1.0 + k as f64 / 32.0).collect();
        let counts: Vec<f64> =
            (0..64).map(|k| (1000.0 * (-((k as f64 - 32.0) / 8.0).powi(2)).exp()).round()).collect();
        // A power of two: the columns' capacity is their length.
        let n = 1 << 14;
        for r in 0..n {
            hs.push(id, r, &h(&edges, &counts));
        }
        let per_point = hs.heap_bytes() / n as usize;
        assert!(per_point <= 64 + 24, "{per_point} bytes a point");
        let back = hs.view(id, &vec![0.0; n as usize].into_iter().collect()).point(n as usize - 1).counts;
        for (b, c) in back.iter().zip(&counts) {
            // Within the bin's own counting noise.
            assert!((b - c).abs() <= c.sqrt().max(0.5), "{b} for {c}");
        }
    }
}
