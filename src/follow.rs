//! Headless following (`tmon check --follow`): reads the logs, then keeps watching them and
//! prints each flag as one line when it fires, until told to stop.
//!
//! Order of output: first the flags raised by the content already in the files (with
//! [`FollowOptions::history`], on by default), then each new flag as it fires. `--on-flag`
//! commands run only for new flags, so restarting tmon does not page anyone again for old news.
//!
//! Text lines: `PATH: SEVERITY KIND METRIC STEP: MESSAGE` (`-` for an empty metric or no step),
//! everything from the log sanitised ([`crate::text::sanitize`]).
//! JSON lines (`--json`): `{"path", "kind", "severity", "metric", "step", "message"}`, the fields
//! of `tmon check --json` flags plus `path`; a non-finite step is the string "NaN"/"Infinity";
//! control and bidi characters are escaped as `\uXXXX` ([`crate::text::SafeJson`]).
//! Each line is flushed at once. Notes about files (waiting, deleted, cannot be read and why, can
//! be read again) go to stderr.

pub mod hook;

use crate::analysis::{Flag, FlagConfig, Severity};
use crate::error::Error;
use crate::ingest::IngestOptions;
use crate::run::live::{Entry, Feed, LiveFile, LiveSet};
use crate::run::{Fed, Run};
use crate::source::{FileState, SourceEvent, Sources};
use crate::text::{self, sanitize};
use hook::Hooks;
use serde::Serialize;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to follow.
#[derive(Clone, Debug)]
pub struct FollowOptions {
    /// One JSON object per flag instead of text.
    pub json: bool,
    /// Run this through `sh -c` for each new flag (details in `TMON_*` variables).
    pub on_flag: Option<String>,
    /// `--poll MS`: poll at this interval, without inotify.
    pub poll: Option<Duration>,
    /// Stop (returning normally) after a *new* flag of at least this severity (flags from the
    /// content already there do not count), once its `--on-flag` command has finished.
    pub exit_on: Option<Severity>,
    /// Print the flags raised by the content already in the files. Default true.
    pub history: bool,
    pub ingest: IngestOptions,
    /// Every threshold, the live stall's (`live_stall.*`) included.
    pub flags: FlagConfig,
    /// An `--on-flag` command running longer is killed. Default 30 s.
    pub hook_timeout: Duration,
    /// A file descriptor (unix) to watch for its reader going away: the binary's stdout. A pipe
    /// whose read end closed (`tmon check --follow | head -c 10`) or a hung-up terminal or socket
    /// ends following at the next tick, not at the next flag, which may never come.
    pub watch_output: Option<i32>,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            json: false,
            on_flag: None,
            poll: None,
            exit_on: None,
            history: true,
            ingest: IngestOptions::default(),
            flags: FlagConfig::default(),
            hook_timeout: Duration::from_secs(30),
            watch_output: None,
        }
    }
}

/// What happened while following.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FollowSummary {
    /// Flags printed (history included).
    pub flags: usize,
    /// The worst severity printed.
    pub worst: Option<Severity>,
    /// Following ended because a flag reached [`FollowOptions::exit_on`].
    pub exited_on_flag: bool,
    /// Following ended because the output's reader went away (a write failed with a broken pipe,
    /// or [`FollowOptions::watch_output`] saw the other end close).
    pub output_closed: bool,
}

/// How often the wall-clock stall is checked, and `stop` and the output looked at.
const TICK: Duration = Duration::from_millis(200);
/// Events handled between two looks at the clock and the stop flag.
const MAX_BATCH: usize = 256;

/// A crash flag waits this long for its verdict before it is printed as raised (critical, with
/// its `--on-flag` hook): the next record tells whether the run died of the error or went on from
/// it ("caught, not fatal", info). The wait starts again while the file still grows (the rest of
/// a traceback). The end of the content already there, and the end of following, print it at
/// once.
pub const CRASH_HOLD: Duration = Duration::from_secs(3);

/// A followed file and how many of its flags were printed.
struct Followed {
    live: LiveFile,
    printed: usize,
    label: String,
    /// While a crash flag waits for its verdict: since when the run has been quiet, and its
    /// records and skipped lines then (a change starts the wait again).
    crash_hold: Option<(Instant, usize, u64)>,
}

impl Followed {
    /// How many of the run's flags may be printed at `now`: all, but for a crash flag that waits
    /// for its verdict (see [`CRASH_HOLD`]) and the flags after it.
    fn printable(&mut self, now: Instant) -> usize {
        let run = &self.live.run;
        let all = run.flags().len();
        let Some(i) = run.analyzer.undecided_crash().filter(|&i| i >= self.printed && i < all) else {
            self.crash_hold = None;
            return all;
        };
        let activity = (run.store.records(), run.store.skipped.count);
        let since = match self.crash_hold {
            Some((t, r, k)) if (r, k) == activity => t,
            _ => {
                self.crash_hold = Some((now, activity.0, activity.1));
                now
            }
        };
        if now.saturating_duration_since(since) >= CRASH_HOLD {
            all
        } else {
            i
        }
    }
}

impl Entry for Followed {
    fn live(&self) -> &LiveFile {
        &self.live
    }
    fn live_mut(&mut self) -> &mut LiveFile {
        &mut self.live
    }
    fn name_run(&mut self, path: &Path) {
        self.label = path.display().to_string();
    }
}

struct Printer<'a, W: Write> {
    out: &'a mut W,
    json: bool,
    hooks: Option<Hooks>,
    summary: FollowSummary,
    exit_on: Option<Severity>,
    /// The reader of the output went away (a closed pipe): following ends quietly.
    closed: bool,
}

/// Follows `paths` (files, files that do not exist yet, directories) until `stop` becomes true
/// (the binary sets it on Ctrl-C or SIGTERM), the output is closed, or a flag reaches
/// `exit_on`. Each flag is written to `out` as one line and flushed.
///
/// Errors: a path that exists but is not a readable file or directory (checked before following).
pub fn follow<W: Write>(
    paths: &[PathBuf],
    opts: &FollowOptions,
    out: &mut W,
    stop: Arc<AtomicBool>,
) -> Result<FollowSummary, Error> {
    for p in paths {
        check_path(p)?;
    }
    let mut printer = Printer {
        out,
        json: opts.json,
        hooks: opts.on_flag.clone().map(|c| Hooks::new(c, opts.hook_timeout)),
        summary: FollowSummary::default(),
        exit_on: opts.exit_on,
        closed: false,
    };
    let mut files: LiveSet<Followed> = LiveSet::default();
    let mut sources = Sources::new(paths, crate::run::live::source_options(opts.poll));

    // The content already there, read synchronously so history and news can be told apart.
    let now = Instant::now();
    let mut evs = Vec::new();
    loop {
        let more = sources.poll(now, &mut evs);
        for ev in evs.drain(..) {
            apply(&mut files, opts, ev, now);
        }
        if !more {
            break;
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(printer.summary);
        }
        if opts.watch_output.is_some_and(output_gone) {
            printer.summary.output_closed = true;
            return Ok(printer.summary);
        }
    }
    files.settle(now);
    for f in files.iter_mut() {
        if opts.history {
            printer.print_new(f, false, None)?;
            if printer.closed {
                printer.summary.output_closed = true;
                return Ok(printer.summary);
            }
        } else {
            f.printed = f.live.run.flags().len();
        }
    }

    let (tx, rx) = mpsc::channel();
    let feed = Feed::start(sources, move |ev| tx.send(ev).is_ok())
        .map_err(|e| Error::Usage(format!("cannot start the file watcher: {e}")))?;
    if let Some(n) = feed.notice() {
        eprintln!("tmon: {}", sanitize(&n));
    }
    let mut next_tick = Instant::now() + TICK;
    let mut touched = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        // A decoder holding a step's values wakes the loop once its files are quiet.
        let wake = files.held_until().map_or(next_tick, |t| t.min(next_tick));
        let timeout = wake.saturating_duration_since(Instant::now());
        match rx.recv_timeout(timeout) {
            Ok(ev) => {
                let now = Instant::now();
                // Bounded, so a writer faster than us cannot starve the stop and stall checks.
                for ev in std::iter::once(ev).chain(rx.try_iter().take(MAX_BATCH)) {
                    feed.taken(&ev);
                    touched.push(ev.file());
                    apply(&mut files, opts, ev, now);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        if files.held_until().is_some_and(|t| now >= t) {
            touched.extend(files.feed_held(now));
        }
        if now >= next_tick {
            next_tick = now + TICK;
            files.tick(now);
            touched.extend(0..files.len());
            if opts.watch_output.is_some_and(output_gone) {
                printer.closed = true;
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for i in touched.drain(..) {
            if let Some(f) = files.get_mut(i) {
                printer.print_new(f, true, Some(now))?;
            }
        }
        if printer.summary.exited_on_flag || printer.closed {
            break;
        }
    }
    drop(feed);
    // Crash flags still waiting for their verdict: what was read is all there is.
    let before = printer.summary.flags;
    if !printer.summary.exited_on_flag && !printer.closed {
        for f in files.iter_mut() {
            printer.print_new(f, true, None)?;
        }
    }
    let held_printed = printer.summary.flags > before;
    printer.summary.output_closed = printer.closed;
    if printer.summary.exited_on_flag || held_printed {
        if let Some(h) = &printer.hooks {
            h.wait_idle(opts.hook_timeout);
        }
    }
    Ok(printer.summary)
}

/// A stop flag set by Ctrl-C (SIGINT) and SIGTERM, for [`follow`]. The signals then no longer
/// kill the process: `follow` returns and the program exits 0.
pub fn stop_on_signals() -> std::io::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    {
        signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone())?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone())?;
    }
    Ok(stop)
}

/// Whether the reader of `fd` went away: poll(2) reports POLLERR on a pipe's write end once its
/// read end is closed, and POLLHUP on a socket or terminal that hung up. Nothing is written (a
/// write of zero bytes to such a pipe succeeds on Linux).
fn output_gone(fd: i32) -> bool {
    #[cfg(unix)]
    {
        let mut p = libc::pollfd { fd, events: 0, revents: 0 };
        // SAFETY: one valid pollfd, a zero timeout; poll only fills `revents`.
        let n = unsafe { libc::poll(&mut p, 1, 0) };
        n > 0 && p.revents & (libc::POLLERR | libc::POLLHUP) != 0
    }
    #[cfg(not(unix))]
    {
        let _ = fd;
        false
    }
}

fn check_path(p: &Path) -> Result<(), Error> {
    match std::fs::metadata(p) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            eprintln!("tmon: waiting for '{}' to appear", sanitize(&p.display().to_string()));
            Ok(())
        }
        Err(e) => Err(Error::io(p, e)),
        Ok(m) if m.is_dir() => std::fs::read_dir(p).map(|_| ()).map_err(|e| Error::io(p, e)),
        Ok(m) if m.is_file() => std::fs::File::open(p).map(|_| ()).map_err(|e| Error::io(p, e)),
        Ok(_) => {
            Err(Error::Read { path: p.to_owned(), reason: "not a regular file or a directory".to_owned() })
        }
    }
}

/// Feeds one event to the live set; says on stderr when a file was deleted, cannot be read, or
/// can be read again.
fn apply(files: &mut LiveSet<Followed>, opts: &FollowOptions, ev: SourceEvent, now: Instant) {
    let new = |path: &Path| Followed {
        live: LiveFile::new(Run::new(path, opts.ingest.clone(), opts.flags.clone())),
        printed: 0,
        label: path.display().to_string(),
        crash_hold: None,
    };
    let was = match &ev {
        SourceEvent::State { file, .. } => files.get(*file).map(|f| f.live.state),
        _ => None,
    };
    match files.apply(ev, now, new) {
        Fed::State { file, state: FileState::Gone } => eprintln!(
            "tmon: '{}' was deleted; what was read is kept, waiting for it to return",
            sanitize(&files[file].label)
        ),
        Fed::Unreadable { file, reason } => eprintln!(
            "tmon: '{}' cannot be read: {}; what was read is kept, trying again",
            sanitize(&files[file].label),
            sanitize(&reason)
        ),
        Fed::State { file, state: FileState::Live } if was == Some(FileState::Unreadable) => {
            eprintln!("tmon: '{}' can be read again", sanitize(&files[file].label))
        }
        _ => {}
    }
}

impl<W: Write> Printer<'_, W> {
    /// Prints the flags of `f` not printed yet (and runs the hooks for them when `live`). Live, a
    /// crash flag waiting for its verdict is held (see [`CRASH_HOLD`]), unless `now` is `None`
    /// (the end: everything is printed).
    fn print_new(&mut self, f: &mut Followed, live: bool, now: Option<Instant>) -> Result<(), Error> {
        let upto = match now {
            Some(now) if live => f.printable(now),
            _ => f.live.run.flags().len(),
        };
        while f.printed < upto && !self.closed {
            let flag = &f.live.run.flags()[f.printed];
            f.printed += 1;
            self.print(&f.label, flag)?;
            if live {
                if let Some(h) = &self.hooks {
                    h.fire(&f.label, flag);
                }
                if self.exit_on.is_some_and(|s| flag.severity >= s) {
                    self.summary.exited_on_flag = true;
                }
            }
        }
        Ok(())
    }

    fn print(&mut self, path: &str, flag: &Flag) -> Result<(), Error> {
        self.summary.flags += 1;
        self.summary.worst = self.summary.worst.max(Some(flag.severity));
        let line = if self.json { json_line(path, flag) } else { text_line(path, flag) };
        let r = self.out.write_all(line.as_bytes()).and_then(|_| self.out.flush());
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(Error::Read { path: PathBuf::from("<output>"), reason: e.to_string() }),
        }
    }
}

/// A flag's step as people read it (`1200`, `0.5`), `-` for a flag without one.
pub fn flag_step(step: f64) -> String {
    if step.is_nan() {
        "-".to_owned()
    } else {
        text::step(step)
    }
}

/// One text line (with its newline) for a flag. Everything from the log (the path, the metric,
/// the message quoting it) is sanitised: a newline in a metric name cannot start a line of its
/// own, and escape sequences reach the terminal as inert text.
pub fn text_line(path: &str, flag: &Flag) -> String {
    let metric = if flag.metric.is_empty() { "-".into() } else { sanitize(&flag.metric) };
    format!(
        "{}: {} {} {metric} {}: {}\n",
        sanitize(path),
        flag.severity,
        flag.kind,
        flag_step(flag.step),
        sanitize(&flag.message)
    )
}

#[derive(Serialize)]
struct JsonLine<'a> {
    path: &'a str,
    kind: &'a str,
    severity: &'a str,
    /// `null` for a flag about the whole run (as `tmon check --json` writes it).
    metric: Option<&'a str>,
    step: serde_json::Value,
    message: &'a str,
}

/// One JSON line (with its newline) for a flag.
pub fn json_line(path: &str, flag: &Flag) -> String {
    let step = match text::nonfinite(flag.step) {
        None => serde_json::json!(flag.step),
        Some(name) => serde_json::json!(name),
    };
    let j = JsonLine {
        path,
        kind: flag.kind.as_str(),
        severity: flag.severity.as_str(),
        metric: (!flag.metric.is_empty()).then_some(flag.metric.as_str()),
        step,
        message: &flag.message,
    };
    let mut s = text::to_json_string(&j);
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::FlagKind;

    /// The analyzer's flag for a loss that becomes NaN, moved to `step`, with a message on two
    /// lines (as a message quoting a log could be).
    fn flag(step: f64) -> Flag {
        let mut run = Run::new("a.jsonl", IngestOptions::default(), FlagConfig::default());
        run.push_line(1, b"{\"step\": 908, \"loss\": 1.5}");
        run.push_line(2, b"{\"step\": 909, \"loss\": NaN}");
        let mut flag = run.flags().first().cloned().expect("a nonfinite flag");
        assert_eq!((flag.kind, flag.severity), (FlagKind::Nonfinite, Severity::Critical));
        flag.step = step;
        flag.message = "loss became NaN\nat step 909".into();
        flag
    }

    #[test]
    fn text_and_json_lines() {
        assert_eq!(
            text_line("run/a.jsonl", &flag(909.0)),
            "run/a.jsonl: critical nonfinite loss 909: loss became NaN\\nat step 909\n"
        );
        let j: serde_json::Value = serde_json::from_str(&json_line("a \"b\".jsonl", &flag(909.0))).unwrap();
        assert_eq!(j["path"], "a \"b\".jsonl");
        assert_eq!(j["kind"], "nonfinite");
        assert_eq!(j["severity"], "critical");
        assert_eq!(j["metric"], "loss");
        assert_eq!(j["step"], 909.0);
        assert_eq!(j["message"], "loss became NaN\nat step 909");
        let j: serde_json::Value = serde_json::from_str(&json_line("a", &flag(f64::NAN))).unwrap();
        assert_eq!(j["step"], "NaN");
        assert_eq!(flag_step(0.5), "0.5");
        assert_eq!(flag_step(f64::NAN), "-");
    }

    #[test]
    fn nothing_from_the_log_reaches_the_terminal_raw() {
        let mut f = flag(3.0);
        f.metric = "loss\u{1b}]0;t\u{7}\n\u{202e}x\u{9b}".into();
        let text = text_line("a\u{1b}[2J.jsonl", &f);
        assert_eq!(text.matches('\n').count(), 1, "{text:?}");
        assert!(
            text.starts_with("a\\x1b[2J.jsonl: critical nonfinite loss\\x1b]0;t\\x07\\n\\u202ex\\x9b 3: "),
            "{text:?}"
        );
        let json = json_line("a\u{202e}.jsonl", &f);
        assert!(json.is_ascii() && json.contains(r"\u202e") && json.contains(r"\u009b"), "{json}");
        let j: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(j["metric"], f.metric.as_str());
    }
}
