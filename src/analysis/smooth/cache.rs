//! A smoothed series kept up to date while points are appended: the forward recursions continue
//! from their saved state, the centred smoothers recompute only the tail an append can change.

use super::ema::{EmaState, TwemaState};
use super::window::{tail, Plan};
use super::Smoother;

#[derive(Clone, Debug)]
enum State {
    Ema(EmaState),
    /// The state and the x range it was built for.
    Twema(TwemaState, f64),
    Window(Plan),
}

/// The smoothed values of one series, extended in place when the series grows.
///
/// [`SmoothCache::update`] treats its input as the previous input plus appended points when it is
/// at least as long and its last previously seen point has the same bits; anything else (another
/// smoother, a shorter series, a changed last point) recomputes from scratch. When data changes
/// in other ways (the x axis switched, a file replaced), call [`SmoothCache::clear`].
///
/// Cost of an append of k points to n: O(k) for the EMA; O(k + reach) for the Gaussian and the
/// running average; O(k) for the time-weighted EMA while the x range stays the same, O(n) when the
/// range grows (its decay is relative to the range, so every value changes). A live chart that
/// wants O(k) there can smooth with a fixed range through [`super::twema_with_range`].
#[derive(Clone, Debug, Default)]
pub struct SmoothCache {
    kind: Option<Smoother>,
    state: Option<State>,
    /// Bits of the last (x, y) seen, to detect data that is not an append.
    last: Option<(u64, u64)>,
    /// Finite x range seen so far, for the time-weighted EMA.
    x_lo: f64,
    x_hi: f64,
    out: Vec<f64>,
    full_recomputes: u64,
}

impl SmoothCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets everything: the next update recomputes.
    pub fn clear(&mut self) {
        *self = SmoothCache { full_recomputes: self.full_recomputes, ..Self::default() };
    }

    /// The smoothed values of the last update.
    pub fn values(&self) -> &[f64] {
        &self.out
    }

    /// Heap bytes held by the smoothed values.
    pub fn heap_bytes(&self) -> usize {
        self.out.capacity() * 8
    }

    /// How many updates recomputed the whole series (for tests and diagnostics).
    pub fn full_recomputes(&self) -> u64 {
        self.full_recomputes
    }

    /// Smooths `ys` (at `xs`, see [`super::smooth`]) with `kind`, reusing the previous result when
    /// `ys` extends the previous input. Equal to `smooth(kind, xs, ys)`, bit for bit.
    pub fn update(&mut self, kind: Smoother, xs: &[f64], ys: &[f64]) -> &[f64] {
        let kind = kind.clamped();
        let n = ys.len();
        let old = self.out.len();
        let x_at = |i: usize| if xs.len() == n { xs[i] } else { i as f64 };
        let appended = self.kind == Some(kind)
            && n >= old
            && match self.last {
                None => old == 0,
                Some((xb, yb)) => x_at(old - 1).to_bits() == xb && ys[old - 1].to_bits() == yb,
            };
        if !appended {
            self.recompute(kind, xs, ys);
        } else if n > old {
            self.extend(xs, ys, old);
        }
        self.last = n.checked_sub(1).map(|i| (x_at(i).to_bits(), ys[i].to_bits()));
        &self.out
    }

    fn recompute(&mut self, kind: Smoother, xs: &[f64], ys: &[f64]) {
        self.full_recomputes += 1;
        self.kind = Some(kind);
        self.out.clear();
        self.x_lo = f64::INFINITY;
        self.x_hi = f64::NEG_INFINITY;
        self.state = Some(match kind {
            Smoother::Ema { weight } => State::Ema(EmaState::new(weight)),
            // A NaN range makes `extend` build the state for the range it finds.
            Smoother::TimeWeightedEma { param } => State::Twema(TwemaState::new(param, 0.0), f64::NAN),
            Smoother::Gaussian { sigma } => State::Window(Plan::gaussian(sigma)),
            Smoother::RunningAverage { window } => State::Window(Plan::running_average(window)),
        });
        self.extend(xs, ys, 0);
    }

    /// Smooths points `from..` given that the output holds the first `from` values.
    fn extend(&mut self, xs: &[f64], ys: &[f64], from: usize) {
        let n = ys.len();
        let x_at = |i: usize| if xs.len() == n { xs[i] } else { i as f64 };
        for x in (from..n).map(x_at) {
            if x.is_finite() {
                self.x_lo = self.x_lo.min(x);
                self.x_hi = self.x_hi.max(x);
            }
        }
        let range = if self.x_hi > self.x_lo { self.x_hi - self.x_lo } else { 0.0 };
        match &mut self.state {
            Some(State::Ema(st)) => self.out.extend(ys[from..].iter().map(|&y| st.push(y))),
            Some(State::Twema(st, r)) => {
                if *r != range {
                    // The decay is relative to the range: every value changes.
                    let param = match self.kind {
                        Some(Smoother::TimeWeightedEma { param }) => param,
                        _ => super::DEFAULT_WEIGHT,
                    };
                    *st = TwemaState::new(param, range);
                    *r = range;
                    self.out.clear();
                    if from > 0 {
                        self.full_recomputes += 1;
                    }
                    self.out.extend((0..n).map(|i| st.push(x_at(i), ys[i])));
                } else {
                    self.out.extend((from..n).map(|i| st.push(x_at(i), ys[i])));
                }
            }
            Some(State::Window(plan)) => {
                let start = from.saturating_sub(plan.reach() + 1);
                self.out.truncate(start);
                self.out.extend(tail(plan, ys, start));
            }
            None => {}
        }
    }
}
