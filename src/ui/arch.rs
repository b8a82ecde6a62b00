//! The architecture pane: the model as a block diagram, top to bottom in forward order, one block
//! a row (nesting by indent, `▸`/`▾` for closed/open blocks, `12 × GPT2Block` for a folded run),
//! each with its shape and parameter count, coloured by a per-layer metric at the chosen step;
//! a layer a flag names is marked `⚑`. Every name comes from a log and is sanitised here.

use super::{fit, fit_left, sanitize, Theme};
use crate::app::App;
use crate::model::{self, LayerIndex, Model, Module, Params, Row};
use crate::store::Store;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use std::collections::HashSet;

/// The shades of the colour scale, low to high (also the scale without colour).
const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];
/// The scale's colours: 256-colour indices, and the 16 basic colours.
const RAMP_256: [u8; 5] = [25, 31, 35, 178, 202];
const RAMP_16: [Color; 5] = [Color::Blue, Color::Cyan, Color::Green, Color::Yellow, Color::Red];

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = Theme::of(app);
    let Some(model) = app.model() else {
        let block =
            Block::default().borders(Borders::ALL).border_style(t.border(false)).title(" architecture ");
        frame.render_widget(Paragraph::new("no model in this run").style(t.dim()).block(block), area);
        return;
    };
    let title = format!(" architecture: {} ", sanitize(&model.name));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border(app.view.focus == crate::app::Focus::Metrics))
        .title(Span::styled(fit(&title, area.width.saturating_sub(4) as usize), t.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width < 10 {
        return;
    }
    let lines = lines(app, &model, inner.width as usize, inner.height as usize, &t);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// What the blocks are coloured by: the metric, the step, and the scale of the values shown.
struct Colouring {
    metric: Option<String>,
    step: Option<f64>,
    lo: f64,
    hi: f64,
    log: bool,
}

impl Colouring {
    /// The shade level (0-4) of `v`.
    fn level(&self, v: f64) -> usize {
        if !v.is_finite() {
            return 4;
        }
        let (x, lo, hi) =
            if self.log { (v.max(self.lo).ln(), self.lo.ln(), self.hi.ln()) } else { (v, self.lo, self.hi) };
        if hi <= lo {
            return 2;
        }
        (((x - lo) / (hi - lo)) * 4.0).round().clamp(0.0, 4.0) as usize
    }
}

/// `s` fitted to `w` cells, padded on the right (`right`: on the left).
fn pad(s: &str, w: usize, right: bool) -> String {
    let s = if right { fit_left(s, w) } else { fit(s, w) };
    let gap = " ".repeat(w.saturating_sub(crate::text::width(&s)));
    if right {
        format!("{gap}{s}")
    } else {
        format!("{s}{gap}")
    }
}

fn ramp(t: &Theme, level: usize) -> Style {
    if !t.color {
        return Style::new();
    }
    let c = if t.colors16 { RAMP_16[level] } else { Color::Indexed(RAMP_256[level]) };
    Style::new().fg(c)
}

/// The value a row shows: the metric at the step for each module it stands for (the largest; NaN
/// when any is not finite); for a closed block with no series of its own, its hottest layer
/// inside. `None` when no series names it.
fn row_value(row: &Row<'_>, index: &LayerIndex, store: &Store, metric: &str, step: f64) -> Option<f64> {
    let mut paths: Vec<String> = row.paths.clone();
    let own = paths.iter().any(|p| index.find(p, metric).is_some());
    if !own && !row.open {
        for p in &row.paths {
            crate::app::arch::collect_paths(row.module, p, &mut paths);
        }
    }
    let mut out: Option<f64> = None;
    for p in &paths {
        let Some(id) = index.find(p, metric) else { continue };
        let Some(v) = model::value_at(store, id, step) else { continue };
        out = Some(match out {
            None => v,
            Some(o) if o.is_nan() || v.is_nan() => f64::NAN,
            Some(o) => o.max(v),
        });
    }
    out
}

/// Whether a flag names a layer the row stands for (inside it, for a closed block).
fn flagged(row: &Row<'_>, index: &LayerIndex, store: &Store, flags: &HashSet<&str>) -> bool {
    let mut paths: Vec<String> = row.paths.clone();
    if !row.open {
        for p in &row.paths {
            crate::app::arch::collect_paths(row.module, p, &mut paths);
        }
    }
    paths.iter().any(|p| index.lookup(p).iter().any(|s| flags.contains(store.name(s.id))))
}

/// What a block says: `Linear(768→3072)`, `12 × GPT2Block`, `GPT2Attention`.
fn label(m: &Module, repeat: u32) -> String {
    let kind = model::shape_hint(&m.kind, &m.args).unwrap_or_else(|| m.kind.clone());
    if repeat > 1 {
        format!("{repeat} × {kind}")
    } else {
        kind
    }
}

fn lines(app: &App, m: &Model, width: usize, height: usize, t: &Theme) -> Vec<Line<'static>> {
    let Some(slot) = app.slot() else { return Vec::new() };
    let run = slot.run();
    let store = &run.store;
    let index = app.layer_index();
    let metrics = app.arch_metrics();
    let metric = metrics.get(app.view.arch.metric.min(metrics.len().saturating_sub(1))).cloned();
    let step = app.arch_step();
    let rows = model::rows(&m.root, &app.view.arch.toggled);
    let flags: HashSet<&str> = run.flags().iter().map(|f| f.metric.as_str()).collect();

    let values: Vec<Option<f64>> = rows
        .iter()
        .map(|r| match (&metric, step) {
            (Some(me), Some(s)) => row_value(r, &index, store, me, s),
            _ => None,
        })
        .collect();
    let finite: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log = lo > 0.0 && hi / lo >= 100.0;
    let col = Colouring { metric: metric.clone(), step, lo, hi, log };

    let mut out = Vec::with_capacity(height);
    // The header: totals, and what the colours mean.
    let params = match m.params() {
        Params::Exact(n) => format!("{} params", crate::text::count(n)),
        p => format!("{p} params"),
    };
    let mut head = format!("{params} · {} modules", crate::text::count(m.root.count()));
    if m.broken() {
        head += " · cut short (?: not read)";
    }
    out.push(Line::from(Span::styled(fit(&head, width), t.text())));
    let scale = match (&col.metric, col.step) {
        (Some(me), Some(s)) if !finite.is_empty() => {
            let range = format!("{} … {}", crate::text::value(lo), crate::text::value(hi));
            let logw = if log { " log" } else { "" };
            format!(
                "{} at step {} · {range}{logw} · c: metric, [ ]: step",
                sanitize(me),
                crate::text::step(s)
            )
        }
        (Some(me), Some(s)) => {
            let what = if values.iter().any(Option::is_some) { "no finite value" } else { "no value yet" };
            format!("{} at step {}: {what} · c: metric, [ ]: step", sanitize(me), crate::text::step(s))
        }
        (Some(me), None) => format!("{}: no value yet", sanitize(me)),
        (None, _) => "no per-layer series names these modules".to_string(),
    };
    let mut legend = vec![Span::styled("▕", t.dim())];
    for (i, c) in SHADES.iter().enumerate() {
        legend.push(Span::styled(c.to_string(), ramp(t, i)));
    }
    legend.push(Span::styled("▏ ", t.dim()));
    legend.push(Span::styled(fit(&scale, width.saturating_sub(8)), t.dim()));
    out.push(Line::from(legend));

    let body = height.saturating_sub(2);
    let cursor = app.view.arch.cursor.min(rows.len().saturating_sub(1));
    let first = cursor.saturating_sub(body.saturating_sub(1));
    let value_w = 10usize;
    let params_w = 8usize;
    for (i, row) in rows.iter().enumerate().skip(first).take(body) {
        let m = row.module;
        let indent = "  ".repeat(row.depth.min(12));
        let fold = match (row.expandable, row.open) {
            (false, _) => " ",
            (true, false) => "▸",
            (true, true) => "▾",
        };
        let is_flagged = flagged(row, &index, store, &flags);
        let name = if row.depth == 0 {
            String::new()
        } else if row.copy {
            sanitize(row.paths[0].rsplit('.').next().unwrap_or("")).into_owned()
        } else if row.module.repeat > 1 {
            let last =
                row.paths.last().map(|p| p.rsplit('.').next().unwrap_or("").to_string()).unwrap_or_default();
            sanitize(&format!("{}-{last}", m.name)).into_owned()
        } else {
            sanitize(&m.name).into_owned()
        };
        let mut text = label(m, row.repeat());
        if let Some(why) = &m.broken {
            text += &format!(" ?({why})");
        }
        let body_text = if name.is_empty() {
            sanitize(&text).into_owned()
        } else {
            format!("{name}: {}", sanitize(&text))
        };
        let left_w = width.saturating_sub(value_w + params_w + 2);
        let mark = if is_flagged {
            if app.ascii {
                "!"
            } else {
                "⚑"
            }
        } else {
            " "
        };
        let block_w = left_w.saturating_sub(indent.chars().count() + 3);
        let value = values[i];
        let level = value.map(|v| col.level(v));
        let block_style = match level {
            Some(l) if t.color => {
                let bg = if t.colors16 { RAMP_16[l] } else { Color::Indexed(RAMP_256[l]) };
                Style::new().bg(bg).fg(Color::Black)
            }
            _ => t.text(),
        };
        let block_style = if i == cursor {
            block_style.add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            block_style
        };
        let mut spans = vec![
            Span::raw(indent),
            Span::styled(mark.to_string(), t.severity(crate::analysis::Severity::Critical)),
            Span::styled(format!("{fold} "), t.dim()),
            Span::styled(pad(&format!(" {body_text}"), block_w, false), block_style),
        ];
        let shade = level.map_or(' ', |l| SHADES[l]);
        let vtext = match value {
            Some(v) => crate::text::value(v),
            None => String::new(),
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(shade.to_string(), level.map_or(t.dim(), |l| ramp(t, l))));
        let vstyle = if value.is_some_and(|v| !v.is_finite()) { t.nan() } else { t.text() };
        spans.push(Span::styled(pad(&vtext, value_w - 1, true), vstyle));
        spans.push(Span::styled(pad(&row.params().to_string(), params_w + 1, true), t.dim()));
        out.push(Line::from(spans));
    }
    if rows.len() > body && body > 0 {
        // Say there is more than fits.
        if let Some(last) = out.last_mut() {
            let more = format!("{} more ↓", rows.len() - first - body.min(rows.len() - first));
            if rows.len() > first + body {
                *last = Line::from(Span::styled(fit(&format!("  … {more}"), width), t.dim()));
            }
        }
    }
    out
}
