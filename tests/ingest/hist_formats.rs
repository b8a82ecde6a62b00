//! Histograms in the binary formats, through the real readers: TF2's histogram tensors in
//! TensorBoard event files (a fixture written by the `tensorboard` package's own `histogram_pb`,
//! tests/fixtures/formats/tb/tf2hist) and W&B's two histogram forms in `.wandb` history rows
//! (`bins`/`values`, and `packedBins`), in run files our test writes with the LevelDB framing.

use prost::Message;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use tmon::formats::tfevents::{
    Dim, Event, PluginData, Summary, SummaryMetadata, TensorProto, TensorShapeProto, Value as TbValue,
};
use tmon::formats::wandb::{HistoryItem, HistoryRecord, HistoryStep, Record};
use tmon::formats::{leveldb, tfrecord};
use tmon::ingest::IngestOptions;
use tmon::run::Run;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats").join(rel)
}

fn load_one(path: &Path) -> Run {
    let mut runs = Run::load_all(path, IngestOptions::default(), Default::default()).expect("reads");
    assert_eq!(runs.len(), 1, "{}", path.display());
    runs.remove(0)
}

fn check_json(path: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tmon")).args(["check", "--json"]).arg(path).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

/// (step, edges, counts) of every point of the histogram `name`.
fn hist_points(run: &Run, name: &str) -> Vec<(f64, Vec<f64>, Vec<f64>)> {
    let id = run.store.histograms().find(name).unwrap_or_else(|| panic!("no histogram {name}"));
    let h = run.store.histogram(id);
    (0..h.len())
        .map(|i| {
            let p = h.point(i);
            (p.step, p.edges, p.counts)
        })
        .collect()
}

/// Equal within the store's precision (it keeps edges as f32).
fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-6 * (1.0 + y.abs()))
}

// ---------------------------------------------------------------- TensorBoard, TF2

#[test]
fn tf2_histogram_tensors_are_read_into_the_histograms() {
    let dir = fixture("tb/tf2hist");
    let run = load_one(&dir);
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    let exp: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(run.store.histograms().len(), 2);
    assert_eq!(run.store.histograms().bad().0, 0, "{:?}", run.store.histograms().bad().1);
    // Not counted as a kind tmon does not read.
    assert_eq!(run.info.not_metrics.get("histograms"), None, "{:?}", run.info.not_metrics);
    for name in ["weights/dense", "dead"] {
        let got = hist_points(&run, name);
        let want = exp[name].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}");
        for ((step, edges, counts), w) in got.iter().zip(want) {
            assert_eq!(*step, w["step"].as_f64().unwrap());
            let rows: Vec<Vec<f64>> = w["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect())
                .collect();
            let mut want_edges: Vec<f64> = rows.iter().map(|r| r[0]).collect();
            want_edges.push(rows.last().unwrap()[1]);
            let want_counts: Vec<f64> = rows.iter().map(|r| r[2]).collect();
            assert!(close(edges, &want_edges), "{name} at {step}: {edges:?} != {want_edges:?}");
            assert_eq!(counts, &want_counts, "{name} at {step}");
        }
    }
    // `dead` carries its plugin metadata on its first value only: every step is still read, and
    // the constant tensor of its last steps is a histogram of zero width.
    let dead = hist_points(&run, "dead");
    assert_eq!(dead.len(), 8);
    assert!(dead[7].1.iter().all(|&e| e == 0.0) && dead[7].2.iter().sum::<f64>() == 50.0);
    // One record per step, the histograms of both tags on it.
    assert_eq!(run.store.records(), 8);
    assert_eq!(run.store.skipped.count, 0);
    // Through the binary: check's histograms.
    let doc = check_json(&dir);
    let hs = doc["runs"][0]["histograms"].as_array().unwrap();
    let names: Vec<&str> = hs.iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"weights/dense") && names.contains(&"dead"), "{hs:?}");
    assert!(hs.iter().all(|h| h["points"] == 8 && h["first_step"] == 0.0 && h["last_step"] == 7.0), "{hs:?}");
}

fn tensor_event(step: i64, tag: &str, plugin: Option<&str>, shape: &[i64], vals: &[f64]) -> Vec<u8> {
    let tensor = TensorProto {
        dtype: 2,
        tensor_shape: Some(TensorShapeProto { dim: shape.iter().map(|&size| Dim { size }).collect() }),
        tensor_content: vals.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ..Default::default()
    };
    let metadata = plugin.map(|p| {
        Box::new(SummaryMetadata {
            plugin_data: Some(PluginData { plugin_name: p.to_owned() }),
            ..Default::default()
        })
    });
    let value =
        TbValue { tag: tag.to_owned(), tensor: Some(Box::new(tensor)), metadata, ..Default::default() };
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

/// A histogram tensor of the wrong shape or content is counted as a malformed histogram with why;
/// a `[k, 3]` tensor of another plugin (or of none) is not taken for a histogram.
#[test]
fn bad_tf2_histogram_tensors_are_counted_and_others_left_alone() {
    let good = [-1.0, 0.0, 2.0, 0.0, 1.0, 3.0];
    let records = [
        tensor_event(0, "h", Some("histograms"), &[2, 3], &good),
        // Metadata on the first value only: still the histogram's.
        tensor_event(1, "h", None, &[2, 3], &[-1.0, 0.0, 1.0, 0.0, 1.0, 1.0]),
        tensor_event(2, "h", None, &[2, 3], &[0.0, 1.0, -4.0, 1.0, 2.0, 1.0]),
        tensor_event(3, "h", None, &[4, 3], &good),
        tensor_event(4, "wrong", Some("histograms"), &[3, 2], &good),
        tensor_event(5, "pr", Some("pr_curves"), &[2, 3], &good),
        tensor_event(6, "bare", None, &[2, 3], &good),
        tensor_event(7, "h", None, &[2, 3], &good),
    ]
    .concat();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.out.tfevents.1700000000.test"), records).unwrap();
    let run = load_one(dir.path());
    let steps: Vec<f64> = hist_points(&run, "h").iter().map(|p| p.0).collect();
    assert_eq!(steps, [0.0, 1.0, 7.0]);
    assert_eq!(hist_points(&run, "h")[0].1, [-1.0, 0.0, 1.0]);
    let (n, bad) = run.store.histograms().bad();
    let reasons: Vec<&str> = bad.iter().map(|b| b.reason.as_str()).collect();
    assert_eq!(n, 3, "{reasons:?}");
    assert!(reasons[0].contains("negative"), "{reasons:?}");
    assert!(reasons[1].contains("shape [4, 3] with 6 values"), "{reasons:?}");
    assert!(reasons[2].contains("[3, 2]"), "{reasons:?}");
    assert_eq!(run.store.histograms().find("pr"), None);
    assert_eq!(run.store.histograms().find("bare"), None);
    assert_eq!(run.info.not_metrics.get("pr_curves"), Some(&1), "{:?}", run.info.not_metrics);
    assert_eq!(run.info.not_metrics.get("other tensors"), Some(&1), "{:?}", run.info.not_metrics);
}

// ---------------------------------------------------------------- W&B

fn item(key: &str, value: &str) -> HistoryItem {
    let (key, nested) = match key.split_once('/') {
        // Some keys as the SDK writes nested ones: a nested key path.
        Some((a, b)) if a == "nested" => (String::new(), vec![a.to_owned(), b.to_owned()]),
        _ => (key.to_owned(), Vec::new()),
    };
    HistoryItem {
        key: key.into_bytes().into(),
        nested_key: nested.into_iter().map(|k| k.into_bytes().into()).collect(),
        value_json: value.as_bytes().to_vec().into(),
    }
}

fn history(step: i64, items: Vec<HistoryItem>) -> Vec<u8> {
    let rec = Record {
        num: step + 1,
        history: Some(HistoryRecord { item: items, step: Some(HistoryStep { num: step }) }),
        ..Default::default()
    };
    rec.encode_to_vec()
}

/// A `.wandb` run whose history rows carry both of W&B's histogram forms (as `wandb.log` with a
/// `wandb.Histogram` and `wandb.watch` write them), beside a scalar.
fn wandb_run(dir: &Path) -> PathBuf {
    let mut buf = Vec::new();
    for step in 0..5i64 {
        let s = step as f64;
        let mut items = vec![
            item("_step", &step.to_string()),
            item("_timestamp", &format!("{}", 1.7e9 + s)),
            item("loss", &format!("{}", 1.0 / (1.0 + s))),
            item(
                "parameters/fc1.weight",
                &format!(
                    r#"{{"_type": "histogram", "values": [1, {}, 3], "bins": [-1.0, 0.0, 1.0, {}]}}"#,
                    step + 2,
                    2.0 + s
                ),
            ),
            item(
                "gradients/fc1.weight",
                &format!(
                    r#"{{"_type": "histogram", "values": [4, 5, {step}, 1], "packedBins": {{"min": {}, "size": 0.25, "count": 4}}}}"#,
                    -0.5 * s
                ),
            ),
            item(
                "nested/hist",
                r#"{"_type":"histogram","packedBins":{"min":0,"size":1,"count":2},"values":[7,8]}"#,
            ),
        ];
        if step == 3 {
            // Malformed: count and values disagree. Counted, the row's other values kept.
            items.push(item(
                "gradients/fc2.weight",
                r#"{"_type": "histogram", "values": [1, 2], "packedBins": {"min": 0, "size": 1, "count": 3}}"#,
            ));
        }
        leveldb::encode(&history(step, items), &mut buf);
    }
    let path = dir.join("run-hist2.wandb");
    std::fs::write(&path, buf).unwrap();
    path
}

#[test]
fn wandb_histograms_in_both_forms_are_read_from_history_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = wandb_run(dir.path());
    let run = load_one(&path);
    assert_eq!(run.ingest.format().as_str(), "wandb");
    assert_eq!(run.store.skipped.count, 0, "{:?}", run.store.skipped.kept);
    let params = hist_points(&run, "parameters/fc1.weight");
    assert_eq!(params.len(), 5);
    assert_eq!(params[4], (4.0, vec![-1.0, 0.0, 1.0, 6.0], vec![1.0, 6.0, 3.0]));
    let grads = hist_points(&run, "gradients/fc1.weight");
    assert_eq!(grads.len(), 5);
    assert_eq!(grads[2], (2.0, vec![-1.0, -0.75, -0.5, -0.25, 0.0], vec![4.0, 5.0, 2.0, 1.0]));
    assert_eq!(hist_points(&run, "nested/hist")[0].1, [0.0, 1.0, 2.0]);
    // Never flattened into series per bin or per packed field.
    assert!(run.store.find("gradients/fc1.weight/packedBins/min").is_none());
    assert!(run.store.find("gradients/fc1.weight/values/0").is_none());
    assert_eq!(run.store.series(run.store.find("loss").unwrap()).len(), 5);
    let (n, bad) = run.store.histograms().bad();
    assert_eq!(n, 1);
    assert!(
        bad[0].reason.contains("count 3 for 2 values") && bad[0].name == "gradients/fc2.weight",
        "{bad:?}"
    );
    // Through the binary.
    let doc = check_json(&path);
    let hs = doc["runs"][0]["histograms"].as_array().unwrap();
    let grads = hs.iter().find(|h| h["name"] == "gradients/fc1.weight").expect("in check's histograms");
    assert_eq!((grads["points"].as_u64(), grads["last_step"].as_f64()), (Some(5), Some(4.0)));
}

/// The same rows as W&B's `wandb-history.jsonl` holds them: read by the JSON Lines path alike.
#[test]
fn wandb_packed_histograms_in_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wandb-history.jsonl");
    let lines: Vec<String> = (0..4)
        .map(|s| {
            format!(
                r#"{{"_step": {s}, "loss": 0.5, "gradients/w": {{"_type": "histogram", "packedBins": {{"min": -1, "size": 0.5, "count": 4}}, "values": [1, 2, 3, {s}]}}}}"#
            )
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let run = load_one(&path);
    let g = hist_points(&run, "gradients/w");
    assert_eq!(g.len(), 4);
    assert_eq!(g[3], (3.0, vec![-1.0, -0.5, 0.0, 0.5, 1.0], vec![1.0, 2.0, 3.0, 3.0]));
    assert!(run.store.find("gradients/w/values/0").is_none());
}
