//! Analysis of a run: smoothing and flags (what is wrong with this run). The reduction that charts
//! draw is `crate::chart`.

pub mod dist;
pub mod families;
pub mod flags;
pub mod names;
pub mod smooth;
pub mod summary;
pub mod sweep;

pub use families::Family;
pub use flags::{
    Analyzer, Flag, FlagConfig, FlagKind, LiveStall, Severity, Threshold, ValueRange, FLAGS_KEPT,
};
