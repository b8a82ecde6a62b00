//! Drawing: `render(frame, &App)` lays out the screen and each region draws itself from the state.
//! Nothing here changes the state (chart data comes from the app's memo cache).

mod arch;
mod ascii;
mod chart;
mod dist;
mod flags;
mod footer;
mod header;
mod heatmap;
mod help;
mod legend;
mod metrics;
pub mod raster;
mod runs;
mod theme;

pub(crate) use crate::text::{elide_middle as elide, fit, fit_left, sanitize};
pub use heatmap::SHADES;
pub use theme::{Colours, Theme};

use crate::app::{mouse_action, Action, App, Hit};
use crate::store::SeriesId;
use crossterm::event::MouseEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::Frame;

/// Below this size the screen shows only a "terminal too small" line.
pub const MIN_WIDTH: u16 = 30;
pub const MIN_HEIGHT: u16 = 8;

/// Draws the whole screen.
pub fn render(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let long =
            format!("terminal too small ({}x{}); need {MIN_WIDTH}x{MIN_HEIGHT}", area.width, area.height);
        let msg = if long.len() <= area.width as usize { long.as_str() } else { "too small" };
        frame.render_widget(Line::from(fit(msg, area.width as usize)), area);
        if app.ascii {
            ascii::to_ascii(frame.buffer_mut());
        }
        return;
    }
    let r = layout(app, area);
    header::render(frame, app, r.head);
    footer::render(frame, app, r.foot);
    if r.list.width > 0 {
        metrics::render(frame, app, r.list);
    }
    match app.view.pane {
        // Each view inside the network draws in the charts' place; until a run has data for one,
        // `App::panes` never selects it.
        crate::app::Pane::Heatmap if app.heat_family().is_some() => heatmap::render(frame, app, r.charts),
        crate::app::Pane::Distributions => dist::render(frame, app, r.charts),
        crate::app::Pane::Architecture => arch::render(frame, app, r.charts),
        crate::app::Pane::Charts | crate::app::Pane::Heatmap => chart::render(frame, app, r.charts),
    }
    if r.flags.height > 0 {
        flags::render(frame, app, r.flags);
    }
    if r.runs.height > 0 {
        runs::render(frame, app, r.runs);
    }
    if app.view.help {
        help::render(frame, app, area);
    }
    if app.ascii {
        ascii::to_ascii(frame.buffer_mut());
    }
}

/// The screen's regions (an empty `list`, `flags` or `runs` when the terminal is too narrow or too
/// short for them, or when one run is open: `runs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Regions {
    pub head: Rect,
    pub list: Rect,
    pub charts: Rect,
    pub flags: Rect,
    /// The runs panel (comparing runs).
    pub runs: Rect,
    pub foot: Rect,
}

/// Lays out a screen of `area` (at least [`MIN_WIDTH`] x [`MIN_HEIGHT`]) for one run.
pub fn regions(area: Rect) -> Regions {
    let [head, body, foot] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let flags_h = flags_height(body.height);
    let [top, flags] = Layout::vertical([Constraint::Min(1), Constraint::Length(flags_h)]).areas(body);
    let (list, charts) = split_top(top);
    Regions { head, list, charts, flags, runs: Rect::default(), foot }
}

/// Narrower than this, the runs panel and the flags panel share the bottom of the screen in turn
/// (the flags when they have the focus); wider, they sit side by side.
const SIDE_BY_SIDE: u16 = 120;

/// Lays out the screen for `app`: [`regions`] for one run; comparing runs, the runs panel at the
/// bottom (a row per run, up to a third of the screen), beside the flags or in turn with them.
pub fn layout(app: &App, area: Rect) -> Regions {
    if !app.comparing() {
        return regions(area);
    }
    let [head, body, foot] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let flags_h = flags_height(body.height);
    let rows = app.run_slots().count() as u16;
    let runs_h = if flags_h == 0 { 0 } else { (rows + 3).min((body.height / 3).max(5)) };
    let wide = body.width >= SIDE_BY_SIDE;
    let bottom_h = if wide { runs_h.max(flags_h) } else { runs_h };
    let [top, bottom] = Layout::vertical([Constraint::Min(1), Constraint::Length(bottom_h)]).areas(body);
    let (list, charts) = split_top(top);
    let (runs, flags) = if wide {
        let [runs, flags] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
        (runs, flags)
    } else if app.view.focus == crate::app::Focus::Flags {
        (Rect::default(), bottom)
    } else {
        (bottom, Rect::default())
    };
    Regions { head, list, charts, flags, runs, foot }
}

fn flags_height(body_height: u16) -> u16 {
    match body_height {
        0..=13 => 0,
        14..=29 => 5,
        _ => 8,
    }
}

/// The metric list and the charts, side by side (the list only when there is room).
fn split_top(top: Rect) -> (Rect, Rect) {
    let list_w = if top.width >= 70 { (top.width * 3 / 8).clamp(30, 48) } else { 0 };
    let [list, charts] = Layout::horizontal([Constraint::Length(list_w), Constraint::Min(1)]).areas(top);
    (list, charts)
}

/// What is drawn at column `x`, row `y` of a screen of `area`, as `render` lays it out for `app`.
pub fn hit(app: &App, area: Rect, x: u16, y: u16) -> Option<Hit> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT || app.view.help {
        return None;
    }
    let r = layout(app, area);
    let at = ratatui::layout::Position { x, y };
    if r.list.contains(at) {
        return metrics::group_at(app, r.list, y).map(Hit::Metric);
    }
    if r.charts.contains(at) && app.heat_family().is_some() {
        // Off the cells and names (the colour bar, the axis): as the chart area.
        return Some(heatmap::hit(app, r.charts, x, y).unwrap_or(Hit::Charts));
    }
    if r.charts.contains(at) {
        if let Some((col, of)) = chart::plot_column(app, r.charts, x, y) {
            return Some(Hit::Plot { col, of });
        }
        let cell = chart::cells(app, r.charts).into_iter().find(|(_, c)| c.contains(at));
        return Some(cell.map_or(Hit::Charts, |(g, _)| Hit::Chart(g)));
    }
    if r.flags.contains(at) {
        return flags::flag_at(app, r.flags, y).map(Hit::Flag);
    }
    if r.runs.contains(at) {
        return runs::hit(app, r.runs, x, y);
    }
    None
}

/// What mouse event `m` asks for, on a screen of `area` as `render` lays it out for `app`: the loop
/// resolves mouse events with it and hands the action to [`App::act`].
pub fn pointer(app: &App, area: Rect, m: &MouseEvent) -> Option<Action> {
    mouse_action(m.kind, hit(app, area, m.column, m.row))
}

/// The series of the run on screen a frame of `area` charts (the loop builds their columns before
/// drawing: [`App::warm_charts`]).
pub fn charted(app: &App, area: Rect) -> Vec<SeriesId> {
    let groups = app.groups();
    charted_groups(app, area).iter().flat_map(|&g| groups[g].members.iter().copied()).collect()
}

/// The charts (indices into [`App::groups`]) a frame of `area` draws (the loop builds their
/// columns before drawing: [`App::warm_groups`]).
pub fn charted_groups(app: &App, area: Rect) -> Vec<usize> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT || app.heat_family().is_some() {
        return Vec::new();
    }
    chart::cells(app, layout(app, area).charts).iter().map(|&(g, _)| g).collect()
}

/// The columns of the heatmap a frame of `area` draws, when it draws one (the loop reduces it
/// before drawing: [`App::warm_heatmap`]).
pub fn heatmap_width(app: &App, area: Rect) -> Option<usize> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    heatmap::width(app, layout(app, area).charts)
}

/// Where the heatmap of a frame of `area` draws its cells and its colour bar (for tests and
/// pointers).
pub fn heatmap_plot(app: &App, area: Rect) -> Option<(Rect, Rect)> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT || app.heat_family().is_none() {
        return None;
    }
    heatmap::plot_and_bar(app, layout(app, area).charts)
}

/// A rectangle centred in `area`, at most `w` x `h`.
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}
