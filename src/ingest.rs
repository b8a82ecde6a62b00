//! Ingest: the schema stage. Decides the format, the step key and the time key with zero
//! configuration, turns parsed lines into records, and appends them to the [`Store`].

use crate::parse::{parse_line, Field, Scalar};
use crate::store::{RecordIdx, RecordMeta, SeriesId, Store};

/// The layout of a log file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// Not decided yet (nothing read).
    #[default]
    Unknown,
    /// One JSON object per line.
    JsonLines,
    /// Hugging Face `trainer_state.json`: records under `log_history`.
    TrainerState,
    /// A top-level JSON array of objects (Chainer's `log`).
    JsonArray,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Unknown => "unknown",
            Format::JsonLines => "jsonl",
            Format::TrainerState => "trainer_state",
            Format::JsonArray => "json_array",
        }
    }
}

/// User overrides; everything else is detected.
#[derive(Clone, Debug, Default)]
pub struct IngestOptions {
    pub step_key: Option<String>,
    pub time_key: Option<String>,
}

/// Called for each record appended: the store, the record, and its (series, value) pairs.
pub type OnRecord<'a> = dyn FnMut(&Store, RecordIdx, &[(SeriesId, f64)]) + 'a;

/// Turns lines into records for one file.
#[derive(Debug, Default)]
pub struct Ingest {
    opts: IngestOptions,
    format: Format,
    step_key: Option<String>,
    time_key: Option<String>,
    ordinal: u64,
    scratch: Vec<(SeriesId, f64)>,
}

impl Ingest {
    pub fn new(opts: IngestOptions) -> Self {
        Ingest {
            step_key: opts.step_key.clone(),
            time_key: opts.time_key.clone(),
            opts,
            ..Default::default()
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }
    pub fn step_key(&self) -> Option<&str> {
        self.step_key.as_deref()
    }
    pub fn time_key(&self) -> Option<&str> {
        self.time_key.as_deref()
    }
    pub fn options(&self) -> &IngestOptions {
        &self.opts
    }

    /// Feeds one complete JSON Lines line (without its newline). Lines that are not records are
    /// counted in `store.skipped`.
    pub fn push_line(&mut self, store: &mut Store, line_no: u64, bytes: &[u8], on_record: &mut OnRecord<'_>) {
        self.format = Format::JsonLines;
        let mut fields: Vec<Field<'_>> = Vec::new();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if let Err(e) = parse_line(bytes, &mut fields) {
            store.skipped.push(line_no, e.to_string(), bytes);
            return;
        }
        self.ordinal += 1;
        let step = fields
            .iter()
            .find(|f| {
                Some(f.key.as_ref()) == self.step_key.as_deref()
                    || (self.step_key.is_none() && f.key == "step")
            })
            .and_then(|f| match f.value {
                Scalar::Num(x) => Some(x),
                _ => None,
            })
            .unwrap_or(self.ordinal as f64);
        let rec = store.begin_record(RecordMeta { step, time: f64::NAN, line: line_no });
        self.scratch.clear();
        for f in &fields {
            if let Scalar::Num(x) = f.value {
                let id = store.intern(&f.key);
                store.push(rec, id, x);
                self.scratch.push((id, x));
            }
        }
        on_record(store, rec, &self.scratch);
    }
}
