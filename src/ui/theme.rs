//! Colours and text styles in one place. With `NO_COLOR` every colour is dropped and only
//! modifiers (bold, dim, reverse) remain, so selection and severity still read without colour.
//!
//! Runs compared take their colours from a palette of [`COLOURS`] (the app gives each run an
//! index, from a hash of its name): 256-colour indices picked to stay apart on a dark background,
//! each with a darker twin for the faint raw line; on a terminal with the 16 basic colours, those
//! colours (the raw line dimmed). Red is left out: it marks NaN and critical flags.

use crate::analysis::Severity;
use crate::app::{App, COLOURS};
use ratatui::style::{Color, Modifier, Style};

/// Colours of the series of one chart: (smoothed, raw) per member.
const SERIES: [Color; 4] = [Color::Cyan, Color::Yellow, Color::Magenta, Color::Green];

/// The runs' colours on a 256-colour terminal: (line, faint raw line).
const RUNS_256: [(u8, u8); COLOURS] = [
    (39, 24),   // deep sky blue
    (214, 130), // orange
    (170, 96),  // orchid
    (77, 28),   // sea green
    (203, 131), // indian red
    (226, 100), // yellow
    (51, 30),   // cyan
    (141, 60),  // medium purple
    (208, 94),  // dark orange
    (118, 64),  // chartreuse
    (205, 125), // hot pink
    (250, 240), // grey
];

/// The runs' colours with the 16 basic colours.
const RUNS_16: [Color; COLOURS] = [
    Color::Cyan,
    Color::Yellow,
    Color::Magenta,
    Color::Green,
    Color::LightRed,
    Color::Blue,
    Color::LightCyan,
    Color::LightYellow,
    Color::LightMagenta,
    Color::LightGreen,
    Color::LightBlue,
    Color::White,
];

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
    /// Only the 16 basic colours.
    pub colors16: bool,
}

impl Theme {
    /// The theme `app` is drawn in.
    pub fn of(app: &App) -> Self {
        Theme { color: app.color, colors16: app.colors16 }
    }

    /// Colour unless `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
    pub fn from_env() -> Self {
        Theme { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()), colors16: false }
    }

    /// Whether the terminal `TERM` names has only the 16 basic colours: the Linux console and
    /// the like (`linux`, `vt100`, `ansi`, `cons25`, a `*-16color` entry), where a 256-colour
    /// index shows as something else.
    pub fn colors16_for(term: Option<&str>) -> bool {
        let Some(t) = term else { return false };
        t == "linux"
            || t == "ansi"
            || t.starts_with("vt")
            || t.starts_with("cons")
            || t.ends_with("-16color")
            || t == "dumb"
    }

    /// The line of the run with colour index `c` (see [`COLOURS`]).
    pub fn run(&self, c: usize) -> Style {
        let c = c % COLOURS;
        if !self.color {
            Style::new()
        } else if self.colors16 {
            Style::new().fg(RUNS_16[c])
        } else {
            Style::new().fg(Color::Indexed(RUNS_256[c].0))
        }
    }

    /// The faint raw line of the run with colour index `c`.
    pub fn run_raw(&self, c: usize) -> Style {
        let c = c % COLOURS;
        if !self.color || self.colors16 {
            self.run(c).add_modifier(Modifier::DIM)
        } else {
            Style::new().fg(Color::Indexed(RUNS_256[c].1))
        }
    }

    /// The cursor's line and the legend's frame.
    pub fn cursor(&self) -> Style {
        self.fg(Color::Gray).add_modifier(if self.color { Modifier::empty() } else { Modifier::BOLD })
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn text(&self) -> Style {
        Style::new()
    }
    pub fn dim(&self) -> Style {
        self.fg(Color::DarkGray).add_modifier(if self.color { Modifier::empty() } else { Modifier::DIM })
    }
    pub fn title(&self) -> Style {
        self.fg(Color::White).add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            self.fg(Color::DarkGray)
        }
    }
    /// The smoothed line of the `i`th series of a chart.
    pub fn series(&self, i: usize) -> Style {
        self.fg(SERIES[i % SERIES.len()])
    }
    /// The raw line of the `i`th series: faint behind the smoothed one.
    pub fn raw(&self, i: usize) -> Style {
        if !self.color {
            return Style::new().add_modifier(Modifier::DIM);
        }
        let c = match i % SERIES.len() {
            0 => Color::Rgb(40, 90, 100),
            1 => Color::Rgb(110, 100, 40),
            2 => Color::Rgb(100, 50, 100),
            _ => Color::Rgb(40, 100, 50),
        };
        Style::new().fg(c)
    }
    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Critical => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Severity::Warning => self.fg(Color::Yellow),
            Severity::Info => self.fg(Color::Blue),
        }
    }
    pub fn nan(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn status(&self, good: bool) -> Style {
        if good {
            self.fg(Color::Green)
        } else {
            self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
        }
    }
}
