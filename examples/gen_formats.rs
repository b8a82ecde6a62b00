//! Writes one synthetic run in every format tmon reads, for benches/formats/run.sh: the same
//! steps and values as JSON Lines, TensorBoard events (one event per scalar, as the writers do),
//! a W&B run file (a history record and a summary record per step, as the SDK writes them),
//! Lightning-style CSV, an MLflow SQLite store and an MLflow file store.
//!
//! Usage: cargo run --release --example gen_formats -- OUT_DIR STEPS

use prost::bytes::Bytes;
use prost::Message;
use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;
use tmon::formats::tfevents::{Event, Summary, Value};
use tmon::formats::wandb::{HistoryItem, HistoryRecord, HistoryStep, RawItems, Record};
use tmon::formats::{leveldb, tfrecord};

const T0: f64 = 1_700_000_000.0;
const NAMES: [&str; 4] = ["loss", "lr", "grad_norm", "accuracy"];

fn values(step: u64) -> [f64; 4] {
    let s = step as f64;
    let noise = ((step.wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0 - 0.5) * 0.05;
    [
        2.0 * (-s / 2e5).exp() + 0.1 + noise,
        1e-3 * (1.0 - s / 2e6),
        1.0 + noise * 4.0,
        0.5 + 0.4 * (1.0 - (-s / 3e5).exp()),
    ]
}

fn time_of(step: u64) -> f64 {
    T0 + step as f64 * 0.05
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = Path::new(args.get(1).ok_or("usage: gen_formats OUT_DIR STEPS")?);
    let steps: u64 = args.get(2).ok_or("usage: gen_formats OUT_DIR STEPS")?.parse()?;
    std::fs::create_dir_all(out)?;

    let mut jsonl = BufWriter::new(std::fs::File::create(out.join("run.jsonl"))?);
    let mut csv = BufWriter::new(std::fs::File::create(out.join("metrics.csv"))?);
    writeln!(csv, "step,{}", NAMES.join(","))?;
    std::fs::create_dir_all(out.join("tb"))?;
    let mut tb = BufWriter::new(std::fs::File::create(out.join("tb/events.out.tfevents.1700000000.bench"))?);
    let mut wandb = Vec::new();
    let mut line = String::new();
    let mut frame = Vec::new();
    for step in 0..steps {
        let v = values(step);
        let t = time_of(step);
        line.clear();
        write!(line, "{{\"step\": {step}, \"time\": {t}")?;
        for (n, x) in NAMES.iter().zip(v) {
            write!(line, ", \"{n}\": {x}")?;
        }
        line.push_str("}\n");
        jsonl.write_all(line.as_bytes())?;
        line.clear();
        write!(line, "{step}")?;
        for x in v {
            write!(line, ",{x}")?;
        }
        line.push('\n');
        csv.write_all(line.as_bytes())?;
        for (n, x) in NAMES.iter().zip(v) {
            let value = Value { tag: (*n).to_owned(), simple_value: Some(x as f32), ..Default::default() };
            let ev = Event {
                wall_time: t,
                step: step as i64,
                summary: Some(Summary { value: vec![value] }),
                ..Default::default()
            };
            frame.clear();
            tfrecord::encode(&ev.encode_to_vec(), &mut frame);
            tb.write_all(&frame)?;
        }
        let item = |k: &str, v: String| HistoryItem {
            key: Bytes::new(),
            nested_key: vec![Bytes::from(k.to_owned())],
            value_json: Bytes::from(v),
        };
        let mut items: Vec<HistoryItem> = NAMES.iter().zip(v).map(|(n, x)| item(n, format!("{x}"))).collect();
        items.push(item("_step", step.to_string()));
        items.push(item("_runtime", format!("{}", t - T0)));
        items.push(item("_timestamp", format!("{t}")));
        let summary = Record {
            num: 2 * step as i64,
            summary: Some(RawItems { update: items.clone(), remove: Vec::new() }),
            ..Default::default()
        };
        leveldb::encode(&summary.encode_to_vec(), &mut wandb);
        let history = Record {
            num: 2 * step as i64 + 1,
            history: Some(HistoryRecord { item: items, step: Some(HistoryStep { num: step as i64 }) }),
            ..Default::default()
        };
        leveldb::encode(&history.encode_to_vec(), &mut wandb);
    }
    jsonl.flush()?;
    csv.flush()?;
    tb.flush()?;
    std::fs::create_dir_all(out.join("wandb/run-bench"))?;
    std::fs::write(out.join("wandb/run-bench/run-bench.wandb"), &wandb)?;
    drop(wandb);
    mlflow_db(&out.join("mlflow.db"), steps)?;
    mlflow_files(&out.join("mlruns"), steps)?;
    Ok(())
}

/// The tables tmon reads, with MLflow's columns.
fn mlflow_db(path: &Path, steps: u64) -> Result<(), Box<dyn std::error::Error>> {
    let _ = std::fs::remove_file(path);
    let mut con = rusqlite::Connection::open(path)?;
    con.execute_batch(
        "CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name TEXT, artifact_location TEXT,
             lifecycle_stage TEXT, creation_time BIGINT, last_update_time BIGINT);
         CREATE TABLE runs (run_uuid TEXT PRIMARY KEY, name TEXT, source_type TEXT, source_name TEXT,
             entry_point_name TEXT, user_id TEXT, status TEXT, start_time BIGINT, end_time BIGINT,
             source_version TEXT, lifecycle_stage TEXT, artifact_uri TEXT, experiment_id INTEGER,
             deleted_time BIGINT);
         CREATE TABLE metrics (key TEXT, value FLOAT, timestamp BIGINT, run_uuid TEXT, step BIGINT,
             is_nan BOOLEAN, PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan));
         CREATE TABLE params (key TEXT, value TEXT, run_uuid TEXT, PRIMARY KEY (key, run_uuid));
         INSERT INTO experiments VALUES (1, 'bench', '', 'active', 0, 0);
         INSERT INTO runs VALUES ('r1', 'bench-run', 'LOCAL', '', '', 'bench', 'FINISHED', 0, 0, '', 'active', '', 1, NULL);
         INSERT INTO params VALUES ('lr', '0.001', 'r1');",
    )?;
    let tx = con.transaction()?;
    {
        let mut ins = tx.prepare("INSERT INTO metrics VALUES (?1, ?2, ?3, 'r1', ?4, 0)")?;
        for step in 0..steps {
            let ts = (time_of(step) * 1000.0) as i64;
            for (n, x) in NAMES.iter().zip(values(step)) {
                ins.execute(rusqlite::params![n, x, ts, step as i64])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

fn mlflow_files(root: &Path, steps: u64) -> Result<(), Box<dyn std::error::Error>> {
    let run = root.join("1/r1");
    std::fs::create_dir_all(run.join("metrics"))?;
    std::fs::create_dir_all(run.join("params"))?;
    std::fs::write(root.join("1/meta.yaml"), "experiment_id: '1'\nname: bench\n")?;
    std::fs::write(
        run.join("meta.yaml"),
        "run_id: r1\nrun_name: bench-run\nstatus: 3\nexperiment_id: '1'\n",
    )?;
    std::fs::write(run.join("params/lr"), "0.001")?;
    for (k, n) in NAMES.iter().enumerate() {
        let mut f = BufWriter::new(std::fs::File::create(run.join("metrics").join(n))?);
        for step in 0..steps {
            writeln!(f, "{} {} {step}", (time_of(step) * 1000.0) as i64, values(step)[k])?;
        }
        f.flush()?;
    }
    Ok(())
}
