//! Reduction of a visible window to a per-column min/max envelope, so a chart never hands ratatui
//! millions of points and spikes never vanish; plus the y bounds of the window and a cache that
//! recomputes only when the data or the view changes.
//!
//! A column's min and max are emitted in x order, so the line drawn through them passes through
//! every spike. The window's first and last drawable points are always kept exactly, so the line
//! starts and ends at true values. Output: at most `2 * columns + 2` points, sorted by x.

pub use super::bounds::{
    minmax_bounds, minmax_bounds_scaled, pad, robust_bounds, robust_bounds_scaled, YScale, PERCENTILE_SAMPLE,
};

use std::ops::Range;

/// What part of a series a chart shows, and how.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    /// Visible x range, inclusive. A reversed range is swapped; a non-finite one shows nothing.
    pub x_lo: f64,
    pub x_hi: f64,
    /// Chart columns (for braille, twice the terminal cells: two dots per cell).
    pub columns: usize,
    pub scale: YScale,
    /// Percentiles for the y bounds, e.g. `Some((5.0, 95.0))` for outlier-aware scaling; None for
    /// plain min/max.
    pub percentiles: Option<(f64, f64)>,
    /// Fraction of the y span added above and below.
    pub margin: f64,
}

impl View {
    /// A linear view with min/max y bounds and no margin.
    pub fn new(x_lo: f64, x_hi: f64, columns: usize) -> Self {
        View { x_lo, x_hi, columns, scale: YScale::Linear, percentiles: None, margin: 0.0 }
    }
}

/// Whether the xs of a series are known to be non-decreasing. A restarted run appending to its
/// log is not; [`XOrder::Unknown`] checks (O(n) comparisons, no allocation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum XOrder {
    Sorted,
    Unsorted,
    #[default]
    Unknown,
}

/// A window reduced for drawing. Y values are in the view's scale (log10 for a log view).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reduced {
    /// The envelope, sorted by x.
    pub points: Vec<(f64, f64)>,
    /// x of the non-finite values in the window, at most one per column (the leftmost), so the
    /// chart can mark the step of a NaN. Sorted by x.
    pub nonfinite_x: Vec<f64>,
    /// The non-finite value at each `nonfinite_x` (NaN, inf or -inf).
    pub nonfinite_y: Vec<f64>,
    /// Finite values the scale cannot draw (`<= 0` on a log scale): hidden, not lost.
    pub unplottable: usize,
    /// Points with x in the window.
    pub in_window: usize,
    /// Y bounds of the drawable values in the window, as the view asks (min/max or percentiles,
    /// plus margin), in plotted units; None when nothing is drawable.
    pub y_bounds: Option<(f64, f64)>,
}

impl Reduced {
    /// The non-finite points as (x, value) pairs.
    pub fn nonfinite(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.nonfinite_x.iter().copied().zip(self.nonfinite_y.iter().copied())
    }
}

/// Indices of the points of a sorted `xs` with x in `[x_lo, x_hi]` (binary search).
pub fn window(xs: &[f64], x_lo: f64, x_hi: f64) -> Range<usize> {
    let start = xs.partition_point(|&x| x < x_lo);
    let end = xs.partition_point(|&x| x <= x_hi).max(start);
    start..end
}

/// The min/max envelope of the points with x in `[x_lo, x_hi]`, at most two per column plus the
/// window's first and last points, skipping non-finite y. See [`reduce`] for the details.
pub fn minmax_columns(xs: &[f64], ys: &[f64], x_lo: f64, x_hi: f64, columns: usize) -> Vec<(f64, f64)> {
    reduce(xs, ys, &View::new(x_lo, x_hi, columns), XOrder::Unknown).points
}

/// Maps an x to its column: monotone in x, so the same binning serves the binary search of
/// sorted data and the linear pass over unsorted data, and every reduction of one view (this
/// module's and the monitor's block envelope) puts a point in the same column.
#[derive(Clone, Copy, Debug)]
pub struct Columns {
    /// The window, in order (a view given backwards is turned round).
    pub lo: f64,
    pub hi: f64,
    per_x: f64,
    last: usize,
}

impl Columns {
    /// The columns of `view`, or `None` when nothing can be drawn in it (no columns, or a
    /// non-finite window).
    pub fn of_view(view: &View) -> Option<Columns> {
        let (lo, hi) = if view.x_lo <= view.x_hi { (view.x_lo, view.x_hi) } else { (view.x_hi, view.x_lo) };
        if view.columns == 0 || !lo.is_finite() || !hi.is_finite() {
            return None;
        }
        let span = hi - lo;
        let per_x = if span > 0.0 { view.columns as f64 / span } else { 0.0 };
        Some(Columns { lo, hi, per_x, last: view.columns - 1 })
    }

    /// The column of `x`.
    #[inline]
    pub fn of(&self, x: f64) -> usize {
        // `as usize` saturates (negative -> 0), keeping the map monotone.
        (((x - self.lo) * self.per_x) as usize).min(self.last)
    }
}

/// Per-column accumulator: the min and max drawable values (index and plotted value) and the
/// first non-finite value.
#[derive(Clone, Copy)]
struct Col {
    min: usize,
    min_v: f64,
    max: usize,
    max_v: f64,
    nonfinite: usize,
}

const NONE: usize = usize::MAX;
const EMPTY: Col = Col { min: NONE, min_v: f64::NAN, max: NONE, max_v: f64::NAN, nonfinite: NONE };

/// One pass over the window's points, in any order.
struct Scan<'a> {
    xs: &'a [f64],
    ys: &'a [f64],
    scale: YScale,
    cols: Vec<Col>,
    /// The window's first and last drawable points, by x then arrival.
    first: usize,
    last: usize,
    unplottable: usize,
    in_window: usize,
}

impl Scan<'_> {
    /// x order, then arrival order for equal x.
    #[inline]
    fn before(&self, a: usize, b: usize) -> bool {
        let (xa, xb) = (self.xs[a], self.xs[b]);
        xa < xb || (xa == xb && a < b)
    }

    /// The hot loop of sorted data: one column's points, in x order, touching only the ys. The
    /// window's first and last points are found by the caller.
    fn sorted_column(&mut self, c: usize, r: Range<usize>) {
        let (mut min, mut min_v, mut max, mut max_v) = (NONE, f64::INFINITY, NONE, f64::NEG_INFINITY);
        let mut nonfinite = NONE;
        for (i, &y) in r.clone().zip(&self.ys[r]) {
            match self.scale.map(y) {
                Some(v) => {
                    if v < min_v {
                        (min, min_v) = (i, v);
                    }
                    if v > max_v {
                        (max, max_v) = (i, v);
                    }
                }
                None if y.is_finite() => self.unplottable += 1,
                None if nonfinite == NONE => nonfinite = i,
                None => {}
            }
        }
        self.cols[c] = Col { min, min_v, max, max_v, nonfinite };
    }

    #[inline]
    fn note(&mut self, c: usize, i: usize) {
        self.in_window += 1;
        let y = self.ys[i];
        match self.scale.map(y) {
            Some(v) => {
                let col = &mut self.cols[c];
                if col.min == NONE || v < col.min_v {
                    col.min = i;
                    col.min_v = v;
                }
                if col.max == NONE || v > col.max_v {
                    col.max = i;
                    col.max_v = v;
                }
                if self.first == NONE || self.before(i, self.first) {
                    self.first = i;
                }
                if self.last == NONE || self.before(self.last, i) {
                    self.last = i;
                }
            }
            None if y.is_finite() => self.unplottable += 1,
            None => {
                let nf = self.cols[c].nonfinite;
                if nf == NONE || self.before(i, nf) {
                    self.cols[c].nonfinite = i;
                }
            }
        }
    }
}

/// Reduces the points of `xs`/`ys` (same length; extra elements of the longer are ignored) with x
/// in the view's window to its columns. Non-finite y values are not drawn but reported in
/// `nonfinite_x`; points with non-finite x are ignored. Sorted xs are windowed by binary search
/// (O(columns log n + window)); unsorted xs (a restarted run) take one linear pass.
pub fn reduce(xs: &[f64], ys: &[f64], view: &View, order: XOrder) -> Reduced {
    let n = xs.len().min(ys.len());
    let (xs, ys) = (&xs[..n], &ys[..n]);
    let Some(cols) = Columns::of_view(view).filter(|_| n > 0) else { return Reduced::default() };
    let (lo, hi) = (cols.lo, cols.hi);
    let sorted = match order {
        XOrder::Sorted => true,
        XOrder::Unsorted => false,
        XOrder::Unknown => xs.is_sorted(),
    };
    let mut scan = Scan {
        xs,
        ys,
        scale: view.scale,
        cols: vec![EMPTY; view.columns],
        first: NONE,
        last: NONE,
        unplottable: 0,
        in_window: 0,
    };
    if sorted {
        let win = window(xs, lo, hi);
        scan.in_window = win.len();
        let mut i = win.start;
        while i < win.end {
            let c = cols.of(xs[i]);
            // At least one point, even if a caller's "sorted" data is not.
            let end = (i + xs[i..win.end].partition_point(|&x| cols.of(x) <= c)).max(i + 1);
            scan.sorted_column(c, i..end);
            i = end;
        }
        let drawable = |i: &usize| view.scale.map(ys[*i]).is_some();
        scan.first = win.clone().find(drawable).unwrap_or(NONE);
        scan.last = win.rev().find(drawable).unwrap_or(NONE);
    } else {
        for (i, &x) in xs.iter().enumerate() {
            if x >= lo && x <= hi {
                scan.note(cols.of(x), i);
            }
        }
    }
    let mut idx: Vec<usize> = Vec::with_capacity(2 * view.columns + 2);
    if scan.first != NONE {
        idx.push(scan.first);
    }
    for c in &scan.cols {
        if c.min == NONE {
            continue;
        }
        let (a, b) = if scan.before(c.min, c.max) { (c.min, c.max) } else { (c.max, c.min) };
        for i in [a, b] {
            if idx.last() != Some(&i) {
                idx.push(i);
            }
        }
    }
    if scan.last != NONE && idx.last() != Some(&scan.last) {
        idx.push(scan.last);
    }
    let mut out = Reduced {
        points: idx.iter().map(|&i| (xs[i], view.scale.map(ys[i]).unwrap_or(f64::NAN))).collect(),
        unplottable: scan.unplottable,
        in_window: scan.in_window,
        ..Reduced::default()
    };
    for c in &scan.cols {
        if c.nonfinite != NONE {
            out.nonfinite_x.push(xs[c.nonfinite]);
            out.nonfinite_y.push(ys[c.nonfinite]);
        }
    }
    out.y_bounds = match view.percentiles {
        None => {
            let (a, b) = scan
                .cols
                .iter()
                .filter(|c| c.min != NONE)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), c| (a.min(c.min_v), b.max(c.max_v)));
            (a <= b).then(|| pad(a, b, view.margin))
        }
        Some((lo_pct, hi_pct)) => {
            let mut v = window_sample(xs, ys, lo, hi, sorted, view.scale, scan.in_window);
            super::bounds::percentile_bounds(&mut v, lo_pct, hi_pct, view.margin)
        }
    };
    out
}

/// The plotted values of the window, every k-th point when it holds more than
/// [`PERCENTILE_SAMPLE`] (`count` is the number of points in the window).
fn window_sample(
    xs: &[f64],
    ys: &[f64],
    lo: f64,
    hi: f64,
    sorted: bool,
    scale: YScale,
    count: usize,
) -> Vec<f64> {
    let stride = count.div_ceil(PERCENTILE_SAMPLE).max(1);
    let in_win: Box<dyn Iterator<Item = usize>> = if sorted {
        Box::new(window(xs, lo, hi))
    } else {
        Box::new((0..xs.len()).filter(move |&i| xs[i] >= lo && xs[i] <= hi))
    };
    in_win.step_by(stride).filter_map(|i| scale.map(ys[i])).collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CacheKey {
    data_key: u64,
    len: usize,
    view_bits: [u64; 5],
    percentiles: bool,
    columns: usize,
    scale: YScale,
    order: XOrder,
}

/// Remembers the last reduction of one series and recomputes only when its key changes: the
/// caller's data key (the store generation, or the series length), the length of the data, and
/// every field of the view.
#[derive(Clone, Debug, Default)]
pub struct ReduceCache {
    key: Option<CacheKey>,
    result: Reduced,
    computes: u64,
}

impl ReduceCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The reduction of `xs`/`ys` for `view`, from the cache when nothing changed.
    pub fn get(&mut self, data_key: u64, xs: &[f64], ys: &[f64], view: &View, order: XOrder) -> &Reduced {
        let (p_lo, p_hi) = view.percentiles.unwrap_or((0.0, 0.0));
        let key = CacheKey {
            data_key,
            len: xs.len().min(ys.len()),
            // Bits, so that a NaN bound compares equal to itself and -0.0 differs from 0.0.
            view_bits: [view.x_lo, view.x_hi, view.margin, p_lo, p_hi].map(f64::to_bits),
            percentiles: view.percentiles.is_some(),
            columns: view.columns,
            scale: view.scale,
            order,
        };
        if self.key != Some(key) {
            self.result = reduce(xs, ys, view, order);
            self.key = Some(key);
            self.computes += 1;
        }
        &self.result
    }

    /// How many times the reduction was computed (for tests and diagnostics).
    pub fn computes(&self) -> u64 {
        self.computes
    }

    /// Forgets the cached result.
    pub fn clear(&mut self) {
        self.key = None;
    }
}

#[cfg(test)]
#[path = "slice_tests.rs"]
mod tests;
