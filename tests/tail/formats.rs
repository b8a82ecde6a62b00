//! Live and batch agree on the other formats (issue 15): a TensorBoard event file, a W&B run file
//! and CSV files replayed through the tailer in random-sized appends (cutting records, their
//! headers and checksums anywhere, as a writer mid-`write` does) and decoded by the live set give
//! the same store, nothing skipped, and the same flags as `tmon check` reads of the finished file.

use std::path::Path;
use std::time::{Duration, Instant};
use tmon::run::live::LiveFile;
use tmon::run::Run;
use tmon::source::Tailer;

/// Replays `src` into a fresh file of the same name through a tailer set up as the monitor's
/// and `check --follow`'s, polling after every append.
fn replay(src: &Path, seed: u64) -> Run {
    let bytes = std::fs::read(src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(src.file_name().unwrap());
    std::fs::write(&path, b"").unwrap();
    let mut live = LiveFile::new(Run::new(&path, Default::default(), Default::default()));
    let opts = tmon::run::live::source_options(None).tail;
    let mut t = Tailer::new(0, &path, opts);
    let mut rng = crate::support::rng::Rng::new(seed);
    let mut now = Instant::now();
    let max = (bytes.len() / 40).max(16);
    let mut w = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    let mut i = 0;
    while i < bytes.len() {
        let n = (1 + rng.below(max)).min(bytes.len() - i);
        std::io::Write::write_all(&mut w, &bytes[i..i + n]).unwrap();
        i += n;
        now += Duration::from_millis(1 + rng.below(30) as u64);
        for ev in t.poll_at(now) {
            live.apply(ev, now);
        }
    }
    for ev in t.poll_at(now + Duration::from_secs(2)) {
        live.apply(ev, now);
    }
    // The last step is fed once the file has been quiet (the live set's clock).
    live.tick(now + Duration::from_secs(2));
    live.run
}

fn same_f64(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

fn assert_agree(batch: &Run, live: &Run, what: &str) {
    let (b, l) = (&batch.store, &live.store);
    assert_eq!(l.skipped.count, 0, "{what}: nothing skipped live: {:?}", l.skipped.kept);
    assert_eq!(l.records(), b.records(), "{what}: records");
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
fn event_wandb_and_csv_files_followed_in_pieces_agree_with_check() {
    for rel in [
        "formats/tb/simple/events.out.tfevents.1796562658.vm",
        "formats/tb/tensor/events.out.tfevents.1796562658.vm.4312.0",
        "formats/tb/keras/events.out.tfevents.1796562658.vm.4312.1",
        "formats/wandb/wandb/offline-run-20261206_131343-fixrun01/run-fixrun01.wandb",
        "formats/csv/lightning/version_0/metrics.csv",
        "formats/csv/ultralytics/results.csv",
        "formats/csv/keras/training.log",
    ] {
        // Alone (a W&B run's resumed attempts beside it would be read with it by `check`).
        let alone = tempfile::tempdir().unwrap();
        let src = alone.path().join(Path::new(rel).file_name().unwrap());
        std::fs::copy(crate::support::fixture(rel), &src).unwrap();
        let mut batch = Run::load_all(&src, Default::default(), Default::default()).unwrap();
        assert_eq!(batch.len(), 1, "{rel}");
        let batch = batch.remove(0);
        assert!(batch.store.records() > 5, "{rel}: the fixture is read");
        for seed in [1, 2, 3] {
            let live = replay(&src, seed);
            assert_agree(&batch, &live, &format!("{rel}, seed {seed}"));
        }
    }
}

#[test]
fn a_lightning_csv_rewritten_with_a_new_column_is_read_on_not_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.csv");
    let row = |s: u64| format!("{s},{}", 2.0 / (1.0 + s as f64));
    let mut text = String::from("step,train_loss\n");
    for s in 0..6 {
        text.push_str(&row(s));
        text.push('\n');
    }
    std::fs::write(&path, &text).unwrap();
    let mut live = LiveFile::new(Run::new(&path, Default::default(), Default::default()));
    let mut t = Tailer::new(0, &path, tmon::run::live::source_options(None).tail);
    let mut now = Instant::now();
    let poll = |t: &mut Tailer, live: &mut LiveFile, now: Instant| {
        for ev in t.poll_at(now) {
            live.apply(ev, now);
        }
    };
    poll(&mut t, &mut live, now);
    assert_eq!(live.run.store.records(), 6);
    // Validation adds a column: Lightning writes the whole file again, old rows padded.
    let mut text = String::from("step,train_loss,val_loss\n");
    for s in 0..6 {
        text.push_str(&format!("{},\n", row(s)));
    }
    for s in 6..9 {
        text.push_str(&format!("{},{}\n", row(s), 1.0 / (1.0 + s as f64)));
    }
    std::fs::write(&path, &text).unwrap();
    now += Duration::from_secs(1);
    poll(&mut t, &mut live, now);
    poll(&mut t, &mut live, now + Duration::from_secs(2));
    let batch = Run::load_file(&path, Default::default(), Default::default()).unwrap();
    assert_eq!(live.restarts, 0, "no restart");
    assert!(live.run.flags().iter().all(|f| f.kind.to_string() != "restart"), "{:?}", live.run.flags());
    assert_agree(&batch, &live.run, "a rewritten metrics.csv");
}
