//! The two forward recursions: TensorBoard's debiased EMA and W&B's time-weighted EMA, each as a
//! one-point-at-a-time state so a live series and a batch give bit-identical results.

use super::{DEFAULT_WEIGHT, MAX_WEIGHT};

/// W&B divides each x gap by the x range and multiplies by a viewport scale it does not publish.
/// We use 1000: W&B draws 1000 x buckets by default ("full fidelity", NOTES §1), and with this value
/// points a thousandth of the range apart (1001 evenly spaced points) are smoothed exactly like
/// TensorBoard's debiased EMA of weight `sqrt(param)` (`acc / norm` is that EMA when every `a` is
/// the same). Denser data is smoothed over the same fraction of the x axis, so the curve keeps its
/// shape whatever the point density.
pub const TWEMA_VIEWPORT_SCALE: f64 = 1000.0;

fn clamp_weight(w: f64) -> f64 {
    if w.is_nan() {
        DEFAULT_WEIGHT
    } else {
        w.clamp(0.0, MAX_WEIGHT)
    }
}

/// Tracks whether every finite value so far equals the first one, so a constant stretch comes
/// back exactly (the recursions would otherwise drift by an ulp or two).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Constant {
    first: f64,
    still: bool,
}

impl Constant {
    fn new() -> Self {
        Constant { first: f64::NAN, still: true }
    }
    /// Records finite `y`; true while the series is constant.
    #[inline]
    fn push(&mut self, y: f64) -> bool {
        if self.first.is_nan() {
            self.first = y;
        } else if y != self.first {
            self.still = false;
        }
        self.still
    }
}

/// TensorBoard's debiased EMA, one point at a time. See [`super::ema`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EmaState {
    weight: f64,
    last: f64,
    /// `weight^n`, kept as a running product: no overflow of `n`, and cheaper than `powi`.
    weight_n: f64,
    n: u64,
    constant: Constant,
}

impl EmaState {
    /// A fresh state; `weight` is clamped to 0..=0.999 (NaN becomes 0.6).
    pub fn new(weight: f64) -> Self {
        EmaState { weight: clamp_weight(weight), last: 0.0, weight_n: 1.0, n: 0, constant: Constant::new() }
    }

    /// The weight in use (after clamping).
    pub fn weight(&self) -> f64 {
        self.weight
    }

    /// How many finite values have been counted.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Adds `y` and returns its smoothed value (`y` itself when it is not finite).
    #[inline]
    pub fn push(&mut self, y: f64) -> f64 {
        self.step(y).unwrap_or(y)
    }

    /// Replaces each value of `ys` by its smoothed value, as [`EmaState::push`] one after the
    /// other gives them, bit for bit. Its own function, the state in registers: pushed point by
    /// point inside a larger pass, the state went through memory at every point, a store and a
    /// load on the chain of dependent operations the recursion is.
    #[inline(never)]
    pub fn push_all(&mut self, ys: &mut [f64]) {
        let from = if self.settled() { 0 } else { self.push_settling(ys) };
        self.push_settled(&mut ys[from..]);
    }

    /// Smooths `a` with `self` and `b` with `other`, as [`EmaState::push_all`] on each, bit for
    /// bit: each series' operations in their own order, but the two recursions interleaved a
    /// point each. One recursion is a chain of dependent operations (a product and a sum a
    /// point) that leaves the core mostly waiting; two independent chains fill those waits, so
    /// two series cost about what one did. Over the longer one's excess, one series alone.
    #[inline(never)]
    pub fn push_all_pair(&mut self, a: &mut [f64], other: &mut EmaState, b: &mut [f64]) {
        let m = a.len().min(b.len());
        let (a_both, a_rest) = a.split_at_mut(m);
        let (b_both, b_rest) = b.split_at_mut(m);
        if self.settled() && other.settled() {
            let (mut p, mut q) = (*self, *other);
            let (wp, wq) = (p.weight, q.weight);
            let (cp, cq) = (1.0 - wp, 1.0 - wq);
            for (ya, yb) in a_both.iter_mut().zip(b_both.iter_mut()) {
                let v = *ya;
                if v.is_finite() {
                    p.last = p.last * wp + cp * v;
                    p.n += 1;
                    p.weight_n *= wp;
                    *ya = p.last;
                }
                let v = *yb;
                if v.is_finite() {
                    q.last = q.last * wq + cq * v;
                    q.n += 1;
                    q.weight_n *= wq;
                    *yb = q.last;
                }
            }
            (*self, *other) = (p, q);
        } else {
            // Still settling (a high weight takes thousands of points): the whole step, both
            // series at once all the same.
            let (mut p, mut q) = (*self, *other);
            for (ya, yb) in a_both.iter_mut().zip(b_both.iter_mut()) {
                if let Some(v) = p.step(*ya) {
                    *ya = v;
                }
                if let Some(v) = q.step(*yb) {
                    *yb = v;
                }
            }
            (*self, *other) = (p, q);
        }
        self.push_all(a_rest);
        other.push_all(b_rest);
    }

    /// Whether the state is settled: the series is not constant and `1 - weight^n` rounds to 1,
    /// which it stays (`weight^n` only shrinks), so every value from here on is the recursion's
    /// `last` itself (`last / 1.0` is `last`, bit for bit), with neither the debiasing division
    /// nor the constant's check. A weight of 0.6 settles after 74 finite points, 0.9 after 356,
    /// 0.99 after 3,725, 0.999 after 37,412.
    #[inline]
    pub(super) fn settled(&self) -> bool {
        !self.constant.still && 1.0 - self.weight_n == 1.0
    }

    /// [`EmaState::push`] of a value `y` kept where the value stays `y` (not finite, or the
    /// series constant so far): `None` then, else the smoothed value.
    #[inline(always)]
    fn step(&mut self, y: f64) -> Option<f64> {
        if !y.is_finite() {
            return None;
        }
        let w = self.weight;
        self.last = self.last * w + (1.0 - w) * y;
        self.n += 1;
        self.weight_n *= w;
        let still = self.constant.push(y);
        let debias = 1.0 - self.weight_n;
        if still || debias == 0.0 {
            None
        } else {
            Some(self.last / debias)
        }
    }

    /// The whole step until the state settles; returns how many values it took.
    #[inline(always)]
    fn push_settling(&mut self, ys: &mut [f64]) -> usize {
        let mut st = *self;
        let mut k = 0;
        while k < ys.len() {
            let v = ys[k];
            k += 1;
            if let Some(s) = st.step(v) {
                ys[k - 1] = s;
                if 1.0 - st.weight_n == 1.0 {
                    // Not constant (a value came out of the division) and debiased by 1 now.
                    break;
                }
            }
        }
        *self = st;
        k
    }

    /// The step of a settled state: `last` is the smoothed value.
    #[inline(always)]
    fn push_settled(&mut self, ys: &mut [f64]) {
        let mut st = *self;
        let (w, c) = (st.weight, 1.0 - st.weight);
        for y in ys.iter_mut() {
            let v = *y;
            if v.is_finite() {
                st.last = st.last * w + c * v;
                st.n += 1;
                st.weight_n *= w;
                *y = st.last;
            }
        }
        *self = st;
    }
}

/// W&B's time-weighted EMA, one point at a time, for a fixed x range. See [`twema`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TwemaState {
    ln_s: f64,
    /// `VIEWPORT_SCALE / range`, or 0 when the range is empty (every gap then decays nothing).
    per_x: f64,
    acc: f64,
    norm: f64,
    prev_x: f64,
    constant: Constant,
}

impl TwemaState {
    /// A fresh state for smoothing parameter `param` (clamped to 0..=0.999, NaN becomes 0.6) over
    /// an x range of width `x_range`.
    pub fn new(param: f64, x_range: f64) -> Self {
        let s = clamp_weight(param).sqrt().min(MAX_WEIGHT);
        let per_x = if x_range.is_finite() && x_range > 0.0 { TWEMA_VIEWPORT_SCALE / x_range } else { 0.0 };
        TwemaState { ln_s: s.ln(), per_x, acc: 0.0, norm: 0.0, prev_x: f64::NAN, constant: Constant::new() }
    }

    /// Adds the point `(x, y)` and returns its smoothed value (`y` itself when it is not finite).
    pub fn push(&mut self, x: f64, y: f64) -> f64 {
        if !y.is_finite() {
            return y;
        }
        // A gap that is unknown (non-finite x) or negative (a restarted run) decays nothing, rather
        // than blowing up with s^negative.
        let gap = x - self.prev_x;
        let d = if gap.is_finite() && gap > 0.0 { gap * self.per_x } else { 0.0 };
        if x.is_finite() {
            self.prev_x = x;
        }
        // s = 0 (param 0) gives ln_s = -inf: a positive gap then forgets everything, a zero gap
        // nothing (0 * -inf would be NaN).
        let a = if d == 0.0 { 1.0 } else { (d * self.ln_s).exp() };
        self.acc = self.acc * a + y;
        self.norm = self.norm * a + 1.0;
        if self.constant.push(y) {
            y
        } else {
            self.acc / self.norm
        }
    }
}

/// The width of the finite x values' range (0 when there are fewer than two).
fn x_range(xs: &[f64]) -> f64 {
    let (lo, hi) = xs
        .iter()
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    if hi > lo {
        hi - lo
    } else {
        0.0
    }
}

/// W&B's time-weighted EMA (NOTES §1): with `s = min(sqrt(param), 0.999)`, for each finite point
/// `d = (x_i - x_prev) / range_of_x * VIEWPORT_SCALE; a = s^d; acc = acc*a + y; norm = norm*a + 1;
/// smoothed = acc / norm`, where `x_prev` is the x of the previous counted point and the range is
/// that of all finite `xs`. Points far apart in x forget more of the past than close ones.
/// Non-finite y passes through and is not counted; a non-finite or backward x gap decays nothing.
/// `param` is clamped to 0..=0.999 (NaN becomes 0.6); 0 returns the input. When `xs` is not as
/// long as `ys`, the point index is used as x. A constant stretch is returned exactly.
pub fn twema(xs: &[f64], ys: &[f64], param: f64) -> Vec<f64> {
    if xs.len() != ys.len() {
        let idx: Vec<f64> = (0..ys.len()).map(|i| i as f64).collect();
        return twema_with_range(&idx, ys, param, x_range(&idx));
    }
    twema_with_range(xs, ys, param, x_range(xs))
}

/// [`twema`] with an explicit x range (e.g. the chart's visible x span, as W&B does), so a live
/// series keeps the same decay while its data range grows. `xs` must be as long as `ys`.
pub fn twema_with_range(xs: &[f64], ys: &[f64], param: f64, x_range: f64) -> Vec<f64> {
    let mut state = TwemaState::new(param, x_range);
    xs.iter().zip(ys).map(|(&x, &y)| state.push(x, y)).collect()
}
