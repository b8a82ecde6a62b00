//! The readers of TensorBoard event files, CSV, W&B run files and MLflow stores, on fixtures the
//! real libraries wrote (tests/fixtures/formats/, made by make_fixtures.sh there, with the values
//! written beside each in expected.json), on bad input built from them, and through the binary.

use prost::Message;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use tmon::formats::tfevents::{Event, Summary, Value as TbValue};
use tmon::formats::{leveldb, tfrecord};
use tmon::ingest::IngestOptions;
use tmon::run::Run;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats").join(rel)
}

fn load_all(path: &Path) -> Vec<Run> {
    Run::load_all(path, IngestOptions::default(), Default::default()).expect("reads")
}

fn load_one(path: &Path) -> Run {
    let mut runs = load_all(path);
    assert_eq!(runs.len(), 1, "{}", path.display());
    runs.remove(0)
}

fn expected(dir: &str) -> Value {
    let text = std::fs::read_to_string(fixture(dir).join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("json")
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        v => v.as_f64().expect("a number"),
    }
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// (step, value, time) of every point of `name`.
fn points(run: &Run, name: &str) -> Vec<(f64, f64, f64)> {
    let s = run.store.series(run.store.find(name).unwrap_or_else(|| panic!("no series {name}")));
    (0..s.len()).map(|i| (s.step(i), s.value(i), s.time(i))).collect()
}

/// Asserts the points of `name` are the expected `[step, value(, time)]` triples, exactly.
fn assert_points(run: &Run, name: &str, want: &Value) {
    let got = points(run, name);
    let want = want.as_array().expect("a list");
    assert_eq!(got.len(), want.len(), "{name}: points");
    for (g, w) in got.iter().zip(want) {
        let w = w.as_array().unwrap();
        assert_eq!(g.0, num(&w[0]), "{name}: step");
        assert!(same(g.1, num(&w[1])), "{name} at step {}: {} != {}", g.0, g.1, num(&w[1]));
        if let Some(t) = w.get(2) {
            assert!((g.2 - num(t)).abs() < 1e-6, "{name} at step {}: time {} != {}", g.0, g.2, num(t));
        }
    }
}

// ---------------------------------------------------------------- TensorBoard

#[test]
fn tensorboardx_scalars_with_a_nan_and_histograms() {
    let run = load_one(&fixture("tb/simple"));
    let exp = expected("tb/simple");
    assert_points(&run, "loss", &exp["loss"]);
    assert_points(&run, "lr", &exp["lr"]);
    // tensorboardX's `add_histogram`: HistogramProto values, read into the run's histograms.
    assert_eq!(run.info.not_metrics.get("histograms"), None);
    let hs = run.store.histograms();
    let points: usize = (0..hs.len()).map(|id| run.store.histogram(id).len()).sum();
    assert_eq!(points as u64, exp["histograms"].as_u64().unwrap());
    assert_eq!(hs.bad().0, 0);
    let h = run.store.histogram(0);
    let p = h.point(0);
    assert!(p.total > 0.0 && p.edges.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
    // Each on the record of its step, with the scalars of that step: still one record a step.
    assert_eq!(h.step(0), 0.0);
    assert_eq!(run.ingest.format().as_str(), "tfevents");
    assert_eq!(run.store.skipped.count, 0);
    // One record per step, though the writer wrote one event per scalar.
    assert_eq!(run.store.records(), 60);
    assert!(run
        .flags()
        .iter()
        .any(|f| f.kind.as_str() == "nonfinite" && f.metric == "loss" && f.step == 45.0));
}

#[test]
fn tf2_tensor_scalars_in_float_and_double() {
    let run = load_one(&fixture("tb/tensor"));
    let exp = expected("tb/tensor");
    assert_points(&run, "loss", &exp["loss"]);
    assert_points(&run, "accuracy", &exp["accuracy"]);
    assert!(run.info.not_metrics.is_empty(), "{:?}", run.info.not_metrics);
}

#[test]
fn tensor_scalars_whose_metadata_is_on_the_first_value_only() {
    let run = load_one(&fixture("tb/keras"));
    let exp = expected("tb/keras");
    assert_points(&run, "epoch_loss", &exp["epoch_loss"]);
    assert_points(&run, "epoch_accuracy", &exp["epoch_accuracy"]);
}

#[test]
fn a_restarted_writer_two_event_files_one_run_in_time_order() {
    let dir = fixture("tb/restarted");
    let files = tmon::formats::tfevents::event_files(&dir).unwrap();
    assert_eq!(files.len(), 2);
    assert!(files[0].to_string_lossy().ends_with("attempt0"));
    // Either file stands for the run.
    for path in [dir.clone(), files[1].clone()] {
        let run = load_one(&path);
        assert_eq!(run.path, dir);
        assert_points(&run, "loss", &expected("tb/restarted")["loss"]);
        assert!(run.flags().iter().any(|f| f.kind.as_str() == "restart"));
    }
}

#[test]
fn a_torn_last_record_is_counted_and_the_rest_kept() {
    let run = load_one(&fixture("tb/torn"));
    assert_points(&run, "loss", &expected("tb/torn")["loss"]);
    assert_eq!(run.store.skipped.count, 1);
    assert!(run.store.skipped.kept[0].reason.contains("ends inside a record"));
}

fn scalar_event(step: i64, tag: &str, x: f32) -> Vec<u8> {
    let value = TbValue { tag: tag.to_owned(), simple_value: Some(x), ..Default::default() };
    let ev = Event {
        wall_time: 1.7e9 + step as f64,
        step,
        summary: Some(Summary { value: vec![value] }),
        ..Default::default()
    };
    ev.encode_to_vec()
}

fn write_events(records: &[Vec<u8>]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.out.tfevents.1700000000.test");
    std::fs::write(&path, records.concat()).unwrap();
    (dir, path)
}

fn framed(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    tfrecord::encode(data, &mut out);
    out
}

#[test]
fn bad_event_records_are_counted_and_nothing_around_them_is_lost() {
    let good = |s| framed(&scalar_event(s, "loss", s as f32));
    // A flipped data byte (bad data CRC).
    let mut bad_crc = good(2);
    bad_crc[tfrecord::HEADER + 3] ^= 0x40;
    // A length field of 2^63 with a valid checksum: must neither allocate nor stop the file.
    let huge = (1u64 << 63).to_le_bytes();
    let mut absurd = huge.to_vec();
    absurd.extend_from_slice(&tfrecord::masked_crc(&huge).to_le_bytes());
    absurd.extend_from_slice(b"after an absurd length");
    // An event with fields this reader does not know (tag 99, a varint), and one with a known
    // field of the wrong wire type is not an event at all.
    let mut unknown = scalar_event(5, "loss", 5.0);
    unknown.extend_from_slice(&[0x98, 0x06, 0x2a]);
    let not_event = framed(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    let records = vec![
        good(0),
        good(1),
        bad_crc,
        b"garbage in the middle of the file".to_vec(),
        good(3),
        absurd,
        good(4),
        framed(&unknown),
        not_event,
        good(6),
        good(7)[..10].to_vec(), // torn tail
    ];
    let (_d, path) = write_events(&records);
    let run = load_one(&path);
    let steps: Vec<f64> = points(&run, "loss").iter().map(|p| p.0).collect();
    assert_eq!(steps, [0.0, 1.0, 3.0, 4.0, 5.0, 6.0]);
    let reasons: Vec<&str> = run.store.skipped.kept.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(run.store.skipped.count, 5, "{reasons:#?}");
    assert!(reasons[0].contains("data checksum"), "{reasons:#?}");
    assert!(reasons[1].contains("bad length checksum"));
    assert!(reasons[2].contains("bad length checksum"));
    assert!(reasons[3].contains("not an event"));
    assert!(reasons[4].contains("ends inside a record"));
}

#[test]
fn a_nan_scalar_in_an_event_file_raises_nonfinite_through_the_binary() {
    let doc = check_json(&[&fixture("tb/simple")], 1);
    let run = &doc["runs"][0];
    assert_eq!(run["format"], "tfevents");
    assert_eq!(run["step_key"], "step");
    assert_eq!(run["time_key"], "wall_time");
    assert!(run["not_metrics"]["histograms"].is_null());
    assert_eq!(run["histograms"][0]["name"], "weights");
    assert_eq!(run["histograms"][0]["points"], 6);
    let loss = run["metrics"].as_array().unwrap().iter().find(|m| m["name"] == "loss").unwrap();
    assert_eq!(loss["nonfinite"], 1);
    assert!(run["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["kind"] == "nonfinite" && f["severity"] == "critical"));
}

#[test]
fn a_logdir_is_one_run_per_folder() {
    let doc = check_json(&[&fixture("tb")], 1);
    let paths: Vec<String> =
        doc["runs"].as_array().unwrap().iter().map(|r| r["path"].as_str().unwrap().to_owned()).collect();
    let names: Vec<&str> = paths.iter().map(|p| p.rsplit('/').next().unwrap()).collect();
    assert_eq!(names, ["keras", "restarted", "simple", "tensor", "tf2hist", "torn"]);
}

// ---------------------------------------------------------------- CSV

#[test]
fn lightning_metrics_csv_rewritten_with_a_new_column() {
    let run = load_one(&fixture("csv/lightning/version_0/metrics.csv"));
    let exp = expected("csv/lightning/version_0");
    for name in ["train_loss", "val_loss", "val_acc"] {
        assert_points(&run, name, &exp[name]);
    }
    assert_eq!(run.ingest.step_key(), Some("step"));
    assert_eq!(run.ingest.format().as_str(), "csv");
}

#[test]
fn keras_csv_logger_with_a_nan() {
    let run = load_one(&fixture("csv/keras/training.log"));
    let exp = expected("csv/keras");
    for name in ["loss", "accuracy", "val_loss"] {
        assert_points(&run, name, &exp[name]);
    }
    assert_eq!(run.ingest.step_key(), Some("epoch"));
    assert!(run.flags().iter().any(|f| f.kind.as_str() == "nonfinite" && f.metric == "loss"));
}

#[test]
fn ultralytics_padded_headers() {
    let run = load_one(&fixture("csv/ultralytics/results.csv"));
    let exp = expected("csv/ultralytics");
    for name in ["train/box_loss", "metrics/mAP50(B)", "lr/pg0"] {
        assert_points(&run, name, &exp[name]);
    }
    assert_eq!(run.ingest.step_key(), Some("epoch"));
}

#[test]
fn a_bad_csv_row_is_counted_and_the_others_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.csv");
    let text =
        "step,loss\n1,2.0\n2,1.5,extra,cells\n3,nan\n4,1.0\nstep,loss\n1,0.9\n5,0.8\n6,\"unclosed\n7,0.7\n";
    std::fs::write(&path, text).unwrap();
    let run = load_one(&path);
    let loss = points(&run, "loss");
    assert_eq!(loss.iter().map(|p| p.0).collect::<Vec<_>>(), [1.0, 3.0, 4.0, 1.0, 5.0]);
    assert!(loss[1].1.is_nan());
    // The repeated header is a writer starting over: a restart, not a skipped line.
    assert_eq!(run.store.series(run.store.find("loss").unwrap()).restarts(), [3]);
    let reasons: Vec<&str> = run.store.skipped.kept.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(run.store.skipped.count, 2, "{reasons:?}");
    assert!(reasons[0].contains("4 cells"));
    assert!(reasons[1].contains("unclosed quote"));
}

// ---------------------------------------------------------------- W&B

fn wandb_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture("wandb/wandb"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("offline-run-"))
        .map(|p| p.join("run-fixrun01.wandb"))
        .collect();
    v.sort();
    v
}

#[test]
fn wandb_offline_run_resumed_into_a_second_folder_is_one_run() {
    let exp = expected("wandb");
    let files = wandb_files();
    assert_eq!(files.len(), 2);
    assert_eq!(tmon::formats::wandb::run_files(&files[1]).len(), 2);
    let attempts = exp["runs"].as_array().unwrap();
    let joined = |key: &str| {
        let v: Vec<Value> =
            attempts.iter().flat_map(|a| a["history"][key].as_array().unwrap().clone()).collect();
        Value::Array(v)
    };
    // Either file (or the latest-run link) stands for the whole run, read in the order written.
    for path in [&files[0], &files[1], &fixture("wandb/wandb/latest-run/run-fixrun01.wandb")] {
        let run = load_one(path);
        assert_eq!(run.ingest.format().as_str(), "wandb");
        assert_eq!(run.ingest.step_key(), Some("_step"));
        assert_eq!(run.ingest.time_key(), Some("_timestamp"));
        assert_points(&run, "loss", &joined("loss"));
        assert_points(&run, "acc/train", &joined("acc/train"));
        // The resume went back from step 24 to 20: marked as a restart.
        let first = attempts[0]["history"]["loss"].as_array().unwrap().len();
        assert_eq!(run.store.series(run.store.find("loss").unwrap()).restarts(), [first]);
        assert_eq!(run.info.name.as_deref(), Some("fixture-run"));
        assert_eq!(run.info.status.as_deref(), Some("finished"));
        assert_eq!(run.info.config.get("lr").map(String::as_str), Some("0.01"));
        assert_eq!(run.info.config.get("model/depth").map(String::as_str), Some("4"));
        assert_eq!(run.info.summary.get("best_loss").map(String::as_str), Some("0.123"));
        assert_eq!(run.store.skipped.count, 0);
    }
}

#[test]
fn a_corrupt_wandb_record_loses_that_record_only() {
    let bytes = std::fs::read(&wandb_files()[0]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run-x.wandb");
    std::fs::write(&path, &bytes).unwrap();
    let clean = load_one(&path);
    let want = points(&clean, "loss").len();
    // Flip a byte inside the loss of the history row for step 10 (the SDK writes a summary
    // record with the same value just before it: the last copy is the history's).
    let loss10 = points(&clean, "loss")[10].1.to_string();
    let at = bytes.windows(loss10.len()).rposition(|w| w == loss10.as_bytes()).expect("the loss at step 10");
    let mut bad = bytes.clone();
    bad[at + 3] ^= 0x01;
    std::fs::write(&path, &bad).unwrap();
    let run = load_one(&path);
    assert_eq!(run.store.skipped.count, 1, "{:?}", run.store.skipped.kept);
    assert!(run.store.skipped.kept[0].reason.contains("checksum"));
    let steps: Vec<f64> = points(&run, "loss").iter().map(|p| p.0).collect();
    assert_eq!(steps.len(), want - 1);
    assert!(!steps.contains(&10.0) && steps.contains(&9.0) && steps.contains(&11.0));
    // Truncated: every whole record before the cut is read, the cut one counted.
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let run = load_one(&path);
    assert!(!points(&run, "loss").is_empty());
    assert_eq!(run.store.skipped.count, 1);
}

#[test]
fn wandb_latest_run_through_the_binary() {
    let doc = check_json(&[&fixture("wandb/wandb/latest-run")], 1);
    let run = &doc["runs"][0];
    assert_eq!(run["format"], "wandb");
    assert_eq!(run["name"], "fixture-run");
    assert_eq!(run["config"]["model/depth"], "4");
    let loss = run["metrics"].as_array().unwrap().iter().find(|m| m["name"] == "loss").unwrap();
    assert_eq!(loss["points"], 45, "both attempts of the resumed run");
    let doc = check_json(&[&fixture("wandb/wandb"), &fixture("wandb/wandb/latest-run")], 1);
    assert_eq!(doc["runs"].as_array().unwrap().len(), 1, "one run, however many paths name it");
}

#[test]
fn leveldb_framing_round_trips_big_records() {
    let mut buf = Vec::new();
    let big = vec![7u8; 3 * leveldb::BLOCK];
    leveldb::encode(b"small", &mut buf);
    leveldb::encode(&big, &mut buf);
    let mut r = leveldb::LogReader::new();
    let mut got = Vec::new();
    let mut at = 0;
    loop {
        let (item, used) = r.next(&buf[at..], true);
        match item {
            leveldb::Item::Full { start, len } => got.push(buf[at + start..at + start + len].to_vec()),
            leveldb::Item::Joined => got.push(r.joined().to_vec()),
            leveldb::Item::End => break,
            leveldb::Item::Skipped { why, .. } => panic!("{why}"),
            _ => {}
        }
        at += used;
    }
    assert_eq!(got, vec![b"small".to_vec(), big]);
}

// ---------------------------------------------------------------- MLflow

fn assert_mlflow_run(run: &Run, exp: &Value) {
    assert_eq!(run.ingest.format().as_str(), "mlflow");
    assert_points(run, "loss", &exp["metrics"]["loss"]);
    assert_points(run, "train/acc", &exp["metrics"]["train/acc"]);
    assert_eq!(run.info.config.get("lr").map(String::as_str), Some("0.01"));
    assert_eq!(run.info.config.get("optimizer").map(String::as_str), Some("adam"));
    // loss and train/acc at one step: one record.
    assert_eq!(run.store.records(), 15);
}

#[test]
fn mlflow_sqlite_one_run_per_mlflow_run() {
    let exp = expected("mlflow/sqlite");
    let runs = load_all(&fixture("mlflow/sqlite/mlflow.db"));
    let names: Vec<&str> = runs.iter().map(|r| r.info.name.as_deref().unwrap()).collect();
    assert_eq!(names, ["first-run", "second-run"]);
    for run in &runs {
        assert_mlflow_run(run, &exp[run.info.name.as_deref().unwrap()]);
        assert_eq!(run.info.status.as_deref(), Some("FINISHED"));
    }
    assert_eq!(runs[0].store.series(runs[0].store.find("loss").unwrap()).nonfinite(), 1);
}

#[test]
fn mlflow_sqlite_is_read_while_a_writer_holds_it_open() {
    // A copy, written to while tmon reads: read-only, and never an error for a busy database.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mlflow.db");
    std::fs::copy(fixture("mlflow/sqlite/mlflow.db"), &db).unwrap();
    let writer = rusqlite::Connection::open(&db).unwrap();
    writer.execute("BEGIN", []).unwrap();
    writer
        .execute(
            "INSERT INTO params (key, value, run_uuid) SELECT 'late', '1', run_uuid FROM runs LIMIT 1",
            [],
        )
        .unwrap();
    let runs = load_all(&db);
    assert_eq!(runs.len(), 2);
    writer.execute("COMMIT", []).unwrap();
    assert_eq!(std::fs::read(&db).unwrap().len() as u64, std::fs::metadata(&db).unwrap().len());
}

#[test]
fn mlflow_file_store_runs_with_nested_metric_names() {
    let exp = expected("mlflow/filestore");
    let doc = check_json(&[&fixture("mlflow/filestore/mlruns")], 1);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        let path = PathBuf::from(r["path"].as_str().unwrap());
        let run = load_one(&path);
        let name = run.info.name.clone().unwrap();
        assert_eq!(r["name"], name.as_str());
        assert_eq!(r["status"], "FINISHED");
        assert_mlflow_run(&run, &exp[name.as_str()]);
    }
}

#[test]
fn a_bad_mlflow_metric_line_is_counted() {
    let src = fixture("mlflow/filestore/mlruns");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("mlruns");
    copy_dir(&src, &copy);
    let run_dir = std::fs::read_dir(
        std::fs::read_dir(&copy)
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.file_name() != "0" && e.file_name() != ".trash")
            .unwrap()
            .path(),
    )
    .unwrap()
    .filter_map(Result::ok)
    .map(|e| e.path())
    .find(|p| p.is_dir())
    .unwrap();
    let loss = run_dir.join("metrics/loss");
    let mut text = std::fs::read_to_string(&loss).unwrap();
    text.insert_str(0, "not a metric line\n");
    std::fs::write(&loss, text).unwrap();
    let run = load_one(&run_dir);
    assert_eq!(run.store.skipped.count, 1);
    assert_eq!(points(&run, "loss").len(), 15);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().filter_map(Result::ok) {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

// ---------------------------------------------------------------- through the binary

/// `tmon check --json PATHS`, expecting exit status `code`.
fn check_json(paths: &[&Path], code: i32) -> Value {
    let out =
        Command::new(env!("CARGO_BIN_EXE_tmon")).arg("check").arg("--json").args(paths).output().unwrap();
    assert_eq!(out.status.code(), Some(code), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn every_fixture_through_tmon_check() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("tb/tensor", "tfevents", &["loss", "accuracy"]),
        ("tb/keras", "tfevents", &["epoch_loss", "epoch_accuracy"]),
        ("csv/lightning", "csv", &["train_loss", "val_loss", "val_acc"]),
        ("csv/keras/training.log", "csv", &["loss", "val_loss"]),
        ("csv/ultralytics", "csv", &["train/box_loss", "lr/pg0"]),
        ("mlflow/sqlite", "mlflow", &["loss", "train/acc"]),
    ];
    for (rel, format, metrics) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_tmon"))
            .args(["check", "--json"])
            .arg(fixture(rel))
            .output()
            .unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{rel}: {}", String::from_utf8_lossy(&out.stderr));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        for run in doc["runs"].as_array().unwrap() {
            assert_eq!(run["format"], *format, "{rel}");
            let names: Vec<&str> =
                run["metrics"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
            for m in *metrics {
                assert!(names.contains(m), "{rel}: {m} in {names:?}");
            }
        }
    }
}
