//! `lr_anomaly`: a learning rate that no schedule would produce. Negative is critical. A rise to
//! `lr.jump` x the highest value so far is a warning: warmup rises gradually, step decay only
//! goes down, and warm restarts (SGDR) return to the old peak, none of which fires; while the lr
//! has only risen (warmup, which may start from 1e-9) jumps are not judged. A NaN
//! learning rate is the `nonfinite` flag. Also tracks whether the run is in LR warmup (every lr
//! point so far higher than the one before), which other detectors use (NOTES §3).

use super::{Ctx, Finding, FlagConfig, FlagKind, Severity};
use crate::text::{step, times, value_prose};

#[derive(Clone, Debug)]
pub struct Lr {
    max: f64,
    last: f64,
    points: usize,
    warmup: bool,
}

impl Default for Lr {
    fn default() -> Self {
        Lr { max: f64::NEG_INFINITY, last: f64::NAN, points: 0, warmup: true }
    }
}

impl Lr {
    /// True while every learning rate so far was higher than the one before.
    pub fn in_warmup(&self) -> bool {
        self.warmup && self.points > 1
    }

    pub fn observe(&mut self, cfg: &FlagConfig, ctx: &Ctx<'_>, v: f64) -> Option<Finding> {
        if !v.is_finite() {
            return None;
        }
        if self.points > 0 && v <= self.last {
            self.warmup = false;
        }
        let mut found = None;
        if v < 0.0 {
            found = Some(Finding {
                kind: FlagKind::LrAnomaly,
                severity: Severity::Critical,
                began: ctx.step,
                message: format!("{} is negative ({}) at step {}", ctx.name, value_prose(v), step(ctx.step)),
            });
        } else if !self.warmup && self.max > 0.0 && v >= cfg.lr_jump * self.max {
            found = Some(Finding {
                kind: FlagKind::LrAnomaly,
                severity: Severity::Warning,
                began: ctx.step,
                message: format!(
                    "{} jumped to {} at step {}: {} the highest value before ({})",
                    ctx.name,
                    value_prose(v),
                    step(ctx.step),
                    times(v / self.max),
                    value_prose(self.max)
                ),
            });
        }
        self.max = self.max.max(v);
        self.last = v;
        self.points += 1;
        found
    }
}
