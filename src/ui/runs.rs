//! The runs panel (comparing runs): a row per run in its colour, with its letter and a marker
//! (`●` shown, `○` hidden, `◆` the baseline), its name, status, last step, the selected metric's
//! last and best value, its flags by severity (`✖` critical, `▲` warning), and the config keys
//! that differ between runs. The column the runs are sorted by is marked `▲` (ascending) or `▼`.

use super::{elide, sanitize, Theme};
use crate::analysis::names::higher_is_better;
use crate::app::{status_word, App, Focus, Hit, SortKey, Status};
use crate::text::{step, value, width};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// A column: what it sorts by (none for the marker), its title, its width, and whether its cells
/// are numbers (right-aligned).
struct Col {
    key: Option<SortKey>,
    title: String,
    w: usize,
    right: bool,
}

/// Widest a config column gets, and the name column's least and most.
const CONFIG_MAX: usize = 14;
const NAME_MIN: usize = 8;
const NAME_MAX: usize = 32;

/// The panel's table for `order`, `w` cells wide: its columns and each row's cells.
fn table(app: &App, t: &Theme, order: &[usize], w: usize) -> (Vec<Col>, Vec<Vec<(String, Style)>>) {
    let metric = app.panel_metric().unwrap_or("");
    let ascii = app.ascii;
    let mut rows: Vec<Vec<(String, Style)>> = Vec::with_capacity(order.len());
    for &i in order {
        let look = app.look(i);
        let colour = look.map_or(0, |l| l.colour);
        let shown = app.shown(i);
        let mut run = t.run(colour);
        if i == app.current {
            run = run.add_modifier(Modifier::BOLD);
        }
        let sel = match (i == app.current, ascii) {
            (true, true) => '>',
            (true, false) => '▸',
            _ => ' ',
        };
        let swatch = match (app.compare.baseline == Some(i), shown, ascii) {
            (true, _, true) => 'B',
            (true, _, false) => '◆',
            (false, false, true) => '-',
            (false, false, false) => '○',
            (false, true, true) => '*',
            (false, true, false) => '●',
        };
        let letter = look.and_then(|l| l.letter).unwrap_or(' ');
        let status = app.status_of(i);
        let good = matches!(status, Some(Status::Live | Status::Loading(_) | Status::Ended));
        let store = &app.slots[i].run().store;
        let last_step = store.last_record().map_or_else(|| "-".to_owned(), |r| step(r.step));
        let (last, best) = app.last_and_best(i, metric);
        let num = |v: Option<f64>| v.map_or_else(String::new, value);
        let num_style = |v: Option<f64>| if v.is_some_and(|v| !v.is_finite()) { t.nan() } else { t.text() };
        let (crit, warn, _) = app.flag_count(i);
        let mut flags = Vec::new();
        if crit > 0 {
            flags.push(format!("{}{crit}", if ascii { "X" } else { "✖" }));
        }
        if warn > 0 {
            flags.push(format!("{}{warn}", if ascii { "!" } else { "▲" }));
        }
        let flag_style = if crit > 0 {
            t.severity(crate::analysis::Severity::Critical)
        } else {
            t.severity(crate::analysis::Severity::Warning)
        };
        let mut row = vec![
            (format!("{sel}{swatch}{letter}"), run),
            (sanitize(app.run_name(i)).into_owned(), run),
            (status.map_or_else(String::new, status_word), t.status(good)),
            (last_step, t.text()),
            (num(last), num_style(last)),
            (num(best), num_style(best)),
            (flags.join(" "), flag_style),
        ];
        for key in &app.compare.config_keys {
            let v = app.config_value(i, key).unwrap_or("");
            let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
            row.push((sanitize(v).into_owned(), t.text()));
        }
        if !shown {
            for cell in &mut row {
                cell.1 = cell.1.add_modifier(Modifier::DIM);
            }
        }
        rows.push(row);
    }
    let widest =
        |c: usize, title: &str| rows.iter().map(|r| width(&r[c].0)).max().unwrap_or(0).max(width(title));
    let best_title = if higher_is_better(metric) == Some(true) { "max" } else { "min" };
    let last_title = if metric.is_empty() { "last".to_owned() } else { elide(&sanitize(metric), 12) };
    let mut cols = vec![
        Col { key: None, title: String::new(), w: 3, right: false },
        Col { key: Some(SortKey::Name), title: "run".into(), w: 0, right: false },
        Col { key: Some(SortKey::Status), title: "status".into(), w: widest(2, "status"), right: false },
        Col { key: Some(SortKey::Step), title: "step".into(), w: widest(3, "step"), right: true },
        Col { key: Some(SortKey::Last), w: widest(4, &last_title), title: last_title, right: true },
        Col { key: Some(SortKey::Best), title: best_title.into(), w: widest(5, best_title), right: true },
        Col { key: Some(SortKey::Flags), title: "flags".into(), w: widest(6, "flags"), right: false },
    ];
    // The sort marker takes a cell after the title.
    for c in cols.iter_mut().skip(1) {
        c.w = c.w.max(width(&c.title) + 1);
    }
    let fixed: usize = cols.iter().map(|c| c.w).sum::<usize>() + cols.len() - 1;
    let names_w = widest(1, "run ").clamp(NAME_MIN, NAME_MAX);
    let mut room = w.saturating_sub(fixed + NAME_MIN);
    for (k, key) in app.compare.config_keys.iter().enumerate() {
        let title = elide(&sanitize(key), CONFIG_MAX - 1);
        let cw = (widest(7 + k, &title) + 1).clamp(4, CONFIG_MAX);
        if cw + 1 > room {
            break;
        }
        room -= cw + 1;
        cols.push(Col { key: Some(SortKey::Config(k)), title, w: cw, right: false });
    }
    cols[1].w = (NAME_MIN + room).min(names_w).max(NAME_MIN.min(w.saturating_sub(fixed + 1)));
    (cols, rows)
}

/// The cells of one line, each fitted to its column.
fn line_of(cols: &[Col], cells: Vec<(String, Style)>) -> Line<'static> {
    let mut spans = Vec::with_capacity(cols.len() * 2);
    for (k, (col, (text, style))) in cols.iter().zip(cells).enumerate() {
        if k > 0 {
            spans.push(Span::raw(" "));
        }
        let text = elide(&text, col.w);
        let pad = col.w.saturating_sub(width(&text));
        let cell = if col.right {
            format!("{}{text}", " ".repeat(pad))
        } else {
            format!("{text}{}", " ".repeat(pad))
        };
        spans.push(Span::styled(cell, style));
    }
    Line::from(spans)
}

/// The first row shown: the selected run stays in view.
fn scroll(order: &[usize], current: usize, rows: usize) -> usize {
    let at = order.iter().position(|&i| i == current).unwrap_or(0);
    (at + 1).saturating_sub(rows.max(1))
}

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = &Theme::of(app);
    let focused = app.view.focus == Focus::Runs;
    let order = app.run_order();
    let hidden = order.iter().filter(|&&i| !app.shown(i)).count();
    let mut title = format!(" runs ({})", order.len());
    if let Some(s) = app.compare.solo {
        title.push_str(&format!(" · {} alone", sanitize(app.run_name(s))));
    } else if hidden > 0 {
        title.push_str(&format!(" · {hidden} hidden"));
    }
    title.push(' ');
    let hint =
        if focused { " (↑↓ select, Enter solo, h hide, < > sort, Esc back) " } else { " (R: focus) " };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border(focused))
        .title(super::fit(&title, area.width.saturating_sub(2) as usize))
        .title(Line::styled(hint, t.dim()).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let (cols, rows) = table(app, t, &order, inner.width as usize);
    let mut lines = Vec::with_capacity(inner.height as usize);
    let arrow = |up: bool| match (up, app.ascii) {
        (true, true) => "^",
        (true, false) => "▲",
        (false, true) => "v",
        (false, false) => "▼",
    };
    let head: Vec<(String, Style)> = cols
        .iter()
        .map(|c| {
            if c.key == Some(app.compare.sort) {
                let up = sorted_up(app) ^ app.compare.reversed;
                (format!("{}{}", c.title, arrow(up)), t.title())
            } else {
                (c.title.clone(), t.dim())
            }
        })
        .collect();
    lines.push(line_of(&cols, head));
    let visible = inner.height as usize - 1;
    let first = scroll(&order, app.current, visible);
    for (&i, cells) in order.iter().zip(rows).skip(first).take(visible) {
        let mut line = line_of(&cols, cells);
        if focused && i == app.current {
            line = line.style(t.selected());
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Whether the sort column's natural order is ascending as the panel shows it (names, statuses
/// and config values ascending; steps and flags most first; values best first, which is
/// descending where higher is better).
fn sorted_up(app: &App) -> bool {
    match app.compare.sort {
        SortKey::Name | SortKey::Status | SortKey::Config(_) => true,
        SortKey::Step | SortKey::Flags => false,
        SortKey::Last | SortKey::Best => app.panel_metric().and_then(higher_is_better) != Some(true),
    }
}

/// What is under `(x, y)` in the panel drawn in `area`: a column title or a run's row.
pub(super) fn hit(app: &App, area: Rect, x: u16, y: u16) -> Option<Hit> {
    let inner = Block::default().borders(Borders::ALL).inner(area);
    if !inner.contains(ratatui::layout::Position { x, y }) {
        return None;
    }
    let order = app.run_order();
    if y == inner.y {
        let t = Theme::of(app);
        let (cols, _) = table(app, &t, &order, inner.width as usize);
        let mut left = inner.x as usize;
        for c in &cols {
            if (left..left + c.w).contains(&(x as usize)) {
                return c.key.map(Hit::RunsColumn);
            }
            left += c.w + 1;
        }
        return None;
    }
    let visible = inner.height as usize - 1;
    let row = scroll(&order, app.current, visible) + (y - inner.y - 1) as usize;
    order.get(row).map(|&i| Hit::Run(i))
}
