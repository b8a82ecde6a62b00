//! The model's architecture in `tmon check`: `"model"` in `--json` and a line of the text report,
//! from a printed model (tests/fixtures/model/cnn-train.log, made by make_log.py there) and from
//! a model record.

use crate::support::cli::{json, tmon};
use serde_json::Value;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);
const LOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/model/cnn-train.log");

fn names(v: &Value) -> Vec<&str> {
    v["children"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect()
}

#[test]
fn a_printed_model_is_in_the_json_with_its_real_parameter_count() {
    let ran = tmon(["check", "--json", LOG], LIMIT);
    let doc = json(&ran);
    let m = &doc["runs"][0]["model"];
    assert_eq!(m["name"], "SmallCNN");
    assert_eq!(m["type"], "SmallCNN");
    // sum(p.numel()) of the real model (tests/fixtures/model/small_cnn.json).
    assert_eq!(m["params"], 421_834);
    assert_eq!(m["source"]["kind"], "text");
    assert_eq!(m["source"]["line"], 2);
    assert_eq!(names(m), ["features", "classifier"]);
    let conv = &m["children"][0]["children"][0];
    assert_eq!((conv["name"].as_str(), conv["type"].as_str()), (Some("0"), Some("Conv2d")));
    assert_eq!(conv["shape"], "Conv2d(1→32, 3×3)");
    assert_eq!(conv["params"], 32 * 9 + 32);
    // The 100 records are all read, the printed lines counted as skipped as before.
    assert_eq!(doc["runs"][0]["records"], 100);
    assert_eq!(doc["runs"][0]["skipped_lines"], 21);
}

#[test]
fn the_text_report_says_it_in_a_line() {
    let ran = tmon(["check", LOG], LIMIT);
    assert!(
        ran.stdout.contains("  model SmallCNN, 421,834 parameters, 17 modules (printed at line 2)\n"),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_model_record_is_read_and_never_becomes_series() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let model = r#"{"model": {"name": "tiny", "type": "Tiny", "params": 26, "children": [
        {"name": "fc", "type": "Linear", "params": 18, "repr": "in_features=4, out_features=\u001b[31m3, bias=True", "children": []},
        {"name": "out", "type": "Linear", "params": 8, "repr": "in_features=3, out_features=2, bias=True", "children": []}]}}"#
        .replace('\n', "");
    let text = format!("{model}\n{{\"step\": 1, \"loss\": 1.0}}\n{{\"step\": 2, \"loss\": 0.5}}\n");
    std::fs::write(&path, text).unwrap();
    let doc = json(&tmon(["check", "--json", path.to_str().unwrap()], LIMIT));
    let run = &doc["runs"][0];
    assert_eq!(run["model"]["name"], "tiny");
    assert_eq!(run["model"]["params"], 26);
    assert_eq!(run["model"]["source"]["kind"], "record");
    assert_eq!(names(&run["model"]), ["fc", "out"]);
    assert_eq!(run["skipped_lines"], 0);
    let metrics: Vec<&str> =
        run["metrics"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(metrics, ["loss"]);
    // The text report sanitises what the log wrote.
    let text = tmon(["check", path.to_str().unwrap()], LIMIT).stdout;
    assert!(
        text.contains("  model tiny (Tiny), 26 parameters, 3 modules (model record at line 1)"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'));
}

#[test]
fn a_log_without_a_model_says_null() {
    let fix = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/check");
    let dir = std::fs::read_dir(fix)
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "jsonl"));
    let path = dir.unwrap().path();
    let doc = json(&tmon(["check", "--json", path.to_str().unwrap()], LIMIT));
    assert!(doc["runs"][0]["model"].is_null(), "{doc}");
}

#[test]
fn a_print_cut_short_is_marked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.log");
    let full = std::fs::read_to_string(LOG).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    // The print stops inside `classifier`; training lines follow.
    let text = format!("{}\n{}\n", lines[..16].join("\n"), lines[22..].join("\n"));
    std::fs::write(&path, text).unwrap();
    let ran = tmon(["check", "--json", path.to_str().unwrap()], LIMIT);
    let m = &json(&ran)["runs"][0]["model"];
    assert!(m["params"].is_null(), "{m}");
    assert!(m["params_at_least"].as_u64().unwrap() > 0, "{m}");
    assert!(m["broken"].is_string(), "{m}");
    let text = tmon(["check", path.to_str().unwrap()], LIMIT).stdout;
    assert!(text.contains("cut short"), "{text}");
}

/// A training log as a script with a progress bar writes it: 1,500 progress lines (more than the
/// store keeps the text of), then `print(model)`, then the JSON records, and a last progress line.
fn progress_then_model(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("train.log");
    let full = std::fs::read_to_string(LOG).unwrap();
    let (head, records): (Vec<&str>, Vec<&str>) = full.lines().skip(1).partition(|l| !l.starts_with('{'));
    let mut text = String::new();
    for i in 0..1500 {
        let pct = i * 100 / 1500;
        text.push_str(&format!(
            "Loading data: {pct:3}%|{:<20}| {i}/1500 [00:{:02}<00:10, 99.0it/s]\n",
            "█".repeat(pct / 5),
            i % 60
        ));
    }
    for l in &head {
        text.push_str(l);
        text.push('\n');
    }
    for l in &records {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str("Evaluating: 100%|████████████████████| 10/10 [00:01<00:00, 9.9it/s]\n");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_model_printed_after_a_thousand_progress_lines_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = progress_then_model(dir.path());
    let doc = json(&tmon(["check", "--json", path.to_str().unwrap()], LIMIT));
    let run = &doc["runs"][0];
    let m = &run["model"];
    assert_eq!(m["name"], "SmallCNN", "{run}");
    assert_eq!(m["params"], 421_834);
    assert_eq!(m["source"]["line"], 1501);
    assert!(m["broken"].is_null(), "{m}");
    assert_eq!(names(m), ["features", "classifier"]);
    assert_eq!(run["records"], 100);
    assert_eq!(run["skipped_lines"], 1500 + 20 + 1);
    // The monitor's path (line by line, as a followed file is read) finds it too.
    let mut live = tmon::run::Run::new(&path, Default::default(), Default::default());
    for (i, l) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
        live.push_line(i as u64 + 1, l.as_bytes());
    }
    let model = tmon::model::Model::of_store(&live.store).expect("the model");
    assert_eq!((model.root.kind.as_str(), model.params()), ("SmallCNN", tmon::model::Params::Exact(421_834)));
}

/// A JSON Lines file with no model, beside the stdout log the script wrote (`train.log`: progress
/// bars redrawn with `\r`, the model print, a traceback): the model comes from the stdout log.
#[test]
fn the_model_printed_in_the_stdout_log_beside_the_jsonl() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/model/beside/metrics.jsonl");
    let doc = json(&tmon(["check", "--json", path], LIMIT));
    let run = &doc["runs"][0];
    let m = &run["model"];
    assert_eq!(m["name"], "SmallCNN", "{run}");
    assert_eq!(m["params"], 421_834);
    assert_eq!(m["source"]["kind"], "text");
    assert_eq!(m["source"]["line"], 5);
    assert!(m["source"]["file"].as_str().unwrap().ends_with("beside/train.log"), "{m}");
    assert_eq!(names(m), ["features", "classifier"]);
    assert_eq!((run["records"].as_u64(), run["skipped_lines"].as_u64()), (Some(100), Some(0)));
    let text = tmon(["check", path], LIMIT).stdout;
    assert!(
        text.contains("  model SmallCNN, 421,834 parameters, 17 modules (printed at line 5 of train.log)\n"),
        "{text}"
    );
    // A model in the run's own log wins over the stdout log's.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(LOG, dir.path().join("metrics.jsonl")).unwrap();
    std::fs::write(
        dir.path().join("stdout.log"),
        "Other(\n  (fc): Linear(in_features=1, out_features=1, bias=True)\n)\n",
    )
    .unwrap();
    let doc = json(&tmon(["check", "--json", dir.path().join("metrics.jsonl").to_str().unwrap()], LIMIT));
    assert_eq!(doc["runs"][0]["model"]["name"], "SmallCNN");
    // Without one there, the stdout log's.
    std::fs::write(dir.path().join("metrics.jsonl"), "{\"step\": 1, \"loss\": 1}\n").unwrap();
    let doc = json(&tmon(["check", "--json", dir.path().join("metrics.jsonl").to_str().unwrap()], LIMIT));
    assert_eq!(doc["runs"][0]["model"]["name"], "Other");
    assert!(doc["runs"][0]["model"]["source"]["file"].as_str().unwrap().ends_with("stdout.log"));
}
