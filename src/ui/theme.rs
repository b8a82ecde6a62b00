//! Colours and text styles in one place. With `NO_COLOR` every colour is dropped and only
//! modifiers (bold, dim, reverse) remain, so selection and severity still read without colour.

use crate::analysis::Severity;
use crate::app::App;
use ratatui::style::{Color, Modifier, Style};

/// Colours of the series of one chart: (smoothed, raw) per member.
const SERIES: [Color; 4] = [Color::Cyan, Color::Yellow, Color::Magenta, Color::Green];

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// The theme `app` is drawn in.
    pub fn of(app: &App) -> Self {
        Theme { color: app.color }
    }

    /// Colour unless `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
    pub fn from_env() -> Self {
        Theme { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
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
