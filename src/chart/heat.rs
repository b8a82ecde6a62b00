//! The reduction of a per-layer family (`crate::analysis::families`) for its heatmap: per layer,
//! the window's steps binned to the heatmap's columns, each cell keeping the extreme value of its
//! bin (the one farthest from the middle of the colour scale, so a spike and a drop both stay
//! visible), plus the colour scale: linear, or log10 when the values span decades (gradient
//! norms).
//!
//! Each layer is reduced as a chart is ([`super::reduce::reduce`] over the series' block
//! summaries, kept up to date in a [`ColumnCache`] of the heatmap's own, so a 48-layer family does
//! not push the charts' columns out), and the result is memoised by the store's generation and
//! the request: a frame with nothing new reads the memo.
//!
//! A family's first heatmap builds every layer's summaries (48M points for 48 layers over 1M
//! steps: about half a second on one core). That build is cut into slices of about
//! [`SLICE_POINTS`] points per core, each spread over the cores
//! ([`ColumnCache::warm_some`]), one slice a frame: the heatmap fills in from the left while the
//! loop keeps answering keys, and [`HeatData::progress`] says how far it got.

use super::columns::ColumnCache;
use super::plot::stretches;
use super::reduce::{reduce, Columns, View as ReduceView};
use super::values::Xs;
use super::{Data, XAxis};
use crate::store::SeriesId;
use std::rc::Rc;

/// The values spanning at least this ratio (max over the smallest positive value) get a log
/// colour scale.
pub const LOG_SPAN: f64 = 100.0;

/// Points summarised per core in one slice of a heatmap's build (about 10 ms of one core).
pub const SLICE_POINTS: usize = 1 << 20;

/// What one heatmap shows.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatRequest<'a> {
    /// The family's series, input layer first.
    pub ids: &'a [SeriesId],
    /// The window's width in steps; `None` shows everything.
    pub zoom: Option<f64>,
    /// The window's right edge; `None` follows the newest data.
    pub anchor: Option<f64>,
    /// Columns across.
    pub width: usize,
}

/// One cell: nothing in its bin, a value, or only non-finite values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Value(f64),
    NonFinite,
}

/// The heatmap of a family, in steps.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatData {
    /// The window, in steps.
    pub x_bounds: [f64; 2],
    /// Per layer (input first), per column.
    pub cells: Vec<Vec<Cell>>,
    /// The finite values' range in the window (`None`: no finite value).
    pub range: Option<(f64, f64)>,
    /// Log10 colour scale: the smallest positive value and the largest (values at or below 0
    /// take the lowest colour).
    pub log: Option<(f64, f64)>,
    /// While the layers' summaries are still being built: (points summarised, points in all).
    /// The cells show the summarised points only.
    pub progress: Option<(usize, usize)>,
}

impl HeatData {
    /// Where `v` sits on the colour scale, from 0 (lowest) to 1 (highest).
    pub fn level(&self, v: f64) -> f64 {
        let t = |v: f64| {
            if self.log.is_some() {
                if v > 0.0 {
                    v.log10()
                } else {
                    f64::NEG_INFINITY
                }
            } else {
                v
            }
        };
        let (lo, hi) = match (self.log, self.range) {
            (Some((lo, hi)), _) => (lo.log10(), hi.log10()),
            (None, Some(r)) => r,
            (None, None) => return 0.0,
        };
        if hi <= lo {
            return 0.5;
        }
        ((t(v) - lo) / (hi - lo)).clamp(0.0, 1.0)
    }

    /// The column of step `x` (None outside the window).
    pub fn column_of(&self, x: f64) -> Option<usize> {
        let w = self.cells.first().map_or(0, Vec::len);
        let [lo, hi] = self.x_bounds;
        if w == 0 || !(lo..=hi).contains(&x) {
            return None;
        }
        let view = ReduceView::new(lo, hi, w);
        Columns::of_view(&view).map(|c| c.of(x))
    }

    /// The step at the middle of column `col`.
    pub fn step_of(&self, col: usize) -> f64 {
        let w = self.cells.first().map_or(1, Vec::len).max(1);
        let [lo, hi] = self.x_bounds;
        lo + (hi - lo) * (col as f64 + 0.5) / w as f64
    }
}

/// The heatmap's memo and its columns.
#[derive(Debug, Default)]
pub struct HeatCache {
    columns: ColumnCache,
    memo: Option<(HeatKey, u64, Rc<HeatData>)>,
    computed: u64,
    /// Points per slice of a build (`None`: [`SLICE_POINTS`] per core).
    slice: Option<usize>,
    /// A slice was built in this frame and more are left (reset by [`HeatCache::begin_frame`]).
    building: bool,
}

type HeatKey = ((usize, u64), Vec<SeriesId>, usize, u64, u64);

impl HeatCache {
    /// How many times a heatmap was reduced (not served from the memo), for tests.
    pub fn computed(&self) -> u64 {
        self.computed
    }

    /// A cache whose builds take `points` points per slice (for tests).
    pub fn with_slice(points: usize) -> Self {
        HeatCache { slice: Some(points.max(1)), ..Default::default() }
    }

    /// Whether this frame built a slice of a heatmap and more are left: the loop draws again at
    /// once (answering the keys queued in between), each frame building a slice.
    pub fn building(&self) -> bool {
        self.building
    }

    /// Called before a frame is drawn.
    pub fn begin_frame(&mut self) {
        self.building = false;
    }
}

/// The window a heatmap of `ids` shows, in steps: the whole run, or `zoom` steps ending at
/// `anchor` (the newest step when `None`).
pub fn heat_window(
    data: &Data<'_>,
    ids: &[SeriesId],
    zoom: Option<f64>,
    anchor: Option<f64>,
) -> Option<(f64, f64)> {
    let (full_lo, full_hi) = super::x_range(data.store, ids, XAxis::Step)?;
    let hi = anchor.unwrap_or(full_hi);
    let lo = zoom.map_or(full_lo, |w| hi - w);
    Some(if hi > lo { (lo, hi) } else { (lo - 0.5, hi + 0.5) })
}

/// The heatmap `req` asks for, from the memo when the data and the request are unchanged (a
/// heatmap still being built included: drawing reads it as it is; [`warm_heat`] goes on with it).
pub fn heat(data: Data<'_>, req: &HeatRequest<'_>, cache: &mut HeatCache) -> Rc<HeatData> {
    heat_with(data, req, cache, false)
}

/// As [`heat`], building the next slice of a heatmap still being built: what the loop calls
/// before it draws.
pub fn warm_heat(data: Data<'_>, req: &HeatRequest<'_>, cache: &mut HeatCache) -> Rc<HeatData> {
    heat_with(data, req, cache, true)
}

fn heat_with(data: Data<'_>, req: &HeatRequest<'_>, cache: &mut HeatCache, advance: bool) -> Rc<HeatData> {
    let key: HeatKey = (
        data.key,
        req.ids.to_vec(),
        req.width,
        req.zoom.map_or(u64::MAX, f64::to_bits),
        req.anchor.map_or(u64::MAX, f64::to_bits),
    );
    let generation = data.store.generation();
    if let Some((k, g, d)) = &cache.memo {
        if *k == key && *g == generation && !(advance && d.progress.is_some()) {
            return d.clone();
        }
    }
    cache.computed += 1;
    let slice = cache.slice.unwrap_or_else(|| SLICE_POINTS * crate::formats::par::threads());
    let out = Rc::new(compute(&mut cache.columns, data, req, slice));
    cache.building |= out.progress.is_some();
    cache.memo = Some((key, generation, out.clone()));
    out
}

fn compute(columns: &mut ColumnCache, data: Data<'_>, req: &HeatRequest<'_>, slice: usize) -> HeatData {
    let width = req.width.max(1);
    let empty = |lo, hi| HeatData {
        x_bounds: [lo, hi],
        cells: vec![vec![Cell::Empty; width]; req.ids.len()],
        range: None,
        log: None,
        progress: None,
    };
    let Some((lo, hi)) = heat_window(&data, req.ids, req.zoom, req.anchor) else { return empty(0.0, 1.0) };
    columns.hold_at_least(req.ids.len());
    let missing = columns.warm_some(data.key, data.store, req.ids, XAxis::Step, 0.0, slice);
    let progress = (missing > 0).then(|| {
        let total: usize = req.ids.iter().map(|&id| data.store.series(id).len()).sum();
        (total - missing.min(total), total)
    });
    let view = ReduceView::new(lo, hi, width);
    let Some(cols) = Columns::of_view(&view) else { return empty(lo, hi) };
    // Per layer, per column: (min, max) of the finite values, and whether a non-finite one fell in.
    let mut bins: Vec<Vec<(f64, f64, bool)>> = Vec::with_capacity(req.ids.len());
    let (mut v_lo, mut v_hi, mut pos_lo) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY);
    for &id in req.ids {
        let mut row = vec![(f64::INFINITY, f64::NEG_INFINITY, false); width];
        // Only what is built (`warm_some` took every point it could this frame).
        let c = columns.sync_to(data.key, data.store, id, XAxis::Step, 0.0, 0);
        let parts = if c.cols.sorted { vec![(0, c.xs.len())] } else { stretches(&c.xs.to_vec()) };
        // A restarted run's attempts each on their own, as the charts do (one envelope over all
        // of an x that keeps going back).
        let r = if parts.len() == 1 || parts.len() > super::MAX_STRETCHES {
            vec![reduce(&c.xs, &c.ys, c.cols.raw_env(&c.ys), &parts, &view)]
        } else {
            parts.iter().map(|&p| reduce(&c.xs, &c.ys, c.cols.raw_env(&c.ys), &[p], &view)).collect()
        };
        for red in r {
            for &(x, y) in &red.points {
                let cell = &mut row[cols.of(x)];
                if y.is_finite() {
                    cell.0 = cell.0.min(y);
                    cell.1 = cell.1.max(y);
                    v_lo = v_lo.min(y);
                    v_hi = v_hi.max(y);
                    if y > 0.0 {
                        pos_lo = pos_lo.min(y);
                    }
                }
            }
            for &x in &red.nonfinite_x {
                row[cols.of(x)].2 = true;
            }
        }
        bins.push(row);
    }
    let range = (v_lo <= v_hi).then_some((v_lo, v_hi));
    let log = (pos_lo.is_finite() && v_hi > 0.0 && v_hi / pos_lo >= LOG_SPAN).then_some((pos_lo, v_hi));
    let mut out = HeatData { x_bounds: [lo, hi], cells: Vec::new(), range, log, progress };
    out.cells = bins
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(mn, mx, nonfinite)| {
                    if mn > mx {
                        return if nonfinite { Cell::NonFinite } else { Cell::Empty };
                    }
                    // The extreme: the one farther from the middle of the scale.
                    let (a, b) = (out.level(mn), out.level(mx));
                    Cell::Value(if (0.5 - a).abs() >= (b - 0.5).abs() { mn } else { mx })
                })
                .collect()
        })
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{RecordMeta, Store};

    fn store(layers: usize, steps: usize, f: impl Fn(usize, usize) -> f64) -> Store {
        let mut s = Store::new();
        let ids: Vec<SeriesId> = (0..layers).map(|l| s.intern(&format!("grad_norm/layer{l}"))).collect();
        for t in 0..steps {
            let r = s.begin_record(RecordMeta { step: t as f64, time: f64::NAN, line: t as u64 });
            for (l, &id) in ids.iter().enumerate() {
                s.push(r, id, f(l, t));
            }
        }
        s
    }

    #[test]
    fn each_cell_keeps_its_bins_extreme_and_the_scale_goes_log_over_decades() {
        // Layer 0 drops to 0 for one step in the second half; layer 1 spikes once; the values
        // span four decades.
        let s = store(2, 1000, |l, t| match (l, t) {
            (0, 700) => 0.0,
            (1, 300) => 100.0,
            (0, _) => 0.01,
            _ => 1.0,
        });
        let ids = [0, 1];
        let data = Data { key: (0, 0), store: &s, flags: &[] };
        let mut cache = HeatCache::default();
        let req = HeatRequest { ids: &ids, zoom: None, anchor: None, width: 10 };
        let h = heat(data, &req, &mut cache);
        assert_eq!(h.log, Some((0.01, 100.0)));
        assert_eq!(h.cells[0][7], Cell::Value(0.0));
        assert_eq!(h.cells[0][6], Cell::Value(0.01));
        assert_eq!(h.cells[1][3], Cell::Value(100.0));
        assert_eq!(h.level(0.0), 0.0);
        assert_eq!(h.level(100.0), 1.0);
        // Served from the memo until the data or the request changes.
        let again = heat(data, &req, &mut cache);
        assert!(Rc::ptr_eq(&h, &again));
        assert_eq!(cache.computed(), 1);
        let zoomed = HeatRequest { zoom: Some(100.0), ..req.clone() };
        let z = heat(data, &zoomed, &mut cache);
        assert_eq!(cache.computed(), 2);
        assert_eq!(z.x_bounds, [899.0, 999.0]);
        assert_eq!(z.log, Some((0.01, 1.0)), "two decades still take a log scale");
        // Values within a decade: linear.
        let s = store(2, 10, |l, t| 1.0 + l as f64 + t as f64 / 10.0);
        let data = Data { key: (1, 0), store: &s, flags: &[] };
        let lin = heat(data, &HeatRequest { width: 10, ..req }, &mut cache);
        assert_eq!((lin.log, lin.range), (None, Some((1.0, 2.9))));
    }

    #[test]
    fn a_first_build_goes_a_slice_at_a_time_and_ends_as_a_whole_build_would() {
        let s =
            store(
                6,
                5000,
                |l, t| if t % 777 == 5 { f64::NAN } else { (l + 1) as f64 * (1.0 + (t % 97) as f64) },
            );
        let ids: Vec<SeriesId> = (0..6).collect();
        let data = Data { key: (0, 0), store: &s, flags: &[] };
        let req = HeatRequest { ids: &ids, zoom: None, anchor: None, width: 37 };
        let whole = heat(data, &req, &mut HeatCache::with_slice(usize::MAX));
        assert_eq!(whole.progress, None);
        // 30k points, 4k a slice: eight slices, the first 4k of 30k points summarised.
        let mut cache = HeatCache::with_slice(4000);
        let first = warm_heat(data, &req, &mut cache);
        assert_eq!(first.progress, Some((4000, 30_000)));
        assert!(cache.building());
        // The left columns are drawn from the first points; the right ones wait.
        assert!(matches!(first.cells[0][0], Cell::Value(_)));
        assert_eq!(first.cells[0][36], Cell::Empty);
        // Drawing reads the memo as it is; only the loop's warm goes on.
        let drawn = heat(data, &req, &mut cache);
        assert!(Rc::ptr_eq(&first, &drawn));
        let mut slices = 1;
        loop {
            cache.begin_frame();
            let h = warm_heat(data, &req, &mut cache);
            slices += 1;
            if h.progress.is_none() {
                assert!(!cache.building());
                assert_eq!(*h, *whole, "the sliced build ends where the whole one does");
                break;
            }
            assert!(slices < 20, "never ends");
        }
        assert_eq!(slices, 8);
        // Built: the memo again.
        cache.begin_frame();
        let again = warm_heat(data, &req, &mut cache);
        assert_eq!((again.progress, cache.building(), cache.computed()), (None, false, 8));
    }

    #[test]
    fn a_non_finite_bin_is_marked() {
        let s = store(1, 100, |_, t| if t >= 50 { f64::NAN } else { 1.0 });
        let data = Data { key: (0, 0), store: &s, flags: &[] };
        let h = heat(
            data,
            &HeatRequest { ids: &[0], zoom: None, anchor: None, width: 4 },
            &mut Default::default(),
        );
        assert_eq!(h.cells[0][3], Cell::NonFinite);
        assert_eq!(h.cells[0][0], Cell::Value(1.0));
    }
}
