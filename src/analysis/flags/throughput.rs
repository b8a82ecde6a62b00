//! `throughput_drop`: NOTES §3: compare a rolling median of tokens/s (or of the step time) with
//! the run's own baseline; periodic dips at eval or checkpoint steps are normal. The recent
//! median over `throughput.window` points ignores such dips; the baseline is the median of the
//! `throughput.baseline` points before them. The recent window is kept sorted (its median is
//! O(1)); the baseline's median is selected only when the recent median falls below the floor
//! computed from the baseline's maximum, which a steady run never does. Step times (seconds
//! per iteration, e.g. detectron2's `time`) are turned into rates; a `time` column holding a
//! unix clock (values above 1e5 s) is not a step time and is ignored. The flag is dated at the
//! first of the run of slow points that brought the median down.

use super::robust::{median, Ring, SortedWindow};
use super::{Ctx, Episode, Finding, FlagConfig, FlagKind, Severity};
use crate::text::{duration, step, times, value_prose};

/// Seconds per step above which a "time" metric is a clock, not a duration.
const CLOCK_LIKE: f64 = 1e5;

#[derive(Clone, Debug)]
pub struct Throughput {
    /// The newest `window` rates, and the steps they came at.
    recent: SortedWindow,
    steps: Ring,
    /// The `throughput.baseline` rates before those, and their maximum.
    older: Ring,
    older_max: f64,
    scratch: Vec<f64>,
    window: usize,
    baseline_len: usize,
    began: Option<f64>,
    episode: Episode,
}

impl Throughput {
    pub fn new(cfg: &FlagConfig) -> Self {
        let window = cfg.throughput_window.max(1);
        let baseline_len = cfg.throughput_baseline.max(1);
        Throughput {
            recent: SortedWindow::new(window),
            steps: Ring::new(window),
            older: Ring::new(baseline_len),
            older_max: f64::NEG_INFINITY,
            scratch: Vec::new(),
            window,
            baseline_len,
            began: None,
            episode: Episode::default(),
        }
    }

    /// `v` is a rate (higher is better) or, when `is_time`, seconds per step.
    pub fn observe(&mut self, cfg: &FlagConfig, ctx: &Ctx<'_>, v: f64, is_time: bool) -> Option<Finding> {
        if v.is_nan() || v <= 0.0 || (is_time && v > CLOCK_LIKE) {
            return None;
        }
        let rate = if is_time { 1.0 / v } else { v };
        if let Some(old) = self.recent.push(rate) {
            self.push_older(old);
        }
        self.steps.push(ctx.step);
        // Judge once the baseline holds at least half its points.
        if self.recent.len() < self.window || self.older.len() < self.baseline_len / 2 {
            return None;
        }
        let recent = self.recent.median();
        // The baseline median is at most the maximum: at or above the floor that gives, the
        // median's floor is passed too.
        let keep = 1.0 - cfg.throughput_drop;
        if keep >= 0.0 && recent >= keep * self.older_max {
            self.began = None;
            self.episode.clear();
            return None;
        }
        self.older.copy_range(0, self.older.len(), &mut self.scratch);
        let baseline = median(&mut self.scratch);
        let floor = (1.0 - cfg.throughput_drop) * baseline;
        // A NaN baseline (not judged yet) compares false too.
        if recent.is_nan() || floor.is_nan() || recent >= floor {
            self.began = None;
            self.episode.clear();
            return None;
        }
        // The drop began at the oldest of the newest run of points below the floor.
        let began = *self.began.get_or_insert_with(|| {
            let rates = self.recent.ring();
            let mut i = rates.len() - 1;
            while i > 0 && rates.get(i - 1) < floor {
                i -= 1;
            }
            self.steps.get(i)
        });
        let window = self.window;
        let describe = || {
            if is_time {
                format!(
                    "{} rose to {} per step (median of the last {} points) at step {}, {} its baseline {}",
                    ctx.name,
                    duration(1.0 / recent),
                    window,
                    step(ctx.step),
                    times(baseline / recent),
                    duration(1.0 / baseline)
                )
            } else {
                format!(
                    "{} fell to {} (median of the last {} points) at step {}, {:.0}% of its baseline {}",
                    ctx.name,
                    value_prose(recent),
                    window,
                    step(ctx.step),
                    100.0 * recent / baseline,
                    value_prose(baseline)
                )
            }
        };
        Some(self.episode.hit(FlagKind::ThroughputDrop, Severity::Warning, began, describe))
    }

    fn push_older(&mut self, rate: f64) {
        let evicted = self.older.push_evict(rate);
        if evicted.is_some_and(|e| e >= self.older_max) {
            self.older_max =
                (0..self.older.len()).map(|i| self.older.get(i)).fold(f64::NEG_INFINITY, f64::max);
        } else {
            self.older_max = self.older_max.max(rate);
        }
    }
}
