//! The terminal: raw mode and the alternate screen on start, and their restoration on every way
//! out (normal exit via `Drop`, a panic via the hook; signals become a quit event in the loop).

use crossterm::{cursor, execute, terminal};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::{self, Stdout, Write};
use std::sync::Once;

const MOUSE_ON: &[u8] = b"\x1b[?1000h\x1b[?1006h";
const MOUSE_OFF: &[u8] = b"\x1b[?1006l\x1b[?1000l";

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// The terminal in monitor mode; restored when dropped.
pub struct Tui {
    pub terminal: Term,
}

impl Tui {
    /// Enters raw mode and the alternate screen (asking for mouse clicks and the wheel when
    /// `mouse` is true), and installs the panic hook.
    pub fn enter(mouse: bool) -> io::Result<Self> {
        install_panic_hook();
        terminal::enable_raw_mode()?;
        if let Err(e) = execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(e);
        }
        if mouse {
            // Presses, releases and the wheel (1000) in SGR encoding (1006), and nothing else:
            // crossterm's full capture also reports every mouse motion, which would wake the loop
            // (and cross the SSH link) whenever the pointer merely passes over the pane.
            let _ = io::stdout().write_all(MOUSE_ON).and_then(|()| io::stdout().flush());
        }
        match Terminal::new(CrosstermBackend::new(io::stdout())) {
            Ok(terminal) => Ok(Tui { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    /// Draws one frame inside a synchronized update, so a slow link never shows half a frame.
    pub fn draw(&mut self, f: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
        let _ = execute!(self.terminal.backend_mut(), terminal::BeginSynchronizedUpdate);
        let r = self.terminal.draw(f).map(|_| ());
        let _ = execute!(self.terminal.backend_mut(), terminal::EndSynchronizedUpdate);
        r
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves the alternate screen and raw mode. Safe to call more than once, and errors are ignored:
/// after a dropped SSH connection there may be no terminal left to restore.
pub fn restore() {
    let mut out = io::stdout();
    let _ = out.write_all(MOUSE_OFF);
    let _ = execute!(out, terminal::EndSynchronizedUpdate, terminal::LeaveAlternateScreen, cursor::Show);
    let _ = terminal::disable_raw_mode();
    let _ = out.flush();
}

/// Restores the terminal before the default panic message, so the message is readable.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
