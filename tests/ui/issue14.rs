//! Issue 14's second pass on the screen: the health badge over every open run, the help readable
//! whole at 80x24, and PgUp/PgDn/Home/End in the lists. Every app here reads fixture logs through
//! the real ingest and analyzer.

use crate::support::ui::*;
use crossterm::event::KeyCode;
use tmon::app::keys::BINDINGS;
use tmon::app::{Action, App, Focus, Options};
use tmon::event::Event;

/// The header row as drawn at `w` x `h`.
fn header(app: &App, w: u16, h: u16) -> String {
    text(&draw(app, w, h)).lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_badge_counts_flags_of_every_run_hidden_ones_included() {
    let mut app = sweep_app();
    let (crit, warn, _) = app.health();
    assert!(crit > 0, "the sweep has a run that diverges to NaN");
    let nan_run = app.run_slots().find(|&i| app.flag_count(i).0 > 0).expect("a run with a critical flag");
    let badge = format!("✖{crit} ▲{warn}");
    for (w, h) in [(80, 24), (160, 48)] {
        let row = header(&app, w, h);
        assert!(row.trim_end().ends_with(&badge), "{w}x{h}: no badge {badge:?} at the end of {row:?}");
    }
    // Hide the run with the NaN, and show another alone: the badge still counts it.
    app.current = nan_run;
    app.update(key('h'));
    assert!(!app.shown(nan_run));
    let other = app.run_slots().find(|&i| i != nan_run).unwrap();
    app.current = other;
    app.update(key('v'));
    assert!(!app.shown(nan_run));
    assert!(header(&app, 80, 24).trim_end().ends_with(&badge), "{}", header(&app, 80, 24));
    // The flags panel lists the runs shown only: the badge is where a hidden run's NaN shows.
    assert!(app.flag_rows().iter().all(|(i, _)| *i != nan_run));
}

#[test]
fn the_badge_is_there_with_one_run_in_ascii_and_when_all_is_well() {
    let app = train_app();
    let (crit, warn, _) = app.health();
    assert_eq!((crit, warn), (1, 1), "train.jsonl: a NaN loss and a spike");
    assert!(header(&app, 80, 24).trim_end().ends_with("✖1 ▲1"), "{}", header(&app, 80, 24));
    let ascii = app_of(vec![load("ui/train.jsonl")], Options { ascii: true, ..Default::default() });
    assert!(header(&ascii, 80, 24).trim_end().ends_with("X1 !1"), "{}", header(&ascii, 80, 24));
    // A run with no critical or warning flag: the badge says so.
    let calm = app_of(vec![load("ui/trainer_state.json")], Options::default());
    if calm.health().0 + calm.health().1 == 0 {
        assert!(header(&calm, 80, 24).trim_end().ends_with("✓ ok"), "{}", header(&calm, 80, 24));
    }
}

/// The help overlay's text, page after page (PgDn until it stops moving), as one string with the
/// frame and runs of spaces collapsed: a text wrapped over two rows reads as one.
fn help_text(app: &mut App, w: u16, h: u16) -> String {
    app.update(Event::Resize(w, h));
    app.update(key('?'));
    assert!(app.view.help);
    let mut pages = Vec::new();
    loop {
        let screen = text(&draw(app, w, h));
        let rows: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
        // The overlay's frame: its top-left corner is the one right before " keys".
        let (top, left) = rows
            .iter()
            .enumerate()
            .find_map(|(y, r)| {
                let s: String = r.iter().collect();
                let at = s.find("┌ keys").or_else(|| s.find("+ keys"))?;
                Some((y, s[..at].chars().count()))
            })
            .expect("the help's frame");
        let right = (left + 1..rows[top].len()).find(|&x| matches!(rows[top][x], '┐' | '+')).unwrap();
        let bottom = (top + 1..rows.len()).find(|&y| matches!(rows[y][left], '└' | '+')).unwrap();
        for r in &rows[top + 1..bottom] {
            pages.push(r[left + 1..right].iter().collect::<String>());
        }
        let before = app.view.help_scroll;
        app.update(code(KeyCode::PageDown));
        if app.view.help_scroll == before {
            break;
        }
        assert!(app.view.help, "PgDn scrolls the help, it does not close it");
    }
    app.update(key('x'));
    assert!(!app.view.help, "another key closes the help");
    pages.join(" ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_key_and_its_whole_text_can_be_read_in_the_help() {
    for (name, mut app) in [("one run", train_app()), ("runs compared", sweep_app())] {
        let comparing = app.comparing();
        for (w, h) in [(80, 24), (160, 48)] {
            let all = help_text(&mut app, w, h);
            for b in BINDINGS.iter().filter(|b| !b.help.is_empty()) {
                if b.action.compare_only() && !comparing {
                    continue;
                }
                assert!(all.contains(b.keys), "{name} {w}x{h}: key {:?} missing:\n{all}", b.keys);
                assert!(all.contains(b.help), "{name} {w}x{h}: help {:?} not whole:\n{all}", b.help);
            }
            assert!(!all.contains('…'), "{name} {w}x{h}: a text is cut:\n{all}");
        }
    }
}

#[test]
fn the_help_fits_at_160x48_and_scrolls_at_80x24() {
    let mut app = train_app();
    app.update(Event::Resize(160, 48));
    app.update(key('?'));
    assert!(!app.update(code(KeyCode::PageDown)), "everything shows at 160x48: nothing to scroll");
    let big = text(&draw(&app, 160, 48));
    assert!(big.contains("┌ keys ┐") || big.contains("┌ keys ─"), "{big}");
    app.update(key('?'));
    app.update(Event::Resize(80, 24));
    app.update(key('?'));
    let top = text(&draw(&app, 80, 24));
    assert!(top.contains("more below"), "{top}");
    app.update(code(KeyCode::End));
    let end = text(&draw(&app, 80, 24));
    assert!(!end.contains("more below"), "{end}");
    assert!(end.contains("any other key closes it"), "{end}");
    app.update(code(KeyCode::Home));
    assert_eq!(app.view.help_scroll, 0);
    // `q` still quits from the help.
    app.update(key('q'));
    assert!(app.should_quit);
}

#[test]
fn page_keys_and_home_end_move_in_the_focused_list() {
    let mut app = app_of(vec![load("ui/detectron2-metrics.json")], Options::default());
    app.update(Event::Resize(80, 24));
    let n = app.groups().len();
    assert!(n > 15, "detectron2's metrics.json: many charts ({n})");
    app.update(code(KeyCode::End));
    assert_eq!(app.view.selected, n - 1);
    assert!(app.view.anchor.is_none(), "End is not follow any more");
    app.update(code(KeyCode::Home));
    assert_eq!(app.view.selected, 0);
    app.update(code(KeyCode::PageDown));
    let page = app.view.selected;
    assert!((5..n - 1).contains(&page), "a page at 80x24 is the list's height, less one: {page}");
    app.update(code(KeyCode::PageDown));
    assert_eq!(app.view.selected, (2 * page).min(n - 1));
    app.update(code(KeyCode::PageUp));
    app.update(code(KeyCode::PageUp));
    app.update(code(KeyCode::PageUp));
    assert_eq!(app.view.selected, 0, "stops at the top");
    // The page follows the screen: taller, longer.
    app.update(Event::Resize(160, 48));
    app.update(code(KeyCode::PageDown));
    assert!(app.view.selected > page, "{} at 160x48 vs {page} at 80x24", app.view.selected);

    // The flags list, focused.
    let mut app = sweep_app();
    app.update(Event::Resize(160, 48));
    app.update(key('a'));
    assert_eq!(app.view.focus, Focus::Flags);
    let flags = app.flag_rows().len();
    assert!(flags > 1);
    app.update(code(KeyCode::End));
    assert_eq!(app.view.flag_selected, flags - 1);
    app.update(code(KeyCode::Home));
    assert_eq!(app.view.flag_selected, 0);

    // The runs panel, focused: first and last run in its order.
    app.update(key('a'));
    app.update(key('R'));
    assert_eq!(app.view.focus, Focus::Runs);
    let order = app.run_order();
    app.update(code(KeyCode::End));
    assert_eq!(app.current, *order.last().unwrap());
    app.update(code(KeyCode::Home));
    assert_eq!(app.current, order[0]);
    app.update(code(KeyCode::PageDown));
    assert_ne!(app.current, order[0]);
}

#[test]
fn f_follows_the_newest_data() {
    let mut app = train_app();
    app.update(key('+'));
    app.update(code(KeyCode::Left));
    assert!(app.view.anchor.is_some());
    app.update(key('f'));
    assert!(app.view.anchor.is_none());
}

#[test]
fn an_ascii_screen_holds_ascii_only() {
    let opts = || Options { ascii: true, ..Default::default() };
    let mut one = app_of(vec![load("ui/train.jsonl")], opts());
    let mut sweep = app_of(sweep_runs(), opts());
    sweep.update(Event::Tick);
    // Keys: '\n' Enter, '\x1b' Esc.
    let steps = ["", "\n]", "\x1b\x1ba", "aR", "?"];
    for (name, app) in [("one run", &mut one), ("runs compared", &mut sweep)] {
        for keys in steps {
            for k in keys.chars() {
                app.update(match k {
                    '\n' => code(KeyCode::Enter),
                    '\x1b' => code(KeyCode::Esc),
                    c => key(c),
                });
            }
            for (w, h) in [(80, 24), (160, 48)] {
                let screen = text(&draw(app, w, h));
                let odd: String = screen.chars().filter(|c| !c.is_ascii()).collect();
                assert!(odd.is_empty(), "{name} {w}x{h} after {keys:?}: {odd:?}\n{screen}");
                // Our own glyphs all have ASCII stand-ins: no '?' for a character we drew.
                let ours = screen.replace("? help", "").replace("| ?    ", "");
                assert!(!ours.contains('?'), "{name} {w}x{h}: a glyph without a stand-in:\n{screen}");
                assert!(screen.contains("+-") && screen.contains('|'), "{screen}");
            }
        }
    }
}

#[test]
fn a_clipped_extreme_is_written_at_the_edge_with_its_value() {
    // The LR range test: the loss blows up to 70.5 at step 906; the outlier-aware range frames
    // the bulk (about 1 to 3) and clips the blow-up, and the chart says how far it went.
    let mut app = app_of(vec![load("ui/lr-range-test.jsonl")], Options::default());
    let loss = app.groups().iter().position(|g| g.names == ["loss"]).expect("a loss chart");
    app.view.selected = loss;
    app.update(code(KeyCode::Enter));
    let members = app.groups()[loss].members.clone();
    let data = app.chart_data(&members, 120).expect("the chart");
    assert!(data.y_bounds[1] < 70.5, "outlier scaling clips the blow-up: {:?}", data.y_bounds);
    assert_eq!(data.clipped_top.map(|(x, v)| (x.round(), v)), Some((906.0, 70.5)));
    assert_eq!(data.clipped_bottom, None, "nothing clipped below");
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = text(&draw(&app, w, h));
        assert!(screen.contains("↑70.5"), "{w}x{h}:\n{screen}");
    }
    let ascii = {
        let mut a =
            app_of(vec![load("ui/lr-range-test.jsonl")], Options { ascii: true, ..Default::default() });
        a.view.selected = loss;
        a.update(code(KeyCode::Enter));
        text(&draw(&a, 80, 24))
    };
    assert!(ascii.contains("^70.5"), "{ascii}");
    // Without outlier scaling nothing is clipped, and nothing is written.
    app.update(key('o'));
    let data = app.chart_data(&members, 120).expect("the chart");
    assert!(data.clipped_top.is_none() && data.y_bounds[1] >= 70.5, "{:?}", data.y_bounds);
    assert!(!text(&draw(&app, 80, 24)).contains("↑70.5"));
}

#[test]
fn the_points_a_flag_is_about_are_never_clipped() {
    // train.jsonl: a loss spike to 9 at step 150, flagged; the bulk of the loss is under 2.6.
    let app = train_app();
    let flag = app.flag_rows().into_iter().map(|(_, f)| f).find(|f| f.metric == "loss" && f.step == 150.0);
    assert!(flag.is_some(), "the spike is flagged");
    let members = app.groups()[0].members.clone();
    let data = app.chart_data(&members, 120).expect("the chart");
    assert!(data.y_bounds[1] >= 9.0, "the flagged spike is inside the range: {:?}", data.y_bounds);
    let top = data.raw.iter().flatten().map(|p| p.1).fold(f64::MIN, f64::max);
    assert!(top >= 9.0, "the spike is drawn at its value, not clamped: {top}");
}

#[test]
fn progress_and_eta_where_the_config_says_the_total() {
    // A run at step 100 of the 1000 its config.json says, going at 5 steps a second.
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("logs.jsonl");
    let lines: String =
        (1..=100).map(|s| format!("{{\"step\": {s}, \"loss\": {}}}\n", 2.0 - s as f64 * 0.01)).collect();
    std::fs::write(&log, lines).unwrap();
    std::fs::write(dir.path().join("config.json"), r#"{"lr": 0.001, "max_steps": 1000}"#).unwrap();
    let mut run = tmon::run::Run::load_file(&log, Default::default(), Default::default()).unwrap();
    assert!(run.read_config().is_empty());
    run.path = "run/logs.jsonl".into();
    let mut app = app_of(vec![run], Options::default());
    app.slots[0].rate.note(std::time::Duration::from_secs(3), 50.0);
    app.slots[0].rate.note(std::time::Duration::from_secs(13), 100.0);
    let row = header(&app, 160, 48);
    assert!(row.contains("step 100/1000"), "{row}");
    assert!(row.contains("5 steps/s") && row.contains("ETA 3m"), "{row}");
    // Stalled or ended, no ETA.
    app.now = std::time::Duration::from_secs(4000);
    let row = header(&app, 160, 48);
    assert!(!row.contains("ETA"), "{row}");

    // Hugging Face's trainer_state.json says its own max_steps.
    let mut hf = load("ui/trainer_state.json");
    hf.read_config();
    let app = app_of(vec![hf], Options::default());
    assert!(header(&app, 160, 48).contains("step 400/400"), "{}", header(&app, 160, 48));
}

/// The rows of the metric list (left of the list's frame), as drawn at `w` x `h`: one string
/// per cell (a wide character's second cell is blank).
fn list_rows(app: &App, w: u16, h: u16) -> Vec<Vec<String>> {
    let term = draw(app, w, h);
    let buf = term.backend().buffer();
    let right = (1..w).find(|&x| buf[(x, 1)].symbol() == "┐").expect("the list's frame");
    (2..h - 1).map(|y| (0..=right).map(|x| buf[(x, y)].symbol().to_owned()).collect()).collect()
}

#[test]
fn names_are_cut_in_the_middle_by_display_width_and_values_stay_whole() {
    let mut app = app_of(vec![load("ui/names.jsonl")], Options::default());
    // The per-layer names form families (collapsed in the list): every family is opened, so each
    // layer's row is drawn under it.
    for name in app.families().iter().map(|f| f.name.clone()).collect::<Vec<_>>() {
        let g = app.groups().iter().position(|g| g.family.is_some_and(|i| app.families()[i].name == name));
        app.act(Action::SelectChart(g.expect("the family's entry")));
        app.act(Action::ToggleFamily);
    }
    assert!(app.groups().iter().filter(|g| g.layer).count() >= 5, "every layer is listed");
    // (what tells the name apart, its last value)
    let expect = [
        ("s.23", "123"),
        ("s.24", "124"),
        ("fc0", "200"),
        ("fc1", "201"),
        ("fc2", "202"),
        ("損", "300"),
        ("🔥", "301"),
    ];
    for (w, h) in [(80, 24), (160, 48)] {
        let rows = list_rows(&app, w, h);
        let mut value_ends = Vec::new();
        for (tell, v) in expect {
            let row = rows
                .iter()
                .find(|r| r.concat().contains(tell))
                .unwrap_or_else(|| panic!("{w}x{h}: no {tell}: {rows:?}"));
            let text = row.concat();
            assert!(text.contains(&format!(" {v} ")), "{w}x{h}: {tell}'s value {v} is cut: {text:?}");
            // The cell the value ends in: the same column on every row, wide names or not.
            let end = (0..row.len())
                .rev()
                .find(|&i| row[i].chars().all(|c| c.is_ascii_digit()) && !row[i].trim().is_empty());
            value_ends.push(end);
        }
        assert!(value_ends.windows(2).all(|p| p[0] == p[1]), "{w}x{h}: values end in {value_ends:?}");
    }
    // The chart titles keep what tells the names apart too.
    let screen = text(&draw(&app, 160, 48));
    for tell in ["layers.23", "layers.24", "fc0", "fc1"] {
        assert!(screen.matches(tell).count() >= 2, "list and chart title keep {tell}:\n{screen}");
    }
}

#[test]
fn a_run_that_died_of_an_error_is_crashed_with_the_exception_in_the_header() {
    use tmon::app::Status;
    // tests/fixtures/ui/crash.jsonl: 60 steps, then a traceback ending in CUDA out of memory.
    let app = app_of(vec![load("ui/crash.jsonl")], Options::default());
    assert_eq!(app.status(), Some(Status::Crashed));
    let row = header(&app, 160, 48);
    assert!(row.contains("● crashed: torch.OutOfMemoryError: CUDA out of memory"), "{row}");
    assert!(!row.contains("ETA"), "{row}");
    insta::assert_snapshot!("crashed_80x24", draw(&app, 80, 24).backend());
    insta::assert_snapshot!("crashed_160x48", draw(&app, 160, 48).backend());
    // The crash flag says the same.
    let crit =
        app.slots[0].run().analyzer.flags().iter().filter(|f| f.kind == tmon::analysis::FlagKind::Crash);
    assert_eq!(crit.count(), 1);

    // Right after the traceback, not yet: a caught error's next record usually follows at once.
    let mut early = app_of(vec![load("ui/crash.jsonl")], Options::default());
    early.now = std::time::Duration::from_secs(11);
    assert_eq!(early.status(), Some(Status::Live));
    // Much later, still crashed: not "stalled", not "ended".
    early.now = std::time::Duration::from_secs(4000);
    assert_eq!(early.status(), Some(Status::Crashed));

    // Tracebacks the run went on from: not crashed.
    for rel in ["traceback-lines.jsonl", "ui/train.jsonl"] {
        let app = app_of(vec![load(rel)], Options::default());
        assert_eq!(app.status(), Some(Status::Live), "{rel}");
        assert!(app.slots[0].run().analyzer.crashed().is_none(), "{rel}");
    }
    // A crash, a resume from the checkpoint, then the OOM killer: crashed of the last one.
    let app = app_of(vec![load("flags2/crash-resume-killed.jsonl")], Options::default());
    assert_eq!(app.status(), Some(Status::Crashed));
    assert_eq!(app.slots[0].run().analyzer.crashed(), Some("Killed"));
}

#[test]
fn the_runs_panel_says_crashed_from_the_same_decision_as_the_header() {
    use tmon::app::Status;
    let mut runs = sweep_runs();
    runs.push(load("ui/crash.jsonl"));
    let mut app = app_of(runs, Options::default());
    app.update(Event::Tick);
    let crashed: Vec<usize> =
        app.run_slots().filter(|&i| app.status_of(i) == Some(Status::Crashed)).collect();
    assert_eq!(crashed.len(), 1, "only the run that died");
    let i = crashed[0];
    assert!(app.slots[i].run().path.ends_with("ui/crash.jsonl"));
    app.current = i;
    assert_eq!(app.status(), Some(Status::Crashed));
    let screen = text(&draw(&app, 160, 48));
    let name = app.run_name(i).to_owned();
    let row = screen.lines().find(|l| l.contains(&name) && l.contains("crashed") && !l.contains(" tmon "));
    assert!(row.is_some(), "no panel row for {name} saying crashed:\n{screen}");
    assert!(screen.lines().next().unwrap().contains("crashed: torch.OutOfMemoryError"), "{screen}");
}
