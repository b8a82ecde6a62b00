//! The distributions pane: a run's histograms over steps, as TensorBoard's distributions and
//! histograms tabs show them, in the terminal.
//!
//! - left, the histograms of the run (up and down choose one; a flagged one is marked);
//! - top, the selected histogram's percentile bands against the step (0-100, 7-93, 16-84, 31-69
//!   and the median, [`crate::analysis::dist::PERCENTILES`]), one column per step range, from the
//!   point nearest the column's middle;
//! - bottom, the histogram at the cursor's step (the newest without a cursor) as bars, with its
//!   percentiles. `[ ] { }` move the cursor a point or a tenth of the points.
//!
//! Bands are shade characters (` ░▒▓█`, `.:+#` with `--ascii`), so they read without colour
//! (`NO_COLOR`); colour only deepens them. Every name from the log is sanitised.

use super::{fit, sanitize, Theme};
use crate::analysis::dist::{percentiles, PERCENTILES};
use crate::app::App;
use crate::text::{step, value};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// Width of the y axis' labels.
const LABEL_W: u16 = 9;

/// The characters of the bands, outermost first, and of the median and the cursor.
struct Glyphs {
    bands: [char; 4],
    median: char,
    cursor: char,
    /// Eighths of a cell, for the bars (only full cells in ASCII).
    eighths: &'static [char],
}

const UNICODE: Glyphs = Glyphs {
    bands: ['░', '▒', '▓', '█'],
    median: '━',
    cursor: '│',
    eighths: &['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
};
const ASCII: Glyphs = Glyphs { bands: ['.', ':', '+', '#'], median: '=', cursor: '|', eighths: &['#'] };

/// Colours of the bands, outermost first (a blue that deepens towards the median).
const BAND_COLOURS: [Color; 4] =
    [Color::Indexed(24), Color::Indexed(25), Color::Indexed(32), Color::Indexed(39)];

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = Theme::of(app);
    let g = if app.ascii { &ASCII } else { &UNICODE };
    let Some(h) = app.dist_histogram() else {
        let block =
            Block::default().borders(Borders::ALL).border_style(theme.border(false)).title(" distributions ");
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(Paragraph::new("no histograms in this run"), inner);
        return;
    };
    let name = sanitize(h.name());
    let count = app.slot().map_or(0, |s| s.run().store.histograms().len());
    let at = app.view.dist.selected.min(count.saturating_sub(1)) + 1;
    // Up and down choose among the histograms, listed on the left when there is room.
    let title = format!(" distributions: {name} ({at}/{count}, {} steps) ", h.len());
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(fit(&title, area.width.saturating_sub(2) as usize), theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 20 || inner.height < 6 {
        return;
    }
    // The list of histograms.
    let list_w = if inner.width >= 60 { (inner.width / 4).clamp(14, 32) } else { 0 };
    if list_w > 0 {
        list(frame.buffer_mut(), app, Rect { width: list_w, ..inner }, &theme);
    }
    let right = Rect { x: inner.x + list_w, width: inner.width - list_w, ..inner };
    let bands_h = (right.height * 3 / 5).max(3);
    let top = Rect { height: bands_h, ..right };
    let bottom = Rect { y: right.y + bands_h, height: right.height - bands_h, ..right };
    let at = app.dist_point();
    bands(frame.buffer_mut(), app, top, g, &theme, at);
    if let Some(i) = at {
        bars(frame.buffer_mut(), app, bottom, g, &theme, i);
    }
}

/// The histograms of the run, the selected one reversed; `!` marks one a flag names.
fn list(buf: &mut Buffer, app: &App, area: Rect, theme: &Theme) {
    let Some(slot) = app.slot() else { return };
    let run = slot.run();
    let hs = run.store.histograms();
    let selected = app.view.dist.selected.min(hs.len().saturating_sub(1));
    let rows = area.height as usize;
    // Keep the selected row in view.
    let first = selected.saturating_sub(rows.saturating_sub(1));
    for (row, id) in (first..hs.len()).take(rows).enumerate() {
        let name = hs.name(id);
        let flag = run.flags().iter().filter(|f| f.metric == name).map(|f| f.severity).max();
        let mark = if flag.is_some() { "! " } else { "  " };
        let text = fit(&format!("{mark}{}", sanitize(name)), area.width.saturating_sub(1) as usize);
        let mut style = flag.map_or(theme.text(), |s| theme.severity(s));
        if id == selected {
            style = style.patch(theme.selected());
        }
        buf.set_string(area.x, area.y + row as u16, text, style);
    }
}

/// The percentile bands of the selected histogram against the step.
fn bands(buf: &mut Buffer, app: &App, area: Rect, g: &Glyphs, theme: &Theme, cursor: Option<usize>) {
    let Some(h) = app.dist_histogram() else { return };
    if h.is_empty() || area.width <= LABEL_W + 4 || area.height < 3 {
        return;
    }
    let plot = Rect { x: area.x + LABEL_W, y: area.y, width: area.width - LABEL_W, height: area.height - 1 };
    let n = h.len();
    let (s0, s1) = (h.step(0), h.step(n - 1));
    let cols = plot.width as usize;
    // The point nearest the middle of each column's step range.
    let col_point = |c: usize| -> usize {
        if n == 1 || s1 <= s0 {
            return n - 1;
        }
        let mid = s0 + (s1 - s0) * (c as f64 + 0.5) / cols as f64;
        let k = h.at_step(mid).unwrap_or(0);
        if k + 1 < n && (h.step(k + 1) - mid).abs() < (mid - h.step(k)).abs() {
            k + 1
        } else {
            k
        }
    };
    let mut columns: Vec<(usize, [f64; 9])> = Vec::with_capacity(cols);
    let mut last: Option<(usize, [f64; 9])> = None;
    for c in 0..cols {
        let k = col_point(c);
        let p = match last {
            Some((lk, p)) if lk == k => p,
            _ => {
                let pt = h.point(k);
                percentiles(&pt.edges, &pt.counts)
            }
        };
        last = Some((k, p));
        columns.push((k, p));
    }
    let lo = columns.iter().map(|c| c.1[0]).filter(|x| x.is_finite()).fold(f64::INFINITY, f64::min);
    let hi = columns.iter().map(|c| c.1[8]).filter(|x| x.is_finite()).fold(f64::NEG_INFINITY, f64::max);
    if lo > hi || lo.is_nan() || hi.is_nan() {
        return;
    }
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5, hi + 0.5) };
    let rows = plot.height as usize;
    // The row of value `v` (0 at the top).
    let row_of = |v: f64| -> usize {
        let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        ((1.0 - t) * (rows - 1) as f64).round() as usize
    };
    let cursor_col = cursor.and_then(|i| {
        app.view.dist.point?;
        (0..cols).find(|&c| columns[c].0 == i).or_else(|| {
            (s1 > s0).then(|| (((h.step(i) - s0) / (s1 - s0)) * (cols - 1) as f64).round() as usize)
        })
    });
    for (c, (_, p)) in columns.iter().enumerate() {
        let x = plot.x + c as u16;
        if !p[0].is_finite() {
            continue;
        }
        for (b, (&glyph, &colour)) in g.bands.iter().zip(&BAND_COLOURS).enumerate() {
            let (a, z) = (row_of(p[8 - b]), row_of(p[b]));
            let style = if theme.color { Style::new().fg(colour) } else { Style::new() };
            for r in a..=z {
                buf[(x, plot.y + r as u16)].set_char(glyph).set_style(style);
            }
        }
        let m = row_of(p[4]);
        let style = if theme.color { Style::new().fg(Color::White) } else { theme.title() };
        buf[(x, plot.y + m as u16)].set_char(g.median).set_style(style);
    }
    if let Some(c) = cursor_col.filter(|&c| c < cols) {
        let x = plot.x + c as u16;
        for r in 0..rows {
            let cell = &mut buf[(x, plot.y + r as u16)];
            if cell.symbol() == " " {
                cell.set_char(g.cursor).set_style(theme.cursor());
            }
        }
    }
    // The y axis: top, middle, bottom.
    for (v, r) in [(hi, 0), ((lo + hi) / 2.0, (rows - 1) / 2), (lo, rows - 1)] {
        let label = crate::text::fit_left(&value(v), LABEL_W as usize - 1);
        buf.set_string(area.x, plot.y + r as u16, label, theme.dim());
    }
    // The x axis: first and last step.
    let y = plot.y + plot.height;
    let first = format!("step {}", step(s0));
    let last = step(s1);
    buf.set_string(plot.x, y, fit(&first, cols), theme.dim());
    if last.len() + first.len() < cols {
        buf.set_string(plot.x + (cols - last.len()) as u16, y, &last, theme.dim());
    }
}

/// The histogram at point `i` as bars over its value range, with its step and percentiles.
fn bars(buf: &mut Buffer, app: &App, area: Rect, g: &Glyphs, theme: &Theme, i: usize) {
    let Some(h) = app.dist_histogram() else { return };
    if area.height < 3 || area.width <= LABEL_W + 4 {
        return;
    }
    let p = h.point(i);
    let pct = percentiles(&p.edges, &p.counts);
    let cursor = if app.view.dist.point.is_some() { "cursor" } else { "newest" };
    let head = format!(
        "{cursor}: step {}, {} values in [{}, {}]",
        step(p.step),
        crate::text::count(p.total.round() as u64),
        value(p.edges[0]),
        value(p.edges[p.edges.len() - 1])
    );
    buf.set_string(area.x + LABEL_W, area.y, fit(&head, (area.width - LABEL_W) as usize), theme.title());
    let readout: Vec<String> =
        [0usize, 2, 4, 6, 8].iter().map(|&k| format!("p{}={}", PERCENTILES[k], value(pct[k]))).collect();
    buf.set_string(
        area.x + LABEL_W,
        area.y + area.height - 1,
        fit(&readout.join("  "), (area.width - LABEL_W) as usize),
        theme.dim(),
    );
    let plot =
        Rect { x: area.x + LABEL_W, y: area.y + 1, width: area.width - LABEL_W, height: area.height - 2 };
    if plot.height == 0 {
        return;
    }
    // Each column: the counts of the bins whose middle falls in it, summed.
    let cols = plot.width as usize;
    let (lo, hi) = (p.edges[0], p.edges[p.edges.len() - 1]);
    let mut sums = vec![0.0f64; cols];
    for (k, &c) in p.counts.iter().enumerate() {
        let mid = (p.edges[k] + p.edges[k + 1]) / 2.0;
        let col = if hi > lo { (((mid - lo) / (hi - lo)) * cols as f64) as usize } else { cols / 2 };
        sums[col.min(cols - 1)] += c;
    }
    // With fewer bins than columns, a bin is as wide as its share of the columns.
    if p.counts.len() < cols && hi > lo {
        for (c, s) in sums.iter_mut().enumerate() {
            let x = lo + (hi - lo) * (c as f64 + 0.5) / cols as f64;
            let k = p.edges.partition_point(|&e| e <= x).clamp(1, p.counts.len()) - 1;
            *s = p.counts[k];
        }
    }
    let top = sums.iter().copied().fold(0.0, f64::max);
    buf.set_string(area.x, plot.y, crate::text::fit_left(&value(top), LABEL_W as usize - 1), theme.dim());
    buf.set_string(
        area.x,
        plot.y + plot.height - 1,
        crate::text::fit_left("0", LABEL_W as usize - 1),
        theme.dim(),
    );
    if top <= 0.0 {
        return;
    }
    let levels = g.eighths.len();
    let style = if theme.color { Style::new().fg(BAND_COLOURS[3]) } else { Style::new() };
    for (c, &s) in sums.iter().enumerate() {
        // In eighths (or whole cells), a non-empty bin at least one.
        let mut units = ((s / top) * (plot.height as usize * levels) as f64).round() as usize;
        if s > 0.0 {
            units = units.max(1);
        }
        let x = plot.x + c as u16;
        for r in 0..plot.height as usize {
            let from_bottom = r * levels;
            if units <= from_bottom {
                break;
            }
            let fill = (units - from_bottom).min(levels);
            let y = plot.y + plot.height - 1 - r as u16;
            buf[(x, y)].set_char(g.eighths[fill - 1]).set_style(style);
        }
    }
}
