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
//!
//! With two runs or more, the runs are compared (`compare`): each chart overlays the runs shown
//! ([`chart::overlay`]), one chart per metric any run has, and the runs panel lists them.

pub mod arch;
mod compare;
mod data;
mod dist;
mod export;
mod groups;
mod input;
pub mod keys;
pub mod recompute;
pub mod status;
mod view;

pub use crate::chart::XAxis;
pub use compare::{natural_cmp, status_word, Compare, FlagCount, RunLook, SortKey, COLOURS, RAW_MAX_RUNS};
pub use dist::DistState;
pub use export::Message;
pub use input::{mouse_action, Hit};
pub use keys::{action_for, Action, BINDINGS};
pub use status::{Status, StepRate};
pub use view::{ArchView, Focus, LayoutMode, Pane, View};

use crate::analysis::{Flag, FlagConfig};
use crate::chart::{self, ChartData, Layer, OverlayData, Reading};
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
    /// Draw in ASCII only: charts with ASCII dots instead of braille, frames, markers and
    /// everything else in ASCII characters.
    pub ascii: bool,
    /// The terminal has only the 16 basic colours (runs then take their colours from those, and
    /// their letters keep them apart).
    pub colors16: bool,
    /// Drop every colour (the monitor also sets it when `NO_COLOR` is set).
    pub no_color: bool,
    /// The terminal shows 24-bit colour (the monitor sets it where `COLORTERM` says so: see
    /// `ui::Colours`); else at most the 256-colour palette is used.
    pub truecolor: bool,
    /// Leave the mouse to the terminal (text selection) instead of taking clicks and the wheel.
    pub no_mouse: bool,
    pub ingest: IngestOptions,
    pub flags: FlagConfig,
    /// `--poll MS`: poll the files at this interval instead of using file notifications.
    pub poll: Option<Duration>,
    /// `--max-output`: about how many bytes a second frames that only show new data may send to
    /// the terminal (fewer frames when frames are big, never more than a second behind); 0, the
    /// library's default, is no limit.
    pub max_output: u64,
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
    /// Changes whenever the slot's run is replaced (a preview, then the history): its series ids
    /// then mean other series, and its charts start over.
    epoch: u64,
    /// The run's config as read from its first record and the files beside it (the loader reads
    /// it); what the log's format records itself ([`RunInfo::config`](crate::formats::RunInfo))
    /// takes precedence, as in `tmon check`.
    pub file_config: crate::run::config::ConfigRead,
    /// The model printed in the stdout log beside the run's log (the loader reads it): the run's
    /// model when its own log has none.
    pub model_beside: Option<std::rc::Rc<crate::model::Model>>,
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
    /// When the run last came back from a decode job while the history is still loading
    /// (monitor clock): the history counts as in once nothing more came for [`SETTLE`].
    back_at: Option<Duration>,
}

/// A history streamed by the source and decoded off the loop (a database's runs, whose size says
/// nothing of where their history ends) is in once no piece came for this long after the last
/// one was decoded: longer than the source takes to read the next piece, short to the eye.
pub const SETTLE: Duration = Duration::from_millis(250);

impl Loading {
    /// `(bytes read, file size)`, for the progress bar.
    pub fn progress(&self) -> (u64, u64) {
        (self.received.min(self.total), self.total)
    }
    /// Whether the opener has reported on the file.
    pub fn opened(&self) -> bool {
        self.end.is_some()
    }
    /// Whether the end of the file is shown from a preview (not a blank one, shown while a run is
    /// away with a decode job).
    pub fn previewing(&self) -> bool {
        self.preview.as_ref().is_some_and(|r| r.store.records() > 0)
    }
}

impl Entry for Slot {
    fn live(&self) -> &LiveFile {
        &self.live
    }
    fn live_mut(&mut self) -> &mut LiveFile {
        &mut self.live
    }
    fn name_run(&mut self, path: &std::path::Path) {
        self.name = path.display().to_string();
    }
    /// A history streamed by the source (a file found later, a database's runs) is decoded on the
    /// loader's pool piece by piece, and so is any big piece of a live run.
    fn offload_over(&self) -> usize {
        if self.loading.is_some() {
            0
        } else {
            LIVE_INLINE_MAX
        }
    }
}

/// A piece of a followed binary file (or a database's news) up to this size is decoded on the
/// monitor's loop (a millisecond or so: a live writer's appends); a bigger one, and every piece
/// of a history, is decoded on the loader's pool ([`crate::run::LiveSet::set_offload`]).
pub const LIVE_INLINE_MAX: usize = 256 << 10;

impl Slot {
    fn new(run: Run) -> Self {
        Slot {
            name: run.path.display().to_string(),
            live: LiveFile::new(run),
            loading: None,
            last_data: None,
            idle_at_open: None,
            rate: StepRate::default(),
            epoch: 0,
            file_config: Default::default(),
            model_beside: None,
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

/// The charts: each series alone, or a train series with its eval partner. Comparing runs, a
/// chart is one metric, overlaid for every run shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The series of the run on screen, the train (or only) series first (comparing runs: the
    /// chart's metric in the selected run, or none when that run lacks it).
    pub members: Vec<SeriesId>,
    /// The series' names (comparing runs: the chart's metric).
    pub names: Vec<String>,
    /// The per-layer family (an index into [`App::families`]) this entry is (collapsed: its
    /// first and last layer are the members) or is a layer of (`layer`).
    pub family: Option<usize>,
    /// A layer listed under its expanded family.
    pub layer: bool,
}

/// What the chart list was computed from: (slot on screen, run epoch, series, filter, comparing).
type GroupsKey = (usize, u64, usize, String, bool);

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
    /// The 16 basic colours only (see [`Options::colors16`]).
    pub colors16: bool,
    /// 24-bit colour may be sent (see [`Options::truecolor`]).
    pub truecolor: bool,
    /// The runs compared (with two runs or more).
    pub compare: Compare,
    groups: Vec<Group>,
    groups_key: GroupsKey,
    /// The per-layer families of the run on screen (`crate::analysis::families`).
    families: Vec<crate::analysis::Family>,
    /// Bumped whenever a run is replaced (preview, then the whole file): series ids change.
    run_epoch: u64,
    /// Changes whenever a run's config read from its files changed (the runs panel's config
    /// columns are worked out again).
    config_gen: u64,
    /// Records that arrived since the monitor was paused.
    unseen: usize,
    /// Data was applied by [`App::update_data`] and what derives from the runs (the comparison,
    /// the chart list) is not brought up to date yet: [`App::settle`] does it.
    unsettled: bool,
    clock_text: String,
    /// What the footer says until the next key (an export's outcome).
    pub message: Option<Message>,
    /// A chart the `e` key asked to write, for the loop to hand to a thread.
    export: Option<crate::export::Job>,
    /// Decode jobs for the loop to hand to its pool ([`App::take_decodes`]).
    decodes: Vec<(usize, crate::run::live::DecodeJob)>,
    #[doc(hidden)]
    pub cache: RefCell<chart::Cache>,
    /// The view change being computed away from the loop, if any (see `recompute`).
    pub recompute: recompute::Recompute,
    /// The run on screen's model, read again only when its key changes (see `arch`).
    model_cache: RefCell<arch::ModelCache>,
    /// What the overlaid grid charts, for the loader to build a history's columns by
    /// ([`App::overlay_plan`]).
    overlay_plan: chart::SharedPlan,
}

impl App {
    /// The panes the `i` key cycles through for the run on screen: the charts always, each view
    /// inside the network when the run has data for it.
    pub fn panes(&self) -> Vec<Pane> {
        let mut out = vec![Pane::Charts];
        if !self.families.is_empty() {
            out.push(Pane::Heatmap);
        }
        if self.slot().is_some_and(|s| !s.run().store.histograms().is_empty()) {
            out.push(Pane::Distributions);
        }
        if self.model().is_some() {
            out.push(Pane::Architecture);
        }
        out
    }

    /// The per-layer families of the run on screen, in the order their first series appeared.
    pub fn families(&self) -> &[crate::analysis::Family] {
        &self.families
    }

    /// The family the heatmap shows, when the heatmap is on screen.
    pub fn heat_family(&self) -> Option<&crate::analysis::Family> {
        (self.view.pane == Pane::Heatmap).then(|| self.families.get(self.view.heat_family)).flatten()
    }

    /// The heatmap of the shown family, `width` columns across, from the memo when the data and
    /// the view are unchanged (the loop builds it before drawing: [`App::warm_heatmap`]).
    pub fn heatmap_data(&self, width: usize) -> Option<Rc<chart::HeatData>> {
        let f = self.heat_family()?;
        let data = self.chart_source()?;
        let req = chart::HeatRequest { ids: &f.ids, zoom: self.view.zoom, anchor: self.view.anchor, width };
        Some(chart::heat(data, &req, &mut self.cache.borrow_mut().heat))
    }

    /// Reduces the heatmap about to be drawn, `width` columns across, so drawing finds it ready.
    /// A family's first heatmap is built a slice per frame (see [`chart::warm_heat`]).
    pub fn warm_heatmap(&self, width: usize) {
        let Some(f) = self.heat_family() else { return };
        let Some(data) = self.chart_source() else { return };
        let req = chart::HeatRequest { ids: &f.ids, zoom: self.view.zoom, anchor: self.view.anchor, width };
        let _ = chart::warm_heat(data, &req, &mut self.cache.borrow_mut().heat);
    }

    /// The rows of the shown family that flags point at (`dead_units`, `vanishing_gradient`,
    /// `exploding_gradient`: see [`crate::analysis::families::flag_target`]), with the worst
    /// severity and the earliest step of the flags marking each.
    pub fn heat_marks(&self) -> Vec<(usize, crate::analysis::Severity, f64)> {
        let (Some(f), Some(slot)) = (self.heat_family(), self.slot()) else { return Vec::new() };
        let run = slot.run();
        let mut out: Vec<(usize, crate::analysis::Severity, f64)> = Vec::new();
        for flag in run.flags() {
            let Some((fi, rows)) =
                crate::analysis::families::flag_target(&self.families, &run.store, flag, &self.opts.flags)
            else {
                continue;
            };
            if self.families.get(fi) != Some(f) {
                continue;
            }
            for r in rows {
                match out.iter_mut().find(|m| m.0 == r) {
                    Some(m) => {
                        m.1 = m.1.max(flag.severity);
                        m.2 = m.2.min(flag.step);
                    }
                    None => out.push((r, flag.severity, flag.step)),
                }
            }
        }
        out.sort_by_key(|m| m.0);
        out
    }

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
            colors16: opts.colors16,
            truecolor: opts.truecolor,
            compare: Compare::default(),
            ascii: opts.ascii,
            should_quit: false,
            screen: None,
            opts,
            groups: Vec::new(),
            groups_key: (usize::MAX, 0, 0, String::new(), false),
            families: Vec::new(),
            run_epoch: 0,
            config_gen: 0,
            unseen: 0,
            unsettled: false,
            clock_text: String::new(),
            message: None,
            export: None,
            decodes: Vec::new(),
            cache: RefCell::new(chart::Cache::default()),
            recompute: recompute::Recompute::default(),
            model_cache: RefCell::new(arch::ModelCache::default()),
            overlay_plan: chart::SharedPlan::default(),
        };
        app.refresh();
        app
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The runs shown: the slots but those of files read into another's run (the later event
    /// files of a TensorBoard folder).
    pub fn run_count(&self) -> usize {
        self.slots.iter().filter(|s| s.live.member_of.is_none()).count()
    }

    /// The place (from 1) of the run on screen among [`run_count`](Self::run_count).
    pub fn run_number(&self) -> usize {
        self.slots.iter().take(self.current + 1).filter(|s| s.live.member_of.is_none()).count().max(1)
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

    /// The flags the flags panel lists, with their run's slot: the run on screen's, newest first;
    /// comparing runs, those of every run shown (the flags raised across runs included), the
    /// latest step first.
    pub fn flag_rows(&self) -> Vec<(usize, &Flag)> {
        if !self.comparing() {
            return self.flags_newest_first().map(|f| (self.current, f)).collect();
        }
        let mut rows: Vec<(usize, usize, &Flag)> = Vec::new();
        for i in self.run_slots().filter(|&i| self.shown(i)) {
            let own = self.slots[i].run().flags().iter();
            let cross = self.compare.cross.iter().filter(|(j, _)| *j == i).map(|(_, f)| f);
            rows.extend(own.chain(cross).enumerate().map(|(k, f)| (i, k, f)));
        }
        rows.sort_by(|a, b| b.2.step.total_cmp(&a.2.step).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
        rows.into_iter().map(|(i, _, f)| (i, f)).collect()
    }

    /// Whether the selected chart's x axis is in steps (asked for, or a time axis that some run
    /// shown has no time for).
    pub fn x_is_steps(&self) -> bool {
        if self.view.x_axis == XAxis::Step {
            return true;
        }
        let Some(name) = self.selected_group().and_then(|g| g.names.first()) else { return true };
        if !self.comparing() {
            let store = self.slot().map(|s| &s.run().store);
            return store.is_none_or(|st| st.find(name).is_none_or(|_| st.times().is_empty()));
        }
        let ids = self.overlay_ids(name);
        let layers: Vec<Layer<'_>> = ids
            .iter()
            .filter_map(|(i, id)| Some(Layer { data: self.chart_source_of(*i)?, members: id }))
            .collect();
        chart::overlay_axis(&layers, self.view.x_axis).0 == XAxis::Step
    }

    /// The status of the run on screen.
    pub fn status(&self) -> Option<Status> {
        self.status_of(self.current)
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
        let redraw = self.update_data(ev);
        self.settle();
        redraw
    }

    /// As [`update`](Self::update), except that after a data event (the source's, the starter's,
    /// the opener's and the loader's news) what derives from the runs (the comparison's names,
    /// colours and config columns; the chart list) is brought up to date only by the next
    /// [`settle`](Self::settle), or the next event that is not data. The loop applies a batch
    /// of events this way and settles once before drawing: opening a sweep of 200 runs sends
    /// 600 such events, and working the comparison out again after each of them cost the loop
    /// about a second.
    pub fn update_data(&mut self, ev: Event) -> bool {
        if let ev @ (Event::Source(_)
        | Event::Planned { .. }
        | Event::Opened { .. }
        | Event::Progress { .. }
        | Event::Loaded { .. }) = ev
        {
            let gained = self.apply_data(ev);
            if self.view.paused {
                self.unseen += gained;
            }
            self.unsettled = true;
            return !self.view.paused;
        }
        // Keys and the clock see the runs as they are.
        self.settle();
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
                self.refresh_cross_flags();
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
            Event::Prepared { seq, columns } => self.prepared(seq, *columns),
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
        self.refresh();
        redraw
    }

    /// Brings what derives from the runs up to date after [`update_data`](Self::update_data)
    /// (nothing to do otherwise). Call before drawing.
    pub fn settle(&mut self) {
        if std::mem::take(&mut self.unsettled) {
            self.refresh();
        }
    }

    /// Brings what is derived from the runs up to date: the comparison, then the chart list.
    fn refresh(&mut self) {
        self.refresh_compare();
        self.refresh_groups();
        if self.comparing() {
            // Compared runs keep their values at f32 precision (a run read before the others
            // appeared is narrowed once its history is in).
            for s in self.slots.iter_mut().filter(|s| s.loading.is_none()) {
                if !s.live.run.store.display_precision() {
                    s.live.run.store.keep_display_precision();
                }
            }
        }
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
        self.chart_source_of(self.current)
    }

    /// Slot `i`'s run, as the charts read it.
    fn chart_source_of(&self, i: usize) -> Option<chart::Data<'_>> {
        let slot = self.slots.get(i)?;
        let run = slot.run();
        Some(chart::Data { key: (i, slot.epoch), store: &run.store, flags: run.flags() })
    }

    /// The metric `name` of each run shown (that has it), as overlay layers, in drawing order:
    /// (slot, its series id).
    fn overlay_ids(&self, name: &str) -> Vec<(usize, [SeriesId; 1])> {
        self.shown_runs()
            .into_iter()
            .filter_map(|i| Some((i, [self.slots[i].run().store.find(name)?])))
            .collect()
    }

    /// The overlay of `g` (comparing runs: its metric in every run shown), `width` points across,
    /// with the slot of each layer.
    pub fn overlay_data(&self, g: &Group, width: usize) -> Option<(Vec<usize>, Rc<OverlayData>)> {
        let ids = self.overlay_ids(g.names.first()?);
        let layers: Vec<Layer<'_>> = ids
            .iter()
            .filter_map(|(i, id)| Some(Layer { data: self.chart_source_of(*i)?, members: id }))
            .collect();
        let req = chart::OverlayRequest {
            layers: &layers,
            view: self.chart_request(&[], width),
            raw: self.raw_shown(),
        };
        let data = chart::overlay(&req, &mut self.cache.borrow_mut());
        Some((ids.iter().map(|(i, _)| *i).collect(), data))
    }

    /// What the cursor reads at `x` on `g`'s chart, `width` points across: each member's reading
    /// (one run), or each shown run's reading of the chart's metric (comparing runs), with its
    /// slot.
    pub fn readings(&self, g: &Group, x: f64, width: usize) -> Vec<(usize, Vec<Option<Reading>>)> {
        let Some((lo, hi)) = self.chart_window() else { return Vec::new() };
        let slack = (hi - lo) / width.max(1) as f64;
        let view = self.chart_request(&[], width);
        if self.comparing() {
            let Some(name) = g.names.first() else { return Vec::new() };
            let ids = self.overlay_ids(name);
            let layers: Vec<Layer<'_>> = ids
                .iter()
                .filter_map(|(i, id)| Some(Layer { data: self.chart_source_of(*i)?, members: id }))
                .collect();
            let got = chart::read_at(&layers, x, slack, &view, &mut self.cache.borrow_mut());
            ids.iter().map(|(i, _)| *i).zip(got).collect()
        } else {
            let Some(data) = self.chart_source() else { return Vec::new() };
            // Its columns are being computed away from the loop: nothing to read yet.
            if self.recompute.covers(data.key, &g.members) {
                return Vec::new();
            }
            let layers = [Layer { data, members: &g.members }];
            let got = chart::read_at(&layers, x, slack, &view, &mut self.cache.borrow_mut());
            got.into_iter().map(|r| (self.current, r)).collect()
        }
    }

    /// The x range of the selected chart's data in the current x axis: of the run on screen, or
    /// of every run shown when comparing.
    pub fn full_x_range(&self) -> Option<(f64, f64)> {
        if let Some(f) = self.heat_family() {
            return chart::x_range(&self.slot()?.run().store, &f.ids, XAxis::Step);
        }
        let group = self.selected_group()?;
        if self.comparing() {
            let ids = self.overlay_ids(group.names.first()?);
            let layers: Vec<Layer<'_>> = ids
                .iter()
                .filter_map(|(i, id)| Some(Layer { data: self.chart_source_of(*i)?, members: id }))
                .collect();
            return chart::overlay_range(&layers, self.view.x_axis);
        }
        let slot = self.slot()?;
        chart::x_range(&slot.run().store, &group.members, self.view.x_axis)
    }

    /// The x window the selected chart shows, as its chart computes it.
    pub fn chart_window(&self) -> Option<(f64, f64)> {
        let full = self.full_x_range()?;
        let v = &self.view;
        if self.comparing() {
            return Some(chart::window(full, v.zoom, v.anchor));
        }
        let hi = v.anchor.unwrap_or(full.1);
        let lo = v.zoom.map_or(full.0, |w| hi - w);
        Some(if hi > lo { (lo, hi) } else { (lo - 0.5, hi + 0.5) })
    }

    /// The chart of `members`, `width` points across, from the cache when the data and the view
    /// are unchanged (the cache is a memo: drawing stays a function of the state).
    /// While the chart's columns are computed away from the loop, its last chart (see
    /// `recompute`).
    pub fn chart_data(&self, members: &[SeriesId], width: usize) -> Option<Rc<ChartData>> {
        let data = self.chart_source()?;
        if self.recompute.covers(data.key, members) {
            // Its columns stay while the new ones are built: going back to this view is free.
            let mut cache = self.cache.borrow_mut();
            cache.touch(data, members);
            return cache.last_chart(data, members, width);
        }
        Some(chart::chart(data, &self.chart_request(members, width), &mut self.cache.borrow_mut()))
    }

    /// Builds the columns of the series about to be charted (`members`, on every core when they
    /// lack many points): the loop calls it before drawing, so drawing finds them ready.
    pub fn warm_charts(&self, members: &[SeriesId]) {
        let Some(data) = self.chart_source() else { return };
        self.cache.borrow_mut().warm(data, members, self.view.x_axis, self.view.smoother());
    }

    /// What the overlaid grid charts, shared with the monitor's loader: it builds the columns
    /// of each history it reads by it ([`chart::Prepared::for_history`]), which the app installs
    /// with the history. Set by [`App::warm_groups`] before each frame.
    pub fn overlay_plan(&self) -> chart::SharedPlan {
        self.overlay_plan.clone()
    }

    /// Builds the columns of the charts `groups` (indices into [`App::groups`]) about to be drawn:
    /// one run's series (as [`App::warm_charts`]), or every shown run's (comparing runs: the runs
    /// spread over the machine's cores). Comparing runs, the metrics charted and the view are
    /// also what the loader builds a history's columns by ([`App::overlay_plan`]).
    pub fn warm_groups(&self, groups: &[usize]) {
        if !self.comparing() {
            self.overlay_plan.set(None);
            let members: Vec<SeriesId> =
                groups.iter().filter_map(|&g| self.groups.get(g)).flat_map(|g| g.members.clone()).collect();
            return self.warm_charts(&members);
        }
        self.overlay_plan.set(Some(chart::OverlayPlan {
            names: groups.iter().filter_map(|&g| self.groups.get(g)?.names.first().cloned()).collect(),
            x_axis: self.view.x_axis,
            smoother: self.view.smoother(),
            raw: self.raw_shown(),
        }));
        let mut ids: Vec<(usize, Vec<SeriesId>)> = Vec::new();
        for g in groups.iter().filter_map(|&g| self.groups.get(g)) {
            for (i, [id]) in g.names.first().map(|n| self.overlay_ids(n)).unwrap_or_default() {
                match ids.iter_mut().find(|(j, _)| *j == i) {
                    Some((_, v)) => v.push(id),
                    None => ids.push((i, vec![id])),
                }
            }
        }
        let layers: Vec<Layer<'_>> = ids
            .iter()
            .filter_map(|(i, id)| Some(Layer { data: self.chart_source_of(*i)?, members: id }))
            .collect();
        self.cache.borrow_mut().warm_overlay(
            &layers,
            self.view.x_axis,
            self.view.smoother(),
            self.raw_shown(),
        );
    }

    /// Recomputes the chart list now (a family was expanded or collapsed).
    fn refresh_groups_now(&mut self) {
        self.groups_key.0 = usize::MAX;
        self.refresh_groups();
    }

    /// Recomputes the chart list when the run, its series or the filter changed (comparing runs:
    /// any run's series).
    fn refresh_groups(&mut self) {
        let comparing = self.comparing();
        let series = if comparing {
            self.slots.iter().map(|s| s.run().store.series_count()).sum()
        } else {
            self.slot().map_or(0, |s| s.run().store.series_count())
        };
        let filter = self.view.filter_edit.clone().unwrap_or_else(|| self.view.filter.clone());
        let key = (self.current, self.run_epoch, series, filter, comparing);
        if key == self.groups_key {
            return;
        }
        self.families = self
            .slots
            .get(self.current)
            .map(|s| crate::analysis::families::of_store(&s.run().store))
            .unwrap_or_default();
        self.view.heat_family = self.view.heat_family.min(self.families.len().saturating_sub(1));
        if self.families.is_empty() && self.view.pane == Pane::Heatmap {
            self.view.pane = Pane::Charts;
        }
        let pattern = key.3.clone();
        self.groups_key = key;
        let Some(slot) = self.slots.get(self.current) else {
            self.groups.clear();
            return;
        };
        let all = if comparing {
            groups::metrics_of(self.run_slots().map(|i| &self.slots[i].run().store), &slot.run().store)
        } else {
            groups::pair_series(&slot.run().store)
        };
        match view::compile_filter(&pattern) {
            Ok(re) => {
                self.view.filter_error = None;
                let kept: Vec<Group> = all
                    .into_iter()
                    .filter(|g| re.as_ref().is_none_or(|re| g.names.iter().any(|n| re.is_match(n))))
                    .collect();
                self.groups = if comparing {
                    kept
                } else {
                    groups::collapse_families(kept, &self.families, &self.view.expanded, &slot.run().store)
                };
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
