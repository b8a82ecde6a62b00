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
    facts.push(Span::raw("  "));
    if let Some(l) = &slot.loading {
        let (done, total) = l.progress();
        facts.push(Span::styled(progress_bar(done, total), t.status(true)));
        let what = if l.previewing() { "  end shown, reading history  " } else { "  " };
        facts.push(Span::raw(what));
    }
    // The last step only once everything is read: "fully loaded" can be seen from outside.
    if let Some(last) = store.last_record().filter(|_| slot.loading.is_none()) {
        facts.push(Span::styled(format!("step {}", step(last.step)), t.title()));
        facts.push(Span::raw("  "));
    }
    if let Some(r) = slot.rate.per_sec(app.now) {
        facts.push(Span::raw(format!("{} steps/s  ", value(r))));
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
    if app.run_count() > 1 {
        facts.push(Span::styled(format!("  [{}/{}]", app.run_number(), app.run_count()), t.dim()));
    }
    let facts_w: usize = facts.iter().map(|s| crate::text::width(&s.content)).sum();
    let name_w = (area.width as usize).saturating_sub(facts_w + 9).max(8);
    let mut spans = vec![
        Span::styled(" tmon ", t.title()),
        Span::raw(fit_left(&sanitize(&slot.name), name_w)),
        Span::raw("  "),
    ];
    spans.extend(facts);
    frame.render_widget(Line::from(spans), area);
}

/// `[#####.....] 48%` style bar, in block characters.
fn progress_bar(done: u64, total: u64) -> String {
    const W: u64 = 10;
    let filled = (done.min(total) * W).checked_div(total).unwrap_or(0);
    format!("{}{}", "█".repeat(filled as usize), "░".repeat((W - filled) as usize))
}
