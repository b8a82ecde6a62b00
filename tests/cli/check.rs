//! `tmon check` end to end: text and JSON output on the fixture logs in tests/fixtures/check/
//! (written by make.py there), exit statuses, usage errors, completions and the man page.

use crate::support::cli::{json, metric, run_of, tmon};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);
const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/check");

fn fix(name: &str) -> String {
    format!("{FIX}/{name}")
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().expect("an object").keys().map(String::as_str).collect()
}

fn set(names: &[&'static str]) -> BTreeSet<&'static str> {
    names.iter().copied().collect()
}

/// Checks the exact schema of a `--json` document, at every level.
fn assert_schema(doc: &Value) {
    assert_eq!(keys(doc), set(&["runs", "compare"]));
    assert_eq!(keys(&doc["compare"]), set(&["flags"]));
    for f in doc["compare"]["flags"].as_array().unwrap() {
        assert_eq!(keys(f), set(&["kind", "severity", "run", "metric", "step", "message"]));
    }
    for run in doc["runs"].as_array().unwrap() {
        assert!(run["name"].is_string() && run["config"].is_object(), "{run}");
        assert_eq!(
            keys(run),
            set(&[
                "name",
                "config",
                "path",
                "format",
                "records",
                "skipped_lines",
                "duplicates",
                "step_key",
                "time_key",
                "metrics",
                "summary",
                "families",
                "flags",
                "flags_not_kept",
                "fields_dropped",
                "model",
                "histograms",
                "malformed_histograms"
            ])
        );
        assert!(run["model"].is_null() || run["model"]["children"].is_array(), "{run}");

        assert!(run["malformed_histograms"].is_u64());
        for h in run["histograms"].as_array().unwrap() {
            assert_eq!(keys(h), set(&["name", "points", "first_step", "last_step"]));
        }
        assert!(run["flags_not_kept"].is_u64() && run["fields_dropped"].is_u64());
        assert!(run["records"].is_u64() && run["skipped_lines"].is_u64() && run["duplicates"].is_u64());
        assert!(run["step_key"].is_string() || run["step_key"].is_null());
        assert!(run["time_key"].is_string() || run["time_key"].is_null());
        for m in run["metrics"].as_array().unwrap() {
            assert_eq!(
                keys(m),
                set(&[
                    "name",
                    "points",
                    "nonfinite",
                    "first_step",
                    "last_step",
                    "last",
                    "min",
                    "max",
                    "smoothed_last"
                ])
            );
            for k in ["last", "min", "max", "smoothed_last"] {
                let v = &m[k];
                assert!(
                    v.is_number()
                        || v.is_null()
                        || ["NaN", "Infinity", "-Infinity"].contains(&v.as_str().unwrap_or("")),
                    "{k} = {v}"
                );
            }
        }
        for f in run["flags"].as_array().unwrap() {
            assert_eq!(keys(f), set(&["kind", "severity", "metric", "step", "message"]));
            assert!(["info", "warning", "critical"].contains(&f["severity"].as_str().unwrap()));
        }
    }
}

/// TensorBoard's debiased EMA, written out again as the oracle.
fn ema_last(ys: &[f64], w: f64) -> f64 {
    let (mut last, mut n, mut out) = (0.0, 0, f64::NAN);
    for &y in ys {
        if !y.is_finite() {
            out = y;
            continue;
        }
        last = last * w + (1.0 - w) * y;
        n += 1;
        out = last / (1.0 - w.powi(n));
    }
    out
}

#[test]
fn json_output_matches_the_schema_and_the_file() {
    let path = fix("healthy.jsonl");
    let ran = tmon(["check", "--json", "--step-key", "step", "--time-key", "time", &path], LIMIT);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let doc = json(&ran);
    assert_schema(&doc);
    let run = run_of(&doc, "healthy.jsonl");
    assert_eq!(run["format"], "jsonl");
    assert_eq!(run["records"], 204);
    assert_eq!(run["skipped_lines"], 0);
    assert_eq!(run["step_key"], "step");
    assert_eq!(run["time_key"], "time");

    // The oracle: the fixture read again here, key by key.
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for name in ["loss", "lr", "grad_norm", "eval/loss", "eval/accuracy"] {
        let m = metric(run, name).unwrap_or_else(|| panic!("metric {name} missing"));
        let pts: Vec<(f64, f64)> =
            lines.iter().filter_map(|l| Some((l["step"].as_f64()?, l.get(name)?.as_f64()?))).collect();
        let ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
        assert_eq!(m["points"], pts.len(), "{name}");
        assert_eq!(m["nonfinite"], 0, "{name}");
        assert_eq!(m["first_step"].as_f64(), Some(pts[0].0), "{name}");
        assert_eq!(m["last_step"].as_f64(), Some(pts[pts.len() - 1].0), "{name}");
        assert_eq!(m["last"].as_f64(), Some(ys[ys.len() - 1]), "{name}");
        assert_eq!(m["min"].as_f64(), ys.iter().copied().reduce(f64::min), "{name}");
        assert_eq!(m["max"].as_f64(), ys.iter().copied().reduce(f64::max), "{name}");
        let smoothed = m["smoothed_last"].as_f64().unwrap();
        assert!((smoothed - ema_last(&ys, 0.6)).abs() <= 1e-12 * smoothed.abs().max(1.0), "{name}");
    }
    assert_eq!(metric(run, "eval/loss").unwrap()["first_step"], 50);
    // A healthy run raises nothing at warning or above.
    assert!(run["flags"].as_array().unwrap().iter().all(|f| f["severity"] == "info"), "{run}");
}

#[test]
fn text_output_lists_keys_metrics_and_sanitised_skipped_lines() {
    let ran = tmon(["check", FIX], LIMIT);
    // nan.jsonl's NaN loss and traceback.jsonl's crash are critical flags: the summary counts
    // them and the status is 1.
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stdout.contains("checked 4 files: 2 with a flag at warning or above"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("the run crashed after step 12: RuntimeError: CUDA out of memory. (line 17)"),
        "{}",
        ran.stdout
    );
    for name in ["healthy.jsonl", "nan.jsonl", "nostep.jsonl", "traceback.jsonl"] {
        assert!(ran.stdout.contains(&fix(name)), "{name} not listed:\n{}", ran.stdout);
    }
    let out = &ran.stdout;
    assert!(out.contains("format jsonl, 204 records, 0 skipped lines"), "{out}");
    // Many runs: one table, a row a run, then each run's part.
    assert!(out.starts_with("runs (4):\n    name "), "{out}");
    for name in ["healthy  ", "nan  ", "nostep  ", "traceback  "] {
        assert!(out.lines().any(|l| l.starts_with(&format!("    {name}"))), "no row for {name}:\n{out}");
    }
    // The traceback's lines, with their line numbers.
    assert!(out.contains("line 14: ") && out.contains("Traceback (most recent call last):"), "{out}");
    assert!(out.contains("line 17: ") && out.contains("RuntimeError: CUDA out of memory."), "{out}");
    assert!(out.contains("first 5 of 6"), "{out}");
    // The progress bar's escape sequence is shown, not sent to the terminal.
    assert!(!out.bytes().any(|b| b == 0x1b), "raw ESC in the output");
    assert!(out.contains("\\x1b[A 45%"), "{out}");
    assert!(out.contains("checked 4 files"), "{out}");
    // One run alone: its table of metrics. Metric rows are aligned: every row of the healthy
    // table has the header's width or less, and the numbers end in the same column.
    let ran = tmon(["check", &fix("healthy.jsonl")], LIMIT);
    let out = &ran.stdout;
    assert!(out.contains("name") && out.contains("smoothed") && out.contains("first step"), "{out}");
    let table: Vec<&str> =
        out.lines().skip_while(|l| !l.contains("first step")).take_while(|l| l.starts_with("    ")).collect();
    assert!(table.len() >= 6, "{out}");
    let end = table[0].len();
    assert!(table.iter().all(|l| l.len() == end || !l.is_ascii()), "{table:#?}");
}

#[test]
fn skipped_lines_and_a_missing_step_key_are_reported() {
    let ran = tmon(["check", "--json", &fix("traceback.jsonl"), &fix("nostep.jsonl")], LIMIT);
    // The traceback is the crash the run died of: critical.
    assert_eq!(ran.code, Some(1), "{ran:?}");
    let doc = json(&ran);
    assert_schema(&doc);
    let tb = run_of(&doc, "traceback.jsonl");
    assert_eq!(tb["records"], 12);
    // Four traceback lines, a progress bar, and the half-written last line.
    assert_eq!(tb["skipped_lines"], 6);
    assert_eq!(metric(tb, "loss").unwrap()["last"].as_f64(), Some(0.8799999952316284));
    let crash: Vec<&serde_json::Value> =
        tb["flags"].as_array().unwrap().iter().filter(|f| f["kind"] == "crash").collect();
    assert_eq!(crash.len(), 1, "{tb}");
    assert_eq!((crash[0]["severity"].as_str(), crash[0]["step"].as_f64()), (Some("critical"), Some(12.0)));
    let ns = run_of(&doc, "nostep.jsonl");
    assert!(ns["step_key"].is_null(), "{ns}");
    let loss = metric(ns, "loss").unwrap();
    assert_eq!(loss["points"], 10);
    assert!(loss["first_step"].is_number() && loss["last_step"].is_number());
}

#[test]
fn nan_is_counted_and_written_as_a_string() {
    let ran = tmon(["check", "--json", "--fail-on", "critical", &fix("nan.jsonl")], LIMIT);
    let doc = json(&ran);
    assert_schema(&doc);
    let run = run_of(&doc, "nan.jsonl");
    assert_eq!(run["records"], 30);
    assert_eq!(run["skipped_lines"], 0);
    let loss = metric(run, "loss").unwrap();
    assert_eq!(loss["points"], 30);
    assert_eq!(loss["nonfinite"], 11);
    assert_eq!(loss["last"], "NaN");
    assert_eq!(loss["smoothed_last"], "NaN");
    assert_eq!(loss["max"].as_f64(), Some(1.5));
    let gn = metric(run, "grad_norm").unwrap();
    assert_eq!(gn["nonfinite"], 1);
    assert!(gn["max"].as_f64().is_some_and(|m| m < 2.0), "infinity is not a max: {gn}");
    // A NaN loss is critical (docs/flags.md), so even --fail-on critical fails.
    assert!(run["flags"].as_array().unwrap().iter().any(|f| f["severity"] == "critical"), "{run}");
    assert_eq!(ran.code, Some(1), "{ran:?}");
}

#[test]
fn a_nan_loss_is_flagged_and_fails_the_check() {
    let ran = tmon(["check", "--json", &fix("nan.jsonl")], LIMIT);
    assert_eq!(ran.code, Some(1), "{ran:?}");
    let doc = json(&ran);
    let flags = run_of(&doc, "nan.jsonl")["flags"].as_array().unwrap().clone();
    let f = flags
        .iter()
        .find(|f| f["kind"] == "nonfinite" && f["metric"] == "loss")
        .unwrap_or_else(|| panic!("no nonfinite flag on loss: {flags:?}"));
    assert_eq!(f["step"], 20);
    assert_ne!(f["severity"], "info");
    let ran = tmon(["check", &fix("nan.jsonl")], LIMIT);
    assert_eq!(ran.code, Some(1));
    assert!(ran.stdout.contains("nonfinite") && ran.stdout.contains("step 20"), "{}", ran.stdout);
}

#[test]
fn fail_on_sets_the_exit_status() {
    // 1 exactly when a flag reaches --fail-on (default warning), else 0.
    let code = |path: &str, args: &[&str]| {
        let path = match path {
            "appended-runs.jsonl" => format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR")),
            _ => fix(path),
        };
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        all.push(&path);
        tmon(&all, LIMIT).code
    };
    // A restart is info.
    assert_eq!(code("appended-runs.jsonl", &[]), Some(0));
    assert_eq!(code("appended-runs.jsonl", &["--fail-on", "info"]), Some(1));
    assert_eq!(code("appended-runs.jsonl", &["--fail-on", "warning"]), Some(0));
    // A NaN loss is critical; told as a warning it fails --fail-on warning only.
    assert_eq!(code("nan.jsonl", &[]), Some(1));
    assert_eq!(code("nan.jsonl", &["--fail-on", "critical"]), Some(1));
    let warn = ["--set", "nonfinite.loss_critical=0", "--fail-on"];
    assert_eq!(code("nan.jsonl", &[&warn[..], &["warning"]].concat()), Some(1));
    assert_eq!(code("nan.jsonl", &[&warn[..], &["critical"]].concat()), Some(0));
    // A healthy run raises nothing at warning or above.
    assert_eq!(code("healthy.jsonl", &["--fail-on", "warning"]), Some(0));
    let ran = tmon(["check", "--fail-on", "fatal", &fix("healthy.jsonl")], LIMIT);
    assert_eq!(ran.code, Some(2));
    assert!(ran.stderr.contains("--fail-on"), "{}", ran.stderr);
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let ran = tmon(["check", "--set", "no.such.threshold=1", &fix("healthy.jsonl")], LIMIT);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.starts_with("tmon: --set 'no.such.threshold=1': "), "{}", ran.stderr);
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert!(ran.stdout.is_empty());

    let ran = tmon(["check", "--set", "spike.z", &fix("healthy.jsonl")], LIMIT);
    assert_eq!(ran.code, Some(2));
    assert!(ran.stderr.contains("expected NAME=VALUE"), "{}", ran.stderr);

    let ran = tmon(["check"], LIMIT);
    assert_eq!(ran.code, Some(2));
}

/// The monitor with no terminal at all (its own session, so no controlling terminal either:
/// the test never touches the terminal it is run from) says so and exits 3, not 2 (usage).
#[cfg(unix)]
#[test]
fn no_terminal_exits_3_with_its_own_message() {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(crate::support::cli::BIN);
    cmd.arg(fix("healthy.jsonl")).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: setsid(2) is async-signal-safe and touches no memory of this process.
    unsafe {
        cmd.pre_exec(|| if libc::setsid() < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) });
    }
    let mut child = cmd.spawn().expect("spawn tmon");
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if t0.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("the monitor without a terminal did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(stderr.starts_with("tmon: cannot use the terminal: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty(), "nothing drawn: {:?}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn an_unreadable_path_exits_2_and_the_others_are_still_checked() {
    let missing = fix("no-such-file.jsonl");
    let ran = tmon(["check", &missing, &fix("nostep.jsonl")], LIMIT);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert_eq!(ran.stderr.trim_end(), format!("tmon: cannot read '{missing}': no such file or directory"));
    assert!(ran.stdout.contains("nostep.jsonl"), "{}", ran.stdout);

    let ran = tmon(["check", "--json", &missing, &fix("nostep.jsonl")], LIMIT);
    assert_eq!(ran.code, Some(2));
    assert_eq!(json(&ran)["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn completions_and_man_page_are_printed() {
    for shell in ["bash", "zsh", "fish"] {
        let ran = tmon(["completions", shell], LIMIT);
        assert_eq!(ran.code, Some(0), "{shell}: {ran:?}");
        assert!(ran.stdout.len() > 500, "{shell}: {}", ran.stdout);
        assert!(ran.stdout.contains("check") && ran.stdout.contains("fail-on"), "{shell}");
        assert!(ran.stdout.contains("critical"), "{shell}: severities are completed");
    }
    let ran = tmon(["completions", "tcsh"], LIMIT);
    assert_eq!(ran.code, Some(2));
    let ran = tmon(["man"], LIMIT);
    assert_eq!(ran.code, Some(0));
    assert!(ran.stdout.contains(".TH tmon 1") && ran.stdout.contains("tmon\\-check(1)"), "{}", ran.stdout);
    let ran = tmon(["man", "check"], LIMIT);
    assert_eq!(ran.code, Some(0));
    assert!(ran.stdout.contains(".TH tmon-check 1"), "{}", ran.stdout);
    assert!(ran.stdout.contains("fail\\-on") && ran.stdout.contains("step\\-key"), "{}", ran.stdout);
    assert_eq!(tmon(["man", "nope"], LIMIT).code, Some(2));
}

/// A step counter that resets every epoch (a per-epoch batch index logged as `step`) for 500
/// epochs: one info flag saying so, not 500 restarts.
#[test]
fn a_step_counter_that_resets_every_epoch_is_told_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("per-epoch.jsonl");
    let mut text = String::new();
    for epoch in 0..500 {
        for i in 0..20 {
            let loss = 2.0 / (1.0 + epoch as f64 * 0.01) + 0.01 * ((epoch * 20 + i) % 7) as f64;
            text.push_str(&format!("{{\"epoch\": {epoch}, \"step\": {i}, \"loss\": {loss}}}\n"));
        }
    }
    std::fs::write(&path, text).unwrap();
    let ran = tmon(["check", "--json", path.to_str().unwrap()], LIMIT);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let doc = json(&ran);
    assert_schema(&doc);
    let flags = doc["runs"][0]["flags"].as_array().unwrap();
    let told = |f: &&Value| f["message"].as_str().is_some_and(|m| m.contains("a per-epoch counter"));
    let restarts = flags.iter().filter(|f| f["kind"] == "restart" && !told(f)).count();
    assert!(restarts <= 3, "{restarts} restart flags for a per-epoch counter:\n{doc:#}");
    let periodic: Vec<&str> = flags
        .iter()
        .filter_map(|f| f["message"].as_str())
        .filter(|m| m.contains("resets every 20 records"))
        .collect();
    assert_eq!(periodic.len(), 1, "{doc:#}");
    assert!(periodic[0].contains("a per-epoch counter, not a restart"), "{}", periodic[0]);
    assert!(flags.iter().all(|f| f["severity"] == "info"), "{doc:#}");
    assert_eq!(doc["runs"][0]["flags_not_kept"], 0);
}

/// More flags than the analyzer keeps: the rest are counted and said, and a critical flag after
/// the flood is still kept (the cap is per severity).
#[test]
fn flags_beyond_the_cap_are_counted_and_a_later_critical_one_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rewinds.jsonl");
    // Rewinds at no regular period (stretches of 3, 4, ... 9 records): each one is a restart
    // (info).
    let mut text = String::new();
    for rewind in 0..10_500 {
        for i in 0..(3 + rewind % 7) {
            text.push_str(&format!("{{\"step\": {}, \"loss\": 1.0}}\n", 100 + i));
        }
    }
    text.push_str("{\"step\": 200, \"loss\": NaN}\n");
    std::fs::write(&path, text).unwrap();

    let ran = tmon(["check", "--json", path.to_str().unwrap()], LIMIT);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let doc = json(&ran);
    assert_schema(&doc);
    let run = &doc["runs"][0];
    let flags = run["flags"].as_array().unwrap();
    let info = flags.iter().filter(|f| f["severity"] == "info").count();
    let restarts = flags.iter().filter(|f| f["kind"] == "restart").count();
    let not_kept = run["flags_not_kept"].as_u64().unwrap();
    assert_eq!(info, tmon::analysis::FLAGS_KEPT, "the documented cap of info flags");
    assert!(restarts > 9_000, "{restarts}");
    assert!(not_kept >= 400, "{not_kept} flags counted beyond the cap");
    assert!(flags.iter().any(|f| f["kind"] == "nonfinite" && f["severity"] == "critical"), "the NaN is kept");

    let ran = tmon(["check", path.to_str().unwrap()], LIMIT);
    assert!(
        ran.stdout
            .contains(&format!("{} more info flags were counted but not kept", tmon::text::count(not_kept))),
        "{}",
        &ran.stdout[..ran.stdout.len().min(2000)]
    );
}

/// Runs `tmon ARGS...` to the end and returns (stdout, exit code, peak resident memory in bytes)
/// of that very process (wait4), under a time limit that only guards against a hang.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its peak memory
fn tmon_peak_memory(args: &[&str]) -> (String, i32, u64) {
    use std::io::Read;
    let mut child = std::process::Command::new(crate::support::cli::BIN)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).unwrap();
        s
    });
    let start = std::time::Instant::now();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // The child's own high-water mark, read while it runs: `ru_maxrss` also counts the resident
    // size of this test process when it forked (Linux carries the old memory's peak over exec),
    // and tests running beside this one in the same binary can make that hundreds of MB.
    let mut hwm = 0u64;
    loop {
        hwm = hwm.max(vm_hwm(pid).unwrap_or(0));
        let got = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if got == pid {
            break;
        }
        assert_eq!(got, 0, "wait4 failed");
        if start.elapsed() > Duration::from_secs(120) {
            // Still our unreaped child: a hang fails the test instead of hanging CI.
            let _ = child.kill();
            let _ = child.wait();
            panic!("tmon {args:?} did not finish: killed");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(libc::WIFEXITED(status), "tmon did not exit normally: {status}");
    assert!(hwm > 0, "never saw the child's VmHWM");
    (reader.join().unwrap(), libc::WEXITSTATUS(status), hwm)
}

/// `VmHWM` of a live process, in bytes.
fn vm_hwm(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A log with a new metric name on every line (a million of them): the run keeps the first
/// `--max-series` series, counts and says what it did not store, and stays within bounded memory.
#[test]
fn a_million_distinct_metric_names_are_capped_counted_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("distinct.jsonl");
    let mut text = String::with_capacity(33 << 20);
    for i in 0..1_000_000 {
        text.push_str(&format!("{{\"step\": {i}, \"m{i}\": 1.0}}\n"));
    }
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    let cap = tmon::ingest::DEFAULT_MAX_SERIES as u64;

    let (out, code, peak) = tmon_peak_memory(&["check", "--json", p]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_schema(&doc);
    let run = &doc["runs"][0];
    assert_eq!(run["records"], 1_000_000);
    assert_eq!(run["metrics"].as_array().unwrap().len() as u64, cap);
    assert_eq!(run["fields_dropped"], 1_000_000 - cap);
    // Before the cap: 1 GB. Bounded now by the cap, not by the number of names.
    assert!(peak < 200 << 20, "{} MB at peak", peak >> 20);

    let (out, code, _) = tmon_peak_memory(&["check", p]);
    assert_eq!(code, 0);
    let said = format!(
        "series cap reached: {} values of metrics beyond the first {} were not stored (raise the cap with --max-series N)",
        tmon::text::count(1_000_000 - cap),
        tmon::text::count(cap)
    );
    assert!(out.contains(&said), "{}", &out[..out.len().min(1000)]);

    let (out, _, _) = tmon_peak_memory(&["check", "--json", "--max-series", "20000", p]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["runs"][0]["metrics"].as_array().unwrap().len(), 20_000);
    assert_eq!(doc["runs"][0]["fields_dropped"], 980_000);
}

/// A key repeated in one record counts once, with its last value (as Python's `json` reads it):
/// a line of 100,000 copies of one field is one point, not 100,000.
#[test]
fn a_key_repeated_in_a_record_is_one_value_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repeated.jsonl");
    let mut line = String::from("{\"step\": 1");
    for i in 0..100_000 {
        line.push_str(&format!(", \"loss\": {i}"));
    }
    line.push_str("}\n{\"step\": 2, \"loss\": 0.5}\n");
    std::fs::write(&path, line).unwrap();
    let ran = tmon(["check", "--json", path.to_str().unwrap()], LIMIT);
    let doc = json(&ran);
    let loss = metric(&doc["runs"][0], "loss").unwrap();
    assert_eq!(loss["points"], 2);
    assert_eq!(loss["max"].as_f64(), Some(99_999.0));
    assert_eq!(loss["first_step"], 1);
    assert_eq!(doc["runs"][0]["fields_dropped"], 0);
}

#[test]
fn numeric_lists_are_charted_and_cocos_summary_is_named() {
    // DETR's log.txt: `test_coco_eval_bbox` is the 12 numbers of COCOeval's summary. Each becomes
    // a metric named by its place in `stats`, and the overfitting rule weighs the test loss's
    // turn against the AP, not the class error.
    let ui = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/detr-log.txt");
    let ran = tmon(["check", "--json", ui], LIMIT);
    let doc = json(&ran);
    let run = run_of(&doc, "detr-log.txt");
    let names = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];
    for n in names {
        let m = metric(run, &format!("test_coco_eval_bbox/{n}"))
            .unwrap_or_else(|| panic!("no test_coco_eval_bbox/{n} in {run}"));
        assert_eq!(m["points"], 30, "{m}");
    }
    let ap = metric(run, "test_coco_eval_bbox/AP").unwrap();
    assert!((ap["last"].as_f64().unwrap() - 0.440307).abs() < 1e-4, "the first number is AP: {ap}");
    let overfit: Vec<&str> = run["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "overfitting")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(!overfit.is_empty(), "{run}");
    for m in overfit {
        assert!(m.contains("but test_coco_eval_bbox/AP "), "judged on the AP: {m}");
    }

    // Any other short list of numbers is charted element by element, with its index.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let mut text = String::new();
    for s in 0..5 {
        text.push_str(&format!(
            "{{\"step\": {s}, \"loss\": {}, \"per_class_acc\": [0.{s}, 0.5, NaN], \"hist\": [[1, 2]]}}\n",
            1.0 / (s + 1) as f64
        ));
    }
    std::fs::write(&log, text).unwrap();
    let doc = json(&tmon(["check", "--json", log.to_str().unwrap()], LIMIT));
    let run = run_of(&doc, "log.jsonl");
    for i in 0..3 {
        assert_eq!(metric(run, &format!("per_class_acc[{i}]")).unwrap()["points"], 5, "{run}");
    }
    assert!(metric(run, "hist").is_none() && metric(run, "hist[0]").is_none(), "{run}");
}

#[test]
fn hugging_faces_end_of_training_scalars_are_a_summary_not_metrics() {
    // trainer_state.json ends with one record of scalars written once (`train_runtime`,
    // `total_flos`, `train_loss`, ...): listed as the run's summary, apart from its metrics.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/trainer_state.json");
    let doc = json(&tmon(["check", "--json", path], LIMIT));
    let run = run_of(&doc, "trainer_state.json");
    let end =
        ["total_flos", "train_loss", "train_runtime", "train_samples_per_second", "train_steps_per_second"];
    let summary: Vec<&str> =
        run["summary"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(summary, end, "{run}");
    for m in run["summary"].as_array().unwrap() {
        assert_eq!((m["points"].as_u64(), m["last_step"].as_u64()), (Some(1), Some(400)), "{m}");
    }
    for n in end {
        assert!(metric(run, n).is_none(), "{n} is in the summary, not a metric: {run}");
    }
    for n in ["loss", "eval_loss", "learning_rate", "grad_norm"] {
        assert!(metric(run, n).is_some(), "{n}: {run}");
    }
    let ran = tmon(["check", path], LIMIT);
    assert!(ran.stdout.contains("  end of training (step 400):\n"), "{}", ran.stdout);
    assert!(ran.stdout.contains("    train_runtime             1523.6 s (25m24s)\n"), "{}", ran.stdout);
    assert!(ran.stdout.contains("  metrics (8):"), "{}", ran.stdout);
}

#[test]
fn a_flag_about_the_whole_run_has_a_null_metric() {
    // detectron2's rerun appended after a crash: the restart flag is about the run, not a metric.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/detectron2-metrics.json");
    let doc = json(&tmon(["check", "--json", path], LIMIT));
    let flags = run_of(&doc, "detectron2-metrics.json")["flags"].as_array().unwrap().clone();
    let restart = flags.iter().find(|f| f["kind"] == "restart").expect("a restart flag");
    assert!(restart["metric"].is_null(), "{restart}");
    let nan = flags.iter().find(|f| f["kind"] == "nonfinite").expect("a nonfinite flag");
    assert_eq!(nan["metric"], "bbox/APs", "{nan}");
}

#[test]
fn a_file_with_no_records_exits_4_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let prose = dir.path().join("notes.txt");
    std::fs::write(&prose, "not a log\njust words\n").unwrap();
    let good = fix("healthy.jsonl");
    for (p, what) in
        [(&empty, "no records (an empty log"), (&prose, "no records (2 lines, none of them a record)")]
    {
        for json in [false, true] {
            let mut args = vec!["check"];
            if json {
                args.push("--json");
            }
            let ran = tmon(args.into_iter().chain([p.to_str().unwrap()]), LIMIT);
            assert_eq!(ran.code, Some(4), "{p:?} json={json}: {ran:?}");
            assert!(ran.stderr.contains(what), "{}", ran.stderr);
        }
        // With a good file beside it, still 4: the gate does not pass on the bad one.
        let ran = tmon(["check", p.to_str().unwrap(), good.as_str()], LIMIT);
        assert_eq!(ran.code, Some(4), "{ran:?}");
    }
    let ran = tmon(["check", good.as_str()], LIMIT);
    assert_eq!(ran.code, Some(0), "{ran:?}");
}

/// Per-layer families through the binary: `--json` names each with its layers in forward order,
/// and the text report says them on one line; metrics that are no family stay out.
#[test]
fn families_in_json_and_text() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/heatmap/layers.jsonl");
    let out = tmon(["check", "--json", path], LIMIT);
    let doc = json(&out);
    assert_schema(&doc);
    let fams = doc["runs"][0]["families"].as_array().expect("families");
    let got: Vec<(String, Vec<String>)> = fams
        .iter()
        .map(|f| {
            assert_eq!(keys(f), set(&["name", "layers"]));
            let layers = f["layers"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned());
            (f["name"].as_str().unwrap().to_owned(), layers.collect())
        })
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].0, "grad_norm");
    assert_eq!(
        got[0].1.iter().map(String::as_str).collect::<Vec<_>>()[9..],
        ["layer9", "layer10", "layer11"]
    );
    assert_eq!(got[1], ("dead_frac".to_owned(), ["fc0", "fc1", "fc2", "fc3"].map(String::from).to_vec()));
    assert_eq!(got[2].1.first().map(String::as_str), Some("wte"));
    assert_eq!(got[2].1.last().map(String::as_str), Some("lm_head"));
    let text = tmon(["check", path], LIMIT);
    let stdout = &text.stdout;
    assert!(
        stdout.contains(
            "per-layer families (3): grad_norm (12 layers: layer0 … layer11), dead_frac (4 layers: fc0 … fc3), weight_norm (8 layers: wte … lm_head)"
        ),
        "{stdout}"
    );
    // A run with no per-layer metric: an empty list, and no line.
    let plain = json(&tmon(["check", "--json", &fix("healthy.jsonl")], LIMIT));
    assert_eq!(plain["runs"][0]["families"], serde_json::json!([]));
}

/// Histograms through the binary: each run lists its histograms with their points and first and
/// last steps (the oracle: the fixture read again here), the malformed ones counted, and the text
/// report says the same in a few lines, sanitised.
#[test]
fn histograms_are_listed_in_json_and_text() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/dists.jsonl");
    let ran = tmon(["check", "--json", path], LIMIT);
    let doc = json(&ran);
    assert_schema(&doc);
    let run = run_of(&doc, "dists.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let hs = run["histograms"].as_array().unwrap();
    let names: Vec<&str> = hs.iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hist/fc1.weight", "grad/fc1.weight", "act/relu1", "hist/\u{1b}[31mevil"]);
    for h in hs {
        let name = h["name"].as_str().unwrap();
        // Every line's histogram under the name but the malformed one (5 edges for 5 counts).
        let steps: Vec<f64> = lines
            .iter()
            .filter(|l| {
                l.get(name).is_some_and(|v| {
                    v.get("counts").is_none_or(|c| {
                        c.as_array().unwrap().len() + 1 == v["bins"].as_array().unwrap().len()
                    })
                })
            })
            .map(|l| l["step"].as_f64().unwrap())
            .collect();
        assert_eq!(h["points"], steps.len(), "{name}");
        assert_eq!(h["first_step"].as_f64(), steps.first().copied(), "{name}");
        assert_eq!(h["last_step"].as_f64(), steps.last().copied(), "{name}");
    }
    assert_eq!(run["malformed_histograms"], 1);
    assert!(run["metrics"].as_array().unwrap().iter().all(|m| !m["name"].as_str().unwrap().contains("bins")));
    let flag =
        run["flags"].as_array().unwrap().iter().find(|f| f["metric"] == "act/relu1").expect("the dead layer");
    assert_eq!((flag["kind"].as_str(), flag["step"].as_f64()), (Some("dead_units"), Some(300.0)));
    // A run without histograms has an empty list.
    let ran = tmon(["check", "--json", &fix("healthy.jsonl")], LIMIT);
    assert_eq!(json(&ran)["runs"][0]["histograms"], serde_json::json!([]));

    let ran = tmon(["check", path], LIMIT);
    assert!(
        ran.stdout.contains("histograms: hist/fc1.weight, grad/fc1.weight, act/relu1, ... (4 in all)"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("malformed histograms: 1") && ran.stdout.contains("5 edges for 5 counts"),
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains('\u{1b}'), "an escape from the log reached the terminal");
}
