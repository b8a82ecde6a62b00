//! The heatmap pane: a per-layer family (`crate::analysis::families`) with its layers on the y
//! axis (input at the top), the steps on the x axis and a colour per value, a colour bar with
//! its values, the layers flags point at marked, and a cursor that reads one cell.
//!
//! The cells come reduced from the app's memo (`crate::chart::heat`); drawing only maps them to
//! colours. In colour, a ramp from dark blue to yellow (256 colours, or five of the 16 basic
//! ones), two layers per text row (half blocks) when the family has more layers than rows; with
//! `NO_COLOR`, shade characters (` ░▒▓█`; ` .:+#` under `--ascii`), one layer per row. More layers than that
//! share a row, which shows the extreme of them, as a column does for its steps.

use super::{fit, sanitize, Theme};
use crate::analysis::Severity;
use crate::app::{App, Hit};
use crate::chart::{Cell, HeatData};
use crate::text::{step, value};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};
use ratatui::Frame;

/// The shades, lowest first.
pub const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];
/// The shades under `--ascii`, light to dark (the ASCII pass would turn every block shade into
/// one character and lose the scale).
pub const ASCII_SHADES: [char; 5] = [' ', '.', ':', '+', '#'];

/// Viridis at five points (dark blue, blue, teal, green, yellow), in RGB.
const RAMP: [(f64, f64, f64); 5] =
    [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (253.0, 231.0, 37.0)];
/// Five of the 16 basic colours in the same order.
const RAMP_16: [Color; 5] = [Color::Blue, Color::Cyan, Color::Green, Color::Yellow, Color::White];

/// How the pane is cut up.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    /// The layer names (with the mark column in front).
    labels: Rect,
    plot: Rect,
    bar: Rect,
    axis: Rect,
    readout: Rect,
}

/// Width of the colour bar: a space, the two-cell ramp, a space, and its values.
const BAR_W: u16 = 12;

fn geometry(app: &App, inner: Rect) -> Option<Geometry> {
    let f = app.heat_family()?;
    if inner.width < 20 || inner.height < 4 {
        return None;
    }
    let name_w = f.layers.iter().map(|l| sanitize(l).chars().count()).max().unwrap_or(1) as u16;
    let label_w = (name_w + 2).clamp(4, (inner.width / 4).max(4));
    let bar_w = if inner.width >= 40 { BAR_W } else { 0 };
    let plot_w = inner.width.saturating_sub(label_w + bar_w);
    let plot_h = inner.height - 2;
    let used = rows(app, f.ids.len(), plot_h as usize).len() as u16;
    // The colour bar as tall as the rows drawn (at least three, for its values).
    let bar_h = used.clamp(3.min(plot_h), plot_h);
    let at = |x, y, w, h| Rect { x, y, width: w, height: h };
    Some(Geometry {
        labels: at(inner.x, inner.y, label_w, plot_h),
        plot: at(inner.x + label_w, inner.y, plot_w, plot_h),
        bar: at(inner.x + label_w + plot_w, inner.y, bar_w, bar_h),
        axis: at(inner.x, inner.y + used.max(bar_h), inner.width, 1),
        readout: at(inner.x, inner.y + used.max(bar_h) + 1, inner.width, 1),
    })
}

fn block(app: &App) -> Block<'static> {
    let t = Theme::of(app);
    Block::default().borders(Borders::ALL).border_style(t.border(true))
}

/// The columns a heatmap drawn in `area` (the charts' place) has: the loop reduces that many
/// before drawing ([`App::warm_heatmap`]).
pub fn width(app: &App, area: Rect) -> Option<usize> {
    geometry(app, block(app).inner(area)).map(|g| g.plot.width as usize)
}

/// Where the heatmap drawn in `area` (the charts' place) puts its cells and its colour bar.
pub fn plot_and_bar(app: &App, area: Rect) -> Option<(Rect, Rect)> {
    geometry(app, block(app).inner(area)).map(|g| (g.plot, g.bar))
}

/// What a pointer at `(x, y)` is over in a heatmap drawn in `area` (the charts' place): a cell
/// (its layer and its column of the plot) or a layer's name. A text row that shows several
/// layers stands for the first of them, or for the cursor's layer when it is one of them.
pub fn hit(app: &App, area: Rect, x: u16, y: u16) -> Option<Hit> {
    let f = app.heat_family()?;
    let g = geometry(app, block(app).inner(area))?;
    let per_row = rows(app, f.ids.len(), g.plot.height as usize);
    let &(a, b, _) = per_row.get(y.checked_sub(g.plot.y)? as usize)?;
    let layer = if (a..b).contains(&app.view.heat_row) { app.view.heat_row } else { a };
    let at = ratatui::layout::Position { x, y };
    if g.labels.contains(at) {
        return Some(Hit::HeatLayer(layer));
    }
    g.plot.contains(at).then_some(Hit::HeatCell { layer, col: x - g.plot.x, of: g.plot.width })
}

/// The text rows of a heatmap of `n` layers in `height` rows: the layers each shows (one; two
/// in half blocks; or a share of them) and whether it is the first row of them (which names
/// them). A family with few layers gives each as many rows as fit.
fn rows(app: &App, n: usize, height: usize) -> Vec<(usize, usize, bool)> {
    if n == 0 || height == 0 {
        return Vec::new();
    }
    if n <= height {
        let k = (height / n).min(4);
        return (0..n).flat_map(|i| (0..k).map(move |r| (i, i + 1, r == 0))).collect();
    }
    if !shaded(app) && n <= 2 * height {
        return (0..n.div_ceil(2)).map(|i| (2 * i, (2 * i + 2).min(n), true)).collect();
    }
    (0..height).map(|r| (r * n / height, ((r + 1) * n / height).max(r * n / height + 1), true)).collect()
}

/// Whether the pane draws in shade characters.
fn shaded(app: &App) -> bool {
    !app.color || app.ascii
}

/// The style and character of a cell at `level` (0 to 1) in the colour ramp.
fn ramp_style(t: &Theme, level: f64) -> Color {
    if t.colors16 {
        return RAMP_16[((level * 4.0).round() as usize).min(4)];
    }
    let x = level.clamp(0.0, 1.0) * 4.0;
    let i = (x.floor() as usize).min(3);
    let f = x - i as f64;
    let (a, b) = (RAMP[i], RAMP[i + 1]);
    let mix = |p: f64, q: f64| p + (q - p) * f;
    let (r, g, bl) = (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2));
    // The nearest colour of the 6x6x6 cube of the 256-colour palette.
    let c = |v: f64| ((v / 255.0) * 5.0).round() as u8;
    Color::Indexed(16 + 36 * c(r) + 6 * c(g) + c(bl))
}

fn shade(app: &App, level: f64) -> char {
    let shades = if app.ascii { &ASCII_SHADES } else { &SHADES };
    shades[((level * 4.0).round() as usize).min(4)]
}

/// The level of the extreme of `cells` (the one farthest from the middle of the scale), or the
/// cell itself when the row holds one layer.
fn extreme(h: &HeatData, cells: &[Cell]) -> Cell {
    let mut best = Cell::Empty;
    let mut dist = -1.0;
    for &c in cells {
        match c {
            Cell::NonFinite => return Cell::NonFinite,
            Cell::Value(v) => {
                let d = (h.level(v) - 0.5).abs();
                if d > dist {
                    dist = d;
                    best = c;
                }
            }
            Cell::Empty => {}
        }
    }
    best
}

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = Theme::of(app);
    let Some(f) = app.heat_family() else { return };
    let inner = block(app).inner(area);
    let geo = geometry(app, inner);
    let data = geo.and_then(|g| app.heatmap_data(g.plot.width as usize));
    let scale = match data.as_deref() {
        Some(h) if h.log.is_some() => " · log colour scale",
        _ => "",
    };
    // A first build goes a slice a frame (`crate::chart::heat`): how far it got.
    let building = match data.as_deref().and_then(|h| h.progress) {
        Some((done, all)) => format!(" · summarising {}%", done * 100 / all.max(1)),
        None => String::new(),
    };
    let title = format!(" {} · {} layers{scale}{building} ", sanitize(&f.name), f.layers.len());
    let block = block(app).title(Span::styled(fit(&title, area.width.saturating_sub(4) as usize), t.title()));
    frame.render_widget(block, area);
    let (Some(g), Some(h)) = (geo, data) else {
        return;
    };
    let buf = frame.buffer_mut();
    let n = f.ids.len();
    let halves = !shaded(app) && n > g.plot.height as usize && n <= 2 * g.plot.height as usize;
    let per_row = rows(app, n, g.plot.height as usize);
    let marks = app.heat_marks();
    let cursor_col = app.view.cursor.and_then(|x| h.column_of(x));
    let cursor_row = app.view.heat_row.min(n.saturating_sub(1));
    let nan = t.nan();
    for (r, &(a, b, first)) in per_row.iter().enumerate() {
        let y = g.plot.y + r as u16;
        // The mark and the name of the row's first layer.
        let mark = marks.iter().filter(|m| (a..b).contains(&m.0)).map(|m| m.1).max();
        let (mark_ch, mark_style) = match mark {
            Some(s) => (if app.ascii { "*" } else { "●" }, t.severity(s)),
            None => (" ", t.text()),
        };
        if first {
            buf.set_string(g.labels.x, y, mark_ch, mark_style);
        }
        let name = if b - a > 1 && !halves {
            format!("{}…", sanitize(&f.layers[a]))
        } else {
            sanitize(&f.layers[a]).into_owned()
        };
        let on_cursor = app.view.cursor.is_some() && (a..b).contains(&cursor_row);
        let name_style = if on_cursor { t.title() } else { t.text() };
        let name_w = g.labels.width.saturating_sub(2) as usize;
        if first {
            buf.set_string(g.labels.x + 1, y, fit(&name, name_w), name_style);
        }
        for col in 0..g.plot.width as usize {
            let x = g.plot.x + col as u16;
            let cell_of = |lo: usize, hi: usize| {
                let cells: Vec<Cell> = (lo..hi).map(|l| h.cells[l][col]).collect();
                extreme(&h, &cells)
            };
            let cursor_here = on_cursor && cursor_col == Some(col);
            let (ch, mut style) = if halves {
                let top = cell_of(a, a + 1);
                let bottom = if b > a + 1 { cell_of(a + 1, b) } else { Cell::Empty };
                let colour = |c: Cell| match c {
                    Cell::Value(v) => Some(ramp_style(&t, h.level(v))),
                    Cell::NonFinite => Some(Color::Red),
                    Cell::Empty => None,
                };
                let mut s = Style::default();
                if let Some(c) = colour(top) {
                    s = s.fg(c);
                }
                if let Some(c) = colour(bottom) {
                    s = s.bg(c);
                }
                (if colour(top).is_some() { '▀' } else { ' ' }, s)
            } else {
                match cell_of(a, b) {
                    Cell::Empty => (' ', Style::default()),
                    Cell::NonFinite => (if app.ascii { 'x' } else { '×' }, nan),
                    Cell::Value(v) if shaded(app) => (shade(app, h.level(v)), t.text()),
                    Cell::Value(v) => ('█', Style::default().fg(ramp_style(&t, h.level(v)))),
                }
            };
            if cursor_here {
                style = style.add_modifier(Modifier::REVERSED);
            }
            set_char(buf, x, y, ch, style);
        }
    }
    colour_bar(buf, app, &t, &h, g.bar);
    axis(buf, app, &t, &h, &marks, cursor_col, g);
    readout(frame, app, &t, &h, g.readout, cursor_row);
}

fn set_char(buf: &mut Buffer, x: u16, y: u16, ch: char, style: Style) {
    if let Some(c) = buf.cell_mut((x, y)) {
        c.set_char(ch).set_style(style);
    }
}

/// The colour bar: the ramp top (highest) to bottom, its highest, middle and lowest values.
fn colour_bar(buf: &mut Buffer, app: &App, t: &Theme, h: &HeatData, bar: Rect) {
    if bar.width < 6 || bar.height == 0 {
        return;
    }
    let rows = bar.height as usize;
    let (lo, hi) = match (h.log, h.range) {
        (Some(l), _) => l,
        (None, Some(r)) => r,
        (None, None) => return,
    };
    let at = |level: f64| match h.log {
        Some(_) => 10f64.powf(lo.log10() + (hi.log10() - lo.log10()) * level),
        None => lo + (hi - lo) * level,
    };
    let label_w = bar.width.saturating_sub(4) as usize;
    for r in 0..rows {
        let level = if rows > 1 { 1.0 - r as f64 / (rows - 1) as f64 } else { 1.0 };
        let y = bar.y + r as u16;
        let (ch, style) = if shaded(app) {
            (shade(app, level), t.text())
        } else {
            ('█', Style::default().fg(ramp_style(t, level)))
        };
        set_char(buf, bar.x + 1, y, ch, style);
        set_char(buf, bar.x + 2, y, ch, style);
        let label = if r == 0 {
            Some(value(hi))
        } else if r + 1 == rows {
            // Values at or below 0 take the lowest colour of a log scale.
            Some(if h.log.is_some() && h.range.is_some_and(|(v, _)| v <= 0.0) {
                format!("≤{}", value(lo))
            } else {
                value(lo)
            })
        } else if r == rows / 2 && rows >= 5 {
            Some(value(at(level)))
        } else {
            None
        };
        if let Some(l) = label {
            buf.set_string(bar.x + 4, y, fit(&l, label_w), t.dim());
        }
    }
}

/// The step axis under the plot: the window's first and last step, a tick at each marked
/// layer's flag step, and the cursor's column.
fn axis(
    buf: &mut Buffer,
    app: &App,
    t: &Theme,
    h: &HeatData,
    marks: &[(usize, Severity, f64)],
    cursor_col: Option<usize>,
    g: Geometry,
) {
    let y = g.axis.y;
    let [lo, hi] = h.x_bounds;
    let left = step(lo.round());
    let right = step(hi.round());
    let w = g.plot.width as usize;
    buf.set_string(g.labels.x, y, fit("step", g.labels.width as usize), t.dim());
    if w > left.len() + right.len() + 1 {
        buf.set_string(g.plot.x, y, &left, t.dim());
        buf.set_string(g.plot.x + (w - right.len()) as u16, y, &right, t.dim());
    }
    for m in marks {
        if let Some(c) = h.column_of(m.2) {
            set_char(buf, g.plot.x + c as u16, y, if app.ascii { '^' } else { '▲' }, t.severity(m.1));
        }
    }
    if let Some(c) = cursor_col {
        set_char(buf, g.plot.x + c as u16, y, if app.ascii { '|' } else { '┴' }, t.title());
    }
}

/// What the cursor reads (the layer, the step, the value there), or what the keys do.
fn readout(frame: &mut Frame, app: &App, t: &Theme, h: &HeatData, area: Rect, row: usize) {
    let w = area.width as usize;
    let line = match (app.view.cursor, app.heat_family(), app.slot()) {
        (Some(x), Some(f), Some(slot)) => {
            let store = &slot.run().store;
            let id = f.ids[row];
            let s = store.series(id);
            // The point at the cursor's step (the first at or after it).
            let (mut i, mut hi) = (0, s.len());
            while i < hi {
                let m = (i + hi) / 2;
                if s.step(m) < x {
                    i = m + 1;
                } else {
                    hi = m;
                }
            }
            let reading = if i < s.len() {
                format!("{} · step {} · {}", sanitize(&f.layers[row]), step(s.step(i)), value(s.value(i)))
            } else {
                format!("{} · no point at or after step {}", sanitize(&f.layers[row]), step(x))
            };
            let _ = h;
            Line::from(vec![
                Span::styled(if app.ascii { "> " } else { "▸ " }, t.title()),
                Span::styled(fit(&reading, w.saturating_sub(2)), t.text()),
            ])
        }
        _ => Line::styled(fit("[ ] { } read a cell (↑/↓ its layer) · Esc back to the charts", w), t.dim()),
    };
    frame.render_widget(line, area);
}
