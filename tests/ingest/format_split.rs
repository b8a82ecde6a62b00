//! Reading CSV and MLflow file-store runs on every core gives exactly what reading them on one
//! thread, one row after the other, gives: a CSV cut into pieces at line ends (chunk ends in the
//! middle of a row, quoted line ends that stop the cutting, blank and sparse rows, a header
//! written again), and a file-store run of many metric files merged by time.

use std::io::Write;
use std::path::Path;
use tmon::formats::follow::Decoder;
use tmon::run::{Run, Threads};

/// A Lightning-style `metrics.csv` of at least `min_bytes`: sparse train and val rows, a NaN
/// loss, a loss spike, blank and whitespace lines, a row too long, the header written again,
/// and `quoted` (a quoted cell holding a line end) once past `quote_at` bytes.
fn lightning_csv(min_bytes: usize, quote_at: Option<usize>) -> Vec<u8> {
    let mut out = Vec::new();
    let header = "epoch,step,train_loss,val_loss,lr,note";
    writeln!(out, "{header}").unwrap();
    let mut step = 0u64;
    let mut quoted = false;
    while out.len() < min_bytes {
        step += 1;
        let loss = 2.0 / (1.0 + step as f64 * 1e-3) + (step % 7) as f64 * 1e-3;
        let epoch = step / 1000;
        match step % 1009 {
            0 => writeln!(out),
            1 => writeln!(out, "   "),
            2 => writeln!(out, "{epoch},{step},1.0,2.0,0.1,x,extra"),
            3 if step > 20_000 && step < 22_000 => writeln!(out, "{header}"),
            _ if step == 30_001 => writeln!(out, "{epoch},{step},nan,,0.001,"),
            _ if step == 40_001 => writeln!(out, "{epoch},{step},{},,0.001,", loss * 50.0),
            _ if step.is_multiple_of(250) => writeln!(out, "{epoch},{step},,{},,val", loss * 1.1),
            _ if !quoted && quote_at.is_some_and(|at| out.len() > at) => {
                quoted = true;
                writeln!(out, "{epoch},{step},{loss},,0.001,\"two\nlines\"")
            }
            _ => writeln!(out, "{epoch},{step},{loss},,0.001,"),
        }
        .unwrap();
    }
    out
}

/// What reading `bytes` row after row with the CSV engine gives (the follower's decoder, fed
/// the whole file at once).
fn engine(path: &Path, bytes: &[u8]) -> Run {
    let mut run = Run::new(path, Default::default(), Default::default());
    let mut dec = Decoder::for_file(path, bytes, &mut run).expect("a CSV decoder");
    dec.bytes(&mut run, 0, path, 0, bytes, true);
    run
}

/// `got` holds the same records, values, skipped rows and flags as `want`.
fn assert_same_run(got: &Run, want: &Run, what: &str) {
    assert_eq!(got.store.records(), want.store.records(), "{what}: records");
    assert_eq!(got.store.skipped.count, want.store.skipped.count, "{what}: skipped");
    let lines = |r: &Run| r.store.skipped.kept.iter().map(|s| (s.line, s.reason.clone())).collect::<Vec<_>>();
    assert_eq!(lines(got), lines(want), "{what}: skipped rows");
    assert_eq!(got.store.series_count(), want.store.series_count(), "{what}: series");
    for id in want.store.ids() {
        let (a, b) = (got.store.series(id), want.store.series(id));
        assert_eq!(a.name(), b.name());
        let bits = |s: &tmon::store::SeriesView<'_>| {
            s.iter_records().map(|(r, v)| (r, v.to_bits())).collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&b), "{what}: {}", a.name());
    }
    for r in 0..want.store.records() as u32 {
        let (a, b) = (got.store.record(r), want.store.record(r));
        assert_eq!(
            (a.line, a.step.to_bits(), a.time.to_bits()),
            (b.line, b.step.to_bits(), b.time.to_bits())
        );
    }
    let flags = |r: &Run| {
        r.flags()
            .iter()
            .map(|f| (f.kind, f.metric.clone(), f.step.to_bits(), f.message.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(flags(got), flags(want), "{what}: flags");
}

/// Reads `bytes` as `metrics.csv` every way: `tmon check`'s (every core, the analysis apart),
/// one thread, and the pieces split on 3 and 8 threads; each must equal the engine's reading.
fn every_way_equals_the_engine(bytes: &[u8]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.csv");
    std::fs::write(&path, bytes).unwrap();
    let want = engine(&path, bytes);
    assert!(want.store.records() > 1000);
    let mut runs = Run::load_all(&path, Default::default(), Default::default()).unwrap();
    assert_same_run(&runs.remove(0), &want, "load_all");
    let mut one = Run::load_all_with(&path, Default::default(), Default::default(), Threads::One).unwrap();
    assert_same_run(&one.remove(0), &want, "one thread");
    for threads in [3, 8] {
        let mut run = Run::new(&path, Default::default(), Default::default());
        tmon::formats::csv::read_file(&path, &mut run, threads).unwrap();
        assert_same_run(&run, &want, &format!("{threads} threads"));
    }
    want
}

#[test]
fn a_csv_cut_at_line_ends_on_every_core_equals_the_engine() {
    // More than one chunk of 8 MiB (a chunk ends inside a row), many pieces of 256 kB.
    let bytes = lightning_csv(9 << 20, None);
    let want = every_way_equals_the_engine(&bytes);
    // The awkward rows were met: a row too long, skipped; a NaN loss, flagged.
    assert!(want.store.skipped.count > 5, "{}", want.store.skipped.count);
    assert!(want.flags().iter().any(|f| f.metric == "train_loss"), "{:?}", want.flags());
}

#[test]
fn a_quoted_line_end_in_a_later_chunk_hands_the_rest_to_the_engine() {
    // The first chunk is cut into pieces; the second holds a quoted cell over two lines.
    let bytes = lightning_csv(10 << 20, Some(9 << 20));
    let want = every_way_equals_the_engine(&bytes);
    assert!(want.store.records() > 100_000);
}

#[test]
fn a_quoted_line_end_in_the_first_rows_and_no_final_newline() {
    let mut bytes = lightning_csv(1 << 20, Some(100));
    bytes.pop();
    every_way_equals_the_engine(&bytes);
    // And without quotes, the last row without its newline.
    let mut bytes = lightning_csv(1 << 20, None);
    bytes.pop();
    every_way_equals_the_engine(&bytes);
}

#[test]
fn crlf_rows_and_bytes_that_are_not_utf8_are_read_by_the_engine() {
    let text = String::from_utf8(lightning_csv(600 << 10, None)).unwrap();
    every_way_equals_the_engine(text.replace('\n', "\r\n").as_bytes());
    let mut bytes = lightning_csv(600 << 10, None);
    let at = bytes.len() / 2;
    let end = at + bytes[at..].iter().position(|&b| b == b'\n').unwrap();
    bytes.splice(end..end, b",\xff\xfe".iter().copied());
    every_way_equals_the_engine(&bytes);
}

/// A metric file's line: its timestamp, step and value.
type Point = (i64, i64, f64);

/// An MLflow file-store run of `files` metric files (a few nested), each written as MLflow
/// writes them, with times shared across files, one file out of time order, a bad line, a
/// blank line and a last line without its newline.
fn write_file_store(dir: &Path, files: usize, points: u64) -> Vec<(String, Vec<Point>)> {
    std::fs::create_dir_all(dir.join("metrics/train")).unwrap();
    std::fs::write(dir.join("meta.yaml"), "run_id: abc\nrun_name: many-files\nstatus: 3\n").unwrap();
    let mut all = Vec::new();
    for k in 0..files {
        let name = if k % 5 == 0 { format!("train/m{k:02}") } else { format!("m{k:02}") };
        let mut text = String::new();
        let mut pts = Vec::new();
        for i in 0..points {
            // Every third file logs every other step; times repeat across files.
            let step = if k % 3 == 0 { i as i64 * 2 } else { i as i64 };
            let ts = 1_700_000_000_000 + step * 1000 + (k as i64 % 2) * 500;
            let v =
                ((i as f64 + k as f64) * 0.37).sin() + if i == points / 2 && k == 4 { f64::NAN } else { 0.0 };
            pts.push((ts, step, v));
        }
        if k == 7 {
            // Written out of time order (a resumed logger): the store gets them in time order.
            pts.swap(10, 20);
            pts.swap(3, (points - 1) as usize);
        }
        for (i, (ts, step, v)) in pts.iter().enumerate() {
            text.push_str(&format!("{ts} {v} {step}\n"));
            if k == 9 && i == 5 {
                text.push_str("not a metric line\n\n");
            }
        }
        if k == 11 {
            text.pop();
        }
        std::fs::write(dir.join("metrics").join(&name), text).unwrap();
        all.push((name, pts));
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

#[test]
fn a_file_store_run_of_many_metric_files_is_merged_in_time_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mlruns/0/abc");
    let files = write_file_store(&dir, 40, 3000);
    // Every point sorted by (time, step, file, line): the one order the store has.
    let mut points: Vec<(i64, i64, usize, usize, f64)> = Vec::new();
    for (k, (_, pts)) in files.iter().enumerate() {
        points.extend(pts.iter().enumerate().map(|(i, &(ts, step, v))| (ts, step, k, i, v)));
    }
    points.sort_by_key(|p| (p.0, p.1, p.2, p.3));
    // A record per run of one step, none with a series twice.
    let mut steps: Vec<f64> = Vec::new();
    let mut in_record: Vec<usize> = Vec::new();
    for &(_, step, k, _, _) in &points {
        if steps.last() != Some(&(step as f64)) || in_record.contains(&k) {
            steps.push(step as f64);
            in_record.clear();
        }
        in_record.push(k);
    }
    let check = |run: &Run, what: &str| {
        assert_eq!(run.info.name.as_deref(), Some("many-files"));
        assert_eq!(run.store.skipped.count, 1, "{what}");
        assert_eq!(run.store.skipped.kept[0].line, 7, "{what}");
        let got: Vec<f64> = (0..run.store.records() as u32).map(|r| run.store.record(r).step).collect();
        assert_eq!(got, steps, "{what}: records");
        for (k, (name, _)) in files.iter().enumerate() {
            let id = run.store.find(name).unwrap_or_else(|| panic!("{name}"));
            let want: Vec<u64> = points.iter().filter(|p| p.2 == k).map(|p| p.4.to_bits()).collect();
            let got: Vec<u64> = run.store.series(id).iter_records().map(|(_, v)| v.to_bits()).collect();
            assert_eq!(got, want, "{what}: {name}");
        }
        assert!(run.flags().iter().any(|f| f.metric == "m04"), "{what}: {:?}", run.flags());
    };
    let whole = Run::load_all(&dir, Default::default(), Default::default()).unwrap();
    check(&whole[0], "every core");
    let one = Run::load_all_with(&dir, Default::default(), Default::default(), Threads::One).unwrap();
    check(&one[0], "one thread");
    assert_same_run(&whole[0], &one[0], "every core against one thread");
}
