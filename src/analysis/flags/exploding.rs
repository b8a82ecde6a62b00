//! `exploding_gradient`: the global gradient norm jumps far above its own recent level. NOTES §3:
//! in BLOOM-176B's first spike the norm went 0.24 -> 960 before the loss moved, and absolute
//! thresholds are useless across models (one run's baseline was ~1e5), so the rule is a ratio to
//! the run's own history: at least `exploding.ratio` x the median of the previous points with a
//! robust log-space z-score (scale from differences) of at least `exploding.z`. AUTOTRAINER's
//! NaN rule is the `nonfinite` flag.

use super::robust::LogBaseline;
use super::spike::GUARD_SLACK;
use super::{Ctx, Finding, FlagConfig, FlagKind, Severity};
use crate::text::{step, times, value_prose};

#[derive(Clone, Debug)]
pub struct Exploding {
    base: LogBaseline,
    points: usize,
    /// `ln` of the smaller of `exploding.ratio` and `exploding.critical`, and that value.
    ln_guard: (f64, f64),
}

impl Exploding {
    pub fn new(cfg: &FlagConfig) -> Self {
        Exploding { base: LogBaseline::new(cfg.spike_window), points: 0, ln_guard: (f64::NAN, f64::NAN) }
    }

    /// True when `v` is no jump: below `exploding.ratio` x the median of the recent values (or
    /// too few to tell).
    pub fn ordinary(&self, cfg: &FlagConfig, v: f64) -> bool {
        self.base.is_empty()
            || v.is_nan()
            || v <= 0.0
            || v.ln() - self.base.level() < cfg.exploding_ratio.ln()
    }

    /// `v` is finite and positive.
    pub fn observe(&mut self, cfg: &FlagConfig, ctx: &Ctx<'_>, v: f64) -> Option<Finding> {
        let x = v.ln();
        let mut found = None;
        if self.points >= cfg.exploding_min_points && !self.base.is_empty() {
            let guard = cfg.exploding_ratio.min(cfg.exploding_critical);
            if self.ln_guard.0 != guard {
                self.ln_guard = (guard, guard.ln());
            }
            // Below both ratios nothing is raised whatever the noise: skip the z-score.
            let below_guard = x - self.base.level() < self.ln_guard.1 - GUARD_SLACK;
            if below_guard {
                self.base.push(x);
                self.points += 1;
                return None;
            }
            if let Some((level, z)) = self.base.assess(x) {
                let ratio = (x - level).exp();
                let severity = if ratio >= cfg.exploding_critical {
                    Some(Severity::Critical)
                } else if ratio >= cfg.exploding_ratio && z >= cfg.exploding_z {
                    Some(Severity::Warning)
                } else {
                    None
                };
                found = severity.map(|severity| Finding {
                    kind: FlagKind::ExplodingGradient,
                    severity,
                    began: ctx.step,
                    message: format!(
                        "{} jumped to {} at step {}: {} the median of the previous {} points ({})",
                        ctx.name,
                        value_prose(v),
                        step(ctx.step),
                        times(ratio),
                        self.base.len(),
                        value_prose(level.exp())
                    ),
                });
            }
        }
        self.base.push(x);
        self.points += 1;
        found
    }
}
