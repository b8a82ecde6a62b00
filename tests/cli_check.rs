//! `tmon check` end to end: text and JSON output on the fixture logs in tests/fixtures/check/
//! (written by make.py there), exit statuses, usage errors, completions and the man page.

mod cli_support;

use cli_support::{json, metric, run_of, tmon};
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
    assert_eq!(keys(doc), set(&["runs"]));
    for run in doc["runs"].as_array().unwrap() {
        assert_eq!(
            keys(run),
            set(&[
                "path",
                "format",
                "records",
                "skipped_lines",
                "duplicates",
                "step_key",
                "time_key",
                "metrics",
                "flags"
            ])
        );
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
    // nan.jsonl may raise a flag (once NaN is parsed and flagged): the status and the summary agree.
    let flagged = !ran.stdout.contains("checked 4 files: 0 with a flag");
    assert_eq!(ran.code, Some(flagged as i32), "{ran:?}");
    for name in ["healthy.jsonl", "nan.jsonl", "nostep.jsonl", "traceback.jsonl"] {
        assert!(ran.stdout.contains(&fix(name)), "{name} not listed:\n{}", ran.stdout);
    }
    let out = &ran.stdout;
    assert!(out.contains("format jsonl, 204 records, 0 skipped lines"), "{out}");
    assert!(out.contains("name") && out.contains("smoothed") && out.contains("first step"), "{out}");
    // The traceback's lines, with their line numbers.
    assert!(out.contains("line 14: ") && out.contains("Traceback (most recent call last):"), "{out}");
    assert!(out.contains("line 17: ") && out.contains("RuntimeError: CUDA out of memory."), "{out}");
    assert!(out.contains("first 5 of 6"), "{out}");
    // The progress bar's escape sequence is shown, not sent to the terminal.
    assert!(!out.bytes().any(|b| b == 0x1b), "raw ESC in the output");
    assert!(out.contains("\\u{1b}[A 45%"), "{out}");
    assert!(out.contains("checked 4 files"), "{out}");
    // Metric rows are aligned: every row of the healthy table has the header's width or less,
    // and the numbers end in the same column.
    let table: Vec<&str> =
        out.lines().skip_while(|l| !l.contains("first step")).take_while(|l| l.starts_with("    ")).collect();
    assert!(table.len() >= 6, "{out}");
    let end = table[0].len();
    assert!(table.iter().all(|l| l.len() == end || !l.is_ascii()), "{table:#?}");
}

#[test]
fn skipped_lines_and_a_missing_step_key_are_reported() {
    let ran = tmon(["check", "--json", &fix("traceback.jsonl"), &fix("nostep.jsonl")], LIMIT);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let doc = json(&ran);
    assert_schema(&doc);
    let tb = run_of(&doc, "traceback.jsonl");
    assert_eq!(tb["records"], 12);
    // Four traceback lines, a progress bar, and the half-written last line.
    assert_eq!(tb["skipped_lines"], 6);
    assert_eq!(metric(tb, "loss").unwrap()["last"].as_f64(), Some(0.8799999952316284));
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
    // The exit status follows the worst flag and --fail-on.
    let critical = run["flags"].as_array().unwrap().iter().any(|f| f["severity"] == "critical");
    assert_eq!(ran.code, Some(critical as i32), "{ran:?}");
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
    for level in ["info", "warning", "critical"] {
        let ran = tmon(["check", "--json", "--fail-on", level, &fix("healthy.jsonl")], LIMIT);
        let doc = json(&ran);
        let rank = |s: &str| ["info", "warning", "critical"].iter().position(|x| *x == s).unwrap();
        let reached = run_of(&doc, "healthy.jsonl")["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| rank(f["severity"].as_str().unwrap()) >= rank(level));
        assert_eq!(ran.code, Some(reached as i32), "--fail-on {level}: {ran:?}");
    }
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
    let mut cmd = Command::new(cli_support::BIN);
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
