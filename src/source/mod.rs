//! The source layer: finds log files, tails them as they grow, and reports what happens to them
//! (truncation, replacement, deletion) as [`SourceEvent`]s. It knows nothing of the UI.

use std::path::PathBuf;

/// What can be said about a watched file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileState {
    /// The path does not exist yet.
    Waiting,
    /// The file exists and is being read.
    Live,
    /// The file was deleted; what was read is kept.
    Gone,
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
    /// The file started over (truncated, or replaced by a new file at the path).
    Restarted { file: usize, reason: String },
    /// The file's state changed.
    State { file: usize, state: FileState },
}
