//! Parsing: bytes of one log line (or one whole-file JSON document) into flat fields.
//!
//! Keys of nested objects are joined with `/`. Only numbers become metrics later; strings, bools,
//! nulls and lists are kept as such so the schema stage can use them (time strings, split keys).
//!
//! [`parse_line`] is the hot path: a hand-written scanner that goes from bytes to [`Field`]s with
//! no tree and no allocation per field for plain top-level keys. It is lenient where real training
//! logs need it (Python's bare `NaN`/`Infinity`/`-Infinity`, numbers beyond f64 range, invalid
//! UTF-8, BOM, CRLF) and strict elsewhere, with errors that give the column and what was expected.
//! [`parse_document`] reads whole-file JSON with the same rules. Neither recurses deeper than
//! [`MAX_DEPTH`] levels, and both run in time linear in the input.
//!
//! Choices beyond strict JSON, all deliberate:
//! - `NaN`, `Infinity`, `-Infinity` (exactly these spellings) are numbers; inside strings they are
//!   just text.
//! - Numbers are read as f64 with correct rounding; beyond range they become ±inf or ±0. `-0`
//!   keeps its sign (serde_json reads it as the integer 0).
//! - Invalid UTF-8 and lone surrogate escapes in strings become U+FFFD; raw control characters in
//!   strings are accepted. Invalid escapes (`\x`) are errors.
//! - A top-level `{}` is a record with no fields; nested empty objects are
//!   [`Scalar::Composite`]. A flat list of 1 to [`MAX_ARRAY`] numbers becomes one field per number,
//!   named by [`element_key`] (`name[0]`, or `name/AP` ... for COCO's summary); any other list is
//!   [`Scalar::Composite`] (validated, not kept).
//! - An object in one of the documented histogram shapes ([`hist`]) is one
//!   [`Scalar::Hist`] field under its key, never a field per bin.
//! - A record is limited to [`MAX_FIELDS`] fields and [`MAX_KEY_BYTES`] of joined nested keys, so
//!   the memory a line can cost stays proportional to the line.

use std::borrow::Cow;
use thiserror::Error;

mod document;
pub mod hist;
mod layout;
mod line;
mod number;
mod scan;

pub use document::{flatten_value, parse_document};
pub use hist::{HistValue, Histogram};
pub use layout::LineParser;
pub use line::parse_line;

/// Objects and lists may nest this many levels (the line's own object is level 1).
pub const MAX_DEPTH: usize = 128;

/// A record may flatten to at most this many fields (real logs have a few hundred at most).
/// With [`MAX_KEY_BYTES`] it bounds the memory one line can make the parser allocate.
pub const MAX_FIELDS: usize = 1 << 20;

/// Joined keys of nested fields may total at most this many bytes per record: without a bound, a
/// long key holding many fields would allocate (key length x fields) bytes.
pub const MAX_KEY_BYTES: usize = 64 << 20;

/// A list of numbers up to this long is charted element by element (COCO's summary has 12, a
/// per-class list a few dozen); a longer one (a histogram, an action trace) is a composite.
pub const MAX_ARRAY: usize = 64;

/// The names of COCOeval's 12 bounding-box or segmentation summary numbers, in `stats` order.
const COCO_STATS: [&str; 12] =
    ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];
/// The names of COCOeval's 10 keypoint summary numbers, in `stats` order.
const COCO_KEYPOINT_STATS: [&str; 10] =
    ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"];

/// The field name of element `i` of a list of `n` numbers under `key`: `key[i]`, or, where the
/// key says COCO and the list has the length of COCOeval's summary, `key/AP`, `key/AP50`, ...
/// (DETR writes `test_coco_eval_bbox` as the 12 numbers of `COCOeval.stats`).
pub fn element_key(key: &str, i: usize, n: usize) -> String {
    let lower = key.to_ascii_lowercase();
    if lower.contains("coco") {
        let names: &[&str] = if lower.contains("keypoint") { &COCO_KEYPOINT_STATS } else { &COCO_STATS };
        if n == names.len() {
            return format!("{key}/{}", names[i]);
        }
    }
    format!("{key}[{i}]")
}

/// A flattened scalar value.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    Num(f64),
    Str(Cow<'a, str>),
    Bool(bool),
    Null,
    /// A list, or an empty object: present, but not a scalar.
    Composite,
    /// An object in one of the histogram shapes ([`hist`]): the histogram, or why it is
    /// malformed. Never flattened into series.
    Hist(Box<HistValue>),
}

/// One flattened `key: value` pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Field<'a> {
    pub key: Cow<'a, str>,
    pub value: Scalar<'a>,
}

/// Why a line is not a record.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum LineError {
    /// Says where and why, e.g. `expected ',' or '}' at column 57 (found 'x')`.
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("JSON but not an object")]
    NotObject,
    #[error("nested deeper than {0} levels")]
    TooDeep(usize),
    /// Flattens to more than [`MAX_FIELDS`] fields or [`MAX_KEY_BYTES`] of nested keys.
    #[error("record too large: {0}")]
    TooLarge(String),
}

/// A whole JSON document (for `trainer_state.json` and top-level arrays), with non-finite numbers.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonValue {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Array(Vec<JsonValue>),
    /// Keys in document order.
    Object(Vec<(String, JsonValue)>),
}
