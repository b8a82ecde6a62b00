//! A y range that holds still while a chart follows its newest data. Recomputed from the data at
//! every point, the range (and every label on the axis, and every cell of the chart) would move
//! with each new value of a noisy loss; over SSH that is a whole chart redrawn per point. Held
//! instead:
//!
//! - it grows, when a value the range must hold leaves it, to the next "nice" bounds (multiples of
//!   a 1, 2 or 5 x 10^k step, about four steps across the range), so that the next few values
//!   past the old edge land inside;
//! - it shrinks only when the data has clearly moved away from an edge: more than one and a half
//!   steps of empty range on that side, and then to the nice bound next to the data;
//! - otherwise it stays as it was.
//!
//! What the range must hold is decided before (`plot::compute`: the outlier-aware range and every
//! flagged point), so a held range always holds it: a flagged spike is never clipped.

/// About this many steps across a range: the step its bounds are rounded to.
const STEPS: f64 = 4.0;
/// Empty range beyond the data, in steps, before that edge comes in.
const SHRINK_AFTER: f64 = 1.5;

/// A 1, 2 or 5 x 10^k step, about a quarter of `span`.
pub fn nice_step(span: f64) -> f64 {
    let raw = span / STEPS;
    if !(raw.is_finite() && raw > 0.0) {
        return 0.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn floor_to(x: f64, s: f64) -> f64 {
    (x / s).floor() * s
}

fn ceil_to(x: f64, s: f64) -> f64 {
    (x / s).ceil() * s
}

/// The range to show, given the one shown before (`prev`, while following the same chart) and the
/// one the data needs now (`want`): `want` itself without a previous range.
pub fn hold(prev: Option<(f64, f64)>, want: (f64, f64)) -> (f64, f64) {
    let (wlo, whi) = want;
    let ok = |(lo, hi): (f64, f64)| lo.is_finite() && hi.is_finite() && hi > lo;
    let Some((mut lo, mut hi)) = prev.filter(|&p| ok(p) && ok(want)) else { return want };
    // Grow: the union, out to the nice bounds of its own step.
    if wlo < lo || whi > hi {
        let s = nice_step(hi.max(whi) - lo.min(wlo));
        if s > 0.0 {
            if wlo < lo {
                lo = floor_to(wlo, s);
            }
            if whi > hi {
                hi = ceil_to(whi, s);
            }
        }
        lo = lo.min(wlo);
        hi = hi.max(whi);
    }
    // Shrink: an edge well away from the data comes in to the nice bound next to it. The step of
    // the narrower range is smaller: settle in one call rather than one frame at a time.
    for _ in 0..8 {
        let s = nice_step(hi - lo);
        if s <= 0.0 {
            break;
        }
        let (mut nlo, mut nhi) = (lo, hi);
        if whi < hi - SHRINK_AFTER * s {
            nhi = ceil_to(whi, s).max(whi);
        }
        if wlo > lo + SHRINK_AFTER * s {
            nlo = floor_to(wlo, s).min(wlo);
        }
        if (nlo, nhi) == (lo, hi) || nhi <= nlo {
            break;
        }
        (lo, hi) = (nlo, nhi);
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_nice() {
        assert_eq!(nice_step(4.0), 1.0);
        assert_eq!(nice_step(7.0), 2.0);
        assert_eq!(nice_step(2.4), 1.0);
        assert!((nice_step(0.37) - 0.1).abs() < 1e-12);
        assert_eq!(nice_step(0.0), 0.0);
        assert_eq!(nice_step(f64::NAN), 0.0);
    }

    #[test]
    fn held_range_grows_in_nice_steps_and_shrinks_only_when_the_data_moved() {
        // No previous range: the data's.
        assert_eq!(hold(None, (0.13, 2.2)), (0.13, 2.2));
        // Inside: unchanged.
        assert_eq!(hold(Some((0.0, 2.5)), (0.2, 2.3)), (0.0, 2.5));
        // A value above: out to the next nice bound (step 1 over [0, 3.1]).
        assert_eq!(hold(Some((0.0, 2.5)), (0.2, 3.1)), (0.0, 4.0));
        // A spike far above: held whole.
        let (lo, hi) = hold(Some((0.0, 2.5)), (0.2, 70.5));
        assert!(lo == 0.0 && (70.5..=80.0).contains(&hi), "{hi}");
        // The data moved well down: the top comes in, still holding it.
        let (lo, hi) = hold(Some((0.0, 80.0)), (0.2, 2.3));
        assert!(lo == 0.0 && (2.3..=5.0).contains(&hi), "{lo} {hi}");
        // Below: the bottom goes to a nice bound.
        assert_eq!(hold(Some((1.0, 3.0)), (0.7, 2.9)), (0.0, 3.0));
        // Always holds what is wanted.
        for (p, w) in [((0.0, 1.0), (-0.3, 0.2)), ((5.0, 6.0), (1e-3, 1e3)), ((-1.0, 1.0), (-0.01, 0.01))] {
            let (lo, hi) = hold(Some(p), w);
            assert!(lo <= w.0 && hi >= w.1, "{p:?} {w:?} -> {lo} {hi}");
        }
    }
}
