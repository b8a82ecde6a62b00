//! Numbers, steps, durations, counts and ratios: the rules are in the module docs of [`super`].

/// Significant digits of a number in a cell of the monitor.
pub const SCREEN_DIGITS: usize = 3;
/// Significant digits of a number inside a sentence (flag messages).
pub const PROSE_DIGITS: usize = 4;
/// Significant digits of a number in `tmon check`'s table.
pub const TABLE_DIGITS: usize = 5;

/// `x` for a cell of the monitor: three significant digits (`0.0312`, `12.3`, `2.31k`).
pub fn value(x: f64) -> String {
    value_sig(x, SCREEN_DIGITS)
}

/// `x` inside a sentence: four significant digits (`0.1071`, `1235`, `12.35k`).
pub fn value_prose(x: f64) -> String {
    value_sig(x, PROSE_DIGITS)
}

/// `x` in a table read closely: five significant digits (`0.12346`, `1234.6`, `123.46k`).
pub fn value_table(x: f64) -> String {
    value_sig(x, TABLE_DIGITS)
}

/// Formats `values` (e.g. axis ticks) with the fewest significant digits, at least three, that
/// tell neighbours apart: `1.2341, 1.2345` give `1.2341, 1.2345`, not `1.23, 1.23`.
pub fn format_distinct(values: &[f64]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sig in SCREEN_DIGITS..=17 {
        out = values.iter().map(|&v| value_sig(v, sig)).collect();
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

/// `NaN`, `Infinity` or `-Infinity`, as Python and the logs write them (and JSON output, which
/// has no such numbers, writes them as strings); None for a finite `x`.
pub fn nonfinite(x: f64) -> Option<&'static str> {
    if x.is_nan() {
        Some("NaN")
    } else if x == f64::INFINITY {
        Some("Infinity")
    } else if x == f64::NEG_INFINITY {
        Some("-Infinity")
    } else {
        None
    }
}

/// `x` with `sig` significant digits (1..=17), trailing zeros dropped: plain while the integer
/// part fits in `sig` digits (and from 0.001 up), then `k`/`M`/`G`/`T` up to 10^15, exponents
/// outside that.
pub fn value_sig(x: f64, sig: usize) -> String {
    if let Some(s) = nonfinite(x) {
        return s.into();
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
    } else if exp >= 3 && exp >= sig as i32 {
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
/// decimals (`1.5`); tiny or huge ones as [`value`]; `NaN`, `Infinity`, `-Infinity`.
pub fn step(x: f64) -> String {
    if !x.is_finite() {
        return value(x);
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    if x.abs() >= 0.001 && x.abs() < 1e15 {
        return trim(&format!("{x:.3}"));
    }
    value(x)
}

/// A duration in seconds, in the two largest units, a zero second unit left out: `0s`, `250ms`,
/// `2.5s`, `45s`, `3m12s`, `12m`, `2h05m`, `2h`, `1d03h`. Below ten seconds one decimal is kept;
/// above, seconds are rounded and smaller units truncated. Negative durations get a `-`.
pub fn duration(secs: f64) -> String {
    if let Some(s) = nonfinite(secs) {
        return s.into();
    }
    if secs < 0.0 {
        return format!("-{}", duration(-secs));
    }
    if secs == 0.0 {
        return "0s".into();
    }
    let ms = (secs * 1000.0).round();
    if ms < 1000.0 {
        return format!("{ms}ms");
    }
    let tenths = (secs * 10.0).round();
    if tenths < 100.0 {
        return format!("{}s", trim(&format!("{:.1}", tenths / 10.0)));
    }
    // `as` saturates: an absurd duration prints as a very large number of days, not a panic.
    let t = secs.round() as u64;
    let two = |big: u64, big_unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big}{big_unit}")
        } else {
            format!("{big}{big_unit}{small:02}{small_unit}")
        }
    };
    match t {
        0..60 => format!("{t}s"),
        60..3600 => two(t / 60, "m", t % 60, "s"),
        3600..86400 => two(t / 3600, "h", t % 3600 / 60, "m"),
        _ => two(t / 86400, "d", t % 86400 / 3600, "h"),
    }
}

/// Digits grouped by thousands: `1,048,576`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut o = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(c);
    }
    o
}

/// A count in three significant digits with a K/M/B/T suffix: `590`, `9.47K`, `11.7M`, `124M`,
/// `1.50B` (parameter counts).
pub fn compact(n: u64) -> String {
    if n < 1000 {
        return n.to_string();
    }
    let units = [("K", 1e3), ("M", 1e6), ("B", 1e9), ("T", 1e12)];
    let x = n as f64;
    let (mut unit, mut scale) = units[0];
    for &(u, s) in &units {
        if x >= s {
            (unit, scale) = (u, s);
        }
    }
    let v = x / scale;
    // Rounding may carry into the next unit (999,950 -> 1000K): say 1.00M instead.
    let (v, unit) = match units.iter().position(|&(u, _)| u == unit) {
        Some(i) if format!("{v:.0}").len() > 3 && i + 1 < units.len() => (x / units[i + 1].1, units[i + 1].0),
        _ => (v, unit),
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$}{unit}")
}

/// A ratio: `3.2x` below a hundred, `4000x` above.
pub fn times(r: f64) -> String {
    if let Some(s) = nonfinite(r) {
        return format!("{s}x");
    }
    if r.abs() >= 100.0 {
        format!("{r:.0}x")
    } else {
        format!("{r:.1}x")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_counts_keep_three_digits() {
        assert_eq!(compact(590), "590");
        assert_eq!(compact(9472), "9.47K");
        assert_eq!(compact(11_689_512), "11.7M");
        assert_eq!(compact(124_439_808), "124M");
        assert_eq!(compact(999_950), "1.00M");
        assert_eq!(compact(1_500_000_000), "1.50B");
    }
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
        /// Any finite value reads back within rounding to its significant digits, in at most
        /// sig + 7 characters (sign, point, `e-`, three exponent digits).
        #[test]
        fn values_read_back(x in prop::num::f64::NORMAL | prop::num::f64::ZERO, sig in 3usize..=5) {
            let s = value_sig(x, sig);
            prop_assert!(s.len() <= sig + 7, "{}", s);
            let back = parse(&s);
            let tol = 0.5 * 10f64.powi(1 - sig as i32);
            prop_assert!((back - x).abs() <= tol * x.abs(), "{} -> {} -> {}", x, s, back);
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
            assert_eq!(value(x), want, "{x:e}");
            // At most sign, 3 digits, point, `e-`, 3 exponent digits.
            assert!(want.len() <= 10, "{want}");
        }
    }

    #[test]
    fn non_finite_values_are_spelled_as_python_spells_them() {
        for f in [value, value_prose, value_table, step, duration] {
            assert_eq!(f(f64::NAN), "NaN");
            assert_eq!(f(f64::INFINITY), "Infinity");
            assert_eq!(f(f64::NEG_INFINITY), "-Infinity");
        }
        assert_eq!(times(f64::INFINITY), "Infinityx");
    }

    #[test]
    fn digits_by_purpose() {
        // Prose: four digits.
        assert_eq!(value_prose(59.7), "59.7");
        assert_eq!(value_prose(0.10714), "0.1071");
        assert_eq!(value_prose(1234.6), "1235");
        assert_eq!(value_prose(12_346.0), "12.35k");
        assert_eq!(value_prose(3.1e-7), "3.1e-7");
        // Table: five digits.
        assert_eq!(value_table(0.123456789), "0.12346");
        assert_eq!(value_table(1234.5678), "1234.6");
        assert_eq!(value_table(12_345.6), "12346");
        assert_eq!(value_table(123_456.0), "123.46k");
        assert_eq!(value_table(1.25e-5), "1.25e-5");
        assert_eq!(value_table(3e9), "3G");
        assert_eq!(value_table(-0.5), "-0.5");
    }

    #[test]
    fn more_significant_digits_on_request() {
        assert_eq!(value_sig(1.23456, 5), "1.2346");
        assert_eq!(value_sig(2.3456e-2, 4), "0.02346");
        assert_eq!(value_sig(1234.5, 6), "1234.5");
        assert_eq!(value_sig(1_234_567.0, 6), "1.23457M");
        assert_eq!(value_sig(1234.5, 0), "1k");
        assert_eq!(value_sig(42.0, 1), "40");
        assert_eq!(value_sig(0.1 + 0.2, 17), "0.30000000000000004");
    }

    #[test]
    fn axis_labels_tell_ticks_apart() {
        assert_eq!(axis_labels(0.0, 1.0, 3), ["0", "0.5", "1"]);
        assert_eq!(axis_labels(1.2341, 1.2349, 3), ["1.2341", "1.2345", "1.2349"]);
        assert_eq!(axis_labels(1000.0, 1001.0, 2), ["1000", "1001"]);
        assert_eq!(axis_labels(5.0, 5.0, 2), ["5", "5"]);
        assert_eq!(axis_labels(2.0, 9.0, 1), ["2"]);
        assert!(axis_labels(0.0, 1.0, 0).is_empty());
        assert_eq!(format_distinct(&[f64::NAN, 1.0]), ["NaN", "1"]);
    }

    #[test]
    fn steps() {
        assert_eq!(step(0.0), "0");
        assert_eq!(step(909.0), "909");
        assert_eq!(step(123_456.0), "123456");
        assert_eq!(step(-5.0), "-5");
        assert_eq!(step(1.5), "1.5");
        assert_eq!(step(2.0 / 3.0), "0.667");
        assert_eq!(step(1e-5), "1e-5");
        assert_eq!(step(1e20), "1e20");
    }

    #[test]
    fn durations() {
        let cases = [
            (0.0, "0s"),
            (0.25, "250ms"),
            (0.9996, "1s"),
            (2.5, "2.5s"),
            (9.96, "10s"),
            (45.0, "45s"),
            (59.6, "1m"),
            (192.0, "3m12s"),
            (720.0, "12m"),
            (7500.0, "2h05m"),
            (7559.0, "2h05m"),
            (7200.0, "2h"),
            (97_200.0, "1d03h"),
            (86_400.0 * 400.0, "400d"),
            (-65.0, "-1m05s"),
        ];
        for (s, want) in cases {
            assert_eq!(duration(s), want, "{s}");
        }
        assert!(duration(1e300).contains('d'));
    }

    #[test]
    fn counts_and_ratios() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(count(0), "0");
        assert_eq!(times(3.24), "3.2x");
        assert_eq!(times(4000.0), "4000x");
    }
}
