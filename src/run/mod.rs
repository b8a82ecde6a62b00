//! A run: one log file's store, the ingest that fills it, and the analyzer that flags it; and
//! the ways a run is fed: a whole file at once (`load`, the batch path of `tmon check`), event by
//! event from the source layer ([`Run::apply`]), and the set of files followed live ([`live`]),
//! which the monitor and `tmon check --follow` share.

pub mod config;
pub mod live;
mod load;
pub mod naming;

use crate::analysis::{Analyzer, Flag, FlagConfig};
use crate::formats::RunInfo;
use crate::ingest::{DocPush, Ingest, IngestOptions};
use crate::source::SourceEvent;
use crate::store::Store;
use std::path::PathBuf;

pub use live::{Fed, LiveFile, LiveSet};
pub use load::{Threads, BLOCK};

/// Everything tmon knows about one log file.
#[derive(Debug)]
pub struct Run {
    pub path: PathBuf,
    pub store: Store,
    pub ingest: Ingest,
    pub analyzer: Analyzer,
    /// The run's name, config and uncounted values, from formats that record them.
    pub info: RunInfo,
    /// While a reader in another format feeds it ([`Run::analysed_apart`]): where its records go
    /// to be analysed on a thread of its own.
    pipe: Option<Box<load::Pipe>>,
}

impl Run {
    pub fn new(path: impl Into<PathBuf>, opts: IngestOptions, cfg: FlagConfig) -> Self {
        let mut store = Store::new();
        if opts.compact {
            store.compact();
        }
        Run {
            path: path.into(),
            store,
            ingest: Ingest::new(opts),
            analyzer: Analyzer::new(cfg),
            info: RunInfo::default(),
            pipe: None,
        }
    }

    /// Feeds one complete line (1-based `line_no`, without its newline).
    pub fn push_line(&mut self, line_no: u64, bytes: &[u8]) {
        let analyzer = &mut self.analyzer;
        let skipped = self.store.skipped.count;
        self.ingest.push_line(&mut self.store, line_no, bytes, &mut |st, rec, fields| {
            analyzer.observe(st, rec, fields)
        });
        // A line that is not a record may be the error the run died of (a traceback).
        if self.store.skipped.count != skipped {
            self.analyzer.observe_skipped(&self.store);
        }
    }

    /// Feeds a whole-file JSON document (`trainer_state.json`, a top-level array). Called again
    /// each time the file is rewritten: records already taken are not taken twice; a rewrite that
    /// changed or shortened the history starts the reading over (an `info` restart flag).
    pub fn push_document(&mut self, bytes: &[u8]) {
        let last = self.store.last_record().map(|r| r.step);
        let analyzer = &mut self.analyzer;
        let out =
            self.ingest.push_document(&mut self.store, bytes, &mut |st, rec, f| analyzer.observe(st, rec, f));
        if let DocPush::Restarted { reason, .. } = out {
            self.analyzer.file_restarted(&reason, last);
        }
    }

    /// The file started over (truncated or replaced): reading restarts at its beginning. What was
    /// read stays in the store; the per-file reading state is reset and an `info` flag says so.
    pub fn note_restart(&mut self, reason: &str) {
        let last = self.store.last_record().map(|r| r.step);
        self.ingest.reset();
        self.analyzer.file_restarted(reason, last);
    }

    /// Feeds one event of the source layer: lines go to [`Run::push_lines`] (two threads for a
    /// big batch such as a history being read; a trailing `\r` is removed as on every line), a
    /// document is handed over whole, a restart is noted. `Found`, `State` and `Unreadable` are
    /// about the file,
    /// not the run (see [`LiveFile`]). Returns how many records the run gained.
    pub fn apply(&mut self, ev: &SourceEvent) -> usize {
        let before = self.store.records();
        match ev {
            SourceEvent::Lines { first_line, bytes, .. } => self.push_lines(*first_line, bytes),
            SourceEvent::Document { bytes, .. } => self.push_document(bytes),
            SourceEvent::Restarted { reason, .. } => self.note_restart(reason),
            // Bytes are decoded by the live file's decoder (see `live`), not here.
            SourceEvent::Found { .. }
            | SourceEvent::State { .. }
            | SourceEvent::Unreadable { .. }
            | SourceEvent::Bytes { .. }
            | SourceEvent::Changed { .. } => {}
        }
        self.store.records().saturating_sub(before)
    }

    pub fn flags(&self) -> &[Flag] {
        self.analyzer.flags()
    }
}
