//! The monitor's state: the runs it shows and the view over them. `App::update` is the only place
//! the state changes; drawing (`crate::ui::render`) only reads it.
//!
//! Chart data (window, smoothing, y scaling, per-column reduction) is memoised in `plot::Cache`,
//! an interior-mutable cache keyed by the store's generation and the view: drawing stays a pure
//! function of the state, and the cache only avoids recomputing what the key says is unchanged.
//! Under it, `columns` keeps, for the series on screen only, their xs, smoothed values (f32 while
//! they fit) and block summaries (`envelope`), extended by the points that arrive; raw values are
//! read from the store. A live million-point chart costs the reduction of its columns per frame,
//! not a copy of its points.
//!
//! Each file is a [`Slot`]: a [`LiveRun`] fed by the source layer (`glue`), and while its history
//! streams in, the opener's preview of its end (see `glue` for how the two are swapped).

mod columns;
mod envelope;
mod glue;
pub mod keys;
pub mod plot;
pub mod status;
mod view;

pub use keys::{action_for, Action, BINDINGS};
pub use status::{Status, StepRate};
pub use view::{Focus, LayoutMode, View, XAxis};

use crate::analysis::{Flag, FlagConfig};
use crate::event::Event;
use crate::ingest::IngestOptions;
use crate::run::Run;
use crate::source::{FileState, LiveRun, StallConfig};
use crate::store::SeriesId;
use crate::text::sanitize;
use crate::ui::Theme;
use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, Instant};

/// How the monitor was asked to run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Draw charts with ASCII dots instead of braille.
    pub ascii: bool,
    /// Drop every colour (also set by `NO_COLOR`).
    pub no_color: bool,
    /// Leave the mouse to the terminal (text selection) instead of taking clicks and the wheel.
    pub no_mouse: bool,
    pub ingest: IngestOptions,
    pub flags: FlagConfig,
    /// `--poll MS`: poll the files at this interval instead of using file notifications.
    pub poll: Option<Duration>,
    /// When the live wall-clock stall is raised.
    pub stall: StallConfig,
}

/// One watched file.
#[derive(Debug)]
pub struct Slot {
    /// The run fed by the source, with its wall-clock stall and file state.
    pub live: LiveRun,
    /// The path as shown: sanitised.
    pub name: String,
    /// While the history is being read.
    pub loading: Option<Loading>,
    /// When data last arrived (monitor clock).
    pub last_data: Option<Duration>,
    /// How long the file had not been written to when opened.
    pub idle_at_open: Option<Duration>,
    pub rate: StepRate,
    /// Lines of the history the loader read: the source numbers the lines after it from 1.
    line_base: u64,
}

/// A file whose history is still being read (by the loader, or streamed by the source).
#[derive(Debug, Default)]
pub struct Loading {
    /// Bytes of lines received so far.
    pub received: u64,
    /// The file's size when it was opened (0 until then).
    pub total: u64,
    /// Where the last complete line ended when it was opened: the history is in once `received`
    /// gets there. `None` until the opener reported.
    end: Option<u64>,
    /// The records of the file's end, shown until the history has caught up with them.
    preview: Option<Run>,
    /// Clock ticks without a line while loading (a safety net for a history that ends short of
    /// `end`, e.g. an over-long line dropped by the source).
    idle_ticks: u8,
    /// The history comes from the monitor's loader ([`Event::Loaded`]), not from the source.
    from_loader: bool,
    /// The source's news about the file, held until the loader's history is in.
    held: Vec<crate::source::SourceEvent>,
}

impl Loading {
    /// `(bytes read, file size)`, for the progress bar.
    pub fn progress(&self) -> (u64, u64) {
        (self.received.min(self.total), self.total)
    }
    /// Whether the opener has reported on the file.
    pub fn opened(&self) -> bool {
        self.end.is_some()
    }
    /// Whether the end of the file is shown from a preview.
    pub fn previewing(&self) -> bool {
        self.preview.is_some()
    }
}

impl Slot {
    fn new(run: Run, stall: StallConfig) -> Self {
        Slot {
            name: sanitize(&run.path.display().to_string()).into_owned(),
            live: LiveRun::new(run, stall),
            loading: None,
            last_data: None,
            idle_at_open: None,
            rate: StepRate::default(),
            line_base: 0,
        }
    }

    /// The run on screen: the preview of a big file's end while its history loads, else the run.
    pub fn run(&self) -> &Run {
        self.loading.as_ref().and_then(|l| l.preview.as_ref()).unwrap_or(&self.live.run)
    }

    pub fn state(&self) -> FileState {
        self.live.state
    }

    /// How many times the file started over (truncated, replaced, recreated).
    pub fn restarts(&self) -> usize {
        self.live.restarts
    }
}

/// The charts: each series alone, or a train series with its eval partner.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The train (or only) series first.
    pub members: Vec<SeriesId>,
}

/// All state of the monitor.
pub struct App {
    pub slots: Vec<Slot>,
    /// The run on screen.
    pub current: usize,
    pub view: View,
    /// The monitor's clock (time since `epoch`); injected so tests are deterministic.
    pub now: Duration,
    /// When the monitor's clock started (the stall rule works on `Instant`s).
    epoch: Instant,
    pub theme: Theme,
    pub ascii: bool,
    pub should_quit: bool,
    /// The terminal's size as last reported (for mouse clicks: what is drawn where).
    pub screen: Option<ratatui::layout::Rect>,
    opts: Options,
    groups: Vec<Group>,
    groups_key: (usize, u64, usize, String),
    /// Bumped whenever a run is replaced (preview, then the whole file): series ids change.
    run_epoch: u64,
    /// Data events held back while paused.
    pending: Vec<Event>,
    clock_text: String,
    #[doc(hidden)]
    pub cache: RefCell<plot::Cache>,
}

impl App {
    /// A monitor for `paths`, each starting empty, loading until the source and the opener report.
    pub fn new(paths: &[impl AsRef<Path>], opts: Options) -> Self {
        let runs =
            paths.iter().map(|p| Run::new(p.as_ref(), opts.ingest.clone(), opts.flags.clone())).collect();
        let mut app = Self::from_runs(runs, opts);
        for s in &mut app.slots {
            s.loading = Some(Loading::default());
            s.live.state = FileState::Waiting;
        }
        app
    }

    /// A monitor over runs already read (tests), each shown as live.
    pub fn from_runs(runs: Vec<Run>, opts: Options) -> Self {
        let mut theme = Theme::from_env();
        if opts.no_color {
            theme.color = false;
        }
        let mut app = App {
            slots: runs
                .into_iter()
                .map(|r| {
                    let mut s = Slot::new(r, opts.stall.clone());
                    s.live.state = FileState::Live;
                    s
                })
                .collect(),
            current: 0,
            view: View::default(),
            now: Duration::ZERO,
            epoch: Instant::now(),
            theme,
            ascii: opts.ascii,
            should_quit: false,
            screen: None,
            opts,
            groups: Vec::new(),
            groups_key: (usize::MAX, 0, 0, String::new()),
            run_epoch: 0,
            pending: Vec::new(),
            clock_text: String::new(),
            cache: RefCell::new(plot::Cache::default()),
        };
        app.refresh_groups();
        app
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The slot on screen, if any file was given.
    pub fn slot(&self) -> Option<&Slot> {
        self.slots.get(self.current)
    }

    /// The charts shown (after the filter), in the order metrics first appeared.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The selected chart.
    pub fn selected_group(&self) -> Option<&Group> {
        self.groups.get(self.view.selected)
    }

    /// The current run's flags, newest first.
    pub fn flags_newest_first(&self) -> impl Iterator<Item = &Flag> {
        self.slot().into_iter().flat_map(|s| s.run().flags().iter().rev())
    }

    /// The status of the run on screen.
    pub fn status(&self) -> Option<Status> {
        let s = self.slot()?;
        let loading = s.loading.as_ref().map(Loading::progress);
        let stall_after = s.live.stall.warn_after();
        Some(status::status(s.state(), loading, s.last_data, s.idle_at_open, stall_after, self.now))
    }

    /// Changes whenever a run is replaced by another (series ids are then different).
    pub fn run_epoch(&self) -> u64 {
        self.run_epoch
    }

    /// Data events waiting to be applied (the monitor is paused).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Applies one event; returns whether the screen must be redrawn.
    pub fn update(&mut self, ev: Event) -> bool {
        let redraw = match ev {
            Event::Key(k) => {
                if k.kind == crossterm::event::KeyEventKind::Release {
                    return false;
                }
                self.on_key(k)
            }
            Event::Mouse(m) => self.on_mouse(m),
            Event::Resize(w, h) => {
                self.screen = Some(ratatui::layout::Rect::new(0, 0, w, h));
                true
            }
            Event::Tick => {
                let flagged = self.tick();
                let text = self.clock_dependent_text();
                let changed = text != self.clock_text;
                self.clock_text = text;
                changed || flagged
            }
            Event::Quit => {
                self.should_quit = true;
                true
            }
            data if self.view.paused => {
                self.pending.push(data);
                false
            }
            data => {
                self.apply_data(data);
                true
            }
        };
        self.refresh_groups();
        redraw
    }

    /// Recomputes the chart list when the run, its series or the filter changed.
    fn refresh_groups(&mut self) {
        let series = self.slot().map_or(0, |s| s.run().store.series_count());
        let filter = self.view.filter_edit.clone().unwrap_or_else(|| self.view.filter.clone());
        let key = (self.current, self.run_epoch, series, filter);
        if key == self.groups_key {
            return;
        }
        let pattern = key.3.clone();
        self.groups_key = key;
        let Some(slot) = self.slots.get(self.current) else {
            self.groups.clear();
            return;
        };
        let all = glue::pair_series(&slot.run().store);
        match view::compile_filter(&pattern) {
            Ok(re) => {
                self.view.filter_error = None;
                let store = &slot.run().store;
                self.groups = all
                    .into_iter()
                    .filter(|g| {
                        re.as_ref().is_none_or(|re| g.members.iter().any(|&id| re.is_match(store.name(id))))
                    })
                    .collect();
            }
            // Keep the last good list while the user is still typing.
            Err(e) => self.view.filter_error = Some(e),
        }
        self.view.selected = self.view.selected.min(self.groups.len().saturating_sub(1));
    }

    /// The header text that depends on the clock, as the header writes it; a tick redraws only
    /// when it changes.
    fn clock_dependent_text(&self) -> String {
        let rate = self.slot().and_then(|s| s.rate.per_sec(self.now)).map(crate::text::value);
        let status = self.status().map(|s| s.to_string());
        format!("{status:?} {rate:?}")
    }
}
