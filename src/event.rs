//! Everything the monitor's loop reacts to, as one enum, and the threads that send it.
//!
//! One loop owns the state. The input thread (crossterm), the signal thread and the file source
//! send [`Event`]s over one `std::sync::mpsc` channel; the loop blocks on it.

use crate::run::Run;
use crate::source::SourceEvent;
use crossterm::event::{KeyEvent, MouseEvent};
use std::sync::mpsc::Sender;
use std::time::Duration;

/// One thing the loop reacts to.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// Something happened to a watched file.
    Source(SourceEvent),
    /// The end of a big file, read first so a screen shows at once; replaced by [`Event::Loaded`].
    Preview {
        file: usize,
        run: Box<Run>,
    },
    /// How much of a file the background loader has read.
    Progress {
        file: usize,
        done: u64,
        total: u64,
    },
    /// The whole file is read. `idle` is how long it had not been written to when opened.
    Loaded {
        file: usize,
        run: Box<Run>,
        idle: Option<Duration>,
    },
    /// The clock: the screen shows "quiet for N s".
    Tick,
    /// SIGTERM, SIGHUP or SIGINT: leave cleanly.
    Quit,
}

/// Reads terminal input on its own thread until the receiver is gone.
pub fn spawn_input(tx: Sender<Event>) -> std::io::Result<()> {
    std::thread::Builder::new().name("tmon-input".into()).spawn(move || loop {
        let ev = match crossterm::event::read() {
            Ok(crossterm::event::Event::Key(k)) => Event::Key(k),
            Ok(crossterm::event::Event::Mouse(m)) => Event::Mouse(m),
            Ok(crossterm::event::Event::Resize(w, h)) => Event::Resize(w, h),
            Ok(_) => continue,
            // The terminal is gone (a dropped SSH connection): nothing more will come.
            Err(_) => {
                let _ = tx.send(Event::Quit);
                return;
            }
        };
        if tx.send(ev).is_err() {
            return;
        }
    })?;
    Ok(())
}

/// Turns SIGTERM, SIGHUP and SIGINT into [`Event::Quit`], so the loop restores the terminal.
pub fn spawn_signals(tx: Sender<Event>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])?;
    std::thread::Builder::new().name("tmon-signals".into()).spawn(move || {
        if signals.forever().next().is_some() {
            let _ = tx.send(Event::Quit);
        }
    })?;
    Ok(())
}
