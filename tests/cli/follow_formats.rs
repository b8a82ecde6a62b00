//! `tmon check --follow` on the logs other tools write (issue 15): a TensorBoard event file, a
//! folder of them, a W&B run file and a CSV, each growing while tmon runs, through the binary. The
//! flags of what is appended are printed as they come; a record written in two pieces (a torn
//! last record, as a writer mid-`write` leaves it) is waited for, not lost.

use prost::Message;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;
use tmon::formats::tfevents::{Event, Summary, Value};
use tmon::formats::tfrecord;

/// One framed event holding one scalar.
fn scalar(step: i64, tag: &str, x: f32) -> Vec<u8> {
    let value = Value { tag: tag.to_owned(), simple_value: Some(x), ..Default::default() };
    let ev = Event {
        wall_time: 1.7e9 + step as f64,
        step,
        summary: Some(Summary { value: vec![value] }),
        ..Default::default()
    };
    let mut out = Vec::new();
    tfrecord::encode(&ev.encode_to_vec(), &mut out);
    out
}

/// The header event every writer starts a file with, then `loss` and `lr` for `steps`.
fn events(steps: std::ops::Range<i64>, header: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if header {
        let ev = Event { wall_time: 1.7e9, file_version: Some("brain.Event:2".into()), ..Default::default() };
        tfrecord::encode(&ev.encode_to_vec(), &mut out);
    }
    for s in steps {
        out.extend(scalar(s, "loss", 2.0 / (1.0 + s as f32)));
        out.extend(scalar(s, "lr", 0.01));
    }
    out
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).create(true).open(path).expect("open for append");
    f.write_all(bytes).expect("append");
    f.flush().expect("flush");
}

/// `tmon check --follow --json PATH`, its stdout lines sent over a channel.
fn follow(path: &Path) -> (Child, Receiver<serde_json::Value>) {
    let mut child = Command::new(crate::support::cli::BIN)
        .args(["check", "--follow", "--json", "--poll", "50"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tmon");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let v = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The next flag line, within 20 s.
fn next_flag(rx: &Receiver<serde_json::Value>, what: &str) -> serde_json::Value {
    rx.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| panic!("no flag line for {what} within 20 s"))
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn assert_flag(flag: &serde_json::Value, kind: &str, metric: &str, step: f64) {
    assert_eq!((flag["kind"].as_str(), flag["metric"].as_str()), (Some(kind), Some(metric)), "{flag}");
    assert_eq!(flag["step"].as_f64(), Some(step), "{flag}");
}

#[test]
fn a_growing_event_file_is_followed_and_a_torn_record_waited_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.out.tfevents.1700000000.host");
    // The history: healthy steps, and a NaN of `lr` whose flag says tmon is reading.
    let mut history = events(0..10, true);
    history.extend(scalar(10, "lr", f32::NAN));
    std::fs::write(&path, &history).expect("write");
    let (child, rx) = follow(&path);
    let first = next_flag(&rx, "the history");
    assert_flag(&first, "nonfinite", "lr", 10.0);
    // Named as `tmon check` names it: by its folder, the TensorBoard run.
    assert_eq!(first["path"].as_str(), dir.path().to_str(), "{first}");

    // New steps, then a NaN loss written in two pieces with a pause between them.
    append(&path, &events(11..30, false));
    let nan = scalar(30, "loss", f32::NAN);
    let (head, tail) = nan.split_at(nan.len() - 5);
    append(&path, head);
    std::thread::sleep(Duration::from_millis(700));
    assert!(rx.try_recv().is_err(), "nothing to flag before the record is whole");
    append(&path, tail);
    let flag = next_flag(&rx, "the appended NaN");
    assert_flag(&flag, "nonfinite", "loss", 30.0);
    stop(child);
}

#[test]
fn a_folder_of_event_files_is_one_run_and_a_restarted_writer_file_joins_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("events.out.tfevents.1700000000.host.1");
    let mut history = events(0..10, true);
    history.extend(scalar(10, "lr", f32::NAN));
    std::fs::write(&first, &history).expect("write");
    let (child, rx) = follow(dir.path());
    let flag = next_flag(&rx, "the history");
    assert_flag(&flag, "nonfinite", "lr", 10.0);
    assert_eq!(flag["path"].as_str(), dir.path().to_str(), "{flag}");

    // The writer restarts: a new event file in the folder, going on from step 11.
    let second = dir.path().join("events.out.tfevents.1700000100.host.2");
    let mut more = events(11..20, true);
    more.extend(scalar(20, "loss", f32::NAN));
    // Created empty (the writer buffers its first events), written a moment later.
    std::fs::write(&second, b"").expect("create");
    std::thread::sleep(Duration::from_millis(700));
    append(&second, &more);
    let flag = next_flag(&rx, "the new file's NaN");
    assert_flag(&flag, "nonfinite", "loss", 20.0);
    assert_eq!(flag["path"].as_str(), dir.path().to_str(), "one run for the folder: {flag}");
    stop(child);
}

#[test]
fn a_growing_wandb_run_file_is_followed() {
    let fixture = crate::support::fixture(
        "formats/wandb/wandb/offline-run-20261206_131343-fixrun01/run-fixrun01.wandb",
    );
    let bytes = std::fs::read(&fixture).expect("the W&B fixture");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run-fixrun01.wandb");
    // The file as the SDK had written it some way in (cut inside a record), then the rest.
    let cut = bytes.len() / 3 + 7;
    std::fs::write(&path, &bytes[..cut]).expect("write");
    let (child, rx) = follow(&path);
    std::thread::sleep(Duration::from_millis(800));
    assert!(rx.try_recv().is_err(), "no flag in the first third of the run");
    append(&path, &bytes[cut..]);
    let mut flags = vec![next_flag(&rx, "the rest of the run")];
    while let Ok(f) = rx.recv_timeout(Duration::from_millis(500)) {
        flags.push(f);
    }
    stop(child);
    assert!(
        flags.iter().any(|f| f["kind"] == "nonfinite" && f["metric"] == "loss" && f["step"] == 22.0),
        "the NaN loss of step 22 (as `tmon check` reads the whole file): {flags:?}"
    );
}

#[test]
fn a_growing_csv_is_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("metrics.csv");
    let mut text = String::from("epoch,loss,val_loss\n");
    for e in 0..10 {
        text.push_str(&format!("{e},{},{}\n", 2.0 / (1.0 + e as f64), 2.1 / (1.0 + e as f64)));
    }
    text.push_str("10,0.18,nan\n");
    std::fs::write(&path, &text).expect("write");
    let (child, rx) = follow(&path);
    assert_flag(&next_flag(&rx, "the history"), "nonfinite", "val_loss", 10.0);
    append(&path, b"11,0.17,0.2\n12,na");
    std::thread::sleep(Duration::from_millis(500));
    append(&path, b"n,0.2\n");
    assert_flag(&next_flag(&rx, "the appended row"), "nonfinite", "loss", 12.0);
    stop(child);
}

#[test]
fn a_growing_mlflow_file_store_run_is_followed_new_metric_files_included() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("mlruns/0/0123abcd");
    std::fs::create_dir_all(run.join("metrics")).expect("mkdir");
    std::fs::write(run.join("meta.yaml"), "run_id: 0123abcd\nrun_name: live-run\nstatus: 1\n").expect("meta");
    let mut loss = String::new();
    for s in 0..10 {
        loss.push_str(&format!("{} {} {s}\n", 1_700_000_000_000u64 + s * 1000, 2.0 / (1.0 + s as f64)));
    }
    loss.push_str("1700000010000 nan 10\n");
    std::fs::write(run.join("metrics/loss"), &loss).expect("loss");
    let (child, rx) = follow(&dir.path().join("mlruns"));
    let flag = next_flag(&rx, "the history");
    assert_flag(&flag, "nonfinite", "loss", 10.0);
    assert_eq!(flag["path"].as_str(), run.to_str(), "the run is its folder: {flag}");

    // A metric logged for the first time: a new file (nested name), then a line cut in two.
    std::fs::create_dir_all(run.join("metrics/val")).expect("mkdir");
    std::fs::write(run.join("metrics/val/acc"), "1700000011000 0.5 11\n1700000012000 na").expect("acc");
    std::thread::sleep(Duration::from_millis(500));
    append(&run.join("metrics/val/acc"), b"n 12\n");
    let flag = next_flag(&rx, "the new metric file's NaN");
    assert_flag(&flag, "nonfinite", "val/acc", 12.0);
    assert_eq!(flag["path"].as_str(), run.to_str(), "one run: {flag}");
    stop(child);
}

#[test]
fn on_flag_runs_for_new_steps_of_an_event_file_not_for_its_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.out.tfevents.1700000000.host");
    let hooked = dir.path().join("hooked.txt");
    // The history ends on a NaN: its flag is old news, however the step's events were read.
    let mut history = events(0..10, true);
    history.extend(scalar(10, "lr", f32::NAN));
    std::fs::write(&path, &history).expect("write");
    let hook = format!("echo \"$TMON_METRIC $TMON_STEP\" >> '{}'", hooked.display());
    let path_arg = path.display().to_string();
    let (child, rx) = crate::support::cli::spawn_lines([
        "check",
        "--follow",
        "--json",
        "--poll",
        "50",
        "--on-flag",
        &hook,
        &path_arg,
    ]);
    let (_, first) = rx.recv_timeout(Duration::from_secs(20)).expect("the history's flag");
    assert!(first.contains("\"lr\""), "{first}");
    std::thread::sleep(Duration::from_millis(800));
    assert!(!hooked.exists(), "the hook ran for the history: {:?}", std::fs::read_to_string(&hooked));

    append(&path, &scalar(11, "loss", f32::NAN));
    let t0 = std::time::Instant::now();
    while !std::fs::read_to_string(&hooked).is_ok_and(|s| s.contains("loss 11")) {
        assert!(t0.elapsed() < Duration::from_secs(20), "no hook for the new NaN within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(std::fs::read_to_string(&hooked).unwrap(), "loss 11\n", "once, for the new flag only");
    stop(child);
}

/// An MLflow store like the one MLflow 3 writes (`mlflow.db`), its tables made by the statements
/// of the database MLflow wrote for our fixtures, with one run `aaa` ("first").
fn mlflow_db(path: &Path) -> rusqlite::Connection {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/mlflow/sqlite/mlflow.db");
    let src = rusqlite::Connection::open_with_flags(&fixture, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the fixture");
    let mut q = src
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'metrics', 'params', 'experiments')")
        .expect("prepare");
    let tables: Vec<String> =
        q.query_map([], |r| r.get(0)).expect("query").map(|r| r.expect("sql")).collect();
    assert_eq!(tables.len(), 4, "the fixture's tables");
    let db = rusqlite::Connection::open(path).expect("create the database");
    for sql in tables {
        db.execute(&sql, []).expect("create a table");
    }
    db.execute(
        "INSERT INTO experiments (experiment_id, name, lifecycle_stage) VALUES (0, 'Default', 'active')",
        [],
    )
    .expect("experiment");
    add_run(&db, "aaa", "first", 1);
    db
}

fn add_run(db: &rusqlite::Connection, id: &str, name: &str, start: i64) {
    db.execute(
        "INSERT INTO runs (run_uuid, name, status, start_time, lifecycle_stage, experiment_id) \
         VALUES (?1, ?2, 'RUNNING', ?3, 'active', 0)",
        rusqlite::params![id, name, start],
    )
    .expect("run");
}

/// A metric row as MLflow's SQL store writes it (NaN as 0 with `is_nan`).
fn log_metric(db: &rusqlite::Connection, run: &str, key: &str, step: i64, x: f64) {
    db.execute(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            key,
            if x.is_nan() { 0.0 } else { x },
            1_700_000_000_000 + step,
            run,
            step,
            x.is_nan()
        ],
    )
    .expect("metric");
}

/// The files of a folder, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `mlflow.db` followed: rows inserted while tmon runs reach their runs (the database's first run
/// under its path, another run as `mlflow.db#<run id>`), read through a read-only connection.
#[test]
fn an_mlflow_database_is_followed_run_by_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mlflow.db");
    let db = mlflow_db(&path);
    for s in 0..10 {
        log_metric(&db, "aaa", "loss", s, 2.0 / (1.0 + s as f64));
    }
    log_metric(&db, "aaa", "lr", 10, f64::NAN);
    let (child, rx) = follow(&path);
    let first = next_flag(&rx, "the history");
    assert_flag(&first, "nonfinite", "lr", 10.0);
    assert_eq!(first["path"].as_str(), path.to_str(), "{first}");

    // A transaction of many rows, as MLflow's `log_batch` writes them.
    let tx = db.unchecked_transaction().expect("begin");
    for s in 11..300 {
        log_metric(&db, "aaa", "loss", s, 2.0 / (1.0 + s as f64));
    }
    log_metric(&db, "aaa", "loss", 300, f64::NAN);
    tx.commit().expect("commit");
    let flag = next_flag(&rx, "the inserted NaN");
    assert_flag(&flag, "nonfinite", "loss", 300.0);
    assert_eq!(flag["path"].as_str(), path.to_str(), "{flag}");

    // A run started later is a run of its own.
    add_run(&db, "bbb", "second", 2);
    for s in 0..5 {
        log_metric(&db, "bbb", "acc", s, 0.1 * s as f64);
    }
    log_metric(&db, "bbb", "acc", 5, f64::NAN);
    let flag = next_flag(&rx, "the second run's NaN");
    assert_flag(&flag, "nonfinite", "acc", 5.0);
    assert_eq!(flag["path"].as_str().map(|p| p.ends_with("mlflow.db#bbb")), Some(true), "{flag}");
    stop(child);
    assert_eq!(files_in(dir.path()), ["mlflow.db"], "nothing made beside the database");
}

/// A database in WAL mode: commits land in `mlflow.db-wal` (the file itself is left alone until a
/// checkpoint) and are followed all the same; with no writer (no `-wal`, no `-shm`), reading it
/// creates neither.
#[test]
fn an_mlflow_database_in_wal_mode_is_followed_and_nothing_is_made_beside_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mlflow.db");
    let db = mlflow_db(&path);
    let mode: String = db.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).expect("wal");
    assert_eq!(mode, "wal");
    log_metric(&db, "aaa", "lr", 1, f64::NAN);
    drop(db);
    assert_eq!(files_in(dir.path()), ["mlflow.db"], "the writer gone, its -wal and -shm are gone");
    let out = Command::new(crate::support::cli::BIN).arg("check").arg(&path).output().expect("tmon check");
    assert!(String::from_utf8_lossy(&out.stdout).contains("lr became NaN at step 1"), "{out:?}");
    let (child, rx) = follow(&path);
    assert_flag(&next_flag(&rx, "the history"), "nonfinite", "lr", 1.0);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(files_in(dir.path()), ["mlflow.db"], "read, not opened for writing");

    // A writer: its commits stay in the -wal while it is open.
    let db = rusqlite::Connection::open(&path).expect("writer");
    db.execute_batch("PRAGMA wal_autocheckpoint = 0").expect("no checkpoint");
    for s in 2..50 {
        log_metric(&db, "aaa", "loss", s, 1.0 / s as f64);
    }
    log_metric(&db, "aaa", "loss", 50, f64::NAN);
    let flag = next_flag(&rx, "a NaN committed to the -wal");
    assert_flag(&flag, "nonfinite", "loss", 50.0);
    stop(child);
    drop(db);
    assert_eq!(
        files_in(dir.path()),
        ["mlflow.db"],
        "the writer cleans up after itself, nothing of ours left"
    );
}
