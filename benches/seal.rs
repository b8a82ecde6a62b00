//! Timing of the compact store's seal (`tmon::store::Packed`, the monitor's columns: each block of
//! 64 values encoded as a constant, decimals or raw values) on real columns, with plain
//! `std::time` (no criterion): `cargo bench --bench seal [-- FILE...]`. The columns are every
//! numeric key of the JSON Lines files given (default: the first 20 runs of the 200 x 5,000 sweep,
//! `benches/data/monitor_sweep_200x5000`, made by `benches/monitor/sweep.sh`), each pushed into a
//! compact column value by value. Prints the best and median of several runs, in milliseconds and
//! nanoseconds a value, and a digest of the encoded columns (equal digests: the same encoding).

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::hint::black_box;
use std::time::Instant;
use tmon::store::Packed;

const RUNS: usize = 15;

/// As `store::beyond_f32`: a value `f32` cannot hold at its precision stays `f64`.
fn beyond_f32(x: f64) -> bool {
    let a = x.abs();
    a.is_finite() && a != 0.0 && !((f32::MIN_POSITIVE as f64)..=(f32::MAX as f64)).contains(&a)
}

fn main() {
    let mut files: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if files.is_empty() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/monitor_sweep_200x5000");
        files = (0..20).map(|k| format!("{dir}/run_{k:03}/logs.jsonl")).collect();
    }
    // (values, whether pushed at f32 precision): the monitor keeps a run's metrics at display
    // precision (`Store::keep_display_precision`), its steps and times exact.
    let mut columns: Vec<(Vec<f64>, bool)> = Vec::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            eprintln!("{f}: not found (benches/monitor/sweep.sh open RUNS=200 STEPS=5000 makes it)");
            std::process::exit(2);
        };
        let mut by_key: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for line in text.lines() {
            let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            for (k, v) in m {
                if let Some(x) = v.as_f64() {
                    by_key.entry(k).or_default().push(x);
                }
            }
        }
        for (k, vals) in by_key {
            let narrow = k != "step" && k != "time" && !vals.iter().any(|&x| beyond_f32(x));
            columns.push((vals, narrow));
        }
    }
    let values: usize = columns.iter().map(|c| c.0.len()).sum();
    let narrow = columns.iter().filter(|c| c.1).count();
    println!("{} files, {} columns ({narrow} at f32 precision), {values} values", files.len(), columns.len());
    let fill = |mut p: Packed, (c, narrow): &(Vec<f64>, bool)| {
        // As the loader does: room for the values expected, so the timing is of the encoding.
        p.reserve_exact(c.len());
        if *narrow {
            c.iter().for_each(|&v| p.push_narrow(v));
        } else {
            c.iter().for_each(|&v| p.push(v));
        }
        p
    };
    let build = || -> Vec<Packed> { columns.iter().map(|c| fill(Packed::compact(), c)).collect() };
    let mut h = DefaultHasher::new();
    for p in build() {
        format!("{p:?}").hash(&mut h);
    }
    println!("digest of the encoded columns: {:016x}", h.finish());
    // SEAL_RUNS=N: more runs (for a profile of the seal alone).
    let runs = std::env::var("SEAL_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(RUNS);
    let time = |label: &str, f: &dyn Fn() -> Vec<Packed>| {
        let mut ms: Vec<f64> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                black_box(f());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let per = |m: f64| m * 1e6 / values as f64;
        println!(
            "{label:<40} best {:>8.3} ms ({:.2} ns a value)   median {:>8.3} ms ({:.2} ns)",
            ms[0],
            per(ms[0]),
            ms[runs / 2],
            per(ms[runs / 2])
        );
    };
    time("plain columns (raw blocks)", &|| columns.iter().map(|c| fill(Packed::default(), c)).collect());
    time("compact columns (the monitor's)", &build);
}
