//! `stall` (live, by the wall clock): a run that stops writing records (a hung collective, a dead
//! node) says nothing in its log, so only the clock on the wall reveals it. Raised by the
//! [`Analyzer`](super::Analyzer), whose caller (the live set, `crate::run::live`) tells it when
//! records arrive and when the clock ticks: nothing here sleeps or reads the clock itself.
//!
//! The rule, with its defaults (`--set live_stall.factor=...`, `live_stall.min_seconds`,
//! `live_stall.critical_seconds` change them):
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

use super::{FlagConfig, Severity};
use crate::text::duration;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

const WINDOW: usize = 64;
const BURST: Duration = Duration::from_millis(50);

/// Watches the arrivals of records in one run, by the wall clock.
#[derive(Clone, Debug)]
pub struct LiveStall {
    /// The silence never warns before this much time.
    floor: Duration,
    /// Warn after this many usual intervals (median).
    factor: f64,
    /// Critical after this much silence (at least 3 × the warning threshold).
    critical: Duration,
    last: Option<Instant>,
    intervals: VecDeque<Duration>,
    warn_after: Duration,
    /// The worst severity raised for the current silence.
    raised: Option<Severity>,
}

impl Default for LiveStall {
    fn default() -> Self {
        LiveStall::new(&FlagConfig::default())
    }
}

impl LiveStall {
    /// The live stall with the `live_stall.*` thresholds of `cfg`.
    pub fn new(cfg: &FlagConfig) -> Self {
        let secs = |s: f64| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX);
        let floor = secs(cfg.live_stall_min_seconds);
        LiveStall {
            floor,
            factor: cfg.live_stall_factor,
            critical: secs(cfg.live_stall_critical_seconds),
            last: None,
            intervals: VecDeque::new(),
            warn_after: floor,
            raised: None,
        }
    }

    /// When records last arrived (None before the first): the cross-run `run_stopped` flag
    /// compares this silence with the run's siblings'.
    pub fn last_arrival(&self) -> Option<Instant> {
        self.last
    }

    /// Silence after which a warning is raised, given what has been seen so far.
    pub fn warn_after(&self) -> Duration {
        self.warn_after
    }

    /// Silence after which the stall becomes critical.
    pub fn critical_after(&self) -> Duration {
        self.critical.max(self.warn_after.saturating_mul(3))
    }

    /// `n` new records arrived at `now`. Returns the "records resumed" message when a stall had
    /// been raised for the silence that ends here.
    pub(crate) fn arrived(&mut self, n: usize, now: Instant) -> Option<(Severity, String)> {
        if n == 0 {
            return None;
        }
        let mut out = None;
        if let Some(last) = self.last {
            let gap = now.saturating_duration_since(last);
            if self.raised.is_some() {
                out = Some((
                    Severity::Info,
                    format!("records resumed after {} of silence", duration(gap.as_secs_f64())),
                ));
            }
            if gap >= BURST {
                if self.intervals.len() == WINDOW {
                    self.intervals.pop_front();
                }
                self.intervals.push_back(gap);
                self.warn_after = self.floor.max(self.usual().mul_f64(self.factor.max(0.0)));
            }
        }
        self.raised = None;
        self.last = Some(now);
        out
    }

    /// The clock says `now`: a warning, then a critical message, once each per silence.
    pub(crate) fn check(&mut self, now: Instant) -> Option<(Severity, String)> {
        let last = self.last?;
        let silence = now.saturating_duration_since(last);
        let (sev, after) = if silence >= self.critical_after() {
            (Severity::Critical, self.critical_after())
        } else if silence >= self.warn_after {
            (Severity::Warning, self.warn_after)
        } else {
            return None;
        };
        if self.raised.is_some_and(|r| r >= sev) {
            return None;
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
        Some((sev, msg))
    }

    /// The median interval between arrivals.
    fn usual(&self) -> Duration {
        // On the stack, the middle one selected, not all sorted: this runs at every arrival of
        // every live run (fifty runs writing ten steps a second: 500 times a second).
        let mut v = [Duration::ZERO; WINDOW];
        let n = self.intervals.len().min(WINDOW);
        if n == 0 {
            return Duration::ZERO;
        }
        for (d, s) in v.iter_mut().zip(&self.intervals) {
            *d = *s;
        }
        *v[..n].select_nth_unstable(n / 2).1
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Analyzer, FlagKind};
    use super::*;
    use crate::store::{RecordMeta, Store};

    /// An analyzer that has seen one record at step 1.
    fn analyzer() -> Analyzer {
        let mut a = Analyzer::new(FlagConfig::default());
        let mut store = Store::new();
        let id = store.intern("loss");
        let rec = store.begin_record(RecordMeta { step: 1.0, time: f64::NAN, line: 1 });
        store.push(rec, id, 1.0);
        a.observe(&store, rec, &[(id, 1.0)]);
        a
    }

    fn stalls(a: &Analyzer) -> Vec<(Severity, String)> {
        a.flags()
            .iter()
            .filter(|f| f.kind == FlagKind::Stall)
            .map(|f| (f.severity, f.message.clone()))
            .collect()
    }

    #[test]
    fn floor_then_critical_then_resume() {
        let t0 = Instant::now();
        let mut a = analyzer();
        // One record every 2 s: 10x median = 20 s, under the 5 min floor.
        for i in 0..20u64 {
            a.records_arrived(1, t0 + Duration::from_secs(2 * i), "step");
        }
        let last = t0 + Duration::from_secs(38);
        assert_eq!(a.live_stall().warn_after(), Duration::from_secs(300));
        assert!(!a.check_live_stall(last + Duration::from_secs(299), "step"));
        assert!(a.check_live_stall(last + Duration::from_secs(300), "step"));
        assert!(!a.check_live_stall(last + Duration::from_secs(600), "step"), "one warning per silence");
        assert!(a.check_live_stall(last + Duration::from_secs(1800), "step"));
        assert!(!a.check_live_stall(last + Duration::from_secs(3000), "step"));
        assert!(a.records_arrived(3, last + Duration::from_secs(3723), "step"));
        let got = stalls(&a);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, Severity::Warning);
        assert!(got[0].1.contains("5m"), "{}", got[0].1);
        assert_eq!(got[1].0, Severity::Critical);
        assert_eq!(got[2].0, Severity::Info);
        assert!(got[2].1.contains("1h02m"), "{}", got[2].1);
        assert_eq!(a.flags()[0].step, 1.0);
        assert_eq!(a.flags()[0].metric, "step");
    }

    #[test]
    fn slow_runs_get_a_longer_threshold_and_bursts_do_not_count() {
        let t0 = Instant::now();
        let mut a = analyzer();
        // An initial burst (existing content), then a record a minute.
        for _ in 0..100 {
            a.records_arrived(50, t0, "step");
        }
        for i in 1..=5u64 {
            a.records_arrived(1, t0 + Duration::from_secs(60 * i), "step");
        }
        assert_eq!(a.live_stall().warn_after(), Duration::from_secs(600));
        assert_eq!(a.live_stall().critical_after(), Duration::from_secs(1800));
        let last = t0 + Duration::from_secs(300);
        assert!(!a.check_live_stall(last + Duration::from_secs(599), "step"));
        assert!(a.check_live_stall(last + Duration::from_secs(600), "step"));
    }

    #[test]
    fn nothing_before_the_first_record() {
        let mut a = analyzer();
        assert!(!a.check_live_stall(Instant::now() + Duration::from_secs(100_000), "step"));
        assert!(a.flags().is_empty());
    }

    #[test]
    fn thresholds_come_from_the_flag_config() {
        let mut cfg = FlagConfig::default();
        cfg.set("live_stall.min_seconds", "2").unwrap();
        cfg.set("live_stall.critical_seconds", "7").unwrap();
        let s = LiveStall::new(&cfg);
        assert_eq!(s.warn_after(), Duration::from_secs(2));
        assert_eq!(s.critical_after(), Duration::from_secs(7));
    }
}
