//! TensorBoard event files: TFRecord frames ([`super::tfrecord`]) of `Event` protobufs, decoded with
//! `prost` from messages derived here by hand (the fields tmon reads; protobuf skips the others).
//!
//! - Scalars come in two encodings: `simple_value` (tensorboardX, `torch.utils.tensorboard`) and the
//!   TF2 form, a one-element float or double tensor whose metadata names the `scalars` plugin
//!   (`tf.summary.scalar`, Keras). Writers put the metadata on the first value of a tag only, so
//!   each tag's kind is remembered from its first value.
//! - Histograms, images, audio, text and other plugins' tensors are not metrics: counted by kind in
//!   [`RunInfo::not_metrics`](super::RunInfo), not drawn (yet).
//! - Each event carries its step and wall time; consecutive events at one step (one event per
//!   scalar, as the writers do it) become one record.
//! - A run is a folder: its event files (a restarted writer starts a new one) are read one after
//!   the other, ordered by their first event's wall time (the time in the file name when a file
//!   has no event yet).
//! - Unreadable bytes and records are counted in the store's skipped list with the file and byte
//!   offset; reading always goes on after them.

use super::tfrecord::{self, Frame};
use super::{hex_preview, Gather};
use crate::error::Error;
use crate::ingest::{ClockKind, Format};
use crate::run::Run;
use crate::store::SeriesId;
use prost::Message;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// `tensorboard.Event`.
#[derive(Clone, PartialEq, Message)]
pub struct Event {
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    #[prost(int64, tag = "2")]
    pub step: i64,
    #[prost(string, optional, tag = "3")]
    pub file_version: Option<String>,
    #[prost(message, optional, tag = "5")]
    pub summary: Option<Summary>,
}

/// `tensorboard.Summary`.
#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<Value>,
}

/// `tensorboard.Summary.Value`. The `value` oneof is read as separate optional fields (the same
/// bytes on the wire); the big ones are boxed, so a scalar's value stays small to decode and move.
#[derive(Clone, PartialEq, Message)]
pub struct Value {
    #[prost(string, tag = "1")]
    pub tag: String,
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
    #[prost(message, optional, tag = "3")]
    pub obsolete_old_style_histogram: Option<Opaque>,
    #[prost(message, optional, tag = "4")]
    pub image: Option<Opaque>,
    #[prost(message, optional, boxed, tag = "5")]
    pub histo: Option<Box<HistogramProto>>,
    #[prost(message, optional, tag = "6")]
    pub audio: Option<Opaque>,
    #[prost(message, optional, boxed, tag = "8")]
    pub tensor: Option<Box<TensorProto>>,
    #[prost(message, optional, boxed, tag = "9")]
    pub metadata: Option<Box<SummaryMetadata>>,
}

/// A message whose content tmon does not read (images, audio): only its presence counts, and its
/// bytes are skipped without a copy.
#[derive(Clone, PartialEq, Message)]
pub struct Opaque {}

/// `tensorboard.HistogramProto`.
#[derive(Clone, PartialEq, Message)]
pub struct HistogramProto {
    #[prost(double, tag = "1")]
    pub min: f64,
    #[prost(double, tag = "2")]
    pub max: f64,
    #[prost(double, tag = "3")]
    pub num: f64,
    #[prost(double, tag = "4")]
    pub sum: f64,
    #[prost(double, tag = "5")]
    pub sum_squares: f64,
    #[prost(double, repeated, tag = "6")]
    pub bucket_limit: Vec<f64>,
    #[prost(double, repeated, tag = "7")]
    pub bucket: Vec<f64>,
}

/// `tensorboard.SummaryMetadata`.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
    #[prost(int32, tag = "4")]
    pub data_class: i32,
}

/// `tensorboard.SummaryMetadata.PluginData` (its `content` is the plugin's own and not read).
#[derive(Clone, PartialEq, Message)]
pub struct PluginData {
    #[prost(string, tag = "1")]
    pub plugin_name: String,
}

/// `DataClass.DATA_CLASS_SCALAR`.
pub const DATA_CLASS_SCALAR: i32 = 1;

/// `tensorboard.TensorProto` (the representations a scalar can use).
#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    #[prost(bytes = "vec", tag = "4")]
    pub tensor_content: Vec<u8>,
    #[prost(float, repeated, tag = "5")]
    pub float_val: Vec<f32>,
    #[prost(double, repeated, tag = "6")]
    pub double_val: Vec<f64>,
    #[prost(int32, repeated, tag = "13")]
    pub half_val: Vec<i32>,
}

/// `tensorboard.TensorShapeProto`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<Dim>,
}

/// `tensorboard.TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, Message)]
pub struct Dim {
    #[prost(int64, tag = "1")]
    pub size: i64,
}

/// `DataType` values of the tensors a scalar can be.
const DT_FLOAT: i32 = 1;
const DT_DOUBLE: i32 = 2;
const DT_BFLOAT16: i32 = 14;
const DT_HALF: i32 = 19;

/// Whether a file name is an event file's (TensorBoard's own test: `tfevents` in the name).
pub fn is_event_file_name(name: &str) -> bool {
    name.contains("tfevents")
}

/// The value of a one-element float tensor, in any of the encodings a writer may use.
pub fn tensor_scalar(t: &TensorProto) -> Option<f64> {
    let elements: i64 = t.tensor_shape.as_ref().map_or(1, |s| s.dim.iter().map(|d| d.size).product());
    if elements != 1 {
        return None;
    }
    let c = &t.tensor_content;
    match t.dtype {
        DT_FLOAT => t
            .float_val
            .first()
            .map(|&x| x as f64)
            .or_else(|| Some(f32::from_le_bytes(c.get(..4)?.try_into().ok()?) as f64)),
        DT_DOUBLE => {
            t.double_val.first().copied().or_else(|| Some(f64::from_le_bytes(c.get(..8)?.try_into().ok()?)))
        }
        DT_HALF | DT_BFLOAT16 => {
            let bits = match t.half_val.first() {
                Some(&b) => b as u16,
                None => u16::from_le_bytes(c.get(..2)?.try_into().ok()?),
            };
            Some(if t.dtype == DT_HALF {
                half_to_f64(bits)
            } else {
                f32::from_bits((bits as u32) << 16) as f64
            })
        }
        _ => None,
    }
}

/// IEEE 754 binary16 to f64.
fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f64;
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// What a tag holds, decided from its first value.
#[derive(Clone, Copy, Debug)]
enum Tag {
    Scalar(SeriesId),
    /// Tensors of a plugin that are not scalars, counted under this name.
    Other(&'static str),
}

/// The kind name a plugin's values are counted under.
fn plugin_kind(plugin: &str) -> &'static str {
    match plugin {
        "histograms" => "histograms",
        "images" => "images",
        "audio" => "audio",
        "text" => "text",
        "hparams" => "hparams",
        "pr_curves" => "pr_curves",
        "graph_run_metadata" | "graph_keras_model" | "graphs" => "graphs",
        "projector" | "mesh" => "embeddings",
        _ => "other tensors",
    }
}

/// Reads event files into a run, one after the other.
pub struct EventReader {
    tags: HashMap<String, Tag>,
    gather: Gather,
    /// Records read so far in the run (all files), the "line" of each record.
    records: u64,
    /// Events that were not summaries (the file header, graphs, session logs).
    pub other_events: u64,
}

impl Default for EventReader {
    fn default() -> Self {
        Self::new()
    }
}

impl EventReader {
    pub fn new() -> Self {
        EventReader { tags: HashMap::new(), gather: Gather::default(), records: 0, other_events: 0 }
    }

    /// Prepares `run` for events (its format, step and clock names).
    pub fn declare(run: &mut Run) {
        run.ingest.declare(Format::TensorBoard, "step", Some(("wall_time", ClockKind::Unix)));
    }

    /// Decodes the frames at the front of `buf` into `run`; returns the bytes consumed (a torn
    /// record at the end is left for the next call unless `eof`). `file` and `offset` (of `buf`'s
    /// first byte in the file) name the place of skipped bytes.
    pub fn feed(&mut self, run: &mut Run, buf: &[u8], eof: bool, file: &str, offset: u64) -> usize {
        let mut at = 0;
        loop {
            match tfrecord::next(&buf[at..], eof) {
                Frame::Record { len, size } => {
                    self.records += 1;
                    self.event(
                        run,
                        &buf[at + tfrecord::HEADER..at + tfrecord::HEADER + len],
                        file,
                        offset + at as u64,
                    );
                    at += size;
                }
                Frame::Skipped { size, why } => {
                    self.records += 1;
                    let reason = format!("{file} at byte {}: {why}", offset + at as u64);
                    run.store.skipped.push(self.records, reason, &hex_preview(&buf[at..at + size]));
                    at += size;
                }
                Frame::NeedMore | Frame::End => return at,
            }
        }
    }

    /// Feeds the record gathered last (call at the end of a file, or when the reading pauses).
    pub fn flush(&mut self, run: &mut Run) {
        self.gather.flush(run);
    }

    fn event(&mut self, run: &mut Run, data: &[u8], file: &str, offset: u64) {
        let ev = match Event::decode(data) {
            Ok(ev) => ev,
            Err(e) => {
                let reason = format!("{file} at byte {offset}: a record that is not an event ({e})");
                run.store.skipped.push(self.records, reason, &hex_preview(data));
                return;
            }
        };
        let Some(summary) = ev.summary else {
            self.other_events += 1;
            return;
        };
        let (step, time) = (ev.step as f64, ev.wall_time);
        let time = if time.is_finite() && time > 0.0 { time } else { f64::NAN };
        for v in summary.value {
            match self.value(run, &v) {
                Ok((id, x)) => self.gather.add(run, self.records, step, time, id, x),
                Err(kind) => run.info.count(kind),
            }
        }
    }

    /// A value's series and number, or the kind it is counted under.
    fn value(&mut self, run: &mut Run, v: &Value) -> Result<(SeriesId, f64), &'static str> {
        if let Some(x) = v.simple_value {
            let id = match self.tags.get(&v.tag) {
                Some(Tag::Scalar(id)) => *id,
                _ => {
                    let id = run.store.intern(&v.tag);
                    self.tags.insert(v.tag.clone(), Tag::Scalar(id));
                    id
                }
            };
            return Ok((id, x as f64));
        }
        if v.histo.is_some() || v.obsolete_old_style_histogram.is_some() {
            return Err("histograms");
        }
        if v.image.is_some() {
            return Err("images");
        }
        if v.audio.is_some() {
            return Err("audio");
        }
        let Some(t) = &v.tensor else { return Err("empty values") };
        let tag = match (self.tags.get(&v.tag), &v.metadata) {
            // Metadata on a later value wins (a writer restarted with another plugin is rare,
            // but its own metadata is the best word on it).
            (_, Some(m)) => {
                let plugin = m.plugin_data.as_ref().map_or("", |p| p.plugin_name.as_str());
                let tag = if plugin == "scalars" || m.data_class == DATA_CLASS_SCALAR {
                    match self.tags.get(&v.tag) {
                        Some(Tag::Scalar(id)) => Tag::Scalar(*id),
                        _ => Tag::Scalar(run.store.intern(&v.tag)),
                    }
                } else {
                    Tag::Other(plugin_kind(plugin))
                };
                self.tags.insert(v.tag.clone(), tag);
                tag
            }
            (Some(tag), None) => *tag,
            (None, None) => return Err("other tensors"),
        };
        match tag {
            Tag::Scalar(id) => {
                tensor_scalar(t).map(|x| (id, x)).ok_or("scalar tensors of another shape or type")
            }
            Tag::Other(kind) => Err(kind),
        }
    }
}

/// The event files of a run folder, in the order they were written.
pub fn event_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<(f64, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(is_event_file_name))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| (first_wall_time(&p), p))
        .collect();
    files.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// When a file was started: its first event's wall time, else the time in its name
/// (`events.out.tfevents.<unix seconds>.<host>...`), else infinity (last).
fn first_wall_time(path: &Path) -> f64 {
    let mut head = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(64 << 10).read_to_end(&mut head);
    }
    let mut at = 0;
    while let Frame::Record { len, size } = tfrecord::next(&head[at..], true) {
        if let Ok(ev) = Event::decode(&head[at + tfrecord::HEADER..at + tfrecord::HEADER + len]) {
            if ev.wall_time.is_finite() && ev.wall_time > 0.0 {
                return ev.wall_time;
            }
        }
        at += size;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.split("tfevents.")
        .nth(1)
        .and_then(|r| r.split('.').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or(f64::INFINITY)
}

/// How much of a file is read at a time.
const BLOCK: usize = 2 << 20;

/// Reads the TensorBoard run in folder `dir` (every event file in it) into `run`.
pub fn load_run(dir: &Path, mut run: Run) -> Result<Run, Error> {
    let files = event_files(dir).map_err(|e| Error::io(dir, e))?;
    if files.is_empty() {
        return Err(Error::Read {
            path: dir.to_owned(),
            reason: "no TensorBoard event files in this folder".into(),
        });
    }
    EventReader::declare(&mut run);
    let mut reader = EventReader::new();
    for path in &files {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut buf: Vec<u8> = Vec::with_capacity(BLOCK);
        let mut offset = 0u64;
        loop {
            let before = buf.len();
            (&mut file).take(BLOCK as u64).read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
            let eof = buf.len() == before;
            let used = reader.feed(&mut run, &buf, eof, &name, offset);
            buf.drain(..used);
            offset += used as u64;
            if eof {
                break;
            }
        }
        // A file ends a record: the next file's first event may be at the same step.
        reader.flush(&mut run);
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_in_every_tensor_encoding() {
        let t = |dtype, content: &[u8]| TensorProto {
            dtype,
            tensor_content: content.to_vec(),
            ..Default::default()
        };
        assert_eq!(tensor_scalar(&t(DT_FLOAT, &1.5f32.to_le_bytes())), Some(1.5));
        assert_eq!(tensor_scalar(&t(DT_DOUBLE, &0.1f64.to_le_bytes())), Some(0.1));
        assert_eq!(
            tensor_scalar(&TensorProto { dtype: DT_FLOAT, float_val: vec![2.0], ..Default::default() }),
            Some(2.0)
        );
        assert_eq!(
            tensor_scalar(&TensorProto { dtype: DT_HALF, half_val: vec![0x3c00], ..Default::default() }),
            Some(1.0)
        );
        assert_eq!(
            tensor_scalar(&TensorProto { dtype: DT_BFLOAT16, half_val: vec![0x4040], ..Default::default() }),
            Some(3.0)
        );
        assert!(tensor_scalar(&t(DT_FLOAT, &[])).is_none());
        let shape = TensorShapeProto { dim: vec![Dim { size: 3 }] };
        let vector = TensorProto {
            dtype: DT_FLOAT,
            tensor_shape: Some(shape),
            float_val: vec![1.0, 2.0, 3.0],
            ..Default::default()
        };
        assert!(tensor_scalar(&vector).is_none());
        assert!(half_to_f64(0x7e00).is_nan());
        assert_eq!(half_to_f64(0xfc00), f64::NEG_INFINITY);
    }

    #[test]
    fn names_and_times() {
        assert!(is_event_file_name("events.out.tfevents.1700000000.host.123.0"));
        assert!(!is_event_file_name("metrics.csv"));
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("events.out.tfevents.1700000123.host");
        std::fs::write(&p, b"").unwrap();
        assert_eq!(first_wall_time(&p), 1_700_000_123.0);
    }
}
