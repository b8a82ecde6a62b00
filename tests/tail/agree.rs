//! Live and batch agree: a log replayed through the tailer in random-sized appends (cutting
//! lines anywhere) gives the same store and raises the same flags (kind, metric, step) as
//! `Run::load_file` on the finished file. Run on our fixture (NaN, a step rewind, a traceback,
//! no final newline) and on every log of the real corpus.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tmon::analysis::FlagConfig;
use tmon::ingest::IngestOptions;
use tmon::run::Run;
use tmon::source::{TailOptions, Tailer};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/live_batch_nan_rewind.jsonl");

/// Replays `src` into a fresh file through a tailer, polling after every append.
fn replay(src: &Path, seed: u64) -> Run {
    let bytes = std::fs::read(src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(src.file_name().unwrap());
    std::fs::write(&path, b"").unwrap();
    let mut run = Run::new(src, IngestOptions::default(), FlagConfig::default());
    let mut t = Tailer::new(0, &path, TailOptions::default());
    let mut rng = crate::support::rng::Rng::new(seed);
    let mut now = Instant::now();
    // Pieces up to 700 bytes, larger for big files (at most ~600 appends per file).
    let max = (bytes.len() as u64 / 300).max(700);
    let mut w = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    let mut i = 0;
    while i < bytes.len() {
        let n = (1 + rng.below(max as usize)).min(bytes.len() - i);
        std::io::Write::write_all(&mut w, &bytes[i..i + n]).unwrap();
        i += n;
        now += Duration::from_millis(1 + rng.below(30) as u64);
        for ev in t.poll_at(now) {
            run.apply(&ev);
        }
    }
    // The writer stops; a final line with no newline is taken once the file settles.
    for ev in t.poll_at(now + Duration::from_secs(2)) {
        run.apply(&ev);
    }
    run
}

fn same_f64(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

fn assert_agree(batch: &Run, live: &Run, what: &str) {
    let (b, l) = (&batch.store, &live.store);
    assert_eq!(l.records(), b.records(), "{what}: records");
    assert_eq!(l.skipped.count, b.skipped.count, "{what}: skipped lines");
    assert_eq!(l.series_count(), b.series_count(), "{what}: series");
    for id in b.ids() {
        let name = b.name(id);
        let lid = l.find(name).unwrap_or_else(|| panic!("{what}: series {name} missing live"));
        let (bs, ls) = (b.series(id), l.series(lid));
        assert!(same_f64(&bs.values(), &ls.values()), "{what}: values of {name}");
        assert!(same_f64(&bs.steps(), &ls.steps()), "{what}: steps of {name}");
    }
    let key = |r: &Run| -> Vec<(String, String, String)> {
        r.flags().iter().map(|f| (f.kind.to_string(), f.metric.clone(), format!("{:?}", f.step))).collect()
    };
    assert_eq!(key(live), key(batch), "{what}: flags (kind, metric, step)");
}

#[test]
fn fixture_with_nan_and_a_rewind_agrees() {
    let batch = Run::load_file(Path::new(FIXTURE), IngestOptions::default(), FlagConfig::default()).unwrap();
    assert!(batch.store.records() > 150, "the fixture is read: {} records", batch.store.records());
    for seed in [1, 2, 3, 4] {
        let live = replay(Path::new(FIXTURE), seed);
        assert_agree(&batch, &live, &format!("fixture, seed {seed}"));
    }
    eprintln!("batch flags on the fixture: {}", batch.flags().len());
}

/// The logs under `dir`, sorted.
fn logs_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    for p in v {
        if p.is_dir() {
            logs_under(&p, out);
        } else if p.extension().is_some_and(|e| e == "json" || e == "jsonl" || e == "txt") {
            out.push(p);
        }
    }
}

#[test]
fn real_corpus_agrees() {
    let Some(files) = crate::support::corpus::logs() else { return };
    for f in &files {
        let batch = Run::load_file(f, IngestOptions::default(), FlagConfig::default()).unwrap();
        let live = replay(f, 99);
        assert_agree(&batch, &live, &f.display().to_string());
    }
}

/// The same check on any directory of logs (e.g. the training harness's runs, written out by
/// `tmon demo` or a script), on demand:
/// `TMON_AGREE_DIR=DIR cargo test --release --test tail agree::any_directory -- --ignored`.
#[test]
#[ignore = "on demand: set TMON_AGREE_DIR"]
fn any_directory_agrees() {
    let dir = std::env::var("TMON_AGREE_DIR").expect("TMON_AGREE_DIR names the directory of logs to check");
    let mut files = Vec::new();
    logs_under(Path::new(&dir), &mut files);
    assert!(!files.is_empty(), "no logs in {dir}");
    for f in &files {
        let batch = Run::load_file(f, IngestOptions::default(), FlagConfig::default()).unwrap();
        for seed in [5, 6] {
            let live = replay(f, seed);
            assert_agree(&batch, &live, &format!("{} (seed {seed})", f.display()));
        }
        eprintln!("{}: {} records, {} flags agree", f.display(), batch.store.records(), batch.flags().len());
    }
}
