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

/// The `lo_pct`-th and `hi_pct`-th percentiles (nearest rank, 0..=100) of `v` (all finite, put
/// in another order), widened by `margin` times their span on each side. O(n)
/// (`select_nth_unstable`). None when `v` is empty. The result always has `lo < hi` (see [`pad`]),
/// so an axis never has zero height.
pub(crate) fn percentile_bounds(v: &mut [f64], lo_pct: f64, hi_pct: f64, margin: f64) -> Option<(f64, f64)> {
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
