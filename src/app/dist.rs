//! The distributions pane's state and keys: which histogram of the run on screen is shown, and
//! which of its steps the cursor reads (`[ ] { }` move it a point or a tenth of the points; `Esc`
//! hides it; up and down choose the histogram).

use super::{Action, App, Pane};
use crate::store::HistView;

/// What the distributions pane shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DistState {
    /// Index into the run's histograms.
    pub selected: usize,
    /// The point the cursor reads; `None`: the newest, cursor hidden.
    pub point: Option<usize>,
}

impl App {
    /// The histogram the distributions pane shows, if the run on screen has any.
    pub fn dist_histogram(&self) -> Option<HistView<'_>> {
        let store = &self.slot()?.run().store;
        let n = store.histograms().len();
        (n > 0).then(|| store.histogram(self.view.dist.selected.min(n - 1)))
    }

    /// The point of [`App::dist_histogram`] the bars show: the cursor's, or the newest.
    pub fn dist_point(&self) -> Option<usize> {
        let h = self.dist_histogram()?;
        let n = h.len();
        (n > 0).then(|| self.view.dist.point.map_or(n - 1, |p| p.min(n - 1)))
    }

    /// Handles `action` when the distributions pane is on screen and the action is one of its
    /// own: `Some(changed)`; `None` leaves it to the charts' handling.
    pub(super) fn dist_action(&mut self, action: Action) -> Option<bool> {
        if self.view.pane != Pane::Distributions || self.view.focus != super::Focus::Metrics {
            return None;
        }
        let (names, points) = match self.slot() {
            Some(s) => {
                let st = &s.run().store;
                let n = st.histograms().len();
                (n, if n == 0 { 0 } else { st.histogram(self.view.dist.selected.min(n - 1)).len() })
            }
            None => (0, 0),
        };
        let d = &mut self.view.dist;
        let before = *d;
        match action {
            Action::Up => d.selected = d.selected.min(names.saturating_sub(1)).saturating_sub(1),
            Action::Down => d.selected = (d.selected + 1).min(names.saturating_sub(1)),
            Action::CursorLeft | Action::CursorRight | Action::CursorLeftFar | Action::CursorRightFar => {
                if points == 0 {
                    return Some(false);
                }
                let far = matches!(action, Action::CursorLeftFar | Action::CursorRightFar);
                let by = if far { (points / 10).max(1) } else { 1 };
                let at = d.point.unwrap_or(points - 1).min(points - 1);
                let right = matches!(action, Action::CursorRight | Action::CursorRightFar);
                d.point = Some(if right { (at + by).min(points - 1) } else { at.saturating_sub(by) });
            }
            Action::Escape if d.point.is_some() => d.point = None,
            _ => return None,
        }
        Some(*d != before)
    }
}
