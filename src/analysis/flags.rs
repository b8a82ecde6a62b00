//! Flags: a fixed, machine-readable vocabulary of problems found in a run, and the streaming
//! [`Analyzer`] that raises them one record at a time (so a file read at once and the same file
//! tailed line by line raise the same flags).

use crate::store::{RecordIdx, SeriesId, Store};
use serde::Serialize;
use std::fmt;

/// What kind of problem a flag reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
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
}

impl FlagKind {
    pub const ALL: [FlagKind; 12] = [
        FlagKind::Nonfinite,
        FlagKind::Spike,
        FlagKind::Divergence,
        FlagKind::Plateau,
        FlagKind::Overfitting,
        FlagKind::Stall,
        FlagKind::Restart,
        FlagKind::DeadUnits,
        FlagKind::VanishingGradient,
        FlagKind::ExplodingGradient,
        FlagKind::ThroughputDrop,
        FlagKind::LrAnomaly,
    ];

    /// The machine-readable name, as in `tmon check --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::Nonfinite => "nonfinite",
            FlagKind::Spike => "spike",
            FlagKind::Divergence => "divergence",
            FlagKind::Plateau => "plateau",
            FlagKind::Overfitting => "overfitting",
            FlagKind::Stall => "stall",
            FlagKind::Restart => "restart",
            FlagKind::DeadUnits => "dead_units",
            FlagKind::VanishingGradient => "vanishing_gradient",
            FlagKind::ExplodingGradient => "exploding_gradient",
            FlagKind::ThroughputDrop => "throughput_drop",
            FlagKind::LrAnomaly => "lr_anomaly",
        }
    }
}

impl fmt::Display for FlagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a flag is. Ordered: `Info < Warning < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!("unknown severity '{s}' (expected info, warning or critical)")),
        }
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

/// Thresholds of every detector. Defaults are documented in `docs/flags.md`.
#[derive(Clone, Debug, Default)]
pub struct FlagConfig {}

impl FlagConfig {
    /// Overrides one threshold by its documented name, e.g. `spike.z=8`.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        Err(format!("unknown threshold '{key}' (value '{value}')"))
    }
}

/// Raises flags from records as they arrive; holds only bounded per-series state.
#[derive(Debug, Default)]
pub struct Analyzer {
    cfg: FlagConfig,
    flags: Vec<Flag>,
}

impl Analyzer {
    pub fn new(cfg: FlagConfig) -> Self {
        Analyzer { cfg, flags: Vec::new() }
    }

    pub fn config(&self) -> &FlagConfig {
        &self.cfg
    }

    /// Feeds one record: `fields` are the (series, value) pairs it carried.
    pub fn observe(&mut self, store: &Store, rec: RecordIdx, fields: &[(SeriesId, f64)]) {
        let _ = (store, rec, fields);
    }

    /// Raises a flag found outside the records (a file truncated, the wall clock of a live stall).
    pub fn raise(&mut self, flag: Flag) {
        self.flags.push(flag);
    }

    /// All flags raised so far, in the order they were raised.
    pub fn flags(&self) -> &[Flag] {
        &self.flags
    }
}
