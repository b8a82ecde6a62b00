//! The layout of a file, decided by its content (not its name): JSON Lines, or one whole JSON
//! document (Hugging Face `trainer_state.json`, a top-level array such as Chainer's `log`, or a
//! single object).

use crate::parse::JsonValue;
use std::hash::{Hash, Hasher};

/// The layout of a log file. Its name (`jsonl`, as `tmon check` writes it) is derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Format {
    /// Not decided yet (nothing read).
    #[default]
    Unknown,
    /// One JSON object per line.
    #[strum(serialize = "jsonl")]
    JsonLines,
    /// Hugging Face `trainer_state.json`: records under `log_history`.
    TrainerState,
    /// A top-level JSON array of objects (Chainer's `log`).
    JsonArray,
    /// A single JSON object: its first array of objects holds the records, or, with none, the
    /// object itself is the one record.
    JsonObject,
    /// TensorBoard event files (TFRecord framing of `Event` protobufs).
    #[strum(serialize = "tfevents")]
    TensorBoard,
    /// CSV with a header (Lightning's and Keras' `CSVLogger`, Ultralytics' `results.csv`, ...).
    Csv,
    /// A W&B run file (`run-*.wandb`: LevelDB log framing of `Record` protobufs).
    Wandb,
    /// An MLflow tracking store (`mlflow.db`, or a run of an `mlruns/` file store).
    Mlflow,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `bytes` without a leading byte order mark.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// Whether a file starting with `head` is one whole JSON document rather than JSON Lines, or
/// `None` while too little of it is there to tell. The one decision shared by the batch reader
/// and the tailer, so a file read at once and the same file followed are read the same way.
///
/// `trainer_state.json` is always a document, even written compactly on one line. Otherwise a
/// document opens with `[` or `{`, and neither its first nor its second non-blank line is a whole
/// record (a JSON Lines record always fits on its line; a pretty-printed document's lines do
/// not). The second line keeps a log whose first line is a print (`[INFO] ...`) or half-written
/// from being read whole. `settled` says the file has stopped growing: an unterminated last line
/// is then judged as it is.
pub fn layout(name: Option<&str>, head: &[u8], settled: bool) -> Option<bool> {
    if name == Some("trainer_state.json") {
        return Some(true);
    }
    let b = strip_bom(head);
    let mut lines = b
        .split_inclusive(|&c| c == b'\n')
        .filter(|l| settled || l.ends_with(b"\n"))
        .map(trim)
        .filter(|l| !l.is_empty());
    let first = lines.next()?;
    if !matches!(first[0], b'[' | b'{') || is_record(first) || !opens_records(first) {
        return Some(false);
    }
    match lines.next() {
        Some(second) => Some(!is_record(second)),
        None if settled => Some(true),
        None => None,
    }
}

/// [`layout`] of a whole file's first block (the file is not growing as far as the reader knows).
pub fn is_document(name: Option<&str>, head: &[u8]) -> bool {
    layout(name, head, true) == Some(true)
}

/// Whether a first line that starts with `[` can open an array of records: after the bracket
/// comes nothing yet, an object or the end (`[a` then a traceback is text, `[INFO] start` a log).
fn opens_records(first: &[u8]) -> bool {
    first[0] != b'[' || matches!(trim(&first[1..]).first(), None | Some(b'{' | b']' | b'['))
}

fn trim(line: &[u8]) -> &[u8] {
    let start = line.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(line.len());
    let end = line.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &line[start..end.max(start)]
}

fn is_record(line: &[u8]) -> bool {
    line.len() >= 2 && line[0] == b'{' && line[line.len() - 1] == b'}'
}

/// The records of a parsed document and the format they imply.
pub fn entries(doc: &JsonValue) -> Option<(Format, &[JsonValue])> {
    match doc {
        JsonValue::Array(items) => Some((Format::JsonArray, items)),
        JsonValue::Object(fields) => {
            let is_records = |v: &JsonValue| {
                matches!(v, JsonValue::Array(a) if !a.is_empty()
                    && a.iter().all(|x| matches!(x, JsonValue::Object(_))))
            };
            if let Some((_, JsonValue::Array(a))) = fields.iter().find(|(k, _)| k == "log_history") {
                return Some((Format::TrainerState, a));
            }
            match fields.iter().find(|(_, v)| is_records(v)) {
                Some((_, JsonValue::Array(a))) => Some((Format::JsonObject, a)),
                _ => Some((Format::JsonObject, std::slice::from_ref(doc))),
            }
        }
        _ => None,
    }
}

/// A fingerprint of one entry, to tell whether a rewritten document kept its history.
pub fn fingerprint(v: &JsonValue) -> u64 {
    fn walk(v: &JsonValue, h: &mut std::collections::hash_map::DefaultHasher) {
        match v {
            JsonValue::Null => 0u8.hash(h),
            JsonValue::Bool(b) => (1u8, b).hash(h),
            JsonValue::Num(x) => (2u8, x.to_bits()).hash(h),
            JsonValue::Str(s) => (3u8, s).hash(h),
            JsonValue::Array(a) => {
                (4u8, a.len()).hash(h);
                a.iter().for_each(|x| walk(x, h));
            }
            JsonValue::Object(m) => {
                (5u8, m.len()).hash(h);
                for (k, x) in m {
                    k.hash(h);
                    walk(x, h);
                }
            }
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    walk(v, &mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_or_lines() {
        assert!(is_document(None, b"[\n    {\n"));
        assert!(is_document(None, b"\xEF\xBB\xBF{\n  \"log_history\": ["));
        assert!(is_document(None, b"  {\"a\": 1,\n \"b\": 2}"));
        assert!(!is_document(None, b"{\"loss\": 1}\n{\"loss\": 2}"));
        assert!(!is_document(None, b"{\"loss\": 1}\r\n"));
        assert!(!is_document(None, b"Traceback (most recent call last):\n"));
        assert!(!is_document(None, b""));
        assert!(is_document(None, b"[{\"a\": 1}, {\"a\": 2}]"));
        // A print or a half-written line first, then records: JSON Lines.
        assert!(!is_document(None, b"[INFO] start\n{\"loss\": 1}\n"));
        assert!(!is_document(None, b"{\"loss\": 1, \"st\n\n{\"loss\": 2}\n"));
        assert!(is_document(None, b"[\n    {\n        \"epoch\": 1,"));
    }

    #[test]
    fn entries_of_each_kind() {
        let rec = JsonValue::Object(vec![("loss".into(), JsonValue::Num(1.0))]);
        let hf = JsonValue::Object(vec![
            ("global_step".into(), JsonValue::Num(5.0)),
            ("log_history".into(), JsonValue::Array(vec![rec.clone(), rec.clone()])),
        ]);
        assert_eq!(entries(&hf).map(|(f, e)| (f, e.len())), Some((Format::TrainerState, 2)));
        let arr = JsonValue::Array(vec![rec.clone()]);
        assert_eq!(entries(&arr).map(|(f, e)| (f, e.len())), Some((Format::JsonArray, 1)));
        let wrapped = JsonValue::Object(vec![
            ("name".into(), JsonValue::Str("x".into())),
            ("log".into(), JsonValue::Array(vec![rec.clone(), rec.clone(), rec.clone()])),
        ]);
        assert_eq!(entries(&wrapped).map(|(f, e)| (f, e.len())), Some((Format::JsonObject, 3)));
        assert_eq!(entries(&rec).map(|(f, e)| (f, e.len())), Some((Format::JsonObject, 1)));
        assert_eq!(entries(&JsonValue::Num(1.0)), None);
        assert_ne!(
            fingerprint(&rec),
            fingerprint(&JsonValue::Object(vec![("loss".into(), JsonValue::Num(2.0))]))
        );
    }
}
