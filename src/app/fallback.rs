//! Small stand-ins for helpers other modules are building (number formatting, chart reduction,
//! train/eval name pairing). Kept together so switching to the real ones is a few lines.
// TODO(lead): switch to numfmt/reduce after merge (crate::numfmt::format_value,
// crate::analysis::reduce::minmax_columns, crate::analysis::names pairing).

/// A number with about three significant digits: `1.2e-4`, `0.0312`, `2.31k`, `-7`.
pub fn format_value(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = x.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e15).contains(&a) {
        let s = format!("{x:.1e}");
        return s.replace(".0e", "e");
    }
    const SUFFIX: [(f64, &str); 4] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    for (scale, suffix) in SUFFIX {
        if a >= scale {
            return format!("{}{suffix}", three_digits(x / scale));
        }
    }
    three_digits(x)
}

fn three_digits(x: f64) -> String {
    let a = x.abs();
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        // 0.0312 -> 4 decimals: two leading zeros plus three digits
        (2 - a.log10().floor() as i32).clamp(0, 6) as usize
    };
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// One column being reduced: its index, its lowest point, its highest point.
type Column = (usize, (f64, f64), (f64, f64));

/// Reduces the points with x in `[x_lo, x_hi]` to at most two points per column (the min and the
/// max, in the order they came), so spikes survive and ratatui never sees millions of points.
/// Non-finite y values are skipped.
pub fn minmax_columns(xs: &[f64], ys: &[f64], x_lo: f64, x_hi: f64, columns: usize) -> Vec<(f64, f64)> {
    let columns = columns.max(1);
    let width = x_hi - x_lo;
    let scale = if width > 0.0 { columns as f64 / width } else { 0.0 };
    let mut out = Vec::with_capacity(columns * 2);
    let mut cur: Option<Column> = None;
    let flush = |c: Option<Column>, out: &mut Vec<(f64, f64)>| {
        if let Some((_, lo, hi)) = c {
            if lo == hi {
                out.push(lo);
            } else if lo.0 <= hi.0 {
                out.extend([lo, hi]);
            } else {
                out.extend([hi, lo]);
            }
        }
    };
    for (&x, &y) in xs.iter().zip(ys) {
        if !(x >= x_lo && x <= x_hi && y.is_finite()) {
            continue;
        }
        let col = ((x - x_lo) * scale) as usize;
        let col = col.min(columns - 1);
        match &mut cur {
            Some((c, lo, hi)) if *c == col => {
                if y < lo.1 {
                    *lo = (x, y);
                }
                if y > hi.1 {
                    *hi = (x, y);
                }
            }
            _ => {
                flush(cur.take(), &mut out);
                cur = Some((col, (x, y), (x, y)));
            }
        }
    }
    flush(cur, &mut out);
    out
}

const EVAL_WORDS: [&str; 5] = ["val", "eval", "valid", "validation", "test"];

/// Names a train series could have, given an evaluation series' name: `val_loss` -> `loss` or
/// `train_loss`; `eval/loss` -> `train/loss` or `loss`. Empty when `name` is not an eval name.
pub fn train_names_for(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in EVAL_WORDS {
        for sep in ['_', '/', '-'] {
            let prefix = format!("{w}{sep}");
            if let Some(base) = name.strip_prefix(&prefix) {
                out.push(base.to_owned());
                out.push(format!("train{sep}{base}"));
            }
            let infix = format!("/{w}{sep}");
            if let Some(pos) = name.find(&infix) {
                let (head, tail) = (&name[..pos], &name[pos + infix.len()..]);
                out.push(format!("{head}/{tail}"));
                out.push(format!("{head}/train{sep}{tail}"));
            }
            let suffix = format!("{sep}{w}");
            if let Some(base) = name.strip_suffix(&suffix) {
                out.push(base.to_owned());
                out.push(format!("{base}{sep}train"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_sensible_precision() {
        assert_eq!(format_value(1.2e-4), "1.2e-4");
        assert_eq!(format_value(0.0312), "0.0312");
        assert_eq!(format_value(2310.0), "2.31k");
        assert_eq!(format_value(0.5), "0.5");
        assert_eq!(format_value(-7.0), "-7");
        assert_eq!(format_value(123.4), "123");
        assert_eq!(format_value(2.5e6), "2.5M");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(0.0), "0");
    }

    #[test]
    fn reduction_keeps_spikes_and_bounds_the_point_count() {
        let xs: Vec<f64> = (0..1_000_000).map(|i| i as f64).collect();
        let mut ys = vec![1.0; xs.len()];
        ys[777_777] = 1e6;
        ys[5] = f64::NAN;
        let out = minmax_columns(&xs, &ys, 0.0, 999_999.0, 100);
        assert!(out.len() <= 200, "{}", out.len());
        assert!(out.iter().any(|p| p.1 == 1e6));
        assert!(out.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn eval_names_pair_with_train_names() {
        assert!(train_names_for("val_loss").contains(&"loss".to_owned()));
        assert!(train_names_for("eval/loss").contains(&"train/loss".to_owned()));
        assert!(train_names_for("loss").is_empty());
    }
}
