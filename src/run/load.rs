//! Reading a whole file at once, the batch path of `tmon check` and of the monitor's history.
//!
//! A file in another format (TensorBoard events, CSV, a W&B run file, MLflow) is told by its
//! content and handed to its reader in [`crate::formats`]; what follows is about JSON.
//!
//! The layout is decided from the first block ([`format::is_document`]). A whole-file document is
//! read entirely and parsed as one (up to [`MAX_LINE`] bytes; a bigger array, or one still being
//! written with no closing bracket, is read element by element). JSON Lines are read in blocks of
//! [`BLOCK`] bytes, never the whole file (peak memory stays a few blocks, not the file's size),
//! framed by the [`Framer`] every reader shares (lines capped at [`MAX_LINE`], runs of NUL bytes
//! counted, not kept); the last line is read even without a final newline.
//!
//! On more than one thread (rayon's pool: every core, or `TMON_THREADS`, see [`threads`]) the work
//! on a file is a pipeline that keeps every thread busy:
//! - block k + 1 is read from the file and framed by a task on the pool while block k is fed;
//! - block k is cut into pieces of about [`PIECE_BYTES`]; tasks on the pool parse pieces from the
//!   front (each thread's [`LineParser`] remembers the key layouts it met), while the calling
//!   thread hands the pieces in order to the ingest, which appends their records to the store,
//!   parsing itself the next piece when no task has taken it and pieces from the back while it
//!   waits. The calling thread is the chain every record goes through: it never hands a block
//!   to the pool and waits for it back (on two cores, that hand-over and the framing between
//!   blocks were a fifth of `tmon check`'s wall time on short lines), and when it is not one of
//!   the pool's threads, every one of those parses;
//! - the records of each stored block are queued (at most [`QUEUED`] blocks) for the analyzer,
//!   which runs on a thread of its own a few blocks behind, each record seeing the series names
//!   as they were when it was appended, and the lines skipped between records (a traceback the
//!   run died of) in their place among them. Neither side waits for the other at every block:
//!   the OS shares the cores between the analysis and whatever parsing is left.
//!
//! The framer copies each block once into its lines; those are handed over by reference, never
//! copied again. Records, skipped lines, flags and their order are exactly those of feeding the
//! lines one by one.

use super::Run;
use crate::analysis::Analyzer;
use crate::analysis::FlagConfig;
use crate::error::Error;
use crate::formats;
use crate::ingest::{format, prepare_line, recycle, DocPush, Ingest, IngestOptions, OnRecord};
use crate::parse::{Field, LineError, LineParser};
use crate::source::frame::{ArrayFramer, Framer, MAX_LINE};
use crate::store::{RecordIdx, RecordMeta, SeriesId, SeriesNames, Store};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// How much of a file is read at a time. Two blocks are in memory at once (one being fed, the
/// next being read) with their parsed fields (40 bytes a field) and one block's records waiting
/// for the analyzer: about 1.5 MB, whatever the file's size. 256 kB rather than 1 MB: the same
/// CPU time and, on the peers-style log, 4 MB less peak memory (0.34x the file instead of 0.36x,
/// where the store's columns alone are 0.30x); still about 1,500 of its lines a block, enough to
/// keep every thread busy.
pub const BLOCK: usize = 256 << 10;
/// A block of fewer bytes than this (the end of a file, a small file) is read on the calling
/// thread alone: handing pieces to other threads costs more than it saves. Counted in bytes, not
/// lines: the cost of handing over is per piece, and a block of long lines (4.3 kB a line in
/// DETR's log, 8 kB in a 200-metric one: 30 to 60 lines a block) is as much parsing as one of
/// short lines. Counted in lines (1,024), such blocks were parsed and stored by one thread while
/// the other, done analysing the block before, waited.
const PARALLEL_MIN_BYTES: usize = 2 * PIECE_BYTES;
/// A piece, the unit of parsing other threads claim, ends at the first line end past this many
/// bytes (or this many lines): about 180 of our generated lines, 4 lines of a 200-metric log.
const PIECE_BYTES: usize = 32 << 10;
const PIECE_LINES: usize = 256;

/// What a thread made of one line of a piece.
enum Parsed {
    Blank,
    /// The line's fields are `fields[a..z]`; its key layout (see [`LineParser::parse`]).
    Fields(u32, u32, u64),
    Bad(LineError),
}

/// The fields of a piece's lines, and what each line was.
type Piece<'a> = (Vec<Field<'a>>, Vec<Parsed>);

/// A piece's progress: nobody has it yet, a thread is parsing it, it is parsed.
const FREE: u8 = 0;
const TAKEN: u8 = 1;
const DONE: u8 = 2;

thread_local! {
    /// Each thread's parser keeps the key layouts it learnt from piece to piece and file to file.
    static PARSER: RefCell<LineParser> = RefCell::new(LineParser::new());
}

/// Buffers kept from block to block.
struct Blocks {
    threads: Threads,
    starts: Vec<usize>,
    /// Piece buffers, reused from piece to piece and block to block: fresh ones would be big
    /// enough to be mapped and unmapped by the allocator every time.
    pool: Vec<Piece<'static>>,
}

impl Blocks {
    fn new(threads: Threads) -> Self {
        Blocks { threads: threads.resolved(), starts: Vec::new(), pool: Vec::new() }
    }
}

fn line_at<'a>(block: &'a [u8], starts: &[usize], i: usize) -> &'a [u8] {
    let end = starts.get(i + 1).map_or(block.len(), |&s| s) - 1;
    &block[starts[i]..end]
}

/// How many threads [`Run::load_file_with`] uses for JSON Lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Threads {
    /// The calling thread and rayon's pool: as many threads as cores
    /// ([`std::thread::available_parallelism`]), or `TMON_THREADS` (see [`threads`]). A caller
    /// that loads many files at once from inside the pool (`par_iter` over the files) shares it:
    /// the pieces of every file go to whichever thread is free.
    #[default]
    Auto,
    /// The calling thread only.
    One,
}

impl Threads {
    /// `Auto` on a pool of one thread (one core, `TMON_THREADS=1`, or a caller's pool) is `One`.
    fn resolved(self) -> Threads {
        match self {
            // `threads` sizes the global pool first; inside a caller's pool, that pool counts.
            Threads::Auto if threads() > 0 && rayon::current_num_threads() > 1 => Threads::Auto,
            _ => Threads::One,
        }
    }
}

/// The threads tmon reads a log with: `TMON_THREADS` when set to a positive number, else the
/// machine's cores ([`std::thread::available_parallelism`]). The first call sizes rayon's global
/// pool to it, unless the program built that pool already (then the pool's size is used).
pub fn threads() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| {
        let want = std::env::var("TMON_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0);
        let n = want.unwrap_or_else(crate::formats::par::threads);
        // Fails when the pool exists already (a program that sized it itself): its size stands.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
        rayon::current_num_threads()
    })
}

/// Where the lines of a block go once stored, in the order they were met: the records appended,
/// and the lines the store skipped (not JSON: a traceback may be the error the run died of).
trait Sink: Send {
    fn record(&mut self, store: &Store, rec: RecordIdx, fields: &[(SeriesId, f64)]);
    /// The store counted lines as skipped since the sink last heard of them.
    fn skipped(&mut self, store: &Store);
}

/// On one thread, the analyzer is told each line as it is stored (as [`Run::push_line`] does).
impl Sink for Analyzer {
    fn record(&mut self, store: &Store, rec: RecordIdx, fields: &[(SeriesId, f64)]) {
        self.observe(store, rec, fields);
    }
    fn skipped(&mut self, store: &Store) {
        self.observe_skipped(store);
    }
}

/// The records of one block, appended to the store and waiting for the analyzer: the block
/// reader's analysis thread takes them in order while later blocks are parsed and stored.
#[derive(Default)]
struct Batch {
    /// Each record, the series count when it was appended, and where its values end in `points`.
    records: Vec<(RecordMeta, u32, u32)>,
    points: Vec<(SeriesId, f64)>,
    /// Names of the series created while the block was stored, in id order.
    names: Vec<String>,
    /// The lines skipped, each with how many of `records` came before it, and its line number
    /// and text when the store kept them: what [`Analyzer::observe_skipped`] would have read.
    skipped: Vec<(u32, Option<(u64, String)>)>,
    /// The histogram points each record carried: (record in `records`, name, step, percentiles).
    hists: Vec<(u32, String, f64, [f64; 9])>,
}

impl Batch {
    fn clear(&mut self) {
        self.records.clear();
        self.points.clear();
        self.names.clear();
        self.skipped.clear();
        self.hists.clear();
    }

    fn push(&mut self, store: &Store, rec: RecordIdx, points: &[(SeriesId, f64)]) {
        self.points.extend_from_slice(points);
        self.records.push((store.record(rec), store.series_count() as u32, self.points.len() as u32));
        if !store.histograms().is_empty() {
            let k = self.records.len() as u32 - 1;
            for (name, step, pct) in crate::analysis::flags::histograms_on(store, rec) {
                self.hists.push((k, name, step, pct));
            }
        }
    }

    /// Takes the lines the store skipped since `seen` of them were handed over, read as the
    /// analyzer reads them from the store: the text of those it still keeps.
    fn take_skipped(&mut self, store: &Store, seen: &mut u64) {
        let sk = &store.skipped;
        while *seen < sk.count {
            let line = match sk.kept.get(*seen as usize) {
                Some(l) => Some(l),
                None if *seen + 1 == sk.count => sk.last.as_ref(),
                None => None,
            };
            self.skipped.push((self.records.len() as u32, line.map(|l| (l.line, l.text.clone()))));
            *seen += 1;
        }
    }

    /// Takes the names of the series the store gained since `sent` of them were handed over.
    fn take_names(&mut self, store: &Store, sent: &mut usize) {
        let now = store.series_count();
        self.names.extend((*sent..now).map(|id| store.name(id).to_owned()));
        *sent = now;
    }

    /// Feeds the records to the analyzer, as it would have seen them when they were appended.
    fn analyse(&mut self, analyzer: &mut Analyzer, names: &mut Names) {
        for name in self.names.drain(..) {
            names.by_name.insert(name.clone(), names.list.len());
            names.list.push(name);
        }
        let mut from = 0;
        let mut skipped = self.skipped.iter().peekable();
        let mut hists = self.hists.iter().peekable();
        for (k, &(meta, count, to)) in self.records.iter().enumerate() {
            // The lines skipped before this record, in their place.
            while let Some((_, line)) = skipped.next_if(|s| s.0 as usize <= k) {
                analyzer.skipped_line(line.as_ref().map(|(no, text)| (*no, text.as_str())));
            }
            let view = NamesUpTo { names, count: count as usize };
            analyzer.observe_record(&view, meta, &self.points[from as usize..to as usize]);
            while let Some((_, name, step, pct)) = hists.next_if(|h| h.0 as usize == k) {
                analyzer.observe_histogram(name, *step, pct);
            }
            from = to;
        }
        for (_, line) in skipped {
            analyzer.skipped_line(line.as_ref().map(|(no, text)| (*no, text.as_str())));
        }
        self.clear();
    }
}

/// The sink of the block being stored while the one before is analysed.
struct Storing<'a> {
    batch: &'a mut Batch,
    /// Skipped lines of the store handed over so far.
    skipped_seen: &'a mut u64,
}

impl Sink for Storing<'_> {
    fn record(&mut self, store: &Store, rec: RecordIdx, fields: &[(SeriesId, f64)]) {
        // A line skipped before the record within the same line (what a note line kept) first.
        self.batch.take_skipped(store, self.skipped_seen);
        self.batch.push(store, rec, fields);
    }
    fn skipped(&mut self, store: &Store) {
        self.batch.take_skipped(store, self.skipped_seen);
    }
}

/// The analysis side's copy of the run's series names.
#[derive(Default)]
struct Names {
    list: Vec<String>,
    by_name: HashMap<String, SeriesId>,
}

/// The names as they were when a record was appended: the first `count`.
struct NamesUpTo<'a> {
    names: &'a Names,
    count: usize,
}

impl SeriesNames for NamesUpTo<'_> {
    fn series_count(&self) -> usize {
        self.count
    }
    fn name(&self, id: SeriesId) -> &str {
        &self.names.list[id]
    }
    fn find(&self, name: &str) -> Option<SeriesId> {
        // Names here were cut by the store already, as `Store::find` would cut the query.
        self.names.by_name.get(name).copied().filter(|&id| id < self.count)
    }
}

/// Records a reader in another format appended, on their way to the analysis thread of
/// [`Run::analysed_apart`]: sent a batch of [`PIPE_RECORDS`] at a time.
pub(crate) struct Pipe {
    batch: Batch,
    /// Skipped lines of the store handed over so far.
    skipped_seen: u64,
    /// Series names handed over so far.
    names_sent: usize,
    to_analysis: std::sync::mpsc::SyncSender<Batch>,
    /// Batches the analysis is done with, to be filled again.
    spent: std::sync::mpsc::Receiver<Batch>,
    /// The analysis thread; it gives the analyzer back when its batches end.
    thread: std::thread::JoinHandle<Analyzer>,
}

impl std::fmt::Debug for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipe").field("records", &self.batch.records.len()).finish_non_exhaustive()
    }
}

/// Records sent to the analysis at a time by a [`Pipe`]: about what a JSON Lines block holds.
const PIPE_RECORDS: usize = 2048;

impl Pipe {
    /// Hands the batch over (with the names the store gained meanwhile).
    fn send(&mut self, store: &Store) {
        let fresh = self.spent.try_recv().unwrap_or_default();
        let mut full = std::mem::replace(&mut self.batch, fresh);
        full.take_names(store, &mut self.names_sent);
        // Fails only when the analysis thread panicked: its join says so.
        let _ = self.to_analysis.send(full);
    }
}

impl Run {
    /// Feeds records through `push` (an ingest call, given the store and where its records go)
    /// to the analyzer: at once, or through the pipe of [`Run::analysed_apart`].
    pub(crate) fn feed(&mut self, push: impl FnOnce(&mut Ingest, &mut Store, &mut OnRecord<'_>)) {
        match self.pipe.as_deref_mut() {
            None => {
                let analyzer = &mut self.analyzer;
                push(&mut self.ingest, &mut self.store, &mut |st, rec, f| analyzer.observe(st, rec, f));
            }
            Some(pipe) => {
                // Only a record takes the lines skipped before it, as `Analyzer::observe` does: the
                // lines skipped after the last record are left as feeding them at once leaves them.
                let mut sink = Storing { batch: &mut pipe.batch, skipped_seen: &mut pipe.skipped_seen };
                push(&mut self.ingest, &mut self.store, &mut |st, rec, f| sink.record(st, rec, f));
                if pipe.batch.records.len() >= PIPE_RECORDS {
                    pipe.send(&self.store);
                }
            }
        }
    }

    /// Calls `read` (a reader in another format filling this fresh run) with the records it
    /// appends analysed on a thread of its own ([`Run::analyse_apart`]).
    pub(crate) fn analysed_apart<T>(&mut self, read: impl FnOnce(&mut Run) -> T) -> T {
        self.analyse_apart();
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&mut *self)));
        match out {
            Ok(out) => {
                self.analyse_here();
                out
            }
            Err(panic) => {
                // Ends the analysis thread (its sender dropped) without waiting for it.
                self.pipe = None;
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Ends [`Run::analyse_apart`]: the records appended last are analysed, and the analyzer is
    /// back, its flags those of every record.
    pub(crate) fn analyse_here(&mut self) {
        let Some(mut pipe) = self.pipe.take() else { return };
        pipe.send(&self.store);
        let Pipe { to_analysis, thread, .. } = *pipe;
        // Its sender gone, the analysis thread ends once it has analysed every batch.
        drop(to_analysis);
        match thread.join() {
            Ok(analyzer) => self.analyzer = analyzer,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// From now on, the records appended (through [`Run::feed`]: a reader in another format)
    /// are analysed on a thread of its own, a few batches behind, as the JSON Lines block reader
    /// does: each record sees the series names of its time and the lines skipped before it, so
    /// the flags are exactly those of analysing each record as it is appended. Until
    /// [`Run::analyse_here`], nothing may ask the analyzer (nor note a restart): it is away.
    /// Nothing changes on one thread ([`threads`]) or for a run fed already. Returns whether the
    /// analysis went apart.
    pub(crate) fn analyse_apart(&mut self) -> bool {
        let fresh = self.store.records() == 0 && self.store.skipped.count == 0;
        if threads() < 2 || !fresh || self.pipe.is_some() {
            return false;
        }
        let cfg = self.analyzer.config().clone();
        let mut analyzer = std::mem::take(&mut self.analyzer);
        let (to_analysis, batches) = std::sync::mpsc::sync_channel::<Batch>(QUEUED);
        let (recycle, spent) = std::sync::mpsc::channel::<Batch>();
        let thread = std::thread::Builder::new().name("tmon-analysis".into()).spawn(move || {
            let mut names = Names::default();
            for mut batch in batches {
                batch.analyse(&mut analyzer, &mut names);
                // The reader has stopped when it is gone: the batch is dropped.
                let _ = recycle.send(batch);
            }
            analyzer
        });
        match thread {
            Ok(thread) => {
                let batch = Batch::default();
                let pipe = Pipe { batch, skipped_seen: 0, names_sent: 0, to_analysis, spent, thread };
                self.pipe = Some(Box::new(pipe));
                true
            }
            Err(_) => {
                // No thread to be had: analysed here. The analyzer went with the closure that
                // failed to start; the run is fresh, so a new one is the same.
                self.analyzer = Analyzer::new(cfg);
                false
            }
        }
    }
}

impl Run {
    /// Reads a whole file at once (the batch path of `tmon check`), in the layout its content
    /// shows. A file that looks like a document but does not parse as one is read as JSON Lines.
    /// A directory, a FIFO or a device is refused with an error naming the path.
    pub fn load_file(path: &Path, opts: IngestOptions, cfg: FlagConfig) -> Result<Run, Error> {
        Run::load_file_with(path, opts, cfg, Threads::Auto)
    }

    /// Reads every run `path` holds: one for a log file (any format, see [`crate::formats`]) or a
    /// TensorBoard or MLflow run folder, one per run for an `mlflow.db`.
    pub fn load_all(path: &Path, opts: IngestOptions, cfg: FlagConfig) -> Result<Vec<Run>, Error> {
        Run::load_all_with(path, opts, cfg, Threads::Auto)
    }

    /// As [`load_all`](Self::load_all), choosing the threads of a JSON Lines file (`tmon check`
    /// reads many files at once with one thread each).
    pub fn load_all_with(
        path: &Path,
        opts: IngestOptions,
        cfg: FlagConfig,
        threads: Threads,
    ) -> Result<Vec<Run>, Error> {
        match formats::load_with(path, &opts, &cfg, threads) {
            Some(runs) => runs,
            None => Run::load_file_with(path, opts, cfg, threads).map(|r| vec![r]),
        }
    }

    /// Feeds a run of lines as the tailer hands them over (`SourceEvent::Lines`): lines separated
    /// by `\n`, numbered from `first_line`, the last one possibly without its newline. A big run
    /// (the history of a file being opened) is parsed on every core as [`load_file`] does; the
    /// records are exactly those of feeding the lines one by one.
    ///
    /// [`load_file`]: Self::load_file
    pub fn push_lines(&mut self, first_line: u64, bytes: &[u8]) {
        let whole = memchr::memrchr(b'\n', bytes).map_or(0, |i| i + 1);
        let mut line_no = first_line.saturating_sub(1);
        if whole > 0 {
            let mut blocks = Blocks::new(Threads::Auto);
            push_block(
                &mut self.ingest,
                &mut self.store,
                &mut self.analyzer,
                &mut line_no,
                &bytes[..whole],
                &mut blocks,
            );
        }
        if whole < bytes.len() {
            self.push_line(line_no + 1, &bytes[whole..]);
        }
    }

    /// As [`load_file`](Self::load_file), choosing the threads (for tests and benchmarks).
    pub fn load_file_with(
        path: &Path,
        opts: IngestOptions,
        cfg: FlagConfig,
        threads: Threads,
    ) -> Result<Run, Error> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let not = |reason: &str| Error::Read { path: path.to_owned(), reason: reason.to_owned() };
        if let Some(runs) = formats::load_with(path, &opts, &cfg, threads) {
            let mut runs = runs?;
            if runs.len() != 1 {
                return Err(not(&format!("holds {} runs: read it with Run::load_all", runs.len())));
            }
            return Ok(runs.remove(0));
        }
        if meta.is_dir() {
            return Err(not("is a directory"));
        }
        if !meta.is_file() {
            // A FIFO or a device would block or never end.
            return Err(not("not a regular file"));
        }
        // Without blocking, and checked again once open (a FIFO may have been put there since).
        let (mut file, opened) =
            crate::source::tail::open_for_reading(path).map_err(|e| Error::io(path, e))?;
        if !opened.is_file() {
            return Err(not("not a regular file"));
        }
        let mut run = Run::new(path, opts, cfg);
        let mut buf: Vec<u8> = Vec::with_capacity(BLOCK);
        fill(&mut file, &mut buf, BLOCK).map_err(|e| Error::io(path, e))?;
        let mut blocks = Blocks::new(threads);
        let mut line_no = 0u64;
        if format::is_document(path.file_name().and_then(|n| n.to_str()), &buf) {
            let array = format::strip_bom(&buf).iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
            if meta.len() > MAX_LINE as u64 {
                // Too big to hold as one document: an array is read element by element, anything
                // else is not read (with a count and a reason).
                if array {
                    run.read_array(&mut file, buf).map_err(|e| Error::io(path, e))?;
                } else {
                    let reason = format!(
                        "a whole-file document of {} bytes, longer than the limit of {} MiB: not read",
                        meta.len(),
                        MAX_LINE >> 20
                    );
                    run.store.skipped.push(0, reason, b"");
                }
                return Ok(run);
            }
            file.read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
            let analyzer = &mut run.analyzer;
            let out =
                run.ingest.try_document(&mut run.store, &buf, &mut |st, rec, f| analyzer.observe(st, rec, f));
            if out != DocPush::Invalid {
                return Ok(run);
            }
            run.ingest.reset();
            if array && complete_elements(&buf) {
                // An array still being written (no closing bracket): its elements are the records.
                run.read_array(&mut std::io::empty(), buf).map_err(|e| Error::io(path, e))?;
                return Ok(run);
            }
            // Read whole already: framed as lines from memory.
            run.read_lines(&mut std::io::empty(), buf, None, &mut blocks, &mut line_no, &mut |_| true)
                .map_err(|e| Error::io(path, e))?;
            return Ok(run);
        }
        run.read_lines(&mut file, buf, Some(meta.len()), &mut blocks, &mut line_no, &mut |_| true)
            .map_err(|e| Error::io(path, e))?;
        Ok(run)
    }

    /// Reads JSON Lines from `reader` to its end (a history up to a given offset: a `take`, of
    /// `size` bytes when known), in blocks, as [`load_file`](Self::load_file) does. Returns how
    /// many lines were read, and the error that stopped the reading, if one did. `progress` is
    /// told the bytes read so far after each block, and stops the reading by returning false (the
    /// monitor was closed). `threads` as for [`load_file_with`](Self::load_file_with): the
    /// monitor's loader reads one history a core with [`Threads::One`] when a sweep's histories
    /// wait, a lone big file with [`Threads::Auto`].
    pub fn load_lines(
        &mut self,
        reader: &mut (impl Read + Send),
        size: Option<u64>,
        threads: Threads,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> (u64, std::io::Result<()>) {
        let mut blocks = Blocks::new(threads);
        let mut line_no = 0;
        let mut buf = spare_buffer();
        buf.reserve(BLOCK);
        let read = self.read_lines(reader, buf, size, &mut blocks, &mut line_no, progress);
        (line_no, read)
    }

    /// The JSON Lines loop: `buf` holds what was read already; the last line is taken even
    /// without a final newline. Lines are framed by the [`Framer`] every reader shares. Each
    /// block's lines are fed while the next block is read. With the total `size` known, the store
    /// makes room for the records the first block predicts, so a big file's columns are
    /// allocated once instead of growing (and copying) many times, and hold no growth slack.
    fn read_lines(
        &mut self,
        reader: &mut (impl Read + Send),
        buf: Vec<u8>,
        size: Option<u64>,
        blocks: &mut Blocks,
        line_no: &mut u64,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> std::io::Result<()> {
        // The framer's buffer and the lines taken from it swap at every block, holding a block
        // and the partial line before it: a thread reading one file after another gives them
        // room for two blocks from the start, so neither grows (and copies) on the way (a lone
        // file's reading lets them grow as they need: its peak memory is measured).
        let (mut framed, mut lines) = (spare_buffer(), spare_buffer());
        if blocks.threads == Threads::One {
            framed.reserve(2 * BLOCK);
            lines.reserve(2 * BLOCK);
        }
        let framer = Framer::with_buffer(MAX_LINE, framed);
        let mut read = Reading { buf, size, read: 0, framer, lines };
        read.read = read.buf.len() as u64;
        // The framing every reader shares: capped lines, runs of NUL bytes counted, not kept.
        read.framer.push(&read.buf);
        // The analyzer has read every line skipped so far; the batches hand over the rest.
        self.analyzer.observe_skipped(&self.store);
        let mut skipped_sent = self.store.skipped.count;
        let Run { ingest, store, analyzer, .. } = self;
        let ended = if blocks.threads == Threads::Auto {
            // The analysis runs on a thread of its own, a few blocks behind the store, fed the
            // records of each block as it is stored: it never waits for the block being stored,
            // nor the store for it (each block was a meeting point: whichever side was done first
            // waited for the other, its thread idle unless pieces were left to parse).
            std::thread::scope(|scope| {
                let (to_analysis, batches) = std::sync::mpsc::sync_channel::<Batch>(QUEUED);
                let (recycle, spent) = std::sync::mpsc::channel::<Batch>();
                // The analyzer goes to its thread on cache lines of its own (see `Apart`).
                let mut apart = Box::new(Apart(std::mem::take(&mut *analyzer)));
                let analysis = scope.spawn(move || {
                    let mut names = Names::default();
                    for mut batch in batches {
                        batch.analyse(&mut apart.0, &mut names);
                        // The reader has stopped when it is gone: the batch is dropped.
                        let _ = recycle.send(batch);
                    }
                    apart
                });
                let mut sent = 0usize;
                let ended = read.blocks(reader, store, progress, &mut |store, block, reader, buf, framer| {
                    let mut storing = spent.try_recv().unwrap_or_default();
                    // This thread stores the block while the pool reads and frames the next and
                    // parses the block's pieces: the chain of the stores has no hand-over to
                    // the pool and back at each block, and every thread of the pool parses.
                    let mut got = Ok(());
                    rayon::in_place_scope(|s| {
                        let got = &mut got;
                        s.spawn(move |_| *got = fill_framed(reader, buf, framer));
                        let mut sink = Storing { batch: &mut storing, skipped_seen: &mut skipped_sent };
                        push_block(ingest, store, &mut sink, line_no, block, blocks);
                        storing.take_names(store, &mut sent);
                    });
                    // Fails only when the analysis thread panicked: its join below says so.
                    let _ = to_analysis.send(storing);
                    got
                });
                drop(to_analysis);
                match analysis.join() {
                    Ok(apart) => *analyzer = apart.0,
                    Err(panic) => std::panic::resume_unwind(panic),
                }
                ended
            })
        } else {
            read.blocks(reader, store, progress, &mut |store, block, reader, buf, framer| {
                push_block(ingest, store, analyzer, line_no, block, blocks);
                fill_framed(reader, buf, framer)
            })
        };
        if ended? {
            if let Some(last) = read.framer.finish_line() {
                *line_no += 1;
                self.push_line(*line_no, &last);
            }
        }
        // A thread that reads one file after another (a sweep's histories on the monitor's
        // loaders, `tmon check DIR`) keeps them for the next; a lone file's reading lets them go
        // (what follows it, the report, would hold them at its peak).
        if blocks.threads == Threads::One {
            let Reading { buf, framer, lines, .. } = read;
            [buf, framer.into_buffer(), lines].into_iter().for_each(give_back);
        }
        Ok(())
    }

    /// Reads the elements of a top-level JSON array as records (each numbered by its place in the
    /// array), `head` first, then `reader` to its end or to the closing bracket, in blocks.
    fn read_array(&mut self, reader: &mut impl Read, head: Vec<u8>) -> std::io::Result<()> {
        let mut a = ArrayFramer::default();
        a.push(&head);
        let mut block = head;
        loop {
            if let Some((first, lines)) = a.take() {
                self.push_lines(first, &lines);
            }
            if a.closed() {
                return Ok(());
            }
            block.clear();
            fill(reader, &mut block, BLOCK)?;
            if block.is_empty() {
                return Ok(());
            }
            a.push(&block);
        }
    }
}

/// The analyzer while the block reader's analysis thread has it: alone on its cache lines (a
/// heap block aligned to and sized in 128 bytes, the pair of lines the prefetcher fetches
/// together). In the `Run` its fields sit beside the store's and the ingest's, which the storing
/// thread writes at every record, so a line could hold both and go back and forth between the
/// two threads. Where memory was slow (the shared machine's slow phases, 30-50% more CPU for
/// every binary), the first read of the analyzer's `Gaps` at each record took 8.7% of
/// `tmon check`'s samples on the 1m log; apart, 0.6%.
#[repr(align(128))]
struct Apart(Analyzer);

/// Blocks handed to the analysis thread and not analysed yet, at most: the store runs this far
/// ahead of the analysis, a few hundred kB of records each, whatever the file's size.
const QUEUED: usize = 4;

/// What [`Reading::blocks`] does with a block: feeds it to the store (and the analyzer), and
/// reads the next from `R` into the buffer (emptied first) and the framer ([`fill_framed`]),
/// before or meanwhile.
type Feed<'a, R> =
    dyn FnMut(&mut Store, &[u8], &mut R, &mut Vec<u8>, &mut Framer) -> std::io::Result<()> + 'a;

/// Reads the next block into `buf` and frames it (nothing on an error).
fn fill_framed(reader: &mut impl Read, buf: &mut Vec<u8>, framer: &mut Framer) -> std::io::Result<()> {
    fill(reader, buf, BLOCK)?;
    framer.push(buf);
    Ok(())
}

thread_local! {
    /// The buffers of the last JSON Lines file read on this thread with [`Threads::One`], for
    /// the next one: the monitor's loader reads a sweep's histories one after the other on each
    /// of its threads, and fresh buffers for each file (a block read, the framer's two, grown as
    /// the first blocks came) cost the kernel's zeroing of every page they touched, a tenth of
    /// the CPU of loading 200 runs of 5,000 steps.
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Buffers kept for the next file, at most, each holding at most [`SPARE_BYTES`].
const SPARE_BUFFERS: usize = 3;
const SPARE_BYTES: usize = 4 * BLOCK;

/// An empty buffer, one a file read before on this thread left when there is one.
fn spare_buffer() -> Vec<u8> {
    SPARE.with_borrow_mut(Vec::pop).unwrap_or_default()
}

/// Keeps `buf`'s allocation for the next file read on this thread (a small one: a long line's
/// buffer is let go).
fn give_back(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > SPARE_BYTES {
        return;
    }
    buf.clear();
    SPARE.with_borrow_mut(|spare| {
        if spare.len() < SPARE_BUFFERS {
            spare.push(buf);
        }
    });
}

/// A JSON Lines file being read in blocks.
struct Reading {
    /// The block being read from the file.
    buf: Vec<u8>,
    /// The file's size, until the store is sized from it.
    size: Option<u64>,
    /// Bytes read so far.
    read: u64,
    framer: Framer,
    /// The framed lines being fed; `buf` takes the next block meanwhile.
    lines: Vec<u8>,
}

impl Reading {
    /// Frames the file's lines into blocks and hands each to `feed` (with the reader and the
    /// buffer it fills with the next block meanwhile) until the end, an error, or `progress`
    /// says stop (`Ok(false)`). The unfinished last line stays in the framer.
    fn blocks<R: Read>(
        &mut self,
        reader: &mut R,
        store: &mut Store,
        progress: &mut dyn FnMut(u64) -> bool,
        feed: &mut Feed<'_, R>,
    ) -> std::io::Result<bool> {
        loop {
            if !self.framer.has_lines() {
                // No line is complete yet: read on.
                if !progress(self.read) {
                    return Ok(false);
                }
                self.buf.clear();
                fill(reader, &mut self.buf, BLOCK)?;
                if self.buf.is_empty() {
                    return Ok(true);
                }
                self.read += self.buf.len() as u64;
                self.framer.push(&self.buf);
                continue;
            }
            let (taken, _) = self.framer.take_reusing(std::mem::take(&mut self.lines));
            self.lines = taken;
            self.buf.clear();
            // The bytes of the lines the store has once this block is fed.
            let fed = self.read - self.framer.partial().len() as u64;
            let got = feed(store, &self.lines, reader, &mut self.buf, &mut self.framer);
            if let Some(total) = self.size.take() {
                reserve_for(store, fed, total);
            }
            if !progress(self.read) {
                return Ok(false);
            }
            got?;
            if self.buf.is_empty() {
                return Ok(true);
            }
            self.read += self.buf.len() as u64;
        }
    }
}

/// Makes room in the store for the records of a `total`-byte file, `done` bytes of which gave
/// the records it holds.
fn reserve_for(store: &mut Store, done: u64, total: u64) {
    let have = store.records() as u64;
    if done == 0 || have == 0 || total <= done {
        return;
    }
    // 2% over the estimate: a shortfall costs a reallocation of every column.
    let more = (have as u128 * (total - done) as u128 * 102 / (done as u128 * 100)) as usize;
    store.reserve(more);
}

/// Feeds `block`, whole lines ending with `\n` as the [`Framer`] cut them, to `ingest` and
/// `store`; `sink` is told each record appended and each line skipped, in order. `line_no` is
/// the last line fed so far.
///
/// With more than one thread, the block is cut into pieces of about [`PIECE_BYTES`]. Tasks on
/// rayon's pool (every thread of it but this one, when this is one of them) parse pieces from
/// the front; this thread feeds the pieces in order to the ingest, parsing itself the next
/// piece when no task has taken it, and pieces from the back while it waits for one a task is
/// parsing. No thread idles while a piece is left, and on a pool of one thread this thread
/// parses every piece.
fn push_block<'b, S: Sink>(
    ingest: &mut Ingest,
    store: &mut Store,
    sink: &mut S,
    line_no: &mut u64,
    block: &'b [u8],
    b: &mut Blocks,
) {
    let mut starts = std::mem::take(&mut b.starts);
    starts.clear();
    starts.push(0);
    starts.extend(memchr::memchr_iter(b'\n', block).map(|i| i + 1));
    starts.pop();
    let n = starts.len();
    let base = *line_no;
    *line_no += n as u64;
    if b.threads == Threads::One || block.len() < PARALLEL_MIN_BYTES || n < 2 {
        for i in 0..n {
            let skipped = store.skipped.count;
            let on: &mut OnRecord<'_> = &mut |st, rec, f| sink.record(st, rec, f);
            ingest.push_line(store, base + i as u64 + 1, line_at(block, &starts, i), on);
            if store.skipped.count != skipped {
                // A line that is not a record may be the error the run died of.
                sink.skipped(store);
            }
        }
        b.starts = starts;
        return;
    }
    // Piece j holds lines bounds[j]..bounds[j + 1].
    let mut bounds = vec![0usize];
    while let Some(&i) = bounds.last().filter(|&&i| i < n) {
        let limit = starts[i] + PIECE_BYTES;
        let j = i + 1 + starts[i + 1..n.min(i + PIECE_LINES)].partition_point(|&s| s < limit);
        bounds.push(j);
    }
    let pieces = bounds.len() - 1;
    let lines = |j: usize| bounds[j]..bounds[j + 1];
    let state: Vec<AtomicU8> = (0..pieces).map(|_| AtomicU8::new(FREE)).collect();
    let slots: Vec<Mutex<Option<Piece<'b>>>> = (0..pieces).map(|_| Mutex::new(None)).collect();
    let front = AtomicUsize::new(0);
    let spare: Mutex<Vec<Piece<'b>>> =
        Mutex::new(std::mem::take(&mut b.pool).into_iter().map(|(f, o)| (recycle(f), o)).collect());
    let starts_ref = &starts;
    let parse = |j: usize| -> Piece<'b> {
        let (mut fields, mut outcomes) = spare.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default();
        fields.clear();
        outcomes.clear();
        PARSER.with(|p| {
            let mut parser = p.borrow_mut();
            for i in lines(j) {
                let a = fields.len() as u32;
                outcomes.push(match prepare_line(line_at(block, starts_ref, i)) {
                    None => Parsed::Blank,
                    Some(line) => match parser.parse_append(line, &mut fields) {
                        Ok(layout) => Parsed::Fields(a, fields.len() as u32, layout),
                        Err(e) => Parsed::Bad(e),
                    },
                });
            }
        });
        (fields, outcomes)
    };
    let claim =
        |j: usize| state[j].compare_exchange(FREE, TAKEN, Ordering::AcqRel, Ordering::Relaxed).is_ok();
    let put = |j: usize, p: Piece<'b>| {
        if let Ok(mut slot) = slots[j].lock() {
            *slot = Some(p);
        }
        state[j].store(DONE, Ordering::Release);
    };
    // Every thread of the pool but this one, when it is one of them.
    let pool = rayon::current_num_threads();
    let helpers = pool.saturating_sub(usize::from(rayon::current_thread_index().is_some())).min(pieces);
    rayon::in_place_scope(|s| {
        for _ in 0..helpers {
            s.spawn(|_| loop {
                let j = front.fetch_add(1, Ordering::Relaxed);
                if j >= pieces {
                    break;
                }
                if claim(j) {
                    put(j, parse(j));
                }
            });
        }
        // Pieces from `back` on are taken; this thread takes from there while it waits.
        let mut back = pieces;
        for j in 0..pieces {
            let p = loop {
                match state[j].load(Ordering::Acquire) {
                    DONE => match slots[j].lock().ok().and_then(|mut s| s.take()) {
                        Some(p) => break p,
                        // A task panicked while putting it: the scope re-raises the panic.
                        None => return,
                    },
                    FREE if claim(j) => break parse(j),
                    _ => {
                        // Another thread is parsing piece j: parse one from the back meanwhile.
                        while back > j + 1 && !claim(back - 1) {
                            back -= 1;
                        }
                        if back > j + 1 {
                            back -= 1;
                            put(back, parse(back));
                        } else {
                            std::thread::yield_now();
                        }
                    }
                }
            };
            push_piece(ingest, store, sink, base, block, starts_ref, lines(j), &p);
            if let Ok(mut spare) = spare.lock() {
                spare.push(p);
            }
        }
    });
    b.pool = spare
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|(f, mut o)| {
            o.clear();
            (recycle(f), o)
        })
        .collect();
    b.starts = starts;
}

/// Appends the lines of a piece another thread parsed.
#[allow(clippy::too_many_arguments)]
fn push_piece<S: Sink>(
    ingest: &mut Ingest,
    store: &mut Store,
    sink: &mut S,
    base: u64,
    block: &[u8],
    starts: &[usize],
    lines: std::ops::Range<usize>,
    (fields, outcomes): &Piece<'_>,
) {
    for (i, o) in lines.zip(outcomes) {
        let on: &mut OnRecord<'_> = &mut |st, rec, f| sink.record(st, rec, f);
        let no = base + i as u64 + 1;
        let line = || prepare_line(line_at(block, starts, i)).unwrap_or_default();
        match o {
            Parsed::Blank => {}
            Parsed::Fields(a, z, layout) => {
                ingest.push_parsed(store, no, line(), Ok((&fields[*a as usize..*z as usize], *layout)), on)
            }
            Parsed::Bad(e) => {
                ingest.push_parsed(store, no, line(), Err(e), on);
                // A line that is not a record may be the error the run died of.
                sink.skipped(store);
            }
        }
    }
}

/// Whether `bytes` (an array that did not parse as a document) holds at least one complete element.
fn complete_elements(bytes: &[u8]) -> bool {
    let mut a = ArrayFramer::default();
    a.push(bytes);
    // An array of records starts with an object: `[a` then a traceback is text that happens to
    // start with a bracket, read as lines, not words.
    a.take().is_some_and(|(_, elems)| elems.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'))
}

/// Reads into `buf` until it holds `want` bytes or the file ends.
fn fill(file: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<()> {
    while buf.len() < want {
        let n = file.by_ref().take((want - buf.len()) as u64).read_to_end(buf)?;
        if n == 0 {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analyzer of a record sees the series that existed when the record was appended, not
    /// those the rest of its block created (an eval loss looks for its train loss among them).
    #[test]
    fn a_record_is_analysed_with_the_names_of_its_time() {
        let mut store = Store::new();
        let mut batch = Batch::default();
        let mut sent = 0;
        let loss = store.intern("loss_cls");
        let r = store.begin_record(RecordMeta { step: 1.0, time: f64::NAN, line: 1 });
        store.push(r, loss, 1.0);
        batch.push(&store, r, &[(loss, 1.0)]);
        let later = store.intern("loss");
        let r = store.begin_record(RecordMeta { step: 2.0, time: f64::NAN, line: 2 });
        store.push(r, later, 1.0);
        batch.push(&store, r, &[(later, 1.0)]);
        batch.take_names(&store, &mut sent);
        assert_eq!((sent, batch.names.len()), (2, 2));
        let mut names = Names::default();
        for n in batch.names.drain(..) {
            names.by_name.insert(n.clone(), names.list.len());
            names.list.push(n);
        }
        let counts: Vec<u32> = batch.records.iter().map(|r| r.1).collect();
        assert_eq!(counts, [1, 2]);
        let first = NamesUpTo { names: &names, count: 1 };
        assert_eq!((first.series_count(), first.find("loss_cls"), first.find("loss")), (1, Some(0), None));
        let second = NamesUpTo { names: &names, count: 2 };
        assert_eq!((second.find("loss"), second.name(1)), (Some(1), "loss"));
    }
}
