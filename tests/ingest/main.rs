//! Reading logs into runs: our fixtures, the real corpus, bad input, batch against line by line,
//! whole-file documents, and properties.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod batch;
mod compact;
mod corpus;
mod documents;
mod families;
mod fixtures;
mod format_split;
mod formats;
mod hist_formats;
mod histograms;
mod layouts;
mod props;
mod writers;
