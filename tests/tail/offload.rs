//! The monitor's app with decoding off its loop (`App::set_offload`, as the monitor runs it), fed
//! by the real source and the real readers: a big piece of a file in another format, or a
//! database's history, goes with its run to a decode job (run here on other threads, as the
//! loader's pool runs them); meanwhile the app answers keys and shows the run as loading; when
//! every job is back, the run is what `tmon check` reads, and following goes on.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use prost::Message;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tmon::app::{App, Status};
use tmon::event::{Event, Opened};
use tmon::formats::tfevents::{Event as TfEvent, Summary, Value};
use tmon::formats::tfrecord;
use tmon::run::live::{source_options, DecodeJob, Decoded};
use tmon::source::{SourceEvent, Sources};

fn scalar(step: i64, tag: &str, x: f32, out: &mut Vec<u8>) {
    let value = Value { tag: tag.to_owned(), simple_value: Some(x), ..Default::default() };
    let ev = TfEvent {
        wall_time: 1.7e9 + step as f64,
        step,
        summary: Some(Summary { value: vec![value] }),
        ..Default::default()
    };
    tfrecord::encode(&ev.encode_to_vec(), out);
}

fn events(steps: std::ops::Range<i64>, header: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if header {
        let header =
            TfEvent { wall_time: 1.7e9, file_version: Some("brain.Event:2".into()), ..Default::default() };
        tfrecord::encode(&header.encode_to_vec(), &mut out);
    }
    for s in steps {
        scalar(s, "train/loss", 2.0 / (1.0 + s as f32), &mut out);
        scalar(s, "train/lr", 0.01, &mut out);
    }
    out
}

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// The app, the source on `paths`, and the decode jobs out on threads.
struct Monitor {
    app: App,
    sources: Sources,
    tx: mpsc::Sender<(usize, Decoded, std::thread::ThreadId)>,
    rx: mpsc::Receiver<(usize, Decoded, std::thread::ThreadId)>,
    out: usize,
    jobs: usize,
}

impl Monitor {
    fn new(paths: &[PathBuf]) -> Monitor {
        let none: [PathBuf; 0] = [];
        let mut app = App::new(&none, Default::default());
        app.set_offload(true);
        let (tx, rx) = mpsc::channel();
        Monitor { app, sources: Sources::new(paths, source_options(None)), tx, rx, out: 0, jobs: 0 }
    }

    /// Applies `ev` as the monitor's loop does: the jobs it makes go to threads, and a file
    /// found is looked at (its size: where its history ends, as the monitor's opener says).
    fn update(&mut self, ev: Event) -> bool {
        let found = match &ev {
            Event::Source(SourceEvent::Found { file, path }) => Some((*file, path.clone())),
            _ => None,
        };
        let mut changed = self.app.update(ev);
        if let Some((file, path)) = found {
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            let info = Opened {
                path,
                size,
                end: size,
                idle: None,
                preview: None,
                config: Default::default(),
                model_beside: None,
            };
            changed |= self.app.update(Event::Opened { file, info: Box::new(info) });
        }
        for (file, job) in self.app.take_decodes() {
            self.spawn(file, job);
        }
        changed
    }

    fn spawn(&mut self, file: usize, job: DecodeJob) {
        assert!(!job.is_empty());
        let tx = self.tx.clone();
        self.out += 1;
        self.jobs += 1;
        std::thread::spawn(move || {
            let back = job.run();
            let _ = tx.send((file, back, std::thread::current().id()));
        });
    }

    /// What the source reads now, applied.
    fn poll(&mut self) {
        for ev in self.sources.poll_all(Instant::now()) {
            self.update(Event::Source(ev));
        }
    }

    /// Takes back one finished job (waiting for it).
    fn take_one(&mut self) {
        let (file, back, on) = self.rx.recv_timeout(Duration::from_secs(60)).expect("a decode job ends");
        assert_ne!(on, std::thread::current().id(), "decoded on another thread");
        self.out -= 1;
        self.update(Event::Decoded { file, back: Box::new(back) });
    }

    /// Until no job is out.
    fn settle(&mut self) {
        while self.out > 0 {
            self.take_one();
        }
    }

    /// The held last step fed, as the loop does once the files are quiet.
    fn quiet(&mut self) {
        self.app.now += Duration::from_secs(1);
        self.app.feed_held();
    }
}

/// `tmon check`'s reading of `path`: records of each run.
fn check(path: &Path) -> Vec<usize> {
    let runs = tmon::formats::load(path, &Default::default(), &Default::default())
        .expect("a format")
        .expect("check reads it");
    runs.iter().map(|r| r.store.records()).collect()
}

/// A TensorBoard run folder that appears in a watched directory with a big event file (its
/// history streamed by the source from the start) is decoded off the loop: the run is away, the
/// slot shows it is loading, keys are answered; then it is all there, small appends are decoded
/// at once, a big one goes away and comes back again.
#[test]
fn a_big_event_file_found_later_is_decoded_off_the_loop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut m = Monitor::new(&[dir.path().to_owned()]);
    m.poll();
    assert!(m.app.slots.is_empty());

    let run = dir.path().join("late");
    std::fs::create_dir(&run).expect("mkdir");
    let file = run.join("events.out.tfevents.1700000000.host.1");
    let n = 150_000;
    std::fs::write(&file, events(0..n, true)).expect("write");
    m.sources.request_rescan();
    m.poll();
    assert_eq!(m.app.slots.len(), 1, "the new run");
    assert!(m.jobs >= 1, "its bytes went to decode jobs");
    assert!(m.app.slots[0].live.away(), "the run is with a job");
    assert_eq!(m.app.slots[0].run().store.records(), 0, "nothing decoded here");
    assert!(matches!(m.app.status(), Some(Status::Loading(_))), "{:?}", m.app.status());
    // The loop answers keys meanwhile.
    assert!(m.update(key('?')));
    assert!(m.app.view.help, "the help opened while the history decodes");
    m.update(key('?'));
    m.settle();
    m.quiet();
    let slot = &m.app.slots[0];
    assert!(!slot.live.away() && slot.loading.is_none());
    assert_eq!(slot.run().store.skipped.count, 0, "{:?}", slot.run().store.skipped.kept);
    assert_eq!(vec![slot.run().store.records()], check(&run));
    assert_eq!(slot.run().store.records(), n as usize);

    // A few steps appended: decoded in the loop at once (no job).
    let jobs = m.jobs;
    let mut f = std::fs::OpenOptions::new().append(true).open(&file).expect("open");
    f.write_all(&events(n..n + 5, false)).expect("append");
    f.flush().expect("flush");
    m.poll();
    m.quiet();
    assert_eq!(m.jobs, jobs, "a small append needs no job");
    assert_eq!(m.app.slots[0].run().store.records(), n as usize + 5);

    // A big append (a writer far ahead): away and back, every step once.
    f.write_all(&events(n + 5..n + 20_000, false)).expect("append");
    drop(f);
    m.poll();
    assert!(m.jobs > jobs, "a big piece of a live run goes to a job");
    assert!(m.app.slots[0].loading.is_some(), "catching up shows as loading");
    m.settle();
    m.quiet();
    let slot = &m.app.slots[0];
    assert!(slot.loading.is_none());
    assert_eq!(slot.run().store.records(), n as usize + 20_000);
    assert_eq!(vec![slot.run().store.records()], check(&run));
    assert_eq!(slot.run().store.last_record().map(|r| r.step), Some((n + 19_999) as f64));
}

/// An MLflow database's history (more rows than one piece of the source's news, two runs) is
/// decoded off the loop piece by piece, each run as `tmon check` reads it; rows inserted later
/// are followed.
#[test]
fn an_mlflow_database_history_is_decoded_off_the_loop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mlflow.db");
    let fixture = crate::support::fixture("formats/mlflow/sqlite/mlflow.db");
    let src = rusqlite::Connection::open_with_flags(&fixture, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the fixture");
    let mut q = src
        .prepare(
            "SELECT sql FROM sqlite_master WHERE type = 'table' \
             AND name IN ('runs', 'metrics', 'params', 'experiments')",
        )
        .expect("prepare");
    let tables: Vec<String> =
        q.query_map([], |r| r.get(0)).expect("query").map(|r| r.expect("sql")).collect();
    let mut db = rusqlite::Connection::open(&path).expect("create");
    for sql in tables {
        db.execute(&sql, []).expect("table");
    }
    db.execute(
        "INSERT INTO experiments (experiment_id, name, lifecycle_stage) VALUES (0, 'Default', 'active')",
        [],
    )
    .expect("experiment");
    let insert = |db: &mut rusqlite::Connection, id: &str, steps: std::ops::Range<i64>| {
        let t = db.transaction().expect("transaction");
        for s in steps {
            for (key, x) in [("train/loss", 2.0 / (1.0 + s as f64)), ("lr", 0.01)] {
                t.execute(
                    "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) \
                     VALUES (?1, ?2, ?3, ?4, ?5, 0)",
                    rusqlite::params![key, x, 1_700_000_000_000 + s, id, s],
                )
                .expect("metric");
            }
        }
        t.commit().expect("commit");
    };
    for (id, name, start) in [("aaa", "first", 1), ("bbb", "second", 2)] {
        db.execute(
            "INSERT INTO runs (run_uuid, name, status, start_time, lifecycle_stage, experiment_id) \
             VALUES (?1, ?2, 'RUNNING', ?3, 'active', 0)",
            rusqlite::params![id, name, start],
        )
        .expect("run");
    }
    insert(&mut db, "aaa", 0..40_000);
    insert(&mut db, "bbb", 0..15_000);

    let mut m = Monitor::new(std::slice::from_ref(&path));
    m.poll();
    assert!(m.jobs >= 2, "{} jobs: every piece of the history decoded off the loop", m.jobs);
    assert!(m.app.slots.iter().all(|s| s.run().store.records() == 0), "nothing decoded here");
    assert!(m.update(key('?')) && m.app.view.help, "keys are answered meanwhile");
    m.update(key('?'));
    m.settle();
    // Nothing more came for a moment after the last piece: the history is in.
    m.quiet();
    let got: Vec<usize> = m.app.slots.iter().map(|s| s.run().store.records()).collect();
    assert_eq!(got, check(&path));
    assert_eq!(got, vec![40_000, 15_000]);
    assert!(m.app.slots.iter().all(|s| s.loading.is_none() && !s.live.away()));

    // Rows inserted later: followed.
    insert(&mut db, "aaa", 40_000..40_010);
    m.poll();
    m.settle();
    m.quiet();
    assert_eq!(m.app.slots[0].run().store.records(), 40_010);
    assert_eq!(m.app.slots[0].run().store.last_record().map(|r| r.step), Some(40_009.0));
}
