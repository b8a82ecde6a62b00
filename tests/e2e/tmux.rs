//! End to end in a real terminal, through tmux: open a log, see the metrics and a flag, press keys,
//! append lines and see them arrive, quit, and find the terminal restored.
//!
//! Drives the real `tmon` binary. Skips with a notice when tmux is not installed; fails then
//! under `TMON_REQUIRE_TOOLS=1`, as in CI.

use crate::support::term::*;
use std::io::Write;
use std::process::Command;

#[test]
fn monitor_in_a_real_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("logs.jsonl");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/train.jsonl");
    std::fs::copy(fixture, &log).expect("copy fixture");
    let Some(tmux) = tmux("monitor", &around(&tmon_cmd(None, &[log.to_str().unwrap()]))) else { return };

    // The metrics, the train/eval pair, the whole file read.
    let screen = tmux.wait_for("the metrics", |s| {
        s.contains("metrics (") && s.contains("grad_norm") && s.contains("val_loss") && s.contains("step 200")
    });
    // The flags panel: step 120 is the NaN line, a critical `nonfinite` on loss.
    let panel: Vec<&str> = screen.lines().skip_while(|l| !l.contains("flags (")).collect();
    assert!(
        panel
            .iter()
            .any(|l| l.contains("critical") && l.contains("step 120") && l.contains("loss became NaN")),
        "no nonfinite flag for step 120 in the flags panel:\n{screen}"
    );

    let first = selected(&screen).expect("a metric is selected");
    tmux.keys(&["j"]);
    let screen = tmux.wait_for("the selection to move", |s| selected(s).is_some_and(|n| n != first));
    let name = selected(&screen).expect("selected");
    tmux.keys(&["Enter"]);
    // One chart: the list and that chart side by side, no second chart in the row.
    tmux.wait_for("one chart", |s| {
        let row = s.lines().nth(1).unwrap_or("");
        row.matches("┐┌").count() == 1 && row.contains(&format!("┌ {name}"))
    });
    tmux.keys(&["l"]);
    tmux.wait_for("log y", |s| s.contains("log y"));
    tmux.keys(&["?"]);
    tmux.wait_for("the help", |s| s.contains("this help") && s.contains("pause updates"));
    tmux.keys(&["?"]);
    tmux.wait_for("the help closed", |s| !s.contains("this help"));

    // Lines appended by the training script arrive.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).expect("open log");
    for step in 201..=205 {
        writeln!(f, "{{\"step\": {step}, \"loss\": 0.4, \"lr\": 0.001, \"grad_norm\": 1.0}}")
            .expect("append");
    }
    drop(f);
    tmux.wait_for("step 205 in the header", |s| s.lines().next().is_some_and(|l| l.contains("step 205")));

    // A NaN loss written now is flagged live (the grid, with its flags panel, again).
    tmux.keys(&["Enter"]);
    tmux.wait_for("the flags panel", |s| s.contains("flags ("));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).expect("open log");
    // (grad_norm: loss already had its NaN flag at step 120.)
    writeln!(f, "{{\"step\": 206, \"loss\": 0.4, \"lr\": 0.001, \"grad_norm\": NaN}}").expect("append");
    drop(f);
    tmux.wait_for("a live flag for step 206", |s| {
        s.lines().skip_while(|l| !l.contains("flags (")).any(|l| l.contains("206") && l.contains("grad_norm"))
    });

    // The trainer starts over: the file is truncated and rewritten.
    std::fs::write(&log, "{\"step\": 1, \"loss\": 2.0, \"lr\": 0.001, \"grad_norm\": 1.0}\n")
        .expect("rewrite");
    tmux.wait_for("the restart in the header", |s| s.lines().next().is_some_and(|l| l.contains("restarted")));

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
    assert_restored(&screen, "q");
    let alt = tmux.cmd(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"]);
    assert_eq!(String::from_utf8_lossy(&alt.stdout).trim(), "0", "still in the alternate screen");
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/train.jsonl");
    let dir = tempfile::tempdir().expect("tempdir");
    for sig in ["TERM", "HUP"] {
        let pidfile = dir.path().join(format!("{sig}.pid"));
        // In the background, so the shell knows its pid; the shell then says what raw mode was left.
        let script = format!(
            "echo SHELL-BEFORE-TMON; {} & echo $! > '{}'; wait $!; echo TMON-EXITED $?; stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; echo CHECKED; sleep 60",
            tmon_cmd(None, &[fixture]),
            pidfile.display()
        );
        let Some(tmux) = tmux(&format!("sig{sig}"), &script) else { return };
        // Signal only once tmon is drawing (its handlers are installed before the first frame).
        tmux.wait_for("tmon's screen", |s| s.contains("metrics ("));
        let pid = std::fs::read_to_string(&pidfile).expect("pid file");
        let st = Command::new("kill").args(["-s", sig, pid.trim()]).status().expect("kill");
        assert!(st.success());
        let screen = tmux.wait_for("tmon to exit", |s| s.contains("CHECKED"));
        assert!(screen.contains("TMON-EXITED 0"), "SIG{sig}: {screen}");
        assert!(!screen.contains("metrics ("), "SIG{sig}: tmon's screen is left behind:\n{screen}");
        let icanon = screen.lines().find(|l| l.trim().ends_with("icanon")).unwrap_or("").trim().to_owned();
        assert_eq!(icanon, "icanon", "SIG{sig}: raw mode left on:\n{screen}");
    }
}

#[test]
fn a_big_log_shows_its_end_at_once_then_loads_and_follows_with_the_right_line_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("big.jsonl");
    // About 8 MB: a preview of the last MiB first, then the history from the loader.
    let n = 120_000u64;
    let mut text = String::with_capacity(8 << 20);
    for step in 1..=n {
        text.push_str(&format!(
            "{{\"step\": {step}, \"loss\": {:.6}, \"lr\": 0.001}}\n",
            2.0 / (step as f64).sqrt()
        ));
    }
    std::fs::write(&log, &text).expect("write");
    let script = format!("{}; sleep 60", tmon_cmd(None, &[log.to_str().unwrap()]));
    let Some(tmux) = tmux("big", &script) else { return };
    let head = |s: &str| s.lines().next().unwrap_or("").to_owned();
    tmux.wait_for("the whole log", |s| {
        head(s).contains(&format!("step {n}")) && !head(s).contains("loading")
    });
    let screen = tmux.capture();
    assert!(head(&screen).contains(&format!("{n} records")), "{screen}");
    // Written after the open: read by the source from where the loader stopped, numbered after it.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).expect("open");
    writeln!(f, "{{\"step\": {}, \"loss\": 0.1, \"lr\": 0.001}}", n + 1).expect("append");
    writeln!(f, "this line is not JSON").expect("append");
    drop(f);
    let screen = tmux.wait_for("the appended lines", |s| head(s).contains(&format!("step {}", n + 1)));
    let skipped = format!("line {} skipped", n + 2);
    let screen =
        if screen.contains(&skipped) { screen } else { tmux.wait_for(&skipped, |s| s.contains(&skipped)) };
    assert!(head(&screen).contains(&format!("{} records", n + 1)), "every line once:\n{screen}");
    assert!(head(&screen).contains("1 skipped"), "{screen}");
}

#[test]
fn a_writer_that_dies_with_a_traceback_is_crashed_in_the_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("logs.jsonl");
    let lines: String =
        (1..=20).map(|s| format!("{{\"step\": {s}, \"loss\": {}}}\n", 2.0 / s as f64)).collect();
    std::fs::write(&log, lines).expect("write log");
    let Some(tmux) = tmux("crashed", &around(&tmon_cmd(None, &[log.to_str().unwrap()]))) else { return };
    let head = |s: &str| s.lines().next().unwrap_or("").to_owned();
    tmux.wait_for("the run live", |s| head(s).contains("step 20") && head(s).contains("● live"));
    // The training script writes more steps, then dies of an error.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).expect("open log");
    for s in 21..=25 {
        writeln!(f, "{{\"step\": {s}, \"loss\": 0.1}}").expect("append");
    }
    f.write_all(
        b"Traceback (most recent call last):\n  File \"train.py\", line 9, in <module>\n    step()\n\
          ValueError: shapes (3,4) and (5,) not aligned\n",
    )
    .expect("append");
    drop(f);
    // Crashed (after a moment of quiet), with the exception's last line.
    let screen = tmux.wait_for("crashed in the header", |s| {
        head(s).contains("crashed: ValueError: shapes") && head(s).contains("step 25")
    });
    assert!(!head(&screen).contains("ETA"), "{screen}");
    // A record after it: the error was caught, the run is live again.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).expect("open log");
    writeln!(f, "{{\"step\": 26, \"loss\": 0.1}}").expect("append");
    drop(f);
    tmux.wait_for("live again", |s| head(s).contains("step 26") && head(s).contains("● live"));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
    assert_restored(&screen, "q");
}
