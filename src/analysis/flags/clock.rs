//! `stall`: a gap in the records' time column far larger than the run's usual interval (the
//! median of the recent gaps). NOTES §3: a BLOOM run hung for hours with no timeout firing; only
//! the clock shows it. The live wall-clock stall (no new line at all) is raised by the follower
//! through `Analyzer::raise`. The flag's step is the last step before the gap. A gap at a record
//! where the step goes back is told in the restart's message instead (see `restart.rs`).

use super::robust::SortedWindow;
use super::text::{duration, step};
use super::{Finding, FlagConfig, FlagKind, Severity};

const GAPS: usize = 64;

/// A gap judged too long: (seconds, step before, usual interval).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LongGap {
    pub seconds: f64,
    pub before: f64,
    pub usual: f64,
}

#[derive(Clone, Debug)]
pub struct Clock {
    last: Option<(f64, f64)>,
    gaps: SortedWindow,
}

impl Default for Clock {
    fn default() -> Self {
        Clock { last: None, gaps: SortedWindow::new(GAPS) }
    }
}

impl Clock {
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
        if self.gaps.len() >= cfg.stall_min_gaps.max(1) {
            let usual = self.gaps.median();
            // A stall's gap stays out of the baseline, so a second stall is judged like the first.
            if g >= (cfg.stall_factor * usual).max(cfg.stall_min_seconds) {
                return Some(LongGap { seconds: g, before, usual });
            }
        }
        self.gaps.push(g);
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
