//! Cost of the analyzer per record, for the speed budget of `tmon check` (NOTES: 1M lines of
//! 6-10 metrics should be read within 10x of `wc -l`). Ignored by default; run with
//! `cargo test --release --test flags perf:: -- --ignored --nocapture`.

use std::time::Instant;
use tmon::analysis::{Analyzer, FlagConfig};
use tmon::harness::Scenario;
use tmon::store::Store;

#[test]
#[ignore]
fn analyzer_cost_per_record() {
    // Real harness records (10 metrics a line), repeated to 1M lines with growing steps.
    // TMON_PERF_RECORDS: fewer records, e.g. under `valgrind --tool=callgrind`.
    let n = std::env::var("TMON_PERF_RECORDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000usize);
    let mut store = Store::new();
    let mut ids = Vec::new();
    let mut recs = Vec::with_capacity(n);
    for (i, r) in tmon::harness::repeated(Scenario::Healthy, 1, n).enumerate() {
        let (rec, fields) = tmon::harness::append(&r, i as u64, &mut store);
        ids.push(fields);
        recs.push(rec);
    }
    let points: usize = ids.iter().map(Vec::len).sum();
    let mut an = Analyzer::new(FlagConfig::default());
    let t0 = Instant::now();
    for (rec, fields) in recs.iter().zip(&ids) {
        an.observe(&store, *rec, fields);
    }
    let dt = t0.elapsed();
    eprintln!(
        "{n} records, {points} points: {:?} ({:.0} ns/record, {:.0} ns/point), {} flags",
        dt,
        dt.as_nanos() as f64 / n as f64,
        dt.as_nanos() as f64 / points as f64,
        an.flags().len()
    );
}
