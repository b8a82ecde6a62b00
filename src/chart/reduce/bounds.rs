//! Y-axis bounds for a chart: plain min/max, or the 5th-95th percentile that TensorBoard's "ignore
//! outliers in chart scaling" uses (NOTES §1), with a margin, on a linear or log10 scale.

/// How y values map to the chart's vertical axis. ratatui's chart has no log axis, so a log chart
/// plots `log10(y)` and labels its ticks with `10^v`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum YScale {
    #[default]
    Linear,
    Log10,
}

impl YScale {
    /// The plotted value of `y`, or None when it cannot be drawn: non-finite, or `<= 0` on a log
    /// scale.
    #[inline]
    pub fn map(self, y: f64) -> Option<f64> {
        match self {
            _ if !y.is_finite() => None,
            YScale::Linear => Some(y),
            YScale::Log10 if y > 0.0 => Some(y.log10()),
            YScale::Log10 => None,
        }
    }

    /// The data value at plotted position `v` (for axis labels).
    pub fn unmap(self, v: f64) -> f64 {
        match self {
            YScale::Linear => v,
            YScale::Log10 => 10f64.powf(v),
        }
    }
}

/// At most this many values enter a percentile: larger windows are sampled with a fixed stride,
/// which moves a 5th or 95th percentile by a fraction of a percent and keeps a frame cheap.
pub const PERCENTILE_SAMPLE: usize = 1 << 16;

/// The `lo_pct`-th and `hi_pct`-th percentiles (nearest rank, 0..=100) of the finite values of
/// `ys`, widened by `margin` times their span on each side. O(n) (`select_nth_unstable`). None when
/// no value is finite. The result always has `lo < hi` (see [`pad`]), so an axis never has zero
/// height.
pub fn robust_bounds(ys: &[f64], lo_pct: f64, hi_pct: f64, margin: f64) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = ys.iter().copied().filter(|y| y.is_finite()).collect();
    percentile_bounds(&mut v, lo_pct, hi_pct, margin)
}

/// [`robust_bounds`] of the values as plotted on `scale` (log10 of the positive values for a log
/// scale), in plotted units.
pub fn robust_bounds_scaled(
    ys: &[f64],
    scale: YScale,
    lo_pct: f64,
    hi_pct: f64,
    margin: f64,
) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = ys.iter().filter_map(|&y| scale.map(y)).collect();
    percentile_bounds(&mut v, lo_pct, hi_pct, margin)
}

/// Percentile bounds of `v` (all finite), reordering it.
pub(super) fn percentile_bounds(v: &mut [f64], lo_pct: f64, hi_pct: f64, margin: f64) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let last = v.len() - 1;
    let rank = |p: f64| {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
        ((p / 100.0) * last as f64).round() as usize
    };
    let (mut li, mut hi) = (rank(lo_pct), rank(hi_pct));
    if li > hi {
        std::mem::swap(&mut li, &mut hi);
    }
    let (_, &mut lo_v, upper) = v.select_nth_unstable_by(li, f64::total_cmp);
    let hi_v = if hi == li {
        lo_v
    } else {
        // Everything above rank li sits in `upper`, in some order.
        *upper.select_nth_unstable_by(hi - li - 1, f64::total_cmp).1
    };
    Some(pad(lo_v, hi_v, margin))
}

/// Min and max of the finite values, widened by `margin` times their span. None when no value is
/// finite.
pub fn minmax_bounds(ys: &[f64], margin: f64) -> Option<(f64, f64)> {
    minmax_bounds_scaled(ys, YScale::Linear, margin)
}

/// [`minmax_bounds`] in plotted units of `scale`.
pub fn minmax_bounds_scaled(ys: &[f64], scale: YScale, margin: f64) -> Option<(f64, f64)> {
    let (lo, hi) = ys
        .iter()
        .filter_map(|&y| scale.map(y))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    (lo <= hi).then(|| pad(lo, hi, margin))
}

/// Widens `[lo, hi]` by `margin` (a fraction, negative or NaN taken as 0) of its span on each side.
/// A flat range (one value) becomes that value ±10% (±1 around zero), so a constant series sits in
/// the middle of the chart. For finite input the result is finite with `lo < hi`.
pub fn pad(lo: f64, hi: f64, margin: f64) -> (f64, f64) {
    let margin = if margin > 0.0 { margin } else { 0.0 };
    let span = hi - lo;
    let (a, b) = if span > 0.0 {
        (lo - margin * span, hi + margin * span)
    } else {
        let d = if lo != 0.0 { (lo.abs() * 0.1).max(f64::MIN_POSITIVE) } else { 1.0 };
        (lo - d, hi + d)
    };
    // Near f64::MAX the margin can overflow: stay finite.
    (a.max(-f64::MAX), b.min(f64::MAX))
}
