//! Bad input given to `tmon check`: each case runs the real binary on a file generated in a
//! temporary directory, under a time limit (a hang fails the test), and asserts a clear error or
//! a counted skip.

use crate::support::cli::{command, json, metric, run, run_of, tmon};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Generous for debug builds reading 100 MB on a busy 2-core machine.
const BIG: Duration = Duration::from_secs(120);
const SMALL: Duration = Duration::from_secs(20);

const GOOD_1: &str = "{\"step\": 1, \"loss\": 0.5}\n";
const GOOD_2: &str = "{\"step\": 2, \"loss\": 0.25}\n";

fn write_parts(path: &Path, parts: &[&[u8]]) {
    let mut f = fs::File::create(path).unwrap();
    for p in parts {
        f.write_all(p).unwrap();
    }
}

fn no_control_bytes(s: &str) {
    let bad = s.chars().find(|c| c.is_control() && *c != '\n');
    assert!(bad.is_none(), "control character {bad:?} reached the terminal");
}

#[test]
fn a_single_100_mb_line_is_read_or_skipped_without_flooding_the_output() {
    let dir = tempfile::tempdir().unwrap();
    // A valid object holding a 100 MB string between two records.
    let valid = dir.path().join("huge-string.jsonl");
    let big = vec![b'a'; 100 << 20];
    write_parts(&valid, &[GOOD_1.as_bytes(), b"{\"note\": \"", &big, b"\"}\n", GOOD_2.as_bytes()]);
    // 100 MB that is not JSON at all, as the last line without a newline.
    let garbage = dir.path().join("huge-garbage.jsonl");
    write_parts(&garbage, &[GOOD_1.as_bytes(), GOOD_2.as_bytes(), &big]);

    let ran = tmon(["check", "--json", valid.to_str().unwrap(), garbage.to_str().unwrap()], BIG);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let doc = json(&ran);
    for name in ["huge-string.jsonl", "huge-garbage.jsonl"] {
        let run = run_of(&doc, name);
        assert_eq!(metric(run, "loss").unwrap()["points"], 2, "{name}: {run}");
        assert_eq!(metric(run, "loss").unwrap()["last"].as_f64(), Some(0.25), "{name}: {run}");
    }
    // The string-only object has no number in it: metadata (like mmcv's env_info line), neither a
    // record nor a skipped line.
    let run = run_of(&doc, "huge-string.jsonl");
    assert_eq!((run["records"].as_u64(), run["skipped_lines"].as_u64()), (Some(2), Some(0)), "{run}");
    let run = run_of(&doc, "huge-garbage.jsonl");
    assert_eq!((run["records"].as_u64(), run["skipped_lines"].as_u64()), (Some(2), Some(1)), "{run}");

    // The text output shows the skipped line cut short, not 100 MB of it.
    let ran = tmon(["check", garbage.to_str().unwrap()], BIG);
    assert_eq!(ran.code, Some(0));
    assert!(ran.stdout.len() < 10_000, "{} bytes of output", ran.stdout.len());
    assert!(ran.stdout.contains("line 3: "), "{}", ran.stdout);
}

#[test]
fn a_line_with_a_million_keys_is_summarised_not_dumped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many-keys.jsonl");
    let keys: Vec<String> = (0..1_000_000).map(|i| format!("\"k{i}\":{i}")).collect();
    let line = format!("{{{}}}\n", keys.join(","));
    write_parts(&path, &[GOOD_1.as_bytes(), line.as_bytes(), GOOD_2.as_bytes()]);
    let ran = tmon(["check", path.to_str().unwrap()], BIG);
    assert_eq!(ran.code, Some(0), "{:?}", (ran.code, &ran.stderr));
    // The first --max-series keys are series, the rest are counted and said; the table shows the
    // first thousand and says how many more --json lists, so the terminal gets a summary.
    let head = ran.stdout.get(..2000).unwrap_or(&ran.stdout);
    assert!(ran.stdout.contains("3 records, 0 skipped lines"), "{head}");
    assert!(ran.stdout.contains("series cap reached: 995,001 values"), "{head}");
    assert!(ran.stdout.contains("metrics (5,000):"), "{head}");
    assert!(ran.stdout.contains("... and 4,000 more (--json lists them all)"), "{head}");
    assert!(ran.stdout.len() < 100_000, "{} bytes of output", ran.stdout.len());
    assert!(
        ran.stdout.lines().any(|l| l.trim_start().starts_with("loss ")),
        "{}",
        ran.stdout.get(..2000).unwrap_or(&ran.stdout)
    );
}

#[test]
fn nesting_100000_deep_is_a_skipped_line_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.jsonl");
    const DEPTH: usize = 100_000;
    let objects = format!("{}1{}\n", "{\"a\":".repeat(DEPTH), "}".repeat(DEPTH));
    let arrays = format!("{}{}\n", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let unclosed = format!("{{\"x\":{}\n", "[".repeat(DEPTH));
    write_parts(
        &path,
        &[GOOD_1.as_bytes(), objects.as_bytes(), arrays.as_bytes(), unclosed.as_bytes(), GOOD_2.as_bytes()],
    );
    let ran = tmon(["check", "--json", path.to_str().unwrap()], SMALL);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let doc = json(&ran);
    let run = run_of(&doc, "deep.jsonl");
    // Deeper than the parser's 128 levels: all three deep lines are counted skips.
    assert_eq!((run["records"].as_u64(), run["skipped_lines"].as_u64()), (Some(2), Some(3)), "{run}");
    assert_eq!(metric(run, "loss").unwrap()["points"], 2);
}

#[test]
fn binary_garbage_is_counted_and_never_reaches_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.jsonl");
    // Seeded random bytes: every byte value, NULs, ESCs and newlines included.
    let mut bytes = crate::support::rng::bytes(1, 1 << 20);
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(GOOD_1.as_bytes());
    bytes.extend_from_slice(b"\x1b]0;pwned\x07\x1b[2J\xff\xfe\n");
    bytes.extend_from_slice(GOOD_2.as_bytes());
    fs::write(&path, &bytes).unwrap();
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;

    let ran = tmon(["check", "--json", path.to_str().unwrap()], SMALL);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let doc = json(&ran);
    let run = run_of(&doc, "garbage.jsonl");
    assert_eq!(metric(run, "loss").unwrap()["points"], 2);
    let skipped = run["skipped_lines"].as_u64().unwrap();
    assert!(skipped > 1000, "{run}");
    // Every line is a record or a counted skip (blank lines aside).
    assert!(skipped + run["records"].as_u64().unwrap() <= newlines);

    let ran = tmon(["check", path.to_str().unwrap()], SMALL);
    assert_eq!(ran.code, Some(0));
    no_control_bytes(&ran.stdout);
    assert!(ran.stdout.contains("skipped lines (first 5 of"), "{}", ran.stdout);
}

#[test]
fn a_directory_with_no_logs_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "nothing here\n").unwrap();
    let d = dir.path().to_str().unwrap();
    let ran = tmon(["check", d], SMALL);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.starts_with(&format!("tmon: cannot read '{d}': no log files")), "{}", ran.stderr);
    assert_eq!(ran.stderr.lines().count(), 1);
}

#[test]
fn a_fifo_is_refused_at_once_and_skipped_inside_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("live.jsonl");
    crate::support::mkfifo(&fifo);
    let f = fifo.to_str().unwrap();
    let ran = tmon(["check", f], SMALL);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert_eq!(
        ran.stderr.trim_end(),
        format!("tmon: cannot read '{f}': not a regular file (a FIFO); tmon reads log files")
    );
    assert!(ran.elapsed < Duration::from_secs(5), "took {:?}", ran.elapsed);

    // In a directory, a FIFO with a log's name is passed over and the real log is read.
    fs::write(dir.path().join("train.jsonl"), GOOD_1).unwrap();
    let ran = tmon(["check", "--json", dir.path().to_str().unwrap()], SMALL);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(json(&ran)["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn devices_are_refused_by_type_without_reading_them() {
    // /dev/zero never ends: reading it would hang or exhaust memory.
    for dev in ["/dev/zero", "/dev/null"] {
        let ran = tmon(["check", dev], SMALL);
        assert_eq!(ran.code, Some(2), "{ran:?}");
        assert_eq!(
            ran.stderr.trim_end(),
            format!(
                "tmon: cannot read '{dev}': not a regular file (a character device); tmon reads log files"
            )
        );
    }
}

#[test]
fn an_unreadable_file_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.jsonl");
    fs::write(&file, GOOD_1).unwrap();

    // A path through a file fails for everyone, root included.
    let through = file.join("metrics.jsonl");
    let t = through.to_str().unwrap();
    let ran = tmon(["check", t], SMALL);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert_eq!(ran.stderr.trim_end(), format!("tmon: cannot read '{t}': not a directory"));

    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
    let f = file.to_str().unwrap();
    let mut cmd = command(["check", f]);
    // Permission bits do not stop root: as root, tmon runs as nobody, who may enter the directory
    // but not read the file.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        use std::os::unix::process::CommandExt;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        cmd.uid(65534).gid(65534);
    }
    let ran = run(cmd, SMALL);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert_eq!(ran.stderr.trim_end(), format!("tmon: cannot read '{f}': permission denied"));
}

#[test]
fn a_hostile_file_name_is_escaped_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join("x\u{1b}]0;owned\u{7}.jsonl");
    let ran = tmon(["check".as_ref(), name.as_os_str()], SMALL);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("x\\x1b]0;owned\\x07.jsonl': no such file"), "{}", ran.stderr);
    no_control_bytes(&ran.stderr);
}

#[test]
fn an_empty_file_has_no_records_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.jsonl");
    fs::write(&path, b"").unwrap();
    let ran = tmon(["check", "--json", path.to_str().unwrap()], SMALL);
    // Its own status, so that a CI gate cannot pass on an empty file; the report is still written.
    assert_eq!(ran.code, Some(4), "{ran:?}");
    assert!(ran.stderr.contains("no records"), "{}", ran.stderr);
    let doc = json(&ran);
    let run = run_of(&doc, "empty.jsonl");
    assert_eq!(run["records"], 0);
    assert_eq!(run["skipped_lines"], 0);
    assert!(run["metrics"].as_array().unwrap().is_empty());
}

/// A character a terminal acts on, or that reorders or hides text: none may reach it raw.
fn terminal_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{FEFF}')
}

fn inert(what: &str, s: &str) {
    let bad: Vec<char> = s.chars().filter(|&c| terminal_unsafe(c)).collect();
    assert!(bad.is_empty(), "{what}: {bad:?} reached the terminal:\n{s}");
}

/// A metric name that retitles the terminal (OSC 0), writes the clipboard (OSC 52), overrides
/// the text direction (RLO), sends a one-character CSI (C1) and forges a whole flag line.
const HOSTILE_NAME: &str =
    "loss\u{1b}]0;pwned\u{7}\u{1b}]52;c;aGk=\u{7}\u{202e}lav\u{9b}2J\nx.jsonl: critical nonfinite forged 1: forged";

fn hostile_log(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("run\u{1b}]0;t\u{7}.jsonl");
    let name = serde_json::to_string(HOSTILE_NAME).unwrap();
    let mut text = String::new();
    for step in 1..=3 {
        text.push_str(&format!("{{\"step\": {step}, {name}: 0.5}}\n"));
    }
    text.push_str(&format!("{{\"step\": 4, {name}: NaN}}\n"));
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn check_follow_prints_names_messages_and_paths_inert() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let path = hostile_log(dir.path());
    let mut child = Command::new(crate::support::cli::BIN)
        .args(["check".as_ref(), "--follow".as_ref(), path.as_os_str()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let err = child.stderr.take().unwrap();
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(err), &mut s);
        s
    });
    // The nonfinite flag from the history, then the file deleted under the follower.
    let mut first = String::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let _ = out.read_line(&mut first);
        let _ = tx.send(first);
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut rest);
        rest
    });
    let first = rx.recv_timeout(SMALL).expect("a flag line within the time limit");
    fs::remove_file(&path).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = child.kill();
    let _ = child.wait();
    let rest = reader.join().unwrap();
    let stderr = err_t.join().unwrap();
    let stdout = format!("{first}{rest}");

    inert("stdout", &stdout);
    inert("stderr", &stderr);
    // One line per flag, each starting with the (escaped) path: the newline in the name did not
    // start a forged line of its own.
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(!lines.is_empty(), "{stdout}");
    for l in &lines {
        assert!(l.contains("run\\x1b]0;t\\x07.jsonl: "), "{l}");
        assert!(!l.starts_with("x.jsonl"), "a forged line: {l}");
    }
    let nonfinite = lines.iter().find(|l| l.contains(" nonfinite ")).expect("the NaN is flagged");
    assert!(
        nonfinite.contains("loss\\x1b]0;pwned\\x07\\x1b]52;c;aGk=\\x07\\u202elav\\x9b2J\\nx.jsonl"),
        "{nonfinite}"
    );
    assert!(stderr.contains("run\\x1b]0;t\\x07.jsonl' was deleted"), "{stderr}");
}

#[test]
fn json_output_escapes_c1_controls_and_bidi_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let path = hostile_log(dir.path());
    let ran = tmon(["check".as_ref(), "--json".as_ref(), path.as_os_str()], SMALL);
    assert_eq!(ran.code, Some(1), "{ran:?}");
    inert("check --json", &ran.stdout);
    assert!(ran.stdout.contains(r"\u202elav\u009b2J\nx.jsonl"), "{}", ran.stdout);
    // Still the same strings to a JSON parser.
    let doc = json(&ran);
    let names: Vec<&str> =
        doc["runs"][0]["metrics"].as_array().unwrap().iter().filter_map(|m| m["name"].as_str()).collect();
    assert_eq!(names, [HOSTILE_NAME]);
    assert_eq!(doc["runs"][0]["flags"][0]["metric"], HOSTILE_NAME);
    assert_eq!(doc["runs"][0]["flags"][0]["kind"], "nonfinite");
}

#[test]
fn a_huge_metric_name_is_elided_not_padded_into_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big-key.jsonl");
    let key = format!("model.{}.grad_norm", "x".repeat(2 << 20));
    let mut text = String::new();
    for step in 1..=50 {
        text.push_str(&format!("{{\"step\": {step}, \"loss\": 0.5, \"acc\": 0.9, \"{key}\": 1.0}}\n"));
    }
    fs::write(&path, text).unwrap();
    let ran = tmon(["check".as_ref(), path.as_os_str()], SMALL);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    // Padding every row to 2 MB would print 6 MB; the name column is capped at 48 cells.
    assert!(ran.stdout.len() < 4096, "{} bytes of output", ran.stdout.len());
    let row = ran.stdout.lines().find(|l| l.contains("grad_norm")).expect("the big key's row");
    assert!(row.contains("model.xxxx") && row.contains("…") && row.contains("x.grad_norm"), "{row}");
    let loss = ran.stdout.lines().find(|l| l.trim_start().starts_with("loss ")).unwrap();
    assert!(loss.len() < 160, "{loss}");
}
