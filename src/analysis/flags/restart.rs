//! `restart` (info): the step of a series goes backwards and carries on from there, as when a
//! crashed run resumes from a checkpoint and appends to the same log (detectron2, Ray Tune;
//! NOTES §2). A rewind is confirmed by the series' next point: a step still below where it was
//! before the rewind. A series that jumps straight back up instead is on an interleaved axis
//! (mmengine's val lines put the epoch in `step`, so `time` and `data_time` go 96, 1, 192, 2...)
//! and is no restart. Raised once per rewinding record, whatever the number of series, dated at
//! the step it went back to. A rewind on the very last line of a log is never confirmed.

use super::clock::LongGap;
use super::text::{duration, step};
use super::{Finding, FlagKind, Severity};

/// A series' step went back and waits for its next point to confirm it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rewind {
    pub from: f64,
    pub to: f64,
    /// Ordinal of the record where it happened (one flag per such record).
    pub record: u64,
    /// A long gap at that record, told here instead of as a stall.
    pub gap: Option<LongGap>,
    /// The step went back onto where another sequence of steps left off (see `writers.rs`): once
    /// the run is known to have two writers, no restart.
    pub onto_writer: bool,
}

impl Rewind {
    /// True when the series' next step confirms a restart rather than an interleaved axis.
    pub fn confirmed_by(&self, next_step: f64) -> bool {
        next_step < self.from
    }

    pub fn finding(&self) -> Finding {
        let pause = self.gap.map(|g| format!(" after a {} pause", duration(g.seconds))).unwrap_or_default();
        Finding {
            kind: FlagKind::Restart,
            severity: Severity::Info,
            began: self.to,
            message: format!(
                "the step went back from {} to {}{pause}: a resumed or restarted run appending to the same log",
                step(self.from),
                step(self.to)
            ),
        }
    }
}
