//! Reading a whole file at once, the batch path of `tmon check`.
//!
//! The layout is decided from the first block ([`format::is_document`]). A whole-file document is
//! read entirely and parsed as one. JSON Lines are read in blocks of [`BLOCK`] bytes, never the
//! whole file (peak memory stays a few blocks, not the file's size); the last line is read even
//! without a final newline. With two cores or more, each block is shared: a helper thread parses
//! the block's tail, piece by piece, while the main thread parses and appends its head; then the
//! main thread appends the tail's pieces in order, parsing itself any piece the helper has not
//! started (so a helper starved by a busy machine never makes it wait long). Records, skipped
//! lines and their order are exactly those of feeding the lines one by one. On a busy machine
//! (load average above the core count minus a half) one thread is used: measured on this 2-core
//! machine under a load of 7, two threads were slower than one.

use super::Run;
use crate::analysis::FlagConfig;
use crate::error::Error;
use crate::ingest::{format, prepare_line, recycle, DocPush, IngestOptions};
use crate::parse::{parse_line, Field, LineError};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

/// How much of a file is read at a time.
pub const BLOCK: usize = 2 << 20;
/// Below this many lines a block is read on one thread (a thread costs more than it saves).
const PARALLEL_MIN_LINES: usize = 2048;

/// Lines per piece of a block's tail: the unit the helper and the main thread claim.
const PIECE: usize = 256;

/// What the helper thread made of one line.
enum Parsed {
    Blank,
    Fields(usize, usize),
    Bad(LineError),
}

/// Buffers and tuning kept from block to block.
struct Blocks {
    threads: bool,
    /// Share of a block's lines left to the helper.
    share: f64,
    starts: Vec<usize>,
    /// Piece buffers, reused from piece to piece and block to block: fresh ones would be big
    /// enough to be mapped and unmapped by the allocator every time.
    pool: Vec<(Vec<Field<'static>>, Vec<Parsed>)>,
}

/// Whether a second core is likely free: at least two cores, and (where the system says) a load
/// average below their number. On a busy machine the helper thread would wait for a core while
/// the main thread waits for it, and one thread is faster.
fn spare_core() -> bool {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()));
    cores >= 2 && load.is_none_or(|l| l < cores as f64 - 0.5)
}

fn line_at<'a>(block: &'a [u8], starts: &[usize], i: usize) -> &'a [u8] {
    let end = starts.get(i + 1).map_or(block.len(), |&s| s) - 1;
    &block[starts[i]..end]
}

/// How many threads [`Run::load_file_with`] uses for JSON Lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Threads {
    /// Two when a second core is likely free, else one.
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

    /// As [`load_file`](Self::load_file), choosing the threads (for tests and benchmarks).
    pub fn load_file_with(
        path: &Path,
        opts: IngestOptions,
        cfg: FlagConfig,
        threads: Threads,
    ) -> Result<Run, Error> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let not = |reason: &str| Error::Read { path: path.to_owned(), reason: reason.to_owned() };
        if meta.is_dir() {
            return Err(not("is a directory"));
        }
        if !meta.is_file() {
            // A FIFO or a device would block or never end.
            return Err(not("not a regular file"));
        }
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut run = Run::new(path, opts, cfg);
        let mut buf: Vec<u8> = Vec::with_capacity(BLOCK);
        fill(&mut file, &mut buf, BLOCK).map_err(|e| Error::io(path, e))?;
        let two = match threads {
            Threads::Auto => spare_core(),
            Threads::One => false,
            Threads::Two => true,
        };
        let mut blocks = Blocks { threads: two, share: 0.5, starts: Vec::new(), pool: Vec::new() };
        let mut line_no = 0u64;
        if format::is_document(&buf) {
            file.read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
            let analyzer = &mut run.analyzer;
            let out =
                run.ingest.try_document(&mut run.store, &buf, &mut |st, rec, f| analyzer.observe(st, rec, f));
            if out != DocPush::Invalid {
                return Ok(run);
            }
            run.ingest.reset();
            let complete = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
            run.push_block(&mut line_no, &buf[..complete], &mut blocks);
            buf.drain(..complete);
        } else {
            // Bytes before `fresh` hold no newline: a line longer than a block is scanned once.
            let mut fresh = 0;
            loop {
                if let Some(last) = memchr::memrchr(b'\n', &buf[fresh..]).map(|i| fresh + i) {
                    run.push_block(&mut line_no, &buf[..=last], &mut blocks);
                    buf.drain(..=last);
                }
                let want = buf.len() + BLOCK;
                let before = buf.len();
                fill(&mut file, &mut buf, want).map_err(|e| Error::io(path, e))?;
                if buf.len() == before {
                    break;
                }
                fresh = before;
            }
        }
        if !buf.is_empty() {
            run.push_line(line_no + 1, &buf);
        }
        Ok(run)
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
        let k = ((n as f64 * (1.0 - b.share)) as usize).clamp(1, n - 1);
        let pieces = (n - k).div_ceil(PIECE);
        let piece = |j: usize| k + j * PIECE..(k + (j + 1) * PIECE).min(n);
        let next = AtomicUsize::new(0);
        let starts_ref = &starts;
        let (tx, rx) = mpsc::channel::<(usize, Vec<Field<'_>>, Vec<Parsed>)>();
        let pool: Mutex<Vec<(Vec<Field<'_>>, Vec<Parsed>)>> =
            Mutex::new(std::mem::take(&mut b.pool).into_iter().map(|(f, o)| (recycle(f), o)).collect());
        let stolen = std::thread::scope(|s| {
            let (next, pool) = (&next, &pool);
            s.spawn(move || {
                let mut one: Vec<Field<'_>> = Vec::new();
                loop {
                    let j = next.fetch_add(1, Ordering::SeqCst);
                    if j >= pieces {
                        break;
                    }
                    let spare = pool.lock().ok().and_then(|mut p| p.pop());
                    let (mut fields, mut outcomes) = spare.unwrap_or_default();
                    fields.clear();
                    outcomes.clear();
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
                    if tx.send((j, fields, outcomes)).is_err() {
                        break;
                    }
                }
            });
            for i in 0..k {
                self.push_line(base + i as u64 + 1, line_at(block, starts_ref, i));
            }
            let mut stolen = 0usize;
            for j in 0..pieces {
                if next.compare_exchange(j, j + 1, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                    // The helper is behind: parse this piece here rather than wait for it.
                    stolen += 1;
                    for i in piece(j) {
                        self.push_line(base + i as u64 + 1, line_at(block, starts_ref, i));
                    }
                    continue;
                }
                // Piece j was claimed by the helper, which sends its pieces in order. A closed
                // channel means the helper panicked: the scope re-raises that panic.
                let Ok((got, fields, outcomes)) = rx.recv() else { break };
                debug_assert_eq!(got, j);
                let analyzer = &mut self.analyzer;
                let on =
                    &mut |st: &crate::store::Store, rec, f: &[(usize, f64)]| analyzer.observe(st, rec, f);
                for (i, o) in piece(j).zip(&outcomes) {
                    let no = base + i as u64 + 1;
                    let line = || prepare_line(line_at(block, starts_ref, i)).unwrap_or_default();
                    match o {
                        Parsed::Blank => {}
                        Parsed::Fields(a, z) => {
                            self.ingest.push_parsed(&mut self.store, no, line(), Ok(&fields[*a..*z]), on)
                        }
                        Parsed::Bad(e) => self.ingest.push_parsed(&mut self.store, no, line(), Err(e), on),
                    }
                }
                if let Ok(mut p) = pool.lock() {
                    p.push((fields, outcomes));
                }
            }
            stolen
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
        // The helper's share grows while it keeps ahead and shrinks when the main thread had to
        // take pieces from it (a busy machine), so neither thread waits long for the other.
        b.share =
            if stolen == 0 { b.share + 0.05 } else { b.share - 0.05 * stolen.min(4) as f64 }.clamp(0.1, 0.9);
        b.starts = starts;
    }
}

/// Reads into `buf` until it holds `want` bytes or the file ends.
fn fill(file: &mut std::fs::File, buf: &mut Vec<u8>, want: usize) -> std::io::Result<()> {
    while buf.len() < want {
        let n = file.by_ref().take((want - buf.len()) as u64).read_to_end(buf)?;
        if n == 0 {
            break;
        }
    }
    Ok(())
}
