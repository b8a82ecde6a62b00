//! The monitor's state: the runs it shows and the view over them. `App::update` (events) and
//! `App::act` (actions, see `input`) are the only places the state changes; drawing (the ui's `render`) only reads it, and the app reads nothing of it.
//!
//! Chart data comes from `crate::chart`, asked with the view's [`chart::Request`] and memoised in
//! an interior-mutable [`chart::Cache`] keyed by the store's generation and the request: drawing
//! stays a pure function of the state, and the cache only avoids recomputing what the key says is
//! unchanged.
//!
//! The files are a [`LiveSet`] (shared with `tmon check --follow`) of [`Slot`]s: each a
//! [`LiveFile`] fed by the source layer, and while its history is read, the opener's preview of
//! its end (see `data` for how the two are swapped).

mod data;
mod export;
mod groups;
mod input;
pub mod keys;
pub mod status;
mod view;

pub use crate::chart::XAxis;
pub use export::Message;
pub use input::{mouse_action, Hit};
pub use keys::{action_for, Action, BINDINGS};
pub use status::{Status, StepRate};
pub use view::{Focus, LayoutMode, View};

use crate::analysis::{Flag, FlagConfig};
use crate::chart::{self, ChartData};
use crate::event::Event;
use crate::ingest::IngestOptions;
use crate::run::live::{Entry, LiveFile, LiveSet};
use crate::run::Run;
use crate::source::FileState;
use crate::store::SeriesId;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How the monitor was asked to run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Draw charts with ASCII dots instead of braille.
    pub ascii: bool,
    /// Drop every colour (the monitor also sets it when `NO_COLOR` is set).
    pub no_color: bool,
    /// Leave the mouse to the terminal (text selection) instead of taking clicks and the wheel.
    pub no_mouse: bool,
    pub ingest: IngestOptions,
    pub flags: FlagConfig,
    /// `--poll MS`: poll the files at this interval instead of using file notifications.
    pub poll: Option<Duration>,
    /// Called once after a history load is done and drawn (the binary hands the memory the load
    /// freed back to the system there; the library leaves the allocator alone).
    pub after_load: Option<fn()>,
}

/// One watched file.
#[derive(Debug)]
pub struct Slot {
    /// The run fed by the source, and the file's state.
    pub live: LiveFile,
    /// The path as given (the ui sanitises it, as every text from outside, when it draws it).
    pub name: String,
    /// While the history is being read.
    pub loading: Option<Loading>,
    /// When data last arrived (monitor clock).
    pub last_data: Option<Duration>,
    /// How long the file had not been written to when opened.
    pub idle_at_open: Option<Duration>,
    pub rate: StepRate,
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

impl Entry for Slot {
    fn live(&self) -> &LiveFile {
        &self.live
    }
    fn live_mut(&mut self) -> &mut LiveFile {
        &mut self.live
    }
}

impl Slot {
    fn new(run: Run) -> Self {
        Slot {
            name: run.path.display().to_string(),
            live: LiveFile::new(run),
            loading: None,
            last_data: None,
            idle_at_open: None,
            rate: StepRate::default(),
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
    /// The files, numbered as the source numbers them.
    pub slots: LiveSet<Slot>,
    /// The run on screen.
    pub current: usize,
    pub view: View,
    /// The monitor's clock (time since `epoch`); injected so tests are deterministic.
    pub now: Duration,
    /// When the monitor's clock started (the stall rule works on `Instant`s).
    epoch: Instant,
    /// Draw in colour (the ui derives its theme from it); off with [`Options::no_color`].
    pub color: bool,
    pub ascii: bool,
    pub should_quit: bool,
    /// The terminal's size as last reported (the loop resolves mouse events on it).
    pub screen: Option<ratatui::layout::Rect>,
    opts: Options,
    groups: Vec<Group>,
    groups_key: (usize, u64, usize, String),
    /// Bumped whenever a run is replaced (preview, then the whole file): series ids change.
    run_epoch: u64,
    /// Records that arrived since the monitor was paused.
    unseen: usize,
    clock_text: String,
    /// What the footer says until the next key (an export's outcome).
    pub message: Option<Message>,
    /// A chart the `e` key asked to write, for the loop to hand to a thread.
    export: Option<crate::export::Job>,
    #[doc(hidden)]
    pub cache: RefCell<chart::Cache>,
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
        let mut app = App {
            slots: runs
                .into_iter()
                .map(|r| {
                    let mut s = Slot::new(r);
                    s.live.state = FileState::Live;
                    s
                })
                .collect::<Vec<_>>()
                .into(),
            current: 0,
            view: View::default(),
            now: Duration::ZERO,
            epoch: Instant::now(),
            color: !opts.no_color,
            ascii: opts.ascii,
            should_quit: false,
            screen: None,
            opts,
            groups: Vec::new(),
            groups_key: (usize::MAX, 0, 0, String::new()),
            run_epoch: 0,
            unseen: 0,
            clock_text: String::new(),
            message: None,
            export: None,
            cache: RefCell::new(chart::Cache::default()),
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

    /// The current run's flags as the flags panel lists them: critical, then warning, then info,
    /// newest (last raised) first within each, so a critical flag is never under an info one.
    pub fn flags_newest_first(&self) -> impl Iterator<Item = &Flag> {
        let mut flags: Vec<&Flag> =
            self.slot().into_iter().flat_map(|s| s.run().flags().iter().rev()).collect();
        // Stable: newest first stays the order within a severity.
        flags.sort_by_key(|f| std::cmp::Reverse(f.severity));
        flags.into_iter()
    }

    /// The status of the run on screen.
    pub fn status(&self) -> Option<Status> {
        let s = self.slot()?;
        let loading = s.loading.as_ref().map(Loading::progress);
        let stall_after = s.live.run.analyzer.live_stall().warn_after();
        Some(status::status(s.state(), loading, s.last_data, s.idle_at_open, stall_after, self.now))
    }

    /// Changes whenever a run is replaced by another (series ids are then different).
    pub fn run_epoch(&self) -> u64 {
        self.run_epoch
    }

    /// Records that arrived while the monitor is paused: they are in the runs already (flags
    /// and the stall see them at once); the screen shows them once resumed.
    pub fn pending(&self) -> usize {
        self.unseen
    }

    /// Applies one event; returns whether the screen must be redrawn.
    pub fn update(&mut self, ev: Event) -> bool {
        let redraw = match ev {
            Event::Key(k) => {
                if k.kind == crossterm::event::KeyEventKind::Release {
                    return false;
                }
                self.message = None;
                self.on_key(k)
            }
            // Resolved by the loop, which knows the layout, into an action for `act`.
            Event::Mouse(_) => false,
            Event::Resize(w, h) => {
                self.screen = Some(ratatui::layout::Rect::new(0, 0, w, h));
                true
            }
            Event::Tick => {
                let flagged = self.tick();
                let text = self.clock_dependent_text();
                let changed = text != self.clock_text;
                self.clock_text = text;
                // Paused, the screen stays as it is; the clock and the stall still run.
                (changed || flagged) && !self.view.paused
            }
            Event::Quit => {
                self.should_quit = true;
                true
            }
            Event::Exported(result) => {
                self.exported(result);
                true
            }
            data => {
                // Paused or not, data reaches the runs at once: pausing freezes the screen, never
                // the data (nothing queues up, no stall is raised for a run that is writing).
                let gained = self.apply_data(data);
                if self.view.paused {
                    self.unseen += gained;
                }
                !self.view.paused
            }
        };
        self.refresh_groups();
        redraw
    }

    /// The chart request of `members`, `width` points across, as the view asks.
    pub fn chart_request<'a>(&self, members: &'a [SeriesId], width: usize) -> chart::Request<'a> {
        let v = &self.view;
        chart::Request {
            members,
            x_axis: v.x_axis,
            zoom: v.zoom,
            anchor: v.anchor,
            width,
            smoother: v.smoother(),
            outliers: v.outliers,
            log: v.log_y,
        }
    }

    /// The run on screen, as the charts read it.
    fn chart_source(&self) -> Option<chart::Data<'_>> {
        let run = self.slot()?.run();
        Some(chart::Data { key: (self.current, self.run_epoch), store: &run.store, flags: run.flags() })
    }

    /// The chart of `members`, `width` points across, from the cache when the data and the view
    /// are unchanged (the cache is a memo: drawing stays a function of the state).
    pub fn chart_data(&self, members: &[SeriesId], width: usize) -> Option<Rc<ChartData>> {
        let data = self.chart_source()?;
        Some(chart::chart(data, &self.chart_request(members, width), &mut self.cache.borrow_mut()))
    }

    /// Builds the columns of the series about to be charted (`members`, on two threads when they
    /// lack many points): the loop calls it before drawing, so drawing finds them ready.
    pub fn warm_charts(&self, members: &[SeriesId]) {
        let Some(data) = self.chart_source() else { return };
        self.cache.borrow_mut().warm(data, members, self.view.x_axis, self.view.smoother());
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
        let all = groups::pair_series(&slot.run().store);
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
