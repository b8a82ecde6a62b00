//! Timing of a heatmap frame (issue "Inside the network": a 48-layer family over 1M steps draws a
//! frame within 20 ms), with plain `std::time`: `cargo bench --bench heatmap` (1M steps), or
//! `cargo bench --bench heatmap -- 20000` for a quick run at a small size.
//!
//! A run of 48 series `grad_norm/layer0..47` (log-spaced levels, noise, a dead layer) is put in
//! the store, the monitor opens its heatmap on a 160x48 `TestBackend`, and the bench times what
//! the event loop does per frame (the reduction `App::warm_heatmap`, then `ui::render`):
//! - the first build in one frame (every layer's block summaries, spread over the cores): what the
//!   loop would be blocked for if the build were not sliced;
//! - the first build as the monitor does it, a slice a frame (`tmon::chart::heat::SLICE_POINTS`
//!   per core): its first frame, its slowest frame (the longest the loop keeps a key waiting),
//!   the number of frames and their total;
//! - a live frame: one new record arrived, so the memo is stale and the 48 layers are reduced
//!   again from their summaries (what a followed run costs per frame);
//! - a frame with nothing new (the memo).
//!
//! Run it under `taskset -c 0` too: one core, as the build was before it was spread (the cores are
//! counted with `available_parallelism`, which follows the affinity mask).

use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::time::Instant;
use tmon::app::{App, Options, Pane};
use tmon::chart::heat::HeatCache;
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
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("cores: {cores}");
    // The whole build in one frame.
    app.cache.borrow_mut().heat = HeatCache::with_slice(usize::MAX);
    let whole = frame(&app);
    println!("first build in one frame (blocks the loop)           {whole:>8.2} ms");
    // As the monitor builds it: a slice a frame.
    app.cache.borrow_mut().heat = HeatCache::default();
    let mut slices: Vec<f64> = Vec::new();
    loop {
        app.cache.borrow_mut().begin_frame();
        slices.push(frame(&app));
        if !app.cache.borrow().heat.building() || slices.len() > 10_000 {
            break;
        }
    }
    println!(
        "first build a slice a frame: first {:>8.2} ms   slowest {:>8.2} ms   {} frames, {:.1} ms in all",
        slices[0],
        slices.iter().copied().fold(0.0, f64::max),
        slices.len(),
        slices.iter().sum::<f64>()
    );
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
