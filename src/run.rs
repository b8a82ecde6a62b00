//! A run: one log file's store, the ingest that fills it, and the analyzer that flags it.

use crate::analysis::{Analyzer, Flag, FlagConfig};
use crate::error::Error;
use crate::ingest::{Ingest, IngestOptions};
use crate::store::Store;
use std::path::{Path, PathBuf};

/// Everything tmon knows about one log file.
#[derive(Debug)]
pub struct Run {
    pub path: PathBuf,
    pub store: Store,
    pub ingest: Ingest,
    pub analyzer: Analyzer,
}

impl Run {
    pub fn new(path: impl Into<PathBuf>, opts: IngestOptions, cfg: FlagConfig) -> Self {
        Run {
            path: path.into(),
            store: Store::new(),
            ingest: Ingest::new(opts),
            analyzer: Analyzer::new(cfg),
        }
    }

    /// Feeds one complete line (1-based `line_no`, without its newline).
    pub fn push_line(&mut self, line_no: u64, bytes: &[u8]) {
        let analyzer = &mut self.analyzer;
        self.ingest.push_line(&mut self.store, line_no, bytes, &mut |st, rec, fields| {
            analyzer.observe(st, rec, fields)
        });
    }

    /// Reads a whole file at once (the batch path of `tmon check`).
    pub fn load_file(path: &Path, opts: IngestOptions, cfg: FlagConfig) -> Result<Run, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let mut run = Run::new(path, opts, cfg);
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            run.push_line(i as u64 + 1, line);
        }
        Ok(run)
    }

    /// Feeds a whole-file JSON document (`trainer_state.json`, a top-level array). Called again
    /// each time the file is rewritten: records already taken are not taken twice.
    pub fn push_document(&mut self, bytes: &[u8]) {
        let _ = bytes;
    }

    /// The file started over (truncated or replaced): reading restarts at its beginning.
    pub fn note_restart(&mut self, reason: &str) {
        let _ = reason;
    }

    pub fn flags(&self) -> &[Flag] {
        self.analyzer.flags()
    }
}
