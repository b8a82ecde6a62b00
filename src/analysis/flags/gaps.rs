//! `stall` from the records' times: a gap in the time column far larger than the run's usual
//! interval (the median of the recent gaps). NOTES §3: a BLOOM run hung for hours with no timeout
//! firing; only the log's times show it. (Reading those times from a record is
//! [`crate::ingest::clock`]'s job; this file only judges the gaps between them.) The live
//! wall-clock stall (no new line at all) is `live_stall.rs`. The flag's step is the last step
//! before the gap. A gap at a record where the step goes back is told in the restart's message
//! instead (see `restart.rs`).

use super::robust::{median, Ring};
use super::{Finding, FlagConfig, FlagKind, Severity};
use crate::text::{duration, step};

const GAPS: usize = 64;

/// A gap judged too long: (seconds, step before, usual interval).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LongGap {
    pub seconds: f64,
    pub before: f64,
    pub usual: f64,
}

/// The recent gaps are kept in arrival order with their minimum; their median is selected only
/// for a gap that could be a stall (at least `stall.min_seconds` and `stall.factor` x the
/// minimum), so a steady clock costs a ring push per record.
#[derive(Clone, Debug)]
pub struct Gaps {
    last: Option<(f64, f64)>,
    gaps: Ring,
    min: f64,
    scratch: Vec<f64>,
}

impl Default for Gaps {
    fn default() -> Self {
        Gaps { last: None, gaps: Ring::new(GAPS), min: f64::INFINITY, scratch: Vec::new() }
    }
}

impl Gaps {
    /// Feeds one record's (step, time); returns the gap before it when it is a stall.
    pub fn observe(&mut self, cfg: &FlagConfig, step_now: f64, time: f64) -> Option<LongGap> {
        if !time.is_finite() {
            return None;
        }
        let prev = self.last.replace((time, step_now));
        let (t0, before) = prev?;
        let g = time - t0;
        if g < 0.0 {
            return None;
        }
        // The median is at least the minimum, so below either bound no stall is possible.
        let below_min = g < cfg.stall_factor * self.min;
        let maybe = g >= cfg.stall_min_seconds && !below_min;
        if maybe && self.gaps.len() >= cfg.stall_min_gaps.max(1) {
            self.gaps.copy_range(0, self.gaps.len(), &mut self.scratch);
            let usual = median(&mut self.scratch);
            // A stall's gap stays out of the baseline, so a second stall is judged like the first.
            if g >= (cfg.stall_factor * usual).max(cfg.stall_min_seconds) {
                return Some(LongGap { seconds: g, before, usual });
            }
        }
        match self.gaps.push_evict(g) {
            Some(old) if old <= self.min => {
                self.min = (0..self.gaps.len()).map(|i| self.gaps.get(i)).fold(f64::INFINITY, f64::min);
            }
            _ => self.min = self.min.min(g),
        }
        None
    }
}

/// The stall flag for a long gap before the record at `step_now`.
pub fn stall(cfg: &FlagConfig, gap: LongGap, step_now: f64) -> Finding {
    let severity =
        if gap.seconds >= cfg.stall_critical_seconds { Severity::Critical } else { Severity::Warning };
    Finding {
        kind: FlagKind::Stall,
        severity,
        began: gap.before,
        message: format!(
            "no record for {} between step {} and step {}; the usual interval is {}",
            duration(gap.seconds),
            step(gap.before),
            step(step_now),
            duration(gap.usual)
        ),
    }
}
