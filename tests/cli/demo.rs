//! `tmon demo`: the training harness written live. With `--no-ui` it only writes the log; that log
//! must be one `tmon check` reads, with the scenario's problem flagged.

use crate::support::cli::{json, tmon};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn demo_no_ui_writes_a_log_whose_problem_check_flags() {
    // The scenario, the flag it must raise, and `tmon check`'s status (default --fail-on warning):
    // a NaN loss is critical and a stall a warning, both fail; a restart is info (docs/flags.md).
    for (scenario, kind, status) in
        [("diverging", "nonfinite", 1), ("stall", "stall", 1), ("restart", "restart", 0)]
    {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs.jsonl");
        let log_arg = log.to_str().unwrap();
        let ran =
            tmon(["demo", "--no-ui", "--speed", "5000", "--scenario", scenario, "--out", log_arg], LIMIT);
        assert_eq!(ran.code, Some(0), "{ran:?}");
        assert!(ran.stderr.contains("tmon "), "it says how to watch the log: {}", ran.stderr);
        eprintln!("{scenario}: written in {:?}", ran.elapsed);
        let ran = tmon(["check", "--json", log_arg], LIMIT);
        assert_eq!(ran.code, Some(status), "{scenario}: {ran:?}");
        let doc = json(&ran);
        let run = &doc["runs"][0];
        assert_eq!(run["skipped_lines"], 0);
        assert_eq!(run["step_key"], "step");
        assert_eq!(run["time_key"], "time");
        let flags = run["flags"].as_array().unwrap();
        assert!(flags.iter().any(|f| f["kind"] == kind), "{scenario}: no {kind} flag in {flags:?}");
    }
}

#[test]
fn demo_rejects_an_unknown_scenario() {
    let ran = tmon(["demo", "--no-ui", "--scenario", "nope"], LIMIT);
    assert_eq!(ran.code, Some(2));
    assert!(ran.stderr.contains("healthy"), "it lists the scenarios");
}

#[test]
fn demo_shows_issue_13s_scenarios() {
    // The scenario, the flag `tmon check` must find in its log, and its status: a crash is
    // critical, not learning, a throughput drop and a stall are warnings, mixed-precision
    // overflows info.
    for (scenario, kind, status, skipped) in [
        ("crash", "crash", 1, 6),
        ("small-lr", "plateau", 1, 0),
        ("slowdown-20", "throughput_drop", 1, 0),
        ("pause", "stall", 1, 0),
        ("mixed-precision", "nonfinite", 0, 0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs.jsonl");
        let log_arg = log.to_str().unwrap();
        let ran =
            tmon(["demo", "--no-ui", "--speed", "10000", "--scenario", scenario, "--out", log_arg], LIMIT);
        assert_eq!(ran.code, Some(0), "{ran:?}");
        let ran = tmon(["check", "--json", log_arg], LIMIT);
        assert_eq!(ran.code, Some(status), "{scenario}: {ran:?}");
        let doc = json(&ran);
        let run = &doc["runs"][0];
        assert_eq!(run["skipped_lines"], skipped, "{scenario}");
        let flags = run["flags"].as_array().unwrap();
        assert!(flags.iter().any(|f| f["kind"] == kind), "{scenario}: no {kind} flag in {flags:?}");
    }
}
