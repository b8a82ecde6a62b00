//! `tmon demo`: the training harness written live. With `--no-ui` it only writes the log; that log
//! must be one `tmon check` reads, with the scenario's problem flagged.

use std::process::Command;

fn tmon() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tmon"))
}

fn check_json(path: &std::path::Path) -> serde_json::Value {
    let out = tmon().args(["check", "--json"]).arg(path).output().unwrap();
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn demo_no_ui_writes_a_log_whose_problem_check_flags() {
    for (scenario, kind) in [("diverging", "nonfinite"), ("stall", "stall"), ("restart", "restart")] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs.jsonl");
        let started = std::time::Instant::now();
        let out = tmon()
            .args(["demo", "--no-ui", "--speed", "5000", "--scenario", scenario, "--out"])
            .arg(&log)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("tmon "), "it says how to watch the log");
        eprintln!("{scenario}: written in {:?}", started.elapsed());
        let doc = check_json(&log);
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
    let out = tmon().args(["demo", "--no-ui", "--scenario", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("healthy"), "it lists the scenarios");
}
