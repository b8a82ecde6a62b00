//! Timing of a heatmap frame (issue "Inside the network": a 48-layer family over 1M steps draws a
//! frame within 20 ms), with plain `std::time`: `cargo bench --bench heatmap` (1M steps), or
//! `cargo bench --bench heatmap -- 20000` for a quick run at a small size.
//!
//! A run of 48 series `grad_norm/layer0..47` (log-spaced levels, noise, a dead layer) is put in
//! the store, the monitor opens its heatmap on a 160x48 `TestBackend`, and the bench times what
//! the event loop does per frame (the reduction `App::warm_heatmap`, then `ui::render`):
//! - the first frame (the block summaries of every layer are built: paid once);
//! - a live frame: one new record arrived, so the memo is stale and the 48 layers are reduced
//!   again from their summaries (what a followed run costs per frame);
//! - a frame with nothing new (the memo).

use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::time::Instant;
use tmon::app::{App, Options, Pane};
use tmon::run::Run;
use tmon::store::RecordMeta;

const LAYERS: usize = 48;
const RUNS: usize = 15;

fn main() {
    let steps: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let mut run = Run::new("bench.jsonl", Default::default(), Default::default());
    let t = Instant::now();
    let ids: Vec<usize> = (0..LAYERS).map(|l| run.store.intern(&format!("grad_norm/layer{l}"))).collect();
    let mut s: u64 = 7;
    let mut push = |run: &mut Run, step: usize| {
        let r = run.store.begin_record(RecordMeta { step: step as f64, time: f64::NAN, line: step as u64 });
        for (l, &id) in ids.iter().enumerate() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let e = (s >> 11) as f64 / (1u64 << 53) as f64;
            let v = if l == 3 && step > steps / 2 { 0.0 } else { 10f64.powf(-(l as f64) / 8.0) * (0.5 + e) };
            run.store.push(r, id, v);
        }
    };
    for step in 0..steps {
        push(&mut run, step);
    }
    println!(
        "{LAYERS} layers x {steps} steps ({} points) stored in {:.0} ms",
        LAYERS * steps,
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut app = App::from_runs(vec![run], Options::default());
    assert_eq!(app.families().len(), 1, "one family");
    app.view.pane = Pane::Heatmap;
    app.view.heat_family = 0;
    let area = Rect::new(0, 0, 160, 48);
    let mut term = Terminal::new(TestBackend::new(area.width, area.height)).unwrap();
    let mut frame = |app: &App| {
        let t = Instant::now();
        if let Some(w) = tmon::ui::heatmap_width(app, area) {
            app.warm_heatmap(w);
        }
        term.draw(|f| tmon::ui::render(f, app)).unwrap();
        t.elapsed().as_secs_f64() * 1e3
    };
    println!("first frame (block summaries built)                  {:>8.2} ms", frame(&app));
    let mut live: Vec<f64> = (0..RUNS)
        .map(|i| {
            push(&mut app.slots[0].live.run, steps + i);
            frame(&app)
        })
        .collect();
    let mut idle: Vec<f64> = (0..RUNS).map(|_| frame(&app)).collect();
    live.sort_by(f64::total_cmp);
    idle.sort_by(f64::total_cmp);
    println!(
        "live frame: a record arrived, 48 layers reduced again best {:>8.2} ms   median {:>8.2} ms",
        live[0],
        live[RUNS / 2]
    );
    println!(
        "frame with nothing new (memo)                        best {:>8.2} ms   median {:>8.2} ms",
        idle[0],
        idle[RUNS / 2]
    );
}
