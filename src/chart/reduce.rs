//! The reduction of a chart's window to what it draws: per column of the chart, the first point,
//! the smallest and the largest value, in x order, and the first non-finite value (a NaN mark), so
//! a chart never hands ratatui millions of points and a one-point spike never vanishes; plus the
//! y bounds of the window (min/max, or percentiles for outlier-aware scaling). The window's first
//! and last drawable points are kept exactly, so the line starts and ends at true values. Output:
//! at most `2 * columns + 2` points, sorted by x.
//!
//! One reducer, [`reduce`], for every chart: it reads per-block summaries of the column
//! ([`Envelope`]: first min, first max, first positive min, first non-finite value per block of
//! [`BLOCK`] points) instead of every point, at a cost of O(columns x (log n + BLOCK) +
//! window / BLOCK): a 1M-point chart that follows a live run costs well under a millisecond per
//! frame. Summaries are extended when points are appended and recomputed from the first value
//! that changed. The points are given as parts (index ranges) in each of which x does not go back:
//! the whole series, an attempt of a restarted run, or all the attempts of an x that keeps going
//! back (one envelope over all of them). xs and ys are read by index through [`Xs`] and [`Ys`], so
//! neither needs to be a copy: the xs come from the store's record table, and a smoothed column
//! may compute its values on demand (the values read are carried along, never read twice).
//!
//! The tests compare it with a slow reducer that reads every point (the oracle), on random and
//! periodic data.

mod bounds;
#[cfg(test)]
mod tests;

pub(crate) use bounds::percentile_bounds;
pub use bounds::{pad, YScale};

use super::values::{Xs, Ys};
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
    /// Points with x in the window.
    pub in_window: usize,
    /// Y bounds of the drawable values in the window, as the view asks (min/max or percentiles,
    /// plus margin), in plotted units; None when nothing is drawable.
    pub y_bounds: Option<(f64, f64)>,
}

/// Maps an x to its column: monotone in x, so that a column of sorted points is a contiguous
/// range of them.
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

/// Points per summary block.
pub const BLOCK: usize = 64;
/// Up to this many points a column, a part is read point by point (measured with
/// `cargo bench --bench reduce`: a column costs about as much as 20 points read).
const POINTWISE: usize = 16;
/// At most this many values enter the percentiles of the y bounds (one per stretch of the window,
/// see [`sample`]): the rank of a 5th or 95th percentile is then off by about 0.3%, and a frame
/// reads only a few thousand cache lines of a million-point window.
pub const PERCENTILE_SAMPLE: usize = 1 << 12;
const NONE: u32 = u32::MAX;

/// The summary of a run of points: the first index of the smallest and of the largest finite
/// value, of the smallest value > 0 (the log scale's minimum) and of the first non-finite value,
/// with the values, so that combining summaries reads no point. Built over indices in increasing
/// order with strict comparisons, so ties keep the first index.
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

/// Block summaries being built from values handed over in order ([`Envelope::update_with`],
/// [`Envelope::update_parts`]): a concrete type, so that the smoother's pass feeding it inlines
/// the summary of each point rather than calling it through a pointer.
pub struct Summaries {
    acc: Acc,
    out: Vec<Block>,
    /// The index after the last value: its block is flushed however full.
    end: usize,
}

impl Summaries {
    /// Adds value `i`, the one after the last added.
    #[inline]
    pub fn point(&mut self, i: usize, y: f64) {
        self.acc.point(i, y);
        if i % BLOCK == BLOCK - 1 || i + 1 == self.end {
            self.out.push(std::mem::replace(&mut self.acc, Acc::EMPTY));
        }
    }

    /// Adds values `from..from + ys.len()` (`from` the one after the last added): each stretch
    /// within a block summarised at once ([`Acc::of_slice`], what [`Summaries::point`] one after
    /// the other builds, bit for bit) and added to the block's summary.
    #[inline(never)]
    pub fn points(&mut self, from: usize, ys: &[f64]) {
        let mut i = from;
        let mut rest = ys;
        while !rest.is_empty() {
            // The stretch ends its block, or the data (a flush, as `point` does at `end - 1`).
            let mut stop = (i / BLOCK + 1) * BLOCK;
            if i < self.end && self.end < stop {
                stop = self.end;
            }
            let (here, after) = rest.split_at((stop - i).min(rest.len()));
            self.acc.block(&Acc::of_slice(i, here));
            i += here.len();
            if i == stop {
                self.out.push(std::mem::replace(&mut self.acc, Acc::EMPTY));
            }
            rest = after;
        }
    }

    /// Adds the values `a..b` of `ys` (`a` the one after the last added), a block at a time.
    #[inline]
    pub fn read<Y: Ys + ?Sized>(&mut self, ys: &Y, a: usize, b: usize) {
        let mut buf = [0.0; BLOCK];
        let mut i = a;
        while i < b {
            let end = ((i / BLOCK + 1) * BLOCK).min(b);
            let vals = &mut buf[i % BLOCK..(end - 1) % BLOCK + 1];
            // (Values past the data's end, never asked for, would be left as they were.)
            let got = end.min(ys.len()).saturating_sub(i);
            ys.read_into(i, &mut vals[..got]);
            self.points(i, vals);
            i = end;
        }
    }
}

/// Points to summarise at least before [`Envelope::update_parts`] uses more than one thread.
pub const PARALLEL_MIN_POINTS: usize = 1 << 18;

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
        // An empty slot's value is an infinity (`EMPTY`; a slot's index and value are set
        // together), which every finite `y` passes: no test of the index.
        if y < self.min_v {
            (self.min, self.min_v) = (i as u32, y);
        }
        if y > self.max_v {
            (self.max, self.max_v) = (i as u32, y);
        }
        if y > 0.0 && y < self.min_pos_v {
            (self.min_pos, self.min_pos_v) = (i as u32, y);
        }
    }

    /// The summary of the values `ys` of points `from..`: [`Acc::point`] of each in order, bit
    /// for bit, in two passes without a branch a value instead of one that carries the summary
    /// from value to value. The first pass finds the smallest, the largest and the smallest
    /// positive values in four interleaved lanes (each its own chain of dependent operations);
    /// the second the first index holding each (values equal as `==` says, so a `-0.0` and a
    /// `0.0` tie and the first is taken, as the strict comparisons of `point` do). A stretch
    /// with a non-finite value (rare: the first pass lets an infinity through) is summarised a
    /// value at a time.
    #[inline]
    fn of_slice(from: usize, ys: &[f64]) -> Acc {
        const LANES: usize = 4;
        let (mut lo, mut hi, mut pos) =
            ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES], [f64::INFINITY; LANES]);
        let mut finite = true;
        let mut chunks = ys.chunks_exact(LANES);
        for c in &mut chunks {
            for l in 0..LANES {
                let y = c[l];
                // False for a NaN too. A NaN fails every comparison below, an infinity is
                // caught here.
                finite &= y.abs() < f64::INFINITY;
                lo[l] = if y < lo[l] { y } else { lo[l] };
                hi[l] = if y > hi[l] { y } else { hi[l] };
                let p = if y > 0.0 { y } else { f64::INFINITY };
                pos[l] = if p < pos[l] { p } else { pos[l] };
            }
        }
        for &y in chunks.remainder() {
            finite &= y.abs() < f64::INFINITY;
            lo[0] = if y < lo[0] { y } else { lo[0] };
            hi[0] = if y > hi[0] { y } else { hi[0] };
            if y > 0.0 && y < pos[0] {
                pos[0] = y;
            }
        }
        if !finite {
            let mut acc = Acc::EMPTY;
            for (k, &y) in ys.iter().enumerate() {
                acc.point(from + k, y);
            }
            return acc;
        }
        let least = |v: [f64; LANES]| v.into_iter().fold(f64::INFINITY, |m, x| if x < m { x } else { m });
        let (lo, pos) = (least(lo), least(pos));
        let hi = hi.into_iter().fold(f64::NEG_INFINITY, |m, x| if x > m { x } else { m });
        let mut acc = Acc::EMPTY;
        // An infinite bound: no value (no positive one) to find.
        let at = |k: usize| (from + k) as u32;
        if lo != f64::INFINITY {
            let k = first_equal(ys, lo);
            (acc.min, acc.min_v) = (at(k), ys[k]);
            let k = first_equal(ys, hi);
            (acc.max, acc.max_v) = (at(k), ys[k]);
        }
        if lo > 0.0 {
            // Every value positive (a loss): the smallest positive is the smallest.
            (acc.min_pos, acc.min_pos_v) = (acc.min, acc.min_v);
        } else if pos != f64::INFINITY {
            let k = first_equal(ys, pos);
            (acc.min_pos, acc.min_pos_v) = (at(k), ys[k]);
        }
        acc
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
            return self.read(ys, a, b);
        }
        self.read(ys, a, first_full * BLOCK);
        blocks[first_full..last_full].iter().for_each(|bl| self.block(bl));
        self.read(ys, last_full * BLOCK, b);
    }

    /// Adds the values `a..b` of `ys` (points after everything seen so far), as [`Acc::point`]
    /// of each in order: read a block at a time into a buffer, each block's part summarised at
    /// once ([`Acc::of_slice`]).
    #[inline]
    fn read<Y: Ys + ?Sized>(&mut self, ys: &Y, a: usize, b: usize) {
        let mut buf = [0.0; BLOCK];
        let mut i = a;
        while i < b {
            let end = ((i / BLOCK + 1) * BLOCK).min(b);
            let mut got = 0;
            ys.for_each_from(i, end, |k, y| {
                buf[k - i] = y;
                got = k - i + 1;
            });
            self.block(&Acc::of_slice(i, &buf[..got]));
            i = end;
        }
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

/// The first index of a value of `ys` equal to `v` (as `==` says), which must be there: eight
/// values compared at a time, without a branch each.
#[inline]
fn first_equal(ys: &[f64], v: f64) -> usize {
    let mut chunks = ys.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let mask = c.iter().enumerate().fold(0u32, |m, (j, &y)| m | (u32::from(y == v) << j));
        if mask != 0 {
            return base + mask.trailing_zeros() as usize;
        }
        base += 8;
    }
    base + chunks.remainder().iter().position(|&y| y == v).unwrap_or(0)
}

impl Envelope {
    /// The summaries of `ys`.
    pub fn of<Y: Ys + ?Sized>(ys: &Y) -> Envelope {
        let mut env = Envelope::default();
        env.update(ys, 0);
        env
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<Block>()
    }

    /// Brings the summaries up to date with `ys`, whose values before `unchanged` are those the
    /// summaries were built from.
    pub fn update<Y: Ys + ?Sized>(&mut self, ys: &Y, unchanged: usize) {
        let n = ys.len();
        self.update_with(unchanged, n, |start, sums| ys.for_each_from(start, n, |i, y| sums.point(i, y)));
    }

    /// As [`Envelope::update`] for `n` values, the summaries to rebuild split at block
    /// boundaries into up to `threads` parts built side by side: `feed(a, b, sums)` hands the
    /// values `a..b` to `sums` in order ([`Summaries::point`]), and must give each value whatever range it is read in
    /// (the store's values; a centred smoother's, [`crate::analysis::smooth::Centred::range`]).
    /// A block's summary depends only on its own points, so the result is one thread's.
    /// Below [`PARALLEL_MIN_POINTS`] points to build, or continuing a partial last block, it
    /// is built on this thread.
    pub fn update_parts(
        &mut self,
        unchanged: usize,
        n: usize,
        threads: usize,
        feed: impl Fn(usize, usize, &mut Summaries) + Sync,
    ) {
        let appended = unchanged >= self.len && self.len <= n && !self.len.is_multiple_of(BLOCK);
        let keep = unchanged.min(self.len).min(n) / BLOCK;
        let blocks = n.div_ceil(BLOCK).saturating_sub(keep);
        let threads = threads.min(blocks);
        if appended || threads < 2 || n - keep * BLOCK < PARALLEL_MIN_POINTS {
            return self.update_with(unchanged, n, |start, sums| feed(start, n, sums));
        }
        self.blocks.truncate(keep);
        let feed = &feed;
        let part = |k: usize| {
            let a = (keep + blocks * k / threads) * BLOCK;
            let b = ((keep + blocks * (k + 1) / threads) * BLOCK).min(n);
            // `b` ends a block or the data, as the one-thread build's flush at `n`.
            let mut sums =
                Summaries { acc: Acc::EMPTY, out: Vec::with_capacity((b - a).div_ceil(BLOCK)), end: b };
            feed(a, b, &mut sums);
            sums.out
        };
        let parts: Vec<Vec<Acc>> = std::thread::scope(|sc| {
            let handles: Vec<_> = (1..threads).map(|k| sc.spawn(move || part(k))).collect();
            let first = part(0);
            std::iter::once(first)
                .chain(handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))))
                .collect()
        });
        self.blocks.reserve(blocks);
        for p in parts {
            self.blocks.extend(p);
        }
        self.len = n;
    }

    /// As [`Envelope::update`] for `n` values that `feed(start, sums)` hands to `sums` in order,
    /// from `start` (where the summaries must be rebuilt from) to `n`.
    pub fn update_with(&mut self, unchanged: usize, n: usize, feed: impl FnOnce(usize, &mut Summaries)) {
        // Points appended to a partial last block continue its summary (a live series adds a
        // point or two a frame: reading its block again would cost up to `BLOCK` values).
        let appended = unchanged >= self.len && self.len <= n && !self.len.is_multiple_of(BLOCK);
        let (from, acc) = match if appended { self.blocks.pop() } else { None } {
            Some(last) => (self.len, last),
            None => {
                let keep = unchanged.min(self.len).min(n) / BLOCK;
                self.blocks.truncate(keep);
                (keep * BLOCK, Acc::EMPTY)
            }
        };
        if from >= n {
            if appended {
                self.blocks.push(acc);
            }
            self.len = n;
            return;
        }
        let mut sums = Summaries { acc, out: std::mem::take(&mut self.blocks), end: n };
        feed(from, &mut sums);
        self.blocks = sums.out;
        self.len = n;
    }
}

/// The envelope of the points of `xs` / `ys` (summarised in `env`) in `parts` with x in `view`'s
/// window. In each part (indices `a..b` for `(a, b)`) x must not go back; the parts come in index
/// order and do not overlap. Points outside every part are not drawn (an x that is not a number). Equal xs
/// are ordered by index, and ties between values keep the first index.
pub fn reduce<X: Xs + ?Sized, Y: Ys + ?Sized>(
    xs: &X,
    ys: &Y,
    env: &Envelope,
    parts: &[(usize, usize)],
    view: &View,
) -> Reduced {
    let n = xs.len().min(ys.len()).min(env.len);
    let Some(cols) = Columns::of_view(view).filter(|_| n > 0) else { return Reduced::default() };
    let (lo, hi) = (cols.lo, cols.hi);
    // x order, then index order (within one part, index order is that order).
    let one_part = parts.len() == 1;
    let before = |a: usize, b: usize| {
        if one_part {
            return a < b;
        }
        let (xa, xb) = (xs.x(a), xs.x(b));
        xa < xb || (xa == xb && a < b)
    };
    let drawable = |i: usize| drawable(ys, view, i);
    let mut acc = vec![Acc::EMPTY; view.columns];
    let mut windows: Vec<Range<usize>> = Vec::with_capacity(parts.len());
    // The window's first and last drawable points, (index, value).
    let (mut first, mut last) = (None::<(usize, f64)>, None::<(usize, f64)>);
    for &(a, b) in parts {
        let (a, b) = (a.min(n), b.min(n));
        let start = xs.partition_point(a, b, |x| x < lo);
        let end = xs.partition_point(start, b, |x| x <= hi);
        if start >= end {
            continue;
        }
        windows.push(start..end);
        if let Some(f) = (start..end).find_map(drawable).filter(|f| first.is_none_or(|g| before(f.0, g.0))) {
            first = Some(f);
        }
        if let Some(l) =
            (start..end).rev().find_map(drawable).filter(|l| last.is_none_or(|g| before(g.0, l.0)))
        {
            last = Some(l);
        }
        scan(&mut acc, xs, ys, env, &cols, view.columns, start..end, &before);
    }
    finish(xs, ys, view, &acc, first, last, &windows, &before)
}

/// (index, value) of point `i` when it can be drawn on `view`'s scale: values are carried from
/// where they were read, since a smoothed column may compute a value on each read (see
/// `crate::chart::columns`).
#[inline]
fn drawable<Y: Ys + ?Sized>(ys: &Y, view: &View, i: usize) -> Option<(usize, f64)> {
    Some((i, ys.y(i))).filter(|&(_, y)| view.scale.map(y).is_some())
}

/// Adds the points `range` of one part (x not going back) to the columns' summaries `acc`.
#[allow(clippy::too_many_arguments)]
fn scan<X: Xs + ?Sized, Y: Ys + ?Sized>(
    acc: &mut [Acc],
    xs: &X,
    ys: &Y,
    env: &Envelope,
    cols: &Columns,
    columns: usize,
    range: Range<usize>,
    before: &impl Fn(usize, usize) -> bool,
) {
    let (start, end) = (range.start, range.end);
    if start >= end {
        return;
    }
    let spanned = cols.of(xs.x(end - 1)).saturating_sub(cols.of(xs.x(start))) + 1;
    if end - start <= POINTWISE * spanned {
        // A few points a column (a zoomed window, a short part): reading them costs less than
        // finding each column's end and reading the partial blocks at its edges.
        let mut in_col: Vec<usize> = Vec::with_capacity(end - start);
        xs.for_each_from(start, end, |_, x| in_col.push(cols.of(x)));
        ys.for_each_from(start, end, |i, y| {
            let col = &mut acc[in_col[i - start]];
            if y.is_finite() {
                col.point(i, y);
            } else if col.nonfinite == NONE || before(i, col.nonfinite as usize) {
                col.nonfinite = i as u32;
            }
        });
        return;
    }
    let mut i = start;
    let mut width = ((end - start) / columns).max(1);
    while i < end {
        let c = cols.of(xs.x(i));
        let stop = gallop(xs, i, end, i + width, |x| cols.of(x) <= c);
        width = stop - i;
        let mut here = Acc::EMPTY;
        here.range(ys, &env.blocks, i, stop);
        let col = &mut acc[c];
        let earlier_nonfinite = col.nonfinite;
        col.block(&here);
        // A column crossed by several parts marks its leftmost non-finite value.
        if earlier_nonfinite != NONE
            && here.nonfinite != NONE
            && before(here.nonfinite as usize, earlier_nonfinite as usize)
        {
            col.nonfinite = here.nonfinite;
        }
        i = stop;
    }
}

/// The reduction drawn from the columns' summaries `acc`, the window's first and last drawable
/// points and its ranges of points `windows`.
#[allow(clippy::too_many_arguments)]
fn finish<X: Xs + ?Sized, Y: Ys + ?Sized>(
    xs: &X,
    ys: &Y,
    view: &View,
    acc: &[Acc],
    first: Option<(usize, f64)>,
    last: Option<(usize, f64)>,
    windows: &[Range<usize>],
    before: &impl Fn(usize, usize) -> bool,
) -> Reduced {
    let mut out = Reduced { in_window: windows.iter().map(Range::len).sum(), ..Reduced::default() };
    let mut idx: Vec<(usize, f64)> = Vec::with_capacity(2 * view.columns + 2);
    idx.extend(first);
    let (mut y_min, mut y_max) = (f64::INFINITY, f64::NEG_INFINITY);
    for col in acc {
        if let Some((mn, mx)) = col.drawable(view.scale) {
            for p in if before(mn.0, mx.0) { [mn, mx] } else { [mx, mn] } {
                if idx.last().map(|l| l.0) != Some(p.0) {
                    idx.push(p);
                }
            }
            y_min = y_min.min(view.scale.map(mn.1).unwrap_or(f64::NAN));
            y_max = y_max.max(view.scale.map(mx.1).unwrap_or(f64::NAN));
        }
        if col.nonfinite != NONE {
            out.nonfinite_x.push(xs.x(col.nonfinite as usize));
            out.nonfinite_y.push(ys.y(col.nonfinite as usize));
        }
    }
    if let Some(l) = last.filter(|l| idx.last().map(|p| p.0) != Some(l.0)) {
        idx.push(l);
    }
    out.points = idx.iter().map(|&(i, y)| (xs.x(i), view.scale.map(y).unwrap_or(f64::NAN))).collect();
    out.y_bounds = match view.percentiles {
        None => (y_min <= y_max).then(|| pad(y_min, y_max, view.margin)),
        Some((p_lo, p_hi)) => {
            let mut v: Vec<f64> = sample(ys, windows).into_iter().filter_map(|y| view.scale.map(y)).collect();
            bounds::percentile_bounds(&mut v, p_lo, p_hi, view.margin)
        }
    };
    out
}

/// The columns' summaries of one series' reduction, kept between frames so that the next frame
/// with the same view reads only what changed ([`reduce_resumed`]): a live sweep's frame then
/// costs what arrived, not every point of every run overlaid.
#[derive(Clone, Debug, Default)]
pub struct Resumable {
    /// The view the summaries are of (None: nothing kept).
    view: Option<View>,
    acc: Vec<Acc>,
    first: Option<(usize, f64)>,
    last: Option<(usize, f64)>,
    /// The window's points `start..end` when it was computed.
    start: usize,
    end: usize,
    /// Points there were, and the points before `valid` have the values the summaries were built
    /// from (the xs of the points taken never change).
    n: usize,
    valid: usize,
    /// What the summaries drew last (see [`Drawn`]).
    drawn: Drawn,
}

/// The points a kept reduction drew, and where each column's begin: the columns before the first
/// one whose summary changed draw what they drew, so a frame after an append reads the xs of the
/// new columns' points only, not every drawn point's again (a read through the store's packed
/// record table, hundreds of them a series, for every run of an overlay).
#[derive(Clone, Debug, Default)]
struct Drawn {
    /// The points drawn from the window's first drawable point and the columns (its last
    /// drawable point, added at the end, is not kept: it moves with every append).
    points: Vec<(f64, f64)>,
    nonfinite_x: Vec<f64>,
    nonfinite_y: Vec<f64>,
    /// Per column, and one past the last: the points drawn before it, the index of the last of
    /// them ([`NONE`] when there is none), and the non-finite marks before it.
    marks: Vec<(u32, u32, u32)>,
    /// The index of the first drawable point the points start with, and its value's bits: a
    /// changed tail can change the value of the same first point.
    first: u32,
    first_bits: u64,
}

impl Drawn {
    fn heap_bytes(&self) -> usize {
        self.points.capacity() * std::mem::size_of::<(f64, f64)>()
            + (self.nonfinite_x.capacity() + self.nonfinite_y.capacity()) * std::mem::size_of::<f64>()
            + self.marks.capacity() * std::mem::size_of::<(u32, u32, u32)>()
    }
}

impl Resumable {
    /// The values from point `i` on changed (a smoother's tail recomputed, or everything).
    pub fn changed_from(&mut self, i: usize) {
        self.valid = self.valid.min(i);
    }

    /// Lets go of what is kept.
    pub fn clear(&mut self) {
        *self = Resumable::default();
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.acc.capacity() * std::mem::size_of::<Acc>() + self.drawn.heap_bytes()
    }
}

impl Resumable {
    /// About how many of `n` points a reduction for `view` would read: the points since the last
    /// one when it can be resumed, else all.
    pub fn left(&self, view: &View, n: usize) -> usize {
        if self.view == Some(*view) && self.n <= n {
            n - self.n
        } else {
            n
        }
    }
}

/// As [`reduce`] of one part, the whole series (x never going back), resumed from `state`: when
/// the view is the one `state` was computed for and the points before `state`'s valid mark are
/// unchanged (points were appended, or a smoother changed its tail), only the columns from the
/// first changed point on are summarised again. The result is [`reduce`]'s, bit for bit.
pub fn reduce_resumed<X: Xs + ?Sized, Y: Ys + ?Sized>(
    xs: &X,
    ys: &Y,
    env: &Envelope,
    view: &View,
    state: &mut Resumable,
) -> Reduced {
    let n = xs.len().min(ys.len()).min(env.len);
    let Some(cols) = Columns::of_view(view).filter(|_| n > 0) else {
        state.clear();
        return Reduced::default();
    };
    let before = |a: usize, b: usize| a < b;
    let drawable = |i: usize| drawable(ys, view, i);
    let same = state.view == Some(*view) && state.acc.len() == view.columns && state.n <= n;
    // The window's points: with the same view and xs (the points taken before keep theirs), only
    // the new points are searched (a series with gaps reads each x through a search of its own).
    let start = match state.start {
        s if same && s < state.n => s,
        s if same => xs.partition_point(s, n, |x| x < cols.lo),
        _ => xs.partition_point(0, n, |x| x < cols.lo),
    };
    let end = match state.end {
        e if same && e < state.n && e >= start => e,
        e if same && e >= start => xs.partition_point(e, n, |x| x <= cols.hi),
        _ => xs.partition_point(start, n, |x| x <= cols.hi),
    };
    // The first point whose summary may differ from the one kept.
    let from = state.valid.min(state.end);
    let resume = same && state.start == start && from > start && end >= state.end;
    // The first column whose summary may have changed (the columns before it draw what they drew).
    let mut from_col = 0;
    let (first, last) = if resume && start < end {
        let appended = from == state.end;
        let from = from.min(end);
        from_col = view.columns;
        if from < end {
            let c = cols.of(xs.x(from));
            from_col = c;
            // Points appended continue the summaries (in index order, as a fresh pass adds
            // them); otherwise the columns from the first changed point's on are summarised again,
            // from the first point of its column (the columns before hold only earlier points).
            let r = if appended {
                from
            } else {
                state.acc[c..].fill(Acc::EMPTY);
                xs.partition_point(start, from, |x| cols.of(x) < c)
            };
            scan(&mut state.acc, xs, ys, env, &cols, view.columns, r..end, &before);
        }
        // No drawable point before `from` that the kept ones do not name: none was in the
        // window before the kept first, and the kept last (when before `from`) is the last one
        // before `from`.
        let first = match state.first {
            Some(f) if f.0 < from => Some(f),
            _ => (from..end).find_map(drawable),
        };
        let last = match state.last {
            Some(l) if l.0 >= from => (start..end).rev().find_map(drawable),
            kept => (from..end).rev().find_map(drawable).or(kept),
        };
        (first, last)
    } else {
        state.acc.clear();
        state.acc.resize(view.columns, Acc::EMPTY);
        scan(&mut state.acc, xs, ys, env, &cols, view.columns, start..end, &before);
        if start < end {
            ((start..end).find_map(drawable), (start..end).rev().find_map(drawable))
        } else {
            (None, None)
        }
    };
    *state = Resumable {
        view: Some(*view),
        acc: std::mem::take(&mut state.acc),
        first,
        last,
        start,
        end,
        n,
        valid: n,
        drawn: std::mem::take(&mut state.drawn),
    };
    let windows: Vec<Range<usize>> = (start < end).then_some(start..end).into_iter().collect();
    finish_kept(xs, ys, view, state, from_col, &windows)
}

/// As [`finish`] for one part (x never going back) of `state`'s summaries, drawing again only the
/// columns from `from_col` on: those before it are unchanged since `state.drawn` was drawn (when
/// the window's first drawable point is too), and so is what they draw, bit for bit.
fn finish_kept<X: Xs + ?Sized, Y: Ys + ?Sized>(
    xs: &X,
    ys: &Y,
    view: &View,
    state: &mut Resumable,
    from_col: usize,
    windows: &[Range<usize>],
) -> Reduced {
    let acc = &state.acc;
    let d = &mut state.drawn;
    let first = state.first.map(|f| (f.0 as u32, f.1));
    let kept = d.marks.len() == acc.len() + 1
        && first.is_some_and(|f| f.0 == d.first && f.1.to_bits() == d.first_bits);
    let c0 = if kept { from_col.min(acc.len()) } else { 0 };
    let map = |y: f64| view.scale.map(y).unwrap_or(f64::NAN);
    let mut prev = NONE;
    if c0 == 0 {
        d.points.clear();
        d.nonfinite_x.clear();
        d.nonfinite_y.clear();
        d.marks.clear();
        // (None: a later first point never finds points kept without it.)
        d.first = first.map_or(NONE, |f| f.0);
        d.first_bits = first.map_or(0, |f| f.1.to_bits());
        if let Some((i, y)) = first {
            d.points.push((xs.x(i as usize), map(y)));
            prev = i;
        }
    } else {
        let (p, last_idx, nf) = d.marks[c0];
        d.points.truncate(p as usize);
        d.nonfinite_x.truncate(nf as usize);
        d.nonfinite_y.truncate(nf as usize);
        d.marks.truncate(c0);
        prev = last_idx;
    }
    for col in &acc[c0..] {
        d.marks.push((d.points.len() as u32, prev, d.nonfinite_x.len() as u32));
        if let Some((mn, mx)) = col.drawable(view.scale) {
            for p in if mn.0 < mx.0 { [mn, mx] } else { [mx, mn] } {
                if prev != p.0 as u32 {
                    d.points.push((xs.x(p.0), map(p.1)));
                    prev = p.0 as u32;
                }
            }
        }
        if col.nonfinite != NONE {
            d.nonfinite_x.push(xs.x(col.nonfinite as usize));
            d.nonfinite_y.push(ys.y(col.nonfinite as usize));
        }
    }
    d.marks.push((d.points.len() as u32, prev, d.nonfinite_x.len() as u32));
    let (mut y_min, mut y_max) = (f64::INFINITY, f64::NEG_INFINITY);
    for (mn, mx) in acc.iter().filter_map(|col| col.drawable(view.scale)) {
        y_min = y_min.min(view.scale.map(mn.1).unwrap_or(f64::NAN));
        y_max = y_max.max(view.scale.map(mx.1).unwrap_or(f64::NAN));
    }
    let mut points = Vec::with_capacity(d.points.len() + 1);
    points.extend_from_slice(&d.points);
    if let Some((i, y)) = state.last.filter(|l| prev != l.0 as u32) {
        points.push((xs.x(i), map(y)));
    }
    let y_bounds = match view.percentiles {
        None => (y_min <= y_max).then(|| pad(y_min, y_max, view.margin)),
        Some((p_lo, p_hi)) => {
            let mut v: Vec<f64> = sample(ys, windows).into_iter().filter_map(|y| view.scale.map(y)).collect();
            bounds::percentile_bounds(&mut v, p_lo, p_hi, view.margin)
        }
    };
    Reduced {
        points,
        nonfinite_x: d.nonfinite_x.clone(),
        nonfinite_y: d.nonfinite_y.clone(),
        in_window: windows.iter().map(Range::len).sum(),
        y_bounds,
    }
}

/// The values the percentiles of a window are taken from: all of them up to [`PERCENTILE_SAMPLE`];
/// beyond, one from each stretch of `stride` positions of the windows (taken in order, as one
/// sequence), at an offset hashed from the stretch's number. A fixed stride would alias with
/// periodic data: an eval spike every 40th point, sampled every 4th point, is 10% of the sample
/// instead of 2.5%, and becomes the 95th percentile.
fn sample<Y: Ys + ?Sized>(ys: &Y, windows: &[Range<usize>]) -> Vec<f64> {
    let total: usize = windows.iter().map(Range::len).sum();
    let stride = total.div_ceil(PERCENTILE_SAMPLE).max(1);
    let mut out = Vec::with_capacity(total.div_ceil(stride));
    // The window that holds position `j`, and the positions before it.
    let (mut w, mut before) = (0, 0);
    for k in 0..total.div_ceil(stride) {
        let off = ((k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize % stride;
        let j = k * stride + off;
        if j >= total {
            break;
        }
        while j >= before + windows[w].len() {
            before += windows[w].len();
            w += 1;
        }
        out.push(ys.y(windows[w].start + j - before));
    }
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
