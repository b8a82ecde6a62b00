//! A live sweep's overlaid charts, drawn from what the chart cache keeps (reductions resumed, each
//! line's drawn points kept and only its last columns drawn again), are the frames drawn from
//! scratch from the same data: runs read through the real ingest from JSON Lines, grown by
//! appends of every size (a step, a summary block, a few columns) to some runs at a time, one of
//! them diverging to NaN, with eval lines (a series with gaps), in the grid and the single chart,
//! with the EMA and a centred smoother, with and without raw lines.

use crate::support::ui::*;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tmon::app::App;
use tmon::event::Event;
use tmon::run::Run;

/// Lines `from..to` of run `k`'s log: a decaying, noisy loss (run 3 goes to NaN from step 2,300),
/// a learning rate, a gradient norm, the time, and an eval line every 100 steps.
fn lines(k: usize, from: usize, to: usize) -> String {
    let mut out = String::new();
    for s in from..to {
        let mut h = (s as u64 * 31 + k as u64 * 7919).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^= h >> 29;
        let noise = (h % 1000) as f64 / 1000.0 - 0.5;
        let rate = 1.0 + k as f64 * 0.7;
        let loss = 0.3 + 2.0 * (-rate * s as f64 / 3000.0).exp() + 0.05 * noise;
        let loss = if k == 3 && s >= 2300 { "NaN".to_owned() } else { format!("{loss:.4}") };
        out.push_str(&format!(
            "{{\"step\":{s},\"loss\":{loss},\"lr\":{:.4e},\"grad_norm\":{:.4},\"time\":{:.1}}}\n",
            1e-3 * (1.0 - s as f64 / 4000.0),
            1.0 + 0.3 * noise.abs(),
            1_767_225_600.0 + k as f64 * 3.0 + s as f64 * 0.25,
        ));
        if s % 100 == 99 {
            out.push_str(&format!("{{\"step\":{s},\"val_loss\":{:.4}}}\n", 0.4 + 1.0 / (1.0 + s as f64)));
        }
    }
    out
}

/// `runs` runs of `steps` steps each, read as the monitor reads them (compact columns, values at
/// display precision).
fn sweep(runs: usize, steps: usize) -> Vec<Run> {
    (0..runs)
        .map(|k| {
            let opts = tmon::ingest::IngestOptions { compact: true, ..Default::default() };
            let mut run = Run::new(format!("sweep/run_{k}/logs.jsonl"), opts, Default::default());
            run.store.keep_display_precision();
            run.push_lines(1, lines(k, 0, steps).as_bytes());
            run
        })
        .collect()
}

/// Every chart's overlay, 100 points across: its bounds and each run's lines, point for point.
type Lines = Vec<([f64; 2], [f64; 2], Vec<tmon::chart::LayerData>)>;

/// One frame as the monitor's loop draws it (warm, draw, end of frame), and every chart's overlay
/// at 100 points across (kept from frame to frame as the drawn ones are).
fn frame(app: &App, w: u16, h: u16) -> (Terminal<TestBackend>, Lines) {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    let area = ratatui::layout::Rect::new(0, 0, w, h);
    app.cache.borrow_mut().begin_frame();
    app.warm_groups(&tmon::ui::charted_groups(app, area));
    term.draw(|f| tmon::ui::render(f, app)).expect("draw");
    let lines = app
        .groups()
        .iter()
        .filter_map(|g| app.overlay_data(g, 100))
        .map(|(_, d)| (d.x_bounds, d.y_bounds, d.layers.clone()))
        .collect();
    app.cache.borrow_mut().end_frame();
    (term, lines)
}

/// Grows both apps' runs the same way, step by step, and checks after each step that `kept`
/// (which draws every frame from what it keeps) draws what `fresh` draws from scratch.
fn grow_and_compare(kept: &mut App, fresh: &mut App, steps: usize, what: &str) {
    let sizes = [1, 1, 2, 5, 1, 64, 1, 130, 3, 1, 300, 1, 1];
    let mut have = vec![steps; kept.slots.len()];
    for (j, &size) in sizes.iter().enumerate() {
        for (k, n) in have.iter_mut().enumerate() {
            // Some runs get nothing: their reductions are reused as they are.
            if (j + k) % 3 == 0 {
                continue;
            }
            let text = lines(k, *n, *n + size);
            for app in [&mut *kept, &mut *fresh] {
                app.slots[k].live.run.push_lines(*n as u64 + 1, text.as_bytes());
            }
            *n += size;
        }
        for app in [&mut *kept, &mut *fresh] {
            app.update(Event::Tick);
        }
        for (w, h) in [(160, 48), (80, 24)] {
            let (mut got, mut got_lines) = frame(kept, w, h);
            // An expensive overlay (a centred smoother computed afresh) is served from its last
            // frame for a moment while data streams in, and the loop draws again soon: as it does.
            let t = std::time::Instant::now();
            while kept.cache.borrow().served_stale() && t.elapsed() < std::time::Duration::from_secs(20) {
                std::thread::sleep(std::time::Duration::from_millis(20));
                (got, got_lines) = frame(kept, w, h);
            }
            fresh.cache.borrow_mut().forget_kept();
            let (want, want_lines) = frame(fresh, w, h);
            assert!(got_lines == want_lines, "{what}, step {j} (+{size}): the overlays' lines differ");
            assert_eq!(
                got.backend().buffer(),
                want.backend().buffer(),
                "{what}, step {j} (+{size}), {w}x{h}:\nkept:\n{}\nfrom scratch:\n{}",
                text(&got),
                text(&want)
            );
        }
    }
}

/// Two identical apps over `runs` runs of 2,000 steps, both drawn once.
fn apps(runs: usize) -> (App, App) {
    let (kept, fresh) =
        (app_of(sweep(runs, 2000), Default::default()), app_of(sweep(runs, 2000), Default::default()));
    for app in [&kept, &fresh] {
        frame(app, 160, 48);
        frame(app, 80, 24);
    }
    (kept, fresh)
}

#[test]
fn a_live_overlay_drawn_from_what_is_kept_is_the_one_drawn_from_scratch() {
    let (mut kept, mut fresh) = apps(6);
    assert!(kept.comparing() && !kept.raw_shown());
    grow_and_compare(&mut kept, &mut fresh, 2000, "grid, EMA");
    // The single chart, then a centred smoother (its tail changes with each append).
    for app in [&mut kept, &mut fresh] {
        app.update(code(crossterm::event::KeyCode::Enter));
    }
    grow_and_compare(&mut kept, &mut fresh, 2000 + 510, "single chart, EMA");
    for app in [&mut kept, &mut fresh] {
        app.update(code(crossterm::event::KeyCode::Esc));
        app.update(key('m'));
        app.update(key('m'));
    }
    grow_and_compare(&mut kept, &mut fresh, 2000 + 2 * 510, "grid, another smoother");
}

#[test]
fn a_live_overlay_with_raw_lines_drawn_from_what_is_kept_is_the_one_drawn_from_scratch() {
    // Three runs: each run's raw values are drawn under its smoothed line.
    let (mut kept, mut fresh) = apps(3);
    assert!(kept.comparing() && kept.raw_shown());
    grow_and_compare(&mut kept, &mut fresh, 2000, "raw lines, grid");
}
