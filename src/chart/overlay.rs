//! Charts of several runs overlaid: a sweep, an ablation, a run against its baseline.
//!
//! Each run is a [`Layer`]: its store and the series drawn from it (a store numbers its series on
//! its own, so each layer names its own). A layer is reduced as a chart of one run is (`plot`:
//! the same columns, the same reducer, per column of the chart), and no point is copied; the x
//! window and the y range are shared. The reduction of each layer is memoised on its own (by its
//! store's generation, its series and the window), so a frame in which a few of 200 runs got new
//! points reduces those few, not all 200.
//!
//! Following the newest data, an overlay's window ends a little ahead of it, on a round number
//! ([`window`]): a new point then lands inside the window instead of moving it, and the other
//! runs' reductions stay valid (and the frame sent to the terminal stays small).

use super::plot::{effective_axis, reduce_member, x_at_step_on, x_range_on, y_range, Member};
use super::reduce::{View as ReduceView, YScale};
use super::values::{Xs, Ys};
use super::{labels, Cache, Data, Request, XAxis};
use crate::analysis::Severity;
use crate::store::SeriesId;
use std::cmp::Ordering;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// One layer reduced: its members' lines, and its flags' xs by severity.
type Reduced = (Rc<Vec<Member>>, Rc<Vec<(Severity, Vec<f64>)>>);

/// One run of an overlay: its data and the series drawn from it.
#[derive(Clone, Copy, Debug)]
pub struct Layer<'a> {
    pub data: Data<'a>,
    /// The series drawn, in colour order (usually one: the same metric in every run).
    pub members: &'a [SeriesId],
}

/// What an overlay shows.
#[derive(Clone, Debug)]
pub struct OverlayRequest<'a> {
    /// The runs, drawn in this order (the last on top).
    pub layers: &'a [Layer<'a>],
    /// The x axis, the window, the width, the smoother and the y scaling, as for one run. Its
    /// `members` are not read: each layer names its own.
    pub view: Request<'a>,
    /// Draw each run's raw values besides its smoothed line. Without them (many runs on one
    /// chart), the y range is the smoothed lines'.
    pub raw: bool,
}

/// One run's lines in an overlay, in chart coordinates (clipped to the shared y range).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerData {
    /// The raw lines (empty unless asked for, or when there is no smoother), with the member each
    /// belongs to.
    pub raw: Vec<Vec<(f64, f64)>>,
    pub raw_member: Vec<usize>,
    pub smooth: Vec<Vec<(f64, f64)>>,
    pub smooth_member: Vec<usize>,
    /// Flag markers on the top edge, by severity.
    pub flags: Vec<(Severity, Vec<(f64, f64)>)>,
    /// NaN/inf markers on the bottom edge.
    pub nans: Vec<(f64, f64)>,
    /// The drawn line's last point (where a run's letter goes).
    pub end: Option<(f64, f64)>,
}

/// Everything an overlay draws.
#[derive(Clone, Debug, Default)]
pub struct OverlayData {
    pub x_bounds: [f64; 2],
    pub y_bounds: [f64; 2],
    /// One per layer of the request, in its order.
    pub layers: Vec<LayerData>,
    pub x_labels: Vec<String>,
    pub y_labels: Vec<String>,
    /// Some points lie outside the y range and sit on its edge.
    pub clipped: bool,
    /// The x axis fell back to steps: some run has no time.
    pub no_time: bool,
    /// Points handed to ratatui, all layers together.
    pub points: usize,
}

/// A series' value under the cursor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    /// The point's x on the chart's axis, and its step.
    pub x: f64,
    pub step: f64,
    pub raw: f64,
    /// The smoothed value there (None without a smoother, or for a restarted run's series).
    pub smooth: Option<f64>,
}

/// The axis an overlay of `layers` can use for `mode`, and each layer's first time: a time axis
/// only when every run with data has times (seconds of one run and steps of another on one axis
/// would mean nothing).
pub fn overlay_axis(layers: &[Layer<'_>], mode: XAxis) -> (XAxis, Vec<f64>) {
    let eff: Vec<(XAxis, f64)> = layers.iter().map(|l| effective_axis(l.data.store, mode)).collect();
    let all_timed = layers.iter().zip(&eff).all(|(l, e)| l.data.store.records() == 0 || e.0 == mode);
    let axis = if all_timed { mode } else { XAxis::Step };
    let t0 = eff.iter().map(|e| if axis == XAxis::Step { 0.0 } else { e.1 }).collect();
    (axis, t0)
}

/// The x range of every layer's series together, on the overlay's axis for `mode`.
pub fn overlay_range(layers: &[Layer<'_>], mode: XAxis) -> Option<(f64, f64)> {
    let (axis, t0) = overlay_axis(layers, mode);
    layers
        .iter()
        .zip(&t0)
        .filter_map(|(l, &t0)| x_range_on(l.data.store, l.members, axis, t0))
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
}

/// The window an overlay shows of data spanning `full`: `zoom` wide (or all of it), its right
/// edge at `anchor`, or, following the newest data, a little ahead of it on a round number (a
/// 32nd of the width, rounded to 1, 2 or 5 times a power of ten), so that new points land in it.
pub fn window(full: (f64, f64), zoom: Option<f64>, anchor: Option<f64>) -> (f64, f64) {
    let (full_lo, full_hi) = full;
    let hi = anchor.unwrap_or_else(|| ahead(full_hi, zoom.unwrap_or(full_hi - full_lo)));
    let lo = zoom.map_or(full_lo, |w| hi - w);
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    }
}

/// `x` rounded up to a round fraction of `span`.
fn ahead(x: f64, span: f64) -> f64 {
    if !(span > 0.0 && span.is_finite() && x.is_finite()) {
        return x;
    }
    let q = round_up(span / 32.0);
    let up = (x / q).ceil() * q;
    if up.is_finite() && up >= x {
        up
    } else {
        x
    }
}

/// The smallest of 1, 2, 5 times a power of ten that is at least `x` (> 0).
fn round_up(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * p).find(|&v| v >= x).unwrap_or(10.0 * p)
}

/// The memo key of one layer's reduction: the run, its series, and every setting that changes
/// the reduction (the window, the width, the smoother, the scaling, whether raw lines are drawn).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct LayerKey {
    data: (usize, u64),
    members: Vec<SeriesId>,
    bits: [u64; 7],
}

/// One layer's reduction, before the shared y range is known.
#[derive(Debug)]
pub(super) struct LayerEntry {
    /// (store generation, number of flags) it reflects.
    version: (u64, usize),
    members: Rc<Vec<Member>>,
    flag_xs: Rc<Vec<(Severity, Vec<f64>)>>,
    /// The cache's frame that last used it.
    pub(super) frame: u64,
}

/// (layers' data keys and series, width, view bits, raw).
pub(super) type OverlayKey = (Vec<((usize, u64), Vec<SeriesId>)>, usize, [u64; 5], bool);

/// An overlay computed, and what it was computed from.
#[derive(Debug)]
pub(super) struct OverlayEntry {
    versions: Vec<(u64, usize)>,
    data: Rc<OverlayData>,
    layer_keys: Vec<LayerKey>,
    at: Instant,
    cost: Duration,
}

/// The overlay `req` asks for: from the cache when no layer's data and nothing of the request
/// changed (or, for an expensive overlay while data streams in, recently computed: see
/// [`Cache::served_stale`]).
pub fn overlay(req: &OverlayRequest<'_>, cache: &mut Cache) -> Rc<OverlayData> {
    let view_bits = req.view.bits();
    let key: OverlayKey = (
        req.layers.iter().map(|l| (l.data.key, l.members.to_vec())).collect(),
        req.view.width,
        view_bits,
        req.raw,
    );
    let versions: Vec<(u64, usize)> =
        req.layers.iter().map(|l| (l.data.store.generation(), l.data.flags.len())).collect();
    let last_cost = cache.overlays.get(&key).map(|e| e.cost);
    if let Some(e) = cache.overlays.get(&key) {
        let fresh = e.versions == versions;
        if fresh || super::serve_stale(e.at, e.cost) {
            let out = e.data.clone();
            cache.served_stale |= !fresh;
            let frame = cache.frame;
            for k in &e.layer_keys {
                if let Some(l) = cache.layers.get_mut(k) {
                    l.frame = frame;
                }
            }
            for l in req.layers {
                cache.columns_of(l.data.key.0).touch(l.members);
            }
            return out;
        }
    }
    if cache.overlays.len() >= 64 {
        cache.overlays.clear();
    }
    let started = Instant::now();
    let (data, layer_keys) = compute(req, cache);
    let out = Rc::new(data);
    let cost = match last_cost {
        Some(last) => started.elapsed().min(last),
        None => started.elapsed(),
    };
    let entry = OverlayEntry { versions, data: out.clone(), layer_keys, at: Instant::now(), cost };
    cache.overlays.insert(key, entry);
    out
}

fn compute(req: &OverlayRequest<'_>, cache: &mut Cache) -> (OverlayData, Vec<LayerKey>) {
    let v = &req.view;
    let (axis, t0s) = overlay_axis(req.layers, v.x_axis);
    let mut out = OverlayData {
        no_time: axis != v.x_axis,
        layers: vec![LayerData::default(); req.layers.len()],
        ..Default::default()
    };
    let Some(full) = overlay_range(req.layers, v.x_axis) else {
        out.x_bounds = [0.0, 1.0];
        out.y_bounds = [0.0, 1.0];
        return (out, Vec::new());
    };
    let (lo, hi) = window(full, v.zoom, v.anchor);
    let px = v.width.max(1);
    let scale = if v.log { YScale::Log10 } else { YScale::Linear };
    let raw_view = ReduceView {
        x_lo: lo,
        x_hi: hi,
        columns: px,
        scale,
        percentiles: v.outliers.then_some((5.0, 95.0)),
        margin: 0.1,
    };
    // Raw lines are the lines when nothing is smoothed.
    let raw = req.raw || v.smoother.is_none();
    let smooth_view = ReduceView { percentiles: None, margin: 0.0, ..raw_view };
    let view_bits = v.bits();
    let bits = [lo.to_bits(), hi.to_bits(), px as u64, view_bits[2], view_bits[3], view_bits[4], raw as u64];

    let frame = cache.frame;
    let mut reduced: Vec<Option<Reduced>> = vec![None; req.layers.len()];
    let mut keys = Vec::with_capacity(req.layers.len());
    // The layers whose data or view changed since they were reduced.
    let mut misses: Vec<usize> = Vec::new();
    for (i, layer) in req.layers.iter().enumerate() {
        let data = layer.data;
        let key = LayerKey { data: data.key, members: layer.members.to_vec(), bits };
        let version = (data.store.generation(), data.flags.len());
        match cache.layers.get_mut(&key).filter(|e| e.version == version) {
            Some(e) => {
                e.frame = frame;
                reduced[i] = Some((e.members.clone(), e.flag_xs.clone()));
                cache.columns_of(data.key.0).touch(layer.members);
            }
            None => misses.push(i),
        }
        keys.push(key);
    }
    let views = (&raw_view, &smooth_view);
    let lines = |columns: &mut super::columns::ColumnCache, i: usize| -> Vec<Member> {
        let (layer, t0) = (&req.layers[i], t0s[i]);
        let data = layer.data;
        let mut members: Vec<Member> = layer
            .members
            .iter()
            .map(|&id| {
                reduce_member(columns.sync(data.key, data.store, id, axis, t0), views, v.smoother, raw)
            })
            .collect();
        if !raw && v.outliers {
            // Without raw lines, the smoothed lines frame the y range, outlier-aware as the raw
            // values would: the 5-95% of their drawn points (each column's extremes; a smoothed
            // line is smooth within a column), not of every smoothed value, which a lazily
            // smoothed column computes on each read.
            for r in members.iter_mut().flat_map(|m| m.smooth.iter_mut()) {
                let mut ys: Vec<f64> = r.points.iter().map(|p| p.1).filter(|y| y.is_finite()).collect();
                r.y_bounds = super::reduce::percentile_bounds(&mut ys, 5.0, 95.0, 0.1);
            }
        }
        members
    };
    let mut drawn: Vec<(usize, Vec<Member>)> = Vec::with_capacity(misses.len());
    if spread(req.layers, &misses, |l| {
        let (ids, smoothed) = (l.members, v.smoother.is_some());
        cache
            .columns
            .get(&l.data.key.0)
            .map_or(usize::MAX, |c| c.reduce_left(l.data.store, ids, views, raw, smoothed))
    }) {
        // Much to read (a sweep's histories arriving while it loads): the runs are reduced on
        // every core, each with its own columns taken out of the cache and put back.
        let mut jobs: Vec<(usize, super::columns::ColumnCache, Vec<Member>)> = misses
            .iter()
            .map(|&i| (i, cache.columns.remove(&req.layers[i].data.key.0).unwrap_or_default(), Vec::new()))
            .collect();
        jobs.sort_by_key(|(i, _, _)| std::cmp::Reverse(layer_points(&req.layers[*i])));
        let jobs = crate::formats::par::dealt(jobs, crate::formats::par::threads(), |(i, columns, out)| {
            *out = lines(columns, *i);
        });
        for (i, columns, members) in jobs {
            cache.columns.insert(req.layers[i].data.key.0, columns);
            drawn.push((i, members));
        }
        drawn.sort_by_key(|(i, _)| *i);
    } else {
        for &i in &misses {
            let members = lines(cache.columns_of(req.layers[i].data.key.0), i);
            drawn.push((i, members));
        }
    }
    for (i, members) in drawn {
        let (layer, t0) = (&req.layers[i], t0s[i]);
        let data = layer.data;
        let version = (data.store.generation(), data.flags.len());
        let names: Vec<&str> = layer.members.iter().map(|&id| data.store.name(id)).collect();
        let mut flag_xs = Vec::new();
        for sev in [Severity::Info, Severity::Warning, Severity::Critical] {
            let xs: Vec<f64> = data
                .flags
                .iter()
                .filter(|f| f.severity == sev && names.contains(&f.metric.as_str()))
                .filter_map(|f| x_at_step_on(data.store, data.store.find(&f.metric)?, f.step, axis, t0))
                .filter(|x| (lo..=hi).contains(x))
                .collect();
            if !xs.is_empty() {
                flag_xs.push((sev, xs));
            }
        }
        let entry = LayerEntry { version, members: Rc::new(members), flag_xs: Rc::new(flag_xs), frame };
        reduced[i] = Some((entry.members.clone(), entry.flag_xs.clone()));
        cache.layers.insert(keys[i].clone(), entry);
    }
    let reduced: Vec<Reduced> =
        reduced.into_iter().map(|r| r.expect("every layer is reduced or cached")).collect();

    // The y range: of the raw values when they are drawn, else of the smoothed lines.
    let (mut y_lo, mut y_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    fn ranged(m: &Member, raw: bool) -> &[super::reduce::Reduced] {
        if raw {
            &m.raw
        } else {
            &m.smooth
        }
    }
    for r in reduced.iter().flat_map(|(ms, _)| ms.iter()).flat_map(|m| ranged(m, raw)) {
        if let Some((lo, hi)) = y_range(r, v.outliers, v.log) {
            (y_lo, y_hi) = (y_lo.min(lo), y_hi.max(hi));
        }
    }
    if y_lo > y_hi {
        (y_lo, y_hi) = (0.0, 1.0);
    }
    // Following, held from the range this overlay showed last (see `hold`).
    let held = v.anchor.is_none().then(|| {
        let b = v.bits();
        let runs: Vec<_> = req.layers.iter().map(|l| (l.data.key, l.members.to_vec())).collect();
        (runs, b[0], b[2] | (req.raw as u64) << 8)
    });
    if let Some(k) = held {
        let prev = cache.held_overlay.get(&k).copied();
        (y_lo, y_hi) = super::hold::hold(prev, (y_lo, y_hi));
        if cache.held_overlay.len() >= 256 {
            cache.held_overlay.clear();
        }
        cache.held_overlay.insert(k, (y_lo, y_hi));
    }
    out.clipped = reduced
        .iter()
        .flat_map(|(ms, _)| ms.iter())
        .flat_map(|m| ranged(m, raw))
        .flat_map(|r| &r.points)
        .any(|&(_, y)| y < y_lo || y > y_hi);
    let clip = |pts: &[(f64, f64)]| -> Vec<(f64, f64)> {
        pts.iter().map(|&(x, y)| (x, if y.is_finite() { y.clamp(y_lo, y_hi) } else { y })).collect()
    };
    let per_col = |xs: &mut Vec<f64>, y: f64| -> Vec<(f64, f64)> {
        let w = (hi - lo) / px as f64;
        xs.sort_by(f64::total_cmp);
        xs.dedup_by(|a, b| ((*a - lo) / w).floor() == ((*b - lo) / w).floor());
        xs.iter().map(|&x| (x, y)).collect()
    };
    for ((members, flag_xs), ld) in reduced.iter().zip(&mut out.layers) {
        let mut nan_xs = Vec::new();
        for (k, m) in members.iter().enumerate() {
            for r in &m.raw {
                nan_xs.extend_from_slice(&r.nonfinite_x);
                if raw {
                    ld.raw.push(clip(&r.points));
                    ld.raw_member.push(k);
                }
            }
            for r in &m.smooth {
                if !raw {
                    nan_xs.extend_from_slice(&r.nonfinite_x);
                }
                ld.smooth.push(clip(&r.points));
                ld.smooth_member.push(k);
            }
        }
        ld.nans = per_col(&mut nan_xs, y_lo);
        for (sev, xs) in flag_xs.iter() {
            ld.flags.push((*sev, per_col(&mut xs.clone(), y_hi)));
        }
        let line = if ld.smooth.is_empty() { &ld.raw } else { &ld.smooth };
        ld.end = line.iter().filter_map(|l| l.last().copied()).max_by(|a, b| a.0.total_cmp(&b.0));
    }

    out.x_bounds = [lo, hi];
    out.y_bounds = [y_lo, y_hi];
    out.x_labels = labels::x_labels(lo, hi, axis);
    out.y_labels = labels::y_labels(y_lo, y_hi, v.log);
    out.points = out
        .layers
        .iter()
        .map(|l| {
            l.raw.iter().chain(&l.smooth).map(Vec::len).sum::<usize>()
                + l.nans.len()
                + l.flags.iter().map(|f| f.1.len()).sum::<usize>()
        })
        .sum();
    (out, keys)
}

/// What each series of each layer reads at `x` on the chart's axis (as [`overlay`] draws it for
/// these layers and `view`): its last point at or before `x`, or None before its first point or
/// more than `slack` past its last.
pub fn read_at(
    layers: &[Layer<'_>],
    x: f64,
    slack: f64,
    view: &Request<'_>,
    cache: &mut Cache,
) -> Vec<Vec<Option<Reading>>> {
    let (axis, t0s) = overlay_axis(layers, view.x_axis);
    let mut out = Vec::with_capacity(layers.len());
    for (layer, &t0) in layers.iter().zip(&t0s) {
        let data = layer.data;
        let columns = cache.columns_of(data.key.0);
        let mut row = Vec::with_capacity(layer.members.len());
        for &id in layer.members {
            let c = columns.sync(data.key, data.store, id, axis, t0);
            let n = c.xs.len();
            let i = c.xs.partition_point(0, n, |v| v <= x);
            let Some(i) = i.checked_sub(1) else {
                row.push(None);
                continue;
            };
            let at = c.xs.x(i);
            // Too far before the cursor (or NaN): no reading.
            if !matches!((x - at).partial_cmp(&slack), Some(Ordering::Less | Ordering::Equal)) {
                row.push(None);
                continue;
            }
            let raw = c.ys.y(i);
            let step = c.ys.step(i);
            let smooth = match view.smoother {
                Some(k) if c.cols.sorted => {
                    let (xs, ys) = (c.xs, c.ys);
                    let (sm, _) = c.cols.smoothed(&xs, &ys, k);
                    Some(sm.y(i))
                }
                _ => None,
            };
            row.push(Some(Reading { x: at, step, raw, smooth }));
        }
        out.push(row);
    }
    out
}

/// Points at least in the layers to reduce before they are reduced on every core: below it the
/// threads cost more than they save (a live frame, a step more in each of 50 runs, stays on the
/// loop).
const SPREAD_MIN_POINTS: usize = 1 << 20;

/// The points of a layer's series, a bound on what reducing it reads.
fn layer_points(layer: &Layer<'_>) -> usize {
    layer.members.iter().map(|&id| layer.data.store.series(id).len()).sum()
}

/// Whether the layers `misses` are worth reducing on every core: several runs (each its own
/// columns, so they can be taken apart), much to read (`left`: about how many points a layer's
/// reductions read; a live frame's resume only the new ones), and more than one core.
fn spread(layers: &[Layer<'_>], misses: &[usize], left: impl Fn(&Layer<'_>) -> usize) -> bool {
    if misses.len() < 2 || crate::formats::par::threads() < 2 {
        return false;
    }
    let mut runs: Vec<usize> = misses.iter().map(|&i| layers[i].data.key.0).collect();
    runs.sort_unstable();
    runs.dedup();
    let min = spread_min();
    runs.len() == misses.len()
        && misses
            .iter()
            .try_fold(0usize, |sum, &i| {
                let sum = sum.saturating_add(left(&layers[i]));
                if sum >= min {
                    Err(())
                } else {
                    Ok(sum)
                }
            })
            .is_err()
}

#[cfg(not(test))]
fn spread_min() -> usize {
    SPREAD_MIN_POINTS
}

#[cfg(test)]
thread_local! {
    /// Tests reduce the same overlays on one thread and on every core.
    static SPREAD_MIN: std::cell::Cell<usize> = const { std::cell::Cell::new(SPREAD_MIN_POINTS) };
}

#[cfg(test)]
fn spread_min() -> usize {
    SPREAD_MIN.with(std::cell::Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::smooth::Smoother;
    use crate::run::Run;

    fn run(lines: impl Iterator<Item = String>) -> Run {
        let mut r = Run::new("r.jsonl", Default::default(), Default::default());
        let text: String = lines.map(|l| l + "\n").collect();
        r.push_lines(1, text.as_bytes());
        r
    }

    fn view<'a>(width: usize) -> Request<'a> {
        Request {
            members: &[],
            x_axis: XAxis::Step,
            zoom: None,
            anchor: None,
            width,
            smoother: Some(Smoother::default()),
            outliers: true,
            log: false,
        }
    }

    #[test]
    fn one_layer_draws_what_the_chart_of_that_run_draws() {
        let r = run((1..=300)
            .map(|s| format!("{{\"step\": {s}, \"loss\": {}}}", 1.0 / s as f64 + (s % 7) as f64 * 0.01)));
        let data = Data { key: (0, 0), store: &r.store, flags: r.flags() };
        let mut cache = Cache::default();
        let single = super::super::chart(data, &Request { members: &[0], ..view(120) }, &mut cache);
        let layers = [Layer { data, members: &[0] }];
        let over = overlay(&OverlayRequest { layers: &layers, view: view(120), raw: true }, &mut cache);
        // The window ends ahead of the data, on a round step; the lines are the same points.
        assert_eq!(over.x_bounds[0], single.x_bounds[0]);
        assert!(over.x_bounds[1] >= 300.0 && over.x_bounds[1] <= 320.0, "{:?}", over.x_bounds);
        let again = super::super::chart(
            data,
            &Request { members: &[0], anchor: Some(over.x_bounds[1]), ..view(120) },
            &mut cache,
        );
        assert_eq!(over.layers[0].raw, again.raw);
        assert_eq!(over.layers[0].smooth, again.smooth);
        assert_eq!(over.y_bounds, again.y_bounds);
        assert_eq!(over.layers[0].end, again.smooth[0].last().copied());
    }

    #[test]
    fn layers_share_the_window_and_the_y_range_and_only_changed_layers_are_reduced_again() {
        let a = run((0..1000).map(|s| format!("{{\"step\": {s}, \"loss\": {}}}", 2.0 - s as f64 / 1000.0)));
        let mut b = run((0..500).map(|s| format!("{{\"step\": {s}, \"loss\": {}}}", 5.0 + s as f64 / 500.0)));
        let mut cache = Cache::default();
        let go = |b: &Run, cache: &mut Cache| {
            let layers = [
                Layer { data: Data { key: (0, 0), store: &a.store, flags: a.flags() }, members: &[0] },
                Layer { data: Data { key: (1, 0), store: &b.store, flags: b.flags() }, members: &[0] },
            ];
            overlay(&OverlayRequest { layers: &layers, view: view(100), raw: false }, cache)
        };
        let first = go(&b, &mut cache);
        assert_eq!(first.x_bounds[0], 0.0);
        assert!(first.x_bounds[1] >= 999.0);
        let [lo, hi] = first.y_bounds;
        assert!(lo <= 1.1 && hi >= 5.9, "both runs inside the y range: {lo}..{hi}");
        assert!(first.layers.iter().all(|l| l.raw.is_empty() && l.smooth.len() == 1));
        let b_end = first.layers[1].end.expect("an end");
        assert!(b_end.0 >= 498.0 && b_end.0 < 500.0, "{b_end:?}");
        // b grows: a's reduction is reused (the window did not move), b's is redone.
        let a_before = cache.layers.iter().find(|(k, _)| k.data.0 == 0).map(|(_, e)| Rc::as_ptr(&e.members));
        b.push_lines(501, b"{\"step\": 500, \"loss\": 6.0}\n");
        let second = go(&b, &mut cache);
        assert_eq!(second.x_bounds, first.x_bounds, "the window stays ahead of the data");
        let a_after = cache.layers.iter().find(|(k, _)| k.data.0 == 0).map(|(_, e)| Rc::as_ptr(&e.members));
        assert_eq!(a_before, a_after, "run a was reduced again");
        assert_ne!(second.layers[1], first.layers[1]);
        assert_eq!(second.layers[0], first.layers[0]);
    }

    #[test]
    fn runs_reduced_on_every_core_are_those_reduced_one_by_one() {
        // Runs of different lengths and shapes: a restart (unsorted steps), NaNs, a spike; and
        // a pinned window, so that resumed reductions are compared too.
        let mut runs: Vec<Run> = (0..7)
            .map(|k| {
                run((0..400 + 300 * k).map(move |s| {
                    let step = if k == 3 && s >= 500 { s - 200 } else { s };
                    let y = if k == 5 && s % 97 == 0 { f64::NAN } else { 1.0 + k as f64 / (1.0 + s as f64) };
                    let y = if k == 2 && s == 333 { 50.0 } else { y };
                    format!("{{\"step\": {step}, \"loss\": {y}, \"acc\": {}}}", (s % 13) as f64 / 13.0)
                }))
            })
            .collect();
        let views =
            [view(90), Request { outliers: false, ..view(57) }, Request { smoother: None, ..view(131) }];
        let mut caches = [Cache::default(), Cache::default()];
        for round in 0..3 {
            for (v, raw) in views.iter().zip([false, true, false]) {
                let layers: Vec<Layer<'_>> = runs
                    .iter()
                    .enumerate()
                    .map(|(k, r)| Layer {
                        data: Data { key: (k, 0), store: &r.store, flags: r.flags() },
                        members: if k % 2 == 0 { &[0, 1] } else { &[1] },
                    })
                    .collect();
                let req = OverlayRequest { layers: &layers, view: v.clone(), raw };
                let mut out = Vec::new();
                for (cache, min) in caches.iter_mut().zip([usize::MAX, 0]) {
                    SPREAD_MIN.with(|m| m.set(min));
                    let cores = crate::formats::par::threads();
                    assert_eq!(
                        spread(&layers, &(0..layers.len()).collect::<Vec<_>>(), |_| 1),
                        min <= 1 && cores > 1
                    );
                    out.push(overlay(&req, cache));
                }
                SPREAD_MIN.with(|m| m.set(SPREAD_MIN_POINTS));
                assert_eq!(out[0].layers, out[1].layers, "round {round}");
                assert_eq!(out[0].x_bounds, out[1].x_bounds);
                assert_eq!(out[0].y_bounds, out[1].y_bounds);
                assert!(out[0].layers.iter().all(|l| !l.smooth.is_empty() || !l.raw.is_empty()));
            }
            // Every run grows: each is reduced again, from where its last reduction stopped.
            for (k, r) in runs.iter_mut().enumerate() {
                let n = r.store.records();
                let more: String = (0..50 + 10 * k)
                    .map(|s| {
                        format!("{{\"step\": {}, \"loss\": 0.5, \"acc\": 0.9}}\n", 2000 + 100 * round + s)
                    })
                    .collect();
                r.push_lines(n as u64 + 1, more.as_bytes());
            }
        }
    }

    #[test]
    fn a_time_axis_needs_every_run_to_have_times() {
        let timed =
            run((0..10)
                .map(|s| format!("{{\"step\": {s}, \"loss\": 1, \"time\": {}}}", 1_700_000_000 + s * 2)));
        let untimed = run((0..10).map(|s| format!("{{\"step\": {s}, \"loss\": 1}}")));
        fn layer(r: &Run, k: usize) -> Layer<'_> {
            Layer { data: Data { key: (k, 0), store: &r.store, flags: &[] }, members: &[0] }
        }
        let both = [layer(&timed, 0), layer(&untimed, 1)];
        assert_eq!(overlay_axis(&both, XAxis::Relative).0, XAxis::Step);
        let one = [layer(&timed, 0)];
        assert_eq!(overlay_axis(&one, XAxis::Relative), (XAxis::Relative, vec![1_700_000_000.0]));
        assert_eq!(overlay_range(&one, XAxis::Relative), Some((0.0, 18.0)));
        let mut cache = Cache::default();
        let over = overlay(
            &OverlayRequest { layers: &both, view: Request { x_axis: XAxis::Wall, ..view(50) }, raw: true },
            &mut cache,
        );
        assert!(over.no_time);
    }

    #[test]
    fn the_window_follows_a_little_ahead_on_round_numbers() {
        assert_eq!(window((0.0, 1000.0), None, None), (0.0, 1000.0));
        assert_eq!(window((0.0, 1001.0), None, None), (0.0, 1050.0));
        assert_eq!(window((0.0, 1001.0), Some(100.0), None), (905.0, 1005.0));
        assert_eq!(window((0.0, 1001.0), Some(100.0), Some(500.0)), (400.0, 500.0));
        assert_eq!(window((7.0, 7.0), None, None), (6.5, 7.5));
        assert_eq!(round_up(3.1), 5.0);
        assert_eq!(round_up(0.012), 0.02);
    }

    #[test]
    fn the_cursor_reads_each_run_at_its_last_point_before_it() {
        let a = run((0..100).map(|s| format!("{{\"step\": {}, \"loss\": {s}}}", s * 10)));
        let b = run((0..10).map(|s| format!("{{\"step\": {}, \"loss\": {}}}", s * 10, -s)));
        let layers = [
            Layer { data: Data { key: (0, 0), store: &a.store, flags: &[] }, members: &[0] },
            Layer { data: Data { key: (1, 0), store: &b.store, flags: &[] }, members: &[0] },
        ];
        let mut cache = Cache::default();
        let got = read_at(&layers, 55.0, 10.0, &view(100), &mut cache);
        let ra = got[0][0].expect("a reads");
        assert_eq!((ra.x, ra.step, ra.raw), (50.0, 50.0, 5.0));
        assert!(ra.smooth.is_some_and(|s| s < 5.0 && s > 2.0), "{ra:?}");
        assert_eq!(got[1][0].map(|r| r.raw), Some(-5.0));
        // Past b's last point by more than the slack: b has nothing there.
        let got = read_at(&layers, 500.0, 10.0, &view(100), &mut cache);
        assert!(got[0][0].is_some() && got[1][0].is_none());
        assert!(read_at(&layers, -1.0, 10.0, &view(100), &mut cache)[0][0].is_none());
    }
}
