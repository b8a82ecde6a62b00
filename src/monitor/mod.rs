//! The monitor's entry point and loop: one loop owns the [`App`]; the input and signal threads,
//! the source layer ([`crate::source::spawn`]) and the loader (`loader`: a preview of each file's
//! end, then its history read in blocks) send it events over one channel. It sleeps on the channel, drains everything pending
//! before drawing, draws only when something changed, and caps drawing at about 20 frames a second
//! while data streams. The only timer is the once-a-second clock the header shows.

mod loader;

pub use crate::app::Options as MonitorOptions;

use crate::app::App;
use crate::event::{spawn_input, spawn_signals, Event};
use crate::source::{self, SourceEvent, SourceOptions};
use crate::tui::Tui;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// At most one frame per this long while events keep coming.
const FRAME: Duration = Duration::from_millis(50);
/// While a history loads, the screen shows the preview and a progress bar: a few frames a second
/// are enough, and the time goes to parsing.
const LOADING_FRAME: Duration = Duration::from_millis(200);
/// The clock the header shows ("quiet for N s").
const TICK: Duration = Duration::from_secs(1);

/// Lines and documents sent by the source but not yet taken by the loop, in bytes at most: the
/// source waits beyond it, so a big file it reads from the start (found later in a watched
/// directory) or a writer faster than the loop streams through a few chunks of memory instead of
/// queueing whole in the channel while the loop parses.
const IN_FLIGHT_MAX: usize = 16 << 20;
/// Files previewed at start, the first ones given: a preview costs a MiB read and parsed, held until
/// the file's history is in, and with a directory of many runs only the first are seen at once
/// (the others show "reading the log" until their history, read one file at a time, is in).
const PREVIEWS: usize = 4;
/// At start, how long to wait for the opener's look at the file on screen before the source starts
/// (so its preview is not queued behind what the source reads).
const FIRST_LOOK: Duration = Duration::from_millis(150);

/// Bytes in the channel between the source thread and the loop.
#[derive(Default)]
struct Gate {
    bytes: AtomicUsize,
    closed: AtomicBool,
}

fn payload(ev: &SourceEvent) -> usize {
    match ev {
        SourceEvent::Lines { bytes, .. } | SourceEvent::Document { bytes, .. } => bytes.len(),
        _ => 0,
    }
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
pub fn run_monitor(paths: &[PathBuf], opts: MonitorOptions) -> Result<(), crate::Error> {
    if paths.is_empty() {
        return Err(crate::Error::Usage("give a log file to monitor, e.g. `tmon run/logs.jsonl`".into()));
    }
    keep_big_buffers_out_of_the_heap();
    let mut opts = opts;
    // The Linux console's font has no braille.
    if std::env::var("TERM").is_ok_and(|t| t == "linux") {
        opts.ascii = true;
    }
    opts.no_color |= !crate::ui::Theme::from_env().color;
    let files = initial_files(paths);
    let (tx, rx) = mpsc::channel();
    let term_err = |e: std::io::Error| crate::Error::Usage(format!("cannot use the terminal: {e}"));
    let mut tui = Tui::enter(!opts.no_mouse).map_err(term_err)?;
    spawn_signals(tx.clone()).map_err(term_err)?;
    spawn_input(tx.clone()).map_err(term_err)?;

    let start = Instant::now();
    let mut app = App::new(&files, opts.clone());
    app.screen = tui.terminal.size().ok().map(|s| ratatui::layout::Rect::new(0, 0, s.width, s.height));
    // The first frame at once; the opener and the source fill it in behind.
    draw(&mut tui, &app).map_err(term_err)?;
    let mut opened: HashSet<(usize, PathBuf)> = HashSet::new();
    let mut resume = Vec::new();
    for (i, p) in files.iter().enumerate() {
        let plan = loader::plan(p);
        // The history of a JSON Lines file is read by the loader (in blocks, on two threads: as
        // fast as `tmon check`); the source follows the file from where that history ends.
        if let Some(r) = plan.resume() {
            resume.push((p.clone(), r));
            app.history_from_loader(i);
        }
        let work = loader::Work { preview: i < PREVIEWS, history: true };
        loader::spawn(i, plan, work, opts.clone(), tx.clone()).map_err(term_err)?;
        opened.insert((i, p.clone()));
    }
    // The file on screen first: its preview is applied before the source starts.
    let look_until = Instant::now() + FIRST_LOOK;
    while !files.is_empty()
        && app.slots.first().is_some_and(|s| s.loading.as_ref().is_some_and(|l| !l.opened()))
    {
        match rx.recv_timeout(look_until.saturating_duration_since(Instant::now())) {
            Ok(ev) => {
                app.now = start.elapsed();
                app.update(ev);
            }
            Err(_) => break,
        }
        if app.should_quit {
            return Ok(());
        }
    }
    if app.slots.first().is_some_and(|s| s.run().store.records() > 0) {
        draw(&mut tui, &app).map_err(term_err)?;
    }

    let gate = Arc::new(Gate::default());
    let source_gate = gate.clone();
    let source_tx = tx.clone();
    let source_opts = SourceOptions { resume, ..SourceOptions::with_poll(opts.poll) };
    let handle = source::spawn(paths, source_opts, move |ev| {
        let n = payload(&ev);
        if n > 0 {
            // Wait while the loop is behind (it subtracts what it takes).
            while source_gate.bytes.load(Ordering::Acquire) > IN_FLIGHT_MAX
                && !source_gate.closed.load(Ordering::Acquire)
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            source_gate.bytes.fetch_add(n, Ordering::AcqRel);
        }
        source_tx.send(Event::Source(ev)).is_ok()
    })
    .map_err(term_err)?;

    let result = run_loop(&mut tui, &mut app, &rx, &gate, start, |file, path| {
        if opened.insert((file, path.to_owned())) {
            // Found later: the source reads it from its start; the opener only previews it.
            let work = loader::Work { preview: true, history: false };
            let _ = loader::spawn(file, loader::plan(path), work, opts.clone(), tx.clone());
        }
    });
    // The source may be waiting on the gate: let it go before joining it.
    gate.closed.store(true, Ordering::Release);
    drop(rx);
    drop(handle);
    drop(tui);
    result
}

/// The loop: events in, frames out, until the user quits.
fn run_loop(
    tui: &mut Tui,
    app: &mut App,
    rx: &Receiver<Event>,
    gate: &Gate,
    start: Instant,
    mut on_found: impl FnMut(usize, &std::path::Path),
) -> Result<(), crate::Error> {
    let term_err = |e: std::io::Error| crate::Error::Usage(format!("cannot use the terminal: {e}"));
    let mut last_draw = Instant::now();
    let mut next_tick = Instant::now() + TICK;
    let mut dirty = true;
    let mut was_loading = true;
    let mut trim_due = false;
    let mut take = |app: &mut App, ev: Event| -> bool {
        if let Event::Mouse(m) = &ev {
            // Resolved here, with the ui's layout: it reaches the app as an action.
            let action = app.screen.and_then(|area| crate::ui::pointer(app, area, m));
            return action.is_some_and(|a| app.act(a));
        }
        if let Event::Source(sev) = &ev {
            let n = payload(sev);
            if n > 0 {
                gate.bytes.fetch_sub(n, Ordering::AcqRel);
            }
            if let SourceEvent::Found { file, path } = sev {
                on_found(*file, path);
            }
        }
        app.update(ev)
    };
    loop {
        // Sleep until an event, the next clock tick, or (with a frame pending) the frame slot.
        let frame = if was_loading { LOADING_FRAME } else { FRAME };
        let deadline = if dirty { (last_draw + frame).min(next_tick) } else { next_tick };
        let first = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(ev) => Some(ev),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        app.now = start.elapsed();
        if let Some(ev) = first {
            dirty |= take(app, ev);
            // Coalesce: what is already queued is applied before one draw (bounded in time, so a
            // flood of data cannot hold the screen back).
            let drain_until = Instant::now() + frame;
            while let Ok(ev) = rx.try_recv() {
                app.now = start.elapsed();
                dirty |= take(app, ev);
                if app.should_quit || Instant::now() >= drain_until {
                    break;
                }
            }
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
        trim_due |= was_loading && !loading;
        was_loading = loading;
        let frame = if loading { LOADING_FRAME } else { FRAME };
        if dirty && last_draw.elapsed() >= frame {
            app.cache.borrow_mut().begin_frame();
            draw(tui, app).map_err(term_err)?;
            app.cache.borrow_mut().end_frame();
            // After the first frame of the loaded run, which built its columns.
            if std::mem::take(&mut trim_due) {
                trim_heap();
            }
            last_draw = Instant::now();
            // A big chart was shown from before its newest data: draw again once it is due.
            dirty = app.cache.borrow().served_stale();
        }
    }
    Ok(())
}

/// Draws a frame. The columns of the charts it shows are built first (on two threads when there
/// is much to build: a big run's first frame), so that drawing only reads the state.
fn draw(tui: &mut Tui, app: &App) -> std::io::Result<()> {
    let size = tui.terminal.size()?;
    app.warm_charts(&crate::ui::charted(app, ratatui::layout::Rect::new(0, 0, size.width, size.height)));
    tui.draw(|f| crate::ui::render(f, app))
}

/// Hands the memory freed after a history load back to the system. The history is built on the
/// loader's threads (parse buffers, the preview) and handed to this one; glibc keeps what those
/// threads freed in their arenas, resident memory that nothing uses.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The history arrives in batches of megabytes. glibc raises its mmap threshold after the first
/// such buffer is freed, so later ones land in the heap and fragment it: the monitor's peak
/// memory grew by a fifth (measured with `benches/monitor/run.sh open`). A fixed threshold keeps
/// them mapped, and returned to the system when freed.
fn keep_big_buffers_out_of_the_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter, under glibc's own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
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
