//! `tmon demo`: trains a small model in-process with the training harness (real gradient descent
//! on generated data) and writes its JSON Lines log at a human pace, so a new user sees curves grow
//! and flags fire before wiring tmon into their own training.
//!
//! The harness keeps a simulated clock (so its logs are the same on every machine); the demo moves
//! that clock to start now, keeping its gaps, so a `stall` scenario still shows its 30-minute pause.

use crate::harness::{Scenario, Setup, Trainer};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What `tmon demo` was asked to do.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub scenario: Scenario,
    /// Training steps written per second of wall time.
    pub speed: f64,
    /// Steps written at once before pacing starts, so there is history to look at.
    pub history: u64,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions { scenario: Scenario::Diverging, speed: 10.0, history: 200, seed: 1 }
    }
}

/// The harness setup the demo uses: the scenario's own, with its event brought forward where the
/// scenario would otherwise keep a new user waiting for minutes.
pub fn demo_setup(scenario: Scenario) -> Setup {
    let mut s = Setup::for_scenario(scenario);
    match scenario {
        Scenario::Diverging => s.lr_growth = s.lr_growth.map(|(_, f)| (220, f)),
        Scenario::Stall => s.pause = s.pause.map(|(_, secs)| (300, secs)),
        Scenario::Restart => s.crash_at = Some(320),
        _ => {}
    }
    s
}

/// Moves a harness line's simulated `time` so the run starts at `start` (unix seconds).
fn shift_time(line: &str, sim_start: f64, start: f64) -> String {
    let Some(at) = line.rfind("\"time\": ") else { return line.to_owned() };
    let value = &line[at + 8..line.len() - 1];
    match value.parse::<f64>() {
        Ok(t) => format!("{}\"time\": {:.3}}}", &line[..at], start + (t - sim_start)),
        Err(_) => line.to_owned(),
    }
}

/// The file the demo writes, and the private folder it is in when the user gave no `--out`.
///
/// The folder is made by `tempfile` (a random name, mode 0700) and the log is created in it with
/// `create_new`: another user can neither guess the path nor plant a symlink or a directory there
/// for the demo to write through (a predictable `/tmp/tmon-demo-<pid>/logs.jsonl` opened with
/// create+append once let root's demo append to a file of an attacker's choosing).
#[derive(Debug)]
pub struct DemoLog {
    pub path: PathBuf,
    file: std::fs::File,
    dir: Option<tempfile::TempDir>,
}

impl DemoLog {
    /// Opens the demo's log: at `out` (the user's own path: created, or appended to), or as
    /// `logs.jsonl` in a new private temporary folder, removed when this is dropped.
    pub fn create(out: Option<&Path>) -> std::io::Result<Self> {
        match out {
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
                Ok(DemoLog { path: path.to_owned(), file, dir: None })
            }
            None => {
                let mut builder = tempfile::Builder::new();
                builder.prefix("tmon-demo-");
                let mut open = std::fs::OpenOptions::new();
                open.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
                    builder.permissions(std::fs::Permissions::from_mode(0o700));
                    open.mode(0o600);
                }
                let dir = builder.tempdir()?;
                let path = dir.path().join("logs.jsonl");
                let file = open.open(&path)?;
                Ok(DemoLog { path, file, dir: Some(dir) })
            }
        }
    }

    /// The private folder, when the demo made one.
    pub fn temp_dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(|d| d.path())
    }

    /// Keeps the private folder after the demo ends (`--no-ui`: the user watches the log from
    /// elsewhere, so it must outlive the writer).
    pub fn keep(&mut self) {
        if let Some(d) = self.dir.take() {
            let _ = d.keep();
        }
    }

    fn handle(&self) -> std::io::Result<std::fs::File> {
        self.file.try_clone()
    }
}

/// Writes the demo's log to `log`, pacing it, until the run ends or `stop` is set.
/// Each line is flushed at once, as a training script should.
pub fn write_log(opts: &DemoOptions, log: &DemoLog, stop: &AtomicBool) -> std::io::Result<()> {
    write_to(opts, log.handle()?, stop)
}

fn write_to(opts: &DemoOptions, mut file: impl Write, stop: &AtomicBool) -> std::io::Result<()> {
    let mut trainer = Trainer::from_setup(demo_setup(opts.scenario), opts.seed);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let pace = Duration::from_secs_f64(1.0 / opts.speed.clamp(SPEED.0, SPEED.1));
    let mut sim_start = None;
    let mut last_step = f64::NAN;
    let mut next = Instant::now();
    while let Some(rec) = trainer.next_record() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let start = *sim_start.get_or_insert(rec.time);
        // Eval lines share their step with a train line: only a new step waits its turn.
        if rec.step != last_step && rec.step >= opts.history as f64 {
            next += pace;
            let wait = next.saturating_duration_since(Instant::now());
            std::thread::sleep(wait);
        }
        last_step = rec.step;
        writeln!(file, "{}", shift_time(&rec.line, start, now))?;
        file.flush()?;
    }
    Ok(())
}

/// The speeds (steps a second) `--speed` accepts: slower than one step in ten seconds shows
/// nothing, faster than 10,000 is no longer a pace.
pub const SPEED: (f64, f64) = (0.1, 10_000.0);

/// Starts the writer on a thread; the returned flag stops it.
pub fn spawn_writer(
    opts: DemoOptions,
    log: &DemoLog,
) -> std::io::Result<(Arc<AtomicBool>, std::thread::JoinHandle<std::io::Result<()>>)> {
    let file = log.handle()?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || write_to(&opts, file, &flag));
    Ok((stop, handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_moved_but_its_gaps_are_kept() {
        let line = r#"{"step": 3, "loss": 0.5, "time": 1767225610.500}"#;
        let out = shift_time(line, 1_767_225_600.0, 2_000_000_000.0);
        assert_eq!(out, r#"{"step": 3, "loss": 0.5, "time": 2000000010.500}"#);
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use crate::analysis::{Analyzer, FlagConfig, Severity};
    use crate::harness::feed;
    use crate::store::Store;

    /// The step at which a scenario's demo run first raises a flag of `min` severity or worse.
    fn first_flag(scenario: Scenario, min: Severity) -> Option<f64> {
        let mut trainer = Trainer::from_setup(demo_setup(scenario), 1);
        let (mut store, mut analyzer) = (Store::new(), Analyzer::new(FlagConfig::default()));
        let mut line = 0;
        while let Some(rec) = trainer.next_record() {
            line += 1;
            feed(&rec, line, &mut store, &mut analyzer);
            if let Some(f) = analyzer.flags().iter().find(|f| f.severity >= min) {
                return Some(f.step);
            }
        }
        None
    }

    #[test]
    fn the_default_demo_shows_a_flag_within_about_twenty_seconds() {
        let o = DemoOptions::default();
        let step = first_flag(o.scenario, Severity::Warning).expect("the default scenario raises a flag");
        let seconds = (step - o.history as f64).max(0.0) / o.speed;
        eprintln!("first warning at step {step}: {seconds:.1} s into the demo");
        assert!(seconds <= 22.0, "first warning after {seconds} s");
    }

    #[test]
    fn every_scenario_shows_its_problem_in_the_demo() {
        for &s in Scenario::ALL.iter().filter(|s| !s.is_control()) {
            // A restart is news, not a problem: it is raised as info.
            let min = if s == Scenario::Restart { Severity::Info } else { Severity::Warning };
            let step = first_flag(s, min);
            eprintln!("{s}: first warning at step {step:?}");
            assert!(step.is_some(), "{s} raised nothing in the demo setup");
        }
    }
}
