//! The record clock: `stall` and `restart`.
//!
//! `stall`: a gap in the records' time column far larger than the run's usual interval (the
//! median of the recent gaps). NOTES §3: a BLOOM run hung for hours with no timeout firing;
//! only the clock shows it. The live wall-clock stall (no new line at all) is raised by the
//! follower through `Analyzer::raise`. The flag's step is the last step before the gap.
//!
//! `restart` (info): the step of a series goes backwards, as when a crashed run resumes from a
//! checkpoint and appends to the same log (detectron2, Ray Tune; NOTES §2). Raised once per
//! record, whatever the number of series that went back; a gap at the same record is told in
//! the restart's message instead of as a separate stall.

use super::robust::{median, Ring};
use super::text::{duration, step};
use super::{Finding, FlagConfig, FlagKind, Severity};

const GAPS: usize = 64;

#[derive(Clone, Debug)]
pub struct Clock {
    last: Option<(f64, f64)>,
    gaps: Ring,
    usual: f64,
    since_refresh: usize,
    scratch: Vec<f64>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            last: None,
            gaps: Ring::new(GAPS),
            usual: f64::NAN,
            since_refresh: 0,
            scratch: Vec::with_capacity(GAPS),
        }
    }
}

impl Clock {
    /// Feeds one record's (step, time). `restart` is `Some((from, to))` when a series' step went
    /// back at this record. Returns at most one finding.
    pub fn observe(
        &mut self,
        cfg: &FlagConfig,
        step_now: f64,
        time: f64,
        restart: Option<(f64, f64)>,
    ) -> Option<Finding> {
        let mut gap = None;
        if time.is_finite() {
            if let Some((t0, s0)) = self.last {
                let g = time - t0;
                if g >= 0.0 {
                    gap = Some((g, s0));
                }
            }
            self.last = Some((time, step_now));
        }
        let mut long = false;
        if let Some((g, _)) = gap {
            if self.gaps.len() >= cfg.stall_min_gaps.max(1) {
                // The usual interval moves slowly: refreshed every 8 gaps to keep records cheap.
                if self.usual.is_nan() || self.since_refresh >= 8 {
                    self.gaps.copy_range(0, self.gaps.len(), &mut self.scratch);
                    self.usual = median(&mut self.scratch);
                    self.since_refresh = 0;
                }
                long = g >= (cfg.stall_factor * self.usual).max(cfg.stall_min_seconds);
            }
            // A stall's gap stays out of the baseline, so a second stall is judged like the first.
            if !long {
                self.gaps.push(g);
                self.since_refresh += 1;
            }
        }
        let usual = self.usual;
        if let Some((from, to)) = restart {
            let pause = match gap {
                Some((g, _)) if long => format!(" after a {} pause", duration(g)),
                _ => String::new(),
            };
            return Some(Finding {
                kind: FlagKind::Restart,
                severity: Severity::Info,
                began: to,
                message: format!(
                    "the step went back from {} to {}{pause}: a resumed or restarted run appending to the same log",
                    step(from),
                    step(to)
                ),
            });
        }
        let (g, before) = gap.filter(|_| long)?;
        let severity = if g >= cfg.stall_critical_seconds { Severity::Critical } else { Severity::Warning };
        Some(Finding {
            kind: FlagKind::Stall,
            severity,
            began: before,
            message: format!(
                "no record for {} between step {} and step {}; the usual interval is {}",
                duration(g),
                step(before),
                step(step_now),
                duration(usual)
            ),
        })
    }
}
