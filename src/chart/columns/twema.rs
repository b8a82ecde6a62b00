//! W&B's time-weighted EMA for a series that grows while it is shown.
//!
//! Its decay is relative to the x range of the data, which grows with every live point, so the
//! exact smoother recomputes the whole series on every append (a 1M-point chart then costs a fifth
//! of a core at 10 steps/s). Here the range is rounded up to the next step of a 1/64-octave ladder
//! (at most 1.1% wider than the data's): the smoothed values are `twema_with_range` at that range,
//! extended point by point, and recomputed only when the data outgrows the step. No column of
//! smoothed values is kept: checkpoints of the state, as for the EMA (`super::ema`).

use crate::analysis::smooth::TwemaState;
use crate::chart::reduce::BLOCK;
use crate::chart::values::{needs_f64, Xs, Ys};
use crate::store::SeriesView;
use std::cell::Cell;

/// The state that extends the smoothed values, and a checkpoint of it at the start of every
/// summary block: no column of smoothed values (a value read is computed from its block's
/// checkpoint in at most [`BLOCK`] steps, as the EMA's are: see `super::ema`).
#[derive(Debug, Default)]
pub struct LiveTwema {
    param: f64,
    range: f64,
    state: Option<TwemaState>,
    /// The state before point `k * BLOCK`, for every block begun.
    checkpoints: Vec<TwemaState>,
    len: usize,
    /// The first point whose smoothed value needs `f64` (`usize::MAX`: none yet): the values are
    /// those a [`crate::chart::values::Column`] would hold, `f32` before it.
    wide_from: usize,
    full_recomputes: u64,
}

/// `range` rounded up to the ladder `2^(k/64)`; 0 for an empty or non-finite range.
pub fn ladder_range(range: f64) -> f64 {
    if !(range.is_finite() && range > 0.0) {
        return 0.0;
    }
    let r = 2f64.powf((range.log2() * 64.0).ceil() / 64.0);
    // powf may round below `range`: never narrower than the data.
    r.max(range)
}

impl LiveTwema {
    /// Whether the values of the points taken stay as they are for `param` over `n` points whose
    /// finite xs span `data_range` (same parameter, same rounded range); otherwise
    /// [`LiveTwema::extend_with`] starts over.
    pub fn reusable(&self, param: f64, n: usize, data_range: f64) -> bool {
        self.state.is_some()
            && self.param.to_bits() == param.to_bits()
            && self.range.to_bits() == ladder_range(data_range).to_bits()
            && self.len <= n
    }

    /// Takes the first `n` points of `ys` at `xs`, whose finite xs span `data_range`, handing each
    /// new smoothed value to `sink` (as [`TwemaValues`] reads it). Continues from the points taken
    /// when [`LiveTwema::reusable`] (`xs`/`ys` must then extend the previous input, which the
    /// caller guarantees); otherwise smooths every point again.
    pub fn extend_with<X: Xs + ?Sized, Y: Ys + ?Sized>(
        &mut self,
        param: f64,
        n: usize,
        xs: &X,
        ys: &Y,
        data_range: f64,
        mut sink: impl FnMut(usize, f64),
    ) {
        let n = n.min(xs.len()).min(ys.len());
        if !self.reusable(param, n, data_range) {
            self.full_recomputes += 1;
            self.param = param;
            self.range = ladder_range(data_range);
            self.state = Some(TwemaState::new(param, self.range));
            self.checkpoints = Vec::new();
            self.len = 0;
            self.wide_from = usize::MAX;
        }
        let Some(mut st) = self.state else { return };
        if n <= self.len {
            return;
        }
        let blocks = n.div_ceil(BLOCK);
        // Grow by an eighth, not double: a live series adds a block every 64 points.
        if self.checkpoints.capacity() < blocks {
            let have = self.checkpoints.len();
            self.checkpoints.reserve_exact((blocks - have).max(have / 8 + 16));
        }
        let (checkpoints, mut wide_from) = (&mut self.checkpoints, self.wide_from);
        // As `twema_with_range` does, point by point.
        xs.for_each_from(self.len, n, |i, x| {
            if i % BLOCK == 0 {
                checkpoints.push(st);
            }
            let v = st.push(x, ys.y(i));
            if wide_from == usize::MAX && needs_f64(v) {
                wide_from = i;
            }
            sink(i, if i < wide_from { v as f32 as f64 } else { v });
        });
        (self.state, self.wide_from, self.len) = (Some(st), wide_from, n);
    }

    /// As [`LiveTwema::extend_with`] without a sink.
    #[cfg(test)]
    pub fn update<X: Xs + ?Sized, Y: Ys + ?Sized>(
        &mut self,
        param: f64,
        n: usize,
        xs: &X,
        ys: &Y,
        range: f64,
    ) {
        self.extend_with(param, n, xs, ys, range, |_, _| {});
    }

    /// Points taken.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The smoothed values of `ys` at `xs` (the series the points were taken from).
    pub fn values<'a, X: Xs>(&'a self, xs: X, ys: SeriesView<'a>) -> TwemaValues<'a, X> {
        let start = self.checkpoints.first().map(|&st| Cell::new((0, st)));
        let start = start.unwrap_or_else(|| Cell::new((0, TwemaState::new(self.param, self.range))));
        TwemaValues { tw: self, xs, ys, cursor: start.clone(), seq: start }
    }

    /// How many updates smoothed the whole series.
    pub fn full_recomputes(&self) -> u64 {
        self.full_recomputes
    }

    /// Heap bytes held (the checkpoints).
    pub fn heap_bytes(&self) -> usize {
        self.checkpoints.capacity() * std::mem::size_of::<TwemaState>()
    }
}

/// The smoothed values, read by index.
pub struct TwemaValues<'a, X> {
    tw: &'a LiveTwema,
    xs: X,
    ys: SeriesView<'a>,
    /// (i, the state before point i): where the last read by index stopped.
    cursor: Cell<(usize, TwemaState)>,
    /// The same for the last pass in order.
    seq: Cell<(usize, TwemaState)>,
}

impl<X: Xs> TwemaValues<'_, X> {
    /// The state before point `i`, from the nearest of its block's checkpoint and the cursors.
    fn state_before(&self, i: usize) -> TwemaState {
        let block = i / BLOCK;
        let mut best = (block * BLOCK, self.tw.checkpoints[block]);
        for (at, st) in [self.cursor.get(), self.seq.get()] {
            if at <= i && at > best.0 {
                best = (at, st);
            }
        }
        let (k, mut st) = best;
        let ys = self.ys;
        self.xs.for_each_from(k, i, |j, x| {
            st.push(x, ys.value(j));
        });
        st
    }

    #[inline]
    fn narrow(&self, i: usize, v: f64) -> f64 {
        if i < self.tw.wide_from {
            v as f32 as f64
        } else {
            v
        }
    }
}

impl<X: Xs> Ys for TwemaValues<'_, X> {
    fn len(&self) -> usize {
        self.tw.len
    }

    fn for_each_from(&self, from: usize, to: usize, mut f: impl FnMut(usize, f64)) {
        let to = to.min(self.tw.len);
        if from >= to {
            return;
        }
        let mut st = self.state_before(from);
        let ys = self.ys;
        self.xs.for_each_from(from, to, |i, x| {
            let v = st.push(x, ys.value(i));
            f(i, self.narrow(i, v));
        });
        self.seq.set((to, st));
    }

    fn y(&self, i: usize) -> f64 {
        let mut st = self.state_before(i);
        let v = st.push(self.xs.x(i), self.ys.value(i));
        self.cursor.set((i + 1, st));
        self.narrow(i, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::smooth::twema_with_range;
    use crate::store::{RecordMeta, Store};

    #[test]
    fn the_range_is_rounded_up_by_at_most_an_octave_sixty_fourth() {
        for r in [1.0, 3.0, 999.0, 1e6, 12345.678] {
            let l = ladder_range(r);
            assert!(l >= r && l <= r * 2f64.powf(1.0 / 64.0) * (1.0 + 1e-12), "{r} {l}");
        }
        assert_eq!(ladder_range(0.0), 0.0);
        assert_eq!(ladder_range(f64::NAN), 0.0);
    }

    #[test]
    fn appends_equal_a_batch_at_the_rounded_range_and_rarely_recompute() {
        let xs: Vec<f64> = (0..20_000).map(|i| i as f64).collect();
        let ys: Vec<f64> = (0..20_000).map(|i| ((i * 37) % 101) as f64).collect();
        let mut st = Store::new();
        let id = st.intern("loss");
        for (&x, &y) in xs.iter().zip(&ys) {
            let r = st.begin_record(RecordMeta { step: x, time: f64::NAN, line: 1 });
            st.push(r, id, y);
        }
        let mut live = LiveTwema::default();
        let mut n = 0;
        for len in (1000..=20_000).step_by(7) {
            n = len;
            live.update(0.9, n, &xs[..], &ys[..], (n - 1) as f64);
        }
        let want = twema_with_range(&xs[..n], &ys[..n], 0.9, ladder_range((n - 1) as f64));
        let narrowed: Vec<f64> = want.iter().map(|&v| v as f32 as f64).collect();
        let v = live.values(&xs[..n], st.series(id));
        assert!(v.to_f64() == narrowed, "the live values differ from a batch run");
        let mut i = 0usize;
        for _ in 0..2000 {
            i = (i * 31 + 17) % n;
            assert_eq!(v.y(i).to_bits(), narrowed[i].to_bits(), "point {i} out of order");
        }
        let mut tail = Vec::new();
        v.for_each_from(n - 100, n, |_, y| tail.push(y));
        assert!(tail == narrowed[n - 100..], "a pass in order from a point");
        // The range grew 20-fold: about 64 * log2(20) = 277 steps of the ladder, not 2715 appends.
        assert!(live.full_recomputes() < 300, "{}", live.full_recomputes());
    }
}
