//! `plateau` (info): a loss that stopped improving. The rule of Keras/torch
//! `ReduceLROnPlateau` (NOTES §3): no improvement better than a relative threshold (1e-4) for
//! `patience` (10) evaluations. For a per-step training loss the same rule runs on its rolling
//! median, with a coarser threshold and a patience in points, and never during LR warmup.
//! The flag's step is the last improvement: the plateau began there.

use super::text::{num, step};
use super::{Ctx, Episode, Finding, FlagKind, Severity};

#[derive(Clone, Debug, Default)]
pub struct Plateau {
    best: Option<(f64, f64)>,
    since: usize,
    episode: Episode,
}

impl Plateau {
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
        match self.best {
            Some((best, _)) if level >= best - rel * best.abs() => self.since += 1,
            _ => {
                self.best = Some((level, ctx.step));
                self.since = 0;
                self.episode.clear();
                return None;
            }
        }
        let (best, best_step) = self.best?;
        if self.since < patience.max(1) {
            return None;
        }
        Some(self.episode.hit(FlagKind::Plateau, Severity::Info, best_step, || {
            format!(
                "{} has not improved by more than {}% for {} {unit}: best {} at step {}",
                ctx.name,
                num(rel * 100.0),
                self.since,
                num(best),
                step(best_step)
            )
        }))
    }
}
