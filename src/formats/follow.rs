//! Reading a run in one of these formats as its files grow: a [`Decoder`] per run, fed the bytes
//! of each of its files as the source layer reads them ([`crate::source::SourceEvent::Bytes`]),
//! chunk by chunk. A record cut short at the end of a chunk (a write in progress) waits in the
//! decoder for the rest; a record that is corrupt in the middle is counted and reading goes on.
//!
//! The same decoders read whole files (`tmon check`, [`read`]) and the history of a run the
//! monitor or `check --follow` then follows ([`read`] with `eof` false: what a file's last record
//! lacks is waited for, and the decoder goes on from there).
//!
//! A run is a set of files ([`super::group`]): the event files of a TensorBoard folder, the files
//! of a resumed W&B run, a file-store MLflow run's `meta.yaml` and metric files. A file that
//! appears later in a run (a restarted writer's new event file) is read after the ones before.

use super::csv::CsvReader;
use super::leveldb::LogReader;
use super::mlflow::{self, DbFollow, MetricFile, RunFollow};
use super::tfevents::EventReader;
use super::wandb::WandbReader;
use super::{detect_bytes, Kind};
use crate::error::Error;
use crate::run::Run;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How much of a file is read at a time when it is read whole (big enough for the pieces of a
/// buffer to be decoded on every core).
pub const CHUNK: usize = 8 << 20;

/// The bytes of one file not decoded yet: the start of a record still being written.
#[derive(Debug, Default)]
struct Stream {
    /// The offset in the file of the first byte held (or of the next to come).
    offset: u64,
    pending: Vec<u8>,
}

impl Stream {
    /// Adds bytes from `offset` and decodes what can be (`decode` gets the bytes held with the
    /// new ones and their offset, and says how many it used).
    fn push(&mut self, offset: u64, bytes: &[u8], decode: &mut dyn FnMut(&[u8], u64) -> usize) {
        if offset != self.offset + self.pending.len() as u64 {
            // Not the bytes that follow (a history read elsewhere ended elsewhere): start there.
            self.pending.clear();
            self.offset = offset;
        }
        if self.pending.is_empty() {
            let used = decode(bytes, self.offset);
            self.offset += used as u64;
            self.pending.extend_from_slice(&bytes[used..]);
        } else {
            self.pending.extend_from_slice(bytes);
            let pending = std::mem::take(&mut self.pending);
            let used = decode(&pending, self.offset);
            self.offset += used as u64;
            self.pending = pending;
            self.pending.drain(..used);
        }
    }
}

/// What is read from one file of a run.
#[derive(Debug)]
enum Reading {
    /// An event file (the run's [`EventReader`] decodes).
    Events,
    /// A W&B run file: its framing, and the records' reader.
    Wandb { log: LogReader, reader: Box<WandbReader> },
    /// A CSV file.
    Csv(Box<CsvReader>),
    /// A file-store run's `meta.yaml` (read whole, each time it changes).
    Meta,
    /// A file-store run's metric file.
    Metric(MetricFile),
}

#[derive(Debug)]
struct FileIn {
    /// The file's number, as the source numbers it.
    file: usize,
    /// Its name, for the places of skipped records.
    name: String,
    stream: Stream,
    part: Reading,
}

/// The run-level state of a format.
#[derive(Debug)]
enum State {
    Events(Box<EventReader>),
    Wandb,
    Csv,
    Mlflow(RunFollow),
    /// One MLflow run of a database, fed the news the source read ([`mlflow::read_watched`]).
    Db(Box<DbFollow>),
}

/// Reads one run's files as they grow (see the module's doc).
#[derive(Debug)]
pub struct Decoder {
    kind: Kind,
    state: State,
    files: Vec<FileIn>,
    /// Feed the record gathered at the end of every chunk. Off: the values of the last step
    /// read wait for the next step (a writer's flush may cut a step's events in two) until the
    /// end of the file, or [`Decoder::flush`] (the live set calls it once the file is quiet).
    flush_each: bool,
}

/// How the formats go on after a history ([`read`]): a run's decoder, or a database's follower.
#[derive(Debug)]
pub enum Follow {
    Run(Decoder),
    Db(DbFollow),
}

/// The kind of a file by its path and first bytes, for following (an MLflow file-store run's
/// files included); `None` for JSON and anything else.
pub fn kind_of(path: &Path, head: &[u8]) -> Option<Kind> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if head.starts_with(mlflow::NEWS_MARK) {
        return Some(Kind::MlflowDb);
    }
    if name == "meta.yaml" || mlflow::is_metric_path(path) {
        return Some(Kind::MlflowRun);
    }
    if name.ends_with(".wandb") {
        return Some(Kind::Wandb);
    }
    if super::tfevents::is_event_file_name(name) {
        return Some(Kind::TfEvents);
    }
    detect_bytes(name, head)
}

impl Decoder {
    /// A decoder for a run of `kind`, declaring the run's format.
    pub fn new(kind: Kind, run: &mut Run) -> Option<Decoder> {
        let state = match kind {
            Kind::TfEvents => {
                EventReader::declare(run);
                State::Events(Box::default())
            }
            Kind::Wandb => {
                run.ingest.set_format(crate::ingest::Format::Wandb);
                State::Wandb
            }
            Kind::Csv => State::Csv,
            Kind::MlflowRun => {
                RunFollow::declare(run);
                State::Mlflow(RunFollow::default())
            }
            Kind::MlflowDb => State::Db(Box::default()),
        };
        Some(Decoder { kind, state, files: Vec::new(), flush_each: false })
    }

    /// Feeds the record gathered last, whose step may still get values (call once the files
    /// have been quiet for a moment: the writer has finished the step).
    pub fn flush(&mut self, run: &mut Run) {
        match &mut self.state {
            State::Events(reader) => reader.flush(run),
            State::Mlflow(follow) => follow.flush(run),
            State::Db(follow) if !follow.is_empty() => follow.flush_one(0, run),
            State::Wandb | State::Csv | State::Db(_) => {}
        }
    }

    /// The decoder for a run whose file `path` starts with `head` (its first bytes); `None` for
    /// JSON, a database, and anything else.
    pub fn for_file(path: &Path, head: &[u8], run: &mut Run) -> Option<Decoder> {
        Decoder::new(kind_of(path, head)?, run)
    }

    /// The format read.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Uses at most `n` threads on a big chunk (1: none besides the caller's).
    pub fn with_threads(mut self, n: usize) -> Self {
        if let State::Events(r) = &mut self.state {
            let reader = std::mem::take(r.as_mut());
            **r = reader.with_threads(n);
        }
        self
    }

    fn file_index(&mut self, file: usize, path: &Path, run: &mut Run) -> usize {
        if let Some(i) = self.files.iter().position(|f| f.file == file) {
            return i;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let part = match self.kind {
            Kind::TfEvents => Reading::Events,
            Kind::Wandb => {
                let mut reader = WandbReader::new();
                if !self.files.is_empty() {
                    // A resumed run: skipped records say which file (by its folder).
                    let label = path.parent().and_then(Path::file_name).map(|n| n.to_string_lossy());
                    reader.set_label(label.as_deref());
                }
                Reading::Wandb { log: LogReader::new(), reader: Box::new(reader) }
            }
            Kind::Csv => Reading::Csv(Box::new(CsvReader::following(run))),
            Kind::MlflowRun if name == "meta.yaml" => Reading::Meta,
            Kind::MlflowRun => {
                Reading::Metric(MetricFile::new(mlflow::metric_name(path).unwrap_or(name.clone())))
            }
            Kind::MlflowDb => Reading::Meta,
        };
        self.files.push(FileIn { file, name, stream: Stream::default(), part });
        self.files.len() - 1
    }

    /// Decodes bytes of file number `file` (at `path`) from `offset` into `run`. `eof`: no more
    /// will come (a file read whole): a torn record at its end is counted as skipped.
    pub fn bytes(&mut self, run: &mut Run, file: usize, path: &Path, offset: u64, bytes: &[u8], eof: bool) {
        if let State::Db(follow) = &mut self.state {
            // Each piece is one whole message (the source reads a database, not its bytes).
            db_news(follow, run, bytes);
            return;
        }
        let i = self.file_index(file, path, run);
        let f = &mut self.files[i];
        let name = &f.name;
        match (&mut self.state, &mut f.part) {
            (State::Events(reader), Reading::Events) => {
                f.stream.push(offset, bytes, &mut |buf, at| reader.feed(run, buf, eof, name, at));
                if self.flush_each || eof {
                    reader.flush(run);
                }
            }
            (_, Reading::Wandb { log, reader }) => {
                f.stream.push(offset, bytes, &mut |buf, _| reader.feed(run, log, buf, eof));
                reader.finish(run);
            }
            (_, Reading::Csv(reader)) => {
                f.stream.push(offset, bytes, &mut |buf, _| {
                    reader.feed(run, buf);
                    buf.len()
                });
                if eof {
                    reader.finish(run);
                }
            }
            (_, Reading::Meta) => {
                // Read whole: the bytes are kept (a small file) and parsed as they are so far.
                if offset == 0 {
                    f.stream = Stream::default();
                }
                f.stream.push(offset, bytes, &mut |_, _| 0);
                mlflow::apply_meta(run, &f.stream.pending);
            }
            (State::Mlflow(follow), Reading::Metric(m)) => {
                f.stream.push(offset, bytes, &mut |buf, _| {
                    let whole =
                        if eof { buf.len() } else { memchr::memrchr(b'\n', buf).map_or(0, |i| i + 1) };
                    follow.lines(run, m, &buf[..whole]);
                    whole
                });
                follow.flush(run);
            }
            _ => {}
        }
    }

    /// File number `file` started over (truncated, rewritten, replaced): it is read again from
    /// its first byte. Returns whether the run notes a restart: a CSV rewritten whole with a new
    /// column (as Lightning does) is not one (the rows read again are not taken twice).
    pub fn restarted(&mut self, run: &mut Run, file: usize) -> bool {
        if let State::Db(follow) = &mut self.state {
            // Read again from its first row, into a run that starts over.
            **follow = DbFollow::default();
            return true;
        }
        let Some(f) = self.files.iter_mut().find(|f| f.file == file) else { return true };
        f.stream = Stream::default();
        match &mut f.part {
            Reading::Csv(reader) => reader.restarted(),
            Reading::Wandb { log, reader } => {
                *log = LogReader::new();
                reader.finish(run);
                true
            }
            Reading::Metric(m) => {
                m.lines = 0;
                true
            }
            Reading::Events | Reading::Meta => true,
        }
    }

    /// After a restart noted on the run (which forgets what the ingest was told): says again
    /// what the records are.
    pub fn declare_again(&self, run: &mut Run) {
        match self.kind {
            Kind::TfEvents => EventReader::declare(run),
            Kind::Wandb => run.ingest.set_format(crate::ingest::Format::Wandb),
            Kind::Csv => run.ingest.set_format(crate::ingest::Format::Csv),
            Kind::MlflowRun => RunFollow::declare(run),
            Kind::MlflowDb => {}
        }
    }
}

/// Feeds one message of a database's news ([`mlflow::DbNews`]: one MLflow run's new rows, its
/// name and status, its params when they changed) to the run reading it.
fn db_news(follow: &mut DbFollow, run: &mut Run, bytes: &[u8]) {
    let Some(news) = mlflow::DbNews::decode(bytes) else {
        run.store.skipped.push(
            0,
            "an MLflow database's news that could not be read",
            &bytes[..bytes.len().min(64)],
        );
        return;
    };
    if let Some(info) = news.runs.first() {
        if follow.is_empty() {
            follow.add(&info.id.clone(), info, run);
        } else {
            run.info.name =
                Some(info.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| info.id.clone()));
            run.info.status.clone_from(&info.status);
        }
    }
    for (_, key, value) in news.params {
        run.info.config.insert(key, value);
    }
    for m in &news.metrics {
        if follow.index(&m.run) == Some(0) {
            follow.metric(0, run, m);
        }
    }
}

/// One file of a run, as it was looked at: its number (as the source numbers it), its path, and
/// where its history ends (its size then; for an MLflow database, its last metric row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEnd {
    pub file: usize,
    pub path: PathBuf,
    pub end: u64,
}

/// The runs read from a set of files, and how to go on following them.
#[derive(Debug)]
pub struct Loaded {
    pub runs: Vec<Run>,
    pub follow: Follow,
}

/// Reads a run of `kind` from its files (`parts`, in the order they were written), each up to
/// its `end`; `eof`: the files are read whole (a torn last record is counted), else they are a
/// history that will be followed (it waits in the decoder). `progress` is told the bytes read so
/// far after each chunk, and stops the reading by returning false. An MLflow database gives one
/// run per MLflow run (`parts[0]`, `end` its last metric row).
pub fn read(
    kind: Kind,
    parts: &[FileEnd],
    new_run: &dyn Fn(&Path) -> Run,
    eof: bool,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Loaded, Error> {
    read_from(kind, parts, new_run, eof, progress, |p| std::fs::File::open(&p.path))
}

/// As [`read`], each file opened by `open` (a file already open can be read, not whatever is at
/// its path now). An MLflow store is opened by its path.
pub fn read_from(
    kind: Kind,
    parts: &[FileEnd],
    new_run: &dyn Fn(&Path) -> Run,
    eof: bool,
    progress: &mut dyn FnMut(u64) -> bool,
    mut open: impl FnMut(&FileEnd) -> std::io::Result<std::fs::File>,
) -> Result<Loaded, Error> {
    let Some(first) = parts.first() else {
        return Err(Error::Read { path: PathBuf::from("."), reason: "no files".into() });
    };
    match kind {
        Kind::MlflowDb => {
            let until = (!eof).then(|| i64::try_from(first.end).unwrap_or(i64::MAX));
            let (mut runs, mut follow) = mlflow::load_db_until(&first.path, new_run, until)?;
            if eof {
                follow.flush(&mut runs);
            }
            return Ok(Loaded { runs, follow: Follow::Db(follow) });
        }
        Kind::MlflowRun => {
            let dir = mlflow::run_dir_of(&first.path).unwrap_or_else(|| first.path.clone());
            let only: Vec<(PathBuf, u64)> = parts
                .iter()
                .filter(|p| mlflow::is_metric_path(&p.path))
                .map(|p| (p.path.clone(), p.end))
                .collect();
            let (mut run, follow, left) =
                mlflow::read_run_dir(&dir, new_run(&dir), (!eof).then_some(&only[..]))?;
            let mut dec =
                Decoder { kind, state: State::Mlflow(follow), files: Vec::new(), flush_each: false };
            for l in left {
                let Some(p) = parts.iter().find(|p| p.path == l.path) else { continue };
                let name = l.file.name.clone();
                let stream = Stream { offset: l.offset, pending: l.partial };
                dec.files.push(FileIn { file: p.file, name, stream, part: Reading::Metric(l.file) });
            }
            if let Some(meta) = parts.iter().find(|p| p.path.file_name().is_some_and(|n| n == "meta.yaml")) {
                let mut text = Vec::new();
                if let Ok(f) = std::fs::File::open(&meta.path) {
                    let _ = f.take(meta.end).read_to_end(&mut text);
                }
                let stream = Stream { offset: 0, pending: text };
                dec.files.push(FileIn {
                    file: meta.file,
                    name: "meta.yaml".into(),
                    stream,
                    part: Reading::Meta,
                });
            }
            if let State::Mlflow(f) = &mut dec.state {
                f.flush(&mut run);
            }
            return Ok(Loaded { runs: vec![run], follow: Follow::Run(dec) });
        }
        _ => {}
    }
    let run_path = match kind {
        Kind::TfEvents => first.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")),
        _ => &first.path,
    };
    let mut run = new_run(run_path);
    let Some(mut dec) = Decoder::new(kind, &mut run) else {
        return Err(Error::Read { path: first.path.clone(), reason: "not a format read here".into() });
    };
    let mut read = 0u64;
    let mut buf = vec![0u8; CHUNK];
    for p in parts {
        let i = dec.file_index(p.file, &p.path, &mut run);
        if kind == Kind::Wandb && parts.len() > 1 {
            if let Reading::Wandb { reader, .. } = &mut dec.files[i].part {
                let label = p.path.parent().and_then(Path::file_name).map(|n| n.to_string_lossy());
                reader.set_label(label.as_deref());
            }
        }
        let mut file = open(p).map_err(|e| Error::io(&p.path, e))?;
        // From its start (a handle handed over may have been read from).
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).map_err(|e| Error::io(&p.path, e))?;
        let mut file = file.take(p.end);
        let mut offset = 0u64;
        loop {
            let got = fill(&mut file, &mut buf).map_err(|e| Error::io(&p.path, e))?;
            let last = got < buf.len();
            dec.bytes(&mut run, p.file, &p.path, offset, &buf[..got], eof && last);
            offset += got as u64;
            read += got as u64;
            if !progress(read) {
                return Ok(Loaded { runs: vec![run], follow: Follow::Run(dec) });
            }
            if last {
                break;
            }
        }
        // A file ends a record: the next file's first event may be at the same step.
        if let State::Events(reader) = &mut dec.state {
            reader.flush(&mut run);
        }
    }
    Ok(Loaded { runs: vec![run], follow: Follow::Run(dec) })
}

/// Reads into `buf` until it is full or the file ends; returns the bytes read.
fn fill(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats").join(rel)
    }

    /// Every fixture fed in chunks of every size from 1 byte gives what reading it whole gives.
    #[test]
    fn chunks_of_any_size_give_the_whole_file_reading() {
        for rel in [
            "wandb/wandb/offline-run-20261206_131343-fixrun01/run-fixrun01.wandb",
            "tb/simple/events.out.tfevents.1796562658.vm",
            "csv/lightning/version_0/metrics.csv",
        ] {
            // Alone (a W&B run's resumed attempts beside it would be read with it).
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(fixture(rel).file_name().unwrap());
            std::fs::copy(fixture(rel), &path).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let whole = crate::run::Run::load_all(&path, Default::default(), Default::default()).unwrap();
            let want = whole[0].store.records();
            for size in [bytes.len(), 4096, 1000, 64, 7, 3, 2, 1] {
                let mut run = Run::new(&path, Default::default(), Default::default());
                let mut dec = Decoder::for_file(&path, &bytes, &mut run).expect("a decoder");
                let mut at = 0;
                while at < bytes.len() {
                    let end = (at + size).min(bytes.len());
                    dec.bytes(&mut run, 0, &path, at as u64, &bytes[at..end], false);
                    at = end;
                }
                dec.flush(&mut run);
                assert_eq!(
                    run.store.skipped.count, 0,
                    "{rel} in chunks of {size}: {:?}",
                    run.store.skipped.kept
                );
                assert_eq!(run.store.records(), want, "{rel} in chunks of {size}");
            }
        }
    }
}
