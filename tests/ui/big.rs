//! A series of a million points: the chart gets a per-column reduction (never the points), a
//! spike survives it, a redraw with nothing new is served from the cache, and new points extend
//! the app's columns and smoothed values instead of recomputing them.
//!
//! Timings: `cargo test --release --test ui big:: -- --nocapture --test-threads 1`.

use std::time::{Duration, Instant};
use tmon::analysis::smooth::Smoother;
use tmon::app::{App, Options};
use tmon::run::Run;
use tmon::store::{RecordMeta, SeriesId};

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

fn append(app: &mut App, id: SeriesId, y: f64) {
    let st = &mut app.slots[0].live.run.store;
    let step = st.last_record().map_or(0.0, |m| m.step + 1.0);
    let r = st.begin_record(RecordMeta { step, time: step, line: step as u64 + 1 });
    st.push(r, id, y);
}

/// The median time of `n` frames that each follow one appended point (the live case), and how
/// many of them were served stale (throttled).
fn live_frame(app: &mut App, members: &[SeriesId], n: usize) -> (Duration, usize) {
    let mut stale = 0;
    let mut times: Vec<Duration> = (0..n)
        .map(|i| {
            append(app, members[0], 1.0 + i as f64 * 1e-3);
            app.cache.borrow_mut().begin_frame();
            let t = Instant::now();
            let data = app.chart_data(members, 200).expect("data");
            let took = t.elapsed();
            let last = app.slots[0].live.run.store.last_record().expect("records").step;
            // An expensive chart (a debug build) may be served stale for a while: the loop is told.
            if app.cache.borrow().served_stale() {
                stale += 1;
            } else {
                // Following, the window ends on a round step at or a little past the newest point.
                let [lo, hi] = data.x_bounds;
                assert!(
                    lo <= last && last <= hi && hi - last <= (hi - lo) / 16.0,
                    "the newest point is not on the chart: {lo}..{hi}, {last}"
                );
            }
            took
        })
        .collect();
    times.sort();
    eprintln!("  frames: fastest {:?}, slowest {:?}", times[0], times[n - 1]);
    (times[n / 2], stale)
}

#[test]
fn a_million_points_are_reduced_per_column_and_spikes_survive() {
    let mut app = big_app(1_000_000);
    app.view.outliers = false; // so the spike is inside the y range, not clipped to the edge
    let members = app.groups()[0].members.clone();
    let t = Instant::now();
    let data = app.chart_data(&members, 200).expect("data");
    let first = t.elapsed();
    assert!(data.points <= 4 * 2 * 100 + 10, "{} points handed to ratatui", data.points);
    assert!(data.raw[0].iter().any(|p| p.1 == 1e4), "the spike vanished");
    assert!(data.smooth[0].iter().any(|p| p.1 > 10.0), "the smoothed spike vanished");
    let t = Instant::now();
    let again = app.chart_data(&members, 200).expect("data");
    let cached = t.elapsed();
    assert!(std::rc::Rc::ptr_eq(&data, &again), "an unchanged chart is recomputed");
    eprintln!("1M points, EMA 0.6, cold (columns built, smoothed): {first:?}; unchanged: {cached:?}");
    let views: [(&str, Smoother, bool); 3] = [
        ("raw only", Smoother::Ema { weight: 0.0 }, false),
        ("EMA 0.3 (smoothed again)", Smoother::Ema { weight: 0.3 }, false),
        ("EMA 0.3, log y", Smoother::Ema { weight: 0.3 }, true),
    ];
    for (what, sm, log) in views {
        (app.view.smoothing, app.view.log_y) = (sm, log);
        let t = Instant::now();
        let data = app.chart_data(&members, 200).expect("data");
        eprintln!("1M points, {what}: {:?}", t.elapsed());
        assert!(data.raw[0].iter().any(|p| p.1 == if log { 4.0 } else { 1e4 }), "{what}: spike vanished");
    }
    assert_eq!(app.cache.borrow().column_rebuilds(), 1, "the columns were copied out again");
    app.view.smoothing = Smoother::default();
    app.view.log_y = false;
    // With outlier scaling the spike is clipped to the top edge, not dropped.
    app.view.outliers = true;
    let data = app.chart_data(&members, 200).expect("data");
    assert!(data.clipped);
    assert!(data.raw[0].iter().any(|p| p.1 == data.y_bounds[1]));
}

#[test]
fn new_points_extend_the_columns_and_the_smoothing() {
    let mut app = big_app(1_000_000);
    let members = app.groups()[0].members.clone();
    app.chart_data(&members, 200).expect("data");
    let smooths = app.cache.borrow().full_smooths();
    let whole = live_frame(&mut app, &members, 21);
    app.view.outliers = false;
    app.chart_data(&members, 200).expect("data");
    let no_outliers = live_frame(&mut app, &members, 21);
    app.view.outliers = true;
    app.view.zoom = Some(1000.0);
    app.chart_data(&members, 200).expect("data");
    let zoomed = live_frame(&mut app, &members, 21);
    let cache = app.cache.borrow();
    assert_eq!(cache.column_rebuilds(), 1, "an append rebuilt the columns");
    assert_eq!(cache.full_smooths(), smooths, "an append smoothed the whole series again");
    eprintln!(
        "1M points + 1 appended, EMA 0.6, following (median, frames served stale): whole run {:?} ({}), \
         whole run without outlier scaling {:?} ({}), last 1000 steps {:?} ({})",
        whole.0, whole.1, no_outliers.0, no_outliers.1, zoomed.0, zoomed.1
    );
}
