//! What a view change costs the monitor's loop on a big run (issue 14, "Big logs stay
//! responsive"), and what each smoother's columns hold: `cargo bench --bench view_change`
//! (`N=100000` for a quick run; default 1,000,000 points, six series, the 160x48 grid).
//!
//! Each figure is one frame as the loop draws it after the key (`App::warm_groups`, then
//! `ui::render` on a TestBackend): today the recompute a key asks for (smoothing every charted
//! series again, the columns of another x axis) runs inside that frame, on the loop's thread, so
//! this is how long the keys and the clock wait. Then, per smoother, the heap bytes the charted
//! columns hold at N/10 and at N points: the smoothers' memory per point.

use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::time::{Duration, Instant};
use tmon::app::{App, Options};
use tmon::event::Event;
use tmon::run::Run;
use tmon::store::RecordMeta;

const SERIES: [&str; 6] = ["loss", "acc", "grad_norm", "lr", "epoch", "tok_s"];

fn run_of(n: usize) -> Run {
    let mut run = Run::new("big.jsonl", Default::default(), Default::default());
    let st = &mut run.store;
    let ids: Vec<_> = SERIES.iter().map(|k| st.intern(k)).collect();
    for i in 0..n {
        let r =
            st.begin_record(RecordMeta { step: i as f64, time: 1.7e9 + i as f64 * 0.21, line: i as u64 + 1 });
        for (k, &id) in ids.iter().enumerate() {
            st.push(r, id, ((i * (k + 7)) % 1000) as f32 as f64 / 64.0);
        }
    }
    run
}

fn key(c: char) -> Event {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// One frame as the loop draws it; how long it took.
fn frame(app: &App, term: &mut Terminal<TestBackend>) -> Duration {
    let t = Instant::now();
    app.cache.borrow_mut().begin_frame();
    let s = term.size().expect("size");
    app.warm_groups(&tmon::ui::charted_groups(app, Rect::new(0, 0, s.width, s.height)));
    term.draw(|f| tmon::ui::render(f, app)).expect("draw");
    app.cache.borrow_mut().end_frame();
    t.elapsed()
}

fn main() {
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("backend");
    let mut app = App::from_runs(vec![run_of(n)], Options::default());
    println!("{n} points x {} series, 160x48 grid; ms of the frame after each key", SERIES.len());
    println!("{:<28} {:>9.1} ms", "first frame", frame(&app, &mut term).as_secs_f64() * 1e3);
    println!("{:<28} {:>9.1} ms", "again, nothing new", frame(&app, &mut term).as_secs_f64() * 1e3);
    let keys = [
        ('m', "m: time-weighted EMA"),
        ('m', "m: Gaussian"),
        ('m', "m: running average"),
        ('m', "m: EMA"),
        ('s', "s: stronger EMA"),
        ('x', "x: relative time"),
        ('x', "x: wall time"),
        ('x', "x: step"),
    ];
    for (k, what) in keys {
        app.update(key(k));
        println!("{what:<28} {:>9.1} ms", frame(&app, &mut term).as_secs_f64() * 1e3);
    }
    // The smoothers' columns: heap bytes held at n/10 and n points.
    println!("\nheap bytes of the charted columns, per smoother (bytes per point per series)");
    for (presses, name) in [(0, "EMA"), (1, "time-weighted EMA"), (2, "Gaussian"), (3, "running average")] {
        let mut at = Vec::new();
        for m in [n / 10, n] {
            let mut app = App::from_runs(vec![run_of(m)], Options::default());
            for _ in 0..presses {
                app.update(key('m'));
            }
            frame(&app, &mut term);
            let c = app.cache.borrow();
            let (held, bytes) = (c.columns_held().max(1), c.columns_bytes());
            at.push((m, bytes, bytes as f64 / (held * m) as f64));
        }
        let cells: Vec<String> =
            at.iter().map(|(m, b, per)| format!("{m:>8} pts: {b:>11} B ({per:.2} B/pt)")).collect();
        println!("{name:<20} {}", cells.join("   "));
    }
}
