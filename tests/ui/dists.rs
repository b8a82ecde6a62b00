//! The distributions pane, drawn from tests/fixtures/ui/dists.jsonl read by the real ingest and
//! analyzer (`make_dists.py` there): histograms in the natural, TensorBoard and W&B forms, a layer
//! that dies at step 300 (flagged, marked in the list), a malformed histogram and a key with a
//! terminal escape. Snapshots at 80x24 and 160x48, the cursor moving through the steps, and the
//! pane read without colour and in ASCII.

use crate::support::ui::*;
use crossterm::event::KeyCode;
use tmon::app::{App, Options, Pane};

fn snap(name: &str, app: &App, w: u16, h: u16) {
    let term = draw(app, w, h);
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), term.backend());
}

fn dists_app(opts: Options) -> App {
    let mut app = app_of(vec![load("ui/dists.jsonl")], opts);
    app.update(key('i'));
    assert_eq!(app.view.pane, Pane::Distributions, "i opens the distributions of a run with histograms");
    app
}

#[test]
fn a_run_with_histograms_has_the_pane_and_one_without_has_not() {
    assert_eq!(dists_app(Options::default()).panes(), [Pane::Charts, Pane::Distributions]);
    assert_eq!(train_app().panes(), [Pane::Charts]);
    let mut app = dists_app(Options::default());
    app.update(key('i'));
    assert_eq!(app.view.pane, Pane::Charts, "i cycles back to the charts");
}

#[test]
fn distributions_snapshots() {
    let app = dists_app(Options::default());
    snap("dists", &app, 80, 24);
    snap("dists", &app, 160, 48);
    let t = text(&draw(&app, 160, 48));
    assert!(t.contains("hist/fc1.weight") && t.contains("grad/fc1.weight") && t.contains("act/relu1"), "{t}");
    assert!(!t.contains('\u{1b}'), "an escape from the log reached the screen");
    // The percentile bands and the bars are drawn.
    assert!(t.contains('█') && t.contains('░') && t.contains('━'), "{t}");
}

#[test]
fn the_cursor_walks_the_steps_and_the_list_chooses_the_histogram() {
    let mut app = dists_app(Options::default());
    let head = |app: &App| {
        let t = text(&draw(app, 160, 48));
        t.lines().find(|l| l.contains(": step ")).map(|l| l.trim().to_owned()).unwrap_or_default()
    };
    assert!(head(&app).contains("newest: step 490"), "{}", head(&app));
    app.update(key('['));
    assert!(head(&app).contains("cursor: step 480"), "{}", head(&app));
    app.update(key('{'));
    assert!(head(&app).contains("cursor: step 440"), "{}", head(&app));
    for _ in 0..100 {
        app.update(key('['));
    }
    assert!(head(&app).contains("cursor: step 0"), "{}", head(&app));
    snap("dists_cursor", &app, 160, 48);
    app.update(code(KeyCode::Esc));
    assert!(head(&app).contains("newest: step 490"));
    // Down to act/relu1, the dead layer: its newest histogram is one bin at zero.
    app.update(code(KeyCode::Down));
    app.update(code(KeyCode::Down));
    assert_eq!(app.dist_histogram().unwrap().name(), "act/relu1");
    let t = text(&draw(&app, 160, 48));
    assert!(t.contains("distributions: act/relu1") && t.contains("256 values in [0, 0]"), "{t}");
    snap("dists_dead", &app, 80, 24);
}

#[test]
fn no_colour_and_ascii_still_read() {
    let mut app = dists_app(Options { ascii: true, ..Default::default() });
    app.color = false;
    let t = text(&draw(&app, 80, 24));
    // Borders stay box-drawing lines, as on every screen; the bands, the median and the bars are
    // ASCII.
    assert!(!t.chars().any(|c| "░▒▓█━▁▂▃▄▅▆▇".contains(c)), "block characters in --ascii:\n{t}");
    assert!(t.contains('#') && t.contains('='), "{t}");
    let term = draw(&app, 80, 24);
    let buf = term.backend().buffer();
    assert!(buf.content().iter().all(|c| c.fg == ratatui::style::Color::Reset), "a colour without colour");
    snap("dists_ascii", &app, 80, 24);
}
