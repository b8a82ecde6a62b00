//! From one object's fields to one record: the template lookup (fast path), the classification of
//! a new template (slow path), the step, the clock, and the append to the store.

use super::keys::{self, Clock, StepMode};
use super::template::{Act, Template};
use super::{clock, Ingest, OnRecord, DETECT_TRIES, EVAL_MODES, TIMING_KEYS};
use crate::parse::{Field, Scalar};
use crate::store::{RecordMeta, Store};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};

fn num(v: &Scalar<'_>) -> Option<f64> {
    match v {
        Scalar::Num(x) => Some(*x),
        _ => None,
    }
}

impl Ingest {
    /// Turns one object into a record (or a metadata count, or a dropped copy). `layout` is the
    /// line's key layout ([`crate::parse::LineParser::parse`]; 0 when unknown): a line with the
    /// layout of the line before keeps that line's template without a lookup.
    pub(super) fn push_fields(
        &mut self,
        store: &mut Store,
        line: u64,
        fields: &[Field<'_>],
        layout: u64,
        on_record: &mut OnRecord<'_>,
    ) {
        let known =
            layout != 0 && self.last_layout.0 == layout && self.templates.front_is(self.last_layout.1);
        if !known {
            if !self.templates.find(fields) {
                let tpl = self.learn_template(store, fields);
                self.templates.insert(tpl);
            }
            self.last_layout = (layout, self.templates.front().serial);
        }
        let tpl = self.templates.front();
        if tpl.metadata {
            self.metadata += 1;
            return;
        }
        // A record without the step: at the step of the record before it, or at its ordinal while
        // no record has had a step (a user's step key that the file does not have).
        let fallback = match self.last_step {
            Some(l) if self.step_seen => l,
            _ => self.ordinal as f64,
        };
        let at = |slot: Option<usize>| slot.and_then(|i| num(&fields[i].value)).filter(|x| x.is_finite());
        let mut step = match self.step {
            Some(StepMode::EpochIter) => match (at(tpl.epoch_slot), at(tpl.iter_slot)) {
                (Some(e), Some(i)) if tpl.eval => self.epoch_iter.val(e, i).unwrap_or(fallback),
                (Some(e), Some(i)) => {
                    self.step_seen = true;
                    self.epoch_iter.train(e, i)
                }
                _ => fallback,
            },
            Some(StepMode::Key(_)) => match at(tpl.step_slot) {
                Some(s) => {
                    self.step_seen = true;
                    s
                }
                None => fallback,
            },
            _ => self.ordinal as f64,
        };
        if tpl.eval {
            // mmengine writes the epoch in a val line's `step`: such a line belongs at the train
            // step before it. Any other eval record keeps its own step, even one that arrives
            // after a later step (a second writer's records are never re-dated).
            if let Some(t) = self.last_train_step {
                if step < t && self.last_train_epoch == Some(step) {
                    step = t;
                }
            }
        }
        let time = match (&self.clock, tpl.time_slot) {
            (Some(c), Some(i)) => clock::seconds(c.kind, &fields[i].value),
            _ => f64::NAN,
        };
        self.scratch.clear();
        for (f, act) in fields.iter().zip(&tpl.acts) {
            if let (Act::Metric(id), Scalar::Num(x)) = (act, &f.value) {
                self.scratch.push((*id, *x));
            }
        }
        let (serial, eval, dropped) = (tpl.serial, tpl.eval, tpl.dropped);
        if self.window.is_copy(serial, step, &self.scratch) {
            self.duplicates += 1;
            return;
        }
        store.count_dropped(dropped);
        if self.last_step.is_some_and(|l| step < l) {
            // A run appended to the file: its records are no copies of the run before.
            self.window.clear();
        }
        let values = self.window.remember(serial, step, &mut self.scratch);
        let rec = store.begin_record(RecordMeta { step, time, line });
        store.push_all(rec, values);
        if tpl.histograms {
            for (f, act) in fields.iter().zip(&tpl.acts) {
                if let (Act::Hist, Scalar::Hist(h)) = (act, &f.value) {
                    match h.as_ref() {
                        Ok(h) => store.push_histogram(rec, &f.key, h),
                        Err(why) => store.count_bad_histogram(line, &f.key, why),
                    }
                }
            }
        }
        self.ordinal += 1;
        self.last_step = Some(step);
        if eval {
            self.eval += 1;
        } else {
            self.last_train_step = Some(step);
            self.last_train_epoch = at(tpl.epoch_slot);
        }
        on_record(store, rec, values);
    }

    /// The slow path: classifies every field of a template not seen before.
    fn learn_template(&mut self, store: &mut Store, fields: &[Field<'_>]) -> Template {
        let serial = self.templates.serial();
        let mut tpl = Template::new(serial, fields);
        // A record of histograms alone (a W&B row with no scalar) is a record too.
        let has_num = fields.iter().any(|f| matches!(f.value, Scalar::Num(_) | Scalar::Hist(_)));
        if !has_num || fields.iter().any(|f| f.key == "env_info") {
            tpl.metadata = true;
            for f in fields {
                note_non_metric(&mut self.skipped_keys, self.opts.max_series, &f.key);
            }
            return tpl;
        }
        let ordinal = self.step == Some(StepMode::Ordinal);
        if self.step.is_none() || (ordinal && self.step_tries < DETECT_TRIES) {
            // A first record without a step key (a numeric setup line) does not condemn the file
            // to the ordinal: the next few templates may still name the step.
            self.step_tries += 1;
            let found = match &self.opts.step_key {
                Some(k) => StepMode::Key(k.clone()),
                None => keys::detect_step(fields),
            };
            if ordinal && found != StepMode::Ordinal {
                self.templates.clear();
            }
            if !ordinal || found != StepMode::Ordinal {
                self.step = Some(found);
            }
        }
        if self.clock.is_none() && self.clock_tries < DETECT_TRIES {
            self.clock_tries += 1;
            self.clock = match &self.opts.time_key {
                Some(k) => user_clock(k, fields),
                None => keys::detect_clock(fields),
            };
            if self.clock.is_some() {
                // Templates learnt before had no clock slot.
                self.templates.clear();
            }
        }
        let step_key = match &self.step {
            Some(StepMode::Key(k)) => Some(k.as_str()),
            _ => None,
        };
        let epoch_iter = self.step == Some(StepMode::EpochIter);
        let time_key = self.clock.as_ref().map(|c| c.key.as_str());

        let mut marked: Option<bool> = None;
        let mut split: Option<String> = None;
        for (i, f) in fields.iter().enumerate() {
            if let Scalar::Str(v) = &f.value {
                if keys::MODE_KEYS.contains(&f.key.as_ref()) && marked.is_none() {
                    marked = Some(EVAL_MODES.contains(&v.as_ref()));
                    tpl.pin(i, v);
                } else if keys::SPLIT_KEYS.contains(&f.key.as_ref()) && split.is_none() {
                    split = Some(format!("[{v}]"));
                    tpl.pin(i, v);
                }
            }
        }
        let media = keys::media_prefixes(fields);
        let not_metric = |k: &str| {
            Some(k) == step_key
                || Some(k) == time_key
                || (epoch_iter && k == "iter")
                || keys::is_config_key(k)
                || media.iter().any(|p| k.starts_with(p.as_str()))
        };
        let core = || {
            fields
                .iter()
                .filter(|f| matches!(f.value, Scalar::Num(_)))
                .map(|f| f.key.as_ref())
                .filter(|k| !not_metric(k) && !TIMING_KEYS.contains(k) && !keys::STEP_KEYS.contains(k))
        };
        tpl.eval = match marked {
            Some(m) => m,
            None => {
                !self.train_keys.is_empty()
                    && core().next().is_some()
                    && core().all(|k| !self.train_keys.contains(k))
            }
        };
        // A key that comes again later in the record: the last value wins (Python's `json`).
        let mut repeated = vec![false; fields.len()];
        if fields.len() > 1 {
            let mut later: HashSet<&str> = HashSet::with_capacity(fields.len());
            for (i, f) in fields.iter().enumerate().rev() {
                repeated[i] = !later.insert(f.key.as_ref());
            }
        }
        for (i, f) in fields.iter().enumerate() {
            let k = f.key.as_ref();
            if repeated[i] {
                continue;
            }
            if Some(k) == step_key {
                tpl.step_slot = Some(i);
            }
            if Some(k) == time_key {
                tpl.time_slot = Some(i);
            }
            if k == "epoch" && matches!(f.value, Scalar::Num(_)) {
                tpl.epoch_slot = Some(i);
            }
            if epoch_iter && k == "iter" {
                tpl.iter_slot = Some(i);
            }
            if matches!(f.value, Scalar::Hist(_)) {
                tpl.acts[i] = Act::Hist;
                tpl.histograms = true;
                continue;
            }
            let metric = matches!(f.value, Scalar::Num(_))
                && !not_metric(k)
                && !(tpl.eval && marked.is_some() && epoch_iter && k == "epoch");
            if !metric {
                note_non_metric(&mut self.skipped_keys, self.opts.max_series, k);
                continue;
            }
            let prefixed =
                tpl.eval && (TIMING_KEYS.contains(&k) || (marked.is_some() && self.train_keys.contains(k)));
            let name: Cow<'_, str> = match (prefixed, &split) {
                (false, None) => Cow::Borrowed(k),
                (p, s) => {
                    let pre = if p { "val/" } else { "" };
                    Cow::Owned(format!("{pre}{k}{}", s.as_deref().unwrap_or("")))
                }
            };
            if store.series_count() >= self.opts.max_series && store.find(&name).is_none() {
                tpl.acts[i] = Act::Drop;
                tpl.dropped += 1;
                continue;
            }
            tpl.acts[i] = Act::Metric(store.intern(&name));
            self.metric_keys.insert(k.to_owned());
        }
        if !tpl.eval {
            // Only keys that became series: a dropped one is remembered nowhere.
            let kept: Vec<&str> = core().filter(|k| self.metric_keys.contains(*k)).collect();
            self.train_keys.extend(kept.into_iter().map(str::to_owned));
            for f in fields {
                if TIMING_KEYS.contains(&f.key.as_ref()) || keys::STEP_KEYS.contains(&f.key.as_ref()) {
                    self.train_keys.insert(f.key.to_string());
                }
            }
        }
        tpl
    }
}

/// Remembers a key that is not a metric, for [`Ingest::non_metric_keys`]: as many as the run may
/// have series, so a log with a new string key on every line stays bounded.
fn note_non_metric(keys: &mut BTreeSet<String>, max: usize, key: &str) {
    if keys.len() < max && !keys.contains(key) {
        keys.insert(key.to_owned());
    }
}

/// The clock under a key the user named: its kind comes from the first value seen.
fn user_clock(key: &str, fields: &[Field<'_>]) -> Option<Clock> {
    let v = &fields.iter().find(|f| f.key == key)?.value;
    let kind = match v {
        Scalar::Num(x) if clock::unix_seconds(*x).is_some() => clock::ClockKind::Unix,
        Scalar::Str(s) if clock::parse_iso8601(s).is_some() => clock::ClockKind::Unix,
        Scalar::Num(_) | Scalar::Str(_) => clock::ClockKind::Elapsed,
        _ => return None,
    };
    Some(Clock { key: key.to_owned(), kind })
}
