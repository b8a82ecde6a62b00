//! `tmon check --follow` as a library call: flags printed as they fire (text or JSON lines),
//! `--on-flag` commands with the details in the environment only, prompt stop, exit on a flag.
//! The flags come from the wall-clock stall with a tiny floor, so the tests need no detector.

use crate::support::tail::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tmon::analysis::FlagConfig;
use tmon::analysis::Severity;
use tmon::follow::{follow, FollowOptions, FollowSummary};

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);
impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Shared {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap().lines().map(str::to_owned).collect()
    }
}

/// The live stall's thresholds: `floor` seconds, 10 usual intervals, critical after `critical` s.
fn stall_after(floor: f64, critical: f64) -> FlagConfig {
    FlagConfig {
        live_stall_min_seconds: floor,
        live_stall_factor: 10.0,
        live_stall_critical_seconds: critical,
        ..Default::default()
    }
}

fn quick_stall() -> FlagConfig {
    stall_after(0.3, 600.0)
}

struct Following {
    out: Shared,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Result<FollowSummary, tmon::Error>>,
}

fn start(paths: Vec<PathBuf>, opts: FollowOptions) -> Following {
    let out = Shared::default();
    let stop = Arc::new(AtomicBool::new(false));
    let (o, s) = (out.clone(), stop.clone());
    let thread = std::thread::spawn(move || {
        let mut o = o;
        follow(&paths, &opts, &mut o, s)
    });
    Following { out, stop, thread }
}

fn wait_lines(out: &Shared, n: usize) -> Vec<String> {
    let t0 = Instant::now();
    loop {
        let l = out.lines();
        if l.len() >= n {
            return l;
        }
        assert!(t0.elapsed() < DEADLINE, "waited for {n} lines, have {l:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_file_lines(path: &Path, n: usize) -> Vec<String> {
    let t0 = Instant::now();
    loop {
        let l: Vec<String> =
            std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect();
        if l.len() >= n {
            return l;
        }
        assert!(t0.elapsed() < DEADLINE, "waited for {n} hook lines in {}, have {l:?}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn json_lines_and_hooks_with_env_only() {
    let dir = tempfile::tempdir().unwrap();
    let pwned = dir.path().join("pwned");
    std::env::set_var("TMON_TEST_INJECT", &pwned);
    // A log whose name is shell: if the path were pasted into the command, this would run.
    let path = dir.path().join("run$(echo x >>\"$TMON_TEST_INJECT\");`echo y >>\"$TMON_TEST_INJECT\"`.jsonl");
    append(&path, lines(0..3).as_bytes());
    let hooks = dir.path().join("hooks.txt");
    let cmd = format!(
        "printf '%s|%s|%s|%s|%s\\n' \"$TMON_KIND\" \"$TMON_SEVERITY\" \"$TMON_STEP\" \"$TMON_PATH\" \"$TMON_MESSAGE\" >> '{}'",
        hooks.display()
    );
    let opts = FollowOptions { json: true, on_flag: Some(cmd), flags: quick_stall(), ..Default::default() };
    let f = start(vec![path.clone()], opts);
    let l = wait_lines(&f.out, 1);
    let j: serde_json::Value = serde_json::from_str(&l[0]).unwrap();
    assert_eq!(j["path"], path.display().to_string());
    assert_eq!(j["kind"], "stall");
    assert_eq!(j["severity"], "warning");
    assert_eq!(j["step"], 2.0, "{j}");
    assert!(j["metric"].is_string() && j["message"].as_str().unwrap().contains("no new record"));
    // Records come back: an info flag says how long the silence was.
    append(&path, lines(3..4).as_bytes());
    let l = wait_lines(&f.out, 2);
    let j: serde_json::Value = serde_json::from_str(&l[1]).unwrap();
    assert_eq!((j["kind"].as_str(), j["severity"].as_str()), (Some("stall"), Some("info")));
    assert!(j["message"].as_str().unwrap().contains("resumed after"), "{j}");
    // Hooks run concurrently, so their lines may come in any order.
    let h = wait_file_lines(&hooks, 2);
    let warning = format!("stall|warning|2|{}|no new record", path.display());
    let info = format!("stall|info|3|{}|records resumed", path.display());
    assert!(h.iter().any(|l| l.starts_with(&warning)), "{h:?}");
    assert!(h.iter().any(|l| l.starts_with(&info)), "{h:?}");
    f.stop.store(true, Ordering::SeqCst);
    let summary = f.thread.join().unwrap().unwrap();
    // A second silence may have warned again meanwhile on a slow machine.
    assert!(summary.flags >= 2, "{summary:?}");
    assert_eq!(summary.worst, Some(Severity::Warning));
    assert!(!pwned.exists(), "a file name injected shell");
}

#[test]
fn text_lines_stop_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    append(&path, lines(0..5).as_bytes());
    let opts = FollowOptions { flags: quick_stall(), ..Default::default() };
    let f = start(vec![path.clone()], opts);
    let l = wait_lines(&f.out, 1);
    assert!(l[0].starts_with(&format!("{}: warning stall ", path.display())), "{l:?}");
    assert!(l[0].contains(" 4: no new record for "), "{l:?}");
    let t0 = Instant::now();
    f.stop.store(true, Ordering::SeqCst);
    let summary = f.thread.join().unwrap().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(2), "stop took {:?}", t0.elapsed());
    assert!(!summary.exited_on_flag);
}

#[test]
fn a_slow_hook_never_blocks_and_exit_on_ends_following() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    append(&path, lines(0..5).as_bytes());
    let opts = FollowOptions {
        on_flag: Some("sleep 30".into()),
        hook_timeout: Duration::from_millis(500),
        flags: stall_after(0.3, 2.0),
        exit_on: Some(Severity::Critical),
        ..Default::default()
    };
    let t0 = Instant::now();
    let f = start(vec![path.clone()], opts);
    // The warning's hook sleeps; the critical flag still comes on time and ends following, and
    // the hooks are killed at their timeout.
    let summary = f.thread.join().unwrap().unwrap();
    assert!(summary.exited_on_flag);
    assert_eq!(summary.worst, Some(Severity::Critical));
    assert!(t0.elapsed() < Duration::from_secs(10), "took {:?}", t0.elapsed());
    let l = f.out.lines();
    assert_eq!(l.len(), 2, "{l:?}");
    assert!(l[1].contains("critical stall"), "{l:?}");
}

#[test]
fn waiting_paths_are_fine_and_fifos_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let later = dir.path().join("later.jsonl");
    let f = start(vec![later], FollowOptions::default());
    std::thread::sleep(Duration::from_millis(300));
    f.stop.store(true, Ordering::SeqCst);
    assert_eq!(f.thread.join().unwrap().unwrap().flags, 0);

    let fifo = dir.path().join("pipe");
    crate::support::mkfifo(&fifo);
    let mut out = Vec::new();
    let err = follow(&[fifo], &FollowOptions::default(), &mut out, Arc::new(AtomicBool::new(false)));
    let msg = err.unwrap_err().to_string();
    assert!(msg.contains("pipe") && msg.contains("not a regular file"), "{msg}");
}

#[test]
fn a_directory_is_followed_file_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a").join("metrics.json");
    std::fs::create_dir_all(a.parent().unwrap()).unwrap();
    append(&a, lines(0..3).as_bytes());
    let opts = FollowOptions { json: true, flags: quick_stall(), ..Default::default() };
    let f = start(vec![dir.path().to_owned()], opts);
    let l = wait_lines(&f.out, 1);
    let j: serde_json::Value = serde_json::from_str(&l[0]).unwrap();
    assert_eq!(j["path"], a.display().to_string());
    // A file appearing later in the directory is followed too.
    let b = dir.path().join("b.jsonl");
    append(&b, lines(0..7).as_bytes());
    let t0 = Instant::now();
    loop {
        let found = f.out.lines().iter().any(|l| {
            serde_json::from_str::<serde_json::Value>(l).is_ok_and(|j| j["path"] == b.display().to_string())
        });
        if found {
            break;
        }
        assert!(t0.elapsed() < DEADLINE, "no flag for {}: {:?}", b.display(), f.out.lines());
        std::thread::sleep(Duration::from_millis(20));
    }
    f.stop.store(true, Ordering::SeqCst);
    f.thread.join().unwrap().unwrap();
}
