//! Mixed precision (NOTES §3): with dynamic loss scaling (`torch.cuda.amp.GradScaler`,
//! DeepSpeed, apex, fairseq) a gradient that overflows float16 makes the step a skipped one and
//! halves the loss scale; after a run of good steps the scale doubles again. An infinite gradient
//! norm on such a step is routine, so the analyzer tells it as info ("overflow, step skipped")
//! when the run logs a loss scale or its loss stays finite (`analyzer.rs` decides; the messages
//! are here).
//!
//! The real fault is a scale that keeps falling: the gradients overflow at every scale, so no
//! step is taken. DeepSpeed stops at its `min_loss_scale` (1 by default); GradScaler has no
//! minimum and halves on. [`LossScale`] raises `nonfinite` (warning) on the loss-scale series
//! when it falls to `amp.min_scale` or below, having been above it: a run that keeps its scale at
//! 1 from the start (bf16 runs log `loss_scale: 1`) never fell to it. Without a logged scale, the
//! analyzer raises the same warning on the gradient norm when it stays non-finite for
//! `amp.persist` points in a row.

use super::{Ctx, Episode, Finding, FlagConfig, FlagKind, Severity};
use crate::text::{step, value_prose};

/// The loss-scale series' state: its highest value and where, and the episode at its floor.
#[derive(Clone, Debug, Default)]
pub struct LossScale {
    peak: Option<(f64, f64)>,
    episode: Episode,
}

impl LossScale {
    /// `v` is a finite loss-scale value.
    pub fn observe(&mut self, cfg: &FlagConfig, ctx: &Ctx<'_>, v: f64) -> Option<Finding> {
        if self.peak.is_none_or(|(p, _)| v > p) {
            self.peak = Some((v, ctx.step));
        }
        let (peak, peak_step) = self.peak?;
        if v > cfg.amp_min_scale || peak <= cfg.amp_min_scale {
            self.episode.clear();
            return None;
        }
        Some(self.episode.hit(FlagKind::Nonfinite, Severity::Warning, ctx.step, || {
            format!(
                "{} fell to {} at step {} (from {} at step {}): the gradients overflow float16 at every scale, \
                 so the steps are being skipped",
                ctx.name,
                value_prose(v),
                step(ctx.step),
                value_prose(peak),
                step(peak_step)
            )
        }))
    }
}

/// The note appended to a gradient norm's non-finite message when it is a routine overflow.
pub fn overflow_note(scale: Option<(&str, f64)>) -> String {
    match scale {
        Some((name, s)) => format!(
            ": a mixed-precision overflow, step skipped ({name} {}; the scale halves and training goes on)",
            value_prose(s)
        ),
        None => ": a mixed-precision overflow, step skipped (the loss stays finite)".to_owned(),
    }
}

/// The warning for a gradient norm non-finite for `n` points in a row since `since`.
pub fn persistent(name: &str, n: u64, since: f64) -> String {
    format!(
        "{name} has been non-finite for {n} points in a row since step {}: not an occasional overflow, no step \
         is being taken",
        step(since)
    )
}

/// True for a printed line that reports a skipped mixed-precision step (DeepSpeed's `OVERFLOW!
/// Rank 0 Skipping step. Attempted loss scale: ...`, apex's `Gradient overflow.  Skipping step,
/// loss scaler 0 reducing loss scale to ...`, fairseq's `gradient overflow detected, ignoring
/// gradient, setting loss scale to: ...`).
pub fn overflow_line(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("overflow") && (lower.contains("skipping step") || lower.contains("loss scale"))
}
