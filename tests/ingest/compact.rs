//! The monitor's compact columns (`IngestOptions::compact`, `store::Packed`) against the plain
//! ones `tmon check` keeps: every step, time and value of every series of our fixtures and of the
//! real corpus reads back bit for bit (a NaN as a NaN), before and after the values are held at
//! display precision, and the compact store is never the larger.

use std::path::{Path, PathBuf};
use tmon::ingest::IngestOptions;
use tmon::run::Run;

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn load(path: &Path, compact: bool) -> Option<Run> {
    Run::load_file(path, IngestOptions { compact, ..Default::default() }, Default::default()).ok()
}

/// Every point of `a` and `b` is the same; returns how many were compared.
fn assert_same(what: &str, a: &Run, b: &Run) -> usize {
    let (sa, sb) = (&a.store, &b.store);
    assert_eq!(sa.records(), sb.records(), "{what}: records");
    for r in 0..sa.records() {
        let (ma, mb) = (sa.record(r as u32), sb.record(r as u32));
        assert!(same(ma.step, mb.step) && same(ma.time, mb.time) && ma.line == mb.line, "{what}: record {r}");
    }
    assert_eq!(sa.series_count(), sb.series_count(), "{what}: series");
    let mut points = 0;
    for id in sa.ids() {
        let (x, y) = (sa.series(id), sb.series(id));
        assert_eq!((x.name(), x.len(), x.nonfinite()), (y.name(), y.len(), y.nonfinite()), "{what}");
        assert_eq!(x.min_max(), y.min_max(), "{what}: {}", x.name());
        for i in 0..x.len() {
            assert!(
                same(x.value(i), y.value(i)),
                "{what}: {} point {i}: {} vs {}",
                x.name(),
                x.value(i),
                y.value(i)
            );
            assert!(
                same(x.step(i), y.step(i)) && same(x.time(i), y.time(i)),
                "{what}: {} point {i}",
                x.name()
            );
        }
        points += x.len();
    }
    points
}

fn logs_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            logs_under(&p, out);
        } else if p.extension().is_some_and(|x| x == "jsonl" || x == "json" || x == "csv") {
            out.push(p);
        }
    }
}

fn check_all(files: &[PathBuf]) -> usize {
    let mut points = 0;
    for f in files {
        let what = f.display().to_string();
        let (Some(mut compact), Some(mut plain)) = (load(f, true), load(f, false)) else { continue };
        assert!(compact.store.heap_bytes() <= plain.store.heap_bytes() + 4096, "{what}: compact is larger");
        points += assert_same(&what, &compact, &plain);
        compact.store.keep_display_precision();
        plain.store.keep_display_precision();
        assert_same(&format!("{what} at display precision"), &compact, &plain);
    }
    points
}

#[test]
fn compact_columns_read_back_every_fixture_bit_for_bit() {
    let mut files = Vec::new();
    logs_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"), &mut files);
    files.sort();
    assert!(files.len() > 20, "{} fixtures", files.len());
    assert!(check_all(&files) > 1000);
}

#[test]
fn compact_columns_read_back_the_real_corpus_bit_for_bit() {
    let Some(files) = crate::support::corpus::logs() else { return };
    assert!(check_all(&files) > 10_000);
}

#[test]
fn a_sweep_like_log_takes_a_third_of_the_plain_store() {
    // Twelve metrics printed with four significant digits and a clock, as
    // benches/monitor/sweep_gen.py writes them.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("logs.jsonl");
    let mut text = String::new();
    let mut x = 12345u64;
    for step in 0..20_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let noise = (x % 1000) as f64 / 1000.0;
        let loss = 2.3 * (-(step as f64) / 5000.0).exp() + 0.3 + 0.05 * noise;
        text.push_str(&format!(
            "{{\"step\":{step},\"loss\":{:.4},\"acc\":{:.4},\"lr\":{:.4e},\"gnorm\":{:.3},\"tps\":{},\"mem\":12.5,\"wd\":0.01,\"time\":{:.1}}}\n",
            loss,
            1.0 - loss / 3.0,
            1e-3 * (1.0 + step as f64).powf(-0.5),
            1.0 + noise,
            12000 + x % 500,
            1_767_225_600.3 + step as f64 * 0.25,
        ));
    }
    std::fs::write(&path, text).expect("write");
    let (compact, plain) = (load(&path, true).expect("reads"), load(&path, false).expect("reads"));
    assert_same("sweep-like", &compact, &plain);
    let (c, p) = (compact.store.heap_bytes(), plain.store.heap_bytes());
    assert!(c * 3 < p, "compact {c} bytes, plain {p} bytes");
}
