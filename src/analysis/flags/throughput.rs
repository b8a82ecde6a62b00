//! `throughput_drop`: a sustained fall in the level of throughput (tokens/s, samples/s, or the
//! step time turned into a rate). NOTES §3: a shift in a level is a change-point problem; CUSUM
//! (Page 1954) accumulates the deviations from the baseline and finds shifts far smaller than a
//! fixed-percentage rule does at the same false-alarm rate, dated where they began.
//!
//! In log space (a drop of 20% is the same shift at any speed), against the run's own baseline:
//! the median `mu` of the last `throughput.baseline` log-rates and their noise `sigma` (1.4826 x
//! the MAD of first differences / sqrt 2, so a slow trend or a single dip is not noise). The
//! reference shift is `delta = max(ln(1 / (1 - throughput.drop)), throughput.noise_z x sigma)`:
//! the smallest drop of interest, never inside the noise. Each point adds its deviation below
//! the baseline, clipped to `2 delta` (one slow step, an eval or a checkpoint, adds little),
//! minus `delta / 2`; the sum restarts at zero when it would go below. A drop is flagged when the
//! sum passes `throughput.patience x delta / 2`, which takes that many points a full `delta`
//! below (fewer for a deeper drop: a halving is seen within about six points), and the mean level
//! since the sum was last zero is `throughput.drop` below the baseline (a slow drift adds up
//! without being a drop of that size). Dated at the first
//! point after the sum was last zero: where the shift began. A warmup ramp goes up, never down.
//! Every point joins the baseline, whose median moves only once half of it is new: long after a
//! step down is flagged, while a slow drift (a cumulative average) is followed and never adds up.
//! After a flag the baseline starts again at the new level.
//!
//! Step times (seconds per iteration, e.g. detectron2's `time`) are turned into rates; a `time`
//! column holding a unix clock (values above 1e5 s) is not a step time and is ignored.
//! Cost per point: a ring push and a few additions; the baseline's median and noise are
//! selected every [`REFRESH`] points.

use super::robust::{key, median, NearHints, Ring};
use super::{Ctx, Episode, Finding, FlagConfig, FlagKind, Severity};
use crate::text::{duration, step, value_prose};

/// Seconds per step above which a "time" metric is a clock, not a duration.
const CLOCK_LIKE: f64 = 1e5;
/// Points between two estimates of the baseline's median and noise.
const REFRESH: usize = 32;
/// Smallest noise scale in log units (0.5%), so a perfectly steady rate is not infinitely
/// sensitive.
const MIN_SIGMA: f64 = 0.005;

#[derive(Clone, Debug)]
pub struct Throughput {
    /// The latest log-rates, newest last.
    base: Ring,
    cap: usize,
    scratch: Vec<f64>,
    /// The baseline's keys and its differences' (`robust::key`), selected from the last refresh's
    /// statistics.
    keys: Vec<i64>,
    diffs: Vec<i64>,
    level_hint: NearHints,
    noise_hint: NearHints,
    /// Baseline median and noise (log), once estimated.
    mu: f64,
    sigma: f64,
    since_refresh: usize,
    /// The CUSUM sum (log units), and since when it has been above zero: (first step, sum of
    /// log-rates, points).
    sum: f64,
    began: Option<(f64, f64, u64)>,
    episode: Episode,
    /// `throughput.drop` and the smallest drop of interest in log units, `-ln(1 - drop)`: an
    /// `ln` a point otherwise (a fifth of the logs the peers-style log takes a line).
    least: (f64, f64),
}

impl Throughput {
    pub fn new(cfg: &FlagConfig) -> Self {
        let n = cfg.throughput_baseline.max(8);
        Throughput {
            base: Ring::new(n),
            cap: n,
            scratch: Vec::new(),
            keys: Vec::new(),
            diffs: Vec::new(),
            level_hint: NearHints::default(),
            noise_hint: NearHints::default(),
            mu: f64::NAN,
            sigma: f64::NAN,
            since_refresh: REFRESH,
            sum: 0.0,
            began: None,
            episode: Episode::default(),
            least: (f64::NAN, f64::NAN),
        }
    }

    /// `v` is a rate (higher is better) or, when `is_time`, seconds per step.
    pub fn observe(&mut self, cfg: &FlagConfig, ctx: &Ctx<'_>, v: f64, is_time: bool) -> Option<Finding> {
        if v.is_nan() || v <= 0.0 || v.is_infinite() || (is_time && v > CLOCK_LIKE) {
            return None;
        }
        let x = if is_time { -v.ln() } else { v.ln() };
        // Judge once the baseline holds half its points.
        if self.base.len() < self.cap / 2 {
            self.base.push(x);
            return None;
        }
        if self.since_refresh >= REFRESH || self.mu.is_nan() {
            self.refresh();
        }
        if self.least.0.to_bits() != cfg.throughput_drop.to_bits() {
            self.least = (cfg.throughput_drop, -(1.0 - cfg.throughput_drop).max(1e-9).ln());
        }
        let least = self.least.1;
        let delta = least.max(cfg.throughput_noise_z * self.sigma);
        let d = (self.mu - x).min(2.0 * delta);
        self.sum = (self.sum + d - delta / 2.0).max(0.0);
        // Every point joins the baseline: its median moves only once half of it is new, long
        // after a step down has been flagged, while a slow drift is followed and never adds up.
        self.base.push(x);
        self.since_refresh += 1;
        if self.sum == 0.0 {
            self.began = None;
            self.episode.clear();
            return None;
        }
        let (from, total, n) = self.began.get_or_insert((ctx.step, 0.0, 0));
        *total += x;
        *n += 1;
        let (from, level, n) = (*from, *total / *n as f64, *n);
        // The sum says the level moved; the level since must also be `throughput.drop` below the
        // baseline: a slow drift (a cumulative average such as stable-baselines3's `fps`) adds up
        // without being a drop of that size.
        if self.sum < cfg.throughput_patience as f64 * delta / 2.0 || self.mu - level < least {
            return None;
        }
        // The level told is the median of the points since (the mean decides: it weighs the
        // whole episode; one eval dip among six points would overstate the drop in the message).
        let k = (n as usize).min(self.base.len());
        self.base.copy_range(self.base.len() - k, self.base.len(), &mut self.scratch);
        let level = median(&mut self.scratch);
        let (mu, sigma) = (self.mu, self.sigma);
        let found = self.episode.hit(FlagKind::ThroughputDrop, Severity::Warning, from, || {
            let drop = 100.0 * (1.0 - (level - mu).exp());
            let shift = (mu - level) / sigma;
            if is_time {
                format!(
                    "{} rose to {} per step from step {} (its level since, {:.0}% slower than the {} before; \
                     a sustained shift of {shift:.0} times its noise), seen at step {}",
                    ctx.name,
                    duration((-level).exp()),
                    step(from),
                    drop,
                    duration((-mu).exp()),
                    step(ctx.step)
                )
            } else {
                format!(
                    "{} fell by {:.0}% from step {}: its level since, {}, against {} before (a sustained shift \
                     of {shift:.0} times its noise), seen at step {}",
                    ctx.name,
                    drop,
                    step(from),
                    value_prose(level.exp()),
                    value_prose(mu.exp()),
                    step(ctx.step)
                )
            }
        });
        // The drop is told: the new level is the baseline from here on.
        self.base = Ring::new(self.cap);
        self.sum = 0.0;
        self.began = None;
        self.mu = f64::NAN;
        Some(found)
    }

    /// Median and noise of the baseline.
    fn refresh(&mut self) {
        self.since_refresh = 0;
        self.base.copy_range(0, self.base.len(), &mut self.scratch);
        self.diffs.clear();
        self.diffs.extend(self.scratch.windows(2).map(|w| key(w[1] - w[0])));
        self.keys.clear();
        self.keys.extend(self.scratch.iter().map(|&x| key(x)));
        self.mu = self.level_hint.median(&mut self.keys);
        self.sigma = (self.noise_hint.mad_sigma(&mut self.diffs) / std::f64::consts::SQRT_2).max(MIN_SIGMA);
    }
}
