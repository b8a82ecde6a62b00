//! Sharing a chart: what the monitor shows, drawn to an SVG and a PNG (the `e` key), and `tmon
//! export`, which draws the charts of logs' metrics to an SVG or PNG, or writes their values to
//! CSV, for scripts and papers.
//!
//! The data comes from the chart engine (`crate::chart`, smoothing from
//! `crate::analysis::smooth`) at the width in points that the plot has in the image, so an image
//! shows what the terminal shows ([`figure`]); it is drawn with plotters and a font compiled in
//! ([`draw`], `font`); axis labels use the terminal's number formatting ([`ticks`]).

mod draw;
pub mod figure;
mod font;
pub mod ticks;

pub use draw::{png, svg};
pub use figure::{Figure, Line, Panel, Source};
