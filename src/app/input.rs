//! Input handling: keys and mouse events become [`Action`]s, and actions change the state.
//!
//! Keys are mapped through the one table in `keys`. A mouse event is resolved by the loop, which
//! knows the screen's layout (the ui's `hit` finds what is drawn under the pointer): it arrives
//! here as a [`Hit`], and [`mouse_action`] turns it into an action, so the app never reads what
//! rendering drew.

use super::keys::{action_for, Action};
use super::view::{Focus, LayoutMode};
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
}

/// What a mouse event of `kind` over `hit` (`None`: nothing that reacts) asks for: a click selects
/// the metric or chart under it (or the flag, focusing the flags panel); the wheel zooms over the
/// charts and moves the selection over the lists.
pub fn mouse_action(kind: MouseEventKind, hit: Option<Hit>) -> Option<Action> {
    let down = kind == MouseEventKind::ScrollDown;
    match (kind, hit) {
        (MouseEventKind::Down(MouseButton::Left), Some(Hit::Metric(g) | Hit::Chart(g))) => {
            Some(Action::SelectChart(g))
        }
        (MouseEventKind::Down(MouseButton::Left), Some(Hit::Flag(i))) => Some(Action::SelectFlag(i)),
        (MouseEventKind::ScrollUp | MouseEventKind::ScrollDown, Some(Hit::Chart(_) | Hit::Charts) | None) => {
            Some(if down { Action::ZoomOut } else { Action::ZoomIn })
        }
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
            match action {
                Action::Quit => self.should_quit = true,
                _ => self.view.help = false,
            }
            return true;
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
        let groups_len = self.groups.len();
        let flags_len = self.slot().map_or(0, |s| s.run().flags().len());
        let v = &mut self.view;
        match action {
            Action::Quit => self.should_quit = true,
            Action::Help => v.help = !v.help,
            Action::Up | Action::Down => {
                let down = action == Action::Down;
                let (idx, len) = match v.focus {
                    Focus::Metrics => (&mut v.selected, groups_len),
                    Focus::Flags => (&mut v.flag_selected, flags_len),
                };
                *idx = if down { (*idx + 1).min(len.saturating_sub(1)) } else { idx.saturating_sub(1) };
            }
            Action::Enter => match v.focus {
                Focus::Metrics => {
                    v.layout = match v.layout {
                        LayoutMode::Grid => LayoutMode::Single,
                        LayoutMode::Single => LayoutMode::Grid,
                    }
                }
                Focus::Flags => return self.jump_to_flag(),
            },
            Action::Filter => v.filter_edit = Some(v.filter.clone()),
            Action::Escape => {
                // Back one level: out of the flags, then out of the single chart (as the help
                // says), then the filter.
                if v.focus == Focus::Flags {
                    v.focus = Focus::Metrics;
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
            }
            Action::ZoomIn | Action::ZoomOut => return self.zoom(action == Action::ZoomIn),
            Action::PanLeft | Action::PanRight => return self.pan(action == Action::PanRight),
            Action::Follow => v.anchor = None,
            Action::Reset => {
                v.zoom = None;
                v.anchor = None;
            }
            Action::FocusFlags => {
                v.focus = if v.focus == Focus::Flags { Focus::Metrics } else { Focus::Flags };
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
            Action::NextRun => {
                if self.slots.len() < 2 {
                    return false;
                }
                self.current = (self.current + 1) % self.slots.len();
                self.view.selected = 0;
                self.view.flag_selected = 0;
            }
        }
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

    /// The x range of the selected chart's data, in the current x axis.
    fn full_x_range(&self) -> Option<(f64, f64)> {
        let slot = self.slot()?;
        let group = self.selected_group()?;
        crate::chart::x_range(&slot.run().store, &group.members, self.view.x_axis)
    }

    /// Moves the chart to the selected flag's step: its metric alone, the step in the middle.
    fn jump_to_flag(&mut self) -> bool {
        let Some(flag) = self.flags_newest_first().nth(self.view.flag_selected).cloned() else {
            return false;
        };
        let Some(slot) = self.slots.get(self.current) else { return false };
        let store = &slot.run().store;
        if let Some(i) =
            self.groups.iter().position(|g| g.members.iter().any(|&id| store.name(id) == flag.metric))
        {
            self.view.selected = i;
        }
        self.view.layout = LayoutMode::Single;
        let Some((lo, hi)) = self.full_x_range() else { return true };
        let Some(group) = self.selected_group() else { return true };
        let Some(slot) = self.slot() else { return true };
        let x = crate::chart::x_at_step(&slot.run().store, group.members[0], flag.step, self.view.x_axis)
            .unwrap_or(flag.step);
        let width = self.view.zoom.unwrap_or(((hi - lo) / 10.0).round().max(10.0));
        self.view.zoom = Some(width);
        self.view.anchor = Some((x + width / 2.0).min(hi));
        true
    }
}
