//! W&B run files (`wandb/run-*/run-<id>.wandb`, `wandb/offline-run-*/...`): the LevelDB log
//! framing ([`super::leveldb`]) of `wandb_internal.Record` protobufs, decoded with `prost` from
//! messages derived here by hand (the fields tmon reads; protobuf skips the rest).
//!
//! - `history` records are rows of the run's history: items of a key (or a nested key path, joined
//!   with `/`) and a JSON value. Each row is read as a JSON Lines record is (the same rows W&B's
//!   `wandb-history.jsonl` holds): `_step` is the step, `_timestamp` the clock, nested objects
//!   become `a/b` names, media and histogram objects are not metrics.
//! - `config` records (and the run record's config) update the run's config, flattened;
//!   `summary` records its summary (the SDK writes one per step: kept as bytes and decoded once,
//!   at the end); the run record gives its display name; the exit record its status.
//! - A run resumed with its id (`wandb.init(id=..., resume=...)`) writes a second folder and file
//!   beside the first: the files of one run id are read as one run, in the order they were
//!   started ([`run_files`]), as the event files of a restarted TensorBoard writer are.
//! - Everything else (console output, system stats, files, telemetry, requests) is skipped
//!   without a word: it is not part of the history. Records that fail their checksum or do not
//!   decode are counted as skipped, and reading goes on.

use super::hex_preview;
use super::leveldb::{Item, LogReader};
use super::RunInfo;
use crate::error::Error;
use crate::ingest::Format;
use crate::parse::{flatten_value, parse_document, Field, JsonValue, Scalar};
use crate::run::Run;
use prost::bytes::Bytes;
use prost::Message;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

/// `wandb_internal.Record` (the record types tmon reads).
#[derive(Clone, PartialEq, Message)]
pub struct Record {
    #[prost(int64, tag = "1")]
    pub num: i64,
    #[prost(message, optional, tag = "2")]
    pub history: Option<HistoryRecord>,
    /// The SDK writes a summary record at every step, and only the last value of each key
    /// matters: kept raw, parsed once at the end.
    #[prost(message, optional, tag = "3")]
    pub summary: Option<RawItems>,
    #[prost(message, optional, tag = "5")]
    pub config: Option<ItemsRecord>,
    #[prost(message, optional, tag = "17")]
    pub run: Option<RunRecord>,
    #[prost(message, optional, tag = "18")]
    pub exit: Option<RunExitRecord>,
}

/// `wandb_internal.HistoryRecord`.
#[derive(Clone, PartialEq, Message)]
pub struct HistoryRecord {
    #[prost(message, repeated, tag = "1")]
    pub item: Vec<HistoryItem>,
    #[prost(message, optional, tag = "2")]
    pub step: Option<HistoryStep>,
}

/// `wandb_internal.HistoryStep`.
#[derive(Clone, PartialEq, Message)]
pub struct HistoryStep {
    #[prost(int64, tag = "1")]
    pub num: i64,
}

/// `wandb_internal.HistoryItem`, its strings as slices of the record (decoded from [`Bytes`], so
/// the many small strings of a history row cost no allocation each).
#[derive(Clone, PartialEq, Message)]
pub struct HistoryItem {
    #[prost(bytes = "bytes", tag = "1")]
    pub key: Bytes,
    #[prost(bytes = "bytes", repeated, tag = "2")]
    pub nested_key: Vec<Bytes>,
    #[prost(bytes = "bytes", tag = "16")]
    pub value_json: Bytes,
}

/// `SummaryRecord` with its items as slices of the record.
#[derive(Clone, PartialEq, Message)]
pub struct RawItems {
    #[prost(message, repeated, tag = "1")]
    pub update: Vec<HistoryItem>,
    #[prost(message, repeated, tag = "2")]
    pub remove: Vec<HistoryItem>,
}

/// An item's name as bytes: its nested key path joined with `/`, or its key.
fn raw_key(it: &HistoryItem) -> Bytes {
    match it.nested_key.as_slice() {
        [] => it.key.clone(),
        [one] => one.clone(),
        many => Bytes::from(many.join(&b"/"[..])),
    }
}

/// `ConfigItem` and `SummaryItem` (and `HistoryItem` when written): one layout.
#[derive(Clone, PartialEq, Message)]
pub struct Item_ {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, repeated, tag = "2")]
    pub nested_key: Vec<String>,
    #[prost(string, tag = "16")]
    pub value_json: String,
}

/// `ConfigRecord` and `SummaryRecord`: one layout.
#[derive(Clone, PartialEq, Message)]
pub struct ItemsRecord {
    #[prost(message, repeated, tag = "1")]
    pub update: Vec<Item_>,
    #[prost(message, repeated, tag = "2")]
    pub remove: Vec<Item_>,
}

/// `wandb_internal.RunRecord` (what names the run).
#[derive(Clone, PartialEq, Message)]
pub struct RunRecord {
    #[prost(string, tag = "1")]
    pub run_id: String,
    #[prost(string, tag = "3")]
    pub project: String,
    #[prost(message, optional, tag = "4")]
    pub config: Option<ItemsRecord>,
    #[prost(message, optional, tag = "5")]
    pub summary: Option<ItemsRecord>,
    #[prost(string, tag = "8")]
    pub display_name: String,
    #[prost(int64, tag = "14")]
    pub starting_step: i64,
    #[prost(bool, tag = "18")]
    pub resumed: bool,
}

/// `wandb_internal.RunExitRecord`.
#[derive(Clone, PartialEq, Message)]
pub struct RunExitRecord {
    #[prost(int32, tag = "1")]
    pub exit_code: i32,
}

/// An item's name: its nested key path joined with `/`, or its key.
fn item_key(it: &Item_) -> String {
    if it.nested_key.is_empty() {
        it.key.clone()
    } else {
        it.nested_key.join("/")
    }
}

/// A value that is a plain JSON number (or `NaN`, `Infinity`, `-Infinity` as the SDK writes
/// them), read directly.
fn plain_number(b: &[u8]) -> Option<f64> {
    let first = *b.first()?;
    if !(first.is_ascii_digit() || first == b'-' || first == b'N' || first == b'I') {
        return None;
    }
    match b {
        b"NaN" => Some(f64::NAN),
        b"Infinity" => Some(f64::INFINITY),
        b"-Infinity" => Some(f64::NEG_INFINITY),
        _ if b.iter().all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')) => {
            // Only ASCII bytes: valid UTF-8.
            std::str::from_utf8(b).ok()?.parse().ok()
        }
        _ => None,
    }
}

/// An item's value, parsed leniently (`NaN`, `Infinity`); a value that is not JSON stays text.
fn item_value(it: &Item_) -> JsonValue {
    parse_document(it.value_json.as_bytes()).unwrap_or_else(|_| JsonValue::Str(it.value_json.clone()))
}

/// Applies config or summary items to a flattened map (values as text).
fn apply_items(map: &mut BTreeMap<String, String>, rec: &ItemsRecord) {
    for it in &rec.remove {
        let key = item_key(it);
        let nested = format!("{key}/");
        map.retain(|k, _| k != &key && !k.starts_with(&nested));
    }
    for it in &rec.update {
        let key = item_key(it);
        if key == "_wandb" || key.starts_with("_wandb/") {
            continue;
        }
        let doc = JsonValue::Object(vec![(key, item_value(it))]);
        let mut fields = Vec::new();
        if flatten_value(&doc, &mut fields).is_ok() {
            for f in fields {
                map.insert(f.key.into_owned(), scalar_text(&f.value));
            }
        }
    }
}

/// A config value as text.
fn scalar_text(v: &Scalar<'_>) -> String {
    match v {
        Scalar::Num(x) => format!("{x}"),
        Scalar::Str(s) => s.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Null => "null".to_owned(),
        Scalar::Composite => "[...]".to_owned(),
    }
}

/// Reads records into a run.
#[derive(Debug, Default)]
pub struct WandbReader {
    log: LogReader,
    records: u64,
    /// The last raw value of each summary key (see [`Record::summary`]); None once removed.
    summary: HashMap<Bytes, Option<Bytes>>,
    /// Put before the places of skipped bytes (the file, when a run has several).
    label: String,
}

impl WandbReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// A reader whose skipped records name `file`.
    pub fn for_file(file: &str) -> Self {
        WandbReader { label: format!("{file} "), ..Self::default() }
    }

    /// Decodes what is at the front of `buf` (the bytes from the reader's offset on) into `run`;
    /// returns the bytes used (a torn record at the end is left for the next call unless `eof`).
    pub fn feed(&mut self, run: &mut Run, buf: &[u8], eof: bool) -> usize {
        let mut at = 0;
        loop {
            let offset = self.log.offset();
            let (item, used) = self.log.next(&buf[at..], eof);
            match item {
                Item::Full { start, len } => {
                    let data = &buf[at + start..at + start + len];
                    self.record(run, data, offset);
                }
                Item::Joined => {
                    let data = self.log.joined().to_vec();
                    self.record(run, &data, offset);
                }
                Item::Skipped { size, why } => {
                    self.records += 1;
                    let reason = format!("{}at byte {offset}: {why}", self.label);
                    run.store.skipped.push(self.records, reason, &hex_preview(&buf[at..at + size]));
                }
                Item::Used => {}
                Item::NeedMore | Item::End => return at,
            }
            at += used;
        }
    }

    /// Applies the summary read so far to the run's summary (call when the reading pauses or
    /// ends).
    pub fn finish(&mut self, run: &mut Run) {
        let mut rec = ItemsRecord::default();
        for (key, value) in self.summary.drain() {
            let key = String::from_utf8_lossy(&key).into_owned();
            match value {
                Some(v) => rec.update.push(Item_ {
                    key,
                    nested_key: Vec::new(),
                    value_json: String::from_utf8_lossy(&v).into_owned(),
                }),
                None => rec.remove.push(Item_ { key, ..Default::default() }),
            }
        }
        apply_items(&mut run.info.summary, &rec);
    }

    /// One history row, read as a JSON Lines record. Plain numbers (nearly every value) are read
    /// without building a JSON tree.
    fn history(&mut self, run: &mut Run, h: &HistoryRecord, offset: u64) {
        let mut fields: Vec<Field<'_>> = Vec::with_capacity(h.item.len());
        let mut trees: Vec<(String, JsonValue)> = Vec::new();
        for it in &h.item {
            let key = match it.nested_key.as_slice() {
                [] => String::from_utf8_lossy(&it.key),
                [one] => String::from_utf8_lossy(one),
                many => {
                    let parts: Vec<_> = many.iter().map(|k| String::from_utf8_lossy(k)).collect();
                    std::borrow::Cow::Owned(parts.join("/"))
                }
            };
            match plain_number(&it.value_json) {
                Some(x) => fields.push(Field { key, value: Scalar::Num(x) }),
                None => {
                    let v = parse_document(&it.value_json).unwrap_or_else(|_| {
                        JsonValue::Str(String::from_utf8_lossy(&it.value_json).into_owned())
                    });
                    trees.push((key.into_owned(), v))
                }
            }
        }
        let doc = JsonValue::Object(trees);
        let mut nested: Vec<Field<'_>> = Vec::new();
        if let Err(e) = flatten_value(&doc, &mut nested) {
            run.store.skipped.push(self.records, format!("{}at byte {offset}: {e}", self.label), b"");
            return;
        }
        fields.extend(nested);
        run.push_object(self.records, &fields);
    }

    fn record(&mut self, run: &mut Run, data: &[u8], offset: u64) {
        self.records += 1;
        let rec = match Record::decode(Bytes::copy_from_slice(data)) {
            Ok(r) => r,
            Err(e) => {
                let reason =
                    format!("{}at byte {offset}: a record that is not a W&B record ({e})", self.label);
                run.store.skipped.push(self.records, reason, &hex_preview(data));
                return;
            }
        };
        if let Some(h) = rec.history {
            self.history(run, &h, offset);
        }
        if let Some(s) = rec.summary {
            for it in &s.remove {
                self.summary.insert(raw_key(it), None);
            }
            for it in s.update {
                self.summary.insert(raw_key(&it), Some(it.value_json));
            }
        }
        let info: &mut RunInfo = &mut run.info;
        if let Some(c) = &rec.config {
            apply_items(&mut info.config, c);
        }
        if let Some(r) = &rec.run {
            if !r.display_name.is_empty() {
                info.name = Some(r.display_name.clone());
            } else if info.name.is_none() && !r.run_id.is_empty() {
                info.name = Some(r.run_id.clone());
            }
            if let Some(c) = &r.config {
                apply_items(&mut info.config, c);
            }
            if let Some(s) = &r.summary {
                apply_items(&mut info.summary, s);
            }
        }
        if let Some(x) = &rec.exit {
            info.status = Some(match x.exit_code {
                0 => "finished".to_owned(),
                c => format!("failed (exit code {c})"),
            });
        }
    }
}

/// How much of a file is read at a time.
const CHUNK: usize = 2 << 20;

/// The run id of a run file named `run-<id>.wandb`.
fn run_id(path: &Path) -> Option<&str> {
    path.file_name()?.to_str()?.strip_prefix("run-")?.strip_suffix(".wandb")
}

/// When a W&B run folder (`run-<date>_<time>-<id>` or `offline-run-...`) was started, as its
/// name gives it (`<date>_<time>`), for a folder of the run `id`.
fn folder_start<'a>(name: &'a str, id: &str) -> Option<&'a str> {
    let rest = name.strip_prefix("offline-").unwrap_or(name).strip_prefix("run-")?;
    rest.strip_suffix(id)?.strip_suffix('-')
}

/// The files of the W&B run `path` belongs to: a run resumed with the same id (`resume=...`)
/// writes a new folder and file beside the first, as a restarted TensorBoard writer writes a new
/// event file. In the order their folders were started; just `path` for a file outside W&B's
/// layout. (`latest-run` is a link to one of the folders: resolved, so it is no other run.)
pub fn run_files(path: &Path) -> Vec<PathBuf> {
    let alone = || vec![path.to_owned()];
    let Some(id) = run_id(path) else { return alone() };
    let Some(folder) = path.parent().and_then(|f| std::fs::canonicalize(f).ok()) else { return alone() };
    let Some(name) = folder.file_name().and_then(|n| n.to_str()) else { return alone() };
    let (Some(_), Some(root)) = (folder_start(name, id), folder.parent()) else { return alone() };
    let Ok(rd) = std::fs::read_dir(root) else { return alone() };
    let file = format!("run-{id}.wandb");
    let mut found: Vec<(String, PathBuf)> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let n = e.file_name().to_str()?.to_owned();
            let start = folder_start(&n, id)?.to_owned();
            let p = e.path().join(&file);
            p.is_file().then_some((start, p))
        })
        .collect();
    found.sort();
    if found.len() < 2 {
        return alone();
    }
    found.into_iter().map(|(_, p)| p).collect()
}

/// Reads a W&B run into `run`: the file `path`, and the files of the same run resumed beside it
/// ([`run_files`]), one after the other.
pub fn load(path: &Path, mut run: Run) -> Result<Run, Error> {
    run.ingest.set_format(Format::Wandb);
    let files = run_files(path);
    let several = files.len() > 1;
    for file_path in &files {
        let mut file = std::fs::File::open(file_path).map_err(|e| Error::io(file_path, e))?;
        let label = file_path.parent().and_then(|f| f.file_name()).map(|n| n.to_string_lossy().into_owned());
        let mut reader = match (several, label) {
            (true, Some(l)) => WandbReader::for_file(&l),
            _ => WandbReader::new(),
        };
        let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
        loop {
            let before = buf.len();
            (&mut file).take(CHUNK as u64).read_to_end(&mut buf).map_err(|e| Error::io(file_path, e))?;
            let eof = buf.len() == before;
            let used = reader.feed(&mut run, &buf, eof);
            buf.drain(..used);
            if eof {
                break;
            }
        }
        reader.finish(&mut run);
    }
    Ok(run)
}
