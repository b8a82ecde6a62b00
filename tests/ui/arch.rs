//! The architecture pane, drawn from logs read by the real ingest: a printed SmallCNN with
//! per-layer series (tests/fixtures/model/cnn-train.log), and the training harness's model
//! record. Snapshots at 80x24 and 160x48, the keys on the pane, the colours and the flag mark.

use crate::support::ui::*;
use crossterm::event::KeyCode;
use tmon::app::{App, Options, Pane};

fn cnn_app() -> App {
    app_of(vec![load("model/cnn-train.log")], Options::default())
}

fn to_arch(app: &mut App) {
    // Its per-layer series also make a heatmap: `i` goes through it to the architecture.
    let panes = app.panes();
    assert_eq!(panes.first(), Some(&Pane::Charts));
    assert_eq!(panes.last(), Some(&Pane::Architecture));
    for _ in 1..panes.len() {
        app.update(key('i'));
    }
    assert_eq!(app.view.pane, Pane::Architecture);
}

fn snap(name: &str, app: &App, w: u16, h: u16) {
    let term = draw(app, w, h);
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), term.backend());
}

#[test]
fn a_printed_cnn_as_blocks() {
    let mut app = cnn_app();
    to_arch(&mut app);
    snap("arch_cnn", &app, 80, 24);
    // Both Sequentials opened: every layer, coloured by its gradient norm at the newest step.
    app.update(code(KeyCode::Down));
    app.update(code(KeyCode::Enter));
    app.update(code(KeyCode::Down));
    snap("arch_cnn_open", &app, 160, 48);
    println!("{}", text(&draw(&app, 160, 48)));
}

/// The harness writes its module tree: the pane shows its layers, coloured by their gradient
/// norms, and marks the layer whose gradient a flag names.
#[test]
fn the_harness_model_record_ties_layers_to_their_flags() {
    use tmon::harness::{generate, Scenario};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("diverging.jsonl");
    std::fs::write(&path, generate(Scenario::Diverging, 1, 500).join("\n") + "\n").unwrap();
    let run = tmon::run::Run::load_file(&path, Default::default(), Default::default()).unwrap();
    let flagged: Vec<String> =
        run.flags().iter().map(|f| f.metric.clone()).filter(|m| m.starts_with("grad_norm/layer")).collect();
    assert!(!flagged.is_empty(), "the scenario flags a layer's gradient");
    let mut app = app_of(vec![run], Options::default());
    to_arch(&mut app);
    let screen = text(&draw(&app, 160, 48));
    let row = |name: &str| {
        screen.lines().find(|l| l.contains(&format!("{name}: Linear("))).unwrap_or("").to_string()
    };
    for f in &flagged {
        let layer = f.trim_start_matches("grad_norm/");
        assert!(row(layer).contains('⚑'), "{layer} not marked:\n{screen}");
    }
    assert!(screen.contains("grad_norm at step"), "{screen}");
    // `[` moves the step back from the newest record; `f` follows again.
    app.update(key('{'));
    let back = text(&draw(&app, 160, 48));
    assert!(!back.contains("grad_norm at step 500"), "{back}");
    app.update(key('f'));
    assert!(text(&draw(&app, 160, 48)).contains("grad_norm at step 500"));
}

#[test]
fn keys_on_the_pane_open_blocks_and_pick_the_metric() {
    let mut app = cnn_app();
    to_arch(&mut app);
    let screen = |app: &App| text(&draw(app, 160, 48));
    assert!(screen(&app).contains("grad_norm at step 100"));
    app.update(key('c'));
    assert!(screen(&app).contains("dead_frac at step 100"), "{}", screen(&app));
    app.update(key('c'));
    assert!(screen(&app).contains("grad_norm at step 100"));
    // Enter on the root closes it; again opens it.
    app.update(code(KeyCode::Enter));
    assert!(!screen(&app).contains("features: Sequential"));
    app.update(code(KeyCode::Enter));
    assert!(screen(&app).contains("features: Sequential"));
    // Without colour the shades still tell the values apart.
    app.color = false;
    app.update(code(KeyCode::Down));
    app.update(code(KeyCode::Enter));
    let s = screen(&app);
    let row = s.lines().find(|l| l.contains("4: Conv2d(32→64, 3×3)")).unwrap();
    assert!(row.contains('░') && row.contains("0.458"), "{row}");
}

/// A log whose names carry escape sequences draws none of them.
#[test]
fn names_from_the_log_are_sanitised() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.log");
    let text = "\u{1b}]0;title\u{7} Evil(\n  (fc\u{1b}]0;x\u{7}): Linear(in_features=2, out_features=2, bias=True)\n)\n{\"step\": 1, \"loss\": 1}\n";
    std::fs::write(&path, text).unwrap();
    let run = tmon::run::Run::load_file(&path, Default::default(), Default::default()).unwrap();
    let mut app = app_of(vec![run], Options::default());
    to_arch(&mut app);
    let term = draw(&app, 80, 24);
    let buf = term.backend().buffer();
    for cell in buf.content() {
        assert!(!cell.symbol().chars().any(|c| c.is_control()), "a control character reached the screen");
    }
    let screen = text_of_screen(&term);
    assert!(screen.contains(r"fc\x1b]0;x\x07: Linea"), "{screen}");
}

fn text_of_screen(t: &ratatui::Terminal<ratatui::backend::TestBackend>) -> String {
    text(t)
}

/// A model printed after more skipped lines than the store keeps the text of (a progress bar's
/// 1,500 lines first): the pane still has it, read by the real ingest.
#[test]
fn a_model_printed_after_a_long_progress_bar_is_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.log");
    let cnn = std::fs::read_to_string(crate::support::fixture("model/cnn-train.log")).unwrap();
    let mut log: String =
        (0..1500).map(|i| format!("epoch 0: {:3}%|{:<10}| {i}/1500\n", i / 15, "#")).collect();
    log.push_str(&cnn);
    std::fs::write(&path, log).unwrap();
    let run = tmon::run::Run::load_file(&path, Default::default(), Default::default()).unwrap();
    let mut app = app_of(vec![run], Options::default());
    to_arch(&mut app);
    let model = app.model().expect("the model");
    assert_eq!(model.root.kind, "SmallCNN");
    let screen = text(&draw(&app, 80, 24));
    assert!(screen.contains("SmallCNN") && screen.contains("421"), "{screen}");
}

/// The monitor's loader reads the stdout log beside a JSON Lines file without a model
/// (tests/fixtures/model/beside): the opener's report carries its model, and the pane draws it.
#[test]
fn the_model_from_the_stdout_log_beside_the_jsonl() {
    use tmon::event::Event;
    let run = load("model/beside/metrics.jsonl");
    let path = crate::support::fixture("model/beside/metrics.jsonl");
    let mut app = app_of(vec![run], Options::default());
    assert!(app.model().is_none(), "no model in the JSON Lines file itself");
    // What the loader's opener reports (read on its thread): the run's path, its model beside.
    let model_beside = tmon::model::beside::read(&path).map(Box::new);
    assert!(model_beside.is_some());
    let info = tmon::event::Opened {
        path: app.slot().unwrap().run().path.clone(),
        size: 0,
        end: 0,
        idle: None,
        preview: None,
        config: Default::default(),
        model_beside,
    };
    app.update(Event::Opened { file: 0, info: Box::new(info) });
    to_arch(&mut app);
    assert_eq!(app.model().expect("the model").root.kind, "SmallCNN");
    let screen = text(&draw(&app, 80, 24));
    assert!(screen.contains("SmallCNN"), "{screen}");
}
