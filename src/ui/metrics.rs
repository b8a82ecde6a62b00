//! The metric list: per series a sparkline of the whole run, the last value and the trend.

use super::{fit, sanitize, Theme};
use crate::app::{App, Focus};
use crate::store::SeriesView;
use crate::text::value;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

const SPARK_W: usize = 6;
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const BARS_ASCII: [char; 8] = ['_', '.', '-', '~', '=', '+', '*', '#'];

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = &Theme::of(app);
    // `check` counts series; a chart may draw two (a train metric and its eval partner), and
    // then the title says both numbers.
    let charts = app.groups().len();
    let series: usize = app.groups().iter().map(|g| g.members.len()).sum();
    let count = if series == charts { format!("{charts}") } else { format!("{series} in {charts} charts") };
    let title = match app.view.active_filter() {
        "" => format!(" metrics ({count}) "),
        f => format!(" metrics ({count}) /{} ", sanitize(f)),
    };
    let focused = app.view.focus == Focus::Metrics;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border(focused))
        .title(fit(&title, area.width.saturating_sub(2) as usize));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(slot) = app.slot() else { return };
    let store = &slot.run().store;
    let w = inner.width as usize;
    // name | sparkline | value | arrow
    // Seven cells hold the usual values (`-0.0312`, `2.31k`); a wider one (`-Infinity`,
    // `1.23e-45`) widens the column for every row, so the values stay aligned.
    // Comparing runs, a chart is a metric, read in the selected run (blank when it lacks it).
    let comparing = app.comparing();
    let series_of = |g: &crate::app::Group| -> Vec<Option<SeriesView<'_>>> {
        if comparing {
            g.names.iter().map(|n| store.find(n).map(|id| store.series(id))).collect()
        } else {
            g.members.iter().map(|&id| Some(store.series(id))).collect()
        }
    };
    let spark_style = |mi: usize| match app.look(app.current).filter(|_| comparing) {
        Some(l) => t.run(l.colour),
        None => t.series(mi),
    };
    let value_w = app
        .groups()
        .iter()
        .flat_map(&series_of)
        .filter_map(|s| s?.last())
        .map(|(_, y)| value(y).len())
        .fold(7, usize::max);
    let name_w = w.saturating_sub(2 + SPARK_W + 1 + value_w + 2).max(1);
    let mut lines: Vec<Line> = Vec::new();
    let mut selected_line = 0;
    for (gi, g) in app.groups().iter().enumerate() {
        let selected = gi == app.view.selected;
        if selected {
            selected_line = lines.len();
        }
        if let (Some(fi), false) = (g.family, g.layer) {
            // A per-layer family: one entry (Space lists its layers, Enter shows its heatmap).
            let Some(f) = app.families().get(fi) else { continue };
            let open = app.view.expanded.contains(&f.name);
            let sign = if open { "- " } else { "+ " };
            let marker = match (selected, app.ascii) {
                (true, true) => "> ",
                (true, false) => "▸ ",
                _ => "  ",
            };
            let text = format!("{sign}{} · {} layers · heatmap", sanitize(&f.name), f.layers.len());
            let mut line = Line::from(vec![
                Span::raw(marker),
                Span::styled(fit(&text, w.saturating_sub(2)), if selected { t.title() } else { t.text() }),
            ]);
            if selected && focused {
                line = line.style(t.selected());
            }
            lines.push(line);
            continue;
        }
        for (mi, (s, name)) in series_of(g).into_iter().zip(&g.names).enumerate() {
            let marker = match (selected, mi) {
                (true, 0) if app.ascii => "> ",
                (true, 0) => "▸ ",
                (_, 0) => "  ",
                _ if app.ascii => " +",
                _ => " └",
            };
            // A layer of an expanded family is indented under it; a name is cut in the middle, by
            // display width: the start says the group, the end the quantity.
            let name = if g.layer {
                // Under its family, a layer is named by its layer part (`fc0`, `layers.23`): the
                // family's entry above says the metric.
                let layer = g.family.and_then(|f| app.families().get(f)).and_then(|f| {
                    let id = g.members.get(mi)?;
                    f.layers.get(f.row_of(*id)?)
                });
                let name = layer.map_or(name.as_str(), String::as_str);
                let w = name_w.saturating_sub(2);
                format!("  {}", crate::text::pad(&super::elide(&sanitize(name), w), w))
            } else {
                crate::text::pad(&super::elide(&sanitize(name), name_w), name_w)
            };
            let (spark, has_nan) =
                s.as_ref().map_or_else(|| (" ".repeat(SPARK_W), false), |s| sparkline(s, app.ascii));
            let last = s.as_ref().and_then(|s| s.last()).map(|(_, y)| y);
            let value = last.map_or_else(String::new, value);
            let mut spans = vec![
                Span::raw(marker),
                Span::styled(name, if selected { t.title() } else { t.text() }),
                Span::raw(" "),
                Span::styled(spark, spark_style(mi)),
                Span::styled(
                    format!(" {value:>value_w$} "),
                    if last.is_some_and(|y| !y.is_finite()) { t.nan() } else { t.text() },
                ),
                Span::raw(s.as_ref().map_or(" ", |s| trend(s, app.ascii))),
            ];
            if has_nan {
                spans[3].style = t.nan();
            }
            let mut line = Line::from(spans);
            if selected && focused {
                line = line.style(t.selected());
            }
            lines.push(line);
        }
    }
    let summary = if app.view.active_filter().is_empty() {
        crate::analysis::summary::summary_ids(store)
    } else {
        Vec::new()
    };
    if !summary.is_empty() {
        // Scalars written once at the end of training: a value each, no chart (`tmon check`
        // lists them apart from its metrics too).
        lines.push(Line::styled(fit(" end of training", w), t.dim()));
        for id in summary {
            let s = store.series(id);
            let v = s.last().map_or_else(String::new, |(_, y)| value(y));
            let name_w = w.saturating_sub(2 + 1 + value_w + 2).max(1);
            let name = crate::text::pad(&super::elide(&sanitize(s.name()), name_w), name_w);
            lines.push(Line::from(vec![
                Span::raw("  "),
                Span::styled(name, t.text()),
                Span::styled(format!(" {v:>value_w$}"), t.text()),
            ]));
        }
    }
    if lines.is_empty() {
        let empty = if comparing {
            app.run_slots().all(|i| app.slots[i].run().store.records() == 0)
        } else {
            store.records() == 0
        };
        let msg = if empty { "no data yet" } else { "no metric matches the filter" };
        lines.push(Line::styled(msg, t.dim()));
    }
    let scroll = list_scroll(selected_line, inner.height);
    frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), inner);
}

/// The first line shown: the selected chart stays in view, with a line to spare below it.
fn list_scroll(selected_line: usize, height: u16) -> usize {
    selected_line.saturating_sub((height as usize).saturating_sub(2))
}

/// The chart whose metric is listed on row `y` of the list drawn in `area`.
pub(super) fn group_at(app: &App, area: Rect, y: u16) -> Option<usize> {
    let inner = Block::default().borders(Borders::ALL).inner(area);
    if y < inner.y || y >= inner.y + inner.height {
        return None;
    }
    // One line per member of each chart, as `render` lists them.
    let mut line_group = Vec::new();
    let mut selected_line = 0;
    for (gi, g) in app.groups().iter().enumerate() {
        if gi == app.view.selected {
            selected_line = line_group.len();
        }
        let lines = if g.family.is_some() && !g.layer { 1 } else { g.names.len() };
        line_group.extend(std::iter::repeat_n(gi, lines));
    }
    let line = list_scroll(selected_line, inner.height) + (y - inner.y) as usize;
    line_group.get(line).copied()
}

/// A sparkline of the whole series: each bar is the mean of up to 16 samples of its stretch.
/// Also says whether the series has a NaN or an Infinity anywhere.
fn sparkline(s: &SeriesView<'_>, ascii: bool) -> (String, bool) {
    let n = s.len();
    let bars = if ascii { BARS_ASCII } else { BARS };
    if n == 0 {
        return (" ".repeat(SPARK_W), false);
    }
    let buckets = SPARK_W.min(n);
    let means: Vec<Option<f64>> = (0..buckets)
        .map(|b| {
            let (a, z) = (b * n / buckets, ((b + 1) * n / buckets).max(b * n / buckets + 1));
            let step = ((z - a) / 16).max(1);
            let (sum, cnt) = (a..z)
                .step_by(step)
                .map(|i| s.value(i))
                .filter(|y| y.is_finite())
                .fold((0.0, 0usize), |(s, c), y| (s + y, c + 1));
            (cnt > 0).then(|| sum / cnt as f64)
        })
        .collect();
    let (lo, hi) =
        means.iter().flatten().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &y| (l.min(y), h.max(y)));
    let mut out: String = means
        .iter()
        .map(|m| match m {
            None => {
                if ascii {
                    'x'
                } else {
                    '×'
                }
            }
            Some(y) if hi > lo => bars[((((y - lo) / (hi - lo)) * 7.0).round() as usize).min(7)],
            Some(_) => bars[3],
        })
        .collect();
    while out.chars().count() < SPARK_W {
        out.insert(0, ' ');
    }
    (out, s.nonfinite() > 0)
}

/// ↑, ↓ or →: the mean of the newest points against the mean of the ones before.
fn trend(s: &SeriesView<'_>, ascii: bool) -> &'static str {
    let n = s.len();
    let k = (n / 4).min(50);
    let (up, down, flat) = if ascii { ("^", "v", "-") } else { ("↑", "↓", "→") };
    if k < 2 {
        return " ";
    }
    let mean = |r: std::ops::Range<usize>| {
        let (sum, c) =
            r.map(|i| s.value(i)).filter(|y| y.is_finite()).fold((0.0, 0), |(s, c), y| (s + y, c + 1));
        (c > 0).then(|| sum / c as f64)
    };
    match (mean(n - 2 * k..n - k), mean(n - k..n)) {
        (Some(a), Some(b)) if b > a + 0.01 * a.abs().max(1e-12) => up,
        (Some(a), Some(b)) if b < a - 0.01 * a.abs().max(1e-12) => down,
        (Some(_), Some(_)) => flat,
        _ => " ",
    }
}
