//! Benchmarks of following a log (issue 3 targets), as a plain program (`harness = false`):
//!
//! ```text
//! cargo bench --bench follow -- latency [N] [HZ]     # N appends at HZ, inotify then --poll 500
//! cargo bench --bench follow -- idle [SECS]          # CPU used watching a quiet file
//! cargo bench --bench follow -- throughput [RATE] [SECS]  # lag behind a fast writer
//! cargo bench --bench follow -- array [SECS] [HZ] [HISTORY]  # a growing JSON array (issue 10)
//! ```
//!
//! `array`: a `metrics_log.json` that already holds HISTORY (20,000) elements of an unclosed
//! top-level array (`[\n{...},\n...`) gets one more element HZ (100) times a second for SECS (20):
//! the CPU the follower uses (whole process, the writer's few writes included) and whether every
//! element reached the store as it was appended.
//!
//! Each measures the library path the UI and `tmon check --follow` use (through the live set,
//! `run::live`): the source layer's thread (`source::spawn`), events over a channel, `Run::apply`
//! into a `Run` (parse, store, analyzer) on the consumer side. "In the store" means after `apply`
//! returned.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tmon::analysis::FlagConfig;
use tmon::ingest::IngestOptions;
use tmon::run::Run;
use tmon::source::{self, SourceEvent, SourceOptions};

fn line(step: u64) -> String {
    let x = step as f64;
    let t = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    format!(
        "{{\"step\": {step}, \"loss\": {:.6}, \"lr\": 0.0003, \"grad_norm\": {:.5}, \"acc\": {:.5}, \"tokens_per_s\": {:.1}, \"time\": {t:.3}}}\n",
        2.0 / (1.0 + x * 1e-3),
        1.0 + (x * 0.37).sin() * 0.1,
        0.5 + (x * 1e-4).min(0.45),
        51234.0 + (x * 0.11).cos() * 800.0
    )
}

/// Consumer side: applies events to a run and reports when each record reached the store.
fn consume(rx: mpsc::Receiver<SourceEvent>, path: PathBuf, mut on_record: impl FnMut(u64, Instant)) {
    let mut run = Run::new(path, IngestOptions::default(), FlagConfig::default());
    while let Ok(ev) = rx.recv() {
        let before = run.store.records();
        run.apply(&ev);
        let now = Instant::now();
        for r in before..run.store.records() {
            on_record(run.store.record(r as tmon::store::RecordIdx).step as u64, now);
        }
    }
}

fn stats(mut v: Vec<f64>) -> String {
    if v.is_empty() {
        return "no samples".into();
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    format!(
        "n={} median={:.1}ms p90={:.1}ms p99={:.1}ms max={:.1}ms",
        v.len(),
        q(0.5),
        q(0.9),
        q(0.99),
        v[v.len() - 1]
    )
}

fn latency(n: u64, hz: f64, poll: Option<Duration>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.jsonl");
    std::fs::write(&path, b"").expect("create");
    let written: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; n as usize]));
    let stored: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; n as usize]));
    let (tx, rx) = mpsc::channel();
    let handle = source::spawn(std::slice::from_ref(&path), SourceOptions::with_poll(poll), move |ev| {
        tx.send(ev).is_ok()
    })
    .expect("spawn");
    let st = stored.clone();
    let p = path.clone();
    let consumer = std::thread::spawn(move || {
        consume(rx, p, |step, t| {
            if let Some(slot) = st.lock().expect("lock").get_mut(step as usize) {
                slot.get_or_insert(t);
            }
        })
    });
    std::thread::sleep(Duration::from_millis(500));
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    let period = Duration::from_secs_f64(1.0 / hz);
    let t0 = Instant::now();
    for i in 0..n {
        let due = t0 + period.mul_f64(i as f64);
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        let l = line(i);
        written.lock().expect("lock")[i as usize] = Some(Instant::now());
        f.write_all(l.as_bytes()).expect("write");
    }
    std::thread::sleep(poll.unwrap_or_default() + Duration::from_secs(2));
    drop(handle);
    let _ = consumer.join();
    let w = written.lock().expect("lock");
    let s = stored.lock().expect("lock");
    let lat: Vec<f64> = w
        .iter()
        .zip(s.iter())
        .filter_map(|(a, b)| Some(b.as_ref()?.saturating_duration_since(*a.as_ref()?).as_secs_f64() * 1e3))
        .collect();
    let missing = s.iter().filter(|x| x.is_none()).count();
    let mode = poll.map_or("inotify".to_owned(), |p| format!("--poll {}", p.as_millis()));
    println!("latency [{mode}] {n} appends at {hz} Hz: {} missing={missing}", stats(lat));
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we own; RUSAGE_SELF covers every thread of the process.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn idle(secs: u64, what: &str, target: &Path, poll: Option<Duration>) {
    let (tx, rx) = mpsc::channel();
    let handle =
        source::spawn(&[target.to_owned()], SourceOptions::with_poll(poll), move |ev| tx.send(ev).is_ok())
            .expect("spawn");
    let consumer = std::thread::spawn(move || consume(rx, PathBuf::from("idle"), |_, _| {}));
    std::thread::sleep(Duration::from_secs(2)); // initial read done
    let c0 = cpu_seconds();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let used = cpu_seconds() - c0;
    let wall = t0.elapsed().as_secs_f64();
    drop(handle);
    let _ = consumer.join();
    let mode = poll.map_or("inotify + safety poll".to_owned(), |p| format!("--poll {}", p.as_millis()));
    println!("idle [{mode}] {what} for {wall:.1}s: CPU {used:.4}s (user+sys, whole process)");
}

fn throughput(rate: u64, secs: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.jsonl");
    std::fs::write(&path, b"").expect("create");
    let stored = Arc::new(AtomicU64::new(0));
    let reads = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    let r = reads.clone();
    let handle = source::spawn(std::slice::from_ref(&path), SourceOptions::default(), move |ev| {
        if matches!(ev, SourceEvent::Lines { .. }) {
            r.fetch_add(1, Ordering::Relaxed);
        }
        tx.send(ev).is_ok()
    })
    .expect("spawn");
    let st = stored.clone();
    let p = path.clone();
    let consumer = std::thread::spawn(move || {
        consume(rx, p, |_, _| {
            st.fetch_add(1, Ordering::Relaxed);
        })
    });
    std::thread::sleep(Duration::from_millis(500));
    let total = rate * secs;
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    let c0 = cpu_seconds();
    let t0 = Instant::now();
    let mut max_backlog = 0u64;
    let mut written = 0u64;
    let mut bytes = 0u64;
    while written < total {
        let due = ((t0.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
        while written < due {
            let l = line(written);
            f.write_all(l.as_bytes()).expect("write"); // one write(2) per line, as a trainer does
            bytes += l.len() as u64;
            written += 1;
        }
        max_backlog = max_backlog.max(written - stored.load(Ordering::Relaxed));
        std::thread::sleep(Duration::from_millis(1));
    }
    let t_end = Instant::now();
    let write_secs = (t_end - t0).as_secs_f64();
    let backlog_at_end = written - stored.load(Ordering::Relaxed);
    while stored.load(Ordering::Relaxed) < total && t_end.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let lag = t_end.elapsed();
    let cpu = cpu_seconds() - c0;
    drop(handle);
    let _ = consumer.join();
    println!(
        "throughput: wrote {written} lines ({:.1} MB) in {write_secs:.1}s ({:.0} lines/s); \
         backlog when the writer stopped {backlog_at_end} lines; caught up {:.0} ms later; \
         max backlog seen {max_backlog} lines; stored {}; {} Lines events ({:.0}/s); \
         process CPU {cpu:.1}s (writer included)",
        bytes as f64 / 1e6,
        written as f64 / write_secs,
        lag.as_secs_f64() * 1e3,
        stored.load(Ordering::Relaxed),
        reads.load(Ordering::Relaxed),
        reads.load(Ordering::Relaxed) as f64 / write_secs
    );
}

fn array(secs: u64, hz: f64, history: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("metrics_log.json");
    let element = |i: u64| {
        let l = line(i);
        format!("{},\n", l.trim_end())
    };
    let mut text = String::from("[\n");
    for i in 0..history {
        text.push_str(&element(i));
    }
    std::fs::write(&path, text).expect("write");
    let stored = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    let handle =
        source::spawn(std::slice::from_ref(&path), SourceOptions::default(), move |ev| tx.send(ev).is_ok())
            .expect("spawn");
    let st = stored.clone();
    let p = path.clone();
    let consumer = std::thread::spawn(move || {
        consume(rx, p, |_, _| {
            st.fetch_add(1, Ordering::Relaxed);
        })
    });
    let t0 = Instant::now();
    while stored.load(Ordering::Relaxed) < history && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let history_ms = t0.elapsed().as_secs_f64() * 1e3;
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    let period = Duration::from_secs_f64(1.0 / hz);
    let total = (secs as f64 * hz) as u64;
    let c0 = cpu_seconds();
    let t0 = Instant::now();
    let mut behind = Vec::new();
    for i in 0..total {
        let due = t0 + period.mul_f64(i as f64);
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        f.write_all(element(history + i).as_bytes()).expect("write");
        if i % (hz as u64).max(1) == 0 {
            behind.push((history + i).saturating_sub(stored.load(Ordering::Relaxed)) as f64);
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - c0;
    let t_end = Instant::now();
    while stored.load(Ordering::Relaxed) < history + total && t_end.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let caught_up = t_end.elapsed().as_secs_f64() * 1e3;
    drop(handle);
    let _ = consumer.join();
    let max_behind = behind.iter().copied().fold(0.0, f64::max);
    println!(
        "array: {history} elements read in {history_ms:.0} ms; then {total} appended at {hz} Hz for {wall:.1}s: \
         CPU {:.1}% of a core (process), stored {} of {}, at most {max_behind:.0} elements behind \
         (sampled once a second), caught up {caught_up:.0} ms after the last",
        cpu / wall * 100.0,
        stored.load(Ordering::Relaxed),
        history + total
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let num = |i: usize, d: f64| args.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(d);
    match args.first().map(String::as_str) {
        Some("latency") => {
            let (n, hz) = (num(1, 1000.0) as u64, num(2, 10.0));
            latency(n, hz, None);
            latency(n, hz, Some(Duration::from_millis(500)));
        }
        Some("idle") => {
            let secs = num(1, 60.0) as u64;
            let dir = tempfile::tempdir().expect("tempdir");
            let file = dir.path().join("run.jsonl");
            let content: String = (0..10_000).map(line).collect();
            std::fs::write(&file, content).expect("write");
            idle(secs, "a quiet 10,000-line file", &file, None);
            idle(secs, "a quiet 10,000-line file", &file, Some(Duration::from_millis(500)));
            idle(secs, "a directory holding it", dir.path(), None);
        }
        Some("throughput") => throughput(num(1, 50_000.0) as u64, num(2, 20.0) as u64),
        Some("array") => array(num(1, 20.0) as u64, num(2, 100.0), num(3, 20_000.0) as u64),
        _ => eprintln!(
            "usage: cargo bench --bench follow -- latency [N] [HZ] | idle [SECS] | throughput [RATE] [SECS] \
             | array [SECS] [HZ] [HISTORY]"
        ),
    }
}
