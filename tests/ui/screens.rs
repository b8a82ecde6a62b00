//! Snapshots of the main screens at 80x24 and 160x48 (TestBackend + insta), and the styles a
//! snapshot cannot see (colours, NO_COLOR).

use crate::support::ui::*;
use crossterm::event::KeyCode;
use ratatui::style::Color;
use tmon::ui::Theme;

fn snap(name: &str, app: &tmon::app::App, w: u16, h: u16) {
    let term = draw(app, w, h);
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), term.backend());
}

#[test]
fn grid() {
    let app = train_app();
    snap("grid", &app, 80, 24);
    snap("grid", &app, 160, 48);
}

#[test]
fn single_chart() {
    let mut app = train_app();
    app.update(key('j')); // loss, paired with val_loss
    app.update(code(KeyCode::Enter));
    snap("single", &app, 80, 24);
    snap("single", &app, 160, 48);
}

#[test]
fn single_chart_log_y_without_outlier_scaling() {
    let mut app = train_app();
    app.update(key('j'));
    app.update(code(KeyCode::Enter));
    app.update(key('l'));
    app.update(key('o'));
    snap("single_log_no_outliers", &app, 80, 24);
}

#[test]
fn help_overlay() {
    let mut app = train_app();
    app.update(key('?'));
    snap("help", &app, 80, 24);
    snap("help", &app, 160, 48);
}

#[test]
fn flags_focus_and_jump() {
    let mut app = train_app();
    app.update(key('a'));
    app.update(key('j')); // the NaN flag (second newest)
    snap("flags_focus", &app, 80, 24);
    app.update(code(KeyCode::Enter));
    snap("flag_jump", &app, 80, 24);
}

#[test]
fn filter_prompt_previews_live() {
    let mut app = train_app();
    app.update(key('/'));
    for c in "loss".chars() {
        app.update(key(c));
    }
    snap("filter", &app, 80, 24);
    snap("filter", &app, 160, 48);
}

#[test]
fn ascii_markers() {
    let mut run = fixture_run("train.jsonl");
    raise_train_flags(&mut run);
    let mut app =
        tmon::app::App::from_runs(vec![run], tmon::app::Options { ascii: true, ..Default::default() });
    app.theme = Theme { color: true };
    let t = text(&draw(&app, 80, 24));
    assert!(!t.chars().any(|c| ('\u{2800}'..='\u{28FF}').contains(&c)), "braille in --ascii:\n{t}");
    snap("ascii", &app, 80, 24);
}

#[test]
fn tiny_terminals_never_panic() {
    let app = train_app();
    snap("too_small", &app, 10, 3);
    snap("too_small", &app, 1, 1);
    for w in 0..50 {
        for h in 0..14 {
            draw(&app, w, h);
        }
    }
    let mut single = train_app();
    single.update(code(KeyCode::Enter));
    single.update(key('?'));
    for (w, h) in [(30, 8), (31, 9), (40, 10), (70, 14), (45, 30)] {
        draw(&single, w, h);
    }
}

#[test]
fn an_empty_run_shows_that_it_waits() {
    let run = tmon::run::Run::new("run/logs.jsonl", Default::default(), Default::default());
    let app = tmon::app::App::from_runs(vec![run], Default::default());
    let t = text(&draw(&app, 80, 24));
    assert!(t.contains("waiting for data") && t.contains("no data yet"), "{t}");
}

/// Colour of the first cell of the first occurrence of `needle` on screen.
fn fg_of(term: &ratatui::Terminal<ratatui::backend::TestBackend>, needle: &str) -> Color {
    let t = text(term);
    let (row, line) = t.lines().enumerate().find(|(_, l)| l.contains(needle)).expect(needle);
    let col = line[..line.find(needle).unwrap()].chars().count();
    term.backend().buffer()[(col as u16, row as u16)].fg
}

#[test]
fn severities_have_their_colours() {
    let app = train_app();
    let term = draw(&app, 80, 24);
    assert_eq!(fg_of(&term, "critical"), Color::Red);
    assert_eq!(fg_of(&term, "warning"), Color::Yellow);
    assert_eq!(fg_of(&term, "info "), Color::Blue);
}

#[test]
fn no_color_draws_no_colour() {
    let mut app = train_app();
    app.theme = Theme { color: false };
    let term = draw(&app, 160, 48);
    let buf = term.backend().buffer();
    for cell in buf.content() {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    // Selection and severity still read: reverse video and bold remain.
    assert!(buf.content().iter().any(|c| c.modifier.contains(ratatui::style::Modifier::BOLD)));
}

#[test]
fn a_log_cannot_write_escape_sequences_to_the_terminal() {
    // train.jsonl has a skipped line with ESC[31m in it; a metric name with one too.
    let mut run = fixture_run("train.jsonl");
    let id = run.store.intern("evil\x1b]0;pwned\x07name");
    let rec = run.store.begin_record(tmon::store::RecordMeta { step: 201.0, time: T0, line: 300 });
    run.store.push(rec, id, 1.0);
    let mut app = tmon::app::App::from_runs(vec![run], Default::default());
    app.update(key('G')); // no-op key, refreshes nothing harmful
    let t = text(&draw(&app, 160, 48));
    assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
    assert!(t.contains("evil\u{FFFD}]0;pwned\u{FFFD}name") || t.contains("evil\u{FFFD}]0;pwn"), "{t}");
    assert!(t.contains("\u{FFFD}[31mboom"), "{t}");
}

#[test]
fn the_flags_list_scrolls_to_the_selection() {
    let mut run = fixture_run("train.jsonl");
    for step in 0..100 {
        run.analyzer.raise(tmon::analysis::Flag {
            kind: tmon::analysis::FlagKind::Spike,
            severity: tmon::analysis::Severity::Warning,
            metric: "loss".into(),
            step: step as f64,
            message: format!("spike number {step}"),
        });
    }
    let mut app = tmon::app::App::from_runs(vec![run], Default::default());
    app.update(key('a'));
    for _ in 0..60 {
        app.update(key('j'));
    }
    let t = text(&draw(&app, 80, 24));
    assert!(t.contains("spike number 39"), "the selected flag (newest first, 61st) is not shown:\n{t}");
    assert!(!t.contains("spike number 99"), "{t}");
}
