//! `overfitting`: the validation loss turns up while the training loss keeps falling. Prechelt
//! (1998, "Early stopping - but when?", NOTES §3): generalization loss
//! GL = 100 x (E_val / E_min - 1) above a threshold, required here for `overfit.strips` evaluations in a row (his "rising
//! over s successive strips") so one noisy evaluation does not fire. When the paired training
//! loss (see `names::pair_of`) is logged it must not have risen since the val minimum, else the
//! run is diverging rather than overfitting. The flag's step is the val-loss minimum, where the
//! two curves parted.

use super::text::{num, step};
use super::{Ctx, Finding, FlagConfig, FlagKind, Severity};

#[derive(Clone, Debug, Default)]
pub struct Overfitting {
    best: Option<(f64, f64)>,
    train_at_best: Option<f64>,
    evals: usize,
    streak: usize,
}

impl Overfitting {
    /// `v` is a finite eval loss; `train` is the paired training loss's current level, if any.
    pub fn observe(
        &mut self,
        cfg: &FlagConfig,
        ctx: &Ctx<'_>,
        v: f64,
        train: Option<f64>,
    ) -> Option<Finding> {
        self.evals += 1;
        let train = train.filter(|t| t.is_finite());
        match self.best {
            Some((best, _)) if v >= best => {}
            _ => {
                self.best = Some((v, ctx.step));
                self.train_at_best = train;
                self.streak = 0;
                return None;
            }
        }
        let (best, best_step) = self.best?;
        if best <= 0.0 || self.evals < cfg.overfit_min_evals {
            return None;
        }
        let gl = 100.0 * (v / best - 1.0);
        if gl <= cfg.overfit_gl {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        if self.streak < cfg.overfit_strips.max(1) {
            return None;
        }
        let train_note = match (self.train_at_best, train) {
            (Some(t0), Some(t)) if t > t0 * (1.0 + cfg.overfit_train_slack) => return None,
            (Some(t0), Some(t)) => {
                format!(" while the training loss kept falling ({} -> {})", num(t0), num(t))
            }
            _ => String::new(),
        };
        Some(Finding {
            kind: FlagKind::Overfitting,
            severity: Severity::Warning,
            began: best_step,
            message: format!(
                "{} is {:.0}% above its best {} (step {}) at step {}, {} evaluations in a row{train_note}",
                ctx.name,
                gl,
                num(best),
                step(best_step),
                step(ctx.step),
                self.streak
            ),
        })
    }
}
