//! `dead_units`: AUTOTRAINER's dying-ReLU rule (NOTES §3): at least 70% of units (or gradient
//! entries) are zero, read from a logged dead/zero fraction (`dead_frac`, `zero_frac`, ...),
//! for `dead.persist` points in a row. The flag's step is the first point of the run. One episode
//! until the fraction has stayed below `dead.frac` for `dead.persist` points in a row: a dip for a
//! point or two does not make its return a new flag.

use super::{Ctx, Episode, Finding, FlagConfig, FlagKind, Recovery, Severity};
use crate::text::{step, value_prose};

#[derive(Clone, Debug, Default)]
pub struct Dead {
    streak: usize,
    began: f64,
    episode: Episode,
    recovery: Recovery,
}

impl Dead {
    pub fn observe(&mut self, cfg: &FlagConfig, ctx: &Ctx<'_>, v: f64) -> Option<Finding> {
        // Some scripts log a percentage.
        let frac = if v > 1.0 && v <= 100.0 { v / 100.0 } else { v };
        // NaN compares false: not dead.
        if frac.is_nan() || frac < cfg.dead_frac {
            self.streak = 0;
            self.recovery.lifted(!frac.is_nan(), cfg.dead_persist, &mut self.episode);
            return None;
        }
        self.recovery.held();
        if self.streak == 0 {
            self.began = ctx.step;
        }
        self.streak += 1;
        if self.streak < cfg.dead_persist.max(1) {
            return None;
        }
        let severity = if frac >= cfg.dead_critical { Severity::Critical } else { Severity::Warning };
        let began = self.began;
        Some(self.episode.hit(FlagKind::DeadUnits, severity, began, || {
            format!(
                "{:.0}% of units are dead ({} = {} at step {}), at or above {:.0}% since step {}",
                frac * 100.0,
                ctx.name,
                value_prose(v),
                step(ctx.step),
                cfg.dead_frac * 100.0,
                step(began)
            )
        }))
    }
}
