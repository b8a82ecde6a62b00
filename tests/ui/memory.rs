//! Memory of the monitor on a big run (issue 4: "Memory stays under half the file's size"): the
//! store costs 16 bytes a record plus its values, and the charts on a 160x48 screen hold about
//! 2 bytes a point per charted series (block summaries and EMA checkpoints), on every x axis:
//! no copy of the xs, the values or the smoothed values.
//!
//! Whole-process figures (peak RSS on a 1M-line log) are in the final report of the `mem` branch;
//! this checks the parts that make them, byte for byte, without depending on the allocator. And
//! the monitor, a library call, leaves the process's allocator settings alone (glibc only).

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tmon::app::{App, Options, XAxis};
use tmon::run::Run;
use tmon::store::RecordMeta;

const TRAIN: [&str; 6] = ["loss", "acc", "grad_norm", "lr", "epoch", "tok_s"];

/// A run shaped like benches/check's logs: six train metrics on every train line, and an eval
/// line (without them) every 400 lines, so the train metrics have gaps.
fn big_run(n: usize) -> Run {
    let mut run = Run::new("big.jsonl", Default::default(), Default::default());
    let st = &mut run.store;
    let ids: Vec<_> = TRAIN.iter().map(|k| st.intern(k)).collect();
    let (eval_loss, eval_acc) = (st.intern("eval/loss"), st.intern("eval/acc"));
    for i in 0..n {
        let meta = RecordMeta { step: i as f64, time: 1.7e9 + i as f64 * 0.21, line: i as u64 + 1 };
        let r = st.begin_record(meta);
        if i % 400 == 399 {
            st.push(r, eval_loss, 2.0 - (i as f64 / n as f64) as f32 as f64);
            st.push(r, eval_acc, 0.5);
        } else {
            for (k, &id) in ids.iter().enumerate() {
                // Values exact in f32, as `tensor.item()` logs them.
                st.push(r, id, ((i * (k + 7)) % 1000) as f32 as f64 / 64.0);
            }
        }
    }
    run
}

/// A frame as the monitor's loop draws it: the columns of the charts on screen are built first
/// (`App::warm_charts`, on two threads), so drawing builds none.
fn frame(app: &App, term: &mut Terminal<TestBackend>) {
    app.cache.borrow_mut().begin_frame();
    let size = term.size().expect("size");
    app.warm_charts(&tmon::ui::charted(app, ratatui::layout::Rect::new(0, 0, size.width, size.height)));
    let built = app.cache.borrow().column_rebuilds();
    term.draw(|f| tmon::ui::render(f, app)).expect("draw");
    assert_eq!(app.cache.borrow().column_rebuilds(), built, "drawing built columns the warm-up did not");
    app.cache.borrow_mut().end_frame();
}

#[test]
fn a_big_run_on_screen_costs_the_store_plus_two_bytes_a_charted_point() {
    let n = 1_000_000;
    let run = big_run(n);
    let store_bytes = run.store.heap_bytes();
    let values: usize = run.store.ids().map(|id| run.store.series(id).len() * 4).sum();
    // 16 bytes a record (step, time; lines as runs), 4 a value, and the slack of growing (by an
    // eighth once a column is large; before that, 24 bytes a record and 2x slack gave 1.8x this).
    let want = n * 16 + values;
    assert!(store_bytes < want + want / 6, "store: {store_bytes} bytes, {want} without slack");
    let mut app = App::from_runs(vec![run], Options::default());
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("backend");
    for axis in [XAxis::Step, XAxis::Relative, XAxis::Wall] {
        app.view.x_axis = axis;
        frame(&app, &mut term);
        let cache = app.cache.borrow();
        let (held, bytes) = (cache.columns_held(), cache.columns_bytes());
        assert!(held >= 4, "{axis:?}: only {held} series charted");
        // Summaries (2 x 40 bytes) and a checkpoint (48 bytes) per 64 points: 2 bytes a point.
        // A copy of the xs would add 8, a smoothed column 4.
        assert!(bytes <= held * n * 2 + held * 4096, "{axis:?}: {bytes} bytes for {held} series of {n}");
        eprintln!("{axis:?}: store {store_bytes} bytes, {held} series charted hold {bytes} bytes");
        let text = crate::support::ui::text(&term);
        assert!(text.contains("grad_norm"), "{axis:?}: the grid is not on screen:\n{text}");
    }
}

/// Whether glibc served the allocation at `p` with a mapping of its own: the IS_MMAPPED bit (2)
/// of the chunk's size word, just before the pointer (glibc's chunk layout, stable for decades).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn mapped(p: *const u8) -> bool {
    // SAFETY: `p` is the start of a live glibc malloc allocation; the word before it is its
    // chunk's size field, which belongs to the same chunk and is readable.
    unsafe { (p as *const usize).sub(1).read() & 2 != 0 }
}

/// The monitor is a library call: it must leave the process's allocator as it found it (the
/// binary tunes glibc for itself). Run in a child process of its own, in a session of its own (no
/// controlling terminal: the monitor stops at once, and never touches the terminal the tests run
/// in), which calls `run_monitor` and then looks at glibc's mmap threshold: left dynamic, a 2 MiB
/// buffer allocated after a 4 MiB one was freed comes from an arena; fixed at 1 MiB (`mallopt`,
/// as the binary sets it), it gets a mapping of its own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_monitor_leaves_the_allocator_alone() {
    const PROBE: &str = "TMON_ALLOCATOR_PROBE";
    if std::env::var_os(PROBE).is_some() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("run.jsonl");
        std::fs::write(&log, "{\"step\": 1, \"loss\": 1.0}\n").expect("write");
        let err = tmon::run_monitor(&[log], Options::default()).expect_err("no terminal here");
        assert!(matches!(err, tmon::Error::Terminal(_)), "{err}");
        let big = std::hint::black_box(vec![1u8; 4 << 20]);
        drop(big);
        let probe = std::hint::black_box(vec![1u8; 2 << 20]);
        println!("PROBE {}", if mapped(probe.as_ptr()) { "mapped" } else { "arena" });
        return;
    }
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().expect("the test binary");
    let mut cmd = std::process::Command::new(exe);
    cmd.args([
        "--exact",
        "memory::the_monitor_leaves_the_allocator_alone",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env(PROBE, "1")
    .stdin(std::process::Stdio::null());
    // SAFETY: setsid(2) is async-signal-safe and touches no memory of this process.
    unsafe {
        cmd.pre_exec(|| if libc::setsid() < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) });
    }
    let out = cmd.output().expect("run the probe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("PROBE arena"), "the mmap threshold was changed:\n{stdout}");
}
