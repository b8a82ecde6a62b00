//! Timing of the monitor comparing a sweep (issue 11, "Scale"): a grid of 12 charts, each
//! overlaying every run of the sweep, drawn at 160x48 on ratatui's `TestBackend` (everything a
//! frame costs but the terminal's own I/O): `cargo bench --bench overlay`.
//!
//! The sweep is generated in memory in benches/monitor/sweep_gen.py's format (twelve metrics a line) and
//! read by the real ingest and analyzer, as the monitor reads it (values at display precision).
//! Figures: the first frame (every chart's columns built, on all cores), a redraw with nothing new
//! (a key that changes nothing drawn, a resize), a frame after every run got one more step (a live
//! sweep, and the clock's tick that follows: the flags across runs computed again on the loop's
//! thread), and a frame after a view change (the smoothing: every run smoothed again). Best and
//! median of several frames, in milliseconds of wall time and of the process's CPU time (steadier
//! on a shared machine); peak memory from /proc.
//!
//! `SWEEP_RUNS` (200) and `SWEEP_STEPS` (50,000) set the size; `QUICK=1` is 20 x 5,000;
//! `LIVE_FRAMES` (10) the frames after a step, `REDRAW_FRAMES` (10) the redraws and `VIEW_FRAMES`
//! (3) the frames after a smoothing change (more of some and none of the others for a profile).
//! `AB=1` draws every other redraw and live frame through ratatui's `Chart` instead of our
//! rasteriser (the same buffer) and reports the two apart.

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::Instant;
use tmon::app::App;
use tmon::event::Event;
use tmon::run::Run;

/// One line of run `k` at step `s`, as benches/monitor/sweep_gen.py writes them (a 64-bit LCG for noise).
fn line(k: usize, s: usize, steps: usize, rng: &mut u64) -> String {
    *rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let noise = ((*rng >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 3.0;
    let p = s as f64 / steps as f64;
    let lr = [1e-4, 3e-4, 1e-3, 3e-3][k % 4] * (1.0 + (k / 4 % 5) as f64 * 0.1);
    let rate = 3.0 + 40.0 * lr * 100.0;
    let mut loss = 0.3 + 2.0 * (-rate * p).exp() + 0.03 * noise;
    if k % 17 == 16 && p > 0.6 {
        loss = if p > 0.65 { f64::NAN } else { loss + (p - 0.6) * 200.0 };
    }
    let loss = if loss.is_nan() { "NaN".to_owned() } else { format!("{loss:.4}") };
    let g = 1.0 + 0.3 * noise.abs();
    format!(
        "{{\"step\":{s},\"loss\":{loss},\"acc\":{:.4},\"lr\":{:.4e},\"gnorm\":{g:.4},\"g0\":{:.3},\"g1\":{:.3},\"g2\":{:.3},\"tps\":{},\"mem\":{:.3},\"dead\":{:.3},\"wd\":0.01,\"ent\":{:.3},\"time\":{:.1}}}\n",
        1.0 - 0.6 * (-rate * p).exp() + 0.01 * noise,
        lr * (0.5 + 0.5 * (std::f64::consts::PI * p).cos()),
        g * 0.5,
        g * 0.3,
        g * 0.2,
        12000 + (500.0 * noise) as i64,
        12.5 + 0.01 * (s % 100) as f64,
        0.01 + 0.002 * noise,
        2.3 * (-p).exp() + 0.05 * noise,
        1_767_225_600.0 + k as f64 * 3.0 + s as f64 * 0.25,
    )
}

fn sweep(runs: usize, steps: usize) -> (Vec<Run>, usize) {
    let mut bytes = 0;
    let out = (0..runs)
        .map(|k| {
            let mut rng = 1000 + k as u64;
            let mut text = String::with_capacity(steps * 180);
            for s in 0..steps {
                text.push_str(&line(k, s, steps, &mut rng));
                if s % 500 == 499 {
                    text.push_str(&format!(
                        "{{\"step\":{s},\"val_loss\":{:.4}}}\n",
                        0.4 + 1.0 / (1.0 + s as f64)
                    ));
                }
            }
            bytes += text.len();
            // As the monitor holds them: compact columns, values at display precision.
            let opts = tmon::ingest::IngestOptions { compact: true, ..Default::default() };
            let mut run = Run::new(format!("sweep/run_{k:03}/logs.jsonl"), opts, Default::default());
            run.store.keep_display_precision();
            run.push_lines(1, text.as_bytes());
            run
        })
        .collect();
    (out, bytes)
}

/// CPU time of the process so far, in milliseconds (all threads: the first frame builds on every
/// core). On a shared machine it moves less than the wall time: another process's turn on the
/// core is not counted.
fn cpu_ms() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec for clock_gettime to write.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

/// One frame: (wall, CPU) milliseconds.
fn frame(app: &App, term: &mut Terminal<TestBackend>) -> (f64, f64) {
    let (t, c) = (Instant::now(), cpu_ms());
    let area = ratatui::layout::Rect::new(0, 0, 160, 48);
    app.cache.borrow_mut().begin_frame();
    app.warm_groups(&tmon::ui::charted_groups(app, area));
    term.draw(|f| tmon::ui::render(f, app)).expect("draw");
    app.cache.borrow_mut().end_frame();
    (t.elapsed().as_secs_f64() * 1e3, cpu_ms() - c)
}

fn report(label: &str, ms: Vec<(f64, f64)>) {
    let (mut wall, mut cpu): (Vec<f64>, Vec<f64>) = ms.into_iter().unzip();
    if wall.is_empty() {
        return;
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    println!(
        "{label:<58} best {:>8.2} ms   median {:>8.2} ms   CPU best {:>8.2} ms   median {:>8.2} ms",
        wall[0],
        wall[wall.len() / 2],
        cpu[0],
        cpu[cpu.len() / 2]
    );
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let quick = std::env::var("QUICK").is_ok_and(|v| v == "1");
    let env = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let runs = env("SWEEP_RUNS", if quick { 20 } else { 200 });
    let steps = env("SWEEP_STEPS", if quick { 5_000 } else { 50_000 });
    let t = Instant::now();
    let (sweep, bytes) = sweep(runs, steps);
    println!(
        "{runs} runs x {steps} steps ({:.0} MB of JSON Lines) read in {:.1} s; cores: {}",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut app = App::from_runs(sweep, Default::default());
    app.update(Event::Resize(160, 48));
    let shown = tmon::ui::charted_groups(&app, ratatui::layout::Rect::new(0, 0, 160, 48)).len();
    println!("a grid of {shown} charts, each overlaying {} runs", app.shown_runs().len());
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("backend");
    report("first frame (every chart's columns built)", vec![frame(&app, &mut term)]);
    // What the monitor's loader now does as each run's history is read (the same columns, built
    // on the loader's thread, one run at a time: `chart::Prepared::for_history`): its CPU time for
    // the whole sweep, on this thread.
    if let Some(plan) = app.overlay_plan().get() {
        let (t, c) = (Instant::now(), cpu_ms());
        let built: usize = app
            .shown_runs()
            .into_iter()
            .filter_map(|i| tmon::chart::Prepared::for_history(&app.slots[i].run().store, &plan))
            .map(|p| p.series())
            .sum();
        let (wall, cpu) = (t.elapsed().as_secs_f64() * 1e3, cpu_ms() - c);
        println!(
            "{:<58} {wall:>8.2} ms wall, CPU {cpu:>8.2} ms ({built} series, one thread)",
            "columns built run by run, as the loader builds them"
        );
    }
    // REDRAW_FRAMES (10): more of them for a profile of the redraw alone. Each redraw and live
    // frame is drawn by our rasteriser; with `AB=1`, every other one by ratatui's `Chart` (the
    // same buffer, `tmon::ui::raster::use_ratatui`), reported apart: both code paths in one run.
    let ab = std::env::var("AB").is_ok_and(|v| v == "1");
    let split = |label: &str, ms: Vec<(f64, f64)>| {
        if !ab {
            return report(label, ms);
        }
        let (ours, theirs): (Vec<_>, Vec<_>) = ms.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
        report(&format!("{label} (ours)"), ours.into_iter().map(|p| p.1).collect());
        report(&format!("{label} (ratatui's Chart)"), theirs.into_iter().map(|p| p.1).collect());
    };
    let mut n = 0;
    let mut ab_frame = |app: &App, term: &mut Terminal<TestBackend>| {
        tmon::ui::raster::use_ratatui(ab && n % 2 == 1);
        n += 1;
        frame(app, term)
    };
    split("redraw, nothing new", (0..env("REDRAW_FRAMES", 10)).map(|_| ab_frame(&app, &mut term)).collect());
    let mut step = steps;
    let mut ticks = Vec::new();
    // LIVE_FRAMES (10): more of them for a profile of the live frames alone.
    let live: Vec<(f64, f64)> = (0..env("LIVE_FRAMES", 10))
        .map(|_| {
            for (k, s) in app.slots.iter_mut().enumerate() {
                let mut rng = step as u64 + k as u64;
                let l = line(k, step, steps, &mut rng);
                s.live.run.push_line(step as u64 + 1, l.trim_end().as_bytes());
            }
            step += 1;
            let (t, c) = (Instant::now(), cpu_ms());
            app.update(Event::Tick);
            ticks.push((t.elapsed().as_secs_f64() * 1e3, cpu_ms() - c));
            ab_frame(&app, &mut term)
        })
        .collect();
    tmon::ui::raster::use_ratatui(false);
    split("a frame after every run got a step", live);
    report("the clock's tick then (flags across runs computed again)", ticks);
    let view: Vec<(f64, f64)> = (0..env("VIEW_FRAMES", 3))
        .map(|i| {
            app.update(tmon::event::Event::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char(if i % 2 == 0 { 's' } else { 'S' }),
                crossterm::event::KeyModifiers::NONE,
            )));
            frame(&app, &mut term)
        })
        .collect();
    report("a frame after a smoothing change (every run smoothed)", view);
    let held = app.cache.borrow().columns_bytes();
    let store: usize = app.slots.iter().map(|s| s.live.run.store.heap_bytes()).sum();
    let points: usize = app
        .slots
        .iter()
        .map(|s| s.live.run.store.ids().map(|id| s.live.run.store.series(id).len()).sum::<usize>())
        .sum();
    println!(
        "stores {:.0} MB ({:.1} bytes a step a run, {:.2} bytes a point a series, record table included), \
         chart columns {:.0} MB ({:.2} bytes a point charted); peak RSS {:.0} MB = {:.2}x the JSON",
        store as f64 / 1e6,
        store as f64 / (runs * steps) as f64,
        store as f64 / points as f64,
        held as f64 / 1e6,
        held as f64 / (runs * steps * shown) as f64,
        peak_rss_mb(),
        peak_rss_mb() * 1048576.0 / bytes as f64
    );
}
