//! The clock: turns a time field into seconds. Unix epochs (numbers), ISO 8601 strings and elapsed
//! durations (numbers of seconds, or Python's `str(timedelta)` such as "1 day, 0:08:23").

use crate::parse::Scalar;

/// What the detected time key measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockKind {
    /// Seconds since 1970 (from a number or an ISO 8601 string).
    Unix,
    /// Seconds since the run started.
    Elapsed,
}

/// Unix seconds are accepted between 2001-09-09 (1e9) and 5138 (1e11); milliseconds between 1e12
/// and 1e14 are divided by 1000. Anything else under a unix-looking name is not a clock.
pub fn unix_seconds(x: f64) -> Option<f64> {
    if (1e9..1e11).contains(&x) {
        Some(x)
    } else if (1e12..1e14).contains(&x) {
        Some(x / 1000.0)
    } else {
        None
    }
}

/// Seconds of a time field under the given clock kind; NaN when the value is not a time.
pub fn seconds(kind: ClockKind, v: &Scalar<'_>) -> f64 {
    match (kind, v) {
        (ClockKind::Unix, Scalar::Num(x)) => unix_seconds(*x).unwrap_or(f64::NAN),
        (ClockKind::Unix, Scalar::Str(s)) => parse_iso8601(s).unwrap_or(f64::NAN),
        (ClockKind::Elapsed, Scalar::Num(x)) if *x >= 0.0 => *x,
        (ClockKind::Elapsed, Scalar::Str(s)) => parse_timedelta(s).unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    s.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the usual era-based civil calendar sum).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DD[T ]HH:MM[:SS[.frac]][Z|±HH[:]MM]` into unix seconds. A date alone, or a
/// date written another way (Ray's "2018-11-11_13-34-14"), is not accepted: a clock needs a time
/// of day, and a guess at a foreign layout is worse than no clock. No zone means UTC.
pub fn parse_iso8601(s: &str) -> Option<f64> {
    let b = s.trim().as_bytes();
    let (y, mo, d) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (h, mi) = (digits(b, 11, 2)?, digits(b, 14, 2)?);
    if b.get(13) != Some(&b':') || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 {
        return None;
    }
    let mut i = 16;
    let mut sec = 0.0;
    if b.get(i) == Some(&b':') {
        sec = digits(b, i + 1, 2)? as f64;
        i += 3;
        if matches!(b.get(i), Some(b'.' | b',')) {
            let start = i + 1;
            let mut j = start;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            let frac = std::str::from_utf8(&b[start..j]).ok()?;
            if !frac.is_empty() {
                sec += format!("0.{frac}").parse::<f64>().ok()?;
            }
            i = j;
        }
    }
    let offset = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&c @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2)?;
            let rest = &b[i + 3..];
            let om = match rest {
                [] => 0,
                [b':', ..] if rest.len() == 3 => digits(rest, 1, 2)?,
                _ if rest.len() == 2 => digits(rest, 0, 2)?,
                _ => return None,
            };
            let off = oh * 3600 + om * 60;
            if c == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 - offset) as f64 + sec)
}

/// Parses Python's `str(timedelta)`: `[N day[s], ]H:MM:SS[.ffffff]`, possibly negative days.
pub fn parse_timedelta(s: &str) -> Option<f64> {
    let s = s.trim();
    let (days, clock) = match s.split_once(',') {
        Some((d, rest)) => {
            let mut it = d.split_whitespace();
            let n: f64 = it.next()?.parse().ok()?;
            if !matches!(it.next(), Some("day" | "days")) || it.next().is_some() {
                return None;
            }
            (n, rest.trim())
        }
        None => (0.0, s),
    };
    let mut parts = clock.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m = parts.next()?;
    let sec = parts.next()?;
    if parts.next().is_some() || m.len() != 2 || sec.len() < 2 {
        return None;
    }
    let m: u32 = m.parse().ok()?;
    let sec: f64 = sec.parse().ok()?;
    if m > 59 || !(0.0..60.0).contains(&sec) || !sec.is_finite() {
        return None;
    }
    Some(days * 86_400.0 + h as f64 * 3600.0 + m as f64 * 60.0 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_forms() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_iso8601("2018-11-11T13:34:14"), Some(1_541_943_254.0));
        assert_eq!(parse_iso8601("2018-11-11 13:34:14+01:00"), Some(1_541_943_254.0 - 3600.0));
        assert_eq!(parse_iso8601("2018-11-11T13:34:14.250-0030"), Some(1_541_943_254.25 + 1800.0));
        assert_eq!(parse_iso8601("2024-02-29T12:00"), Some(1_709_208_000.0));
        // Ray's `date`, a bare date, and garbage are not clocks.
        assert_eq!(parse_iso8601("2018-11-11_13-34-14"), None);
        assert_eq!(parse_iso8601("2018-11-11"), None);
        assert_eq!(parse_iso8601("2018-13-11T00:00:00"), None);
        assert_eq!(parse_iso8601("bbox/AP-date"), None);
    }

    #[test]
    fn timedelta_forms() {
        assert_eq!(parse_timedelta("0:02:12"), Some(132.0));
        assert_eq!(parse_timedelta("6:48:06"), Some(6.0 * 3600.0 + 48.0 * 60.0 + 6.0));
        assert_eq!(parse_timedelta("1 day, 0:08:23"), Some(86_400.0 + 503.0));
        assert_eq!(parse_timedelta("3 days, 23:59:59.5"), Some(3.0 * 86_400.0 + 86_399.5));
        assert_eq!(parse_timedelta("12:5:00"), None);
        assert_eq!(parse_timedelta("1 week, 0:00:00"), None);
        assert_eq!(parse_timedelta("0.5"), None);
    }

    #[test]
    fn unix_ranges() {
        assert_eq!(unix_seconds(1_541_979_254.0), Some(1_541_979_254.0));
        assert_eq!(unix_seconds(1_585_497_892_713.0), Some(1_585_497_892.713));
        assert_eq!(unix_seconds(0.31), None);
        assert_eq!(unix_seconds(4000.0), None);
    }
}
