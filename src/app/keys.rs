//! Keys mapped to actions through one table, so the bindings are read in one place and the help
//! overlay is generated from the same table.

use super::view::Focus;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key or the mouse asks for. The meaning of some (Up, Down, Enter) depends on the focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Up,
    Down,
    /// A page up or down the focused list (metrics, flags, runs); in the help, its page.
    PageUp,
    PageDown,
    /// The first or the last row of the focused list; in the help, its top or its end.
    First,
    Last,
    Enter,
    Filter,
    Escape,
    SmoothUp,
    SmoothDown,
    CycleSmoother,
    Outliers,
    LogY,
    CycleX,
    ZoomIn,
    ZoomOut,
    PanLeft,
    PanRight,
    Follow,
    Reset,
    FocusFlags,
    Pause,
    NextRun,
    /// Write the selected chart, as shown, to an SVG and a PNG in the current directory.
    Export,
    PrevRun,
    /// The runs panel gets the focus (or gives it back).
    FocusRuns,
    /// Hides the selected run from the charts, or shows it again.
    HideRun,
    /// Shows every run (no run hidden, none solo).
    ShowAllRuns,
    /// Shows the selected run alone (with the baseline), or every run again.
    SoloRun,
    /// Pins the selected run as the baseline, or unpins it.
    Baseline,
    SortNext,
    SortPrev,
    SortReverse,
    /// Expands the selected per-layer family in the metric list (one entry per layer), or
    /// collapses it back into one entry.
    ToggleFamily,
    /// Shows the next pane that has data: charts, heatmaps, distributions, architecture.
    NextPane,
    /// On the architecture pane: colour the blocks by the next per-layer metric.
    ArchMetric,
    /// Moves the cursor of the single-chart view (showing it), by a hundredth or a tenth of the
    /// window.
    CursorLeft,
    CursorRight,
    CursorLeftFar,
    CursorRightFar,
    /// A click on the plot of the single-chart view: the cursor to column `col` of `of`.
    CursorAt {
        col: u16,
        of: u16,
    },
    /// A click on a heatmap's cell: the cursor to layer `layer` (a row of the family) and to the
    /// step of column `col` of `of`.
    HeatCellAt {
        layer: usize,
        col: u16,
        of: u16,
    },
    /// A click on a layer's name beside the heatmap: the cursor to that layer.
    HeatLayer(usize),
    /// The wheel over the heatmap: the cursor to the next layer down (or up).
    HeatWheel {
        down: bool,
    },
    /// A click on a row of the runs panel: that run (a slot) is selected, in the focused panel.
    SelectRun(usize),
    /// A click on a column title of the runs panel: sorts by it (again: the other way).
    SortBy(crate::app::SortKey),
    /// A click on a metric of the list or on a chart: that chart (an index into the groups).
    SelectChart(usize),
    /// A click on a flag (an index, newest first): it is selected, in the focused flags panel.
    SelectFlag(usize),
    /// The wheel over the metrics list or the flags panel: it gets the focus and moves its
    /// selection.
    Wheel {
        list: Focus,
        down: bool,
    },
}

/// One binding: the key, whether Ctrl must be held, the action, and its help text (empty for a
/// second key of an action already described).
pub struct Binding {
    pub code: KeyCode,
    pub ctrl: bool,
    pub action: Action,
    pub keys: &'static str,
    pub help: &'static str,
}

const fn b(code: KeyCode, action: Action, keys: &'static str, help: &'static str) -> Binding {
    Binding { code, ctrl: false, action, keys, help }
}

use Action as A;
use KeyCode as K;

/// Every binding; `help` is empty for aliases.
pub const BINDINGS: &[Binding] = &[
    b(K::Char('q'), A::Quit, "q, Ctrl-C", "quit"),
    Binding { code: K::Char('c'), ctrl: true, action: A::Quit, keys: "", help: "" },
    b(K::Char('?'), A::Help, "?", "this help"),
    b(K::Up, A::Up, "↑/↓, j/k", "select a metric (or a flag)"),
    b(K::Char('k'), A::Up, "", ""),
    b(K::Down, A::Down, "", ""),
    b(K::Char('j'), A::Down, "", ""),
    b(K::PageUp, A::PageUp, "PgUp / PgDn", "a page up / down the list (metrics, flags, runs)"),
    b(K::PageDown, A::PageDown, "", ""),
    b(K::Home, A::First, "Home / End", "first / last of the list"),
    b(K::End, A::Last, "", ""),
    b(
        K::Enter,
        A::Enter,
        "Enter",
        "one chart / grid; on a layer family: its heatmap; on a flag: go to its step",
    ),
    b(K::Char(' '), A::ToggleFamily, "Space", "expand / collapse a layer family in the metric list"),
    b(K::Char('/'), A::Filter, "/", "filter metrics by regex (Esc clears)"),
    b(K::Esc, A::Escape, "Esc", "back / clear the filter"),
    b(K::Char('s'), A::SmoothUp, "s / S", "smoothing up / down"),
    b(K::Char('S'), A::SmoothDown, "", ""),
    b(K::Char('m'), A::CycleSmoother, "m", "cycle the smoother"),
    b(K::Char('o'), A::Outliers, "o", "outlier-aware y scaling on/off"),
    b(K::Char('l'), A::LogY, "l", "log y on/off"),
    b(K::Char('x'), A::CycleX, "x", "x axis: step, relative time, wall time"),
    b(K::Char('+'), A::ZoomIn, "+ / -", "zoom in / out (last N steps)"),
    b(K::Char('='), A::ZoomIn, "", ""),
    b(K::Char('-'), A::ZoomOut, "", ""),
    b(K::Left, A::PanLeft, "← / →", "pan"),
    b(K::Right, A::PanRight, "", ""),
    b(K::Char('f'), A::Follow, "f", "follow the newest data"),
    b(K::Char('r'), A::Reset, "r", "reset the view (whole run, follow)"),
    b(K::Char('a'), A::FocusFlags, "a", "focus the flags list"),
    b(K::Char('p'), A::Pause, "p", "pause updates"),
    b(K::Char('i'), A::NextPane, "i", "inside the network: charts, heatmaps, distributions, architecture"),
    b(K::Char('c'), A::ArchMetric, "c", "architecture: colour the blocks by the next per-layer metric"),
    b(K::Char('e'), A::Export, "e", "export the chart: SVG and PNG in this directory"),
    b(K::Tab, A::NextRun, "Tab / Shift-Tab", "next / previous run (several runs)"),
    b(K::BackTab, A::PrevRun, "", ""),
    b(K::Char('['), A::CursorLeft, "[ / ], { / }", "cursor: read the values at a step ({ } faster)"),
    b(K::Char(']'), A::CursorRight, "", ""),
    b(K::Char('{'), A::CursorLeftFar, "", ""),
    b(K::Char('}'), A::CursorRightFar, "", ""),
    b(K::Char('R'), A::FocusRuns, "R", "focus the runs panel"),
    b(K::Char('h'), A::HideRun, "h / H", "hide or show the run / show every run"),
    b(K::Char('H'), A::ShowAllRuns, "", ""),
    b(K::Char('v'), A::SoloRun, "v", "view the run alone / every run again"),
    b(K::Char('b'), A::Baseline, "b", "pin the run as the baseline / unpin it"),
    b(K::Char('<'), A::SortPrev, "< / >", "sort the runs by the previous / next column"),
    b(K::Char('>'), A::SortNext, "", ""),
    b(K::Char('I'), A::SortReverse, "I", "reverse the runs' order"),
];

impl Action {
    /// Whether the action is about comparing runs (it does nothing with one run open, and the
    /// help leaves it out then).
    pub fn compare_only(self) -> bool {
        matches!(
            self,
            Action::FocusRuns
                | Action::HideRun
                | Action::ShowAllRuns
                | Action::SoloRun
                | Action::Baseline
                | Action::SortNext
                | Action::SortPrev
                | Action::SortReverse
                | Action::SelectRun(_)
                | Action::SortBy(_)
        )
    }
}

/// The action bound to `key`, if any. Shift is ignored (it is part of the character).
pub fn action_for(key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    BINDINGS.iter().find(|bd| bd.code == key.code && bd.ctrl == ctrl).map(|bd| bd.action)
}

/// Keys as `--ascii` writes them: the arrows by name.
fn ascii_keys(keys: &'static str) -> &'static str {
    match keys {
        "↑/↓, j/k" => "Up/Down, j/k",
        "← / →" => "Left / Right",
        k => k,
    }
}

/// The widest the help overlay is drawn, frame included: every text on one line beside its keys.
pub const HELP_MAX_W: u16 = 88;

/// The help overlay on a screen of `w` x `h`: the width inside its frame, the rows it shows, and
/// how far it scrolls (0 when every line shows). It sits between the header and the footer, so
/// the health badge stays in sight.
pub fn help_geometry(comparing: bool, ascii: bool, w: u16, h: u16) -> (usize, usize, usize) {
    let inner_w = w.min(HELP_MAX_W).saturating_sub(2) as usize;
    let lines = help_lines(comparing, ascii, inner_w).len();
    let rows = (h.saturating_sub(4) as usize).min(lines);
    (inner_w, rows, lines - rows)
}

/// Width of the help's keys column (the widest keys, `Tab / Shift-Tab`).
pub const HELP_KEYS_W: usize = 15;

/// The help overlay's lines, `width` cells inside its frame: (keys, one line of help text), each
/// binding's text wrapped at spaces under its own column (the keys only on its first line), then
/// a blank line and the notes. Both the overlay and the app (to know how far it scrolls) read it.
pub fn help_lines(comparing: bool, ascii: bool, width: usize) -> Vec<(&'static str, String)> {
    let text_w = width.saturating_sub(HELP_KEYS_W + 3).max(10);
    let mut out = Vec::new();
    // The keys about comparing runs only when runs are compared.
    for bd in BINDINGS.iter().filter(|bd| !bd.help.is_empty() && (comparing || !bd.action.compare_only())) {
        for (i, line) in crate::text::wrap(bd.help, text_w).into_iter().enumerate() {
            let keys = match (i, ascii) {
                (0, true) => ascii_keys(bd.keys),
                (0, false) => bd.keys,
                _ => "",
            };
            out.push((keys, line));
        }
    }
    out.push(("", String::new()));
    let mut notes = vec![if ascii {
        "raw faint, smoothed bright; v flag, x NaN/Infinity"
    } else {
        "raw faint, smoothed bright; ▼ flag, × NaN/Infinity"
    }];
    if comparing {
        notes.push(if ascii {
            "runs: * shown  - hidden  B baseline; a letter ends each run's line"
        } else {
            "runs: ● shown  ○ hidden  ◆ baseline; a letter ends each run's line"
        });
    }
    notes.push(if ascii {
        "Up/Down PgUp/PgDn Home/End scroll this help; any other key closes it"
    } else {
        "↑/↓ PgUp/PgDn Home/End scroll this help; any other key closes it"
    });
    let note_w = width.saturating_sub(1).max(10);
    for n in notes {
        out.extend(crate::text::wrap(n, note_w).into_iter().map(|l| ("", l)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_a_user_needs_has_a_key() {
        let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(action_for(&key(K::Char('q'))), Some(A::Quit));
        assert_eq!(action_for(&KeyEvent::new(K::Char('c'), KeyModifiers::CONTROL)), Some(A::Quit));
        // Plain `c` is another key (the architecture's metric): Ctrl is told apart.
        assert_eq!(action_for(&key(K::Char('c'))), Some(A::ArchMetric));
        assert_eq!(action_for(&key(K::Char('z'))), None);
        assert_eq!(action_for(&KeyEvent::new(K::Char('S'), KeyModifiers::SHIFT)), Some(A::SmoothDown));
        assert_eq!(action_for(&key(K::Char('f'))), Some(A::Follow));
        assert_eq!(action_for(&key(K::End)), Some(A::Last));
        assert_eq!(action_for(&key(K::Home)), Some(A::First));
        assert_eq!(action_for(&key(K::PageDown)), Some(A::PageDown));
        assert_eq!(action_for(&KeyEvent::new(K::BackTab, KeyModifiers::SHIFT)), Some(A::PrevRun));
        assert_eq!(action_for(&KeyEvent::new(K::Char('H'), KeyModifiers::SHIFT)), Some(A::ShowAllRuns));
    }

    #[test]
    fn no_key_is_bound_twice() {
        for (i, x) in BINDINGS.iter().enumerate() {
            for y in &BINDINGS[i + 1..] {
                assert!(!(x.code == y.code && x.ctrl == y.ctrl), "{:?} bound twice", x.code);
            }
        }
    }
}
