//! The centred smoothers (Gaussian, running average) of a charted series without a column of
//! smoothed values nor a copy of the values: each value read is computed from the store's values
//! around it ([`Centred::range`]), bit for bit what a batch run over the points taken gives.
//!
//! A chart reads few of them: the block summaries are built in one pass in order (computed in
//! chunks, each costing its length plus the smoother's overhead), then a frame reads the partial
//! blocks at its columns' edges and a sample for the percentiles. A read by index computes a
//! chunk around it and keeps that one chunk, so nearby reads (a sample every few hundred points,
//! a column's edge) share it. What is held between frames is the smoother's parameter: no bytes a
//! point.

use crate::analysis::smooth::{Centred, Smoother};
use crate::chart::reduce::BLOCK;
use crate::chart::values::Ys;
use crate::store::SeriesView;
use std::cell::RefCell;

/// Values computed at a time in a pass in order: large enough that a box smoother's overhead (the
/// blocks around a chunk) costs a small fraction, small enough to stay in cache.
const CHUNK: usize = 1 << 14;

/// A centred smoother over a series' first `len` points.
#[derive(Debug)]
pub struct LazyWindow {
    kind: Smoother,
    centred: Centred,
    len: usize,
}

impl LazyWindow {
    /// None for the EMAs.
    pub fn new(kind: Smoother) -> Option<Self> {
        Centred::new(kind).map(|centred| LazyWindow { kind: kind.clamped(), centred, len: 0 })
    }

    /// The smoother, clamped.
    pub fn kind(&self) -> Smoother {
        self.kind
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Takes the series' first `n` points (which must extend those taken).
    pub fn set_len(&mut self, n: usize) {
        self.len = n;
    }

    /// The smoothed values of `ys` (the series the points were taken from).
    pub fn values<'a>(&'a self, ys: SeriesView<'a>) -> WindowValues<'a> {
        WindowValues { w: self, ys, chunk: RefCell::new((0, Vec::new())) }
    }
}

/// The smoothed values, read by index or in order.
pub struct WindowValues<'a> {
    w: &'a LazyWindow,
    ys: SeriesView<'a>,
    /// The last chunk computed for a read by index: (its first point, its values).
    chunk: RefCell<(usize, Vec<f64>)>,
}

impl WindowValues<'_> {
    fn compute(&self, from: usize, to: usize, out: &mut Vec<f64>) {
        let ys = self.ys;
        self.w.centred.range(|i| ys.value(i), self.w.len, from, to, out);
    }
}

impl Ys for WindowValues<'_> {
    fn len(&self) -> usize {
        self.w.len
    }

    fn for_each_from(&self, from: usize, to: usize, mut f: impl FnMut(usize, f64)) {
        let to = to.min(self.w.len);
        if from >= to {
            return;
        }
        if to - from <= self.span() {
            // A few values (the partial blocks at a chart column's edges: the end of one column
            // and the start of the next are neighbours): through the chunk kept for reads.
            let chunk = self.chunk_at(from, to);
            let (start, values) = &*chunk;
            for (i, &v) in (from..to).zip(&values[from - start..]) {
                f(i, v);
            }
            return;
        }
        let step = CHUNK.max(4 * self.w.centred.overhead());
        let mut buf = Vec::new();
        let mut a = from;
        while a < to {
            let b = (a + step).min(to);
            buf.clear();
            self.compute(a, b, &mut buf);
            for (i, &v) in (a..b).zip(&buf) {
                f(i, v);
            }
            a = b;
        }
    }

    fn y(&self, i: usize) -> f64 {
        let chunk = self.chunk_at(i, i + 1);
        chunk.1.get(i - chunk.0).copied().unwrap_or(f64::NAN)
    }
}

impl WindowValues<'_> {
    /// Values computed at a time for reads by index: a box smoother pays its overhead whatever
    /// the chunk's length, so a chunk as long spreads it over the reads nearby; an exact kernel
    /// computes each point for its width alone.
    fn span(&self) -> usize {
        if self.w.centred.pointwise() {
            1
        } else {
            self.w.centred.overhead().clamp(BLOCK, CHUNK)
        }
    }

    /// The chunk kept for reads, computed afresh from `from` unless it holds `from..to`
    /// (`to <= self.w.len`).
    fn chunk_at(&self, from: usize, to: usize) -> std::cell::Ref<'_, (usize, Vec<f64>)> {
        let holds = {
            let (start, values) = &*self.chunk.borrow();
            from >= *start && to <= start + values.len()
        };
        if !holds {
            let mut chunk = self.chunk.borrow_mut();
            let (start, values) = &mut *chunk;
            values.clear();
            *start = from;
            let end = (from + self.span().max(to - from)).min(self.w.len);
            self.compute(from, end, values);
        }
        self.chunk.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::smooth::smooth;
    use crate::store::{RecordMeta, Store};

    #[test]
    fn reads_in_any_order_equal_the_batch_bit_for_bit() {
        let mut st = Store::new();
        let id = st.intern("loss");
        let n = 20_000;
        for i in 0..n {
            let r = st.begin_record(RecordMeta { step: i as f64, time: f64::NAN, line: i as u64 + 1 });
            let y = if i % 101 == 7 { f64::NAN } else { ((i * 7919) % 1000) as f64 / 37.0 };
            st.push(r, id, y);
        }
        let ys = st.series(id);
        for kind in [
            Smoother::Gaussian { sigma: 2.0 },
            Smoother::Gaussian { sigma: 30.0 },
            Smoother::RunningAverage { window: 347 },
            Smoother::RunningAverage { window: 1 },
        ] {
            // The first 15,000 points taken: the values after them are not read.
            let taken = 15_000;
            let want = smooth(kind, &[], &ys.values()[..taken]);
            let mut w = LazyWindow::new(kind).unwrap();
            w.set_len(taken);
            let v = w.values(ys);
            let bits = |y: f64| y.to_bits();
            let mut seq = Vec::new();
            v.for_each_from(0, n, |i, y| seq.push((i, bits(y))));
            assert!(seq.iter().map(|p| p.1).eq(want.iter().map(|&y| bits(y))), "{kind:?}: in order");
            assert_eq!(seq.len(), taken);
            let mut i = 0usize;
            for _ in 0..3000 {
                i = (i * 31 + 17) % taken;
                assert_eq!(bits(v.y(i)), bits(want[i]), "{kind:?}: point {i}");
            }
            for i in (0..taken).rev().step_by(97) {
                assert_eq!(bits(v.y(i)), bits(want[i]), "{kind:?}: point {i} backwards");
            }
            // Short ranges, as a chart column's edges are read: neighbours, then out of order.
            for (a, b) in
                [(100, 128), (128, 192), (192, 200), (14_990, 15_000), (3, 4), (7000, 7063), (64, 65)]
            {
                let mut got = Vec::new();
                v.for_each_from(a, b, |i, y| got.push((i, bits(y))));
                let want_ab: Vec<(usize, u64)> = (a..b).map(|i| (i, bits(want[i]))).collect();
                assert_eq!(got, want_ab, "{kind:?}: for_each_from({a}, {b})");
            }
        }
    }
}
