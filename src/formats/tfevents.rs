//! TensorBoard event files: TFRecord frames ([`super::tfrecord`]) of `Event` protobufs, decoded with
//! `prost` from messages derived here by hand (the fields tmon reads; protobuf skips the others).
//!
//! - Scalars come in two encodings: `simple_value` (tensorboardX, `torch.utils.tensorboard`) and the
//!   TF2 form, a one-element float or double tensor whose metadata names the `scalars` plugin
//!   (`tf.summary.scalar`, Keras). Writers put the metadata on the first value of a tag only, so
//!   each tag's kind is remembered from its first value.
//! - Histograms go to the store's histograms (the distributions view), each on the record of its
//!   step; a malformed one is counted there. Two encodings: `HistogramProto` (tensorboardX,
//!   `torch.utils.tensorboard`, TF1) and the TF2 form (`tf.summary.histogram`), a float or double
//!   tensor of shape `[k, 3]` (left edge, right edge, count of each bucket) whose metadata names
//!   the `histograms` plugin, on the tag's first value only as TensorFlow writes it.
//! - Images, audio, text, the obsolete old-style histograms and other plugins' tensors are not
//!   metrics: counted by kind in [`RunInfo::not_metrics`](super::RunInfo), not drawn.
//! - Each event carries its step and wall time; consecutive events at one step (one event per
//!   scalar, as the writers do it) become one record.
//! - A run is a folder: its event files (a restarted writer starts a new one) are read one after
//!   the other, ordered by their first event's wall time (the time in the file name when a file
//!   has no event yet).
//! - Unreadable bytes and records are counted in the store's skipped list with the file and byte
//!   offset; reading always goes on after them.

use super::tfrecord::{self, Frame, Skip};
use super::wire::{Fields, Wire};
use super::{hex_preview, Gather};
use crate::ingest::{ClockKind, Format};
use crate::parse::{HistValue, Histogram};
use crate::run::Run;
use crate::store::SeriesId;
use prost::Message;
use std::borrow::Cow;
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

/// One value of an event, decoded on any thread; its series is found in order
/// ([`EventReader::resolve`]), since a tag's kind comes from its first value.
#[derive(Debug)]
enum Val<'a> {
    /// A `simple_value` under this tag.
    Simple(Cow<'a, str>, f32),
    /// A tensor: its tag, the plugin its metadata names (empty without plugin data) with the
    /// data class, when it carries metadata, and its value when it is a one-element float tensor.
    /// `hist`: the tensor read as TF2's `[k, 3]` histogram when it has that shape (or why a
    /// tensor of the `histograms` plugin is not one); used when the tag is a histogram's.
    Tensor {
        tag: Cow<'a, str>,
        plugin: Option<(Cow<'a, str>, i32)>,
        scalar: Option<f64>,
        hist: Option<Box<HistValue>>,
    },
    /// A `HistogramProto` under this tag, read into a histogram (or why it is malformed).
    Hist(Cow<'a, str>, HistValue),
    /// Not a metric: counted under this kind.
    Kind(&'static str),
}

/// One frame, decoded on any thread.
#[derive(Debug)]
enum Item {
    /// Bytes that are not a record (`at`: offset in the buffer fed).
    Skipped { at: usize, size: usize, why: Skip },
    /// A record whose data is not an event.
    NotEvent { at: usize, len: usize, error: String },
    /// An event: step, wall time, and its values (a range of the piece's values; `None` for an
    /// event without a summary).
    Event { step: f64, time: f64, vals: Option<std::ops::Range<usize>> },
}

/// A frame found by the framing pass (the data's checksum is checked when it is decoded).
#[derive(Clone, Copy, Debug)]
enum Framed {
    Record { at: usize, len: usize },
    Skipped { at: usize, size: usize, why: Skip },
}

/// Frames decoded per piece (the unit the threads share).
const PIECE: usize = 4096;
/// Below this many bytes a buffer is decoded on this thread only.
const PARALLEL_MIN: usize = 1 << 20;

/// The value of a tag, read in place: a `simple_value` and nothing that needs the full decode.
fn fast_value<'a>(b: &'a [u8], vals: &mut Vec<Val<'a>>) -> Option<()> {
    let (mut tag, mut simple) = ("", None);
    let mut f = Fields::new(b);
    for (t, w) in f.by_ref() {
        match (t, w) {
            (1, Wire::Bytes(s)) => tag = std::str::from_utf8(s).ok()?,
            (2, Wire::Fixed32(x)) => simple = Some(f32::from_le_bytes(x)),
            // A wrong wire type, or a histogram, image, audio, tensor or metadata: prost's.
            (1..=6 | 8 | 9, _) => return None,
            _ => {}
        }
    }
    if f.bad() {
        return None;
    }
    vals.push(Val::Simple(Cow::Borrowed(tag), simple?));
    Some(())
}

/// An event of scalars, read in place: (wall time, step, whether it has a summary). `None`: the
/// event needs the full decode (or is not one); `vals` is then left as it was.
fn fast_event<'a>(data: &'a [u8], vals: &mut Vec<Val<'a>>) -> Option<(f64, i64, bool)> {
    let start = vals.len();
    let out = (|| {
        let (mut wall, mut step, mut summary) = (0.0, 0i64, false);
        let mut f = Fields::new(data);
        for (tag, w) in f.by_ref() {
            match (tag, w) {
                (1, Wire::Fixed64(b)) => wall = f64::from_le_bytes(b),
                (2, Wire::Varint(v)) => step = v as i64,
                (3, Wire::Bytes(b)) => {
                    std::str::from_utf8(b).ok()?;
                }
                (5, Wire::Bytes(b)) => {
                    summary = true;
                    let mut g = Fields::new(b);
                    for (t, w) in g.by_ref() {
                        match (t, w) {
                            (1, Wire::Bytes(v)) => fast_value(v, vals)?,
                            (1, _) => return None,
                            _ => {}
                        }
                    }
                    if g.bad() {
                        return None;
                    }
                }
                (1 | 2 | 3 | 5, _) => return None,
                _ => {}
            }
        }
        (!f.bad()).then_some((wall, step, summary))
    })();
    if out.is_none() {
        vals.truncate(start);
    }
    out
}

/// A value decoded by prost, as the reader takes it.
fn val_of(v: Value) -> Val<'static> {
    if let Some(x) = v.simple_value {
        return Val::Simple(Cow::Owned(v.tag), x);
    }
    if let Some(h) = v.histo {
        let h = *h;
        let hist = Histogram::tensorboard(Some(h.min), Some(h.max), &h.bucket_limit, h.bucket);
        return Val::Hist(Cow::Owned(v.tag), hist);
    }
    if v.obsolete_old_style_histogram.is_some() {
        return Val::Kind("histograms");
    }
    if v.image.is_some() {
        return Val::Kind("images");
    }
    if v.audio.is_some() {
        return Val::Kind("audio");
    }
    let Some(t) = &v.tensor else { return Val::Kind("empty values") };
    let plugin = v.metadata.map(|m| {
        let name = m.plugin_data.map(|p| p.plugin_name).unwrap_or_default();
        (Cow::Owned(name), m.data_class)
    });
    let mut hist = tensor_histogram(t);
    if hist.is_none() && plugin.as_ref().is_some_and(|(p, _)| p == HISTOGRAMS) {
        hist = Some(Err(format!(
            "a histogram tensor of type {} and shape {:?} (TF2's are float or double, [k, 3])",
            t.dtype,
            t.tensor_shape
                .as_ref()
                .map(|s| s.dim.iter().map(|d| d.size).collect::<Vec<_>>())
                .unwrap_or_default()
        )));
    }
    Val::Tensor { scalar: tensor_scalar(t), tag: Cow::Owned(v.tag), plugin, hist: hist.map(Box::new) }
}

/// The plugin of TF2's histograms.
const HISTOGRAMS: &str = "histograms";

/// A tensor of shape `[k, 3]` read as TF2 writes a histogram: each row a bucket's left edge, right
/// edge and count (`tf.summary.histogram`; TensorBoard's own `histogram_pb`). `None`: not that
/// shape or type. The edges are the buckets' left edges and the last right edge (TF2's buckets
/// are contiguous; a constant tensor has buckets of zero width, its count in the last).
pub fn tensor_histogram(t: &TensorProto) -> Option<HistValue> {
    let dims: Vec<i64> = t.tensor_shape.as_ref()?.dim.iter().map(|d| d.size).collect();
    let &[k, 3] = dims.as_slice() else { return None };
    let k = usize::try_from(k).ok()?;
    let width = match t.dtype {
        DT_FLOAT => 4,
        DT_DOUBLE => 8,
        _ => return None,
    };
    // Checked against the bytes there before anything is allocated from the shape.
    let values: Vec<f64> = if !t.double_val.is_empty() {
        t.double_val.clone()
    } else if !t.float_val.is_empty() {
        t.float_val.iter().map(|&x| x as f64).collect()
    } else {
        let c = &t.tensor_content;
        if !c.len().is_multiple_of(width) {
            return Some(Err(format!("a histogram tensor of {} bytes, not whole values", c.len())));
        }
        c.chunks_exact(width)
            .map(|b| match b.try_into() {
                Ok(b8) => f64::from_le_bytes(b8),
                Err(_) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            })
            .collect()
    };
    if k.checked_mul(3) != Some(values.len()) {
        return Some(Err(format!("a histogram tensor of shape [{k}, 3] with {} values", values.len())));
    }
    if k == 0 {
        return Some(Err("a histogram with no buckets".into()));
    }
    let mut edges: Vec<f64> = values.chunks_exact(3).map(|r| r[0]).collect();
    edges.push(values[values.len() - 2]);
    let counts = values.chunks_exact(3).map(|r| r[2]).collect();
    Some(Histogram::natural(edges, counts))
}

/// The frames at the front of `buf`, and the bytes they take (a torn record at the end is left
/// unless `eof`).
fn frames(buf: &[u8], eof: bool, out: &mut Vec<Framed>) -> usize {
    let mut at = 0;
    loop {
        match tfrecord::frame(&buf[at..], eof, false) {
            Frame::Record { len, size } => {
                out.push(Framed::Record { at, len });
                at += size;
            }
            Frame::Skipped { size, why } => {
                out.push(Framed::Skipped { at, size, why });
                at += size;
            }
            Frame::NeedMore | Frame::End => return at,
        }
    }
}

/// Decodes frames (checking each record's data checksum) into items and values.
fn decode_frames<'a>(buf: &'a [u8], frames: &[Framed], items: &mut Vec<Item>, vals: &mut Vec<Val<'a>>) {
    for f in frames {
        let (at, len) = match *f {
            Framed::Skipped { at, size, why } => {
                items.push(Item::Skipped { at, size, why });
                continue;
            }
            Framed::Record { at, len } => (at, len),
        };
        let size = tfrecord::HEADER + len + tfrecord::FOOTER;
        let data = &buf[at + tfrecord::HEADER..at + tfrecord::HEADER + len];
        let crc = &buf[at + size - tfrecord::FOOTER..at + size];
        if tfrecord::masked_crc(data).to_le_bytes() != crc {
            items.push(Item::Skipped { at, size, why: Skip::BadData });
            continue;
        }
        let first = vals.len();
        let (wall, step, summary) = match fast_event(data, vals) {
            Some(e) => e,
            None => match Event::decode(data) {
                Ok(ev) => {
                    let summary = ev.summary.is_some();
                    for v in ev.summary.map(|s| s.value).unwrap_or_default() {
                        vals.push(val_of(v));
                    }
                    (ev.wall_time, ev.step, summary)
                }
                Err(e) => {
                    items.push(Item::NotEvent { at, len, error: e.to_string() });
                    continue;
                }
            },
        };
        let time = if wall.is_finite() && wall > 0.0 { wall } else { f64::NAN };
        let vals = summary.then_some(first..vals.len());
        items.push(Item::Event { step: step as f64, time, vals });
    }
}

/// Reads event files into a run, one after the other.
#[derive(Debug)]
pub struct EventReader {
    tags: HashMap<String, Tag>,
    /// The tags met last, in front of the map (a file cycles through a few tags).
    recent: Vec<(Box<str>, SeriesId)>,
    gather: Gather,
    /// Records read so far in the run (all files), the "line" of each record.
    records: u64,
    /// Events that were not summaries (the file header, graphs, session logs).
    pub other_events: u64,
    /// Threads for a big buffer (1: this one only).
    threads: usize,
}

impl Default for EventReader {
    fn default() -> Self {
        Self::new()
    }
}

impl EventReader {
    pub fn new() -> Self {
        EventReader {
            tags: HashMap::new(),
            recent: Vec::new(),
            gather: Gather::default(),
            records: 0,
            other_events: 0,
            threads: super::par::threads(),
        }
    }

    /// Uses at most `n` threads for a big buffer (1: none besides the caller's).
    pub fn with_threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// Prepares `run` for events (its format, step and clock names).
    pub fn declare(run: &mut Run) {
        run.ingest.declare(Format::TensorBoard, "step", Some(("wall_time", ClockKind::Unix)));
    }

    /// Decodes the frames at the front of `buf` into `run`; returns the bytes consumed (a torn
    /// record at the end is left for the next call unless `eof`). `file` and `offset` (of `buf`'s
    /// first byte in the file) name the place of skipped bytes. A big buffer is decoded on every
    /// core, the records fed in order.
    pub fn feed(&mut self, run: &mut Run, buf: &[u8], eof: bool, file: &str, offset: u64) -> usize {
        let mut framed = Vec::new();
        let used = frames(buf, eof, &mut framed);
        let threads = if used >= PARALLEL_MIN { self.threads } else { 1 };
        let pieces = framed.chunks(PIECE).collect::<Vec<_>>();
        super::par::ordered(
            pieces.len(),
            threads,
            |j| {
                let (mut items, mut vals) = (Vec::with_capacity(pieces[j].len()), Vec::new());
                decode_frames(buf, pieces[j], &mut items, &mut vals);
                (items, vals)
            },
            |_, (items, vals)| self.take(run, buf, &items, &vals, file, offset),
        );
        used
    }

    /// Feeds decoded items to the run, in order.
    fn take(&mut self, run: &mut Run, buf: &[u8], items: &[Item], vals: &[Val<'_>], file: &str, offset: u64) {
        for item in items {
            self.records += 1;
            match item {
                Item::Skipped { at, size, why } => {
                    let reason = format!("{file} at byte {}: {why}", offset + *at as u64);
                    run.store.skipped.push(self.records, reason, &hex_preview(&buf[*at..at + size]));
                }
                Item::NotEvent { at, len, error } => {
                    let reason = format!(
                        "{file} at byte {}: a record that is not an event ({error})",
                        offset + *at as u64
                    );
                    let data = &buf[at + tfrecord::HEADER..at + tfrecord::HEADER + len];
                    run.store.skipped.push(self.records, reason, &hex_preview(data));
                }
                Item::Event { vals: None, .. } => self.other_events += 1,
                Item::Event { step, time, vals: Some(range) } => {
                    for v in &vals[range.clone()] {
                        if let Val::Hist(tag, h) = v {
                            self.gather.add_hist(run, self.records, *step, *time, tag, h.clone());
                            continue;
                        }
                        if let Val::Tensor { tag, plugin, hist: Some(h), .. } = v {
                            if self.is_histogram_tag(tag, plugin.as_ref().map(|p| p.0.as_ref())) {
                                let h = h.as_ref().clone();
                                self.gather.add_hist(run, self.records, *step, *time, tag, h);
                                continue;
                            }
                        }
                        match self.resolve(run, v) {
                            Ok((id, x)) => self.gather.add(run, self.records, *step, *time, id, x),
                            Err(kind) => run.info.count(kind),
                        }
                    }
                }
            }
        }
    }

    /// Feeds the record gathered last (call at the end of a file, or when the reading pauses).
    pub fn flush(&mut self, run: &mut Run) {
        self.gather.flush(run);
    }

    /// Whether a tensor of `tag` is a TF2 histogram: its metadata names the plugin, or the tag's
    /// first value's did (remembered here, as [`Self::resolve`] remembers the others).
    fn is_histogram_tag(&mut self, tag: &str, plugin: Option<&str>) -> bool {
        match plugin {
            Some(p) => {
                let yes = p == HISTOGRAMS;
                if yes {
                    self.tags.insert(tag.to_owned(), Tag::Other(HISTOGRAMS));
                    self.recent.clear();
                }
                yes
            }
            None => matches!(self.tags.get(tag), Some(Tag::Other(HISTOGRAMS))),
        }
    }

    /// The series of a scalar tag, made on its first value.
    fn scalar_id(&mut self, run: &mut Run, tag: &str) -> SeriesId {
        if let Some(i) = self.recent.iter().position(|(t, _)| &**t == tag) {
            return self.recent[i].1;
        }
        let id = match self.tags.get(tag) {
            Some(Tag::Scalar(id)) => *id,
            _ => {
                let id = run.store.intern(tag);
                self.tags.insert(tag.to_owned(), Tag::Scalar(id));
                id
            }
        };
        if self.recent.len() >= 16 {
            self.recent.remove(0);
        }
        self.recent.push((tag.into(), id));
        id
    }

    /// A value's series and number, or the kind it is counted under.
    fn resolve(&mut self, run: &mut Run, v: &Val<'_>) -> Result<(SeriesId, f64), &'static str> {
        match v {
            Val::Simple(tag, x) => Ok((self.scalar_id(run, tag), *x as f64)),
            Val::Kind(kind) => Err(kind),
            Val::Hist(..) => Err("histograms"),
            Val::Tensor { tag, plugin, scalar, .. } => {
                let tag_kind = match (self.tags.get(tag.as_ref()), plugin) {
                    // Metadata on a later value wins (a writer restarted with another plugin is
                    // rare, but its own metadata is the best word on it).
                    (_, Some((plugin, class))) => {
                        let kind = if plugin == "scalars" || *class == DATA_CLASS_SCALAR {
                            match self.tags.get(tag.as_ref()) {
                                Some(Tag::Scalar(id)) => Tag::Scalar(*id),
                                _ => Tag::Scalar(run.store.intern(tag)),
                            }
                        } else {
                            Tag::Other(plugin_kind(plugin))
                        };
                        self.tags.insert(tag.to_string(), kind);
                        self.recent.clear();
                        kind
                    }
                    (Some(kind), None) => *kind,
                    (None, None) => return Err("other tensors"),
                };
                match tag_kind {
                    Tag::Scalar(id) => {
                        scalar.map(|x| (id, x)).ok_or("scalar tensors of another shape or type")
                    }
                    Tag::Other(kind) => Err(kind),
                }
            }
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
