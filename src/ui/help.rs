//! The `?` overlay: every key, generated from the same table that handles them. Each key's text
//! is wrapped under its column, never cut; where the screen is too short for every line (80x24),
//! the overlay scrolls (↑/↓, PgUp/PgDn, Home/End) and its frame says what is above and below.

use super::{centered, Theme};
use crate::app::keys::{help_geometry, help_lines, HELP_KEYS_W};
use crate::app::App;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = &Theme::of(app);
    let comparing = app.comparing();
    let (inner_w, rows, max_scroll) = help_geometry(comparing, app.ascii, area.width, area.height);
    let all = help_lines(comparing, app.ascii, inner_w);
    let scroll = app.view.help_scroll.min(max_scroll);
    let notes_from = all.iter().position(|(k, l)| k.is_empty() && l.is_empty()).unwrap_or(all.len());
    let lines: Vec<Line> = all
        .iter()
        .enumerate()
        .skip(scroll)
        .take(rows)
        .map(|(i, (keys, text))| {
            if i >= notes_from {
                Line::styled(format!(" {text}"), t.dim())
            } else {
                Line::from(vec![
                    Span::styled(format!(" {keys:<HELP_KEYS_W$} "), t.title()),
                    Span::raw(format!(" {text}")),
                ])
            }
        })
        .collect();
    let body = Rect { y: area.y + 1, height: area.height.saturating_sub(2), ..area };
    let rect = centered(body, inner_w as u16 + 2, rows as u16 + 2);
    frame.render_widget(Clear, rect);
    let mut block = Block::default().borders(Borders::ALL).border_style(t.border(true));
    block = if max_scroll == 0 {
        block.title(" keys ")
    } else {
        block.title(format!(" keys {}-{} of {} ", scroll + 1, scroll + rows, all.len()))
    };
    if scroll < max_scroll {
        let more = if app.ascii { " v more below (PgDn) " } else { " ↓ more below (PgDn) " };
        block = block.title_bottom(Line::from(more).right_aligned());
    }
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
