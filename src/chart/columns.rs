//! The columns of each charted series, kept by the chart cache and extended as the store grows: block
//! summaries of the raw and smoothed values, and the smoother's state.
//!
//! Copying a million points out of the store (and smoothing them again) on every frame is what
//! made a big live chart cost a large part of a core. Here a frame pays only for the points that
//! arrived since the last one: the summaries grow by the store's new points, the smoother by its
//! state (O(new points) for the EMAs, O(new + reach) for the centred smoothers).
//!
//! Memory is the store's plus about 2 bytes a point per series on screen with the default EMA:
//! the xs are read from the store's record table ([`XView`]: steps, times, or times minus the first
//! on the relative axis; no copy), the raw values from the store, and the smoothed values are
//! computed on demand, bit for bit what a column would hold: the EMAs' from a checkpoint of their
//! state per block ([`ema`], [`twema`]), the centred smoothers' from the store's values around
//! them ([`window`]). Whatever the smoother, a series holds its summaries and at most a checkpoint
//! per block (under a byte a point). The columns start over when the run is replaced, the x axis changes, or the store's data
//! is not an extension of what was seen (checked on the last point).

mod ema;
mod twema;
mod window;

use super::reduce::{reduce_resumed, Envelope, Reduced, Resumable, View};
use super::values::{Values, Xs, Ys};
use super::XAxis;
use crate::analysis::smooth::Smoother;
use crate::store::{SeriesId, SeriesView, Store};
use std::collections::HashMap;

/// Which record each point of a series lies on.
#[derive(Clone, Copy)]
enum PointMap<'a> {
    /// Point `i` is record `first + i`: a key logged on every record from its first on.
    Offset(usize),
    /// Through the series' runs of records (O(log runs) per lookup, O(1) in a sequential pass):
    /// a key missing from some records, as train metrics are from eval lines.
    Runs(SeriesView<'a>),
}

/// A series' xs on one axis, read from the store's record table (its steps or times, shifted by
/// the run's first time on the relative axis): nothing is copied, so a chart costs no memory per
/// point for its xs. The values are those a copy would hold, bit for bit.
#[derive(Clone, Copy)]
pub struct XView<'a> {
    by_record: &'a crate::store::Packed,
    /// Subtracted from each time on the relative axis.
    t0: Option<f64>,
    map: PointMap<'a>,
    len: usize,
}

impl<'a> XView<'a> {
    /// The xs of series `id` on `axis` (the effective axis: a time axis only when the log has
    /// times), `t0` the run's first time.
    pub fn new(store: &'a Store, id: SeriesId, axis: XAxis, t0: f64) -> Self {
        let s = store.series(id);
        // (A log with no time at all is charted by step: `effective_axis`.)
        let by_record =
            if axis == XAxis::Step || store.times().is_empty() { store.steps() } else { store.times() };
        let map = match s.record_stretches() {
            0 => PointMap::Offset(0),
            1 => PointMap::Offset(s.record_of(0) as usize),
            _ => PointMap::Runs(s),
        };
        XView { by_record, t0: (axis == XAxis::Relative).then_some(t0), map, len: s.len() }
    }

    /// Whether the xs are read through the series' runs of records (it has gaps).
    #[cfg(test)]
    pub fn through_runs(&self) -> bool {
        matches!(self.map, PointMap::Runs(_))
    }

    fn truncate(mut self, n: usize) -> Self {
        self.len = self.len.min(n);
        self
    }

    /// How far the records from `ordered` on keep the order [`ColumnCache`] looks for (xs finite,
    /// non-decreasing, none -0.0), read in order: the first record that breaks it, or the
    /// column's end; and whether one broke it.
    fn ordered_from(&self, ordered: usize) -> (usize, bool) {
        let mut prev = ordered.checked_sub(1).map(|r| self.at(r));
        let (mut end, mut broken) = (ordered, false);
        let t0 = self.t0.unwrap_or(0.0);
        let shift = self.t0.is_some();
        self.by_record.for_each_from(ordered, self.by_record.len(), |r, raw| {
            if broken {
                return;
            }
            let x = if shift { raw - t0 } else { raw };
            if !x.is_finite() || (x == 0.0 && x.is_sign_negative()) || prev.is_some_and(|p| x < p) {
                broken = true;
                return;
            }
            prev = Some(x);
            end = r + 1;
        });
        (end, broken)
    }

    #[inline]
    fn at(&self, record: usize) -> f64 {
        match self.t0 {
            Some(t0) => self.by_record.get(record) - t0,
            None => self.by_record.get(record),
        }
    }
}

impl Xs for XView<'_> {
    fn len(&self) -> usize {
        self.len
    }
    #[inline]
    fn x(&self, i: usize) -> f64 {
        match self.map {
            PointMap::Offset(first) => self.at(first + i),
            PointMap::Runs(s) => self.at(s.record_of(i) as usize),
        }
    }
    #[inline]
    fn for_each_from(&self, from: usize, to: usize, mut f: impl FnMut(usize, f64)) {
        let to = to.min(self.len);
        match self.map {
            // In order through the record table's column: each block decoded once.
            PointMap::Offset(first) if from < to => match self.t0 {
                Some(t0) => {
                    self.by_record.for_each_from(first + from, first + to, |r, x| f(r - first, x - t0))
                }
                None => self.by_record.for_each_from(first + from, first + to, |r, x| f(r - first, x)),
            },
            PointMap::Offset(_) => {}
            // Stretch by stretch, each in order through the record table's column (a series
            // with gaps, such as every metric of a log whose validation lines stand alone):
            // reading record by record decoded a block of the column a point, and the values
            // too.
            PointMap::Runs(s) => {
                for (p, r, len) in s.record_stretches_in(from, to) {
                    match self.t0 {
                        Some(t0) => self.by_record.for_each_from(r, r + len, |k, x| f(p + (k - r), x - t0)),
                        None => self.by_record.for_each_from(r, r + len, |k, x| f(p + (k - r), x)),
                    }
                }
            }
        }
    }
}

/// The smoothed values of a series, as [`SeriesColumns::smoothed`] gives them: computed on
/// demand, none kept.
pub enum Smoothed<'a> {
    /// No value (an empty series).
    Kept(Values<'a>),
    /// The EMA, from checkpoints (see [`ema`]).
    Ema(ema::EmaValues<'a>),
    /// The time-weighted EMA, from checkpoints (see [`twema`]).
    Twema(twema::TwemaValues<'a, XView<'a>>),
    /// A centred smoother, from the values around each (see [`window`]).
    Window(window::WindowValues<'a>),
}

impl Ys for Smoothed<'_> {
    fn len(&self) -> usize {
        match self {
            Smoothed::Kept(v) => Ys::len(v),
            Smoothed::Ema(v) => Ys::len(v),
            Smoothed::Twema(v) => Ys::len(v),
            Smoothed::Window(v) => Ys::len(v),
        }
    }
    #[inline]
    fn y(&self, i: usize) -> f64 {
        match self {
            Smoothed::Kept(v) => v.y(i),
            Smoothed::Ema(v) => v.y(i),
            Smoothed::Twema(v) => v.y(i),
            Smoothed::Window(v) => v.y(i),
        }
    }
    #[inline]
    fn for_each_from(&self, from: usize, to: usize, f: impl FnMut(usize, f64)) {
        match self {
            Smoothed::Kept(v) => v.for_each_from(from, to, f),
            Smoothed::Ema(v) => v.for_each_from(from, to, f),
            Smoothed::Twema(v) => v.for_each_from(from, to, f),
            Smoothed::Window(v) => v.for_each_from(from, to, f),
        }
    }
}

/// One series on one x axis.
#[derive(Debug)]
pub struct SeriesColumns {
    /// Points of the store's series taken so far.
    len: usize,
    /// Bits of the last value and x taken, to tell an append from replaced data.
    last_y: u64,
    last_x: u64,
    /// Whether the xs are non-decreasing (false after a restart or when some x is NaN).
    pub sorted: bool,
    /// Block summaries of the values (built when the raw values are drawn: [`SeriesColumns::raw_env`])
    /// and of the smoothed values.
    raw_env: Envelope,
    /// Points summarised in `raw_env`.
    raw_len: usize,
    /// Only the smoother shown keeps its state: the EMAs their checkpoints (see [`ema`],
    /// [`twema`]), a centred smoother its parameter (see [`window`]).
    ema: Option<ema::LazyEma>,
    ema_full: u64,
    twema: twema::LiveTwema,
    window: Option<window::LazyWindow>,
    window_full: u64,
    smooth_env: Envelope,
    /// The smoother `smooth_env` summarises.
    env_kind: Option<Smoother>,
    /// The last reductions of the raw and of the smoothed values, resumed by the next frame
    /// with the same view (see [`reduce_resumed`]).
    raw_red: Resumable,
    smooth_red: Resumable,
    /// The smoothed values from this point on changed since `smooth_red` was computed.
    smooth_changed: usize,
    /// The finite xs' range.
    x_lo: f64,
    x_hi: f64,
    /// When it was last synced (the cache's use counter), to evict the least recently charted.
    used: u64,
    /// The last frame that showed it.
    frame: u64,
}

impl Default for SeriesColumns {
    fn default() -> Self {
        SeriesColumns {
            len: 0,
            last_y: 0,
            last_x: 0,
            sorted: false,
            raw_env: Envelope::default(),
            raw_len: 0,
            ema: None,
            ema_full: 0,
            twema: twema::LiveTwema::default(),
            window: None,
            window_full: 0,
            smooth_env: Envelope::default(),
            env_kind: None,
            raw_red: Resumable::default(),
            smooth_red: Resumable::default(),
            smooth_changed: 0,
            x_lo: f64::INFINITY,
            x_hi: f64::NEG_INFINITY,
            used: 0,
            frame: 0,
        }
    }
}

/// Points to build at least before [`ColumnCache::warm`] uses a second thread.
pub(super) const WARM_MIN_POINTS: usize = 1 << 20;

/// Series whose columns are kept at most: a full grid of pairs. Paging through more metrics evicts
/// the least recently charted. Between frames, [`ColumnCache::end_frame`] also drops the columns
/// of every series the frame did not show, so memory follows what is on screen (a 1M-point series
/// costs about 2 MB here with the EMA: summaries and checkpoints), not every metric ever charted.
const MAX_SERIES: usize = 32;

/// How far back from the end an append can change a smoothed value, with room to spare: the
/// Gaussian reaches 3 sigma (exact kernel) or about 3 sigma + 3 (box passes), the running average
/// half its window. Too large only costs a few more summaries.
fn smoothing_reach(kind: Smoother) -> usize {
    match kind.clamped() {
        Smoother::Gaussian { sigma } => (4.0 * sigma).ceil() as usize + 8,
        Smoother::RunningAverage { window } => window / 2 + 2,
        Smoother::Ema { .. } | Smoother::TimeWeightedEma { .. } => 0,
    }
}

/// The first `.1` values of a series.
struct Truncated<'a, 'b>(&'b SeriesView<'a>, usize);

impl Ys for Truncated<'_, '_> {
    fn len(&self) -> usize {
        self.1.min(Ys::len(self.0))
    }
    #[inline]
    fn y(&self, i: usize) -> f64 {
        self.0.value(i)
    }
    #[inline]
    fn for_each_from(&self, from: usize, to: usize, f: impl FnMut(usize, f64)) {
        self.0.for_each_from(from, to.min(self.1), f);
    }
    #[inline]
    fn read_into(&self, from: usize, out: &mut [f64]) {
        debug_assert!(from + out.len() <= self.1);
        self.0.read_into(from, out);
    }
}

/// A series' columns with its xs and values, as [`ColumnCache::sync`] gives them.
pub struct Synced<'a> {
    pub xs: XView<'a>,
    /// The values, read from the store (as many as `xs`).
    pub ys: SeriesView<'a>,
    pub cols: &'a mut SeriesColumns,
}

impl SeriesColumns {
    /// The smoothed values of `ys` (at `xs`, this series' xs and values) and their summaries,
    /// extended from the last call when only new points arrived.
    pub fn smoothed<'a>(
        &'a mut self,
        xs: &XView<'a>,
        ys: &SeriesView<'a>,
        kind: Smoother,
    ) -> (Smoothed<'a>, &'a Envelope) {
        self.smoothed_on(xs, ys, kind, 1)
    }

    /// As [`SeriesColumns::smoothed`], a centred smoother's summaries built on up to `threads`
    /// threads when there are many to build (see [`Envelope::update_parts`]; the EMAs are
    /// sequential).
    pub fn smoothed_on<'a>(
        &'a mut self,
        xs: &XView<'a>,
        ys: &SeriesView<'a>,
        kind: Smoother,
        threads: usize,
    ) -> (Smoothed<'a>, &'a Envelope) {
        let (values, env, _) = self.smoothed_tracked(xs, ys, kind, threads);
        (values, env)
    }

    /// As [`SeriesColumns::smoothed`], with the first point whose smoothed value this call may
    /// have changed.
    fn smoothed_tracked<'a>(
        &'a mut self,
        xs: &XView<'a>,
        ys: &SeriesView<'a>,
        kind: Smoother,
        threads: usize,
    ) -> (Smoothed<'a>, &'a Envelope, usize) {
        let kind = kind.clamped();
        let n = self.len.min(xs.len());
        let old_len = self.smoothed_len(kind);
        self.drop_other_smoothers(kind);
        let changed = match kind {
            Smoother::Ema { weight } => {
                debug_assert_eq!(old_len, self.ema.as_ref().map_or(0, |e| e.len()));
                let unchanged = self.ema_begin(kind, weight);
                let Some(e) = self.ema.as_mut() else { unreachable!("set by ema_begin") };
                // The summaries are built in the EMA's own pass: a million-point series is
                // smoothed once, not smoothed and then read back.
                self.smooth_env.update_with(unchanged, n.max(e.len()), |start, sums| {
                    let taken = e.len();
                    sums.read(&e.values(*ys), start, taken);
                    e.extend_with(ys, n, |i, vals| sums.points(i, vals));
                });
                unchanged
            }
            Smoother::TimeWeightedEma { param } => {
                let range = if self.x_hi > self.x_lo { self.x_hi - self.x_lo } else { 0.0 };
                // A recompute (another parameter, a wider range) changes every value; an append
                // none of those taken. As for the EMA, the summaries are built in its own pass.
                let reuse = self.twema.reusable(param, n, range);
                let unchanged = if reuse && self.env_kind == Some(kind) { old_len } else { 0 };
                let tw = &mut self.twema;
                self.smooth_env.update_with(
                    unchanged,
                    n.max(if reuse { tw.len() } else { 0 }),
                    |start, sums| {
                        if reuse {
                            tw.values(*xs, *ys).for_each_from(start, tw.len(), |i, y| sums.point(i, y));
                        }
                        tw.extend_with(param, n, xs, ys, range, |i, y| sums.point(i, y));
                    },
                );
                unchanged
            }
            Smoother::Gaussian { .. } | Smoother::RunningAverage { .. } => {
                let reuse = self.window.as_ref().is_some_and(|w| w.kind() == kind && w.len() <= n);
                if !reuse {
                    self.window_full += 1;
                    self.window = window::LazyWindow::new(kind);
                }
                let Some(w) = self.window.as_mut() else { unreachable!("a centred smoother") };
                w.set_len(n);
                // An append changes the values within the smoother's reach of the end.
                let unchanged = if reuse && self.env_kind == Some(kind) {
                    old_len.saturating_sub(smoothing_reach(kind) + 2)
                } else {
                    0
                };
                // Each part reads its values through its own window (any range of a centred
                // smoother's values is computed bit for bit as the whole's).
                let (w, ys) = (&*w, *ys);
                self.smooth_env.update_parts(unchanged, n, threads, |a, b, sums| {
                    w.values(ys).for_each_from(a, b, |i, y| sums.point(i, y));
                });
                unchanged
            }
        };
        self.env_kind = Some(kind);
        let values = match (kind, &self.ema, &self.window) {
            (Smoother::Ema { .. }, Some(e), _) => Smoothed::Ema(e.values(*ys)),
            (Smoother::TimeWeightedEma { .. }, ..) => Smoothed::Twema(self.twema.values(*xs, *ys)),
            (Smoother::Gaussian { .. } | Smoother::RunningAverage { .. }, _, Some(w)) => {
                Smoothed::Window(w.values(*ys))
            }
            _ => Smoothed::Kept(Values::Slice(&[])),
        };
        self.smooth_changed = self.smooth_changed.min(changed);
        (values, &self.smooth_env, changed)
    }

    /// The EMA of `weight` (`kind`, clamped) ready to extend: the one held when its weight is
    /// the same, else a new one. Returns how many of its smoothed values the summaries of the
    /// smoothed values hold already (the EMA is causal: the values taken never change).
    fn ema_begin(&mut self, kind: Smoother, weight: f64) -> usize {
        let unchanged = self.ema_unchanged(kind, weight);
        if self.ema.as_ref().is_none_or(|e| e.weight().to_bits() != weight.to_bits()) {
            self.ema_full += 1;
            self.ema = Some(ema::LazyEma::new(weight));
        }
        unchanged
    }

    /// What [`SeriesColumns::ema_begin`] will return.
    fn ema_unchanged(&self, kind: Smoother, weight: f64) -> usize {
        match &self.ema {
            Some(e) if e.weight().to_bits() == weight.to_bits() && self.env_kind == Some(kind) => e.len(),
            _ => 0,
        }
    }

    /// [`SeriesColumns::smoothed`] by the EMA `kind` of two series (each its columns and its
    /// values) at once, bit for bit as one after the other: their EMAs run interleaved
    /// ([`ema::LazyEma::extend_pair`]), which costs about what one alone did. Only when both are
    /// smoothed from their first point (the columns a loading sweep builds for every run, where
    /// this pays); returns false, having done nothing, otherwise.
    fn smoothed_ema_pair(
        (a, ys_a): (&mut SeriesColumns, &SeriesView<'_>),
        (b, ys_b): (&mut SeriesColumns, &SeriesView<'_>),
        kind: Smoother,
    ) -> bool {
        let kind = kind.clamped();
        let Smoother::Ema { weight } = kind else { return false };
        let from_first = |c: &SeriesColumns| c.len > 0 && c.ema_unchanged(kind, weight) == 0;
        if !(from_first(a) && from_first(b)) {
            return false;
        }
        for c in [&mut *a, &mut *b] {
            c.drop_other_smoothers(kind);
            c.ema_begin(kind, weight);
        }
        let (Some(ea), Some(eb)) = (a.ema.as_mut(), b.ema.as_mut()) else { unreachable!("set by ema_begin") };
        // As `smoothed_tracked`'s (`n` is the points taken: the xs are truncated to them), each
        // series' summaries from their first block (nothing is unchanged), both fed by the
        // interleaved pass.
        let (na, nb) = (a.len, b.len);
        let env_b = &mut b.smooth_env;
        a.smooth_env.update_with(0, na.max(ea.len()), |start_a, sums_a| {
            env_b.update_with(0, nb.max(eb.len()), |start_b, sums_b| {
                sums_a.read(&ea.values(*ys_a), start_a, ea.len());
                sums_b.read(&eb.values(*ys_b), start_b, eb.len());
                ema::LazyEma::extend_pair(
                    (ea, ys_a, na, |i, vals: &[f64]| sums_a.points(i, vals)),
                    (eb, ys_b, nb, |i, vals: &[f64]| sums_b.points(i, vals)),
                );
            });
        });
        for c in [a, b] {
            c.env_kind = Some(kind);
            c.smooth_changed = 0;
        }
        true
    }

    fn smoothed_len(&self, kind: Smoother) -> usize {
        match kind {
            Smoother::Ema { .. } => self.ema.as_ref().map_or(0, |e| e.len()),
            Smoother::TimeWeightedEma { .. } => self.twema.len(),
            _ => self.window.as_ref().map_or(0, |w| w.len()),
        }
    }

    /// Only the smoother shown keeps its state.
    fn drop_other_smoothers(&mut self, kind: Smoother) {
        if !matches!(kind, Smoother::Ema { .. }) {
            self.ema = None;
        }
        if !matches!(kind, Smoother::TimeWeightedEma { .. }) && self.twema.len() > 0 {
            let full = self.twema.full_recomputes();
            self.twema = twema::LiveTwema::default();
            // Kept, so a drop does not look like fewer smooths from scratch.
            self.window_full += full;
        }
        if !matches!(kind, Smoother::Gaussian { .. } | Smoother::RunningAverage { .. }) {
            self.window = None;
        }
    }

    /// The block summaries of the values `ys` (this series' values), extended to the points taken.
    /// Built on first use: an overlay of many runs draws only their smoothed lines and needs none.
    pub fn raw_env(&mut self, ys: &SeriesView<'_>) -> &Envelope {
        self.raw_env_on(ys, 1)
    }

    /// As [`SeriesColumns::raw_env`], on up to `threads` threads when there are many points to
    /// summarise (see [`Envelope::update_parts`]).
    pub fn raw_env_on(&mut self, ys: &SeriesView<'_>, threads: usize) -> &Envelope {
        if self.raw_len < self.len {
            let (ys, len) = (*ys, self.len);
            self.raw_env.update_parts(self.raw_len, len, threads, |a, b, sums| {
                sums.read(&Truncated(&ys, len), a, b);
            });
            self.raw_len = self.len;
        }
        &self.raw_env
    }

    /// About how many of `n` points the reductions of this series for these views would read
    /// (the raw values' when `raw`, the smoothed values' when `smoothed`).
    pub fn reduce_left(&self, n: usize, views: (&View, &View), raw: bool, smoothed: bool) -> usize {
        let raw = if raw { self.raw_red.left(views.0, n) } else { 0 };
        raw + if smoothed { self.smooth_red.left(views.1, n) } else { 0 }
    }

    /// The reduction of the values `ys` at `xs` (this series' xs and values) for `view`, resumed
    /// from the last one when the view is the same (only the columns of new points are read).
    pub fn reduce_raw<X: Xs + ?Sized>(&mut self, xs: &X, ys: &SeriesView<'_>, view: &View) -> Reduced {
        self.raw_env(ys);
        reduce_resumed(xs, ys, &self.raw_env, view, &mut self.raw_red)
    }

    /// The reduction of the values smoothed by `kind` for `view` (see [`SeriesColumns::smoothed`]),
    /// resumed from the last one when the view is the same and the smoothed values before the
    /// points that changed are those it read.
    pub fn reduce_smoothed(
        &mut self,
        xs: &XView<'_>,
        ys: &SeriesView<'_>,
        kind: Smoother,
        view: &View,
    ) -> Reduced {
        let mut state = std::mem::take(&mut self.smooth_red);
        // What other calls (a cursor's reading, warming) changed since the last reduction.
        state.changed_from(self.smooth_changed);
        let (sm, env, changed) = self.smoothed_tracked(xs, ys, kind, 1);
        state.changed_from(changed);
        let out = reduce_resumed(xs, &sm, env, view, &mut state);
        // The state now reflects every smoothed value: what changes next is recorded afresh.
        self.smooth_changed = usize::MAX;
        self.smooth_red = state;
        out
    }

    /// Drops the summaries of the raw values (they are not drawn).
    pub fn drop_raw(&mut self) {
        self.raw_env = Envelope::default();
        self.raw_len = 0;
        self.raw_red.clear();
    }

    /// Drops the kept reductions (the data is not in x order: reduced another way).
    pub fn drop_reductions(&mut self) {
        self.raw_red.clear();
        self.smooth_red.clear();
    }

    /// Drops the smoother's state and summaries (smoothing was turned off).
    pub fn drop_smoothed(&mut self) {
        self.drop_other_smoothers(Smoother::Ema { weight: 0.0 });
        self.ema = None;
        self.smooth_env = Envelope::default();
        self.env_kind = None;
        self.smooth_red.clear();
        self.smooth_changed = 0;
    }

    /// How many times the smoothed values were computed from scratch (a new smoother or
    /// parameter, a wider TWEMA range).
    pub fn full_smooths(&self) -> u64 {
        self.ema_full + self.window_full + self.twema.full_recomputes()
    }

    /// Takes the store's points from `self.len` on (`xs` are the series' xs).
    fn extend(&mut self, s: &SeriesView<'_>, xs: &XView<'_>) {
        self.extend_to(s, xs, usize::MAX, 0);
    }

    /// Takes the store's points from `self.len` on, up to `upto` points in all. Records
    /// `0..ordered` have xs finite, non-decreasing and none -0.0 (see [`ColumnCache`]).
    fn extend_to(&mut self, s: &SeriesView<'_>, xs: &XView<'_>, upto: usize, ordered: usize) {
        let from = self.len;
        let n = s.len().min(upto);
        if from >= n {
            return;
        }
        if from == 0 {
            self.sorted = true;
        }
        self.len = n;
        self.last_y = s.value(n - 1).to_bits();
        let last_x = xs.x(n - 1);
        self.last_x = last_x.to_bits();
        // Every point of the series (those before `from` too) among the ordered records: the
        // order holds (with the point before), and the ends are the least and the greatest.
        if (s.record_of(n - 1) as usize) < ordered {
            (self.x_lo, self.x_hi) = (self.x_lo.min(xs.x(from)), self.x_hi.max(last_x));
            return;
        }
        let (mut lo, mut hi, mut sorted) = (self.x_lo, self.x_hi, self.sorted);
        let mut prev: Option<f64> = None;
        xs.for_each_from(from.saturating_sub(1), n, |i, x| {
            if i >= from && x.is_finite() {
                (lo, hi) = (lo.min(x), hi.max(x));
            }
            // A NaN x compares false, so it counts as out of order.
            if let Some(p) = prev {
                sorted &=
                    matches!(p.partial_cmp(&x), Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal));
            }
            prev = Some(x);
        });
        (self.x_lo, self.x_hi, self.sorted) = (lo, hi, sorted);
    }

    /// Heap bytes held: summaries, kept reductions and the EMAs' checkpoints (the xs and values
    /// are the store's; no smoother keeps a column).
    pub fn held_bytes(&self) -> usize {
        self.raw_env.heap_bytes()
            + self.smooth_env.heap_bytes()
            + self.ema.as_ref().map_or(0, |e| e.heap_bytes())
            + self.twema.heap_bytes()
            + self.raw_red.heap_bytes()
            + self.smooth_red.heap_bytes()
    }
}

/// The columns of the series charted so far, for one run on one x axis.
#[derive(Debug, Default)]
pub struct ColumnCache {
    /// (slot, run epoch, axis, t0 bits): any change starts over.
    key: Option<(usize, u64, XAxis, u64)>,
    /// Records seen at the last sync, and the bits of the last one's x, to tell an append from
    /// replaced data.
    records: usize,
    last_record_x: u64,
    series: HashMap<SeriesId, SeriesColumns>,
    rebuilds: u64,
    uses: u64,
    /// Series held before the oldest is let go: at least [`MAX_SERIES`] (a heatmap holds a whole
    /// family).
    hold: usize,
    /// Frames drawn (see [`ColumnCache::end_frame`]).
    frame: u64,
    /// Records `0..ordered` have xs on the key's axis finite, non-decreasing and none -0.0: a
    /// series whose points all lie among them takes its x range from its ends and stays sorted,
    /// without reading its xs. Every metric of a run shares the record table, which is read
    /// once so, not once a series.
    ordered: usize,
    /// The record at `ordered` broke that order (nothing after it is looked at).
    ordered_broken: bool,
    /// Whether `ordered` is about the steps (else the times).
    ordered_steps: bool,
}

impl ColumnCache {
    /// About how many points the reductions of `ids` of `store` for these views would read (see
    /// [`SeriesColumns::reduce_left`]); a series not held reads all of its points.
    pub fn reduce_left(
        &self,
        store: &Store,
        ids: &[SeriesId],
        views: (&View, &View),
        raw: bool,
        smoothed: bool,
    ) -> usize {
        ids.iter()
            .map(|&id| {
                let n = store.series(id).len();
                self.series.get(&id).map_or(n * (raw as usize + smoothed as usize), |c| {
                    c.reduce_left(n, views, raw, smoothed)
                })
            })
            .sum()
    }

    /// Columns of series `id` brought up to date with the store. `axis` must be the effective
    /// axis (a time axis only when the log has times), `t0` the run's first time.
    pub fn sync<'a>(
        &'a mut self,
        key: (usize, u64),
        store: &'a Store,
        id: SeriesId,
        axis: XAxis,
        t0: f64,
    ) -> Synced<'a> {
        self.sync_to(key, store, id, axis, t0, usize::MAX)
    }

    /// As [`ColumnCache::sync`], taking the store's points up to `upto` in all (0: only what is
    /// held, for a heatmap whose columns are built over several frames:
    /// [`ColumnCache::warm_some`]).
    pub fn sync_to<'a>(
        &'a mut self,
        key: (usize, u64),
        store: &'a Store,
        id: SeriesId,
        axis: XAxis,
        t0: f64,
        upto: usize,
    ) -> Synced<'a> {
        let xs = self.prepare(key, store, id, axis, t0);
        let on_steps = std::ptr::eq(xs.by_record, store.steps());
        if on_steps != self.ordered_steps {
            (self.ordered, self.ordered_broken, self.ordered_steps) = (0, false, on_steps);
        }
        if !self.ordered_broken && self.ordered < xs.by_record.len() {
            (self.ordered, self.ordered_broken) = xs.ordered_from(self.ordered);
        }
        let ordered = self.ordered;
        let s = store.series(id);
        let Some(cols) = self.series.get_mut(&id) else { unreachable!("prepare inserts the series") };
        cols.extend_to(&s, &xs, upto, ordered);
        Synced { xs: xs.truncate(cols.len), ys: s, cols }
    }

    /// Checks the cache against the store for series `id` (starting over when the data is not an
    /// extension of what was seen) and makes sure it has an entry; returns its xs.
    fn prepare<'a>(
        &mut self,
        key: (usize, u64),
        store: &'a Store,
        id: SeriesId,
        axis: XAxis,
        t0: f64,
    ) -> XView<'a> {
        let x_of = |r: usize| {
            let m = store.record(r as u32);
            match axis {
                XAxis::Step => m.step,
                XAxis::Relative => m.time - t0,
                XAxis::Wall => m.time,
            }
        };
        // The store only appends; anything else (fewer records, a different last record) means
        // the data was replaced under the same run, and everything starts over.
        let full_key = (key.0, key.1, axis, t0.to_bits());
        let have = self.records;
        let same_records =
            have <= store.records() && (have == 0 || x_of(have - 1).to_bits() == self.last_record_x);
        if self.key != Some(full_key) || !same_records {
            self.key = Some(full_key);
            self.series.clear();
            (self.ordered, self.ordered_broken) = (0, false);
        }
        self.records = store.records();
        self.last_record_x = store.records().checked_sub(1).map_or(0, |r| x_of(r).to_bits());
        if self.series.len() >= MAX_SERIES.max(self.hold) && !self.series.contains_key(&id) {
            if let Some(oldest) = self.series.iter().min_by_key(|(_, c)| c.used).map(|(&k, _)| k) {
                self.series.remove(&oldest);
            }
        }
        self.uses += 1;
        let s = store.series(id);
        let xs = XView::new(store, id, axis, t0);
        let cols = self.series.entry(id).or_default();
        cols.used = self.uses;
        cols.frame = self.frame;
        let have = cols.len;
        let extends = have <= s.len()
            && (have == 0
                || (s.value(have - 1).to_bits() == cols.last_y && xs.x(have - 1).to_bits() == cols.last_x));
        if !extends {
            *cols = SeriesColumns::default();
        }
        if cols.len == 0 && !s.is_empty() {
            self.rebuilds += 1;
        }
        xs
    }

    /// Brings the columns of `ids` (and their smoothing `kind`) up to date on the machine's cores,
    /// when they lack many points: the first frame of a big run builds every charted series from
    /// scratch, millions of points each. The series are independent of each other, and a series'
    /// summaries are built in parts when one series holds most of the work. Smaller
    /// catch-ups are left to [`ColumnCache::sync`], which the frame calls anyway.
    pub fn warm(
        &mut self,
        key: (usize, u64),
        store: &Store,
        ids: &[SeriesId],
        axis: XAxis,
        t0: f64,
        kind: Option<Smoother>,
    ) {
        // Another run or axis starts every series over (see `prepare`).
        let same_key = self.key == Some((key.0, key.1, axis, t0.to_bits()));
        let missing = |c: &ColumnCache, id: SeriesId| {
            let have = c.series.get(&id).filter(|_| same_key).map_or(0, |c| c.len);
            store.series(id).len().saturating_sub(have)
        };
        let work: usize = ids.iter().map(|&id| missing(self, id)).sum();
        let cores = crate::formats::par::threads();
        if cores < 2 || work < WARM_MIN_POINTS {
            return;
        }
        let mut jobs: Vec<(SeriesId, SeriesColumns)> = Vec::with_capacity(ids.len());
        for &id in ids {
            if jobs.iter().any(|(j, _)| *j == id) {
                continue;
            }
            self.prepare(key, store, id, axis, t0);
            if let Some(cols) = self.series.remove(&id) {
                jobs.push((id, cols));
            }
        }
        let build = |(id, cols): &mut (SeriesId, SeriesColumns), threads: usize| {
            let (s, xs) = (store.series(*id), XView::new(store, *id, axis, t0));
            cols.extend(&s, &xs);
            cols.raw_env_on(&s, threads);
            if let Some(k) = kind {
                cols.smoothed_on(&xs.truncate(cols.len), &s, k, threads);
            }
        };
        let left = |(id, c): &(SeriesId, SeriesColumns)| store.series(*id).len().saturating_sub(c.len);
        // Biggest first.
        jobs.sort_by_key(|job| std::cmp::Reverse(left(job)));
        if jobs.len() < 2 || left(&jobs[0]) * 2 > work {
            // One series holds most of the work (a single chart, a metric beside a sparse eval
            // one): its summaries are built in parts on every core instead, one series at a time.
            jobs.iter_mut().for_each(|job| build(job, cores));
        } else {
            // Dealt round the cores: each thread gets about the same number of points, and a
            // series the cores left over.
            let inner = (cores / jobs.len()).max(1);
            jobs = crate::formats::par::dealt(jobs, cores, |job| build(job, inner));
        }
        self.series.extend(jobs);
    }

    /// Brings the raw columns (values' summaries, no smoothing) of `ids` towards the store by
    /// about `budget` points in all, shared evenly among the series that lack points, on the
    /// machine's cores (as [`ColumnCache::warm`]); returns the points still missing. A heatmap's
    /// first frame of a 48-layer family over 1M steps has 48M points to summarise: built a slice
    /// per frame, the loop answers keys between slices instead of after the whole build.
    pub fn warm_some(
        &mut self,
        key: (usize, u64),
        store: &Store,
        ids: &[SeriesId],
        axis: XAxis,
        t0: f64,
        budget: usize,
    ) -> usize {
        // A series, its columns, and its points in the store; with the points to take it to.
        type Job = (SeriesId, SeriesColumns, usize);
        let mut jobs: Vec<Job> = Vec::with_capacity(ids.len());
        for &id in ids {
            if jobs.iter().any(|(j, ..)| *j == id) {
                continue;
            }
            self.prepare(key, store, id, axis, t0);
            let n = store.series(id).len();
            match self.series.remove(&id) {
                Some(cols) if cols.len < n || cols.raw_len < cols.len => jobs.push((id, cols, n)),
                Some(cols) => {
                    self.series.insert(id, cols);
                }
                None => {}
            }
        }
        if jobs.is_empty() {
            return 0;
        }
        // An even share each; what a short series leaves goes to the others, in a second round
        // of shares (at most as many rounds as series).
        let mut left = budget.max(1);
        let mut upto: Vec<usize> = jobs.iter().map(|(_, c, _)| c.len).collect();
        loop {
            let open: Vec<usize> = (0..jobs.len()).filter(|&k| upto[k] < jobs[k].2).collect();
            if open.is_empty() || left == 0 {
                break;
            }
            let share = (left / open.len()).max(1);
            for k in open {
                let take = share.min(jobs[k].2 - upto[k]).min(left);
                upto[k] += take;
                left -= take;
            }
        }
        let build = |(id, cols, _): &mut Job, upto: usize| {
            let (s, xs) = (store.series(*id), XView::new(store, *id, axis, t0));
            cols.extend_to(&s, &xs, upto, 0);
            cols.raw_env(&s);
        };
        let threads = crate::formats::par::threads().min(jobs.len());
        let work: usize = jobs.iter().zip(&upto).map(|((_, c, _), &u)| u - c.len.min(u)).sum();
        if threads < 2 || work < WARM_MIN_POINTS / 4 {
            for (job, &u) in jobs.iter_mut().zip(&upto) {
                build(job, u);
            }
        } else {
            // Biggest first, dealt round the threads: each gets about the same number of points.
            let mut dealt: Vec<(Job, usize)> = jobs.into_iter().zip(upto).collect();
            dealt.sort_by_key(|((_, c, _), u)| std::cmp::Reverse(u - c.len.min(*u)));
            let mut shares: Vec<Vec<(Job, usize)>> = (0..threads).map(|_| Vec::new()).collect();
            for (k, job) in dealt.into_iter().enumerate() {
                shares[k % threads].push(job);
            }
            let run = |share: &mut Vec<(Job, usize)>| {
                for (job, u) in share.iter_mut() {
                    build(job, *u);
                }
            };
            std::thread::scope(|sc| {
                let (mine, theirs) = shares.split_at_mut(1);
                for share in theirs.iter_mut() {
                    sc.spawn(|| run(share));
                }
                run(&mut mine[0]);
            });
            jobs = shares.into_iter().flatten().map(|(job, _)| job).collect();
        }
        let mut missing = 0;
        for (id, cols, n) in jobs {
            missing += n - cols.len.min(n);
            self.series.insert(id, cols);
        }
        missing
    }

    /// About how many points the next frame would go through to bring the columns of `ids`
    /// (their values' summaries and their smoothing by `kind`) up to date with the store on
    /// `axis`: the new points only when the columns are held for this view, every point of a
    /// series whose columns are missing (another axis, dropped by an earlier frame) or whose
    /// smoother changed. The monitor decides by it whether a view change is computed away from
    /// its loop (`crate::app::recompute`).
    pub fn work(
        &self,
        key: (usize, u64),
        store: &Store,
        ids: &[SeriesId],
        axis: XAxis,
        t0: f64,
        kind: Option<Smoother>,
    ) -> usize {
        let same_key = self.key == Some((key.0, key.1, axis, t0.to_bits()));
        let mut seen: Vec<SeriesId> = Vec::with_capacity(ids.len());
        let mut work = 0;
        for &id in ids {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            let n = store.series(id).len();
            let Some(c) = self.series.get(&id).filter(|_| same_key) else {
                work += if kind.is_some() { 2 * n } else { n };
                continue;
            };
            work += n.saturating_sub(c.len) + n.saturating_sub(c.raw_len);
            if let Some(k) = kind {
                let k = k.clamped();
                let same = c.env_kind == Some(k)
                    && match k {
                        Smoother::Ema { weight } => {
                            c.ema.as_ref().is_some_and(|e| e.weight().to_bits() == weight.to_bits())
                        }
                        _ => true,
                    };
                work += if same { n.saturating_sub(c.len) } else { n };
            }
        }
        work
    }

    /// Takes the columns `other` built (away from the loop, on a copy of the same run's data:
    /// `super::ColumnsJob`): on the same axis its series join or replace these; on another
    /// axis they replace them all. The store may have grown since `other` was built: the next
    /// sync takes the new points (the columns' own check of the last point tells an append from
    /// replaced data).
    pub fn merge(&mut self, other: ColumnCache) {
        let frame = self.frame;
        self.rebuilds += other.rebuilds;
        if self.key != other.key {
            self.key = other.key;
            self.records = other.records;
            self.last_record_x = other.last_record_x;
            self.series.clear();
        }
        for (id, mut cols) in other.series {
            self.uses += 1;
            cols.used = self.uses;
            cols.frame = frame;
            self.series.insert(id, cols);
        }
    }

    /// The columns are those of the run `key` (a placeholder's columns, built before the run had
    /// its key: `super::Prepared::for_history`).
    pub fn rekey(&mut self, key: (usize, u64)) {
        if let Some(k) = self.key.as_mut() {
            (k.0, k.1) = key;
        }
    }

    /// Points of the series `ids` of run `key` (on `axis`) that their columns lack.
    pub fn missing(&self, key: (usize, u64), store: &Store, ids: &[SeriesId], axis: XAxis) -> usize {
        let same_key = self.key.is_some_and(|k| (k.0, k.1, k.2) == (key.0, key.1, axis));
        ids.iter()
            .map(|&id| {
                let have = self.series.get(&id).filter(|_| same_key).map_or(0, |c| c.len);
                store.series(id).len().saturating_sub(have)
            })
            .sum()
    }

    /// Brings the columns of `ids` (and their smoothing `kind`, and with `raw` the summaries of
    /// their values) up to date, each series' summaries built on up to `threads` threads when
    /// there are many (see [`Envelope::update_parts`]): a view change's worker
    /// (`super::ColumnsJob`) on one series uses every core; an overlay's warm-up
    /// (`Cache::warm_overlay`) spreads runs over threads and builds each on one.
    #[allow(clippy::too_many_arguments)]
    pub fn build_on(
        &mut self,
        key: (usize, u64),
        store: &Store,
        ids: &[SeriesId],
        axis: XAxis,
        t0: f64,
        kind: Option<Smoother>,
        raw: bool,
        threads: usize,
    ) {
        // The EMA's series are smoothed two at a time (see `SeriesColumns::smoothed_ema_pair`):
        // one waits here for the next.
        let pairs = matches!(kind.map(|k| k.clamped()), Some(Smoother::Ema { .. }));
        let mut waiting: Option<SeriesId> = None;
        for &id in ids {
            let c = self.sync(key, store, id, axis, t0);
            if raw || kind.is_none() {
                c.cols.raw_env_on(&c.ys, threads);
            }
            let Some(k) = kind.filter(|_| c.cols.sorted) else { continue };
            if !pairs {
                let (xs, ys) = (c.xs, c.ys);
                c.cols.smoothed_on(&xs, &ys, k, threads);
                continue;
            }
            match waiting.take() {
                Some(w) if w != id => {
                    if let [Some(a), Some(b)] = self.series.get_disjoint_mut([&w, &id]) {
                        let (ys_a, ys_b) = (store.series(w), store.series(id));
                        if SeriesColumns::smoothed_ema_pair((a, &ys_a), (b, &ys_b), k) {
                            continue;
                        }
                    }
                    self.smooth_one(store, w, axis, t0, k);
                    self.smooth_one(store, id, axis, t0, k);
                }
                _ => waiting = Some(id),
            }
        }
        if let (Some(w), Some(k)) = (waiting, kind) {
            self.smooth_one(store, w, axis, t0, k);
        }
    }

    /// Smooths the series `id` held (synced) by `kind`.
    fn smooth_one(&mut self, store: &Store, id: SeriesId, axis: XAxis, t0: f64, kind: Smoother) {
        if let Some(cols) = self.series.get_mut(&id) {
            let xs = XView::new(store, id, axis, t0).truncate(cols.len);
            cols.smoothed_on(&xs, &store.series(id), kind, 1);
        }
    }

    /// Holds at least `n` series' columns (a heatmap's layers) before letting the oldest go.
    pub fn hold_at_least(&mut self, n: usize) {
        self.hold = self.hold.max(n);
    }

    /// The series `ids` are on screen in this frame (their chart came from a cache).
    pub fn touch(&mut self, ids: &[SeriesId]) {
        for id in ids {
            if let Some(c) = self.series.get_mut(id) {
                c.frame = self.frame;
            }
        }
    }

    /// A frame was drawn: the columns of series it did not show are dropped.
    pub fn end_frame(&mut self) {
        let frame = self.frame;
        self.series.retain(|_, c| c.frame == frame);
        if self.series.is_empty() {
            self.key = None;
        }
        self.frame += 1;
    }

    /// Heap bytes held by the columns of every series (summaries and smoothers' checkpoints).
    pub fn held_bytes(&self) -> usize {
        self.series.values().map(SeriesColumns::held_bytes).sum()
    }

    /// Series whose columns are held (for tests).
    pub fn held(&self) -> usize {
        self.series.len()
    }

    /// How many times a series' columns were built from its first point (for tests).
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds
    }

    /// How many times the smoothed series now held were computed from scratch (for tests).
    pub fn full_smooths(&self) -> u64 {
        self.series.values().map(SeriesColumns::full_smooths).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::smooth::{smooth, twema_with_range};
    use crate::store::RecordMeta;

    fn push(store: &mut Store, id: SeriesId, from: usize, to: usize) {
        for i in from..to {
            let r = store.begin_record(RecordMeta { step: i as f64, time: f64::NAN, line: i as u64 + 1 });
            let y = if i % 50 == 7 { f64::NAN } else { ((i * 7919) % 1000) as f64 / 100.0 };
            store.push(r, id, y);
        }
    }

    #[test]
    fn a_series_built_in_parts_on_several_threads_equals_one_threads_build() {
        let mut store = Store::new();
        let id = store.intern("loss");
        // Past the parallel threshold, not a whole number of blocks, NaNs, then an append.
        let n = crate::chart::reduce::PARALLEL_MIN_POINTS + 40_007;
        push(&mut store, id, 0, n);
        for kind in [
            Smoother::Gaussian { sigma: 2.0 },
            Smoother::Gaussian { sigma: 30.0 },
            Smoother::RunningAverage { window: 347 },
            Smoother::Ema { weight: 0.6 },
        ] {
            let mut store = store.clone();
            let (mut one, mut many) = (ColumnCache::default(), ColumnCache::default());
            for threads in [1, 3] {
                let c = if threads == 1 { &mut one } else { &mut many };
                c.build_on((0, 0), &store, &[id], XAxis::Step, 0.0, Some(kind), true, threads);
            }
            let same = |one: &ColumnCache, many: &ColumnCache, what: &str| {
                let (a, b) = (&one.series[&id], &many.series[&id]);
                assert!(a.raw_env == b.raw_env, "{kind:?} {what}: values' summaries differ");
                assert!(a.smooth_env == b.smooth_env, "{kind:?} {what}: smoothed summaries differ");
                assert_eq!((a.len, a.raw_len), (b.len, b.raw_len));
            };
            same(&one, &many, "built");
            // A centred smoother's summaries are those of the batch smoother's values (the EMA's
            // are of its values narrowed: `smoothed_reductions_equal_those_of_the_batch_values`).
            if !matches!(kind, Smoother::Ema { .. }) {
                let want = Envelope::of(&Values::Slice(&smooth(kind, &[], &store.series(id).values())));
                assert!(one.series[&id].smooth_env == want, "{kind:?}: not the batch's summaries");
            }
            push(&mut store, id, n, n + 3000);
            for (c, threads) in [(&mut one, 1), (&mut many, 3)] {
                c.build_on((0, 0), &store, &[id], XAxis::Step, 0.0, Some(kind), true, threads);
            }
            same(&one, &many, "after an append");
        }
    }

    #[test]
    fn a_runs_emas_built_in_pairs_equal_each_series_smoothed_alone() {
        // Metrics of one run: logged together (taken in pairs), one on every other record (its
        // own length), one constant, one falling below f32's range; an odd number, one listed
        // twice; then appends, a weight change, and a restart (steps going back: no series is
        // in x order, none is smoothed).
        let mut store = Store::new();
        let names = ["loss", "acc", "lr", "const", "tiny", "grad"];
        let ids: Vec<SeriesId> = names.iter().map(|n| store.intern(n)).collect();
        let fill = |store: &mut Store, from: usize, to: usize| {
            for i in from..to {
                let step = if i < 1300 { i } else { i - 600 } as f64;
                let r = store.begin_record(RecordMeta { step, time: f64::NAN, line: i as u64 + 1 });
                for (k, &id) in ids.iter().enumerate() {
                    let y = match names[k] {
                        "lr" if i % 2 == 1 => continue,
                        "const" => 0.5,
                        "tiny" if i > 700 => 1e-300 * (i % 7) as f64,
                        _ if i % 97 == k => f64::NAN,
                        _ => ((i * (k + 7919)) % 1000) as f64 / 10.0 - 50.0,
                    };
                    store.push(r, id, y);
                }
            }
        };
        fill(&mut store, 0, 1000);
        let listed: Vec<SeriesId> = ids.iter().copied().chain([ids[1]]).collect();
        let (mut paired, mut alone) = (ColumnCache::default(), ColumnCache::default());
        for (to, weight) in [(1000, 0.6), (1003, 0.6), (1130, 0.6), (1130, 0.9), (1500, 0.99)] {
            let have = store.records();
            fill(&mut store, have, to);
            let kind = Smoother::Ema { weight };
            paired.build_on((0, 0), &store, &listed, XAxis::Step, 0.0, Some(kind), false, 1);
            for &id in &listed {
                let c = alone.sync((0, 0), &store, id, XAxis::Step, 0.0);
                if c.cols.sorted {
                    c.cols.smoothed(&c.xs, &c.ys, kind);
                }
            }
            for (&id, name) in ids.iter().zip(names) {
                let (a, b) = (&paired.series[&id], &alone.series[&id]);
                assert!(a.smooth_env == b.smooth_env, "{name} at {to}, {weight}: summaries differ");
                assert_eq!((a.len, a.env_kind, a.smooth_changed), (b.len, b.env_kind, b.smooth_changed));
                assert_eq!((a.full_smooths(), a.sorted), (b.full_smooths(), b.sorted), "{name}");
                let ys = store.series(id);
                let values = |c: &SeriesColumns| -> Vec<u64> {
                    c.ema.as_ref().map_or(Vec::new(), |e| {
                        let v = e.values(ys);
                        (0..e.len()).map(|i| v.y(i).to_bits()).collect()
                    })
                };
                assert_eq!(values(a), values(b), "{name} at {to}, {weight}: smoothed values differ");
            }
        }
        assert!(ids.iter().all(|id| !paired.series[id].sorted), "the restart was seen");
    }

    #[test]
    fn warming_on_every_core_builds_what_the_frame_would() {
        let mut store = Store::new();
        let ids: Vec<SeriesId> = ["loss", "acc", "lr"].iter().map(|n| store.intern(n)).collect();
        let n = WARM_MIN_POINTS / 2;
        for i in 0..n {
            let r = store.begin_record(RecordMeta { step: i as f64, time: f64::NAN, line: i as u64 + 1 });
            for (k, &id) in ids.iter().enumerate() {
                // `lr` is on every other record: xs of its own.
                if k < 2 || i % 2 == 0 {
                    let y = if i % 997 == 3 { f64::NAN } else { ((i * (k + 7919)) % 1000) as f64 / 10.0 };
                    store.push(r, id, y);
                }
            }
        }
        let kind = Smoother::Ema { weight: 0.6 };
        let (mut warm, mut cold) = (ColumnCache::default(), ColumnCache::default());
        warm.warm((0, 0), &store, &ids, XAxis::Step, 0.0, Some(kind));
        assert_eq!(warm.held(), 3, "warmed");
        for &id in &ids {
            let built = warm.series[&id].len;
            let a = warm.sync((0, 0), &store, id, XAxis::Step, 0.0);
            assert_eq!(a.cols.len, built, "the frame found nothing left to take");
            let (sa, ea) = a.cols.smoothed(&a.xs, &a.ys, kind);
            let (sa, ea) = (sa.to_f64(), ea.clone());
            let b = cold.sync((0, 0), &store, id, XAxis::Step, 0.0);
            let bys = b.ys;
            assert_eq!(a_raw(&warm, id), *b.cols.raw_env(&bys));
            let (sb, eb) = b.cols.smoothed(&b.xs, &b.ys, kind);
            assert_eq!(ea, *eb);
            let bits = |v: &[f64]| v.iter().map(|y| y.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&sa), bits(&sb.to_f64()));
        }
        assert_eq!(warm.rebuilds(), 3);
        assert_eq!(warm.full_smooths(), 3, "smoothed once each, while warming");
        // Little to do: left to the frame.
        let mut little = Store::new();
        let (a, b) = (little.intern("a"), little.intern("b"));
        push(&mut little, a, 0, 1000);
        push(&mut little, b, 1000, 2000);
        let mut small = ColumnCache::default();
        small.warm((0, 0), &little, &[a, b], XAxis::Step, 0.0, Some(kind));
        assert_eq!(small.held(), 0);
    }

    fn a_raw(c: &ColumnCache, id: SeriesId) -> Envelope {
        c.series[&id].raw_env.clone()
    }

    #[test]
    fn the_raw_summaries_are_built_only_when_asked_for() {
        let mut store = Store::new();
        let id = store.intern("loss");
        push(&mut store, id, 0, 5000);
        let mut cache = ColumnCache::default();
        let c = cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
        let (xs, ys) = (c.xs, c.ys);
        c.cols.smoothed(&xs, &ys, Smoother::Ema { weight: 0.6 });
        let smooth_only = cache.held_bytes();
        let c = cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
        let ys = c.ys;
        let env = c.cols.raw_env(&ys).clone();
        assert_eq!(env, Envelope::of(&ys.values()[..]));
        assert!(cache.held_bytes() > smooth_only);
        push(&mut store, id, 5000, 5100);
        let c = cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
        let ys = c.ys;
        assert_eq!(*c.cols.raw_env(&ys), Envelope::of(&ys.values()[..]), "extended as a fresh build");
        c.cols.drop_raw();
        assert_eq!(cache.held_bytes(), smooth_only, "only the smoothed summaries held");
    }

    #[test]
    fn appends_extend_columns_smoothing_and_summaries_as_a_fresh_build_would() {
        let kinds = [
            Smoother::Ema { weight: 0.9 },
            Smoother::TimeWeightedEma { param: 0.9 },
            Smoother::Gaussian { sigma: 2.0 },
            Smoother::Gaussian { sigma: 1000.0 },
            Smoother::RunningAverage { window: 3465 },
        ];
        for kind in kinds {
            let mut store = Store::new();
            let id = store.intern("loss");
            let mut cache = ColumnCache::default();
            let mut n = 0;
            for k in [1, 100, 1, 5000, 64, 3] {
                push(&mut store, id, n, n + k);
                n += k;
                let c = cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
                c.cols.smoothed(&c.xs, &c.ys, kind);
            }
            let Synced { xs: xv, ys, cols } = cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
            let ys = ys.values();
            let xs = &xv.to_vec()[..];
            assert_eq!(cols.len, n);
            assert_eq!(xs.len(), n);
            assert!(cols.sorted);
            let want = match kind {
                // The live TWEMA smooths over the data's range rounded up (see `twema`).
                Smoother::TimeWeightedEma { param } => {
                    let range = xs[n - 1] - xs[0];
                    twema_with_range(xs, &ys, param, twema::ladder_range(range))
                }
                kind => smooth(kind, xs, &ys),
            };
            // The EMAs keep their column as f32 (these values fit).
            let want: Vec<f64> = match kind {
                Smoother::Ema { .. } | Smoother::TimeWeightedEma { .. } => {
                    want.iter().map(|&v| v as f32 as f64).collect()
                }
                _ => want,
            };
            let mut fresh = Envelope::default();
            fresh.update(&want, 0);
            let mut raw = Envelope::default();
            raw.update(&ys, 0);
            let view = store.series(id);
            assert_eq!(*cols.raw_env(&view), raw, "{kind:?}");
            let view = store.series(id);
            let (sm, env) = cols.smoothed(&xv, &view, kind);
            assert_eq!(
                sm.to_f64().iter().map(|y| y.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|y| y.to_bits()).collect::<Vec<_>>(),
                "{kind:?}"
            );
            assert_eq!(*env, fresh, "{kind:?}");
            assert_eq!(cache.rebuilds(), 1, "{kind:?}: the columns were rebuilt");
        }
    }

    #[test]
    fn switching_smoothers_back_and_forth_summarises_the_one_shown() {
        let mut store = Store::new();
        let id = store.intern("loss");
        push(&mut store, id, 0, 500);
        let mut cache = ColumnCache::default();
        let ema = Smoother::Ema { weight: 0.9 };
        let tw = Smoother::TimeWeightedEma { param: 0.9 };
        for (i, kind) in [ema, tw, ema, tw, ema].into_iter().enumerate() {
            push(&mut store, id, 500 + i, 501 + i);
            let c = cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
            let (sm, env) = c.cols.smoothed(&c.xs, &c.ys, kind);
            let mut fresh = Envelope::default();
            fresh.update(&sm, 0);
            assert_eq!(*env, fresh, "step {i}: {kind:?}");
        }
    }

    #[test]
    fn xs_are_read_from_the_store_with_or_without_gaps_on_every_axis() {
        let mut store = Store::new();
        let (a, b) = (store.intern("loss"), store.intern("lr"));
        let rec = |i: usize| RecordMeta { step: i as f64 * 2.0, time: 100.0 + i as f64 * 0.25, line: 1 };
        for i in 0..10 {
            let r = store.begin_record(rec(i));
            store.push(r, a, i as f64);
            if i >= 3 {
                store.push(r, b, 1.0);
            }
        }
        let mut cache = ColumnCache::default();
        let c = cache.sync((0, 0), &store, b, XAxis::Step, 0.0);
        assert_eq!(c.xs.to_vec(), [6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0]);
        assert!(!c.xs.through_runs());
        // `lr` skips a record, then comes back: its xs are read through its runs of records.
        for (i, with_b) in [(10, false), (11, true)] {
            let r = store.begin_record(rec(i));
            store.push(r, a, i as f64);
            if with_b {
                store.push(r, b, 2.0);
            }
        }
        let c = cache.sync((0, 0), &store, b, XAxis::Step, 0.0);
        let want = [6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 22.0];
        assert_eq!(c.xs.to_vec(), want);
        assert_eq!((0..8).map(|i| c.xs.x(i)).collect::<Vec<_>>(), want);
        assert!(c.xs.through_runs());
        let c = cache.sync((0, 0), &store, a, XAxis::Step, 0.0);
        assert_eq!(c.xs.len(), 12);
        assert!(!c.xs.through_runs());
        assert_eq!(cache.rebuilds(), 2, "a gap is not a rebuild");
        // The time axes: the same values a copy of `time - t0` or `time` would hold.
        let t0 = 100.0;
        for axis in [XAxis::Relative, XAxis::Wall] {
            let c = cache.sync((0, 0), &store, b, axis, t0);
            let want: Vec<f64> = [3, 4, 5, 6, 7, 8, 9, 11]
                .iter()
                .map(|&i| {
                    let t = rec(i).time;
                    if axis == XAxis::Relative {
                        t - t0
                    } else {
                        t
                    }
                })
                .collect();
            assert_eq!(c.xs.to_vec(), want, "{axis:?}");
            assert_eq!((0..8).map(|i| c.xs.x(i)).collect::<Vec<_>>(), want, "{axis:?}");
        }
    }

    #[test]
    fn xs_read_in_order_through_runs_of_records_are_those_read_one_by_one() {
        let mut store = Store::new();
        let (a, b) = (store.intern("loss"), store.intern("val"));
        for i in 0..700 {
            let r = store.begin_record(RecordMeta { step: i as f64, time: 50.0 + i as f64 * 0.3, line: 1 });
            // A validation line of its own every 9th record: `loss` has gaps across blocks.
            if i % 9 == 4 {
                store.push(r, b, 1.0);
            } else {
                store.push(r, a, i as f64);
            }
        }
        let mut cache = ColumnCache::default();
        for axis in [XAxis::Step, XAxis::Relative, XAxis::Wall] {
            let c = cache.sync((0, 0), &store, a, axis, 50.0);
            assert!(c.xs.through_runs());
            let n = c.xs.len();
            for (from, to) in [(0, n), (1, 2), (3, 4), (3, 5), (60, 200), (n - 1, n), (n, n), (5, n + 9)] {
                let mut got = Vec::new();
                c.xs.for_each_from(from, to, |i, x| got.push((i, x.to_bits())));
                let want: Vec<_> = (from..to.min(n)).map(|i| (i, c.xs.x(i).to_bits())).collect();
                assert_eq!(got, want, "{axis:?} {from}..{to}");
            }
        }
    }

    #[test]
    fn the_x_range_and_order_taken_from_ordered_records_are_those_read_point_by_point() {
        // Steps in order with eval lines; a -0.0 step; a NaN step; a restart; on every axis, in
        // pieces (the order found so far grows, then breaks).
        let cases: [&dyn Fn(usize) -> f64; 4] = [
            &|i| i as f64,
            &|i| if i == 0 { -0.0 } else { i as f64 },
            &|i| if i == 250 { f64::NAN } else { i as f64 * 0.5 },
            &|i| if i < 300 { i as f64 } else { (i - 300) as f64 },
        ];
        for (c, step) in cases.iter().enumerate() {
            let mut store = Store::new();
            let (a, b) = (store.intern("loss"), store.intern("val"));
            let mut cache = ColumnCache::default();
            for piece in [0..5, 5..130, 130..249, 249..251, 251..420, 420..600] {
                for i in piece {
                    let t = if i == 100 && c == 3 { f64::NAN } else { 10.0 + i as f64 };
                    let r = store.begin_record(RecordMeta { step: step(i), time: t, line: 1 });
                    if i % 11 == 5 {
                        store.push(r, b, 1.0);
                    } else {
                        store.push(r, a, i as f64);
                    }
                }
                for axis in [XAxis::Step, XAxis::Relative, XAxis::Wall] {
                    for id in [a, b] {
                        let got = cache.sync((0, 0), &store, id, axis, 10.0);
                        let (lo, hi, sorted) = (got.cols.x_lo, got.cols.x_hi, got.cols.sorted);
                        let (series, xs) = (store.series(id), XView::new(&store, id, axis, 10.0));
                        let mut want = SeriesColumns::default();
                        want.extend_to(&series, &xs, usize::MAX, 0);
                        assert_eq!(
                            (lo.to_bits(), hi.to_bits(), sorted),
                            (want.x_lo.to_bits(), want.x_hi.to_bits(), want.sorted),
                            "case {c}, {axis:?}, series {id}, {} records",
                            store.records()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn charted_columns_hold_no_copy_of_the_xs_or_values() {
        let mut store = Store::new();
        let (loss, eval) = (store.intern("loss"), store.intern("eval/loss"));
        let n = 200_000;
        for i in 0..n {
            let r = store.begin_record(RecordMeta { step: i as f64, time: i as f64, line: i as u64 + 1 });
            // Every 100th record is an eval line without `loss`: `loss` has gaps.
            if i % 100 == 99 {
                store.push(r, eval, 0.5);
            } else {
                store.push(r, loss, (i % 7) as f64);
            }
        }
        let mut cache = ColumnCache::default();
        for axis in [XAxis::Step, XAxis::Relative, XAxis::Wall] {
            let c = cache.sync((0, 0), &store, loss, axis, 0.0);
            assert!(c.xs.through_runs());
            c.cols.drop_smoothed();
            let ys = c.ys;
            c.cols.raw_env(&ys);
            let held = cache.held_bytes();
            // Only the summaries: under a byte a point, where a copy of the xs costs 8.
            assert!(held > 0 && held < store.series(loss).len(), "{axis:?}: {held} bytes held");
        }
    }

    #[test]
    fn only_the_recently_charted_series_are_kept() {
        let mut store = Store::new();
        let ids: Vec<SeriesId> = (0..MAX_SERIES + 5).map(|i| store.intern(&format!("m{i}"))).collect();
        for &id in &ids {
            push(&mut store, id, 0, 3);
        }
        let mut cache = ColumnCache::default();
        for &id in &ids {
            cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
            cache.sync((0, 0), &store, ids[0], XAxis::Step, 0.0);
        }
        assert_eq!(cache.series.len(), MAX_SERIES);
        assert!(cache.series.contains_key(&ids[0]), "the series charted on every frame was evicted");
        assert!(!cache.series.contains_key(&ids[1]));
    }

    #[test]
    fn a_frame_keeps_only_the_columns_it_showed() {
        let mut store = Store::new();
        let (a, b) = (store.intern("loss"), store.intern("lr"));
        push(&mut store, a, 0, 100);
        push(&mut store, b, 0, 100);
        let mut cache = ColumnCache::default();
        cache.sync((0, 0), &store, a, XAxis::Step, 0.0);
        cache.sync((0, 0), &store, b, XAxis::Step, 0.0);
        cache.end_frame();
        assert_eq!(cache.held(), 2);
        // The next frame shows `loss` from the chart cache only (touched), not `lr`.
        cache.touch(&[a]);
        cache.end_frame();
        assert_eq!(cache.held(), 1);
        assert!(cache.series.contains_key(&a));
        cache.end_frame();
        assert_eq!(cache.held(), 0);
        assert_eq!(cache.held_bytes(), 0);
        let c = cache.sync((0, 0), &store, b, XAxis::Step, 0.0);
        assert_eq!(c.xs.len(), 100, "rebuilt when shown again");
    }

    #[test]
    fn only_the_smoother_shown_keeps_a_column() {
        let mut store = Store::new();
        let id = store.intern("loss");
        push(&mut store, id, 0, 300);
        let mut cache = ColumnCache::default();
        let c = cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
        let (xs, ys) = (c.xs, c.ys);
        c.cols.smoothed(&xs, &ys, Smoother::TimeWeightedEma { param: 0.9 });
        assert_eq!(c.cols.twema.len(), 300);
        c.cols.smoothed(&xs, &ys, Smoother::Gaussian { sigma: 3.0 });
        assert!(c.cols.twema.len() == 0 && c.cols.twema.heap_bytes() == 0);
        assert_eq!(c.cols.window.as_ref().map(|w| w.len()), Some(300));
        c.cols.smoothed(&xs, &ys, Smoother::Ema { weight: 0.9 });
        assert!(c.cols.window.is_none());
        c.cols.smoothed(&xs, &ys, Smoother::TimeWeightedEma { param: 0.9 });
        assert!(c.cols.ema.is_none());
        c.cols.drop_smoothed();
        assert!(c.cols.twema.len() == 0 && c.cols.ema.is_none() && c.cols.window.is_none());
        assert_eq!(c.cols.held_bytes(), 0);
    }

    #[test]
    fn a_replaced_series_or_another_axis_starts_over() {
        let mut store = Store::new();
        let id = store.intern("loss");
        push(&mut store, id, 0, 10);
        let mut cache = ColumnCache::default();
        cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
        let mut other = Store::new();
        let id2 = other.intern("loss");
        for i in 0..12 {
            let r = other.begin_record(RecordMeta { step: 100.0 - i as f64, time: f64::NAN, line: 1 });
            other.push(r, id2, 1.0);
        }
        let c = cache.sync((0, 0), &other, id2, XAxis::Step, 0.0);
        assert_eq!(c.xs.x(0), 100.0, "data that is not an append was kept");
        assert!(!c.cols.sorted);
        cache.sync((0, 0), &other, id2, XAxis::Wall, 0.0);
        assert_eq!(cache.rebuilds(), 3);
    }
}

#[cfg(test)]
mod drawn {
    //! What a chart draws of a smoothed series is what it drew when every smoother kept a column
    //! of its values: the reduction of the batch smoother's values (narrowed to `f32` for the
    //! EMAs, as their columns were), bit for bit, on live appends and any view.

    use super::*;
    use crate::analysis::smooth::{smooth, twema_with_range};
    use crate::chart::reduce::{reduce, YScale};
    use crate::store::RecordMeta;
    use proptest::prelude::*;

    fn want(kind: Smoother, xs: &[f64], ys: &[f64]) -> Vec<f64> {
        match kind.clamped() {
            Smoother::TimeWeightedEma { param } => {
                let range = xs[xs.len() - 1] - xs[0];
                let v = twema_with_range(xs, ys, param, twema::ladder_range(range));
                narrowed(v)
            }
            Smoother::Ema { .. } => narrowed(smooth(kind, xs, ys)),
            k => smooth(k, xs, ys),
        }
    }

    /// As a `Column` held them: `f32` until the first value that does not survive it.
    fn narrowed(v: Vec<f64>) -> Vec<f64> {
        let wide = v.iter().position(|&y| crate::chart::values::needs_f64(y)).unwrap_or(v.len());
        v.iter().enumerate().map(|(i, &y)| if i < wide { y as f32 as f64 } else { y }).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn smoothed_reductions_equal_those_of_the_batch_values(
            ys in prop::collection::vec(
                prop_oneof![12 => -1e3f64..1e3, 1 => Just(f64::NAN), 1 => Just(1e-300)], 1..3000),
            appends in prop::collection::vec(1usize..700, 1..5),
            which in 0usize..7,
            columns in 1usize..400,
            window in (0.0f64..1.0, 0.0f64..1.0),
            outliers in any::<bool>(),
        ) {
            let kind = [
                Smoother::Ema { weight: 0.9 },
                Smoother::TimeWeightedEma { param: 0.8 },
                Smoother::Gaussian { sigma: 1.5 },
                Smoother::Gaussian { sigma: 40.0 },
                Smoother::RunningAverage { window: 5 },
                Smoother::RunningAverage { window: 173 },
                Smoother::Gaussian { sigma: 0.0 },
            ][which];
            let mut store = Store::new();
            let id = store.intern("loss");
            let mut cache = ColumnCache::default();
            let mut n = 0;
            for k in appends.iter().copied().chain([ys.len()]) {
                let to = (n + k).min(ys.len());
                for (i, &y) in ys.iter().enumerate().take(to).skip(n) {
                    let r = store.begin_record(RecordMeta { step: (i * 3) as f64, time: f64::NAN, line: 1 });
                    store.push(r, id, y);
                }
                n = to;
                let xs: Vec<f64> = (0..n).map(|i| (i * 3) as f64).collect();
                let want = want(kind, &xs, &ys[..n]);
                let (a, b) = (window.0.min(window.1), window.0.max(window.1));
                let last = xs[n - 1];
                let view = View {
                    x_lo: a * last,
                    x_hi: b * last,
                    columns,
                    scale: YScale::Linear,
                    percentiles: outliers.then_some((5.0, 95.0)),
                    margin: 0.0,
                };
                let c = cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
                let got = c.cols.reduce_smoothed(&c.xs, &c.ys, kind, &view);
                let old = reduce(&xs[..], &want, &Envelope::of(&want), &[(0, n)], &view);
                let bits = |r: &Reduced| {
                    let p: Vec<(u64, u64)> = r.points.iter().map(|&(x, y)| (x.to_bits(), y.to_bits())).collect();
                    let b = r.y_bounds.map(|(l, h)| (l.to_bits(), h.to_bits()));
                    (p, r.nonfinite_x.clone(), r.in_window, b)
                };
                prop_assert_eq!(bits(&got), bits(&old), "{:?} at {} points", kind, n);
            }
        }
    }
}
