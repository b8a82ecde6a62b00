//! tmon: a terminal training monitor.
//!
//! The modules are listed in the order the data flows through them, from the bytes of a log file
//! to the screen (`docs/architecture.md` draws it). `run` ties the middle of the flow together for
//! one training run; the commands at the end drive it.

// Bytes in: files found and followed (I/O only), then decoded.
// Finds log files, tails them as they grow, reports truncation, replacement and deletion.
pub mod source;
// Bytes of one JSON line or document into flat fields (a lenient, allocation-light scanner).
pub mod parse;
// The other formats training writes (TensorBoard events, CSV, W&B run files, MLflow stores).
pub mod formats;

// Records: the schema, the columns, what is wrong.
// Format, step and clock detection with zero configuration: fields into records.
pub mod ingest;
// The model's architecture: a module tree from `print(model)` text or a model record.
pub mod model;
// The columnar store of one run: a record table and one column per series.
pub mod store;
// Smoothing and flags: the only place flags are raised.
pub mod analysis;
// One run (ingest + store + analyzer), fed whole or event by event, and the live set of followed
// files shared by the monitor and `check --follow`.
pub mod run;

// Out to a person: charts, state, screen.
// Reduction for drawing: a chart request over a store into per-column envelopes and axes.
pub mod chart;
// The monitor's state and its input handling: the only place that state changes.
pub mod app;
// `render(frame, &App)`: one file per screen region, a pure function of the state.
pub mod ui;
// Charts out to files: SVG, PNG (plotters) and CSV, from the chart engine's data.
pub mod export;
// Numbers, steps, durations and the one sanitiser between a log's strings and a terminal.
pub mod text;

// The commands and what they run on.
// The monitor's loop: one loop owns the app; threads only send it events.
pub mod monitor;
// The events the monitor's loop reacts to, and the threads that send them.
pub mod event;
// The terminal: raw mode and the alternate screen, restored on every way out.
pub mod tui;
// `tmon check`: a report and the flags of log files read at once.
pub mod check;
// `tmon check --follow`: flags printed as they fire, with `--on-flag` hooks.
pub mod follow;
// `tmon demo` on the training harness.
pub mod demo;
// A small MLP trained by real gradient descent: the demo and the flags' test scenarios.
pub mod harness;
// The command line (clap derive).
pub mod cli;
// The library's error type.
pub mod error;

pub use error::Error;
pub use monitor::{run_monitor, MonitorOptions};
