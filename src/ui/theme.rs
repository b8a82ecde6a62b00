//! Colours and text styles in one place. With `NO_COLOR` every colour is dropped and only
//! modifiers (bold, dim, reverse) remain, so selection and severity still read without colour.
//!
//! How many colours the terminal shows is decided here too ([`Colours::decide`]), from the
//! environment the way other terminal tools read it: no colour with `NO_COLOR`; the 16 basic
//! colours on the Linux console and the like (`TERM=linux`, `vt100`, ...); 24-bit colour only
//! where `COLORTERM` says `truecolor` or `24bit`; 256 colours otherwise. A colour the terminal
//! cannot show is never sent: over SSH or tmux without true colour, an RGB escape is drawn as
//! some other colour or not at all.
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

/// How many colours the screen is drawn with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colours {
    /// None: `NO_COLOR` (bold, dim and reverse only).
    None,
    /// The 16 basic colours.
    Basic,
    /// The 256-colour palette.
    Indexed,
    /// 24-bit RGB.
    TrueColor,
}

impl Colours {
    /// The colours this process's terminal shows, from `NO_COLOR`, `COLORTERM` and `TERM`.
    pub fn from_env() -> Self {
        let var = |k| std::env::var(k).ok();
        Self::decide(var("NO_COLOR").as_deref(), var("COLORTERM").as_deref(), var("TERM").as_deref())
    }

    /// The colours a terminal with these variables shows: none when `NO_COLOR` is set to a
    /// non-empty value (<https://no-color.org>); the 16 basic ones where `TERM` names such a
    /// terminal ([`Theme::colors16_for`]), whatever `COLORTERM` says; 24-bit where `COLORTERM` is
    /// `truecolor` or `24bit`; 256 otherwise.
    pub fn decide(no_color: Option<&str>, colorterm: Option<&str>, term: Option<&str>) -> Self {
        if no_color.is_some_and(|v| !v.is_empty()) {
            Colours::None
        } else if Theme::colors16_for(term) {
            Colours::Basic
        } else if colorterm
            .is_some_and(|c| c.eq_ignore_ascii_case("truecolor") || c.eq_ignore_ascii_case("24bit"))
        {
            Colours::TrueColor
        } else {
            Colours::Indexed
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
    /// Only the 16 basic colours.
    pub colors16: bool,
    /// 24-bit colour may be sent (else the 256-colour palette at most).
    pub truecolor: bool,
}

impl Theme {
    /// The theme `app` is drawn in.
    pub fn of(app: &App) -> Self {
        Theme { color: app.color, colors16: app.colors16, truecolor: app.truecolor }
    }

    /// The theme of `colours`.
    pub fn with(colours: Colours) -> Self {
        Theme {
            color: colours != Colours::None,
            colors16: colours == Colours::Basic,
            truecolor: colours == Colours::TrueColor,
        }
    }

    /// How many colours this theme draws with.
    pub fn colours(&self) -> Colours {
        match (self.color, self.colors16, self.truecolor) {
            (false, _, _) => Colours::None,
            (true, true, _) => Colours::Basic,
            (true, false, true) => Colours::TrueColor,
            (true, false, false) => Colours::Indexed,
        }
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
    /// The raw line of the `i`th series: faint behind the smoothed one (a darker twin of its
    /// colour: in RGB with true colour, the nearest of the 256-colour cube otherwise, the series'
    /// colour dimmed with the 16 basic ones).
    pub fn raw(&self, i: usize) -> Style {
        const RGB: [(u8, u8, u8); 4] = [(40, 90, 100), (110, 100, 40), (100, 50, 100), (40, 100, 50)];
        // The same colours in the 256-colour cube (16 + 36r + 6g + b, levels 0, 95, 135, ...).
        const INDEXED: [u8; 4] = [23, 58, 53, 22];
        let k = i % SERIES.len();
        match self.colours() {
            Colours::None => Style::new().add_modifier(Modifier::DIM),
            Colours::Basic => self.series(i).add_modifier(Modifier::DIM),
            Colours::Indexed => Style::new().fg(Color::Indexed(INDEXED[k])),
            Colours::TrueColor => {
                let (r, g, b) = RGB[k];
                Style::new().fg(Color::Rgb(r, g, b))
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_follow_no_color_term_and_colorterm() {
        use Colours as C;
        let d = C::decide;
        assert_eq!(d(None, None, Some("xterm-256color")), C::Indexed);
        assert_eq!(d(None, Some("truecolor"), Some("xterm-256color")), C::TrueColor);
        assert_eq!(d(None, Some("24bit"), Some("tmux-256color")), C::TrueColor);
        assert_eq!(d(None, Some("yes"), Some("xterm-256color")), C::Indexed);
        assert_eq!(d(None, Some(""), Some("screen")), C::Indexed);
        assert_eq!(d(None, Some("truecolor"), Some("linux")), C::Basic);
        assert_eq!(d(None, None, Some("vt100")), C::Basic);
        assert_eq!(d(None, None, None), C::Indexed);
        assert_eq!(d(Some("1"), Some("truecolor"), Some("xterm-256color")), C::None);
        assert_eq!(d(Some(""), None, Some("xterm-256color")), C::Indexed, "an empty NO_COLOR is unset");
    }

    /// Every colour a style of `t` can carry.
    fn colours_of(t: &Theme) -> Vec<Color> {
        let mut styles = vec![t.text(), t.dim(), t.title(), t.selected(), t.border(true), t.border(false)];
        styles.extend([t.nan(), t.status(true), t.status(false), t.cursor()]);
        styles.extend([Severity::Critical, Severity::Warning, Severity::Info].map(|s| t.severity(s)));
        for i in 0..COLOURS {
            styles.extend([t.series(i), t.raw(i), t.run(i), t.run_raw(i)]);
        }
        styles.iter().flat_map(|s| [s.fg, s.bg]).flatten().collect()
    }

    #[test]
    fn a_theme_sends_only_the_colours_its_terminal_shows() {
        let rgb = |c: &Color| matches!(c, Color::Rgb(..));
        let indexed = |c: &Color| matches!(c, Color::Indexed(_));
        let none = colours_of(&Theme::with(Colours::None));
        assert!(none.is_empty(), "{none:?}");
        let basic = colours_of(&Theme::with(Colours::Basic));
        assert!(!basic.is_empty() && !basic.iter().any(|c| rgb(c) || indexed(c)), "{basic:?}");
        let c256 = colours_of(&Theme::with(Colours::Indexed));
        assert!(c256.iter().any(indexed) && !c256.iter().any(rgb), "{c256:?}");
        let full = colours_of(&Theme::with(Colours::TrueColor));
        assert!(full.iter().any(rgb), "{full:?}");
        for c in [Colours::None, Colours::Basic, Colours::Indexed, Colours::TrueColor] {
            assert_eq!(Theme::with(c).colours(), c);
        }
    }
}
