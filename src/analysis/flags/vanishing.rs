//! `vanishing_gradient`: AUTOTRAINER's rule (ICSE 2021, `utils/monitor.py`; NOTES §3): the
//! gradient norm of the first layer is below `vanishing.ratio` (1e-3) of the last layer's and
//! below `vanishing.first_max` (1e-4) itself. Judged on the per-layer norms one record carries
//! (`grad_norm/layer0`..., ordered by the number in the name, then by first appearance), for
//! `vanishing.persist` records in a row. AUTOTRAINER's extra guard (low accuracy, after 30% of
//! training) needs the run's length, which a live log does not know; persistence replaces it.
//! An exactly zero first-layer norm is not vanishing but dead units (every path is cut).

use super::{Episode, Finding, FlagConfig, FlagKind, Severity};
use crate::text::{step, value_prose};

#[derive(Clone, Debug, Default)]
pub struct Vanishing {
    streak: usize,
    began: f64,
    episode: Episode,
}

impl Vanishing {
    /// `first` and `last` are (name, norm) of the input-most and output-most layers.
    pub fn observe(
        &mut self,
        cfg: &FlagConfig,
        step_now: f64,
        first: (&str, f64),
        last: (&str, f64),
    ) -> Option<Finding> {
        let ratio = first.1 / last.1;
        let vanishing =
            first.1 > 0.0 && last.1 > 0.0 && ratio < cfg.vanishing_ratio && first.1 < cfg.vanishing_first_max;
        if !vanishing {
            self.streak = 0;
            self.episode.clear();
            return None;
        }
        if self.streak == 0 {
            self.began = step_now;
        }
        self.streak += 1;
        if self.streak < cfg.vanishing_persist.max(1) {
            return None;
        }
        let began = self.began;
        Some(self.episode.hit(FlagKind::VanishingGradient, Severity::Warning, began, || {
            format!(
                "gradients vanish toward the input: {} = {} is {} of {} = {} (below {} and {}) since step {}",
                first.0,
                value_prose(first.1),
                value_prose(ratio),
                last.0,
                value_prose(last.1),
                value_prose(cfg.vanishing_ratio),
                value_prose(cfg.vanishing_first_max),
                step(began)
            )
        }))
    }
}
