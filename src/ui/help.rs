//! The `?` overlay: every key, generated from the same table that handles them.

use super::{centered, fit, Theme};
use crate::app::{App, BINDINGS};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

/// Width of the keys column.
const KEYS_W: usize = 15;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = &Theme::of(app);
    // The keys about comparing runs only when runs are compared.
    let comparing = app.comparing();
    let keys: Vec<(&str, &str)> = BINDINGS
        .iter()
        .filter(|b| !b.help.is_empty() && (comparing || !b.action.compare_only()))
        .map(|b| (b.keys, b.help))
        .collect();
    let mut notes = vec![" raw faint, smoothed bright; ▼ flag, × NaN/Infinity"];
    if comparing {
        notes.push(" runs: ● shown  ○ hidden  ◆ baseline; a letter ends each run's line");
    }
    notes.push(" any key closes this help");
    // One column when the keys fit in the height, else two side by side.
    let rows = area.height.saturating_sub(2 + notes.len() as u16) as usize;
    let two = keys.len() > rows;
    let per_col = if two { keys.len().div_ceil(2) } else { keys.len() };
    let col_w = if two { (area.width.saturating_sub(4) / 2).min(62) as usize } else { 64 };
    let cell = |(k, h): (&str, &str)| -> Vec<Span<'static>> {
        let text = fit(h, col_w.saturating_sub(KEYS_W + 2));
        vec![
            Span::styled(format!(" {k:<KEYS_W$} "), t.title()),
            Span::raw(format!("{text:<w$}", w = col_w.saturating_sub(KEYS_W + 2))),
        ]
    };
    let mut lines: Vec<Line> = (0..per_col)
        .map(|r| {
            let mut spans = cell(keys[r]);
            if two {
                if let Some(&k) = keys.get(r + per_col) {
                    spans.extend(cell(k));
                }
            }
            Line::from(spans)
        })
        .collect();
    if lines.len() < rows {
        lines.push(Line::raw(""));
    }
    lines.extend(notes.into_iter().map(|n| Line::styled(fit(n, w_total(two, col_w) - 2), t.dim())));
    let h = lines.len() as u16 + 2;
    let w = w_total(two, col_w) as u16;
    let rect = centered(area, w, h);
    frame.render_widget(Clear, rect);
    let block = Block::default().borders(Borders::ALL).border_style(t.border(true)).title(" keys ");
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// The overlay's width for one or two columns of `col_w`.
fn w_total(two: bool, col_w: usize) -> usize {
    if two {
        col_w * 2 + 2
    } else {
        col_w + 2
    }
}
