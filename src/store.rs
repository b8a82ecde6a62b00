//! Columnar store of one run: a record table (step, time, line) shared by every series, and one
//! compact column of values per series.
//!
//! Built for tens of millions of points and for appending while a file is tailed. A series does not
//! keep its own steps: it keeps stretches of consecutive record indices (one stretch for a key that
//! is on every line). Every column (the records' steps and times, each series' values) is a
//! [`Packed`] column: blocks of 64 values, raw `f32` when each value survives it, else `f64`; in a
//! compact store ([`Store::compact`], the monitor's) a block is a constant, steps of one size, or
//! decimals over a power of ten in 1 to 3 bytes a value wherever that reads back bit for bit (a
//! step column costs a quarter of a byte a record, `"loss": 2.308` two bytes). No JSON tree is kept
//! per record.
//!
//! A record's line number is kept as stretches of evenly spaced lines (one stretch between skipped
//! lines), since lines go up by one on almost every record. Columns grow by doubling while small
//! and by an eighth once they hold a few MB; a loader that knows how many records are coming calls
//! [`Store::reserve`].
//!
//! Bounded per field: a series' name is kept up to [`NAME_MAX_BYTES`] (a longer key is cut in the
//! middle, where a hash of the whole key keeps it apart from other long keys), so a series costs
//! its points plus a bounded overhead. How many series a run may have is the ingest's decision
//! ([`crate::ingest::IngestOptions::max_series`]); the fields it could not take are counted here,
//! [`Store::fields_dropped`], for the screens to show.
//!
//! Words: a "run" is only ever a training run; the stretches above are never called runs.

use std::collections::HashMap;

mod histograms;
mod packed;
pub use histograms::{BadHistogram, HistId, HistPoint, HistView, Histograms, BAD_KEPT, MAX_HISTOGRAMS};
pub use packed::Packed;

/// Index of a series in a [`Store`].
pub type SeriesId = usize;
/// Index of a record (one parsed log entry) in a [`Store`].
pub type RecordIdx = u32;

/// Longest series name kept, in bytes: a longer key (a 2 MB key is garbage, not a metric name a
/// person reads) keeps its start and end around a hash of the whole key.
pub const NAME_MAX_BYTES: usize = 1024;

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
    /// The lines of a printed model, caught from every skipped line: a model printed after more
    /// than [`SKIPPED_KEPT`] other skipped lines (a progress bar's) is still found.
    pub model_lines: crate::model::aside::ModelLines,
}

impl Skipped {
    pub fn push(&mut self, line: u64, reason: impl Into<String>, text: &[u8]) {
        let cut = &text[..text.len().min(SKIPPED_TEXT_MAX)];
        let entry =
            SkippedLine { line, reason: reason.into(), text: String::from_utf8_lossy(cut).into_owned() };
        self.count += 1;
        self.model_lines.offer(line, &entry.text);
        if self.kept.len() < SKIPPED_KEPT {
            self.kept.push(entry.clone());
        }
        self.last = Some(entry);
    }
}

/// A contiguous stretch of points whose records are consecutive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stretch {
    first_point: u32,
    first_record: RecordIdx,
    len: u32,
}

/// A stretch of records whose lines are evenly spaced: record `first_record + k` starts on line
/// `first_line + k * stride` (stride 1 for consecutive lines, 2 when every record is followed by
/// a line that is not one, as when a script prints between its log lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LineStretch {
    first_record: RecordIdx,
    stride: u32,
    first_line: u64,
}

/// Columns this large (bytes) grow by an eighth instead of doubling.
const GROW_SLOWLY_FROM: usize = 4 << 20;

/// Makes room for one more value in `v`: doubling while small, an eighth once large (a realloc of
/// a large block moves pages, not bytes, so the extra reallocations are cheap).
#[inline]
fn room_for_one<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() && v.capacity() * std::mem::size_of::<T>() >= GROW_SLOWLY_FROM {
        v.reserve_exact(v.len() / 8);
    }
}

/// Whether `x` would not survive `f32`: finite and non-zero, beyond its range or below its
/// smallest normal number.
#[inline]
fn beyond_f32(x: f64) -> bool {
    let a = x.abs();
    a.is_finite() && a != 0.0 && !((f32::MIN_POSITIVE as f64)..=(f32::MAX as f64)).contains(&a)
}

/// One metric's points, in arrival order.
#[derive(Clone, Debug)]
pub struct Series {
    name: String,
    stretches: Vec<Stretch>,
    values: Packed,
    /// Kept exact from here on although the store keeps display precision: a value beyond `f32`'s
    /// range arrived (see [`Store::keep_display_precision`]).
    wide: bool,
    nonfinite: usize,
    min: f64,
    max: f64,
    /// Point indices where the step went backwards (a restarted run appending to the same file).
    restarts: Vec<usize>,
    /// The step of the last point (NaN before the first).
    last_step: f64,
}

impl Series {
    fn new(name: String) -> Self {
        Series {
            name,
            stretches: Vec::new(),
            values: Packed::default(),
            wide: false,
            nonfinite: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            restarts: Vec::new(),
            last_step: f64::NAN,
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
    steps: Packed,
    /// Empty while no record has a time (many logs have none), one per record from the first
    /// record with a time on.
    times: Packed,
    /// Line numbers, as stretches of evenly spaced lines (sorted by record).
    lines: Vec<LineStretch>,
    series: Vec<Series>,
    by_name: HashMap<String, SeriesId>,
    /// Lines that were not records.
    pub skipped: Skipped,
    /// The model a `{"model": {...}}` record described (the last one); a printed model is read
    /// from `skipped` instead (see [`crate::model::Model::of_store`]).
    pub model: Option<Box<crate::model::Model>>,
    /// Metric fields not stored because the run already had as many series as it may.
    fields_dropped: u64,
    generation: u64,
    /// Values are kept at `f32` precision ([`Store::keep_display_precision`]).
    display_precision: bool,
    /// Columns are encoded compactly ([`Store::compact`]).
    compact: bool,
    /// Histograms, per name: not series ([`histograms`]).
    histograms: Histograms,
    /// The newest record and what [`Store::record`] reads back for it, kept by
    /// [`Store::begin_record`]: its values are appended and it is handed to the analysis right
    /// after, where reading it back from the packed columns and the line stretches cost 2-3% of
    /// `tmon check`.
    newest: Option<(RecordIdx, RecordMeta)>,
}

impl Store {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bumped on every change; caches compare it to know when to recompute.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Keeps the model a record described (replacing an earlier one).
    pub fn set_model(&mut self, model: crate::model::Model) {
        self.model = Some(Box::new(model));
        self.generation += 1;
    }

    /// Number of records.
    pub fn records(&self) -> usize {
        self.steps.len()
    }

    pub fn record(&self, r: RecordIdx) -> RecordMeta {
        if let Some((newest, meta)) = self.newest {
            if newest == r {
                return meta;
            }
        }
        self.read_record(r)
    }

    /// [`Store::record`] read from the columns.
    fn read_record(&self, r: RecordIdx) -> RecordMeta {
        let r = r as usize;
        RecordMeta { step: self.steps.get(r), time: self.time_of(r), line: self.line(r as RecordIdx) }
    }

    /// 1-based line where record `r` starts.
    fn line(&self, r: RecordIdx) -> u64 {
        let k = self.lines.partition_point(|l| l.first_record <= r);
        let l = self.lines[k - 1];
        l.first_line + (r - l.first_record) as u64 * l.stride as u64
    }

    /// The step of every record, by record index.
    pub fn steps(&self) -> &Packed {
        &self.steps
    }

    /// The time of every record (NaN where a record has none), by record index; empty when no
    /// record has a time.
    pub fn times(&self) -> &Packed {
        &self.times
    }

    #[inline]
    fn time_of(&self, r: usize) -> f64 {
        if r < self.times.len() {
            self.times.get(r)
        } else {
            f64::NAN
        }
    }

    /// The record table and the series `ids` only (the other series keep their names and ids,
    /// with no points) as they are now, for work done away from the monitor's loop on what a
    /// view charts (`crate::chart::ColumnsJob`). Their columns are shared, not copied: a
    /// [`Packed`] clone costs a pointer per 65,536 values, so the loop's part of a view change
    /// does not grow with the run (a 1 GB log's charted columns were a 170 MB copy). What the
    /// store appends afterwards copies at most the chunk of each column being filled (copy on
    /// write) and never reaches the snapshot. `times` false leaves the times out (a step axis
    /// does not read them). Skipped lines, histograms and the model are left out.
    pub fn snapshot(&self, ids: &[SeriesId], times: bool) -> Store {
        let series = self
            .series
            .iter()
            .enumerate()
            .map(|(id, s)| if ids.contains(&id) { s.clone() } else { Series::new(s.name.clone()) })
            .collect();
        Store {
            steps: self.steps.clone(),
            times: if times { self.times.clone() } else { Packed::default() },
            lines: self.lines.clone(),
            series,
            by_name: HashMap::new(),
            generation: self.generation,
            display_precision: self.display_precision,
            ..Store::default()
        }
    }

    /// Makes room for `records` more records without reallocating: the record columns get exactly
    /// that, and each series as many as its share of the records so far predicts (all of them for
    /// a key on every record, a few for an eval key), plus 1%. For a loader that knows roughly how
    /// many records are coming (from the file's size and the bytes per record so far).
    pub fn reserve(&mut self, records: usize) {
        self.steps.reserve_exact(records);
        if !self.times.is_empty() {
            self.times.reserve_exact(records);
        }
        let have = self.steps.len();
        let share = |k: usize| {
            if have == 0 {
                return records;
            }
            let est = (records as u128 * k as u128).div_ceil(have as u128) as usize;
            (est + est / 100).min(records)
        };
        for s in &mut self.series {
            s.values.reserve_exact(share(s.values.len()));
            // A sparse series starts a stretch of records at almost every point.
            s.stretches.reserve_exact(share(s.stretches.len()));
        }
    }

    /// The last record, if any.
    pub fn last_record(&self) -> Option<RecordMeta> {
        (!self.steps.is_empty()).then(|| self.record((self.steps.len() - 1) as RecordIdx))
    }

    /// Starts a record; the values that follow with [`Store::push`] belong to it.
    pub fn begin_record(&mut self, meta: RecordMeta) -> RecordIdx {
        let idx = self.steps.len() as RecordIdx;
        self.steps.push(meta.step);
        // What the columns give back: every value bit for bit but a NaN, which is read back.
        let step = if meta.step.is_nan() { self.steps.get(idx as usize) } else { meta.step };
        let mut time = f64::NAN;
        if !self.times.is_empty() || meta.time.is_finite() {
            // The first time: the records before it had none (blocks of NaN cost a word each).
            for _ in self.times.len()..idx as usize {
                self.times.push(f64::NAN);
            }
            self.times.push(meta.time);
            time = if meta.time.is_nan() { self.times.get(idx as usize) } else { meta.time };
        }
        // The stretches below give the record's own line back, whichever branch is taken.
        self.newest = Some((idx, RecordMeta { step, time, line: meta.line }));
        let follows = match self.lines.last_mut() {
            // A stretch of one record takes its stride from the second.
            Some(l) if l.first_record + 1 == idx && meta.line > l.first_line => {
                match u32::try_from(meta.line - l.first_line) {
                    Ok(stride) => {
                        l.stride = stride;
                        true
                    }
                    Err(_) => false,
                }
            }
            Some(l) => {
                ((idx - l.first_record) as u64)
                    .checked_mul(l.stride as u64)
                    .and_then(|d| l.first_line.checked_add(d))
                    == Some(meta.line)
            }
            None => false,
        };
        if !follows {
            self.lines.push(LineStretch { first_record: idx, stride: 1, first_line: meta.line });
        }
        self.generation += 1;
        idx
    }

    /// Returns the id of the series called `name` (cut to [`NAME_MAX_BYTES`]), creating it when
    /// new.
    pub fn intern(&mut self, name: &str) -> SeriesId {
        let name = bounded_name(name);
        if let Some(&id) = self.by_name.get(name.as_ref()) {
            return id;
        }
        let id = self.series.len();
        let mut series = Series::new(name.clone().into_owned());
        if self.compact {
            series.values.set_compact();
        }
        self.series.push(series);
        self.by_name.insert(name.into_owned(), id);
        self.generation += 1;
        id
    }

    /// The run's histograms.
    pub fn histograms(&self) -> &Histograms {
        &self.histograms
    }

    /// Histogram `id` of [`Store::histograms`], with its steps.
    pub fn histogram(&self, id: HistId) -> HistView<'_> {
        self.histograms.view(id, &self.steps)
    }

    /// Keeps `h` as a point of the histogram called `name` (cut as series names are) on record
    /// `rec`; counted as dropped when the run has [`MAX_HISTOGRAMS`] names already.
    pub fn push_histogram(&mut self, rec: RecordIdx, name: &str, h: &crate::parse::Histogram) {
        match self.histograms.intern(&bounded_name(name)) {
            Some(id) => self.histograms.push(id, rec, h),
            None => self.histograms.count_dropped(),
        }
        self.generation += 1;
    }

    /// Counts a malformed histogram under `name` on line `line`.
    pub fn count_bad_histogram(&mut self, line: u64, name: &str, reason: &str) {
        self.histograms.count_bad(line, &bounded_name(name), reason);
        self.generation += 1;
    }

    /// Looks up a series by name (cut as [`Store::intern`] cuts it).
    pub fn find(&self, name: &str) -> Option<SeriesId> {
        self.by_name.get(bounded_name(name).as_ref()).copied()
    }

    /// Counts `n` metric fields that could not be stored (the run's series cap was reached).
    pub fn count_dropped(&mut self, n: u64) {
        if n > 0 {
            self.fields_dropped += n;
            self.generation += 1;
        }
    }

    /// Metric fields not stored because the run had reached its series cap.
    pub fn fields_dropped(&self) -> u64 {
        self.fields_dropped
    }

    /// From now on keeps values at `f32` precision (7 significant digits, more than a screen
    /// shows, in half the memory of `f64`), and narrows the values already held. A series with a
    /// value beyond `f32`'s range (or below its smallest normal number) stays `f64`; each series'
    /// minimum and maximum stay exact. The monitor does this for the runs it compares: a sweep of
    /// 200 runs of 50,000 steps of a dozen metrics logged as rounded decimals (which `f32` cannot
    /// hold exactly) would otherwise hold 8 bytes a value. `tmon check` never does.
    pub fn keep_display_precision(&mut self) {
        self.display_precision = true;
        for s in &mut self.series {
            if s.wide {
                continue;
            }
            let n = s.values.len();
            if (0..n).any(|i| beyond_f32(s.values.get(i))) {
                s.wide = true;
                continue;
            }
            let mut narrow = if s.values.is_compact() { Packed::compact() } else { Packed::default() };
            narrow.reserve_exact(n);
            for i in 0..n {
                narrow.push_narrow(s.values.get(i));
            }
            s.values = narrow;
        }
        self.generation += 1;
    }

    /// From now on encodes the record table and every series compactly: blocks of 64
    /// values as a constant, steps of one size, or decimals over a power of ten in 1 to 3 bytes a
    /// value where that gives every value back bit for bit (see [`Packed`]). The monitor does this
    /// (a sweep's columns in a third of the memory); `tmon check`, which drops each run's store
    /// once read, does not pay for the encoding.
    pub fn compact(&mut self) {
        self.compact = true;
        self.steps.set_compact();
        self.times.set_compact();
        for s in &mut self.series {
            s.values.set_compact();
        }
    }

    /// Whether values are kept at `f32` precision.
    pub fn display_precision(&self) -> bool {
        self.display_precision
    }

    /// Appends `value` to series `id` at record `rec` (which must be the newest record, or a
    /// record after that series' last point).
    pub fn push(&mut self, rec: RecordIdx, id: SeriesId, value: f64) {
        let step = self.steps.get(rec as usize);
        self.push_at(rec, step, id, value);
    }

    /// Appends the values of record `rec`, as [`Store::push`] does one by one.
    pub fn push_all(&mut self, rec: RecordIdx, values: &[(SeriesId, f64)]) {
        let step = match self.newest {
            Some((newest, meta)) if newest == rec => meta.step,
            _ => self.steps.get(rec as usize),
        };
        for &(id, value) in values {
            self.push_at(rec, step, id, value);
        }
    }

    #[inline(always)]
    fn push_at(&mut self, rec: RecordIdx, step: f64, id: SeriesId, value: f64) {
        let s = &mut self.series[id];
        let point = s.values.len() as u32;
        let went_back = match s.stretches.last_mut() {
            Some(r) => {
                let last = r.first_record + r.len - 1;
                let back = step < s.last_step;
                if last + 1 == rec {
                    r.len += 1;
                } else {
                    s.stretches.push(Stretch { first_point: point, first_record: rec, len: 1 });
                }
                back
            }
            None => {
                s.stretches.push(Stretch { first_point: point, first_record: rec, len: 1 });
                false
            }
        };
        if self.display_precision && !s.wide {
            if beyond_f32(value) {
                s.wide = true;
                s.values.push(value);
            } else {
                s.values.push_narrow(value);
            }
        } else {
            s.values.push(value);
        }
        s.last_step = step;
        if value.is_finite() {
            s.min = s.min.min(value);
            s.max = s.max.max(value);
        } else {
            s.nonfinite += 1;
        }
        if went_back {
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
        let table = self.steps.bytes()
            + self.times.bytes()
            + self.lines.capacity() * std::mem::size_of::<LineStretch>();
        let series: usize = self
            .series
            .iter()
            .map(|s| s.values.bytes() + s.stretches.capacity() * 12 + s.name.capacity() + 96)
            .sum();
        table + series + self.histograms.heap_bytes()
    }
}

/// The names of a run's series: what the analyzer reads of a store. [`Store`] has them, and so
/// has the copy the block reader's analysis keeps ([`crate::run`]).
pub trait SeriesNames {
    /// Series so far; their ids are `0..series_count()`.
    fn series_count(&self) -> usize;
    fn name(&self, id: SeriesId) -> &str;
    /// The id of the series called `name` (cut as [`Store::intern`] cuts it).
    fn find(&self, name: &str) -> Option<SeriesId>;
}

impl SeriesNames for Store {
    fn series_count(&self) -> usize {
        Store::series_count(self)
    }
    fn name(&self, id: SeriesId) -> &str {
        Store::name(self, id)
    }
    fn find(&self, name: &str) -> Option<SeriesId> {
        Store::find(self, name)
    }
}

/// `name` when it is at most [`NAME_MAX_BYTES`], else its start and end around a hash of all of
/// it: `start…#0123456789abcdef…end`, at most [`NAME_MAX_BYTES`] bytes.
fn bounded_name(name: &str) -> std::borrow::Cow<'_, str> {
    if name.len() <= NAME_MAX_BYTES {
        return std::borrow::Cow::Borrowed(name);
    }
    // FNV-1a: a stable 64-bit digest, so the same long key always maps to the same series.
    let hash =
        name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let mark = format!("…#{hash:016x}…");
    let half = (NAME_MAX_BYTES - mark.len()) / 2;
    let mut head = half;
    while !name.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = name.len() - half;
    while !name.is_char_boundary(tail) {
        tail += 1;
    }
    std::borrow::Cow::Owned(format!("{}{mark}{}", &name[..head], &name[tail..]))
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
    /// Calls `f(i, value i)` for the points `from..to` in order, as [`SeriesView::value`] gives
    /// them, each block of the column decoded once (see [`Packed::for_each_from`]).
    #[inline]
    pub fn for_each_value(&self, from: usize, to: usize, f: impl FnMut(usize, f64)) {
        self.s.values.for_each_from(from, to, f);
    }
    /// The values `from..from + out.len()` (at most to the last) into `out`, as
    /// [`SeriesView::value`] gives them (see [`Packed::read_into`]).
    #[inline]
    pub fn read_values(&self, from: usize, out: &mut [f64]) {
        self.s.values.read_into(from, out);
    }
    /// Stretches of consecutive records the points lie on: 1 for a key logged on every record
    /// from its first on, one more per gap.
    pub fn record_stretches(&self) -> usize {
        self.s.stretches.len()
    }
    /// Record index of point `i`.
    pub fn record_of(&self, i: usize) -> RecordIdx {
        let st = &self.s.stretches;
        let k = st.partition_point(|r| r.first_point as usize <= i) - 1;
        st[k].first_record + (i as u32 - st[k].first_point)
    }
    pub fn step(&self, i: usize) -> f64 {
        self.store.steps.get(self.record_of(i) as usize)
    }
    /// Seconds, or NaN when the record has no time.
    pub fn time(&self, i: usize) -> f64 {
        self.store.time_of(self.record_of(i) as usize)
    }
    /// The last point as (step, value).
    pub fn last(&self) -> Option<(f64, f64)> {
        let n = self.len();
        (n > 0).then(|| (self.step(n - 1), self.value(n - 1)))
    }
    /// All points in arrival order as (record, value); sequential, O(1) per point.
    pub fn iter_records(&self) -> impl Iterator<Item = (RecordIdx, f64)> + 'a {
        let values = &self.s.values;
        self.s.stretches.iter().flat_map(move |r| {
            (0..r.len).map(move |k| (r.first_record + k, values.get((r.first_point + k) as usize)))
        })
    }
    /// Points from index `from` on as (record, value); O(log stretches) to start, then O(1) per
    /// point.
    pub fn iter_records_from(&self, from: usize) -> impl Iterator<Item = (RecordIdx, f64)> + 'a {
        let values = &self.s.values;
        let st = &self.s.stretches;
        let k = st.partition_point(|r| (r.first_point as usize) + (r.len as usize) <= from);
        st[k..].iter().flat_map(move |r| {
            let skip = (from.max(r.first_point as usize) - r.first_point as usize) as u32;
            (skip..r.len).map(move |k| (r.first_record + k, values.get((r.first_point + k) as usize)))
        })
    }
    /// The points `from..to` as stretches of consecutive records, in order: `(first point,
    /// first record, points)` for each, cut to `from..to`. Lets a reader go through a column of
    /// the record table in order (each block decoded once) rather than record by record.
    pub fn record_stretches_in(
        &self,
        from: usize,
        to: usize,
    ) -> impl Iterator<Item = (usize, usize, usize)> + 'a {
        let st = &self.s.stretches;
        let to = to.min(self.len());
        let k = st.partition_point(|r| (r.first_point as usize) + (r.len as usize) <= from);
        st[k..].iter().map_while(move |r| {
            let (p0, len) = (r.first_point as usize, r.len as usize);
            let a = from.max(p0);
            let b = to.min(p0 + len);
            (a < b).then(|| (a, r.first_record as usize + (a - p0), b - a))
        })
    }
    /// All points in arrival order as (step, value).
    pub fn iter(&self) -> impl Iterator<Item = (f64, f64)> + 'a {
        let steps = &self.store.steps;
        self.iter_records().map(move |(r, v)| (steps.get(r as usize), v))
    }
    /// Points from index `from` on, as (step, value); for consumers that keep a cursor.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = (f64, f64)> + 'a {
        let steps = &self.store.steps;
        self.iter_records_from(from).map(move |(r, v)| (steps.get(r as usize), v))
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
        self.iter_records().map(|(r, _)| self.store.time_of(r as usize)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(step: f64) -> RecordMeta {
        RecordMeta { step, time: f64::NAN, line: 0 }
    }

    /// The newest record as `begin_record` kept it is what the columns give back, bit for bit:
    /// steps and times of every kind (NaN, infinities, the first time after none, none after
    /// some), lines evenly spaced, jumping, going back, and far apart; compact and not; and the
    /// values appended to it sit at its step.
    #[test]
    fn the_newest_record_kept_is_the_one_read_back() {
        let mut rng = crate::harness::rng::Rng::new(0x9E37_79B9_7F4A_7C15);
        let mut next = move || rng.next_u64();
        let odd = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1e300, 0.1];
        for compact in [false, true] {
            let mut store = Store::new();
            if compact {
                store.compact();
            }
            let id = store.intern("loss");
            let (mut step, mut line) = (0.0f64, 1u64);
            for k in 0..5_000u64 {
                let r = next();
                step = match r % 16 {
                    0 => odd[(r >> 8) as usize % odd.len()],
                    1 => step - 7.0,
                    _ => step + 1.0,
                };
                let time = match (k < 300, (r >> 4) % 8) {
                    (true, _) => f64::NAN,
                    (_, 0) => odd[(r >> 12) as usize % odd.len()],
                    _ => 1.7e9 + k as f64 * 0.25,
                };
                line = match (r >> 20) % 8 {
                    0 => line + 1 + (r >> 32) % 5,
                    1 => line.saturating_sub(3).max(1),
                    2 => line + (1 << 33),
                    _ => line + 2,
                };
                let rec = store.begin_record(RecordMeta { step, time, line });
                store.push_all(rec, &[(id, k as f64)]);
                let (kept, read) = (store.record(rec), store.read_record(rec));
                assert_eq!(kept.step.to_bits(), read.step.to_bits(), "record {k}");
                assert_eq!(kept.time.to_bits(), read.time.to_bits(), "record {k}");
                assert_eq!(kept.line, read.line, "record {k}");
                let pushed = store.steps.get(rec as usize);
                assert_eq!(store.series[id].last_step.to_bits(), pushed.to_bits(), "record {k}");
            }
        }
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
        assert_eq!(l.s.stretches.len(), 1);
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
    fn every_record_keeps_its_line_across_skipped_and_repeated_lines() {
        let mut st = Store::new();
        let id = st.intern("loss");
        // Consecutive lines, a gap of skipped lines, a line repeated, a line going back, line 0,
        // records on every other line, a stride too wide for a stretch.
        let mut lines: Vec<u64> = (1..=1000).collect();
        lines.extend(1005..1500);
        lines.extend([1500, 1500, 7, 0, 1, u64::MAX, 3]);
        lines.extend(2000..2100);
        lines.extend((2101..3000).step_by(2));
        lines.extend([1 << 40, 1 << 41, (1 << 41) + 1]);
        for (i, &line) in lines.iter().enumerate() {
            let r = st.begin_record(RecordMeta { step: i as f64, time: i as f64 * 0.5, line });
            st.push(r, id, 1.0);
        }
        for (i, &line) in lines.iter().enumerate() {
            let m = st.record(i as RecordIdx);
            assert_eq!((m.line, m.step, m.time), (line, i as f64, i as f64 * 0.5), "record {i}");
        }
        assert_eq!(st.last_record().map(|m| m.line), Some((1 << 41) + 1));
        // 1..=1000 | 1005..=1500 | 1500 | 7 | 0, 1 | MAX | 3, 2000 | 2001..2100 | 2101, 2103.. | 2^40 | 2^41, +1
        assert_eq!(st.lines.len(), 11);
        assert_eq!(st.steps().len(), lines.len());
        assert_eq!(st.times().get(4), 2.0);
    }

    #[test]
    fn a_record_costs_a_few_bytes_when_its_steps_times_and_lines_follow_each_other() {
        let mut st = Store::new();
        st.compact();
        let n = 100_000;
        for i in 0..n {
            let time = 1_767_225_600.3 + (i / 4) as f64;
            st.begin_record(RecordMeta { step: (i * 10) as f64, time, line: i as u64 + 1 });
        }
        assert_eq!(st.lines.len(), 1);
        let table = st.heap_bytes();
        let lines = st.lines.capacity() * std::mem::size_of::<LineStretch>();
        assert_eq!(table, st.steps.bytes() + st.times.bytes() + lines);
        assert!(lines < 1024 && table < n * 3, "{table} bytes for {n} records");
        for i in [0, 1, 63, 64, 65, 99_999] {
            let m = st.record(i as RecordIdx);
            assert_eq!((m.step, m.time), ((i * 10) as f64, 1_767_225_600.3 + (i / 4) as f64), "{i}");
        }
    }

    #[test]
    fn a_snapshot_shares_the_columns_and_later_appends_do_not_reach_it() {
        for compact in [false, true] {
            let mut st = Store::new();
            if compact {
                st.compact();
            }
            let (loss, eval, other) = (st.intern("loss"), st.intern("eval/loss"), st.intern("lr"));
            let add = |st: &mut Store, from: usize, to: usize, k: f64| {
                for i in from..to {
                    let time = 1.7e9 + i as f64 * 0.25;
                    let r = st.begin_record(RecordMeta { step: i as f64, time, line: i as u64 + 1 });
                    st.push(r, loss, k * (i % 977) as f64 / 16.0);
                    st.push(r, other, 1e-3);
                    if i % 100 == 0 {
                        st.push(r, eval, k / (i + 1) as f64);
                    }
                }
            };
            // Past a chunk of 65,536 values and into the next, mid-block.
            let n = packed::CHUNK_BLOCKS * packed::BLOCK + 1000 + 7;
            add(&mut st, 0, n, 1.0);
            let want = st.clone();
            let snap = st.snapshot(&[loss, eval], true);
            assert!(
                snap.steps().shares_chunks_with(st.steps()) && snap.times().shares_chunks_with(st.times())
            );
            assert!(snap.series[loss].values.shares_chunks_with(&st.series[loss].values));
            assert_eq!((snap.series(other).len(), snap.name(other)), (0, "lr"), "only the series asked for");
            // The store goes on: the chunks being filled are copied for it, the rest stay shared.
            add(&mut st, n, n + 70_000, -3.0);
            assert_eq!(st.records(), n + 70_000);
            assert_eq!(snap.records(), n);
            for r in 0..n {
                let (a, b) = (snap.record(r as RecordIdx), want.record(r as RecordIdx));
                assert_eq!((a.step.to_bits(), a.time.to_bits()), (b.step.to_bits(), b.time.to_bits()), "{r}");
            }
            for id in [loss, eval] {
                let (a, b) = (snap.series(id), want.series(id));
                assert_eq!(a.len(), b.len());
                assert!((0..a.len()).all(|i| a.value(i).to_bits() == b.value(i).to_bits()), "{id}");
                assert!((0..a.len()).all(|i| a.record_of(i) == b.record_of(i)), "{id}");
                // And the store reads what it appended after the snapshot.
                let s = st.series(id);
                assert!((0..b.len()).all(|i| s.value(i).to_bits() == b.value(i).to_bits()), "{id}");
            }
            assert_eq!(st.series(loss).value(n + 5), -3.0 * ((n + 5) % 977) as f64 / 16.0);
            assert_eq!(st.steps().get(n + 69_999), (n + 69_999) as f64);
        }
    }

    #[test]
    fn reserve_makes_room_in_proportion_and_appends_do_not_reallocate() {
        let mut st = Store::new();
        st.compact();
        let (loss, eval) = (st.intern("loss"), st.intern("eval/loss"));
        let add = |st: &mut Store, from: usize, to: usize| {
            for i in from..to {
                let r = st.begin_record(RecordMeta { step: i as f64, time: 0.0, line: i as u64 + 1 });
                st.push(r, loss, i as f64 * 0.5);
                if i % 100 == 0 {
                    st.push(r, eval, 0.1);
                }
            }
        };
        add(&mut st, 0, 1000);
        st.reserve(200_000);
        let before = st.heap_bytes();
        // Steps a byte a record, times one word a block, loss two bytes a value, eval a word a
        // block of its points: about 3.4 bytes a record.
        assert!(before < 201_000 * 4, "{before}");
        add(&mut st, 1000, 201_000);
        // (A full chunk of a column may let go of room it did not need: never more.)
        assert!(
            st.heap_bytes() <= before,
            "an append outgrew the reservation: {} > {before}",
            st.heap_bytes()
        );
        assert_eq!(st.series(loss).len(), 201_000);
        assert_eq!(st.series(loss).value(200_999), 200_999.0 * 0.5);
        assert_eq!(st.series(eval).value(2009), 0.1);
    }

    #[test]
    fn records_without_a_time_cost_no_time_column() {
        let mut st = Store::new();
        for i in 0..1000 {
            st.begin_record(RecordMeta { step: i as f64, time: f64::NAN, line: i as u64 + 1 });
        }
        assert_eq!((st.times().len(), st.times.bytes()), (0, 0));
        assert!(st.record(5).time.is_nan());
        // The first time: the records before it read NaN, and every record after has a slot.
        st.begin_record(RecordMeta { step: 1000.0, time: 7.5, line: 1001 });
        st.begin_record(RecordMeta { step: 1001.0, time: f64::NAN, line: 1002 });
        assert_eq!(st.times().len(), 1002);
        assert!(st.record(999).time.is_nan() && st.record(1001).time.is_nan());
        assert_eq!(st.record(1000).time, 7.5);
        let id = st.intern("loss");
        st.push(1001, id, 1.0);
        assert!(st.series(id).time(0).is_nan());
    }

    #[test]
    fn large_columns_grow_by_an_eighth() {
        let mut st = Store::new();
        let id = st.intern("loss");
        let n = 2_000_000;
        for i in 0..n {
            let r = st.begin_record(RecordMeta { step: i as f64, time: 0.0, line: i as u64 + 1 });
            // Neither a short decimal nor an f32: 8 bytes a value.
            st.push(r, id, 1.0 / (i + 3) as f64);
        }
        // Doubling would leave up to twice the 16 MB here; an eighth leaves at most 9/8 of it.
        let bytes = st.series[id].values.bytes();
        assert!(bytes <= n * 8 * 9 / 8 + n / 4 + 4096, "{bytes}");
        assert!(st.series[id].values.len() == n && st.series(id).value(n - 1) == 1.0 / (n + 2) as f64);
    }

    #[test]
    fn iter_records_from_starts_anywhere_in_any_stretch() {
        let mut st = Store::new();
        let (a, b) = (st.intern("a"), st.intern("b"));
        for i in 0..300 {
            let r = st.begin_record(meta(i as f64));
            st.push(r, a, i as f64);
            if i % 7 != 3 {
                st.push(r, b, i as f64);
            }
        }
        for id in [a, b] {
            let v = st.series(id);
            let all: Vec<_> = v.iter_records().collect();
            for from in [0, 1, 3, 4, 5, 100, all.len() - 1, all.len(), all.len() + 3] {
                let got: Vec<_> = v.iter_records_from(from).collect();
                assert_eq!(got, all[from.min(all.len())..], "{id} from {from}");
                // The same records, stretch by stretch, up to any end.
                for to in [from, from + 1, from + 4, from + 60, all.len()] {
                    let got: Vec<(usize, RecordIdx)> = v
                        .record_stretches_in(from, to)
                        .flat_map(|(p, r, len)| (0..len).map(move |k| (p + k, (r + k) as RecordIdx)))
                        .collect();
                    let want: Vec<(usize, RecordIdx)> =
                        (from..to.min(all.len())).map(|i| (i, all[i].0)).collect();
                    assert_eq!(got, want, "{id} {from}..{to}");
                }
            }
        }
    }

    #[test]
    fn a_long_name_is_cut_around_a_hash_and_stays_apart_from_others() {
        let mut st = Store::new();
        let a = format!("a{}x", "m".repeat(3 << 20));
        let b = format!("a{}y", "m".repeat(3 << 20));
        let (ia, ib) = (st.intern(&a), st.intern(&b));
        assert_ne!(ia, ib);
        assert_eq!(st.intern(&a), ia);
        assert_eq!(st.find(&b), Some(ib));
        for id in [ia, ib] {
            let n = st.name(id);
            assert!(n.len() <= NAME_MAX_BYTES && n.starts_with("amm") && n.contains("…#"), "{}", n.len());
        }
        assert!(st.name(ia).ends_with("mmx") && st.name(ib).ends_with("mmy"));
        // Multi-byte characters are never split.
        let wide = "損".repeat(1000);
        let w = st.intern(&wide);
        assert!(st.name(w).len() <= NAME_MAX_BYTES);
        assert!(st.heap_bytes() < 64 << 10, "{}", st.heap_bytes());
    }

    #[test]
    fn display_precision_halves_decimal_values_and_keeps_what_f32_cannot_hold() {
        let mut st = Store::new();
        let (loss, big) = (st.intern("loss"), st.intern("big"));
        for i in 0..1000 {
            let r = st.begin_record(RecordMeta { step: i as f64, time: f64::NAN, line: i as u64 + 1 });
            st.push(r, loss, 0.4025 + i as f64 * 1e-4);
            st.push(r, big, if i == 3 { 1e300 } else { 1.5 });
        }
        let before = st.heap_bytes();
        st.keep_display_precision();
        assert!(st.display_precision());
        assert!(st.heap_bytes() < before, "{} -> {}", before, st.heap_bytes());
        let s = st.series(loss);
        assert_eq!(s.value(0), 0.4025f32 as f64, "narrowed");
        assert_eq!(s.min_max(), Some((0.4025, 0.4025 + 999.0 * 1e-4)), "the extremes stay exact");
        assert_eq!(st.series(big).value(3), 1e300, "a value beyond f32 keeps its series f64");
        // Appended values are narrowed too; one beyond f32 widens the series.
        let r = st.begin_record(RecordMeta { step: 1000.0, time: f64::NAN, line: 1001 });
        st.push(r, loss, 0.1);
        assert_eq!(st.series(loss).value(1000), 0.1f32 as f64);
        let r = st.begin_record(RecordMeta { step: 1001.0, time: f64::NAN, line: 1002 });
        st.push(r, loss, 1e-300);
        assert_eq!(st.series(loss).value(1001), 1e-300);
        assert_eq!(st.series(loss).value(0), 0.4025f32 as f64);
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
