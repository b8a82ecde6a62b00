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

/// Charts (and overlays) that cost more than this to compute are refreshed at most every `STALE_FACTOR` times
/// their cost while data streams in, so a month-long run being written to cannot keep the loop
/// busy recomputing a million points per frame. Small charts are always fresh.
const EXPENSIVE: Duration = Duration::from_millis(5);
const STALE_FACTOR: u32 = 10;

/// Whether a chart or overlay computed `at`, in `cost`, may still be served after its data
/// changed (see [`EXPENSIVE`]). Never in the unit tests: they compare what was computed, and on
/// a loaded machine (a test suite's threads) any small chart can take over 5 ms.
fn serve_stale(at: Instant, cost: Duration) -> bool {
    !cfg!(test) && cost >= EXPENSIVE && at.elapsed() < cost * STALE_FACTOR
}

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
    /// smoothed by `smoother`) on every core when there is much to build: a big run's first frame
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
        let cores = crate::formats::par::threads();
        if cores < 2 || layers.len() < 2 || work < columns::WARM_MIN_POINTS {
            return;
        }
        for l in layers {
            if !jobs.iter().any(|(k, _)| *k == l.data.key.0) {
                let c = self.columns.remove(&l.data.key.0).unwrap_or_default();
                jobs.push((l.data.key.0, c));
            }
        }
        let jobs = crate::formats::par::dealt(jobs, cores, |(run, cols)| {
            for (l, &t0) in layers.iter().zip(&t0s).filter(|(l, _)| l.data.key.0 == *run) {
                cols.build_on(l.data.key, l.data.store, l.members, axis, t0, smoother, raw, 1);
            }
        });
        self.columns.extend(jobs);
    }
}

/// What the overlaid grid charts, as the loop last drew it (comparing runs): the metrics on its
/// page, the x axis mode, the smoother and whether raw lines are drawn. The loader builds a run's
/// columns by it as soon as the run's history is read ([`Prepared::for_history`]), on its own
/// thread, so that the loop only installs them: on a sweep of 200 runs of 50,000 steps, building
/// every overlaid series' columns on the loop after the histories were in cost it seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct OverlayPlan {
    /// The metrics charted (one overlay each), by name.
    pub names: Vec<String>,
    pub x_axis: XAxis,
    pub smoother: Option<Smoother>,
    /// Whether the summaries of the raw values are drawn too.
    pub raw: bool,
}

/// The [`OverlayPlan`] shared between the loop, which sets it before each frame of an overlaid
/// grid, and the loader's threads, which read it when a history is in. Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct SharedPlan(std::sync::Arc<std::sync::Mutex<Option<OverlayPlan>>>);

impl SharedPlan {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<OverlayPlan>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Sets the plan (`None`: no overlaid grid is drawn; nothing is built ahead).
    pub fn set(&self, plan: Option<OverlayPlan>) {
        let mut held = self.lock();
        if *held != plan {
            *held = plan;
        }
    }
    /// The plan now.
    pub fn get(&self) -> Option<OverlayPlan> {
        self.lock().clone()
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
        if fresh || serve_stale(e.at, e.cost) {
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
/// during which no key, clock tick or new data would be answered. It holds a snapshot of what the
/// view charts ([`Store::snapshot`]: the record table and those series, their columns shared with
/// the store, copy on write), so the worker reads no state the loop changes; [`ColumnsJob::run`] builds them, [`Cache::install`] takes the result.
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

impl Prepared {
    /// The columns an overlaid grid drawn by `plan` charts of a run whose history `store` was
    /// just read (see [`OverlayPlan`]), built on the caller's thread exactly as the loop would
    /// build them ([`Cache::warm_overlay`]), for [`Cache::install_as`] once the run has its key.
    /// `None` when the plan charts none of its series.
    pub fn for_history(store: &Store, plan: &OverlayPlan) -> Option<Prepared> {
        let mut ids: Vec<SeriesId> = plan.names.iter().filter_map(|n| store.find(n)).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() || store.records() == 0 {
            return None;
        }
        let (axis, t0) = layer_axis(store, plan.x_axis);
        // A placeholder key: the run's key is known once the loop takes the history.
        let key = (usize::MAX, u64::MAX);
        let mut columns = ColumnCache::default();
        columns.build_on(key, store, &ids, axis, t0, plan.smoother, plan.raw, 1);
        Some(Prepared { key, columns })
    }

    /// Series whose columns it holds (for tests).
    pub fn series(&self) -> usize {
        self.columns.held()
    }
}

/// The axis and first time a layer of `store` gets in an overlay for `mode` when every run
/// overlaid has times (as [`overlay_axis`] decides; when one has none, the overlay falls back to
/// steps and columns built this way start over on the loop).
fn layer_axis(store: &Store, mode: XAxis) -> (XAxis, f64) {
    let (eff, t0) = plot::effective_axis(store, mode);
    if mode == XAxis::Step || eff != mode {
        (XAxis::Step, 0.0)
    } else {
        (mode, t0)
    }
}

impl Cache {
    /// Takes the columns [`Prepared::for_history`] built, as those of the run `key` (a
    /// [`Data::key`]: the slot and epoch the run got when its history was taken).
    pub fn install_as(&mut self, mut prepared: Prepared, key: (usize, u64)) {
        prepared.columns.rekey(key);
        prepared.key = key;
        self.install(prepared);
    }
}

impl ColumnsJob {
    /// The job for charting `members` of `data` on `x_axis`, smoothed by `smoother`: a snapshot
    /// of the record table and those series (sharing their columns: the loop's part costs a
    /// pointer per 65,536 values, the worker does the rest).
    pub fn new(data: Data<'_>, members: &[SeriesId], x_axis: XAxis, smoother: Option<Smoother>) -> Self {
        let mut ids = members.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let (axis, _) = plot::effective_axis(data.store, x_axis);
        let store = data.store.snapshot(&ids, axis != XAxis::Step);
        ColumnsJob { key: data.key, store, members: ids, x_axis, smoother }
    }

    /// Points the job's snapshot holds (for benchmarks).
    pub fn points(&self) -> usize {
        self.members.iter().map(|&id| self.store.series(id).len()).sum()
    }

    /// Builds the columns (on every core when there is much to build, as the first frame of a
    /// big run does); `None` when `cancelled` says a newer view made it useless (checked between
    /// series).
    pub fn run(self, cancelled: impl Fn() -> bool) -> Option<Prepared> {
        let (axis, t0) = plot::effective_axis(&self.store, self.x_axis);
        let mut columns = ColumnCache::default();
        if cancelled() {
            return None;
        }
        columns.warm(self.key, &self.store, &self.members, axis, t0, self.smoother);
        let cores = crate::formats::par::threads();
        for &id in &self.members {
            if cancelled() {
                return None;
            }
            columns.build_on(self.key, &self.store, &[id], axis, t0, self.smoother, true, cores);
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

    /// A run of `n` steps read through the real ingest, as the loader reads a sweep's history
    /// (values at display precision): a train line a step, an eval line every 100, a NaN.
    fn run_of(k: usize, n: usize) -> crate::run::Run {
        let mut run =
            crate::run::Run::new(format!("run_{k}/logs.jsonl"), Default::default(), Default::default());
        run.store.keep_display_precision();
        append(&mut run, k, 0, n);
        run
    }

    fn append(run: &mut crate::run::Run, k: usize, from: usize, to: usize) {
        for i in from..to {
            let loss = if i == 777 {
                "NaN".to_owned()
            } else {
                format!(
                    "{:.4}",
                    2.0 / (1.0 + i as f64 / (50.0 + k as f64)) + ((i * 7919 + k) % 97) as f64 / 500.0
                )
            };
            let line = format!(
                "{{\"step\": {i}, \"time\": {:.3}, \"loss\": {loss}, \"acc\": {:.3}}}",
                1.7e9 + i as f64 * 0.25 + k as f64,
                (i % 113) as f64 / 113.0
            );
            run.push_line(2 * i as u64 + 1, line.as_bytes());
            if i % 100 == 99 {
                let eval = format!("{{\"step\": {i}, \"eval_loss\": {:.4}}}", 1.0 / (1.0 + i as f64 / 900.0));
                run.push_line(2 * i as u64 + 2, eval.as_bytes());
            }
        }
    }

    #[test]
    fn columns_built_with_a_history_draw_the_overlay_the_loop_would() {
        let names = ["loss", "eval_loss", "acc"];
        let mut runs: Vec<crate::run::Run> = (0..3).map(|k| run_of(k, 3000)).collect();
        assert!(!runs[0].store.times().is_empty(), "the lines have times");
        let mut n = 3000;
        for (x_axis, smoother, raw) in [
            (XAxis::Step, Some(Smoother::Ema { weight: 0.6 }), false),
            (XAxis::Relative, Some(Smoother::TimeWeightedEma { param: 0.5 }), true),
            (XAxis::Wall, Some(Smoother::Gaussian { sigma: 4.0 }), false),
            (XAxis::Step, Some(Smoother::RunningAverage { window: 9 }), true),
            (XAxis::Step, None, false),
        ] {
            let plan =
                OverlayPlan { names: names.iter().map(|s| s.to_string()).collect(), x_axis, smoother, raw };
            // On the loader: each run's columns as its history is read, then installed by the loop.
            let mut ahead = Cache::default();
            for (i, r) in runs.iter().enumerate() {
                let p = Prepared::for_history(&r.store, &plan).expect("charted series");
                assert_eq!(p.series(), 3, "{x_axis:?} {smoother:?}");
                ahead.install_as(p, (i, 5));
            }
            let built = ahead.column_rebuilds();
            assert_eq!(built, 9, "every charted series built ahead");
            // The source's lines after the history, applied before the next frame.
            for (k, r) in runs.iter_mut().enumerate() {
                append(r, k, n, n + 37);
            }
            n += 37;
            let mut inline = Cache::default();
            for name in names {
                let ids: Vec<[SeriesId; 1]> =
                    runs.iter().map(|r| [r.store.find(name).expect("in every run")]).collect();
                let layers: Vec<Layer<'_>> = runs
                    .iter()
                    .zip(&ids)
                    .enumerate()
                    .map(|(i, (r, id))| Layer {
                        data: Data { key: (i, 5), store: &r.store, flags: r.flags() },
                        members: id,
                    })
                    .collect();
                let view = Request {
                    members: &[],
                    x_axis,
                    zoom: None,
                    anchor: None,
                    width: 120,
                    smoother,
                    outliers: true,
                    log: false,
                };
                let req = OverlayRequest { layers: &layers, view, raw };
                inline.warm_overlay(&layers, x_axis, smoother, raw);
                let want = overlay(&req, &mut inline);
                let got = overlay(&req, &mut ahead);
                assert_eq!(format!("{got:?}"), format!("{want:?}"), "{name} {x_axis:?} {smoother:?} {raw}");
                assert!(!want.layers.is_empty());
            }
            assert_eq!(
                ahead.column_rebuilds(),
                built,
                "nothing built again on the loop: {x_axis:?} {smoother:?}"
            );
            // (The TWEMA starts over when the xs' range widens, as the appended points do.)
            if !matches!(smoother, Some(Smoother::TimeWeightedEma { .. })) {
                assert_eq!(ahead.full_smooths(), inline.full_smooths(), "{x_axis:?} {smoother:?}");
            }
            // The same summaries and checkpoints; only the vectors' spare capacity may differ
            // (grown by the appended points rather than allocated once).
            let (a, b) = (ahead.columns_bytes(), inline.columns_bytes());
            assert!(a * 4 <= b * 5 && b * 4 <= a * 5, "{a} {b} bytes: {x_axis:?} {smoother:?}");
        }
        // A plan that charts none of a run's series builds nothing.
        let plan = OverlayPlan { names: vec!["lr".into()], x_axis: XAxis::Step, smoother: None, raw: false };
        assert!(Prepared::for_history(&runs[0].store, &plan).is_none());
    }
}
