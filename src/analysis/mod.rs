//! Analysis of a run: smoothing, flags (what is wrong with this run) and the per-column reduction
//! that charts draw.

pub mod flags;
pub mod names;
pub mod reduce;
pub mod smooth;

pub use flags::{Analyzer, Flag, FlagConfig, FlagKind, LiveStall, Severity, Threshold, ValueRange};
