//! Whole-file JSON (Hugging Face `trainer_state.json`, Chainer's top-level array): rewritten in
//! full at each checkpoint, in place or by rename. Every version sent must be complete (never a
//! half-written file), each version is sent once, and a rewrite is not a restart.

use crate::support::tail::*;
use std::io::Write;
use std::time::Duration;
use tmon::source::{FileState, SourceOptions, Tailer};

/// A pretty-printed trainer_state.json with `n` log_history entries.
fn trainer_state(n: u64) -> String {
    let entries: Vec<serde_json::Value> = (0..n)
        .map(
            |s| serde_json::json!({"epoch": s as f64 / 10.0, "loss": 1.0 / (s as f64 + 1.0), "step": s * 25}),
        )
        .collect();
    let doc = serde_json::json!({"global_step": n * 25, "log_history": entries, "best_metric": null});
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

fn history_len(doc: &[u8]) -> usize {
    let v: serde_json::Value = serde_json::from_slice(doc).expect("every document sent is complete JSON");
    v["log_history"].as_array().unwrap().len()
}

fn rewrites(opts: SourceOptions) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trainer_state.json");
    std::fs::write(&path, trainer_state(10)).unwrap();
    let mut c = Collector::start(std::slice::from_ref(&path), opts);
    c.wait_for("first version", |c| c.files.first().is_some_and(|f| f.documents.len() == 1));
    for (round, n) in [20u64, 30, 40, 50, 60].into_iter().enumerate() {
        let text = trainer_state(n);
        if round % 2 == 0 {
            // In place, as `json.dump(state, open(path, "w"))`: truncate, then write slowly in
            // two halves, so tmon sees the half-written file.
            let mut f = std::fs::File::create(&path).unwrap();
            let (a, b) = text.as_bytes().split_at(text.len() / 2);
            f.write_all(a).unwrap();
            f.flush().unwrap();
            std::thread::sleep(Duration::from_millis(400));
            f.write_all(b).unwrap();
        } else {
            let tmp = dir.path().join("trainer_state.json.tmp");
            std::fs::write(&tmp, &text).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
        }
        c.wait_for("the new version", |c| {
            c.file(0).documents.last().is_some_and(|d| history_len(d) == n as usize)
        });
    }
    c.settle(Duration::from_millis(1500));
    let f = c.file(0);
    let lens: Vec<usize> = f.documents.iter().map(|d| history_len(d)).collect();
    assert_eq!(lens, [10, 20, 30, 40, 50, 60], "each version once, none partial");
    assert!(f.restarts.is_empty(), "a rewrite is not a restart: {:?}", f.restarts);
    assert_eq!(f.states, [FileState::Live]);
    assert!(f.current().bytes.is_empty(), "no lines from a document");
}

#[test]
fn trainer_state_rewrites_inotify() {
    rewrites(SourceOptions::default());
}

#[test]
fn trainer_state_rewrites_poll_only() {
    rewrites(SourceOptions::with_poll(Some(Duration::from_millis(100))));
}

#[test]
fn layouts_are_told_by_content() {
    let dir = tempfile::tempdir().unwrap();
    // Chainer's `log`: a pretty array with no final newline.
    let chainer = dir.path().join("log");
    std::fs::write(&chainer, "[\n    {\n        \"epoch\": 1,\n        \"iteration\": 10\n    }\n]").unwrap();
    let mut t = Tailer::new(0, &chainer, Default::default());
    let evs = t.poll_once();
    let docs: Vec<_> =
        evs.iter().filter(|e| matches!(e, tmon::source::SourceEvent::Document { .. })).collect();
    assert_eq!(docs.len(), 1, "{evs:?}");
    // A pretty-printed object under a JSONL-ish name is a document too.
    let pretty = dir.path().join("result.json");
    std::fs::write(&pretty, "{\n  \"step\": 1,\n  \"loss\": 0.5\n}\n").unwrap();
    let mut t = Tailer::new(0, &pretty, Default::default());
    let evs = t.poll_once();
    assert!(evs.iter().any(|e| matches!(e, tmon::source::SourceEvent::Document { .. })), "{evs:?}");
    // Same content again: nothing new is sent.
    assert!(t.poll_once().is_empty());
    // JSON Lines named .json (detectron2's metrics.json) stays lines.
    let metrics = dir.path().join("metrics.json");
    std::fs::write(&metrics, lines(0..3)).unwrap();
    let mut t = Tailer::new(0, &metrics, Default::default());
    let evs = t.poll_once();
    assert!(evs.iter().any(|e| matches!(e, tmon::source::SourceEvent::Lines { .. })), "{evs:?}");
}
