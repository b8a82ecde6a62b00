//! The chart area: the selected chart alone, or a grid of charts around the selection. Comparing
//! runs, each chart overlays the runs shown, each in its colour, the selected run on top, its
//! letter at the end of its line. In the single-chart view, a cursor reads the values at a step
//! (the legend: `legend`), with more ticks on the axes.

use super::raster::{Axes, Kind, Mark, Series};
use super::{fit, sanitize, Theme};
use crate::app::{App, Group, LayoutMode};
use crate::chart::OverlayData;
use crate::text::value;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// A grid cell should be at least this big to be readable.
const CELL_W: u16 = 24;
const CELL_H: u16 = 8;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let groups = app.groups();
    if groups.is_empty() {
        let msg = match app.slot() {
            Some(s) if s.loading.is_some() => "reading the log…",
            Some(s) if s.run().store.records() == 0 => "waiting for data…",
            Some(_) => "no metric matches the filter",
            None => "no log file found yet",
        };
        let t = Theme::of(app);
        let block = Block::default().borders(Borders::ALL).border_style(t.border(false));
        frame.render_widget(Paragraph::new(Line::styled(msg, t.dim())).block(block), area);
        return;
    }
    let sel = app.view.selected.min(groups.len() - 1);
    for (g, cell) in cells(app, area) {
        if app.comparing() {
            render_overlay(frame, app, &groups[g], g == sel, cell);
        } else {
            render_one(frame, app, &groups[g], g == sel, cell);
        }
    }
}

/// Whether the cursor is shown: the single-chart view, with a cursor placed.
fn cursor_on(app: &App) -> bool {
    app.view.layout == LayoutMode::Single && app.view.cursor.is_some()
}

/// Points across a chart whose plot is `inner` wide (braille draws two dots across a cell).
fn points_across(app: &App, inner: Rect) -> usize {
    (if app.ascii { inner.width } else { inner.width * 2 }) as usize
}

/// The axes' labels of a chart drawn in `inner`: those of its data, or with the cursor on, as many
/// as there is room for (a label every 12 cells across, every third row up).
fn axis_labels(
    app: &App,
    inner: Rect,
    x_bounds: [f64; 2],
    y_bounds: [f64; 2],
    x: &[String],
    y: &[String],
) -> (Vec<String>, Vec<String>) {
    // A chart shown from its last frame while its new view is computed keeps that frame's labels
    // (the new view's axis may be another).
    let computing = || app.selected_group().is_some_and(|g| app.computing(&g.members));
    if !cursor_on(app) || computing() {
        return (x.to_vec(), y.to_vec());
    }
    let rows = inner.height.saturating_sub(2) as usize;
    let ys = crate::chart::y_ticks(y_bounds[0], y_bounds[1], app.view.log_y, (rows / 3 + 1).clamp(3, 9));
    let y_w = ys.iter().map(|l| crate::text::width(l)).max().unwrap_or(0);
    let cols = (inner.width as usize).saturating_sub(y_w + 1);
    let axis = if app.x_is_steps() { crate::chart::XAxis::Step } else { app.view.x_axis };
    let xs = crate::chart::x_ticks(x_bounds[0], x_bounds[1], axis, (cols / 12 + 1).clamp(2, 9));
    (xs, ys)
}

/// Where ratatui's chart puts its plot inside `inner`, given its axis labels (as its layout does:
/// the labels left of the y axis, the first x label included, take at most a third of the width;
/// the x labels and the x axis take the bottom two rows).
fn plot_area(inner: Rect, x_labels: &[String], y_labels: &[String]) -> Rect {
    let y_w = y_labels.iter().map(|l| crate::text::width(l)).max().unwrap_or(0) as u16;
    let first_x = x_labels.first().map_or(0, |l| crate::text::width(l)) as u16;
    let left = y_w.max(first_x.saturating_sub(1)).min(inner.width / 3);
    let x = inner.x + left + 1;
    Rect { x, y: inner.y, width: inner.right().saturating_sub(x), height: inner.height.saturating_sub(2) }
}

/// The inner area of a chart's frame drawn in `area`.
fn inner_of(area: Rect) -> Rect {
    Block::default().borders(Borders::ALL).inner(area)
}

/// The column of the plot under `(x, y)` in the single-chart view drawn in `area`, and the plot's
/// width: where a click puts the cursor.
pub(super) fn plot_column(app: &App, area: Rect, x: u16, y: u16) -> Option<(u16, u16)> {
    if app.view.layout != LayoutMode::Single {
        return None;
    }
    let g = app.selected_group()?;
    let inner = inner_of(area);
    let width = points_across(app, inner);
    let (xb, yb, xl, yl) = if app.comparing() {
        let (_, d) = app.overlay_data(g, width)?;
        (d.x_bounds, d.y_bounds, d.x_labels.clone(), d.y_labels.clone())
    } else {
        let d = app.chart_data(&g.members, width)?;
        (d.x_bounds, d.y_bounds, d.x_labels.clone(), d.y_labels.clone())
    };
    let (xl, yl) = axis_labels(app, inner, xb, yb, &xl, &shown_y_labels(inner, &yl));
    let plot = plot_area(inner, &xl, &yl);
    let at = ratatui::layout::Position { x, y };
    plot.contains(at).then(|| (x - plot.x, plot.width))
}

/// The y labels a chart of `inner` shows: short charts get only the bottom and top labels.
fn shown_y_labels(inner: Rect, labels: &[String]) -> Vec<String> {
    let keep = |i: usize| inner.height >= 6 || i != 1;
    labels.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, s)| s.clone()).collect()
}

/// The charts on screen and where each is drawn: the selected one alone, or the page of the grid
/// that holds it.
pub(super) fn cells(app: &App, area: Rect) -> Vec<(usize, Rect)> {
    let groups = app.groups();
    if groups.is_empty() {
        return Vec::new();
    }
    let sel = app.view.selected.min(groups.len() - 1);
    if app.view.layout == LayoutMode::Single {
        return vec![(sel, area)];
    }
    let (max_cols, max_rows) =
        ((area.width / CELL_W).clamp(1, 4) as usize, (area.height / CELL_H).clamp(1, 4) as usize);
    // As square a grid as the charts allow: 4 charts are 2x2, not 4x1.
    let n = groups.len().min(max_cols * max_rows);
    let cols = max_cols.min((n as f64).sqrt().ceil() as usize).max(1);
    let rows = max_rows.min(n.div_ceil(cols)).max(1);
    let per_page = cols * rows;
    let first = sel / per_page * per_page;
    let shown = groups.len().min(first + per_page) - first;
    // Fewer charts than cells: use fewer rows so each is taller.
    let rows = shown.div_ceil(cols).max(1);
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(area);
    let mut out = Vec::with_capacity(shown);
    for (r, row_area) in row_areas.iter().enumerate() {
        let n = if r + 1 == rows { cols.min(shown - r * cols) } else { cols };
        let row = Layout::horizontal(vec![Constraint::Ratio(1, n.max(1) as u32); n.max(1)]).split(*row_area);
        out.extend((0..n).map(|c| (first + r * cols + c, row[c])));
    }
    out
}

fn render_one(frame: &mut Frame, app: &App, g: &Group, selected: bool, area: Rect) {
    let t = &Theme::of(app);
    let Some(slot) = app.slot() else { return };
    let store = &slot.run().store;
    let mut title: Vec<Span> = vec![Span::raw(" ")];
    let budget = area.width.saturating_sub(4) as usize;
    let names: Vec<String> =
        g.members.iter().map(|&id| sanitize(store.series(id).name()).into_owned()).collect();
    let lasts: Vec<Option<(f64, String)>> = g
        .members
        .iter()
        .map(|&id| store.series(id).last().map(|(_, y)| (y, format!(" {}", value(y)))))
        .collect();
    // Values stay whole; the names share what is left, each cut in the middle when it must be.
    let fixed =
        2 + 3 * names.len().saturating_sub(1) + lasts.iter().flatten().map(|l| l.1.len()).sum::<usize>();
    let rooms = name_rooms(&names, budget.saturating_sub(fixed));
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            title.push(Span::raw(" · "));
        }
        let last = lasts[i].clone();
        title.push(Span::styled(super::elide(name, rooms[i]), t.series(i)));
        if let Some((y, text)) = last {
            let style = if y.is_finite() { t.text() } else { t.nan() };
            title.push(Span::styled(text, style));
        }
    }
    title.push(Span::raw(" "));
    let title = clip_spans(title, budget);
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border(selected)).title(Line::from(title));
    let inner = block.inner(area);
    if inner.width < 4 || inner.height < 2 {
        frame.render_widget(block, area);
        return;
    }
    // Braille draws two dots across per cell.
    let width = if app.ascii { inner.width } else { inner.width * 2 };
    // A view change computed away from the loop: the last chart stays, marked, until it is in.
    let computing = app.computing(&g.members);
    let Some(data) = app.chart_data(&g.members, width as usize) else {
        let block = with_notes(block, false, false, false, computing, t);
        if computing {
            frame.render_widget(Paragraph::new(Line::styled(COMPUTING, t.dim())).block(block), area);
        } else {
            frame.render_widget(block, area);
        }
        return;
    };
    let v = &app.view;
    frame.render_widget(with_notes(block, v.log_y, data.clipped, data.no_time, computing, t), area);

    let (raw_marker, line_marker, nan_marker, flag_marker) = if app.ascii {
        (Mark::Char('.'), Mark::Char('*'), Mark::Char('x'), Mark::Char('v'))
    } else {
        (Mark::Braille, Mark::Braille, Mark::Char('×'), Mark::Char('▼'))
    };
    let mut datasets = Vec::new();
    let smoothing = !data.smooth.is_empty();
    for (pts, &i) in data.raw.iter().zip(&data.raw_member) {
        let style = if smoothing { t.raw(i) } else { t.series(i) };
        let marker = if smoothing { raw_marker } else { line_marker };
        datasets.push(Series { points: pts, mark: marker, kind: Kind::Line, style });
    }
    for (pts, &i) in data.smooth.iter().zip(&data.smooth_member) {
        datasets.push(Series { points: pts, mark: line_marker, kind: Kind::Line, style: t.series(i) });
    }
    datasets.push(Series { points: &data.nans, mark: nan_marker, kind: Kind::Scatter, style: t.nan() });
    for (sev, pts) in &data.flags {
        datasets.push(Series {
            points: pts,
            mark: flag_marker,
            kind: Kind::Scatter,
            style: t.severity(*sev),
        });
    }

    let cursor = cursor_line(app, data.x_bounds, data.y_bounds);
    if let Some(c) = &cursor {
        datasets.insert(0, cursor_dataset(app, t, c));
    }
    let (x_labels, y_labels) = axis_labels(
        app,
        inner,
        data.x_bounds,
        data.y_bounds,
        &data.x_labels,
        &shown_y_labels(inner, &data.y_labels),
    );
    let plot = plot_area(inner, &x_labels, &y_labels);
    draw_chart(frame, t, datasets, (data.x_bounds, data.y_bounds), (x_labels, y_labels), inner);
    clipped_marks(frame, app, t, data.x_bounds, [data.clipped_top, data.clipped_bottom], plot);
    if cursor.is_some() {
        super::legend::render(frame, app, g, plot, data.x_bounds, width as usize);
    }
}

/// The cells each of `names` gets out of `avail`: all it needs when they fit, else a fair share
/// (a short name gives what it does not use to the others), at least 4 each; where there is
/// less than 8 cells a name, the names whole (the title is then cut at its end).
fn name_rooms(names: &[String], avail: usize) -> Vec<usize> {
    let widths: Vec<usize> = names.iter().map(|n| crate::text::width(n)).collect();
    // Too little room for every name to say anything: whole, and the title is cut at its end.
    if widths.iter().sum::<usize>() <= avail || avail < 8 * names.len() {
        return widths;
    }
    let mut rooms = vec![0; names.len()];
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by_key(|&i| widths[i]);
    let mut left = avail;
    for (k, &i) in order.iter().enumerate() {
        let share = left / (names.len() - k);
        rooms[i] = widths[i].min(share).max(4);
        left = left.saturating_sub(rooms[i]);
    }
    rooms
}

/// The most extreme values that outlier-aware scaling clipped, written on the plot's top and
/// bottom rows beside their column (`↑70.5`, `↓-3.2`): the chart says how far the line went.
fn clipped_marks(
    frame: &mut Frame,
    app: &App,
    t: &Theme,
    xb: [f64; 2],
    marks: [Option<(f64, f64)>; 2],
    plot: Rect,
) {
    if plot.height < 2 || plot.width < 4 {
        return;
    }
    let arrows = if app.ascii { ['^', 'v'] } else { ['↑', '↓'] };
    let rows = [plot.y, plot.y + plot.height - 1];
    for ((mark, arrow), row) in marks.into_iter().zip(arrows).zip(rows) {
        let Some((x, v)) = mark else { continue };
        let text = format!("{arrow}{}", value(v));
        let w = crate::text::width(&text) as u16;
        if w + 1 > plot.width {
            continue;
        }
        let span = (xb[1] - xb[0]).max(f64::MIN_POSITIVE);
        let frac = ((x - xb[0]) / span).clamp(0.0, 1.0);
        let col = plot.x + (frac * f64::from(plot.width - 1)).round() as u16;
        // Beside the column, not on it: the line's own cell at the edge stays in sight.
        let start = if col + 1 + w <= plot.right() { col + 1 } else { col.saturating_sub(w).max(plot.x) };
        frame.buffer_mut().set_string(start, row, &text, t.severity(crate::analysis::Severity::Warning));
    }
}

/// The cursor's vertical line across a chart of these bounds, when it is on and inside the window.
fn cursor_line(app: &App, x_bounds: [f64; 2], y_bounds: [f64; 2]) -> Option<[(f64, f64); 2]> {
    let x = app.view.cursor.filter(|_| cursor_on(app))?;
    (x_bounds[0]..=x_bounds[1]).contains(&x).then_some([(x, y_bounds[0]), (x, y_bounds[1])])
}

fn cursor_dataset<'a>(app: &App, t: &Theme, line: &'a [(f64, f64); 2]) -> Series<'a> {
    let mark = if app.ascii { Mark::Char('|') } else { Mark::Braille };
    Series { points: line, mark, kind: Kind::Line, style: t.cursor() }
}

/// Draws the chart of `datasets` in `inner` with these bounds and labels.
fn draw_chart(
    frame: &mut Frame,
    t: &Theme,
    datasets: Vec<Series<'_>>,
    bounds: ([f64; 2], [f64; 2]),
    labels: (Vec<String>, Vec<String>),
    inner: Rect,
) {
    let span = |s: String| Span::styled(s, t.dim());
    let axes = Axes {
        x_bounds: bounds.0,
        y_bounds: bounds.1,
        x_labels: labels.0.into_iter().map(span).collect(),
        y_labels: labels.1.into_iter().map(span).collect(),
        style: t.dim(),
    };
    super::raster::chart(frame.buffer_mut(), inner, axes, &datasets);
}

/// A chart comparing runs: the selected chart's metric in every run shown, each in its colour.
fn render_overlay(frame: &mut Frame, app: &App, g: &Group, selected: bool, area: Rect) {
    let t = &Theme::of(app);
    let Some(metric) = g.names.first() else { return };
    let room = (area.width as usize).saturating_sub(4 + 12).max(6);
    let mut title: Vec<Span> =
        vec![Span::raw(" "), Span::styled(super::elide(&sanitize(metric), room), t.text())];
    // The selected run's last value, in its colour.
    let run = app.current;
    if let (Some(look), Some(store)) = (app.look(run), app.slot().map(|s| &s.run().store)) {
        if let Some((_, y)) = store.find(metric).and_then(|id| store.series(id).last()) {
            let letter = look.letter.map_or(String::new(), |l| format!("{l} "));
            let style = if y.is_finite() { t.run(look.colour) } else { t.nan() };
            title.push(Span::styled(format!("  {letter}{}", value(y)), style));
        }
    }
    title.push(Span::raw(" "));
    let title = clip_spans(title, area.width.saturating_sub(4) as usize);
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border(selected)).title(Line::from(title));
    let inner = block.inner(area);
    if inner.width < 4 || inner.height < 2 {
        frame.render_widget(block, area);
        return;
    }
    let width = points_across(app, inner);
    let Some((slots, data)) = app.overlay_data(g, width) else {
        frame.render_widget(block, area);
        return;
    };
    if slots.is_empty() {
        let msg = if app.shown_runs().is_empty() {
            "every run is hidden (H shows them)"
        } else {
            "no run shown logs this"
        };
        frame.render_widget(Paragraph::new(Line::styled(msg, t.dim())).block(block), area);
        return;
    }
    frame.render_widget(with_notes(block, app.view.log_y, data.clipped, data.no_time, false, t), area);
    let datasets = overlay_datasets(app, t, &slots, &data);
    let cursor = cursor_line(app, data.x_bounds, data.y_bounds);
    let mut all = Vec::with_capacity(datasets.len() + 1);
    if let Some(c) = &cursor {
        all.push(cursor_dataset(app, t, c));
    }
    all.extend(datasets);
    let (x_labels, y_labels) = axis_labels(
        app,
        inner,
        data.x_bounds,
        data.y_bounds,
        &data.x_labels,
        &shown_y_labels(inner, &data.y_labels),
    );
    let plot = plot_area(inner, &x_labels, &y_labels);
    draw_chart(frame, t, all, (data.x_bounds, data.y_bounds), (x_labels, y_labels), inner);
    if cursor.is_some() {
        super::legend::render(frame, app, g, plot, data.x_bounds, width);
    }
}

/// The datasets of an overlay, bottom to top: the raw lines (faint), the smoothed lines (the
/// selected run's last), the NaN marks and the flags worth a look (warnings and criticals) in
/// each run's colour, and each run's letter at the end of its line.
fn overlay_datasets<'a>(app: &App, t: &Theme, slots: &[usize], data: &'a OverlayData) -> Vec<Series<'a>> {
    let (line_marker, nan_marker, flag_marker) = if app.ascii {
        (Mark::Char('*'), Mark::Char('x'), Mark::Char('v'))
    } else {
        (Mark::Braille, Mark::Char('×'), Mark::Char('▼'))
    };
    let raw_marker = if app.ascii { Mark::Char('.') } else { Mark::Braille };
    let look = |i: usize| app.look(slots[i]).map_or((0, None), |l| (l.colour, l.letter));
    let strong = |i: usize, s: ratatui::style::Style| {
        if slots[i] == app.current {
            s.add_modifier(ratatui::style::Modifier::BOLD)
        } else {
            s
        }
    };
    let mut out = Vec::new();
    for (i, l) in data.layers.iter().enumerate() {
        let smoothing = !l.smooth.is_empty();
        for pts in &l.raw {
            let style = if smoothing { t.run_raw(look(i).0) } else { strong(i, t.run(look(i).0)) };
            let marker = if smoothing { raw_marker } else { line_marker };
            out.push(Series { points: pts, mark: marker, kind: Kind::Line, style });
        }
    }
    for (i, l) in data.layers.iter().enumerate() {
        for pts in &l.smooth {
            let style = strong(i, t.run(look(i).0));
            out.push(Series { points: pts, mark: line_marker, kind: Kind::Line, style });
        }
    }
    for (i, l) in data.layers.iter().enumerate() {
        let style = t.run(look(i).0).add_modifier(ratatui::style::Modifier::BOLD);
        if !l.nans.is_empty() {
            out.push(Series { points: &l.nans, mark: nan_marker, kind: Kind::Scatter, style });
        }
        for (sev, pts) in l.flags.iter().filter(|(s, _)| *s >= crate::analysis::Severity::Warning) {
            let _ = sev;
            out.push(Series { points: pts, mark: flag_marker, kind: Kind::Scatter, style });
        }
    }
    for (i, l) in data.layers.iter().enumerate() {
        let (colour, letter) = look(i);
        if let (Some(end), Some(letter)) = (l.end.as_ref(), letter) {
            let style = strong(i, t.run(colour)).add_modifier(ratatui::style::Modifier::BOLD);
            out.push(Series {
                points: std::slice::from_ref(end),
                mark: Mark::Char(letter),
                kind: Kind::Scatter,
                style,
            });
        }
    }
    out
}

/// Spans cut to `budget` terminal cells in total.
fn clip_spans(spans: Vec<Span<'static>>, budget: usize) -> Vec<Span<'static>> {
    let mut left = budget;
    let mut out = Vec::new();
    for s in spans {
        let n = crate::text::width(&s.content);
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
    out
}

/// The chart's frame with its notes (log y, clipped outliers, no time axis) at the bottom right:
/// on the frame, not in the plot, where a note would cover the data.
/// The mark of a chart whose new view is being computed away from the loop.
const COMPUTING: &str = "computing…";

fn with_notes<'a>(
    block: Block<'a>,
    log_y: bool,
    clipped: bool,
    no_time: bool,
    computing: bool,
    t: &Theme,
) -> Block<'a> {
    let notes: Vec<&str> =
        [(computing, COMPUTING), (log_y, "log"), (clipped, "clipped"), (no_time, "no time: step")]
            .into_iter()
            .filter_map(|(on, note)| on.then_some(note))
            .collect();
    if notes.is_empty() {
        return block;
    }
    block.title_bottom(Line::from(Span::styled(format!(" {} ", notes.join(" · ")), t.dim())).right_aligned())
}
