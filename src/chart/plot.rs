//! One chart's data, computed from a run and a [`Request`]: the visible window, the smoothed line,
//! the y range (outlier-aware, log), the per-column reduction and the markers.

use super::columns::ColumnCache;
use super::labels;
use super::reduce::{reduce, Envelope, Reduced, View as ReduceView, YScale};
use super::values::Xs;
use super::{Data, Request, XAxis};
use crate::analysis::smooth::smooth;
use crate::analysis::Severity;
use crate::store::{SeriesId, SeriesView, Store};

/// Everything one chart draws, in chart coordinates (y already log10 when log y is on).
#[derive(Clone, Debug, Default)]
pub struct ChartData {
    pub x_bounds: [f64; 2],
    pub y_bounds: [f64; 2],
    /// One line per member (per stretch of a restarted member, see [`stretches`]): the raw
    /// points, reduced per column and clipped to the y bounds.
    pub raw: Vec<Vec<(f64, f64)>>,
    /// The member each `raw` line belongs to (its colour).
    pub raw_member: Vec<usize>,
    /// The smoothed lines, as `raw` (empty when smoothing is off).
    pub smooth: Vec<Vec<(f64, f64)>>,
    pub smooth_member: Vec<usize>,
    /// Flag markers on the top edge, by severity.
    pub flags: Vec<(Severity, Vec<(f64, f64)>)>,
    /// NaN/inf markers on the bottom edge.
    pub nans: Vec<(f64, f64)>,
    pub x_labels: Vec<String>,
    pub y_labels: Vec<String>,
    /// Some points lie outside the y range and sit on its edge.
    pub clipped: bool,
    /// The highest point clipped above the y range, if it went more than a quarter of the range
    /// past it: its x and its value (in the data's units, not log10), which the chart writes at
    /// its top edge (`↑70.5`).
    pub clipped_top: Option<(f64, f64)>,
    /// The lowest point clipped below the y range, as `clipped_top` (`↓-3.2`).
    pub clipped_bottom: Option<(f64, f64)>,
    /// The x axis fell back to steps because the log has no time.
    pub no_time: bool,
    /// Points handed to ratatui, all datasets together (to check the reduction).
    pub points: usize,
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

/// The axis that can be used, and the time its relative axis counts from (the run's first time):
/// time axes fall back to steps when the log has no time.
pub fn effective_axis(store: &Store, mode: XAxis) -> (XAxis, f64) {
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

/// The index of the first point of series `id` at or after `step` (the last point past the end).
fn index_at_step(store: &Store, id: SeriesId, step: f64) -> Option<usize> {
    let steps = XFn { s: store.series(id), mode: XAxis::Step, t0: 0.0 };
    Some(steps.lower_bound(step).min(steps.s.len().checked_sub(1)?))
}

/// The x of the first point at or after `step`, on `mode`'s axis.
pub fn x_at_step(store: &Store, id: SeriesId, step: f64, mode: XAxis) -> Option<f64> {
    let f = xfn(store, id, mode);
    let steps = XFn { s: f.s, mode: XAxis::Step, t0: 0.0 };
    let i = steps.lower_bound(step).min(f.s.len().checked_sub(1)?);
    Some(f.x(i)).filter(|x| x.is_finite())
}

/// The x range of the members' data on the given axis (`t0`: the run's first time, for the
/// relative axis), the axis not checked against the log (the caller chose it: see `overlay`).
pub(super) fn x_range_on(store: &Store, members: &[SeriesId], axis: XAxis, t0: f64) -> Option<(f64, f64)> {
    let mut out: Option<(f64, f64)> = None;
    for &id in members {
        let f = XFn { s: store.series(id), mode: axis, t0 };
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

/// As [`x_at_step`], on the given axis.
pub(super) fn x_at_step_on(store: &Store, id: SeriesId, step: f64, axis: XAxis, t0: f64) -> Option<f64> {
    let f = XFn { s: store.series(id), mode: axis, t0 };
    let steps = XFn { s: f.s, mode: XAxis::Step, t0: 0.0 };
    let i = steps.lower_bound(step).min(f.s.len().checked_sub(1)?);
    Some(f.x(i)).filter(|x| x.is_finite())
}

/// One member's window, reduced: one line, or one per stretch of a restarted run.
#[derive(Clone, Debug)]
pub(super) struct Member {
    pub raw: Vec<Reduced>,
    pub smooth: Vec<Reduced>,
}

/// More stretches than this are drawn as one envelope (see `compute`).
pub const MAX_STRETCHES: usize = 32;

/// The stretches `[a, b)` of `xs` where x does not go back, without the points whose x is not a
/// number. A run restarted from a checkpoint, appending to the same log, logs its steps again: each
/// attempt is its own line, as TensorBoard draws two runs, instead of a line drawn back in time and
/// a column envelope that fills the overlap solid.
pub fn stretches(xs: &[f64]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for i in 0..xs.len() {
        let x = xs[i];
        if x.is_nan() {
            if let Some(a) = start.take() {
                out.push((a, i));
            }
            continue;
        }
        match start {
            Some(a) if x < xs[i - 1] => {
                out.push((a, i));
                start = Some(i);
            }
            Some(_) => {}
            None => start = Some(i),
        }
    }
    if let Some(a) = start {
        out.push((a, xs.len()));
    }
    out
}

/// The chart `req` asks for, of `data`, with the series' columns kept in `columns`.
/// Following, `prev` is the y range this chart showed last: the new one is held from it
/// (`hold`).
pub(super) fn compute(
    columns: &mut ColumnCache,
    data: Data<'_>,
    req: &Request<'_>,
    prev: Option<(f64, f64)>,
) -> ChartData {
    let (store, members, px, v) = (data.store, req.members, req.width.max(1), req);
    let (axis, t0) = effective_axis(store, v.x_axis);
    let mut out = ChartData { no_time: axis != v.x_axis, ..Default::default() };
    let Some((full_lo, full_hi)) = x_range(store, members, v.x_axis) else {
        out.x_bounds = [0.0, 1.0];
        out.y_bounds = [0.0, 1.0];
        return out;
    };
    // Following, the window ends a little ahead of the newest point, so that a new point lands
    // in the columns already drawn instead of rescaling (and redrawing) the whole chart.
    let (lo, hi) = super::overlay::window((full_lo, full_hi), v.zoom, v.anchor);
    let scale = if v.log { YScale::Log10 } else { YScale::Linear };
    // Outlier-aware y range: the 5-95% of the visible values plus a margin, per series (so a
    // sparse eval series is not treated as the train series' outliers); the smoothed line only
    // needs its envelope.
    let raw_view = ReduceView {
        x_lo: lo,
        x_hi: hi,
        columns: px,
        scale,
        percentiles: v.outliers.then_some((5.0, 95.0)),
        margin: 0.1,
    };
    let smooth_view = ReduceView { percentiles: None, margin: 0.0, ..raw_view };

    let reduced: Vec<Member> = members
        .iter()
        .map(|&id| {
            let c = columns.sync(data.key, store, id, axis, t0);
            reduce_member(c, (&raw_view, &smooth_view), v.smoother, true)
        })
        .collect();

    let (mut y_lo, mut y_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for r in reduced.iter().flat_map(|m| &m.raw) {
        if let Some((lo, hi)) = y_range(r, v.outliers, v.log) {
            (y_lo, y_hi) = (y_lo.min(lo), y_hi.max(hi));
        }
    }
    if y_lo > y_hi {
        (y_lo, y_hi) = (0.0, 1.0);
    }
    let names: Vec<&str> = members.iter().map(|&id| store.name(id)).collect();
    if v.outliers {
        // The points a flag is about are never clipped: the range grows to hold each flagged
        // value in the window (a spike the outlier-aware range would cut is the event to see).
        let flagged: Vec<f64> = data
            .flags
            .iter()
            .filter(|f| names.contains(&f.metric.as_str()))
            .filter_map(|f| {
                let id = store.find(&f.metric)?;
                let i = index_at_step(store, id, f.step)?;
                let x = xfn(store, id, v.x_axis).x(i);
                let y = store.series(id).value(i);
                let y = if v.log { (y > 0.0).then(|| y.log10())? } else { y };
                ((lo..=hi).contains(&x) && y.is_finite()).then_some(y)
            })
            .collect();
        let (f_lo, f_hi) = flagged.iter().fold((y_lo, y_hi), |(l, h), &y| (l.min(y), h.max(y)));
        if f_lo < y_lo || f_hi > y_hi {
            let pad = (f_hi - f_lo) * 0.03;
            if f_lo < y_lo {
                y_lo = f_lo - pad;
            }
            if f_hi > y_hi {
                y_hi = f_hi + pad;
            }
        }
    }
    // Held while following: it only ever grows to hold what it must, so flagged points stay in.
    (y_lo, y_hi) = super::hold::hold(prev, (y_lo, y_hi));
    // The envelope holds every column's extremes, so a value outside the range shows in it; the
    // most extreme on each side is written at that edge.
    let unlog = |y: f64| if v.log { 10f64.powf(y) } else { y };
    for &(x, y) in reduced.iter().flat_map(|m| &m.raw).flat_map(|r| &r.points) {
        if y > y_hi && out.clipped_top.is_none_or(|(_, t)| y > t) {
            out.clipped_top = Some((x, y));
        }
        if y < y_lo && out.clipped_bottom.is_none_or(|(_, b)| y < b) {
            out.clipped_bottom = Some((x, y));
        }
    }
    out.clipped = out.clipped_top.is_some() || out.clipped_bottom.is_some();
    // Written only when it went well past the edge (a quarter of the range): a point just past
    // it is said by the frame's "clipped" note, and a small chart keeps its line in sight.
    let far = (y_hi - y_lo) * 0.25;
    out.clipped_top = out.clipped_top.filter(|&(_, y)| y - y_hi > far).map(|(x, y)| (x, unlog(y)));
    out.clipped_bottom = out.clipped_bottom.filter(|&(_, y)| y_lo - y > far).map(|(x, y)| (x, unlog(y)));
    // Clipping commutes with min/max, so it is applied to the reduced points only.
    let clip = |pts: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
        pts.into_iter().map(|(x, y)| (x, if y.is_finite() { y.clamp(y_lo, y_hi) } else { y })).collect()
    };
    let mut nan_xs = Vec::new();
    for (k, m) in reduced.into_iter().enumerate() {
        for r in m.raw {
            nan_xs.extend_from_slice(&r.nonfinite_x);
            out.raw.push(clip(r.points));
            out.raw_member.push(k);
        }
        for sm in m.smooth {
            out.smooth.push(clip(sm.points));
            out.smooth_member.push(k);
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
    for sev in [Severity::Info, Severity::Warning, Severity::Critical] {
        let mut xs: Vec<f64> = data
            .flags
            .iter()
            .filter(|f| f.severity == sev && names.contains(&f.metric.as_str()))
            .filter_map(|f| x_at_step(store, store.find(&f.metric)?, f.step, v.x_axis))
            .filter(|x| (lo..=hi).contains(x))
            .collect();
        if !xs.is_empty() {
            out.flags.push((sev, per_col(&mut xs, y_hi)));
        }
    }

    out.x_bounds = [lo, hi];
    out.y_bounds = [y_lo, y_hi];
    out.x_labels = labels::x_labels(lo, hi, axis);
    out.y_labels = labels::y_labels(y_lo, y_hi, v.log);
    out.points = out.raw.iter().chain(&out.smooth).map(Vec::len).sum::<usize>()
        + out.nans.len()
        + out.flags.iter().map(|f| f.1.len()).sum::<usize>();
    out
}

/// One series' window (its synced columns `c`) reduced for the raw view and the smoothed view
/// (`views`), smoothed by `smoother`; without `raw`, only the smoothed line is reduced (an overlay
/// of many runs draws no raw lines).
pub(super) fn reduce_member(
    c: super::columns::Synced<'_>,
    views: (&ReduceView, &ReduceView),
    smoother: Option<crate::analysis::smooth::Smoother>,
    raw: bool,
) -> Member {
    let (raw_view, smooth_view) = views;
    let (xs, ys, cols) = (c.xs, c.ys, c.cols);
    // Without a smoother the raw line is the line.
    let raw = raw || smoother.is_none();
    if !raw {
        cols.drop_raw();
    }
    if smoother.is_none() || !cols.sorted {
        cols.drop_smoothed();
    }
    if !cols.sorted {
        cols.drop_reductions();
        // Rare (a restarted run): each stretch is reduced on its own from the series' block
        // summaries, and smoothed on its own from copies.
        let xs_copy = xs.to_vec();
        let ys_copy = if smoother.is_some() { ys.values() } else { Vec::new() };
        let mut m = Member { raw: Vec::new(), smooth: Vec::new() };
        let parts = stretches(&xs_copy);
        if parts.len() > MAX_STRETCHES {
            // Not a few attempts but an x that keeps going back (a counter that resets): one
            // envelope over all of it, so the chart stays a bounded number of points.
            if raw {
                m.raw.push(reduce(&xs, &ys, cols.raw_env(&ys), &parts, raw_view));
            }
            if let Some(k) = smoother {
                let sm = smooth(k, &xs_copy, &ys_copy);
                m.smooth.push(reduce(&xs_copy[..], &sm, &Envelope::of(&sm), &parts, smooth_view));
            }
        } else {
            for (a, b) in parts {
                if raw {
                    m.raw.push(reduce(&xs, &ys, cols.raw_env(&ys), &[(a, b)], raw_view));
                }
                if let Some(k) = smoother {
                    let (sx, sy) = (&xs_copy[a..b], &ys_copy[a..b]);
                    let sm = smooth(k, sx, sy);
                    m.smooth.push(reduce(sx, &sm, &Envelope::of(&sm), &[(0, sm.len())], smooth_view));
                }
            }
        }
        return m;
    }
    // Sorted data (the usual case): the whole series is one part.
    // Each reduction resumes the last frame's when the view is the same (a live run's frame
    // reads the columns of its new points only).
    let raw = raw.then(|| cols.reduce_raw(&xs, &ys, raw_view));
    let smooth = smoother.map(|k| cols.reduce_smoothed(&xs, &ys, k, smooth_view));
    Member { raw: raw.into_iter().collect(), smooth: smooth.into_iter().collect() }
}

/// The y range of one series' window, in plotted units: its min and max plus 5%, never below 0
/// on a linear axis for data that is never negative (a learning rate, an epoch), and narrowed to the 5-95%
/// percentiles plus a margin when outlier scaling is on and the window holds enough points.
pub(super) fn y_range(r: &Reduced, outliers: bool, log: bool) -> Option<(f64, f64)> {
    let (min, max) =
        r.points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &(_, y)| (l.min(y), h.max(y)));
    if min > max {
        return None;
    }
    let pad = (max - min) * 0.05;
    let floor = if min >= 0.0 && !log { 0.0 } else { f64::NEG_INFINITY };
    let (mut lo, mut hi) = ((min - pad).max(floor), max + pad);
    if let Some((p_lo, p_hi)) = r.y_bounds.filter(|_| outliers && r.in_window >= 20) {
        lo = lo.max(p_lo);
        hi = hi.min(p_hi);
    }
    Some(if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let d = (hi.abs() * 0.1).max(1e-9);
        (lo - d, hi + d)
    } else {
        (lo, hi)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::smooth::Smoother;
    use crate::run::Run;

    /// The chart of series 0 of `run`, 120 points wide, as the monitor's default view asks.
    fn chart_of(run: &Run) -> std::rc::Rc<ChartData> {
        chart_with_flags(run, run.flags())
    }

    /// As [`chart_of`], with these flags (none: the outlier-aware range alone, as the reducer
    /// gives it; a flagged point is always framed).
    fn chart_with_flags(run: &Run, flags: &[crate::analysis::Flag]) -> std::rc::Rc<ChartData> {
        let data = Data { key: (0, 0), store: &run.store, flags };
        let req = Request {
            members: &[0],
            x_axis: XAxis::Step,
            zoom: None,
            anchor: None,
            width: 120,
            smoother: Some(Smoother::default()),
            outliers: true,
            log: false,
        };
        super::super::chart(data, &req, &mut Default::default())
    }

    fn reduced(ys: &[f64], outliers: bool) -> Reduced {
        let xs: Vec<f64> = (0..ys.len()).map(|i| i as f64).collect();
        let view = ReduceView {
            x_lo: 0.0,
            x_hi: ys.len() as f64,
            columns: 50,
            scale: YScale::Linear,
            percentiles: outliers.then_some((5.0, 95.0)),
            margin: 0.1,
        };
        reduce(&xs[..], ys, &Envelope::of(ys), &[(0, ys.len())], &view)
    }

    #[test]
    fn outliers_are_clipped_but_the_bulk_is_framed() {
        let mut ys: Vec<f64> = (0..100).map(|i| 1.0 + i as f64 * 0.01).collect();
        ys.push(1000.0);
        let (lo, hi) = y_range(&reduced(&ys, true), true, false).expect("range");
        assert!(hi < 3.0 && lo > 0.8, "{lo} {hi}");
        let (_, hi) = y_range(&reduced(&ys, false), false, false).expect("range");
        assert!(hi > 1000.0);
    }

    #[test]
    fn a_constant_series_gets_a_visible_range() {
        let (lo, hi) = y_range(&reduced(&[2.0; 30], true), true, false).expect("range");
        assert!(lo < 2.0 && hi > 2.0);
    }

    #[test]
    fn non_negative_data_gets_no_negative_axis() {
        let ys: Vec<f64> = (0..10).map(|i| i as f64).collect();
        assert_eq!(y_range(&reduced(&ys, false), false, false).expect("range").0, 0.0);
        let ys: Vec<f64> = ys.iter().map(|y| y - 1.0).collect();
        assert!(y_range(&reduced(&ys, false), false, false).expect("range").0 < -1.0);
    }

    #[test]
    fn stretches_split_where_x_goes_back_and_leave_out_nan_xs() {
        assert_eq!(stretches(&[]), vec![]);
        assert_eq!(stretches(&[1.0, 2.0, 2.0, 3.0]), vec![(0, 4)]);
        assert_eq!(stretches(&[1.0, 2.0, 3.0, 2.0, 3.0, 1.0]), vec![(0, 3), (3, 5), (5, 6)]);
        assert_eq!(stretches(&[f64::NAN, 1.0, f64::NAN, f64::NAN, 0.5, 2.0]), vec![(1, 2), (4, 6)]);
    }

    #[test]
    fn a_restarted_run_is_drawn_as_one_line_per_attempt() {
        let mut run = Run::new("r.jsonl", Default::default(), Default::default());
        let mut text = String::new();
        // Steps 1..200, then the run resumed from step 100 with other values.
        for (from, to, base) in [(1, 201, 10.0), (100, 301, 20.0)] {
            for step in from..to {
                text.push_str(&format!("{{\"step\": {step}, \"loss\": {}}}\n", base + (step % 7) as f64));
            }
        }
        run.push_lines(1, text.as_bytes());
        let data = chart_of(&run);
        assert_eq!(data.raw.len(), 2, "one line per attempt");
        assert_eq!(data.raw_member, [0, 0]);
        assert_eq!((data.smooth.len(), data.smooth_member.as_slice()), (2, &[0, 0][..]));
        for line in data.raw.iter().chain(&data.smooth) {
            assert!(line.windows(2).all(|w| w[0].0 <= w[1].0), "a line goes back in x");
        }
        // Each attempt keeps its own values: the second never dips to the first one's.
        assert!(data.raw[1].iter().all(|&(_, y)| y >= 20.0));
        assert!(data.smooth[1].iter().all(|&(_, y)| y >= 20.0), "smoothed across the restart");
        assert_eq!((data.raw[0][0].0, data.raw[1][0].0), (1.0, 100.0));
    }

    #[test]
    fn outlier_scaling_of_a_restarted_run_does_not_alias_with_periodic_spikes() {
        // Two attempts of 230k steps, an eval-like spike every 40th step (2.5% of the points):
        // the 5-95% y range must frame the bulk and clip the spikes, whatever the window's length
        // is a multiple of. A sample taken every k-th point meets every spike when k divides 40.
        let mut run = Run::new("r.jsonl", Default::default(), Default::default());
        let mut text = String::new();
        for (from, to) in [(0, 230_000), (100_000, 330_000)] {
            for step in from..to {
                let y = if step % 40 == 0 { 50.0 } else { 1.0 + (step % 7) as f64 * 0.01 };
                text.push_str(&format!("{{\"step\": {step}, \"loss\": {y}}}\n"));
            }
        }
        run.push_lines(1, text.as_bytes());
        // The range as the reducer's percentiles give it: the analyzer flags some of these
        // spikes, and a flagged point is framed whatever the scaling (tested in tests/ui).
        let data = chart_with_flags(&run, &[]);
        assert_eq!(data.raw.len(), 2, "one line per attempt");
        let [lo, hi] = data.y_bounds;
        assert!(hi < 2.0 && lo > 0.5, "the y range {lo}..{hi} does not frame the bulk");
        assert!(data.clipped, "the spikes are clipped to the top edge");
    }

    #[test]
    fn an_x_that_keeps_going_back_is_drawn_as_one_bounded_envelope() {
        let mut run = Run::new("r.jsonl", Default::default(), Default::default());
        let mut text = String::new();
        // A per-epoch counter as the step: 1000 epochs of 100 batches.
        for i in 0..100_000 {
            text.push_str(&format!("{{\"step\": {}, \"loss\": {}}}\n", i % 100, 1.0 + (i % 13) as f64));
        }
        run.push_lines(1, text.as_bytes());
        let data = chart_of(&run);
        assert_eq!((data.raw.len(), data.smooth.len()), (1, 1));
        assert!(data.points <= 4 * 120 + 8, "{} points handed to ratatui", data.points);
    }
}
