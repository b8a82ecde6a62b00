//! The flags panel: by severity (critical, warning, info), newest first within each, coloured by
//! severity; the last skipped line under them. Comparing runs: the flags of every run shown, each
//! with its run's letter in the run's colour.

use super::{fit, sanitize, Theme};
use crate::analysis::Severity;
use crate::app::{App, Focus};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = &Theme::of(app);
    let focused = app.view.focus == Focus::Flags;
    let rows = app.flag_rows();
    let count = rows.len();
    let comparing = app.comparing();
    let hint = if focused { " (Enter: go to step, Esc: back) " } else { " (a: focus) " };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border(focused))
        .title(format!(" flags ({count}) "))
        .title(Line::styled(hint, t.dim()).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let w = inner.width as usize;
    let h = inner.height as usize;
    let scroll = flags_scroll(app, inner.height);
    let mut lines: Vec<Line> = Vec::new();
    // Only the rows that can show: a run can have thousands of flags.
    for (i, &(run, f)) in rows.iter().enumerate().skip(scroll).take(h) {
        let sev = format!("{:<8}", f.severity.as_str());
        // The metric cut in the middle to a third of the row at most: the message says the rest.
        let metric = super::elide(&sanitize(&f.metric), (w / 3).max(8));
        let head = format!(" step {:<8} {metric}  ", crate::text::step(f.step));
        let mut spans = Vec::with_capacity(4);
        if comparing {
            let look = app.look(run);
            let letter = look.and_then(|l| l.letter).unwrap_or(' ');
            spans.push(Span::styled(format!("{letter} "), look.map_or(t.text(), |l| t.run(l.colour))));
        }
        let used: usize = spans.iter().map(|s| crate::text::width(&s.content)).sum();
        let rest = w.saturating_sub(used + sev.len() + crate::text::width(&head));
        spans.extend([
            Span::styled(sev, t.severity(f.severity)),
            Span::raw(head),
            Span::raw(fit(&sanitize(&f.message), rest)),
        ]);
        let mut line = Line::from(spans);
        if focused && i == app.view.flag_selected {
            line = line.style(t.selected());
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(Line::styled("no flags", t.dim()));
    }
    if let Some(sk) = app.slot().and_then(|s| s.run().store.skipped.last.as_ref()) {
        let text = format!("line {} skipped ({}): {}", sk.line, sanitize(&sk.reason), sanitize(&sk.text));
        lines.push(Line::styled(fit(&text, w), t.severity(Severity::Info)));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The first flag shown: the selected one stays in view while the panel has the focus.
fn flags_scroll(app: &App, height: u16) -> usize {
    if app.view.focus == Focus::Flags {
        app.view.flag_selected.saturating_sub((height as usize).saturating_sub(1))
    } else {
        0
    }
}

/// The flag (newest first) on row `y` of the panel drawn in `area`.
pub(super) fn flag_at(app: &App, area: Rect, y: u16) -> Option<usize> {
    let inner = Block::default().borders(Borders::ALL).inner(area);
    if y < inner.y || y >= inner.y + inner.height {
        return None;
    }
    let i = flags_scroll(app, inner.height) + (y - inner.y) as usize;
    (i < app.flag_rows().len()).then_some(i)
}
