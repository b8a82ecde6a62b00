//! Columnar store of one run: a record table (step, time, line) shared by every series, and one
//! compact column of values per series.
//!
//! Built for tens of millions of points and for appending while a file is tailed. A series does not
//! keep its own steps: it keeps runs of record indices (one run for a key that is on every line), so
//! a point costs 4 bytes when its value is exactly an `f32` (what `tensor.item()` gives) and 8 bytes
//! otherwise. No JSON tree is kept per record.

use std::collections::HashMap;

/// Index of a series in a [`Store`].
pub type SeriesId = usize;
/// Index of a record (one parsed log entry) in a [`Store`].
pub type RecordIdx = u32;

/// How many skipped lines are kept with their text; beyond this only the count grows.
pub const SKIPPED_KEPT: usize = 1000;
/// Longest text kept for one skipped line, in bytes.
pub const SKIPPED_TEXT_MAX: usize = 240;

/// One log line that was not a record: kept so a user can see it.
#[derive(Clone, Debug, PartialEq)]
pub struct SkippedLine {
    /// 1-based line number in the file (physical line for JSON Lines).
    pub line: u64,
    /// Why it was skipped, e.g. "not JSON: expected value at column 1".
    pub reason: String,
    /// The start of the line, lossily decoded, at most [`SKIPPED_TEXT_MAX`] bytes. Not sanitised:
    /// the UI sanitises before drawing.
    pub text: String,
}

/// Skipped lines: an exact count, and the first [`SKIPPED_KEPT`] of them with their text.
#[derive(Clone, Debug, Default)]
pub struct Skipped {
    pub count: u64,
    pub kept: Vec<SkippedLine>,
    /// The most recent skipped line, even when `kept` is full.
    pub last: Option<SkippedLine>,
}

impl Skipped {
    pub fn push(&mut self, line: u64, reason: impl Into<String>, text: &[u8]) {
        let cut = &text[..text.len().min(SKIPPED_TEXT_MAX)];
        let entry =
            SkippedLine { line, reason: reason.into(), text: String::from_utf8_lossy(cut).into_owned() };
        self.count += 1;
        if self.kept.len() < SKIPPED_KEPT {
            self.kept.push(entry.clone());
        }
        self.last = Some(entry);
    }
}

/// A contiguous stretch of points whose records are consecutive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    first_point: u32,
    first_record: RecordIdx,
    len: u32,
}

/// Values of one series: `f32` while every value is exactly representable, then `f64`.
#[derive(Clone, Debug)]
enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
        }
    }
    #[inline]
    fn get(&self, i: usize) -> f64 {
        match self {
            Values::F32(v) => v[i] as f64,
            Values::F64(v) => v[i],
        }
    }
    #[inline]
    fn push(&mut self, x: f64) {
        match self {
            Values::F32(v) => {
                let narrow = x as f32;
                if (narrow as f64) == x || x.is_nan() {
                    v.push(narrow);
                } else {
                    let mut wide: Vec<f64> = Vec::with_capacity(v.capacity().max(v.len() + 1));
                    wide.extend(v.iter().map(|&y| y as f64));
                    wide.push(x);
                    *self = Values::F64(wide);
                }
            }
            Values::F64(v) => v.push(x),
        }
    }
    fn bytes(&self) -> usize {
        match self {
            Values::F32(v) => v.capacity() * 4,
            Values::F64(v) => v.capacity() * 8,
        }
    }
}

/// One metric's points, in arrival order.
#[derive(Clone, Debug)]
pub struct Series {
    name: String,
    runs: Vec<Run>,
    values: Values,
    nonfinite: usize,
    min: f64,
    max: f64,
    /// Point indices where the step went backwards (a restarted run appending to the same file).
    restarts: Vec<usize>,
}

impl Series {
    fn new(name: String) -> Self {
        Series {
            name,
            runs: Vec::new(),
            values: Values::F32(Vec::new()),
            nonfinite: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            restarts: Vec::new(),
        }
    }
}

/// Per-record facts shared by all series on that record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecordMeta {
    /// The step on the run's step axis (after key detection and any remapping).
    pub step: f64,
    /// Seconds: unix time or elapsed time, as detected; NaN when the record has none.
    pub time: f64,
    /// 1-based line where the record starts (for whole-file JSON: the entry's ordinal).
    pub line: u64,
}

/// All series of one run.
#[derive(Clone, Debug, Default)]
pub struct Store {
    steps: Vec<f64>,
    times: Vec<f64>,
    lines: Vec<u64>,
    series: Vec<Series>,
    by_name: HashMap<String, SeriesId>,
    /// Lines that were not records.
    pub skipped: Skipped,
    generation: u64,
}

impl Store {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bumped on every change; caches compare it to know when to recompute.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of records.
    pub fn records(&self) -> usize {
        self.steps.len()
    }

    pub fn record(&self, r: RecordIdx) -> RecordMeta {
        let r = r as usize;
        RecordMeta { step: self.steps[r], time: self.times[r], line: self.lines[r] }
    }

    /// The last record, if any.
    pub fn last_record(&self) -> Option<RecordMeta> {
        (!self.steps.is_empty()).then(|| self.record((self.steps.len() - 1) as RecordIdx))
    }

    /// Starts a record; the values that follow with [`Store::push`] belong to it.
    pub fn begin_record(&mut self, meta: RecordMeta) -> RecordIdx {
        let idx = self.steps.len() as RecordIdx;
        self.steps.push(meta.step);
        self.times.push(meta.time);
        self.lines.push(meta.line);
        self.generation += 1;
        idx
    }

    /// Returns the id of the series called `name`, creating it when new.
    pub fn intern(&mut self, name: &str) -> SeriesId {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let id = self.series.len();
        self.series.push(Series::new(name.to_owned()));
        self.by_name.insert(name.to_owned(), id);
        self.generation += 1;
        id
    }

    /// Looks up a series by name.
    pub fn find(&self, name: &str) -> Option<SeriesId> {
        self.by_name.get(name).copied()
    }

    /// Appends `value` to series `id` at record `rec` (which must be the newest record, or a
    /// record after that series' last point).
    pub fn push(&mut self, rec: RecordIdx, id: SeriesId, value: f64) {
        let step = self.steps[rec as usize];
        let prev_step =
            self.series[id].runs.last().map(|r| self.steps[(r.first_record + r.len - 1) as usize]);
        let s = &mut self.series[id];
        let point = s.values.len() as u32;
        match s.runs.last_mut() {
            Some(r) if r.first_record + r.len == rec => r.len += 1,
            _ => s.runs.push(Run { first_point: point, first_record: rec, len: 1 }),
        }
        s.values.push(value);
        if value.is_finite() {
            s.min = s.min.min(value);
            s.max = s.max.max(value);
        } else {
            s.nonfinite += 1;
        }
        if matches!(prev_step, Some(p) if step < p) {
            s.restarts.push(point as usize);
        }
        self.generation += 1;
    }

    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Series ids in creation order (the order keys first appeared in the log).
    pub fn ids(&self) -> std::ops::Range<SeriesId> {
        0..self.series.len()
    }

    pub fn name(&self, id: SeriesId) -> &str {
        &self.series[id].name
    }

    pub fn series(&self, id: SeriesId) -> SeriesView<'_> {
        SeriesView { store: self, s: &self.series[id] }
    }

    /// Approximate heap bytes held, for benchmarks and the memory budget.
    pub fn heap_bytes(&self) -> usize {
        let table = self.steps.capacity() * 8 + self.times.capacity() * 8 + self.lines.capacity() * 8;
        let series: usize = self
            .series
            .iter()
            .map(|s| s.values.bytes() + s.runs.capacity() * 12 + s.name.capacity() + 96)
            .sum();
        table + series
    }
}

/// Read access to one series.
#[derive(Clone, Copy)]
pub struct SeriesView<'a> {
    store: &'a Store,
    s: &'a Series,
}

impl<'a> SeriesView<'a> {
    pub fn name(&self) -> &'a str {
        &self.s.name
    }
    pub fn len(&self) -> usize {
        self.s.values.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Number of NaN or infinite values.
    pub fn nonfinite(&self) -> usize {
        self.s.nonfinite
    }
    /// Smallest and largest finite values, if any.
    pub fn min_max(&self) -> Option<(f64, f64)> {
        (self.s.min <= self.s.max).then_some((self.s.min, self.s.max))
    }
    /// Point indices at which the step went backwards.
    pub fn restarts(&self) -> &'a [usize] {
        &self.s.restarts
    }
    pub fn value(&self, i: usize) -> f64 {
        self.s.values.get(i)
    }
    /// Record index of point `i`.
    pub fn record_of(&self, i: usize) -> RecordIdx {
        let runs = &self.s.runs;
        let k = runs.partition_point(|r| r.first_point as usize <= i) - 1;
        runs[k].first_record + (i as u32 - runs[k].first_point)
    }
    pub fn step(&self, i: usize) -> f64 {
        self.store.steps[self.record_of(i) as usize]
    }
    /// Seconds, or NaN when the record has no time.
    pub fn time(&self, i: usize) -> f64 {
        self.store.times[self.record_of(i) as usize]
    }
    /// The last point as (step, value).
    pub fn last(&self) -> Option<(f64, f64)> {
        let n = self.len();
        (n > 0).then(|| (self.step(n - 1), self.value(n - 1)))
    }
    /// All points in arrival order as (record, value); sequential, O(1) per point.
    pub fn iter_records(&self) -> impl Iterator<Item = (RecordIdx, f64)> + 'a {
        let values = &self.s.values;
        self.s.runs.iter().flat_map(move |r| {
            (0..r.len).map(move |k| (r.first_record + k, values.get((r.first_point + k) as usize)))
        })
    }
    /// All points in arrival order as (step, value).
    pub fn iter(&self) -> impl Iterator<Item = (f64, f64)> + 'a {
        let steps = &self.store.steps;
        self.iter_records().map(move |(r, v)| (steps[r as usize], v))
    }
    /// Points from index `from` on, as (step, value); for consumers that keep a cursor.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = (f64, f64)> + 'a {
        self.iter().skip(from)
    }
    /// Values only, copied out (for smoothing and statistics).
    pub fn values(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.value(i)).collect()
    }
    /// Steps only, copied out.
    pub fn steps(&self) -> Vec<f64> {
        self.iter().map(|(s, _)| s).collect()
    }
    /// Times only (NaN where a record has none), copied out.
    pub fn times(&self) -> Vec<f64> {
        let times = &self.store.times;
        self.iter_records().map(|(r, _)| times[r as usize]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(step: f64) -> RecordMeta {
        RecordMeta { step, time: f64::NAN, line: 0 }
    }

    #[test]
    fn dense_and_sparse_series_share_the_record_table() {
        let mut st = Store::new();
        let loss = st.intern("loss");
        let val = st.intern("val_loss");
        for step in 0..10 {
            let r = st.begin_record(meta(step as f64));
            st.push(r, loss, 1.0 / (step + 1) as f64);
            if step % 5 == 4 {
                st.push(r, val, 0.5);
            }
        }
        let l = st.series(loss);
        assert_eq!(l.len(), 10);
        assert_eq!(l.s.runs.len(), 1);
        assert_eq!(l.step(7), 7.0);
        assert_eq!(l.value(3), 0.25);
        let v = st.series(val);
        assert_eq!(v.steps(), vec![4.0, 9.0]);
        assert_eq!(v.last(), Some((9.0, 0.5)));
    }

    #[test]
    fn values_widen_to_f64_without_loss() {
        let mut st = Store::new();
        let id = st.intern("lr");
        let r = st.begin_record(meta(0.0));
        st.push(r, id, 0.5);
        let r = st.begin_record(meta(1.0));
        st.push(r, id, 0.1);
        assert_eq!(st.series(id).values(), vec![0.5, 0.1]);
        let r = st.begin_record(meta(2.0));
        st.push(r, id, f64::NAN);
        assert_eq!(st.series(id).nonfinite(), 1);
        assert_eq!(st.series(id).min_max(), Some((0.1, 0.5)));
    }

    #[test]
    fn a_step_going_backwards_is_a_restart() {
        let mut st = Store::new();
        let id = st.intern("loss");
        for step in [1.0, 2.0, 3.0, 1.0, 2.0] {
            let r = st.begin_record(meta(step));
            st.push(r, id, 1.0);
        }
        assert_eq!(st.series(id).restarts(), &[3]);
    }

    #[test]
    fn skipped_lines_are_counted_beyond_what_is_kept() {
        let mut sk = Skipped::default();
        for i in 0..(SKIPPED_KEPT as u64 + 5) {
            sk.push(i + 1, "not JSON", b"Traceback (most recent call last):");
        }
        assert_eq!(sk.count, SKIPPED_KEPT as u64 + 5);
        assert_eq!(sk.kept.len(), SKIPPED_KEPT);
        assert_eq!(sk.last.unwrap().line, SKIPPED_KEPT as u64 + 5);
    }
}
