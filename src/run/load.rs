//! Reading a whole file at once, the batch path of `tmon check`.
//!
//! A file in another format (TensorBoard events, CSV, a W&B run file, MLflow) is told by its
//! content and handed to its reader in [`crate::formats`]; what follows is about JSON.
//!
//! The layout is decided from the first block ([`format::is_document`]). A whole-file document is
//! read entirely and parsed as one (up to [`MAX_LINE`] bytes; a bigger array, or one still being
//! written with no closing bracket, is read element by element). JSON Lines are read in blocks of [`BLOCK`] bytes, never the
//! whole file (peak memory stays a few blocks, not the file's size); the last line is read even
//! without a final newline. With two cores or more, each block is cut into pieces of [`PIECE`]
//! lines. A helper thread parses pieces from the front; the main thread appends the pieces in
//! order, parsing itself the next piece when the helper has not reached it, and pieces from the
//! back while it waits for the helper. Neither thread idles while there is a piece to parse.
//! Records, skipped lines and their order are exactly those of feeding the lines one by one.

use super::Run;
use crate::analysis::FlagConfig;
use crate::error::Error;
use crate::formats;
use crate::ingest::{format, prepare_line, recycle, DocPush, IngestOptions};
use crate::parse::{parse_line, Field, LineError};
use crate::source::frame::{ArrayFramer, Framer, MAX_LINE};
use std::io::Read;
use std::path::Path;
use std::sync::{mpsc, Mutex};

/// How much of a file is read at a time.
pub const BLOCK: usize = 2 << 20;
/// Below this many lines a block is read on one thread (a thread costs more than it saves).
const PARALLEL_MIN_LINES: usize = 2048;

/// Lines per piece of a block: the unit the two threads claim.
const PIECE: usize = 256;

/// What the helper thread made of one line.
enum Parsed {
    Blank,
    Fields(usize, usize),
    Bad(LineError),
}

/// The fields of a piece's lines, and what each line was.
type Piece<'a> = (Vec<Field<'a>>, Vec<Parsed>);

/// Buffers kept from block to block.
struct Blocks {
    threads: bool,
    starts: Vec<usize>,
    /// Piece buffers, reused from piece to piece and block to block: fresh ones would be big
    /// enough to be mapped and unmapped by the allocator every time.
    pool: Vec<Piece<'static>>,
}

fn line_at<'a>(block: &'a [u8], starts: &[usize], i: usize) -> &'a [u8] {
    let end = starts.get(i + 1).map_or(block.len(), |&s| s) - 1;
    &block[starts[i]..end]
}

/// How many threads [`Run::load_file_with`] uses for JSON Lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Threads {
    /// Two when the machine has two cores or more. On a busy machine the main thread parses
    /// what the helper cannot get to, so two threads cost little even then.
    #[default]
    Auto,
    One,
    Two,
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
        match formats::load(path, &opts, &cfg) {
            Some(runs) => runs,
            None => Run::load_file_with(path, opts, cfg, threads).map(|r| vec![r]),
        }
    }

    /// Feeds a run of lines as the tailer hands them over (`SourceEvent::Lines`): lines separated
    /// by `\n`, numbered from `first_line`, the last one possibly without its newline. A big run
    /// (the history of a file being opened) is parsed on two threads as [`load_file`] does; the
    /// records are exactly those of feeding the lines one by one.
    ///
    /// [`load_file`]: Self::load_file
    pub fn push_lines(&mut self, first_line: u64, bytes: &[u8]) {
        let whole = memchr::memrchr(b'\n', bytes).map_or(0, |i| i + 1);
        let mut line_no = first_line.saturating_sub(1);
        if whole > 0 {
            let threads = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
            let mut blocks = Blocks { threads, starts: Vec::new(), pool: Vec::new() };
            self.push_block(&mut line_no, &bytes[..whole], &mut blocks);
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
        if let Some(runs) = formats::load(path, &opts, &cfg) {
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
        let two = match threads {
            Threads::Auto => std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2),
            Threads::One => false,
            Threads::Two => true,
        };
        let mut blocks = Blocks { threads: two, starts: Vec::new(), pool: Vec::new() };
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
    /// monitor was closed).
    pub fn load_lines(
        &mut self,
        reader: &mut impl Read,
        size: Option<u64>,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> (u64, std::io::Result<()>) {
        let two = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
        let mut blocks = Blocks { threads: two, starts: Vec::new(), pool: Vec::new() };
        let mut line_no = 0;
        let buf = Vec::with_capacity(BLOCK);
        let read = self.read_lines(reader, buf, size, &mut blocks, &mut line_no, progress);
        (line_no, read)
    }

    /// The JSON Lines loop: `buf` holds what was read already; the last line is taken even
    /// without a final newline. With the total `size` known, the store makes room for the records
    /// the first block predicts, so a big file's columns are allocated once instead of growing
    /// (and copying) many times, and hold no growth slack.
    fn read_lines(
        &mut self,
        reader: &mut impl Read,
        mut buf: Vec<u8>,
        mut size: Option<u64>,
        blocks: &mut Blocks,
        line_no: &mut u64,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> std::io::Result<()> {
        let mut read = buf.len() as u64;
        // The framing every reader shares: capped lines, runs of NUL bytes counted, not kept.
        let mut framer = Framer::default();
        framer.push(&buf);
        let mut spare = Vec::new();
        loop {
            if framer.has_lines() {
                let (lines, _) = framer.take_reusing(std::mem::take(&mut spare));
                self.push_block(line_no, &lines, blocks);
                spare = lines;
                if let Some(total) = size.take() {
                    self.reserve_for(read - framer.partial().len() as u64, total);
                }
            }
            if !progress(read) {
                return Ok(());
            }
            buf.clear();
            fill(reader, &mut buf, BLOCK)?;
            if buf.is_empty() {
                break;
            }
            read += buf.len() as u64;
            framer.push(&buf);
        }
        if let Some(last) = framer.finish_line() {
            *line_no += 1;
            self.push_line(*line_no, &last);
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

    /// Makes room in the store for the records of a `total`-byte file, `done` bytes of which gave
    /// the records it holds.
    fn reserve_for(&mut self, done: u64, total: u64) {
        let have = self.store.records() as u64;
        if done == 0 || have == 0 || total <= done {
            return;
        }
        // 2% over the estimate: a shortfall costs a reallocation of every column.
        let more = (have as u128 * (total - done) as u128 * 102 / (done as u128 * 100)) as usize;
        self.store.reserve(more);
    }

    /// Feeds `block`, whole lines ending with `\n`; `line_no` is the last line fed so far.
    fn push_block(&mut self, line_no: &mut u64, block: &[u8], b: &mut Blocks) {
        let mut starts = std::mem::take(&mut b.starts);
        starts.clear();
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', block).map(|i| i + 1));
        starts.pop();
        let n = starts.len();
        let base = *line_no;
        *line_no += n as u64;
        if !b.threads || n < PARALLEL_MIN_LINES {
            for i in 0..n {
                self.push_line(base + i as u64 + 1, line_at(block, &starts, i));
            }
            b.starts = starts;
            return;
        }
        let pieces = n.div_ceil(PIECE);
        let piece = |j: usize| j * PIECE..((j + 1) * PIECE).min(n);
        // Pieces not yet claimed: the helper takes them from the front, the main thread from the
        // back (while it waits) or at the front (when the helper is behind).
        let unclaimed = Mutex::new((0usize, pieces));
        let starts_ref = &starts;
        let pool =
            Mutex::new(std::mem::take(&mut b.pool).into_iter().map(|(f, o)| (recycle(f), o)).collect());
        let parse_piece = |j: usize| -> Piece<'_> {
            let spare = pool.lock().ok().and_then(|mut p: std::sync::MutexGuard<'_, Vec<Piece<'_>>>| p.pop());
            let (mut fields, mut outcomes) = spare.unwrap_or_default();
            fields.clear();
            outcomes.clear();
            let mut one: Vec<Field<'_>> = Vec::new();
            for i in piece(j) {
                outcomes.push(match prepare_line(line_at(block, starts_ref, i)) {
                    None => Parsed::Blank,
                    Some(line) => match parse_line(line, &mut one) {
                        Ok(()) => {
                            let a = fields.len();
                            fields.append(&mut one);
                            Parsed::Fields(a, fields.len())
                        }
                        Err(e) => Parsed::Bad(e),
                    },
                });
            }
            (fields, outcomes)
        };
        let (tx, rx) = mpsc::channel::<(usize, Piece<'_>)>();
        std::thread::scope(|s| {
            let (unclaimed, parse_piece) = (&unclaimed, &parse_piece);
            s.spawn(move || loop {
                let j = match unclaimed.lock() {
                    Ok(mut u) if u.0 < u.1 => {
                        u.0 += 1;
                        u.0 - 1
                    }
                    _ => break,
                };
                if tx.send((j, parse_piece(j))).is_err() {
                    break;
                }
            });
            let mut mine: Vec<Option<Piece<'_>>> = (0..pieces).map(|_| None).collect();
            for j in 0..pieces {
                let parsed = loop {
                    if let Some(p) = mine[j].take() {
                        break Some(p);
                    }
                    let (front, back) = match unclaimed.lock() {
                        Ok(mut u) if u.0 == j && u.0 < u.1 => {
                            u.0 += 1;
                            (true, None)
                        }
                        Ok(mut u) if u.0 < u.1 => {
                            u.1 -= 1;
                            (false, Some(u.1))
                        }
                        _ => (false, None),
                    };
                    if front {
                        // The helper is behind: this piece is parsed here, in passing.
                        break None;
                    }
                    // Piece j is the helper's; it sends its pieces in order.
                    match rx.try_recv() {
                        Ok((got, p)) => {
                            debug_assert_eq!(got, j);
                            if let Some(h) = back {
                                mine[h] = Some(parse_piece(h));
                            }
                            break Some(p);
                        }
                        Err(mpsc::TryRecvError::Empty) => match back {
                            Some(h) => mine[h] = Some(parse_piece(h)),
                            None => match rx.recv() {
                                Ok((got, p)) => {
                                    debug_assert_eq!(got, j);
                                    break Some(p);
                                }
                                // The helper panicked: the scope re-raises its panic.
                                Err(_) => return,
                            },
                        },
                        Err(mpsc::TryRecvError::Disconnected) => return,
                    }
                };
                match parsed {
                    None => {
                        for i in piece(j) {
                            self.push_line(base + i as u64 + 1, line_at(block, starts_ref, i));
                        }
                    }
                    Some(p) => {
                        self.push_piece(base, block, starts_ref, piece(j), &p);
                        if let Ok(mut pool) = pool.lock() {
                            pool.push(p);
                        }
                    }
                }
            }
        });
        b.pool = pool
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
    fn push_piece(
        &mut self,
        base: u64,
        block: &[u8],
        starts: &[usize],
        lines: std::ops::Range<usize>,
        (fields, outcomes): &Piece<'_>,
    ) {
        let analyzer = &mut self.analyzer;
        let on = &mut |st: &crate::store::Store, rec, f: &[(usize, f64)]| analyzer.observe(st, rec, f);
        for (i, o) in lines.zip(outcomes) {
            let no = base + i as u64 + 1;
            let line = || prepare_line(line_at(block, starts, i)).unwrap_or_default();
            match o {
                Parsed::Blank => {}
                Parsed::Fields(a, z) => {
                    self.ingest.push_parsed(&mut self.store, no, line(), Ok(&fields[*a..*z]), on)
                }
                Parsed::Bad(e) => self.ingest.push_parsed(&mut self.store, no, line(), Err(e), on),
            }
        }
    }
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

/// Whether `bytes` (an array that did not parse as a document) holds at least one complete element.
fn complete_elements(bytes: &[u8]) -> bool {
    let mut a = ArrayFramer::default();
    a.push(bytes);
    a.count() > 0
}
