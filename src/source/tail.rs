//! The incremental reader of one file: [`Tailer`].
//!
//! It keeps the file open with a read offset and reads only appended bytes, in large blocks. A
//! file's life is a series of *incarnations* (an open file identified by device and inode); the
//! tailer notices when the path stops naming the file it has open:
//!
//! - truncation (the file is shorter than the offset): the old partial line is flushed, then
//!   `Restarted { reason: "truncated" }` and reading starts over at byte 0, line 1;
//! - replacement (another inode at the path: `mv`, rotation, a rerun recreating the file): the old
//!   file's remaining bytes are drained through the still-open handle, then `Restarted
//!   { reason: "replaced" }` and the new file is read from its start;
//! - deletion: what was read is kept, `State(Gone)`; when a file comes back it is a restart
//!   (`"recreated"`);
//! - a path that does not exist yet: `State(Waiting)` until it appears (no restart then).
//!
//! An incomplete last line is held until its newline arrives. A final line with no newline is
//! taken once the file has not grown for [`TailOptions::settle`] *and* the line is a complete JSON
//! object (balanced brackets): a trainer whose buffered writer flushed half a line is not cut. A
//! line taken that way and later followed by its `\n` is not taken twice. A line longer than
//! [`TailOptions::max_line`] (256 MiB) is replaced by a one-line note, so memory stays bounded.
//!
//! Whole-file JSON (see [`super::layout`]) is re-read in full whenever its size, mtime or inode
//! changes, and sent as a `Document` once it is complete (not mid-rewrite) and different from the
//! last one sent. A replaced document is not a restart: atomic rewrites are how checkpoints save.
//!
//! The tailer only reads: it never writes to, locks or truncates the files it watches.

use super::layout::{complete_json, detect, Layout};
use super::{FileState, SourceEvent};
use std::fs::{self, File, Metadata};
use std::hash::{Hash, Hasher};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Tuning of a [`Tailer`].
#[derive(Clone, Debug)]
pub struct TailOptions {
    /// How long a file must stay the same size before a final line with no newline is taken.
    pub settle: Duration,
    /// Bytes asked of each `read` call.
    pub block: usize,
    /// Bytes read per poll at most, so a huge existing file streams out in bounded events.
    pub budget: usize,
    /// A line longer than this is not kept in memory: it is replaced by a short note (which the
    /// ingest counts as a skipped line) and its bytes are dropped up to its newline.
    pub max_line: usize,
}

impl Default for TailOptions {
    fn default() -> Self {
        TailOptions {
            settle: Duration::from_secs(1),
            block: 256 * 1024,
            budget: 8 * 1024 * 1024,
            max_line: 256 * 1024 * 1024,
        }
    }
}

/// Identifies a file (not a path): device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity of an open file or of what a path names now.
    pub fn of(m: &Metadata) -> Self {
        file_id(m)
    }
}

/// Where another reader left off: the JSON Lines history of file `id` up to byte `offset` (the
/// end of a complete line) was read by someone else (the monitor's loader reads it in blocks on
/// two threads, faster than a tailer streams it). The tailer starts there, numbering lines from
/// 1 again; if the path names another file by then, or a shorter one, it is a restart from the
/// start as usual.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resume {
    pub id: FileId,
    pub offset: u64,
}

#[cfg(unix)]
fn file_id(m: &Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    FileId { dev: m.dev(), ino: m.ino() }
}

#[cfg(not(unix))]
fn file_id(m: &Metadata) -> FileId {
    // Without inodes, a new creation time stands for a new file.
    let t = m.created().ok().and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
    FileId { dev: 0, ino: t.map_or(0, |d| d.as_nanos() as u64) }
}

/// What identifies one version of a whole-file document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DocSig {
    len: u64,
    mtime: Option<SystemTime>,
    id: FileId,
}

/// The file currently open at the path.
#[derive(Debug)]
struct Incarnation {
    file: File,
    id: FileId,
    offset: u64,
}

/// Follows one path. Synchronous: [`Tailer::poll`] does one round of checks and reads and returns
/// what happened; the watcher thread (or a test) decides when to call it.
#[derive(Debug)]
pub struct Tailer {
    index: usize,
    path: PathBuf,
    name: Option<String>,
    opts: TailOptions,
    cur: Option<Incarnation>,
    state: Option<FileState>,
    layout: Option<Layout>,
    /// Bytes read but not sent: the incomplete last line (or the head of an undecided file).
    pending: Vec<u8>,
    next_line: u64,
    /// A final line with no newline was sent; a `\n` arriving next belongs to it.
    partial_sent: bool,
    /// Inside an over-long line: drop bytes up to its newline.
    skipping: bool,
    last_growth: Option<Instant>,
    opened_before: bool,
    doc_sig: Option<DocSig>,
    doc_hash: Option<u64>,
    buf: Vec<u8>,
    resume: Option<Resume>,
}

impl Tailer {
    /// A tailer for `path`, reported as file number `index` in its events. Nothing is read until
    /// the first poll.
    pub fn new(index: usize, path: impl Into<PathBuf>, opts: TailOptions) -> Self {
        let path = path.into();
        let name = path.file_name().and_then(|n| n.to_str()).map(str::to_owned);
        Tailer {
            index,
            path,
            name,
            opts,
            cur: None,
            state: None,
            layout: None,
            pending: Vec::new(),
            next_line: 1,
            partial_sent: false,
            skipping: false,
            last_growth: None,
            opened_before: false,
            doc_sig: None,
            doc_hash: None,
            buf: Vec::new(),
            resume: None,
        }
    }

    /// Starts after a history read by someone else (see [`Resume`]); call before the first poll.
    pub fn resume_at(&mut self, resume: Resume) {
        self.resume = Some(resume);
    }

    pub fn index(&self) -> usize {
        self.index
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The state last reported (`None` before the first poll).
    pub fn state(&self) -> Option<FileState> {
        self.state
    }
    /// The layout of the current file, once decided.
    pub fn layout(&self) -> Option<Layout> {
        self.layout
    }

    /// Polls until everything available now has been read (tests and one-shot reads).
    pub fn poll_once(&mut self) -> Vec<SourceEvent> {
        self.poll_at(Instant::now())
    }

    /// Like [`Tailer::poll_once`], with the clock given (for the settle time).
    pub fn poll_at(&mut self, now: Instant) -> Vec<SourceEvent> {
        let mut out = Vec::new();
        while self.poll(now, &mut out) {}
        out
    }

    /// One round: checks the path, reads at most [`TailOptions::budget`] bytes, and appends the
    /// events to `out`. Returns true when more bytes are waiting (call again soon).
    pub fn poll(&mut self, now: Instant, out: &mut Vec<SourceEvent>) -> bool {
        let meta = match fs::metadata(&self.path) {
            Ok(m) if m.is_file() => m,
            // Missing, or not a regular file (a FIFO would block a reader): nothing to read.
            _ => {
                self.lost(out);
                return false;
            }
        };
        let id = file_id(&meta);
        if self.cur.as_ref().is_some_and(|c| c.id != id) {
            let was_document = self.layout == Some(Layout::Document);
            self.end_incarnation(out);
            if !self.open(out, (!was_document).then_some("replaced")) {
                return false;
            }
        } else if self.cur.is_none() {
            let reason = (self.layout != Some(Layout::Document)).then_some("recreated");
            if !self.open(out, reason) {
                return false;
            }
        }
        let Some(cur) = self.cur.as_mut() else { return false };
        if meta.len() < cur.offset && self.layout != Some(Layout::Document) {
            self.flush_partial(out);
            self.begin_over(out, "truncated");
        }
        if self.layout == Some(Layout::Document) {
            self.read_document(&meta, out);
            return false;
        }
        let (read, more) = self.read_appended(self.opts.budget);
        if read > 0 {
            self.last_growth = Some(now);
            // A lone `\r` may be the first half of the taken line's CRLF: wait for the rest.
            if self.partial_sent && self.pending != b"\r" {
                self.partial_sent = false;
                let skip = if self.pending.starts_with(b"\r\n") {
                    2
                } else {
                    usize::from(self.pending.starts_with(b"\n"))
                };
                self.pending.drain(..skip);
            }
        }
        let settled = self.last_growth.is_none_or(|t| now.saturating_duration_since(t) >= self.opts.settle);
        if self.layout.is_none() {
            self.layout = detect(self.name.as_deref(), &self.pending, settled && !more);
            if self.layout == Some(Layout::Document) {
                self.pending.clear();
                self.read_document(&meta, out);
                return false;
            }
        }
        if self.layout == Some(Layout::Lines) {
            self.emit_lines(out);
            if read == 0 && settled && complete_json(&self.pending) {
                self.flush_partial(out);
                self.partial_sent = true;
            }
        }
        more
    }

    fn set_state(&mut self, state: FileState, out: &mut Vec<SourceEvent>) {
        if self.state != Some(state) {
            self.state = Some(state);
            out.push(SourceEvent::State { file: self.index, state });
        }
    }

    /// The path names no readable file: the current one (if any) was deleted or renamed away.
    fn lost(&mut self, out: &mut Vec<SourceEvent>) {
        if self.cur.is_some() {
            self.end_incarnation(out);
            self.set_state(FileState::Gone, out);
        } else if self.state.is_none() {
            self.set_state(FileState::Waiting, out);
        }
    }

    /// Opens the file at the path. `reason` is the restart to report if a file was read before.
    fn open(&mut self, out: &mut Vec<SourceEvent>, reason: Option<&str>) -> bool {
        let Ok(file) = File::open(&self.path) else { return false };
        // Identify what was opened, not what was stat'ed: the path may have changed in between.
        let Ok(meta) = file.metadata() else { return false };
        self.cur = Some(Incarnation { file, id: file_id(&meta), offset: 0 });
        self.set_state(FileState::Live, out);
        if let Some(r) = self.resume.take() {
            // The history was read elsewhere: only what follows it is news.
            self.opened_before = true;
            let seeked = r.id == file_id(&meta)
                && self.cur.as_mut().is_some_and(|cur| {
                    // A file shorter than the history keeps the offset past its end, and the size
                    // check in `poll` reports the truncation.
                    let ok = meta.len() < r.offset || cur.file.seek(SeekFrom::Start(r.offset)).is_ok();
                    if ok {
                        cur.offset = r.offset;
                    }
                    ok
                });
            if seeked {
                self.layout = Some(Layout::Lines);
            } else {
                self.begin_over(out, "replaced");
            }
            return true;
        }
        if self.opened_before {
            match reason {
                Some(r) => self.begin_over(out, r),
                None => self.reset_reading(),
            }
        }
        self.opened_before = true;
        true
    }

    fn reset_reading(&mut self) {
        self.layout = None;
        self.pending.clear();
        self.next_line = 1;
        self.partial_sent = false;
        self.skipping = false;
        self.last_growth = None;
        self.doc_sig = None;
    }

    /// Starts the current file over from byte 0 and reports a restart.
    fn begin_over(&mut self, out: &mut Vec<SourceEvent>, reason: &str) {
        if let Some(cur) = self.cur.as_mut() {
            if cur.file.seek(SeekFrom::Start(0)).is_ok() {
                cur.offset = 0;
            }
        }
        self.reset_reading();
        self.doc_hash = None;
        out.push(SourceEvent::Restarted { file: self.index, reason: reason.to_owned() });
    }

    /// The current file is over (replaced, deleted): read what it still holds, then let it go.
    fn end_incarnation(&mut self, out: &mut Vec<SourceEvent>) {
        if self.layout != Some(Layout::Document) {
            let _ = self.read_appended(usize::MAX);
            if self.layout.is_none() {
                self.layout = detect(self.name.as_deref(), &self.pending, true);
            }
            if self.layout == Some(Layout::Lines) {
                self.emit_lines(out);
                self.flush_partial(out);
            }
        }
        self.cur = None;
    }

    /// Reads appended bytes into `pending`, up to `budget`. Returns (bytes read, more waiting).
    fn read_appended(&mut self, budget: usize) -> (usize, bool) {
        let Some(cur) = self.cur.as_mut() else { return (0, false) };
        // One zeroed block, reused: reading straight into `pending` would zero a block per call.
        if self.buf.is_empty() {
            self.buf = vec![0; self.opts.block.max(4096)];
        }
        let mut total = 0usize;
        loop {
            if total >= budget {
                return (total, true);
            }
            let n = match cur.file.read(&mut self.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return (total, false),
            };
            if n == 0 {
                return (total, false);
            }
            self.pending.extend_from_slice(&self.buf[..n]);
            cur.offset += n as u64;
            total += n;
        }
    }

    /// Sends the complete lines held in `pending`, keeping the incomplete last one.
    fn emit_lines(&mut self, out: &mut Vec<SourceEvent>) {
        if self.skipping {
            match memchr::memchr(b'\n', &self.pending) {
                Some(nl) => {
                    self.pending.drain(..=nl);
                    self.skipping = false;
                }
                None => self.pending.clear(),
            }
        }
        self.emit_complete_lines(out);
        if self.pending.len() > self.opts.max_line {
            let note = format!("<a line longer than {} bytes: not read>", self.opts.max_line);
            out.push(SourceEvent::Lines { file: self.index, first_line: self.next_line, bytes: note.into() });
            self.next_line += 1;
            self.pending.clear();
            self.skipping = true;
        }
    }

    fn emit_complete_lines(&mut self, out: &mut Vec<SourceEvent>) {
        let Some(last_nl) = memchr::memrchr(b'\n', &self.pending) else { return };
        let rest = self.pending.split_off(last_nl + 1);
        let bytes = std::mem::replace(&mut self.pending, rest);
        let n = memchr::memchr_iter(b'\n', &bytes).count() as u64;
        out.push(SourceEvent::Lines { file: self.index, first_line: self.next_line, bytes });
        self.next_line += n;
    }

    /// Sends the held final line (no newline) as a line of its own.
    fn flush_partial(&mut self, out: &mut Vec<SourceEvent>) {
        if self.pending.is_empty() || self.layout == Some(Layout::Document) {
            return;
        }
        let bytes = std::mem::take(&mut self.pending);
        out.push(SourceEvent::Lines { file: self.index, first_line: self.next_line, bytes });
        self.next_line += 1;
    }

    fn read_document(&mut self, meta: &Metadata, out: &mut Vec<SourceEvent>) {
        let Some(cur) = self.cur.as_mut() else { return };
        let sig = DocSig { len: meta.len(), mtime: meta.modified().ok(), id: cur.id };
        if self.doc_sig == Some(sig) {
            return;
        }
        // Set even when the read below finds a half-written file: the writer finishing changes
        // the signature again, and an unchanged broken file is not re-read every poll.
        self.doc_sig = Some(sig);
        let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
        if cur.file.seek(SeekFrom::Start(0)).is_err() || cur.file.read_to_end(&mut bytes).is_err() {
            return;
        }
        cur.offset = bytes.len() as u64;
        if !complete_json(&bytes) {
            return;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        let h = h.finish();
        if self.doc_hash == Some(h) {
            return;
        }
        self.doc_hash = Some(h);
        out.push(SourceEvent::Document { file: self.index, bytes });
    }
}
