//! The x and y columns of each charted series, kept by the app and extended as the store grows,
//! with the smoothed column beside them.
//!
//! Copying a million points out of the store (and smoothing them again) on every frame is what
//! made a big live chart cost a large part of a core. Here a frame pays only for the points that
//! arrived since the last one: the columns grow by the store's new points, the smoothed column by
//! [`SmoothCache`] (O(new points) for the EMAs, O(new + reach) for the centred smoothers). The
//! columns start over when the run is replaced, the x axis changes, or the store's data is not an
//! extension of what was seen (checked on the last point).

use super::view::XAxis;
use crate::analysis::smooth::{SmoothCache, Smoother};
use crate::store::{SeriesId, SeriesView, Store};
use std::collections::HashMap;

/// One series on one x axis.
#[derive(Debug, Default)]
pub struct SeriesColumns {
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// Whether `xs` is non-decreasing (false after a restart or when some x is NaN).
    pub sorted: bool,
    smooth: SmoothCache,
}

impl SeriesColumns {
    /// The xs and the smoothed values of `ys` (same length), extended from the last call when
    /// only new points arrived.
    pub fn smoothed(&mut self, kind: Smoother) -> (&[f64], &[f64]) {
        (&self.xs, self.smooth.update(kind, &self.xs, &self.ys))
    }

    /// How many times the smoothed column was computed from scratch.
    pub fn full_smooths(&self) -> u64 {
        self.smooth.full_recomputes()
    }

    /// Appends the store's points from `self.ys.len()` on.
    fn extend(&mut self, s: &SeriesView<'_>, store: &Store, axis: XAxis, t0: f64) {
        let from = self.ys.len();
        let n = s.len();
        if from >= n {
            return;
        }
        self.xs.reserve(n - from);
        self.ys.reserve(n - from);
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
        let s = store.series(id);
        let cols = self.series.entry(id).or_default();
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
