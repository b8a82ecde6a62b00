//! Our own rasteriser for the charts' plots: every line and mark of a chart drawn into one grid of
//! cells, in order, then written to the buffer once.
//!
//! ratatui's `Chart` draws each dataset on a canvas layer of its own: a grid of the plot's size
//! allocated, filled, saved as another allocation, and every layer's cells walked at the end. A
//! grid of 12 charts overlaying 200 runs is 2,400 such layers a frame, most of a redraw's time.
//! Here a chart has one grid; a cell remembers which dataset last touched it, which gives the same
//! result as ratatui's layers: the last dataset that touches a cell sets its symbol and colour
//! (a later braille line does not add its dots to an earlier one's, it replaces them), and a cell
//! no dataset touches keeps what was under it.
//!
//! The buffer is the one ratatui's `Chart` draws, cell for cell: the axes and their labels are
//! still drawn by `Chart` (given no datasets), the plot lands in the area its layout gives the
//! graph, points map to dots by the same arithmetic (`Painter::get_point`), lines are clipped by
//! the same crate (`line-clipping`'s Cohen–Sutherland) and walked with the same Bresenham rule.
//! [`chart_ratatui`] draws the same chart through `Chart`'s datasets: the equivalence tests
//! (`tests/ui/raster.rs`) and the bench's A/B (`benches/overlay.rs`) compare the two.

use line_clipping::{cohen_sutherland, LineSegment, Point, Window};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::braille::BRAILLE;
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType};
use std::cell::Cell as Flag;

/// How a series' dots are drawn: braille (2x4 dots a cell) or one character a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Braille,
    Char(char),
}

impl Mark {
    fn marker(self) -> Marker {
        match self {
            Mark::Braille => Marker::Braille,
            Mark::Char(c) => Marker::Custom(c),
        }
    }
}

/// Whether a series joins its points (a line) or marks them alone (a scatter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Line,
    Scatter,
}

/// One dataset of a chart: its points, in data coordinates, drawn with its mark in its style's
/// foreground (as `Chart` does, only the foreground colour of the style is drawn).
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub points: &'a [(f64, f64)],
    pub mark: Mark,
    pub kind: Kind,
    pub style: Style,
}

/// A chart's axes: bounds, labels and the axes' style.
#[derive(Debug, Clone)]
pub struct Axes<'a> {
    pub x_bounds: [f64; 2],
    pub y_bounds: [f64; 2],
    pub x_labels: Vec<Span<'a>>,
    pub y_labels: Vec<Span<'a>>,
    pub style: Style,
}

thread_local! {
    static RATATUI: Flag<bool> = const { Flag::new(false) };
}

/// Draw this thread's charts through ratatui's `Chart` datasets (`true`) or our rasteriser (the
/// default). The frames are the same; the bench times both in one run.
pub fn use_ratatui(on: bool) {
    RATATUI.with(|f| f.set(on));
}

/// Draws the chart of `series` over `axes` in `area`: with our rasteriser, or through `Chart`'s
/// datasets when this thread asked for it (`use_ratatui`).
pub fn chart(buf: &mut Buffer, area: Rect, axes: Axes<'_>, series: &[Series<'_>]) {
    if RATATUI.with(Flag::get) {
        chart_ratatui(buf, area, axes, series);
    } else {
        chart_raster(buf, area, axes, series);
    }
}

fn axes_widget(axes: Axes<'_>) -> (Axis<'_>, Axis<'_>) {
    let x = Axis::default().bounds(axes.x_bounds).labels(axes.x_labels).style(axes.style);
    let y = Axis::default().bounds(axes.y_bounds).labels(axes.y_labels).style(axes.style);
    (x, y)
}

/// The chart drawn by ratatui's `Chart`, a dataset (a canvas layer) per series: the reference.
pub fn chart_ratatui(buf: &mut Buffer, area: Rect, axes: Axes<'_>, series: &[Series<'_>]) {
    use ratatui::widgets::Widget;
    let datasets: Vec<Dataset> = series
        .iter()
        .map(|s| {
            let kind = if s.kind == Kind::Line { GraphType::Line } else { GraphType::Scatter };
            Dataset::default().data(s.points).marker(s.mark.marker()).graph_type(kind).style(s.style)
        })
        .collect();
    let (x, y) = axes_widget(axes);
    Chart::new(datasets).x_axis(x).y_axis(y).legend_position(None).render(area, buf);
}

/// The chart with the axes and labels drawn by `Chart` (no datasets) and the plot by our grid.
pub fn chart_raster(buf: &mut Buffer, area: Rect, axes: Axes<'_>, series: &[Series<'_>]) {
    use ratatui::widgets::Widget;
    let Some(plot) = graph_area(area, &axes.x_labels, &axes.y_labels) else { return };
    let (xb, yb) = (axes.x_bounds, axes.y_bounds);
    let (x, y) = axes_widget(axes);
    Chart::new(Vec::new()).x_axis(x).y_axis(y).legend_position(None).render(area, buf);
    if plot.is_empty() {
        return;
    }
    let mut grid = Grid::new(plot.width, plot.height, xb, yb);
    for s in series {
        grid.draw(s);
    }
    grid.write(buf, plot);
}

/// Where `Chart`'s layout puts the graph inside `area` (no block, x labels aligned left, no axis
/// titles): the x labels and the x axis take the bottom two rows when there is room, the y labels
/// (or the part of the first x label left of the y axis) at most a third of the width, then the y
/// axis a column.
pub fn graph_area(area: Rect, x_labels: &[Span<'_>], y_labels: &[Span<'_>]) -> Option<Rect> {
    if area.height == 0 || area.width == 0 {
        return None;
    }
    let (has_x, has_y) = (!x_labels.is_empty(), !y_labels.is_empty());
    let mut x = area.left();
    let mut y = area.bottom() - 1;
    if has_x && y > area.top() {
        y -= 1;
    }
    let mut left = y_labels.iter().map(Span::width).max().unwrap_or(0) as u16;
    if let Some(first) = x_labels.first() {
        left = left.max((first.width() as u16).saturating_sub(u16::from(has_y)));
    }
    x += left.min(area.width / 3);
    if has_x && y > area.top() {
        y -= 1;
    }
    if has_y && x + 1 < area.right() {
        x += 1;
    }
    let width = area.right().saturating_sub(x);
    let height = y.saturating_sub(area.top()).saturating_add(1);
    Some(Rect::new(x, area.top(), width, height))
}

/// `v.round() as usize` for `v` not below zero (or NaN, which gives 0), without the call to libm's
/// `round` that `f64::round` is on a baseline x86-64 target: the whole part by truncation, plus one
/// when the fraction (exact below 2^53, zero above) is at least a half.
fn round(v: f64) -> usize {
    let whole = v as usize;
    if v - whole as f64 >= 0.5 {
        whole.saturating_add(1)
    } else {
        whole
    }
}

/// A cell of the grid: the dataset that last touched it (0: none), its dots when that dataset is
/// braille (0 for a character), its character and colour.
#[derive(Debug, Clone, Copy)]
struct Cell {
    layer: u32,
    dots: u8,
    ch: char,
    fg: Color,
}

const BLANK: Cell = Cell { layer: 0, dots: 0, ch: ' ', fg: Color::Reset };

/// One chart's plot: a cell a terminal cell, the dataset being drawn, and how data maps to dots.
struct Grid {
    width: usize,
    cells: Vec<Cell>,
    x_bounds: [f64; 2],
    y_bounds: [f64; 2],
    /// Dots across and down for the current mark (braille: 2x4 a cell).
    resolution: (f64, f64),
    layer: u32,
    mark: Mark,
    fg: Color,
}

impl Grid {
    fn new(width: u16, height: u16, x_bounds: [f64; 2], y_bounds: [f64; 2]) -> Grid {
        let cells = vec![BLANK; usize::from(width) * usize::from(height)];
        let (w, h) = (f64::from(width), f64::from(height));
        Grid {
            width: usize::from(width),
            cells,
            x_bounds,
            y_bounds,
            resolution: (w, h),
            layer: 0,
            mark: Mark::Char(' '),
            fg: Color::Reset,
        }
    }

    /// Draws one series as a layer of its own: its points, then (a line) the segments between them.
    fn draw(&mut self, s: &Series<'_>) {
        self.layer += 1;
        self.mark = s.mark;
        self.fg = s.style.fg.unwrap_or(Color::Reset);
        let cells = self.width as f64;
        let rows = (self.cells.len() / self.width.max(1)) as f64;
        self.resolution = match s.mark {
            Mark::Braille => (cells * 2.0, rows * 4.0),
            Mark::Char(_) => (cells, rows),
        };
        let [left, right] = self.x_bounds;
        let [bottom, top] = self.y_bounds;
        if right - left <= 0.0 || top - bottom <= 0.0 || s.points.is_empty() {
            // No point maps to a dot (nor does a clipped line's end).
            return;
        }
        match s.mark {
            Mark::Braille => self.draw_as::<true>(s),
            Mark::Char(_) => self.draw_as::<false>(s),
        }
    }

    /// `draw` with the mark known at compile time (braille or not): the dot loop's `paint` is
    /// the hot path of a frame.
    fn draw_as<const BRAILLE_DOTS: bool>(&mut self, s: &Series<'_>) {
        let mut prev: Option<(usize, usize)> = None;
        for (i, &(x, y)) in s.points.iter().enumerate() {
            let d = self.dot(x, y);
            if let Some((x, y)) = d {
                self.paint::<BRAILLE_DOTS>(x, y);
            }
            if s.kind == Kind::Line && i > 0 {
                match (prev, d) {
                    // Both ends inside the bounds: clipping keeps the segment as it is.
                    (Some(p), Some(q)) => self.bresenham::<BRAILLE_DOTS>(p, q),
                    _ => self.segment::<BRAILLE_DOTS>(s.points[i - 1], (x, y)),
                }
            }
            prev = d;
        }
    }

    /// The dot of a data point, or none outside the bounds (a NaN coordinate passes the bounds'
    /// test and lands on dot 0, as in ratatui's canvas).
    fn dot(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let [left, right] = self.x_bounds;
        let [bottom, top] = self.y_bounds;
        if x < left || x > right || y < bottom || y > top {
            return None;
        }
        let (width, height) = (right - left, top - bottom);
        if width <= 0.0 || height <= 0.0 {
            return None;
        }
        let x = round((x - left) * (self.resolution.0 - 1.0) / width);
        let y = round((top - y) * (self.resolution.1 - 1.0) / height);
        Some((x, y))
    }

    /// The segment from `a` to `b`, clipped to the bounds, drawn dot by dot.
    fn segment<const BRAILLE_DOTS: bool>(&mut self, a: (f64, f64), b: (f64, f64)) {
        let [xmin, xmax] = self.x_bounds;
        let [ymin, ymax] = self.y_bounds;
        let line = LineSegment::new(Point::new(a.0, a.1), Point::new(b.0, b.1));
        let Some(c) = cohen_sutherland::clip_line(line, Window::new(xmin, xmax, ymin, ymax)) else {
            return;
        };
        let (Some(p), Some(q)) = (self.dot(c.p1.x, c.p1.y), self.dot(c.p2.x, c.p2.y)) else {
            return;
        };
        self.bresenham::<BRAILLE_DOTS>(p, q);
    }

    /// The dots of the line from `p` to `q`: every dot along the longer axis, the other
    /// coordinate stepping when the error term turns positive, walked from the end with the
    /// smaller major coordinate (the dots are those of ratatui's canvas line).
    fn bresenham<const BRAILLE_DOTS: bool>(&mut self, p: (usize, usize), q: (usize, usize)) {
        let (dx, dy) = (p.0.abs_diff(q.0), p.1.abs_diff(q.1));
        if dx == 0 {
            for y in p.1.min(q.1)..=p.1.max(q.1) {
                self.paint::<BRAILLE_DOTS>(p.0, y);
            }
        } else if dy == 0 {
            for x in p.0.min(q.0)..=p.0.max(q.0) {
                self.paint::<BRAILLE_DOTS>(x, p.1);
            }
        } else if dy < dx {
            let (a, b) = if p.0 > q.0 { (q, p) } else { (p, q) };
            let (dx, dy) = (dx as isize, dy as isize);
            let mut err = 2 * dy - dx;
            let mut y = a.1;
            for x in a.0..=b.0 {
                self.paint::<BRAILLE_DOTS>(x, y);
                if err > 0 {
                    y = if a.1 > b.1 { y.saturating_sub(1) } else { y.saturating_add(1) };
                    err -= 2 * dx;
                }
                err += 2 * dy;
            }
        } else {
            let (a, b) = if p.1 > q.1 { (q, p) } else { (p, q) };
            let (dx, dy) = (dx as isize, dy as isize);
            let mut err = 2 * dx - dy;
            let mut x = a.0;
            for y in a.1..=b.1 {
                self.paint::<BRAILLE_DOTS>(x, y);
                if err > 0 {
                    x = if a.0 > b.0 { x.saturating_sub(1) } else { x.saturating_add(1) };
                    err -= 2 * dy;
                }
                err += 2 * dx;
            }
        }
    }

    /// One dot of the current layer: the cell takes this layer's mark and colour, dropping what an
    /// earlier layer drew there; braille dots of the same layer add up.
    fn paint<const BRAILLE_DOTS: bool>(&mut self, x: usize, y: usize) {
        let (layer, fg) = (self.layer, self.fg);
        if BRAILLE_DOTS {
            let i = (y / 4).saturating_mul(self.width).saturating_add(x / 2);
            if let Some(c) = self.cells.get_mut(i) {
                if c.layer != layer {
                    *c = Cell { layer, dots: 0, ch: ' ', fg };
                }
                c.dots |= 1 << ((x % 2) + 2 * (y % 4));
                c.fg = fg;
            }
        } else {
            let ch = match self.mark {
                Mark::Char(ch) => ch,
                Mark::Braille => ' ',
            };
            let i = y.saturating_mul(self.width).saturating_add(x);
            if let Some(c) = self.cells.get_mut(i) {
                *c = Cell { layer, dots: 0, ch, fg };
            }
        }
    }

    /// The touched cells written over `plot`: their symbol and foreground; the rest left as drawn.
    fn write(&self, buf: &mut Buffer, plot: Rect) {
        for (i, c) in self.cells.iter().enumerate() {
            if c.layer == 0 {
                continue;
            }
            let (x, y) = ((i % self.width) as u16 + plot.x, (i / self.width) as u16 + plot.y);
            let ch = if c.dots != 0 { BRAILLE[usize::from(c.dots)] } else { c.ch };
            buf[(x, y)].set_char(ch).set_fg(c.fg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::round;

    #[test]
    fn round_is_f64_round_for_every_value_a_dot_can_have() {
        let mut v = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            4503599627370495.5,
            1e300,
            f64::INFINITY,
            f64::NAN,
        ];
        v.extend((0..20_000).map(|i| f64::from(i) * 0.013_7));
        v.extend((0..2_000).map(|i| f64::from(i) + 0.5));
        v.extend((0..2_000).map(|i| (f64::from(i) + 0.5).next_down()));
        for x in v {
            assert_eq!(round(x), x.round() as usize, "{x:?}");
        }
    }
}
