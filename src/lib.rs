//! tmon: a terminal training monitor.
//!
//! The data flows through these modules, in this order:
//! `source` (watch, tail) -> `parse` -> `ingest` (schema) -> `store` -> `analysis`
//! (smoothing, flags, reduction) -> `app` (state) -> `ui`.

// Headless following, `tmon check --follow` (built on `source`); its own group to merge cleanly.
pub mod follow;

pub mod analysis;
pub mod check;
pub mod cli;
pub mod demo;
pub mod error;
pub mod formats;
pub mod harness;
pub mod ingest;
pub mod numfmt;
pub mod parse;
pub mod run;
pub mod source;
pub mod store;

pub use error::Error;
pub mod app;
pub mod event;
pub mod monitor;
pub mod tui;
pub mod ui;

pub use monitor::{run_monitor, MonitorOptions};
