//! What an exported image shows, as plain data: a [`Figure`] of [`Panel`]s (one chart each), each
//! built from the chart engine (`crate::chart`: the request and the cache the terminal draws
//! with) at the width in points that its plot has in the image, so an export shows what the
//! monitor shows. Drawing it is `draw`'s; the data is `Send`, so the monitor hands it to a thread.

use super::font;
use super::ticks::{self, Ticks};
use crate::analysis::Severity;
use crate::chart::{self, ChartData, XAxis};
use crate::store::SeriesId;
use crate::text::sanitize;

/// A whole image: its size in pixels and its charts, laid out in a grid of `cols` columns.
#[derive(Clone, Debug)]
pub struct Figure {
    pub width: u32,
    pub height: u32,
    pub cols: u32,
    pub panels: Vec<Panel>,
}

/// One chart.
#[derive(Clone, Debug)]
pub struct Panel {
    /// The metrics, e.g. `loss · val_loss`.
    pub title: String,
    /// What the reader needs to read it right, after the title: the smoother, "log y", "outliers
    /// clipped", "no time: step", and the run when there is one.
    pub notes: Vec<String>,
    /// The x axis drawn (steps when the log has no time).
    pub x_axis: XAxis,
    pub x_bounds: [f64; 2],
    /// In plotted units (log10 on a log axis).
    pub y_bounds: [f64; 2],
    pub log_y: bool,
    pub x_ticks: Ticks,
    pub y_ticks: Ticks,
    /// The x axis' name, e.g. `step`, `wall time (UTC), 2026-12-06`.
    pub x_desc: String,
    pub lines: Vec<Line>,
    /// x of the NaN/Infinity values, marked on the bottom edge.
    pub nans: Vec<f64>,
    /// x of the flags, by severity, marked on the top edge.
    pub flags: Vec<(Severity, Vec<f64>)>,
    /// Whether a smoothed line is drawn over each (faint) raw one.
    pub smoothed: bool,
    /// The plot's width in the image, in pixels: the width in points the chart engine reduced
    /// the series to.
    pub plot_width: u32,
}

/// One series of one run in a chart: its raw line (one part per attempt of a restarted run) and
/// its smoothed line.
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    /// Its colour, an index into the palette.
    pub color: usize,
    /// Drawn dashed: an eval series among several runs' (the run is the colour).
    pub dashed: bool,
    pub raw: Vec<Vec<(f64, f64)>>,
    pub smooth: Vec<Vec<(f64, f64)>>,
}

/// One run's series in a chart.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    pub data: chart::Data<'a>,
    /// The series, train first, as the monitor groups them.
    pub members: &'a [SeriesId],
    /// The run's name, shown in the legend when several runs share the chart.
    pub run: &'a str,
}

/// Sizes of one chart's parts in pixels, scaled with the chart's size so that a bigger image is
/// the same figure at a higher resolution.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    /// Pixels per point of a chart of the reference size (800x500).
    pub scale: f64,
    pub margin: u32,
    pub header: u32,
    pub x_area: u32,
    pub right_pad: u32,
    pub title_px: f64,
    pub note_px: f64,
    pub tick_px: f64,
    pub legend_px: f64,
}

impl Geometry {
    /// The geometry of a chart of `cell` pixels, drawn `zoom` times larger (a supersampled PNG).
    pub fn new(cell: (u32, u32), zoom: f64) -> Self {
        let scale = (cell.0 as f64 / 800.0).min(cell.1 as f64 / 500.0).clamp(0.6, 6.0) * zoom;
        let px = |v: f64| (v * scale).round().max(1.0) as u32;
        Geometry {
            scale,
            margin: px(10.0),
            header: px(30.0),
            x_area: px(48.0),
            right_pad: px(22.0),
            title_px: 17.0 * scale,
            note_px: 13.0 * scale,
            tick_px: 14.0 * scale,
            legend_px: 13.5 * scale,
        }
    }

    /// The y label area's width for these tick labels.
    pub fn y_area(&self, labels: &[String]) -> u32 {
        let widest = labels.iter().map(|l| font::text_width(l, self.tick_px)).max().unwrap_or(0);
        widest + (14.0 * self.scale).round() as u32
    }

    /// The plot's width in a chart `cell_w` wide, with a y label area `y_area` wide.
    pub fn plot_width(&self, cell_w: u32, y_area: u32) -> u32 {
        cell_w.saturating_sub(2 * self.margin + self.right_pad + y_area).max(1)
    }

    /// The plot's height in a chart `cell_h` high.
    pub fn plot_height(&self, cell_h: u32) -> u32 {
        cell_h.saturating_sub(self.header + self.margin * 2 + self.x_area).max(1)
    }
}

/// Columns and rows of a grid of `n` charts: side by side up to three, two by two for four,
/// then rows of three.
pub fn grid(n: usize) -> (u32, u32) {
    let cols = match n {
        0 | 1 => 1,
        2 | 3 => n,
        4 => 2,
        _ => 3,
    } as u32;
    (cols, (n as u32).div_ceil(cols).max(1))
}

/// The size of a figure of `n` charts when none is asked for: 1000x600 for one, 640x420 a chart
/// for a grid.
pub fn default_size(n: usize) -> (u32, u32) {
    if n <= 1 {
        return (1000, 600);
    }
    let (cols, rows) = grid(n);
    (cols * 640, rows * 420)
}

/// The pixel rectangle `(x, y, w, h)` of chart `i` in a `width` x `height` figure of `cols`
/// columns and `rows` rows.
pub fn cell(i: usize, width: u32, height: u32, cols: u32, rows: u32) -> (u32, u32, u32, u32) {
    let (c, r) = (i as u32 % cols, i as u32 / cols);
    let (x0, x1) = (c * width / cols, (c + 1) * width / cols);
    let (y0, y1) = (r * height / rows, (r + 1) * height / rows);
    (x0, y0, x1 - x0, y1 - y0)
}

impl Figure {
    /// The size of chart `i`, as [`cell`] lays it out.
    pub fn cell(&self, i: usize) -> (u32, u32, u32, u32) {
        let rows = (self.panels.len() as u32).div_ceil(self.cols.max(1)).max(1);
        cell(i, self.width, self.height, self.cols.max(1), rows)
    }
}

impl Panel {
    /// The chart of `sources` (one run, or several overlaid) as `req` asks (its members and width
    /// are replaced), for a chart `cell` pixels big. Several runs share one x window (the union of
    /// theirs unless `req` sets one) and one y range (the union of theirs).
    pub fn build<'a>(
        sources: &[Source<'a>],
        req: &chart::Request<'_>,
        cell: (u32, u32),
        cache: &mut chart::Cache,
    ) -> Panel {
        let geo = Geometry::new(cell, 1.0);
        let several = sources.len() > 1;
        let mut axis = req.x_axis;
        let mut window = shared_window(sources, req, axis);
        let ask = |src: &Source<'a>,
                   width: u32,
                   axis: XAxis,
                   window: (Option<f64>, Option<f64>),
                   outliers: bool| {
            chart::Request {
                members: src.members,
                x_axis: axis,
                zoom: window.0,
                anchor: window.1,
                width: width as usize,
                outliers,
                ..req.clone()
            }
        };
        // A first pass at a guessed width gives the y range, whose labels decide the plot's width.
        let guess = geo.plot_width(cell.0, (60.0 * geo.scale) as u32);
        let mut first: Vec<ChartData> = Vec::new();
        for pass in 0..2 {
            first = sources
                .iter()
                .map(|s| (*chart::chart(s.data, &ask(s, guess, axis, window, req.outliers), cache)).clone())
                .collect();
            // Runs overlaid on a time axis when one has no time: all of them on steps.
            if pass == 0 && several && axis != XAxis::Step && first.iter().any(|d| d.no_time) {
                axis = XAxis::Step;
                window = shared_window(sources, &chart::Request { x_axis: axis, ..req.clone() }, axis);
                continue;
            }
            break;
        }
        let y = union_y(&first);
        let plot_h = geo.plot_height(cell.1);
        let y_ticks = y_ticks(y, req.log, plot_h, &geo);
        let y_area = geo.y_area(&y_ticks.labels);
        let width = geo.plot_width(cell.0, y_area);
        // The data at the plot's width. A run overlaid with others keeps the points its own
        // outlier scaling clipped when the shared range is wider, so it is asked again unclipped
        // and cut to the shared range.
        let datas: Vec<ChartData> = sources
            .iter()
            .zip(&first)
            .map(|(s, d)| {
                let unclip = several && d.clipped && d.y_bounds != [y.0, y.1];
                let outliers = req.outliers && !unclip;
                let mut data = (*chart::chart(s.data, &ask(s, width, axis, window, outliers), cache)).clone();
                if several {
                    data.clipped |= clamp(&mut data, y);
                }
                data
            })
            .collect();
        let x_bounds = datas.first().map_or([0.0, 1.0], |d| d.x_bounds);
        let no_time = datas.iter().any(|d| d.no_time);
        let axis = if no_time { XAxis::Step } else { axis };

        let mut lines = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for (k, (src, data)) in sources.iter().zip(&datas).enumerate() {
            for (m, &id) in src.members.iter().enumerate() {
                let name = sanitize(src.data.store.name(id)).into_owned();
                if !names.contains(&name) {
                    names.push(name.clone());
                }
                let label = match (several, src.members.len()) {
                    (false, _) => name,
                    (true, 1) => sanitize(src.run).into_owned(),
                    (true, _) => format!("{} · {name}", sanitize(src.run)),
                };
                let pick = |lines: &[Vec<(f64, f64)>], member: &[usize]| -> Vec<Vec<(f64, f64)>> {
                    lines.iter().zip(member).filter(|(_, &i)| i == m).map(|(l, _)| l.clone()).collect()
                };
                lines.push(Line {
                    label,
                    color: if several { k } else { m },
                    dashed: several && m > 0,
                    raw: pick(&data.raw, &data.raw_member),
                    smooth: pick(&data.smooth, &data.smooth_member),
                });
            }
        }
        let mut nans: Vec<f64> = datas.iter().flat_map(|d| d.nans.iter().map(|p| p.0)).collect();
        nans.sort_by(f64::total_cmp);
        nans.dedup();
        let mut flags: Vec<(Severity, Vec<f64>)> = Vec::new();
        for sev in [Severity::Info, Severity::Warning, Severity::Critical] {
            let mut xs: Vec<f64> = datas
                .iter()
                .flat_map(|d| d.flags.iter().filter(|f| f.0 == sev).flat_map(|f| f.1.iter().map(|p| p.0)))
                .collect();
            xs.sort_by(f64::total_cmp);
            xs.dedup();
            if !xs.is_empty() {
                flags.push((sev, xs));
            }
        }

        let mut notes = vec![match req.smoother {
            Some(s) => s.label(),
            None => "raw".to_owned(),
        }];
        if req.log {
            notes.push("log y".into());
        }
        if datas.iter().any(|d| d.clipped) {
            notes.push("outliers clipped".into());
        }
        if no_time && req.x_axis != XAxis::Step {
            notes.push("no time: step".into());
        }
        // One run: its name (several are named in the legend). Last, so it is the first note left
        // out when the header is short of room.
        if let [one] = sources {
            notes.push(crate::text::elide_middle(&sanitize(one.run), 48));
        }
        let x_ticks = x_ticks(x_bounds, axis, width, &geo);
        let x_desc = match axis {
            XAxis::Wall => format!("{}, {}", axis.label(), ticks::date(x_bounds[0])),
            _ => axis.label().to_owned(),
        };
        Panel {
            title: names.join(" · "),
            notes,
            x_axis: axis,
            x_bounds,
            y_bounds: [y.0, y.1],
            log_y: req.log,
            x_ticks,
            y_ticks,
            x_desc,
            lines,
            nans,
            flags,
            smoothed: req.smoother.is_some(),
            plot_width: width,
        }
    }
}

/// The window `(zoom, anchor)` several runs share: `req`'s, completed with the union of their x
/// ranges. One run keeps `req`'s as it is (the monitor's view).
fn shared_window(
    sources: &[Source<'_>],
    req: &chart::Request<'_>,
    axis: XAxis,
) -> (Option<f64>, Option<f64>) {
    if sources.len() < 2 || (req.zoom.is_some() && req.anchor.is_some()) {
        return (req.zoom, req.anchor);
    }
    let mut range: Option<(f64, f64)> = None;
    for s in sources {
        if let Some((a, b)) = chart::x_range(s.data.store, s.members, axis) {
            range = Some(range.map_or((a, b), |(lo, hi)| (lo.min(a), hi.max(b))));
        }
    }
    let Some((lo, hi)) = range else { return (req.zoom, req.anchor) };
    let anchor = req.anchor.unwrap_or(hi);
    (Some(req.zoom.unwrap_or(anchor - lo)), Some(anchor))
}

/// The union of the charts' y ranges.
fn union_y(datas: &[ChartData]) -> (f64, f64) {
    let (lo, hi) = datas.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), d| {
        (lo.min(d.y_bounds[0]), hi.max(d.y_bounds[1]))
    });
    if lo <= hi {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

/// Cuts a chart's points to the y range `y`; returns whether any was outside.
fn clamp(data: &mut ChartData, y: (f64, f64)) -> bool {
    let mut cut = false;
    for line in data.raw.iter_mut().chain(data.smooth.iter_mut()) {
        for p in line.iter_mut() {
            if p.1.is_finite() && (p.1 < y.0 || p.1 > y.1) {
                p.1 = p.1.clamp(y.0, y.1);
                cut = true;
            }
        }
    }
    data.y_bounds = [y.0, y.1];
    cut
}

/// Y ticks for a plot `plot_h` pixels high: one every 60 points or so.
fn y_ticks(y: (f64, f64), log: bool, plot_h: u32, geo: &Geometry) -> Ticks {
    let target = ((plot_h as f64 / (60.0 * geo.scale)) as usize).clamp(3, 7);
    if log {
        ticks::log10(y.0, y.1, target)
    } else {
        ticks::linear(y.0, y.1, target)
    }
}

/// X ticks for a plot `plot_w` pixels wide: as many as fit with room between their labels.
fn x_ticks(x: [f64; 2], axis: XAxis, plot_w: u32, geo: &Geometry) -> Ticks {
    let mut target = ((plot_w as f64 / (100.0 * geo.scale)) as usize).clamp(2, 10);
    loop {
        let t = ticks::x(x[0], x[1], axis, target);
        let widest = t.labels.iter().map(|l| font::text_width(l, geo.tick_px)).max().unwrap_or(0);
        let room = plot_w as usize / t.values.len().max(1);
        if target <= 2 || (widest as f64 + 16.0 * geo.scale) as usize <= room {
            return t;
        }
        target -= 1;
    }
}
