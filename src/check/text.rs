//! The text output of `tmon check`: aligned, compact, and safe for a terminal. Everything that
//! comes from a log (metric names, skipped lines, flag messages, paths) is sanitised, so a log
//! cannot move the cursor or change the terminal's colours.

use super::report::{MetricRow, RunReport};
use std::fmt::Write as _;

/// Most metric rows printed per file: a log with a key per parameter (or a line of garbage keys)
/// can have millions, which no one reads in a terminal.
const METRICS_SHOWN: usize = 1000;
/// Longest text of a skipped line shown, in characters.
const SKIPPED_TEXT_SHOWN: usize = 100;

/// Renders one run's report as text (ending with a newline).
pub fn render_run(r: &RunReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", sanitize(&r.path));
    let skipped_word = if r.skipped_lines == 1 { "line" } else { "lines" };
    let duplicates = match r.duplicates {
        0 => String::new(),
        1 => ", 1 duplicate dropped".to_owned(),
        n => format!(", {} duplicates dropped", group(n)),
    };
    let _ = writeln!(
        o,
        "  format {}, {} records, {} skipped {skipped_word}{duplicates}",
        r.format,
        group(r.records),
        group(r.skipped_lines)
    );
    let step_key = match &r.step_key {
        Some(k) => sanitize(k),
        None => "none (record ordinal)".to_owned(),
    };
    let time_key = match &r.time_key {
        Some(k) => sanitize(k),
        None => "none".to_owned(),
    };
    let _ = writeln!(o, "  step key {step_key}, time key {time_key}");

    if !r.skipped.is_empty() {
        let shown = r.skipped.len() as u64;
        let head = if shown < r.skipped_lines {
            format!("  skipped lines (first {shown} of {}):", group(r.skipped_lines))
        } else {
            "  skipped lines:".to_owned()
        };
        let _ = writeln!(o, "{head}");
        for s in &r.skipped {
            let text = truncate(&sanitize(&s.text), SKIPPED_TEXT_SHOWN);
            let _ = writeln!(o, "    line {}: {}: {}", s.line, sanitize(&s.reason), text);
        }
    }

    if r.metrics.is_empty() {
        let _ = writeln!(o, "  no metrics");
    } else {
        let _ = writeln!(o, "  metrics ({}):", group(r.metrics.len() as u64));
        let shown = r.metrics.len().min(METRICS_SHOWN);
        o.push_str(&metrics_table(&r.metrics[..shown]));
        if shown < r.metrics.len() {
            let more = group((r.metrics.len() - shown) as u64);
            let _ = writeln!(o, "    ... and {more} more (--json lists them all)");
        }
    }

    if r.flags.is_empty() {
        let _ = writeln!(o, "  no flags");
    } else {
        let _ = writeln!(o, "  flags ({}):", r.flags.len());
        let rows: Vec<Vec<String>> = r
            .flags
            .iter()
            .map(|f| {
                vec![
                    f.severity.as_str().to_owned(),
                    f.kind.to_owned(),
                    if f.metric.is_empty() { "-".to_owned() } else { sanitize(&f.metric) },
                    format!("step {}", step_text(f.step)),
                    sanitize(&f.message),
                ]
            })
            .collect();
        o.push_str(&table(&[], &rows, &[false, false, false, false, false]));
    }
    o
}

fn metrics_table(metrics: &[MetricRow]) -> String {
    let header = ["name", "points", "nonfinite", "first step", "last step", "last", "min", "max", "smoothed"];
    let opt = |x: Option<f64>, f: fn(f64) -> String| x.map(f).unwrap_or_else(|| "-".to_owned());
    let rows: Vec<Vec<String>> = metrics
        .iter()
        .map(|m| {
            vec![
                sanitize(&m.name),
                group(m.points),
                group(m.nonfinite),
                opt(m.first_step, step_text),
                opt(m.last_step, step_text),
                opt(m.last, compact),
                opt(m.min, compact),
                opt(m.max, compact),
                opt(m.smoothed_last, compact),
            ]
        })
        .collect();
    let mut right = [true; 9];
    right[0] = false;
    table(&header, &rows, &right)
}

/// Lays out rows in columns two spaces apart, indented by four; `right` aligns numbers.
fn table(header: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let cols = right.len();
    let mut width = vec![0usize; cols];
    for (i, h) in header.iter().enumerate() {
        width[i] = h.chars().count();
    }
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            width[i] = width[i].max(cell.chars().count());
        }
    }
    let mut o = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::from("   ");
        for (i, cell) in cells.enumerate() {
            let pad = width[i].saturating_sub(cell.chars().count());
            s.push(' ');
            if right[i] {
                s.extend(std::iter::repeat_n(' ', pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                if i + 1 < cols {
                    s.extend(std::iter::repeat_n(' ', pad));
                }
            }
            s.push(' ');
        }
        o.push_str(s.trim_end());
        o.push('\n');
    };
    if !header.is_empty() {
        line(&mut header.iter().copied());
    }
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    o
}

/// Replaces what a terminal would interpret: C0 and C1 controls, DEL, and the bidirectional
/// overrides that reorder text. Tabs become a space.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' => " ".to_owned(),
            c if c.is_control() => c.escape_default().to_string(),
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                c.escape_default().to_string()
            }
            c => c.to_string(),
        })
        .collect()
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Digits grouped by thousands: `1,048,576`.
fn group(n: u64) -> String {
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

/// A step: an integer when it is one, else a compact number.
pub fn step_text(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        compact(x)
    }
}

/// A value in at most five significant digits: `0.12346`, `1234.6`, `1.2346e-05`, `3e+09`.
pub fn compact(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    let mag = x.abs();
    if (1e-4..1e6).contains(&mag) {
        let decimals = (4 - mag.log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.decimals$}");
        trim_zeros(&s).to_owned()
    } else {
        let s = format!("{x:.4e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim_zeros(mantissa), exp.abs())
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact() {
        assert_eq!(compact(0.123456789), "0.12346");
        assert_eq!(compact(2.0), "2");
        assert_eq!(compact(1234.5678), "1234.6");
        assert_eq!(compact(-0.5), "-0.5");
        assert_eq!(compact(1.25e-5), "1.25e-05");
        assert_eq!(compact(3e9), "3e+09");
        assert_eq!(compact(f64::NAN), "NaN");
        assert_eq!(compact(f64::NEG_INFINITY), "-inf");
        assert_eq!(step_text(1000.0), "1000");
        assert_eq!(step_text(0.5), "0.5");
        assert_eq!(group(1234567), "1,234,567");
        assert_eq!(group(12), "12");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(sanitize("a\u{1b}[31mred\u{7}"), "a\\u{1b}[31mred\\u{7}");
        assert_eq!(sanitize("x\u{202e}y\tz"), "x\\u{202e}y z");
        assert_eq!(sanitize("loss/élan"), "loss/élan");
    }

    #[test]
    fn tables_align_columns() {
        let t = table(
            &["a", "n"],
            &[vec!["long".into(), "1".into()], vec!["x".into(), "100".into()]],
            &[false, true],
        );
        assert_eq!(t, "    a       n\n    long    1\n    x     100\n");
    }
}
