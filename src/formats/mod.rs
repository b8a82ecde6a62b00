//! Readers of the logs training already writes besides JSON: TensorBoard event files, CSV
//! (Lightning, Keras, Ultralytics, any CSV with a header), W&B run files and MLflow's local
//! stores. Each decodes its format and feeds the same ingest and store as JSON Lines, so flags,
//! smoothing and the report work the same on every format.
//!
//! A format is told by its content, with the name as a hint ([`detect`]): the TFRecord frame's
//! length checksum, the W&B header, SQLite's header, a CSV header line. What a reader cannot use
//! (histograms, images, unreadable records) is counted, never dropped silently: bad records go to
//! the store's skipped list, values that are not metrics to [`RunInfo::not_metrics`].
//!
//! A run is not always one file: the event files of one folder are one TensorBoard run (a
//! restarted writer adds a file), an MLflow file-store run is a folder of files, and one
//! `mlflow.db` holds many runs. [`run_key`] says which path stands for a run, [`load`] reads every
//! run a path holds.
//!
//! Followed live ([`follow`]), each file is read as bytes ([`framing`] tells the source layer
//! which files are not text), the files of one run are gathered by [`group`], and a
//! [`follow::Decoder`] per run decodes the bytes as they come. Big files are decoded on every
//! core ([`par`]), the hot records read in place ([`wire`]).

pub mod csv;
pub mod follow;
pub mod leveldb;
pub mod mlflow;
pub mod par;
pub mod tfevents;
pub mod tfrecord;
pub mod wandb;
pub mod wire;

use crate::analysis::FlagConfig;
use crate::error::Error;
use crate::ingest::IngestOptions;
use crate::parse::Field;
use crate::run::{Run, Threads};
use crate::source::Framing;
use crate::store::SeriesId;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// What a run's log says about the run besides its metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunInfo {
    /// The run's name, when the format has one (W&B's display name, MLflow's `run_name`).
    pub name: Option<String>,
    /// The run's status, when the format records one (MLflow's `FINISHED`, W&B's exit code).
    pub status: Option<String>,
    /// The run's configuration, flattened to `a/b` keys, values as JSON text.
    pub config: BTreeMap<String, String>,
    /// The run's final summary (W&B), flattened as the config.
    pub summary: BTreeMap<String, String>,
    /// Values read that are not drawn as metrics, by kind (`histograms`, `images`, ...): counted
    /// so the user sees they were there.
    pub not_metrics: BTreeMap<&'static str, u64>,
}

impl RunInfo {
    /// Counts one value of `kind` that is not a metric.
    pub fn count(&mut self, kind: &'static str) {
        *self.not_metrics.entry(kind).or_default() += 1;
    }
}

/// The log formats read here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A TensorBoard event file (`events.out.tfevents.*`).
    TfEvents,
    /// CSV with a header row.
    Csv,
    /// A W&B run file (`run-*.wandb`).
    Wandb,
    /// MLflow's SQLite store (`mlflow.db`).
    MlflowDb,
    /// One run of MLflow's file store: its `meta.yaml`, or its folder.
    MlflowRun,
}

/// How many bytes of a file [`detect`] looks at.
const HEAD: u64 = 4096;

/// What `path` is, by its content (and its name where the content alone is ambiguous); None for
/// JSON and anything else (the JSON Lines reader takes those).
pub fn detect(path: &Path) -> Option<Kind> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_dir() {
        if mlflow::is_run_dir(path) {
            return Some(Kind::MlflowRun);
        }
        let events = tfevents::event_files(path).is_ok_and(|f| !f.is_empty());
        return events.then_some(Kind::TfEvents);
    }
    if !meta.is_file() {
        // A FIFO or a device: never opened here (the JSON Lines reader refuses it by name).
        return None;
    }
    if name == "meta.yaml" {
        return path.parent().filter(|d| mlflow::is_run_dir(d)).map(|_| Kind::MlflowRun);
    }
    if mlflow::is_metric_file(path) {
        return Some(Kind::MlflowRun);
    }
    let mut head = Vec::new();
    // O_NONBLOCK: the file may have been swapped for a FIFO since it was looked at.
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path);
    if let Ok(f) = file {
        let _ = f.take(HEAD).read_to_end(&mut head);
    }
    detect_bytes(name, &head)
}

/// [`detect`] from a file's name and first bytes.
pub fn detect_bytes(name: &str, head: &[u8]) -> Option<Kind> {
    if leveldb::is_wandb_header(head) {
        return Some(Kind::Wandb);
    }
    if head.starts_with(mlflow::SQLITE_MAGIC) {
        return Some(Kind::MlflowDb);
    }
    if tfrecord::starts_like(head) || (head.is_empty() && tfevents::is_event_file_name(name)) {
        return Some(Kind::TfEvents);
    }
    if csv::looks_like(name, head) {
        return Some(Kind::Csv);
    }
    None
}

/// The path that stands for the run `path` belongs to: an event file's folder (its event files
/// are one run), a `meta.yaml`'s run folder, the first file of a resumed W&B run; the path
/// itself otherwise. Two paths with one key
/// are one run, read once.
pub fn run_key(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if tfevents::is_event_file_name(name) || (name == "meta.yaml" && mlflow::is_run_dir(folder)) {
        return folder.to_owned();
    }
    if mlflow::is_metric_file(path) {
        if let Some(dir) = mlflow::run_dir_of(path) {
            return dir;
        }
    }
    if name.ends_with(".wandb") {
        let files = wandb::run_files(path);
        if files.len() > 1 {
            return files[0].clone();
        }
    }
    path.to_owned()
}

/// Reads every run `path` holds, when it is one of the formats here; None for JSON (the caller
/// reads it as JSON Lines or a document).
pub fn load(path: &Path, opts: &IngestOptions, cfg: &FlagConfig) -> Option<Result<Vec<Run>, Error>> {
    load_with(path, opts, cfg, Threads::Auto)
}

/// As [`load`]: with [`Threads::Auto`], a CSV file is split into cells on every core and the
/// records of CSV and MLflow are analysed on a thread of their own; [`Threads::One`] (`tmon
/// check` reading many files at once, one a thread) reads on the calling thread alone.
pub fn load_with(
    path: &Path,
    opts: &IngestOptions,
    cfg: &FlagConfig,
    threads: Threads,
) -> Option<Result<Vec<Run>, Error>> {
    let kind = detect(path)?;
    let apart = threads == Threads::Auto;
    let new_run = |p: &Path| Run::new(p, opts.clone(), cfg.clone());
    let whole = |files: Vec<PathBuf>| -> Vec<follow::FileEnd> {
        let end = u64::MAX;
        files.into_iter().enumerate().map(|(file, path)| follow::FileEnd { file, path, end }).collect()
    };
    let read = |kind, files| follow::read(kind, &whole(files), &new_run, true, &mut |_| true).map(|l| l.runs);
    Some(match kind {
        Kind::TfEvents => {
            let dir = if path.is_dir() { path.to_owned() } else { run_key(path) };
            match tfevents::event_files(&dir) {
                Err(e) => Err(Error::io(&dir, e)),
                Ok(files) if files.is_empty() => Err(Error::Read {
                    path: dir.clone(),
                    reason: "no TensorBoard event files in this folder".into(),
                }),
                Ok(files) => read(kind, files),
            }
        }
        Kind::Csv => {
            let mut run = new_run(path);
            let read = |run: &mut Run| csv::read_file(path, run, if apart { par::threads() } else { 1 });
            let done = if apart { run.analysed_apart(read) } else { read(&mut run) };
            done.map(|()| vec![run])
        }
        Kind::Wandb => read(kind, wandb::run_files(path)).map(|mut runs| {
            // The run is named by the path given, whichever of its files that is.
            for r in &mut runs {
                r.path = path.to_owned();
            }
            runs
        }),
        Kind::MlflowDb => mlflow::load_db(path, &new_run, apart),
        Kind::MlflowRun => {
            let dir = if path.is_dir() { path.to_owned() } else { run_key(path) };
            let mut run = new_run(&dir);
            if apart {
                run.analyse_apart();
            }
            mlflow::load_run_dir(&dir, run, if apart { par::threads() } else { 1 }).map(|mut run| {
                run.analyse_here();
                vec![run]
            })
        }
    })
}

/// How the source layer reads a file (its [`crate::source::Classify`]): binary logs, CSV and an
/// MLflow file-store run's files as bytes, an MLflow database only watched (it is read by
/// SQLite, see `run::live`), everything else as text. From the name and first bytes only (no
/// I/O): `None` while the first bytes are too few to tell.
pub fn framing(path: &Path, head: &[u8]) -> Option<Framing> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match detect_bytes(name, head) {
        Some(Kind::MlflowDb) => return Some(Framing::Watch),
        Some(_) => return Some(Framing::Bytes),
        None => {}
    }
    let magic = mlflow::SQLITE_MAGIC;
    if name == "mlflow.db" && magic.starts_with(&head[..head.len().min(magic.len())]) {
        return if head.len() >= magic.len() { Some(Framing::Watch) } else { None };
    }
    if name.ends_with(".wandb") {
        return Some(Framing::Bytes);
    }
    // The name is enough: a writer's buffered first event may come minutes after the file.
    if tfevents::is_event_file_name(name) {
        return Some(Framing::Bytes);
    }
    if name == "meta.yaml" || mlflow::is_metric_path(path) {
        return Some(Framing::Bytes);
    }
    // CSV by content needs its header and a whole first row: a file that does not start as
    // JSON does waits for them (the source takes it as text once it stops growing).
    let text = crate::ingest::format::strip_bom(head);
    let json = matches!(text.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['));
    if !json && memchr::memchr_iter(b'\n', head).nth(1).is_none() && head.len() < CSV_HEAD_MAX {
        return None;
    }
    Some(Framing::Text)
}

/// A first line longer than this is no CSV header: the file is text.
const CSV_HEAD_MAX: usize = 64 << 10;

/// Which run a followed file belongs to, by its path only (no I/O): the event files of one
/// folder are one TensorBoard run, a file-store MLflow run is its folder, the files of a W&B run
/// resumed with its id (`wandb/run-<date>-<id>/run-<id>.wandb`, one folder per attempt) are one
/// run. `None`: the file is a run of its own.
pub fn group(path: &Path) -> Option<Group> {
    let name = path.file_name().and_then(|n| n.to_str())?;
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if tfevents::is_event_file_name(name) {
        return Some(Group { key: folder.to_owned(), run_path: folder.to_owned() });
    }
    if let Some(dir) = mlflow::run_dir_of(path) {
        return Some(Group { key: dir.clone(), run_path: dir });
    }
    let id = name.strip_prefix("run-")?.strip_suffix(".wandb")?;
    let folder_name = folder.file_name()?.to_str()?;
    let attempt = folder_name.strip_prefix("offline-").unwrap_or(folder_name);
    // `latest-run` is a link to one of the attempts' folders.
    if !(attempt.starts_with("run-") && attempt.ends_with(id)) && folder_name != "latest-run" {
        return None;
    }
    let root = folder.parent().unwrap_or(Path::new("."));
    Some(Group { key: root.join(format!("run-{id}.wandb")), run_path: path.to_owned() })
}

/// The run a followed file belongs to: [`group`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Files with one key are one run.
    pub key: PathBuf,
    /// The path that names the run (its folder; a W&B run's first file found).
    pub run_path: PathBuf,
}

impl Run {
    /// Feeds one record whose step, time (seconds; NaN for none) and values the format gave
    /// (see [`crate::ingest::Ingest::push_values`]).
    pub fn push_values(&mut self, line: u64, step: f64, time: f64, values: &[(SeriesId, f64)]) {
        self.push_record(line, step, time, values, &[]);
    }

    /// As [`Run::push_values`], with histograms on the same record.
    pub fn push_record(
        &mut self,
        line: u64,
        step: f64,
        time: f64,
        values: &[(SeriesId, f64)],
        hists: &[(String, crate::parse::HistValue)],
    ) {
        self.feed(|ingest, store, on| ingest.push_record(store, line, step, time, values, hists, on));
    }

    /// Feeds one flat object read as a JSON Lines record is (a CSV row, a W&B history row).
    pub fn push_object(&mut self, line: u64, fields: &[Field<'_>]) {
        self.feed(|ingest, store, on| ingest.push_object(store, line, fields, on));
    }
}

/// Values of consecutive single-value entries (TensorBoard writes one event per scalar, MLflow one
/// row per metric) gathered into one record per step: a new record starts when the step changes
/// or a series comes again.
#[derive(Debug, Default)]
pub(crate) struct Gather {
    line: u64,
    step: f64,
    time: f64,
    values: Vec<(SeriesId, f64)>,
    /// Histograms of the pending record.
    hists: Vec<(String, crate::parse::HistValue)>,
    /// `seen[id] == round` while series `id` is in the pending record.
    seen: Vec<u64>,
    round: u64,
}

impl Gather {
    /// Adds one value; the record pending is fed to `run` first when this value starts another.
    pub(crate) fn add(&mut self, run: &mut Run, line: u64, step: f64, time: f64, id: SeriesId, x: f64) {
        if id >= self.seen.len() {
            self.seen.resize(id + 1, 0);
        }
        let pending = !self.values.is_empty() || !self.hists.is_empty();
        if pending && (self.step.to_bits() != step.to_bits() || self.seen[id] == self.round) {
            self.flush(run);
        }
        if self.values.is_empty() && self.hists.is_empty() {
            self.round += 1;
            (self.line, self.step, self.time) = (line, step, time);
        }
        self.seen[id] = self.round;
        self.values.push((id, x));
    }

    /// Adds one histogram to the pending record (a new record when the step changes or the
    /// name comes again).
    pub(crate) fn add_hist(
        &mut self,
        run: &mut Run,
        line: u64,
        step: f64,
        time: f64,
        name: &str,
        h: crate::parse::HistValue,
    ) {
        let pending = !self.values.is_empty() || !self.hists.is_empty();
        if pending && (self.step.to_bits() != step.to_bits() || self.hists.iter().any(|(n, _)| n == name)) {
            self.flush(run);
        }
        if self.values.is_empty() && self.hists.is_empty() {
            self.round += 1;
            (self.line, self.step, self.time) = (line, step, time);
        }
        self.hists.push((name.to_owned(), h));
    }

    /// Feeds the pending record, if any.
    pub(crate) fn flush(&mut self, run: &mut Run) {
        if !self.values.is_empty() || !self.hists.is_empty() {
            run.push_record(self.line, self.step, self.time, &self.values, &self.hists);
            self.values.clear();
            self.hists.clear();
        }
    }
}

/// A short hex view of bytes that could not be read, for the skipped list.
pub(crate) fn hex_preview(bytes: &[u8]) -> Vec<u8> {
    let mut s = String::new();
    for b in bytes.iter().take(24) {
        s.push_str(&format!("{b:02x} "));
    }
    if bytes.len() > 24 {
        s.push_str("...");
    }
    s.trim_end().as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_makes_one_record_per_step() {
        let mut run = Run::new("x", IngestOptions::default(), FlagConfig::default());
        run.ingest.declare(crate::ingest::Format::TensorBoard, "step", None);
        let (a, b) = (run.store.intern("a"), run.store.intern("b"));
        let mut g = Gather::default();
        g.add(&mut run, 1, 0.0, 1.0, a, 1.0);
        g.add(&mut run, 2, 0.0, 1.0, b, 2.0);
        g.add(&mut run, 3, 0.0, 1.0, a, 3.0); // a again at the same step: a new record
        g.add(&mut run, 4, 1.0, 2.0, a, 4.0);
        g.flush(&mut run);
        assert_eq!(run.store.records(), 3);
        assert_eq!(run.store.steps(), &[0.0, 0.0, 1.0]);
        assert_eq!(run.store.record(1).line, 3);
    }

    #[test]
    fn formats_are_told_by_content() {
        assert_eq!(detect_bytes("x", b":W&B\xe1\xbe\x00"), Some(Kind::Wandb));
        assert_eq!(detect_bytes("mlflow.db", b"SQLite format 3\0...."), Some(Kind::MlflowDb));
        assert_eq!(detect_bytes("events.out.tfevents.1.host", b""), Some(Kind::TfEvents));
        assert_eq!(detect_bytes("metrics.csv", b"epoch,loss\n0,1.5\n"), Some(Kind::Csv));
        assert_eq!(detect_bytes("log.jsonl", b"{\"loss\": 1}\n"), None);
        assert_eq!(detect_bytes("events.out.tfevents.1.host", b"{\"loss\": 1}\n"), None);
    }

    #[test]
    fn run_keys() {
        assert_eq!(run_key(Path::new("runs/a/events.out.tfevents.1.h")), Path::new("runs/a"));
        assert_eq!(run_key(Path::new("events.out.tfevents.1.h")), Path::new("."));
        assert_eq!(run_key(Path::new("runs/a/metrics.csv")), Path::new("runs/a/metrics.csv"));
    }
}
