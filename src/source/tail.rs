//! The incremental reader of one file: [`Tailer`].
//!
//! It reads only appended bytes, in large blocks, from a read offset. A file's life is a series of
//! *incarnations* (a file identified by device and inode); the tailer notices when the path stops
//! naming the file it reads:
//!
//! - truncation (the file is shorter than the offset): the old partial line is flushed, then
//!   `Restarted { reason: "truncated" }` and reading starts over at byte 0, line 1;
//! - rewriting in place (`open(path, "w")` and a new run written, the file shrinking and growing
//!   again between two looks, so its size alone says nothing): the tailer keeps the first bytes it
//!   read (up to [`HEAD`]) as the file's fingerprint and compares them on every change of size or
//!   modification time; when they differ, `Restarted { reason: "rewritten" }` and the new content
//!   is read from its start;
//! - replacement (another inode at the path: `mv`, rotation, a rerun recreating the file): the old
//!   file's remaining bytes are drained through the handle still open (if it is), then `Restarted
//!   { reason: "replaced" }` and the new file is read from its start;
//! - deletion: what was read is kept, `State(Gone)`; when a file comes back it is a restart
//!   (`"recreated"`);
//! - a path that does not exist yet: `State(Waiting)` until it appears (no restart then);
//! - a path that cannot be read (permission denied, a symlink loop, a FIFO, a device, too many
//!   open files): `Unreadable` with the reason, and the tailer tries again at the next poll.
//!
//! Files are opened with `O_NONBLOCK` and checked to be regular files once open, so a FIFO swapped
//! in under the path never blocks the reader. The handle may be closed between polls
//! ([`Tailer::close_handle`], when many files are followed and descriptors run short, see
//! [`super::Sources`]): the file is opened again when it changes, and a file found to be another
//! by then is a replacement whose unread end could not be drained.
//!
//! Each of those looks costs a stat of the path and a read of the head. A JSON Lines file that
//! notifications say was only written to (inotify's modify: no creation, rename, deletion or
//! change of attributes at its path, see [`super::watch`]) is read without one
//! ([`Tailer::poll_appended`]): one positional read from [`SEAM`] bytes before the offset, whose
//! first bytes must be the last ones read. What can happen to a file between two such reads:
//!
//! - appends: the seam is there, the bytes after it are read;
//! - a replacement or deletion: another inode at the path, or none, comes with a notification of
//!   its own (create, rename, delete) for the path, which gets a full look;
//! - a truncation, kept short: the read returns less than the seam, and a full look says
//!   "truncated";
//! - a rewrite in place that outgrew the old size (the one the size and modification time cannot
//!   tell from an append): the bytes before the offset are the rerun's, almost always not the
//!   ones read there, and a full look compares the head as before. A rerun that wrote the very
//!   same [`SEAM`] bytes at the very same place but another head (same lengths all along, a
//!   different first line) is read as an append until the next full look, at most [`LOOK_EVERY`]
//!   after the last (a read without a look is not taken past it), which says "rewritten" and reads
//!   the rerun from its start. A rerun whose bytes before the offset differ but whose head is the
//!   same is, as before, not a restart: the full look finds the head unchanged and reads on.
//!
//! So a followed file written 10 times a second costs one `pread` a write, and a stat and a head
//! compare once a second, instead of a stat, a head read and a read every write.
//!
//! Lines are framed by [`Framer`] (the framing every reader shares: at most
//! [`MAX_LINE`](super::frame::MAX_LINE) bytes a line, runs of NUL bytes counted, never buffered).
//! An incomplete last line is held until its newline arrives. A final line with no newline is
//! taken once the file has not grown for [`TailOptions::settle`] *and* the line is a complete JSON
//! object (balanced brackets): a trainer whose buffered writer flushed half a line is not cut. A
//! line taken that way and later followed by its `\n` is not taken twice.
//!
//! Whole-file JSON (see [`super::layout`]) is re-read in full whenever its size, mtime or inode
//! changes, and sent as a `Document` once it is complete (not mid-rewrite) and different from the
//! last one sent. A replaced document is not a restart: atomic rewrites are how checkpoints save.
//! A top-level array still being written (no closing bracket at the first look, as a logger that
//! appends `{...},\n` leaves it) is read incrementally instead ([`Layout::GrowingArray`]): each
//! element as it is completed, sent as a line numbered by its place in the array.
//!
//! A file the run layer's [`Classify`] says is not text ([`TailOptions::classify`]: binary event
//! files, CSV, databases) is not cut into lines: [`Framing::Bytes`] hands the bytes over as read
//! ([`SourceEvent::Bytes`], with their offset), truncation, rewriting and replacement reported as
//! for lines; [`Framing::Watch`] reads nothing and reports each change of the file's size or
//! modification time ([`SourceEvent::Changed`]). While the framing is undecided, one block is
//! read per poll.
//!
//! The tailer only reads: it never writes to, locks or truncates the files it watches.

use super::frame::{ArrayFramer, Framer, MAX_LINE};
use super::layout::{complete_json, detect, Layout};
use super::{FileState, SourceEvent};
use std::fs::{self, File, Metadata};
use std::hash::{Hash, Hasher};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Bytes of a file's start kept as its fingerprint (see the module's doc).
pub const HEAD: usize = 4096;

/// Bytes before the read offset compared on a read without a look (see the module's doc).
pub const SEAM: usize = 128;

/// The longest a followed file is read without a look (a stat and its head compared) while
/// notifications say only that it was written to (see the module's doc).
pub const LOOK_EVERY: Duration = Duration::from_secs(1);

/// Bytes held while the layout is undecided, at most: past this the file is read as lines.
const UNDECIDED_MAX: usize = 1 << 20;

/// How a file's bytes reach its reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Text: JSON Lines or a whole-file document, told apart by [`super::layout`].
    Text,
    /// Handed over as read, in [`SourceEvent::Bytes`] (binary logs, CSV).
    Bytes,
    /// Not read: each change is reported as [`SourceEvent::Changed`] (a database, whose pages are
    /// rewritten in place and which only its own library reads).
    Watch,
}

/// Decides a file's framing from its path and first bytes (possibly none yet); `None` while
/// there are too few bytes to tell. Given by the layer that knows the formats.
pub type Classify = fn(&Path, &[u8]) -> Option<Framing>;

/// Tuning of a [`Tailer`].
#[derive(Clone, Debug)]
pub struct TailOptions {
    /// How long a file must stay the same size before a final line with no newline is taken.
    pub settle: Duration,
    /// Bytes asked of each `read` call.
    pub block: usize,
    /// Bytes read per poll at most, so a huge existing file streams out in bounded events.
    pub budget: usize,
    /// A line longer than this is not kept in memory: it is replaced by a note (which the ingest
    /// counts as a skipped line) and its bytes are dropped up to its newline. Every reader uses
    /// [`MAX_LINE`](super::frame::MAX_LINE) (256 MiB); tests lower it.
    pub max_line: usize,
    /// Which files are not text (see [`Framing`]); `None`: every file is text.
    pub classify: Option<Classify>,
    /// Reads what is new in a watched file ([`Framing::Watch`]: a database); `None`: a watched
    /// file's changes are only reported.
    pub watch_read: Option<WatchRead>,
}

impl Default for TailOptions {
    fn default() -> Self {
        TailOptions {
            settle: Duration::from_secs(1),
            block: 256 * 1024,
            budget: 8 * 1024 * 1024,
            max_line: MAX_LINE,
            classify: None,
            watch_read: None,
        }
    }
}

/// Reads what is new in a watched file after a cursor (given by the layer that knows its format:
/// a database is read by its own library, never as bytes here). Called on the source's thread
/// when the file (or its write-ahead log, `<name>-wal`) changed, and again while it says more is
/// waiting. `Err`: why the file cannot be read now (it is tried again at its next change).
pub type WatchRead = fn(&Path, &mut WatchCursor) -> Result<WatchNews, String>;

/// Where the reading of a watched file stands: `at` is the reader's (a database's last row read),
/// `memo` whatever else it keeps between looks (a checksum of what it sent last). Both start at 0,
/// and again after a restart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WatchCursor {
    pub at: u64,
    pub memo: u64,
}

/// What a [`WatchRead`] found: the new bytes of each stream the file holds (a database holds one
/// per run), by a key that stays the same from look to look; and whether more is waiting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchNews {
    pub parts: Vec<(String, Vec<u8>)>,
    pub more: bool,
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

/// Opens `path` for reading without ever blocking (a FIFO put there would wait for a writer),
/// and says what it is once open.
pub fn open_for_reading(path: &Path) -> std::io::Result<(File, Metadata)> {
    let mut o = fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    // Reading a file written since it was last read updates its access time (`relatime`, the
    // usual mount option, does whenever the access time is older than the modification time):
    // for a followed log that is an inode write, journalled, at every append read. Without
    // it where the kernel allows (the file is ours); otherwise as usual.
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut quiet = o.clone();
        quiet.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_NOATIME);
        if let Ok(f) = quiet.open(path) {
            let m = f.metadata()?;
            return Ok((f, m));
        }
    }
    let f = o.open(path)?;
    let m = f.metadata()?;
    Ok((f, m))
}

/// Why a path that exists is not a file tmon can read, in a few words.
pub fn not_regular(m: &Metadata) -> String {
    let ft = m.file_type();
    let what = if ft.is_dir() {
        "a directory"
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if ft.is_fifo() {
                "a FIFO"
            } else if ft.is_socket() {
                "a socket"
            } else if ft.is_char_device() {
                "a character device"
            } else if ft.is_block_device() {
                "a block device"
            } else {
                "not a file"
            }
        }
        #[cfg(not(unix))]
        "not a file"
    };
    format!("not a regular file ({what}); tmon reads log files")
}

/// A short, lower-case reason for an I/O error (no "(os error N)").
pub fn io_reason(e: &std::io::Error) -> String {
    if is_out_of_descriptors(e) {
        return "too many open files (the limit of open files is reached; raise it with `ulimit -n`)"
            .to_owned();
    }
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return "too many levels of symbolic links (a symlink loop)".to_owned();
    }
    match e.kind() {
        ErrorKind::NotFound => "no such file or directory".to_owned(),
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => {
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_owned();
            let mut chars = text.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => "unknown error".to_owned(),
            }
        }
    }
}

/// The process (or the system) has no descriptor left.
pub fn is_out_of_descriptors(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// The path names nothing (yet): waiting, not an error.
fn is_missing(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ENOTDIR) {
        return true;
    }
    e.kind() == ErrorKind::NotFound
}

/// What identifies one version of a whole-file document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DocSig {
    len: u64,
    mtime: Option<SystemTime>,
    id: FileId,
}

/// The file currently read at the path.
#[derive(Debug)]
struct Incarnation {
    /// Closed between polls when descriptors run short (see [`Tailer::close_handle`]).
    file: Option<File>,
    id: FileId,
    offset: u64,
    /// The first bytes read (up to [`HEAD`]): the file's fingerprint.
    head: Vec<u8>,
    /// Size and modification time at the last look.
    seen: Option<(u64, Option<SystemTime>)>,
    /// The last bytes read (up to [`SEAM`]), which end at `offset`: compared on a read without a
    /// look (see [`Tailer::poll_appended`]).
    seam: Vec<u8>,
}

impl Incarnation {
    fn new(file: File, id: FileId) -> Self {
        Incarnation { file: Some(file), id, offset: 0, head: Vec::new(), seen: None, seam: Vec::new() }
    }

    /// Notes `data`, read at `offset`, as read: the offset moves past it, the head and the seam
    /// take what they keep of it.
    fn advance(&mut self, data: &[u8]) {
        if self.offset < HEAD as u64 {
            let take = data.len().min(HEAD - self.offset as usize);
            self.head.extend_from_slice(&data[..take]);
        }
        self.offset += data.len() as u64;
        if data.len() >= SEAM {
            self.seam.clear();
            self.seam.extend_from_slice(&data[data.len() - SEAM..]);
        } else {
            let over = (self.seam.len() + data.len()).saturating_sub(SEAM);
            self.seam.drain(..over);
            self.seam.extend_from_slice(data);
        }
    }
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
    /// Why the path cannot be read, while it cannot.
    problem: Option<String>,
    layout: Option<Layout>,
    /// Bytes read while the layout is undecided.
    pending: Vec<u8>,
    framer: Framer,
    array: Option<ArrayFramer>,
    /// Where the array's stream starts in the file (the growing array's byte 0).
    next_line: u64,
    /// A final line with no newline was sent; a `\n` arriving next belongs to it.
    partial_sent: bool,
    /// A lone `\r` read after such a line (maybe the first half of its CRLF).
    carry: Vec<u8>,
    last_growth: Option<Instant>,
    /// When bytes were last read or the file opened (the least recently active handles are the
    /// ones closed when descriptors run short).
    last_active: Option<Instant>,
    opened_before: bool,
    /// When the path was last looked at (a stat, and the head compared when the size or
    /// modification time moved): a read without a look is taken only within [`LOOK_EVERY`] of it.
    looked: Option<Instant>,
    /// The last open failed for want of a descriptor; how many opens in a row did.
    starved: bool,
    starved_streak: u8,
    doc_sig: Option<DocSig>,
    doc_hash: Option<u64>,
    buf: Vec<u8>,
    resume: Option<Resume>,
    /// Bytes read from a file read as bytes and not sent yet, and the offset of the first.
    raw: Vec<u8>,
    raw_at: u64,
    /// A watched file read by [`TailOptions::watch_read`]: where the reading stands, whether more
    /// is waiting, the news not taken yet ([`Tailer::take_parts`]: (key, cursor before, bytes)),
    /// its write-ahead log as last seen, and whether the last read failed.
    watch: WatchCursor,
    watch_more: bool,
    parts: Vec<(String, u64, Vec<u8>)>,
    wal_seen: Option<(u64, Option<SystemTime>)>,
    watch_failed: bool,
    /// A stream of another file ([`Tailer::part`]): never opened, fed by that file's reads.
    part: bool,
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
            framer: Framer::new(opts.max_line),
            opts,
            cur: None,
            state: None,
            problem: None,
            layout: None,
            pending: Vec::new(),
            array: None,
            next_line: 1,
            partial_sent: false,
            carry: Vec::new(),
            last_growth: None,
            last_active: None,
            looked: None,
            opened_before: false,
            starved: false,
            starved_streak: 0,
            doc_sig: None,
            doc_hash: None,
            buf: Vec::new(),
            resume: None,
            raw: Vec::new(),
            raw_at: 0,
            watch: WatchCursor::default(),
            watch_more: false,
            parts: Vec::new(),
            wal_seen: None,
            watch_failed: false,
            part: false,
        }
    }

    /// A stream of another (watched) file, reported as file number `index` under `path`: never
    /// opened or polled (see [`super::Sources`]).
    pub fn part(index: usize, path: impl Into<PathBuf>, opts: TailOptions) -> Self {
        let mut t = Tailer::new(index, path, opts);
        t.part = true;
        t
    }

    /// Whether this is a stream of another file ([`Tailer::part`]).
    pub fn is_part(&self) -> bool {
        self.part
    }

    /// The news of a watched file read by the last polls, as (key, cursor before, bytes), taken.
    pub fn take_parts(&mut self) -> Vec<(String, u64, Vec<u8>)> {
        std::mem::take(&mut self.parts)
    }

    /// Reads what is new in a watched file (see [`WatchRead`]); true when more is waiting.
    fn read_watched(&mut self, out: &mut Vec<SourceEvent>) -> bool {
        let Some(read) = self.opts.watch_read else { return false };
        let before = self.watch.at;
        match read(&self.path, &mut self.watch) {
            Ok(news) => {
                if self.watch_failed {
                    self.watch_failed = false;
                    self.set_state(FileState::Live, out);
                }
                self.parts.extend(news.parts.into_iter().map(|(k, b)| (k, before, b)));
                self.watch_more = news.more;
                news.more
            }
            Err(reason) => {
                // Tried again at the next change, or the next poll at the latest.
                self.watch_failed = true;
                self.watch_more = true;
                self.unreadable(reason, out);
                false
            }
        }
    }

    /// The write-ahead log beside a watched file (`<name>-wal`: SQLite in WAL mode commits there
    /// and leaves the file itself alone until a checkpoint): its size and modification time.
    fn wal_look(&self) -> Option<(u64, Option<SystemTime>)> {
        let mut name = self.path.as_os_str().to_owned();
        name.push("-wal");
        fs::metadata(name).ok().map(|m| (m.len(), m.modified().ok()))
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
    /// Why the path cannot be read, while it cannot.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }
    /// The layout of the current file, once decided.
    pub fn layout(&self) -> Option<Layout> {
        self.layout
    }
    /// Whether a descriptor is held on the file now.
    pub fn is_open(&self) -> bool {
        self.cur.as_ref().is_some_and(|c| c.file.is_some())
    }
    /// When bytes were last read from the file (or it was opened).
    pub fn last_active(&self) -> Option<Instant> {
        self.last_active
    }
    /// The last poll could not open the file for want of a descriptor.
    pub fn starved(&self) -> bool {
        self.starved
    }

    /// Lets the descriptor go; the file is opened again when it changes. An unread end of a file
    /// replaced meanwhile can then not be drained, so the watcher closes the handles of the files
    /// idle longest, and only when descriptors run short.
    pub fn close_handle(&mut self) {
        if let Some(cur) = self.cur.as_mut() {
            cur.file = None;
        }
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
        self.starved = false;
        if self.part {
            return false;
        }
        let meta = match fs::metadata(&self.path) {
            Ok(m) if m.is_file() => m,
            Ok(m) => {
                self.unreadable(not_regular(&m), out);
                return false;
            }
            Err(e) if is_missing(&e) => {
                self.lost(out);
                return false;
            }
            Err(e) => {
                self.unreadable(io_reason(&e), out);
                return false;
            }
        };
        let id = file_id(&meta);
        if self.cur.as_ref().is_some_and(|c| c.id != id) {
            let was_document = self.layout == Some(Layout::Document);
            self.end_incarnation(out);
            if !self.open(out, (!was_document).then_some("replaced"), now) {
                return false;
            }
        } else if self.cur.is_none() {
            let reason = (self.layout != Some(Layout::Document)).then_some("recreated");
            if !self.open(out, reason, now) {
                return false;
            }
        } else if self.problem.is_some() && !self.watch_failed {
            // The same file is readable again (a permission given back).
            self.set_state(FileState::Live, out);
        }
        let size = meta.len();
        let look = (size, meta.modified().ok());
        let Some(cur) = self.cur.as_mut() else { return false };
        let changed = cur.seen != Some(look);
        cur.seen = Some(look);
        if self.layout == Some(Layout::Document) {
            if changed || self.doc_sig.is_none() {
                self.read_document(&meta, out);
            }
            return false;
        }
        if self.layout == Some(Layout::Watch) {
            let wal = self.wal_look();
            let changed = changed || wal != self.wal_seen;
            self.wal_seen = wal;
            if changed {
                out.push(SourceEvent::Changed { file: self.index });
            }
            return (changed || self.watch_more) && self.read_watched(out);
        }
        let committed = self.committed();
        if size < committed {
            self.flush_partial(out);
            self.begin_over(out, "truncated");
        } else if changed && self.head_changed(size) {
            self.flush_partial(out);
            self.begin_over(out, "rewritten");
        } else if changed && self.array.as_ref().is_some_and(|a| a.closed() || size < self.offset()) {
            // The array was closed (or rewritten from its last element on): read it again from
            // the end of its last element, where a writer appending to it goes on.
            if let (Some(cur), Some(a)) = (self.cur.as_mut(), self.array.as_mut()) {
                cur.offset = committed;
                cur.seam.clear();
                a.reopen();
                if let Some(f) = cur.file.as_mut() {
                    if f.seek(SeekFrom::Start(committed)).is_err() {
                        cur.file = None;
                    }
                }
            }
        }
        if self.starved {
            return false;
        }
        self.looked = Some(now);
        // Undecided, a file that may be a database is looked at one block at a time.
        let budget = match (self.layout, self.opts.classify) {
            (None, Some(_)) => self.opts.block,
            _ => self.opts.budget,
        };
        let (read, more) =
            if size > self.offset() && self.ensure_open() { self.read_appended(budget) } else { (0, false) };
        if self.starved {
            return false;
        }
        if read > 0 {
            self.last_growth = Some(now);
            self.last_active = Some(now);
        }
        let settled = self.last_growth.is_none_or(|t| now.saturating_duration_since(t) >= self.opts.settle);
        if self.layout.is_none() {
            self.decide(settled && !more, more);
            if self.layout == Some(Layout::Document) {
                self.read_document(&meta, out);
                return false;
            }
        }
        match self.layout {
            Some(Layout::Lines) => {
                self.emit_lines(out);
                if read == 0
                    && settled
                    && self.framer.has_partial()
                    && (self.framer.partial_troubled() || complete_json(self.framer.partial()))
                {
                    self.flush_partial(out);
                    self.partial_sent = true;
                }
            }
            Some(Layout::GrowingArray) => self.emit_elements(out),
            Some(Layout::Bytes) => self.emit_bytes(out),
            Some(Layout::Watch) => {
                out.push(SourceEvent::Changed { file: self.index });
                self.wal_seen = self.wal_look();
                return self.read_watched(out);
            }
            _ => {}
        }
        more
    }

    /// A round for a file that notifications say was only written to since the last one (no
    /// creation, rename, deletion or change of attributes at its path), taken without a look at
    /// the path: one positional read from [`SEAM`] bytes before the offset, whose first bytes must
    /// be those last read there. `None` when that cannot settle it (not JSON Lines, no handle, a
    /// problem, no look for [`LOOK_EVERY`], the file shorter than the offset or other bytes before
    /// it): the caller then makes a full round ([`Tailer::poll`]), which tells a truncation or a
    /// rewrite from an append as it always did. Otherwise what [`Tailer::poll`] returns.
    pub fn poll_appended(&mut self, now: Instant, out: &mut Vec<SourceEvent>) -> Option<bool> {
        if !cfg!(unix)
            || self.part
            || self.layout != Some(Layout::Lines)
            || self.problem.is_some()
            || self.looked.is_none_or(|t| now.saturating_duration_since(t) >= LOOK_EVERY)
        {
            return None;
        }
        let cur = self.cur.as_mut()?;
        let f = cur.file.as_ref()?;
        let s = usize::try_from(cur.offset).map_or(SEAM, |o| o.min(SEAM));
        if cur.seam.len() != s {
            return None;
        }
        if self.buf.is_empty() {
            self.buf = vec![0; self.opts.block.max(4096)];
        }
        let at = cur.offset - s as u64;
        let n = loop {
            #[cfg(unix)]
            let r = std::os::unix::fs::FileExt::read_at(f, &mut self.buf, at);
            #[cfg(not(unix))]
            let r: std::io::Result<usize> = Err(ErrorKind::Unsupported.into());
            match r {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        };
        if n < s || self.buf[..s] != cur.seam[..] {
            return None;
        }
        let more = n == self.buf.len();
        if n > s {
            let buf = std::mem::take(&mut self.buf);
            cur.advance(&buf[s..n]);
            self.take_bytes(&buf[s..n]);
            self.buf = buf;
            self.last_growth = Some(now);
            self.last_active = Some(now);
            self.emit_lines(out);
        }
        Some(more)
    }

    /// Where reading stands: the end of the last complete element of a growing array, else the
    /// read offset.
    fn committed(&self) -> u64 {
        match &self.array {
            Some(a) => a.committed(),
            None => self.offset(),
        }
    }

    fn offset(&self) -> u64 {
        self.cur.as_ref().map_or(0, |c| c.offset)
    }

    /// Decides the layout from the bytes held (`settled`: the file stopped growing; `more`: bytes
    /// are still waiting to be read).
    fn decide(&mut self, settled: bool, more: bool) {
        if let Some(classify) = self.opts.classify {
            match classify(&self.path, &self.pending) {
                Some(Framing::Bytes) => {
                    self.layout = Some(Layout::Bytes);
                    self.raw = std::mem::take(&mut self.pending);
                    self.raw_at = 0;
                    return;
                }
                Some(Framing::Watch) => {
                    self.layout = Some(Layout::Watch);
                    self.pending = Vec::new();
                    return;
                }
                Some(Framing::Text) => {}
                // Too few bytes to tell yet: wait for more (as long as an undecided text file is
                // waited for), unless the file stopped growing: then it is text.
                None if self.pending.len() < UNDECIDED_MAX && !settled => return,
                None => {}
            }
        }
        let mut layout = detect(self.name.as_deref(), &self.pending, settled);
        if layout.is_none() && self.pending.len() >= UNDECIDED_MAX {
            layout = Some(Layout::Lines);
        }
        let Some(layout) = layout else { return };
        let bytes = std::mem::take(&mut self.pending);
        let first =
            crate::ingest::format::strip_bom(&bytes).iter().copied().find(|b| !b.is_ascii_whitespace());
        if layout == Layout::Document && first == Some(b'[') && (more || !complete_json(&bytes)) {
            let mut a = ArrayFramer::new(self.opts.max_line);
            a.push(&bytes);
            self.array = Some(a);
            self.layout = Some(Layout::GrowingArray);
            return;
        }
        self.layout = Some(layout);
        if layout == Layout::Lines {
            self.framer.push(&bytes);
        }
    }

    fn set_state(&mut self, state: FileState, out: &mut Vec<SourceEvent>) {
        self.problem = None;
        if self.state != Some(state) {
            self.state = Some(state);
            out.push(SourceEvent::State { file: self.index, state });
        }
    }

    /// The path cannot be read now: say why (once per reason). What was read is kept, and an open
    /// file is read on when the path is readable again.
    fn unreadable(&mut self, reason: String, out: &mut Vec<SourceEvent>) {
        if self.problem.as_deref() != Some(reason.as_str()) {
            self.state = Some(FileState::Unreadable);
            self.problem = Some(reason.clone());
            out.push(SourceEvent::Unreadable { file: self.index, reason });
        }
    }

    /// The path names no file: the current one (if any) was deleted or renamed away.
    fn lost(&mut self, out: &mut Vec<SourceEvent>) {
        if self.cur.is_some() {
            self.end_incarnation(out);
            self.set_state(FileState::Gone, out);
        } else if self.state.is_none() || self.problem.is_some() {
            self.set_state(FileState::Waiting, out);
        }
    }

    /// Opens the file at the path. `reason` is the restart to report if a file was read before.
    fn open(&mut self, out: &mut Vec<SourceEvent>, reason: Option<&str>, now: Instant) -> bool {
        let (mut file, meta) = match open_for_reading(&self.path) {
            Ok(x) => x,
            Err(e) => {
                self.starved = is_out_of_descriptors(&e);
                self.starved_streak = if self.starved { self.starved_streak.saturating_add(1) } else { 0 };
                // Out of descriptors once, the watcher makes room and tries again at once: said
                // only when that did not help.
                if !self.starved || self.starved_streak > 1 {
                    self.unreadable(io_reason(&e), out);
                }
                return false;
            }
        };
        self.starved_streak = 0;
        // Identify what was opened, not what was stat'ed: the path may have changed in between.
        if !meta.is_file() {
            self.unreadable(not_regular(&meta), out);
            return false;
        }
        let id = file_id(&meta);
        self.last_active = Some(now);
        if let Some(r) = self.resume.take() {
            // The history was read elsewhere: only what follows it is news.
            self.opened_before = true;
            let framing = self.resumed_framing(&mut file, &meta);
            if framing == Framing::Watch {
                // Nothing is read from a watched file: what is new is the reader's to find.
                self.cur = Some(Incarnation::new(file, id));
                self.set_state(FileState::Live, out);
                if r.id == id {
                    self.layout = Some(Layout::Watch);
                    self.watch.at = r.offset;
                } else {
                    self.begin_over(out, "replaced");
                }
                return true;
            }
            let mut head = vec![0; HEAD.min(r.offset as usize)];
            let seeked = r.id == id
                && (meta.len() < r.offset
                    || (read_at(&mut file, 0, &mut head) && file.seek(SeekFrom::Start(r.offset)).is_ok()));
            self.cur = Some(Incarnation::new(file, id));
            self.set_state(FileState::Live, out);
            if seeked {
                // A file shorter than the history keeps the offset past its end, and the size check
                // in `poll` reports the truncation.
                if let Some(cur) = self.cur.as_mut() {
                    cur.offset = r.offset;
                    cur.head = head;
                }
                if framing == Framing::Bytes {
                    self.layout = Some(Layout::Bytes);
                    self.raw_at = r.offset;
                } else {
                    self.layout = Some(Layout::Lines);
                }
            } else {
                self.begin_over(out, "replaced");
            }
            return true;
        }
        self.cur = Some(Incarnation::new(file, id));
        self.set_state(FileState::Live, out);
        if self.opened_before {
            match reason {
                Some(r) => self.begin_over(out, r),
                None => self.reset_reading(),
            }
        }
        self.opened_before = true;
        true
    }

    /// How a file whose history was read elsewhere is framed, from its first bytes (text when
    /// no classifier is set).
    fn resumed_framing(&self, file: &mut File, meta: &Metadata) -> Framing {
        let Some(classify) = self.opts.classify else { return Framing::Text };
        let mut probe = vec![0; HEAD.min(usize::try_from(meta.len()).unwrap_or(HEAD))];
        let read = read_at(file, 0, &mut probe);
        let framing = classify(&self.path, if read { &probe } else { &[] }).unwrap_or(Framing::Text);
        // Back to the start: the caller seeks where reading resumes.
        let _ = file.seek(SeekFrom::Start(0));
        framing
    }

    /// Opens the current file again if its handle was closed. False when it cannot be (it is
    /// another file now: the next poll sees the replacement; or no descriptor is left).
    fn ensure_open(&mut self) -> bool {
        let Some(cur) = self.cur.as_mut() else { return false };
        if cur.file.is_some() {
            return true;
        }
        match open_for_reading(&self.path) {
            Ok((mut f, m)) => {
                let same = file_id(&m) == cur.id && f.seek(SeekFrom::Start(cur.offset)).is_ok();
                if same {
                    cur.file = Some(f);
                }
                same
            }
            Err(e) => {
                self.starved = is_out_of_descriptors(&e);
                false
            }
        }
    }

    /// Whether the file's first bytes are no longer those read (it was rewritten in place).
    fn head_changed(&mut self, size: u64) -> bool {
        // Of a growing array, only the bytes up to its last complete element are final (a writer
        // may overwrite its closing bracket).
        let committed = usize::try_from(self.committed()).unwrap_or(usize::MAX);
        let len = self.cur.as_ref().map_or(0, |c| c.head.len().min(committed));
        if len == 0 || size < len as u64 || !self.ensure_open() {
            return false;
        }
        let Some(cur) = self.cur.as_mut() else { return false };
        let Some(f) = cur.file.as_mut() else { return false };
        // On the stack, read where it is without moving the cursor (one `pread`, no allocation,
        // no seek there and back: this runs on every append of every followed file).
        let mut now = [0; HEAD];
        let now = &mut now[..len];
        !(read_head(f, now) && *now == cur.head[..len])
    }

    fn reset_reading(&mut self) {
        self.layout = None;
        self.pending.clear();
        self.framer.reset();
        self.array = None;
        self.next_line = 1;
        self.partial_sent = false;
        self.carry.clear();
        self.last_growth = None;
        self.doc_sig = None;
        self.raw.clear();
        self.raw_at = 0;
        self.watch = WatchCursor::default();
        self.watch_more = false;
        self.wal_seen = None;
    }

    /// Starts the current file over from byte 0 and reports a restart.
    fn begin_over(&mut self, out: &mut Vec<SourceEvent>, reason: &str) {
        if let Some(cur) = self.cur.as_mut() {
            cur.offset = 0;
            cur.head.clear();
            cur.seam.clear();
            if let Some(f) = cur.file.as_mut() {
                if f.seek(SeekFrom::Start(0)).is_err() {
                    cur.file = None;
                }
            }
        }
        self.reset_reading();
        self.doc_hash = None;
        out.push(SourceEvent::Restarted { file: self.index, reason: reason.to_owned() });
    }

    /// The current file is over (replaced, deleted): read what it still holds, then let it go.
    fn end_incarnation(&mut self, out: &mut Vec<SourceEvent>) {
        if !matches!(self.layout, Some(Layout::Document | Layout::Watch)) {
            if self.is_open() {
                let _ = self.read_appended(usize::MAX);
            }
            if self.layout.is_none() {
                self.decide(true, false);
            }
            match self.layout {
                Some(Layout::Lines) => {
                    self.emit_lines(out);
                    self.flush_partial(out);
                }
                Some(Layout::GrowingArray) => self.emit_elements(out),
                Some(Layout::Bytes) => self.emit_bytes(out),
                _ => {}
            }
        }
        self.cur = None;
    }

    /// Reads appended bytes, up to `budget`. Returns (bytes read, more waiting).
    fn read_appended(&mut self, budget: usize) -> (usize, bool) {
        // One zeroed block, reused: reading straight into a growing buffer would zero a block per call.
        if self.buf.is_empty() {
            self.buf = vec![0; self.opts.block.max(4096)];
        }
        let mut buf = std::mem::take(&mut self.buf);
        let mut total = 0usize;
        let more = loop {
            if total >= budget {
                break true;
            }
            let Some(cur) = self.cur.as_mut() else { break false };
            let Some(f) = cur.file.as_mut() else { break false };
            // At the offset, not the cursor: a read without a look (`poll_appended`) does not move it.
            #[cfg(unix)]
            let n = std::os::unix::fs::FileExt::read_at(f, &mut buf, cur.offset);
            #[cfg(not(unix))]
            let n = f.read(&mut buf);
            let n = match n {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break false,
            };
            if n == 0 {
                break false;
            }
            // A short read of a regular file ends at its end: no read more to be told so (what is
            // appended after it comes with an event of its own, as after a read of nothing).
            let at_end = n < buf.len();
            cur.advance(&buf[..n]);
            total += n;
            self.take_bytes(&buf[..n]);
            if at_end {
                break false;
            }
        };
        self.buf = buf;
        (total, more)
    }

    /// Routes bytes read to the layout's reader.
    fn take_bytes(&mut self, data: &[u8]) {
        match self.layout {
            None | Some(Layout::Document) => self.pending.extend_from_slice(data),
            Some(Layout::GrowingArray) => {
                if let Some(a) = self.array.as_mut() {
                    a.push(data);
                }
            }
            Some(Layout::Lines) if self.partial_sent => {
                self.carry.extend_from_slice(data);
                // A lone `\r` may be the first half of the taken line's CRLF: wait for the rest.
                if self.carry == b"\r" {
                    return;
                }
                self.partial_sent = false;
                let c = std::mem::take(&mut self.carry);
                let skip = if c.starts_with(b"\r\n") { 2 } else { usize::from(c.starts_with(b"\n")) };
                self.framer.push(&c[skip..]);
            }
            Some(Layout::Lines) => self.framer.push(data),
            Some(Layout::Bytes) => self.raw.extend_from_slice(data),
            Some(Layout::Watch) => {}
        }
    }

    /// Sends the bytes read from a file read as bytes.
    fn emit_bytes(&mut self, out: &mut Vec<SourceEvent>) {
        if self.raw.is_empty() {
            return;
        }
        let bytes = std::mem::take(&mut self.raw);
        let offset = self.raw_at;
        self.raw_at += bytes.len() as u64;
        out.push(SourceEvent::Bytes { file: self.index, offset, bytes });
    }

    /// Sends the complete lines framed so far, keeping the incomplete last one.
    fn emit_lines(&mut self, out: &mut Vec<SourceEvent>) {
        if !self.framer.has_lines() {
            return;
        }
        let (bytes, n) = self.framer.take();
        out.push(SourceEvent::Lines { file: self.index, first_line: self.next_line, bytes });
        self.next_line += n;
    }

    /// Sends the elements of a growing array completed so far.
    fn emit_elements(&mut self, out: &mut Vec<SourceEvent>) {
        if let Some((first_line, bytes)) = self.array.as_mut().and_then(ArrayFramer::take) {
            out.push(SourceEvent::Lines { file: self.index, first_line, bytes });
        }
    }

    /// Sends the held final line (no newline) as a line of its own.
    fn flush_partial(&mut self, out: &mut Vec<SourceEvent>) {
        if self.layout == Some(Layout::Bytes) {
            self.emit_bytes(out);
        }
        if self.layout != Some(Layout::Lines) {
            return;
        }
        self.emit_lines(out);
        if let Some(bytes) = self.framer.finish_line() {
            out.push(SourceEvent::Lines { file: self.index, first_line: self.next_line, bytes });
            self.next_line += 1;
        }
    }

    fn read_document(&mut self, meta: &Metadata, out: &mut Vec<SourceEvent>) {
        let Some(id) = self.cur.as_ref().map(|c| c.id) else { return };
        let sig = DocSig { len: meta.len(), mtime: meta.modified().ok(), id };
        if self.doc_sig == Some(sig) {
            return;
        }
        if meta.len() > self.opts.max_line as u64 {
            if self.doc_sig.is_none_or(|s| s.len <= self.opts.max_line as u64) {
                // Too big to hold: said once, as a skipped line.
                let reason =
                    format!("a whole-file document of {} bytes, longer than the limit: not read", meta.len());
                let mut note = vec![0];
                note.extend_from_slice(reason.as_bytes());
                note.extend_from_slice(b"\0\0");
                out.push(SourceEvent::Lines { file: self.index, first_line: 1, bytes: note });
            }
            self.doc_sig = Some(sig);
            return;
        }
        if !self.ensure_open() {
            return;
        }
        let Some(cur) = self.cur.as_mut() else { return };
        let Some(f) = cur.file.as_mut() else { return };
        // Set even when the read below finds a half-written file: the writer finishing changes
        // the signature again, and an unchanged broken file is not re-read every poll.
        self.doc_sig = Some(sig);
        let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
        let limit = self.opts.max_line as u64 + 1;
        if f.seek(SeekFrom::Start(0)).is_err() || f.take(limit).read_to_end(&mut bytes).is_err() {
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

/// Reads the first `buf.len()` bytes of `f`, leaving its cursor where it is.
fn read_head(f: &mut File, buf: &mut [u8]) -> bool {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(f, buf, 0).is_ok()
    }
    #[cfg(not(unix))]
    {
        let Ok(at) = f.stream_position() else { return false };
        read_at(f, 0, buf) && f.seek(SeekFrom::Start(at)).is_ok()
    }
}

/// Reads exactly `buf.len()` bytes of `f` from `at` (the cursor moves).
fn read_at(f: &mut File, at: u64, buf: &mut [u8]) -> bool {
    f.seek(SeekFrom::Start(at)).is_ok() && f.read_exact(buf).is_ok()
}
