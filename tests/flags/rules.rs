//! The analyzer's mechanics on small hand-built streams: de-duplication, cooldown and severity
//! upgrades, restarts across series, the stall's baseline, message wording, overrides. (The
//! detectors' thresholds are proven on real training in harness.rs.)

use tmon::analysis::{Analyzer, FlagConfig, FlagKind, Severity};
use tmon::store::{RecordMeta, Store};

struct Feed {
    store: Store,
    an: Analyzer,
}

impl Feed {
    fn new(cfg: FlagConfig) -> Self {
        Feed { store: Store::new(), an: Analyzer::new(cfg) }
    }
    fn record(&mut self, step: f64, time: f64, fields: &[(&str, f64)]) {
        let rec = self.store.begin_record(RecordMeta { step, time, line: self.store.records() as u64 + 1 });
        let ids: Vec<(usize, f64)> = fields
            .iter()
            .map(|(k, v)| {
                let id = self.store.intern(k);
                self.store.push(rec, id, *v);
                (id, *v)
            })
            .collect();
        self.an.observe(&self.store, rec, &ids);
    }
    fn kinds(&self) -> Vec<(FlagKind, Severity, f64)> {
        self.an.flags().iter().map(|f| (f.kind, f.severity, f.step)).collect()
    }
}

#[test]
fn nan_loss_message_names_the_lr_and_the_last_finite_value() {
    let mut f = Feed::new(FlagConfig::default());
    f.record(907.0, f64::NAN, &[("loss", 58.1), ("lr", 0.107)]);
    f.record(908.0, f64::NAN, &[("loss", 59.7), ("lr", 0.107)]);
    f.record(909.0, f64::NAN, &[("loss", f64::NAN), ("lr", 0.107)]);
    f.record(910.0, f64::NAN, &[("loss", f64::NAN), ("lr", 0.107)]);
    let flags = f.an.flags();
    assert_eq!(flags.len(), 1, "{flags:#?}");
    assert_eq!(flags[0].kind, FlagKind::Nonfinite);
    assert_eq!(flags[0].severity, Severity::Critical);
    assert_eq!(flags[0].step, 909.0);
    assert_eq!(
        flags[0].message,
        "loss became NaN at step 909 (lr 0.107); last finite value 59.7 at step 908"
    );
}

#[test]
fn nonfinite_other_metrics_are_warnings_and_episodes_respect_the_cooldown() {
    let mut cfg = FlagConfig::default();
    cfg.set("cooldown", "10").unwrap();
    let mut f = Feed::new(cfg);
    for step in 0..40 {
        // NaN at 5 and 8 (one episode within the cooldown), and at 30 (a new one).
        let v = if [5, 8, 30].contains(&step) { f64::NAN } else { 1.0 };
        f.record(step as f64, f64::NAN, &[("val_acc", v)]);
    }
    assert_eq!(
        f.kinds(),
        vec![(FlagKind::Nonfinite, Severity::Warning, 5.0), (FlagKind::Nonfinite, Severity::Warning, 30.0)]
    );
}

#[test]
fn a_rewind_seen_by_many_series_is_one_restart() {
    let mut f = Feed::new(FlagConfig::default());
    for step in [1.0, 2.0, 3.0, 4.0, 2.0, 3.0] {
        f.record(step, f64::NAN, &[("loss", 1.0), ("lr", 0.1), ("acc", 0.5)]);
    }
    let r: Vec<_> = f.an.flags().iter().filter(|x| x.kind == FlagKind::Restart).collect();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].step, 2.0);
    assert!(r[0].message.contains("from 4 to 2"), "{}", r[0].message);
}

#[test]
fn val_lines_on_an_epoch_axis_are_not_restarts() {
    // mmengine: train lines carry the global iteration, val lines the epoch, in one `step`.
    let mut f = Feed::new(FlagConfig::default());
    for epoch in 1..=5 {
        f.record(epoch as f64 * 96.0, f64::NAN, &[("loss", 1.0)]);
        f.record(epoch as f64, f64::NAN, &[("accuracy/top1", 50.0)]);
    }
    assert!(f.an.flags().is_empty(), "{:#?}", f.an.flags());
}

#[test]
fn stalls_need_a_baseline_and_a_second_stall_is_judged_like_the_first() {
    let mut cfg = FlagConfig::default();
    cfg.set("cooldown", "0").unwrap();
    let mut f = Feed::new(cfg);
    let mut t = 1_000.0;
    for step in 0..100 {
        // Gaps of 1 s, with 10 min pauses after steps 5 (too early to judge), 40 and 70.
        t += if [6, 41, 71].contains(&step) { 600.0 } else { 1.0 };
        f.record(step as f64, t, &[("loss", 1.0)]);
    }
    let stalls: Vec<f64> =
        f.an.flags().iter().filter(|x| x.kind == FlagKind::Stall).map(|x| x.step).collect();
    assert_eq!(stalls, vec![40.0, 70.0]);
    assert!(f.an.flags()[0].message.contains("no record for 10m "), "{}", f.an.flags()[0].message);
}

#[test]
fn a_severity_upgrade_raises_a_second_flag_and_nothing_repeats() {
    let mut f = Feed::new(FlagConfig::default());
    for step in 0..30 {
        // 80% dead from step 10, 100% from step 20.
        let v = if step >= 20 {
            1.0
        } else if step >= 10 {
            0.8
        } else {
            0.1
        };
        f.record(step as f64, f64::NAN, &[("dead_frac", v)]);
    }
    assert_eq!(
        f.kinds(),
        vec![(FlagKind::DeadUnits, Severity::Warning, 10.0), (FlagKind::DeadUnits, Severity::Critical, 10.0)]
    );
}

#[test]
fn an_lr_jump_is_flagged_but_warmup_step_decay_and_warm_restarts_are_not() {
    let mut f = Feed::new(FlagConfig::default());
    let mut step = 0.0;
    let mut lr = |f: &mut Feed, v: f64| {
        step += 1.0;
        f.record(step, f64::NAN, &[("lr", v)]);
    };
    for i in 0..10 {
        lr(&mut f, 1e-9 * 10f64.powi(i)); // warmup from 1e-9 to 1: huge ratios, all rising
    }
    for v in [1.0, 0.1, 0.01, 1.0, 0.5, 0.001, 1.0] {
        lr(&mut f, v); // step decay, then SGDR-style restarts to the old peak
    }
    assert!(f.an.flags().is_empty(), "{:#?}", f.an.flags());
    lr(&mut f, 50.0);
    lr(&mut f, -1.0);
    assert_eq!(
        f.kinds(),
        vec![(FlagKind::LrAnomaly, Severity::Warning, 18.0), (FlagKind::LrAnomaly, Severity::Critical, 19.0)]
    );
}

#[test]
fn a_unix_clock_under_the_name_time_is_not_a_step_time() {
    // The naive ingest leaves `time` as a metric; its growing unix seconds must not look like
    // ever slower steps.
    let mut f = Feed::new(FlagConfig::default());
    for step in 0..400 {
        let t = 1.7e9 + step as f64 * if step > 200 { 5.0 } else { 0.2 };
        f.record(step as f64, f64::NAN, &[("time", t)]);
    }
    assert!(f.an.flags().is_empty(), "{:#?}", f.an.flags());
}

#[test]
fn flags_since_a_cursor_returns_only_new_flags() {
    let mut f = Feed::new(FlagConfig::default());
    f.record(1.0, f64::NAN, &[("loss", f64::NAN)]);
    let cursor = f.an.flags().len();
    assert_eq!(cursor, 1);
    assert!(f.an.flags_since(cursor).is_empty());
    f.record(2.0, f64::NAN, &[("grad_norm", f64::INFINITY)]);
    assert_eq!(f.an.flags_since(cursor).len(), 1);
    assert_eq!(f.an.flags_since(cursor)[0].metric, "grad_norm");
    assert_eq!(f.an.flags_since(99).len(), 0);
}

#[test]
fn overrides_change_what_fires() {
    let stream = |cfg: FlagConfig| {
        let mut f = Feed::new(cfg);
        for step in 0..10 {
            f.record(step as f64, f64::NAN, &[("dead_frac", 0.6)]);
        }
        f.an.flags().len()
    };
    assert_eq!(stream(FlagConfig::default()), 0);
    let mut cfg = FlagConfig::default();
    cfg.set("dead.frac", "0.5").unwrap();
    assert_eq!(stream(cfg), 1);
}

#[test]
fn a_per_epoch_step_counter_is_told_once_and_a_real_restart_among_its_resets_still_is_one() {
    let mut f = Feed::new(FlagConfig::default());
    for epoch in 0..200 {
        // At epoch 100 the job crashes mid-epoch (step 7) and resumes the epoch from step 3.
        let steps: Vec<f64> = if epoch == 100 {
            (0..8).chain(3..10).map(f64::from).collect()
        } else {
            (0..10).map(f64::from).collect()
        };
        for s in steps {
            f.record(s, f64::NAN, &[("loss", 1.0 + 0.001 * epoch as f64)]);
        }
    }
    let restarts: Vec<&str> =
        f.an.flags().iter().filter(|x| x.kind == FlagKind::Restart).map(|x| x.message.as_str()).collect();
    let told: Vec<&&str> = restarts.iter().filter(|m| m.contains("a per-epoch counter")).collect();
    assert_eq!(told.len(), 1, "{restarts:#?}");
    assert!(told[0].starts_with("the step resets every 10 records, back to 0"), "{restarts:#?}");
    // The crash: the step went back from 7 to 3, off the period.
    assert!(restarts.iter().any(|m| m.contains("from 7 to 3")), "{restarts:#?}");
    // Three resets before the period is known, the note, the crash: nothing after.
    assert_eq!(restarts.len(), 5, "{restarts:#?}");
    assert_eq!(f.an.flags_not_kept(), 0);
}

#[test]
fn one_rewind_onto_where_an_earlier_stretch_ended_is_a_restart_not_two_writers() {
    // A single writer resumed twice: 1..=100, back to 50 and on to 120, back to 101 (just past
    // where the first stretch ended, by chance) and on. One return to an old chain is no
    // back-and-forth: two restarts, no writers (the stress log's false "two writers").
    let mut f = Feed::new(FlagConfig::default());
    let steps = (1..=100).chain(50..=120).chain(101..=300);
    for s in steps {
        f.record(s as f64, f64::NAN, &[("loss", 1.0), ("lr", 0.1)]);
    }
    let kinds: Vec<FlagKind> = f.an.flags().iter().map(|x| x.kind).collect();
    assert!(!kinds.contains(&FlagKind::Writers), "{:#?}", f.an.flags());
    assert_eq!(kinds.iter().filter(|k| **k == FlagKind::Restart).count(), 2, "{:#?}", f.an.flags());
}

#[test]
fn two_writers_are_told_after_three_returns() {
    // Writer A at 61.., writer B from 1: 61, 1, 62, 2, 63, 3, ...
    let mut f = Feed::new(FlagConfig::default());
    for s in 1..=60 {
        f.record(s as f64, f64::NAN, &[("loss", 1.0)]);
    }
    for k in 1..=40 {
        f.record((60 + k) as f64, f64::NAN, &[("loss", 1.0)]);
        f.record(k as f64, f64::NAN, &[("loss", 1.0)]);
    }
    let w: Vec<_> = f.an.flags().iter().filter(|x| x.kind == FlagKind::Writers).collect();
    assert_eq!(w.len(), 1, "{:#?}", f.an.flags());
    assert!(w[0].step <= 3.0, "told within a few records: {}", w[0].step);
    assert!(f.an.flags().iter().all(|x| x.kind != FlagKind::Restart), "{:#?}", f.an.flags());
}
