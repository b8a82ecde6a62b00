//! Reduction for drawing: what a chart of a run shows, from a [`Request`] (the series, the x axis,
//! the window, the width in points, the smoother, the y scaling) and a [`Cache`], computed without
//! reading more of the store than the window needs.
//!
//! [`chart`] is the entry point. Its result is memoised in the [`Cache`] by the store's generation
//! and the request, so a frame with nothing new costs no recomputation. Under it, `columns` keeps,
//! for the series on screen only, their block summaries (`reduce::Envelope`) and the smoother's
//! state, extended by the points that arrive; the xs and raw values are read from the store
//! (`values`). A live million-point chart costs the reduction of its columns per frame (`reduce`:
//! one reducer, from the summaries), not a copy of its points.
//!
//! Smoothing itself is `crate::analysis::smooth`; this module keeps its state per charted series.

mod columns;
pub mod heat;
pub mod hold;
mod labels;
mod overlay;
mod plot;
pub mod reduce;
pub mod values;

pub use heat::{heat, heat_window, warm_heat, Cell, HeatData, HeatRequest};
pub use labels::{x_ticks, y_ticks};
pub use overlay::{
    overlay, overlay_axis, overlay_range, read_at, window, Layer, LayerData, OverlayData, OverlayRequest,
    Reading,
};
pub use plot::{effective_axis, stretches, x_at_step, x_range, ChartData, MAX_STRETCHES};

use crate::analysis::smooth::Smoother;
use crate::analysis::Flag;
use crate::store::{SeriesId, Store};
use columns::ColumnCache;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What the x axis of a chart shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum XAxis {
    Step,
    /// Seconds since the run's first record.
    Relative,
    /// Clock time (UTC).
    Wall,
}

impl XAxis {
    pub fn next(self) -> Self {
        match self {
            XAxis::Step => XAxis::Relative,
            XAxis::Relative => XAxis::Wall,
            XAxis::Wall => XAxis::Step,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            XAxis::Step => "step",
            XAxis::Relative => "relative time",
            XAxis::Wall => "wall time (UTC)",
        }
    }
}

/// The run a chart is drawn from.
#[derive(Clone, Copy, Debug)]
pub struct Data<'a> {
    /// What the caller calls this run's data (the monitor: its slot and run epoch, which changes
    /// when a run is replaced): the cache starts over when it changes.
    pub key: (usize, u64),
    pub store: &'a Store,
    /// The run's flags, drawn as markers on the charts of their metrics.
    pub flags: &'a [Flag],
}

/// What one chart shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Request<'a> {
    /// The series drawn together (a train series and its eval partner), in colour order.
    pub members: &'a [SeriesId],
    /// A time axis falls back to steps when the log has no time ([`ChartData::no_time`]).
    pub x_axis: XAxis,
    /// The window's width in x units; `None` shows everything.
    pub zoom: Option<f64>,
    /// The window's right edge; `None` follows the newest data.
    pub anchor: Option<f64>,
    /// Points across the plot (two per terminal cell in braille).
    pub width: usize,
    /// The smoothed line's smoother; `None` draws the raw line only.
    pub smoother: Option<Smoother>,
    /// Outlier-aware y scaling: the 5-95% of the visible values plus a margin.
    pub outliers: bool,
    /// A log10 y axis.
    pub log: bool,
}

/// (data key, members, width, [zoom, anchor, flags of the view, smoother kind, its parameter]).
type Key = ((usize, u64), Vec<SeriesId>, usize, [u64; 5]);

impl Request<'_> {
    fn key(&self, data: &Data<'_>) -> Key {
        (data.key, self.members.to_vec(), self.width, self.bits())
    }

    /// [zoom, anchor, flags of the view, smoother kind, its parameter], as bits.
    fn bits(&self) -> [u64; 5] {
        let (kind, param) = match self.smoother {
            None => (0, 0),
            Some(Smoother::Ema { weight }) => (1, weight.to_bits()),
            Some(Smoother::TimeWeightedEma { param }) => (2, param.to_bits()),
            Some(Smoother::Gaussian { sigma }) => (3, sigma.to_bits()),
            Some(Smoother::RunningAverage { window }) => (4, window as u64),
        };
        [
            self.zoom.map_or(u64::MAX, f64::to_bits),
            self.anchor.map_or(u64::MAX, f64::to_bits),
            (self.outliers as u64) | (self.log as u64) << 1 | (self.x_axis as u64) << 2,
            kind,
            param,
        ]
    }
}

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

/// Chart data by request, and the columns of the series charted (per run: the monitor's slot,
/// the first number of a [`Data::key`]).
#[derive(Default, Debug)]
pub struct Cache {
    map: HashMap<Key, Entry>,
    overlays: HashMap<overlay::OverlayKey, overlay::OverlayEntry>,
    /// Each overlaid run's reduction (see `overlay`).
    layers: HashMap<overlay::LayerKey, overlay::LayerEntry>,
    served_stale: bool,
    columns: HashMap<usize, ColumnCache>,
    /// Frames drawn (see [`Cache::end_frame`]).
    frame: u64,
    /// The heatmap of a per-layer family (its memo and its own columns).
    pub heat: heat::HeatCache,
    /// The y range each followed chart showed last (see `hold`): the next one starts from it.
    held_y: HashMap<HeldKey, (f64, f64)>,
    /// The same for overlays of several runs.
    held_overlay: HashMap<HeldOverlayKey, (f64, f64)>,
    /// The last chart computed for each (data key, members, width), whatever the view: what a
    /// chart shows while its new view is computed away from the loop ([`Cache::last_chart`]).
    last: HashMap<LastKey, Rc<ChartData>>,
}

/// A chart on screen, whatever its view: (data key, members, width).
type LastKey = ((usize, u64), Vec<SeriesId>, usize);

/// A followed chart, whatever its width and smoother: (data key, members, zoom, view flags).
type HeldKey = ((usize, u64), Vec<SeriesId>, u64, u64);
/// A followed overlay: (each run's data key and members, zoom, view flags and raw lines).
type HeldOverlayKey = (Vec<((usize, u64), Vec<SeriesId>)>, u64, u64);

impl Cache {
    /// Whether the last frame showed a chart older than its data: the loop draws again soon.
    pub fn served_stale(&self) -> bool {
        self.served_stale || self.heat.building()
    }
    /// Called before a frame is drawn.
    pub fn begin_frame(&mut self) {
        self.served_stale = false;
        self.heat.begin_frame();
    }
    /// Called after a frame is drawn: what it did not show lets go of its columns (and of the
    /// reductions of the runs it did not overlay).
    pub fn end_frame(&mut self) {
        for c in self.columns.values_mut() {
            c.end_frame();
        }
        self.columns.retain(|_, c| c.held() > 0);
        let frame = self.frame;
        self.layers.retain(|_, e| e.frame == frame);
        self.frame += 1;
    }
    /// Series whose columns are held (for tests).
    pub fn columns_held(&self) -> usize {
        self.columns.values().map(ColumnCache::held).sum()
    }
    /// Heap bytes held by the charts' columns (summaries and smoothers' checkpoints; for tests and
    /// memory probes).
    pub fn columns_bytes(&self) -> usize {
        self.columns.values().map(ColumnCache::held_bytes).sum()
    }
    /// How many times a series' columns were built from scratch (for tests).
    pub fn column_rebuilds(&self) -> u64 {
        self.columns.values().map(ColumnCache::rebuilds).sum()
    }
    /// How many times the smoothed series now held were computed from scratch (for tests).
    pub fn full_smooths(&self) -> u64 {
        self.columns.values().map(ColumnCache::full_smooths).sum()
    }
    /// Overlaid runs whose reduction is held (for tests).
    pub fn layers_held(&self) -> usize {
        self.layers.len()
    }

    /// Lets go of everything computed and kept (charts, overlays, reductions, columns), but not
    /// of the y ranges held while following: the next frame is drawn from scratch as the kept
    /// state would have drawn it (what tests compare an incrementally updated frame with).
    pub fn forget_kept(&mut self) {
        self.map.clear();
        self.overlays.clear();
        self.layers.clear();
        self.columns.clear();
        self.last.clear();
    }

    /// About how many points the next frame would go through to chart `members` of `data` on
    /// `x_axis` smoothed by `smoother` (see `ColumnCache::work`): what a view change costs.
    pub fn work(
        &self,
        data: Data<'_>,
        members: &[SeriesId],
        x_axis: XAxis,
        smoother: Option<Smoother>,
    ) -> usize {
        let (axis, t0) = plot::effective_axis(data.store, x_axis);
        match self.columns.get(&data.key.0) {
            Some(c) => c.work(data.key, data.store, members, axis, t0, smoother),
            None => ColumnCache::default().work(data.key, data.store, members, axis, t0, smoother),
        }
    }

    /// The columns of `members` of `data` are on screen in this frame (shown from
    /// [`Cache::last_chart`]): they are kept.
    pub fn touch(&mut self, data: Data<'_>, members: &[SeriesId]) {
        if let Some(c) = self.columns.get_mut(&data.key.0) {
            c.touch(members);
        }
    }

    /// Takes the columns a [`ColumnsJob`] built away from the loop.
    pub fn install(&mut self, prepared: Prepared) {
        self.columns_of(prepared.key.0).merge(prepared.columns);
    }

    /// The last chart computed of `members` of `data`, `width` points across, whatever the view
    /// (smoother, x axis) it was computed for: shown while the new one is computed.
    pub fn last_chart(&self, data: Data<'_>, members: &[SeriesId], width: usize) -> Option<Rc<ChartData>> {
        self.last.get(&(data.key, members.to_vec(), width)).cloned()
    }

    /// The columns of the run numbered `run` (a [`Data::key`]'s first number).
    fn columns_of(&mut self, run: usize) -> &mut ColumnCache {
        self.columns.entry(run).or_default()
    }

    /// Builds the columns of every series about to be charted together (`members`, on `x_axis`,
    /// smoothed by `smoother`) on two threads when there is much to build: a big run's first frame
    /// builds millions of points per series, and the series are independent of each other. Called
    /// by the loop before it draws, so that drawing finds them ready (and spawns nothing).
    pub fn warm(&mut self, data: Data<'_>, members: &[SeriesId], x_axis: XAxis, smoother: Option<Smoother>) {
        let (axis, t0) = plot::effective_axis(data.store, x_axis);
        self.columns_of(data.key.0).warm(data.key, data.store, members, axis, t0, smoother);
    }

    /// Builds the columns of every series an overlay of `layers` will chart (on `x_axis`, smoothed
    /// by `smoother`), the runs spread over the machine's cores when there is much to build: the
    /// first frame of a sweep of 200 runs builds thousands of series. Called by the loop before
    /// it draws, as [`Cache::warm`].
    pub fn warm_overlay(
        &mut self,
        layers: &[Layer<'_>],
        x_axis: XAxis,
        smoother: Option<Smoother>,
        raw: bool,
    ) {
        let (axis, t0s) = overlay_axis(layers, x_axis);
        let mut work = 0;
        let mut jobs: Vec<(usize, ColumnCache)> = Vec::new();
        for l in layers {
            let missing = self.columns.get(&l.data.key.0).map_or_else(
                || l.members.iter().map(|&id| l.data.store.series(id).len()).sum(),
                |c| c.missing(l.data.key, l.data.store, l.members, axis),
            );
            work += missing;
        }
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        if cores < 2 || layers.len() < 2 || work < columns::WARM_MIN_POINTS {
            return;
        }
        for l in layers {
            if !jobs.iter().any(|(k, _)| *k == l.data.key.0) {
                let c = self.columns.remove(&l.data.key.0).unwrap_or_default();
                jobs.push((l.data.key.0, c));
            }
        }
        let threads = cores.min(jobs.len());
        let mut shares: Vec<Vec<(usize, ColumnCache)>> = (0..threads).map(|_| Vec::new()).collect();
        for (i, job) in jobs.into_iter().enumerate() {
            shares[i % threads].push(job);
        }
        let build = |share: &mut Vec<(usize, ColumnCache)>| {
            for (run, cols) in share.iter_mut() {
                for (l, &t0) in layers.iter().zip(&t0s).filter(|(l, _)| l.data.key.0 == *run) {
                    cols.build(l.data.key, l.data.store, l.members, axis, t0, smoother, raw);
                }
            }
        };
        std::thread::scope(|sc| {
            let (mine, theirs) = shares.split_at_mut(1);
            for share in theirs.iter_mut() {
                sc.spawn(|| build(share));
            }
            build(&mut mine[0]);
        });
        for (run, cols) in shares.into_iter().flatten() {
            self.columns.insert(run, cols);
        }
    }
}

/// The chart `req` asks for, of `data`: from the cache when the data and the request are
/// unchanged (or, for an expensive chart while data streams in, recently computed: see
/// [`Cache::served_stale`]).
pub fn chart(data: Data<'_>, req: &Request<'_>, cache: &mut Cache) -> Rc<ChartData> {
    let key = req.key(&data);
    let version = (data.store.generation(), data.flags.len());
    let last_cost = cache.map.get(&key).map(|e| e.cost);
    if let Some(e) = cache.map.get(&key) {
        let fresh = e.data_version == version;
        if fresh || (e.cost >= EXPENSIVE && e.at.elapsed() < e.cost * STALE_FACTOR) {
            let out = e.data.clone();
            cache.served_stale |= !fresh;
            cache.columns_of(data.key.0).touch(req.members);
            cache.remember(&data, req, &out);
            return out;
        }
    }
    if cache.map.len() >= 64 {
        cache.map.clear();
    }
    let started = Instant::now();
    let columns = cache.columns_of(data.key.0);
    let cold = (columns.rebuilds(), columns.full_smooths());
    // Following (no anchor), the y range is held from the last one this chart showed.
    let held = req.anchor.is_none().then(|| {
        let b = req.bits();
        (data.key, req.members.to_vec(), b[0], b[2])
    });
    let prev = held.as_ref().and_then(|k| cache.held_y.get(k).copied());
    let columns = cache.columns_of(data.key.0);
    let out = Rc::new(plot::compute(columns, data, req, prev));
    if let Some(k) = held {
        if cache.held_y.len() >= 256 {
            cache.held_y.clear();
        }
        cache.held_y.insert(k, (out.y_bounds[0], out.y_bounds[1]));
    }
    // Only a steady cost may throttle redraws: building the columns or smoothing a series from
    // scratch is paid once, and a one-off spike (a column growing its allocation) takes two
    // expensive frames in a row to count.
    let columns = cache.columns_of(data.key.0);
    let warm = (columns.rebuilds(), columns.full_smooths()) == cold;
    let cost = match (warm, last_cost) {
        (false, _) => Duration::ZERO,
        (true, Some(last)) => started.elapsed().min(last),
        (true, None) => started.elapsed(),
    };
    let entry = Entry { data_version: version, data: out.clone(), at: Instant::now(), cost };
    cache.map.insert(key, entry);
    cache.remember(&data, req, &out);
    out
}

impl Cache {
    /// Keeps `out` as the last chart of its members and width ([`Cache::last_chart`]).
    fn remember(&mut self, data: &Data<'_>, req: &Request<'_>, out: &Rc<ChartData>) {
        let key = (data.key, req.members.to_vec(), req.width);
        if let Some(last) = self.last.get_mut(&key) {
            if !Rc::ptr_eq(last, out) {
                *last = out.clone();
            }
            return;
        }
        if self.last.len() >= 64 {
            self.last.clear();
        }
        self.last.insert(key, out.clone());
    }
}

/// The columns a view change needs (every series it charts, on its x axis, smoothed by its
/// smoother), to be built away from the monitor's loop: on a big run, smoothing a million points
/// per series again or reading them on another axis takes the loop a few hundred milliseconds,
/// during which no key, clock tick or new data would be answered. It holds a copy of what the
/// view charts ([`Store::snapshot`]: the record table and those series), so the worker reads no
/// state the loop changes; [`ColumnsJob::run`] builds them, [`Cache::install`] takes the result.
#[derive(Debug)]
pub struct ColumnsJob {
    key: (usize, u64),
    store: Store,
    members: Vec<SeriesId>,
    x_axis: XAxis,
    smoother: Option<Smoother>,
}

/// What a [`ColumnsJob`] built, for [`Cache::install`].
#[derive(Debug)]
pub struct Prepared {
    /// The [`Data::key`] of the run it was built for.
    pub key: (usize, u64),
    columns: ColumnCache,
}

impl ColumnsJob {
    /// The job for charting `members` of `data` on `x_axis`, smoothed by `smoother`: copies
    /// the record table and those series (the loop pays the copy, the worker the rest).
    pub fn new(data: Data<'_>, members: &[SeriesId], x_axis: XAxis, smoother: Option<Smoother>) -> Self {
        let mut ids = members.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let (axis, _) = plot::effective_axis(data.store, x_axis);
        let store = data.store.snapshot(&ids, axis != XAxis::Step);
        ColumnsJob { key: data.key, store, members: ids, x_axis, smoother }
    }

    /// Points the job copied (for benchmarks).
    pub fn points(&self) -> usize {
        self.members.iter().map(|&id| self.store.series(id).len()).sum()
    }

    /// Builds the columns (on two threads when there is much to build, as the first frame of a
    /// big run does); `None` when `cancelled` says a newer view made it useless (checked between
    /// series).
    pub fn run(self, cancelled: impl Fn() -> bool) -> Option<Prepared> {
        let (axis, t0) = plot::effective_axis(&self.store, self.x_axis);
        let mut columns = ColumnCache::default();
        if cancelled() {
            return None;
        }
        columns.warm(self.key, &self.store, &self.members, axis, t0, self.smoother);
        for &id in &self.members {
            if cancelled() {
                return None;
            }
            columns.build(self.key, &self.store, &[id], axis, t0, self.smoother, true);
        }
        Some(Prepared { key: self.key, columns })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RecordMeta;

    fn push(store: &mut Store, ids: &[SeriesId], from: usize, to: usize) {
        for i in from..to {
            let r = store.begin_record(RecordMeta {
                step: i as f64,
                time: 1.7e9 + i as f64 * 0.3,
                line: i as u64 + 1,
            });
            for (k, &id) in ids.iter().enumerate() {
                store.push(r, id, ((i * (k + 7)) % 97) as f64 / 8.0 + (i as f64 / 1e4).sin());
            }
        }
    }

    #[test]
    fn columns_built_away_from_the_loop_chart_as_inline_even_after_new_data() {
        let mut store = Store::new();
        let ids: Vec<SeriesId> = ["loss", "acc", "lr"].iter().map(|n| store.intern(n)).collect();
        push(&mut store, &ids, 0, 40_000);
        let members = [ids[0], ids[1]];
        for (x_axis, smoother) in [
            (XAxis::Relative, Some(Smoother::Gaussian { sigma: 5.0 })),
            (XAxis::Step, Some(Smoother::Ema { weight: 0.9 })),
            (XAxis::Wall, Some(Smoother::TimeWeightedEma { param: 0.5 })),
            (XAxis::Step, Some(Smoother::RunningAverage { window: 9 })),
            (XAxis::Step, None),
        ] {
            let mut store = store.clone();
            let job =
                ColumnsJob::new(Data { key: (0, 1), store: &store, flags: &[] }, &members, x_axis, smoother);
            assert_eq!(job.points(), 80_000, "only the charted series are copied");
            // New data arrives while the worker builds.
            push(&mut store, &ids, 40_000, 40_500);
            let data = Data { key: (0, 1), store: &store, flags: &[] };
            let prepared = job.run(|| false).expect("not cancelled");
            let req = Request {
                members: &members,
                x_axis,
                zoom: None,
                anchor: None,
                width: 300,
                smoother,
                outliers: true,
                log: false,
            };
            let mut away = Cache::default();
            away.install(prepared);
            let before = away.column_rebuilds();
            let work = away.work(data, &members, x_axis, smoother);
            assert!(
                work <= 3 * 500 * members.len(),
                "only the new points are left: {work} {x_axis:?} {smoother:?}"
            );
            let got = chart(data, &req, &mut away);
            assert_eq!(away.column_rebuilds(), before, "nothing rebuilt after the result");
            let want = chart(data, &req, &mut Cache::default());
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "{x_axis:?} {smoother:?}");
        }
    }

    #[test]
    fn a_cancelled_job_stops_and_a_snapshot_holds_only_what_is_charted() {
        let mut store = Store::new();
        let ids: Vec<SeriesId> = ["loss", "acc"].iter().map(|n| store.intern(n)).collect();
        push(&mut store, &ids, 0, 1000);
        let snap = store.snapshot(&ids[..1], false);
        assert_eq!(snap.records(), 1000);
        assert!(snap.times().is_empty());
        assert_eq!(snap.series(ids[0]).values(), store.series(ids[0]).values());
        assert_eq!((snap.name(ids[1]), snap.series(ids[1]).len()), ("acc", 0));
        let data = Data { key: (0, 1), store: &store, flags: &[] };
        assert!(ColumnsJob::new(data, &ids, XAxis::Step, None).run(|| true).is_none());
    }
}
