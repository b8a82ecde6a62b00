//! Record-level step bookkeeping: mmcv's per-epoch `iter`, and copies of a record written by
//! several ranks.
//!
//! **mmcv (`epoch` + `iter`).** `iter` restarts every epoch. The global step is
//! `base + iter`, where `base` grows by the epoch length each time the epoch increases and `iter`
//! starts over. The epoch length is the largest `iter` seen in the epoch, including the val line's
//! `iter` (mmcv writes the train loader's length there), so with a val line the step is exact:
//! `(epoch - 1) * len + iter`, and the val line itself lands at `epoch * len`, the end of its
//! epoch. When the epoch increases but `iter` does not start over (an iteration-based runner),
//! `iter` is already global and is used as is. When the epoch or the iter goes back within the
//! file, a new run was appended: its steps start again from `(epoch - 1) * len`, so the steps go
//! backwards and the store records a restart.
//!
//! **Rank duplicates.** A run on several GPUs where every rank writes the log (LLaMA-Factory's
//! `trainer_log.jsonl` on 2 GPUs) holds every record twice, and the copies drift apart so steps
//! come out of order (1010, 1020, 1010, ...). The file is taken for a multi-writer log once a
//! record is the same as the record right before it: the same template and step, every metric value
//! equal up to the float noise between ranks ([`NOISE`], relative; the corpus's copies differ by
//! 0.01-0.3% when at all) and at least one non-zero value bit-identical (the learning rate, the
//! epoch: schedule values both ranks compute alike). The ranks start in step, so such a pair comes
//! first. From then on, a record is dropped as a copy when one of the last [`WINDOW`] records
//! kept has the same template and the same step, every metric value within a relative
//! [`TOLERANCE`] (each rank averages its own loss: once the ranks drift apart they differ by up to
//! 3%), and one non-zero value bit-identical.
//!
//! So a single writer that logs two records at one step with different values (two micro-batches,
//! an epoch-keyed log) keeps them both: a loss 2% apart is a second measurement, not a copy.
//! Distinct records that share a step (eval lines, or detectron2's aborted runs that all stop at
//! iteration 9 with losses 6-100% apart) are kept; so is a short run appended to a single-writer
//! log whose first values resemble the previous run's. Dropped copies are counted
//! ([`super::Ingest::duplicates`]), and `check` and the monitor's header report the count.

use crate::store::SeriesId;

/// How many recent records a copy is looked for in.
pub const WINDOW: usize = 8;
/// Largest relative difference between two values of a copy, once the file has several writers.
pub const TOLERANCE: f64 = 0.05;
/// Largest relative difference between two values of the copy that shows a file has several
/// writers: float noise (the ranks' rounding), far below any step-to-step change of a metric.
pub const NOISE: f64 = 1e-3;

/// mmcv's epoch/iter state for one file.
#[derive(Clone, Debug, Default)]
pub struct EpochIter {
    epoch: Option<f64>,
    base: f64,
    last_iter: f64,
    /// Largest iter seen in the current epoch (train and val lines).
    max_iter: f64,
    /// Epoch length learnt so far (largest `max_iter` of any finished epoch).
    per_epoch: f64,
}

impl EpochIter {
    /// Global step of a train line.
    pub fn train(&mut self, epoch: f64, iter: f64) -> f64 {
        match self.epoch {
            None => self.start(epoch),
            Some(e) if epoch > e => {
                if iter <= self.last_iter {
                    self.per_epoch = self.per_epoch.max(self.max_iter);
                    self.base += self.per_epoch * (epoch - e);
                }
                self.epoch = Some(epoch);
                self.max_iter = 0.0;
            }
            Some(e) if epoch < e || iter < self.last_iter => self.start(epoch),
            _ => {}
        }
        self.last_iter = iter;
        self.max_iter = self.max_iter.max(iter);
        self.base + iter
    }

    /// Step of a val line of `epoch`, whose `iter` is the train loader's length; None when the
    /// line does not belong to the current epoch.
    pub fn val(&mut self, epoch: f64, iter: f64) -> Option<f64> {
        if self.epoch != Some(epoch) || iter < self.last_iter {
            return None;
        }
        self.max_iter = self.max_iter.max(iter);
        Some(self.base + iter)
    }

    fn start(&mut self, epoch: f64) {
        self.epoch = Some(epoch);
        self.base = self.per_epoch * (epoch - 1.0).max(0.0);
        self.max_iter = 0.0;
        self.last_iter = 0.0;
    }
}

#[derive(Clone, Debug, Default)]
struct Seen {
    seq: u64,
    serial: u64,
    step: f64,
    values: Vec<(SeriesId, f64)>,
}

/// The last [`WINDOW`] records, to recognise a rank's copy.
#[derive(Clone, Debug, Default)]
pub struct DupWindow {
    ring: Vec<Seen>,
    next: usize,
    /// Records remembered so far.
    seq: u64,
    /// A copy of the record right before it was seen: several writers share the file.
    multi: bool,
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= tolerance * a.abs().max(b.abs())
}

impl DupWindow {
    /// Whether this record is a copy of one kept recently (see the module docs).
    pub fn is_copy(&mut self, serial: u64, step: f64, values: &[(SeriesId, f64)]) -> bool {
        let latest = self.seq;
        let multi = self.multi;
        let tolerance = if multi { TOLERANCE } else { NOISE };
        // Until the file shows several writers only the latest record can be copied: it is the
        // slot written last, so no scan of the ring.
        let last = match self.ring.len() {
            0 => return false,
            n if n < WINDOW => n - 1,
            _ => (self.next + WINDOW - 1) % WINDOW,
        };
        let ring = if multi { &self.ring[..] } else { std::slice::from_ref(&self.ring[last]) };
        let found = ring.iter().any(|s| {
            (multi || s.seq == latest)
                && s.serial == serial
                && s.step == step
                && !values.is_empty()
                && s.values.len() == values.len()
                && s.values.iter().zip(values).all(|(a, b)| a.0 == b.0 && close(a.1, b.1, tolerance))
                && s.values.iter().zip(values).any(|(a, b)| a.1 == b.1 && a.1 != 0.0)
        });
        self.multi |= found;
        found
    }

    /// Keeps the record (its values taken from `values`, which gets the oldest slot's buffer back:
    /// no copy) and returns its values. A copy here read the values the ingest had just written
    /// one pair at a time with one 64-byte load, which the CPU cannot forward from those stores:
    /// in some runs 13% of the ingest thread's time on a W&B log went to that load.
    pub fn remember(
        &mut self,
        serial: u64,
        step: f64,
        values: &mut Vec<(SeriesId, f64)>,
    ) -> &[(SeriesId, f64)] {
        let slot = if self.ring.len() < WINDOW {
            self.ring.push(Seen::default());
            self.ring.len() - 1
        } else {
            let oldest = self.next;
            self.next = (self.next + 1) % WINDOW;
            oldest
        };
        self.seq += 1;
        let slot = &mut self.ring[slot];
        slot.seq = self.seq;
        slot.serial = serial;
        slot.step = step;
        std::mem::swap(&mut slot.values, values);
        &slot.values
    }

    /// Forgets the records kept (a restart), but not that the file has several writers.
    pub fn clear(&mut self) {
        self.ring.clear();
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_iter_global_step() {
        let mut m = EpochIter::default();
        assert_eq!(m.train(1.0, 50.0), 50.0);
        assert_eq!(m.train(1.0, 750.0), 750.0);
        assert_eq!(m.val(1.0, 791.0), Some(791.0));
        assert_eq!(m.train(2.0, 50.0), 841.0);
        assert_eq!(m.train(2.0, 750.0), 1541.0);
        assert_eq!(m.val(2.0, 791.0), Some(1582.0));
        // A new run appended: the steps go back to its epoch's start.
        assert_eq!(m.train(1.0, 50.0), 50.0);
        assert_eq!(m.train(2.0, 50.0), 841.0);
    }

    #[test]
    fn epoch_iter_without_val_and_global_iter() {
        let mut m = EpochIter::default();
        assert_eq!(m.train(1.0, 50.0), 50.0);
        assert_eq!(m.train(1.0, 100.0), 100.0);
        assert_eq!(m.train(2.0, 50.0), 150.0);
        let mut g = EpochIter::default();
        assert_eq!(g.train(1.0, 50.0), 50.0);
        assert_eq!(g.train(2.0, 100.0), 100.0);
        assert_eq!(g.val(3.0, 10.0), None);
    }

    #[test]
    fn copies_are_recognised_within_tolerance() {
        let mut w = DupWindow::default();
        w.remember(1, 1000.0, &mut vec![(0, 0.5602), (1, 2e-5)]);
        assert!(!w.is_copy(1, 1000.0, &[(0, 0.62), (1, 2e-5)]), "10% apart: another run");
        assert!(!w.is_copy(1, 1000.0, &[(0, 0.5702), (1, 2e-5)]), "2% apart: a second measurement");
        w.remember(1, 1010.0, &mut vec![(0, 0.5479), (1, 1e-5)]);
        assert!(!w.multi);
        w.remember(1, 1020.0, &mut vec![(0, 0.5624), (1, 1e-5)]);
        // Not adjacent, and no adjacent copy seen yet: a single writer.
        assert!(!w.is_copy(1, 1010.0, &[(0, 0.5478), (1, 1e-5)]));
        // Adjacent and equal up to the ranks' rounding: several writers.
        assert!(w.is_copy(1, 1020.0, &[(0, 0.5623), (1, 1e-5)]));
        assert!(w.multi);
        assert!(w.is_copy(1, 1010.0, &[(0, 0.5478), (1, 1e-5)]));
        assert!(w.is_copy(1, 1010.0, &[(0, 0.5624), (1, 1e-5)]));
        assert!(!w.is_copy(1, 1010.0, &[(0, 0.60), (1, 1e-5)]));
        // Close, but nothing identical: two runs, not two ranks.
        assert!(!w.is_copy(1, 1010.0, &[(0, 0.5480), (1, 1.01e-5)]));
        assert!(!w.is_copy(2, 1010.0, &[(0, 0.5479), (1, 1e-5)]));
        for k in 0..WINDOW {
            w.remember(1, k as f64, &mut vec![(0, 1.0)]);
        }
        assert!(!w.is_copy(1, 1010.0, &[(0, 0.5479), (1, 1e-5)]));
    }
}
