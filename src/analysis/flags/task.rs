//! Task metrics (accuracy, AP, mIoU, BLEU; error rates such as `class_error` or WER): they raise
//! no flag of their own, but they say whether the model gets better where the losses cannot. The
//! overfitting rule asks whether a task metric still improves (or holds) while an eval loss turns
//! up (DETR's auxiliary test losses rise while COCO AP climbs), and the "not learning" rule
//! whether one moved from its first values.
//!
//! The level is the median of the last [`STRIPS`] evaluations (so one odd evaluation does not
//! decide), its noise 1.4826 x the MAD of differences / sqrt 2 (a trend is not noise), and a
//! bounded history of levels by step answers "what was the level when the loss was lowest".

use super::robust::{mad_sigma, median, Ring};

/// Evaluations in the level's median.
const STRIPS: usize = 3;
/// Levels remembered by step.
const HISTORY: usize = 512;
/// Differences in the noise estimate.
const DIFFS: usize = 64;

#[derive(Clone, Debug)]
pub struct Task {
    /// Higher is better (accuracy) or lower (an error rate).
    higher: bool,
    recent: Ring,
    diffs: Ring,
    steps: Ring,
    levels: Ring,
    first: Option<f64>,
    /// Where the metric ranks as the run's headline ([`crate::analysis::names::headline_rank`]
    /// of its name), kept: the overfitting rule asks at every evaluation of every eval loss.
    headline: u8,
    /// [`Task::noise`] since the last evaluation: asked again by every eval loss of a record
    /// (DETR logs 37), it only changes when the metric is evaluated.
    noise: Option<f64>,
}

/// How a task metric moved between two points in the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trend {
    /// Better by more than its noise.
    Improves,
    /// Within its noise.
    Holds,
    /// Worse by more than its noise.
    Worse,
}

impl Task {
    /// `headline` ranks the metric among the run's ([`crate::analysis::names::headline_rank`]).
    pub fn new(higher: bool, headline: u8) -> Self {
        Task {
            higher,
            headline,
            noise: None,
            recent: Ring::new(STRIPS),
            diffs: Ring::new(DIFFS),
            steps: Ring::new(HISTORY),
            levels: Ring::new(HISTORY),
            first: None,
        }
    }

    /// A finite value at `step`.
    pub fn observe(&mut self, step: f64, v: f64) {
        self.noise = None;
        if let Some(last) = self.recent.last() {
            self.diffs.push(v - last);
        }
        self.recent.push(v);
        let level = self.level();
        if self.first.is_none() {
            self.first = Some(level);
        }
        // A step that goes back (a restart) starts the history again.
        if self.steps.last().is_some_and(|s| step < s) {
            self.steps = Ring::new(HISTORY);
            self.levels = Ring::new(HISTORY);
        }
        self.steps.push(step);
        self.levels.push(level);
    }

    pub fn higher(&self) -> bool {
        self.higher
    }

    /// Its name's [`crate::analysis::names::headline_rank`].
    pub fn headline(&self) -> u8 {
        self.headline
    }

    /// The current level: the median of the last evaluations.
    pub fn level(&self) -> f64 {
        let mut s = [0.0; STRIPS];
        let n = self.recent.len();
        for (i, x) in s.iter_mut().enumerate().take(n) {
            *x = self.recent.get(i);
        }
        median(&mut s[..n])
    }

    /// The level of the first evaluations.
    pub fn first(&self) -> Option<f64> {
        self.first
    }

    /// The level at the last evaluation at or before `step`, when remembered.
    pub fn level_at(&self, step: f64) -> Option<f64> {
        let n = self.steps.len();
        if n == 0 || self.steps.get(0) > step {
            return None;
        }
        // Steps only go up within the history: a binary search.
        let (mut lo, mut hi) = (0, n);
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if self.steps.get(mid) <= step {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(self.levels.get(lo))
    }

    /// The standard error of the level (a median of [`STRIPS`] evaluations).
    pub fn noise(&mut self) -> f64 {
        *self.noise.get_or_insert_with(|| noise_of(&self.diffs))
    }

    /// How the level moved from `then` to now, against `z` standard errors of both; `None` while
    /// too few evaluations tell the noise.
    pub fn trend_since(&mut self, then: f64, z: f64) -> Option<Trend> {
        let margin = z * self.noise() * std::f64::consts::SQRT_2;
        let gain = if self.higher { self.level() - then } else { then - self.level() };
        if !margin.is_finite() || !gain.is_finite() {
            return None;
        }
        let margin = margin.max(1e-9 * then.abs());
        Some(if gain > margin {
            Trend::Improves
        } else if gain >= -margin {
            Trend::Holds
        } else {
            Trend::Worse
        })
    }
}

/// [`Task::noise`] from the differences of successive evaluations.
fn noise_of(diffs: &Ring) -> f64 {
    if diffs.len() < 4 {
        return f64::INFINITY;
    }
    let mut d = Vec::with_capacity(diffs.len());
    diffs.copy_range(0, diffs.len(), &mut d);
    // Evaluations often repeat a value and then jump (an error rate over a small test set):
    // the MAD of such differences can be 0, so their standard deviation bounds it from below.
    // A task metric too noisy to tell a change is then read as holding, never as worse.
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    let sd = (d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / d.len() as f64).sqrt();
    let sigma = mad_sigma(&mut d).max(sd) / std::f64::consts::SQRT_2;
    1.2533 * sigma / (STRIPS as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The noise kept between evaluations is the noise computed afresh, after every evaluation.
    #[test]
    fn kept_noise_follows_each_evaluation() {
        let mut t = Task::new(true, 0);
        let mut x = 0.3f64;
        for i in 0..200 {
            x = (x * 7.31 + 0.17).fract();
            t.observe(i as f64, 0.5 + 0.1 * x + if i % 5 == 0 { 0.02 } else { 0.0 });
            let fresh = noise_of(&t.diffs);
            assert_eq!(t.noise().to_bits(), fresh.to_bits(), "evaluation {i}");
            // Asked again with no evaluation between: the same.
            assert_eq!(t.noise().to_bits(), fresh.to_bits(), "evaluation {i}, again");
        }
        assert!(t.noise().is_finite());
    }
}
