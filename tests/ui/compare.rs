//! Comparing runs: the runs panel and the overlaid charts (snapshots at 80x24 and 160x48, from
//! the sweep fixture read by the real ingest and analyzer), the keys that hide, solo, pin and sort
//! runs, the cursor and its legend, runs that join while the monitor runs, and the colours.

use crate::support::ui::*;
use crossterm::event::KeyCode;
use tmon::app::App;

fn snap(name: &str, app: &App, w: u16, h: u16) {
    let term = draw(app, w, h);
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), term.backend());
}

#[test]
fn sweep_grid() {
    let app = sweep_app();
    snap("sweep_grid", &app, 80, 24);
    snap("sweep_grid", &app, 160, 48);
}

#[test]
fn sweep_single_chart_with_the_cursor() {
    let mut app = sweep_app();
    app.update(code(KeyCode::Enter));
    app.update(key('['));
    for _ in 0..3 {
        app.update(key('{'));
    }
    snap("sweep_cursor", &app, 80, 24);
    snap("sweep_cursor", &app, 160, 48);
    let t = text(&draw(&app, 160, 48));
    // The legend: each run's loss at the step under the cursor, best first.
    let legend: Vec<&str> = t.lines().skip(1).filter(|l| l.contains(" lr_0.")).collect();
    let order: Vec<usize> = ["lr_0.01 ", "lr_0.003", "lr_0.001", "lr_0.1 "]
        .iter()
        .map(|n| {
            legend.iter().position(|l| l.contains(n)).unwrap_or_else(|| panic!("{n} in the legend:\n{t}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "best first: {order:?}\n{t}");
}

#[test]
fn sweep_panel_sorted_with_a_baseline_and_a_hidden_run() {
    let mut app = sweep_app();
    // lr_0.003 is the baseline; lr_0.1 hidden; sorted by the best loss.
    app.update(code(KeyCode::Tab));
    app.update(key('b'));
    select(&mut app, "lr_0.1");
    app.update(key('h'));
    for _ in 0..4 {
        app.update(key('>'));
    }
    snap("sweep_panel", &app, 160, 48);
    snap("sweep_panel", &app, 80, 24);
}

#[test]
fn sweep_without_colour_keeps_runs_apart_by_letter() {
    let mut app = sweep_app();
    app.color = false;
    let term = draw(&app, 160, 48);
    for cell in term.backend().buffer().content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "{cell:?}");
    }
    let t = text(&term);
    // Each run's letter ends its line on the loss chart (rows 2..20, right of the metric list).
    let chart: String =
        t.lines().skip(2).take(17).map(|l| l.chars().skip(48).take(55).collect::<String>()).collect();
    for letter in ['a', 'b', 'c', 'd'] {
        assert!(chart.contains(letter), "no line ends with {letter}:\n{t}");
    }
}

/// Presses Tab until the run named `name` is selected.
fn select(app: &mut App, name: &str) {
    for _ in 0..app.slots.len() {
        if app.run_name(app.current) == name {
            return;
        }
        app.update(code(KeyCode::Tab));
    }
    panic!("Tab never selects {name}");
}

fn shown_names(app: &App) -> Vec<String> {
    let mut v: Vec<String> = app.shown_runs().into_iter().map(|i| app.run_name(i).to_owned()).collect();
    v.sort();
    v
}

fn order_names(app: &App) -> Vec<String> {
    app.run_order().into_iter().map(|i| app.run_name(i).to_owned()).collect()
}

#[test]
fn runs_get_short_names_letters_and_distinct_colours() {
    let app = sweep_app();
    assert!(app.comparing());
    let names: Vec<&str> = (0..4).map(|i| app.run_name(i)).collect();
    assert_eq!(names, ["lr_0.001", "lr_0.003", "lr_0.01", "lr_0.1"]);
    let letters: Vec<char> = (0..4).filter_map(|i| app.look(i)?.letter).collect();
    assert_eq!(letters, ['a', 'b', 'c', 'd']);
    let mut colours: Vec<usize> = (0..4).filter_map(|i| Some(app.look(i)?.colour)).collect();
    // The same names get the same colours in another session.
    let again = sweep_app();
    assert_eq!(colours, (0..4).filter_map(|i| Some(again.look(i)?.colour)).collect::<Vec<_>>());
    colours.sort();
    colours.dedup();
    assert_eq!(colours.len(), 4, "four runs, four colours");
    // One chart per metric any run has, not train/eval pairs: the colours are the runs'.
    let charts: Vec<Vec<String>> = app.groups().iter().map(|g| g.names.clone()).collect();
    assert_eq!(charts, [["loss"], ["lr"], ["grad_norm"], ["val_loss"]]);
}

#[test]
fn hide_solo_and_show_every_run() {
    let mut app = sweep_app();
    let all = shown_names(&app);
    assert_eq!(all.len(), 4);
    select(&mut app, "lr_0.1");
    app.update(key('h'));
    assert_eq!(shown_names(&app), ["lr_0.001", "lr_0.003", "lr_0.01"]);
    let (slots, data) = app.overlay_data(&app.groups()[0].clone(), 100).expect("an overlay");
    assert_eq!(slots.len(), 3, "the hidden run is not drawn");
    assert_eq!(data.layers.len(), 3);
    app.update(key('h'));
    assert_eq!(shown_names(&app), all, "h again shows it");
    // Solo: the run alone; again: every run.
    select(&mut app, "lr_0.01");
    app.update(key('v'));
    assert_eq!(shown_names(&app), ["lr_0.01"]);
    assert!(app.raw_shown(), "one run: its raw values are drawn too");
    app.update(key('v'));
    assert_eq!(shown_names(&app), all);
    assert!(!app.raw_shown(), "four runs: only the smoothed lines");
    // H shows everything, whatever was hidden or solo.
    app.update(key('h'));
    app.update(code(KeyCode::Tab));
    app.update(key('h'));
    assert_eq!(shown_names(&app).len(), 2);
    app.update(key('v'));
    app.update(key('H'));
    assert_eq!(shown_names(&app), all);
}

#[test]
fn a_baseline_stays_first_stays_shown_with_a_solo_run_and_is_read_against() {
    let mut app = sweep_app();
    select(&mut app, "lr_0.003");
    app.update(key('b'));
    assert_eq!(order_names(&app)[0], "lr_0.003");
    select(&mut app, "lr_0.01");
    app.update(key('v'));
    assert_eq!(shown_names(&app), ["lr_0.003", "lr_0.01"], "solo keeps the baseline");
    // The cursor's legend reads each run against the baseline (lr_0.003 stopped at step 120:
    // read at 105).
    app.update(code(KeyCode::Enter));
    app.update(key('['));
    for _ in 0..3 {
        app.update(key('{'));
    }
    let t = text(&draw(&app, 160, 48));
    assert!(t.contains("base"), "{t}");
    assert!(t.lines().any(|l| l.contains("lr_0.01") && l.contains('%')), "{t}");
    // b on the baseline unpins it.
    select(&mut app, "lr_0.003");
    app.update(key('b'));
    assert_eq!(app.compare.baseline, None);
    assert_eq!(order_names(&app)[0], "lr_0.001");
}

#[test]
fn runs_sort_by_any_column_and_either_way() {
    let mut app = sweep_app();
    assert_eq!(order_names(&app), ["lr_0.001", "lr_0.003", "lr_0.01", "lr_0.1"], "by name");
    app.update(key('>')); // status: all live
    app.update(key('>')); // step: the furthest first
    assert_eq!(order_names(&app).last().map(String::as_str), Some("lr_0.003"), "stopped at 120");
    app.update(key('>')); // the selected metric's (loss) last value: best first, NaN last
    assert_eq!(order_names(&app), ["lr_0.01", "lr_0.003", "lr_0.001", "lr_0.1"]);
    app.update(key('>')); // its best value
    assert_eq!(order_names(&app), ["lr_0.01", "lr_0.003", "lr_0.1", "lr_0.001"]);
    app.update(key('I'));
    assert_eq!(order_names(&app), ["lr_0.001", "lr_0.1", "lr_0.003", "lr_0.01"], "reversed");
    app.update(key('>')); // flags: the most first
    assert_eq!(order_names(&app)[0], "lr_0.1");
    app.update(key('>')); // the config key that differs: lr
    assert_eq!(app.compare.config_keys, ["lr"]);
    assert_eq!(order_names(&app), ["lr_0.001", "lr_0.003", "lr_0.01", "lr_0.1"]);
    app.update(key('<'));
    app.update(key('<'));
    assert_eq!(app.compare.sort, tmon::app::SortKey::Best);
    // The metric read is the selected chart's: val_loss sorts otherwise than loss.
    app.update(key('j'));
    app.update(key('j'));
    app.update(key('j'));
    assert_eq!(app.panel_metric(), Some("val_loss"));
    // (lr_0.1's eval loss was lower than lr_0.001's before it became NaN.)
    assert_eq!(order_names(&app), ["lr_0.01", "lr_0.003", "lr_0.1", "lr_0.001"]);
}

#[test]
fn tab_and_the_focused_panel_move_through_the_runs_in_the_panels_order() {
    let mut app = sweep_app();
    app.update(code(KeyCode::Tab));
    assert_eq!(app.run_name(app.current), "lr_0.003");
    app.update(code(KeyCode::BackTab));
    app.update(code(KeyCode::BackTab));
    assert_eq!(app.run_name(app.current), "lr_0.1", "Shift-Tab wraps around");
    // The selected chart stays when the run changes.
    app.update(key('j'));
    app.update(code(KeyCode::Tab));
    assert_eq!(app.view.selected, 1);
    assert_eq!(app.run_name(app.current), "lr_0.001");
    app.update(key('R'));
    assert_eq!(app.view.focus, tmon::app::Focus::Runs);
    for _ in 0..5 {
        app.update(key('j'));
    }
    assert_eq!(app.run_name(app.current), "lr_0.1", "the arrows stop at the ends, no wrap");
    app.update(key('k'));
    app.update(code(KeyCode::Enter));
    assert_eq!(shown_names(&app), ["lr_0.01"], "Enter on a run: solo");
    app.update(code(KeyCode::Esc));
    assert_eq!(app.view.focus, tmon::app::Focus::Metrics);
}

#[test]
fn the_keys_about_runs_do_nothing_with_one_run() {
    let mut app = train_app();
    for c in ['h', 'H', 'v', 'b', '<', '>', 'I', 'R'] {
        assert!(!app.update(key(c)), "{c} changed the screen of one run");
    }
    assert!(app.shown_runs() == [0] && app.compare.baseline.is_none());
    assert_eq!(app.view.focus, tmon::app::Focus::Metrics);
}

#[test]
fn a_run_that_appears_joins_the_comparison_with_its_own_colour() {
    use tmon::event::Event;
    use tmon::source::SourceEvent;
    let mut runs = sweep_runs();
    let last = runs.pop().expect("four runs");
    let mut app = app_of(runs, Default::default());
    let before: Vec<_> = (0..3).map(|i| app.look(i).cloned()).collect();
    assert_eq!(app.run_slots().count(), 3);
    // The source finds a fourth log in the watched folder and reads it from its start.
    let path = crate::support::fixture("ui/sweep/lr_0.1/logs.jsonl");
    let text = std::fs::read(&path).expect("fixture");
    app.update(Event::Source(SourceEvent::Found { file: 3, path: last.path.clone() }));
    let info = tmon::event::Opened {
        path: last.path.clone(),
        size: text.len() as u64,
        end: text.len() as u64,
        idle: None,
        preview: None,
        config: tmon::run::config::read(&last.path),
        model_beside: None,
    };
    app.update(Event::Opened { file: 3, info: Box::new(info) });
    app.update(Event::Source(SourceEvent::Lines { file: 3, first_line: 1, bytes: text }));
    assert_eq!(app.run_slots().count(), 4);
    assert!(app.slots[3].loading.is_none(), "its history is in");
    assert_eq!(app.run_name(3), "lr_0.1");
    assert_eq!(
        (0..3).map(|i| app.look(i).cloned()).collect::<Vec<_>>(),
        before,
        "the others keep their looks"
    );
    let look = app.look(3).expect("a look");
    assert_eq!(look.letter, Some('d'));
    assert!(before.iter().flatten().all(|l| l.colour != look.colour), "a colour of its own");
    assert_eq!(app.shown_runs().len(), 4);
    let (slots, _) = app.overlay_data(&app.groups()[0].clone(), 100).expect("an overlay");
    assert!(slots.contains(&3), "charted");
    assert!(app.flag_rows().iter().any(|(i, f)| *i == 3 && f.metric == "loss"), "its flags listed");
}

#[test]
fn the_cursor_reads_one_run_too() {
    let mut app = train_app();
    app.update(code(KeyCode::Enter));
    app.update(key(']'));
    assert_eq!(app.view.cursor, Some(200.0), "shown at the newest step");
    for _ in 0..5 {
        app.update(key('{'));
    }
    let x = app.view.cursor.expect("a cursor");
    assert!((x - 100.5).abs() < 1.0, "{x}");
    snap("one_run_cursor", &app, 80, 24);
    snap("one_run_cursor", &app, 160, 48);
    let t = text(&draw(&app, 160, 48));
    // Every series of the chart: raw and smoothed.
    assert!(t.contains("step 100") || t.contains("step 101"), "{t}");
    for name in ["loss", "val_loss"] {
        assert!(t.lines().any(|l| l.contains(&format!("│{name} ")) && l.contains("raw ")), "{name}:\n{t}");
    }
    // Esc hides it; x cycles the axis and drops it.
    app.update(code(KeyCode::Esc));
    assert_eq!(app.view.cursor, None);
    assert_eq!(app.view.layout, tmon::app::LayoutMode::Single, "Esc took the cursor only");
}

#[test]
fn a_click_on_the_plot_puts_the_cursor_there_and_a_click_on_the_panel_selects_or_sorts() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let mut app = sweep_app();
    app.update(tmon::event::Event::Resize(160, 48));
    let click = |app: &mut App, x: u16, y: u16| {
        let m = MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        };
        let action = app.screen.and_then(|area| tmon::ui::pointer(app, area, &m));
        action.is_some_and(|a| app.act(a))
    };
    let screen = text(&draw(&app, 160, 48));
    let find = |needle: &str| -> (u16, u16) {
        screen
            .lines()
            .enumerate()
            .find_map(|(y, l)| l.find(needle).map(|i| (l[..i].chars().count() as u16, y as u16)))
            .unwrap_or_else(|| panic!("{needle} not on screen:\n{screen}"))
    };
    let (x, y) = find("lr_0.1   live");
    assert!(click(&mut app, x, y));
    assert_eq!(app.run_name(app.current), "lr_0.1");
    assert_eq!(app.view.focus, tmon::app::Focus::Runs);
    let (x, y) = find("min ");
    assert!(click(&mut app, x, y));
    assert_eq!(app.compare.sort, tmon::app::SortKey::Best);
    assert!(click(&mut app, x, y));
    assert!(app.compare.reversed, "a second click sorts the other way");
    // The single-chart view: a click on the plot puts the cursor under it.
    app.update(key('R'));
    app.update(code(KeyCode::Enter));
    assert_eq!(app.view.layout, tmon::app::LayoutMode::Single);
    let screen = text(&draw(&app, 160, 48));
    let (_, top) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("┌ loss"))
        .map(|(y, l)| (l, y as u16))
        .expect("the chart");
    let left = screen
        .lines()
        .nth(top as usize + 1)
        .and_then(|l| l.find("│9").or(l.find("││")))
        .map(|_| 0)
        .unwrap_or(0);
    let _ = left;
    // The middle of the chart area, inside the plot.
    assert!(click(&mut app, 110, top + 10));
    let (lo, hi) = app.chart_window().expect("a window");
    let x = app.view.cursor.expect("a cursor");
    assert!(x > lo + (hi - lo) * 0.3 && x < lo + (hi - lo) * 0.8, "{x} in {lo}..{hi}");
}

/// The monitor names the runs, shows the config keys that differ and raises the flags across
/// runs as `tmon check` does on the same folder (one set of rules: run::naming, run::config,
/// analysis::sweep), its runs held at display precision.
#[test]
fn the_monitor_agrees_with_check_on_names_configs_and_cross_run_flags() {
    use crate::support::cli;
    use std::time::Duration;
    let dir = crate::support::fixture("ui/sweep");
    let ran = cli::tmon(
        [std::ffi::OsStr::new("check"), dir.as_os_str(), "--json".as_ref()],
        Duration::from_secs(60),
    );
    let doc = cli::json(&ran);
    let mut app = sweep_app();
    app.update(tmon::event::Event::Tick);
    assert!(app.slots.iter().all(|s| s.run().store.display_precision()), "compared runs are compact");
    let mut names = Vec::new();
    for i in app.run_slots() {
        let path = app.slots[i].run().path.to_string_lossy().into_owned();
        let run = cli::run_of(&doc, path.trim_start_matches("tests/fixtures/"));
        assert_eq!(run["name"].as_str(), Some(app.run_name(i)), "{path}");
        let config: std::collections::BTreeMap<String, String> =
            serde_json::from_value(run["config"].clone()).expect("config is a map of strings");
        assert_eq!(config, app.compare.configs[i], "{path}");
        names.push(app.run_name(i).to_owned());
    }
    assert_eq!(names, ["lr_0.001", "lr_0.003", "lr_0.01", "lr_0.1"]);
    assert_eq!(app.compare.config_keys, ["lr"], "only the key that differs");
    let from_check: Vec<(String, String, String, u64)> = doc["compare"]["flags"]
        .as_array()
        .expect("compare.flags")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("run"), s("kind"), s("metric"), f["step"].as_u64().unwrap_or(u64::MAX))
        })
        .collect();
    let from_monitor: Vec<(String, String, String, u64)> = app
        .compare
        .cross
        .iter()
        .map(|(i, f)| {
            (app.run_name(*i).to_owned(), f.kind.as_str().to_owned(), f.metric.clone(), f.step as u64)
        })
        .collect();
    assert_eq!(from_monitor, from_check);
    assert_eq!(
        from_monitor,
        [("lr_0.1".to_owned(), "run_outlier".to_owned(), "loss".to_owned(), 100)],
        "the diverging run, and no other"
    );
    // In the runs panel's count and the flags list.
    let d = app.run_slots().find(|&i| app.run_name(i) == "lr_0.1").expect("lr_0.1");
    assert!(app.flag_rows().iter().any(|(i, f)| *i == d && f.kind.as_str() == "run_outlier"));
}

/// The monitor's loop applies a batch of data events with `update_data` and works the comparison
/// out once (`settle`) before a frame, not after each event: the screen is the one drawn when
/// every event is applied with `update`, and a key in the middle of a batch sees the runs as they
/// are.
#[test]
fn a_batch_of_data_events_settled_once_draws_what_one_event_at_a_time_draws() {
    use tmon::event::Event;
    use tmon::source::SourceEvent;
    let events = || -> Vec<Event> {
        let mut out = Vec::new();
        for (file, d) in ["lr_0.001", "lr_0.003", "lr_0.01", "lr_0.1"].into_iter().enumerate() {
            let path = crate::support::fixture(&format!("ui/sweep/{d}/logs.jsonl"));
            let text = std::fs::read(&path).expect("fixture");
            out.push(Event::Source(SourceEvent::Found { file, path: path.clone() }));
            let info = tmon::event::Opened {
                path: path.clone(),
                size: text.len() as u64,
                end: text.len() as u64,
                idle: None,
                preview: None,
                config: tmon::run::config::read(&path),
                model_beside: None,
            };
            out.push(Event::Opened { file, info: Box::new(info) });
            out.push(Event::Source(SourceEvent::Lines { file, first_line: 1, bytes: text }));
        }
        out
    };
    let none: [std::path::PathBuf; 0] = [];
    let mut each = App::new(&none, Default::default());
    let mut batch = App::new(&none, Default::default());
    for (i, ev) in events().into_iter().enumerate() {
        each.update(ev);
        // Three runs in: the comparison's sort key (the runs panel's order) changes mid-batch.
        if i == 8 {
            each.update(key('>'));
        }
    }
    for (i, ev) in events().into_iter().enumerate() {
        batch.update_data(ev);
        if i == 8 {
            batch.update(key('>'));
        }
    }
    assert_eq!(batch.run_slots().count(), 4);
    batch.settle();
    for app in [&mut each, &mut batch] {
        app.update(Event::Tick);
    }
    assert_eq!(order_names(&batch), order_names(&each));
    assert_eq!(order_names(&batch).len(), 4, "{:?}", order_names(&batch));
    for (w, h) in [(80, 24), (160, 48)] {
        let (a, b) = (text(&draw(&each, w, h)), text(&draw(&batch, w, h)));
        assert_eq!(a, b, "{w}x{h}");
        assert!(a.contains("lr_0.003"), "{a}");
    }
}
