//! Flags from distributions (histograms of weights, gradients, activations), one watch per
//! histogram name, judged against the histogram's own start:
//! - **collapse** (`dead_units`): the range the values cover (0th to 100th percentile) falls to
//!   `dist.collapse` x its baseline or below (zero width: every value the same, as the gradients
//!   or outputs of a layer whose ReLUs all died), for `dist.persist` points in a row;
//! - **growth by decades** (`exploding_weights`; `exploding_gradient` for a histogram whose name
//!   says gradient): the middle 68% (16th to 84th percentile) grows to `dist.explode` x its
//!   baseline (critical at `dist.explode_critical` x), for `dist.persist` points in a row.
//!
//! A collapse is one episode until the distribution has clearly recovered: its range back to at
//! least `sqrt(dist.collapse)` x its baseline (halfway between the collapse level and the
//! baseline on a log scale) for `dist.persist` points in a row. A dead layer that lets one batch
//! through (one point of the histogram with a spread, as large as it likes) does not end it, so
//! its next collapse is not raised again.
//!
//! The baseline is the median over the first `dist.baseline` points whose range is not zero (a
//! bias initialised to zero has no spread yet: it is not judged until it has one). Thresholds are
//! ratios to it, never absolute widths: weight scales differ by decades between layers and models.

use super::{Episode, Finding, FlagConfig, FlagKind, Recovery, Severity};
use crate::analysis::dist::spread;
use crate::text::{step, times, value_prose};

/// One histogram's watch.
#[derive(Clone, Debug, Default)]
pub struct DistWatch {
    /// (range, middle spread) of the first points with a non-zero range.
    start: Vec<(f64, f64)>,
    /// Their medians, once there are `dist.baseline` of them.
    base: Option<(f64, f64)>,
    collapsed: (usize, f64),
    grown: (usize, f64),
    collapse_episode: Episode,
    collapse_recovery: Recovery,
    grow_episode: Episode,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Whether a histogram's name says it holds gradients.
fn is_gradient(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("grad")
}

impl DistWatch {
    /// Judges one point of histogram `name` at `at`, from its percentiles.
    pub fn observe(&mut self, cfg: &FlagConfig, name: &str, at: f64, pct: &[f64; 9]) -> Vec<Finding> {
        let (range, middle) = spread(pct);
        let mut out = Vec::new();
        if !range.is_finite() || !middle.is_finite() {
            return out;
        }
        let Some((base_range, base_middle)) = self.base else {
            if range > 0.0 {
                self.start.push((range, middle));
                if self.start.len() >= cfg.dist_baseline.max(1) {
                    let r = median(self.start.iter().map(|s| s.0).collect());
                    let m = median(self.start.iter().map(|s| s.1).collect());
                    self.base = Some((r, m));
                    self.start = Vec::new();
                }
            }
            return out;
        };
        // Collapse.
        if range <= base_range * cfg.dist_collapse {
            self.collapse_recovery.held();
            if self.collapsed.0 == 0 {
                self.collapsed.1 = at;
            }
            self.collapsed.0 += 1;
            if self.collapsed.0 >= cfg.dist_persist.max(1) {
                let began = self.collapsed.1;
                out.push(self.collapse_episode.hit(FlagKind::DeadUnits, Severity::Warning, began, || {
                    let width = if range == 0.0 {
                        "zero width: every value the same".to_owned()
                    } else {
                        format!("width {} ({} its first width {})", value_prose(range), times(range / base_range), value_prose(base_range))
                    };
                    format!(
                        "the distribution of {name} collapsed to {width} at step {}, since step {}: a dead layer",
                        step(at),
                        step(began)
                    )
                }));
            }
        } else {
            self.collapsed.0 = 0;
            let clearly = range >= base_range * cfg.dist_collapse.sqrt();
            self.collapse_recovery.lifted(clearly, cfg.dist_persist, &mut self.collapse_episode);
        }
        // Growth by decades.
        let ratio = if base_middle > 0.0 { middle / base_middle } else { f64::NAN };
        if ratio >= cfg.dist_explode {
            if self.grown.0 == 0 {
                self.grown.1 = at;
            }
            self.grown.0 += 1;
            if self.grown.0 >= cfg.dist_persist.max(1) {
                let began = self.grown.1;
                let severity =
                    if ratio >= cfg.dist_explode_critical { Severity::Critical } else { Severity::Warning };
                let (kind, what) = if is_gradient(name) {
                    (FlagKind::ExplodingGradient, "gradients")
                } else {
                    (FlagKind::ExplodingWeights, "values")
                };
                out.push(self.grow_episode.hit(kind, severity, began, || {
                    format!(
                        "the {what} of {name} spread {} their first spread (middle 68% {} wide at step {}, was {}), growing since step {}",
                        times(ratio),
                        value_prose(middle),
                        step(at),
                        value_prose(base_middle),
                        step(began)
                    )
                }));
            }
        } else {
            self.grown.0 = 0;
            self.grow_episode.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(width: f64) -> [f64; 9] {
        let mut p = [0.0; 9];
        for (i, x) in p.iter_mut().enumerate() {
            *x = width * (i as f64 / 8.0 - 0.5);
        }
        p
    }

    #[test]
    fn a_steady_distribution_raises_nothing_and_a_collapse_one_flag() {
        let cfg = FlagConfig::default();
        let mut w = DistWatch::default();
        for s in 0..50 {
            assert!(w.observe(&cfg, "act/fc1", s as f64, &pct(1.0 + 0.3 * (s % 3) as f64)).is_empty());
        }
        let mut raised = Vec::new();
        for s in 50..60 {
            raised.extend(
                w.observe(&cfg, "act/fc1", s as f64, &pct(0.0)).into_iter().filter(|f| !f.is_still()),
            );
        }
        assert_eq!(raised.len(), 1);
        assert_eq!((raised[0].kind, raised[0].began), (FlagKind::DeadUnits, 50.0));
        assert!(raised[0].message.contains("zero width"), "{}", raised[0].message);
    }

    /// What `widths` (one point each, from step 0) raise.
    fn raised(widths: &[f64]) -> Vec<Finding> {
        let cfg = FlagConfig::default();
        let mut w = DistWatch::default();
        let mut out = Vec::new();
        for (s, &width) in widths.iter().enumerate() {
            out.extend(
                w.observe(&cfg, "grad/fc1", s as f64, &pct(width)).into_iter().filter(|f| !f.is_still()),
            );
        }
        out
    }

    #[test]
    fn a_dead_layer_letting_one_batch_through_is_one_episode_until_it_clearly_recovers() {
        let healthy = [1.0; 10];
        let dead = [0.0; 6];
        // Dead, one point with a spread (as wide as the weights exploded to), dead again: one flag.
        let once = [&healthy[..], &dead, &[5e4], &dead, &[1.0, 1.0], &dead].concat();
        let r = raised(&once);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].began, 10.0);
        // Points between the collapse level and a clear recovery (1e-2 of the baseline, under
        // its square root ~3e-2) do not end it either, however many.
        let between = [&healthy[..], &dead, &[1e-2; 8], &dead].concat();
        assert_eq!(raised(&between).len(), 1);
        // Recovered for `dist.persist` (3) points, then dead again: a new episode.
        let twice = [&healthy[..], &dead, &[1.0, 1.0, 1.0], &dead].concat();
        let r = raised(&twice);
        assert_eq!(r.iter().map(|f| f.began).collect::<Vec<_>>(), [10.0, 19.0]);
    }

    #[test]
    fn growth_by_decades_is_exploding_weights_or_gradients_by_name() {
        let cfg = FlagConfig::default();
        for (name, kind) in
            [("hist/fc1.weight", FlagKind::ExplodingWeights), ("grad/fc1", FlagKind::ExplodingGradient)]
        {
            let mut w = DistWatch::default();
            let mut raised = Vec::new();
            for s in 0..40 {
                let width = if s < 20 { 1.0 } else { 10f64.powf((s - 19) as f64 / 2.0) };
                raised.extend(
                    w.observe(&cfg, name, s as f64, &pct(width)).into_iter().filter(|f| !f.is_still()),
                );
            }
            assert!(!raised.is_empty() && raised.iter().all(|f| f.kind == kind), "{raised:?}");
            assert_eq!(raised[0].severity, Severity::Warning);
            assert!(raised.iter().any(|f| f.severity == Severity::Critical));
        }
    }

    #[test]
    fn a_histogram_at_zero_from_the_start_is_not_judged_until_it_spreads() {
        let cfg = FlagConfig::default();
        let mut w = DistWatch::default();
        for s in 0..20 {
            assert!(w.observe(&cfg, "bias", s as f64, &pct(0.0)).is_empty());
        }
    }
}
