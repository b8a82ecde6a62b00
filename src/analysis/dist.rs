//! Distributions over steps: percentiles of a histogram, as TensorBoard's distributions tab draws
//! them (its bands are the 0th, 7th, 16th, 31st, 50th, 69th, 84th, 93rd and 100th percentiles:
//! the median, ±0.5, ±1 and ±1.5 standard deviations of a normal distribution, and the extremes).
//!
//! A percentile is read from the cumulative counts, placed linearly inside the bin it falls in
//! (the values in a bin are taken as spread evenly over it); the 0th and 100th are the outer
//! edges of the first and last non-empty bins, exactly.

use crate::store::HistView;

/// The percentiles drawn, in percent.
pub const PERCENTILES: [f64; 9] = [0.0, 7.0, 16.0, 31.0, 50.0, 69.0, 84.0, 93.0, 100.0];

/// The percentiles of [`PERCENTILES`] of one histogram (`edges.len() == counts.len() + 1`); all
/// NaN when it counts nothing.
pub fn percentiles(edges: &[f64], counts: &[f64]) -> [f64; 9] {
    let mut out = [f64::NAN; 9];
    let total: f64 = counts.iter().sum();
    if total.is_nan() || total <= 0.0 || edges.len() != counts.len() + 1 {
        return out;
    }
    let (Some(first), Some(last)) =
        (counts.iter().position(|&c| c > 0.0), counts.iter().rposition(|&c| c > 0.0))
    else {
        return out;
    };
    out[0] = edges[first];
    out[8] = edges[last + 1];
    let mut k = 1;
    let mut below = 0.0;
    for (i, &c) in counts.iter().enumerate() {
        if c <= 0.0 {
            continue;
        }
        while k < 8 {
            let target = PERCENTILES[k] / 100.0 * total;
            if target > below + c {
                break;
            }
            let frac = ((target - below) / c).clamp(0.0, 1.0);
            out[k] = edges[i] + frac * (edges[i + 1] - edges[i]);
            k += 1;
        }
        below += c;
        if k == 8 {
            break;
        }
    }
    // Rounding left a target past the last bin: it is the top.
    for x in &mut out[k..8] {
        *x = edges[last + 1];
    }
    out
}

/// The percentiles of every point of a histogram, as (step, percentiles).
pub fn bands(h: &HistView<'_>) -> Vec<(f64, [f64; 9])> {
    (0..h.len())
        .map(|i| {
            let p = h.point(i);
            (p.step, percentiles(&p.edges, &p.counts))
        })
        .collect()
}

/// The spread the flags read: the range (0th to 100th percentile) and the middle 68% (16th to
/// 84th, two standard deviations of a normal distribution).
pub fn spread(p: &[f64; 9]) -> (f64, f64) {
    (p[8] - p[0], p[6] - p[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_an_even_histogram_are_linear() {
        let edges: Vec<f64> = (0..=100).map(|k| k as f64).collect();
        let counts = vec![1.0; 100];
        let p = percentiles(&edges, &counts);
        for (x, want) in p.iter().zip(PERCENTILES) {
            assert!((x - want).abs() < 1e-9, "{p:?}");
        }
    }

    #[test]
    fn empty_tails_do_not_count_and_all_in_one_bin_stays_in_it() {
        let p = percentiles(&[0.0, 1.0, 2.0, 3.0, 4.0], &[0.0, 10.0, 0.0, 0.0]);
        assert_eq!((p[0], p[8]), (1.0, 2.0));
        assert!(p.iter().all(|x| (1.0..=2.0).contains(x)), "{p:?}");
        assert!((p[4] - 1.5).abs() < 1e-12);
        assert!(percentiles(&[0.0, 1.0], &[0.0]).iter().all(|x| x.is_nan()));
        // A point mass: zero width.
        let z = percentiles(&[0.0, 0.0], &[5.0]);
        assert_eq!(spread(&z), (0.0, 0.0));
    }

    #[test]
    fn percentiles_are_monotone() {
        let p = percentiles(&[-3.0, -1.0, 0.0, 0.5, 4.0], &[1.0, 7.0, 3.0, 2.0]);
        assert!(p.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
    }
}
