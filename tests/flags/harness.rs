//! The flags on real pathologies made by real training (the harness in `tmon::harness`): each
//! detector fires on its scenario at the right step, and healthy runs raise nothing at warning
//! or above, for many seeds and at the noisiest batch sizes.
//!
//! Records are fed to the store and the analyzer the way ingest does (`harness::feed`), with the
//! clock known; one test goes end to end through `Run::push_line`.

use tmon::analysis::{Analyzer, Flag, FlagConfig, FlagKind, Severity};
use tmon::harness::{feed, generate, Record, Scenario, Setup, Trainer};
use tmon::ingest::IngestOptions;
use tmon::run::Run;
use tmon::store::Store;

/// A flag with the step of the record at which it was raised.
struct Raised {
    flag: Flag,
    at: f64,
}

struct Outcome {
    records: Vec<Record>,
    raised: Vec<Raised>,
}

impl Outcome {
    fn of(&self, kind: FlagKind) -> Vec<&Raised> {
        self.raised.iter().filter(|r| r.flag.kind == kind).collect()
    }
    fn at_least(&self, sev: Severity) -> Vec<&Flag> {
        self.raised.iter().map(|r| &r.flag).filter(|f| f.severity >= sev).collect()
    }
    /// Step of the first non-finite value of `metric`.
    fn first_nonfinite(&self, metric: &str) -> Option<f64> {
        self.records
            .iter()
            .find(|r| r.fields.iter().any(|(k, v)| k == metric && !v.is_finite()))
            .map(|r| r.step)
    }
}

fn run_setup(setup: Setup, seed: u64) -> Outcome {
    let mut trainer = Trainer::from_setup(setup, seed);
    let mut store = Store::new();
    let mut analyzer = Analyzer::new(FlagConfig::default());
    let mut records = Vec::new();
    let mut raised = Vec::new();
    let mut cursor = 0;
    while let Some(r) = trainer.next_record() {
        feed(&r, records.len() as u64 + 1, &mut store, &mut analyzer);
        for f in analyzer.flags_since(cursor) {
            raised.push(Raised { flag: f.clone(), at: r.step });
        }
        cursor = analyzer.flags().len();
        records.push(r);
    }
    assert_eq!(raised.len(), analyzer.flags().len(), "flags_since missed or repeated flags");
    Outcome { records, raised }
}

fn run(scenario: Scenario, seed: u64) -> Outcome {
    run_setup(Setup::for_scenario(scenario), seed)
}

fn show(o: &Outcome) -> String {
    o.raised
        .iter()
        .map(|r| {
            format!(
                "  {} {} {} @{} (raised at {}): {}\n",
                r.flag.severity, r.flag.kind, r.flag.metric, r.flag.step, r.at, r.flag.message
            )
        })
        .collect()
}

fn assert_healthy(o: &Outcome, label: &str) {
    let bad = o.at_least(Severity::Warning);
    assert!(bad.is_empty(), "{label}: a healthy run raised:\n{}", show(o));
}

#[test]
fn healthy_runs_raise_nothing_at_warning_for_20_seeds() {
    for seed in 1..=20 {
        assert_healthy(&run(Scenario::Healthy, seed), &format!("healthy seed {seed}"));
    }
}

#[test]
fn every_healthy_control_raises_nothing_at_warning_for_20_seeds() {
    // Checkpoint pauses in a fast run, mixed-precision overflows, auxiliary losses turning up
    // while AP holds: healthy runs with a feature that must not be flagged.
    for &scenario in Scenario::ALL.iter().filter(|s| s.is_control() && **s != Scenario::Healthy) {
        for seed in 1..=20 {
            assert_healthy(&run(scenario, seed), &format!("{scenario} seed {seed}"));
        }
    }
}

#[test]
fn healthy_runs_at_the_noisiest_batch_sizes_raise_nothing_at_warning() {
    // Batch 2 and 1: the minibatch loss is as heavy-tailed as it gets (one sample per step).
    for (batch, seeds) in [(2usize, 20u64), (1, 20)] {
        for seed in 1..=seeds {
            let mut setup = Setup::for_scenario(Scenario::Healthy);
            setup.batch = batch;
            assert_healthy(&run_setup(setup, seed), &format!("healthy batch {batch} seed {seed}"));
        }
    }
}

#[test]
fn diverging_run_is_flagged_before_nan_and_nan_at_its_step() {
    for seed in 1..=5 {
        let o = run(Scenario::Diverging, seed);
        let nan = o.first_nonfinite("loss").expect("the diverging scenario must reach NaN/Inf");
        let growth = Setup::for_scenario(Scenario::Diverging).lr_growth.unwrap().0 as f64;
        // nonfinite: exactly at the first non-finite loss, critical, once (it stays NaN).
        let nf: Vec<_> = o.of(FlagKind::Nonfinite).into_iter().filter(|r| r.flag.metric == "loss").collect();
        assert_eq!(nf.len(), 1, "seed {seed}:\n{}", show(&o));
        assert_eq!(nf[0].flag.step, nan, "seed {seed}");
        assert_eq!(nf[0].flag.severity, Severity::Critical);
        let m = &nf[0].flag.message;
        assert!(m.contains("(lr ") && m.contains(&format!("at step {}", nan - 1.0)), "{m}");
        // divergence: a warning raised before the NaN, dated after the lr started to grow.
        let div = o.of(FlagKind::Divergence);
        let first = div.first().unwrap_or_else(|| panic!("seed {seed}: no divergence:\n{}", show(&o)));
        assert!(
            first.at < nan && first.flag.step >= growth && first.flag.step < nan,
            "seed {seed}:\n{}",
            show(&o)
        );
        assert!(first.flag.severity >= Severity::Warning);
        // The gradient norm leads: an exploding-gradient flag, also before the NaN.
        assert!(o.of(FlagKind::ExplodingGradient).iter().any(|r| r.at < nan), "seed {seed}:\n{}", show(&o));
    }
}

#[test]
fn overfitting_is_flagged_from_the_val_minimum_within_twelve_evaluations() {
    // The median of the last 3 evaluations must rise 5% (and beyond the evaluation noise) above
    // its best: the val loss turns up slowly, so on this harness that takes 3 to 10 evaluations.
    let every = Setup::for_scenario(Scenario::Overfitting).eval_every as f64;
    for seed in 1..=3 {
        let o = run(Scenario::Overfitting, seed);
        let of = o.of(FlagKind::Overfitting);
        assert_eq!(of.len(), 1, "seed {seed}:\n{}", show(&o));
        let f = of[0];
        assert_eq!(f.flag.metric, "val_loss");
        // The val-loss minimum up to the moment the flag was raised.
        let (min_step, _) = o
            .records
            .iter()
            .filter(|r| r.step <= f.at)
            .flat_map(|r| r.fields.iter().filter(|(k, _)| k == "val_loss").map(move |(_, v)| (r.step, *v)))
            .fold((f64::NAN, f64::INFINITY), |best, (s, v)| if v < best.1 { (s, v) } else { best });
        assert_eq!(f.flag.step, min_step, "seed {seed}: dated at the val minimum");
        assert!(
            f.at - min_step <= 12.0 * every,
            "seed {seed}: raised at {} for a minimum at {min_step}",
            f.at
        );
        assert!(f.flag.message.contains("training loss kept falling"), "{}", f.flag.message);
    }
}

#[test]
fn dead_relus_are_flagged_right_after_the_lr_kick() {
    let kick = Setup::for_scenario(Scenario::DeadRelu).lr_kick.unwrap().0 as f64;
    for seed in 1..=3 {
        let o = run(Scenario::DeadRelu, seed);
        let dead = o.of(FlagKind::DeadUnits);
        let first = dead.first().unwrap_or_else(|| panic!("seed {seed}: no dead_units:\n{}", show(&o)));
        assert!(first.flag.step >= kick && first.flag.step <= kick + 10.0, "seed {seed}:\n{}", show(&o));
        let lr = o.of(FlagKind::LrAnomaly);
        assert_eq!(lr.len(), 1, "seed {seed}:\n{}", show(&o));
        assert_eq!(lr[0].flag.step, kick);
    }
}

#[test]
fn vanishing_gradients_are_flagged_from_the_start_on_the_first_layer() {
    for seed in 1..=3 {
        let o = run(Scenario::Vanishing, seed);
        let v = o.of(FlagKind::VanishingGradient);
        assert_eq!(v.len(), 1, "seed {seed}:\n{}", show(&o));
        assert_eq!(v[0].flag.metric, "grad_norm/layer0");
        // Persistence is 5 records: dated at step 1, raised by step 5.
        assert_eq!(v[0].flag.step, 1.0);
        assert!(v[0].at <= 5.0);
    }
}

#[test]
fn a_pause_in_the_loop_is_one_stall_at_the_gap() {
    let (at, secs) = Setup::for_scenario(Scenario::Stall).pause.unwrap();
    for seed in 1..=3 {
        let o = run(Scenario::Stall, seed);
        let s = o.of(FlagKind::Stall);
        assert_eq!(s.len(), 1, "seed {seed}:\n{}", show(&o));
        assert_eq!(s[0].flag.step, at as f64, "dated at the last step before the gap");
        assert!(s[0].flag.message.contains(&tmon::text::duration(secs)), "{}", s[0].flag.message);
        assert_eq!(o.at_least(Severity::Warning).len(), 1, "seed {seed}: only the stall:\n{}", show(&o));
    }
}

#[test]
fn a_crash_and_resume_is_one_restart_at_the_rewind() {
    let setup = Setup::for_scenario(Scenario::Restart);
    let crash = setup.crash_at.unwrap();
    let resumed = (crash / setup.checkpoint_every * setup.checkpoint_every + 1) as f64;
    for seed in 1..=3 {
        let o = run(Scenario::Restart, seed);
        let r = o.of(FlagKind::Restart);
        assert_eq!(r.len(), 1, "seed {seed}: once, not once per series:\n{}", show(&o));
        assert_eq!(r[0].flag.step, resumed);
        assert_eq!(r[0].flag.severity, Severity::Info);
        assert!(r[0].flag.message.contains(&format!("from {crash} to {resumed}")), "{}", r[0].flag.message);
        // The restart's pause is told in its message, not as a separate stall.
        assert!(o.of(FlagKind::Stall).is_empty(), "seed {seed}:\n{}", show(&o));
        assert!(o.at_least(Severity::Warning).is_empty(), "seed {seed}:\n{}", show(&o));
    }
}

#[test]
fn a_persisting_condition_raises_one_flag_per_severity() {
    let o = run(Scenario::Diverging, 1);
    let mut seen = std::collections::HashSet::new();
    for r in &o.raised {
        let f = &r.flag;
        assert!(
            seen.insert((f.kind, f.metric.clone(), f.severity)),
            "repeated: {} {} {}\n{}",
            f.kind,
            f.metric,
            f.severity,
            show(&o)
        );
    }
}

#[test]
fn the_harness_is_deterministic_for_a_seed() {
    assert_eq!(generate(Scenario::Diverging, 7, 120), generate(Scenario::Diverging, 7, 120));
    assert_ne!(generate(Scenario::Healthy, 7, 50), generate(Scenario::Healthy, 8, 50));
    let lines = generate(Scenario::Vanishing, 1, 3);
    assert!(lines[0].starts_with("{\"step\": 1, \"loss\": "), "{}", lines[0]);
    assert!(lines[0].contains("\"grad_norm/layer10\": "));
}

#[test]
fn end_to_end_through_run_push_line_on_the_diverging_scenario() {
    let mut trainer = Trainer::new(Scenario::Diverging, 1);
    let records: Vec<Record> = std::iter::from_fn(|| trainer.next_record()).collect();
    let lines: Vec<&str> = records.iter().map(|r| r.line.as_str()).collect();
    let mut run = Run::new("diverging.jsonl", IngestOptions::default(), FlagConfig::default());
    for (i, line) in lines.iter().enumerate() {
        run.push_line(i as u64 + 1, line.as_bytes());
    }
    let flags = run.flags();
    let div = flags.iter().find(|f| f.kind == FlagKind::Divergence && f.metric == "loss");
    let div = div.unwrap_or_else(|| panic!("no divergence through Run: {flags:#?}"));
    let nan_step = records
        .iter()
        .find(|r| r.fields.iter().any(|(k, v)| k == "loss" && !v.is_finite()))
        .map(|r| r.step)
        .expect("the scenario reaches NaN");
    assert!(div.step >= 300.0 && div.step < nan_step, "{div:?}");
    // Bare NaN/Infinity are read as numbers: no line skipped, and the NaN loss is critical.
    assert_eq!(run.store.skipped.count, 0);
    let nf = flags.iter().find(|f| f.kind == FlagKind::Nonfinite && f.metric == "loss");
    let nf = nf.unwrap_or_else(|| panic!("no nonfinite through Run: {flags:#?}"));
    assert_eq!(nf.severity, Severity::Critical);
    assert_eq!(nf.step, nan_step);
}

#[test]
fn a_slowdown_is_one_throughput_drop_where_it_began() {
    let (at, _) = Setup::for_scenario(Scenario::Slowdown).slowdown.unwrap();
    for seed in 1..=3 {
        let o = run(Scenario::Slowdown, seed);
        let t = o.of(FlagKind::ThroughputDrop);
        assert_eq!(t.len(), 1, "seed {seed}:\n{}", show(&o));
        assert_eq!(t[0].flag.metric, "samples_per_s");
        // Dated at the first slow step (jitter may make it one or two later); raised once the
        // 16-point median has turned, within 12 steps.
        assert!(
            t[0].flag.step >= at as f64 && t[0].flag.step <= at as f64 + 2.0,
            "seed {seed}:\n{}",
            show(&o)
        );
        assert!(t[0].at <= at as f64 + 12.0, "seed {seed}:\n{}", show(&o));
        assert_eq!(o.at_least(Severity::Warning).len(), 1, "seed {seed}:\n{}", show(&o));
    }
}

#[test]
fn harness_lines_are_json_whose_values_are_the_structured_record() {
    for &scenario in Scenario::ALL {
        assert_eq!(scenario.as_str().parse::<Scenario>(), Ok(scenario));
        let mut t = Trainer::new(scenario, 3);
        for r in std::iter::from_fn(|| t.next_record()).take(120).filter(|r| !r.text) {
            // Bare NaN/Infinity are Python's tokens, not strict JSON: swap them to check the rest.
            let strict =
                r.line.replace("-Infinity", "null").replace("Infinity", "null").replace("NaN", "null");
            let v: serde_json::Value =
                serde_json::from_str(&strict).unwrap_or_else(|e| panic!("{e}: {}", r.line));
            assert_eq!(v["step"].as_f64(), Some(r.step));
            assert_eq!(v["time"].as_f64(), Some(r.time));
            for (k, x) in &r.fields {
                match v[k.as_str()].as_f64() {
                    Some(y) => assert_eq!(y, *x, "{k} in {}", r.line),
                    None => assert!(!x.is_finite(), "{k} in {}", r.line),
                }
            }
        }
    }
    assert!("nope".parse::<Scenario>().unwrap_err().contains("healthy"));
}

#[test]
fn degenerate_setups_do_not_panic() {
    let mut s = Setup::for_scenario(Scenario::Healthy);
    s.dims = vec![0];
    s.batch = 0;
    s.n_train = 0;
    s.n_val = 0;
    s.steps = 60;
    assert_eq!(Trainer::from_setup(s, 1).count(), 61);
}

#[test]
fn a_far_too_small_learning_rate_is_not_learning() {
    for seed in 1..=5 {
        let o = run(Scenario::SmallLr, seed);
        let nl: Vec<_> = o
            .of(FlagKind::Plateau)
            .into_iter()
            .filter(|r| r.flag.message.starts_with("not learning"))
            .collect();
        assert_eq!(nl.len(), 1, "seed {seed}:\n{}", show(&o));
        let f = &nl[0].flag;
        assert_eq!(f.severity, Severity::Warning, "{}", f.message);
        assert_eq!(f.metric, "val_loss");
        // Dated at the first evaluation, raised after the tenth.
        assert_eq!(f.step, 50.0);
        assert!(nl[0].at <= 600.0, "seed {seed}: raised at {}", nl[0].at);
        assert!(f.message.contains("val_acc stays at its first values"), "{}", f.message);
        assert_eq!(o.at_least(Severity::Warning).len(), 1, "seed {seed}: only that:\n{}", show(&o));
    }
    // The healthy runs learn: no "not learning", at any severity.
    for seed in 1..=5 {
        let o = run(Scenario::Healthy, seed);
        assert!(o.raised.iter().all(|r| !r.flag.message.starts_with("not learning")), "{}", show(&o));
    }
}

#[test]
fn slowdowns_of_20_and_40_percent_are_one_throughput_drop_where_they_began() {
    for scenario in [Scenario::Slowdown20, Scenario::Slowdown40] {
        let setup = Setup::for_scenario(scenario);
        let (at, _) = setup.slowdown.unwrap();
        for seed in 1..=10 {
            let o = run(scenario, seed);
            let t = o.of(FlagKind::ThroughputDrop);
            assert_eq!(t.len(), 1, "{scenario} seed {seed}:\n{}", show(&o));
            // Dated within 10% of the run's length of where it began, raised soon after.
            let tol = 0.1 * setup.steps as f64;
            assert!((t[0].flag.step - at as f64).abs() <= tol, "{scenario} seed {seed}:\n{}", show(&o));
            assert!(t[0].at <= at as f64 + tol, "{scenario} seed {seed}:\n{}", show(&o));
            assert!(t[0].flag.message.contains("fell by"), "{}", t[0].flag.message);
            assert_eq!(o.at_least(Severity::Warning).len(), 1, "{scenario} seed {seed}:\n{}", show(&o));
        }
    }
}

#[test]
fn a_one_off_pause_of_300_steps_is_a_stall_and_periodic_checkpoints_are_not() {
    let (at, secs) = Setup::for_scenario(Scenario::Pause).pause.unwrap();
    assert!(secs < FlagConfig::default().stall_min_seconds, "a pause under the old floor");
    for seed in 1..=5 {
        let o = run(Scenario::Pause, seed);
        let s = o.of(FlagKind::Stall);
        assert_eq!(s.len(), 1, "seed {seed}: the pause, not the checkpoints:\n{}", show(&o));
        assert_eq!(s[0].flag.step, at as f64, "dated at the last step before the gap");
        assert_eq!(s[0].flag.severity, Severity::Warning);
        assert!(
            s[0].flag.message.contains("300x") || s[0].flag.message.contains("301x"),
            "{}",
            s[0].flag.message
        );
        assert_eq!(o.at_least(Severity::Warning).len(), 1, "seed {seed}:\n{}", show(&o));
        // The checkpoints' pauses are as long, at regular steps: the run's rhythm.
        let c = run(Scenario::Checkpoints, seed);
        assert!(c.of(FlagKind::Stall).is_empty(), "seed {seed}:\n{}", show(&c));
    }
}

#[test]
fn a_crash_with_a_traceback_is_critical_and_the_resume_names_it() {
    let setup = Setup::for_scenario(Scenario::Crash);
    let crash = setup.crash_at.unwrap();
    let resumed = (crash / setup.checkpoint_every * setup.checkpoint_every + 1) as f64;
    for seed in 1..=3 {
        let o = run(Scenario::Crash, seed);
        let c = o.of(FlagKind::Crash);
        assert_eq!(c.len(), 1, "seed {seed}:\n{}", show(&o));
        assert_eq!(c[0].flag.severity, Severity::Critical);
        assert_eq!(c[0].flag.step, crash as f64, "at the last step before it");
        assert!(
            c[0].flag.message.contains("RuntimeError: CUDA error: an illegal memory access was encountered"),
            "{}",
            c[0].flag.message
        );
        let r = o.of(FlagKind::Restart);
        assert_eq!(r.len(), 1, "seed {seed}:\n{}", show(&o));
        assert_eq!(r[0].flag.severity, Severity::Warning);
        assert_eq!(r[0].flag.step, resumed);
        assert!(
            r[0].flag
                .message
                .starts_with(&format!("resumed at step {resumed} after RuntimeError: CUDA error"))
                && r[0].flag.message.contains(&format!("at step {crash}")),
            "{}",
            r[0].flag.message
        );
        // The same crash without a traceback (the restart scenario) stays an info restart.
        let plain = run(Scenario::Restart, seed);
        assert!(plain.of(FlagKind::Restart).iter().all(|r| r.flag.severity == Severity::Info));
        assert!(plain.of(FlagKind::Crash).is_empty());
    }
}

#[test]
fn the_crash_is_read_through_the_real_ingest_too() {
    let mut trainer = Trainer::new(Scenario::Crash, 1);
    let mut run = Run::new("crash.jsonl", IngestOptions::default(), FlagConfig::default());
    let mut line = 0;
    while let Some(r) = trainer.next_record() {
        line += 1;
        run.push_line(line, r.line.as_bytes());
    }
    assert_eq!(run.store.skipped.count, 6, "the traceback's lines are skipped lines");
    let crash: Vec<_> = run.flags().iter().filter(|f| f.kind == FlagKind::Crash).collect();
    assert_eq!(crash.len(), 1, "{:#?}", run.flags());
    assert_eq!(crash[0].step, 600.0);
    // And at the very end of a file, with no record after it.
    let mut t = Trainer::new(Scenario::Crash, 1);
    let lines: Vec<String> =
        std::iter::from_fn(|| t.next_record()).map(|r| r.line).take(600 + 12 + 5).collect();
    let mut run = Run::new("crash.jsonl", IngestOptions::default(), FlagConfig::default());
    for (i, l) in lines.iter().enumerate() {
        run.push_line(i as u64 + 1, l.as_bytes());
    }
    assert!(lines.last().unwrap().starts_with("RuntimeError"), "{}", lines.last().unwrap());
    assert_eq!(run.flags().iter().filter(|f| f.kind == FlagKind::Crash).count(), 1, "{:#?}", run.flags());
}

#[test]
fn mixed_precision_overflows_are_info_and_the_grad_norm_is_really_infinite() {
    for seed in 1..=5 {
        let o = run(Scenario::MixedPrecision, seed);
        // The float16 arithmetic does overflow: an infinite gradient norm, a halved scale.
        let inf = o
            .records
            .iter()
            .filter(|r| r.fields.iter().any(|(k, v)| k == "grad_norm" && v.is_infinite()))
            .count();
        assert!(inf >= 1, "seed {seed}: no overflow");
        let scales: Vec<f64> = o
            .records
            .iter()
            .flat_map(|r| r.fields.iter().filter(|(k, _)| k == "loss_scale").map(|(_, v)| *v))
            .collect();
        assert!(scales.windows(2).any(|w| w[1] == w[0] / 2.0), "seed {seed}: the scale never halved");
        assert!(scales.windows(2).any(|w| w[1] == w[0] * 2.0), "seed {seed}: the scale never grew");
        let nf = o.of(FlagKind::Nonfinite);
        assert!(!nf.is_empty(), "seed {seed}");
        assert!(nf.iter().all(|r| r.flag.severity == Severity::Info), "seed {seed}:\n{}", show(&o));
        assert!(
            nf.iter()
                .any(|r| r.flag.metric == "grad_norm" && r.flag.message.contains("overflow, step skipped")),
            "seed {seed}:\n{}",
            show(&o)
        );
        // loss_scale is no loss: no loss detector speaks of it.
        assert!(o.raised.iter().all(|r| r.flag.metric != "loss_scale"), "seed {seed}:\n{}", show(&o));
    }
}

#[test]
fn a_loss_scale_that_falls_to_its_minimum_is_a_warning() {
    // Mixed precision with a learning rate that blows the gradients up: every step overflows and
    // the scale halves down to 1.
    let mut setup = Setup::for_scenario(Scenario::MixedPrecision);
    setup.opt = tmon::harness::mlp::OptKind::Sgd { momentum: 0.9 };
    setup.head = tmon::harness::mlp::Head::Mse;
    setup.lr = 0.02;
    setup.cosine = false;
    setup.lr_growth = Some((300, 1.03));
    setup.steps = 700;
    let o = run_setup(setup, 1);
    let f: Vec<_> = o.of(FlagKind::Nonfinite).into_iter().filter(|r| r.flag.metric == "loss_scale").collect();
    assert!(!f.is_empty(), "{}", show(&o));
    assert_eq!(f[0].flag.severity, Severity::Warning);
    assert!(f[0].flag.message.contains("overflow float16 at every scale"), "{}", f[0].flag.message);
}

#[test]
fn auxiliary_losses_turning_up_while_ap_improves_are_info_naming_ap() {
    let mut named = 0;
    for seed in 1..=10 {
        let o = run(Scenario::Detection, seed);
        let of = o.of(FlagKind::Overfitting);
        for r in &of {
            if r.flag.severity == Severity::Info {
                assert!(r.flag.message.contains("but test_AP "), "{}", r.flag.message);
                named += 1;
            }
        }
        assert_healthy(&o, &format!("detection seed {seed}"));
    }
    assert!(named >= 10, "the scenario's auxiliary losses must turn up: {named} info flags");
    // Real overfitting, where the accuracy does not hold (or is not known yet), stays a warning.
    let o = run(Scenario::Overfitting, 1);
    assert!(o.of(FlagKind::Overfitting).iter().all(|r| r.flag.severity == Severity::Warning), "{}", show(&o));
}
