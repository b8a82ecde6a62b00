//! Per-block summaries of a column (first min, first max, first positive min, first non-finite
//! value per block of [`BLOCK`] points), so a chart column covering thousands of points is reduced
//! by reading a few summaries instead of every point.
//!
//! [`reduce_sorted`] gives the same envelope as `crate::analysis::reduce::reduce` for sorted xs,
//! point for point (the tests check it), at a cost of O(columns x (log n + BLOCK) + window / BLOCK)
//! instead of O(window): a 1M-point chart that follows a live run costs well under a millisecond
//! per frame. Summaries are extended when points are appended and recomputed from the first value
//! that changed. xs and ys are read by index through [`Xs`] and [`Ys`], so neither needs to be a
//! copy: the xs come from the store's record table, and a smoothed column may compute its values
//! on demand (the values read are carried along, never read twice).

mod bounds;
pub mod slice;

pub use slice::{pad, robust_bounds_scaled, Columns, Reduced, View, YScale};

use super::values::{Xs, Ys};
/// Points per summary block.
pub const BLOCK: usize = 64;
/// At most this many values enter the percentiles of the y bounds (one per stretch of the window):
/// the rank of a 5th or 95th percentile is then off by about 0.3%, and a frame reads only a few
/// thousand cache lines of a million-point window.
const PERCENTILE_SAMPLE: usize = 1 << 12;
const NONE: u32 = u32::MAX;

/// The summary of a run of points: the first index of the smallest and of the largest finite
/// value, of the smallest value > 0 (the log scale's minimum) and of the first non-finite value,
/// with the values, so that combining summaries reads no point. Built over indices in increasing
/// order with strict comparisons, so ties keep the first index, as `reduce` does.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Acc {
    min_v: f64,
    max_v: f64,
    min_pos_v: f64,
    min: u32,
    max: u32,
    min_pos: u32,
    nonfinite: u32,
}

/// One block's summary.
type Block = Acc;

/// The block summaries of one column of y values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Envelope {
    blocks: Vec<Block>,
    len: usize,
}

impl Acc {
    const EMPTY: Acc = Acc {
        min_v: f64::INFINITY,
        max_v: f64::NEG_INFINITY,
        min_pos_v: f64::INFINITY,
        min: NONE,
        max: NONE,
        min_pos: NONE,
        nonfinite: NONE,
    };

    #[inline]
    fn point(&mut self, i: usize, y: f64) {
        if !y.is_finite() {
            if self.nonfinite == NONE {
                self.nonfinite = i as u32;
            }
            return;
        }
        if self.min == NONE || y < self.min_v {
            (self.min, self.min_v) = (i as u32, y);
        }
        if self.max == NONE || y > self.max_v {
            (self.max, self.max_v) = (i as u32, y);
        }
        if y > 0.0 && (self.min_pos == NONE || y < self.min_pos_v) {
            (self.min_pos, self.min_pos_v) = (i as u32, y);
        }
    }

    /// Adds a summary of points that come after everything seen so far.
    #[inline]
    fn block(&mut self, b: &Block) {
        if b.min != NONE && (self.min == NONE || b.min_v < self.min_v) {
            (self.min, self.min_v) = (b.min, b.min_v);
        }
        if b.max != NONE && (self.max == NONE || b.max_v > self.max_v) {
            (self.max, self.max_v) = (b.max, b.max_v);
        }
        if b.min_pos != NONE && (self.min_pos == NONE || b.min_pos_v < self.min_pos_v) {
            (self.min_pos, self.min_pos_v) = (b.min_pos, b.min_pos_v);
        }
        if self.nonfinite == NONE {
            self.nonfinite = b.nonfinite;
        }
    }

    fn range<Y: Ys + ?Sized>(&mut self, ys: &Y, blocks: &[Block], a: usize, b: usize) {
        let first_full = a.div_ceil(BLOCK);
        let last_full = b / BLOCK;
        if first_full >= last_full {
            ys.for_each_from(a, b, |i, y| self.point(i, y));
            return;
        }
        ys.for_each_from(a, first_full * BLOCK, |i, y| self.point(i, y));
        blocks[first_full..last_full].iter().for_each(|bl| self.block(bl));
        ys.for_each_from(last_full * BLOCK, b, |i, y| self.point(i, y));
    }

    /// The (index, value) of the min and of the max of the values drawable on `scale` (the
    /// values as read, so a chart need not read them again).
    fn drawable(&self, scale: YScale) -> Option<((usize, f64), (usize, f64))> {
        let max = (self.max as usize, self.max_v);
        match scale {
            YScale::Linear => (self.min != NONE).then_some(((self.min as usize, self.min_v), max)),
            YScale::Log10 => (self.min_pos != NONE).then_some(((self.min_pos as usize, self.min_pos_v), max)),
        }
    }
}

impl Envelope {
    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<Block>()
    }

    /// Brings the summaries up to date with `ys`, whose values before `unchanged` are those the
    /// summaries were built from.
    pub fn update<Y: Ys + ?Sized>(&mut self, ys: &Y, unchanged: usize) {
        let n = ys.len();
        self.update_with(unchanged, n, |start, sink| ys.for_each_from(start, n, sink));
    }

    /// As [`Envelope::update`] for `n` values that `feed(start, sink)` hands to `sink` in order,
    /// from `start` (where the summaries must be rebuilt from) to `n`.
    pub fn update_with(
        &mut self,
        unchanged: usize,
        n: usize,
        feed: impl FnOnce(usize, &mut dyn FnMut(usize, f64)),
    ) {
        let keep = unchanged.min(self.len).min(n) / BLOCK;
        self.blocks.truncate(keep);
        let mut acc = Acc::EMPTY;
        feed(keep * BLOCK, &mut |i, y| {
            acc.point(i, y);
            if i % BLOCK == BLOCK - 1 || i + 1 == n {
                self.blocks.push(std::mem::replace(&mut acc, Acc::EMPTY));
            }
        });
        self.len = n;
    }
}

/// The envelope of the sorted `xs` / `ys` (same length, summarised in `env`) in `view`, as
/// `crate::analysis::reduce::reduce` computes it. `unplottable` is not counted. Percentile
/// bounds come from a sample of at most [`PERCENTILE_SAMPLE`] values.
pub fn reduce_sorted<X: Xs + ?Sized, Y: Ys + ?Sized>(xs: &X, ys: &Y, env: &Envelope, view: &View) -> Reduced {
    let n = xs.len().min(ys.len()).min(env.len);
    // The same binning as `reduce`, so the columns match exactly.
    let Some(cols) = Columns::of_view(view).filter(|_| n > 0) else { return Reduced::default() };
    let (lo, hi) = (cols.lo, cols.hi);
    let col_of = |x: f64| cols.of(x);
    let start = xs.partition_point(0, n, |x| x < lo);
    let end = xs.partition_point(start, n, |x| x <= hi);
    let mut out = Reduced { in_window: end - start, ..Reduced::default() };
    // (index, value) of the points drawn: values are carried from where they were read, since a
    // smoothed column may compute a value on each read (see `crate::app::columns`).
    let drawable = |i: usize| Some((i, ys.y(i))).filter(|&(_, y)| view.scale.map(y).is_some());
    let first = (start..end).find_map(drawable);
    let last = (start..end).rev().find_map(drawable);
    let mut idx: Vec<(usize, f64)> = Vec::with_capacity(2 * view.columns + 2);
    idx.extend(first);
    let (mut y_min, mut y_max) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut i = start;
    let mut width = ((end - start) / view.columns).max(1);
    while i < end {
        let c = col_of(xs.x(i));
        let stop = gallop(xs, i, end, i + width, |x| col_of(x) <= c);
        width = stop - i;
        let mut acc = Acc::EMPTY;
        acc.range(ys, &env.blocks, i, stop);
        if let Some((mn, mx)) = acc.drawable(view.scale) {
            for p in if mn.0 <= mx.0 { [mn, mx] } else { [mx, mn] } {
                if idx.last().map(|l| l.0) != Some(p.0) {
                    idx.push(p);
                }
            }
            y_min = y_min.min(view.scale.map(mn.1).unwrap_or(f64::NAN));
            y_max = y_max.max(view.scale.map(mx.1).unwrap_or(f64::NAN));
        }
        if acc.nonfinite != NONE {
            out.nonfinite_x.push(xs.x(acc.nonfinite as usize));
            out.nonfinite_y.push(ys.y(acc.nonfinite as usize));
        }
        i = stop;
    }
    if let Some(l) = last.filter(|l| idx.last().map(|p| p.0) != Some(l.0)) {
        idx.push(l);
    }
    out.points = idx.iter().map(|&(i, y)| (xs.x(i), view.scale.map(y).unwrap_or(f64::NAN))).collect();
    out.y_bounds = match view.percentiles {
        None => (y_min <= y_max).then(|| pad(y_min, y_max, view.margin)),
        Some((p_lo, p_hi)) => {
            let win_len = end - start;
            let stride = win_len.div_ceil(PERCENTILE_SAMPLE).max(1);
            // One value from each stretch of `stride`, at a hashed offset: a fixed stride would
            // alias with periodic data (every 13th point an eval spike sampled 100% or 0%).
            let sample: Vec<f64> = (0..win_len.div_ceil(stride))
                .filter_map(|k| {
                    let off = (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                    let j = k * stride + off as usize % stride;
                    (j < win_len).then(|| ys.y(start + j))
                })
                .collect();
            robust_bounds_scaled(&sample, view.scale, p_lo, p_hi, view.margin)
        }
    };
    out
}

/// The first index in `i + 1..=end` whose x is not `inside` (`xs` sorted, `inside` monotone and
/// true at `i`), searched outwards from `guess`. A column usually ends about one column's width
/// after it starts, so this reads a few nearby xs where a binary search over the whole window
/// would miss the cache at every step.
fn gallop<X: Xs + ?Sized>(xs: &X, i: usize, end: usize, guess: usize, inside: impl Fn(f64) -> bool) -> usize {
    let g = guess.clamp(i + 1, end);
    let (mut lo, mut hi) = (i, g);
    let mut step = 1;
    if g < end && inside(xs.x(g)) {
        lo = g;
        loop {
            let p = lo + step;
            if p >= end {
                hi = end;
                break;
            }
            if inside(xs.x(p)) {
                lo = p;
                step *= 2;
            } else {
                hi = p;
                break;
            }
        }
    } else {
        while hi - lo > step {
            let p = hi - step;
            if inside(xs.x(p)) {
                lo = p;
                break;
            }
            hi = p;
            step *= 2;
        }
    }
    xs.partition_point(lo + 1, hi, inside)
}

#[cfg(test)]
mod tests {
    use super::slice::{reduce, XOrder};
    use super::*;

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
                let got = reduce_sorted(&xs[..], &ys, &env, &view);
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
    fn gallop_finds_the_end_of_a_column_from_any_guess() {
        let xs: Vec<f64> = (0..300).map(|i| (i / 7) as f64).collect();
        for i in [0, 7, 50, 294] {
            let want = xs.partition_point(|&x| x <= xs[i]);
            for guess in [0, i, i + 1, i + 3, i + 7, i + 100, 1000] {
                assert_eq!(gallop(&xs[..], i, xs.len(), guess, |x| x <= xs[i]), want, "{i} {guess}");
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
        let (lo, hi) = reduce_sorted(&xs[..], &ys, &env, &view).y_bounds.expect("bounds");
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
