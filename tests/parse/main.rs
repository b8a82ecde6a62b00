//! The line parser: one test per rule, properties, and every line of the real corpus.

#[path = "../support/mod.rs"]
mod support;

mod corpus;
mod model;
mod props;
mod rules;
