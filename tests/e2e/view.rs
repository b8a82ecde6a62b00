//! A view change on a big run through the binary, in tmux (issue 14, "Big logs stay
//! responsive"): the smoother changed on a million-record log is computed away from the loop, so
//! the key after it (moving the selection) is answered while the charts still show their last
//! frame marked "computing…", and the new smoother is drawn once the worker is done.

use crate::support::term::*;
use std::io::Write;
use std::time::{Duration, Instant};

const LINES: u64 = 1_000_000;

/// Polls the pane with no pause (a capture takes a few milliseconds) until `cond` holds, for up
/// to `limit`; every capture is also handed to `seen`.
fn poll(tmux: &Tmux, what: &str, limit: Duration, mut seen: impl FnMut(&str), cond: impl Fn(&str) -> bool) {
    let start = Instant::now();
    loop {
        let screen = tmux.capture();
        seen(&screen);
        if cond(&screen) {
            return;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}; screen:\n{screen}");
    }
}

#[test]
fn the_next_key_is_answered_while_a_new_smoother_is_computed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("logs.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&log).expect("create"));
    for step in 1..=LINES {
        let x = step as f64;
        writeln!(
            out,
            "{{\"step\":{step},\"time\":{:.2},\"loss\":{:.4},\"acc\":{:.4},\"grad_norm\":{:.3},\"lr\":0.0003}}",
            1.7e9 + x * 0.05,
            2.0 * (-x / 3e5).exp() + 0.02 * ((step * 7919 % 101) as f64 / 101.0),
            0.9 - 0.4 * (-x / 4e5).exp(),
            1.0 + ((step * 31 % 17) as f64 / 17.0),
        )
        .expect("write");
    }
    drop(out);
    let Some(tmux) = tmux("view", &around(&tmon_cmd(None, &[log.to_str().unwrap()]))) else { return };
    let last = format!("step {LINES} ");
    poll(
        &tmux,
        "the log loaded",
        Duration::from_secs(120),
        |_| {},
        |s| {
            s.lines().next().is_some_and(|h| h.contains(&last) && !h.contains("loading"))
                && !s.contains("computing")
        },
    );
    let screen = tmux.capture();
    let first = selected(&screen).expect("a metric is selected");
    assert!(screen.contains("EMA 0.6"), "the default smoother:\n{screen}");
    // `m` twice (the Gaussian), then `j`, sent at once: the loop takes the three keys together.
    tmux.cmd(&["send-keys", "-t", "e2e", "m", "m", "j"]);
    let mut answered_while_computing = false;
    poll(
        &tmux,
        "the Gaussian drawn",
        Duration::from_secs(60),
        |s| {
            let moved = selected(s).is_some_and(|n| n != first);
            answered_while_computing |= moved && s.contains("computing…") && s.contains("Gaussian");
        },
        |s| s.contains("Gaussian") && !s.contains("computing") && selected(s).is_some_and(|n| n != first),
    );
    assert!(
        answered_while_computing,
        "no frame showed the selection moved while the charts were still computing"
    );
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
    assert_restored(&screen, "q");
}
