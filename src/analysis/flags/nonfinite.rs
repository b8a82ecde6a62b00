//! `nonfinite`: the first NaN or infinity of a series (NOTES §2: Python writes bare `NaN`, and a
//! monitor that drops those lines hides the most important event of a run). Critical for losses
//! and the learning rate, warning for other metrics (mixed-precision runs log an infinite
//! gradient norm now and then and skip the step), info for one that has never been finite (an
//! undefined metric, such as the AP of an empty size class). One flag per episode: the condition begins at
//! the first non-finite point and lasts while the series stays non-finite.

use super::{Ctx, Finding, FlagConfig, FlagKind, Severity};
use crate::text::{step, value_prose};

/// 40 bytes: the latest finite point is two values and a flag rather than an
/// `Option<(f64, f64)>` (24 bytes), so the analyzer's per-series hot part holds it in one cache
/// line with the rest of what every point touches.
#[derive(Clone, Debug, Default)]
pub struct Nonfinite {
    /// The latest finite point (step, value), when `has_finite`.
    last_step: f64,
    last_value: f64,
    /// Non-finite points in a row, and the step of the first.
    run: u64,
    run_began: f64,
    has_finite: bool,
    inside: bool,
}

impl Nonfinite {
    /// No point seen yet (`Default`, usable in constants).
    pub const NEW: Nonfinite = Nonfinite {
        last_step: 0.0,
        last_value: 0.0,
        run: 0,
        run_began: 0.0,
        has_finite: false,
        inside: false,
    };

    /// A finite point: the common case, kept small enough to inline.
    #[inline]
    pub fn finite(&mut self, step: f64, v: f64) {
        self.last_step = step;
        self.last_value = v;
        self.has_finite = true;
        self.inside = false;
        self.run = 0;
    }

    /// The latest finite value.
    pub fn last_value(&self) -> Option<f64> {
        self.has_finite.then_some(self.last_value)
    }

    fn last_finite(&self) -> Option<(f64, f64)> {
        self.has_finite.then_some((self.last_step, self.last_value))
    }

    /// True while the series' latest value is non-finite.
    pub fn inside(&self) -> bool {
        self.inside
    }

    /// Non-finite points in a row so far, and the step of the first.
    pub fn run(&self) -> (u64, f64) {
        (self.run, self.run_began)
    }

    pub fn observe(&mut self, cfg: &FlagConfig, ctx: &Ctx<'_>, v: f64, vital: bool) -> Option<Finding> {
        if v.is_finite() {
            self.finite(ctx.step, v);
            return None;
        }
        self.not_finite(cfg, ctx, v, vital)
    }

    #[cold]
    fn not_finite(&mut self, cfg: &FlagConfig, ctx: &Ctx<'_>, v: f64, vital: bool) -> Option<Finding> {
        if self.run == 0 {
            self.run_began = ctx.step;
        }
        self.run += 1;
        if std::mem::replace(&mut self.inside, true) {
            return None;
        }
        let severity = if vital && cfg.nonfinite_loss_critical != 0 {
            Severity::Critical
        } else if !self.has_finite {
            // A metric that has never had a value is undefined rather than broken: detectron2
            // writes NaN for the AP of a size class with no objects, from its first evaluation.
            Severity::Info
        } else {
            Severity::Warning
        };
        let lr = match ctx.lr {
            Some(lr) if !ctx.is_lr => format!(" (lr {})", value_prose(lr)),
            _ => String::new(),
        };
        let last = match self.last_finite() {
            Some((s, x)) => format!("; last finite value {} at step {}", value_prose(x), step(s)),
            None => "; it has had no finite value yet".into(),
        };
        Some(Finding {
            kind: FlagKind::Nonfinite,
            severity,
            began: ctx.step,
            message: format!("{} became {} at step {}{lr}{last}", ctx.name, value_prose(v), step(ctx.step)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::flags::Quiet;

    fn at(step: f64) -> Ctx<'static> {
        Ctx { step, name: "loss", lr: None, warmup: false, is_lr: false, quiet: Quiet::default() }
    }

    /// The latest finite point, kept as two values and a flag (the analyzer's hot part holds it),
    /// reads as the `Option` it replaced: none before the first finite point, then the latest one,
    /// zero values and a zero step included.
    #[test]
    fn the_latest_finite_point_is_kept_across_episodes() {
        let cfg = FlagConfig::default();
        let mut n = Nonfinite::default();
        assert_eq!(n.last_value(), None);
        // Never finite: info, and the message says so.
        let f = n.observe(&cfg, &at(0.0), f64::NAN, false).expect("first non-finite point");
        assert_eq!(f.severity, Severity::Info);
        assert!(f.message.ends_with("it has had no finite value yet"), "{}", f.message);
        assert!(n.inside());
        assert_eq!(n.run(), (1, 0.0));
        assert!(n.observe(&cfg, &at(1.0), f64::INFINITY, false).is_none());
        assert_eq!(n.run(), (2, 0.0));
        n.finite(0.0, -0.0);
        assert_eq!(n.last_value().map(f64::to_bits), Some((-0.0f64).to_bits()));
        assert!(!n.inside());
        assert_eq!(n.run().0, 0);
        assert_eq!(Nonfinite::NEW.last_value(), Nonfinite::default().last_value());
        n.finite(5.0, 2.5);
        let f = n.observe(&cfg, &at(6.0), f64::NEG_INFINITY, false).expect("a new episode");
        assert_eq!((f.severity, f.began), (Severity::Warning, 6.0));
        assert!(f.message.ends_with("last finite value 2.5 at step 5"), "{}", f.message);
        assert_eq!(n.last_value(), Some(2.5));
        assert_eq!(n.run(), (1, 6.0));
    }
}
