//! The `?` overlay: every key, generated from the same table that handles them.

use super::{centered, Theme};
use crate::app::{App, BINDINGS};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = &Theme::of(app);
    let mut lines: Vec<Line> = BINDINGS
        .iter()
        .filter(|b| !b.help.is_empty())
        .map(|b| Line::from(vec![Span::styled(format!(" {:<10} ", b.keys), t.title()), Span::raw(b.help)]))
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(" raw faint, smoothed bright; ▼ flag, × NaN/Infinity", t.dim()));
    lines.push(Line::styled(" any key closes this help", t.dim()));
    let h = lines.len() as u16 + 2;
    let rect = centered(area, 62, h);
    frame.render_widget(Clear, rect);
    let block = Block::default().borders(Borders::ALL).border_style(t.border(true)).title(" keys ");
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
