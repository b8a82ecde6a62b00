//! Flags: a fixed, machine-readable vocabulary of problems found in a run, and the streaming
//! [`Analyzer`] that raises them one record at a time (so a file read at once and the same file
//! tailed line by line raise the same flags, by construction: there is no end-of-file logic).
//!
//! Each detector lives in its own file and names the published rule it builds on (NOTES §3).
//! Metrics get their detectors from their role by name ([`crate::analysis::names`]). The
//! analyzer keeps bounded state per series (rings of a few dozen values, running bests), reads
//! only the current record from the [`Store`], and de-duplicates: a condition that persists
//! raises one flag dated where it began; the same kind on the same metric raises again only
//! after `cooldown` records without it, or when its severity goes up.
//! Thresholds: [`FlagConfig`], documented in `docs/flags.md`.

mod amp;
mod analyzer;
mod config;
mod crash;
mod dead;
mod dist;
mod divergence;
mod exploding;
mod gaps;
mod learning;
pub mod live_stall;
mod lr;
mod nonfinite;
mod overfitting;
mod plateau;
mod restart;
pub mod robust;
mod spike;
mod task;
mod throughput;
mod vanishing;
mod writers;

pub use analyzer::{histograms_on, Analyzer, FLAGS_KEPT};
pub use config::{FlagConfig, Threshold, ValueRange};
pub use live_stall::LiveStall;

use serde::Serialize;

/// What kind of problem a flag reports. Its name (`dead_units`), as `tmon check --json`,
/// `--on-flag`'s `TMON_KIND` and `docs/flags.md` write it, is derived: [`FlagKind::as_str`],
/// `Display`, `FromStr` and serde all say the same.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    clap::ValueEnum,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumCount,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum FlagKind {
    Nonfinite,
    Spike,
    Divergence,
    Plateau,
    Overfitting,
    Stall,
    Restart,
    DeadUnits,
    VanishingGradient,
    ExplodingGradient,
    ThroughputDrop,
    LrAnomaly,
    Writers,
    // Added by issue 13 (flags, second round).
    Crash,
    // Added by issue 16 (distributions): a histogram's spread growing by decades.
    ExplodingWeights,
    // Across runs (crate::analysis::sweep): raised by comparing a run with its siblings.
    RunOutlier,
    RunStopped,
}

impl FlagKind {
    /// Every kind, in documentation order.
    pub const ALL: &'static [FlagKind] = <FlagKind as strum::VariantArray>::VARIANTS;

    /// The machine-readable name, as in `tmon check --json`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl std::str::FromStr for FlagKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::text::parse_name("flag kind", s)
    }
}

/// How bad a flag is. Ordered: `Info < Warning < Critical`. Its name (`warning`) is derived, for
/// the JSON output, `--fail-on` and `Display` alike.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    clap::ValueEnum,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::text::parse_name("severity", s)
    }
}

/// One problem found in a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub severity: Severity,
    /// The series the flag is about (for `stall` and `restart`, the step series or "").
    pub metric: String,
    /// The step where the condition began.
    pub step: f64,
    /// A sentence a person understands.
    pub message: String,
}

/// What a detector found at one point, before de-duplication.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub kind: FlagKind,
    pub severity: Severity,
    /// The step where the condition began.
    pub began: f64,
    pub message: String,
}

impl Finding {
    /// The condition still holds, already described: keeps its flag de-duplicated without
    /// formatting a message on every point.
    pub fn still(kind: FlagKind, severity: Severity, began: f64) -> Self {
        Finding { kind, severity, began, message: String::new() }
    }

    pub fn is_still(&self) -> bool {
        self.message.is_empty()
    }
}

/// An episode of a persistent condition: describe it when it begins or gets worse, say "still"
/// otherwise.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Episode {
    reported: Option<Severity>,
}

impl Episode {
    /// A full finding from `describe` when the condition is new or more severe, else a still.
    pub fn hit(
        &mut self,
        kind: FlagKind,
        severity: Severity,
        began: f64,
        describe: impl FnOnce() -> String,
    ) -> Finding {
        if self.reported.is_some_and(|r| r >= severity) {
            return Finding::still(kind, severity, began);
        }
        self.reported = Some(severity);
        Finding { kind, severity, began, message: describe() }
    }

    /// As [`Episode::hit`], with no message written when `ctx` says the analyzer would drop it
    /// (a fresh latch of the kind at this severity or above): the episode moves on the same, and
    /// a still refreshes the latch as the dropped finding would have.
    pub fn hit_at(
        &mut self,
        ctx: &Ctx<'_>,
        kind: FlagKind,
        severity: Severity,
        began: f64,
        describe: impl FnOnce() -> String,
    ) -> Finding {
        if ctx.quiet.covers(kind, severity) {
            self.reported = self.reported.max(Some(severity));
            return Finding::still(kind, severity, began);
        }
        self.hit(kind, severity, began, describe)
    }

    pub fn clear(&mut self) {
        self.reported = None;
    }
}

/// The end of an episode, with hysteresis: a persistent condition that lifts for a point or two
/// (a dead layer still lets the odd batch through) is the same episode, not a new one each time it
/// comes back. The episode ends only once the condition has clearly lifted for as many points in
/// a row as raising it took; until then, its return is "still".
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Recovery {
    streak: usize,
}

impl Recovery {
    /// A point where the condition holds.
    pub fn held(&mut self) {
        self.streak = 0;
    }

    /// A point where the condition does not hold, `clearly` lifted or not (between the two: the
    /// streak starts over); ends `episode` after `persist` clear points in a row.
    pub fn lifted(&mut self, clearly: bool, persist: usize, episode: &mut Episode) {
        self.streak = if clearly { self.streak + 1 } else { 0 };
        if self.streak >= persist.max(1) {
            episode.clear();
        }
    }
}

/// What a detector knows about the point it judges.
pub(crate) struct Ctx<'a> {
    pub step: f64,
    pub name: &'a str,
    /// The latest learning rate of the run, for messages.
    pub lr: Option<f64>,
    /// True while the learning rate has only risen (warmup).
    pub warmup: bool,
    /// The series is itself a learning rate.
    pub is_lr: bool,
    /// Kinds whose new finding at this point the analyzer would drop unread.
    pub quiet: Quiet,
}

/// The kinds of finding a series' latches would drop at this point: the kind was raised within
/// the cooldown at this severity or above, so a new finding only refreshes its latch (as a
/// still does). Detectors that write long messages ask first and return a still instead: a
/// noisy real log (the corpus) drops thousands of spike and plateau messages otherwise. Only
/// kinds nothing rewrites after the detector (a divergence may be softened, an overfitting
/// warning weighed again against a task metric) are covered.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Quiet {
    pub spike: Option<Severity>,
    pub plateau: Option<Severity>,
}

impl Quiet {
    pub fn covers(&self, kind: FlagKind, severity: Severity) -> bool {
        let latched = match kind {
            FlagKind::Spike => self.spike,
            FlagKind::Plateau => self.plateau,
            _ => None,
        };
        latched.is_some_and(|l| severity <= l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(quiet: Quiet) -> Ctx<'static> {
        Ctx { step: 7.0, name: "loss", lr: None, warmup: false, is_lr: false, quiet }
    }

    #[test]
    fn quiet_covers_its_kinds_at_or_below_the_latched_severity() {
        let q = Quiet { spike: Some(Severity::Warning), plateau: Some(Severity::Info) };
        assert!(q.covers(FlagKind::Spike, Severity::Warning));
        assert!(q.covers(FlagKind::Spike, Severity::Info));
        assert!(!q.covers(FlagKind::Spike, Severity::Critical));
        assert!(q.covers(FlagKind::Plateau, Severity::Info));
        assert!(!q.covers(FlagKind::Plateau, Severity::Warning));
        // Kinds rewritten after their detectors are never covered.
        assert!(!q.covers(FlagKind::Divergence, Severity::Info));
        assert!(!q.covers(FlagKind::Overfitting, Severity::Info));
        assert!(!Quiet::default().covers(FlagKind::Spike, Severity::Info));
    }

    /// A quiet hit writes no message but moves the episode on as a described one does.
    #[test]
    fn a_quiet_hit_moves_the_episode_like_a_described_one() {
        let quiet = ctx(Quiet { spike: None, plateau: Some(Severity::Info) });
        let loud = ctx(Quiet::default());
        let (mut a, mut b) = (Episode::default(), Episode::default());
        let f = a.hit_at(&quiet, FlagKind::Plateau, Severity::Info, 3.0, || "told".into());
        assert!(f.is_still());
        assert_eq!((f.kind, f.severity, f.began), (FlagKind::Plateau, Severity::Info, 3.0));
        let g = b.hit_at(&loud, FlagKind::Plateau, Severity::Info, 3.0, || "told".into());
        assert_eq!(g.message, "told");
        assert_eq!(a.reported, b.reported);
        // Either way the next hit of the episode is a still, and a worse one is told.
        assert!(a.hit_at(&loud, FlagKind::Plateau, Severity::Info, 3.0, || "again".into()).is_still());
        let w = a.hit_at(&quiet, FlagKind::Plateau, Severity::Warning, 3.0, || "worse".into());
        assert_eq!(w.message, "worse");
    }
}
