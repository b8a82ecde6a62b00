//! The chart area: the selected chart alone, or a grid of charts around the selection.

use super::{fit, sanitize, Theme};
use crate::app::{App, Group, LayoutMode};
use crate::text::value;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph};
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
        render_one(frame, app, &groups[g], g == sel, cell);
    }
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
    for (i, &id) in g.members.iter().enumerate() {
        if i > 0 {
            title.push(Span::raw(" · "));
        }
        let s = store.series(id);
        title.push(Span::styled(sanitize(s.name()).into_owned(), t.series(i)));
        if let Some((_, y)) = s.last() {
            let style = if y.is_finite() { t.text() } else { t.nan() };
            title.push(Span::styled(format!(" {}", value(y)), style));
        }
    }
    title.push(Span::raw(" "));
    let budget = area.width.saturating_sub(4) as usize;
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
    let Some(data) = app.chart_data(&g.members, width as usize) else {
        frame.render_widget(block, area);
        return;
    };
    let v = &app.view;
    let mut notes = Vec::new();
    if v.log_y {
        notes.push("log");
    }
    if data.clipped {
        notes.push("clipped");
    }
    if data.no_time {
        notes.push("no time: step");
    }
    // On the frame, not in the plot: a note drawn inside the chart would cover its data.
    let block = if notes.is_empty() {
        block
    } else {
        block.title_bottom(
            Line::from(Span::styled(format!(" {} ", notes.join(" · ")), t.dim())).right_aligned(),
        )
    };
    frame.render_widget(block, area);

    let (raw_marker, line_marker, nan_marker, flag_marker) = if app.ascii {
        (Marker::Custom('.'), Marker::Custom('*'), Marker::Custom('x'), Marker::Custom('v'))
    } else {
        (Marker::Braille, Marker::Braille, Marker::Custom('×'), Marker::Custom('▼'))
    };
    let mut datasets = Vec::new();
    let smoothing = !data.smooth.is_empty();
    for (pts, &i) in data.raw.iter().zip(&data.raw_member) {
        let style = if smoothing { t.raw(i) } else { t.series(i) };
        let marker = if smoothing { raw_marker } else { line_marker };
        datasets.push(Dataset::default().data(pts).marker(marker).graph_type(GraphType::Line).style(style));
    }
    for (pts, &i) in data.smooth.iter().zip(&data.smooth_member) {
        datasets.push(
            Dataset::default().data(pts).marker(line_marker).graph_type(GraphType::Line).style(t.series(i)),
        );
    }
    datasets.push(
        Dataset::default().data(&data.nans).marker(nan_marker).graph_type(GraphType::Scatter).style(t.nan()),
    );
    for (sev, pts) in &data.flags {
        datasets.push(
            Dataset::default()
                .data(pts)
                .marker(flag_marker)
                .graph_type(GraphType::Scatter)
                .style(t.severity(*sev)),
        );
    }

    let x_axis = Axis::default()
        .bounds(data.x_bounds)
        .labels(data.x_labels.iter().map(|s| Span::styled(s.clone(), t.dim())).collect::<Vec<_>>())
        .style(t.dim());
    // Short charts get only the bottom and top labels.
    let keep = |i: usize| inner.height >= 6 || i != 1;
    let y_labels: Vec<Span> = data
        .y_labels
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, s)| Span::styled(s.clone(), t.dim()))
        .collect();
    let y_axis = Axis::default().bounds(data.y_bounds).labels(y_labels).style(t.dim());
    let chart = Chart::new(datasets).x_axis(x_axis).y_axis(y_axis).legend_position(None);
    frame.render_widget(chart, inner);
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
