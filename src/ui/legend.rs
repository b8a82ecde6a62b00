//! The legend at the cursor of the single-chart view: what each series reads at the step under
//! the cursor. One run: every series of the chart, raw and smoothed. Comparing runs: each run
//! shown, sorted best first (the smallest value, or the largest where higher is better), each
//! against the baseline when one is pinned. Drawn in a box at the top of the plot, on the side
//! away from the cursor.

use super::{fit, sanitize, Theme};
use crate::analysis::names::higher_is_better;
use crate::app::{App, Group};
use crate::chart::XAxis;
use crate::text::{duration, step, value, width};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

/// One row: its cells and their styles.
type Row = Vec<(String, Style)>;

pub fn render(frame: &mut Frame, app: &App, g: &Group, plot: Rect, x_bounds: [f64; 2], points: usize) {
    let Some(x) = app.view.cursor else { return };
    if plot.width < 12 || plot.height < 3 {
        return;
    }
    let t = &Theme::of(app);
    let readings = app.readings(g, x, points);
    let mut rows: Vec<Row> = Vec::new();
    let at = header(app, x);
    if app.comparing() {
        rows.extend(run_rows(app, t, g, &readings));
    } else {
        rows.extend(series_rows(app, t, g, &readings));
    }
    if rows.is_empty() {
        rows.push(vec![("no data here".into(), t.dim())]);
    }
    // Columns aligned: each cell as wide as its column's widest.
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|(s, _)| width(s)).max().unwrap_or(0))
        .collect();
    let inner_w = widths.iter().sum::<usize>() + cols.saturating_sub(1);
    let box_w = (inner_w.max(width(&at)) + 2).min(plot.width as usize) as u16;
    let room = plot.height.saturating_sub(2) as usize;
    let more = rows.len().saturating_sub(room);
    let shown = if more > 0 { room.saturating_sub(1) } else { rows.len() };
    let mut lines: Vec<Line> = rows
        .iter()
        .take(shown)
        .map(|r| {
            let mut spans = Vec::new();
            for (c, (text, style)) in r.iter().enumerate() {
                if c > 0 {
                    spans.push(Span::raw(" "));
                }
                // Names left, numbers right.
                let w = widths[c];
                let cell = if c == 0 || (c == 1 && app.comparing()) {
                    format!("{text:<w$}")
                } else {
                    format!("{text:>w$}")
                };
                spans.push(Span::styled(cell, *style));
            }
            Line::from(spans)
        })
        .collect();
    if more > 0 {
        lines.push(Line::styled(format!("… {} more", rows.len() - shown), t.dim()));
    }
    let box_h = (lines.len() as u16 + 2).min(plot.height);
    // The side away from the cursor.
    let span = (x_bounds[1] - x_bounds[0]).max(f64::MIN_POSITIVE);
    let cursor_col = ((x - x_bounds[0]) / span * plot.width as f64) as u16;
    let left = cursor_col > plot.width / 2;
    let bx = if left { plot.x } else { plot.right().saturating_sub(box_w) };
    let rect = Rect { x: bx, y: plot.y, width: box_w, height: box_h };
    let title = fit(&format!(" {at} "), box_w.saturating_sub(2) as usize);
    let block = Block::default().borders(Borders::ALL).border_style(t.cursor()).title(title);
    let inner_w = box_w.saturating_sub(2) as usize;
    let lines: Vec<Line> = lines.into_iter().map(|l| clip(l, inner_w)).collect();
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// The x under the cursor, as the axis reads it: `step 1200`, `at 3m12s`, `at 14:03:10`.
fn header(app: &App, x: f64) -> String {
    if app.x_is_steps() {
        return format!("step {}", step(x.round()));
    }
    match app.view.x_axis {
        XAxis::Relative => format!("at {}", duration(x)),
        _ => {
            let secs = x.rem_euclid(86_400.0) as u64;
            format!("at {:02}:{:02}:{:02} UTC", secs / 3600, secs / 60 % 60, secs % 60)
        }
    }
}

/// One run: a row per series of the chart: its name, raw value and smoothed value.
fn series_rows(
    app: &App,
    t: &Theme,
    g: &Group,
    readings: &[(usize, Vec<Option<crate::chart::Reading>>)],
) -> Vec<Row> {
    let Some((_, got)) = readings.first() else { return Vec::new() };
    let smoothing = app.view.smoother().is_some();
    let mut rows = Vec::new();
    for (i, (name, r)) in g.names.iter().zip(got).enumerate() {
        let Some(r) = r else { continue };
        let mut row = vec![(sanitize(name).into_owned(), t.series(i))];
        if smoothing {
            // The smoothed value first (the line drawn bright), the raw one beside it.
            let sm = r.smooth.map_or_else(|| "-".to_owned(), value);
            row.push((sm, t.series(i)));
            row.push((format!("raw {}", value(r.raw)), if r.raw.is_finite() { t.dim() } else { t.nan() }));
        } else {
            row.push((value(r.raw), if r.raw.is_finite() { t.text() } else { t.nan() }));
        }
        if !app.x_is_steps() {
            row.push((format!("step {}", step(r.step)), t.dim()));
        }
        rows.push(row);
    }
    rows
}

/// Comparing runs: a row per run shown: its letter, name and value (smoothed when smoothing),
/// best first, and the difference from the baseline.
fn run_rows(
    app: &App,
    t: &Theme,
    g: &Group,
    readings: &[(usize, Vec<Option<crate::chart::Reading>>)],
) -> Vec<Row> {
    let metric = g.names.first().map_or("", String::as_str);
    let high = higher_is_better(metric) == Some(true);
    let pick = |r: &crate::chart::Reading| r.smooth.unwrap_or(r.raw);
    let mut got: Vec<(usize, f64)> =
        readings.iter().filter_map(|(i, r)| r.first().copied().flatten().map(|r| (*i, pick(&r)))).collect();
    got.sort_by(|a, b| {
        let (x, y) = if high { (b.1, a.1) } else { (a.1, b.1) };
        match (x.is_nan(), y.is_nan()) {
            (false, false) => x.total_cmp(&y),
            (a_nan, b_nan) => a_nan.cmp(&b_nan),
        }
    });
    let base = app.compare.baseline.and_then(|b| got.iter().find(|(i, _)| *i == b).map(|&(_, v)| v));
    got.into_iter()
        .map(|(i, v)| {
            let look = app.look(i);
            let colour = look.map_or(0, |l| l.colour);
            let letter = look.and_then(|l| l.letter).map_or(" ".to_owned(), |l| l.to_string());
            let mut style = t.run(colour);
            if i == app.current {
                style = style.add_modifier(ratatui::style::Modifier::BOLD);
            }
            let mut row = vec![
                (letter, style),
                (sanitize(app.run_name(i)).into_owned(), style),
                (value(v), if v.is_finite() { t.text() } else { t.nan() }),
            ];
            if let Some(b) = base {
                let d = if app.compare.baseline == Some(i) {
                    "base".to_owned()
                } else if b != 0.0 && b.is_finite() && v.is_finite() {
                    format!("{:+.1}%", (v - b) / b.abs() * 100.0)
                } else {
                    String::new()
                };
                row.push((d, t.dim()));
            }
            row
        })
        .collect()
}

/// A line cut to `w` cells.
fn clip(line: Line<'static>, w: usize) -> Line<'static> {
    let mut left = w;
    let mut out = Vec::new();
    for s in line.spans {
        let n = width(&s.content);
        if n <= left {
            left -= n;
            out.push(s);
        } else {
            if left > 0 {
                out.push(Span::styled(fit(&s.content, left), s.style));
            }
            break;
        }
    }
    Line::from(out)
}
