//! The terminal: raw mode and the alternate screen on start, and their restoration on every way
//! out (normal exit via `Drop`, a panic via the hook; signals become a quit event in the loop), and
//! around a suspend: [`Tui::suspend`] restores the terminal and stops the process as the default
//! SIGTSTP action would; once continued (`fg`), [`Tui::resume`] takes the terminal again.

use crossterm::{cursor, execute, terminal};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::cell::Cell;
use std::io::{self, Stdout, Write};
use std::rc::Rc;
use std::sync::Once;

const MOUSE_ON: &[u8] = b"\x1b[?1000h\x1b[?1006h";
const MOUSE_OFF: &[u8] = b"\x1b[?1006l\x1b[?1000l";

pub type Term = Terminal<CrosstermBackend<Meter>>;

/// Standard output, counting the bytes written through it (the monitor's byte budget reads it).
pub struct Meter {
    out: Stdout,
    written: Rc<Cell<u64>>,
}

impl Write for Meter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.written.set(self.written.get() + n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The terminal in monitor mode; restored when dropped.
pub struct Tui {
    pub terminal: Term,
    mouse: bool,
    /// The bytes the terminal's [`Meter`] has written.
    written: Rc<Cell<u64>>,
}

/// Fails when standard output is not a terminal (redirected to a file or a pipe): the monitor
/// would draw its escape sequences into the file while the screen stays blank.
pub fn require_terminal() -> io::Result<()> {
    use std::io::IsTerminal;
    if io::stdout().is_terminal() {
        Ok(())
    } else {
        Err(io::Error::other(
            "standard output is not a terminal (redirected to a file or a pipe?); the monitor draws \
             on a terminal: run it in one, or use `tmon check` for text",
        ))
    }
}

impl Tui {
    /// Enters raw mode and the alternate screen (asking for mouse clicks and the wheel when
    /// `mouse` is true), and installs the panic hook.
    pub fn enter(mouse: bool) -> io::Result<Self> {
        require_terminal()?;
        install_panic_hook();
        take_terminal(mouse)?;
        let written = Rc::new(Cell::new(0));
        match Terminal::new(CrosstermBackend::new(Meter { out: io::stdout(), written: written.clone() })) {
            Ok(terminal) => Ok(Tui { terminal, mouse, written }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    /// Ctrl-Z or SIGTSTP: gives the terminal back to the shell as it was, then stops the process
    /// as the default SIGTSTP action would. Returns once the process is continued (`fg`, SIGCONT),
    /// with the terminal taken again and the next draw a full one.
    pub fn suspend(&mut self) -> io::Result<()> {
        restore();
        stop_self();
        self.resume()
    }

    /// Takes the terminal again (raw mode, the alternate screen, the mouse, the cursor hidden) and
    /// makes the next draw repaint everything: after a suspend, or a SIGCONT after someone else
    /// stopped the process (the shell then put the terminal back in its own modes).
    pub fn resume(&mut self) -> io::Result<()> {
        // crossterm skips enabling raw mode while it believes it is on; after a stop it may not
        // be (the shell restored its own modes), so it is set from scratch.
        let _ = terminal::disable_raw_mode();
        take_terminal(self.mouse)?;
        // A resize to the current size clears the screen and forgets what was drawn, so the next
        // frame is drawn in full. (`Terminal::clear` would ask the terminal where the cursor is,
        // and the answer would go to the input thread's read.)
        let size = self.terminal.size()?;
        self.terminal.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))
    }

    /// Bytes written to the terminal through the drawing so far.
    pub fn written(&self) -> u64 {
        self.written.get()
    }

    /// Draws one frame inside a synchronized update, so a slow link never shows half a frame.
    pub fn draw(&mut self, f: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
        let _ = execute!(self.terminal.backend_mut(), terminal::BeginSynchronizedUpdate);
        let r = self.terminal.draw(f).map(|_| ());
        let _ = execute!(self.terminal.backend_mut(), terminal::EndSynchronizedUpdate);
        r
    }
}

/// Raw mode, the alternate screen, the cursor hidden, and the mouse when asked for.
fn take_terminal(mouse: bool) -> io::Result<()> {
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
    Ok(())
}

/// Stops the process with SIGTSTP's default action, and returns when it is continued.
///
/// The signal thread holds a handler for SIGTSTP (so the terminal can be restored first); it is
/// set aside for the raise and put back after. Raising SIGTSTP (not SIGSTOP) keeps the shell's
/// report ("Stopped") and POSIX's rule that a process group no one can continue is not stopped.
fn stop_self() {
    #[cfg(unix)]
    // SAFETY: sigaction with a zeroed struct and SIG_DFL, then the saved action put back; raise
    // only sends a signal to this process. No memory is shared with a handler.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        let mut saved: libc::sigaction = std::mem::zeroed();
        let swapped = libc::sigaction(libc::SIGTSTP, &default, &mut saved) == 0;
        libc::raise(libc::SIGTSTP);
        if swapped {
            libc::sigaction(libc::SIGTSTP, &saved, std::ptr::null_mut());
        }
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
