//! `spike`: one loss value far above its recent level. Built from the published rules in NOTES §3
//! (OLMo-core: |x - mean| / std over the previous values > 6; Lightning Fabric and llm-foundry:
//! a multiple of the recent mean), made robust: the median of the previous `spike.window` log
//! values, the noise scale from the MAD of log differences, the current point excluded, a
//! minimum history, and a ratio guard so a tiny noise scale cannot make a small bump a spike.
//! Spikes are judged during LR warmup too (NOTES §3: "spikes are not" meaningless then).

use super::robust::LogBaseline;
use super::{Ctx, Finding, FlagConfig, FlagKind, Severity};
use crate::text::{step, times, value_prose};

/// Slack on the log-space ratio guard, far above the rounding of `ln`/`exp`: a point this close
/// to the guard is judged exactly as written below.
pub(crate) const GUARD_SLACK: f64 = 1e-9;

/// Judges training-loss points against the divergence detector's baseline: both want the
/// rolling median of the same log values, so one window serves both.
#[derive(Clone, Debug)]
pub struct Spike {
    points: usize,
    /// `ln(spike.ratio)` and the ratio it was taken of.
    ln_ratio: (f64, f64),
}

impl Spike {
    pub fn new(cfg: &FlagConfig) -> Self {
        Spike { points: 0, ln_ratio: (cfg.spike_ratio, cfg.spike_ratio.ln()) }
    }

    /// `v` is finite and positive, `x` its log; `base` holds the previous log values (`x` is
    /// added by the caller afterwards).
    pub fn observe(
        &mut self,
        cfg: &FlagConfig,
        ctx: &Ctx<'_>,
        v: f64,
        x: f64,
        base: &mut LogBaseline,
    ) -> Option<Finding> {
        let mut found = None;
        if self.points >= cfg.spike_min_points && !base.is_empty() {
            if self.ln_ratio.0 != cfg.spike_ratio {
                self.ln_ratio = (cfg.spike_ratio, cfg.spike_ratio.ln());
            }
            // Below the ratio guard no noise scale makes a spike: skip the z-score (and exp).
            let level = base.level();
            let below_guard = x - level < self.ln_ratio.1 - GUARD_SLACK;
            if !below_guard {
                found = self.judge(cfg, ctx, v, x, base);
            }
        }
        self.points += 1;
        found
    }

    fn judge(
        &mut self,
        cfg: &FlagConfig,
        ctx: &Ctx<'_>,
        v: f64,
        x: f64,
        base: &mut LogBaseline,
    ) -> Option<Finding> {
        let (level, z) = base.assess(x)?;
        let ratio = (x - level).exp();
        if z >= cfg.spike_z && ratio >= cfg.spike_ratio {
            if ctx.quiet.covers(FlagKind::Spike, Severity::Warning) {
                return Some(Finding::still(FlagKind::Spike, Severity::Warning, ctx.step));
            }
            return Some(Finding {
                kind: FlagKind::Spike,
                severity: Severity::Warning,
                began: ctx.step,
                message: format!(
                    "{} spiked to {} at step {}: {} the median of the previous {} points ({}), robust z {:.0}",
                    ctx.name,
                    value_prose(v),
                    step(ctx.step),
                    times(ratio),
                    base.len(),
                    value_prose(level.exp()),
                    z
                ),
            });
        }
        None
    }
}
