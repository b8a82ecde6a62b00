//! The text output of `tmon check`: aligned, compact, and safe for a terminal. Everything that
//! comes from a log (metric names, skipped lines, flag messages, paths) is sanitised, so a log
//! cannot move the cursor or change the terminal's colours; numbers, steps and counts are
//! written by [`crate::text`].

use super::report::{FlagRow, MetricRow, RunReport};
use crate::text::{count, elide_middle, fit, sanitize, step, value_table, width};
use std::fmt::Write as _;

/// Most metric rows printed per file: a log with a key per parameter (or a line of garbage keys)
/// can have millions, which no one reads in a terminal.
const METRICS_SHOWN: usize = 1000;
/// Longest text of a skipped line shown, in terminal cells.
const SKIPPED_TEXT_SHOWN: usize = 100;
/// Widest name column, in terminal cells: a longer metric name is elided in the middle, so one
/// huge key cannot pad every row of the table to its length.
pub const NAME_WIDTH_MAX: usize = 48;

/// Renders one run's report as text (ending with a newline): `tmon check` on one run.
pub fn render_run(r: &RunReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", sanitize(&r.path));
    o.push_str(&about(r));
    if r.metrics.is_empty() {
        let _ = writeln!(o, "  no metrics");
    } else {
        let _ = writeln!(o, "  metrics ({}):", count(r.metrics.len() as u64));
        let shown = r.metrics.len().min(METRICS_SHOWN);
        o.push_str(&metrics_table(&r.metrics[..shown]));
        if shown < r.metrics.len() {
            let more = count((r.metrics.len() - shown) as u64);
            let _ = writeln!(o, "    ... and {more} more (--json lists them all)");
        }
    }
    o.push_str(&summary(r));
    o.push_str(&families(r));
    o.push_str(&flags(r, &[]));
    o
}

/// One run's part after the table of many runs: its name and path, what was read, and its
/// flags, those found by comparing it with the other runs (`cross`) included. Its metrics are in
/// the table (and `--json`).
pub fn render_compact(r: &RunReport, cross: &[FlagRow]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}  {}", sanitize(&r.name), sanitize(&r.path));
    o.push_str(&about(r));
    o.push_str(&families(r));
    o.push_str(&flags(r, cross));
    o
}

/// The per-layer families, on one line: each with its layer count and its first and last layer
/// (`grad_norm (12 layers: layer0 … layer11)`).
fn families(r: &RunReport) -> String {
    if r.families.is_empty() {
        return String::new();
    }
    let each: Vec<String> = r
        .families
        .iter()
        .map(|f| {
            let ends = match f.layers.as_slice() {
                [] => String::new(),
                [a] => sanitize(a).into_owned(),
                [a, b] => format!("{}, {}", sanitize(a), sanitize(b)),
                [a, .., z] => format!("{} … {}", sanitize(a), sanitize(z)),
            };
            format!("{} ({} layers: {ends})", sanitize(&f.name), f.layers.len())
        })
        .collect();
    format!("  per-layer families ({}): {}\n", r.families.len(), each.join(", "))
}

/// The end-of-training summary: one value each, at the step training ended.
fn summary(r: &RunReport) -> String {
    let mut o = String::new();
    let Some(at) = r.summary.first().and_then(|m| m.last_step) else { return o };
    let _ = writeln!(o, "  end of training (step {}):", crate::text::step(at));
    let w = r.summary.iter().map(|m| sanitize(&m.name).chars().count()).max().unwrap_or(0);
    for m in &r.summary {
        let mut v = m.last.map_or_else(String::new, crate::text::value_table);
        if m.name.ends_with("_runtime") {
            // Seconds, as the trainer writes them.
            if let Some(x) = m.last.filter(|x| x.is_finite() && *x >= 60.0) {
                v = format!("{v} s ({})", crate::text::duration(x));
            }
        }
        let _ = writeln!(o, "    {:<w$}  {v}", sanitize(&m.name));
    }
    o
}

/// What was read: format, records, keys, the run's recorded name and config, what was not
/// drawn, unusable config files, skipped lines, the series cap.
fn about(r: &RunReport) -> String {
    let mut o = String::new();
    let skipped_word = if r.skipped_lines == 1 { "line" } else { "lines" };
    let duplicates = match r.duplicates {
        0 => String::new(),
        1 => ", 1 duplicate dropped".to_owned(),
        n => format!(", {} duplicates dropped", count(n)),
    };
    let _ = writeln!(
        o,
        "  format {}, {} records, {} skipped {skipped_word}{duplicates}",
        r.format,
        count(r.records),
        count(r.skipped_lines)
    );
    let step_key = match &r.step_key {
        Some(k) => sanitize(k).into_owned(),
        None => "none (record ordinal)".to_owned(),
    };
    let time_key = match &r.time_key {
        Some(k) => sanitize(k).into_owned(),
        None => "none".to_owned(),
    };
    let _ = writeln!(o, "  step key {step_key}, time key {time_key}");
    let n = r.config.len();
    let values = format!("{} config {}", count(n as u64), if n == 1 { "value" } else { "values" });
    if r.recorded_name.is_some() || r.status.is_some() {
        let name = r.recorded_name.as_deref().map_or_else(|| "unnamed".into(), sanitize);
        let status = r.status.as_deref().map(|s| format!(" ({})", sanitize(s))).unwrap_or_default();
        let _ = writeln!(o, "  run {name}{status}, {values}");
    } else if n > 0 {
        let _ = writeln!(o, "  {values}");
    }
    if let Some(m) = &r.model_line {
        let _ = writeln!(o, "  model {}", sanitize(m));
    }
    if !r.not_metrics.is_empty() {
        let kinds: Vec<String> = r.not_metrics.iter().map(|(k, n)| format!("{} {k}", count(*n))).collect();
        let _ = writeln!(o, "  not drawn: {}", kinds.join(", "));
    }

    if !r.histograms.is_empty() {
        let shown: Vec<String> =
            r.histograms.iter().take(3).map(|h| sanitize(&h.name).into_owned()).collect();
        let more = if r.histograms.len() > 3 {
            format!(", ... ({} in all)", r.histograms.len())
        } else {
            String::new()
        };
        let points: u64 = r.histograms.iter().map(|h| h.points).sum();
        let first = r.histograms.iter().filter_map(|h| h.first_step).fold(f64::INFINITY, f64::min);
        let last = r.histograms.iter().filter_map(|h| h.last_step).fold(f64::NEG_INFINITY, f64::max);
        let span =
            if first <= last { format!(", steps {} to {}", step(first), step(last)) } else { String::new() };
        let _ = writeln!(o, "  histograms: {}{more} ({} points{span})", shown.join(", "), count(points));
    }
    if r.malformed_histograms > 0 {
        let _ = writeln!(o, "  malformed histograms: {} (not kept)", count(r.malformed_histograms));
        for (line, name, why) in &r.malformed {
            let _ = writeln!(o, "    line {line}: {}: {}", fit(&sanitize(name), 60), sanitize(why));
        }
    }

    if !r.skipped.is_empty() {
        let shown = r.skipped.len() as u64;
        let head = if shown < r.skipped_lines {
            format!("  skipped lines (first {shown} of {}):", count(r.skipped_lines))
        } else {
            "  skipped lines:".to_owned()
        };
        let _ = writeln!(o, "{head}");
        for s in &r.skipped {
            let text = fit(&sanitize(&s.text), SKIPPED_TEXT_SHOWN);
            let _ = writeln!(o, "    line {}: {}: {}", s.line, sanitize(&s.reason), text);
        }
    }

    for p in &r.config_problems {
        let _ = writeln!(o, "  config file not used: {}", fit(&sanitize(p), SKIPPED_TEXT_SHOWN * 2));
    }
    if r.fields_dropped > 0 {
        let _ = writeln!(
            o,
            "  series cap reached: {} values of metrics beyond the first {} were not stored (raise the cap with \
             --max-series N)",
            count(r.fields_dropped),
            count(r.max_series as u64)
        );
    }
    o
}

/// The run's flags and `cross`, the flags found by comparing it with other runs.
fn flags(r: &RunReport, cross: &[FlagRow]) -> String {
    let mut o = String::new();
    if r.flags.is_empty() && r.flags_not_kept == 0 && cross.is_empty() {
        let _ = writeln!(o, "  no flags");
    } else {
        let all = r.flags.len() as u64 + r.flags_not_kept + cross.len() as u64;
        let _ = writeln!(o, "  flags ({}):", count(all));
        let rows: Vec<Vec<String>> = cross
            .iter()
            .chain(&r.flags)
            .map(|f| {
                vec![
                    f.severity.as_str().to_owned(),
                    f.kind.to_owned(),
                    if f.metric.is_empty() {
                        "-".to_owned()
                    } else {
                        elide_middle(&sanitize(&f.metric), NAME_WIDTH_MAX)
                    },
                    format!("step {}", step(f.step)),
                    sanitize(&f.message).into_owned(),
                ]
            })
            .collect();
        o.push_str(&table(&[], &rows, &[false, false, false, false, false]));
        for (sev, n) in ["info", "warning", "critical"].iter().zip(r.flags_not_kept_by) {
            if n > 0 {
                let _ = writeln!(
                    o,
                    "    ... and {} more {sev} flags were counted but not kept (at most {} of each severity are)",
                    count(n),
                    count(crate::analysis::FLAGS_KEPT as u64)
                );
            }
        }
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
                elide_middle(&sanitize(&m.name), NAME_WIDTH_MAX),
                count(m.points),
                count(m.nonfinite),
                opt(m.first_step, step),
                opt(m.last_step, step),
                opt(m.last, value_table),
                opt(m.min, value_table),
                opt(m.max, value_table),
                opt(m.smoothed_last, value_table),
            ]
        })
        .collect();
    let mut right = [true; 9];
    right[0] = false;
    table(&header, &rows, &right)
}

/// Lays out rows in columns two spaces apart, indented by four; `right` aligns numbers. Widths
/// are terminal cells.
pub fn table(header: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let cols = right.len();
    let width_of = width;
    let mut width = vec![0usize; cols];
    for (i, h) in header.iter().enumerate() {
        width[i] = width_of(h);
    }
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            width[i] = width[i].max(width_of(cell));
        }
    }
    let mut o = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::from("   ");
        for (i, cell) in cells.enumerate() {
            let pad = width[i].saturating_sub(width_of(cell));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let t = table(
            &["a", "n"],
            &[vec!["long".into(), "1".into()], vec!["x".into(), "100".into()]],
            &[false, true],
        );
        assert_eq!(t, "    a       n\n    long    1\n    x     100\n");
    }

    #[test]
    fn wide_characters_are_aligned_by_cells() {
        let t = table(
            &["n", "v"],
            &[vec!["損失".into(), "1".into()], vec!["loss".into(), "2".into()]],
            &[false, true],
        );
        assert_eq!(t, "    n     v\n    損失  1\n    loss  2\n");
    }
}
