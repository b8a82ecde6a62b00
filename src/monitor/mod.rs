//! The monitor's entry point and loop: one loop owns the [`App`]; the input, signal and file
//! threads send it events over one channel. It sleeps on the channel, drains everything pending
//! before drawing, draws only when something changed, and caps drawing at about 20 frames a second
//! while data streams. The only timer is the once-a-second clock the header shows.

mod loader;

pub use crate::app::Options as MonitorOptions;

use crate::app::App;
use crate::event::{spawn_input, spawn_signals, Event};
use crate::tui::Tui;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// At most one frame per this long while events keep coming.
const FRAME: Duration = Duration::from_millis(50);
/// The clock the header shows ("quiet for N s").
const TICK: Duration = Duration::from_secs(1);

/// Opens the monitor on `paths` and runs it until the user quits or a signal arrives.
pub fn run_monitor(paths: &[PathBuf], opts: MonitorOptions) -> Result<(), crate::Error> {
    if paths.is_empty() {
        return Err(crate::Error::Usage("give a log file to monitor, e.g. `tmon run/logs.jsonl`".into()));
    }
    let paths = expand_dirs(paths)?;
    let paths = paths.as_slice();
    let mut opts = opts;
    // The Linux console's font has no braille.
    if std::env::var("TERM").is_ok_and(|t| t == "linux") {
        opts.ascii = true;
    }
    let (tx, rx) = mpsc::channel();
    let term_err = |e: std::io::Error| crate::Error::Usage(format!("cannot use the terminal: {e}"));
    let mut tui = Tui::enter().map_err(term_err)?;
    spawn_signals(tx.clone()).map_err(term_err)?;
    spawn_input(tx.clone()).map_err(term_err)?;
    // TODO(lead): replace with source::spawn once the source layer lands.
    for (i, p) in paths.iter().enumerate() {
        loader::spawn(i, p.clone(), opts.clone(), tx.clone()).map_err(term_err)?;
    }
    drop(tx);

    let start = Instant::now();
    let mut app = App::new(paths, opts);
    // The first frame at once: the loaders fill it in behind.
    tui.draw(|f| crate::ui::render(f, &app)).map_err(term_err)?;
    let mut last_draw = Instant::now();
    let mut next_tick = start + TICK;
    let mut dirty = false;
    loop {
        // Sleep until an event, the next clock tick, or (with a frame pending) the frame slot.
        let deadline = if dirty { (last_draw + FRAME).min(next_tick) } else { next_tick };
        let first = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(ev) => Some(ev),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        app.now = start.elapsed();
        if let Some(ev) = first {
            dirty |= app.update(ev);
            // Coalesce: what is already queued is applied before one draw (bounded in time, so a
            // flood of data cannot hold the screen back).
            let drain_until = Instant::now() + FRAME;
            while let Ok(ev) = rx.try_recv() {
                dirty |= app.update(ev);
                if app.should_quit || Instant::now() >= drain_until {
                    break;
                }
            }
        }
        if Instant::now() >= next_tick {
            next_tick = Instant::now() + TICK;
            dirty |= app.update(Event::Tick);
        }
        if app.should_quit {
            break;
        }
        if dirty && last_draw.elapsed() >= FRAME {
            app.cache.borrow_mut().begin_frame();
            tui.draw(|f| crate::ui::render(f, &app)).map_err(term_err)?;
            last_draw = Instant::now();
            // A big chart was shown from before its newest data: draw again once it is due.
            dirty = app.cache.borrow().served_stale();
        }
    }
    drop(tui);
    Ok(())
}

/// A directory stands for the logs directly inside it (`*.jsonl`, `*.json`, `*.log`), by name.
// TODO(lead): the source layer finds files (and files created later) itself; drop this then.
fn expand_dirs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, crate::Error> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let entries = std::fs::read_dir(p).map_err(|e| crate::Error::io(p, e))?;
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|f| f.is_file())
            .filter(|f| {
                f.extension()
                    .is_some_and(|x| ["jsonl", "json", "log"].iter().any(|e| x.eq_ignore_ascii_case(e)))
            })
            .collect();
        if found.is_empty() {
            return Err(crate::Error::Usage(format!(
                "no log files (*.jsonl, *.json, *.log) in '{}'",
                p.display()
            )));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_stands_for_its_logs() {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in ["b.jsonl", "a.json", "notes.txt"] {
            std::fs::write(dir.path().join(f), "{}\n").expect("write");
        }
        let got = expand_dirs(&[dir.path().to_owned(), PathBuf::from("x.jsonl")]).expect("expand");
        assert_eq!(
            got,
            vec![dir.path().join("a.json"), dir.path().join("b.jsonl"), PathBuf::from("x.jsonl")]
        );
        let empty = tempfile::tempdir().expect("tempdir");
        let err = expand_dirs(&[empty.path().to_owned()]).unwrap_err().to_string();
        assert!(err.contains("no log files"), "{err}");
    }
}
