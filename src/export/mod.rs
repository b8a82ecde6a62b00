//! Sharing a chart: the monitor's `e` key draws the selected chart, as the screen shows it, to an
//! SVG and a PNG in the current directory ([`job`]); `tmon export` draws the charts of logs'
//! metrics to an SVG or a PNG, or writes their values to CSV, for scripts and papers
//! ([`command`], [`csv`]).
//!
//! The data comes from the chart engine (`crate::chart`: the request and the cache the terminal
//! draws with; smoothing from `crate::analysis::smooth`) at the width in points that the plot has
//! in the image, so an image shows what the terminal shows ([`figure`]). It is drawn with plotters
//! and a font compiled in ([`draw`], `font`), with axis labels in the terminal's number formatting
//! ([`ticks`]).

pub mod command;
pub mod csv;
mod draw;
pub mod figure;
mod font;
pub mod job;
pub mod series;
pub mod ticks;

pub use draw::{png, svg};
pub use figure::{Figure, Line, Panel, Source};
pub use job::{file_stem, Job};

use std::path::{Path, PathBuf};
use thiserror::Error;

/// What `tmon export` writes, told by the output's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
    Csv,
}

impl Format {
    /// The format a file name's extension asks for (any case).
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "svg" => Some(Format::Svg),
            "png" => Some(Format::Png),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Why `tmon export` wrote nothing (every kind exits with status 2).
#[derive(Debug, Error)]
pub enum ExportError {
    /// A usage error, or a path that cannot be read.
    #[error(transparent)]
    Tmon(#[from] crate::Error),
    #[error("cannot draw the chart: {0}")]
    Draw(String),
    #[error("cannot write '{}': {reason}", path.display())]
    Write { path: PathBuf, reason: String },
}

impl ExportError {
    fn write(path: &Path, e: std::io::Error) -> Self {
        ExportError::Write { path: path.to_owned(), reason: e.to_string() }
    }
}
#[cfg(test)]
mod tests;
