//! Every line of every JSON Lines file in the real corpus parses, and agrees with serde_json where
//! serde_json can read it; the pretty-printed documents parse whole. A small fixture of our own
//! (tests/fixtures/parse/quirks.jsonl) covers the same quirks on a fresh clone.

use crate::support::flatten::{owned, reference, sorted, V};
use tmon::parse::{flatten_value, parse_document, parse_line, JsonValue, LineError};

/// A pretty-printed document opens with a line holding only `{` or `[`.
fn is_document(bytes: &[u8]) -> bool {
    let first = bytes.split(|&b| b == b'\n').find(|l| !l.trim_ascii().is_empty()).unwrap_or(b"");
    matches!(first.trim_ascii(), b"{" | b"[")
}

fn nonfinite(fields: &[(String, V)]) -> usize {
    fields.iter().filter(|(_, v)| matches!(v, V::Num(b) if !f64::from_bits(*b).is_finite())).count()
}

#[test]
fn corpus_every_line_parses() {
    let Some(paths) = crate::support::corpus::logs() else { return };
    let mut documents = Vec::new();
    let mut nan_per_file = Vec::new();
    let (mut lines, mut checked_against_serde) = (0usize, 0usize);
    for path in &paths {
        let name = crate::support::corpus::name(path);
        let bytes = std::fs::read(path).unwrap();
        if is_document(&bytes) {
            let doc = parse_document(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            documents.push((name, doc));
            continue;
        }
        let mut out = Vec::new();
        let mut nonfinite_here = 0;
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if line.trim_ascii().is_empty() {
                continue;
            }
            lines += 1;
            parse_line(line, &mut out).unwrap_or_else(|e| panic!("{name}:{}: {e}", i + 1));
            let got = owned(&out);
            nonfinite_here += nonfinite(&got);
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) {
                assert_eq!(sorted(got), sorted(reference(&v)), "{name}:{}", i + 1);
                checked_against_serde += 1;
            }
        }
        nan_per_file.push((name, nonfinite_here));
    }
    eprintln!("corpus: {lines} lines parsed, {checked_against_serde} identical to serde_json's reading");
    assert!(lines > 5000);

    // SOURCES.md's counts of bare NaN tokens.
    let nan = |n: &str| nan_per_file.iter().find(|(f, _)| f.ends_with(n)).map(|x| x.1);
    assert_eq!(nan("mmdet/maskrcnn-nan-divergence.log.json"), Some(444));
    assert_eq!(nan("wandb/a2c-diverged-nan-history.jsonl"), Some(291));
    assert_eq!(nan("detectron2/fruits-bbox-eval-nan.json"), Some(3));
    // Ray's escaped "Infinity" stays inside its string.
    assert_eq!(nan("ray/rllib-ppo-flow-result.json"), Some(0));

    let names: Vec<&str> = documents.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["chainer/adda-result-log.json", "huggingface/whisper-trainer_state.json"]);
    let JsonValue::Array(chainer) = &documents[0].1 else { panic!("chainer log is not an array") };
    assert_eq!(chainer.len(), 119);
    let JsonValue::Object(hf) = &documents[1].1 else { panic!("trainer_state is not an object") };
    let history = hf.iter().find(|(k, _)| k == "log_history").map(|(_, v)| v);
    let Some(JsonValue::Array(history)) = history else { panic!("no log_history") };
    assert_eq!(history.len(), 206);
    let mut out = Vec::new();
    flatten_value(&chainer[0], &mut out).unwrap();
    assert_eq!(out.len(), 7);
    // The documents are strict JSON here, so serde_json's reading is a reference too.
    for (name, doc) in &documents {
        let path = crate::support::corpus::root().join(name);
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let (JsonValue::Array(ours), serde_json::Value::Array(theirs)) = (doc, &v) else { continue };
        for (a, b) in ours.iter().zip(theirs) {
            flatten_value(a, &mut out).unwrap();
            assert_eq!(sorted(owned(&out)), sorted(reference(b)), "{name}");
        }
    }
}

#[test]
fn fixture_quirks() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/parse/quirks.jsonl");
    let bytes = std::fs::read(path).unwrap();
    let mut results = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        if line.trim_ascii().is_empty() {
            continue;
        }
        let mut out = Vec::new();
        results.push(parse_line(line, &mut out).map(|()| owned(&out)));
    }
    assert_eq!(results.len(), 6, "BOM line, NaN line, nested line, bad UTF-8, traceback, cut line");
    let ok: Vec<&Vec<(String, V)>> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok.len(), 4);
    assert_eq!(ok[0][0], ("step".into(), V::Num(1f64.to_bits())), "BOM and CRLF");
    assert_eq!(nonfinite(ok[1]), 3);
    let keys: Vec<&str> = ok[2].iter().map(|(k, _)| k.as_str()).collect();
    // A wandb histogram (`_type`, `values`, `bins`) is one histogram field, not a field per bin.
    assert_eq!(keys, ["step", "cfg", "hist", "info/kl", "info/nested/x", "media"]);
    assert!(matches!(&ok[2][2].1, V::Hist(h) if h.starts_with("Ok(") && h.contains("2.5")), "{:?}", ok[2][2]);
    assert_eq!(ok[2][1].1, V::Str(r#"{"lanes": Infinity, "x": NaN}"#.into()));
    assert_eq!(ok[2][3].1, V::Num(f64::INFINITY.to_bits()));
    assert_eq!(ok[2][4].1, V::Num((-0.0f64).to_bits()));
    assert_eq!(ok[2][5].1, V::Composite);
    assert_eq!(ok[3][1].1, V::Str("\u{FFFD}\u{FFFD} bad utf8".into()));
    assert_eq!(ok[3][2].1, V::Str("0.112 0.329".into()), "numeric strings stay strings");
    let errs: Vec<String> =
        results.iter().filter_map(|r| r.as_ref().err()).map(LineError::to_string).collect();
    assert_eq!(errs[0], "not JSON: expected '{' at column 1 (found 'T')");
    assert!(errs[1].contains("end of line"), "{}", errs[1]);
}
