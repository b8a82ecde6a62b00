//! What a chart draws, computed from a run and the view: the visible window, the smoothed line,
//! the y range (outlier-aware, log), the per-column reduction and the markers. Memoised in
//! [`Cache`] by store generation and view, so a frame with nothing new costs no recomputation.

use super::fallback::{format_value, minmax_columns};
use super::view::XAxis;
use super::App;
use crate::analysis::smooth::{smooth, Smoother};
use crate::analysis::Severity;
use crate::store::{SeriesId, SeriesView, Store};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Everything one chart draws, in chart coordinates (y already log10 when log y is on).
#[derive(Clone, Debug, Default)]
pub struct ChartData {
    pub x_bounds: [f64; 2],
    pub y_bounds: [f64; 2],
    /// Per member: the raw points, reduced per column and clipped to the y bounds.
    pub raw: Vec<Vec<(f64, f64)>>,
    /// Per member: the smoothed points (empty when smoothing is off).
    pub smooth: Vec<Vec<(f64, f64)>>,
    /// Flag markers on the top edge, by severity.
    pub flags: Vec<(Severity, Vec<(f64, f64)>)>,
    /// NaN/inf markers on the bottom edge.
    pub nans: Vec<(f64, f64)>,
    pub x_labels: Vec<String>,
    pub y_labels: Vec<String>,
    /// Some points lie outside the y range and sit on its edge.
    pub clipped: bool,
    /// The x axis fell back to steps because the log has no time.
    pub no_time: bool,
    /// Points handed to ratatui, all datasets together (to check the reduction).
    pub points: usize,
}

type Key = (usize, u64, Vec<SeriesId>, u16, u16, [u64; 4]);

/// A chart's data and what it was computed from.
#[derive(Debug)]
struct Entry {
    /// (store generation, number of flags) it reflects.
    data_version: (u64, usize),
    data: Rc<ChartData>,
    at: Instant,
    cost: Duration,
}

/// Charts that cost more than this to compute are refreshed at most every `STALE_FACTOR` times
/// their cost while data streams in, so a month-long run being written to cannot keep the loop
/// busy recomputing a million points per frame. Small charts are always fresh.
const EXPENSIVE: Duration = Duration::from_millis(5);
const STALE_FACTOR: u32 = 10;

/// Chart data by (run, members, size, view).
#[derive(Default, Debug)]
pub struct Cache {
    map: HashMap<Key, Entry>,
    served_stale: bool,
}

impl Cache {
    /// Whether the last frame showed a chart older than its data: the loop draws again soon.
    pub fn served_stale(&self) -> bool {
        self.served_stale
    }
    /// Called before a frame is drawn.
    pub fn begin_frame(&mut self) {
        self.served_stale = false;
    }
}

/// The chart data of `members` for a plot area of `cols` x `rows` cells, from the cache when the
/// data and the view are unchanged.
pub fn chart_data(app: &App, members: &[SeriesId], cols: u16, rows: u16) -> Option<Rc<ChartData>> {
    let slot = app.slot()?;
    let v = &app.view;
    let view_key = [
        v.zoom.map_or(u64::MAX, f64::to_bits),
        v.anchor.map_or(u64::MAX, f64::to_bits),
        v.weight().to_bits() ^ ((v.smoother_kind as u64) << 60),
        (v.outliers as u64) | (v.log_y as u64) << 1 | (v.x_axis as u64) << 2 | (app.ascii as u64) << 4,
    ];
    let key = (app.current, app.run_epoch(), members.to_vec(), cols, rows, view_key);
    let version = (slot.run.store.generation(), slot.run.flags().len());
    let mut cache = app.cache.borrow_mut();
    if let Some(e) = cache.map.get(&key) {
        if e.data_version == version {
            return Some(e.data.clone());
        }
        if e.cost >= EXPENSIVE && e.at.elapsed() < e.cost * STALE_FACTOR {
            let data = e.data.clone();
            cache.served_stale = true;
            return Some(data);
        }
    }
    if cache.map.len() >= 64 {
        cache.map.clear();
    }
    let started = Instant::now();
    let px = if app.ascii { cols as usize } else { cols as usize * 2 };
    let flags: Vec<(Severity, String, f64)> =
        slot.run.flags().iter().map(|f| (f.severity, f.metric.clone(), f.step)).collect();
    let data = Rc::new(compute(&slot.run.store, members, &flags, app, px.max(1)));
    let entry =
        Entry { data_version: version, data: data.clone(), at: Instant::now(), cost: started.elapsed() };
    cache.map.insert(key, entry);
    Some(data)
}

/// x of point `i` on the current axis; `t0` is the run's first time (relative axis).
struct XFn<'a> {
    s: SeriesView<'a>,
    mode: XAxis,
    t0: f64,
}

impl XFn<'_> {
    fn x(&self, i: usize) -> f64 {
        match self.mode {
            XAxis::Step => self.s.step(i),
            XAxis::Relative => self.s.time(i) - self.t0,
            XAxis::Wall => self.s.time(i),
        }
    }
    /// First index whose x is >= `x` (x assumed non-decreasing; a restart makes this approximate).
    fn lower_bound(&self, x: f64) -> usize {
        let (mut lo, mut hi) = (0, self.s.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.x(mid) < x {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

/// The axis that can be used: time axes fall back to steps when the log has no time.
fn effective_axis(store: &Store, mode: XAxis) -> (XAxis, f64) {
    if mode == XAxis::Step || store.records() == 0 {
        return (XAxis::Step, 0.0);
    }
    let t0 = (0..store.records().min(1000)).map(|r| store.record(r as u32).time).find(|t| t.is_finite());
    match t0 {
        Some(t0) => (mode, t0),
        None => (XAxis::Step, 0.0),
    }
}

fn xfn(store: &Store, id: SeriesId, mode: XAxis) -> XFn<'_> {
    let (mode, t0) = effective_axis(store, mode);
    XFn { s: store.series(id), mode, t0 }
}

/// The x range of the members' data on `mode`'s axis.
pub fn x_range(store: &Store, members: &[SeriesId], mode: XAxis) -> Option<(f64, f64)> {
    let mut out: Option<(f64, f64)> = None;
    for &id in members {
        let f = xfn(store, id, mode);
        let n = f.s.len();
        if n == 0 {
            continue;
        }
        let (a, b) = (f.x(0), f.x(n - 1));
        if !(a.is_finite() && b.is_finite()) {
            continue;
        }
        out = Some(match out {
            None => (a.min(b), a.max(b)),
            Some((lo, hi)) => (lo.min(a).min(b), hi.max(a).max(b)),
        });
    }
    out
}

/// The x of the first point at or after `step`, on `mode`'s axis.
pub fn x_at_step(store: &Store, id: SeriesId, step: f64, mode: XAxis) -> Option<f64> {
    let f = xfn(store, id, mode);
    let steps = XFn { s: f.s, mode: XAxis::Step, t0: 0.0 };
    let i = steps.lower_bound(step).min(f.s.len().checked_sub(1)?);
    Some(f.x(i)).filter(|x| x.is_finite())
}

/// How many points before the window the smoother needs to be exact to ~1e-4 there.
fn lookback(sm: Smoother) -> usize {
    let mem = |w: f64| if w <= 0.0 { 1.0 } else { (1e-4f64).ln() / w.min(0.9999).ln() };
    let n = match sm {
        Smoother::Ema { weight } => mem(weight),
        Smoother::TimeWeightedEma { param } => mem(param.sqrt()),
        Smoother::Gaussian { sigma } => 4.0 * sigma,
        Smoother::RunningAverage { window } => window as f64,
    };
    (n.ceil() as usize).clamp(1, 100_000)
}

fn compute(
    store: &Store,
    members: &[SeriesId],
    flags: &[(Severity, String, f64)],
    app: &App,
    px: usize,
) -> ChartData {
    let v = &app.view;
    let mut out = ChartData { no_time: effective_axis(store, v.x_axis).0 != v.x_axis, ..Default::default() };
    let Some((full_lo, full_hi)) = x_range(store, members, v.x_axis) else {
        out.x_bounds = [0.0, 1.0];
        out.y_bounds = [0.0, 1.0];
        return out;
    };
    let hi = v.anchor.unwrap_or(full_hi);
    let lo = v.zoom.map_or(full_lo, |w| hi - w);
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5, hi + 0.5) };
    let ty = |y: f64| {
        if !v.log_y {
            y
        } else if y > 0.0 {
            y.log10()
        } else {
            f64::NAN
        }
    };

    // Gather the window (plus what the smoother needs before it), smooth, transform.
    let mut series = Vec::new();
    let mut nan_xs = Vec::new();
    for &id in members {
        let f = xfn(store, id, v.x_axis);
        let (i0, i1) = (f.lower_bound(lo), f.lower_bound(hi.next_up()));
        let start = v.smoother().map_or(i0, |sm| i0.saturating_sub(lookback(sm)));
        // One sequential pass over the record runs (no per-point lookup).
        let (mut xs, mut ys) = (Vec::with_capacity(i1 - start), Vec::with_capacity(i1 - start));
        for (rec, y) in f.s.iter_records().skip(start).take(i1 - start) {
            let m = store.record(rec);
            xs.push(match f.mode {
                XAxis::Step => m.step,
                XAxis::Relative => m.time - f.t0,
                XAxis::Wall => m.time,
            });
            ys.push(y);
        }
        let sm = v.smoother().map(|k| smooth(k, &xs, &ys));
        let skip = i0 - start;
        nan_xs.extend(xs[skip..].iter().zip(&ys[skip..]).filter(|(_, y)| !y.is_finite()).map(|(x, _)| *x));
        let raw_y: Vec<f64> = ys[skip..].iter().map(|&y| ty(y)).collect();
        let sm_y: Option<Vec<f64>> = sm.map(|s| s[skip..].iter().map(|&y| ty(y)).collect());
        series.push((xs[skip..].to_vec(), raw_y, sm_y));
    }

    // Outlier-aware y range: the 5-95% of the visible finite values plus a margin, per series and
    // then joined, so a sparse eval series is not treated as the train series' outliers.
    let (mut y_lo, mut y_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for s in &series {
        let mut finite: Vec<f64> = s.1.iter().copied().filter(|y| y.is_finite()).collect();
        if !finite.is_empty() {
            let (lo, hi) = y_range(&mut finite, v.outliers);
            (y_lo, y_hi) = (y_lo.min(lo), y_hi.max(hi));
        }
    }
    if y_lo > y_hi {
        (y_lo, y_hi) = (0.0, 1.0);
    }
    out.clipped = series.iter().flat_map(|s| s.1.iter()).any(|&y| y.is_finite() && (y < y_lo || y > y_hi));
    let clip = |y: f64| if y.is_finite() { y.clamp(y_lo, y_hi) } else { y };

    // Clipping commutes with min/max, so it is applied to the reduced points only.
    let reduce = |xs: &[f64], ys: &[f64]| -> Vec<(f64, f64)> {
        let mut pts = minmax_columns(xs, ys, lo, hi, px);
        pts.iter_mut().for_each(|p| p.1 = clip(p.1));
        pts
    };
    for (xs, raw, sm) in &series {
        out.raw.push(reduce(xs, raw));
        if let Some(sm) = sm {
            out.smooth.push(reduce(xs, sm));
        }
    }

    // NaN steps on the bottom edge, flags on the top edge: one marker per column is enough.
    let per_col = |xs: &mut Vec<f64>, y: f64| -> Vec<(f64, f64)> {
        let w = (hi - lo) / px as f64;
        xs.sort_by(f64::total_cmp);
        xs.dedup_by(|a, b| ((*a - lo) / w).floor() == ((*b - lo) / w).floor());
        xs.iter().map(|&x| (x, y)).collect()
    };
    out.nans = per_col(&mut nan_xs, y_lo);
    let names: Vec<&str> = members.iter().map(|&id| store.name(id)).collect();
    for sev in [Severity::Info, Severity::Warning, Severity::Critical] {
        let mut xs: Vec<f64> = flags
            .iter()
            .filter(|(s, m, _)| *s == sev && names.contains(&m.as_str()))
            .filter_map(|(_, m, step)| x_at_step(store, store.find(m)?, *step, v.x_axis))
            .filter(|x| (lo..=hi).contains(x))
            .collect();
        if !xs.is_empty() {
            out.flags.push((sev, per_col(&mut xs, y_hi)));
        }
    }

    out.x_bounds = [lo, hi];
    out.y_bounds = [y_lo, y_hi];
    let axis = effective_axis(store, v.x_axis).0;
    out.x_labels = vec![x_label(lo, axis, hi - lo), x_label(hi, axis, hi - lo)];
    let ys = [y_lo, (y_lo + y_hi) / 2.0, y_hi].map(|y| if v.log_y { 10f64.powf(y) } else { y });
    out.y_labels = axis_labels(&ys);
    out.points = out.raw.iter().chain(&out.smooth).map(Vec::len).sum::<usize>()
        + out.nans.len()
        + out.flags.iter().map(|f| f.1.len()).sum::<usize>();
    out
}

/// The y range of the finite values `ys` (reordered in place). Percentiles by selection, O(n):
/// a million points must not be sorted on every frame.
fn y_range(ys: &mut [f64], outliers: bool) -> (f64, f64) {
    if ys.is_empty() {
        return (0.0, 1.0);
    }
    let (min, max) = ys.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &y| (l.min(y), h.max(y)));
    let pad = (max - min) * 0.05;
    // Data that is never negative (a learning rate, an epoch) gets no negative axis.
    let floor = if min >= 0.0 { 0.0 } else { f64::NEG_INFINITY };
    let (mut lo, mut hi) = ((min - pad).max(floor), max + pad);
    if outliers && ys.len() >= 20 {
        let last = ys.len() - 1;
        let (i5, i95) = ((last as f64 * 0.05).round() as usize, (last as f64 * 0.95).round() as usize);
        let p95 = *ys.select_nth_unstable_by(i95, f64::total_cmp).1;
        let p5 = *ys[..i95].select_nth_unstable_by(i5, f64::total_cmp).1;
        let margin = (p95 - p5) * 0.1;
        lo = lo.max(p5 - margin);
        hi = hi.min(p95 + margin);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let d = (hi.abs() * 0.1).max(1e-9);
        (lo - d, hi + d)
    } else {
        (lo, hi)
    }
}

/// Labels for ascending values: short (`2.31k`) when that tells them apart, otherwise with as
/// many decimals as their spacing needs (`1700250000`, `0.10012`).
fn axis_labels(ys: &[f64]) -> Vec<String> {
    let mut short: Vec<String> = ys.iter().map(|&y| format_value(y)).collect();
    let sci = |s: &String| s.contains('e') && !s.contains("inf");
    if short.iter().any(sci) && !short.iter().all(sci) {
        // One style per axis: `1e-3 7.7e-4 5.1e-4`, not `0.00104 7.7e-4 5.1e-4`.
        short = ys
            .iter()
            .map(|y| if *y == 0.0 { "0".into() } else { format!("{y:.1e}").replace(".0e", "e") })
            .collect();
    }
    if short.windows(2).all(|w| w[0] != w[1]) {
        return short;
    }
    let gap = ys.windows(2).map(|w| (w[1] - w[0]).abs()).fold(f64::INFINITY, f64::min);
    let decimals = if gap > 0.0 && gap.is_finite() {
        (1.0 - (gap.log10() + 1e-6).floor()).clamp(0.0, 12.0) as usize
    } else {
        0
    };
    ys.iter().map(|y| format!("{y:.decimals$}")).collect()
}

fn x_label(x: f64, axis: XAxis, span: f64) -> String {
    match axis {
        XAxis::Step if x.abs() < 1e5 && span >= 10.0 => format!("{}", x.round()),
        XAxis::Step => format_value(x),
        XAxis::Relative => duration_label(x),
        XAxis::Wall => {
            let secs = x.rem_euclid(86_400.0) as u64;
            let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            if span < 120.0 {
                format!("{h:02}:{m:02}:{s:02}")
            } else {
                format!("{h:02}:{m:02}")
            }
        }
    }
}

/// `42s`, `35m`, `1h02`, `3d04h`.
pub fn duration_label(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    match s {
        0..=119 => format!("{s}s"),
        120..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h{:02}", s / 3600, s / 60 % 60),
        _ => format!("{}d{:02}h", s / 86_400, s / 3600 % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outliers_are_clipped_but_the_bulk_is_framed() {
        let mut ys: Vec<f64> = (0..100).map(|i| 1.0 + i as f64 * 0.01).collect();
        ys.push(1000.0);
        let (lo, hi) = y_range(&mut ys.clone(), true);
        assert!(hi < 3.0 && lo > 0.8, "{lo} {hi}");
        let (_, hi) = y_range(&mut ys, false);
        assert!(hi > 1000.0);
    }

    #[test]
    fn a_constant_series_gets_a_visible_range() {
        let (lo, hi) = y_range(&mut [2.0; 30], true);
        assert!(lo < 2.0 && hi > 2.0);
    }

    #[test]
    fn axis_labels_are_told_apart() {
        assert_eq!(axis_labels(&[0.1, 0.2, 0.3]), ["0.1", "0.2", "0.3"]);
        assert_eq!(axis_labels(&[5.1e-4, 7.7e-4, 1.04e-3]), ["5.1e-4", "7.7e-4", "1e-3"]);
        assert_eq!(
            axis_labels(&[1.7e9, 1.7e9 + 250_000.0, 1.7e9 + 500_000.0]),
            ["1700000000", "1700250000", "1700500000"]
        );
        assert_eq!(axis_labels(&[1.0001, 1.0002, 1.0003]), ["1.00010", "1.00020", "1.00030"]);
    }

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(duration_label(42.0), "42s");
        assert_eq!(duration_label(3720.0), "1h02");
    }
}
