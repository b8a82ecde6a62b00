//! Drawing a [`Figure`] with plotters, as an SVG document or a PNG image, the same way on both
//! backends: white ground, light grid at the ticks, the raw series faint and the smoothed ones
//! bright (Tableau's ten colours), NaN/Infinity steps as × on the bottom edge, flags as ▼ on the
//! top edge in their severity's colour, and a legend in the corner the lines leave emptiest.
//!
//! A PNG is drawn at twice its size and scaled down (plotters' bitmap backend draws lines without
//! anti-aliasing; averaging 2x2 pixels smooths them), except for very large images.

use super::figure::{Figure, Geometry, Line, Panel};
use super::font::{self, FAMILY};
use super::ticks::Ticks;
use crate::analysis::Severity;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// Tableau's ten colours: told apart by most readers, colour-blind ones included, and in print.
const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];
const TEXT: RGBColor = RGBColor(40, 40, 40);
const NOTE: RGBColor = RGBColor(110, 110, 110);
const GRID: RGBColor = RGBColor(226, 226, 226);
const AXIS: RGBColor = RGBColor(90, 90, 90);
/// The colour of NaN/Infinity marks.
pub const NAN: RGBColor = RGBColor(198, 40, 40);
/// Above this many pixels a PNG is drawn at its own size (its buffer at twice the size would be
/// four times as big).
const SUPERSAMPLE_MAX_PIXELS: u64 = 4_000_000;

/// The colour of series `i`.
pub fn color(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

/// The faint colour of series `i`'s raw line behind its smoothed one: the colour mixed with the
/// white ground (opaque, so that a raw line crossing itself stays even).
pub fn faint(i: usize) -> RGBColor {
    let RGBColor(r, g, b) = color(i);
    let mix = |c: u8| 255 - ((255 - c as u32) * 40 / 100) as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

/// The colour of a flag of severity `s`.
pub fn severity(s: Severity) -> RGBColor {
    match s {
        Severity::Critical => RGBColor(198, 40, 40),
        Severity::Warning => RGBColor(230, 145, 0),
        Severity::Info => RGBColor(92, 107, 192),
    }
}

/// `fig` as an SVG document.
pub fn svg(fig: &Figure) -> Result<String, String> {
    font::ensure()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (fig.width, fig.height)).into_drawing_area();
        draw(&root, fig, 1)?;
        root.present().map_err(|e| e.to_string())?;
    }
    // Round joins: a reduced series zig-zags between each column's extremes, and mitred joins
    // would draw spikes beyond them.
    let style = "<style>polyline{stroke-linejoin:round;stroke-linecap:round}</style>\n";
    if let Some(end) = out.find(">\n") {
        out.insert_str(end + 2, style);
    }
    Ok(out)
}

/// `fig` as a PNG image (8-bit RGB) of its size.
pub fn png(fig: &Figure) -> Result<Vec<u8>, String> {
    font::ensure()?;
    let (w, h) = (fig.width, fig.height);
    let zoom = if (w as u64) * (h as u64) <= SUPERSAMPLE_MAX_PIXELS { 2 } else { 1 };
    let (bw, bh) = (w * zoom, h * zoom);
    let mut big = vec![255u8; bw as usize * bh as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut big, (bw, bh)).into_drawing_area();
        draw(&root, fig, zoom)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let pixels = if zoom == 1 { big } else { shrink(&big, bw as usize, bh as usize, zoom as usize) };
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// An RGB image `w` x `h` scaled down by `k`, each pixel the mean of a `k` x `k` block.
fn shrink(src: &[u8], w: usize, h: usize, k: usize) -> Vec<u8> {
    let (ow, oh) = (w / k, h / k);
    let mut out = vec![0u8; ow * oh * 3];
    for y in 0..oh {
        for x in 0..ow {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in 0..k {
                    let row = (y * k + dy) * w;
                    for dx in 0..k {
                        sum += src[(row + x * k + dx) * 3 + c] as u32;
                    }
                }
                out[(y * ow + x) * 3 + c] = ((sum + (k * k / 2) as u32) / (k * k) as u32) as u8;
            }
        }
    }
    out
}

/// Draws every chart of `fig` on `root`, which is `zoom` times the figure's size.
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &Figure, zoom: u32) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    for (i, panel) in fig.panels.iter().enumerate() {
        let (x, y, w, h) = fig.cell(i);
        let area = root.clone().shrink((x * zoom, y * zoom), (w * zoom, h * zoom));
        let geo = Geometry::new((w, h), zoom as f64);
        draw_panel(&area, panel, &geo)
            .map_err(|e| format!("cannot draw the chart of {}: {e}", panel.title))?;
    }
    Ok(())
}

/// An axis of the chart: the plotted range and its ticks.
#[derive(Clone)]
struct Axis {
    range: Range<f64>,
    ticks: Ticks,
}

impl Ranged for Axis {
    type ValueType = f64;
    type FormatOption = NoDefaultFormatting;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        if span <= 0.0 || !span.is_finite() {
            return (limit.0 + limit.1) / 2;
        }
        let f = ((v - self.range.start) / span).clamp(-1.0, 2.0);
        limit.0 + ((limit.1 - limit.0) as f64 * f).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, _hint: H) -> Vec<f64> {
        self.ticks.values.iter().copied().filter(|v| self.range.contains(v) || *v == self.range.end).collect()
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, v: &f64) -> String {
        let i = self.ticks.values.iter().position(|t| t == v);
        i.and_then(|i| self.ticks.labels.get(i)).cloned().unwrap_or_else(|| crate::text::value(*v))
    }
}

type Res = Result<(), Box<dyn std::error::Error>>;

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel, geo: &Geometry) -> Res
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let px = |v: f64| (v * geo.scale).round().max(1.0) as u32;
    header(area, p, geo, w)?;
    let (_, body) = area.split_vertically(geo.header + geo.margin);
    let y_area = geo.y_area(&p.y_ticks.labels);
    let x = Axis { range: p.x_bounds[0]..p.x_bounds[1], ticks: p.x_ticks.clone() };
    let y = Axis { range: p.y_bounds[0]..p.y_bounds[1], ticks: p.y_ticks.clone() };
    let mut chart = ChartBuilder::on(&body)
        .margin_left(geo.margin)
        .margin_right(geo.margin + geo.right_pad)
        .margin_bottom(geo.margin)
        .x_label_area_size(geo.x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, y)?;
    let tick_font = (FAMILY, geo.tick_px).into_font().color(&TEXT);
    chart
        .configure_mesh()
        .x_labels(p.x_ticks.values.len().max(2))
        .y_labels(p.y_ticks.values.len().max(2))
        .bold_line_style(GRID.stroke_width(px(1.0)))
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS.stroke_width(px(1.0)))
        .set_all_tick_mark_size(px(5.0))
        .label_style(tick_font.clone())
        .axis_desc_style(tick_font)
        .x_desc(p.x_desc.clone())
        .draw()?;
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    // The frame's top and right sides (the mesh draws the axes on the left and bottom).
    let ((x0, x1), (y0, y1)) = ((p.x_bounds[0], p.x_bounds[1]), (p.y_bounds[0], p.y_bounds[1]));
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(x0, y1), (x1, y1), (x1, y0)],
        AXIS.stroke_width(px(1.0)),
    )))?;

    let raw_width = if p.smoothed { px(1.0) } else { px(1.6) };
    for line in &p.lines {
        let style = if p.smoothed { faint(line.color) } else { color(line.color) }.stroke_width(raw_width);
        for part in &line.raw {
            series(&mut chart, part, style, line.dashed && !p.smoothed, geo, None)?;
        }
    }
    let mut empty = true;
    for line in &p.lines {
        let style = color(line.color).stroke_width(px(2.0));
        let parts = if p.smoothed { &line.smooth } else { &line.raw };
        for (j, part) in parts.iter().enumerate() {
            empty &= part.is_empty();
            let label = (j == 0).then_some(line.label.as_str());
            series(&mut chart, part, style, line.dashed, geo, label)?;
        }
    }
    if empty && p.lines.iter().all(|l| l.raw.iter().all(Vec::is_empty)) {
        let style = (FAMILY, geo.note_px).into_font().color(&NOTE).pos(Pos::new(HPos::Center, VPos::Center));
        let mid = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        chart.draw_series(std::iter::once(Text::new("no data in this window", mid, style)))?;
    }

    // NaN/Infinity on the bottom edge, flags on the top edge, as the terminal marks them: one mark
    // where several would overlap.
    let mark = px(5.0) as i32;
    let apart = |xs: &[f64]| spread(xs, p.x_bounds, pw, 2.5 * mark as f64);
    if !p.nans.is_empty() {
        let style = NAN.stroke_width(px(1.6));
        let cross =
            move |(x, y): (i32, i32)| EmptyElement::at((x, y)) + Cross::new((0, 0), mark as u32, style);
        chart
            .draw_series(
                apart(&p.nans)
                    .into_iter()
                    .map(|x| EmptyElement::at((x, y0)) + Cross::new((0, -mark - 2), mark as u32, style)),
            )?
            .label("NaN / Infinity")
            .legend(cross);
    }
    for (sev, xs) in p.flags.iter().rev() {
        let fill = severity(*sev).filled();
        let tri = move |(x, y): (i32, i32)| {
            EmptyElement::at((x, y)) + Polygon::new(vec![(-mark, -mark), (mark, -mark), (0, mark)], fill)
        };
        chart
            .draw_series(apart(xs).into_iter().map(|x| {
                EmptyElement::at((x, y1)) + Polygon::new(vec![(-mark, 1), (mark, 1), (0, 2 * mark + 1)], fill)
            }))?
            .label(format!("{sev} flag"))
            .legend(tri);
    }

    let entries = p.lines.len() + usize::from(!p.nans.is_empty()) + p.flags.len();
    let labels = p.lines.iter().map(|l| l.label.as_str()).chain(p.flags.iter().map(|_| "warning flag"));
    let legend_w = labels.map(|l| font::text_width(l, geo.legend_px)).max().unwrap_or(0) + px(60.0);
    let legend_h = entries as u32 * (geo.legend_px * 1.35) as u32 + px(12.0);
    chart
        .configure_series_labels()
        .position(legend_corner(p, (pw, ph), (legend_w, legend_h)))
        .margin(px(10.0))
        .legend_area_size(px(30.0))
        .label_font((FAMILY, geo.legend_px).into_font().color(&TEXT))
        .background_style(WHITE.mix(0.88))
        .border_style(GRID.stroke_width(px(1.0)))
        .draw()?;
    Ok(())
}

/// Draws one part of a line, dashed or not, with a legend entry when `label` is given.
fn series<'c, DB: DrawingBackend + 'c>(
    chart: &mut ChartContext<'c, DB, Cartesian2d<Axis, Axis>>,
    points: &[(f64, f64)],
    style: ShapeStyle,
    dashed: bool,
    geo: &Geometry,
    label: Option<&str>,
) -> Res
where
    DB::ErrorType: 'static,
{
    let pts = points.iter().copied();
    let (dash, gap) = (((7.0 * geo.scale) as i32).max(2), ((4.0 * geo.scale) as i32).max(1));
    let anno = if dashed {
        chart.draw_series(DashedLineSeries::new(pts, dash, gap, style))?
    } else {
        chart.draw_series(LineSeries::new(pts, style))?
    };
    if let Some(label) = label {
        let len = (22.0 * geo.scale) as i32;
        anno.label(label).legend(move |(x, y)| {
            if dashed {
                DashedPathElement::new(vec![(x, y), (x + len, y)], dash, gap, style).into_dyn()
            } else {
                PathElement::new(vec![(x, y), (x + len, y)], style).into_dyn()
            }
        });
    }
    Ok(())
}

/// The title on the left of the header, the notes (grey) on its right; notes that do not fit
/// are left out, and a title that does not fit is cut in the middle.
fn header<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel, geo: &Geometry, w: u32) -> Res
where
    DB::ErrorType: 'static,
{
    let room = w.saturating_sub(2 * geo.margin + geo.right_pad) as usize;
    let gap = (24.0 * geo.scale) as usize;
    let mut title = p.title.clone();
    let mut chars = title.chars().count();
    while chars > 3 && font::text_width(&title, geo.title_px) as usize > room {
        chars -= 1;
        title = crate::text::elide_middle(&p.title, chars);
    }
    let title_w = font::text_width(&title, geo.title_px) as usize;
    let mut notes = p.notes.clone();
    let notes_text = loop {
        let text = notes.join(" · ");
        if notes.is_empty() || title_w + gap + font::text_width(&text, geo.note_px) as usize <= room {
            break text;
        }
        notes.pop();
    };
    let top = geo.margin as i32;
    let title_style = (FAMILY, geo.title_px).into_font().color(&TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    let mid = top + (geo.title_px / 2.0) as i32;
    area.draw_text(&title, &title_style, (geo.margin as i32, mid))?;
    if !notes_text.is_empty() {
        let style = (FAMILY, geo.note_px).into_font().color(&NOTE).pos(Pos::new(HPos::Right, VPos::Center));
        area.draw_text(&notes_text, &style, ((w - geo.margin - geo.right_pad) as i32, mid))?;
    }
    Ok(())
}

/// Of `xs` (sorted), those at least `gap` pixels from the last one kept, on a plot `width` pixels
/// wide showing `bounds`.
fn spread(xs: &[f64], bounds: [f64; 2], width: u32, gap: f64) -> Vec<f64> {
    let per_px = (bounds[1] - bounds[0]) / width.max(1) as f64;
    let mut out: Vec<f64> = Vec::new();
    for &x in xs {
        if out.last().is_none_or(|&l| (x - l) / per_px >= gap) {
            out.push(x);
        }
    }
    out
}

/// The corner of the plot (`size` pixels) where a legend of `legend` pixels covers the fewest
/// points of the lines: top right unless the lines are there.
fn legend_corner(p: &Panel, size: (u32, u32), legend: (u32, u32)) -> SeriesLabelPosition {
    let fx = (legend.0 as f64 / size.0.max(1) as f64).min(1.0);
    let fy = (legend.1 as f64 / size.1.max(1) as f64).min(1.0);
    let (xs, ys) = (p.x_bounds[1] - p.x_bounds[0], p.y_bounds[1] - p.y_bounds[0]);
    let mut count = [0usize; 4];
    let lines = p.lines.iter().flat_map(|l: &Line| l.raw.iter().chain(&l.smooth));
    for &(x, y) in lines.flatten() {
        let (u, v) = ((x - p.x_bounds[0]) / xs, (y - p.y_bounds[0]) / ys);
        let (right, left, top, bottom) = (u >= 1.0 - fx, u <= fx, v >= 1.0 - fy, v <= fy);
        count[0] += usize::from(right && top);
        count[1] += usize::from(left && top);
        count[2] += usize::from(right && bottom);
        count[3] += usize::from(left && bottom);
    }
    let corners = [
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::LowerRight,
        SeriesLabelPosition::LowerLeft,
    ];
    let best = (0..4).min_by_key(|&i| count[i]).unwrap_or(0);
    corners[best].clone()
}
