//! `tmon check --follow` holds a crash flag for its verdict (issue 13): a traceback the run went
//! on from is printed once, as info ("caught, not fatal"), and its `--on-flag` hook never hears of
//! a critical crash; a traceback the run died of (nothing follows it) is printed critical once the
//! run has been quiet for `follow::CRASH_HOLD`, and the hook runs for it. Through the binary.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).create(true).open(path).expect("open");
    f.write_all(text.as_bytes()).expect("append");
}

fn records(steps: std::ops::Range<u64>) -> String {
    steps
        .map(|s| {
            format!("{{\"step\": {s}, \"loss\": {:.5}, \"lr\": 0.001}}\n", 2.0 / (1.0 + 0.01 * s as f64))
        })
        .collect()
}

const TRACEBACK: &str = "Traceback (most recent call last):\n  File \"train.py\", line 42, in <module>\n    loss.backward()\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n";

#[test]
fn a_crash_is_printed_once_its_verdict_is_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("run.jsonl");
    let hooks = dir.path().join("hooks.txt");
    append(&log, &records(1..41));
    let hook = format!("echo \"$TMON_SEVERITY $TMON_KIND $TMON_STEP\" >> '{}'", hooks.display());
    let log_arg = log.display().to_string();
    let (mut child, lines) = crate::support::cli::spawn_lines([
        "check",
        "--follow",
        "--json",
        "--poll",
        "50",
        "--on-flag",
        &hook,
        &log_arg,
    ]);
    // Only the crash flags' lines, parsed.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for (at, line) in lines {
            let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
            if v["kind"] == "crash" && tx.send((at, v)).is_err() {
                break;
            }
        }
    });
    // Let it read the history and start following.
    std::thread::sleep(Duration::from_millis(500));

    // Caught: the next record goes on, a moment later (well within the hold).
    append(&log, TRACEBACK);
    std::thread::sleep(Duration::from_millis(300));
    append(&log, &records(41..46));
    let (_, caught) = rx.recv_timeout(Duration::from_secs(20)).expect("the caught error's line");
    assert_eq!(caught["severity"], "info", "{caught}");
    assert_eq!(caught["step"].as_f64(), Some(40.0), "{caught}");
    assert!(caught["message"].as_str().is_some_and(|m| m.contains("caught, not fatal")), "{caught}");

    // Fatal: nothing follows; printed critical after the hold.
    let t0 = Instant::now();
    append(&log, TRACEBACK);
    let (at, fatal) = rx.recv_timeout(Duration::from_secs(20)).expect("the fatal crash's line");
    assert_eq!(fatal["severity"], "critical", "{fatal}");
    assert_eq!(fatal["step"].as_f64(), Some(45.0), "{fatal}");
    assert!(at - t0 >= Duration::from_secs(2), "held for its verdict: printed after {:?}", at - t0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut heard = String::new();
    while Instant::now() < deadline {
        heard = std::fs::read_to_string(&hooks).unwrap_or_default();
        if heard.contains("critical crash") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        heard.lines().filter(|l| l.contains("crash")).collect::<Vec<_>>(),
        ["info crash 40", "critical crash 45"],
        "the hook heard each crash once, with its verdict"
    );
    assert!(rx.try_recv().is_err(), "each crash printed once");
}
