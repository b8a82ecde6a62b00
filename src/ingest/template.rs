//! The hot path's memory: a record's template, its key sequence remembered with what each key
//! means.
//!
//! Most logs repeat a few kinds of record (train, eval, summary), each with its template. The
//! first record of each template goes through the slow path (classify every key, intern series
//! names); later records with the same keys in the same order are matched by comparing key bytes
//! and applying the remembered actions, with no hash lookup and no allocation per field.

use crate::parse::{Field, Scalar};
use crate::store::SeriesId;

/// A value's kind, as far as templates tell them apart: a number, a histogram, anything else.
#[inline]
fn kind(v: &Scalar<'_>) -> u8 {
    match v {
        Scalar::Num(_) => 1,
        Scalar::Hist(_) => 2,
        _ => 0,
    }
}

/// How many templates are remembered; beyond that the least recently used one is dropped.
const CAPACITY: usize = 16;

/// What to do with one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// A metric: append its number to this series.
    Metric(SeriesId),
    /// A histogram: kept in the store's histograms under the field's key.
    Hist,
    /// Not a metric (step, clock, string, config value, ...), or a key that comes again later in
    /// the same record (the last value wins, as in Python's `json`).
    Skip,
    /// A metric the run has no room for (its series cap was reached): counted, not stored.
    Drop,
}

/// One remembered template: a record's keys in order, and what to do with each.
#[derive(Clone, Debug)]
pub struct Template {
    /// Unique for the life of the [`Ingest`](super::Ingest), to tell templates apart in the
    /// duplicate window.
    pub serial: u64,
    keys: Vec<u8>,
    ends: Vec<u32>,
    /// What each field held when the template was learnt ([`kind`]): a key that changes type
    /// makes a new template, so a number or a histogram is never skipped because it was once a
    /// string.
    numeric: Vec<u8>,
    /// Fields whose string value is part of the template (mmcv's `mode`, a split key like `agent`).
    pins: Vec<(usize, Box<[u8]>)>,
    pub acts: Vec<Act>,
    /// How many fields are [`Act::Drop`].
    pub dropped: u64,
    pub step_slot: Option<usize>,
    pub time_slot: Option<usize>,
    pub epoch_slot: Option<usize>,
    pub iter_slot: Option<usize>,
    /// A record with no metric at all (mmcv's `env_info`/`config` line).
    pub metadata: bool,
    /// An evaluation record (see the module docs of [`super`]).
    pub eval: bool,
    /// Some field is [`Act::Hist`].
    pub histograms: bool,
}

impl Template {
    pub fn new(serial: u64, fields: &[Field<'_>]) -> Self {
        let mut keys = Vec::new();
        let mut ends = Vec::with_capacity(fields.len());
        for f in fields {
            keys.extend_from_slice(f.key.as_bytes());
            ends.push(keys.len() as u32);
        }
        Template {
            serial,
            keys,
            ends,
            numeric: fields.iter().map(|f| kind(&f.value)).collect(),
            pins: Vec::new(),
            acts: vec![Act::Skip; fields.len()],
            dropped: 0,
            step_slot: None,
            time_slot: None,
            epoch_slot: None,
            iter_slot: None,
            metadata: false,
            eval: false,
            histograms: false,
        }
    }

    /// Makes the string value of field `slot` part of the template.
    pub fn pin(&mut self, slot: usize, value: &str) {
        self.pins.push((slot, value.as_bytes().into()));
    }

    pub fn matches(&self, fields: &[Field<'_>]) -> bool {
        if fields.len() != self.ends.len() {
            return false;
        }
        let mut start = 0usize;
        for (i, f) in fields.iter().enumerate() {
            let end = self.ends[i] as usize;
            if f.key.as_bytes() != &self.keys[start..end] || kind(&f.value) != self.numeric[i] {
                return false;
            }
            start = end;
        }
        self.pins.iter().all(|(slot, v)| match &fields[*slot].value {
            Scalar::Str(s) => s.as_bytes() == &v[..],
            _ => false,
        })
    }
}

/// The remembered templates, most recently used first.
#[derive(Clone, Debug, Default)]
pub struct Templates {
    list: Vec<Template>,
    next_serial: u64,
}

impl Templates {
    /// Whether the front template is the one with this serial and has no pinned strings: then a
    /// line with the same key layout as the line it was found for (same keys in the same order,
    /// values of the same kinds) has it as its template without comparing keys.
    pub fn front_is(&self, serial: u64) -> bool {
        self.list.first().is_some_and(|t| t.serial == serial && t.pins.is_empty())
    }

    /// Finds the template of `fields` and moves it to the front; returns whether it was found.
    pub fn find(&mut self, fields: &[Field<'_>]) -> bool {
        match self.list.iter().position(|s| s.matches(fields)) {
            Some(0) => true,
            Some(i) => {
                let s = self.list.remove(i);
                self.list.insert(0, s);
                true
            }
            None => false,
        }
    }

    /// The most recently used template. Only call after [`find`](Self::find) or
    /// [`insert`](Self::insert).
    pub fn front(&self) -> &Template {
        &self.list[0]
    }

    pub fn serial(&mut self) -> u64 {
        self.next_serial += 1;
        self.next_serial
    }

    pub fn insert(&mut self, s: Template) {
        self.list.insert(0, s);
        self.list.truncate(CAPACITY);
    }

    pub fn clear(&mut self) {
        self.list.clear();
    }
}
