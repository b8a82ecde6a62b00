//! `stall` from the records' times: a gap in the time column far larger than the run's usual
//! interval (the median of the recent gaps). NOTES §3: a BLOOM run hung for hours with no timeout
//! firing; only the log's times show it. (Reading those times from a record is
//! [`crate::ingest::clock`]'s job; this file only judges the gaps between them.) The live
//! wall-clock stall (no new line at all) is `live_stall.rs`. The flag's step is the last step
//! before the gap. A gap at a record where the step goes back is told in the restart's message
//! instead (see `restart.rs`).
//!
//! Fast runs (steps of tens of milliseconds) can pause for tens of seconds, over a thousand times
//! their usual interval, without reaching `stall.min_seconds`. Such a shorter gap is judged
//! against the run's rhythm ([`Rhythm`]): at least `stall.rhythm_factor` x the usual interval and
//! `stall.rhythm_min_seconds` (a floor against jitter), it is a stall unless it recurs at regular
//! steps (checkpoints, evaluations). Whether it recurs is known only later, so such a gap is
//! told when the run has gone on past where the next one would have come without one, dated at
//! the gap.

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
/// minimum), so a steady clock costs a ring push per record. The minimum is kept with the number
/// of gaps in the window equal to it: a new gap lowers it or adds to the count, an evicted one at
/// the minimum takes from the count, and the window is scanned only when the count falls to zero
/// (about once in `GAPS` records on a noisy clock; a clock whose gaps repeat the minimum keeps a
/// count of many). A queue of the gaps no later gap undercuts did the same with a loop whose end
/// the CPU mispredicts at every record on a noisy clock.
#[derive(Clone, Debug)]
pub struct Gaps {
    last: Option<(f64, f64)>,
    gaps: Ring,
    min: f64,
    /// Gaps in the window equal to `min`.
    at_min: usize,
    scratch: Vec<f64>,
    rhythm: Rhythm,
}

impl Default for Gaps {
    fn default() -> Self {
        Gaps {
            last: None,
            gaps: Ring::new(GAPS),
            min: f64::INFINITY,
            at_min: 0,
            scratch: Vec::new(),
            rhythm: Rhythm::default(),
        }
    }
}

/// Marks (steps before a long gap) remembered to find a period.
const MARKS: usize = 8;
/// Short gaps waiting to be told or found periodic; beyond this the oldest is told now.
const WAITING: usize = 8;

/// The gaps shorter than `stall.min_seconds` but far longer than the usual interval, and the
/// period at which they recur, if any.
///
/// A gap after step `s` is on a period `p` when `s` is a multiple of `p` after a gap that was
/// (a checkpoint every 250 steps: 250, 500, 750), or after the run's first step (within 5% of
/// `p`, or one step). Two gaps `p` apart with the first one a multiple of `p` from the start, or
/// three gaps evenly spaced, establish a period; gaps on it are the run's rhythm. A gap off every
/// period waits until the run reaches `s + 1.1 (s - o) + 2`, where `o` is the gap before it (or
/// the first step): a periodic gap would have recurred by then. It is told then, dated at `s`.
#[derive(Clone, Debug, Default)]
pub struct Rhythm {
    first: Option<f64>,
    marks: Vec<f64>,
    period: Option<(f64, f64)>,
    waiting: Vec<(LongGap, f64)>,
}

/// True when `x` is a whole number (at least one) of `p`.
fn on_multiple(x: f64, p: f64) -> bool {
    if !(x > 0.0 && p > 0.0) {
        return false;
    }
    let k = (x / p).round().max(1.0);
    (x - k * p).abs() <= (0.05 * p).max(1.0)
}

impl Rhythm {
    fn start(&mut self, step: f64) {
        if self.first.is_none() && step.is_finite() {
            self.first = Some(step);
        }
    }

    /// A short gap after step `gap.before`: true when it is on the run's rhythm (or waits to be
    /// judged); the gap is kept to be told later otherwise.
    fn gap(&mut self, gap: LongGap) {
        let s = gap.before;
        let first = self.first.unwrap_or(s);
        if let Some((p, last)) = self.period {
            if on_multiple(s - last, p) {
                self.period = Some((p, s));
                self.mark(s);
                return;
            }
        }
        // Oldest first: the longest period that fits wins (a one-off gap at a round step does
        // not make the checkpoints' period a shorter one).
        for (i, &e) in self.marks.iter().enumerate() {
            let d = s - e;
            if d <= 0.0 {
                continue;
            }
            let from_start = on_multiple(e - first, d) && (e - first - d).abs() <= (0.05 * d).max(1.0);
            let evenly = self.marks[..i].iter().any(|&e2| (e - e2 - d).abs() <= (0.05 * d).max(1.0));
            if from_start || evenly {
                self.period = Some((d, s));
                self.waiting.retain(|(g, _)| !on_multiple(s - g.before, d));
                self.mark(s);
                return;
            }
        }
        let origin = self.marks.last().copied().unwrap_or(first);
        let due = s + 1.1 * (s - origin).max(0.0) + 2.0;
        self.mark(s);
        self.waiting.push((gap, due));
    }

    fn mark(&mut self, s: f64) {
        if self.marks.len() == MARKS {
            self.marks.remove(0);
        }
        self.marks.push(s);
    }

    /// A gap whose time to recur has passed at `step` (or the oldest, when too many wait).
    fn due(&mut self, step: f64) -> Option<LongGap> {
        let i = self.waiting.iter().position(|&(_, due)| step >= due || step < due - 1e15)?;
        Some(self.waiting.remove(i).0)
    }

    fn overflow(&mut self) -> Option<LongGap> {
        (self.waiting.len() > WAITING).then(|| self.waiting.remove(0).0)
    }
}

impl Gaps {
    /// A short gap judged earlier that did not recur on the run's rhythm by `step_now`: a stall
    /// to tell now.
    pub fn due(&mut self, step_now: f64) -> Option<LongGap> {
        if self.rhythm.waiting.is_empty() {
            return None;
        }
        self.rhythm.overflow().or_else(|| self.rhythm.due(step_now))
    }

    /// The latest gap waiting for the rhythm was at a record that rewound: a restart tells it.
    pub fn forget_waiting_at(&mut self, before: f64) {
        self.rhythm.waiting.retain(|(g, _)| g.before != before);
    }

    /// Feeds one record's (step, time); returns the gap before it when it is a stall.
    pub fn observe(&mut self, cfg: &FlagConfig, step_now: f64, time: f64) -> Option<LongGap> {
        self.rhythm.start(step_now);
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
        let short = g < cfg.stall_min_seconds
            && g >= cfg.stall_rhythm_min_seconds
            && g >= cfg.stall_rhythm_factor * self.min;
        if (maybe || short) && self.gaps.len() >= cfg.stall_min_gaps.max(1) {
            self.gaps.copy_range(0, self.gaps.len(), &mut self.scratch);
            let usual = median(&mut self.scratch);
            // A stall's gap stays out of the baseline, so a second stall is judged like the first.
            if maybe && g >= (cfg.stall_factor * usual).max(cfg.stall_min_seconds) {
                return Some(LongGap { seconds: g, before, usual });
            }
            if short && g >= cfg.stall_rhythm_factor * usual {
                self.rhythm.gap(LongGap { seconds: g, before, usual });
                return None;
            }
        }
        // Gaps are never NaN (finite times, `g >= 0` checked), so `==` and `<` order them all.
        if self.gaps.push_evict(g).is_some_and(|e| e == self.min) {
            self.at_min -= 1;
        }
        if g < self.min {
            (self.min, self.at_min) = (g, 1);
        } else if g == self.min {
            self.at_min += 1;
        }
        if self.at_min == 0 {
            (self.min, self.at_min) = (f64::INFINITY, 0);
            for &v in self.gaps.values() {
                let lower = v < self.min;
                self.at_min = if lower { 1 } else { self.at_min + usize::from(v == self.min) };
                self.min = if lower { v } else { self.min };
            }
        }
        None
    }
}

/// The stall flag for a long gap before the record at `step_now`.
pub fn stall(cfg: &FlagConfig, gap: LongGap, step_now: f64) -> Finding {
    let severity =
        if gap.seconds >= cfg.stall_critical_seconds { Severity::Critical } else { Severity::Warning };
    if gap.seconds < cfg.stall_min_seconds {
        return Finding {
            kind: FlagKind::Stall,
            severity,
            began: gap.before,
            message: format!(
                "no record for {} after step {}, {:.0}x the usual interval of {}; no such pause came at regular \
                 steps (a checkpoint or evaluation rhythm), seen by step {}",
                duration(gap.seconds),
                step(gap.before),
                gap.seconds / gap.usual.max(1e-9),
                duration(gap.usual),
                step(step_now)
            ),
        };
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_minimum_is_the_windows() {
        let cfg = FlagConfig::default();
        let mut g = Gaps::default();
        let mut t = 0.0;
        let mut seed = 7u64;
        for i in 0..5_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // Repeated gaps (a quantised clock) and some shorter and longer ones.
            // Repeated gaps (a quantised clock) and some shorter and longer ones; later a noisy
            // clock, then both, then repeats of zero.
            t += match ((seed >> 33) % 10, i / 1_000) {
                (_, 4) => 0.0,
                (0, _) => 0.5,
                (1, _) => 2.0,
                (2, _) => 0.25 + (i % 3) as f64 * 0.1,
                (3..=9, 1 | 3) => 0.9 + ((seed >> 20) % 1000) as f64 * 1e-4,
                _ => 1.0,
            };
            g.observe(&cfg, i as f64, t);
            let window = (0..g.gaps.len()).map(|k| g.gaps.get(k)).fold(f64::INFINITY, f64::min);
            assert_eq!(g.min.to_bits(), window.to_bits(), "record {i}");
            let count = (0..g.gaps.len()).filter(|&k| g.gaps.get(k) == window).count();
            assert_eq!(g.at_min, count, "record {i}");
        }
    }
}
