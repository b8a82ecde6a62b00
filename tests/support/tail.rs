//! Shared helpers of the tailing tests: a collector that turns source events into per-file
//! incarnations (what was read of each version of the file) and a wait that never sleeps for
//! correctness, only polls a condition with a generous deadline.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use tmon::source::{self, FileState, SourceEvent, SourceHandle, SourceOptions};

/// How long a condition may take on a loaded 2-core machine before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// What was read of one version of a file.
#[derive(Debug, Default, Clone)]
pub struct Incarnation {
    pub bytes: Vec<u8>,
    pub next_line: u64,
    /// `first_line` values that did not continue the previous event.
    pub numbering_errors: Vec<String>,
}

impl Incarnation {
    /// The `step` of every line, in order (lines without one are an error).
    pub fn steps(&self) -> Vec<u64> {
        let mut v = Vec::new();
        for line in self.bytes.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let j: serde_json::Value = serde_json::from_slice(line)
                .unwrap_or_else(|e| panic!("bad line {:?}: {e}", String::from_utf8_lossy(line)));
            v.push(j["step"].as_u64().expect("a step"));
        }
        v
    }
}

#[derive(Debug, Default, Clone)]
pub struct FileLog {
    pub path: PathBuf,
    pub incarnations: Vec<Incarnation>,
    pub states: Vec<FileState>,
    pub restarts: Vec<String>,
    /// Why the file could not be read, each time it could not.
    pub problems: Vec<String>,
    pub documents: Vec<Vec<u8>>,
    pub lines_events: usize,
}

impl FileLog {
    pub fn current(&self) -> &Incarnation {
        self.incarnations.last().expect("an incarnation")
    }
}

pub struct Collector {
    rx: Receiver<SourceEvent>,
    pub handle: Option<SourceHandle>,
    pub events: Vec<SourceEvent>,
    pub files: Vec<FileLog>,
}

impl Collector {
    pub fn start(paths: &[PathBuf], opts: SourceOptions) -> Collector {
        let (handle, rx) = source::spawn_channel(paths, opts).expect("spawn");
        Collector { rx, handle: Some(handle), events: Vec::new(), files: Vec::new() }
    }

    pub fn file(&self, i: usize) -> &FileLog {
        &self.files[i]
    }

    fn take(&mut self, ev: SourceEvent) {
        let i = ev.file();
        if self.files.len() <= i {
            self.files.resize_with(i + 1, FileLog::default);
        }
        let f = &mut self.files[i];
        match &ev {
            SourceEvent::Found { path, .. } => {
                f.path = path.clone();
                f.incarnations.push(Incarnation { next_line: 1, ..Default::default() });
            }
            SourceEvent::Lines { first_line, bytes, .. } => {
                f.lines_events += 1;
                let inc = f.incarnations.last_mut().expect("Found first");
                if *first_line != inc.next_line {
                    inc.numbering_errors.push(format!("expected line {}, got {first_line}", inc.next_line));
                }
                let n =
                    bytes.iter().filter(|&&b| b == b'\n').count() as u64 + u64::from(!bytes.ends_with(b"\n"));
                inc.next_line = first_line + n;
                inc.bytes.extend_from_slice(bytes);
                if !bytes.ends_with(b"\n") {
                    // A final line sent without its newline: keep lines separable.
                    inc.bytes.push(b'\n');
                }
            }
            SourceEvent::Document { bytes, .. } => f.documents.push(bytes.clone()),
            SourceEvent::Restarted { reason, .. } => {
                f.restarts.push(reason.clone());
                f.incarnations.push(Incarnation { next_line: 1, ..Default::default() });
            }
            SourceEvent::State { state, .. } => f.states.push(*state),
            SourceEvent::Unreadable { reason, .. } => {
                f.states.push(FileState::Unreadable);
                f.problems.push(reason.clone());
            }
            // Files read as bytes (other formats): their bytes, in order, in the incarnation.
            SourceEvent::Bytes { bytes, .. } => {
                let inc = f.incarnations.last_mut().expect("Found first");
                inc.bytes.extend_from_slice(bytes);
            }
            SourceEvent::Changed { .. } => {}
        }
        self.events.push(ev);
    }

    /// Takes every event available within `wait`.
    pub fn pump(&mut self, wait: Duration) {
        if let Ok(ev) = self.rx.recv_timeout(wait) {
            self.take(ev);
            while let Ok(ev) = self.rx.try_recv() {
                self.take(ev);
            }
        }
    }

    /// Takes events until `cond` holds; fails the test after [`DEADLINE`].
    pub fn wait_for(&mut self, what: &str, cond: impl Fn(&Collector) -> bool) {
        let t0 = Instant::now();
        while !cond(self) {
            if t0.elapsed() > DEADLINE {
                panic!("timed out waiting for {what}; files: {:#?}", summary(&self.files));
            }
            self.pump(Duration::from_millis(20));
        }
    }

    /// Takes events for `d` more (to catch anything sent twice).
    pub fn settle(&mut self, d: Duration) {
        let t0 = Instant::now();
        while t0.elapsed() < d {
            self.pump(Duration::from_millis(20));
        }
    }
}

fn summary(files: &[FileLog]) -> Vec<String> {
    files
        .iter()
        .map(|f| {
            let steps: Vec<usize> = f.incarnations.iter().map(|i| i.steps().len()).collect();
            format!(
                "{}: states {:?} restarts {:?} lines per incarnation {:?} documents {}",
                f.path.display(),
                f.states,
                f.restarts,
                steps,
                f.documents.len()
            )
        })
        .collect()
}

/// A typical log line, with multibyte UTF-8 so split writes cut characters.
pub fn line(step: u64) -> String {
    format!("{{\"step\": {step}, \"loss\": {:.4}, \"note\": \"é漢🙂\"}}\n", 1.0 / (step as f64 + 1.0))
}

pub fn lines(range: std::ops::Range<u64>) -> String {
    range.map(line).collect()
}

/// Appends `bytes` to `path` in random pieces of 1..=max bytes, each its own write, with a
/// short pause now and then so the reader sees the file mid-line.
pub fn append_in_pieces(path: &Path, bytes: &[u8], max: u64, seed: u64) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open");
    let mut rng = super::rng::Rng::new(seed);
    let mut i = 0;
    while i < bytes.len() {
        let n = (1 + rng.below(max as usize)).min(bytes.len() - i);
        f.write_all(&bytes[i..i + n]).expect("write");
        i += n;
        if rng.below(8) == 0 {
            std::thread::sleep(Duration::from_millis(1 + rng.below(4) as u64));
        }
    }
}

pub fn append(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open");
    f.write_all(bytes).expect("write");
}

pub fn range(n: u64) -> Vec<u64> {
    (0..n).collect()
}

/// The `Lines` events of `evs`: (first line number, text).
pub fn lines_of(evs: &[SourceEvent]) -> Vec<(u64, String)> {
    evs.iter()
        .filter_map(|e| match e {
            SourceEvent::Lines { first_line, bytes, .. } => {
                Some((*first_line, String::from_utf8_lossy(bytes).into_owned()))
            }
            _ => None,
        })
        .collect()
}
