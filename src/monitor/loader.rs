//! A minimal file source for the monitor: shows the end of a big file at once, loads the whole
//! history in the background (with progress), then tails the file for new lines, truncation,
//! replacement and deletion by polling.
// TODO(lead): replace with source::spawn (notify watcher, robust tailing) once it lands; the
// loop only needs the Preview/Progress/Loaded events from here.

use super::MonitorOptions;
use crate::event::Event;
use crate::run::Run;
use crate::source::{FileState, SourceEvent};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant, SystemTime};

/// The end of the file read first, so the newest data is on screen at once.
const TAIL_BYTES: u64 = 1 << 20;
const CHUNK: usize = 4 << 20;
const POLL: Duration = Duration::from_millis(200);
const IDLE_POLL: Duration = Duration::from_secs(1);
const QUIET_POLL_AFTER: Duration = Duration::from_secs(5);
/// A last line without a newline is taken once the file has not grown for this long.
const PARTIAL_AFTER: Duration = Duration::from_secs(1);

pub fn spawn(file: usize, path: PathBuf, opts: MonitorOptions, tx: Sender<Event>) -> std::io::Result<()> {
    std::thread::Builder::new().name(format!("tmon-load-{file}")).spawn(move || {
        // An error here means the loop is gone (the receiver was dropped): just stop.
        let _ = Loader { file, path, opts, tx }.run();
    })?;
    Ok(())
}

/// The loop hung up.
struct Closed;

struct Loader {
    file: usize,
    path: PathBuf,
    opts: MonitorOptions,
    tx: Sender<Event>,
}

/// Where reading stands: byte offset, an incomplete last line, the next line's number.
#[derive(Default)]
struct Tail {
    offset: u64,
    partial: Vec<u8>,
    next_line: u64,
}

impl Tail {
    fn new() -> Self {
        Tail { next_line: 1, ..Default::default() }
    }
    /// Takes `chunk`; returns the complete lines it finished (ending in `\n`) and the first's number.
    fn feed(&mut self, chunk: &[u8]) -> Option<(u64, Vec<u8>)> {
        self.offset += chunk.len() as u64;
        let Some(p) = memchr::memrchr(b'\n', chunk) else {
            self.partial.extend_from_slice(chunk);
            return None;
        };
        let mut out = std::mem::take(&mut self.partial);
        out.extend_from_slice(&chunk[..=p]);
        self.partial.extend_from_slice(&chunk[p + 1..]);
        let first = self.next_line;
        self.next_line += memchr::memchr_iter(b'\n', &out).count() as u64;
        Some((first, out))
    }
    /// The incomplete last line, as a finished line.
    fn flush(&mut self) -> Option<(u64, Vec<u8>)> {
        if self.partial.is_empty() {
            return None;
        }
        let mut out = std::mem::take(&mut self.partial);
        out.push(b'\n');
        let first = self.next_line;
        self.next_line += 1;
        Some((first, out))
    }
}

fn push_lines(run: &mut Run, first: u64, bytes: &[u8]) {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        run.push_line(first + i as u64, line.strip_suffix(b"\r").unwrap_or(line));
    }
}

fn idle_since(m: &std::fs::Metadata) -> Option<Duration> {
    SystemTime::now().duration_since(m.modified().ok()?).ok()
}

#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(m)
}
#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> u64 {
    0
}

impl Loader {
    fn send(&self, ev: Event) -> Result<(), Closed> {
        self.tx.send(ev).map_err(|_| Closed)
    }
    fn source(&self, ev: SourceEvent) -> Result<(), Closed> {
        self.send(Event::Source(ev))
    }
    fn new_run(&self) -> Run {
        Run::new(&self.path, self.opts.ingest.clone(), self.opts.flags.clone())
    }

    fn open_when_present(&self) -> Result<File, Closed> {
        let mut told = false;
        loop {
            match File::open(&self.path) {
                Ok(f) => return Ok(f),
                Err(_) if !told => {
                    self.source(SourceEvent::State { file: self.file, state: FileState::Waiting })?;
                    told = true;
                }
                Err(_) => {}
            }
            std::thread::sleep(POLL);
        }
    }

    fn run(self) -> Result<(), Closed> {
        let f = self.open_when_present()?;
        if is_document(&self.path) {
            return self.run_document(f);
        }
        let (mut f, mut tail) = self.load(f)?;
        let mut ino = f.metadata().map(|m| identity(&m)).unwrap_or(0);
        let mut last_growth = Instant::now();
        let mut gone = false;
        loop {
            // Quick while the file grows, once a second when it is quiet: an idle monitor sleeps.
            std::thread::sleep(if last_growth.elapsed() < QUIET_POLL_AFTER { POLL } else { IDLE_POLL });
            let meta = match std::fs::metadata(&self.path) {
                Ok(m) => m,
                Err(_) => {
                    if !gone {
                        self.source(SourceEvent::State { file: self.file, state: FileState::Gone })?;
                        gone = true;
                    }
                    continue;
                }
            };
            let replaced = identity(&meta) != ino;
            if gone || replaced || meta.len() < tail.offset {
                let reason =
                    if meta.len() < tail.offset && !replaced { "file truncated" } else { "file replaced" };
                let Ok(nf) = File::open(&self.path) else { continue };
                f = nf;
                ino = identity(&meta);
                tail = Tail::new();
                gone = false;
                self.source(SourceEvent::Restarted { file: self.file, reason: reason.into() })?;
                self.source(SourceEvent::State { file: self.file, state: FileState::Live })?;
            }
            if meta.len() > tail.offset {
                last_growth = Instant::now();
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let n = match f.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if let Some((first_line, bytes)) = tail.feed(&buf[..n]) {
                        self.source(SourceEvent::Lines { file: self.file, first_line, bytes })?;
                    }
                }
            } else if last_growth.elapsed() >= PARTIAL_AFTER {
                if let Some((first_line, bytes)) = tail.flush() {
                    self.source(SourceEvent::Lines { file: self.file, first_line, bytes })?;
                }
            }
        }
    }

    /// Preview of the end, then the whole file with progress; hands the finished run over.
    fn load(&self, mut f: File) -> Result<(File, Tail), Closed> {
        let meta = f.metadata().ok();
        let size = meta.as_ref().map_or(0, |m| m.len());
        let idle = meta.as_ref().and_then(idle_since);
        if size > TAIL_BYTES && f.seek(SeekFrom::Start(size - TAIL_BYTES)).is_ok() {
            let mut end = Vec::with_capacity(TAIL_BYTES as usize);
            if (&mut f).take(TAIL_BYTES).read_to_end(&mut end).is_ok() {
                let start = memchr::memchr(b'\n', &end).map_or(end.len(), |p| p + 1);
                let mut run = self.new_run();
                push_lines(&mut run, 1, &end[start..]);
                self.send(Event::Preview { file: self.file, run: Box::new(run) })?;
            }
        }
        let _ = f.seek(SeekFrom::Start(0));
        let mut run = self.new_run();
        let mut tail = Tail::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match f.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some((first, bytes)) = tail.feed(&buf[..n]) {
                push_lines(&mut run, first, &bytes);
            }
            self.send(Event::Progress { file: self.file, done: tail.offset, total: size.max(tail.offset) })?;
        }
        // A writer that has finished left its last line without a newline: take it now.
        if idle.is_some_and(|i| i >= PARTIAL_AFTER) {
            if let Some((first, bytes)) = tail.flush() {
                push_lines(&mut run, first, &bytes);
            }
        }
        self.send(Event::Loaded { file: self.file, run: Box::new(run), idle })?;
        Ok((f, tail))
    }

    /// A whole-file JSON document: re-read each time it changes.
    fn run_document(self, f: File) -> Result<(), Closed> {
        drop(f);
        let mut seen: Option<(u64, Option<SystemTime>)> = None;
        loop {
            if let Ok(meta) = std::fs::metadata(&self.path) {
                let stamp = (meta.len(), meta.modified().ok());
                if seen != Some(stamp) {
                    if let Ok(bytes) = std::fs::read(&self.path) {
                        if seen.is_none() {
                            let mut run = self.new_run();
                            run.push_document(&bytes);
                            self.send(Event::Loaded {
                                file: self.file,
                                run: Box::new(run),
                                idle: idle_since(&meta),
                            })?;
                        } else {
                            self.source(SourceEvent::Document { file: self.file, bytes })?;
                        }
                        seen = Some(stamp);
                    }
                }
            }
            std::thread::sleep(POLL);
        }
    }
}

/// `.json` files are whole documents (trainer_state.json, a JSON array); the rest is JSON Lines.
fn is_document(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_hands_out_whole_lines_and_numbers_them() {
        let mut t = Tail::new();
        assert_eq!(t.feed(b"{\"a\":1}\n{\"a\""), Some((1, b"{\"a\":1}\n".to_vec())));
        assert_eq!(t.feed(b":2}\n{\"a\":3}\n"), Some((2, b"{\"a\":2}\n{\"a\":3}\n".to_vec())));
        assert_eq!(t.feed(b"{\"a\":4}"), None);
        assert_eq!(t.flush(), Some((4, b"{\"a\":4}\n".to_vec())));
        assert_eq!(t.offset, 31);
    }
}
