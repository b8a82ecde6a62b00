//! Per-block summaries of a column (first min, first max, first positive min, first non-finite
//! value per block of [`BLOCK`] points), so a chart column covering thousands of points is reduced
//! by reading a few summaries instead of every point.
//!
//! [`reduce_sorted`] gives the same envelope as `crate::analysis::reduce::reduce` for sorted xs,
//! point for point (the tests check it), at a cost of O(columns x (log n + BLOCK) + window / BLOCK)
//! instead of O(window): a 1M-point chart that follows a live run costs tens of microseconds per
//! frame. Summaries are extended when points are appended and recomputed from the first value
//! that changed.

use crate::analysis::reduce::{pad, robust_bounds_scaled, Reduced, View, YScale};

/// Points per summary block.
pub const BLOCK: usize = 64;
/// At most this many values enter the percentiles of the y bounds (a fixed stride over the window):
/// enough for a 5th or 95th percentile to move by a fraction of a percent.
const PERCENTILE_SAMPLE: usize = 1 << 14;
const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq)]
struct Block {
    /// First index of the smallest and of the largest finite value.
    min: u32,
    max: u32,
    /// First index of the smallest value > 0 (the log scale's minimum).
    min_pos: u32,
    /// First non-finite value.
    nonfinite: u32,
}

/// The block summaries of one column of y values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Envelope {
    blocks: Vec<Block>,
    len: usize,
}

/// A running minimum/maximum over indices visited in increasing order: strict comparisons keep
/// the first index of equal values, as `reduce` does.
#[derive(Clone, Copy)]
struct Acc {
    min: u32,
    max: u32,
    min_pos: u32,
    nonfinite: u32,
}

impl Acc {
    const EMPTY: Acc = Acc { min: NONE, max: NONE, min_pos: NONE, nonfinite: NONE };

    #[inline]
    fn point(&mut self, ys: &[f64], i: usize) {
        let y = ys[i];
        if !y.is_finite() {
            if self.nonfinite == NONE {
                self.nonfinite = i as u32;
            }
            return;
        }
        if self.min == NONE || y < ys[self.min as usize] {
            self.min = i as u32;
        }
        if self.max == NONE || y > ys[self.max as usize] {
            self.max = i as u32;
        }
        if y > 0.0 && (self.min_pos == NONE || y < ys[self.min_pos as usize]) {
            self.min_pos = i as u32;
        }
    }

    /// A block's summary; blocks come after everything seen so far, so ties keep the old index.
    #[inline]
    fn block(&mut self, ys: &[f64], b: &Block) {
        let less = |new: u32, cur: u32| new != NONE && (cur == NONE || ys[new as usize] < ys[cur as usize]);
        if less(b.min, self.min) {
            self.min = b.min;
        }
        if b.max != NONE && (self.max == NONE || ys[b.max as usize] > ys[self.max as usize]) {
            self.max = b.max;
        }
        if less(b.min_pos, self.min_pos) {
            self.min_pos = b.min_pos;
        }
        if self.nonfinite == NONE {
            self.nonfinite = b.nonfinite;
        }
    }

    fn range(&mut self, ys: &[f64], blocks: &[Block], a: usize, b: usize) {
        let first_full = a.div_ceil(BLOCK);
        let last_full = b / BLOCK;
        if first_full >= last_full {
            (a..b).for_each(|i| self.point(ys, i));
            return;
        }
        (a..first_full * BLOCK).for_each(|i| self.point(ys, i));
        blocks[first_full..last_full].iter().for_each(|bl| self.block(ys, bl));
        (last_full * BLOCK..b).for_each(|i| self.point(ys, i));
    }

    /// The (min, max) indices of the values drawable on `scale`.
    fn drawable(&self, ys: &[f64], scale: YScale) -> Option<(usize, usize)> {
        match scale {
            YScale::Linear => (self.min != NONE).then_some((self.min as usize, self.max as usize)),
            YScale::Log10 => (self.min_pos != NONE && ys[self.max as usize] > 0.0)
                .then_some((self.min_pos as usize, self.max as usize)),
        }
    }
}

impl Envelope {
    /// Brings the summaries up to date with `ys`, whose values before `unchanged` are those the
    /// summaries were built from.
    pub fn update(&mut self, ys: &[f64], unchanged: usize) {
        let keep = unchanged.min(self.len).min(ys.len()) / BLOCK;
        self.blocks.truncate(keep);
        for start in (keep * BLOCK..ys.len()).step_by(BLOCK) {
            let mut acc = Acc::EMPTY;
            (start..(start + BLOCK).min(ys.len())).for_each(|i| acc.point(ys, i));
            self.blocks.push(Block {
                min: acc.min,
                max: acc.max,
                min_pos: acc.min_pos,
                nonfinite: acc.nonfinite,
            });
        }
        self.len = ys.len();
    }
}

/// The envelope of the sorted `xs` / `ys` (same length, summarised in `env`) in `view`, as
/// `crate::analysis::reduce::reduce` computes it. `unplottable` is not counted. Percentile
/// bounds come from a sample of at most [`PERCENTILE_SAMPLE`] values.
pub fn reduce_sorted(xs: &[f64], ys: &[f64], env: &Envelope, view: &View) -> Reduced {
    let n = xs.len().min(ys.len()).min(env.len);
    let (xs, ys) = (&xs[..n], &ys[..n]);
    let (mut lo, mut hi) = (view.x_lo, view.x_hi);
    if lo > hi {
        std::mem::swap(&mut lo, &mut hi);
    }
    if view.columns == 0 || !lo.is_finite() || !hi.is_finite() || n == 0 {
        return Reduced::default();
    }
    let span = hi - lo;
    let per_x = if span > 0.0 { view.columns as f64 / span } else { 0.0 };
    let last_col = view.columns - 1;
    // The same binning as `reduce` (monotone, saturating), so the columns match exactly.
    let col_of = |x: f64| (((x - lo) * per_x) as usize).min(last_col);
    let start = xs.partition_point(|&x| x < lo);
    let end = xs.partition_point(|&x| x <= hi).max(start);
    let mut out = Reduced { in_window: end - start, ..Reduced::default() };
    let drawable = |i: &usize| view.scale.map(ys[*i]).is_some();
    let first = (start..end).find(drawable);
    let last = (start..end).rev().find(drawable);
    let mut idx: Vec<usize> = Vec::with_capacity(2 * view.columns + 2);
    idx.extend(first);
    let (mut y_min, mut y_max) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut i = start;
    while i < end {
        let c = col_of(xs[i]);
        let stop = (i + xs[i..end].partition_point(|&x| col_of(x) <= c)).max(i + 1);
        let mut acc = Acc::EMPTY;
        acc.range(ys, &env.blocks, i, stop);
        if let Some((mn, mx)) = acc.drawable(ys, view.scale) {
            for j in if mn <= mx { [mn, mx] } else { [mx, mn] } {
                if idx.last() != Some(&j) {
                    idx.push(j);
                }
            }
            y_min = y_min.min(view.scale.map(ys[mn]).unwrap_or(f64::NAN));
            y_max = y_max.max(view.scale.map(ys[mx]).unwrap_or(f64::NAN));
        }
        if acc.nonfinite != NONE {
            out.nonfinite_x.push(xs[acc.nonfinite as usize]);
            out.nonfinite_y.push(ys[acc.nonfinite as usize]);
        }
        i = stop;
    }
    if let Some(l) = last.filter(|l| idx.last() != Some(l)) {
        idx.push(l);
    }
    out.points = idx.iter().map(|&i| (xs[i], view.scale.map(ys[i]).unwrap_or(f64::NAN))).collect();
    out.y_bounds = match view.percentiles {
        None => (y_min <= y_max).then(|| pad(y_min, y_max, view.margin)),
        Some((p_lo, p_hi)) => {
            let win = &ys[start..end];
            let stride = win.len().div_ceil(PERCENTILE_SAMPLE).max(1);
            // One value from each stretch of `stride`, at a hashed offset: a fixed stride would
            // alias with periodic data (every 13th point an eval spike sampled 100% or 0%).
            let sample: Vec<f64> = (0..win.len().div_ceil(stride))
                .filter_map(|k| {
                    let off = (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                    win.get(k * stride + off as usize % stride).copied()
                })
                .collect();
            robust_bounds_scaled(&sample, view.scale, p_lo, p_hi, view.margin)
        }
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::reduce::{reduce, XOrder};

    /// A noisy series with spikes, NaNs, infinities, zeros and negative values, and ties.
    fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
        let mut seed = 12345u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        let xs: Vec<f64> = (0..n).map(|i| (i / 3) as f64).collect();
        let ys = (0..n)
            .map(|i| match i % 997 {
                5 => f64::NAN,
                6 => f64::INFINITY,
                7 => 0.0,
                8 => -3.0,
                9 => 1e6,
                _ if i % 13 == 0 => 2.0,
                _ => 1.0 + rnd(),
            })
            .collect();
        (xs, ys)
    }

    #[test]
    fn matches_reduce_on_sorted_data() {
        let (xs, ys) = data(50_000);
        let mut env = Envelope::default();
        env.update(&ys, 0);
        for scale in [YScale::Linear, YScale::Log10] {
            for (lo, hi, cols) in [(0.0, 20_000.0, 100), (1234.5, 1300.0, 37), (-5.0, 3.0, 8), (0.0, 0.0, 5)]
            {
                let view = View { x_lo: lo, x_hi: hi, columns: cols, scale, percentiles: None, margin: 0.1 };
                let want = reduce(&xs, &ys, &view, XOrder::Sorted);
                let got = reduce_sorted(&xs, &ys, &env, &view);
                assert_eq!(got.points.len(), want.points.len(), "{scale:?} {lo} {hi}");
                for (g, w) in got.points.iter().zip(&want.points) {
                    assert_eq!(g.0, w.0, "{scale:?} {lo} {hi}");
                    assert!((g.1 - w.1).abs() <= 1e-12 * w.1.abs().max(1.0), "{g:?} {w:?}");
                }
                assert_eq!(got.nonfinite_x, want.nonfinite_x);
                assert_eq!(got.in_window, want.in_window);
                assert_eq!(got.y_bounds, want.y_bounds, "{scale:?} {lo} {hi}");
            }
        }
    }

    #[test]
    fn percentile_bounds_frame_the_bulk() {
        let (xs, ys) = data(200_000);
        let mut env = Envelope::default();
        env.update(&ys, 0);
        let view = View::new(0.0, 1e9, 50);
        let view = View { percentiles: Some((5.0, 95.0)), margin: 0.1, ..view };
        let (lo, hi) = reduce_sorted(&xs, &ys, &env, &view).y_bounds.expect("bounds");
        assert!(lo > 0.5 && lo < 1.2 && hi > 1.9 && hi < 2.3, "{lo} {hi}");
    }

    #[test]
    fn updates_equal_a_fresh_build() {
        let (_, ys) = data(10_000);
        let mut env = Envelope::default();
        let mut n = 0;
        for k in [1, 63, 64, 65, 1000, 3, 5000] {
            n += k;
            env.update(&ys[..n], n - k);
        }
        let mut fresh = Envelope::default();
        fresh.update(&ys[..n], 0);
        assert_eq!(env, fresh);
        // A changed tail is recomputed from the first changed value.
        let mut changed = ys[..n].to_vec();
        changed[n - 10] = -1e9;
        env.update(&changed, n - 10);
        fresh.update(&changed, 0);
        assert_eq!(env, fresh);
    }
}
