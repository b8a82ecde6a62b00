//! Reliability of the binary's own edges, each through the real `tmon`:
//! - `tmon demo` never writes through a path planted at its old predictable location;
//! - `--on-flag` runs for a flag whose metric holds a NUL (and whatever else a log can hold);
//! - every numeric option and every `--set` threshold is range-checked: absurd values are a
//!   usage error (exit 2, one clear line), never a panic, an abort or a silent clamp;
//! - `tmon check --follow` notices at once that its output's reader went away (exit 141).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tmon::analysis::FlagConfig;

const BIN: &str = env!("CARGO_BIN_EXE_tmon");

/// Runs `tmon ARGS` to the end (killed and failed after 20 s).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tmon");
    let t0 = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tmon {args:?} did not finish within 20 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn small_log(dir: &Path) -> String {
    let log = dir.join("run.jsonl");
    std::fs::write(&log, "{\"step\": 1, \"loss\": 1.0}\n{\"step\": 2, \"loss\": 0.9}\n").expect("write");
    log.display().to_string()
}

// ---- 2. the demo and a planted symlink ----

#[cfg(unix)]
#[test]
fn the_demo_does_not_write_through_a_planted_symlink() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious\n").expect("write victim");
    // Another user's plant at the path the demo used to take: `$TMPDIR/tmon-demo-<pid>/logs.jsonl`
    // as a symlink to a file of their choosing. `exec` keeps the pid the plant was made for.
    let script = r#"mkdir "$TMPDIR/tmon-demo-$$" && ln -s "$0" "$TMPDIR/tmon-demo-$$/logs.jsonl" && exec "$1" demo --no-ui --speed 10000"#;
    let out = Command::new("sh")
        .args(["-c", script])
        .arg(&victim)
        .arg(BIN)
        .env("TMPDIR", tmp.path())
        .output()
        .expect("run the demo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious\n",
        "the demo wrote through the plant"
    );
    // It wrote a log of its own, in a folder only its user can enter.
    let line =
        stderr.lines().find(|l| l.starts_with("watch it from another pane with: tmon ")).expect("the path");
    let log = Path::new(line.trim_start_matches("watch it from another pane with: tmon "));
    assert!(log.starts_with(tmp.path()), "{}", log.display());
    let planted = std::fs::read_dir(tmp.path())
        .expect("list")
        .filter_map(Result::ok)
        .find(|e| {
            e.file_name().to_string_lossy().starts_with("tmon-demo-")
                && e.path().join("logs.jsonl").is_symlink()
        })
        .expect("the plant is still there");
    assert!(!log.starts_with(planted.path()), "the demo used the planted folder: {}", log.display());
    let meta = std::fs::symlink_metadata(log).expect("the demo's log");
    assert!(meta.file_type().is_file(), "not a regular file");
    assert!(meta.len() > 1000, "the run was written: {} bytes", meta.len());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(log.parent().expect("folder")).expect("folder").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the demo's folder is private");
}

// ---- 3. --on-flag and a NUL in a key ----

#[test]
fn on_flag_runs_for_a_flag_whose_metric_holds_a_nul() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("run.jsonl");
    let pages = dir.path().join("pages");
    // A flag in the history: once its line is printed, tmon follows live.
    std::fs::write(
        &log,
        "{\"step\": 1, \"loss\": 1.0, \"acc\": 0.5}\n{\"step\": 2, \"loss\": 0.9, \"acc\": NaN}\n",
    )
    .expect("write");
    let hook = format!(
        "printf '%s|%s|%s\\n' \"$TMON_KIND\" \"$TMON_METRIC\" \"$TMON_MESSAGE\" >> '{}'",
        pages.display()
    );
    let mut child = Command::new(BIN)
        .args(["check", "--follow", "--on-flag", &hook])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tmon");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("the history's flag").expect("read");
    assert!(first.contains("nonfinite"), "{first}");

    let mut f = std::fs::OpenOptions::new().append(true).open(&log).expect("open");
    f.write_all(b"{\"step\": 3, \"loss\": 0.8, \"acc\": 0.5, \"lo\\u0000ss\": NaN}\n").expect("append");
    drop(f);
    let t0 = Instant::now();
    let page = loop {
        let text = std::fs::read_to_string(&pages).unwrap_or_default();
        if !text.is_empty() {
            break text;
        }
        if t0.elapsed() > Duration::from_secs(20) || child.try_wait().expect("wait").is_some() {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("the hook never ran; stderr:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("nul byte"), "{stderr}");
    assert!(page.starts_with("nonfinite|lo\\x00ss|"), "the page names the metric, made safe: {page:?}");
    assert!(!page.chars().any(|c| c.is_control() && c != '\n'), "{page:?}");
}

// ---- 13. numeric options and --set values are range-checked ----

/// Values no threshold accepts.
const ABSURD: &[&str] = &[
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "1e300",
    "-1",
    "-0.5",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "infinity",
    "",
    "eight",
];

fn assert_usage_error(args: &[&str], needle: &str) {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, Some(2), "tmon {args:?}: status {code:?}\n{stderr}");
    assert!(!stderr.contains("panicked"), "tmon {args:?} panicked:\n{stderr}");
    assert!(stderr.contains(needle), "tmon {args:?}: the message does not name {needle}:\n{stderr}");
    assert!(stdout.is_empty(), "tmon {args:?} printed: {stdout}");
}

#[test]
fn every_threshold_rejects_absurd_values_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = small_log(dir.path());
    let out = dir.path().join("demo.jsonl").display().to_string();
    let thresholds = FlagConfig::describe();
    assert!(thresholds.len() >= 30, "describe() lists every threshold");
    for t in &thresholds {
        let mut values: Vec<String> = ABSURD.iter().map(|v| v.to_string()).collect();
        if !t.range.contains(0.0) {
            values.push("0".into());
        }
        if t.whole {
            values.push("2.5".into());
        }
        values.push(format!("{}", t.range.max * 10.0));
        for v in &values {
            let pair = format!("{}={v}", t.key);
            let expected = format!("--set '{pair}': threshold '{}' needs ", t.key);
            assert_usage_error(&["check", "--set", &pair, &log], &expected);
        }
        // Its own limits are accepted.
        let max = format!("{}={}", t.key, t.range.max);
        let (code, _, stderr) = run(&["check", "--set", &max, &log]);
        assert_eq!(code, Some(0), "{max}: {stderr}");
    }
    // Every command that reads thresholds checks them before doing anything: the monitor (before
    // it takes the terminal), `check --follow` and the demo (before it writes a line).
    let bad = "spike.window=4294967296";
    assert_usage_error(&["--set", bad, &log], "threshold 'spike.window'");
    assert_usage_error(&["check", "--follow", "--set", bad, &log], "threshold 'spike.window'");
    assert_usage_error(&["demo", "--no-ui", "--out", &out, "--set", bad], "threshold 'spike.window'");
    assert!(!Path::new(&out).exists(), "the demo wrote before checking its options");
}

/// Every option that takes a number, with values it must refuse and values it must take. The
/// test below fails when the command line gains a numeric option this table does not cover.
struct NumOpt {
    command: &'static str,
    long: &'static str,
    absurd: &'static [&'static str],
    fine: &'static [&'static str],
}

const NUMERIC: &[NumOpt] = &[
    NumOpt {
        command: "tmon",
        long: "max-series",
        absurd: &["0", "-1", "NaN", "inf", "1.5", "10000001", "18446744073709551616", ""],
        fine: &[],
    },
    NumOpt {
        command: "check",
        long: "max-series",
        absurd: &["0", "-1", "NaN", "inf", "1.5", "10000001", "18446744073709551616", ""],
        // (Values it takes are read in tests/cli/check.rs's million-names test.)
        fine: &[],
    },
    NumOpt {
        command: "tmon",
        long: "max-output",
        absurd: &["-1", "NaN", "inf", "1.5", "1000001", "18446744073709551616", ""],
        fine: &[],
    },
    NumOpt {
        command: "tmon",
        long: "poll",
        absurd: &[
            "0",
            "-1",
            "NaN",
            "inf",
            "1.5",
            "3600001",
            "4294967296",
            "18446744073709551615",
            "18446744073709551616",
        ],
        fine: &[],
    },
    NumOpt {
        command: "check",
        long: "poll",
        absurd: &[
            "0",
            "-1",
            "NaN",
            "inf",
            "1.5",
            "3600001",
            "4294967296",
            "18446744073709551615",
            "18446744073709551616",
        ],
        fine: &[],
    },
    NumOpt {
        command: "demo",
        long: "speed",
        absurd: &["0", "-1", "NaN", "nan", "inf", "-inf", "1e300", "0.01", "10001", "4294967296", ""],
        // (The slowest, 0.1, would take an hour to write the run.)
        fine: &["10000"],
    },
    NumOpt {
        command: "demo",
        long: "seed",
        absurd: &["-1", "NaN", "inf", "1.5", "18446744073709551616", ""],
        // Any 64-bit seed is a seed.
        fine: &["0", "18446744073709551615"],
    },
    NumOpt {
        command: "export",
        long: "smoothing",
        absurd: &["-1", "NaN", "inf", "1e300", "100002", ""],
        fine: &["0", "0.9"],
    },
    NumOpt {
        command: "export",
        long: "width",
        absurd: &["0", "-1", "99", "8001", "1.5", "NaN", "4294967296", ""],
        fine: &["100"],
    },
    NumOpt {
        command: "export",
        long: "height",
        absurd: &["0", "-1", "99", "8001", "1.5", "NaN", "4294967296", ""],
        fine: &["8000"],
    },
    NumOpt {
        command: "export",
        long: "from",
        absurd: &["NaN", "inf", "-inf", "1e400", ""],
        fine: &["-5", "1"],
    },
    NumOpt { command: "export", long: "to", absurd: &["NaN", "inf", "-inf", "1e400", ""], fine: &["1e9"] },
];

/// The long names of the options of `command` ("tmon" for the root) that parse numbers.
fn numeric_options() -> Vec<(String, String)> {
    use clap::CommandFactory;
    use std::any::TypeId;
    let mut root = tmon::cli::Cli::command();
    root.build();
    let numeric = |a: &clap::Arg| {
        let t = a.get_value_parser().type_id();
        [
            TypeId::of::<u64>(),
            TypeId::of::<u32>(),
            TypeId::of::<usize>(),
            TypeId::of::<i64>(),
            TypeId::of::<f64>(),
        ]
        .iter()
        .any(|id| t == *id)
    };
    let mut out = Vec::new();
    for a in root.get_arguments().filter(|a| numeric(a)) {
        out.push(("tmon".to_owned(), a.get_long().expect("a long name").to_owned()));
    }
    for sub in root.get_subcommands() {
        // A global option (`--max-series`) is the root's, checked there; `check` is checked too,
        // the other subcommands read no log.
        let global_here = |a: &clap::Arg| a.is_global_set() && sub.get_name() != "check";
        for a in sub.get_arguments().filter(|a| numeric(a) && !global_here(a)) {
            out.push((sub.get_name().to_owned(), a.get_long().expect("a long name").to_owned()));
        }
    }
    out
}

#[test]
fn every_numeric_option_rejects_absurd_values() {
    let found = numeric_options();
    for (command, long) in &found {
        assert!(
            NUMERIC.iter().any(|o| o.command == command && o.long == long),
            "`{command} --{long}` takes a number but is not in this test's table"
        );
    }
    assert_eq!(found.len(), NUMERIC.len(), "{found:?}");

    let dir = tempfile::tempdir().expect("tempdir");
    let log = small_log(dir.path());
    let out = dir.path().join("demo.jsonl").display().to_string();
    let svg = dir.path().join("chart.svg").display().to_string();
    for o in NUMERIC {
        // What else the command needs to run (a valid value runs it for real).
        let mut context: Vec<&str> = match o.command {
            "tmon" => vec![&log],
            "check" => vec!["check", "--follow", &log],
            "demo" => vec!["demo", "--no-ui", "--out", &out],
            "export" => vec!["export", &log, "--metric", ".", "-o", &svg],
            other => panic!("no context for {other}"),
        };
        if o.command == "demo" && o.long != "speed" {
            context.push("--speed=10000");
        }
        for v in o.absurd {
            let opt = format!("--{}={v}", o.long);
            let mut args = context.clone();
            args.push(&opt);
            assert_usage_error(&args, &format!("invalid value '{v}' for '--{}", o.long));
        }
        for v in o.fine {
            let opt = format!("--{}={v}", o.long);
            let mut args = context.clone();
            args.push(&opt);
            let (code, _, stderr) = run(&args);
            assert_eq!(code, Some(0), "tmon {args:?}: {stderr}");
        }
    }
    assert!(Path::new(&out).exists(), "the demo ran with the values it must take");
}

// ---- 16. check --follow and a closed pipe ----

#[test]
fn follow_notices_a_closed_pipe_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = small_log(dir.path());
    let mut child = Command::new(BIN)
        .args(["check", "--follow", &log])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tmon");
    let t0 = Instant::now();
    // The read end closes (`| head -c 10` after its ten bytes); no flag will ever be written.
    drop(child.stdout.take());
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tmon check --follow kept running with nobody reading its output");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = t0.elapsed();
    eprintln!("exited {took:?} after the reader went away");
    assert_eq!(status.code(), Some(141), "the status of a broken pipe, as `check` gives");
    assert!(took < Duration::from_secs(5), "{took:?}");
}
