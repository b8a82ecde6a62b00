//! The monitor's state and screens: keys, snapshots, the corpus drawn, big runs and memory.

#[path = "../support/mod.rs"]
mod support;

mod big;
mod compare;
mod corpus;
mod dists;
mod export;
mod keys;
mod memory;
mod screens;
