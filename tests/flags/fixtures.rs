//! Issue 13's flags on small logs of our own (`tests/fixtures/flags2`, written by its `make.py`),
//! read by the real ingest and analyzer: a crash with a traceback and a resume, a run killed at
//! its end, mixed-precision overflows with a loss scale, auxiliary test losses turning up while
//! AP climbs, a loss that never learns, a one-off pause in a fast run among its checkpoints,
//! sustained throughput drops of 16% and 38% among eval and checkpoint dips, gradient-norm
//! overflows without a logged loss scale (routine) and after an explosion (not).

use tmon::analysis::{Flag, FlagConfig, FlagKind, Severity};
use tmon::ingest::IngestOptions;
use tmon::run::Run;

fn flags(name: &str) -> Vec<Flag> {
    let path = crate::support::fixture(&format!("flags2/{name}"));
    let run = Run::load_file(&path, IngestOptions::default(), FlagConfig::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    run.flags().to_vec()
}

fn show(flags: &[Flag]) -> String {
    flags
        .iter()
        .map(|f| format!("  {} {} {} @{}: {}\n", f.severity, f.kind, f.metric, f.step, f.message))
        .collect()
}

#[test]
fn a_traceback_a_resume_and_a_kill() {
    let f = flags("crash-resume-killed.jsonl");
    let crash: Vec<&Flag> = f.iter().filter(|x| x.kind == FlagKind::Crash).collect();
    assert_eq!(crash.len(), 2, "{}", show(&f));
    assert!(crash.iter().all(|c| c.severity == Severity::Critical));
    assert_eq!(crash[0].step, 120.0);
    assert!(
        crash[0].message.contains("RuntimeError: CUDA error: an illegal memory access"),
        "{}",
        crash[0].message
    );
    // The last line of the file: nothing comes after it, and it is still read.
    assert_eq!(crash[1].step, 180.0);
    assert!(crash[1].message.contains(": Killed (line 205)"), "{}", crash[1].message);
    let restart: Vec<&Flag> = f.iter().filter(|x| x.kind == FlagKind::Restart).collect();
    assert_eq!(restart.len(), 1, "{}", show(&f));
    assert_eq!(restart[0].severity, Severity::Warning);
    assert!(
        restart[0].message.starts_with("resumed at step 101 after RuntimeError: CUDA error")
            && restart[0].message.contains("at step 120"),
        "{}",
        restart[0].message
    );
}

#[test]
fn errors_the_run_went_on_from_are_no_crash() {
    // A caught CUDA out of memory and a printed traceback, each followed by the next step: info,
    // saying the run went on. The `Killed` at the end: nothing follows, a crash.
    let f = flags("caught-errors.jsonl");
    let crash: Vec<&Flag> = f.iter().filter(|x| x.kind == FlagKind::Crash).collect();
    assert_eq!(crash.len(), 3, "{}", show(&f));
    for (c, step) in crash[..2].iter().zip([40.0, 150.0]) {
        assert_eq!((c.severity, c.step), (Severity::Info, step), "{}", show(&f));
        assert!(c.message.contains(&format!("the run went on at step {}", step + 1.0)), "{}", c.message);
    }
    assert!(crash[1].message.contains("OSError: [Errno 28] No space left on device"), "{}", crash[1].message);
    assert_eq!((crash[2].severity, crash[2].step), (Severity::Critical, 300.0), "{}", show(&f));
    assert!(f.iter().all(|x| x.kind == FlagKind::Crash), "{}", show(&f));
}

#[test]
fn grad_scaler_overflows_are_info() {
    let f = flags("amp-grad-scaler.jsonl");
    assert!(f.iter().all(|x| x.severity == Severity::Info), "{}", show(&f));
    assert!(
        f.iter()
            .any(|x| x.metric == "grad_norm" && x.message.contains("mixed-precision overflow, step skipped")),
        "{}",
        show(&f)
    );
    // loss_scale is no loss: no divergence or plateau on it.
    assert!(f.iter().all(|x| x.metric != "loss_scale"), "{}", show(&f));
}

#[test]
fn auxiliary_test_losses_while_ap_climbs_are_info_naming_ap() {
    let f = flags("detr-aux-losses.jsonl");
    let of: Vec<&Flag> = f.iter().filter(|x| x.kind == FlagKind::Overfitting).collect();
    assert!(of.len() >= 2, "{}", show(&f));
    for o in &of {
        assert_eq!(o.severity, Severity::Info, "{}", o.message);
        assert!(o.message.contains("but test_AP "), "{}", o.message);
    }
    assert!(f.iter().all(|x| x.severity == Severity::Info), "{}", show(&f));
}

#[test]
fn a_loss_at_its_first_values_is_not_learning() {
    let f = flags("not-learning.jsonl");
    assert_eq!(f.len(), 1, "{}", show(&f));
    assert_eq!((f[0].kind, f[0].severity, f[0].step), (FlagKind::Plateau, Severity::Warning, 1.0));
    assert!(f[0].message.starts_with("not learning: loss has not improved"), "{}", f[0].message);
    assert!(f[0].message.contains("lr 1e-7"), "{}", f[0].message);
}

#[test]
fn a_pause_in_a_fast_run_is_a_stall_and_its_checkpoints_are_its_rhythm() {
    let f = flags("fast-run-pause.jsonl");
    assert_eq!(f.len(), 1, "{}", show(&f));
    assert_eq!((f[0].kind, f[0].severity, f[0].step), (FlagKind::Stall, Severity::Warning, 1234.0));
    assert!(f[0].message.starts_with("no record for 8s after step 1234"), "{}", f[0].message);
    // With the floor above the pause, nothing.
    let path = crate::support::fixture("flags2/fast-run-pause.jsonl");
    let mut cfg = FlagConfig::default();
    cfg.set("stall.rhythm_min_seconds", "10").unwrap();
    let run = Run::load_file(&path, IngestOptions::default(), cfg).unwrap();
    assert!(run.flags().is_empty(), "{}", show(run.flags()));
}

#[test]
fn sustained_throughput_drops_of_16_and_38_percent_are_one_flag_where_they_began() {
    // Each run also has a warmup ramp of its throughput, eval steps at half speed and checkpoint
    // steps at a quarter, all before the drop: only the drop is told, dated where it began
    // (well within 10% of the run), with the size of the drop read from the log.
    for (name, metric, began, len, pct) in [
        ("gpu-shared-16pct.jsonl", "tokens_per_s", 1300.0, 2000.0, 16.0),
        ("slow-loader-38pct.jsonl", "samples_per_second", 600.0, 1000.0, 38.0),
    ] {
        let f = flags(name);
        assert_eq!(f.len(), 1, "{name}:\n{}", show(&f));
        let d = &f[0];
        assert_eq!(
            (d.kind, d.severity, d.metric.as_str()),
            (FlagKind::ThroughputDrop, Severity::Warning, metric)
        );
        assert!((d.step - began).abs() <= 0.1 * len, "{name}: dated at {}", d.step);
        assert_eq!(d.step, began, "{name}: {}", d.message);
        let told: f64 = d
            .message
            .split("fell by ")
            .nth(1)
            .and_then(|r| r.split('%').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{}", d.message));
        assert!((told - pct).abs() <= 3.0, "{name}: told {told}% for {pct}%: {}", d.message);
    }
}

#[test]
fn overflows_without_a_loss_scale_are_info_and_an_exploded_norm_that_overflows_is_not() {
    // GradScaler's first steps and two isolated steps overflow; no loss scale is logged, the
    // loss stays finite: nothing at warning. With the cooldown off, each isolated overflow is
    // its own flag, told as routine.
    let f = flags("amp-no-scale.jsonl");
    assert!(!f.is_empty() && f.iter().all(|x| x.severity == Severity::Info), "{}", show(&f));
    let path = crate::support::fixture("flags2/amp-no-scale.jsonl");
    let mut cfg = FlagConfig::default();
    cfg.set("cooldown", "0").unwrap();
    let run = Run::load_file(&path, IngestOptions::default(), cfg).unwrap();
    let steps: Vec<f64> = run
        .flags()
        .iter()
        .filter(|x| x.message.contains("a mixed-precision overflow, step skipped (the loss stays finite)"))
        .map(|x| x.step)
        .collect();
    assert_eq!(steps, [151.0, 288.0], "{}", show(run.flags()));
    assert!(run.flags().iter().all(|x| x.severity == Severity::Info), "{}", show(run.flags()));

    // A norm that grew x10 a step to 1e14 and then overflowed: exploding, and a warning.
    let f = flags("exploding-then-inf.jsonl");
    let nf: Vec<&Flag> = f.iter().filter(|x| x.kind == FlagKind::Nonfinite).collect();
    assert_eq!(nf.len(), 1, "{}", show(&f));
    assert_eq!((nf[0].severity, nf[0].step), (Severity::Warning, 240.0), "{}", nf[0].message);
    assert!(!nf[0].message.contains("overflow"), "{}", nf[0].message);
    assert!(f.iter().any(|x| x.kind == FlagKind::ExplodingGradient && x.step == 227.0), "{}", show(&f));
}

#[test]
fn a_task_metric_later_in_the_evaluation_record_is_weighed() {
    // Hugging Face writes eval_loss before eval_wer: at the fifth evaluation the loss's warning is
    // decided before the record's WER is in (four evaluations: its noise unknown); the record's
    // WER, improving beyond its noise, makes it info.
    let f = flags("eval-wer-after-eval-loss.jsonl");
    let over: Vec<&Flag> = f.iter().filter(|x| x.kind == FlagKind::Overfitting).collect();
    assert_eq!(over.len(), 1, "{}", show(&f));
    assert_eq!((over[0].severity, over[0].step), (Severity::Info, 1000.0), "{}", show(&f));
    assert!(
        over[0].message.contains("but eval_wer still improves (0.7888 at step 1000 -> 0.7443)"),
        "{}",
        show(&f)
    );
    assert!(f.iter().all(|x| x.severity < Severity::Warning), "{}", show(&f));
}
