//! The ticks of an exported chart's axes: round values (1, 2 or 5 times a power of ten; for
//! time, whole seconds, minutes, hours or days; on a log axis, whole decades), labelled with the
//! terminal's formatting (`crate::text`): values with the fewest digits that tell the ticks apart,
//! steps as steps, relative time as durations, wall time as a UTC clock.

use crate::chart::XAxis;
use crate::text::{duration, format_distinct, step};

/// Tick positions in plotted units (log10 on a log axis), and their labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ticks {
    pub values: Vec<f64>,
    pub labels: Vec<String>,
}

/// The round step (1, 2 or 5 times a power of ten) whose ticks in `[lo, hi]` come closest
/// to `target` in number (the coarser of two as close).
fn nice_step(lo: f64, hi: f64, target: usize) -> f64 {
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let candidates = [0.5, 1.0, 2.0, 5.0, 10.0, 20.0].map(|m| m * mag);
    closest(lo, hi, target, &candidates).unwrap_or(mag)
}

/// Of `steps` (ascending), the one whose multiples in `[lo, hi]` come closest to `target` in
/// number, the coarser of two as close.
fn closest(lo: f64, hi: f64, target: usize, steps: &[f64]) -> Option<f64> {
    let count = |s: f64| ((hi / s + 1e-9).floor() - (lo / s - 1e-9).ceil() + 1.0).max(0.0);
    steps
        .iter()
        .copied()
        .filter(|s| s.is_finite() && *s > 0.0)
        .rev()
        .min_by(|a, b| (count(*a) - target as f64).abs().total_cmp(&(count(*b) - target as f64).abs()))
}

/// The multiples of `step` in `[lo, hi]`, computed as `k * step` in a way that does not add float
/// noise to round values (`0.3`, not `0.30000000000000004`).
fn multiples(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if step.is_nan() || step <= 0.0 || !lo.is_finite() || !hi.is_finite() || hi < lo {
        return Vec::new();
    }
    // `step` is m * 10^e: dividing by 10^-e is exact where multiplying by 10^e is not.
    let e = step.log10().floor();
    let (m, scale) = if e < 0.0 { (step * 10f64.powf(-e), 10f64.powf(-e)) } else { (step, 1.0) };
    let m = (m * 1e6).round() / 1e6;
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    if last < first || last - first > 1000 {
        return Vec::new();
    }
    (first..=last).map(|k| k as f64 * m / scale).map(|v| if v == 0.0 { 0.0 } else { v }).collect()
}

/// About `target` ticks of a linear value axis over `[lo, hi]`.
pub fn linear(lo: f64, hi: f64, target: usize) -> Ticks {
    let values = multiples(lo, hi, nice_step(lo, hi, target));
    let labels = format_distinct(&values);
    Ticks { values, labels }
}

/// About `target` ticks of a log10 axis over `[lo, hi]` (in log10 units): whole decades (every
/// other one, or fewer, when there are many); over fewer decades, 1, 2 and 5 times a power of ten,
/// or every digit; over less than a factor of two or so, round values placed on the log scale.
pub fn log10(lo: f64, hi: f64, target: usize) -> Ticks {
    let (first, last) = ((lo - 1e-9).ceil(), (hi + 1e-9).floor());
    let decades = if last >= first { (last - first) as usize + 1 } else { 0 };
    let labelled = |values: Vec<f64>| {
        let labels = format_distinct(&values.iter().map(|&d| 10f64.powf(d)).collect::<Vec<_>>());
        Ticks { values, labels }
    };
    if decades >= 3 {
        let every = decades.div_ceil(target.max(2)).max(1);
        return labelled((0..decades).step_by(every).map(|k| first + k as f64).collect());
    }
    if !lo.is_finite() || !hi.is_finite() {
        return Ticks::default();
    }
    for mantissas in [&[1.0, 2.0, 5.0][..], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]] {
        let values: Vec<f64> = ((lo.floor() as i64)..=(hi.ceil() as i64))
            .flat_map(|e| mantissas.iter().map(move |m: &f64| m.log10() + e as f64))
            .filter(|v| (lo - 1e-9..=hi + 1e-9).contains(v))
            .collect();
        if values.len() >= 3 && values.len() <= target.max(3) * 2 {
            return labelled(values);
        }
    }
    let (a, b) = (10f64.powf(lo), 10f64.powf(hi));
    let plain: Vec<f64> = multiples(a, b, nice_step(a, b, target)).into_iter().filter(|&v| v > 0.0).collect();
    let labels = format_distinct(&plain);
    Ticks { values: plain.iter().map(|v| v.log10()).collect(), labels }
}

/// Round durations in seconds for time axes, from a second to a year.
const TIME_STEPS: [f64; 22] = [
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0,
    21600.0, 43200.0, 86400.0, 172800.0, 604800.0, 2592000.0, 31536000.0,
];

/// About `target` ticks of an x axis over `[lo, hi]`.
pub fn x(lo: f64, hi: f64, axis: XAxis, target: usize) -> Ticks {
    match axis {
        XAxis::Step => {
            let values =
                multiples(lo, hi, nice_step(lo, hi, target).max(if hi - lo >= 10.0 { 1.0 } else { 0.0 }));
            let mut labels: Vec<String> = values.iter().map(|&v| step(v)).collect();
            if labels.windows(2).any(|w| w[0] == w[1]) {
                labels = format_distinct(&values);
            }
            Ticks { values, labels }
        }
        XAxis::Relative => {
            let values = multiples(lo, hi, time_step(lo, hi, target));
            Ticks { labels: values.iter().map(|&v| duration(v)).collect(), values }
        }
        XAxis::Wall => {
            let every = time_step(lo, hi, target);
            let values = multiples(lo, hi, every);
            let labels = values
                .iter()
                .map(|&v| if every >= 86400.0 { date(v) } else { clock(v, every < 60.0) })
                .collect();
            Ticks { values, labels }
        }
    }
}

/// The round duration whose ticks in `[lo, hi]` (seconds) come closest to `target` in number.
fn time_step(lo: f64, hi: f64, target: usize) -> f64 {
    let raw = (hi - lo) / target.max(1) as f64;
    if raw < 1.0 {
        return nice_step(lo, hi, target);
    }
    let year = TIME_STEPS[TIME_STEPS.len() - 1];
    if raw > year {
        return nice_step(lo / year, hi / year, target) * year;
    }
    closest(lo, hi, target, &TIME_STEPS).unwrap_or(raw)
}

/// `hh:mm` (UTC) of a unix time, or `hh:mm:ss`.
pub fn clock(t: f64, seconds: bool) -> String {
    if !t.is_finite() {
        return step(t);
    }
    let secs = t.rem_euclid(86_400.0).round() as u64 % 86_400;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if seconds {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}")
    }
}

/// The UTC date of a unix time, `YYYY-MM-DD`.
pub fn date(t: f64) -> String {
    if !t.is_finite() {
        return step(t);
    }
    let (y, m, d) = civil_from_days((t / 86_400.0).floor() as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (the well-known era arithmetic:
/// 400-year eras of 146097 days, years starting in March so the leap day comes last).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Beyond a few million years a date means nothing; the bound keeps the arithmetic in range.
    let z = days.clamp(-1_000_000_000, 1_000_000_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_and_told_apart() {
        let t = linear(0.0, 1.0, 5);
        assert_eq!(t.labels, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        let t = linear(0.13, 0.71, 5);
        assert_eq!(t.labels, ["0.2", "0.3", "0.4", "0.5", "0.6", "0.7"]);
        assert_eq!(linear(0.0, 0.8, 5).labels, ["0", "0.2", "0.4", "0.6", "0.8"]);
        let t = linear(1.00012, 1.00047, 4);
        assert!(t.labels.windows(2).all(|w| w[0] != w[1]), "{:?}", t.labels);
        assert_eq!(t.labels[0], "1.0002");
        let t = linear(-2500.0, 12000.0, 5);
        assert_eq!(t.labels, ["0", "5k", "10k"]);
        assert!(linear(f64::NAN, 1.0, 5).values.is_empty());
    }

    #[test]
    fn log_ticks_are_decades_or_round_values() {
        let t = log10(-4.2, 0.3, 6);
        assert_eq!(log10(-2.5, 0.3, 6).labels, ["0.01", "0.1", "1"]);
        assert_eq!(log10(-1.8, 0.08, 6).labels, ["0.02", "0.05", "0.1", "0.2", "0.5", "1"]);
        assert_eq!(t.values, [-4.0, -3.0, -2.0, -1.0, 0.0]);
        assert_eq!(t.labels, ["1e-4", "0.001", "0.01", "0.1", "1"]);
        let t = log10(-12.0, 12.0, 6);
        assert!(t.values.len() <= 7 && t.values.len() >= 4, "{:?}", t.values);
        let t = log10(0.015f64.log10(), 0.83f64.log10(), 5);
        assert_eq!(t.labels, ["0.02", "0.05", "0.1", "0.2", "0.5"]);
        let t = log10(0.2f64.log10(), 0.9f64.log10(), 5);
        assert_eq!(t.labels, ["0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"]);
        let t = log10(0.52f64.log10(), 0.58f64.log10(), 5);
        assert_eq!(t.labels, ["0.52", "0.54", "0.56", "0.58"]);
        assert!(t.values.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn x_ticks_read_as_steps_durations_and_clock_times() {
        assert_eq!(x(0.0, 1000.0, XAxis::Step, 5).labels, ["0", "200", "400", "600", "800", "1000"]);
        assert_eq!(x(1.0, 3.0, XAxis::Step, 5).labels, ["1", "1.5", "2", "2.5", "3"]);
        assert_eq!(x(0.0, 3600.0, XAxis::Relative, 5).labels, ["0s", "15m", "30m", "45m", "1h"]);
        let wall = x(1_700_000_000.0, 1_700_010_000.0, XAxis::Wall, 4);
        assert_eq!(wall.labels[..2], ["23:00", "00:00"]);
        assert!(wall.values.iter().all(|v| v % 3600.0 == 0.0));
        let short = x(1_700_000_000.0, 1_700_000_100.0, XAxis::Wall, 5);
        assert_eq!(short.labels[0], "22:13:30");
        let days = x(1_700_000_000.0, 1_700_000_000.0 + 10.0 * 86400.0, XAxis::Wall, 4);
        assert_eq!(days.labels[0], "2023-11-15");
    }

    #[test]
    fn dates_are_proleptic_gregorian() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(date(1_700_000_000.0), "2023-11-14");
        assert!(!date(1e300).is_empty() && !date(-1e300).is_empty());
        assert_eq!(clock(1_700_000_000.0, true), "22:13:20");
    }
}
