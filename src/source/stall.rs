//! The live, wall-clock stall: a run that stops writing records (a hung collective, a dead node)
//! says nothing in its log, so only the clock on the wall reveals it.
//!
//! The rule, with its defaults (see [`StallConfig`]; `--set live_stall.factor=...`,
//! `live_stall.min_seconds`, `live_stall.critical_seconds` change them):
//! - The run's usual interval is the median time between arrivals of new records, over the last
//!   64 arrivals. Arrivals closer than 50 ms belong to one burst (the initial read, a flush) and
//!   do not count as intervals.
//! - `stall` **warning** when no record arrived for `max(floor, factor × usual interval)`:
//!   defaults `max(5 min, 10 × median)`. The floor keeps a run that logs every second from being
//!   flagged for a 30 s checkpoint save.
//! - `stall` **critical** after `max(critical, 3 × the warning threshold)`: default 30 min.
//! - When records come back after a warning, an **info** `stall` flag says how long the silence
//!   lasted.
//! - The clock starts at the first record seen, so a file that was silent before tmon started
//!   counts from tmon's start. No flag is raised before the first record.
//!
//! Deterministic: every method takes `now`; nothing sleeps or reads the clock itself.

use crate::analysis::{Flag, FlagKind, Severity};
use crate::run::Run;
use crate::text::duration;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Thresholds of the live stall.
#[derive(Clone, Debug)]
pub struct StallConfig {
    /// The silence never warns before this much time. Default 5 min.
    pub floor: Duration,
    /// Warn after this many usual intervals (median). Default 10.
    pub factor: f64,
    /// Critical after this much silence (at least 3 × the warning threshold). Default 30 min.
    pub critical: Duration,
}

impl Default for StallConfig {
    fn default() -> Self {
        StallConfig::from_flags(&crate::analysis::FlagConfig::default())
    }
}

impl StallConfig {
    /// The live-stall thresholds of a flag configuration (`--set live_stall.*`).
    pub fn from_flags(cfg: &crate::analysis::FlagConfig) -> Self {
        let secs = |s: f64| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX);
        StallConfig {
            floor: secs(cfg.live_stall_min_seconds),
            factor: cfg.live_stall_factor,
            critical: secs(cfg.live_stall_critical_seconds),
        }
    }
}

const WINDOW: usize = 64;
const BURST: Duration = Duration::from_millis(50);

/// Watches the arrivals of one run.
#[derive(Clone, Debug, Default)]
pub struct LiveStall {
    cfg: StallConfig,
    last: Option<Instant>,
    intervals: VecDeque<Duration>,
    warn_after: Duration,
    /// The worst severity raised for the current silence.
    raised: Option<Severity>,
}

impl LiveStall {
    pub fn new(cfg: StallConfig) -> Self {
        let warn_after = cfg.floor;
        LiveStall { cfg, last: None, intervals: VecDeque::new(), warn_after, raised: None }
    }

    /// Silence after which a warning is raised, given what has been seen so far.
    pub fn warn_after(&self) -> Duration {
        self.warn_after
    }

    /// Silence after which the stall becomes critical.
    pub fn critical_after(&self) -> Duration {
        self.cfg.critical.max(self.warn_after.saturating_mul(3))
    }

    /// Call when `n` new records reached the run at `now`. Raises the "records resumed" info flag
    /// if a stall had been raised. Returns true when a flag was raised.
    pub fn arrived(&mut self, run: &mut Run, n: usize, now: Instant) -> bool {
        if n == 0 {
            return false;
        }
        let mut raised = false;
        if let Some(last) = self.last {
            let gap = now.saturating_duration_since(last);
            if self.raised.is_some() {
                let msg = format!("records resumed after {} of silence", duration(gap.as_secs_f64()));
                raise(run, Severity::Info, msg);
                raised = true;
            }
            if gap >= BURST {
                if self.intervals.len() == WINDOW {
                    self.intervals.pop_front();
                }
                self.intervals.push_back(gap);
                self.warn_after = self.threshold();
            }
        }
        self.raised = None;
        self.last = Some(now);
        raised
    }

    fn threshold(&self) -> Duration {
        let mut v: Vec<Duration> = self.intervals.iter().copied().collect();
        v.sort_unstable();
        let median = v.get(v.len() / 2).copied().unwrap_or_default();
        self.cfg.floor.max(median.mul_f64(self.cfg.factor.max(0.0)))
    }

    /// Call now and then (every second is plenty). Raises a warning, then a critical flag, once
    /// each per silence. Returns true when a flag was raised.
    pub fn check(&mut self, run: &mut Run, now: Instant) -> bool {
        let Some(last) = self.last else { return false };
        let silence = now.saturating_duration_since(last);
        let (sev, after) = if silence >= self.critical_after() {
            (Severity::Critical, self.critical_after())
        } else if silence >= self.warn_after {
            (Severity::Warning, self.warn_after)
        } else {
            return false;
        };
        if self.raised.is_some_and(|r| r >= sev) {
            return false;
        }
        self.raised = Some(sev);
        let msg = match sev {
            Severity::Critical => format!(
                "no new record for {}: the run looks hung or dead (critical after {})",
                duration(silence.as_secs_f64()),
                duration(after.as_secs_f64())
            ),
            _ => format!(
                "no new record for {} (usual interval {}; warning after {})",
                duration(silence.as_secs_f64()),
                duration(self.usual().as_secs_f64()),
                duration(after.as_secs_f64())
            ),
        };
        raise(run, sev, msg);
        true
    }

    fn usual(&self) -> Duration {
        let mut v: Vec<Duration> = self.intervals.iter().copied().collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or_default()
    }
}

fn raise(run: &mut Run, severity: Severity, message: String) {
    let step = run.store.last_record().map_or(f64::NAN, |r| r.step);
    let metric = run.ingest.step_key().unwrap_or("").to_owned();
    run.analyzer.raise(Flag { kind: FlagKind::Stall, severity, metric, step, message });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::FlagConfig;
    use crate::ingest::IngestOptions;

    fn run() -> Run {
        let mut r = Run::new("t.jsonl", IngestOptions::default(), FlagConfig::default());
        r.push_line(1, b"{\"step\": 1, \"loss\": 1.0}");
        r
    }

    fn stalls(r: &Run) -> Vec<(Severity, String)> {
        r.flags()
            .iter()
            .filter(|f| f.kind == FlagKind::Stall)
            .map(|f| (f.severity, f.message.clone()))
            .collect()
    }

    #[test]
    fn floor_then_critical_then_resume() {
        let t0 = Instant::now();
        let mut r = run();
        let mut s = LiveStall::new(StallConfig::default());
        // One record every 2 s: 10x median = 20 s, under the 5 min floor.
        for i in 0..20u64 {
            s.arrived(&mut r, 1, t0 + Duration::from_secs(2 * i));
        }
        let last = t0 + Duration::from_secs(38);
        assert_eq!(s.warn_after(), Duration::from_secs(300));
        assert!(!s.check(&mut r, last + Duration::from_secs(299)));
        assert!(s.check(&mut r, last + Duration::from_secs(300)));
        assert!(!s.check(&mut r, last + Duration::from_secs(600)), "one warning per silence");
        assert!(s.check(&mut r, last + Duration::from_secs(1800)));
        assert!(!s.check(&mut r, last + Duration::from_secs(3000)));
        assert!(s.arrived(&mut r, 3, last + Duration::from_secs(3723)));
        let got = stalls(&r);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, Severity::Warning);
        assert!(got[0].1.contains("5m"), "{}", got[0].1);
        assert_eq!(got[1].0, Severity::Critical);
        assert_eq!(got[2].0, Severity::Info);
        assert!(got[2].1.contains("1h02m"), "{}", got[2].1);
        assert_eq!(r.flags()[0].step, 1.0);
    }

    #[test]
    fn slow_runs_get_a_longer_threshold_and_bursts_do_not_count() {
        let t0 = Instant::now();
        let mut r = run();
        let mut s = LiveStall::new(StallConfig::default());
        // An initial burst (existing content), then a record a minute.
        for _ in 0..100 {
            s.arrived(&mut r, 50, t0);
        }
        for i in 1..=5u64 {
            s.arrived(&mut r, 1, t0 + Duration::from_secs(60 * i));
        }
        assert_eq!(s.warn_after(), Duration::from_secs(600));
        assert_eq!(s.critical_after(), Duration::from_secs(1800));
        let last = t0 + Duration::from_secs(300);
        assert!(!s.check(&mut r, last + Duration::from_secs(599)));
        assert!(s.check(&mut r, last + Duration::from_secs(600)));
    }

    #[test]
    fn nothing_before_the_first_record() {
        let mut r = run();
        let mut s = LiveStall::new(StallConfig::default());
        assert!(!s.check(&mut r, Instant::now() + Duration::from_secs(100_000)));
        assert!(r.flags().is_empty());
    }
}
