//! `tmon check`: reads log files at once, prints what was found (format, keys, records, skipped
//! lines, a table of metrics, the flags) as text or one JSON document, and decides the exit
//! status for scripts.
//!
//! Paths are read one after the other and each run is reduced to a small [`RunReport`] before the
//! next is read, so checking many large files needs the memory of one. A path that cannot be read
//! is reported on the error stream (one line naming it and the reason) and the others are still
//! checked; the exit status is then 2.

pub mod paths;
pub mod report;
pub mod text;

use crate::analysis::Severity;
use crate::cli::{CheckArgs, ReadArgs};
use crate::run::Run;
use report::{Document, RunReport};
use std::io::{self, Write};
use std::path::Path;
use thiserror::Error;

/// How a check ended, as the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// No flag reached `--fail-on`.
    Clean = 0,
    /// A flag reached `--fail-on`.
    Flagged = 1,
    /// A path could not be read (usage errors are [`CheckError::Tmon`]).
    Unreadable = 2,
}

impl Outcome {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// Why a check could not run at all.
#[derive(Debug, Error)]
pub enum CheckError {
    /// A usage error (e.g. an unknown `--set` name): exit status 2.
    #[error(transparent)]
    Tmon(#[from] crate::Error),
    /// Standard output could not be written (e.g. a closed pipe).
    #[error("cannot write the output: {0}")]
    Output(#[from] io::Error),
}

/// Runs `tmon check` (without `--follow`) and writes its report to `out` and its errors to `err`.
pub fn run(
    args: &CheckArgs,
    read: &ReadArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Outcome, CheckError> {
    let cfg = read.flag_config()?;
    let opts = read.ingest_options();
    let mut outcome = Outcome::Clean;
    let mut reports: Vec<RunReport> = Vec::new();
    let mut files = 0usize;
    let mut failing = 0usize;
    // A run that several paths stand for (the event files of one folder) is read once.
    let mut seen = std::collections::HashSet::new();

    for given in &args.paths {
        let found = match paths::expand(given) {
            Ok(found) => found,
            Err(e) => {
                writeln!(err, "tmon: {}", crate::text::sanitize(&e.to_string()))?;
                outcome = Outcome::Unreadable;
                continue;
            }
        };
        for path in found {
            if !seen.insert(crate::formats::run_key(&path)) {
                continue;
            }
            let loaded =
                paths::check_readable(&path).and_then(|()| Run::load_all(&path, opts.clone(), cfg.clone()));
            let runs = match loaded {
                Ok(runs) => runs,
                Err(e) => {
                    writeln!(err, "tmon: {}", crate::text::sanitize(&e.to_string()))?;
                    outcome = Outcome::Unreadable;
                    continue;
                }
            };
            for run in runs {
                let report = RunReport::from_run(display(&run.path), &run);
                drop(run);
                files += 1;
                if report.worst().is_some_and(|w| w >= args.fail_on) {
                    failing += 1;
                    outcome = outcome.max(Outcome::Flagged);
                }
                if args.json {
                    reports.push(report);
                } else {
                    if files > 1 {
                        writeln!(out)?;
                    }
                    out.write_all(text::render_run(&report).as_bytes())?;
                    out.flush()?;
                }
            }
        }
    }

    if args.json {
        crate::text::to_json_writer(&mut *out, &Document { runs: &reports }).map_err(io::Error::from)?;
        writeln!(out)?;
    } else if files > 1 || outcome == Outcome::Unreadable {
        writeln!(out)?;
        writeln!(out, "{}", summary(files, failing, args.fail_on, outcome))?;
    }
    out.flush()?;
    Ok(outcome)
}

fn summary(files: usize, failing: usize, fail_on: Severity, outcome: Outcome) -> String {
    let noun = if files == 1 { "file" } else { "files" };
    let mut s = format!("checked {files} {noun}: {failing} with a flag at {fail_on} or above");
    if outcome == Outcome::Unreadable {
        s.push_str("; some paths could not be read (messages on stderr)");
    }
    s
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
