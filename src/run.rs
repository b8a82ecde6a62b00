//! A run: one log file's store, the ingest that fills it, and the analyzer that flags it.

use crate::analysis::{Analyzer, Flag, FlagConfig, FlagKind, Severity};
use crate::error::Error;
use crate::ingest::{format, DocPush, Ingest, IngestOptions};
use crate::store::Store;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How much of a file [`Run::load_file`] reads at a time.
pub const BLOCK: usize = 1 << 20;

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

    /// Reads a whole file at once (the batch path of `tmon check`), in the layout its content
    /// shows: JSON Lines are read in blocks of [`BLOCK`] bytes (a last line without a newline is
    /// read too); a whole-file document is read entirely and parsed as one. A file that looks like
    /// a document but does not parse as one is read as JSON Lines.
    pub fn load_file(path: &Path, opts: IngestOptions, cfg: FlagConfig) -> Result<Run, Error> {
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
        if format::is_document(&buf) {
            file.read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
            let analyzer = &mut run.analyzer;
            let out =
                run.ingest.try_document(&mut run.store, &buf, &mut |st, rec, f| analyzer.observe(st, rec, f));
            if out != DocPush::Invalid {
                return Ok(run);
            }
            run.ingest.reset();
            let mut line_no = 0;
            let complete = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
            run.push_lines(&mut line_no, &buf[..complete]);
            let rest = &buf[memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1)..];
            if !rest.is_empty() {
                run.push_line(line_no + 1, rest);
            }
            return Ok(run);
        }
        let mut line_no = 0u64;
        loop {
            if let Some(last) = memchr::memrchr(b'\n', &buf) {
                run.push_lines(&mut line_no, &buf[..=last]);
                buf.drain(..=last);
            }
            let want = (buf.len() + BLOCK).max(buf.capacity());
            let before = buf.len();
            fill(&mut file, &mut buf, want).map_err(|e| Error::io(path, e))?;
            if buf.len() == before {
                break;
            }
        }
        if !buf.is_empty() {
            run.push_line(line_no + 1, &buf);
        }
        Ok(run)
    }

    /// Feeds `bytes`, which end with `\n`, line by line; `line_no` is the number of the last line
    /// fed so far.
    fn push_lines(&mut self, line_no: &mut u64, bytes: &[u8]) {
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', bytes) {
            *line_no += 1;
            self.push_line(*line_no, &bytes[start..end]);
            start = end + 1;
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
            self.raise_restart(&reason, last);
        }
    }

    /// The file started over (truncated or replaced): reading restarts at its beginning. What was
    /// read stays in the store; the per-file reading state is reset and an `info` flag says so.
    pub fn note_restart(&mut self, reason: &str) {
        let last = self.store.last_record().map(|r| r.step);
        self.ingest.reset();
        self.raise_restart(reason, last);
    }

    fn raise_restart(&mut self, reason: &str, last_step: Option<f64>) {
        let step = last_step.unwrap_or(0.0);
        self.analyzer.raise(Flag {
            kind: FlagKind::Restart,
            severity: Severity::Info,
            metric: String::new(),
            step,
            message: format!(
                "the file started over after step {step} ({reason}); reading it again from its start"
            ),
        });
    }

    pub fn flags(&self) -> &[Flag] {
        self.analyzer.flags()
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
