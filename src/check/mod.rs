//! `tmon check`: reads log files at once, prints what was found (format, keys, records, skipped
//! lines, a table of metrics, the flags) as text or one JSON document, and decides the exit
//! status for scripts.
//!
//! Many files are read at once, one per core (`available_parallelism`, each file on one thread
//! then), at most [`BYTES_IN_FLIGHT`] of them at a time, and each run is reduced to a small
//! [`RunReport`] and a [`RunDigest`] (its training loss in at most 1024 buckets) as soon as it is
//! read, so checking a sweep of hundreds of runs needs the memory of the runs being read, not of
//! all of them. With several runs, the runs are compared with each other
//! ([`crate::analysis::sweep`]) and the output starts with one table of all runs ([`many`]).
//!
//! A path that cannot be read is reported on the error stream (one line naming it and the
//! reason) and the others are still checked; the exit status is then 2.

pub mod many;
pub mod paths;
pub mod report;
pub mod text;

use crate::analysis::sweep::{compare_digests, min_runs, CrossFlag, RunDigest};
use crate::analysis::{FlagConfig, Severity};
use crate::cli::{CheckArgs, ReadArgs};
use crate::error::Error;
use crate::ingest::IngestOptions;
use crate::run::{Run, Threads};
use report::{Compare, CompareFlag, Document, FlagRow, RunReport};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};
use std::time::{Duration, SystemTime};
use thiserror::Error;

/// Bytes of files being read at once, at most (a file bigger than this is read alone): a run's
/// store costs about a quarter of its JSON Lines file, so this bounds the memory of reading.
pub const BYTES_IN_FLIGHT: u64 = 1 << 30;

/// How a check ended, as the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// No flag reached `--fail-on`.
    Clean = 0,
    /// A flag reached `--fail-on`.
    Flagged = 1,
    /// A path could not be read (usage errors are [`CheckError::Tmon`]).
    Unreadable = 2,
    /// A file gave no record (an empty log, a file that is not a training log): said on stderr,
    /// so that a CI gate cannot pass on an empty or wrong file. Status 3 is the monitor's (no
    /// terminal), hence 4. Above the others when several apply.
    Empty = 4,
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

/// One run as `check` keeps it once read.
struct Checked {
    report: RunReport,
    digest: RunDigest,
    silent: Option<Duration>,
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
    let mut report_error = |err: &mut dyn Write, e: &dyn std::fmt::Display| -> io::Result<()> {
        outcome = Outcome::Unreadable;
        writeln!(err, "tmon: {}", crate::text::sanitize(&e.to_string()))
    };

    // The files, in the order given; a run that several paths stand for (the event files of one
    // folder) is read once.
    let mut files: Vec<PathBuf> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for given in &args.paths {
        let expanded = match crate::source::discover::expand_patterns(std::slice::from_ref(given)) {
            Ok(p) => p,
            Err(e) => {
                report_error(err, &e)?;
                continue;
            }
        };
        for one in expanded {
            match paths::expand(&one) {
                Ok(found) => {
                    for path in found {
                        if seen.insert(crate::formats::run_key(&path)) {
                            files.push(path);
                        }
                    }
                }
                Err(e) => report_error(err, &e)?,
            }
        }
    }

    let mut runs: Vec<Checked> = Vec::new();
    for loaded in load_many(&files, &opts, &cfg) {
        match loaded {
            Ok(mut r) => runs.append(&mut r),
            Err(e) => report_error(err, &e)?,
        }
    }

    // Names among the runs checked, and the flags across them.
    let items: Vec<(&Path, Option<&str>)> =
        runs.iter().map(|c| (c.digest.path.as_path(), c.report.recorded_name.as_deref())).collect();
    let names = crate::run::naming::names_for(&items);
    for (c, n) in runs.iter_mut().zip(&names) {
        c.report.name = n.clone();
    }
    let digests: Vec<RunDigest> = runs.iter().map(|c| c.digest.clone()).collect();
    let cross = compare_digests(&digests, &names, &cfg);
    let cross_of = |i: usize| -> Vec<&CrossFlag> { cross.iter().filter(|c| c.run == i).collect() };

    let mut order: Vec<usize> = (0..runs.len()).collect();
    let reports: Vec<RunReport> = runs.iter().map(|c| c.report.clone()).collect();
    if let Some(metric) = &args.sort {
        if !reports.iter().any(|r| r.metrics.iter().any(|m| &m.name == metric)) && !reports.is_empty() {
            let mut known: Vec<&str> =
                reports.iter().flat_map(|r| r.metrics.iter().map(|m| m.name.as_str())).collect();
            known.sort_unstable();
            known.dedup();
            known.truncate(12);
            return Err(CheckError::Tmon(Error::Usage(format!(
                "--sort '{metric}': no run logs this metric (some that are: {})",
                known.join(", ")
            ))));
        }
        many::sort_by_metric(&mut order, &reports, metric);
    }

    for r in &reports {
        if r.records == 0 {
            outcome = outcome.max(Outcome::Empty);
            let what = if r.skipped_lines > 0 {
                format!("{} lines, none of them a record", crate::text::count(r.skipped_lines))
            } else {
                "an empty log, or a file with no metrics".to_owned()
            };
            writeln!(err, "tmon: {}: no records ({what}); exit status 4", crate::text::sanitize(&r.path))?;
        }
    }

    let mut failing = 0usize;
    for (i, r) in reports.iter().enumerate() {
        let worst = r.worst().max(cross_of(i).iter().map(|c| c.flag.severity).max());
        if worst.is_some_and(|w| w >= args.fail_on) {
            failing += 1;
            outcome = outcome.max(Outcome::Flagged);
        }
    }

    if args.json {
        let sorted: Vec<RunReport> = order.iter().map(|&i| reports[i].clone()).collect();
        let flags: Vec<CompareFlag> = cross.iter().map(CompareFlag::from).collect();
        let doc = Document { runs: &sorted, compare: Compare { flags: &flags } };
        crate::text::to_json_writer(&mut *out, &doc).map_err(io::Error::from)?;
        writeln!(out)?;
    } else if reports.len() == 1 {
        out.write_all(text::render_run(&reports[0]).as_bytes())?;
    } else if !reports.is_empty() {
        let quiet = Duration::try_from_secs_f64(cfg.run_stopped_min_seconds).unwrap_or(Duration::MAX);
        let rows: Vec<many::Row<'_>> = order
            .iter()
            .map(|&i| {
                let c = cross_of(i);
                many::Row {
                    report: &reports[i],
                    status: many::status(&reports[i], &c, runs[i].silent, quiet),
                    cross: c,
                }
            })
            .collect();
        let metrics = many::main_metrics(&reports, args.sort.as_deref());
        let configs: Vec<_> = reports.iter().map(|r| &r.config).collect();
        let keys = crate::run::config::differing(&configs);
        writeln!(out, "runs ({}):", crate::text::count(reports.len() as u64))?;
        out.write_all(many::render_table(&rows, &metrics, &keys).as_bytes())?;
        for row in &rows {
            writeln!(out)?;
            let cross_rows: Vec<FlagRow> = row.cross.iter().map(|c| FlagRow::from(&c.flag)).collect();
            out.write_all(text::render_compact(row.report, &cross_rows).as_bytes())?;
        }
    }
    if !args.json && (reports.len() > 1 || outcome >= Outcome::Unreadable) {
        writeln!(out)?;
        writeln!(out, "{}", summary(reports.len(), failing, args.fail_on, outcome))?;
    }
    out.flush()?;
    Ok(outcome)
}

/// Reads `files`, several at once (see the module docs); one result per file, in order.
fn load_many(files: &[PathBuf], opts: &IngestOptions, cfg: &FlagConfig) -> Vec<Result<Vec<Checked>, Error>> {
    let cores = crate::formats::par::threads();
    let workers = cores.min(files.len());
    if workers <= 1 {
        // A lone file's runs are compared only with each other.
        let alone = files.len() == 1;
        return files.iter().map(|f| load_one(f, opts, cfg, Threads::Auto, alone)).collect();
    }
    // With a file for every core, each is read on one thread; with fewer, a big JSON Lines file
    // also gets the loader's second thread.
    let threads = if files.len() >= cores { Threads::One } else { Threads::Auto };
    let next = AtomicUsize::new(0);
    let budget = (Mutex::new(0u64), Condvar::new());
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..workers {
            let (tx, next, budget) = (tx.clone(), &next, &budget);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let size = std::fs::metadata(path).map_or(0, |m| m.len());
                {
                    let (lock, cv) = budget;
                    let mut used = lock.lock().unwrap_or_else(|e| e.into_inner());
                    while *used > 0 && *used + size > BYTES_IN_FLIGHT {
                        used = cv.wait(used).unwrap_or_else(|e| e.into_inner());
                    }
                    *used += size;
                }
                let r = load_one(path, opts, cfg, threads, false);
                {
                    let (lock, cv) = budget;
                    let mut used = lock.lock().unwrap_or_else(|e| e.into_inner());
                    *used -= size;
                    cv.notify_all();
                }
                if tx.send((i, r)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut out: Vec<Option<Result<Vec<Checked>, Error>>> = (0..files.len()).map(|_| None).collect();
        for (i, r) in rx {
            out[i] = Some(r);
        }
        out.into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| Err(Error::Read { path: files[i].clone(), reason: "not read".into() }))
            })
            .collect()
    })
}

/// Reads one file's runs and keeps what `check` needs of each. `alone`: the only file checked,
/// so its runs are compared only with each other: with fewer than [`min_runs`] of them, the
/// digests need no profile.
fn load_one(
    path: &Path,
    opts: &IngestOptions,
    cfg: &FlagConfig,
    threads: Threads,
    alone: bool,
) -> Result<Vec<Checked>, Error> {
    paths::check_readable(path)?;
    let runs = Run::load_all_with(path, opts.clone(), cfg.clone(), threads)?;
    let silent = silence(path);
    let compared = !alone || runs.len() >= min_runs(cfg);
    Ok(runs
        .into_iter()
        .map(|mut run| {
            let problems = run.read_config();
            let mut report = RunReport::from_run(display(&run.path), &run);
            report.config_problems = problems;
            if report.model.is_none() {
                // The model printed in the stdout log kept beside the run's log.
                if let Some(m) = crate::model::beside::read(&run.path) {
                    report.model = Some(m.to_json());
                    report.model_line = Some(m.summary());
                }
            }
            let digest = if compared { RunDigest::of(&run, silent) } else { RunDigest::bare(&run, silent) };
            Checked { report, digest, silent }
        })
        .collect())
}

/// How long ago the run was last written: its file's modification time, or the newest of a run
/// folder's files (TensorBoard, MLflow).
fn silence(path: &Path) -> Option<Duration> {
    let meta = std::fs::metadata(path).ok()?;
    let newest = if meta.is_dir() {
        std::fs::read_dir(path).ok()?.filter_map(|e| e.ok()?.metadata().ok()?.modified().ok()).max()?
    } else {
        meta.modified().ok()?
    };
    Some(SystemTime::now().duration_since(newest).unwrap_or_default())
}

fn summary(files: usize, failing: usize, fail_on: Severity, outcome: Outcome) -> String {
    let noun = if files == 1 { "file" } else { "files" };
    let mut s = format!("checked {files} {noun}: {failing} with a flag at {fail_on} or above");
    if outcome == Outcome::Unreadable {
        s.push_str("; some paths could not be read (messages on stderr)");
    }
    if outcome == Outcome::Empty {
        s.push_str("; some files had no records (messages on stderr)");
    }
    s
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
