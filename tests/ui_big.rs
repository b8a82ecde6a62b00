//! A series of a million points: the chart gets a per-column reduction (never the points), a
//! spike survives it, and a redraw with nothing new is served from the cache.

mod ui_common;

use std::time::Instant;
use tmon::app::{App, Options};
use tmon::run::Run;
use tmon::store::RecordMeta;

fn big_app(n: usize) -> App {
    let mut run = Run::new("big.jsonl", Default::default(), Default::default());
    let st = &mut run.store;
    let loss = st.intern("loss");
    for i in 0..n {
        let r = st.begin_record(RecordMeta { step: i as f64, time: i as f64, line: i as u64 + 1 });
        let y = if i == 654_321 { 1e4 } else { 1.0 + (i % 100) as f64 * 1e-3 };
        st.push(r, loss, y);
    }
    App::from_runs(vec![run], Options::default())
}

#[test]
fn a_million_points_are_reduced_per_column_and_spikes_survive() {
    let mut app = big_app(1_000_000);
    app.view.outliers = false; // so the spike is inside the y range, not clipped to the edge
    let members = app.groups()[0].members.clone();
    let t = Instant::now();
    let data = tmon::app::plot::chart_data(&app, &members, 100, 20).expect("data");
    let first = t.elapsed();
    assert!(data.points <= 4 * 2 * 100 + 10, "{} points handed to ratatui", data.points);
    assert!(data.raw[0].iter().any(|p| p.1 == 1e4), "the spike vanished");
    let t = Instant::now();
    let again = tmon::app::plot::chart_data(&app, &members, 100, 20).expect("data");
    let cached = t.elapsed();
    assert!(std::rc::Rc::ptr_eq(&data, &again), "an unchanged chart is recomputed");
    eprintln!("1M points, smoothed: first {first:?}, cached {cached:?}");
    for run in 0..3 {
        app.view.weight_idx = run % 2; // raw only / a different weight: a new cache key each time
        app.view.log_y = run == 2;
        let t = Instant::now();
        tmon::app::plot::chart_data(&app, &members, 100, 20).expect("data");
        eprintln!("1M points, weight {}: {:?}", app.view.weight(), t.elapsed());
    }
    app.view.weight_idx = 2;
    app.view.log_y = false;
    // With outlier scaling the spike is clipped to the top edge, not dropped.
    app.view.outliers = true;
    let data = tmon::app::plot::chart_data(&app, &members, 100, 20).expect("data");
    assert!(data.clipped);
    assert!(data.raw[0].iter().any(|p| p.1 == data.y_bounds[1]));
}

#[test]
fn an_expensive_chart_is_not_recomputed_on_every_new_line() {
    let mut app = big_app(1_000_000);
    let members = app.groups()[0].members.clone();
    app.cache.borrow_mut().begin_frame();
    let data = tmon::app::plot::chart_data(&app, &members, 100, 20).expect("data");
    let st = &mut app.slots[0].run.store;
    let r = st.begin_record(RecordMeta { step: 1e6, time: 1e6, line: 1_000_001 });
    st.push(r, members[0], 2.0);
    let again = tmon::app::plot::chart_data(&app, &members, 100, 20).expect("data");
    assert!(std::rc::Rc::ptr_eq(&data, &again), "recomputed a 1M-point chart right after computing it");
    assert!(app.cache.borrow().served_stale(), "the loop must be told to draw again");
}
