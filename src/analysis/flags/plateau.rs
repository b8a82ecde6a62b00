//! `plateau` (info): a loss that stopped improving. The rule of Keras/torch
//! `ReduceLROnPlateau` (NOTES §3): no improvement better than a relative threshold (1e-4) for
//! `patience` (10) evaluations. For a per-step training loss the same rule runs on its rolling
//! median, with a coarser threshold and a patience in points that grows with the run (a long
//! run improves slowly: 1% in 1000 steps is still progress at step 500k), and never during LR
//! warmup.
//! The flag's step is the last improvement: the plateau began there.

use super::{Ctx, Episode, Finding, FlagKind, Severity};
use crate::text::{step, value_prose};

/// Slack in log units on [`Plateau::observe_log`]'s shortcut, far above the rounding of `ln`
/// and `exp`: closer to the bound, the level is compared exactly as in [`Plateau::observe`].
const LOG_SLACK: f64 = 1e-9;

#[derive(Clone, Debug, Default)]
pub struct Plateau {
    best: Option<(f64, f64)>,
    since: usize,
    episode: Episode,
    /// (rel, ln(best - rel x |best|)) for the current best, once asked for.
    ln_floor: Option<(f64, f64)>,
    /// Levels judged so far.
    seen: usize,
}

impl Plateau {
    /// How many levels this detector has judged (a long run earns a longer patience).
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// `level` is the value judged (an eval loss, or a training loss's rolling median).
    pub fn observe(
        &mut self,
        ctx: &Ctx<'_>,
        level: f64,
        rel: f64,
        patience: usize,
        unit: &str,
    ) -> Option<Finding> {
        if !level.is_finite() {
            return None;
        }
        self.seen += 1;
        match self.best {
            Some((best, _)) if level >= best - rel * best.abs() => self.since += 1,
            _ => {
                self.best = Some((level, ctx.step));
                self.ln_floor = None;
                self.since = 0;
                self.episode.clear();
                return None;
            }
        }
        self.judge(ctx, rel, patience, unit)
    }

    /// [`Plateau::observe`] for a level given by its (finite) log, such as a training loss's
    /// rolling median: the level is only exponentiated when it may be a new best.
    pub fn observe_log(
        &mut self,
        ctx: &Ctx<'_>,
        ln_level: f64,
        rel: f64,
        patience: usize,
        unit: &str,
    ) -> Option<Finding> {
        let Some((best, _)) = self.best else {
            return self.observe(ctx, ln_level.exp(), rel, patience, unit);
        };
        let ln_floor = match self.ln_floor {
            Some((r, f)) if r == rel => f,
            _ => {
                let f = (best - rel * best.abs()).ln();
                self.ln_floor = Some((rel, f));
                f
            }
        };
        // Above the floor by more than rounding: `exp(ln_level) >= floor`, no improvement.
        if ln_level.is_finite() && ln_level > ln_floor + LOG_SLACK {
            self.seen += 1;
            self.since += 1;
            return self.judge(ctx, rel, patience, unit);
        }
        self.observe(ctx, ln_level.exp(), rel, patience, unit)
    }

    /// After a point without improvement.
    fn judge(&mut self, ctx: &Ctx<'_>, rel: f64, patience: usize, unit: &str) -> Option<Finding> {
        let (best, best_step) = self.best?;
        if self.since < patience.max(1) {
            return None;
        }
        Some(self.episode.hit_at(ctx, FlagKind::Plateau, Severity::Info, best_step, || {
            format!(
                "{} has not improved by more than {}% for {} {unit}: best {} at step {}",
                ctx.name,
                value_prose(rel * 100.0),
                self.since,
                value_prose(best),
                step(best_step)
            )
        }))
    }
}
