//! A behaviour fingerprint of the analyzer, for optimizing it without changing a flag: every flag
//! (kind, severity, metric, step, message, and the record that raised it) on the harness
//! scenarios, a synthetic stress log that sits on the detectors' thresholds, the perf workload
//! and the real corpus, written to `$TMON_FLAGS_DUMP`. Run it before and after a change and diff
//! the two files. Ignored by default (the perf workload wants a release build):
//! `TMON_FLAGS_DUMP=/tmp/a.txt cargo test --release --test flags_golden -- --ignored --nocapture`.

use std::fmt::Write as _;
use std::path::PathBuf;
use tmon::analysis::{Analyzer, FlagConfig};
use tmon::harness::{feed, Record, Scenario, Setup, Trainer};
use tmon::ingest::IngestOptions;
use tmon::run::Run;
use tmon::store::Store;

fn dump_flags(out: &mut String, label: &str, an: &Analyzer, cursor: &mut usize, at: u64) {
    for f in an.flags_since(*cursor) {
        let _ =
            writeln!(out, "{label} #{at} {} {} {} @{}: {}", f.severity, f.kind, f.metric, f.step, f.message);
    }
    *cursor = an.flags().len();
}

fn feed_all(out: &mut String, label: &str, records: impl Iterator<Item = Record>, cfg: &FlagConfig) {
    let mut store = Store::new();
    let mut an = Analyzer::new(cfg.clone());
    let mut cursor = 0;
    for (i, r) in records.enumerate() {
        feed(&r, i as u64 + 1, &mut store, &mut an);
        dump_flags(out, label, &an, &mut cursor, i as u64 + 1);
    }
}

/// A deterministic generator (xorshift) for the stress log.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-300), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Noisy series with heavy tails, jumps, drops, rewinds and NaNs: many points near thresholds.
fn stress(seed: u64, n: usize) -> Vec<Record> {
    let mut g = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut out = Vec::with_capacity(n);
    let mut step = 0.0;
    let mut time = 1.7e9;
    let mut level = 2.0f64;
    for i in 0..n {
        step += 1.0;
        if g.next() < 0.002 {
            step = (step - 200.0 * g.next()).max(0.0).floor();
        }
        time += if g.next() < 0.003 { 100.0 + 5000.0 * g.next() } else { 1.0 + 0.3 * g.normal().abs() };
        level *= if g.next() < 0.01 { 1.0 + 2.0 * g.next() } else { 0.9995 };
        let noise = 0.05 + 0.4 * g.next() * g.next();
        let mut loss = level * (noise * g.normal()).exp();
        if g.next() < 0.01 {
            loss *= 1.0 + 20.0 * g.next();
        }
        if g.next() < 0.001 {
            loss = f64::NAN;
        }
        let mut fields = vec![("loss_cls".to_owned(), loss), ("loss_box".to_owned(), loss * 0.5 + 0.01)];
        if seed.is_multiple_of(2) {
            fields.push(("total_loss".to_owned(), loss * 1.5));
        }
        let lr = if g.next() < 0.002 { 0.1 } else { 1e-3 * (1.0 + (i as f64 / 500.0).sin()) };
        fields.push(("lr".to_owned(), if g.next() < 0.0005 { -lr } else { lr }));
        let mut gn = (0.5 * g.normal()).exp();
        if g.next() < 0.005 {
            gn *= 5.0 + 3000.0 * g.next() * g.next();
        }
        fields.push(("grad_norm".to_owned(), if g.next() < 0.002 { f64::INFINITY } else { gn }));
        let slow = if (i / 700) % 3 == 2 { 0.3 + 0.4 * g.next() } else { 1.0 };
        fields.push(("tokens_per_s".to_owned(), 1000.0 * slow * (1.0 + 0.1 * g.normal())));
        fields.push(("time".to_owned(), (1.0 / slow) * (1.0 + 0.1 * g.normal().abs())));
        fields.push(("dead_frac".to_owned(), (0.6 + 0.15 * g.normal()).clamp(0.0, 1.0)));
        fields.push(("grad_norm/layer0".to_owned(), 1e-5 * (2.0 * g.normal()).exp()));
        fields.push(("grad_norm/layer1".to_owned(), 0.1 * (g.normal()).exp()));
        fields.push(("accuracy".to_owned(), g.next()));
        if i % 997 == 5 {
            // A key listed twice on one line (a malformed log): both values reach the analyzer.
            fields.push(("loss_cls".to_owned(), loss * 3.0));
        }
        out.push(Record { step, time, fields, line: String::new() });
        if i.is_multiple_of(25) {
            let v = (level * (0.2 * g.normal()).exp() * (1.0 + i as f64 / n as f64)).max(1e-9);
            out.push(Record {
                step,
                time,
                fields: vec![("val_loss".to_owned(), v), ("val_loss_cls".to_owned(), v * 0.7)],
                line: String::new(),
            });
        }
    }
    out
}

fn perf_workload(out: &mut String, n: usize) {
    let mut store = Store::new();
    let mut an = Analyzer::new(FlagConfig::default());
    let mut cursor = 0;
    for (i, r) in tmon::harness::repeated(Scenario::Healthy, 1, n).enumerate() {
        feed(&r, i as u64, &mut store, &mut an);
        dump_flags(out, "perf", &an, &mut cursor, i as u64);
    }
}

#[test]
#[ignore]
fn dump_every_flag() {
    let Some(path) = std::env::var_os("TMON_FLAGS_DUMP") else {
        eprintln!("notice: TMON_FLAGS_DUMP not set; nothing written");
        return;
    };
    let mut out = String::new();
    let small = {
        let mut c = FlagConfig::default();
        for (k, v) in [("spike.window", "5"), ("spike.min_points", "10"), ("cooldown", "20")] {
            c.set(k, v).unwrap();
        }
        c
    };
    for scenario in Scenario::ALL {
        for seed in 1..=4 {
            let label = format!("{scenario:?}/{seed}");
            let mut t = Trainer::new(scenario, seed);
            feed_all(&mut out, &label, std::iter::from_fn(|| t.next_record()), &FlagConfig::default());
            let mut setup = Setup::for_scenario(scenario);
            setup.batch = 4;
            let mut t = Trainer::from_setup(setup, seed);
            feed_all(&mut out, &format!("{label}/b4"), std::iter::from_fn(|| t.next_record()), &small);
        }
    }
    for seed in 1..=6 {
        feed_all(
            &mut out,
            &format!("stress/{seed}"),
            stress(seed, 20_000).into_iter(),
            &FlagConfig::default(),
        );
        feed_all(&mut out, &format!("stress-small/{seed}"), stress(seed, 5_000).into_iter(), &small);
    }
    perf_workload(&mut out, 300_000);
    let dir = std::env::var_os("TMON_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/real")));
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "SOURCES.md") {
                files.push(p);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        eprintln!("notice: corpus not found at {}; skipped", dir.display());
    }
    for f in &files {
        for key in [None, Some("step"), Some("iteration")] {
            let opts = IngestOptions { step_key: key.map(str::to_owned), ..Default::default() };
            let label = format!("{}/{key:?}", f.strip_prefix(&dir).unwrap_or(f).display());
            match Run::load_file(f, opts, FlagConfig::default()) {
                Ok(run) => {
                    for fl in run.flags() {
                        let _ = writeln!(
                            out,
                            "{label} {} {} {} @{}: {}",
                            fl.severity, fl.kind, fl.metric, fl.step, fl.message
                        );
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "{label} error {e}");
                }
            }
        }
    }
    std::fs::write(&path, &out).unwrap();
    eprintln!("{} lines written to {}", out.lines().count(), PathBuf::from(path).display());
}
