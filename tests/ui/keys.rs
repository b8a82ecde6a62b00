//! Unit tests of `App::update`: keys, data events, pause, the clock, and the source glue.

use crate::support::ui::*;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::time::Duration;
use tmon::app::{Focus, LayoutMode, Status, XAxis};
use tmon::event::Event;
use tmon::source::{FileState, SourceEvent};

fn names(app: &tmon::app::App) -> Vec<Vec<String>> {
    let store = &app.slots[0].run().store;
    app.groups().iter().map(|g| g.members.iter().map(|&id| store.name(id).to_owned()).collect()).collect()
}

#[test]
fn train_and_eval_series_share_a_chart() {
    let app = train_app();
    // In the order the log first names them.
    assert_eq!(names(&app), vec![vec!["loss", "val_loss"], vec!["lr"], vec!["grad_norm"]]);
}

#[test]
fn selection_moves_and_stays_in_range() {
    let mut app = train_app();
    assert!(app.update(key('j')));
    assert!(app.update(code(KeyCode::Down)));
    assert_eq!(app.view.selected, 2);
    app.update(key('j'));
    assert_eq!(app.view.selected, 2, "stops at the last chart");
    app.update(key('k'));
    app.update(code(KeyCode::Up));
    app.update(key('k'));
    assert_eq!(app.view.selected, 0);
}

#[test]
fn enter_toggles_one_chart_and_the_grid() {
    let mut app = train_app();
    assert_eq!(app.view.layout, LayoutMode::Grid);
    app.update(code(KeyCode::Enter));
    assert_eq!(app.view.layout, LayoutMode::Single);
    app.update(code(KeyCode::Enter));
    assert_eq!(app.view.layout, LayoutMode::Grid);
}

#[test]
fn filter_previews_live_applies_and_clears() {
    let mut app = train_app();
    app.update(key('/'));
    app.update(key('V'));
    app.update(key('a'));
    app.update(key('l'));
    // Case-insensitive, and pairs stay whole: "val" keeps the loss chart.
    assert_eq!(names(&app), vec![vec!["loss", "val_loss"]]);
    app.update(code(KeyCode::Backspace));
    app.update(code(KeyCode::Backspace));
    app.update(code(KeyCode::Backspace));
    app.update(key('('));
    assert!(app.view.filter_error.is_some(), "an invalid regex is reported");
    assert_eq!(names(&app).len(), 3, "the last good list stays while typing");
    app.update(code(KeyCode::Enter));
    assert!(app.view.filter_edit.is_some(), "an invalid regex is not applied");
    app.update(code(KeyCode::Backspace));
    for c in "^l".chars() {
        app.update(key(c));
    }
    app.update(code(KeyCode::Enter));
    assert_eq!(app.view.filter, "^l");
    assert_eq!(names(&app), vec![vec!["loss", "val_loss"], vec!["lr"]]);
    app.update(code(KeyCode::Esc));
    assert_eq!(app.view.filter, "");
    assert_eq!(names(&app).len(), 3);
}

#[test]
fn smoothing_keys_change_weight_and_smoother() {
    let mut app = train_app();
    let w0 = app.view.weight();
    app.update(key('s'));
    assert!(app.view.weight() > w0);
    for _ in 0..20 {
        app.update(Event::Key(KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT)));
    }
    assert_eq!(app.view.weight(), 0.0);
    assert_eq!(app.view.smoother(), None, "weight 0 draws the raw series only");
    assert_eq!(app.view.smoother_label(), "EMA off");
    app.update(key('s'));
    let before = app.view.smoother_label();
    assert_eq!(before, "EMA 0.3");
    app.update(key('m'));
    assert_eq!(app.view.smoother_label(), "TWEMA 0.3", "m keeps the strength");
    app.update(key('m'));
    assert_eq!(app.view.smoother_label(), "Gaussian σ=1");
    app.update(key('m'));
    assert_eq!(app.view.smoother_label(), "running avg 3");
    app.update(key('m'));
    assert_eq!(app.view.smoother_label(), before, "four smoothers, then around again");
}

#[test]
fn toggles_and_x_axis() {
    let mut app = train_app();
    assert!(app.view.outliers);
    app.update(key('o'));
    assert!(!app.view.outliers);
    app.update(key('l'));
    assert!(app.view.log_y);
    app.update(key('x'));
    assert_eq!(app.view.x_axis, XAxis::Relative);
    app.update(key('x'));
    assert_eq!(app.view.x_axis, XAxis::Wall);
    app.update(key('x'));
    assert_eq!(app.view.x_axis, XAxis::Step);
}

#[test]
fn zoom_pan_follow_and_reset() {
    let mut app = train_app();
    app.update(key('+'));
    let w = app.view.zoom.expect("zoomed");
    assert!((w - 199.0 / 2.0).abs() < 1e-9, "{w}");
    assert_eq!(app.view.anchor, None, "still following");
    app.update(code(KeyCode::Left));
    let a = app.view.anchor.expect("panned");
    assert!(a < 200.0);
    app.update(code(KeyCode::Right));
    app.update(code(KeyCode::Right));
    assert_eq!(app.view.anchor, None, "panning past the newest follows again");
    app.update(code(KeyCode::Left));
    app.update(key('f'));
    assert_eq!(app.view.anchor, None);
    app.update(key('-'));
    assert_eq!(app.view.zoom, None, "zooming out past everything shows everything");
    app.update(key('+'));
    app.update(key('r'));
    assert_eq!((app.view.zoom, app.view.anchor), (None, None));
}

#[test]
fn flags_focus_and_enter_jumps_to_the_step() {
    let mut app = train_app();
    app.update(key('a'));
    assert_eq!(app.view.focus, Focus::Flags);
    // By severity, newest first within each: nonfinite(120, critical), spike(150), lr(20).
    app.update(code(KeyCode::Enter));
    assert_eq!(app.view.layout, LayoutMode::Single);
    assert_eq!(names(&app)[app.view.selected], vec!["loss", "val_loss"]);
    let (w, a) = (app.view.zoom.expect("zoom"), app.view.anchor.expect("anchor"));
    assert!(a - w <= 120.0 && 120.0 <= a, "window {}..{a} holds step 120", a - w);
    app.update(code(KeyCode::Esc));
    assert_eq!(app.view.focus, Focus::Metrics);
}

#[test]
fn help_opens_and_any_key_but_the_scrolling_ones_closes_it() {
    let mut app = train_app();
    app.update(key('?'));
    assert!(app.view.help);
    app.update(key('j'));
    assert!(app.view.help, "j scrolls the help (80x24 before a size is known)");
    assert_eq!(app.view.help_scroll, 1);
    app.update(key('s'));
    assert!(!app.view.help);
    assert_eq!(app.view.selected, 0, "the closing key does nothing else");
}

#[test]
fn quit_keys() {
    for ev in [key('q'), Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)), Event::Quit] {
        let mut app = train_app();
        app.update(ev);
        assert!(app.should_quit);
    }
    let mut app = train_app();
    app.update(key('/'));
    app.update(key('q'));
    assert!(!app.should_quit, "q is text in the filter prompt");
}

#[test]
fn unknown_keys_and_releases_do_not_redraw() {
    let mut app = train_app();
    assert!(!app.update(key('Z')));
    let mut release = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    assert!(!app.update(Event::Key(release)));
    assert_eq!(app.view.selected, 0);
    assert!(app.update(Event::Resize(100, 40)));
}

fn lines(first_line: u64, text: &str) -> Event {
    Event::Source(SourceEvent::Lines { file: 0, first_line, bytes: text.as_bytes().to_vec() })
}

#[test]
fn lines_reach_the_run_with_crlf_stripped() {
    let run = tmon::run::Run::new("x.jsonl", Default::default(), Default::default());
    let mut app = tmon::app::App::from_runs(vec![run], Default::default());
    assert!(app.update(lines(1, "{\"step\": 1, \"loss\": 2.0}\r\n{\"step\": 2, \"loss\": 1.5}\n")));
    let store = &app.slots[0].live.run.store;
    assert_eq!(store.records(), 2);
    assert_eq!(store.skipped.count, 0, "CRLF lines are records");
    assert!(names(&app).contains(&vec!["loss".to_owned()]), "{:?}", names(&app));
    app.update(Event::Source(SourceEvent::State { file: 0, state: FileState::Gone }));
    assert_eq!(app.status(), Some(Status::Gone));
}

#[test]
fn pause_freezes_the_screen_not_the_data() {
    let run = tmon::run::Run::new("x.jsonl", Default::default(), Default::default());
    let mut app = tmon::app::App::from_runs(vec![run], Default::default());
    app.update(key('p'));
    assert!(!app.update(lines(1, "{\"step\": 1, \"loss\": 2.0}\n")), "nothing to redraw while paused");
    assert_eq!(app.slots[0].live.run.store.records(), 1, "the data is in the run at once");
    assert_eq!(app.pending(), 1);
    assert!(app.update(key('p')), "resuming draws what came meanwhile");
    assert_eq!(app.slots[0].live.run.store.records(), 1);
    assert_eq!(app.pending(), 0);
}

#[test]
fn a_long_pause_holds_nothing_back_and_raises_no_stall() {
    let run = tmon::run::Run::new("x.jsonl", Default::default(), Default::default());
    let mut app = tmon::app::App::from_runs(vec![run], Default::default());
    app.update(key('p'));
    // An hour paused, a record a second: the monitor keeps nothing aside (the data is in the run,
    // where it would be anyway), and a run that is writing is no stall.
    for s in 1..=3600u64 {
        app.now = Duration::from_secs(s);
        assert!(!app.update(lines(s, &format!("{{\"step\": {s}, \"loss\": 1.0}}\n"))));
        if s % 60 == 0 {
            assert!(!app.update(Event::Tick), "the screen stays as it is");
        }
    }
    assert_eq!(app.slots[0].live.run.store.records(), 3600);
    assert_eq!(app.pending(), 3600);
    let stalls: Vec<_> =
        app.flags_newest_first().filter(|f| f.kind == tmon::analysis::FlagKind::Stall).collect();
    assert!(stalls.is_empty(), "{stalls:?}");
    app.update(key('p'));
    assert_eq!(app.status(), Some(Status::Live));
}

#[test]
fn the_clock_redraws_only_when_the_header_changes() {
    let run = tmon::run::Run::new("x.jsonl", Default::default(), Default::default());
    let mut app = tmon::app::App::from_runs(vec![run], Default::default());
    app.now = Duration::from_secs(1);
    app.update(lines(1, "{\"step\": 1, \"loss\": 2.0}\n"));
    app.update(Event::Tick);
    app.now = Duration::from_millis(1500);
    assert!(!app.update(Event::Tick), "still live: nothing shown changed");
    app.now = Duration::from_secs(8);
    assert!(app.update(Event::Tick));
    assert_eq!(app.status(), Some(Status::Quiet(7)));
    assert!(!app.update(Event::Tick), "same second, same text");
}

/// The opener's report on a file: its size, where its last complete line ends, a preview.
fn opened(path: &str, size: u64, end: u64, preview: Option<tmon::run::Run>) -> Event {
    let info = tmon::event::Opened {
        path: path.into(),
        size,
        end,
        idle: Some(Duration::from_secs(1)),
        preview,
        config: Default::default(),
        model_beside: None,
    };
    Event::Opened { file: 0, info: Box::new(info) }
}

fn jsonl(steps: std::ops::Range<u64>) -> String {
    steps.map(|i| format!("{{\"step\": {i}, \"loss\": 1.0}}\n")).collect()
}

#[test]
fn the_preview_is_shown_until_the_history_catches_up_with_it() {
    let mut app = tmon::app::App::new(&["big.jsonl"], Default::default());
    assert!(matches!(app.status(), Some(Status::Loading(0))));
    let history = jsonl(0..100);
    let end = history.len() as u64;
    let mut preview = tmon::run::Run::new("big.jsonl", Default::default(), Default::default());
    preview.push_line(1, b"{\"step\": 99, \"loss\": 1.0}");
    app.update(opened("big.jsonl", end + 10, end, Some(preview)));
    assert_eq!(app.slots[0].run().store.records(), 1, "the preview is on screen");
    // The history streams in from the start; the preview stays until it reaches `end`.
    let half = jsonl(0..50);
    app.update(lines(1, &half));
    assert_eq!(app.status(), Some(Status::Loading((half.len() as u64 * 100 / (end + 10)) as u8)));
    assert_eq!(app.slots[0].run().store.records(), 1);
    assert_eq!(app.slots[0].live.run.store.records(), 50);
    app.update(lines(51, &jsonl(50..100)));
    assert_eq!(app.status(), Some(Status::Live));
    assert!(app.slots[0].loading.is_none());
    assert_eq!(app.slots[0].run().store.records(), 100, "every line once, none from the preview");
    // A late report never brings a preview back.
    app.update(opened(
        "big.jsonl",
        end,
        end,
        Some(tmon::run::Run::new("big.jsonl", Default::default(), Default::default())),
    ));
    assert_eq!(app.slots[0].run().store.records(), 100);
}

#[test]
fn history_before_the_report_and_a_restart_end_the_loading() {
    let mut app = tmon::app::App::new(&["a.jsonl"], Default::default());
    let text = jsonl(0..10);
    app.update(lines(1, &text));
    assert!(app.slots[0].loading.is_some(), "the size is not known yet");
    let preview = tmon::run::Run::new("a.jsonl", Default::default(), Default::default());
    app.update(opened("a.jsonl", text.len() as u64, text.len() as u64, Some(preview)));
    assert!(app.slots[0].loading.is_none(), "already caught up: no preview");
    assert_eq!(app.slots[0].run().store.records(), 10);

    let mut app = tmon::app::App::new(&["b.jsonl"], Default::default());
    app.update(opened("b.jsonl", 1000, 1000, None));
    app.update(lines(1, &jsonl(0..3)));
    app.update(Event::Source(SourceEvent::Restarted { file: 0, reason: "truncated".into() }));
    assert!(app.slots[0].loading.is_none());
    assert_eq!(app.slots[0].restarts(), 1);
    // A history that ends short of the reported end (an over-long line dropped) still finishes.
    let mut app = tmon::app::App::new(&["c.jsonl"], Default::default());
    app.update(opened("c.jsonl", 1000, 1000, None));
    app.update(lines(1, &jsonl(0..3)));
    for _ in 0..3 {
        app.update(Event::Tick);
    }
    assert!(app.slots[0].loading.is_none());
    assert_eq!(app.status(), Some(Status::Live));
}

#[test]
fn the_loaders_history_comes_first_and_the_news_held_meanwhile_follows_it() {
    let mut app = tmon::app::App::new(&["big.jsonl"], Default::default());
    app.history_from_loader(0);
    let history = jsonl(0..100);
    let end = history.len() as u64;
    let mut preview = tmon::run::Run::new("big.jsonl", Default::default(), Default::default());
    preview.push_line(1, b"{\"step\": 99, \"loss\": 1.0}");
    app.update(opened("big.jsonl", end, end, Some(preview)));
    // The source follows from the end of the history, numbering from 1; it waits for the history.
    app.update(lines(1, "{\"step\": 100, \"loss\": 0.5}\nnot json\n"));
    app.update(Event::Progress { file: 0, bytes: end / 2 });
    assert_eq!(app.status(), Some(Status::Loading(50)));
    assert_eq!(app.slots[0].run().store.records(), 1, "still the preview");
    for _ in 0..5 {
        app.update(Event::Tick);
    }
    assert!(app.slots[0].loading.is_some(), "a slow history is not given up on");
    let mut run = tmon::run::Run::new("big.jsonl", Default::default(), Default::default());
    run.push_lines(1, history.as_bytes());
    let h = tmon::event::History::lines(run, 100, None);
    app.update(Event::Loaded { file: 0, history: Box::new(h), columns: None });
    assert!(app.slots[0].loading.is_none());
    let store = &app.slots[0].run().store;
    assert_eq!(store.records(), 101, "the history, then the news");
    assert_eq!(store.last_record().map(|r| (r.step, r.line)), Some((100.0, 101)));
    assert_eq!(store.skipped.last.as_ref().map(|l| l.line), Some(102), "numbered after the history");
    // Later news goes on from there, and a restart numbers from 1 again.
    app.update(lines(3, "{\"step\": 101}\n"));
    assert_eq!(app.slots[0].run().store.last_record().map(|r| r.line), Some(103));
    app.update(Event::Source(SourceEvent::Restarted { file: 0, reason: "truncated".into() }));
    app.update(lines(1, "{\"step\": 0}\n"));
    assert_eq!(app.slots[0].run().store.last_record().map(|r| r.line), Some(1));
}

#[test]
fn a_history_cut_short_by_a_read_error_says_so() {
    let mut app = tmon::app::App::new(&["big.jsonl"], Default::default());
    app.history_from_loader(0);
    app.update(opened("big.jsonl", 1000, 1000, None));
    let mut run = tmon::run::Run::new("big.jsonl", Default::default(), Default::default());
    run.push_lines(1, jsonl(0..3).as_bytes());
    let h = tmon::event::History::lines(run, 3, Some("Input/output error".into()));
    app.update(Event::Loaded { file: 0, history: Box::new(h), columns: None });
    let skipped = &app.slots[0].run().store.skipped;
    assert_eq!(skipped.count, 1);
    let note = skipped.last.as_ref().expect("a note");
    assert_eq!(note.line, 4);
    assert!(note.reason.contains("Input/output error"), "{}", note.reason);
}

#[test]
fn files_found_later_get_a_slot_and_a_missing_file_waits() {
    let mut app = tmon::app::App::new(&["a.jsonl"], Default::default());
    app.update(opened("a.jsonl", 0, 0, None));
    app.update(Event::Source(SourceEvent::State { file: 0, state: FileState::Waiting }));
    assert_eq!(app.status(), Some(Status::Waiting));
    app.update(Event::Source(SourceEvent::Found { file: 1, path: "runs/b.jsonl".into() }));
    assert_eq!(app.slots.len(), 2);
    assert_eq!(app.slots[1].name, "runs/b.jsonl");
    // A guess under the wrong number is replaced by what the source says.
    app.update(Event::Source(SourceEvent::Found { file: 0, path: "z.jsonl".into() }));
    assert_eq!(app.slots[0].name, "z.jsonl");
}

#[test]
fn the_live_stall_is_raised_from_the_clock() {
    let run = tmon::run::Run::new("x.jsonl", Default::default(), Default::default());
    let mut app = tmon::app::App::from_runs(vec![run], Default::default());
    app.update(lines(1, "{\"step\": 1, \"loss\": 2.0}\n"));
    app.now = Duration::from_secs(299);
    app.update(Event::Tick);
    assert!(app.flags_newest_first().next().is_none());
    app.now = Duration::from_secs(301);
    assert!(app.update(Event::Tick));
    let flag = app.flags_newest_first().next().expect("a stall flag");
    assert_eq!(flag.kind, tmon::analysis::FlagKind::Stall);
    assert!(matches!(app.status(), Some(Status::Stalled(_))));
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const KEYS: &[char] = &[
        'j', 'k', '+', '-', 'a', 'l', 'o', 'x', 's', 'S', 'm', 'p', '?', '/', '(', 'r', 'f', '\n', '<', '>',
        '\x1b',
    ];

    fn ev(c: char) -> Event {
        match c {
            '\n' => code(KeyCode::Enter),
            '<' => code(KeyCode::Left),
            '>' => code(KeyCode::Right),
            '\x1b' => code(KeyCode::Esc),
            c => key(c),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        /// Any key sequence, then any size: no panic, and the selection stays in range.
        #[test]
        fn any_keys_any_size(keys in proptest::collection::vec(0..KEYS.len(), 0..40), w in 0u16..170, h in 0u16..50) {
            let mut app = train_app();
            for k in keys {
                app.update(ev(KEYS[k]));
                if app.should_quit { break; }
            }
            prop_assert!(app.groups().is_empty() || app.view.selected < app.groups().len());
            draw(&app, w, h);
        }
    }
}

#[test]
fn charts_follow_the_preview_being_replaced_even_with_the_same_number_of_series() {
    let mut app = tmon::app::App::new(&["big.jsonl"], Default::default());
    let mut preview = tmon::run::Run::new("big.jsonl", Default::default(), Default::default());
    preview.push_line(1, b"{\"loss\": 1.0, \"val_loss\": 0.5}");
    let history = "{\"acc\": 2.0, \"lr\": 0.1}\n";
    app.update(opened("big.jsonl", 100, history.len() as u64, Some(preview)));
    assert_eq!(names(&app).len(), 1, "loss and val_loss share a chart");
    app.update(lines(1, history));
    assert!(app.slots[0].loading.is_none());
    assert!(names(&app).iter().all(|g| g.len() == 1), "{:?}", names(&app));
}

#[test]
fn clicks_select_what_is_drawn_under_them_and_the_wheel_zooms_or_scrolls() {
    use crossterm::event::{MouseButton, MouseEventKind};
    let click = MouseEventKind::Down(MouseButton::Left);
    let mut app = train_app();
    app.update(Event::Resize(100, 30));
    let screen = text(&draw(&app, 100, 30));
    // The `lr` chart's title, then a point inside that chart.
    let (x, y) = find(&screen, "┌ lr");
    assert!(mouse(&mut app, click, x + 3, y + 3));
    assert_eq!(names(&app)[app.view.selected], ["lr"]);
    // A metric of the list: `val_loss` belongs to the loss chart.
    let screen = text(&draw(&app, 100, 30));
    let (x, y) = find(&screen, "└val_loss");
    mouse(&mut app, click, x, y);
    assert_eq!(names(&app)[app.view.selected], ["loss", "val_loss"]);
    // The wheel over the list moves the selection; over a chart it zooms.
    mouse(&mut app, MouseEventKind::ScrollDown, x, y);
    assert_eq!(names(&app)[app.view.selected], ["lr"]);
    assert_eq!(app.view.zoom, None);
    let (cx, cy) = find(&screen, "┌ grad_norm");
    mouse(&mut app, MouseEventKind::ScrollUp, cx + 3, cy + 3);
    assert!(app.view.zoom.is_some(), "the wheel zooms in over the charts");
    // A flag in the panel: focus and selection move there.
    let screen = text(&draw(&app, 100, 30));
    let (fx, fy) = find(&screen, "flags (");
    mouse(&mut app, click, fx + 2, fy + 2);
    assert_eq!(app.view.focus, Focus::Flags);
    assert_eq!(app.view.flag_selected, 1);
    // Outside anything: nothing happens, and without a known screen size clicks do nothing.
    assert!(!mouse(&mut app, click, 0, 0));
    app.screen = None;
    assert!(!mouse(&mut app, click, x, y));
    // The app itself does not read where things are drawn: a raw mouse event changes nothing.
    app.update(Event::Resize(100, 30));
    let raw = crossterm::event::MouseEvent { kind: click, column: x, row: y, modifiers: KeyModifiers::NONE };
    assert!(!app.update(Event::Mouse(raw)));
    assert_eq!(app.view.focus, Focus::Flags);
}

#[test]
fn esc_leaves_the_single_chart_view_then_clears_the_filter() {
    let mut app = train_app();
    app.update(key('/'));
    for c in "loss".chars() {
        app.update(key(c));
    }
    app.update(code(KeyCode::Enter)); // the filter is set
    app.update(code(KeyCode::Enter)); // the single chart of the selection
    assert_eq!(app.view.layout, LayoutMode::Single);
    app.update(code(KeyCode::Esc));
    assert_eq!(app.view.layout, LayoutMode::Grid, "Esc is back, as the help says");
    assert_eq!(app.view.filter, "loss", "one level at a time");
    app.update(code(KeyCode::Esc));
    assert_eq!(app.view.filter, "");
}
