//! tmon: a terminal training monitor.
//!
//! The data flows through these modules, in this order:
//! `source` (watch, tail: I/O only) -> `parse` -> `ingest` (schema) -> `store` -> `analysis`
//! (smoothing, flags) -> `chart` (reduction for drawing) -> `app` (state, input) -> `ui`. `run`
//! ties a file's ingest, store and analyzer together, and `run::live` follows files for the
//! monitor and `check --follow`.

// Headless following, `tmon check --follow` (built on the live set, `run::live`); its own group
// to merge cleanly.
pub mod follow;

pub mod analysis;
pub mod chart;
pub mod check;
pub mod cli;
pub mod demo;
pub mod error;
pub mod export;
pub mod formats;
pub mod harness;
pub mod ingest;
pub mod parse;
pub mod run;
pub mod source;
pub mod store;
pub mod text;

pub use error::Error;
pub mod app;
pub mod event;
pub mod monitor;
pub mod tui;
pub mod ui;

pub use monitor::{run_monitor, MonitorOptions};
