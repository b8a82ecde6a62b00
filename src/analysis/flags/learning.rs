//! `plateau` (warning), "not learning": a loss that has not improved meaningfully since its first
//! values, as a run at a far too small learning rate (or with frozen weights, or a bug that cuts
//! the gradient) does. AUTOTRAINER's slow-convergence rule (NOTES §3) looks at accuracy gains;
//! this looks at the loss against its own noise, and uses the accuracy as support.
//!
//! The loss is compared in log space: for a training loss, block means of [`TRAIN_BLOCK`] points
//! (the first block is the "first values"); for an eval loss, each evaluation (the first one is
//! the first value). The run learned once the best level so far is below the first by more than
//! `learning.gain` (as a fraction) beyond `learning.noise_z` standard errors of the difference. It
//! is "not learning" once it is confidently below that: the improvement plus `learning.noise_z`
//! standard errors is under `learning.gain`, after `learning.min_points` training points or
//! `learning.min_evals` evaluations, outside LR warmup. A run too noisy to be sure is never told.
//! Once a run has learned, this rule is silent for good; a later plateau is ReduceLROnPlateau's
//! (`plateau.rs`, info).
//!
//! A task metric (accuracy, AP) that stays at its first values supports the finding and is named;
//! one that improved contradicts it (the loss may not be what the run optimises): then it is info.

use super::{Ctx, Episode, Finding, FlagConfig, FlagKind, Severity};
use crate::text::value_prose;

/// Training-loss points per block mean.
pub const TRAIN_BLOCK: usize = 128;

#[derive(Clone, Debug)]
pub struct Learning {
    block: usize,
    sum: f64,
    in_block: usize,
    /// First block's mean (log) and the step it began at.
    first: Option<(f64, f64)>,
    block_began: f64,
    best: f64,
    points: usize,
    learned: bool,
    episode: Episode,
}

/// What the analyzer knows of the run's task metrics when "not learning" is judged.
pub struct Support {
    /// (name, first level, current level, improved beyond its noise).
    pub metric: Option<(String, f64, f64, bool)>,
}

impl Learning {
    /// `block`: points per level (1 for evaluations).
    pub fn new(block: usize) -> Self {
        Learning {
            block: block.max(1),
            sum: 0.0,
            in_block: 0,
            first: None,
            block_began: f64::NAN,
            best: f64::INFINITY,
            points: 0,
            learned: false,
            episode: Episode::default(),
        }
    }

    /// The loss learned before (the run it resumes did): the rule is silent.
    pub fn mark_learned(&mut self) {
        self.learned = true;
    }

    /// True once the loss improved meaningfully: the rule is silent from then on.
    pub fn learned(&self) -> bool {
        self.learned
    }

    /// `x` is the log of a finite, positive loss; `sigma` the noise of one log value (robust);
    /// `support` what the task metrics say, asked only when a finding is made.
    pub fn observe(
        &mut self,
        cfg: &FlagConfig,
        ctx: &Ctx<'_>,
        x: f64,
        sigma: impl FnOnce() -> f64,
        support: impl FnOnce() -> Support,
    ) -> Option<Finding> {
        if self.learned {
            return None;
        }
        self.points += 1;
        if self.in_block == 0 {
            self.block_began = ctx.step;
        }
        self.sum += x;
        self.in_block += 1;
        if self.in_block < self.block {
            return None;
        }
        let level = self.sum / self.block as f64;
        self.sum = 0.0;
        self.in_block = 0;
        let Some((first, first_step)) = self.first else {
            self.first = Some((level, self.block_began));
            return None;
        };
        self.best = self.best.min(level);
        let gain = (1.0 / (1.0 - cfg.learning_gain).max(1e-9)).ln();
        let se = sigma() * (2.0 / self.block as f64).sqrt();
        let improved = first - self.best;
        if improved > gain + cfg.learning_noise_z * se {
            self.learned = true;
            self.episode.clear();
            return None;
        }
        let enough = if self.block == 1 { cfg.learning_min_evals } else { cfg.learning_min_points };
        if self.points < enough || ctx.warmup || improved + cfg.learning_noise_z * se >= gain {
            return None;
        }
        let s = support();
        let (severity, note) = match &s.metric {
            Some((name, f, now, true)) => (
                Severity::Info,
                format!(
                    "; but {name} improved ({} -> {}), so the loss may not be what this run optimises",
                    value_prose(*f),
                    value_prose(*now)
                ),
            ),
            Some((name, f, now, false)) => (
                Severity::Warning,
                format!("; {name} stays at its first values ({} -> {})", value_prose(*f), value_prose(*now)),
            ),
            None => (Severity::Warning, String::new()),
        };
        let unit = if self.block == 1 { "evaluations" } else { "points" };
        let what = if self.block == 1 {
            format!("first evaluation ({})", value_prose(first.exp()))
        } else {
            format!("first {} points (mean {})", self.block, value_prose(first.exp()))
        };
        // A loss that only rose (its best level since is above its first values) is no sign of
        // too small a learning rate: the message says it rose and does not guess at the cause.
        let rose = improved < 0.0;
        let lr = match ctx.lr {
            Some(lr) if rose => format!(" (lr {})", value_prose(lr)),
            Some(lr) => format!(" (lr {}: far too small?)", value_prose(lr)),
            None => String::new(),
        };
        let points = self.points;
        Some(self.episode.hit(FlagKind::Plateau, severity, first_step, || {
            let change = if rose {
                format!("{:.1}% above them: it has only risen", 100.0 * (improved.abs().exp() - 1.0))
            } else {
                format!(
                    "{:.1}% lower, less than the {}% that would show learning",
                    100.0 * (1.0 - (-improved).exp()),
                    value_prose(cfg.learning_gain * 100.0)
                )
            };
            format!(
                "not learning: {} has not improved meaningfully since its {what}: its best level is {} after \
                 {points} {unit}, {change}{lr}{note}",
                ctx.name,
                value_prose(self.best.exp()),
            )
        }))
    }
}
