//! Everything the monitor's loop reacts to, as one enum, and the threads that send it.
//!
//! One loop owns the state. The input thread (crossterm), the signal thread and the file source
//! send [`Event`]s over one `std::sync::mpsc` channel; the loop blocks on it.

pub use crate::run::live::History;
use crate::run::Run;
use crate::source::SourceEvent;
use crossterm::event::{KeyEvent, MouseEvent};
use std::path::PathBuf;
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
    /// A file the monitor will show, numbered as the source numbers it, found by the monitor's
    /// starter thread before the source starts; `history`: its history comes from the loader
    /// (the source's news about it waits for it).
    Planned {
        file: usize,
        path: PathBuf,
        history: bool,
    },
    /// What was learnt about a file when it was found (size, the end of its last complete line,
    /// a preview of its end when it is big); sent once per file by the monitor's opener.
    Opened {
        file: usize,
        info: Box<Opened>,
    },
    /// How far the loader has read a file's history (bytes from its start).
    Progress {
        file: usize,
        bytes: u64,
    },
    /// A file's history, read by the loader up to where the source started following it.
    Loaded {
        file: usize,
        history: Box<History>,
        /// The columns of the run's series an overlaid grid charts, built by the loader as the
        /// history was read (see [`crate::chart::OverlayPlan`]); the loop installs them.
        columns: Option<Box<crate::chart::Prepared>>,
    },
    /// A piece of a file in another format, decoded into its run on the loader's pool (the run
    /// went there with it: see [`crate::run::LiveSet::set_offload`]): the run comes back.
    Decoded {
        file: usize,
        back: Box<crate::run::live::Decoded>,
    },
    /// The clock: the screen shows "quiet for N s".
    Tick,
    /// A chart export (the `e` key) is done: the files written, or why none were.
    Exported(Result<Vec<PathBuf>, String>),
    /// The columns a view change needed, built away from the loop for request `seq` (see
    /// `app::recompute`).
    Prepared {
        seq: u64,
        columns: Box<crate::chart::Prepared>,
    },
    /// SIGTERM, SIGHUP, SIGINT or SIGQUIT: leave cleanly.
    Quit,
    /// SIGTSTP (or Ctrl-Z, a key in raw mode): give the terminal back and stop until `fg`.
    Suspend,
    /// SIGCONT: the process was continued; take the terminal again and redraw.
    Continue,
}

/// A file as it was when the monitor found it. Its history (read by the loader up to `end`, or
/// streamed by the source from the start) arrives later; `preview` (the records of its last MiB,
/// for a big file) is shown until then, so the newest data is on screen at once and no line is
/// lost or counted twice.
#[derive(Debug)]
pub struct Opened {
    pub path: PathBuf,
    /// Bytes in the file (0 when it does not exist).
    pub size: u64,
    /// Where its last complete line ends: the history is loaded once that many bytes arrived.
    pub end: u64,
    /// How long it had not been written to.
    pub idle: Option<Duration>,
    /// The records of the end of a big file.
    pub preview: Option<Run>,
    /// The run's config as read from its first record and the files beside it
    /// ([`crate::run::config::read`]).
    pub config: crate::run::config::ConfigRead,
    /// The model printed in the stdout log beside the run's log ([`crate::model::beside::read`]).
    pub model_beside: Option<Box<crate::model::Model>>,
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

/// Turns SIGTERM, SIGHUP, SIGINT and SIGQUIT into [`Event::Quit`], SIGTSTP into
/// [`Event::Suspend`] and SIGCONT into [`Event::Continue`], so the loop, which owns the terminal,
/// restores it (and takes it again) itself.
pub fn spawn_signals(tx: Sender<Event>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGCONT, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP};
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGTSTP, SIGCONT])?;
    std::thread::Builder::new().name("tmon-signals".into()).spawn(move || {
        for sig in signals.forever() {
            let ev = match sig {
                SIGTSTP => Event::Suspend,
                SIGCONT => Event::Continue,
                _ => Event::Quit,
            };
            if tx.send(ev).is_err() {
                return;
            }
        }
    })?;
    Ok(())
}
