//! The source layer: finds log files, tails them as they grow, and reports what happens to them
//! (truncation, replacement, deletion) as [`SourceEvent`]s. Pure I/O: it knows nothing of what
//! the bytes mean (records, flags) nor of the UI.
//!
//! - [`tail::Tailer`]: the incremental reader of one file (synchronous, testable).
//! - [`frame`]: cutting bytes into lines (and a growing JSON array into elements), the framing
//!   every reader shares, with the one cap on a line's length ([`frame::MAX_LINE`]).
//! - [`sources::Sources`]: every followed path (files, files not there yet, directories).
//! - [`watch::spawn`]: a background thread that wakes `Sources` with inotify plus a slow poll.
//! - [`fs_kind`]: whether inotify can be trusted for a directory (not on NFS, Lustre, FUSE, ...).
//! - [`discover()`]: the log files in a directory, by framework naming.
//! - [`layout`]: JSON Lines or a whole-file JSON document, told apart by a file's bytes.
//!
//! Files in other formats (binary event files, CSV, databases) are not cut into lines: a
//! [`Classify`] function given by the run layer ([`TailOptions::classify`]) says from a file's
//! name and first bytes that it is read as bytes ([`SourceEvent::Bytes`], handed over as read)
//! or only watched ([`SourceEvent::Changed`], never read here). What the bytes mean stays the
//! reader's business.

pub mod discover;
pub mod frame;
pub mod fs_kind;
pub mod layout;
pub mod sources;
pub mod tail;
pub mod watch;

pub use discover::discover;
pub use sources::Sources;
pub use tail::{Classify, FileId, Framing, Resume, TailOptions, Tailer};
pub use watch::{spawn, spawn_channel, spawn_sources, SourceHandle};

use std::path::PathBuf;
use std::time::Duration;

/// What can be said about a watched file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileState {
    /// The path does not exist yet.
    Waiting,
    /// The file exists and is being read.
    Live,
    /// The file was deleted; what was read is kept.
    Gone,
    /// The path exists but cannot be read (the reason comes with [`SourceEvent::Unreadable`]);
    /// what was read is kept, and it is tried again.
    Unreadable,
}

/// One thing that happened to a watched file. `file` indexes the files in the order they were
/// found; a file found later (in a watched directory) is announced with [`SourceEvent::Found`].
#[derive(Clone, Debug, PartialEq)]
pub enum SourceEvent {
    /// A new log file was found (given on the command line, or appeared in a watched directory).
    Found { file: usize, path: PathBuf },
    /// Complete lines were appended; `first_line` is the 1-based number of the first one.
    /// `bytes` holds whole lines separated by `\n` (a final line with no newline is only sent once
    /// the file has stopped growing).
    Lines { file: usize, first_line: u64, bytes: Vec<u8> },
    /// A whole-file JSON document was (re)written; this is its full content.
    Document { file: usize, bytes: Vec<u8> },
    /// Bytes appended to a file read as bytes ([`Framing::Bytes`]), as read: `offset` is the
    /// place of the first one in the file. Consecutive events of one incarnation are
    /// contiguous; after a `Restarted`, the bytes start again at offset 0.
    Bytes { file: usize, offset: u64, bytes: Vec<u8> },
    /// A watched file ([`Framing::Watch`]) was seen for the first time or changed (its size, its
    /// modification time); its content is not read here.
    Changed { file: usize },
    /// The file started over (truncated, or replaced by a new file at the path).
    Restarted { file: usize, reason: String },
    /// The file's state changed.
    State { file: usize, state: FileState },
    /// The path cannot be read, and why: permission denied, a symlink loop, not a regular file (a
    /// FIFO, a device), no file descriptor left. The state is then [`FileState::Unreadable`]; a
    /// later `State` event says it is readable again.
    Unreadable { file: usize, reason: String },
}

impl SourceEvent {
    /// The number of the file the event is about.
    pub fn file(&self) -> usize {
        match self {
            SourceEvent::Found { file, .. }
            | SourceEvent::Lines { file, .. }
            | SourceEvent::Document { file, .. }
            | SourceEvent::Bytes { file, .. }
            | SourceEvent::Changed { file }
            | SourceEvent::Restarted { file, .. }
            | SourceEvent::State { file, .. }
            | SourceEvent::Unreadable { file, .. } => *file,
        }
    }
}

/// How files are followed. The defaults suit a local disk with inotify; `poll` is the `--poll MS`
/// option for filesystems that send no notifications.
#[derive(Clone, Debug)]
pub struct SourceOptions {
    /// Poll at this interval and use no notifications at all.
    pub poll: Option<Duration>,
    /// With notifications, while some watched directory is on a network filesystem (NFS, Lustre,
    /// GPFS, SMB, FUSE, 9p, ... see [`fs_kind`]) or could not be watched, or events were lost:
    /// the stat poll that still runs, for writes made by other machines (which inotify never
    /// sees). Default 1 s.
    pub safety_poll: Duration,
    /// With notifications and every watched directory on a local filesystem: the stat poll (and
    /// directory search) that guards against a missed event. Local writes always reach inotify,
    /// so this is rare: default 30 s (never less than `safety_poll`).
    pub local_safety_poll: Duration,
    /// Treat every directory as if it were on a network filesystem (poll every `safety_poll`).
    pub distrust_notifications: bool,
    /// How often watched directories are searched again for new log files while polling every
    /// `safety_poll` (or `poll`). Default 2 s. At once when a notification says something was
    /// created or renamed; with trusted notifications otherwise only at the `local_safety_poll`.
    pub rescan: Duration,
    /// After a wake-up, how long to let a burst of writes gather before reading. Default 5 ms.
    pub debounce: Duration,
    /// Directory levels searched below a given directory.
    pub max_depth: usize,
    pub tail: TailOptions,
    /// Files kept open at most between polls: past this, the handles of the files idle longest
    /// are closed (and opened again when their file changes), so thousands of files can be
    /// followed under a limit of 1,024 descriptors. Default: [`open_files_budget`].
    pub max_open: usize,
    /// Files whose history was read by someone else: their tailers start where it ended.
    pub resume: Vec<(PathBuf, Resume)>,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            poll: None,
            safety_poll: Duration::from_secs(1),
            local_safety_poll: Duration::from_secs(30),
            distrust_notifications: false,
            rescan: Duration::from_secs(2),
            debounce: Duration::from_millis(5),
            max_depth: discover::MAX_DEPTH,
            tail: TailOptions::default(),
            max_open: open_files_budget(),
            resume: Vec::new(),
        }
    }
}

/// How many followed files may stay open: about half the process's soft limit of open files
/// (`RLIMIT_NOFILE`), leaving the rest to the loader, the terminal and the watcher; 8 at least,
/// 4,096 at most.
pub fn open_files_budget() -> usize {
    #[cfg(unix)]
    {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit fills the struct we own.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0 {
            let soft = usize::try_from(r.rlim_cur).unwrap_or(usize::MAX);
            return (soft.saturating_sub(64) / 2).clamp(8, 4096);
        }
    }
    256
}

impl SourceOptions {
    /// Options for `--poll MS` (`None`: notifications plus the safety poll).
    pub fn with_poll(poll: Option<Duration>) -> Self {
        SourceOptions { poll, ..Default::default() }
    }
}
