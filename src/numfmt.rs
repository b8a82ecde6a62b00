//! Numbers as a person reads them in a narrow terminal: axis labels, tables, steps and durations.
//!
//! Values keep three significant digits by default and switch to SI suffixes or exponents so they
//! stay within about six characters (ten at most, for `-1.23e-308`): `1.2e-4`, `0.0312`, `12.3`,
//! `2.31k`, `1.5M`, `-0.5`, `0`, `NaN`, `inf`, `-inf`. Rounding is done once, by Rust's exponent
//! formatting, and the digits are then placed, so `999.96` becomes `1k` rather than `1000`.
//! [`axis_labels`] adds digits only when ticks would otherwise read the same.

/// `value` with three significant digits (see the module docs).
pub fn format_value(x: f64) -> String {
    format_value_sig(x, 3)
}

/// Formats `values` (e.g. axis ticks) with the fewest significant digits, at least three, that
/// tell neighbours apart: `1.2341, 1.2345` give `1.2341, 1.2345`, not `1.23, 1.23`.
pub fn format_distinct(values: &[f64]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sig in 3..=17 {
        out = values.iter().map(|&v| format_value_sig(v, sig)).collect();
        let distinct = out.windows(2).zip(values.windows(2)).all(|(s, v)| s[0] != s[1] || v[0] == v[1]);
        if distinct {
            break;
        }
    }
    out
}

/// `count` labels evenly spaced from `lo` to `hi` inclusive (one label, `lo`, when `count` is 1),
/// formatted by [`format_distinct`].
pub fn axis_labels(lo: f64, hi: f64, count: usize) -> Vec<String> {
    let values: Vec<f64> = match count {
        0 => Vec::new(),
        1 => vec![lo],
        _ => (0..count).map(|i| lo + (hi - lo) * i as f64 / (count - 1) as f64).collect(),
    };
    format_distinct(&values)
}

/// SI suffixes by power of a thousand, from 10^3 to 10^12.
const SUFFIXES: [&str; 4] = ["k", "M", "G", "T"];

/// `x` with `sig` significant digits (1..=17), trailing zeros dropped: plain decimals from 0.001 up
/// to 999, `k`/`M`/`G`/`T` up to 10^15, exponents outside that.
pub fn format_value_sig(x: f64, sig: usize) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let sig = sig.clamp(1, 17);
    let sci = format!("{:.*e}", sig - 1, x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if x < 0.0 { "-" } else { "" };
    let body = if !(-3..15).contains(&exp) {
        format!("{}e{exp}", place(&digits, 1))
    } else if exp >= 3 {
        let unit = exp / 3;
        format!("{}{}", place(&digits, (exp - unit * 3 + 1) as usize), SUFFIXES[unit as usize - 1])
    } else if exp >= 0 {
        place(&digits, exp as usize + 1)
    } else {
        trim(&format!("0.{}{digits}", "0".repeat((-exp - 1) as usize)))
    };
    format!("{sign}{body}")
}

/// The digits with a decimal point after `int_len` of them (zero-padded if there are fewer),
/// trailing fractional zeros dropped.
fn place(digits: &str, int_len: usize) -> String {
    if digits.len() <= int_len {
        format!("{digits}{}", "0".repeat(int_len - digits.len()))
    } else {
        trim(&format!("{}.{}", &digits[..int_len], &digits[int_len..]))
    }
}

fn trim(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// A step: integers in full without `.0` (`123456`); fractional steps (epochs) with up to three
/// decimals (`1.5`); tiny or huge ones as [`format_value`].
pub fn format_step(x: f64) -> String {
    if !x.is_finite() {
        return format_value(x);
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    if x.abs() >= 0.001 && x.abs() < 1e15 {
        return trim(&format!("{x:.3}"));
    }
    format_value(x)
}

/// A step in at most about five characters: exact below 10000 (`9999`), then three significant
/// digits with a suffix (`12.5k`, `1.2M`).
pub fn format_step_compact(x: f64) -> String {
    if x.is_finite() && x.abs() >= 10_000.0 {
        format_value(x)
    } else {
        format_step(x)
    }
}

/// A duration in seconds, in the two largest units: `0s`, `250ms`, `45s`, `3m12s`, `2h05m`,
/// `1d03h`. Seconds are rounded, smaller units truncated. Negative durations get a `-`; NaN and
/// infinities read `NaN`, `inf`, `-inf`.
pub fn format_duration(secs: f64) -> String {
    if !secs.is_finite() {
        return format_value(secs);
    }
    if secs < 0.0 {
        return format!("-{}", format_duration(-secs));
    }
    if secs == 0.0 {
        return "0s".into();
    }
    let ms = (secs * 1000.0).round();
    if ms < 1000.0 {
        return format!("{ms}ms");
    }
    // `as` saturates: a absurd duration prints as a very large number of days, not a panic.
    let t = secs.round() as u64;
    match t {
        0..60 => format!("{t}s"),
        60..3600 => format!("{}m{:02}s", t / 60, t % 60),
        3600..86400 => format!("{}h{:02}m", t / 3600, t % 3600 / 60),
        _ => format!("{}d{:02}h", t / 86400, t % 86400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads a formatted value back, suffixes included.
    fn parse(s: &str) -> f64 {
        let (num, mult) = match s.chars().last() {
            Some('k') => (&s[..s.len() - 1], 1e3),
            Some('M') => (&s[..s.len() - 1], 1e6),
            Some('G') => (&s[..s.len() - 1], 1e9),
            Some('T') => (&s[..s.len() - 1], 1e12),
            _ => (s, 1.0),
        };
        num.parse::<f64>().unwrap() * mult
    }

    proptest! {
        /// Any finite value reads back within rounding to 3 significant digits, in at most 10
        /// characters.
        #[test]
        fn values_read_back(x in prop::num::f64::NORMAL | prop::num::f64::ZERO) {
            let s = format_value(x);
            prop_assert!(s.len() <= 10, "{}", s);
            let back = parse(&s);
            prop_assert!((back - x).abs() <= 5e-3 * x.abs(), "{} -> {} -> {}", x, s, back);
        }
    }

    #[test]
    fn values_fit_in_a_few_characters() {
        let cases = [
            (1.2e-4, "1.2e-4"),
            (0.0312, "0.0312"),
            (2310.0, "2.31k"),
            (1.5e6, "1.5M"),
            (12.3, "12.3"),
            (-0.5, "-0.5"),
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (100.0, "100"),
            (123.456, "123"),
            (0.001, "0.001"),
            (0.00099, "9.9e-4"),
            (999.96, "1k"),
            (999_960.0, "1M"),
            (12_345.0, "12.3k"),
            (123_456_789.0, "123M"),
            (2.5e9, "2.5G"),
            (7e12, "7T"),
            (1e15, "1e15"),
            (-3.21e20, "-3.21e20"),
            (1e-300, "1e-300"),
            (0.099999, "0.1"),
            (5e-324, "4.94e-324"),
            (f64::MAX, "1.8e308"),
        ];
        for (x, want) in cases {
            assert_eq!(format_value(x), want, "{x:e}");
            // At most sign, 3 digits, point, `e-`, 3 exponent digits.
            assert!(want.len() <= 10, "{want}");
        }
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::INFINITY), "inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn more_significant_digits_on_request() {
        assert_eq!(format_value_sig(1.23456, 5), "1.2346");
        assert_eq!(format_value_sig(2.3456e-2, 4), "0.02346");
        assert_eq!(format_value_sig(1234.5, 6), "1.2345k");
        assert_eq!(format_value_sig(1234.5, 0), "1k");
        assert_eq!(format_value_sig(0.1 + 0.2, 17), "0.30000000000000004");
    }

    #[test]
    fn axis_labels_tell_ticks_apart() {
        assert_eq!(axis_labels(0.0, 1.0, 3), ["0", "0.5", "1"]);
        assert_eq!(axis_labels(1.2341, 1.2349, 3), ["1.2341", "1.2345", "1.2349"]);
        assert_eq!(axis_labels(1000.0, 1001.0, 2), ["1k", "1.001k"]);
        assert_eq!(axis_labels(5.0, 5.0, 2), ["5", "5"]);
        assert_eq!(axis_labels(2.0, 9.0, 1), ["2"]);
        assert!(axis_labels(0.0, 1.0, 0).is_empty());
        assert_eq!(format_distinct(&[f64::NAN, 1.0]), ["NaN", "1"]);
    }

    #[test]
    fn steps() {
        assert_eq!(format_step(0.0), "0");
        assert_eq!(format_step(909.0), "909");
        assert_eq!(format_step(123_456.0), "123456");
        assert_eq!(format_step(-5.0), "-5");
        assert_eq!(format_step(1.5), "1.5");
        assert_eq!(format_step(2.0 / 3.0), "0.667");
        assert_eq!(format_step(1e-5), "1e-5");
        assert_eq!(format_step(1e20), "1e20");
        assert_eq!(format_step(f64::NAN), "NaN");
        assert_eq!(format_step_compact(9999.0), "9999");
        assert_eq!(format_step_compact(12_500.0), "12.5k");
        assert_eq!(format_step_compact(1_200_000.0), "1.2M");
        assert_eq!(format_step_compact(-20_000.0), "-20k");
    }

    #[test]
    fn durations() {
        let cases = [
            (0.0, "0s"),
            (0.25, "250ms"),
            (0.9996, "1s"),
            (45.0, "45s"),
            (59.6, "1m00s"),
            (192.0, "3m12s"),
            (7500.0, "2h05m"),
            (7559.0, "2h05m"),
            (97_200.0, "1d03h"),
            (86_400.0 * 400.0, "400d00h"),
            (-65.0, "-1m05s"),
        ];
        for (s, want) in cases {
            assert_eq!(format_duration(s), want, "{s}");
        }
        assert_eq!(format_duration(f64::NAN), "NaN");
        assert_eq!(format_duration(f64::INFINITY), "inf");
        assert!(format_duration(1e300).ends_with('h'));
    }
}
