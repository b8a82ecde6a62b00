//! The header: run name, status, last step, steps/s, records, duplicates dropped, skipped lines,
//! loading progress.

use super::{fit_left, sanitize, Theme};
use crate::app::{App, Status};
use crate::text::{step, value};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = &Theme::of(app);
    // The health badge at the right end, always: the rest of the header is cut before it is.
    let badge = badge(app, t);
    let badge_w = badge.iter().map(|s| crate::text::width(&s.content)).sum::<usize>() as u16;
    let area = if badge_w + 20 <= area.width {
        let [rest, right] = ratatui::layout::Layout::horizontal([
            ratatui::layout::Constraint::Min(1),
            ratatui::layout::Constraint::Length(badge_w),
        ])
        .areas(area);
        frame.render_widget(Line::from(badge), right);
        rest
    } else {
        area
    };
    let Some(slot) = app.slot() else {
        frame.render_widget(Line::from(" tmon: waiting for log files"), area);
        return;
    };
    let store = &slot.run().store;
    let status = app.status().unwrap_or(Status::Waiting);
    let good = matches!(status, Status::Live | Status::Loading(_));
    let dot = if app.ascii { '*' } else { '●' };
    let mut facts: Vec<Span> = vec![Span::styled(format!("{dot} {status}"), t.status(good))];
    if let Some(problem) = slot.live.problem.as_deref().filter(|_| status == Status::Unreadable) {
        facts.push(Span::styled(
            format!(": {}", sanitize(problem)),
            t.severity(crate::analysis::Severity::Warning),
        ));
    }
    // What it died of: the exception's last line (its type first), cut to leave room for the rest.
    if let Some(text) = slot.run().analyzer.crashed().filter(|_| status == Status::Crashed) {
        let room = (area.width as usize / 3).max(16);
        facts.push(Span::styled(
            format!(": {}", super::fit(&sanitize(text), room)),
            t.severity(crate::analysis::Severity::Critical),
        ));
    }
    facts.push(Span::raw("  "));
    if let Some(l) = &slot.loading {
        let (done, total) = l.progress();
        facts.push(Span::styled(progress_bar(done, total), t.status(true)));
        let what = if l.previewing() { "  end shown, reading history  " } else { "  " };
        facts.push(Span::raw(what));
    }
    // The last step only once everything is read: "fully loaded" can be seen from outside.
    // Out of the total where the config says it (max_steps, total_steps, MAX_ITER, ...).
    let total = crate::run::config::total_steps(&slot.run().info.config);
    let last = store.last_record().filter(|_| slot.loading.is_none());
    if let Some(last) = last {
        let of = total.map_or(String::new(), |n| format!("/{}", step(n)));
        facts.push(Span::styled(format!("step {}{of}", step(last.step)), t.title()));
        facts.push(Span::raw("  "));
    }
    let rate = slot.rate.per_sec(app.now);
    if let Some(r) = rate {
        facts.push(Span::raw(format!("{} steps/s  ", value(r))));
    }
    // The time left at the run's own step rate, while it is running.
    let running = matches!(status, Status::Live | Status::Quiet(_));
    if let (Some(last), Some(total), Some(r), true) = (last, total, rate, running) {
        if r > 0.0 && total > last.step {
            let left = (total - last.step) / r;
            facts.push(Span::raw(format!("ETA {}  ", crate::text::duration(left))));
        }
    }
    facts.push(Span::raw(format!("{} records", store.records())));
    if slot.restarts() > 0 {
        let n = slot.restarts();
        let text = if n == 1 { "  restarted".to_owned() } else { format!("  restarted {n}x") };
        facts.push(Span::styled(text, t.severity(crate::analysis::Severity::Warning)));
    }
    if store.fields_dropped() > 0 {
        facts.push(Span::styled(
            format!(
                "  {} values dropped (series cap, --max-series)",
                crate::text::count(store.fields_dropped())
            ),
            t.severity(crate::analysis::Severity::Warning),
        ));
    }
    let duplicates = slot.run().ingest.duplicates();
    if duplicates > 0 {
        let word = if duplicates == 1 { "duplicate" } else { "duplicates" };
        facts.push(Span::styled(format!("  {duplicates} {word} dropped"), t.dim()));
    }
    if store.skipped.count > 0 {
        facts.push(Span::styled(
            format!("  {} skipped", store.skipped.count),
            t.severity(crate::analysis::Severity::Warning),
        ));
    }
    if app.view.paused {
        let n = app.pending();
        facts.push(Span::styled(
            format!("  PAUSED ({n} new records)"),
            t.severity(crate::analysis::Severity::Warning),
        ));
    }
    if app.comparing() {
        facts.extend(runs_facts(app, t));
    } else if app.run_count() > 1 {
        facts.push(Span::styled(format!("  [{}/{}]", app.run_number(), app.run_count()), t.dim()));
    }
    let facts_w: usize = facts.iter().map(|s| crate::text::width(&s.content)).sum();
    let name_w = (area.width as usize).saturating_sub(facts_w + 9).max(8);
    let name = if app.comparing() {
        // The selected run, by its letter and short name, in its colour.
        let look = app.look(app.current);
        let letter = look.and_then(|l| l.letter).map_or(String::new(), |l| format!("{l} "));
        let style = look.map_or(t.text(), |l| t.run(l.colour).add_modifier(ratatui::style::Modifier::BOLD));
        Span::styled(fit_left(&format!("{letter}{}", sanitize(app.run_name(app.current))), name_w), style)
    } else {
        Span::raw(fit_left(&sanitize(&slot.name), name_w))
    };
    let mut spans = vec![Span::styled(" tmon ", t.title()), name, Span::raw("  ")];
    spans.extend(facts);
    frame.render_widget(Line::from(spans), area);
}

/// The health badge: critical and warning flags over every open run (`✖2 ▲3`), or `✓ ok`.
fn badge(app: &App, t: &Theme) -> Vec<Span<'static>> {
    use crate::analysis::Severity;
    let (crit, warn, _) = app.health();
    let mut out = vec![Span::raw(" ")];
    if crit == 0 && warn == 0 {
        out.push(Span::styled(if app.ascii { "ok" } else { "✓ ok" }, t.status(true)));
    }
    if crit > 0 {
        out.push(Span::styled(
            format!("{}{crit}", if app.ascii { "X" } else { "✖" }),
            t.severity(Severity::Critical),
        ));
    }
    if crit > 0 && warn > 0 {
        out.push(Span::raw(" "));
    }
    if warn > 0 {
        out.push(Span::styled(
            format!("{}{warn}", if app.ascii { "!" } else { "▲" }),
            t.severity(Severity::Warning),
        ));
    }
    out.push(Span::raw(" "));
    out
}

/// Comparing runs: how many, how many hidden, and while any is loading, how far the loading is.
fn runs_facts(app: &App, t: &Theme) -> Vec<Span<'static>> {
    let runs: Vec<usize> = app.run_slots().collect();
    let hidden = runs.iter().filter(|&&i| !app.shown(i)).count();
    let mut out = vec![Span::styled(format!("  {} runs", runs.len()), t.dim())];
    if hidden > 0 {
        out.push(Span::styled(format!(" ({hidden} hidden)"), t.dim()));
    }
    let loading = runs.iter().filter(|&&i| app.slots[i].loading.is_some()).count();
    if loading > 0 {
        let loaded = runs.len() - loading;
        out.push(Span::styled(format!("  loading {loaded}/{} ", runs.len()), t.status(true)));
        out.push(Span::styled(progress_bar(loaded as u64, runs.len() as u64), t.status(true)));
    }
    out
}

/// `[#####.....] 48%` style bar, in block characters.
fn progress_bar(done: u64, total: u64) -> String {
    const W: u64 = 10;
    let filled = (done.min(total) * W).checked_div(total).unwrap_or(0);
    format!("{}{}", "█".repeat(filled as usize), "░".repeat((W - filled) as usize))
}
