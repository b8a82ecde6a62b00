//! `overfitting`: the validation loss turns up while the training loss keeps falling. Prechelt
//! (1998, "Early stopping - but when?", NOTES §3): generalization loss
//! GL = 100 x (E_val / E_min - 1) above a threshold.
//!
//! Evaluations are noisy (a DETR test loss moves 10-15% from one epoch to the next), so GL is
//! taken on the median of the last `overfit.strips` evaluations against the best such median
//! (a rise must hold for most of those strips), and the rise must also exceed
//! `overfit.noise_z` standard errors of that median, with the noise of one evaluation estimated
//! robustly from differences of log values. When the paired training loss (`names::pair_of`) is
//! logged it must have kept falling since the best (by `overfit.train_drop`): the two curves
//! must part. A flat training loss means noisy evaluations or a shift, a rising one divergence. The flag is dated at the lowest evaluation, where the two curves parted.

use super::robust::LogBaseline;
use super::task::Trend;
use super::{Ctx, Episode, Finding, FlagConfig, FlagKind, Severity};
use crate::text::{step, value_prose};

#[derive(Clone, Debug)]
pub struct Overfitting {
    base: LogBaseline,
    strips: usize,
    /// Best median level (log) and the training level then.
    best_level: Option<(f64, Option<f64>)>,
    /// Lowest single evaluation (value, step): where the flag is dated.
    lowest: Option<(f64, f64)>,
    evals: usize,
    episode: Episode,
    /// The severity of the current episode, decided when it began (with what the task metric
    /// said then), and the note that says why.
    decided: Option<(Severity, String)>,
    /// `overfit.gl` and the GL floor in log units, `ln(1 + gl / 100)` (asked at most
    /// evaluations past the warm-up).
    ln_floor: (f64, f64),
    /// `sqrt(strips)`, the standard error's divisor.
    sqrt_strips: f64,
}

impl Overfitting {
    pub fn new(cfg: &FlagConfig) -> Self {
        let strips = cfg.overfit_strips.max(1);
        Overfitting {
            base: LogBaseline::new(strips),
            strips,
            best_level: None,
            lowest: None,
            evals: 0,
            episode: Episode::default(),
            decided: None,
            ln_floor: (f64::NAN, f64::NAN),
            sqrt_strips: (strips as f64).sqrt(),
        }
    }

    /// Whether the current episode was decided a warning with no task metric to weigh (none
    /// known yet, or too few evaluations to tell its noise).
    pub fn warned_without_task(&self) -> bool {
        matches!(&self.decided, Some((Severity::Warning, note)) if note.is_empty())
    }

    /// A task metric of the record that raised the warning improves after all (it came after the
    /// eval loss in the record): the episode is info, with `note` saying so.
    pub fn task_improves(&mut self, note: String) {
        self.decided = Some((Severity::Info, note));
        self.episode.reported = Some(Severity::Info);
    }

    /// The noise of one evaluation (log units, robust), with no floor.
    pub fn noise(&mut self) -> f64 {
        self.base.raw_scale()
    }

    /// `v` is a finite, positive eval loss and `x` its log; `train_ln` is the log of the paired training loss's
    /// level, if any;
    /// `task` says how the run's held-out task metric moved since the loss's lowest evaluation
    /// (at the step given): (name, trend, level then, level now).
    pub fn observe(
        &mut self,
        cfg: &FlagConfig,
        ctx: &Ctx<'_>,
        v: f64,
        x: f64,
        train_ln: Option<f64>,
        task: impl FnOnce(f64) -> Option<(String, Trend, f64, f64)>,
    ) -> Option<Finding> {
        // The training level, taken only at a new best and past the thresholds.
        let train = || train_ln.map(f64::exp).filter(|t| t.is_finite());
        self.evals += 1;
        self.base.push(x);
        if self.lowest.is_none_or(|(low, _)| v < low) {
            self.lowest = Some((v, ctx.step));
        }
        if self.evals < self.strips {
            return None;
        }
        let level = self.base.level();
        let (best, train_at_best) = match self.best_level {
            Some((b, t)) if level >= b => (b, t),
            _ => {
                self.best_level = Some((level, train()));
                self.episode.clear();
                self.decided = None;
                return None;
            }
        };
        if self.evals < cfg.overfit_min_evals {
            return None;
        }
        // `need` below is at least the GL floor: under it the noise scale (two selections) is
        // not needed.
        if self.ln_floor.0.to_bits() != cfg.overfit_gl.to_bits() {
            self.ln_floor = (cfg.overfit_gl, (1.0 + cfg.overfit_gl / 100.0).ln());
        }
        let floor = self.ln_floor.1;
        if level - best < floor {
            return None;
        }
        // A training loss that did not keep falling ends it whatever the noise: asked first, so
        // the noise scale (two selections) is not computed for it. Nothing between the two
        // returns changes the state, so the order does not change the result.
        let falling = match (train_at_best, train()) {
            (Some(t0), Some(t)) if t > t0 * (1.0 - cfg.overfit_train_drop) => return None,
            (Some(t0), Some(t)) => Some((t0, t)),
            _ => None,
        };
        let noise = cfg.overfit_noise_z * 1.2533 * self.base.scale() / self.sqrt_strips;
        let need = floor.max(noise);
        if level - best < need {
            return None;
        }
        let (low, low_step) = self.lowest?;
        // The task metric, not the loss, says whether the model generalises worse: while it still
        // improves or holds, the rising loss is worth knowing (info), not a fault. Decided once,
        // when the episode begins.
        let (severity, task_note) = self.decided.get_or_insert_with(|| match task(low_step) {
            Some((name, Trend::Improves, then, now)) => (Severity::Info, improves_note(&name, then, low_step, now)),
            Some((name, Trend::Holds, then, now)) => (
                Severity::Info,
                format!(
                    "; but {name} holds ({} at step {} -> {}, within its noise): the loss turns up, the task metric does not",
                    value_prose(then),
                    step(low_step),
                    value_prose(now)
                ),
            ),
            Some((name, Trend::Worse, then, now)) => (
                Severity::Warning,
                format!("; {name} got worse too ({} at step {} -> {})", value_prose(then), step(low_step), value_prose(now)),
            ),
            None => (Severity::Warning, String::new()),
        });
        let severity = *severity;
        // Written only for a new episode: while the condition holds, every evaluation is a still.
        Some(self.episode.hit(FlagKind::Overfitting, severity, low_step, || {
            let train_note = falling.map_or(String::new(), |(t0, t)| {
                format!(" while the training loss kept falling ({} -> {})", value_prose(t0), value_prose(t))
            });
            format!(
                "{} turned up: the median of its last {} evaluations, {} at step {}, is {:.0}% above its best{}; lowest {} at step {}{task_note}",
                ctx.name,
                self.strips,
                value_prose(level.exp()),
                step(ctx.step),
                100.0 * ((level - best).exp() - 1.0),
                train_note,
                value_prose(low),
                step(low_step)
            )
        }))
    }
}

/// The note of an overfitting flag whose task metric `name` still improves: `then` at the loss's
/// lowest evaluation (`low_step`), `now` its level now.
pub fn improves_note(name: &str, then: f64, low_step: f64, now: f64) -> String {
    format!(
        "; but {name} still improves ({} at step {} -> {}): the loss turns up, the task metric does not",
        value_prose(then),
        step(low_step),
        value_prose(now)
    )
}
