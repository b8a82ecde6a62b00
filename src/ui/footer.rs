//! The footer: key hints on the left, the view's settings on the right; the filter prompt.

use super::{fit, sanitize, Theme};
use crate::app::App;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::Frame;

const HINTS: &str = " q quit  ? help  ↑↓ select  ⏎ chart/grid  a flags  / filter  +/- zoom  ←→ pan  f follow  s/S smooth  m smoother  l log  o outliers  x axis  p pause  e export";
/// Comparing runs: the keys about runs first.
const COMPARE_HINTS: &str = " q quit  ? help  Tab run  h hide  v solo  b baseline  </> sort  R runs  [ ] cursor  ↑↓ select  ⏎ chart/grid  a flags  / filter  +/- zoom  s/S smooth  x axis  e export";

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = &Theme::of(app);
    let v = &app.view;
    if let Some(edit) = &v.filter_edit {
        let info = match &v.filter_error {
            Some(e) => {
                Span::styled(format!("  {}", sanitize(e)), t.severity(crate::analysis::Severity::Warning))
            }
            None => {
                let n = app.groups().len();
                let charts = if n == 1 { "chart" } else { "charts" };
                Span::styled(format!("  {n} {charts}  (Enter apply, Esc clear)"), t.dim())
            }
        };
        let line = Line::from(vec![
            Span::styled(" /", t.title()),
            Span::raw(edit.clone()),
            Span::styled("█", t.title()),
            info,
        ]);
        frame.render_widget(line, area);
        return;
    }
    let mut state = vec![v.smoother_label(), v.x_axis.label().to_owned()];
    if !v.outliers {
        state.push("no outlier scaling".into());
    }
    if v.log_y {
        state.push("log y".into());
    }
    if let Some(z) = v.zoom {
        state.push(format!("last {}", crate::text::value(z)));
    }
    state.push(if v.anchor.is_none() { "follow".into() } else { "panned".into() });
    let state = format!(" {} ", state.join(" · "));
    let state_w = (state.chars().count() as u16).min(area.width / 2);
    let [left, right] = Layout::horizontal([Constraint::Min(0), Constraint::Length(state_w)]).areas(area);
    // A message (an export's outcome) stands in for the hints until the next key.
    let hints = match &app.message {
        Some(m) => {
            let style = if m.error { t.severity(crate::analysis::Severity::Warning) } else { t.status(true) };
            Line::styled(fit(&format!(" {}", sanitize(&m.text)), left.width as usize), style)
        }
        None => {
            let hints = if app.comparing() { COMPARE_HINTS } else { HINTS };
            // Arrows and the return sign by name where they would be drawn as stand-ins.
            let hints = if app.ascii {
                hints.replace("↑↓", "j/k").replace("⏎", "Enter").replace("←→", "Left/Right")
            } else {
                hints.to_owned()
            };
            Line::styled(fit(&hints, left.width as usize), t.dim())
        }
    };
    frame.render_widget(hints, left);
    frame.render_widget(Line::styled(fit(&state, right.width as usize), t.title()).right_aligned(), right);
}
