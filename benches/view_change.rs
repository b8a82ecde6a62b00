//! What a view change costs the monitor's loop on a big run (issue 14, "Big logs stay
//! responsive"), and what each smoother's columns hold: `cargo bench --bench view_change`
//! (`N=100000` for a quick run; default 1,000,000 points, six series, the 160x48 grid).
//!
//! For each key, side by side in one run: the frame as the loop drew it before (`inline`: the
//! recompute the key asks for, smoothing every charted series again or reading it on another x
//! axis, ran inside that frame, on the loop's thread), and as it draws it now (`next`: the columns
//! are built inline only when that is cheap, else copied for the worker, the charts showing their
//! last frame), the worker's build, and the frame after its result: the view complete. Then, per
//! smoother, the heap bytes the charted columns hold at N/10 and at N points.

use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::time::{Duration, Instant};
use tmon::app::{App, Options};
use tmon::chart::ColumnsJob;
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
    let code = match c {
        '\n' => KeyCode::Enter,
        '\x1b' => KeyCode::Esc,
        c => KeyCode::Char(c),
    };
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// One frame as the loop drew it before issue 14 (`App::warm_groups` inline, then `ui::render`
/// on a TestBackend); how long it took.
fn frame(app: &App, term: &mut Terminal<TestBackend>) -> Duration {
    let t = Instant::now();
    app.cache.borrow_mut().begin_frame();
    let s = term.size().expect("size");
    app.warm_groups(&tmon::ui::charted_groups(app, Rect::new(0, 0, s.width, s.height)));
    term.draw(|f| tmon::ui::render(f, app)).expect("draw");
    app.cache.borrow_mut().end_frame();
    t.elapsed()
}

/// One frame as the loop draws it now (`App::plan_columns`: columns built inline when cheap, else
/// a job for the worker, its copy of the charted data made here), and the job it handed over.
fn planned(app: &mut App, term: &mut Terminal<TestBackend>) -> (Duration, Option<(u64, ColumnsJob)>) {
    let t = Instant::now();
    app.cache.borrow_mut().begin_frame();
    let s = term.size().expect("size");
    let job = app.plan_columns(&tmon::ui::charted_groups(app, Rect::new(0, 0, s.width, s.height)));
    term.draw(|f| tmon::ui::render(f, app)).expect("draw");
    app.cache.borrow_mut().end_frame();
    (t.elapsed(), job)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("backend");
    let mut app = App::from_runs(vec![run_of(n)], Options::default());
    let mut now = App::from_runs(vec![run_of(n)], Options::default());
    println!("{n} points x {} series, 160x48 grid; ms after each key", SERIES.len());
    println!(
        "inline: the frame with the recompute on the loop (before); next: the loop's frame now (the copy"
    );
    println!("for the worker included); worker: its build; then: the frame after its result; complete: next+worker+then");
    println!(
        "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "", "inline", "next", "worker", "then", "complete", "copied pts"
    );
    let row = |what: &str, inline: Duration, now: &mut App, term: &mut Terminal<TestBackend>| {
        let (next, job) = planned(now, term);
        let Some((seq, job)) = job else {
            println!(
                "{what:<24} {:>9.1} {:>9.1} {:>9} {:>9} {:>9.1} {:>10}",
                ms(inline),
                ms(next),
                "-",
                "-",
                ms(next),
                0
            );
            return;
        };
        let points = job.points();
        let t = Instant::now();
        let prepared = job.run(|| false).expect("not cancelled");
        let worker = t.elapsed();
        now.update(Event::Prepared { seq, columns: Box::new(prepared) });
        let (then, more) = planned(now, term);
        assert!(more.is_none(), "the result completes the view");
        let complete = next + worker + then;
        println!(
            "{what:<24} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {points:>10}",
            ms(inline),
            ms(next),
            ms(worker),
            ms(then),
            ms(complete)
        );
    };
    let first = frame(&app, &mut term);
    row("first frame", first, &mut now, &mut term);
    let again = frame(&app, &mut term);
    row("again, nothing new", again, &mut now, &mut term);
    let keys = [
        ('m', "m: time-weighted EMA"),
        ('m', "m: Gaussian"),
        ('m', "m: running average"),
        ('m', "m: EMA"),
        ('s', "s: stronger EMA"),
        ('x', "x: relative time"),
        ('x', "x: wall time"),
        ('x', "x: step"),
        ('l', "l: log y"),
        ('l', "l: linear y"),
        ('\n', "Enter: single chart"),
        ('\x1b', "Esc: back to the grid"),
    ];
    for (k, what) in keys {
        app.update(key(k));
        now.update(key(k));
        let inline = frame(&app, &mut term);
        row(what, inline, &mut now, &mut term);
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
