//! Smoothed series under a memory bound whatever the smoother (issue 14, "Big logs stay
//! responsive"): every smoother's chart holds about what the EMA's does a point (block summaries
//! and at most a checkpoint per block; no column of smoothed values, no copy of the values), and
//! cycling every smoother and every x axis keeps only what the last one shows.
//!
//! Bytes are counted by the allocator (this binary's global allocator counts, per thread, the
//! bytes allocated and not yet freed), so what the code does not report is counted too; the
//! charts are computed through `tmon::chart::chart`, as a frame computes them.

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use tmon::analysis::smooth::Smoother;
use tmon::app::{App, Options, XAxis};
use tmon::chart::{chart, Cache, Data, Request};
use tmon::run::Run;
use tmon::store::{RecordMeta, SeriesId, Store};

/// The system allocator, counting the bytes each thread holds.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = LIVE.try_with(|l| l.set(l.get() + delta));
}

/// Bytes this thread allocated and has not freed.
fn live() -> isize {
    LIVE.with(Cell::get)
}

// SAFETY: every call is passed to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A train loss and accuracy on every record but every 400th (an eval line): series with gaps,
/// read through the store's runs of records.
fn store(n: usize) -> (Store, Vec<SeriesId>) {
    let mut st = Store::new();
    let ids = vec![st.intern("loss"), st.intern("acc")];
    let eval = st.intern("eval/loss");
    for i in 0..n {
        let r = st.begin_record(RecordMeta { step: i as f64, time: 1.7e9 + i as f64 * 0.21, line: i as u64 });
        if i % 400 == 399 {
            st.push(r, eval, 1.0);
            continue;
        }
        for (k, &id) in ids.iter().enumerate() {
            let y = if i % 997 == 5 { f64::NAN } else { ((i * (k + 7)) % 1000) as f32 as f64 / 64.0 };
            st.push(r, id, y);
        }
    }
    (st, ids)
}

const KINDS: [(&str, Smoother); 6] = [
    ("EMA", Smoother::Ema { weight: 0.6 }),
    ("time-weighted EMA", Smoother::TimeWeightedEma { param: 0.6 }),
    ("Gaussian σ=2 (kernel)", Smoother::Gaussian { sigma: 2.0 }),
    ("Gaussian σ=1000 (boxes)", Smoother::Gaussian { sigma: 1000.0 }),
    ("running average 7", Smoother::RunningAverage { window: 7 }),
    ("running average 3465", Smoother::RunningAverage { window: 3465 }),
];

fn request(ids: &[SeriesId], axis: XAxis, smoother: Smoother) -> Request<'_> {
    Request {
        members: ids,
        x_axis: axis,
        zoom: None,
        anchor: None,
        width: 320,
        smoother: Some(smoother),
        outliers: true,
        log: false,
    }
}

/// Bytes the chart cache holds after charting `ids` of `st` with `kind` on `axis`, from scratch.
fn held(st: &Store, ids: &[SeriesId], axis: XAxis, kind: Smoother) -> isize {
    let before = live();
    let mut cache = Cache::default();
    let data = Data { key: (0, 0), store: st, flags: &[] };
    let shown = chart(data, &request(ids, axis, kind), &mut cache);
    assert!(!shown.smooth.is_empty(), "{kind:?}: no smoothed line");
    cache.end_frame();
    drop(shown);
    let bytes = live() - before;
    drop(cache);
    assert_eq!(live(), before, "{kind:?}: the cache let go of less than it held");
    bytes
}

#[test]
fn every_smoother_holds_about_the_emas_bytes_a_point() {
    let (small, large) = (20_000, 200_000);
    let (st_s, ids) = store(small);
    let (st_l, _) = store(large);
    let points = |n: usize| (n - n / 400) * ids.len();
    // Bytes a point a series, marginal (what 9x more points added): constants cancel out.
    let per_point = |kind: Smoother| {
        let (a, b) = (held(&st_s, &ids, XAxis::Step, kind), held(&st_l, &ids, XAxis::Step, kind));
        (a, b, (b - a) as f64 / (points(large) - points(small)) as f64)
    };
    let (_, _, ema) = per_point(KINDS[0].1);
    for (name, kind) in KINDS {
        let (a, b, per) = per_point(kind);
        eprintln!("{name:<24} {small} pts: {a:>8} B   {large} pts: {b:>8} B   {per:.2} B/pt a series");
        // Summaries (raw and smoothed: 2 x 40 bytes) and a checkpoint of 48 (EMA) or 56 (TWEMA)
        // bytes per 64 points, plus growth slack; a column of smoothed values would add 4 or 8.
        assert!(per <= ema + 0.25, "{name}: {per:.2} bytes a point, the EMA {ema:.2}");
    }
    assert!(ema > 0.5 && ema < 2.5, "the EMA holds {ema:.2} bytes a point");
}

#[test]
fn cycling_every_smoother_and_x_axis_keeps_only_what_is_shown() {
    let n = 100_000;
    let mut run = Run::new("big.jsonl", Default::default(), Default::default());
    let (st, _) = store(n);
    run.store = st;
    let mut app = App::from_runs(vec![run], Options::default());
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("backend");
    let frame = |app: &App, term: &mut Terminal<TestBackend>| {
        app.cache.borrow_mut().begin_frame();
        term.draw(|f| tmon::ui::render(f, app)).expect("draw");
        app.cache.borrow_mut().end_frame();
    };
    let key = |c: char| {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        tmon::event::Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    };
    frame(&app, &mut term);
    let (first, first_live) = (app.cache.borrow().columns_bytes(), live());
    let mut most = first;
    // Every smoother on every x axis, twice round: m cycles the smoothers, x the axes.
    for round in 0..2 {
        for axis in 0..3 {
            for kind in 0..4 {
                app.update(key('m'));
                frame(&app, &mut term);
                let bytes = app.cache.borrow().columns_bytes();
                most = most.max(bytes);
                // The columns of the series on screen: about 2 bytes a point each, whatever the
                // smoother (a column of smoothed values and a copy of the values cost 16 more).
                let held = app.cache.borrow().columns_held();
                assert!(
                    bytes <= held * n * 3,
                    "round {round}, axis {axis}, smoother {kind}: {bytes} bytes for {held} series"
                );
            }
            app.update(key('x'));
            frame(&app, &mut term);
        }
    }
    // Back where it started (EMA, step axis: 4 m and 3 x per round): what is held is what the
    // first frame held, and nothing piled up in the process either.
    let last = app.cache.borrow().columns_bytes();
    assert!(last <= first + first / 8, "after cycling {last} bytes held, at first {first}");
    let grown = live() - first_live;
    eprintln!("columns: first {first} B, at most {most} B, last {last} B; thread heap grew {grown} B");
    assert!(grown < (n as isize) * 2, "the heap grew by {grown} bytes over the cycle");
}

/// A live frame (one point appended) of a 1M-point chart with each smoother: what an append
/// costs when the smoothed values are computed on demand (printed: `cargo test --release --test
/// ui smoothers -- --nocapture`). Appends never smooth the whole series again.
#[test]
fn live_frames_extend_every_smoother_without_smoothing_again() {
    let n = 1_000_000;
    let mut run = Run::new("big.jsonl", Default::default(), Default::default());
    let loss = run.store.intern("loss");
    for i in 0..n {
        let r = run.store.begin_record(RecordMeta { step: i as f64, time: i as f64, line: i as u64 + 1 });
        run.store.push(r, loss, 1.0 + ((i * 7919) % 1000) as f64 * 1e-3);
    }
    let mut app = App::from_runs(vec![run], Options::default());
    let members = app.groups()[0].members.clone();
    for (name, kind) in KINDS {
        app.view.smoothing = kind;
        let t = std::time::Instant::now();
        app.chart_data(&members, 200).expect("data");
        let first = t.elapsed();
        let smooths = app.cache.borrow().full_smooths();
        let mut times: Vec<std::time::Duration> = (0..11)
            .map(|i| {
                let st = &mut app.slots[0].live.run.store;
                let step = st.last_record().map_or(0.0, |m| m.step + 1.0);
                let r = st.begin_record(RecordMeta { step, time: step, line: step as u64 + 1 });
                st.push(r, loss, 1.0 + i as f64 * 1e-3);
                app.cache.borrow_mut().begin_frame();
                let t = std::time::Instant::now();
                app.chart_data(&members, 200).expect("data");
                t.elapsed()
            })
            .collect();
        times.sort();
        assert_eq!(app.cache.borrow().full_smooths(), smooths, "{name}: an append smoothed everything again");
        eprintln!("1M points, {name:<24} first {first:>10.1?}, live frame median {:>9.1?}", times[5]);
    }
}
