//! Smoothing of a series, as users know it from TensorBoard and W&B.
//!
//! Four smoothers (the facts behind each are in `../shared/NOTES.md` §1):
//!
//! | kind | parameter | range (no smoothing at) | a non-finite y |
//! |---|---|---|---|
//! | [`Smoother::Ema`] (TensorBoard) | weight | 0..=0.999 (0) | passes, not counted |
//! | [`Smoother::TimeWeightedEma`] (W&B) | param | 0..=0.999 (0) | passes, not counted |
//! | [`Smoother::Gaussian`] | sigma, points | 0..=10000 (0) | passes, neighbours skip it |
//! | [`Smoother::RunningAverage`] | window, points | 1..=100001 (1) | passes, neighbours skip it |
//!
//! Parameters outside their range are clamped (a NaN parameter becomes the default) by
//! [`Smoother::clamped`], which [`smooth`] and [`SmoothCache`] apply. Every smoother keeps the length
//! of its input and leaves a non-finite value where the input has one, so a chart can still mark it.
//!
//! For live data, [`EmaState`] and [`TwemaState`] smooth one point at a time with results
//! bit-identical to the batch functions, and [`SmoothCache`] extends a cached smoothed series when
//! points are appended (recomputing only the tail that a centred window can still change).

mod cache;
mod ema;
mod window;

pub use cache::SmoothCache;
pub use ema::{twema, twema_with_range, EmaState, TwemaState, TWEMA_VIEWPORT_SCALE};
pub use window::{gaussian, running_average, Centred, GAUSSIAN_EXACT_MAX_SIGMA};

/// Which smoother to use, with its parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Smoother {
    /// TensorBoard's debiased exponential moving average; weight in 0..=0.999.
    Ema { weight: f64 },
    /// W&B's time-weighted EMA; param in 0..=0.999, decay per x distance (see [`twema`]).
    TimeWeightedEma { param: f64 },
    /// Gaussian kernel over neighbouring points on both sides; sigma in points, 0..=10000.
    Gaussian { sigma: f64 },
    /// Centred running average over `window` points (even windows grow by one), 1..=100001.
    RunningAverage { window: usize },
}

impl Default for Smoother {
    fn default() -> Self {
        Smoother::Ema { weight: DEFAULT_WEIGHT }
    }
}

/// TensorBoard's default smoothing weight.
pub const DEFAULT_WEIGHT: f64 = 0.6;
/// Largest EMA weight and TWEMA parameter (TensorBoard allows 0..0.999; W&B caps `sqrt(param)` there).
pub const MAX_WEIGHT: f64 = 0.999;
/// Largest Gaussian sigma, in points.
pub const MAX_SIGMA: f64 = 10_000.0;
/// Largest running-average window, in points.
pub const MAX_WINDOW: usize = 100_001;

/// The strength ladders walked by the UI's `s`/`S` keys. They have the same length, and entry `i`
/// of each has roughly the same reach (standard deviation of the kernel, in points), so `m` can
/// switch smoother at the same strength: an EMA of weight w has sd `sqrt(w)/(1-w)`, a box of N points
/// `sqrt((N^2-1)/12)`. The weights stop at 0.99 like TensorBoard's slider, plus 0.999 for long runs.
const WEIGHTS: [f64; 12] = [0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.999];
const SIGMAS: [f64; 12] = [0.0, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 1000.0];
const WINDOWS: [usize; 12] = [1, 3, 5, 7, 11, 17, 35, 69, 105, 173, 347, 3465];

impl Smoother {
    /// The kinds in the order the UI's `m` key cycles through them.
    pub const CYCLE: [&'static str; 4] = ["EMA", "TWEMA", "Gaussian", "running avg"];

    /// Short name for the UI: "EMA", "TWEMA", "Gaussian", "running avg".
    pub fn name(&self) -> &'static str {
        Self::CYCLE[self.kind_index()]
    }

    /// Name and parameter, e.g. "EMA 0.6", "TWEMA 0.9", "Gaussian σ=5", "running avg 35".
    pub fn label(&self) -> String {
        match self.clamped() {
            Smoother::Ema { weight } => format!("EMA {weight}"),
            Smoother::TimeWeightedEma { param } => format!("TWEMA {param}"),
            Smoother::Gaussian { sigma } => format!("Gaussian σ={sigma}"),
            Smoother::RunningAverage { window } => format!("running avg {window}"),
        }
    }

    fn kind_index(&self) -> usize {
        match self {
            Smoother::Ema { .. } => 0,
            Smoother::TimeWeightedEma { .. } => 1,
            Smoother::Gaussian { .. } => 2,
            Smoother::RunningAverage { .. } => 3,
        }
    }

    /// The kind with the ladder entry at `level`, for the kind at `kind_index`.
    fn at_level(kind_index: usize, level: usize) -> Smoother {
        let level = level.min(WEIGHTS.len() - 1);
        match kind_index % 4 {
            0 => Smoother::Ema { weight: WEIGHTS[level] },
            1 => Smoother::TimeWeightedEma { param: WEIGHTS[level] },
            2 => Smoother::Gaussian { sigma: SIGMAS[level] },
            _ => Smoother::RunningAverage { window: WINDOWS[level] },
        }
    }

    /// The parameter as a number (weight, param, sigma or window).
    pub fn param(&self) -> f64 {
        match *self {
            Smoother::Ema { weight } => weight,
            Smoother::TimeWeightedEma { param } => param,
            Smoother::Gaussian { sigma } => sigma,
            Smoother::RunningAverage { window } => window as f64,
        }
    }

    /// The allowed parameter range, inclusive.
    pub fn param_range(&self) -> (f64, f64) {
        match self {
            Smoother::Ema { .. } | Smoother::TimeWeightedEma { .. } => (0.0, MAX_WEIGHT),
            Smoother::Gaussian { .. } => (0.0, MAX_SIGMA),
            Smoother::RunningAverage { .. } => (1.0, MAX_WINDOW as f64),
        }
    }

    /// The same kind with parameter `p`, clamped into [`Smoother::param_range`].
    pub fn with_param(&self, p: f64) -> Smoother {
        let s = match self {
            Smoother::Ema { .. } => Smoother::Ema { weight: p },
            Smoother::TimeWeightedEma { .. } => Smoother::TimeWeightedEma { param: p },
            Smoother::Gaussian { .. } => Smoother::Gaussian { sigma: p },
            Smoother::RunningAverage { .. } => {
                let w = if p.is_nan() { WINDOWS[3] as f64 } else { p.round().max(1.0) };
                Smoother::RunningAverage { window: w.min(MAX_WINDOW as f64) as usize }
            }
        };
        s.clamped()
    }

    /// This smoother with its parameter clamped into range; a NaN parameter becomes the default of
    /// its kind (the fourth ladder entry: weight 0.6, sigma 2, window 7).
    pub fn clamped(&self) -> Smoother {
        let fix = |p: f64, default: f64, hi: f64| if p.is_nan() { default } else { p.clamp(0.0, hi) };
        match *self {
            Smoother::Ema { weight } => Smoother::Ema { weight: fix(weight, DEFAULT_WEIGHT, MAX_WEIGHT) },
            Smoother::TimeWeightedEma { param } => {
                Smoother::TimeWeightedEma { param: fix(param, DEFAULT_WEIGHT, MAX_WEIGHT) }
            }
            Smoother::Gaussian { sigma } => Smoother::Gaussian { sigma: fix(sigma, SIGMAS[3], MAX_SIGMA) },
            Smoother::RunningAverage { window } => {
                Smoother::RunningAverage { window: window.clamp(1, MAX_WINDOW) }
            }
        }
    }

    /// The ladder entry nearest to the current parameter.
    fn level(&self) -> usize {
        let p = self.clamped().param();
        let ladder = self.ladder();
        let mut best = 0;
        for (i, v) in ladder.iter().enumerate() {
            if (v - p).abs() < (ladder[best] - p).abs() {
                best = i;
            }
        }
        best
    }

    fn ladder(&self) -> [f64; 12] {
        match self {
            Smoother::Ema { .. } | Smoother::TimeWeightedEma { .. } => WEIGHTS,
            Smoother::Gaussian { .. } => SIGMAS,
            Smoother::RunningAverage { .. } => WINDOWS.map(|w| w as f64),
        }
    }

    /// The next kind in the `m` cycle (EMA -> TWEMA -> Gaussian -> running avg -> EMA), at about
    /// the same strength.
    pub fn next(&self) -> Smoother {
        Smoother::at_level(self.kind_index() + 1, self.level())
    }

    /// Stronger (`steps > 0`, the `s` key) or weaker (`steps < 0`, `S`) smoothing of the same kind,
    /// moving along the ladder (weights 0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99,
    /// 0.999). A parameter between ladder entries moves to the next entry in that direction; the
    /// ends of the ladder are sticky.
    pub fn with_strength_step(&self, steps: i32) -> Smoother {
        let p = self.clamped().param();
        let ladder = self.ladder();
        let last = ladder.len() - 1;
        let idx = if steps > 0 {
            let first_above = ladder.iter().position(|&v| v > p).unwrap_or(last);
            (first_above + steps as usize - 1).min(last)
        } else if steps < 0 {
            let last_below = ladder.iter().rposition(|&v| v < p).unwrap_or(0);
            last_below.saturating_sub(steps.unsigned_abs() as usize - 1)
        } else {
            return self.clamped();
        };
        Smoother::at_level(self.kind_index(), idx)
    }
}

/// TensorBoard's debiased EMA, exactly as `NOTES.md` §1 gives it: with `last = 0, n = 0`, for each
/// finite y, `last = last*w + (1-w)*y; n += 1; smoothed = last / (1 - w^n)`. Non-finite values pass
/// through and are not counted. While every finite value so far is the same, that value is returned
/// exactly (TensorBoard returns a constant series as is; doing it per prefix keeps the result
/// causal, so a live series gives the same values as a batch). `weight` is clamped to 0..=0.999
/// (NaN becomes 0.6); weight 0 returns the input.
pub fn ema(ys: &[f64], weight: f64) -> Vec<f64> {
    let mut state = EmaState::new(weight);
    ys.iter().map(|&y| state.push(y)).collect()
}

/// Smooths `ys` (at x positions `xs`) with `kind`, its parameter clamped. Only the time-weighted
/// EMA reads `xs`; when `xs` is not as long as `ys` it uses the point index as x.
pub fn smooth(kind: Smoother, xs: &[f64], ys: &[f64]) -> Vec<f64> {
    match kind.clamped() {
        Smoother::Ema { weight } => ema(ys, weight),
        Smoother::TimeWeightedEma { param } => twema(xs, ys, param),
        Smoother::Gaussian { sigma } => gaussian(ys, sigma),
        Smoother::RunningAverage { window } => running_average(ys, window),
    }
}

#[cfg(test)]
mod tests;
