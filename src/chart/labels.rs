//! Axis labels of a chart, from `crate::text`.

use super::XAxis;
use crate::text::{axis_labels, duration, format_distinct, step};

/// Bottom, middle and top labels of a y axis spanning `[lo, hi]` in plotted units (log10 when
/// `log` is set: the ticks then read `10^v`).
pub fn y_labels(lo: f64, hi: f64, log: bool) -> Vec<String> {
    if log {
        format_distinct(&[lo, (lo + hi) / 2.0, hi].map(|v| 10f64.powf(v)))
    } else {
        axis_labels(lo, hi, 3)
    }
}

/// Left and right labels of an x axis spanning `[lo, hi]`.
pub fn x_labels(lo: f64, hi: f64, axis: XAxis) -> Vec<String> {
    let span = hi - lo;
    match axis {
        // Whole steps when the window is wide enough that fractions mean nothing.
        XAxis::Step if span >= 10.0 => vec![step(lo.round()), step(hi.round())],
        XAxis::Step => vec![step(lo), step(hi)],
        XAxis::Relative => vec![duration(lo), duration(hi)],
        XAxis::Wall => vec![clock(lo, span), clock(hi, span)],
    }
}

/// `n` labels (at least 2) evenly spaced over an x axis spanning `[lo, hi]`, as ratatui places
/// them: more ticks where a chart has room (the cursor's reading view).
pub fn x_ticks(lo: f64, hi: f64, axis: XAxis, n: usize) -> Vec<String> {
    let n = n.max(2);
    let span = hi - lo;
    let at = |i: usize| lo + span * i as f64 / (n - 1) as f64;
    match axis {
        XAxis::Step => {
            // Whole steps when the ticks are far enough apart that fractions mean nothing.
            let whole = span / (n - 1) as f64 >= 5.0;
            (0..n).map(|i| if whole { step(at(i).round()) } else { step(at(i)) }).collect()
        }
        XAxis::Relative => (0..n).map(|i| duration(at(i))).collect(),
        XAxis::Wall => (0..n).map(|i| clock(at(i), span)).collect(),
    }
}

/// `n` labels (at least 2) evenly spaced over a y axis spanning `[lo, hi]` in plotted units (log10
/// when `log` is set), told apart.
pub fn y_ticks(lo: f64, hi: f64, log: bool, n: usize) -> Vec<String> {
    let n = n.max(2);
    let at: Vec<f64> = (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64).collect();
    if log {
        format_distinct(&at.iter().map(|v| 10f64.powf(*v)).collect::<Vec<_>>())
    } else {
        format_distinct(&at)
    }
}

/// `hh:mm` (UTC) of a unix time, with seconds when the window is shorter than two minutes.
fn clock(x: f64, span: f64) -> String {
    if !x.is_finite() {
        return step(x);
    }
    let secs = x.rem_euclid(86_400.0) as u64;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if span < 120.0 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_labels_are_told_apart() {
        assert_eq!(y_labels(0.1, 0.3, false), ["0.1", "0.2", "0.3"]);
        let close = y_labels(1.0001, 1.0003, false);
        assert!(close[0] != close[1] && close[1] != close[2], "{close:?}");
        assert_eq!(y_labels(-3.0, -1.0, true), ["0.001", "0.01", "0.1"]);
    }

    #[test]
    fn x_labels_read_as_steps_durations_and_clock_times() {
        assert_eq!(x_labels(0.0, 1234.4, XAxis::Step), ["0", "1234"]);
        assert_eq!(x_labels(0.0, 3720.0, XAxis::Relative)[1], duration(3720.0));
        assert_eq!(x_labels(1_700_000_000.0, 1_700_003_600.0, XAxis::Wall), ["22:13", "23:13"]);
        assert_eq!(x_labels(0.0, 60.0, XAxis::Wall)[1], "00:01:00");
    }

    #[test]
    fn more_ticks_where_there_is_room() {
        assert_eq!(x_ticks(0.0, 1000.0, XAxis::Step, 5), ["0", "250", "500", "750", "1000"]);
        assert_eq!(x_ticks(0.0, 2.0, XAxis::Step, 3), ["0", "1", "2"]);
        assert_eq!(y_ticks(0.0, 1.0, false, 5), ["0", "0.25", "0.5", "0.75", "1"]);
        assert_eq!(y_ticks(-2.0, 0.0, true, 3), ["0.01", "0.1", "1"]);
    }
}
