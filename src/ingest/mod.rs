//! Ingest: the schema stage. Decides the format, the step key and the time key with zero
//! configuration, turns parsed lines (or the entries of a whole-file document) into records, and
//! appends them to the [`Store`].
//!
//! Decisions, in the order a record meets them:
//! - **Not records.** Lines that do not parse, or are not objects, are counted in
//!   `store.skipped` with their line number and reason; blank lines are ignored without a word.
//!   An object with no number at all, or with mmcv's `env_info`, is metadata: counted in
//!   [`Ingest::metadata_records`], never a record.
//! - **Step and clock**: see [`keys`]. Both are decided on the first record with a number; while
//!   none is found, the next few new templates (8) may still decide them. A record
//!   without the step key (an end-of-training summary) takes the step of the record before it.
//! - **Metrics**: only numbers (non-finite included) become series. See [`keys`] for the numeric
//!   keys that are not metrics. Strings that hold numbers stay strings. A key that comes twice in
//!   one record counts once, with its last value (as Python's `json` reads it).
//! - **Bounded**: a run has at most [`IngestOptions::max_series`] series (default
//!   [`DEFAULT_MAX_SERIES`], `--max-series`). The fields of further names are counted in
//!   [`Store::fields_dropped`] and not stored, so a log with a new key on every line (a million
//!   distinct names) costs bounded memory; the names of non-metric keys are remembered up to the
//!   same number.
//! - **Split keys**: a string column in [`keys::SPLIT_KEYS`] (`agent`) splits every metric of its
//!   record: `eprewmean[agent_0]`.
//! - **Eval records** are either marked (mmcv's `"mode": "val"`) or recognised by their keys: once
//!   train records have been seen, a record whose metric keys (leaving out steps, clocks and the
//!   timing names `time`/`data_time`) are all unknown to train records is an eval record
//!   (mmengine's val lines, detectron2's eval-only last line). An eval record whose step is below
//!   the last train step and equal to the `epoch` of the train record before it (mmengine writes
//!   the epoch in `step`) is placed at that train record's step; every other eval record keeps
//!   its own step, even one that arrives after a later step (two writers sharing one log).
//!   On eval records the timing names (and for marked ones every name train records use, like
//!   mmcv's `lr`) get a `val/` prefix so they do not mix with the train series; mmcv's `epoch` and
//!   `iter` on val lines are not metrics. HF and LLaMA-Factory eval records already use their own
//!   names and share the train step: they are left as they are.
//! - **Copies from several ranks** are dropped and counted: see [`steps`].
//! - **Appended runs** (the step goes back) are kept: the store marks the restart per series.

pub mod clock;
pub mod format;
pub mod keys;
mod record;
pub mod steps;
mod structured;
mod template;

pub use clock::ClockKind;
pub use format::Format;

use crate::parse::{flatten_value, parse_document, Field, LineError, LineParser};
use crate::store::{RecordIdx, SeriesId, Store};
use keys::{Clock, StepMode};
use std::collections::{BTreeSet, HashSet};
use steps::{DupWindow, EpochIter};
use template::Templates;

/// Series a run may have unless told otherwise (`--max-series`): hundreds of times what real logs
/// have (the corpus' widest has 91), few enough that a log with a new key on every line stays
/// within a few tens of MB.
pub const DEFAULT_MAX_SERIES: usize = 5_000;

/// User overrides; everything else is detected.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    pub step_key: Option<String>,
    pub time_key: Option<String>,
    /// Most series a run may have; the fields of further names are counted, not stored.
    pub max_series: usize,
    /// The run's store encodes its columns compactly ([`crate::store::Store::compact`]): the
    /// monitor's runs, not `tmon check`'s.
    pub compact: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions { step_key: None, time_key: None, max_series: DEFAULT_MAX_SERIES, compact: false }
    }
}

/// Called for each record appended: the store, the record, and its (series, value) pairs.
pub type OnRecord<'a> = dyn FnMut(&Store, RecordIdx, &[(SeriesId, f64)]) + 'a;

/// Timing names that train and eval records both use with different meanings.
const TIMING_KEYS: &[&str] = &["time", "data_time"];
/// Values of a mode key that mark an eval record.
const EVAL_MODES: &[&str] = &["val", "eval", "test", "valid", "validation"];
/// How many new templates may pass without a step key or a clock before we stop looking for one.
const DETECT_TRIES: u32 = 8;

/// What a whole-file document push did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocPush {
    /// This many new entries were taken (0 when nothing changed).
    Appended(usize),
    /// The document no longer starts with what was taken: reading started over. The reason says why.
    Restarted { reason: String, appended: usize },
    /// The document did not parse; nothing was taken.
    Invalid,
}

/// Turns lines into records for one file.
#[derive(Debug, Default)]
pub struct Ingest {
    opts: IngestOptions,
    format: Format,
    step: Option<StepMode>,
    clock: Option<Clock>,
    step_tries: u32,
    clock_tries: u32,
    ordinal: u64,
    /// Whether a record has carried the step key since the last reset.
    step_seen: bool,
    last_step: Option<f64>,
    last_train_step: Option<f64>,
    /// The `epoch` of the last train record, when it had one (mmengine's val lines put it in `step`).
    last_train_epoch: Option<f64>,
    epoch_iter: EpochIter,
    templates: Templates,
    /// Raw keys that were metrics on train records (to recognise eval records).
    train_keys: HashSet<String>,
    metric_keys: HashSet<String>,
    skipped_keys: BTreeSet<String>,
    window: DupWindow,
    scratch: Vec<(SeriesId, f64)>,
    /// The fields buffer, kept between lines so its allocation is reused.
    buf: Vec<Field<'static>>,
    /// The parser of [`Ingest::push_line`], with the key layouts of the lines it read.
    parser: LineParser,
    /// The key layout of the last line, and the serial of its template.
    last_layout: (u64, u64),
    /// Fingerprints of the document entries taken so far.
    doc_taken: Vec<u64>,
    metadata: u64,
    duplicates: u64,
    eval: u64,
}

/// Reuses a `Vec`'s allocation for another lifetime (the in-place `collect` keeps the buffer).
pub(crate) fn recycle<'b>(mut v: Vec<Field<'_>>) -> Vec<Field<'b>> {
    v.clear();
    v.into_iter()
        .map(|_| Field { key: std::borrow::Cow::Borrowed(""), value: crate::parse::Scalar::Null })
        .collect()
}

/// A JSON Lines line without its leading BOM and trailing `\r`; None when it is blank (blank
/// lines are ignored, not counted).
pub fn prepare_line(bytes: &[u8]) -> Option<&[u8]> {
    let bytes = format::strip_bom(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    (!bytes.iter().all(u8::is_ascii_whitespace)).then_some(bytes)
}

/// A framer's note line: counts it as skipped with its reason, and returns what was kept of the
/// line (`None` for an ordinary line).
fn take_note<'a>(store: &mut Store, line_no: u64, bytes: &'a [u8]) -> Option<&'a [u8]> {
    let (reason, text, kept) = crate::source::frame::note_parts(bytes)?;
    store.skipped.push(line_no, String::from_utf8_lossy(reason), text);
    Some(kept)
}

impl Ingest {
    pub fn new(opts: IngestOptions) -> Self {
        Ingest { opts, ..Default::default() }
    }

    pub fn format(&self) -> Format {
        self.format
    }
    /// The step key: the user's, or the detected one; `"epoch+iter"` for mmcv; None for the ordinal
    /// (or before any record).
    pub fn step_key(&self) -> Option<&str> {
        match &self.step {
            Some(StepMode::Key(k)) => Some(k),
            Some(StepMode::EpochIter) => Some("epoch+iter"),
            _ => None,
        }
    }
    /// The time key, user's or detected.
    pub fn time_key(&self) -> Option<&str> {
        self.clock.as_ref().map(|c| c.key.as_str())
    }
    /// What the time key measures.
    pub fn clock_kind(&self) -> Option<ClockKind> {
        self.clock.as_ref().map(|c| c.kind)
    }
    pub fn options(&self) -> &IngestOptions {
        &self.opts
    }
    /// Objects read that hold no metric (mmcv's first line).
    pub fn metadata_records(&self) -> u64 {
        self.metadata
    }
    /// Records dropped as another rank's copy of a record already taken.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }
    /// Records taken as eval records: marked ones, and those whose keys train records never had
    /// (which includes an end-of-training summary such as HF's `train_runtime` entry).
    pub fn eval_records(&self) -> u64 {
        self.eval
    }
    /// Most series the run may have ([`IngestOptions::max_series`]).
    pub fn max_series(&self) -> usize {
        self.opts.max_series
    }
    /// Keys seen that never became a metric (strings, lists, config values, the step and clock),
    /// the first [`IngestOptions::max_series`] of them.
    pub fn non_metric_keys(&self) -> impl Iterator<Item = &str> {
        self.skipped_keys.iter().filter(|k| !self.metric_keys.contains(*k)).map(String::as_str)
    }

    /// Feeds one complete JSON Lines line (without its newline; a trailing `\r` and a leading BOM
    /// are removed here). Lines that are not records are counted in `store.skipped`.
    /// A line starting with a NUL byte is a framer's note about bytes that were not kept (see
    /// [`crate::source::frame`]): it is counted as skipped with its reason, and what was kept of
    /// the line is read.
    pub fn push_line(&mut self, store: &mut Store, line_no: u64, bytes: &[u8], on_record: &mut OnRecord<'_>) {
        if let Some(kept) = take_note(store, line_no, bytes) {
            self.push_kept(store, line_no, kept, on_record);
            return;
        }
        let Some(bytes) = prepare_line(bytes) else {
            self.format_lines();
            return;
        };
        let mut fields = recycle(std::mem::take(&mut self.buf));
        let parsed = self.parser.parse(bytes, &mut fields);
        self.push_parsed(store, line_no, bytes, parsed.as_ref().map(|&l| (&fields[..], l)), on_record);
        self.buf = recycle(fields);
    }

    /// Feeds a line that was parsed elsewhere (the batch reader parses in other threads): `bytes`
    /// is the line as [`prepare_line`] returned it, `parsed` what [`LineParser::parse`] made of
    /// it: the fields and the line's layout id (0 when unknown), or why it is not a record.
    pub fn push_parsed(
        &mut self,
        store: &mut Store,
        line_no: u64,
        bytes: &[u8],
        parsed: Result<(&[Field<'_>], u64), &LineError>,
        on_record: &mut OnRecord<'_>,
    ) {
        if let Some(kept) = take_note(store, line_no, bytes) {
            self.push_kept(store, line_no, kept, on_record);
            return;
        }
        self.format_lines();
        match parsed {
            // A line laid out as the last one `push_fields` took has its keys, so no model key:
            // the keys are looked at once a layout, not at every line.
            Ok((fields, layout))
                if (layout == 0 || layout != self.last_layout.0)
                    && fields.iter().any(|f| crate::model::record::is_model_key(&f.key)) =>
            {
                self.push_model(store, line_no, bytes, fields, on_record)
            }
            Ok((fields, layout)) => self.push_fields(store, line_no, fields, layout, on_record),
            Err(e) => store.skipped.push(line_no, e.to_string(), bytes),
        }
    }

    /// A line holding a model record (`{"model": {"name", "type", "children": [...]}}`): the tree
    /// goes to `store.model`, the line's other fields (a step, metrics) make a record as usual,
    /// and the `model/...` fields never become series. A model that cannot be read is counted as
    /// a skipped line with the reason.
    fn push_model(
        &mut self,
        store: &mut Store,
        line_no: u64,
        bytes: &[u8],
        fields: &[Field<'_>],
        on_record: &mut OnRecord<'_>,
    ) {
        match crate::model::record::parse_record(bytes, line_no) {
            Some(model) => store.set_model(model),
            None => store.skipped.push(line_no, "a model record that could not be read", bytes),
        }
        let rest: Vec<Field<'_>> = fields.iter().filter(|f| !f.key.starts_with("model/")).cloned().collect();
        if rest.iter().any(|f| matches!(f.value, crate::parse::Scalar::Num(_))) {
            self.push_fields(store, line_no, &rest, 0, on_record);
        }
    }

    /// What a note line kept of its line (what followed a hole): a record when it is one; when it
    /// is not, the note already counted the line as skipped.
    fn push_kept(&mut self, store: &mut Store, line_no: u64, kept: &[u8], on_record: &mut OnRecord<'_>) {
        self.format_lines();
        let Some(kept) = prepare_line(kept) else { return };
        let mut fields = recycle(std::mem::take(&mut self.buf));
        if crate::parse::parse_line(kept, &mut fields).is_ok() {
            self.push_fields(store, line_no, &fields, 0, on_record);
        }
        self.buf = recycle(fields);
    }

    fn format_lines(&mut self) {
        if self.format == Format::Unknown {
            self.format = Format::JsonLines;
        }
    }

    /// Feeds a whole-file JSON document. Called again each time the file is rewritten: entries
    /// already taken are not taken again; when the document no longer starts with them (shorter,
    /// or different), the per-file state is reset and every entry is read again.
    /// A document that does not parse is counted in `store.skipped` (as line 0).
    pub fn push_document(
        &mut self,
        store: &mut Store,
        bytes: &[u8],
        on_record: &mut OnRecord<'_>,
    ) -> DocPush {
        self.document(store, bytes, on_record, true)
    }

    /// As [`push_document`](Self::push_document), but a document that does not parse leaves no
    /// trace (the caller will read the bytes as JSON Lines instead).
    pub fn try_document(&mut self, store: &mut Store, bytes: &[u8], on_record: &mut OnRecord<'_>) -> DocPush {
        self.document(store, bytes, on_record, false)
    }

    fn document(
        &mut self,
        store: &mut Store,
        bytes: &[u8],
        on_record: &mut OnRecord<'_>,
        note: bool,
    ) -> DocPush {
        let parsed = parse_document(format::strip_bom(bytes)).map_err(|e| format!("whole-file JSON: {e}"));
        let doc = match parsed {
            Ok(d) => d,
            Err(reason) => {
                if note {
                    store.skipped.push(0, reason, bytes);
                }
                return DocPush::Invalid;
            }
        };
        let Some((fmt, items)) = format::entries(&doc) else {
            if note {
                store.skipped.push(0, "whole-file JSON but neither an object nor an array", bytes);
            }
            return DocPush::Invalid;
        };
        self.format = fmt;
        if std::ptr::eq(items.as_ptr(), &doc) {
            // One object that is itself the record (a summary rewritten in place): each new
            // version is one more record, not a restart.
            let h = format::fingerprint(&doc);
            if self.doc_taken.last() == Some(&h) {
                return DocPush::Appended(0);
            }
            self.doc_taken.push(h);
            let mut fields: Vec<Field<'_>> = Vec::new();
            let line = self.doc_taken.len() as u64;
            if flatten_value(&doc, &mut fields).is_ok() {
                self.push_fields(store, line, &fields, 0, on_record);
            }
            return DocPush::Appended(1);
        }
        let taken = self.doc_taken.len();
        let kept = items.len() >= taken
            && items.iter().zip(&self.doc_taken).all(|(e, &h)| format::fingerprint(e) == h);
        let restart = (!kept).then(|| {
            if items.len() < taken {
                format!(
                    "the document was rewritten with {} entries, fewer than the {taken} read",
                    items.len()
                )
            } else {
                "the document was rewritten with a different history".to_owned()
            }
        });
        if restart.is_some() {
            self.reset();
        }
        let from = self.doc_taken.len();
        let mut fields: Vec<Field<'_>> = Vec::new();
        for (i, e) in items.iter().enumerate().skip(from) {
            self.doc_taken.push(format::fingerprint(e));
            let line = i as u64 + 1;
            match flatten_value(e, &mut fields) {
                Ok(()) => self.push_fields(store, line, &fields, 0, on_record),
                Err(err) => store.skipped.push(line, format!("entry {line}: {err}"), b""),
            }
        }
        let appended = items.len() - from;
        match restart {
            Some(reason) => DocPush::Restarted { reason, appended },
            None => DocPush::Appended(appended),
        }
    }

    /// The file started over: forget the per-file state (ordinal, mmcv epochs, the duplicate
    /// window, document entries taken, detected step and clock, remembered templates). User
    /// overrides, the counters and the lists of keys seen stay.
    pub fn reset(&mut self) {
        self.step = None;
        self.clock = None;
        self.step_tries = 0;
        self.clock_tries = 0;
        self.ordinal = 0;
        self.step_seen = false;
        self.last_step = None;
        self.last_train_step = None;
        self.last_train_epoch = None;
        self.epoch_iter = EpochIter::default();
        self.templates.clear();
        self.train_keys.clear();
        self.window = DupWindow::default();
        self.doc_taken.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Scalar;
    use std::borrow::Cow;

    fn push(ing: &mut Ingest, st: &mut Store, line: u64, fields: &[(&str, f64)]) {
        let fields: Vec<Field<'_>> =
            fields.iter().map(|(k, v)| Field { key: Cow::Borrowed(*k), value: Scalar::Num(*v) }).collect();
        ing.push_fields(st, line, &fields, 0, &mut |_, _, _| {});
    }

    #[test]
    fn the_fields_buffer_keeps_its_allocation() {
        let mut v: Vec<Field<'_>> = Vec::with_capacity(64);
        v.push(Field { key: Cow::Borrowed("a"), value: Scalar::Num(1.0) });
        let ptr = v.as_ptr() as usize;
        let w: Vec<Field<'static>> = recycle(v);
        assert!(w.is_empty() && w.capacity() >= 64);
        assert_eq!(w.as_ptr() as usize, ptr);
    }

    #[test]
    fn non_finite_values_are_points() {
        let (mut ing, mut st) = (Ingest::default(), Store::new());
        push(&mut ing, &mut st, 1, &[("step", 1.0), ("loss", 2.0)]);
        push(&mut ing, &mut st, 2, &[("step", 2.0), ("loss", f64::NAN)]);
        push(&mut ing, &mut st, 3, &[("step", 3.0), ("loss", f64::INFINITY)]);
        // A copy check must not treat NaN records at the same step as different, nor crash.
        push(&mut ing, &mut st, 4, &[("step", 4.0), ("loss", f64::NAN)]);
        let loss = st.series(st.find("loss").expect("loss"));
        assert_eq!(loss.len(), 4);
        assert_eq!(loss.nonfinite(), 3);
        assert_eq!(loss.steps(), vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn a_step_key_found_after_a_setup_line_is_used() {
        let (mut ing, mut st) = (Ingest::default(), Store::new());
        push(&mut ing, &mut st, 1, &[("num_gpus", 8.0)]);
        push(&mut ing, &mut st, 2, &[("global_step", 100.0), ("loss", 2.0)]);
        push(&mut ing, &mut st, 3, &[("global_step", 200.0), ("loss", 1.0)]);
        assert_eq!(ing.step_key(), Some("global_step"));
        assert_eq!(st.series(st.find("loss").expect("loss")).steps(), vec![100.0, 200.0]);
        assert!(st.find("global_step").is_none());
    }

    #[test]
    fn a_step_key_in_a_late_record_does_not_flip_a_decided_key() {
        let (mut ing, mut st) = (Ingest::default(), Store::new());
        push(&mut ing, &mut st, 1, &[("iteration", 1.0), ("loss", 2.0)]);
        push(&mut ing, &mut st, 2, &[("step", 7.0), ("iteration", 2.0), ("loss", 1.0)]);
        assert_eq!(ing.step_key(), Some("iteration"));
        assert!(st.find("step").is_some());
    }

    #[test]
    fn series_beyond_the_cap_are_counted_not_stored() {
        let opts = IngestOptions { max_series: 100, ..Default::default() };
        let (mut ing, mut st) = (Ingest::new(opts), Store::new());
        for i in 0..20_000u64 {
            let (k, s) = (format!("m{i}"), format!("note{i}"));
            let fields = [
                Field { key: Cow::Borrowed("step"), value: Scalar::Num(i as f64) },
                Field { key: Cow::Borrowed(&k), value: Scalar::Num(1.0) },
                Field { key: Cow::Borrowed("loss"), value: Scalar::Num(0.5) },
                Field { key: Cow::Borrowed(&s), value: Scalar::Str(Cow::Borrowed("x")) },
            ];
            ing.push_fields(&mut st, i + 1, &fields, 0, &mut |_, _, _| {});
        }
        assert_eq!(st.series_count(), 100);
        assert_eq!(st.records(), 20_000);
        // `loss` came early, so it is kept on every record; 99 of the new names were taken.
        assert_eq!(st.series(st.find("loss").unwrap()).len(), 20_000);
        assert_eq!(st.fields_dropped(), 20_000 - 99);
        assert!(ing.non_metric_keys().count() <= 100);
        assert!(ing.metric_keys.len() <= 100 && ing.train_keys.len() <= 102);
    }
}
