//! W&B run files (`wandb/run-*/run-<id>.wandb`, `wandb/offline-run-*/...`): the LevelDB log
//! framing ([`super::leveldb`]) of `wandb_internal.Record` protobufs, decoded with `prost` from
//! messages derived here by hand (the fields tmon reads; protobuf skips the rest).
//!
//! - `history` records are rows of the run's history: items of a key (or a nested key path, joined
//!   with `/`) and a JSON value. Each row is read as a JSON Lines record is (the same rows W&B's
//!   `wandb-history.jsonl` holds): `_step` is the step, `_timestamp` the clock, nested objects
//!   become `a/b` names, media and histogram objects are not metrics.
//! - `config` records (and the run record's config) update the run's config, flattened;
//!   `summary` records its summary; the run record gives its display name; the exit record its
//!   status.
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
use prost::Message;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// `wandb_internal.Record` (the record types tmon reads).
#[derive(Clone, PartialEq, Message)]
pub struct Record {
    #[prost(int64, tag = "1")]
    pub num: i64,
    #[prost(message, optional, tag = "2")]
    pub history: Option<HistoryRecord>,
    #[prost(message, optional, tag = "3")]
    pub summary: Option<ItemsRecord>,
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
    pub item: Vec<Item_>,
    #[prost(message, optional, tag = "2")]
    pub step: Option<HistoryStep>,
}

/// `wandb_internal.HistoryStep`.
#[derive(Clone, PartialEq, Message)]
pub struct HistoryStep {
    #[prost(int64, tag = "1")]
    pub num: i64,
}

/// `HistoryItem`, `ConfigItem` and `SummaryItem`: one layout.
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
}

impl WandbReader {
    pub fn new() -> Self {
        Self::default()
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
                    let reason = format!("at byte {offset}: {why}");
                    run.store.skipped.push(self.records, reason, &hex_preview(&buf[at..at + size]));
                }
                Item::Used => {}
                Item::NeedMore | Item::End => return at,
            }
            at += used;
        }
    }

    fn record(&mut self, run: &mut Run, data: &[u8], offset: u64) {
        self.records += 1;
        let rec = match Record::decode(data) {
            Ok(r) => r,
            Err(e) => {
                let reason = format!("at byte {offset}: a record that is not a W&B record ({e})");
                run.store.skipped.push(self.records, reason, &hex_preview(data));
                return;
            }
        };
        if let Some(h) = rec.history {
            let doc = JsonValue::Object(h.item.iter().map(|it| (item_key(it), item_value(it))).collect());
            let mut fields: Vec<Field<'_>> = Vec::new();
            match flatten_value(&doc, &mut fields) {
                Ok(()) => run.push_object(self.records, &fields),
                Err(e) => run.store.skipped.push(self.records, format!("at byte {offset}: {e}"), b""),
            }
        }
        let info: &mut RunInfo = &mut run.info;
        if let Some(c) = &rec.config {
            apply_items(&mut info.config, c);
        }
        if let Some(s) = &rec.summary {
            apply_items(&mut info.summary, s);
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

/// Reads a W&B run file into `run`.
pub fn load(path: &Path, mut run: Run) -> Result<Run, Error> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    run.ingest.set_format(Format::Wandb);
    let mut reader = WandbReader::new();
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
    loop {
        let before = buf.len();
        (&mut file).take(CHUNK as u64).read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
        let eof = buf.len() == before;
        let used = reader.feed(&mut run, &buf, eof);
        buf.drain(..used);
        if eof {
            break;
        }
    }
    Ok(run)
}
