//! The live stall's thresholds are set like every other threshold: `--set live_stall.*`, through
//! the real binary (`tmon check --follow`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn live_stall_thresholds_come_from_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("run.jsonl");
    std::fs::write(&log, "{\"step\": 1, \"loss\": 1.0}\n{\"step\": 2, \"loss\": 0.9}\n").expect("write");
    let mut child = Command::new(crate::support::cli::BIN)
        .args(["check", "--follow", "--set", "live_stall.min_seconds=1", "--set", "live_stall.factor=1"])
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn tmon");
    let start = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // The default floor is 5 minutes: a stall within seconds can only come from `--set`.
    let got = rx.recv_timeout(Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    let line = got.expect("a stall flag within 20 s");
    assert!(line.contains("stall"), "{line}");
    assert!(start.elapsed() >= Duration::from_millis(900), "raised before the 1 s floor: {line}");

    let ran = crate::support::cli::tmon(
        ["check", "--set", "live_stall.factor=-1", log.to_str().unwrap()],
        Duration::from_secs(20),
    );
    assert_eq!(ran.code, Some(2), "a bad threshold is a usage error: {ran:?}");
}
