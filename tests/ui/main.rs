//! The monitor's state and screens: keys, snapshots, the corpus drawn, big runs and memory.

#[path = "../support/mod.rs"]
mod support;

mod arch;
mod axes;
mod big;
mod compare;
mod corpus;
mod dists;
mod export;
mod heatmap;
mod issue14;
mod keys;
mod live_overlay;
mod memory;
mod raster;
mod recompute;
mod screens;
mod smoothers;
