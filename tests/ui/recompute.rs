//! A view change computed away from the loop (issue 14, "Big logs stay responsive"): the frame
//! drawn while the worker builds the new columns keeps the last charts with a "computing…" mark,
//! and the result, when it is the newest request's, completes the view; a stale one is dropped.
//! The app reads a fixture log through the real ingest and analyzer; the frames are planned as
//! the monitor's loop plans them (`App::plan_columns`), the worker's job run here.

use crate::support::ui::*;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use tmon::app::App;
use tmon::chart::ColumnsJob;
use tmon::event::Event;

/// One frame as the loop draws it: the columns planned (inline, or a job for the worker), then
/// the screen.
fn frame(app: &mut App, w: u16, h: u16) -> (Terminal<TestBackend>, Option<(u64, ColumnsJob)>) {
    app.cache.borrow_mut().begin_frame();
    let job = app.plan_columns(&tmon::ui::charted_groups(app, Rect::new(0, 0, w, h)));
    let term = draw(app, w, h);
    app.cache.borrow_mut().end_frame();
    (term, job)
}

/// The train fixture, drawn once at 100x30, with every view change from then on sent to the
/// worker (the fixture is small: the threshold is lowered to its size).
fn app_off_loop() -> App {
    let mut app = train_app();
    app.update(Event::Resize(100, 30));
    let (_, job) = frame(&mut app, 100, 30);
    assert!(job.is_none(), "the first frame of a small run is built inline");
    app.recompute.threshold = 1;
    app
}

#[test]
fn a_smoother_change_shows_the_last_charts_marked_computing_until_its_result() {
    let mut app = app_off_loop();
    let before = text(&frame(&mut app, 100, 30).0);
    assert!(!before.contains("computing"), "{before}");
    app.update(key('m'));
    let (term, job) = frame(&mut app, 100, 30);
    let (seq, job) = job.expect("the new smoother's columns go to the worker");
    let waiting = text(&term);
    insta::assert_snapshot!("computing_100x30", waiting);
    // The charts are the last ones drawn, each marked.
    let charts = waiting.matches("computing…").count();
    assert!(charts >= 2, "every chart on screen waits: {charts} marks\n{waiting}");
    assert!(app.computing(&app.selected_group().expect("a chart").members));
    // Another frame before the result (a key, the clock) does not ask again.
    app.update(key('j'));
    assert!(frame(&mut app, 100, 30).1.is_none(), "the same view is asked for once");
    // The result completes the view: no mark, nothing pending, nothing more to build.
    let prepared = job.run(|| false).expect("not cancelled");
    assert!(app.update(Event::Prepared { seq, columns: Box::new(prepared) }));
    assert!(app.recompute.pending().is_none());
    let (term, job) = frame(&mut app, 100, 30);
    assert!(job.is_none());
    let done = text(&term);
    assert!(!done.contains("computing"), "{done}");
    assert_ne!(done, before, "the new smoother is drawn");
    // Exactly the screen the loop drew when it built the columns itself.
    let mut inline = train_app();
    inline.update(Event::Resize(100, 30));
    frame(&mut inline, 100, 30);
    inline.update(key('m'));
    inline.update(key('j'));
    assert!(frame(&mut inline, 100, 30).1.is_none());
    assert_eq!(text(&frame(&mut inline, 100, 30).0), done);
}

#[test]
fn only_the_newest_requests_result_is_installed() {
    let mut app = app_off_loop();
    app.update(key('m'));
    let (_, first) = frame(&mut app, 100, 30);
    let (old_seq, old_job) = first.expect("a job");
    // The user presses `m` again before the first result is in: a new request.
    app.update(key('m'));
    let (_, second) = frame(&mut app, 100, 30);
    let (seq, job) = second.expect("a second job");
    assert!(seq > old_seq);
    assert_ne!(app.recompute.latest(), old_seq, "the worker stops a job whose number is not the newest");
    // A stale result arriving late is dropped; the view still waits for the newest.
    let stale = old_job.run(|| false).expect("built");
    assert!(!app.update(Event::Prepared { seq: old_seq, columns: Box::new(stale) }));
    assert!(app.recompute.pending().is_some());
    let prepared = job.run(|| false).expect("the newest runs");
    assert!(app.update(Event::Prepared { seq, columns: Box::new(prepared) }));
    assert!(app.recompute.pending().is_none());
    assert!(frame(&mut app, 100, 30).1.is_none());
}

#[test]
fn going_back_to_a_view_whose_columns_are_held_cancels_the_request() {
    let mut app = app_off_loop();
    // `s` then `S`: the EMA back at its weight before any frame drew the stronger one.
    app.update(key('s'));
    app.update(key('S'));
    assert!(frame(&mut app, 100, 30).1.is_none(), "nothing to build: the columns are held");
    app.update(key('m'));
    let (_, job) = frame(&mut app, 100, 30);
    let (seq, _) = job.expect("another smoother is built by the worker");
    // Back to the EMA (m through the other smoothers) before the result: the EMA's columns were
    // kept while the charts showed their last frame, so the request is cancelled, its result stale.
    for _ in 0..3 {
        app.update(key('m'));
    }
    let (term, job) = frame(&mut app, 100, 30);
    assert!(job.is_none() && app.recompute.pending().is_none());
    assert!(!text(&term).contains("computing"));
    assert!(app.recompute.latest() > seq);
}
