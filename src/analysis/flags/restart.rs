//! `restart` (info): the step of a series goes backwards and carries on from there, as when a
//! crashed run resumes from a checkpoint and appends to the same log (detectron2, Ray Tune;
//! NOTES §2). A rewind is confirmed by the series' next point: a step still below where it was
//! before the rewind. A series that jumps straight back up instead is on an interleaved axis
//! (mmengine's val lines put the epoch in `step`, so `time` and `data_time` go 96, 1, 192, 2...)
//! and is no restart. Raised once per rewinding record, whatever the number of series, dated at
//! the step it went back to. A rewind on the very last line of a log is never confirmed.

use super::gaps::LongGap;
use super::{Finding, FlagKind, Severity};
use crate::text::{duration, step};

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
    /// A crash was read in the log just before this record (see `crash.rs`).
    pub after_crash: bool,
}

/// The crash a resumed run follows: its text and the last step before it.
#[derive(Clone, Debug, PartialEq)]
pub struct AfterCrash {
    pub text: String,
    pub step: Option<f64>,
}

impl Rewind {
    /// True when the series' next step confirms a restart rather than an interleaved axis.
    pub fn confirmed_by(&self, next_step: f64) -> bool {
        next_step < self.from
    }

    /// The restart's finding; `crash` is the crash it follows, when [`Rewind::after_crash`].
    pub fn finding(&self, crash: Option<&AfterCrash>) -> Finding {
        let pause = self.gap.map(|g| format!(" after a {} pause", duration(g.seconds))).unwrap_or_default();
        if let Some(c) = crash.filter(|_| self.after_crash) {
            let at = c.step.map(|s| format!(" at step {}", step(s))).unwrap_or_default();
            return Finding {
                kind: FlagKind::Restart,
                severity: Severity::Warning,
                began: self.to,
                message: format!(
                    "resumed at step {} after {}{at}: the step went back from {} to {}{pause}",
                    step(self.to),
                    c.text,
                    step(self.from),
                    step(self.to)
                ),
            };
        }
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

/// What a confirmed rewind is.
#[derive(Clone, Debug)]
pub enum Reset {
    /// A restart: raise its flag.
    Restart,
    /// The rewind that shows a regular period: this info flag says so once.
    Periodic(Finding),
    /// Another reset of the known period: nothing to say.
    Expected,
}

/// Rewinds that come back every so many records, going back to the same step, are a step
/// counter that restarts every epoch (a batch index logged as `step`), not runs restarting.
/// After [`PERIOD_SEEN`] rewinds at one period, that is told once (info) and the resets that keep
/// the period raise nothing more: a reset back to the same step either the period's number of
/// records after the last one, or from the same last step (an epoch's end, after a real restart
/// has shifted the count). Any other rewind is still a restart.
#[derive(Clone, Debug, Default)]
pub struct Resets {
    /// The last confirmed rewinds off any known period.
    recent: Vec<Seen>,
    periodic: Option<Period>,
}

/// One confirmed rewind.
#[derive(Clone, Copy, Debug)]
struct Seen {
    record: u64,
    from: f64,
    to: f64,
}

/// A known period of resets.
#[derive(Clone, Copy, Debug)]
struct Period {
    every: u64,
    /// The step an epoch ends at, and the one the next starts at.
    from: f64,
    to: f64,
    /// Ordinal of the record of the last reset on the period.
    last: u64,
}

/// Rewinds at one period needed before it is taken for a per-epoch counter (so three intervals
/// agree, beyond the chance of restarts a fixed number of records apart).
pub const PERIOD_SEEN: usize = 4;

/// True when `record` comes `every` records after `last`: exactly, or within 2% for a period of
/// 50 records or more (an epoch whose eval or summary line comes and goes).
fn on_period(every: u64, last: u64, record: u64) -> bool {
    record > last && (record - last).abs_diff(every) <= every / 50
}

impl Resets {
    /// True when the step going back from `from` to `to` at record `record` is the next reset of
    /// a known period; the period then counts it as seen.
    pub fn expects(&mut self, record: u64, from: f64, to: f64) -> bool {
        let Some(p) = &mut self.periodic else { return false };
        if to != p.to {
            return false;
        }
        if p.last == record || on_period(p.every, p.last, record) || from == p.from {
            p.last = record;
            return true;
        }
        false
    }

    /// A rewind from `from` to `to` at record `record` was confirmed (the series carried on below
    /// where it had been) and was not [expected](Self::expects).
    pub fn confirmed(&mut self, record: u64, from: f64, to: f64) -> Reset {
        if self.periodic.is_some_and(|p| p.last == record) {
            return Reset::Expected;
        }
        self.recent.push(Seen { record, from, to });
        if self.recent.len() > PERIOD_SEEN {
            self.recent.remove(0);
        }
        if self.recent.len() < PERIOD_SEEN {
            return Reset::Restart;
        }
        let (first, last) = (self.recent[0], self.recent[PERIOD_SEEN - 1]);
        let every = (last.record - first.record) / (PERIOD_SEEN as u64 - 1);
        let regular = every > 0
            && self
                .recent
                .windows(2)
                .all(|w| on_period(every, w[0].record, w[1].record) && w[1].to == first.to);
        if !regular {
            return Reset::Restart;
        }
        self.periodic = Some(Period { every, from: last.from, to, last: record });
        self.recent.clear();
        Reset::Periodic(Finding {
            kind: FlagKind::Restart,
            severity: Severity::Info,
            began: to,
            message: format!(
                "the step resets every {every} records, back to {} ({PERIOD_SEEN} times so far): a per-epoch \
                 counter, not a restart; its resets are not flagged from here on",
                step(to)
            ),
        })
    }
}
