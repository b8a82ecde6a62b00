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
use super::wire::{Fields, Wire};
use super::RunInfo;

use crate::parse::{flatten_value, parse_document, Field, JsonValue, Scalar};
use crate::run::Run;
use prost::bytes::Bytes;
use prost::Message;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
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
        Scalar::Hist(_) => "[histogram]".to_owned(),
    }
}

/// A framed record, found by the framing pass.
enum Framed {
    /// A record in one piece: `buf[at..at + len]`.
    Slice { offset: u64, at: usize, len: usize },
    /// A record assembled from pieces: the `idx`th of the pass's copies.
    Joined { offset: u64, idx: usize },
    /// Bytes that hold no record.
    Skipped { offset: u64, at: usize, size: usize, why: super::leveldb::Skip },
}

/// What a record holds, decoded on any thread.
#[derive(Default)]
struct Decoded<'a> {
    /// A history row's fields, or why it could not be flattened.
    history: Option<Result<Vec<Field<'a>>, String>>,
    /// Summary keys removed, then updated (with their raw values).
    summary: Option<SummaryNews<'a>>,
    /// The rare records decoded whole (config, run, exit).
    rest: Option<Box<Record>>,
}

/// The keys a summary record removes and the values it updates, raw.
type SummaryNews<'a> = (Vec<Cow<'a, [u8]>>, Vec<(Cow<'a, [u8]>, Cow<'a, [u8]>)>);

/// One framed record, decoded.
enum WItem<'a> {
    Skipped { offset: u64, preview: Vec<u8>, why: super::leveldb::Skip },
    NotRecord { offset: u64, error: String, preview: Vec<u8> },
    Record { offset: u64, dec: Decoded<'a> },
}

/// Records decoded per piece (the unit the threads share).
const PIECE: usize = 1024;
/// Below this many bytes a buffer is decoded on this thread only.
const PARALLEL_MIN: usize = 1 << 20;

/// An item (`HistoryItem`, `SummaryItem`) read in place: its name (its nested key path joined
/// with `/`, or its key) and its JSON value.
fn raw_item(b: &[u8]) -> Option<(Cow<'_, [u8]>, &[u8])> {
    let (mut key, mut value): (&[u8], &[u8]) = (&[], &[]);
    let mut nested: Option<Cow<'_, [u8]>> = None;
    let mut f = Fields::new(b);
    for (t, w) in f.by_ref() {
        match (t, w) {
            (1, Wire::Bytes(k)) => key = k,
            (2, Wire::Bytes(k)) => {
                nested = Some(match nested {
                    None => Cow::Borrowed(k),
                    Some(prev) => {
                        let mut joined = prev.into_owned();
                        joined.push(b'/');
                        joined.extend_from_slice(k);
                        Cow::Owned(joined)
                    }
                })
            }
            (16, Wire::Bytes(v)) => value = v,
            (1 | 2 | 16, _) => return None,
            _ => {}
        }
    }
    if f.bad() {
        return None;
    }
    Some((nested.unwrap_or(Cow::Borrowed(key)), value))
}

/// Text from a log's bytes, borrowed when it is valid UTF-8.
fn text(b: Cow<'_, [u8]>) -> Cow<'_, str> {
    match b {
        Cow::Borrowed(b) => String::from_utf8_lossy(b),
        Cow::Owned(v) => match String::from_utf8(v) {
            Ok(s) => Cow::Owned(s),
            Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        },
    }
}

/// A history row's fields, read as a JSON Lines record is: plain numbers (nearly every value)
/// directly, in order, then the values that need a JSON tree, flattened.
/// A history row's items as read: the key (dotted when nested) and the JSON-encoded value.
type RawPairs<'a> = Vec<(Cow<'a, [u8]>, Cow<'a, [u8]>)>;

fn history_fields<'a>(items: RawPairs<'a>) -> Result<Vec<Field<'a>>, String> {
    let mut fields: Vec<Field<'a>> = Vec::with_capacity(items.len());
    let mut trees: Vec<(String, JsonValue)> = Vec::new();
    for (key, value) in items {
        let key = text(key);
        match plain_number(&value) {
            Some(x) => fields.push(Field { key, value: Scalar::Num(x) }),
            None => {
                let v = parse_document(&value)
                    .unwrap_or_else(|_| JsonValue::Str(String::from_utf8_lossy(&value).into_owned()));
                trees.push((key.into_owned(), v))
            }
        }
    }
    if trees.is_empty() {
        return Ok(fields);
    }
    let doc = JsonValue::Object(trees);
    let mut nested: Vec<Field<'_>> = Vec::new();
    flatten_value(&doc, &mut nested).map_err(|e| e.to_string())?;
    fields.extend(
        nested.into_iter().map(|f| Field { key: Cow::Owned(f.key.into_owned()), value: owned(f.value) }),
    );
    Ok(fields)
}

fn owned(v: Scalar<'_>) -> Scalar<'static> {
    match v {
        Scalar::Num(x) => Scalar::Num(x),
        Scalar::Str(s) => Scalar::Str(Cow::Owned(s.into_owned())),
        Scalar::Bool(b) => Scalar::Bool(b),
        Scalar::Null => Scalar::Null,
        Scalar::Composite => Scalar::Composite,
        Scalar::Hist(h) => Scalar::Hist(h),
    }
}

/// A record of history or summary, read in place. `None`: it needs the full decode (config, run
/// and exit records, anything malformed).
fn fast_record(data: &[u8]) -> Option<Decoded<'_>> {
    let mut history: Option<RawPairs<'_>> = None;
    let mut summary: Option<SummaryNews<'_>> = None;
    let mut f = Fields::new(data);
    for (t, w) in f.by_ref() {
        match (t, w) {
            (1, Wire::Varint(_)) => {}
            (2, Wire::Bytes(h)) => {
                let items = history.get_or_insert_with(Vec::new);
                let mut g = Fields::new(h);
                for (t, w) in g.by_ref() {
                    match (t, w) {
                        (1, Wire::Bytes(it)) => {
                            let (k, v) = raw_item(it)?;
                            items.push((k, Cow::Borrowed(v)));
                        }
                        (2, Wire::Bytes(step)) => {
                            let mut s = Fields::new(step);
                            if s.by_ref().any(|(t, w)| t == 1 && !matches!(w, Wire::Varint(_))) || s.bad() {
                                return None;
                            }
                        }
                        (1 | 2, _) => return None,
                        _ => {}
                    }
                }
                if g.bad() {
                    return None;
                }
            }
            (3, Wire::Bytes(b)) => {
                let (removes, updates) = summary.get_or_insert_with(Default::default);
                let mut g = Fields::new(b);
                for (t, w) in g.by_ref() {
                    match (t, w) {
                        (1, Wire::Bytes(it)) => {
                            let (k, v) = raw_item(it)?;
                            updates.push((k, Cow::Borrowed(v)));
                        }
                        (2, Wire::Bytes(it)) => removes.push(raw_item(it)?.0),
                        (1 | 2, _) => return None,
                        _ => {}
                    }
                }
                if g.bad() {
                    return None;
                }
            }
            (1 | 2 | 3 | 5 | 17 | 18, _) => return None,
            _ => {}
        }
    }
    if f.bad() {
        return None;
    }
    Some(Decoded { history: history.map(history_fields), summary, rest: None })
}

/// An item's name as bytes: its nested key path joined with `/`, or its key.
fn raw_key(it: &HistoryItem) -> Cow<'static, [u8]> {
    match it.nested_key.as_slice() {
        [] => Cow::Owned(it.key.to_vec()),
        many => Cow::Owned(many.join(&b"/"[..])),
    }
}

/// A record decoded whole by prost, as the reader takes it.
fn decoded_of(rec: Record) -> Decoded<'static> {
    let history = rec.history.as_ref().map(|h| {
        history_fields(h.item.iter().map(|it| (raw_key(it), Cow::Owned(it.value_json.to_vec()))).collect())
    });
    let summary = rec.summary.as_ref().map(|s| {
        let removes = s.remove.iter().map(raw_key).collect();
        let updates = s.update.iter().map(|it| (raw_key(it), Cow::Owned(it.value_json.to_vec()))).collect();
        (removes, updates)
    });
    let rest = (rec.config.is_some() || rec.run.is_some() || rec.exit.is_some())
        .then(|| Box::new(Record { history: None, summary: None, ..rec }));
    Decoded { history, summary, rest }
}

/// Decodes one record's data.
fn decode_record(data: &[u8], offset: u64) -> WItem<'_> {
    if let Some(dec) = fast_record(data) {
        return WItem::Record { offset, dec };
    }
    match Record::decode(Bytes::copy_from_slice(data)) {
        Ok(rec) => WItem::Record { offset, dec: decoded_of(rec) },
        Err(e) => WItem::NotRecord { offset, error: e.to_string(), preview: hex_preview(data) },
    }
}

/// Reads records into a run: the records of one file's [`LogReader`] at a time (a resumed run
/// has several files).
#[derive(Debug)]
pub struct WandbReader {
    records: u64,
    /// The last raw value of each summary key (see [`Record::summary`]); None once removed.
    summary: HashMap<Vec<u8>, Option<Vec<u8>>>,
    /// Put before the places of skipped bytes (the file, when a run has several).
    label: String,
    /// Threads for a big buffer (1: this one only).
    threads: usize,
}

impl Default for WandbReader {
    fn default() -> Self {
        Self::new()
    }
}

impl WandbReader {
    pub fn new() -> Self {
        WandbReader {
            records: 0,
            summary: HashMap::new(),
            label: String::new(),
            threads: super::par::threads(),
        }
    }

    /// A reader whose skipped records name `file`.
    pub fn for_file(file: &str) -> Self {
        WandbReader { label: format!("{file} "), ..Self::new() }
    }

    /// Names `file` (or nothing, for `None`) before the places of the records skipped from now.
    pub fn set_label(&mut self, file: Option<&str>) {
        self.label = file.map(|f| format!("{f} ")).unwrap_or_default();
    }

    /// Uses at most `n` threads for a big buffer (1: none besides the caller's).
    pub fn with_threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// Decodes what is at the front of `buf` (the bytes of `log`'s file from its offset on) into
    /// `run`; returns the bytes used (a torn record at the end is left for the next call unless
    /// `eof`). A big buffer is decoded on every core, the records fed in order.
    pub fn feed(&mut self, run: &mut Run, log: &mut LogReader, buf: &[u8], eof: bool) -> usize {
        let mut framed = Vec::new();
        let mut joined: Vec<Vec<u8>> = Vec::new();
        let mut at = 0;
        loop {
            let offset = log.offset();
            let (item, used) = log.next(&buf[at..], eof);
            match item {
                Item::Full { start, len } => framed.push(Framed::Slice { offset, at: at + start, len }),
                Item::Joined => {
                    framed.push(Framed::Joined { offset, idx: joined.len() });
                    joined.push(log.take_joined());
                }
                Item::Skipped { size, why } => framed.push(Framed::Skipped { offset, at, size, why }),
                Item::Used => {}
                Item::NeedMore | Item::End => break,
            }
            at += used;
        }
        let threads = if at >= PARALLEL_MIN { self.threads } else { 1 };
        let pieces = framed.chunks(PIECE).collect::<Vec<_>>();
        let joined = &joined;
        super::par::ordered(
            pieces.len(),
            threads,
            |j| {
                pieces[j]
                    .iter()
                    .map(|f| match *f {
                        Framed::Slice { offset, at, len } => decode_record(&buf[at..at + len], offset),
                        Framed::Joined { offset, idx } => decode_record(&joined[idx], offset),
                        Framed::Skipped { offset, at, size, why } => {
                            WItem::Skipped { offset, preview: hex_preview(&buf[at..at + size]), why }
                        }
                    })
                    .collect::<Vec<_>>()
            },
            |_, items| {
                for item in items {
                    self.take(run, item);
                }
            },
        );
        at
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

    /// Feeds one decoded record to the run.
    fn take(&mut self, run: &mut Run, item: WItem<'_>) {
        self.records += 1;
        let (offset, dec) = match item {
            WItem::Skipped { offset, preview, why } => {
                let reason = format!("{}at byte {offset}: {why}", self.label);
                run.store.skipped.push(self.records, reason, &preview);
                return;
            }
            WItem::NotRecord { offset, error, preview } => {
                let reason =
                    format!("{}at byte {offset}: a record that is not a W&B record ({error})", self.label);
                run.store.skipped.push(self.records, reason, &preview);
                return;
            }
            WItem::Record { offset, dec } => (offset, dec),
        };
        match dec.history {
            Some(Ok(fields)) => run.push_object(self.records, &fields),
            Some(Err(e)) => {
                run.store.skipped.push(self.records, format!("{}at byte {offset}: {e}", self.label), b"")
            }
            None => {}
        }
        if let Some((removes, updates)) = dec.summary {
            for key in removes {
                self.summary.insert(key.into_owned(), None);
            }
            for (key, value) in updates {
                match self.summary.get_mut(key.as_ref()) {
                    Some(Some(v)) => {
                        v.clear();
                        v.extend_from_slice(&value);
                    }
                    Some(slot) => *slot = Some(value.into_owned()),
                    None => {
                        self.summary.insert(key.into_owned(), Some(value.into_owned()));
                    }
                }
            }
        }
        let Some(rec) = dec.rest else { return };
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
