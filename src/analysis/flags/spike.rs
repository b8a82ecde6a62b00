//! `spike`: one loss value far above its recent level. Built from the published rules in NOTES §3
//! (OLMo-core: |x - mean| / std over the previous values > 6; Lightning Fabric and llm-foundry:
//! a multiple of the recent mean), made robust: the median of the previous `spike.window` log
//! values, the noise scale from the MAD of log differences, the current point excluded, a
//! minimum history, and a ratio guard so a tiny noise scale cannot make a small bump a spike.
//! Spikes are judged during LR warmup too (NOTES §3: "spikes are not" meaningless then).

use super::robust::LogBaseline;
use super::text::{num, step, times};
use super::{Ctx, Finding, FlagConfig, FlagKind, Severity};

#[derive(Clone, Debug)]
pub struct Spike {
    base: LogBaseline,
    points: usize,
}

impl Spike {
    pub fn new(cfg: &FlagConfig) -> Self {
        Spike { base: LogBaseline::new(cfg.spike_window), points: 0 }
    }

    /// `v` is finite and positive.
    pub fn observe(&mut self, cfg: &FlagConfig, ctx: &Ctx<'_>, v: f64) -> Option<Finding> {
        let x = v.ln();
        let mut found = None;
        if self.points >= cfg.spike_min_points {
            if let Some((level, z)) = self.base.assess(x) {
                let ratio = (x - level).exp();
                if z >= cfg.spike_z && ratio >= cfg.spike_ratio {
                    found = Some(Finding {
                        kind: FlagKind::Spike,
                        severity: Severity::Warning,
                        began: ctx.step,
                        message: format!(
                            "{} spiked to {} at step {}: {} the median of the previous {} points ({}), robust z {:.0}",
                            ctx.name,
                            num(v),
                            step(ctx.step),
                            times(ratio),
                            self.base.len(),
                            num(level.exp()),
                            z
                        ),
                    });
                }
            }
        }
        self.base.push(x);
        self.points += 1;
        found
    }
}
