//! The view over a run: what is selected, how charts are scaled and windowed, what the filter is.
//! The input handling that changes it is `input`.

use crate::analysis::smooth::Smoother;
use crate::chart::XAxis;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutMode {
    Grid,
    Single,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Metrics,
    Flags,
    /// The runs panel (comparing runs).
    Runs,
}

/// What the main area shows: the training curves, or a view inside the network (issue
/// "Inside the network"). `i` cycles through the panes that have data for the run on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Pane {
    /// The metric charts (the default).
    #[default]
    Charts,
    /// Per-layer metric families as heatmaps.
    Heatmap,
    /// Histograms over time as percentile bands.
    Distributions,
    /// The model's architecture as a block diagram.
    Architecture,
}

/// How the charts are shown.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub layout: LayoutMode,
    pub focus: Focus,
    /// Index into the app's groups.
    pub selected: usize,
    /// Index into the flags, newest first.
    pub flag_selected: usize,
    /// The applied filter (a case-insensitive regex; empty: everything).
    pub filter: String,
    /// The filter being typed, while the prompt is open.
    pub filter_edit: Option<String>,
    pub filter_error: Option<String>,
    /// The smoother the `s`/`S`/`m` keys adjust; at strength 0 only the raw series is drawn.
    pub smoothing: Smoother,
    pub outliers: bool,
    pub log_y: bool,
    pub x_axis: XAxis,
    /// Width of the window in x units; `None` shows everything.
    pub zoom: Option<f64>,
    /// Right edge of the window; `None` follows the newest data.
    pub anchor: Option<f64>,
    pub paused: bool,
    pub help: bool,
    /// The first line of the help overlay shown (it scrolls where the screen is too short).
    pub help_scroll: usize,
    /// The cursor of the single-chart view: the x it reads (on the chart's axis), or None when
    /// it is hidden.
    pub cursor: Option<f64>,
    /// What the main area shows.
    pub pane: Pane,
    /// The family the heatmap shows (an index into [`App::families`](super::App::families)).
    pub heat_family: usize,
    /// The heatmap cursor's layer (a row of the family, input first); its step is `cursor`.
    pub heat_row: usize,
    /// The families shown expanded in the metric list (one entry per layer), by name.
    pub expanded: Vec<String>,
    /// The architecture pane's cursor, open blocks and colouring (see `app::arch`).
    pub arch: ArchView,
    /// The distributions pane's histogram and cursor.
    pub dist: super::DistState,
}

/// The architecture pane's state.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ArchView {
    /// The selected row.
    pub cursor: usize,
    /// Keys of blocks whose open state differs from the default (the root open, all else closed).
    pub toggled: std::collections::BTreeSet<String>,
    /// Which per-layer metric colours the blocks (an index into the metrics that name a block).
    pub metric: usize,
    /// The step the colours are read at; `None` follows the newest record.
    pub step: Option<f64>,
}

impl Default for View {
    fn default() -> Self {
        View {
            layout: LayoutMode::Grid,
            focus: Focus::Metrics,
            selected: 0,
            flag_selected: 0,
            filter: String::new(),
            filter_edit: None,
            filter_error: None,
            smoothing: Smoother::default(),
            outliers: true,
            log_y: false,
            x_axis: XAxis::Step,
            zoom: None,
            anchor: None,
            paused: false,
            help: false,
            help_scroll: 0,
            cursor: None,
            pane: Pane::Charts,
            heat_family: 0,
            heat_row: 0,
            expanded: Vec::new(),
            arch: ArchView::default(),
            dist: Default::default(),
        }
    }
}

impl View {
    /// The smoother's parameter (weight, sigma or window).
    pub fn weight(&self) -> f64 {
        self.smoothing.param()
    }

    /// The smoother in effect, or None when it would return the raw series (weight or sigma 0,
    /// a window of 1).
    pub fn smoother(&self) -> Option<Smoother> {
        let s = self.smoothing.clamped();
        let identity = match s {
            Smoother::RunningAverage { window } => window <= 1,
            _ => s.param() == 0.0,
        };
        (!identity).then_some(s)
    }

    /// "EMA 0.6", "Gaussian σ=5", or "EMA off" when only the raw series is drawn.
    pub fn smoother_label(&self) -> String {
        match self.smoother() {
            Some(s) => s.label(),
            None => format!("{} off", self.smoothing.name()),
        }
    }

    /// The filter in effect now: the one being typed (live preview) or the applied one.
    pub fn active_filter(&self) -> &str {
        self.filter_edit.as_deref().unwrap_or(&self.filter)
    }
}

/// Compiles a filter: `None` for an empty one; an error message when the regex is invalid.
pub fn compile_filter(pattern: &str) -> Result<Option<regex::Regex>, String> {
    if pattern.is_empty() {
        return Ok(None);
    }
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .map(Some)
        .map_err(|e| e.to_string().lines().last().unwrap_or("invalid regex").trim().to_owned())
}
