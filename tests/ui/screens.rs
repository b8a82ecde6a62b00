//! Snapshots of the main screens at 80x24 and 160x48 (TestBackend + insta), and the styles a
//! snapshot cannot see (colours, NO_COLOR). Every screen is drawn from fixture logs read by the
//! real ingest and analyzer (tests/fixtures/ui: train.jsonl, a detectron2 metrics.json, a Hugging
//! Face trainer_state.json), so the flags, their messages, the names and the numbers on screen are
//! what tmon says about those logs: a change in any of them shows up here.
//!
//! To review and accept changed screens: `cargo insta review` (or `INSTA_UPDATE=always cargo test
//! --release --test ui` and `git diff tests/ui/snapshots`).

use crate::support::ui::*;
use crossterm::event::KeyCode;
use ratatui::style::Color;
use tmon::app::{App, Options};

fn snap(name: &str, app: &App, w: u16, h: u16) {
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
    app.update(code(KeyCode::Enter)); // loss, paired with val_loss
    snap("single", &app, 80, 24);
    snap("single", &app, 160, 48);
}

#[test]
fn single_chart_log_y_without_outlier_scaling() {
    let mut app = train_app();
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
    // The NaN flag: critical, so listed first although the spike's is newer.
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

/// The grid, then the chart of the newest flag (focus the flags, Enter), at both sizes.
fn grid_and_newest_flag(name: &str, rel: &str) -> App {
    let mut app = app_of(vec![load(rel)], Options::default());
    snap(&format!("{name}_grid"), &app, 80, 24);
    snap(&format!("{name}_grid"), &app, 160, 48);
    app.update(key('a'));
    app.update(code(KeyCode::Enter));
    snap(&format!("{name}_newest_flag"), &app, 80, 24);
    snap(&format!("{name}_newest_flag"), &app, 160, 48);
    app
}

#[test]
fn detectron2_metrics_json() {
    // Seventeen metrics (loss terms, lr, timings, COCO AP) and the two info flags the analyzer
    // raises: bbox/APs never finite, and the rerun appended after the crash.
    let app = grid_and_newest_flag("detectron2", "ui/detectron2-metrics.json");
    let t = text(&draw(&app, 160, 48));
    assert!(t.contains("restart"), "the newest flag is the rerun's restart:\n{t}");
}

#[test]
fn hugging_face_trainer_state() {
    // trainer_state.json's log_history: the eval loss turning up while the training loss falls is
    // flagged as overfitting. `eval_loss` is drawn with `loss` (not with the one-point
    // `train_loss` of the end-of-training record), and that record's scalars are listed under
    // "end of training" in the metric list, not drawn as single-point charts.
    let app = grid_and_newest_flag("trainer_state", "ui/trainer_state.json");
    let t = text(&draw(&app, 160, 48));
    assert!(t.contains("warning  step 200      eval_loss  eval_loss turned up"), "{t}");
    let grid = text(&draw(&app_of(vec![load("ui/trainer_state.json")], Options::default()), 160, 48));
    assert!(grid.contains("│ └eval_loss "), "eval_loss listed under loss:\n{grid}");
    assert!(grid.contains(" end of training"), "{grid}");
    assert!(grid.contains("  train_runtime "), "{grid}");
    assert!(!grid.contains("┌ train_runtime"), "no chart of a single point:\n{grid}");
}

#[test]
fn detr_log_txt() {
    // DETR's log.txt: the 12 COCO numbers of `test_coco_eval_bbox` are charts of their own
    // (`.../AP`, `.../AP50`, ...), and the title counts series as `check` does, saying how many
    // charts they make (a train metric and its test partner share one).
    let app = grid_and_newest_flag("detr", "ui/detr-log.txt");
    let t = text(&draw(&app, 160, 48));
    assert!(t.contains("test_coco_eval_bbox/AP "), "{t}");
    let charts = app.groups().len();
    assert!(t.contains(&format!(" metrics (27 in {charts} charts) ")), "{t}");
}

#[test]
fn ascii_markers() {
    let app = app_of(vec![load("ui/train.jsonl")], Options { ascii: true, ..Default::default() });
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
    let app = App::from_runs(vec![run], Default::default());
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
    // train.jsonl: a critical NaN and a warning spike; the detectron2 log: info flags.
    let term = draw(&train_app(), 80, 24);
    assert_eq!(fg_of(&term, "critical"), Color::Red);
    assert_eq!(fg_of(&term, "warning"), Color::Yellow);
    let term = draw(&app_of(vec![load("ui/detectron2-metrics.json")], Options::default()), 80, 24);
    assert_eq!(fg_of(&term, "info "), Color::Blue);
}

#[test]
fn no_color_draws_no_colour() {
    let mut app = train_app();
    app.color = false;
    let term = draw(&app, 160, 48);
    let buf = term.backend().buffer();
    for cell in buf.content() {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    // Selection and severity still read: reverse video and bold remain.
    assert!(buf.content().iter().any(|c| c.modifier.contains(ratatui::style::Modifier::BOLD)));
}

/// A run read from `text` written to a log file of its own.
fn log_of(text: &str, flags: tmon::analysis::FlagConfig) -> tmon::run::Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("logs.jsonl");
    std::fs::write(&path, text).expect("write");
    let mut run = tmon::run::Run::load_file(&path, Default::default(), flags).expect("reads");
    run.path = "run/logs.jsonl".into();
    run
}

#[test]
fn a_log_cannot_write_escape_sequences_to_the_terminal() {
    // train.jsonl's traceback line has ESC[31m in it (a skipped line, shown in the header); a
    // metric name with an OSC sequence and a BEL, JSON-escaped, comes out of the parser raw.
    let mut log = std::fs::read_to_string(crate::support::fixture("ui/train.jsonl")).expect("fixture");
    log.push_str("{\"step\": 201, \"evil\\u001b]0;pwned\\u0007name\": 1.0}\n");
    let run = log_of(&log, Default::default());
    assert!(run.store.find("evil\x1b]0;pwned\x07name").is_some(), "the name is read with its ESC and BEL");
    let app = app_of(vec![run], Options::default());
    let t = text_of(&app);
    assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
    assert!(t.contains("evil\\x1b]0;pwned\\x07name"), "{t}");
    assert!(t.contains("\\x1b[31mboom"), "{t}");
}

fn text_of(app: &App) -> String {
    text(&draw(app, 160, 48))
}

#[test]
fn the_flags_list_scrolls_to_the_selection() {
    // A NaN loss every third line with no cooldown: one critical flag per NaN, 100 in all.
    let mut cfg = tmon::analysis::FlagConfig::default();
    cfg.set("cooldown", "1").expect("cooldown");
    let log: String = (1..=300)
        .map(|s| {
            let loss = if s % 3 == 0 { "NaN".to_owned() } else { format!("{}", 1.0 / s as f64) };
            format!("{{\"step\": {s}, \"loss\": {loss}}}\n")
        })
        .collect();
    let run = log_of(&log, cfg);
    assert_eq!(run.flags().len(), 100, "{:#?}", &run.flags()[..3]);
    let mut app = app_of(vec![run], Options::default());
    app.update(key('a'));
    for _ in 0..60 {
        app.update(key('j'));
    }
    // Newest first: the 61st newest is the NaN at step 300 - 60 * 3.
    let t = text(&draw(&app, 80, 24));
    assert!(t.contains("NaN at step 120;"), "the selected flag (61st newest) is not shown:\n{t}");
    assert!(!t.contains("NaN at step 300;"), "{t}");
}

#[test]
fn the_header_says_when_the_series_cap_dropped_values() {
    let opts = tmon::ingest::IngestOptions { max_series: 2, ..Default::default() };
    let mut run = tmon::run::Run::new("capped.jsonl", opts, Default::default());
    for step in 1..=30u64 {
        let line =
            format!("{{\"step\": {step}, \"loss\": 1.0, \"acc\": 0.5, \"lr\": 0.1, \"m{step}\": 2.0}}");
        run.push_line(step, line.as_bytes());
    }
    assert_eq!(run.store.fields_dropped(), 60);
    let app = app_of(vec![run], Options::default());
    let t = text_of(&app);
    let header = t.lines().next().unwrap();
    assert!(header.contains("60 values dropped (series cap, --max-series)"), "{header}");
}

/// The charts' first series, in the order the grid draws them.
fn chart_order(app: &App) -> Vec<String> {
    let store = &app.slot().expect("a run").run().store;
    app.groups().iter().map(|g| store.name(g.members[0]).to_owned()).collect()
}

#[test]
fn charts_are_ordered_main_loss_and_eval_first_counters_last() {
    // Hugging Face: `epoch` was the first chart; the loss (with eval_loss) comes first now.
    let hf = chart_order(&app_of(vec![load("ui/trainer_state.json")], Options::default()));
    assert_eq!(
        hf,
        [
            "loss",
            "grad_norm",
            "learning_rate",
            "eval_samples_per_second",
            "eval_steps_per_second",
            "epoch",
            "eval_runtime"
        ]
    );
    // detectron2: `data_time` and `eta_seconds` were first, `total_loss` last (sorted keys).
    let d2 = chart_order(&app_of(vec![load("ui/detectron2-metrics.json")], Options::default()));
    assert_eq!(d2[0], "total_loss", "{d2:?}");
    assert_eq!(&d2[1..6], ["bbox/AP", "bbox/AP50", "bbox/AP75", "bbox/APl", "bbox/APm"], "{d2:?}");
    assert_eq!(d2[7], "lr", "{d2:?}");
    assert_eq!(&d2[d2.len() - 3..], ["data_time", "eta_seconds", "time"], "{d2:?}");
    // DETR: the loss with the test loss, the task metrics (AP first), the learning rate.
    let detr = chart_order(&app_of(vec![load("ui/detr-log.txt")], Options::default()));
    assert_eq!(&detr[..3], ["train_loss", "train_class_error", "test_coco_eval_bbox/AP"], "{detr:?}");
    let lr = detr.iter().position(|n| n == "train_lr").unwrap();
    assert_eq!(lr, 2 + 12, "{detr:?}");
    // The grids drawn: the `*_grid_*` snapshots of these three fixtures.
}

#[test]
fn flags_are_listed_critical_then_warning_then_info_newest_first_within_each() {
    // Raised in this order: a NaN loss at step 5 (critical), then `g` and `h` whose first values
    // are infinite (info) at steps 10 and 15. Newest first alone put both infos above the NaN.
    let mut text = String::new();
    for s in 0..30 {
        let loss = if s == 5 { "NaN".to_owned() } else { format!("{}", 2.0 / (s + 1) as f64) };
        let mut line = format!("{{\"step\": {s}, \"loss\": {loss}, \"lr\": 0.001");
        if s >= 10 {
            line.push_str(if s == 10 { ", \"g\": Infinity" } else { ", \"g\": 1.0" });
        }
        if s >= 15 {
            line.push_str(if s == 15 { ", \"h\": -Infinity" } else { ", \"h\": 1.0" });
        }
        line.push_str("}\n");
        text.push_str(&line);
    }
    let app = app_of(vec![log_of(&text, Default::default())], Options::default());
    let listed: Vec<(String, String)> =
        app.flags_newest_first().map(|f| (f.severity.as_str().to_owned(), f.metric.clone())).collect();
    let want = [("critical", "loss"), ("info", "h"), ("info", "g")];
    assert_eq!(listed, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
    // And so on screen, top to bottom.
    let t = text_of(&app);
    let at = |needle: &str| t.find(needle).unwrap_or_else(|| panic!("{needle}:\n{t}"));
    assert!(at("critical ") < at("h became -Infinity") && at("h became") < at("g became Infinity"), "{t}");
}
