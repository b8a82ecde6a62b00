//! The analyzer's flags: rules on hand-built streams, the training harness, the real corpus, the
//! docs' threshold table, and the golden dump of every flag.

#[path = "../support/mod.rs"]
mod support;

mod corpus;
mod dists;
mod docs;
mod fixtures;
mod golden;
mod harness;
mod perf;
mod rules;
mod sweep;
