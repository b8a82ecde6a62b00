//! Input handling: keys and mouse events become [`Action`]s, and actions change the state.
//!
//! Keys are mapped through the one table in `keys`. A mouse event is resolved by the loop, which
//! knows the screen's layout (the ui's `hit` finds what is drawn under the pointer): it arrives
//! here as a [`Hit`], and [`mouse_action`] turns it into an action, so the app never reads what
//! rendering drew.

use super::keys::{action_for, Action};
use super::view::{Focus, LayoutMode, Pane};
use super::App;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEventKind};

/// What is under the mouse pointer, in the app's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    /// A metric of the list: its chart's index in the app's groups.
    Metric(usize),
    /// A chart: its index in the app's groups.
    Chart(usize),
    /// A row of the flags panel: the flag's index, newest first.
    Flag(usize),
    /// The chart area outside any chart.
    Charts,
    /// The plot of the single-chart view: column `col` of `of`.
    Plot { col: u16, of: u16 },
    /// A row of the runs panel: the run's slot.
    Run(usize),
    /// A column title of the runs panel.
    RunsColumn(super::SortKey),
    /// A cell of the heatmap: its layer (a row of the family), column `col` of `of`.
    HeatCell { layer: usize, col: u16, of: u16 },
    /// A layer's name beside the heatmap.
    HeatLayer(usize),
}

/// What a mouse event of `kind` over `hit` (`None`: nothing that reacts) asks for: a click selects
/// the metric or chart under it (or the flag, focusing the flags panel; or the run, focusing the
/// runs panel), sorts the runs by the column title under it, and on the plot of the single-chart
/// view puts the cursor there (dragging moves it); on the heatmap a click on a cell puts the
/// cursor on its layer and step (dragging moves it), and one on a layer's name selects that layer;
/// the wheel zooms over the charts, moves the selection over the lists and the layer over the
/// heatmap.
pub fn mouse_action(kind: MouseEventKind, hit: Option<Hit>) -> Option<Action> {
    let down = kind == MouseEventKind::ScrollDown;
    match (kind, hit) {
        (
            MouseEventKind::Down(MouseButton::Left) | MouseEventKind::Drag(MouseButton::Left),
            Some(Hit::Plot { col, of }),
        ) => Some(Action::CursorAt { col, of }),
        (
            MouseEventKind::Down(MouseButton::Left) | MouseEventKind::Drag(MouseButton::Left),
            Some(Hit::HeatCell { layer, col, of }),
        ) => Some(Action::HeatCellAt { layer, col, of }),
        (MouseEventKind::Down(MouseButton::Left), Some(Hit::HeatLayer(layer))) => {
            Some(Action::HeatLayer(layer))
        }
        (
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown,
            Some(Hit::HeatCell { .. } | Hit::HeatLayer(_)),
        ) => Some(Action::HeatWheel { down }),
        (MouseEventKind::Down(MouseButton::Left), Some(Hit::Run(i))) => Some(Action::SelectRun(i)),
        (MouseEventKind::Down(MouseButton::Left), Some(Hit::RunsColumn(k))) => Some(Action::SortBy(k)),
        (MouseEventKind::ScrollUp | MouseEventKind::ScrollDown, Some(Hit::Run(_) | Hit::RunsColumn(_))) => {
            Some(Action::Wheel { list: Focus::Runs, down })
        }
        (MouseEventKind::Down(MouseButton::Left), Some(Hit::Metric(g) | Hit::Chart(g))) => {
            Some(Action::SelectChart(g))
        }
        (MouseEventKind::Down(MouseButton::Left), Some(Hit::Flag(i))) => Some(Action::SelectFlag(i)),
        (
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown,
            Some(Hit::Chart(_) | Hit::Charts | Hit::Plot { .. }) | None,
        ) => Some(if down { Action::ZoomOut } else { Action::ZoomIn }),
        (MouseEventKind::ScrollUp | MouseEventKind::ScrollDown, Some(Hit::Metric(_))) => {
            Some(Action::Wheel { list: Focus::Metrics, down })
        }
        (MouseEventKind::ScrollUp | MouseEventKind::ScrollDown, Some(Hit::Flag(_))) => {
            Some(Action::Wheel { list: Focus::Flags, down })
        }
        _ => None,
    }
}

impl App {
    pub(super) fn on_key(&mut self, k: KeyEvent) -> bool {
        if self.view.filter_edit.is_some() {
            return self.on_filter_key(k);
        }
        let Some(action) = action_for(&k) else { return false };
        if self.view.help {
            return self.on_help_key(action);
        }
        self.apply_action(action)
    }

    /// Runs one action (a key's, or a mouse event's as the loop resolved it); returns whether the
    /// screen changed.
    pub fn act(&mut self, action: Action) -> bool {
        let changed = self.apply_action(action);
        self.refresh_groups();
        changed
    }

    fn apply_action(&mut self, action: Action) -> bool {
        if let Some(changed) = self.dist_action(action) {
            return changed;
        }
        let comparing = self.comparing();
        if action.compare_only() && !comparing {
            return false;
        }
        if let Some(changed) = self.arch_action(action) {
            return changed;
        }
        let groups_len = self.groups.len();
        let flags_len = self.flag_rows().len();
        let v = &mut self.view;
        match action {
            Action::Quit => self.should_quit = true,
            Action::Help => {
                v.help = !v.help;
                v.help_scroll = 0;
            }
            Action::Up | Action::Down if v.focus == Focus::Runs => {
                return self.step_run(if action == Action::Down { 1 } else { -1 }, false);
            }
            // The heatmap's cursor reads one cell: the arrows move it through the layers.
            Action::Up | Action::Down
                if v.focus == Focus::Metrics && v.pane == Pane::Heatmap && v.cursor.is_some() =>
            {
                let rows = self.heat_family().map_or(0, |f| f.ids.len());
                let v = &mut self.view;
                v.heat_row = if action == Action::Down {
                    (v.heat_row + 1).min(rows.saturating_sub(1))
                } else {
                    v.heat_row.saturating_sub(1)
                };
            }
            Action::Up | Action::Down => {
                let down = action == Action::Down;
                let (idx, len) = match v.focus {
                    Focus::Flags => (&mut v.flag_selected, flags_len),
                    _ => (&mut v.selected, groups_len),
                };
                *idx = if down { (*idx + 1).min(len.saturating_sub(1)) } else { idx.saturating_sub(1) };
            }
            Action::PageUp | Action::PageDown | Action::First | Action::Last => {
                return self.move_in_list(action);
            }
            Action::Enter => match v.focus {
                Focus::Metrics => {
                    let family = self.groups.get(v.selected).filter(|g| !g.layer).and_then(|g| g.family);
                    if let Some(fi) = family {
                        self.open_heatmap(fi);
                    } else if v.pane != Pane::Charts {
                        v.pane = Pane::Charts;
                        v.layout = LayoutMode::Single;
                    } else {
                        v.layout = match v.layout {
                            LayoutMode::Grid => LayoutMode::Single,
                            LayoutMode::Single => LayoutMode::Grid,
                        }
                    }
                }
                Focus::Flags => return self.jump_to_flag(),
                Focus::Runs => return self.apply_action(Action::SoloRun),
            },
            Action::Filter => v.filter_edit = Some(v.filter.clone()),
            Action::Escape => {
                // Back one level: the cursor, the flags or runs panel, the single chart (as the
                // help says), then the filter.
                if v.cursor.is_some() {
                    v.cursor = None;
                } else if v.focus != Focus::Metrics {
                    v.focus = Focus::Metrics;
                } else if v.pane != Pane::Charts {
                    v.pane = Pane::Charts;
                } else if v.layout == LayoutMode::Single {
                    v.layout = LayoutMode::Grid;
                } else if !v.filter.is_empty() {
                    v.filter.clear();
                } else {
                    return false;
                }
            }
            Action::SmoothUp => v.smoothing = v.smoothing.with_strength_step(1),
            Action::SmoothDown => v.smoothing = v.smoothing.with_strength_step(-1),
            Action::CycleSmoother => v.smoothing = v.smoothing.next(),
            Action::Outliers => v.outliers = !v.outliers,
            Action::LogY => v.log_y = !v.log_y,
            Action::CycleX => {
                v.x_axis = v.x_axis.next();
                // A window in steps means nothing in seconds.
                v.zoom = None;
                v.anchor = None;
                v.cursor = None;
            }
            Action::ZoomIn | Action::ZoomOut => return self.zoom(action == Action::ZoomIn),
            Action::PanLeft | Action::PanRight => return self.pan(action == Action::PanRight),
            Action::Follow => v.anchor = None,
            Action::Reset => {
                v.zoom = None;
                v.anchor = None;
                v.cursor = None;
            }
            Action::FocusFlags => {
                v.focus = if v.focus == Focus::Flags { Focus::Metrics } else { Focus::Flags };
            }
            Action::FocusRuns => {
                v.focus = if v.focus == Focus::Runs { Focus::Metrics } else { Focus::Runs };
            }
            Action::Pause => {
                v.paused = !v.paused;
                self.unseen = 0;
            }
            Action::SelectChart(g) => {
                v.focus = Focus::Metrics;
                v.selected = g.min(groups_len.saturating_sub(1));
            }
            Action::SelectFlag(i) => {
                v.focus = Focus::Flags;
                v.flag_selected = i.min(flags_len.saturating_sub(1));
            }
            Action::Wheel { list, down } => {
                v.focus = list;
                return self.apply_action(if down { Action::Down } else { Action::Up });
            }
            Action::Export => return self.export_chart(),
            Action::ToggleFamily => {
                let Some(fi) = self.groups.get(v.selected).and_then(|g| g.family) else { return false };
                let Some(name) = self.families().get(fi).map(|f| f.name.clone()) else { return false };
                let v = &mut self.view;
                match v.expanded.iter().position(|n| *n == name) {
                    Some(i) => {
                        v.expanded.remove(i);
                    }
                    None => v.expanded.push(name),
                }
                self.refresh_groups_now();
                if let Some(i) = self.groups.iter().position(|g| g.family == Some(fi) && !g.layer) {
                    self.view.selected = i;
                }
            }
            // Taken by `arch_action` above.
            Action::ArchMetric => return false,
            Action::NextRun | Action::PrevRun if comparing => {
                return self.step_run(if action == Action::NextRun { 1 } else { -1 }, true);
            }
            Action::NextRun | Action::PrevRun => {
                if self.run_count() < 2 {
                    return false;
                }
                // Past the files read into another's run (a TensorBoard folder's later files).
                let n = self.slots.len();
                let at = |k: usize| {
                    if action == Action::NextRun {
                        (self.current + k) % n
                    } else {
                        (self.current + n - k % n) % n
                    }
                };
                let next = (1..=n).map(at).find(|&i| self.slots[i].live.member_of.is_none());
                self.current = next.unwrap_or(0);
                self.view.selected = 0;
                self.view.flag_selected = 0;
            }
            Action::SelectRun(i) => {
                if !self.slots.get(i).is_some_and(super::compare::is_run) {
                    return false;
                }
                v.focus = Focus::Runs;
                self.current = i;
            }
            Action::HideRun => {
                let c = &mut self.compare;
                c.solo = None;
                if let Some(l) = c.looks.get_mut(self.current) {
                    l.hidden = !l.hidden;
                }
            }
            Action::ShowAllRuns => {
                let c = &mut self.compare;
                c.solo = None;
                c.looks.iter_mut().for_each(|l| l.hidden = false);
            }
            Action::SoloRun => {
                let c = &mut self.compare;
                c.solo = if c.solo == Some(self.current) { None } else { Some(self.current) };
            }
            Action::Baseline => {
                let c = &mut self.compare;
                c.baseline = if c.baseline == Some(self.current) { None } else { Some(self.current) };
            }
            Action::SortNext | Action::SortPrev => {
                let keys = self.sort_keys();
                let at = keys.iter().position(|&k| k == self.compare.sort).unwrap_or(0);
                let n = keys.len();
                let next = if action == Action::SortNext { (at + 1) % n } else { (at + n - 1) % n };
                self.compare.sort = keys[next];
                self.compare.reversed = false;
            }
            Action::SortReverse => self.compare.reversed = !self.compare.reversed,
            Action::NextPane => {
                let panes = self.panes();
                let at = panes.iter().position(|&p| p == self.view.pane);
                let next = at.map_or(0, |i| (i + 1) % panes.len());
                if panes[next] == self.view.pane {
                    return false;
                }
                if panes[next] == Pane::Heatmap {
                    let fi = self.selected_group().and_then(|g| g.family).unwrap_or(self.view.heat_family);
                    self.open_heatmap(fi);
                } else {
                    self.view.pane = panes[next];
                }
            }
            Action::SortBy(k) => {
                let c = &mut self.compare;
                if c.sort == k {
                    c.reversed = !c.reversed;
                } else {
                    c.sort = k;
                    c.reversed = false;
                }
            }
            Action::CursorLeft | Action::CursorRight | Action::CursorLeftFar | Action::CursorRightFar => {
                return self.move_cursor(action);
            }
            Action::HeatCellAt { .. } | Action::HeatLayer(_) | Action::HeatWheel { .. } => {
                return self.heat_pointer(action);
            }
            Action::CursorAt { col, of } => {
                let Some((lo, hi)) = self.chart_window() else { return false };
                let at = (col as f64 + 0.5) / of.max(1) as f64;
                self.view.cursor = Some(lo + (hi - lo) * at.clamp(0.0, 1.0));
            }
        }
        true
    }

    /// A key while the help is open: the scrolling keys scroll it (where the screen is too short
    /// for every line), `q` quits, any other key closes it.
    fn on_help_key(&mut self, action: Action) -> bool {
        let (w, h) = self.screen.map_or((80, 24), |r| (r.width, r.height));
        let (_, rows, max) = super::keys::help_geometry(self.comparing(), self.ascii, w, h);
        let at = self.view.help_scroll.min(max);
        let to = match action {
            Action::Quit => {
                self.should_quit = true;
                return true;
            }
            Action::Up => at.saturating_sub(1),
            Action::Down => (at + 1).min(max),
            Action::PageUp => at.saturating_sub(rows.saturating_sub(1).max(1)),
            Action::PageDown => (at + rows.saturating_sub(1).max(1)).min(max),
            Action::First => 0,
            Action::Last => max,
            _ => {
                self.view.help = false;
                return true;
            }
        };
        let changed = to != self.view.help_scroll;
        self.view.help_scroll = to;
        changed
    }

    /// The rows a page of the focused list moves: the list's height on the screen as last
    /// reported, less one row kept in sight (before any size is known: 10).
    fn page_rows(&self) -> usize {
        let Some(screen) = self.screen else { return 10 };
        // The lists sit between the header and footer in frames of their own; the flags panel is
        // at most 8 rows, the runs panel a third of the screen: a page of theirs is smaller.
        let body = screen.height.saturating_sub(2) as usize;
        let rows = match self.view.focus {
            Focus::Metrics => body.saturating_sub(2 + if body >= 30 { 8 } else { 5 }),
            Focus::Flags => {
                if body >= 30 {
                    6
                } else {
                    3
                }
            }
            Focus::Runs => body / 3,
        };
        rows.saturating_sub(1).max(1)
    }

    /// PgUp/PgDn/Home/End in the focused list: the metrics (charts), the flags or the runs.
    fn move_in_list(&mut self, action: Action) -> bool {
        let page = self.page_rows() as isize;
        let by = match action {
            Action::PageUp => -page,
            Action::PageDown => page,
            Action::First => isize::MIN / 2,
            _ => isize::MAX / 2,
        };
        if self.view.focus == Focus::Runs {
            return self.step_run(by, false);
        }
        let len = match self.view.focus {
            Focus::Flags => self.flag_rows().len(),
            _ => self.groups.len(),
        };
        let idx = match self.view.focus {
            Focus::Flags => &mut self.view.flag_selected,
            _ => &mut self.view.selected,
        };
        let to = (*idx as isize).saturating_add(by).clamp(0, len.saturating_sub(1) as isize) as usize;
        let changed = to != *idx;
        *idx = to;
        changed
    }

    /// Selects the run `by` rows down the runs panel (up when negative), wrapping around with
    /// `wrap` (Tab) or stopping at the ends (the arrows in the focused panel).
    fn step_run(&mut self, by: isize, wrap: bool) -> bool {
        let order = self.run_order();
        if order.is_empty() {
            return false;
        }
        let n = order.len() as isize;
        let at = order.iter().position(|&i| i == self.current).unwrap_or(0) as isize;
        let next = if wrap { (at + by).rem_euclid(n) } else { (at + by).clamp(0, n - 1) };
        let changed = order[next as usize] != self.current;
        self.current = order[next as usize];
        changed
    }

    /// Moves the cursor of the single-chart view by a hundredth (a tenth: far) of the window,
    /// showing it first at the newest data (and the selected chart alone).
    fn move_cursor(&mut self, action: Action) -> bool {
        self.view.layout = LayoutMode::Single;
        let (Some((lo, hi)), Some((_, newest))) = (self.chart_window(), self.full_x_range()) else {
            return false;
        };
        let Some(x) = self.view.cursor.filter(|x| (lo..=hi).contains(x)) else {
            self.view.cursor = Some(newest.clamp(lo, hi));
            return true;
        };
        let step = (hi - lo)
            * match action {
                Action::CursorLeftFar | Action::CursorRightFar => 0.1,
                _ => 0.01,
            };
        let right = matches!(action, Action::CursorRight | Action::CursorRightFar);
        self.view.cursor = Some(if right { x + step } else { x - step }.clamp(lo, hi));
        true
    }

    fn on_filter_key(&mut self, k: KeyEvent) -> bool {
        let Some(edit) = self.view.filter_edit.as_mut() else { return false };
        match k.code {
            KeyCode::Esc => {
                self.view.filter_edit = None;
                self.view.filter.clear();
            }
            KeyCode::Enter => {
                if self.view.filter_error.is_none() {
                    self.view.filter = self.view.filter_edit.take().unwrap_or_default();
                }
            }
            KeyCode::Backspace => {
                edit.pop();
            }
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => self.should_quit = true,
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => edit.clear(),
            KeyCode::Char(c) if !c.is_control() && edit.len() < 200 => edit.push(c),
            _ => return false,
        }
        self.view.selected = 0;
        true
    }

    fn zoom(&mut self, zoom_in: bool) -> bool {
        let Some((lo, hi)) = self.full_x_range() else { return false };
        let full = (hi - lo).max(1e-9);
        let width = self.view.zoom.unwrap_or(full);
        let new = if zoom_in { width / 2.0 } else { width * 2.0 };
        self.view.zoom = if new >= full { None } else { Some(new.max(full * 1e-6)) };
        if self.view.zoom.is_none() {
            self.view.anchor = None;
        }
        true
    }

    fn pan(&mut self, right: bool) -> bool {
        let (Some(width), Some((lo, hi))) = (self.view.zoom, self.full_x_range()) else { return false };
        let edge = self.view.anchor.unwrap_or(hi);
        let moved = if right { edge + width / 4.0 } else { edge - width / 4.0 };
        self.view.anchor = if moved >= hi { None } else { Some(moved.max(lo + width)) };
        true
    }

    /// A click or a wheel turn on the heatmap (see [`mouse_action`]): the cursor to a layer (and
    /// a step: a cell's, or the window's newest when the cursor was off), the keys' focus on it.
    fn heat_pointer(&mut self, action: Action) -> bool {
        let Some(rows) = self.heat_family().map(|f| f.ids.len()).filter(|&n| n > 0) else { return false };
        let Some((lo, hi)) = self.heat_family().and_then(|f| {
            let data = self.chart_source()?;
            crate::chart::heat_window(&data, &f.ids, self.view.zoom, self.view.anchor)
        }) else {
            return false;
        };
        let before = (self.view.heat_row, self.view.cursor, self.view.focus);
        let v = &mut self.view;
        v.focus = Focus::Metrics;
        match action {
            Action::HeatCellAt { layer, col, of } => {
                v.heat_row = layer.min(rows - 1);
                // The middle of the column, as the heatmap bins it.
                let at = (col as f64 + 0.5) / of.max(1) as f64;
                v.cursor = Some(lo + (hi - lo) * at.clamp(0.0, 1.0));
            }
            Action::HeatLayer(layer) => {
                v.heat_row = layer.min(rows - 1);
                v.cursor = v.cursor.or(Some(hi));
            }
            Action::HeatWheel { down } => {
                if v.cursor.is_some() {
                    v.heat_row =
                        if down { (v.heat_row + 1).min(rows - 1) } else { v.heat_row.saturating_sub(1) };
                }
                v.cursor = v.cursor.or(Some(hi));
            }
            _ => return false,
        }
        before != (v.heat_row, v.cursor, v.focus)
    }

    /// Shows the heatmap of family `fi` (in steps, the whole run, no cursor).
    fn open_heatmap(&mut self, fi: usize) {
        let v = &mut self.view;
        if v.pane != Pane::Heatmap || v.heat_family != fi {
            v.heat_row = 0;
            v.cursor = None;
        }
        v.pane = Pane::Heatmap;
        v.heat_family = fi;
        if v.x_axis != crate::chart::XAxis::Step {
            // A heatmap's x is the step: a window in seconds means nothing there.
            v.x_axis = crate::chart::XAxis::Step;
            v.zoom = None;
            v.anchor = None;
        }
    }

    /// Moves the chart to the selected flag's step: its metric alone, the step in the middle
    /// (comparing runs: the flag's run selected). A flag about layers (dead units, vanishing or
    /// exploding gradients) opens the heatmap of the family that shows it, the cursor on its
    /// first marked layer at its step.
    fn jump_to_flag(&mut self) -> bool {
        let Some((run, flag)) =
            self.flag_rows().get(self.view.flag_selected).map(|(i, f)| (*i, (*f).clone()))
        else {
            return false;
        };
        self.current = run;
        self.refresh_groups();
        let target = self.slot().and_then(|s| {
            crate::analysis::families::flag_target(
                self.families(),
                &s.run().store,
                &flag,
                &self.options().flags,
            )
        });
        if let Some((fi, rows)) = target.filter(|_| !self.comparing()) {
            self.open_heatmap(fi);
            self.view.heat_row = rows.first().copied().unwrap_or(0);
            let Some((lo, hi)) = self.full_x_range() else { return true };
            let width = self.view.zoom.unwrap_or(((hi - lo) / 10.0).round().max(10.0));
            self.view.zoom = Some(width);
            self.view.anchor = Some((flag.step + width / 2.0).min(hi));
            self.view.cursor = Some(flag.step);
            return true;
        }
        self.view.pane = super::Pane::Charts;
        if let Some(i) = self.groups.iter().position(|g| g.names.contains(&flag.metric)) {
            self.view.selected = i;
        }
        self.view.layout = LayoutMode::Single;
        let Some((lo, hi)) = self.full_x_range() else { return true };
        let Some(slot) = self.slot() else { return true };
        let store = &slot.run().store;
        // The chart's first series (comparing runs: the chart's metric in the flag's run).
        let id = self
            .selected_group()
            .and_then(|g| g.members.first().copied())
            .or_else(|| store.find(&flag.metric));
        let step_axis = self.comparing() && self.x_is_steps();
        let x = id
            .filter(|_| !step_axis)
            .and_then(|id| crate::chart::x_at_step(store, id, flag.step, self.view.x_axis))
            .unwrap_or(flag.step);
        let width = self.view.zoom.unwrap_or(((hi - lo) / 10.0).round().max(10.0));
        self.view.zoom = Some(width);
        self.view.anchor = Some((x + width / 2.0).min(hi));
        true
    }
}
