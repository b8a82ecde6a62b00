//! The entry points for records that arrive already structured, from the readers of other log
//! formats ([`crate::formats`]): TensorBoard events, W&B history, CSV rows, MLflow metrics.
//!
//! Two ways in, by how much the format already says:
//! - [`Ingest::push_values`]: the format names the step and the clock itself (a TensorBoard event's
//!   `step` and `wall_time`, an MLflow metric's `step` and `timestamp`). Every value is a metric,
//!   whatever its name: no key detection, no eval guess, no copy check; non-finite values are kept.
//! - [`Ingest::push_object`]: a flat object of named fields, read exactly as a JSON Lines record
//!   is (a CSV row, a W&B history row): the step and clock keys are detected, sparse eval rows are
//!   recognised, `--step-key`/`--time-key` apply.

use super::clock::ClockKind;
use super::keys::{Clock, StepMode};
use super::{Format, Ingest, OnRecord};
use crate::parse::Field;
use crate::store::{RecordMeta, SeriesId, Store};

impl Ingest {
    /// Says what the records that follow are: their format, the name of their step and, when
    /// they have one, of their clock (as the report shows them). Called once, before the first
    /// record of [`push_values`](Self::push_values).
    pub fn declare(&mut self, format: Format, step_key: &str, clock: Option<(&str, ClockKind)>) {
        self.format = format;
        self.step = Some(StepMode::Key(step_key.to_owned()));
        self.clock = clock.map(|(key, kind)| Clock { key: key.to_owned(), kind });
    }

    /// Sets the format of records fed with [`push_object`](Self::push_object).
    pub fn set_format(&mut self, format: Format) {
        self.format = format;
    }

    /// Appends one record whose step, time (seconds; NaN for none) and values (series made with
    /// [`Store::intern`]) the format gave.
    /// `line` is the record's position in its file (a record number for binary formats), shown
    /// with flags and skipped records.
    pub fn push_values(
        &mut self,
        store: &mut Store,
        line: u64,
        step: f64,
        time: f64,
        values: &[(SeriesId, f64)],
        on_record: &mut OnRecord<'_>,
    ) {
        self.push_record(store, line, step, time, values, &[], on_record);
    }

    /// As [`push_values`](Self::push_values), with histograms on the same record (TensorBoard's
    /// `HistogramProto` values): each kept under its name, or counted when malformed.
    #[allow(clippy::too_many_arguments)]
    pub fn push_record(
        &mut self,
        store: &mut Store,
        line: u64,
        step: f64,
        time: f64,
        values: &[(SeriesId, f64)],
        hists: &[(String, crate::parse::HistValue)],
        on_record: &mut OnRecord<'_>,
    ) {
        if values.is_empty() && hists.is_empty() {
            return;
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(values);
        let rec = store.begin_record(RecordMeta { step, time, line });
        for &(id, x) in &self.scratch {
            store.push(rec, id, x);
        }
        for (name, h) in hists {
            match h {
                Ok(h) => store.push_histogram(rec, name, h),
                Err(why) => store.count_bad_histogram(line, name, why),
            }
        }
        self.ordinal += 1;
        self.step_seen = true;
        self.last_step = Some(step);
        self.last_train_step = Some(step);
        on_record(store, rec, &self.scratch);
    }

    /// Appends one flat object read as a JSON Lines record is (see [`Ingest`]): the format's
    /// rows that carry their step as a column.
    pub fn push_object(
        &mut self,
        store: &mut Store,
        line: u64,
        fields: &[Field<'_>],
        on_record: &mut OnRecord<'_>,
    ) {
        self.push_fields(store, line, fields, 0, on_record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Scalar;
    use std::borrow::Cow;

    #[test]
    fn values_keep_their_names_and_non_finite_values() {
        let (mut ing, mut st) = (Ingest::default(), Store::new());
        ing.declare(Format::TensorBoard, "step", Some(("wall_time", ClockKind::Unix)));
        let mut seen = 0;
        let (step, loss) = (st.intern("step"), st.intern("loss"));
        ing.push_values(&mut st, 1, 10.0, 1.7e9, &[(step, 3.0), (loss, f64::NAN)], &mut |_, _, f| {
            seen += f.len()
        });
        assert_eq!(seen, 2);
        assert_eq!(ing.step_key(), Some("step"));
        assert_eq!(ing.time_key(), Some("wall_time"));
        // A value named like a step key is still a metric: the format said what the step is.
        assert_eq!(st.series(st.find("step").unwrap()).steps(), vec![10.0]);
        assert_eq!(st.series(st.find("loss").unwrap()).nonfinite(), 1);
        assert_eq!(st.record(0).time, 1.7e9);
    }

    #[test]
    fn objects_go_through_key_detection() {
        let (mut ing, mut st) = (Ingest::default(), Store::new());
        ing.set_format(Format::Csv);
        let row = |e: f64, l: f64| {
            vec![
                Field { key: Cow::Borrowed("epoch"), value: Scalar::Num(e) },
                Field { key: Cow::Borrowed("loss"), value: Scalar::Num(l) },
            ]
        };
        ing.push_object(&mut st, 2, &row(0.0, 1.0), &mut |_, _, _| {});
        ing.push_object(&mut st, 3, &row(1.0, 0.5), &mut |_, _, _| {});
        assert_eq!(ing.step_key(), Some("epoch"));
        assert_eq!(ing.format(), Format::Csv);
        assert_eq!(st.series(st.find("loss").unwrap()).steps(), vec![0.0, 1.0]);
    }
}
