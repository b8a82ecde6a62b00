//! An idle watcher on a local disk does not wake: no periodic poll (only the 30 s safety net),
//! nothing else. Counted from outside, as the monitor benchmark does: the voluntary context
//! switches of the watcher's threads in /proc (one test in this binary, so the threads are ours).
#![cfg(target_os = "linux")]

mod support;

use std::time::{Duration, Instant};
use support::tail::*;
use tmon::source::fs_kind::Trust;
use tmon::source::SourceOptions;

/// Voluntary context switches of this process's threads named `tmon-source` or `notify-rs…`.
fn watcher_wakeups() -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc") {
        let task = task.expect("task").path();
        let comm = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        if !(comm.starts_with("tmon-source") || comm.starts_with("notify-rs")) {
            continue;
        }
        let status = std::fs::read_to_string(task.join("status")).unwrap_or_default();
        total += status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

#[test]
fn an_idle_watcher_on_a_local_disk_sleeps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    append(&path, lines(0..100).as_bytes());
    let mut c = Collector::start(std::slice::from_ref(&path), SourceOptions::default());
    c.wait_for("history", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 100));
    let t0 = Instant::now();
    while c.handle.as_ref().expect("running").trust() != Trust::Local {
        assert!(t0.elapsed() < DEADLINE, "not trusted: {:?}", c.handle.as_ref().map(|h| h.trust()));
        c.pump(Duration::from_millis(20));
    }
    // Past the one look taken once the start has settled.
    c.settle(Duration::from_millis(1500));
    let before = watcher_wakeups();
    std::thread::sleep(Duration::from_secs(5));
    let woke = watcher_wakeups() - before;
    // Polling every second, as before, would be 5 or more.
    assert!(woke <= 1, "the idle watcher woke {woke} times in 5 s");
    // Still awake to a change.
    append(&path, lines(100..101).as_bytes());
    c.wait_for("an append", |c| c.file(0).current().steps().len() == 101);
    assert!(watcher_wakeups() > before, "the counter counts");
}
