//! W&B's time-weighted EMA for a series that grows while it is shown.
//!
//! Its decay is relative to the x range of the data, which grows with every live point, so the
//! exact smoother recomputes the whole series on every append (a 1M-point chart then costs a fifth
//! of a core at 10 steps/s). Here the range is rounded up to the next step of a 1/64-octave ladder
//! (at most 1.1% wider than the data's): the smoothed values are `twema_with_range` at that range,
//! extended point by point, and recomputed only when the data outgrows the step.

use crate::analysis::smooth::TwemaState;
use crate::chart::values::{Column, Xs, Ys};

/// The smoothed values and the state that extends them.
#[derive(Debug, Default)]
pub struct LiveTwema {
    param: f64,
    range: f64,
    state: Option<TwemaState>,
    out: Column,
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
    /// The smoothed values of the first `n` points of `ys` at `xs`, whose finite xs span
    /// `data_range`. Values before `self.values().len()` are reused when the parameter and the
    /// rounded range are unchanged (`xs`/`ys` must then extend the previous input, which the
    /// caller guarantees).
    pub fn update<X: Xs + ?Sized, Y: Ys + ?Sized>(
        &mut self,
        param: f64,
        n: usize,
        xs: &X,
        ys: &Y,
        data_range: f64,
    ) -> &Column {
        let n = n.min(xs.len()).min(ys.len());
        let range = ladder_range(data_range);
        let reuse = self.state.is_some()
            && self.param.to_bits() == param.to_bits()
            && self.range.to_bits() == range.to_bits()
            && Ys::len(&self.out) <= n;
        if !reuse {
            self.full_recomputes += 1;
            self.param = param;
            self.range = range;
            let mut st = TwemaState::new(param, range);
            // As `twema_with_range` does, keeping the state to continue from.
            self.out = Column::default();
            self.out.reserve_for(n);
            let out = &mut self.out;
            xs.for_each_from(0, n, |i, x| out.push(st.push(x, ys.y(i))));
            self.state = Some(st);
            return &self.out;
        }
        if let Some(st) = self.state.as_mut() {
            self.out.reserve_for(n);
            let from = Ys::len(&self.out);
            let out = &mut self.out;
            xs.for_each_from(from, n, |i, x| out.push(st.push(x, ys.y(i))));
        }
        &self.out
    }

    /// The smoothed values (narrowed to `f32` while they fit: see [`Column`]).
    pub fn values(&self) -> &Column {
        &self.out
    }

    /// How many updates smoothed the whole series.
    pub fn full_recomputes(&self) -> u64 {
        self.full_recomputes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::smooth::twema_with_range;

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
        let mut live = LiveTwema::default();
        let mut n = 0;
        for len in (1000..=20_000).step_by(7) {
            n = len;
            live.update(0.9, n, &xs[..], &ys[..], (n - 1) as f64);
        }
        let want = twema_with_range(&xs[..n], &ys[..n], 0.9, ladder_range((n - 1) as f64));
        let narrowed: Vec<f64> = want.iter().map(|&v| v as f32 as f64).collect();
        assert!(live.values().to_f64() == narrowed, "the live values differ from a batch run");
        // The range grew 20-fold: about 64 * log2(20) = 277 steps of the ladder, not 2715 appends.
        assert!(live.full_recomputes() < 300, "{}", live.full_recomputes());
    }
}
