//! Numbers and durations written the way a person reads them in a flag message.

/// A value with about four significant digits: `59.7`, `0.107`, `3.1e-7`, `1.2e+26`, `NaN`.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{v:.2e}");
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A step: whole numbers without decimals.
pub fn step(s: f64) -> String {
    if s.fract() == 0.0 && s.abs() < 1e15 {
        format!("{s:.0}")
    } else {
        num(s)
    }
}

/// A ratio such as `3.2x` or `4000x`.
pub fn times(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}x")
    } else {
        format!("{r:.1}x")
    }
}

/// A duration: `0.25 s`, `42 s`, `30 min`, `3 h 5 min`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() {
        return "an unknown time".into();
    }
    if secs < 10.0 {
        format!("{} s", num(secs))
    } else if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 7200.0 {
        format!("{:.0} min", secs / 60.0)
    } else {
        let h = (secs / 3600.0).floor();
        format!("{h:.0} h {:.0} min", (secs - h * 3600.0) / 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_numbers() {
        assert_eq!(num(59.7), "59.7");
        assert_eq!(num(0.107), "0.107");
        assert_eq!(num(0.10714), "0.1071");
        assert_eq!(num(3.1e-7), "3.10e-7");
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(num(1234.6), "1235");
        assert_eq!(step(909.0), "909");
        assert_eq!(duration(1800.0), "30 min");
        assert_eq!(duration(0.2), "0.2 s");
        assert_eq!(times(4000.0), "4000x");
    }
}
