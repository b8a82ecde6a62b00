//! The view over a run (what is selected, how charts are scaled and windowed) and the key handling
//! that changes it.

use super::keys::{action_for, Action};
use super::App;
use crate::analysis::smooth::Smoother;
use crate::chart::XAxis;
use crate::ui::Hit;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutMode {
    Grid,
    Single,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Metrics,
    Flags,
}

/// How the charts are shown.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub layout: LayoutMode,
    pub focus: Focus,
    /// Index into the app's groups.
    pub selected: usize,
    /// Index into the flags, newest first.
    pub flag_selected: usize,
    /// The applied filter (a case-insensitive regex; empty: everything).
    pub filter: String,
    /// The filter being typed, while the prompt is open.
    pub filter_edit: Option<String>,
    pub filter_error: Option<String>,
    /// The smoother the `s`/`S`/`m` keys adjust; at strength 0 only the raw series is drawn.
    pub smoothing: Smoother,
    pub outliers: bool,
    pub log_y: bool,
    pub x_axis: XAxis,
    /// Width of the window in x units; `None` shows everything.
    pub zoom: Option<f64>,
    /// Right edge of the window; `None` follows the newest data.
    pub anchor: Option<f64>,
    pub paused: bool,
    pub help: bool,
}

impl Default for View {
    fn default() -> Self {
        View {
            layout: LayoutMode::Grid,
            focus: Focus::Metrics,
            selected: 0,
            flag_selected: 0,
            filter: String::new(),
            filter_edit: None,
            filter_error: None,
            smoothing: Smoother::default(),
            outliers: true,
            log_y: false,
            x_axis: XAxis::Step,
            zoom: None,
            anchor: None,
            paused: false,
            help: false,
        }
    }
}

impl View {
    /// The smoother's parameter (weight, sigma or window).
    pub fn weight(&self) -> f64 {
        self.smoothing.param()
    }

    /// The smoother in effect, or None when it would return the raw series (weight or sigma 0,
    /// a window of 1).
    pub fn smoother(&self) -> Option<Smoother> {
        let s = self.smoothing.clamped();
        let identity = match s {
            Smoother::RunningAverage { window } => window <= 1,
            _ => s.param() == 0.0,
        };
        (!identity).then_some(s)
    }

    /// "EMA 0.6", "Gaussian σ=5", or "EMA off" when only the raw series is drawn.
    pub fn smoother_label(&self) -> String {
        match self.smoother() {
            Some(s) => s.label(),
            None => format!("{} off", self.smoothing.name()),
        }
    }

    /// The filter in effect now: the one being typed (live preview) or the applied one.
    pub fn active_filter(&self) -> &str {
        self.filter_edit.as_deref().unwrap_or(&self.filter)
    }
}

/// Compiles a filter: `None` for an empty one; an error message when the regex is invalid.
pub fn compile_filter(pattern: &str) -> Result<Option<regex::Regex>, String> {
    if pattern.is_empty() {
        return Ok(None);
    }
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .map(Some)
        .map_err(|e| e.to_string().lines().last().unwrap_or("invalid regex").trim().to_owned())
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
        self.act(action)
    }

    /// Runs one action; returns whether the screen changed.
    pub fn act(&mut self, action: Action) -> bool {
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
                if v.focus == Focus::Flags {
                    v.focus = Focus::Metrics;
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
                if !v.paused {
                    for ev in std::mem::take(&mut self.pending) {
                        self.apply_data(ev);
                    }
                }
            }
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

    /// A click selects the metric or chart under it (or the flag, focusing the flags panel); the
    /// wheel zooms over the charts and moves the selection over the lists.
    pub(super) fn on_mouse(&mut self, m: MouseEvent) -> bool {
        let hit = self.screen.and_then(|area| crate::ui::hit(self, area, m.column, m.row));
        match (m.kind, hit) {
            (MouseEventKind::Down(MouseButton::Left), Some(Hit::Metric(g) | Hit::Chart(g))) => {
                self.view.focus = Focus::Metrics;
                self.view.selected = g;
                true
            }
            (MouseEventKind::Down(MouseButton::Left), Some(Hit::Flag(i))) => {
                self.view.focus = Focus::Flags;
                self.view.flag_selected = i;
                true
            }
            (
                MouseEventKind::ScrollUp | MouseEventKind::ScrollDown,
                Some(Hit::Chart(_) | Hit::Charts) | None,
            ) => self.zoom(m.kind == MouseEventKind::ScrollUp),
            (MouseEventKind::ScrollUp | MouseEventKind::ScrollDown, Some(Hit::Metric(_) | Hit::Flag(_))) => {
                self.view.focus =
                    if matches!(hit, Some(Hit::Flag(_))) { Focus::Flags } else { Focus::Metrics };
                self.act(if m.kind == MouseEventKind::ScrollUp { Action::Up } else { Action::Down })
            }
            _ => false,
        }
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
