//! Every flag the analyzer raises, compared with a dump committed beside this file, so that no
//! change to a detector, a threshold or a message goes unseen:
//!
//! - `golden-in-repo.txt` (always checked): every harness scenario for fixed seeds and batch sizes,
//!   a synthetic stress log that sits on the detectors' thresholds, the perf workload, and every
//!   log under tests/fixtures;
//! - `golden-corpus.txt`: every log of the real corpus, read with each step key an override may
//!   name. Skipped when the corpus is absent, a failure then under `TMON_REQUIRE_CORPUS=1`.
//!
//! Each line: where (and for streams the record that raised it), severity, kind, metric, step and
//! message. A difference fails with a unified diff. When the change is meant, re-bless and review
//! the diff in git: `TMON_UPDATE_GOLDEN=1 cargo test --release --test flags golden`.

use crate::support::rng::Rng;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use tmon::analysis::{Analyzer, Flag, FlagConfig};
use tmon::harness::{feed, Record, Scenario, Setup, Trainer};
use tmon::ingest::IngestOptions;
use tmon::run::Run;
use tmon::store::Store;

const BLESS: &str = "TMON_UPDATE_GOLDEN";

fn line(out: &mut String, label: &str, f: &Flag) {
    let _ = writeln!(out, "{label} {} {} {} @{}: {}", f.severity, f.kind, f.metric, f.step, f.message);
}

/// Feeds `records` as ingest does, writing each flag with the number of the record that raised it.
fn feed_all(out: &mut String, label: &str, records: impl Iterator<Item = Record>, cfg: &FlagConfig) {
    let mut store = Store::new();
    let mut an = Analyzer::new(cfg.clone());
    let mut cursor = 0;
    for (i, r) in records.enumerate() {
        feed(&r, i as u64 + 1, &mut store, &mut an);
        for f in an.flags_since(cursor) {
            line(out, &format!("{label} #{}", i + 1), f);
        }
        cursor = an.flags().len();
    }
}

/// Noisy series with heavy tails, jumps, drops, rewinds and NaNs: many points near thresholds.
fn stress(seed: u64, n: usize) -> Vec<Record> {
    let mut g = Rng::new(seed);
    let mut out = Vec::with_capacity(n);
    let mut step = 0.0;
    let mut time = 1.7e9;
    let mut level = 2.0f64;
    for i in 0..n {
        step += 1.0;
        if g.uniform() < 0.002 {
            step = (step - 200.0 * g.uniform()).max(0.0).floor();
        }
        time += if g.uniform() < 0.003 { 100.0 + 5000.0 * g.uniform() } else { 1.0 + 0.3 * g.normal().abs() };
        level *= if g.uniform() < 0.01 { 1.0 + 2.0 * g.uniform() } else { 0.9995 };
        let noise = 0.05 + 0.4 * g.uniform() * g.uniform();
        let mut loss = level * (noise * g.normal()).exp();
        if g.uniform() < 0.01 {
            loss *= 1.0 + 20.0 * g.uniform();
        }
        if g.uniform() < 0.001 {
            loss = f64::NAN;
        }
        let mut fields = vec![("loss_cls".to_owned(), loss), ("loss_box".to_owned(), loss * 0.5 + 0.01)];
        if seed.is_multiple_of(2) {
            fields.push(("total_loss".to_owned(), loss * 1.5));
        }
        let lr = if g.uniform() < 0.002 { 0.1 } else { 1e-3 * (1.0 + (i as f64 / 500.0).sin()) };
        fields.push(("lr".to_owned(), if g.uniform() < 0.0005 { -lr } else { lr }));
        let mut gn = (0.5 * g.normal()).exp();
        if g.uniform() < 0.005 {
            gn *= 5.0 + 3000.0 * g.uniform() * g.uniform();
        }
        fields.push(("grad_norm".to_owned(), if g.uniform() < 0.002 { f64::INFINITY } else { gn }));
        let slow = if (i / 700) % 3 == 2 { 0.3 + 0.4 * g.uniform() } else { 1.0 };
        fields.push(("tokens_per_s".to_owned(), 1000.0 * slow * (1.0 + 0.1 * g.normal())));
        fields.push(("time".to_owned(), (1.0 / slow) * (1.0 + 0.1 * g.normal().abs())));
        fields.push(("dead_frac".to_owned(), (0.6 + 0.15 * g.normal()).clamp(0.0, 1.0)));
        fields.push(("grad_norm/layer0".to_owned(), 1e-5 * (2.0 * g.normal()).exp()));
        fields.push(("grad_norm/layer1".to_owned(), 0.1 * (g.normal()).exp()));
        fields.push(("accuracy".to_owned(), g.uniform()));
        if i % 997 == 5 {
            // A key listed twice on one line (a malformed log): both values reach the analyzer.
            fields.push(("loss_cls".to_owned(), loss * 3.0));
        }
        out.push(Record { step, time, fields, line: String::new(), text: false });
        if i.is_multiple_of(25) {
            let v = (level * (0.2 * g.normal()).exp() * (1.0 + i as f64 / n as f64)).max(1e-9);
            out.push(Record {
                step,
                time,
                fields: vec![("val_loss".to_owned(), v), ("val_loss_cls".to_owned(), v * 0.7)],
                line: String::new(),
                text: false,
            });
        }
    }
    out
}

/// Small windows and a short cooldown, so batch-4 harness runs and the stress log cross many
/// thresholds.
fn small_config() -> FlagConfig {
    let mut c = FlagConfig::default();
    for (k, v) in [("spike.window", "5"), ("spike.min_points", "10"), ("cooldown", "20")] {
        c.set(k, v).unwrap();
    }
    c
}

/// The flags of everything in the repository: harness, stress, perf workload, fixtures. The parts
/// are computed on threads of their own (the harness trains a model per scenario and seed) and
/// written in a fixed order.
fn in_repo() -> String {
    let small = &small_config();
    let harness = |scenario: Scenario| {
        let mut out = String::new();
        for seed in 1..=4 {
            let label = format!("{scenario:?}/{seed}");
            let mut t = Trainer::new(scenario, seed);
            feed_all(&mut out, &label, std::iter::from_fn(|| t.next_record()), &FlagConfig::default());
            let mut setup = Setup::for_scenario(scenario);
            setup.batch = 4;
            let mut t = Trainer::from_setup(setup, seed);
            feed_all(&mut out, &format!("{label}/b4"), std::iter::from_fn(|| t.next_record()), small);
        }
        out
    };
    let stress_part = || {
        let mut out = String::new();
        for seed in 1..=6 {
            let default = FlagConfig::default();
            feed_all(&mut out, &format!("stress/{seed}"), stress(seed, 20_000).into_iter(), &default);
            feed_all(&mut out, &format!("stress-small/{seed}"), stress(seed, 5_000).into_iter(), small);
        }
        let perf = tmon::harness::repeated(Scenario::Healthy, 1, 100_000);
        feed_all(&mut out, "perf", perf, &FlagConfig::default());
        out
    };
    let fixtures = || {
        let mut out = String::new();
        let root = crate::support::fixture("");
        let mut files = Vec::new();
        files_under(&root, &mut files);
        for f in files.iter().filter(|f| f.extension().is_none_or(|e| e != "py")) {
            let label = format!("fixtures/{}", f.strip_prefix(&root).unwrap().display());
            let runs = Run::load_all(f, IngestOptions::default(), FlagConfig::default())
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            let many = runs.len() > 1;
            for (i, run) in runs.iter().enumerate() {
                let label = if many { format!("{label}#{i}") } else { label.clone() };
                for fl in run.flags() {
                    line(&mut out, &label, fl);
                }
            }
        }
        out
    };
    std::thread::scope(|s| {
        let mut parts: Vec<_> = Scenario::ALL.iter().map(|&sc| s.spawn(move || harness(sc))).collect();
        parts.push(s.spawn(stress_part));
        parts.push(s.spawn(fixtures));
        parts.into_iter().map(|p| p.join().expect("a part of the dump")).collect()
    })
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("read dir").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The flags of every log of the corpus, with each step key an override may name.
fn corpus(files: &[PathBuf]) -> String {
    let mut out = String::new();
    for f in files {
        for key in [None, Some("step"), Some("iteration")] {
            let opts = IngestOptions { step_key: key.map(str::to_owned), ..Default::default() };
            let label = format!("{}/{key:?}", crate::support::corpus::name(f));
            match Run::load_file(f, opts, FlagConfig::default()) {
                Ok(run) => run.flags().iter().for_each(|fl| line(&mut out, &label, fl)),
                Err(e) => {
                    let _ = writeln!(out, "{label} error {e}");
                }
            }
        }
    }
    out
}

/// Compares `got` with the golden file `name` beside this file; with `TMON_UPDATE_GOLDEN=1`,
/// writes it instead.
fn compare(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/flags").join(name);
    let header = format!(
        "# Every flag (tests/flags/golden.rs). Regenerate: {BLESS}=1 cargo test --release --test flags golden\n"
    );
    let got = format!("{header}{got}");
    if crate::support::env_flag(BLESS) {
        std::fs::write(&path, &got).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("{}: written, {} lines", path.display(), got.lines().count());
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; write it with {BLESS}=1", path.display()));
    if want != got {
        let diff = similar::TextDiff::from_lines(&want, &got);
        let text = diff.unified_diff().context_radius(1).header(name, "now").to_string();
        let shown: Vec<&str> = text.lines().take(300).collect();
        let more = text.lines().count().saturating_sub(shown.len());
        panic!(
            "the flags differ from {name} (- golden, + now){}:\n{}\n\nIf the change is meant: {BLESS}=1 cargo test --release --test flags golden, and review `git diff {}`.",
            if more > 0 { format!(", {more} more diff lines not shown") } else { String::new() },
            shown.join("\n"),
            Path::new("tests/flags").join(name).display()
        );
    }
}

#[test]
fn in_repo_flags_match_the_golden_dump() {
    let got = in_repo();
    assert!(got.lines().count() > 1000, "the dump looks empty:\n{got}");
    compare("golden-in-repo.txt", &got);
}

#[test]
fn corpus_flags_match_the_golden_dump() {
    let Some(files) = crate::support::corpus::logs() else { return };
    compare("golden-corpus.txt", &corpus(&files));
}
