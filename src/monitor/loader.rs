//! The opener and loader: looks at each file once when the monitor finds it, so a big log shows
//! its newest data at once, then reads its history.
//!
//! [`plan`] (on the monitor's thread, before the source starts) reads the file's size and last
//! MiB, and says where the last complete line ends. For a JSON Lines file that is where the
//! source starts following it ([`Resume`]): the [`Loader`] parses the complete lines of that last
//! MiB into a preview run ([`Event::Opened`]), then reads the history up to that point with the
//! batch reader `tmon check` uses (blocks, two threads) and hands the run over
//! ([`Event::Loaded`]), with [`Event::Progress`] on the way. The app shows the preview until the
//! history arrives, and the live set holds back the source's news about the file until then (see
//! `app::data`). A file in another format (TensorBoard events, a W&B run file, CSV) gets no
//! preview; its history, with the other files of its run, is decoded here by the reader `tmon
//! check --follow` uses, up to each file's size at the look, and that decoder is handed over
//! with it: the loop never decodes a big binary file. Whole-file documents, and files found later in a watched directory, get no resume
//! point: the source reads them from the start, and the opener only previews them.
//!
//! Comparing runs ([`Work::compact`]), a history comes with the columns of the series the grid
//! charts, built on the thread that read it by the plan the app last drew
//! ([`Loader::with_plan`], `crate::chart::OverlayPlan`): the loop installs them rather than
//! building every run's columns once the sweep is in.
//!
//! The loader's threads are a pool of at most one more than the machine has cores
//! ([`std::thread::available_parallelism`]), started when there is work and gone when there is
//! none: a directory of 500 runs is looked at by a few threads, not 500. Histories are read the
//! lowest file number first, so the file on screen goes first. While at least as many histories
//! wait as there are cores (a sweep), each core reads one on its own thread, as `tmon check`
//! reads a sweep, so 200 runs load on every core of a 64-core box; with fewer, half as many are
//! read at once, each on a pipeline of threads (a lone big file uses every core). The thread
//! beyond the cores looks at a file found meanwhile without waiting for a history.

use super::MonitorOptions;
use crate::event::{Event, History, Opened};
use crate::formats::follow::{self, FileEnd, Follow, Loaded};
use crate::formats::Kind;
use crate::run::{Run, Threads};
use crate::source::layout::{detect, Layout};
use crate::source::tail::open_for_reading;
use crate::source::{FileId, Resume};
use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The end of the file read first. Files up to this size get no preview: their history is read
/// in a moment anyway.
pub const TAIL_BYTES: u64 = 1 << 20;

/// How often the loader reports its progress (the screen shows a few frames a second then).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// A file as it was when the monitor found it, and the handle its history is read through (the
/// same file the resume point names, whatever happens to the path meanwhile), unless released.
pub struct Plan {
    path: PathBuf,
    size: u64,
    end: u64,
    idle: Option<Duration>,
    lines: bool,
    /// A file in another format whose history the loader reads with that format's decoder (event
    /// files, W&B run files, CSV), up to its size at the look.
    format: Option<Kind>,
    /// The other files of its run (a restarted writer's event files, a resumed W&B run's files),
    /// read with it, in order, each up to its size at the look; their own plans are members.
    parts: Vec<FileEnd>,
    /// One of the other files of a run whose first file reads its history: not read on its own.
    member: bool,
    id: Option<FileId>,
    file: Option<File>,
}

impl Plan {
    /// Where the source starts following the file, when the loader reads its history (a member
    /// of a run: when the run's first file reads it).
    pub fn resume(&self) -> Option<Resume> {
        let id = self.id.filter(|_| (self.lines || self.format.is_some()) && self.end > 0)?;
        Some(Resume { id, offset: self.end })
    }

    /// Whether the loader reads the history of this file (for a member, the run's first file
    /// does).
    pub fn own_history(&self) -> bool {
        self.resume().is_some() && !self.member
    }

    /// The format of a file whose history the loader decodes (see [`Plan::format`]).
    pub fn format(&self) -> Option<Kind> {
        self.format
    }

    /// File `file` of the source (`plan` of it) is another file of this plan's run: its history
    /// is read with this one's, up to its size at its look, and it reads none of its own.
    pub fn add_part(&mut self, file: usize, plan: &mut Plan) {
        plan.member = true;
        self.parts.push(FileEnd { file, path: plan.path.clone(), end: plan.end });
    }

    /// Lets the handle go (a directory of thousands of runs must not hold a descriptor per run
    /// while their histories wait their turn): the history is read by opening the path again,
    /// if it still names the file looked at.
    pub fn release(&mut self) {
        self.file = None;
    }
}

/// Plans beyond this many (in the order given) release their handle until their turn comes.
pub const HELD_PLANS: usize = 32;

/// Looks at `path` as it is now: cheap (a stat and two reads of at most a MiB). Never blocks on a
/// FIFO or a device (opened without blocking, refused once seen not to be a regular file). Runs
/// on the monitor's starter and loader threads, never on the one that answers keys.
pub fn plan(path: &Path) -> Plan {
    let mut out = Plan {
        path: path.to_owned(),
        size: 0,
        end: 0,
        idle: None,
        lines: false,
        format: None,
        parts: Vec::new(),
        member: false,
        id: None,
        file: None,
    };
    let Ok((mut f, meta)) = open_for_reading(path) else { return out };
    if !meta.is_file() {
        return out;
    }
    out.id = Some(FileId::of(&meta));
    out.size = meta.len();
    out.idle = meta.modified().ok().and_then(|m| SystemTime::now().duration_since(m).ok());
    if let Some(kind) = decoded_format(path, &mut f) {
        // Read whole by its decoder (a torn last record waits in it for the source's bytes).
        out.format = Some(kind);
        out.end = out.size;
        out.file = Some(f);
        return out;
    }
    // The end of the last complete line: in the last 64 KiB as a rule, in the last MiB at most.
    let mut last = None;
    for back in [64 << 10, TAIL_BYTES] {
        let start = out.size.saturating_sub(back);
        let Some(tail) = read_at(&mut f, start, out.size - start) else { return out };
        last = memchr::memrchr(b'\n', &tail).map(|i| (start, i));
        if last.is_some() || start == 0 {
            break;
        }
    }
    // No complete line in the last MiB (or in a small file): nothing to preview or resume after.
    let Some((start, last_nl)) = last else {
        out.end = out.size.saturating_sub(TAIL_BYTES);
        return out;
    };
    out.end = start + last_nl as u64 + 1;
    out.lines = is_lines(path, &mut f);
    out.file = Some(f);
    out
}

/// What the loader does with a file, besides reporting its size.
#[derive(Clone, Copy, Debug)]
pub struct Work {
    /// Parse the complete lines of this much of its end (at most [`TAIL_BYTES`]), shown until the
    /// history is in (comparing runs, every run of a sweep previews a little of its end, so that
    /// each shows its newest data at once).
    pub preview: Option<u64>,
    /// Read its history (JSON Lines only), up to the plan's resume point.
    pub history: bool,
    /// Hold its values at display precision (runs compared: see
    /// [`Store::keep_display_precision`](crate::store::Store::keep_display_precision)).
    pub compact: bool,
}

/// A job of the loader's threads.
type Job = Box<dyn FnOnce(&Loader) + Send>;

/// A history to read, on the threads given.
type HistoryJob = Box<dyn FnOnce(&Loader, Threads) + Send>;

/// What the loader's threads have to do.
#[derive(Default)]
struct Queue {
    /// Looks at files (previews), in the order given.
    opens: VecDeque<Job>,
    /// Histories to read, by file number.
    histories: BTreeMap<usize, HistoryJob>,
    /// Threads reading a history.
    reading: usize,
    /// Threads alive.
    threads: usize,
    /// The most threads alive at once.
    peak: usize,
    /// The most histories read at once.
    peak_reading: usize,
}

/// The loader's pool of threads (see the module's doc). Cloning shares the pool.
#[derive(Clone)]
pub struct Loader {
    queue: Arc<Mutex<Queue>>,
    max: usize,
    opts: Arc<MonitorOptions>,
    tx: Sender<Event>,
    /// What the overlaid grid charts (comparing runs): each history read is handed over with
    /// the columns of those series, built here, off the loop ([`Loader::with_plan`]).
    plan: Option<crate::chart::SharedPlan>,
}

impl Loader {
    /// A pool of at most [`Loader::max_threads`] threads, reporting over `tx`.
    pub fn new(opts: MonitorOptions, tx: Sender<Event>) -> Loader {
        Loader { queue: Arc::default(), max: Loader::max_threads(), opts: Arc::new(opts), tx, plan: None }
    }

    /// Builds, after each history of a run compared with others ([`Work::compact`]), the columns
    /// of the series `plan` charts, as the loop would before drawing them, and hands them over
    /// with the history ([`Event::Loaded`]): the loop installs them instead of building every
    /// run's columns when the sweep is in (see `crate::chart::OverlayPlan`).
    pub fn with_plan(mut self, plan: crate::chart::SharedPlan) -> Loader {
        self.plan = Some(plan);
        self
    }

    /// The machine's cores ([`std::thread::available_parallelism`], asked once:
    /// [`crate::formats::par::threads`]).
    pub fn cores() -> usize {
        crate::formats::par::threads()
    }

    /// One thread more than the machine has cores: one can look at a file found later while
    /// every core reads a history.
    pub fn max_threads() -> usize {
        Loader::cores() + 1
    }

    /// The most threads the pool has had alive at once.
    #[cfg(test)]
    fn peak_threads(&self) -> usize {
        self.lock().peak
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Histories read at once, at most: one a core.
    #[cfg(test)]
    fn max_readers() -> usize {
        Loader::cores()
    }

    /// Whether another history may be read now, and on which threads, on a machine of `cores`
    /// with `waiting` histories waiting and `reading` being read: while there are at least as
    /// many as cores, one a core on its own thread; else half as many as cores (one at least),
    /// each on the pipeline of threads [`Threads::Auto`] sets up.
    fn reader(cores: usize, waiting: usize, reading: usize) -> Option<Threads> {
        let cores = cores.max(1);
        let (most, threads) = if waiting + reading >= cores {
            (cores, Threads::One)
        } else {
            ((cores / 2).max(1), Threads::Auto)
        };
        (waiting > 0 && reading < most).then_some(threads)
    }

    /// Looks at the file of `plan` as `work` says, reporting as file number `file`. Fails only
    /// when no thread could be started to do it.
    pub fn submit(&self, file: usize, plan: Plan, work: Work) -> std::io::Result<()> {
        self.lock().opens.push_back(Loader::job(file, plan, work));
        self.grow()
    }

    /// As [`submit`](Self::submit) for a file found later: the look at it ([`plan`]) is made on
    /// the loader's thread too.
    pub fn submit_path(&self, file: usize, path: PathBuf, work: Work) -> std::io::Result<()> {
        let job: Job = Box::new(move |loader: &Loader| Loader::job(file, plan(&path), work)(loader));
        self.lock().opens.push_back(job);
        self.grow()
    }

    /// Decodes a piece of a followed file into its run on the pool (before any history waiting:
    /// the loop waits for the run), and hands the run back as [`Event::Decoded`] for slot `file`.
    pub fn decode(&self, file: usize, job: crate::run::live::DecodeJob) -> std::io::Result<()> {
        let job: Job = Box::new(move |loader: &Loader| {
            let back = job.run();
            let _ = loader.tx.send(Event::Decoded { file, back: Box::new(back) });
        });
        self.lock().opens.push_back(job);
        self.grow()
    }

    /// Looks at the file of `plan` on this thread (the file on screen first, before the source
    /// starts); its history is read by the pool.
    pub fn run_here(&self, file: usize, plan: Plan, work: Work) -> std::io::Result<()> {
        Loader::job(file, plan, work)(self);
        self.grow()
    }

    fn job(file: usize, mut plan: Plan, work: Work) -> Job {
        Box::new(move |loader: &Loader| {
            let resume = plan.resume().filter(|_| work.history);
            let path = plan.path.clone();
            let (format, member) = (plan.format, plan.member);
            let parts = std::mem::take(&mut plan.parts);
            let (mut info, handle) = open(plan, work.preview, &loader.opts);
            // Its config (a few small files beside it), read here: never on the loop's thread.
            info.config = crate::run::config::read(&path);
            // Likewise the model printed in a stdout log beside it.
            info.model_beside = crate::model::beside::read(&path).map(Box::new);
            // The loop may be gone (quit): nothing to do then.
            if loader.tx.send(Event::Opened { file, info: Box::new(info) }).is_err() {
                return;
            }
            let Some(r) = resume.filter(|_| !member) else { return };
            let history: HistoryJob = Box::new(move |loader: &Loader, threads: Threads| {
                let tx = &loader.tx;
                let report = &mut |bytes| tx.send(Event::Progress { file, bytes }).is_ok();
                let history = match (format, handle.map_or_else(|| reopen(&path, r.id), Ok)) {
                    (Some(kind), Ok(handle)) => {
                        let mut all = vec![FileEnd { file, path: path.clone(), end: r.offset }];
                        all.extend(parts);
                        load_format(kind, handle, &all, &path, &loader.opts, work.compact, report)
                    }
                    (None, Ok(handle)) => {
                        load(handle, &path, &r, &loader.opts, (work.compact, threads), report)
                    }
                    (_, Err(e)) => History::lines(
                        Run::new(&path, loader.opts.ingest.clone(), loader.opts.flags.clone()),
                        0,
                        Some(e),
                    ),
                };
                // The plan as it is now: a view changed meanwhile only costs the loop the
                // columns it would have built anyway.
                let columns = match (&loader.plan, work.compact) {
                    (Some(plan), true) => plan
                        .get()
                        .and_then(|p| crate::chart::Prepared::for_history(&history.run.store, &p))
                        .map(Box::new),
                    _ => None,
                };
                let _ = tx.send(Event::Loaded { file, history: Box::new(history), columns });
            });
            // A JSON Lines file no longer than the preview asked for got none: its history, as
            // cheap to read as that preview, is read next, before the other files' previews (a
            // sweep's first rows show their newest data as soon as the others do).
            if format.is_none() && work.preview.is_some_and(|p| r.offset <= p) {
                loader.lock().opens.push_front(Box::new(move |l: &Loader| history(l, Threads::One)));
                return;
            }
            // A thread of the pool takes it when the rule of readers lets it (see `reader`).
            loader.lock().histories.insert(file, history);
        })
    }

    /// Starts a thread when there are fewer than `max`.
    fn grow(&self) -> std::io::Result<()> {
        let mut q = self.lock();
        if q.threads >= self.max {
            return Ok(());
        }
        q.threads += 1;
        q.peak = q.peak.max(q.threads);
        let n = q.threads;
        drop(q);
        let me = self.clone();
        let spawned = std::thread::Builder::new().name(format!("tmon-loader-{n}")).spawn(move || me.work());
        if let Err(e) = spawned {
            let mut q = self.lock();
            q.threads -= 1;
            if q.threads == 0 {
                return Err(e);
            }
        }
        Ok(())
    }

    /// A thread of the pool: takes jobs until there is none it may take.
    fn work(&self) {
        enum Either {
            Open(Job),
            History(HistoryJob, Threads),
        }
        /// Counts the thread out, and lets another history be read, even if a job panics.
        struct Leaving<'a> {
            loader: &'a Loader,
            reading: bool,
        }
        impl Drop for Leaving<'_> {
            fn drop(&mut self) {
                let mut q = self.loader.lock();
                q.reading -= usize::from(self.reading);
                q.threads -= 1;
            }
        }
        let mut me = Leaving { loader: self, reading: false };
        loop {
            let job = {
                let mut q = self.lock();
                if std::mem::take(&mut me.reading) {
                    q.reading -= 1;
                }
                if let Some(job) = q.opens.pop_front() {
                    Either::Open(job)
                } else if let Some(threads) = Loader::reader(Loader::cores(), q.histories.len(), q.reading) {
                    let Some((_, job)) = q.histories.pop_first() else { return };
                    q.reading += 1;
                    q.peak_reading = q.peak_reading.max(q.reading);
                    me.reading = true;
                    Either::History(job, threads)
                } else {
                    return;
                }
            };
            match job {
                Either::Open(job) => job(self),
                Either::History(job, threads) => job(self, threads),
            }
        }
    }
}

/// The opener's report: with `preview` (how many bytes of the end), the records of the complete
/// lines of the file's end (a JSON Lines file bigger than that only); and the file handle back for
/// the history (none when the plan had released its handle: the history opens the file again).
fn open(mut plan: Plan, preview: Option<u64>, opts: &MonitorOptions) -> (Opened, Option<File>) {
    let mut out = Opened {
        path: plan.path.clone(),
        size: plan.size,
        end: plan.end,
        idle: plan.idle,
        preview: None,
        config: Default::default(),
        model_beside: None,
    };
    let tail_start = plan.end.saturating_sub(preview.unwrap_or(0).min(TAIL_BYTES));
    let wanted = preview.is_some() && tail_start > 0 && plan.lines;
    // A plan past the first HELD_PLANS let its handle go: its preview opens the file again for
    // a moment (the same file looked at, or none), so that every run of a sweep shows its newest
    // steps at once, not only the first 32.
    let (mut file, held) = match plan.file.take() {
        Some(f) => (f, true),
        None => match plan.id.filter(|_| wanted).map(|id| reopen(&plan.path, id)) {
            Some(Ok(f)) => (f, false),
            _ => return (out, None),
        },
    };
    if !wanted {
        return (out, Some(file));
    }
    let tail = read_at(&mut file, tail_start, plan.end - tail_start);
    let file = held.then_some(file);
    let Some(tail) = tail else { return (out, file) };
    // The first (cut) line of the tail is not whole; the tail ends with a newline.
    let Some(first_nl) = memchr::memchr(b'\n', &tail) else { return (out, file) };
    let body = &tail[first_nl + 1..tail.len() - 1];
    if body.is_empty() {
        return (out, file);
    }
    let mut run = Run::new(&plan.path, opts.ingest.clone(), opts.flags.clone());
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        // Line numbers are unknown this far into the file: the preview counts from 1.
        run.push_line(i as u64 + 1, line.strip_suffix(b"\r").unwrap_or(line));
    }
    out.preview = Some(run);
    (out, file)
}

/// `report`, told the bytes read at most once every [`PROGRESS_EVERY`] (true in between: reading
/// goes on).
fn throttled(report: &mut dyn FnMut(u64) -> bool) -> impl FnMut(u64) -> bool + '_ {
    let mut next = Instant::now() + PROGRESS_EVERY;
    move |bytes: u64| {
        if Instant::now() < next {
            return true;
        }
        next = Instant::now() + PROGRESS_EVERY;
        report(bytes)
    }
}

/// Reads the history of `file` up to the resume point. `report` is told the bytes read every
/// [`PROGRESS_EVERY`]; false from it stops the reading. With `compact`, values are held at display
/// precision from the start; `threads`: see [`Run::load_lines`].
fn load(
    mut file: File,
    path: &Path,
    r: &Resume,
    opts: &MonitorOptions,
    (compact, threads): (bool, Threads),
    report: &mut dyn FnMut(u64) -> bool,
) -> History {
    let mut run = Run::new(path, opts.ingest.clone(), opts.flags.clone());
    if compact {
        run.store.keep_display_precision();
    }
    let mut progress = throttled(report);
    let (lines, read) = match file.seek(SeekFrom::Start(0)) {
        Ok(_) => run.load_lines(&mut (&mut file).take(r.offset), Some(r.offset), threads, &mut progress),
        Err(e) => (0, Err(e)),
    };
    History::lines(run, lines, read.err().map(|e| e.to_string()))
}

/// Reads the history of a run in another format (TensorBoard events, a W&B run file, CSV): its
/// files `parts` (the first one open as `first`, the one looked at) each up to its end, with the
/// decoder `tmon check --follow` uses, which is handed over to go on with the source's bytes.
/// `report` as for [`load`].
fn load_format(
    kind: Kind,
    first: File,
    parts: &[FileEnd],
    path: &Path,
    opts: &MonitorOptions,
    compact: bool,
    report: &mut dyn FnMut(u64) -> bool,
) -> History {
    // The file looked at is read, not whatever is at its path now (as for JSON Lines).
    let mut first = Some(first);
    let open = |p: &FileEnd| -> std::io::Result<File> {
        match first.take() {
            Some(f) if p.path == path => Ok(f),
            _ => File::open(&p.path),
        }
    };
    // The run keeps the name of the file looked at, as the live set named it (its folder is the
    // run's name for the screen, see `run::LiveSet`).
    let new_run = |_: &Path| {
        let mut run = Run::new(path, opts.ingest.clone(), opts.flags.clone());
        if compact {
            run.store.keep_display_precision();
        }
        run
    };
    let mut progress = throttled(report);
    match follow::read_from(kind, parts, &new_run, false, &mut progress, open) {
        Ok(Loaded { mut runs, follow: Follow::Run(dec) }) if runs.len() == 1 => {
            let run = runs.pop().unwrap_or_else(|| new_run(path));
            History { run, lines: 0, error: None, decoder: Some(dec) }
        }
        Ok(_) => History::lines(new_run(path), 0, Some("not a format read here".into())),
        Err(e) => History::lines(new_run(path), 0, Some(e.to_string())),
    }
}

/// The format of a file the loader decodes (event files, W&B run files, CSV), by its name and
/// first bytes; `None` for JSON and what the source reads otherwise (an MLflow store).
fn decoded_format(path: &Path, f: &mut File) -> Option<Kind> {
    let mut head = Vec::with_capacity(64 << 10);
    if f.seek(SeekFrom::Start(0)).is_err() || (&mut *f).take(64 << 10).read_to_end(&mut head).is_err() {
        return None;
    }
    if crate::formats::framing(path, &head) != Some(crate::source::Framing::Bytes) {
        return None;
    }
    follow::kind_of(path, &head).filter(|k| matches!(k, Kind::TfEvents | Kind::Wandb | Kind::Csv))
}

/// Opens `path` again for a history whose plan released its handle: it must still be the file
/// looked at (`id`).
fn reopen(path: &Path, id: FileId) -> Result<File, String> {
    match open_for_reading(path) {
        Ok((f, m)) if m.is_file() && FileId::of(&m) == id => Ok(f),
        Ok(_) => Err("the file was replaced before its history was read".to_owned()),
        Err(e) => Err(crate::source::tail::io_reason(&e)),
    }
}

/// `len` bytes of `f` from `start` (fewer when the file is shorter now).
fn read_at(f: &mut File, start: u64, len: u64) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(len as usize);
    f.seek(SeekFrom::Start(start)).ok()?;
    f.take(len).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// Whether the file is JSON Lines (a whole-file document is read by the source, not previewed).
fn is_lines(path: &Path, f: &mut File) -> bool {
    let mut head = Vec::with_capacity(64 << 10);
    if f.seek(SeekFrom::Start(0)).is_err() || (&mut *f).take(64 << 10).read_to_end(&mut head).is_err() {
        return false;
    }
    // Other formats (event files, CSV, ...) are read by the source from their start, as bytes.
    if crate::formats::framing(path, &head) != Some(crate::source::Framing::Text) {
        return false;
    }
    let name = path.file_name().and_then(|n| n.to_str());
    detect(name, &head, true) == Some(Layout::Lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_big_file_gets_a_preview_of_its_complete_last_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.jsonl");
        let mut f = std::fs::File::create(&path).expect("create");
        let mut n = 0u64;
        while n * 40 < 2 * TAIL_BYTES {
            writeln!(f, "{{\"step\": {n}, \"loss\": 1.5}}").expect("write");
            n += 1;
        }
        write!(f, "{{\"step\": {n}, \"lo").expect("write a partial line");
        drop(f);
        let (got, _) = open(plan(&path), Some(TAIL_BYTES), &MonitorOptions::default());
        let size = std::fs::metadata(&path).expect("meta").len();
        assert_eq!(got.size, size);
        assert_eq!(got.end, size - format!("{{\"step\": {n}, \"lo").len() as u64);
        let run = got.preview.expect("a preview");
        let last = run.store.last_record().expect("records");
        assert_eq!(last.step, (n - 1) as f64, "the partial line is not in the preview");
        assert_eq!(run.store.skipped.count, 0, "the cut first line was left out");
        assert!(run.store.records() > 10_000);
    }

    #[test]
    fn a_shorter_tail_previews_the_last_lines_of_a_smaller_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run.jsonl");
        let text: String = (0..8_000).map(|i| format!("{{\"step\": {i}, \"loss\": 1.5}}\n")).collect();
        std::fs::write(&path, &text).expect("write");
        assert!((text.len() as u64) < TAIL_BYTES, "smaller than the usual tail");
        assert!(open(plan(&path), Some(TAIL_BYTES), &MonitorOptions::default()).0.preview.is_none());
        let (got, _) = open(plan(&path), Some(16 << 10), &MonitorOptions::default());
        let run = got.preview.expect("a preview of its last 16 KiB");
        assert_eq!(run.store.last_record().map(|r| r.step), Some(7_999.0));
        assert!(run.store.records() > 300 && run.store.records() < 1000, "{}", run.store.records());
    }

    #[test]
    fn small_missing_and_document_files_get_no_preview() {
        let dir = tempfile::tempdir().expect("tempdir");
        let small = dir.path().join("small.jsonl");
        std::fs::write(&small, "{\"step\": 1}\n{\"step\": 2}\n").expect("write");
        let (got, _) = open(plan(&small), Some(TAIL_BYTES), &MonitorOptions::default());
        assert!(got.preview.is_none());
        assert_eq!((got.size, got.end), (24, 24));
        let (missing, _) =
            open(plan(&dir.path().join("none.jsonl")), Some(TAIL_BYTES), &MonitorOptions::default());
        assert_eq!((missing.size, missing.end), (0, 0));
        let doc = dir.path().join("trainer_state.json");
        let mut text = String::from("{\"log_history\": [\n");
        while (text.len() as u64) < 2 * TAIL_BYTES {
            text.push_str("  {\"step\": 1, \"loss\": 1.0},\n");
        }
        text.push_str("  {\"step\": 2}\n]}\n");
        std::fs::write(&doc, &text).expect("write");
        assert!(plan(&doc).resume().is_none(), "the source reads a document");
        assert!(open(plan(&doc), Some(TAIL_BYTES), &MonitorOptions::default()).0.preview.is_none());
    }

    #[test]
    fn the_history_is_what_check_reads_of_the_file_up_to_the_resume_point() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run.jsonl");
        let mut text = String::new();
        for i in 0..30_000u64 {
            text.push_str(&format!("{{\"step\": {i}, \"loss\": {}}}\n", 1.0 / (i + 1) as f64));
            if i % 7_000 == 3 {
                text.push_str("not json\n");
            }
        }
        std::fs::write(&path, &text).expect("write");
        let p = plan(&path);
        let r = p.resume().expect("JSON Lines get a resume point");
        assert_eq!(r.offset, text.len() as u64);
        // Lines written after the look are the source's, not the history's.
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
        writeln!(f, "{{\"step\": 30000, \"loss\": 0.5}}").expect("append");
        let (info, handle) = open(p, Some(TAIL_BYTES), &MonitorOptions::default());
        let preview = info.preview.expect("over a MiB: a preview");
        assert_eq!(preview.store.last_record().map(|r| r.step), Some(29_999.0), "the end as looked at");
        let mut reports = 0;
        let h = load(
            handle.expect("the handle"),
            &path,
            &r,
            &MonitorOptions::default(),
            (false, Threads::Auto),
            &mut |_| {
                reports += 1;
                true
            },
        );
        assert!(h.error.is_none());
        assert_eq!(h.lines, 30_005);
        let want = Run::load_file(&path, Default::default(), Default::default()).expect("check's read");
        assert_eq!(h.run.store.records(), want.store.records() - 1);
        assert_eq!(h.run.store.skipped.count, 5);
        assert_eq!(h.run.store.skipped.count, want.store.skipped.count);
        let last = h.run.store.last_record().expect("records");
        assert_eq!((last.step, last.line), (29_999.0, 30_005));
    }

    #[test]
    fn a_sweep_is_read_a_history_a_core_and_a_lone_file_on_every_core() {
        use Threads::{Auto, One};
        // Two cores: a sweep's histories two at once, each on one thread.
        assert_eq!(Loader::reader(2, 200, 0), Some(One));
        assert_eq!(Loader::reader(2, 199, 1), Some(One));
        assert_eq!(Loader::reader(2, 198, 2), None);
        // The last of them: still one a thread while the other is being read.
        assert_eq!(Loader::reader(2, 1, 1), Some(One));
        // A lone big file: every core on it.
        assert_eq!(Loader::reader(2, 1, 0), Some(Auto));
        assert_eq!(Loader::reader(1, 1, 0), Some(One), "one core: one thread");
        assert_eq!(Loader::reader(1, 5, 1), None);
        // 64 cores: 200 runs on all 64, ten files on pipelines, 32 at a time.
        assert_eq!(Loader::reader(64, 200, 63), Some(One));
        assert_eq!(Loader::reader(64, 136, 64), None);
        assert_eq!(Loader::reader(64, 10, 0), Some(Auto));
        assert_eq!(Loader::reader(64, 10, 31), Some(Auto));
        assert_eq!(Loader::reader(64, 5, 32), None);
        assert_eq!(Loader::reader(64, 0, 0), None);
    }

    #[test]
    fn five_hundred_files_are_read_by_a_few_threads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tx, rx) = std::sync::mpsc::channel();
        let loader = Loader::new(MonitorOptions::default(), tx);
        let max = Loader::max_threads();
        let n = 500;
        for i in 0..n {
            let path = dir.path().join(format!("run{i}.jsonl"));
            std::fs::write(&path, format!("{{\"step\": 1, \"loss\": {i}}}\n{{\"step\": 2}}\n"))
                .expect("write");
            loader
                .submit(
                    i,
                    plan(&path),
                    Work { preview: (i < 4).then_some(TAIL_BYTES), history: true, compact: false },
                )
                .expect("submit");
        }
        let (mut opened, mut loaded) = (vec![false; n], vec![false; n]);
        while loaded.iter().any(|l| !l) {
            match rx.recv_timeout(Duration::from_secs(20)).expect("the loader goes on") {
                Event::Opened { file, .. } => opened[file] = true,
                Event::Loaded { file, history, .. } => {
                    assert!(opened[file], "file {file}: looked at before its history is read");
                    assert_eq!(history.run.store.records(), 2, "file {file}");
                    loaded[file] = true;
                }
                _ => {}
            }
        }
        assert!(loader.peak_threads() <= max, "{} threads for {max} cores", loader.peak_threads());
        let readers = loader.lock().peak_reading;
        assert!(readers >= 1 && readers <= Loader::max_readers(), "{readers} histories read at once");
        // With nothing left to do, the threads are gone. (The pool's own count: the process's
        // threads named `tmon-loader` include other tests' loaders, which run beside this one.)
        let t0 = Instant::now();
        while loader.lock().threads > 0 {
            assert!(t0.elapsed() < Duration::from_secs(5), "idle loader threads stay");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_compared_runs_history_comes_with_the_columns_the_grid_charts() {
        use crate::chart::{OverlayPlan, SharedPlan, XAxis};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run.jsonl");
        let lines: String = (0..500)
            .map(|i| format!("{{\"step\": {i}, \"loss\": {}, \"acc\": 0.5}}\n", 1.0 / (1 + i) as f64))
            .collect();
        std::fs::write(&path, lines).expect("write");
        let (tx, rx) = std::sync::mpsc::channel();
        let shared = SharedPlan::default();
        let loader = Loader::new(MonitorOptions::default(), tx).with_plan(shared.clone());
        let loaded = || loop {
            if let Event::Loaded { history, columns, .. } =
                rx.recv_timeout(Duration::from_secs(20)).expect("the loader goes on")
            {
                return (history, columns);
            }
        };
        // No grid drawn yet: nothing built.
        loader.submit(0, plan(&path), Work { preview: None, history: true, compact: true }).expect("submit");
        assert!(loaded().1.is_none());
        shared.set(Some(OverlayPlan {
            names: vec!["loss".into(), "lr".into()],
            x_axis: XAxis::Step,
            smoother: Some(crate::analysis::smooth::Smoother::Ema { weight: 0.6 }),
            raw: false,
        }));
        loader.submit(1, plan(&path), Work { preview: None, history: true, compact: true }).expect("submit");
        let (h, columns) = loaded();
        assert_eq!(h.run.store.records(), 500);
        assert_eq!(columns.expect("built with the history").series(), 1, "the plan's series the run has");
        // One run alone (not compared) is charted as before: by the loop.
        loader.submit(2, plan(&path), Work { preview: None, history: true, compact: false }).expect("submit");
        assert!(loaded().1.is_none());
    }

    #[test]
    fn the_opener_reads_the_model_printed_in_the_stdout_log_beside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("metrics.jsonl");
        std::fs::write(&path, "{\"step\": 1, \"loss\": 2}\n").expect("write");
        let net = "Net(\n  (fc): Linear(in_features=4, out_features=2, bias=True)\n)\n";
        std::fs::write(dir.path().join("stdout.log"), format!("hello\n{net}")).expect("write");
        let (tx, rx) = std::sync::mpsc::channel();
        let loader = Loader::new(MonitorOptions::default(), tx);
        let work = Work { preview: None, history: false, compact: false };
        loader.submit(0, plan(&path), work).expect("submit");
        loop {
            if let Event::Opened { info, .. } = rx.recv_timeout(Duration::from_secs(20)).expect("opened") {
                let m = info.model_beside.expect("the model beside");
                assert_eq!((m.root.kind.as_str(), m.source.line()), ("Net", 2));
                break;
            }
        }
    }

    #[test]
    fn a_released_plan_still_gives_its_preview_of_the_same_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run.jsonl");
        let lines: String = (0..2000).map(|i| format!("{{\"step\": {i}, \"loss\": 0.5}}\n")).collect();
        std::fs::write(&path, lines).expect("write");
        let (tx, rx) = std::sync::mpsc::channel();
        let loader = Loader::new(MonitorOptions::default(), tx);
        let opened = |file: usize| loop {
            match rx.recv_timeout(Duration::from_secs(20)).expect("the loader goes on") {
                Event::Opened { file: f, info } if f == file => return info,
                _ => {}
            }
        };
        let work = Work { preview: Some(4096), history: false, compact: true };
        // Past the first HELD_PLANS of a sweep: no descriptor held, yet its newest steps shown.
        let mut p = plan(&path);
        p.release();
        loader.submit(0, p, work).expect("submit");
        let preview = opened(0).preview.expect("a preview");
        let steps = preview.store.steps();
        assert!(preview.store.records() > 100, "{}", preview.store.records());
        assert_eq!(steps.get(preview.store.records() - 1), 1999.0, "the file's last step");
        // Replaced between the look and the preview: nothing of another file shown.
        let mut p = plan(&path);
        p.release();
        std::fs::rename(&path, dir.path().join("run.jsonl.1")).expect("mv");
        std::fs::write(&path, "{\"step\": 9}\n".repeat(1000)).expect("a new file");
        loader.submit(1, p, work).expect("submit");
        assert!(opened(1).preview.is_none());
    }

    #[test]
    fn a_released_plan_reads_its_history_by_opening_the_same_file_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run.jsonl");
        std::fs::write(&path, "{\"step\": 1, \"loss\": 2}\n{\"step\": 2, \"loss\": 1}\n").expect("write");
        let (tx, rx) = std::sync::mpsc::channel();
        let loader = Loader::new(MonitorOptions::default(), tx);
        let loaded = |file: usize| loop {
            match rx.recv_timeout(Duration::from_secs(20)).expect("the loader goes on") {
                Event::Loaded { file: f, history, .. } if f == file => return history,
                _ => {}
            }
        };
        let mut p = plan(&path);
        p.release();
        assert!(p.file.is_none(), "no descriptor held while waiting");
        loader.submit(0, p, Work { preview: None, history: true, compact: false }).expect("submit");
        let h = loaded(0);
        assert_eq!((h.run.store.records(), h.error.clone()), (2, None));
        // Replaced between the look and the history's turn: said, and nothing of another file read.
        let mut p = plan(&path);
        p.release();
        // Rotated away (kept, so the new file cannot get its inode back).
        std::fs::rename(&path, dir.path().join("run.jsonl.1")).expect("mv");
        std::fs::write(&path, "{\"step\": 9}\n").expect("a new file");
        loader.submit(1, p, Work { preview: None, history: true, compact: false }).expect("submit");
        let h = loaded(1);
        assert_eq!(h.run.store.records(), 0);
        assert!(h.error.as_deref().is_some_and(|e| e.contains("replaced")), "{:?}", h.error);
    }

    #[test]
    fn a_file_replaced_after_the_look_still_gives_the_history_of_the_file_looked_at() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run.jsonl");
        std::fs::write(&path, "{\"step\": 1, \"loss\": 2}\n{\"step\": 2, \"loss\": 1}\n").expect("write");
        let p = plan(&path);
        let r = p.resume().expect("resume");
        std::fs::remove_file(&path).expect("rm");
        std::fs::write(&path, "{\"step\": 9}\n").expect("a new file");
        let (_, handle) = open(p, None, &MonitorOptions::default());
        let h = load(
            handle.expect("handle"),
            &path,
            &r,
            &MonitorOptions::default(),
            (false, Threads::Auto),
            &mut |_| true,
        );
        assert_eq!(h.run.store.records(), 2, "the file looked at, through its handle");
        let now = std::fs::metadata(&path).expect("meta");
        assert_ne!(crate::source::FileId::of(&now), r.id, "the source will see another file and restart");
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;
    use crate::formats::tfevents::{Event as TfEvent, Summary, Value};
    use crate::formats::tfrecord;
    use crate::run::live::{LiveFile, LiveSet};
    use crate::source::{SourceEvent, Sources};
    use prost::Message;
    use std::io::Write;
    use std::sync::mpsc;

    fn scalars(steps: std::ops::Range<i64>, header: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if header {
            let ev = TfEvent {
                wall_time: 1.7e9,
                file_version: Some("brain.Event:2".into()),
                ..Default::default()
            };
            tfrecord::encode(&ev.encode_to_vec(), &mut out);
        }
        for s in steps {
            for (tag, x) in [("train/loss", 2.0 / (1.0 + s as f32)), ("train/lr", 0.01)] {
                let value = Value { tag: tag.into(), simple_value: Some(x), ..Default::default() };
                let ev = TfEvent {
                    wall_time: 1.7e9 + s as f64,
                    step: s,
                    summary: Some(Summary { value: vec![value] }),
                    ..Default::default()
                };
                tfrecord::encode(&ev.encode_to_vec(), &mut out);
            }
        }
        out
    }

    /// A TensorBoard folder of two event files: the loader reads both (decoded on its thread), the
    /// source starts after each file's end and sends nothing of the history, and the decoder
    /// handed over goes on with what is appended (a torn record included): the run is what `tmon
    /// check` reads of the folder at the end.
    #[test]
    fn an_event_file_run_is_decoded_by_the_loader_and_followed_from_its_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("events.out.tfevents.1700000000.host.1");
        let b = dir.path().join("events.out.tfevents.1700000100.host.2");
        std::fs::write(&a, scalars(0..3000, true)).expect("write");
        let mut second = scalars(3000..6000, true);
        // A torn last record: the writer is in the middle of it.
        let more = scalars(6000..6010, false);
        let cut = 7;
        second.extend_from_slice(&more[..cut]);
        std::fs::write(&b, &second).expect("write");

        let mut lead = plan(&a);
        assert_eq!(lead.format(), Some(Kind::TfEvents));
        assert!(lead.own_history());
        let mut member = plan(&b);
        lead.add_part(1, &mut member);
        assert!(!member.own_history(), "read with the run's first file");
        let ends = [lead.resume().expect("a resume point"), member.resume().expect("a resume point")];
        assert_eq!(ends[1].offset, second.len() as u64, "up to the size at the look");

        // Written after the look: the source's.
        let mut f = std::fs::OpenOptions::new().append(true).open(&b).expect("open");
        f.write_all(&more[cut..]).expect("append");
        drop(f);

        let (tx, rx) = mpsc::channel();
        let loader = Loader::new(MonitorOptions::default(), tx);
        let work = Work { preview: Some(TAIL_BYTES), history: true, compact: false };
        loader.submit(0, lead, work).expect("submit");
        let history = loop {
            match rx.recv_timeout(Duration::from_secs(30)).expect("the loader reports") {
                Event::Loaded { file, history, .. } => {
                    assert_eq!(file, 0);
                    break history;
                }
                Event::Opened { info, .. } => assert!(info.preview.is_none(), "no preview of a binary file"),
                _ => {}
            }
        };
        assert!(history.error.is_none(), "{:?}", history.error);
        assert!(history.decoder.is_some(), "the decoder is handed over");
        assert_eq!(history.run.store.records(), 6000, "both files, up to the look");

        // The source, resumed where the histories end, as the monitor's starter sets it.
        let mut opts = crate::run::live::source_options(None);
        opts.resume = vec![(a.clone(), ends[0]), (b.clone(), ends[1])];
        let mut sources = Sources::new(&[a.clone(), b.clone()], opts);
        let mut events = Vec::new();
        for _ in 0..3 {
            sources.poll(Instant::now(), &mut events);
            std::thread::sleep(Duration::from_millis(20));
        }
        let bytes: Vec<(usize, u64, usize)> = events
            .iter()
            .filter_map(|e| match e {
                SourceEvent::Bytes { file, offset, bytes } => Some((*file, *offset, bytes.len())),
                _ => None,
            })
            .collect();
        assert_eq!(bytes, vec![(1, ends[1].offset, more.len() - cut)], "only what follows the history");

        let t0 = Instant::now();
        let new = |p: &Path| LiveFile::new(Run::new(p, Default::default(), Default::default()));
        let mut set: LiveSet<LiveFile> = LiveSet::default();
        set.apply(SourceEvent::Found { file: 0, path: a.clone() }, t0, new);
        set.apply(SourceEvent::Found { file: 1, path: b.clone() }, t0, new);
        set[0].await_history();
        for ev in events {
            set.apply(ev, t0, new);
        }
        for ev in set[0].take_history(*history, t0) {
            set.apply(ev, t0, new);
        }
        set.settle(t0);
        let want = crate::formats::load(dir.path(), &Default::default(), &Default::default())
            .expect("a format")
            .expect("check reads it");
        let run = &set[0].run;
        assert_eq!(run.store.skipped.count, 0, "{:?}", run.store.skipped.kept);
        assert_eq!(run.store.records(), want[0].store.records());
        assert_eq!(run.store.records(), 6010);
        assert_eq!(run.store.last_record().map(|r| r.step), Some(6009.0));
    }
}
