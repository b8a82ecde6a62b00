//! `divergence`: the training loss climbing and staying up, as opposed to a one-point spike.
//! The rolling median of the last `spike.window` log values (robust to single spikes) is
//! compared with the best such median so far; NOTES §3's Megatron rule (loss >= 10x an early
//! level) and llm-foundry's (2x the window mean for 5 steps) are the published relatives. Not
//! judged during LR warmup, when the trend is meaningless (NOTES §3). The flag's step is where
//! the climb began: the first point of the current run of medians above sqrt(ratio) x best.
//!
//! The best of a noisy rolling median is biased low (it is a minimum of noisy values), so with
//! small batches a healthy loss's median wanders several times above it. The threshold is
//! therefore noise-aware: the rise (in log units) must also exceed `divergence.noise_z` standard
//! errors of the rolling median, 1.2533 x sigma / sqrt(window), with sigma the robust noise of
//! one log value estimated from differences. The critical threshold moves up by the same amount.

use super::robust::LogBaseline;
use super::{Ctx, Episode, Finding, FlagConfig, FlagKind, Severity};
use crate::text::{step, times, value_prose};

#[derive(Clone, Debug)]
pub struct Divergence {
    base: LogBaseline,
    points: usize,
    best: Option<(f64, f64)>,
    began: Option<f64>,
    level: f64,
    episode: Episode,
    /// `ln(max(divergence.ratio, 1))` and the ratio it was taken of.
    ln_ratio: (f64, f64),
    /// `ln(max(divergence.critical / divergence.ratio, 1))` and the (ratio, critical) it was
    /// taken of: asked at every point of a climb past half the ratio.
    ln_critical: (f64, f64, f64),
    /// `sqrt(window)`, the standard error's divisor.
    sqrt_window: f64,
}

impl Divergence {
    pub fn new(cfg: &FlagConfig) -> Self {
        let window = cfg.spike_window.max(1);
        Divergence {
            base: LogBaseline::new(window),
            points: 0,
            best: None,
            began: None,
            level: f64::NAN,
            episode: Episode::default(),
            ln_ratio: (f64::NAN, f64::NAN),
            ln_critical: (f64::NAN, f64::NAN, f64::NAN),
            sqrt_window: (window as f64).sqrt(),
        }
    }

    /// The log of the current rolling median, NaN before the first point.
    pub fn ln_level(&self) -> f64 {
        self.level
    }

    /// True while the loss is in a climb (above sqrt(ratio) x its best, or the noise bound).
    pub fn rising(&self) -> bool {
        self.began.is_some()
    }

    /// The baseline of the log values, shared with the spike detector.
    pub fn baseline(&mut self) -> &mut LogBaseline {
        &mut self.base
    }

    /// `x` is the log of a finite, positive value.
    pub fn observe(&mut self, cfg: &FlagConfig, ctx: &Ctx<'_>, x: f64) -> Option<Finding> {
        self.base.push(x);
        self.points += 1;
        let m = self.base.level();
        self.level = m;
        if self.points < cfg.spike_min_points || ctx.warmup {
            return None;
        }
        let Some((best, best_step)) = self.best else {
            self.best = Some((m, ctx.step));
            return None;
        };
        if m <= best {
            self.best = Some((m, ctx.step));
            self.began = None;
            self.episode.clear();
            return None;
        }
        let rise = m - best;
        if self.ln_ratio.0 != cfg.divergence_ratio {
            self.ln_ratio = (cfg.divergence_ratio, cfg.divergence_ratio.max(1.0).ln());
        }
        // `warn` below is at least this, so the noise scale is not needed under half of it.
        if rise < self.ln_ratio.1 / 2.0 {
            self.began = None;
            self.episode.clear();
            return None;
        }
        let noise_of = |scale: f64| cfg.divergence_noise_z * 1.2533 * scale / self.sqrt_window;
        // The logs of the settings are kept beside them (`ln_ratio` is the same expression).
        // A noise under the ratio leaves `warn` the ratio: a bound on the scale that says so
        // spares its selections. (`noise_of` is monotone in the scale, so the noise is at most
        // the bound's, and `max` gives the same bits with either: the ratio, or an equal
        // noise of the same sign.)
        let want = self.ln_ratio.1 * self.sqrt_window / (cfg.divergence_noise_z * 1.2533);
        let warn = match self.base.scale_at_most(want).map(noise_of) {
            Some(bound) if bound <= self.ln_ratio.1 => self.ln_ratio.1.max(bound),
            _ => self.ln_ratio.1.max(noise_of(self.base.scale())),
        };
        let (ratio, crit) = (cfg.divergence_ratio, cfg.divergence_critical);
        if self.ln_critical.0.to_bits() != ratio.to_bits() || self.ln_critical.1.to_bits() != crit.to_bits() {
            self.ln_critical = (ratio, crit, (crit / ratio).max(1.0).ln());
        }
        let critical = warn + self.ln_critical.2;
        if rise < warn / 2.0 {
            self.began = None;
            self.episode.clear();
            return None;
        }
        let began = *self.began.get_or_insert(ctx.step);
        let severity = if rise >= critical {
            Severity::Critical
        } else if rise >= warn {
            Severity::Warning
        } else {
            return None;
        };
        Some(self.episode.hit(FlagKind::Divergence, severity, began, || {
            format!(
                "{} is diverging: its rolling median rose from {} (step {}) to {} at step {} ({}), climbing since step {}",
                ctx.name,
                value_prose(best.exp()),
                step(best_step),
                value_prose(m.exp()),
                step(ctx.step),
                times(rise.exp()),
                step(began)
            )
        }))
    }
}
