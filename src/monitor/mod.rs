//! The monitor's entry point and loop: one loop owns the [`App`]; the input and signal threads,
//! the starter thread (which finds the files and starts the rest: the loop's thread never touches
//! the file system), the source layer (through the live set's [`Feed`]) and the loader (`loader`:
//! a preview of each file's end, then its history read in blocks) send it events over one channel. It sleeps on the
//! channel, drains everything pending before drawing, draws only when something changed, and caps
//! drawing at about 20 frames a second while data streams. The only timer is the once-a-second
//! clock the header shows (and the live stall runs on).
//!
//! Ctrl-Z and SIGTSTP suspend it like any full-screen program (the terminal given back, then
//! stopped); SIGCONT takes the terminal again and redraws. SIGQUIT quits like SIGTERM.
//!
//! The monitor leaves the process's allocator alone: the binary tunes glibc for it, and
//! [`MonitorOptions::after_load`] is its hook for handing memory back after a history load.

mod loader;
pub mod pace;
mod recompute;

pub use crate::app::Options as MonitorOptions;

use crate::app::App;
use crate::event::{spawn_input, spawn_signals, Event};
use crate::run::live::{Feed, InFlight};
use crate::source::{self, SourceEvent, SourceOptions, Sources};
use crate::tui::Tui;
use crate::Error;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// At most one frame per this long while events keep coming.
const FRAME: Duration = Duration::from_millis(50);
/// While a history loads, the screen shows the preview and a progress bar: a few frames a second
/// are enough, and the time goes to parsing.
const LOADING_FRAME: Duration = Duration::from_millis(200);
/// Comparing runs while they load, data frames come at most this often: each costs a redraw of
/// every overlaid run (about 20 ms at 200 runs) and competes with the loader for the cores, while
/// the runs panel and the progress move little between two frames. A run showing data for the
/// first time (its preview, its history) and the end of loading are still drawn at once.
const LOADING_COMPARE_FRAME: Duration = Duration::from_millis(500);
/// The clock the header shows ("quiet for N s"), and the live stall's.
const TICK: Duration = Duration::from_secs(1);

/// Files previewed at start, the first ones given: a preview costs a MiB read and parsed, held until
/// the file's history is in, and with a directory of many runs only the first are seen at once
/// (the others show "reading the log" until their history, read one file at a time, is in).
const PREVIEWS: usize = 4;
/// Comparing runs, every run gets a preview of this much of its end (beyond the first
/// [`PREVIEWS`], which get the usual MiB): a sweep of 200 runs shows each run's newest steps in
/// its first frames, for a few MiB read in all.
const SWEEP_TAIL: u64 = 64 << 10;
/// Comparing runs, data alone redraws the screen at most this often (keys still answer at once):
/// fifty runs each writing ten steps a second would otherwise redraw twenty times a second, each
/// frame reducing every changed run of every chart, for a picture that moves by a pixel.
const COMPARE_FRAME: Duration = Duration::from_millis(1000);
/// At quit, how long to wait for the file side (the starter, the source) to stop: a stat stuck on
/// a dead network mount must not keep the terminal.
const STOP_WAIT: Duration = Duration::from_secs(1);

fn term_err(e: std::io::Error) -> Error {
    Error::Terminal(e)
}

/// The files the source will report first, numbered as it numbers them (the paths that are not
/// directories in order, then the log files found in the directories); `Found` events correct
/// any difference.
fn initial_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = paths.iter().filter(|p| !p.is_dir()).cloned().collect();
    for dir in paths.iter().filter(|p| p.is_dir()) {
        for f in source::discover(dir) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

/// Opens the monitor on `paths` and runs it until the user quits or a signal arrives.
///
/// The thread that answers keys and signals never touches the file system (a FIFO, a dead
/// network mount or a stat that hangs would freeze the terminal in raw mode): the files are found,
/// looked at and followed by the starter thread ([`start_files`]), the loader and the source.
pub fn run_monitor(paths: &[PathBuf], opts: MonitorOptions) -> Result<(), Error> {
    if paths.is_empty() {
        return Err(Error::Usage("give a log file to monitor, e.g. `tmon run/logs.jsonl`".into()));
    }
    let mut opts = opts;
    // The Linux console's font has no braille.
    if std::env::var("TERM").is_ok_and(|t| t == "linux") {
        opts.ascii = true;
    }
    // How many colours: decided in one place, the ui's theme, from NO_COLOR, COLORTERM and TERM.
    let colours = crate::ui::Colours::from_env();
    opts.no_color |= colours == crate::ui::Colours::None;
    opts.colors16 |= colours == crate::ui::Colours::Basic;
    opts.truecolor = colours == crate::ui::Colours::TrueColor && !opts.no_color && !opts.colors16;
    let (tx, rx) = mpsc::channel();
    let mut tui = Tui::enter(!opts.no_mouse).map_err(term_err)?;
    spawn_signals(tx.clone()).map_err(|e| Error::Usage(format!("cannot install signal handlers: {e}")))?;
    spawn_input(tx.clone()).map_err(term_err)?;

    let start = Instant::now();
    let none: [PathBuf; 0] = [];
    let mut app = App::new(&none, opts.clone());
    // Pieces of binary files and a database's history are decoded on the loader's pool.
    app.set_offload(true);
    app.screen = tui.terminal.size().ok().map(|s| ratatui::layout::Rect::new(0, 0, s.width, s.height));
    let worker = recompute::Worker::start(tx.clone())
        .map_err(|e| Error::Usage(format!("cannot start a thread to compute views: {e}")))?;
    // The first frame at once; the starter, the opener and the source fill it in behind.
    draw(&mut tui, &mut app, &worker).map_err(term_err)?;
    let loader = loader::Loader::new(opts.clone(), tx.clone()).with_plan(app.overlay_plan());
    let in_flight = InFlight::default();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let starter = {
        let (paths, loader, tx, in_flight, poll) =
            (paths.to_vec(), loader.clone(), tx.clone(), in_flight.clone(), opts.poll);
        std::thread::Builder::new()
            .name("tmon-start".into())
            .spawn(move || start_files(&paths, poll, &loader, &tx, in_flight, &stop_rx))
            .map_err(|e| Error::Usage(format!("cannot start a thread to read the logs: {e}")))?
    };
    let mut opened: HashSet<(usize, PathBuf)> = HashSet::new();
    let decoder = loader.clone();
    let decode = move |app: &mut App| {
        for (file, job) in app.take_decodes() {
            if decoder.decode(file, job).is_err() {
                return false;
            }
        }
        true
    };
    let result =
        run_loop(&mut tui, &mut app, (&rx, &tx), (&in_flight, &worker), start, decode, |ev| match ev {
            Event::Planned { file, path, .. } => {
                opened.insert((*file, path.clone()));
            }
            // Found later: the source reads it from its start; the opener only previews it.
            Event::Source(SourceEvent::Found { file, path }) if opened.insert((*file, path.clone())) => {
                let work = loader::Work { preview: Some(loader::TAIL_BYTES), history: false, compact: false };
                let _ = loader.submit_path(*file, path.clone(), work);
            }
            _ => {}
        });
    drop(rx);
    drop(stop_tx);
    // The terminal first: the file side may take a moment to stop.
    drop(tui);
    let t0 = Instant::now();
    while !starter.is_finished() && t0.elapsed() < STOP_WAIT {
        std::thread::sleep(Duration::from_millis(5));
    }
    result
}

/// The starter thread: finds the files, looks at each (the first one's preview at once, so it is
/// on screen before the source streams), hands their histories to the loader, then starts the
/// source from where those histories end, and keeps it until the monitor stops.
fn start_files(
    paths: &[PathBuf],
    poll: Option<Duration>,
    loader: &loader::Loader,
    tx: &Sender<Event>,
    in_flight: InFlight,
    stop: &Receiver<()>,
) {
    let files = initial_files(paths);
    let sweep = files.len() > 1;
    let mut resume = Vec::new();
    // The other files of runs whose first file reads their history, looked at with it.
    let mut members: HashMap<usize, loader::Plan> = HashMap::new();
    for (i, p) in files.iter().enumerate() {
        let mut plan = members.remove(&i).unwrap_or_else(|| loader::plan(p));
        // The history of a JSON Lines file is read by the loader (in blocks, on two threads: as
        // fast as `tmon check`), and so is that of a file in another format (event files, W&B,
        // CSV: decoded there, never on the loop's thread); the source follows each file from
        // where that history ends. A run of several files (a TensorBoard folder) is read whole
        // by its first file's history, up to each file's size at its look.
        if plan.format().is_some() && plan.own_history() {
            if let Some(group) = crate::formats::group(p) {
                for (j, q) in files.iter().enumerate().skip(i + 1) {
                    if crate::formats::group(q).is_some_and(|g| g.key == group.key) {
                        let mut other = loader::plan(q);
                        if other.format() == plan.format() && other.resume().is_some() {
                            plan.add_part(j, &mut other);
                        }
                        members.insert(j, other);
                    }
                }
            }
        }
        let r = plan.resume();
        let own = plan.own_history();
        if i >= loader::HELD_PLANS {
            plan.release();
        }
        if tx.send(Event::Planned { file: i, path: p.clone(), history: own }).is_err() {
            return;
        }
        if let Some(r) = r {
            resume.push((p.clone(), r));
        }
        // Comparing runs, every run shows its newest steps at once (the first ones more of them),
        // and holds its values at display precision from the start.
        let preview = if i < PREVIEWS { Some(loader::TAIL_BYTES) } else { sweep.then_some(SWEEP_TAIL) };
        let work = loader::Work { preview, history: own, compact: sweep };
        let looked = if i == 0 { loader.run_here(i, plan, work) } else { loader.submit(i, plan, work) };
        if looked.is_err() {
            let _ = tx.send(Event::Quit);
            return;
        }
    }
    let source_tx = tx.clone();
    let source_opts = SourceOptions { resume, ..crate::run::live::source_options(poll) };
    let send = move |ev| source_tx.send(Event::Source(ev)).is_ok();
    let Ok(feed) = Feed::start_counted(Sources::new(paths, source_opts), in_flight, send) else {
        let _ = tx.send(Event::Quit);
        return;
    };
    // Until the monitor stops (the sender dropped); dropping the feed stops the source.
    let _ = stop.recv();
    drop(feed);
}

/// The loop: events in, frames out, until the user quits.
fn run_loop(
    tui: &mut Tui,
    app: &mut App,
    (rx, tx): (&Receiver<Event>, &Sender<Event>),
    (in_flight, worker): (&InFlight, &recompute::Worker),
    start: Instant,
    mut decode: impl FnMut(&mut App) -> bool,
    mut on_files: impl FnMut(&Event),
) -> Result<(), Error> {
    let after_load = app.options().after_load;
    let mut last_draw = Instant::now();
    let mut next_tick = Instant::now() + TICK;
    let mut dirty = true;
    // Whether what changed came from the user (a key, the mouse, a resize): drawn at once.
    let urgent = std::cell::Cell::new(false);
    let mut was_loading = true;
    let mut loaded_due = false;
    // Runs with data at the last look (see below).
    let mut runs_with_data = 0;
    // Whether the next frame must be drawn now, whatever the frame rate (after a resume).
    let force = std::cell::Cell::new(false);
    let mut take = |tui: &mut Tui, app: &mut App, ev: Event| -> Result<bool, Error> {
        let ev = match control(tui, app, ev)? {
            Control::Pass(ev) => ev,
            Control::Redraw => {
                force.set(true);
                return Ok(true);
            }
        };
        if let Event::Mouse(m) = &ev {
            // Resolved here, with the ui's layout (of the runs as they are): it reaches the app
            // as an action.
            app.settle();
            let action = app.screen.and_then(|area| crate::ui::pointer(app, area, m));
            let changed = action.is_some_and(|a| app.act(a));
            urgent.set(urgent.get() | changed);
            return Ok(changed);
        }
        let from_user = matches!(ev, Event::Key(_) | Event::Resize(..));
        if let Event::Source(sev) = &ev {
            in_flight.taken(sev);
        }
        on_files(&ev);
        // Data is applied as it comes; the comparison and the chart list are worked out again
        // once before the frame (`App::settle`), not after each of a sweep's many events.
        let changed = app.update_data(ev);
        hand_off_export(app, Path::new("."), tx);
        // Decode jobs to the pool; what they hold and what waits for them counts as in flight.
        if !decode(app) {
            return Err(Error::Usage("cannot start a thread to decode the logs".into()));
        }
        in_flight.set_parked(app.parked_bytes());
        urgent.set(urgent.get() | (changed && from_user));
        Ok(changed)
    };
    // The pace of frames that only show new data.
    let data_frame = |app: &App, loading: bool| {
        // A heatmap built a slice a frame: the next slice at once, after the queued events.
        if app.cache.borrow().heat.building() {
            Duration::ZERO
        } else if loading && app.comparing() {
            LOADING_COMPARE_FRAME
        } else if loading {
            LOADING_FRAME
        } else if app.comparing() {
            COMPARE_FRAME
        } else {
            FRAME
        }
    };
    let mut budget = pace::Budget::new(app.options().max_output, Instant::now());
    // When the next frame may be drawn: what the user asked for at the frame pace, new data at
    // its pace and within the byte budget.
    let due = |app: &App, budget: &pace::Budget, last_draw: Instant, loading: bool| {
        if urgent.get() {
            last_draw + FRAME
        } else {
            budget.due(last_draw, data_frame(app, loading))
        }
    };
    loop {
        // Sleep until an event, the next clock tick, or (with a frame pending) the frame slot.
        let frame = if urgent.get() { FRAME } else { data_frame(app, was_loading) };
        let mut deadline =
            if dirty { due(app, &budget, last_draw, was_loading).min(next_tick) } else { next_tick };
        // A decoder holding a paused writer's last step: fed once its files are quiet.
        deadline = app.held_until().map_or(deadline, |d| (start + d).min(deadline));
        let first = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(ev) => Some(ev),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        app.now = start.elapsed();
        if let Some(ev) = first {
            dirty |= take(tui, app, ev)?;
            // Coalesce: what is already queued is applied before one draw (bounded in time, so a
            // flood of data cannot hold the screen back).
            let drain_until = Instant::now() + frame;
            while let Ok(ev) = rx.try_recv() {
                app.now = start.elapsed();
                dirty |= take(tui, app, ev)?;
                // A key or a click is drawn at once, not after the rest of a sweep's news.
                if app.should_quit || urgent.get() || Instant::now() >= drain_until {
                    break;
                }
            }
        }
        if app.held_until().is_some_and(|d| start.elapsed() >= d) {
            app.now = start.elapsed();
            dirty |= app.feed_held();
        }
        if Instant::now() >= next_tick {
            next_tick = Instant::now() + TICK;
            app.now = start.elapsed();
            dirty |= app.update(Event::Tick);
        }
        if app.should_quit {
            break;
        }
        let loading = app.slots.iter().any(|s| s.loading.is_some());
        loaded_due |= was_loading && !loading;
        // A run that shows data for the first time (its preview, its history), or the end of
        // loading, is drawn at once whatever the pace of data frames.
        let with_data = app.slots.iter().filter(|s| s.run().store.records() > 0).count();
        if with_data > runs_with_data || (was_loading && !loading) {
            urgent.set(true);
        }
        runs_with_data = with_data;
        was_loading = loading;
        if dirty && (Instant::now() >= due(app, &budget, last_draw, loading) || force.take()) {
            urgent.set(false);
            app.settle();
            app.cache.borrow_mut().begin_frame();
            let before = tui.written();
            draw(tui, app, worker).map_err(term_err)?;
            budget.spend(tui.written() - before, Instant::now());
            app.cache.borrow_mut().end_frame();
            // After the first frame of the loaded run, which built its columns.
            if std::mem::take(&mut loaded_due) {
                if let Some(f) = after_load {
                    f();
                }
            }
            last_draw = Instant::now();
            // A big chart was shown from before its newest data: draw again once it is due.
            dirty = app.cache.borrow().served_stale();
        }
    }
    Ok(())
}

/// Hands the chart export the app asked for (the `e` key), if any, to a thread that draws it and
/// writes its files in `dir` (the loop's: the current directory), and reports back with
/// [`Event::Exported`] on `tx`: drawing and writing files must not hold up the loop.
pub fn hand_off_export(app: &mut App, dir: &Path, tx: &Sender<Event>) {
    let Some(job) = app.take_export() else { return };
    let tx = tx.clone();
    if let Err(e) = crate::export::job::spawn(job, dir.to_owned(), move |r| {
        let _ = tx.send(Event::Exported(r));
    }) {
        app.update(Event::Exported(Err(e)));
    }
}

/// Draws a frame. The columns of the charts it shows are built first, so that drawing only reads
/// the state: inline when that is cheap (on every core when there is much to build), else by the
/// worker (a view change on a big run: `app::recompute`), the charts showing their last frame
/// until its result comes back as an event.
fn draw(tui: &mut Tui, app: &mut App, worker: &recompute::Worker) -> std::io::Result<()> {
    let size = tui.terminal.size()?;
    let area = ratatui::layout::Rect::new(0, 0, size.width, size.height);
    let groups = crate::ui::charted_groups(app, area);
    match app.plan_columns(&groups) {
        Some((seq, job)) => worker.submit(seq, job),
        None => worker.set_latest(app.recompute.latest()),
    }
    if let Some(w) = crate::ui::heatmap_width(app, area) {
        app.warm_heatmap(w);
    }
    tui.draw(|f| crate::ui::render(f, app))
}

/// What [`control`] made of an event.
enum Control {
    /// Not about the terminal: the app's.
    Pass(Event),
    /// The terminal was given back and taken again: everything must be drawn.
    Redraw,
}

/// Handles the events about the terminal itself: a suspend (SIGTSTP, or Ctrl-Z, which raw mode
/// delivers as a key) and a continue (SIGCONT).
fn control(tui: &mut Tui, app: &mut App, ev: Event) -> Result<Control, Error> {
    use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};
    let resumed = match ev {
        Event::Key(k)
            if k.code == KeyCode::Char('z')
                && k.modifiers.contains(KeyModifiers::CONTROL)
                && k.kind != KeyEventKind::Release =>
        {
            tui.suspend()
        }
        Event::Suspend => tui.suspend(),
        Event::Continue => tui.resume(),
        ev => return Ok(Control::Pass(ev)),
    };
    resumed.map_err(term_err)?;
    // The window may have been resized while the process was stopped.
    if let Ok(s) = tui.terminal.size() {
        app.update(Event::Resize(s.width, s.height));
    }
    Ok(Control::Redraw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_files_are_numbered_as_the_source_numbers_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in ["b.jsonl", "metrics.json", "notes.txt"] {
            std::fs::write(dir.path().join(f), "{}\n").expect("write");
        }
        let paths = [dir.path().to_owned(), PathBuf::from("x.jsonl")];
        let got = initial_files(&paths);
        let want =
            vec![PathBuf::from("x.jsonl"), dir.path().join("b.jsonl"), dir.path().join("metrics.json")];
        assert_eq!(got, want);
        let mut sources = source::Sources::new(&paths, SourceOptions::default());
        let found: Vec<PathBuf> = sources
            .poll_all(Instant::now())
            .into_iter()
            .filter_map(|ev| match ev {
                SourceEvent::Found { path, .. } => Some(path),
                _ => None,
            })
            .collect();
        assert_eq!(found, want);
    }
}
