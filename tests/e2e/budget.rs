//! The byte budget through the binary, in tmux: a run written at 100 lines a second reaches the
//! terminal at about `--max-output` kilobytes a second, with its newest step on screen within a
//! second of the writer stopping; with no limit the same run sends several times more.

use crate::support::term::*;
use std::io::Write;
use std::time::{Duration, Instant};

const SECS: u64 = 5;
const RATE: u64 = 100;

fn line(step: u64) -> String {
    let loss = 2.0 * (-(step as f64) / 3000.0).exp() + 0.5 + 0.03 * ((step * 7919 % 101) as f64 / 101.0);
    format!(
        "{{\"step\": {step}, \"loss\": {loss:.4}, \"lr\": 0.0003, \"grad_norm\": {:.4}, \"acc\": {:.4}, \
         \"tokens_per_s\": {}, \"epoch\": {:.3}}}\n",
        0.9 + 0.1 * ((step * 31 % 17) as f64 / 17.0),
        0.9 - 0.4 * (-(step as f64) / 4000.0).exp(),
        52_000 + step * 13 % 900,
        step as f64 / 2500.0
    )
}

/// Bytes sent to the terminal while the run is written at [`RATE`] lines a second for [`SECS`]
/// seconds, under `--max-output KB`, and how long after the writer stopped its last step showed.
fn follow(tag: &str, kb: &str) -> Option<(u64, Duration)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("logs.jsonl");
    std::fs::write(&log, (1..=1000).map(line).collect::<String>()).expect("write");
    let out = tempfile::NamedTempFile::new().expect("pipe file");
    let cmd = tmon_cmd(None, &["--max-output", kb, log.to_str().unwrap()]);
    let tmux = tmux(tag, &around(&cmd))?;
    tmux.wait_for("the log loaded", |s| s.lines().next().is_some_and(|h| h.contains("step 1000")));
    let pipe = format!("cat >> '{}'", out.path().display());
    assert!(tmux.cmd(&["pipe-pane", "-o", "-t", "e2e", &pipe]).status.success());
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).expect("open log");
    let t0 = Instant::now();
    let last = 1000 + RATE * SECS;
    for step in 1001..=last {
        let due = t0 + Duration::from_millis((step - 1001) * 1000 / RATE);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        f.write_all(line(step).as_bytes()).expect("append");
    }
    let stopped = Instant::now();
    tmux.wait_for("the last step", |s| s.lines().next().is_some_and(|h| h.contains(&format!("step {last}"))));
    let lag = stopped.elapsed();
    tmux.cmd(&["pipe-pane", "-t", "e2e"]);
    let bytes = std::fs::metadata(out.path()).expect("pipe file").len();
    tmux.keys(&["q"]);
    Some((bytes, lag))
}

#[test]
fn a_fast_run_reaches_the_terminal_within_the_byte_budget() {
    let Some((budgeted, lag)) = follow("budget", "3") else { return };
    // 3 KB a second over the writing, a second's credit saved up before, and slack for the tail
    // (the last frames and the time it took to see them).
    let limit = 3_000 * (SECS + 1) * 3 / 2 + 3_000;
    assert!(
        budgeted <= limit,
        "{budgeted} bytes to the terminal in {SECS} s under --max-output 3 (limit {limit})"
    );
    // Never more than a second behind (plus the poll of the screen and a loaded machine's slack).
    assert!(lag < Duration::from_millis(2500), "the last step showed {lag:?} after the writer stopped");

    let Some((free, _)) = follow("nobudget", "0") else { return };
    assert!(free > 2 * budgeted, "no limit sent {free} bytes, the budget {budgeted}: the budget did nothing");
}
