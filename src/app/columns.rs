//! The x and y columns of each charted series, kept by the app and extended as the store grows,
//! with the smoothed column beside them.
//!
//! Copying a million points out of the store (and smoothing them again) on every frame is what
//! made a big live chart cost a large part of a core. Here a frame pays only for the points that
//! arrived since the last one: the columns grow by the store's new points, the smoothed column by
//! [`SmoothCache`] (O(new points) for the EMAs, O(new + reach) for the centred smoothers). The
//! columns start over when the run is replaced, the x axis changes, or the store's data is not an
//! extension of what was seen (checked on the last point).

mod twema;

use super::envelope::Envelope;
use super::view::XAxis;
use crate::analysis::smooth::{SmoothCache, Smoother};
use crate::store::{SeriesId, SeriesView, Store};
use std::collections::HashMap;

/// One series on one x axis.
#[derive(Debug)]
pub struct SeriesColumns {
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// Whether `xs` is non-decreasing (false after a restart or when some x is NaN).
    pub sorted: bool,
    /// Block summaries of `ys` and of the smoothed values.
    pub raw_env: Envelope,
    smooth: SmoothCache,
    /// The time-weighted EMA, kept apart: see [`twema`].
    twema: twema::LiveTwema,
    smooth_env: Envelope,
    /// The smoother `smooth_env` summarises.
    env_kind: Option<Smoother>,
    /// The finite xs' range.
    x_lo: f64,
    x_hi: f64,
    /// When it was last synced (the cache's use counter), to evict the least recently charted.
    used: u64,
}

impl Default for SeriesColumns {
    fn default() -> Self {
        SeriesColumns {
            xs: Vec::new(),
            ys: Vec::new(),
            sorted: false,
            raw_env: Envelope::default(),
            smooth: SmoothCache::default(),
            twema: twema::LiveTwema::default(),
            smooth_env: Envelope::default(),
            env_kind: None,
            x_lo: f64::INFINITY,
            x_hi: f64::NEG_INFINITY,
            used: 0,
        }
    }
}

/// Series whose columns are kept: a full grid of pairs. Paging through more metrics evicts the
/// least recently charted, so memory follows what is on screen rather than every metric seen.
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

impl SeriesColumns {
    /// The xs, the smoothed values of `ys` (same length) and their summaries, extended from the
    /// last call when only new points arrived.
    pub fn smoothed(&mut self, kind: Smoother) -> (&[f64], &[f64], &Envelope) {
        let full = self.full_smooths();
        let twema = matches!(kind, Smoother::TimeWeightedEma { .. });
        let old_len = if twema { self.twema.values().len() } else { self.smooth.values().len() };
        match kind.clamped() {
            Smoother::TimeWeightedEma { param } => {
                let range = if self.x_hi > self.x_lo { self.x_hi - self.x_lo } else { 0.0 };
                self.twema.update(param, &self.xs, &self.ys, range);
            }
            kind => {
                self.smooth.update(kind, &self.xs, &self.ys);
            }
        }
        // A recompute (another kind or parameter, a wider TWEMA range) changes every value; an
        // append changes the values before the last `reach` ones.
        let kind = kind.clamped();
        let unchanged = if self.full_smooths() != full || self.env_kind != Some(kind) {
            0
        } else {
            old_len.saturating_sub(smoothing_reach(kind) + 2)
        };
        self.env_kind = Some(kind);
        let values = if twema { self.twema.values() } else { self.smooth.values() };
        self.smooth_env.update(values, unchanged);
        (&self.xs, values, &self.smooth_env)
    }

    /// How many times the smoothed column was computed from scratch.
    pub fn full_smooths(&self) -> u64 {
        self.smooth.full_recomputes() + self.twema.full_recomputes()
    }

    /// Appends the store's points from `self.ys.len()` on.
    fn extend(&mut self, s: &SeriesView<'_>, store: &Store, axis: XAxis, t0: f64) {
        let from = self.ys.len();
        let n = s.len();
        if from >= n {
            return;
        }
        // Grow by an eighth rather than doubling: a million-point column would otherwise hold
        // twice its size after the first live append (and copy it all at once).
        if self.ys.capacity() < n {
            let extra = (n - from).max(if from == 0 { 0 } else { from / 8 + 64 });
            self.xs.reserve_exact(extra);
            self.ys.reserve_exact(extra);
        }
        let x_of = |rec| {
            let m = store.record(rec);
            match axis {
                XAxis::Step => m.step,
                XAxis::Relative => m.time - t0,
                XAxis::Wall => m.time,
            }
        };
        if from == 0 {
            // One sequential pass over the record runs (no per-point lookup).
            for (rec, y) in s.iter_records() {
                self.xs.push(x_of(rec));
                self.ys.push(y);
            }
            self.sorted = true;
        } else {
            for i in from..n {
                self.xs.push(x_of(s.record_of(i)));
                self.ys.push(s.value(i));
            }
        }
        self.raw_env.update(&self.ys, from);
        for &x in self.xs[from..].iter().filter(|x| x.is_finite()) {
            (self.x_lo, self.x_hi) = (self.x_lo.min(x), self.x_hi.max(x));
        }
        let start = from.saturating_sub(1);
        // A NaN x compares false, so it counts as out of order.
        self.sorted = self.sorted && self.xs[start..].windows(2).all(|w| w[0] <= w[1]);
    }
}

/// The columns of the series charted so far, for one run on one x axis.
#[derive(Debug, Default)]
pub struct ColumnCache {
    /// (slot, run epoch, axis, t0 bits): any change starts over.
    key: Option<(usize, u64, XAxis, u64)>,
    series: HashMap<SeriesId, SeriesColumns>,
    rebuilds: u64,
    uses: u64,
}

impl ColumnCache {
    /// Columns of series `id` brought up to date with the store. `axis` must be the effective
    /// axis (a time axis only when the log has times), `t0` the run's first time.
    pub fn sync(
        &mut self,
        key: (usize, u64),
        store: &Store,
        id: SeriesId,
        axis: XAxis,
        t0: f64,
    ) -> &mut SeriesColumns {
        let full_key = (key.0, key.1, axis, t0.to_bits());
        if self.key != Some(full_key) {
            self.key = Some(full_key);
            self.series.clear();
        }
        if self.series.len() >= MAX_SERIES && !self.series.contains_key(&id) {
            if let Some(oldest) = self.series.iter().min_by_key(|(_, c)| c.used).map(|(&k, _)| k) {
                self.series.remove(&oldest);
            }
        }
        self.uses += 1;
        let s = store.series(id);
        let cols = self.series.entry(id).or_default();
        cols.used = self.uses;
        let have = cols.ys.len();
        // The store only appends; anything else (fewer points, a different last point) means the
        // data was replaced under the same id, and the columns start over.
        let extends = have <= s.len()
            && (have == 0 || {
                let (x, y) = (cols.xs[have - 1], cols.ys[have - 1]);
                let rec = store.record(s.record_of(have - 1));
                let x_now = match axis {
                    XAxis::Step => rec.step,
                    XAxis::Relative => rec.time - t0,
                    XAxis::Wall => rec.time,
                };
                s.value(have - 1).to_bits() == y.to_bits() && x_now.to_bits() == x.to_bits()
            });
        if !extends {
            *cols = SeriesColumns::default();
        }
        if cols.ys.is_empty() && !s.is_empty() {
            self.rebuilds += 1;
        }
        cols.extend(&s, store, axis, t0);
        cols
    }

    /// How many times a series' columns were built from its first point (for tests).
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds
    }

    /// How many times the smoothed columns now held were computed from scratch (for tests).
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
                cache.sync((0, 0), &store, id, XAxis::Step, 0.0).smoothed(kind);
            }
            let cols = cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
            assert_eq!(cols.ys.len(), n);
            assert!(cols.sorted);
            let want = match kind {
                // The live TWEMA smooths over the data's range rounded up (see `twema`).
                Smoother::TimeWeightedEma { param } => {
                    let range = cols.xs[n - 1] - cols.xs[0];
                    twema_with_range(&cols.xs, &cols.ys, param, twema::ladder_range(range))
                }
                kind => smooth(kind, &cols.xs, &cols.ys),
            };
            let mut fresh = Envelope::default();
            fresh.update(&want, 0);
            let mut raw = Envelope::default();
            raw.update(&cols.ys, 0);
            assert_eq!(cols.raw_env, raw, "{kind:?}");
            let (_, sm, env) = cols.smoothed(kind);
            assert_eq!(
                sm.iter().map(|y| y.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|y| y.to_bits()).collect::<Vec<_>>()
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
            let cols = cache.sync((0, 0), &store, id, XAxis::Step, 0.0);
            let (_, sm, env) = cols.smoothed(kind);
            let mut fresh = Envelope::default();
            fresh.update(sm, 0);
            assert_eq!(*env, fresh, "step {i}: {kind:?}");
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
        let cols = cache.sync((0, 0), &other, id2, XAxis::Step, 0.0);
        assert_eq!(cols.xs[0], 100.0, "data that is not an append was kept");
        assert!(!cols.sorted);
        cache.sync((0, 0), &other, id2, XAxis::Wall, 0.0);
        assert_eq!(cache.rebuilds(), 3);
    }
}
