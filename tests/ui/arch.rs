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
    assert_eq!(app.panes(), [Pane::Charts, Pane::Architecture]);
    app.update(key('i'));
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
