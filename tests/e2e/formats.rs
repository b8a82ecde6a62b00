//! The monitor on a TensorBoard logdir in a real terminal (tmux): a folder whose writer restarted
//! (two event files) is one run, read with the event-file reader (not as JSON Lines), and steps
//! appended to its newest file arrive on screen.

use crate::support::term::*;
use prost::Message;
use std::io::Write;
use tmon::formats::tfevents::{Event, Summary, Value};
use tmon::formats::tfrecord;

fn scalar(step: i64, tag: &str, x: f32, out: &mut Vec<u8>) {
    let value = Value { tag: tag.to_owned(), simple_value: Some(x), ..Default::default() };
    let ev = Event {
        wall_time: 1.7e9 + step as f64,
        step,
        summary: Some(Summary { value: vec![value] }),
        ..Default::default()
    };
    tfrecord::encode(&ev.encode_to_vec(), out);
}

fn events(steps: std::ops::Range<i64>) -> Vec<u8> {
    let mut out = Vec::new();
    let header = Event { wall_time: 1.7e9, file_version: Some("brain.Event:2".into()), ..Default::default() };
    tfrecord::encode(&header.encode_to_vec(), &mut out);
    for s in steps {
        scalar(s, "train/loss", 2.0 / (1.0 + s as f32), &mut out);
        scalar(s, "train/lr", 0.01, &mut out);
    }
    out
}

/// tmon's header: the first line of a screen.
fn head(s: &str) -> String {
    s.lines().next().unwrap_or("").to_owned()
}

/// While the `n` steps of the event file `file` load, `?` opens and closes the help; then every
/// step is shown once, nothing is skipped, a step appended to `file` arrives, and `q` restores
/// the terminal.
fn keys_while_loading_then_follow(tmux: &Tmux, file: &std::path::Path, n: i64) {
    tmux.keys(&["?"]);
    tmux.wait_for("the help", |s| s.contains("this help"));
    tmux.keys(&["?"]);
    tmux.wait_for("the help closed", |s| !s.contains("this help"));
    let screen = tmux.wait_for("the whole history", |s| {
        head(s).contains(&format!("step {}", n - 1)) && !head(s).contains("loading")
    });
    assert!(head(&screen).contains(&format!("{n} records")), "every step once:\n{screen}");
    assert!(!head(&screen).contains("skipped"), "{screen}");
    let mut more = Vec::new();
    scalar(n, "train/loss", 0.01, &mut more);
    scalar(n, "train/lr", 0.01, &mut more);
    let mut f = std::fs::OpenOptions::new().append(true).open(file).expect("open");
    f.write_all(&more).expect("append");
    drop(f);
    let screen = tmux.wait_for("the appended step", |s| head(s).contains(&format!("step {n}")));
    assert!(head(&screen).contains(&format!("{} records", n + 1)), "{screen}");
    assert!(!head(&screen).contains("skipped"), "{screen}");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
    assert_restored(&screen, "q");
}

#[test]
fn a_tensorboard_folder_is_one_run_and_is_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run1");
    std::fs::create_dir(&run).expect("mkdir");
    std::fs::write(run.join("events.out.tfevents.1700000000.host.1"), events(0..40)).expect("write");
    let newest = run.join("events.out.tfevents.1700000100.host.2");
    std::fs::write(&newest, events(40..80)).expect("write");
    let Some(tmux) = tmux("tfevents", &around(&tmon_cmd(None, &[run.to_str().unwrap()]))) else { return };

    let screen = tmux.wait_for("the event files' metrics", |s| {
        s.contains("metrics (") && s.contains("train/loss") && s.contains("train/lr") && s.contains("step 79")
    });
    let header = screen.lines().next().unwrap_or("");
    assert!(!header.contains("[1/2]"), "two event files of one folder are one run: {header}");
    assert!(!header.contains("skipped"), "nothing read as unparseable lines: {header}");
    assert!(header.contains("run1 ") && !header.contains("tfevents"), "named by its folder: {header}");

    let mut f = std::fs::OpenOptions::new().append(true).open(&newest).expect("open");
    let mut more = Vec::new();
    for s in 80..=85 {
        scalar(s, "train/loss", 0.02, &mut more);
        scalar(s, "train/lr", 0.01, &mut more);
    }
    f.write_all(&more).expect("append");
    drop(f);
    tmux.wait_for("step 85 in the header", |s| s.lines().next().is_some_and(|l| l.contains("step 85")));

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
    assert_restored(&screen, "q");
}

/// A big event file (about 35 MB) is decoded by the loader's threads, not by the loop that
/// answers keys: the help opens and closes as soon as the monitor is up, the whole history
/// arrives, and a step appended after the look is read from where the history ended.
#[test]
fn a_big_event_file_loads_off_the_loop_and_keys_are_answered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("big");
    std::fs::create_dir(&run).expect("mkdir");
    let n = 400_000;
    let file = run.join("events.out.tfevents.1700000000.host.1");
    std::fs::write(&file, events(0..n)).expect("write");
    let Some(tmux) = tmux("tfbig", &around(&tmon_cmd(None, &[run.to_str().unwrap()]))) else { return };
    tmux.wait_for("the monitor", |s| head(s).contains("tmon"));
    keys_while_loading_then_follow(&tmux, &file, n);
}

/// An MLflow database (`mlflow.db`) in the monitor: its run's steps are shown, and rows inserted
/// while it runs arrive on screen; a run started later is a second run.
#[test]
fn an_mlflow_database_is_followed_in_the_monitor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mlflow.db");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats/mlflow/sqlite/mlflow.db");
    let src = rusqlite::Connection::open_with_flags(&fixture, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the fixture");
    let mut q = src
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'metrics', 'params', 'experiments')")
        .expect("prepare");
    let tables: Vec<String> =
        q.query_map([], |r| r.get(0)).expect("query").map(|r| r.expect("sql")).collect();
    let db = rusqlite::Connection::open(&path).expect("create");
    for sql in tables {
        db.execute(&sql, []).expect("table");
    }
    db.execute(
        "INSERT INTO experiments (experiment_id, name, lifecycle_stage) VALUES (0, 'Default', 'active')",
        [],
    )
    .expect("experiment");
    let run = |id: &str, name: &str, start: i64| {
        db.execute(
            "INSERT INTO runs (run_uuid, name, status, start_time, lifecycle_stage, experiment_id) \
             VALUES (?1, ?2, 'RUNNING', ?3, 'active', 0)",
            rusqlite::params![id, name, start],
        )
        .expect("run");
    };
    let metric = |id: &str, key: &str, step: i64, x: f64| {
        db.execute(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            rusqlite::params![key, x, 1_700_000_000_000 + step, id, step],
        )
        .expect("metric");
    };
    run("aaa", "first", 1);
    for s in 0..40 {
        metric("aaa", "train/loss", s, 2.0 / (1.0 + s as f64));
    }
    let Some(tmux) = tmux("mlflowdb", &around(&tmon_cmd(None, &[path.to_str().unwrap()]))) else { return };
    tmux.wait_for("the run's steps", |s| head(s).contains("step 39") && s.contains("train/loss"));
    for s in 40..=45 {
        metric("aaa", "train/loss", s, 0.05);
    }
    tmux.wait_for("the inserted steps", |s| head(s).contains("step 45"));
    run("bbb", "second", 2);
    for s in 0..3 {
        metric("bbb", "train/loss", s, 1.0);
    }
    let screen = tmux.wait_for("a second run", |s| head(s).contains("2 runs"));
    assert!(!head(&screen).contains("skipped"), "{screen}");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
    assert_restored(&screen, "q");
}

/// A big event file that appears in a watched directory after the monitor started (about 30 MB,
/// its history streamed by the source from the start) is decoded on the loader's pool, piece by
/// piece, not by the loop: keys are answered while it loads, every step arrives once, and a step
/// appended afterwards is followed.
#[test]
fn a_big_event_file_found_later_is_decoded_off_the_loop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(tmux) = tmux("tflate", &around(&tmon_cmd(None, &[dir.path().to_str().unwrap()]))) else {
        return;
    };
    tmux.wait_for("the monitor", |s| head(s).contains("tmon"));
    let n = 300_000;
    // Written beside, then moved in whole: the source finds one big file.
    let staged = dir.path().join("staged.bin");
    std::fs::write(&staged, events(0..n)).expect("write");
    let run = dir.path().join("late");
    std::fs::create_dir(&run).expect("mkdir");
    let file = run.join("events.out.tfevents.1700000000.host.1");
    std::fs::rename(&staged, &file).expect("move in");
    keys_while_loading_then_follow(&tmux, &file, n);
}
